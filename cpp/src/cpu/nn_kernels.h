#pragma once
// The CPU implementations of NnBackend (lamina/nn_backend.h).
#include "lamina/nn_backend.h"

namespace lamina::cpu {
#include "nn_kernel_decls.inc"
}  // namespace lamina::cpu
