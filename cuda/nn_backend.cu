// The CUDA NN kernel table (lamina/nn_backend.h), registered for
// Device::CUDA when the library loads; nn_backend(Device::CUDA, op) returns it.
#include "nn_kernels.h"

namespace lamina::gpu {

namespace {

const NnBackend kCudaNn{gpu::im2col,         gpu::col2im,        gpu::max_pool,
                        gpu::max_pool_backward, gpu::avg_pool,   gpu::avg_pool_backward,
                        gpu::row_norm,       gpu::row_norm_backward, gpu::batch_norm,
                        gpu::batch_norm_backward, gpu::dropout,  gpu::sparse_xent,
                        gpu::sparse_xent_backward, gpu::rnn_forward, gpu::rnn_backward,
                        gpu::attention, gpu::attention_backward,
                        gpu::bias_act, gpu::bias_act_backward,
                        gpu::conv2d, gpu::conv2d_backward};

// A kernel added to NnBackend must get a CUDA version (or an explicit entry)
// here: a missing initializer would be a null pointer called at run time.
static_assert(sizeof(NnBackend) == 21 * sizeof(void (*)()), "NnBackend changed: update kCudaNn");

struct Registrar {
  Registrar() { register_nn_backend(Device::CUDA, &kCudaNn); }
};
const Registrar g_registrar;

}  // namespace

void link_nn_backend() { (void)&g_registrar; }

}  // namespace lamina::gpu
