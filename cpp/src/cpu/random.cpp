#include <algorithm>

#include "cpu/kernels.h"
#include "lamina/kernels/philox.h"
#include "lamina/threads.h"

namespace lamina::cpu {

void random(const Tensor& out, uint64_t seed, uint64_t counter, bool normal) {
  const int64_t n = out.size();
  LAMINA_DISPATCH_FLOAT(out.dtype(), "random", [&] {
    using T = scalar_t;
    T* o = out.data<T>();
    // One Philox block per group of elements it serves, not one per element.
    constexpr int per = kernels::per_block<T>();
    parallel_for((n + per - 1) / per, 4096, [&](int64_t b0, int64_t b1) {
      for (int64_t blk = b0; blk < b1; ++blk) {
        const kernels::Philox4 r = kernels::philox4x32(counter + blk, seed);
        for (int64_t i = blk * per; i < std::min(n, (blk + 1) * per); ++i)
          o[i] = normal ? kernels::normal_in_block<T>(r, i) : kernels::uniform_in_block<T>(r, i);
      }
    });
  });
}

}  // namespace lamina::cpu
