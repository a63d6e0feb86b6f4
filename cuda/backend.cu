// The CUDA backend: its kernel table, registered for Device::CUDA when the
// library loads, and the build/availability queries.
#include <cuda_runtime.h>

#include "kernels.h"
#include "lamina/device.h"
#include "nn_kernels.h"

namespace lamina {

namespace gpu {
namespace {

const Backend kCuda{gpu::copy,   gpu::fill,   gpu::unary,  gpu::binary,    gpu::where,
                    gpu::reduce, gpu::matmul, gpu::gather, gpu::index_add, gpu::random};

struct Registrar {
  Registrar() { register_backend(Device::CUDA, &kCuda); }
};
const Registrar g_registrar;

}  // namespace

// Called from cuda_malloc: referencing this object file keeps the registrar
// above in every binary that links lamina_core statically.
void link_backend() {
  (void)&g_registrar;
  link_nn_backend();  // and the NN kernel table's registrar (nn_backend.cu)
}

}  // namespace gpu

bool cuda_built() { return true; }

// Never throws or aborts: without a driver or a GPU, cudaGetDeviceCount just
// returns an error code (cudaErrorInsufficientDriver / cudaErrorNoDevice).
bool cuda_available() {
  static const bool ok = [] {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
      cudaGetLastError();
      return false;
    }
    return n > 0;
  }();
  return ok;
}

}  // namespace lamina
