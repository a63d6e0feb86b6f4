#pragma once
#include <cstdint>
#include <functional>

namespace lamina {

// One knob for all of lamina's parallelism: its own pool and BLAS's threads.
void set_num_threads(int n);
int get_num_threads();

// Runs fn(begin, end) over [0, n) split into at most get_num_threads() chunks of
// at least `grain` items; runs inline when the work is too small to share.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace lamina
