// Inverted dropout with the keep mask drawn from the counter-based Philox
// stream: backward regenerates the same mask instead of storing it.
#include "cpu/nn_kernels.h"
#include "lamina/kernels/dropout.h"
#include "lamina/threads.h"

namespace lamina::cpu {

void dropout(const Tensor& x, double rate, uint64_t seed, uint64_t counter, const Tensor& y) {
  const int64_t n = x.size();
  LAMINA_DISPATCH_FLOAT(x.dtype(), "dropout", [&] {
    using T = scalar_t;
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    const T scale = static_cast<T>(1.0 / (1.0 - rate));
    const float r = static_cast<float>(rate);
    // One Philox block gives four uniforms: chunks start on multiples of 4.
    parallel_for((n + 3) / 4, 4096, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        kernels::Philox4 u = kernels::philox4x32(counter + b, seed);
        for (int k = 0; k < 4; ++k) {
          int64_t i = b * 4 + k;
          if (i >= n) break;
          yp[i] = kernels::dropout_value(xp[i], kernels::u32_to_unit(u.v[k]), r, scale);
        }
      }
    });
  });
}

}  // namespace lamina::cpu
