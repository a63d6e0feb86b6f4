// Philox random fills on the GPU: element i of `out` (row-major) is the same
// value cpu::random writes, from the shared kernels::philox_* functions.
#include "common.cuh"
#include "kernels.h"
#include "lamina/kernels/philox.h"

namespace lamina::gpu {

namespace {

template <class T, bool Normal>
__global__ void __launch_bounds__(kThreads)
random_kernel(int64_t n, Geom<1> g, T* out, uint64_t seed, uint64_t counter, int64_t start) {
  int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (; i < n; i += step) {
    int64_t off[1];
    geom_offsets<1>(g, i, off);
    const uint64_t e = static_cast<uint64_t>(start + i);
    out[off[0]] = Normal ? kernels::philox_normal<T>(seed, counter, e)
                         : kernels::philox_uniform<T>(seed, counter, e);
  }
}

}  // namespace

void random(const Tensor& out, uint64_t seed, uint64_t counter, bool normal) {
  LAMINA_DISPATCH_FLOAT(out.dtype(), "random", [&] {
    using T = scalar_t;
    int64_t start = 0;  // element index of the launch's first element
    for_each_geom<1>(out.shape(), {&out}, [&](const Geom<1>& g, int64_t n) {
      if (normal)
        random_kernel<T, true><<<grid_for(n), kThreads>>>(n, g, out.data<T>(), seed, counter, start);
      else
        random_kernel<T, false><<<grid_for(n), kThreads>>>(n, g, out.data<T>(), seed, counter, start);
      check_launch("random");
      start += n;
    });
  });
}

}  // namespace lamina::gpu
