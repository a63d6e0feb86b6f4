#pragma once
// Register-blocked AVX-512 pieces shared by the direct (conv_direct.cpp) and
// Winograd (conv_winograd.cpp) convolutions. Include only under __AVX512F__.
#include <immintrin.h>

#include <cstdint>

namespace lamina::cpu::conv_tiles {

constexpr int kLanes = 16;

// Register blocking: P x FV accumulators (P pixels or tiles or channels by FV
// vectors of 16 output channels) in ~28 of the 32 vector registers.
constexpr int max_run(int fv) { return 28 / fv; }

// part[k][f] += sum over an oh x ow block of pixels of x(pixel, k) * dy(pixel, f)
// for CB channels k and FV vectors of f, the accumulators in registers. x's
// pixel (oy, ox) is at xp + ((oy * wp + toff) + ox) * C, dy's at
// dy + (oy * ow + ox) * F; part's rows are F floats apart. The direct dw sums
// one tap over an image with it, the Winograd dw one product over a band.
template <int CB, int FV>
void outer_sums(const float* xp, int64_t wp, int64_t C, int64_t toff, const float* dy,
                int64_t oh, int64_t ow, int64_t F, float* part) {
  __m512 acc[CB][FV];
#pragma GCC unroll 32
  for (int k = 0; k < CB; ++k)
#pragma GCC unroll 4
    for (int v = 0; v < FV; ++v) acc[k][v] = _mm512_loadu_ps(part + k * F + v * kLanes);
  for (int64_t oy = 0; oy < oh; ++oy) {
    const float* xr = xp + (oy * wp + toff) * C;
    const float* dr = dy + oy * ow * F;
    for (int64_t ox = 0; ox < ow; ++ox, xr += C, dr += F) {
      __m512 dv[FV];
#pragma GCC unroll 4
      for (int v = 0; v < FV; ++v) dv[v] = _mm512_loadu_ps(dr + v * kLanes);
#pragma GCC unroll 32
      for (int k = 0; k < CB; ++k) {
        __m512 b = _mm512_set1_ps(xr[k]);
#pragma GCC unroll 4
        for (int v = 0; v < FV; ++v) acc[k][v] = _mm512_fmadd_ps(b, dv[v], acc[k][v]);
      }
    }
  }
#pragma GCC unroll 32
  for (int k = 0; k < CB; ++k)
#pragma GCC unroll 4
    for (int v = 0; v < FV; ++v) _mm512_storeu_ps(part + k * F + v * kLanes, acc[k][v]);
}

}  // namespace lamina::cpu::conv_tiles
