#include "cpu/kernels.h"
#include "lamina/kernels/philox.h"
#include "lamina/threads.h"

namespace lamina::cpu {

void random(const Tensor& out, uint64_t seed, uint64_t counter, bool normal) {
  const int64_t n = out.size();
  LAMINA_DISPATCH_FLOAT(out.dtype(), "random", [&] {
    scalar_t* o = out.data<scalar_t>();
    parallel_for(n, 16384, [&](int64_t a, int64_t b) {
      for (int64_t i = a; i < b; ++i)
        o[i] = normal ? kernels::philox_normal<scalar_t>(seed, counter, i)
                      : kernels::philox_uniform<scalar_t>(seed, counter, i);
    });
  });
}

}  // namespace lamina::cpu
