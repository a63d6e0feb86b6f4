#pragma once
// Winograd F(4x4, 3x3) / F(2x2, 3x3) float32 convolution for 3x3, stride-1,
// undilated windows over NHWC images: 4x / 2.25x fewer multiply-adds than the
// direct sum.
// The direct convolution (conv_direct.cpp) calls it for the forward pass, for
// dx (the same convolution of the padded dy) and for dw.
#include <cstdint>

namespace lamina::cpu {

// Whether the Winograd path takes a 3x3 convolution with these channel
// counts and this padding before the image.
bool winograd_applies(int64_t kh, int64_t kw, int64_t cin, int64_t fout, int64_t top,
                      int64_t left);

// y (n, oh, ow, fout) = x (n, h, w, cin), placed at row `top` and column
// `left` of a zero grid, cross-correlated with k [3][3][cin][fout]. Parallel
// over images.
void conv3x3_winograd(const float* x, int64_t n, int64_t h, int64_t w, int64_t cin, int64_t top,
                      int64_t left, const float* k, int64_t fout, int64_t oh, int64_t ow,
                      float* y);

// dw [3][3][cin][fout] of that convolution from dy (n, oh, ow, fout):
// overwritten, not added to.
void conv3x3_winograd_dw(const float* x, const float* dy, int64_t n, int64_t h, int64_t w,
                         int64_t cin, int64_t top, int64_t left, int64_t fout, int64_t oh,
                         int64_t ow, float* dw);

}  // namespace lamina::cpu
