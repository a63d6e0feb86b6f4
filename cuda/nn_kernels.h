#pragma once
// The CUDA implementations of NnBackend (lamina/nn_backend.h); same contracts
// as cpu/nn_kernels.h. The table is filled in nn_backend.cu.
#include "lamina/nn_backend.h"

namespace lamina::gpu {
#include "nn_kernel_decls.inc"

// Defined in nn_backend.cu; backend.cu's link_backend calls it so static
// linking keeps the object file holding the NN table's registrar.
void link_nn_backend();

}  // namespace lamina::gpu
