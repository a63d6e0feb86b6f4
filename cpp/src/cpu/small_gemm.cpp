// Tiles of up to 6 rows x 64 columns: 24 accumulators, 4 vectors of a B row
// and one broadcast of A per row per k. Columns are the outer loop, so the
// K x 64 slice of B stays in L1 while every row run of A passes over it.
#include "cpu/small_gemm.h"

#include <array>
#include <utility>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace lamina::cpu {

#if defined(__AVX512F__)

namespace {

constexpr int kCols = 64, kMaxRows = 6;

template <int P>
void tile(int64_t K, const float* a, int64_t lda, const float* b, int64_t ldb, float* c,
          int64_t ldc, bool accumulate) {
  __m512 acc[P][4];
  const float* ap[P];
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p) {
    ap[p] = a + p * lda;
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v)
      acc[p][v] = accumulate ? _mm512_loadu_ps(c + p * ldc + 16 * v) : _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < K; ++k, b += ldb) {
    __m512 bv[4];
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) bv[v] = _mm512_loadu_ps(b + 16 * v);
#pragma GCC unroll 8
    for (int p = 0; p < P; ++p) {
      __m512 x = _mm512_set1_ps(ap[p][k]);
#pragma GCC unroll 4
      for (int v = 0; v < 4; ++v) acc[p][v] = _mm512_fmadd_ps(x, bv[v], acc[p][v]);
    }
  }
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) _mm512_storeu_ps(c + p * ldc + 16 * v, acc[p][v]);
}

using Tile = void (*)(int64_t, const float*, int64_t, const float*, int64_t, float*, int64_t, bool);

template <int... I>
constexpr std::array<Tile, sizeof...(I)> tiles(std::integer_sequence<int, I...>) {
  return {&tile<I + 1>...};
}

}  // namespace

bool small_gemm_f32(int64_t M, int64_t N, int64_t K, const float* a, int64_t lda, const float* b,
                    int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  if (N % kCols != 0 || M <= 0) return false;
  static constexpr auto table = tiles(std::make_integer_sequence<int, kMaxRows>());
  // Equal runs of rows: 32 rows as 6,6,5,5,5,5 rather than five 6s and a 2.
  const int64_t runs = (M + kMaxRows - 1) / kMaxRows, base = M / runs, longer = M % runs;
  for (int64_t j = 0; j < N; j += kCols) {
    for (int64_t r = 0, row = 0; r < runs; ++r) {
      const int p = static_cast<int>(base + (r < longer));
      table[p - 1](K, a + row * lda, lda, b + j, ldb, c + row * ldc + j, ldc, accumulate);
      row += p;
    }
  }
  return true;
}

#else

bool small_gemm_f32(int64_t, int64_t, int64_t, const float*, int64_t, const float*, int64_t, float*,
                    int64_t, bool) {
  return false;
}

#endif

}  // namespace lamina::cpu
