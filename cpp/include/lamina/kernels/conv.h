#pragma once
// Geometry of 2-D windows over NHWC images (convolution, pooling) and the
// index math shared by the CPU and CUDA kernels. 1-D ops use H = 1.
#include <cstdint>

#include "lamina/kernels/macros.h"

namespace lamina::kernels {

struct Window2d {
  int64_t n, h, w, c;      // input
  int64_t kh, kw;          // window
  int64_t sh, sw;          // strides
  int64_t dh, dw;          // dilation
  int64_t pt, pl;          // padding before (top, left); the rest is after
  int64_t oh, ow;          // output size

  // Input row of window tap i for output row o (may fall in the padding).
  LAMINA_HD int64_t in_row(int64_t o, int64_t i) const { return o * sh - pt + i * dh; }
  LAMINA_HD int64_t in_col(int64_t o, int64_t j) const { return o * sw - pl + j * dw; }
  LAMINA_HD bool inside(int64_t r, int64_t q) const { return r >= 0 && r < h && q >= 0 && q < w; }
};

// Output length and padding before, Keras rules: "valid" drops windows that do
// not fit; "same" gives ceil(in / stride) outputs, the odd extra padding after.
struct Extent {
  int64_t out, pad_before;
};

inline Extent window_extent(int64_t in, int64_t k, int64_t stride, int64_t dilation, bool same) {
  int64_t span = (k - 1) * dilation + 1;
  if (!same) return {in >= span ? (in - span) / stride + 1 : 0, 0};
  int64_t out = (in + stride - 1) / stride;
  int64_t total = (out - 1) * stride + span - in;
  if (total < 0) total = 0;
  return {out, total / 2};
}

}  // namespace lamina::kernels
