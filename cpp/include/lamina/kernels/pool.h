#pragma once
// Per-element math of max and average pooling, shared by the CPU loops and the
// CUDA kernels (window geometry in kernels/conv.h).
#include <cstdint>

#include "lamina/kernels/conv.h"
#include "lamina/kernels/macros.h"

namespace lamina::kernels {

// Whether tap value v replaces the running max `cur` (argmax `arg`, -1 while
// empty): larger wins, NaN wins (and propagates), the first tap always wins.
template <class T>
LAMINA_HD bool max_pool_take(T v, T cur, int32_t arg) {
  return v > cur || arg < 0 || v != v;
}

// Number of window taps inside the image (Keras averages over those only).
LAMINA_HD int64_t pool_valid_taps(const Window2d& g, int64_t oy, int64_t ox) {
  int64_t cnt = 0;
  for (int64_t i = 0; i < g.kh; ++i)
    for (int64_t j = 0; j < g.kw; ++j) cnt += g.inside(g.in_row(oy, i), g.in_col(ox, j));
  return cnt;
}

// 1 / the tap count of output (oy, ox); an empty window counts as 1.
template <class T>
LAMINA_HD T avg_pool_scale(const Window2d& g, int64_t oy, int64_t ox) {
  int64_t n = pool_valid_taps(g, oy, ox);
  return T(1) / static_cast<T>(n > 1 ? n : 1);
}

}  // namespace lamina::kernels
