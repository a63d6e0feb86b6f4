// Inverted dropout on the GPU: element i keeps or drops by the same Philox
// uniform as the CPU kernel (kernels/philox.h, kernels/dropout.h), so both
// devices drop the same elements for the same (seed, counter).
#include "lamina/kernels/dropout.h"
#include "nn_common.cuh"
#include "nn_kernels.h"

namespace lamina::gpu {

namespace {

template <class T>
__global__ void dropout_kernel(const T* x, int64_t n, float rate, T scale, uint64_t seed,
                               uint64_t counter, T* y) {
  LAMINA_GRID_LOOP(i, n) {
    float u = kernels::philox_uniform<float>(seed, counter, static_cast<uint64_t>(i));
    y[i] = kernels::dropout_value(x[i], u, rate, scale);
  }
}

}  // namespace

void dropout(const Tensor& x, double rate, uint64_t seed, uint64_t counter, const Tensor& y) {
  const int64_t n = x.size();
  if (n == 0) return;
  LAMINA_DISPATCH_FLOAT(x.dtype(), "dropout", [&] {
    using T = scalar_t;
    dropout_kernel<T><<<grid_for(n), kThreads>>>(x.data<T>(), n, static_cast<float>(rate),
                                                 static_cast<T>(1.0 / (1.0 - rate)), seed, counter,
                                                 y.data<T>());
    check_launch("dropout");
  });
}

}  // namespace lamina::gpu
