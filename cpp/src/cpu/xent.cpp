// Softmax cross-entropy with integer labels, fused: one pass per row for the
// log-sum-exp and the loss, one for the gradient; no probabilities stored.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "cpu/nn_kernels.h"
#include "lamina/kernels/xent.h"
#include "lamina/threads.h"

namespace lamina::cpu {

namespace {

// Below this the softmax exps give 0: exp(-86.5) = 2.7e-38 is near FLT_MIN and
// far below a row sum, which is at least 1.
constexpr float kExpCut = -86.5f;

// exp(x) for the x <= 0 of a softmax (logit minus the row max or the lse),
// float32: kernels::exp_reduced_f32 (as exp_f32), with 2^n a single exponent
// field because n >= -125 here; 0 below kExpCut. NaN stays NaN. Half the
// instructions of the general exp, which also handles overflow and subnormal
// results.
inline float exp_nonpos(float x) {
  float xc = x < kExpCut ? kExpCut : x;  // NaN passes through
  float n;
  const float p = kernels::exp_reduced_f32(xc, n);
  int32_t b = (static_cast<int32_t>(n) + 127) << 23;
  float s;
  std::memcpy(&s, &b, 4);
  float y = p * s;
  return x < kExpCut ? 0.0f : y;
}

#if defined(__AVX512F__)
// The same for 16 lanes with a 16-entry table of 2^(j/16): x = (16e + j) ln2/16
// + r, |r| <= ln2/32, so a cubic gives e^r to ~1e-8 and one vpermps the
// 2^(j/16); about 17 instructions per vector instead of 26. The shuffles are
// written zero-masked with every lane kept (the same instructions; GCC 12
// warns falsely on the unmasked forms).
constexpr __mmask16 kAll = 0xFFFF;

inline __m512 exp_nonpos16(__m512 x) {
  const __m512 tbl = _mm512_setr_ps(
      1.000000000e+00f, 1.044273734e+00f, 1.090507746e+00f, 1.138788581e+00f, 1.189207077e+00f,
      1.241857767e+00f, 1.296839595e+00f, 1.354255557e+00f, 1.414213538e+00f, 1.476826191e+00f,
      1.542210817e+00f, 1.610490322e+00f, 1.681792855e+00f, 1.756252170e+00f, 1.834008098e+00f,
      1.915206552e+00f);
  const __m512 magic = _mm512_set1_ps(12582912.0f);  // 1.5 * 2^23: rounds to an integer
  // max(cut, x) returns x when x is NaN, so NaN passes through.
  __m512 xc = _mm512_maskz_max_ps(kAll, _mm512_set1_ps(kExpCut), x);
  __m512 t = _mm512_fmadd_ps(xc, _mm512_set1_ps(23.0831206542233f), magic);  // 16/ln2
  __m512 n = _mm512_sub_ps(t, magic);  // round(16 x / ln2), in [-1997, 0]
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.0433216989040374755859375f), xc);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-1.1904089519676475e-10f), r);
  __m512 p = _mm512_fmadd_ps(r, _mm512_set1_ps(1.0f / 6.0f), _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
  // t's low mantissa bits are n (two's complement): the low 4 pick the table
  // entry, the rest (n >> 4, at least -125) go into the exponent.
  __m512i tb = _mm512_castps_si512(t);
  __m512 y = _mm512_mul_ps(p, _mm512_maskz_permutexvar_ps(kAll, tb, tbl));
  __m512i e = _mm512_and_si512(_mm512_maskz_slli_epi32(kAll, tb, 19), _mm512_set1_epi32(int32_t(0xFF800000u)));
  y = _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(y), e));
  return _mm512_maskz_mov_ps(~_mm512_cmp_ps_mask(x, _mm512_set1_ps(kExpCut), _CMP_LT_OQ), y);
}

inline __mmask16 tail_mask(int64_t n) { return static_cast<__mmask16>((1u << n) - 1u); }

// sum of exp(z - m) over a row.
inline float row_sum_exp(const float* z, int64_t C, float m) {
  const __m512 vm = _mm512_set1_ps(m);
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  int64_t c = 0;
  for (; c + 32 <= C; c += 32) {
    s0 = _mm512_add_ps(s0, exp_nonpos16(_mm512_sub_ps(_mm512_loadu_ps(z + c), vm)));
    s1 = _mm512_add_ps(s1, exp_nonpos16(_mm512_sub_ps(_mm512_loadu_ps(z + c + 16), vm)));
  }
  if (c + 16 <= C) {
    s0 = _mm512_add_ps(s0, exp_nonpos16(_mm512_sub_ps(_mm512_loadu_ps(z + c), vm)));
    c += 16;
  }
  if (c < C) {
    __mmask16 k = tail_mask(C - c);
    __m512 e = exp_nonpos16(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, z + c), vm));
    s1 = _mm512_mask_add_ps(s1, k, s1, e);
  }
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, _mm512_add_ps(s0, s1));
  for (int w = 8; w > 0; w /= 2)
    for (int i = 0; i < w; ++i) lanes[i] += lanes[i + w];
  return lanes[0];
}

// d[c] = exp(z[c] - l) * g over a row.
inline void row_softmax_grad(const float* z, int64_t C, float l, float g, float* d) {
  const __m512 vl = _mm512_set1_ps(l), vg = _mm512_set1_ps(g);
  int64_t c = 0;
  for (; c + 16 <= C; c += 16) {
    __m512 e = exp_nonpos16(_mm512_sub_ps(_mm512_loadu_ps(z + c), vl));
    _mm512_storeu_ps(d + c, _mm512_mul_ps(e, vg));
  }
  if (c < C) {  // masked only here: masked stores are slow on some cores
    __mmask16 k = tail_mask(C - c);
    __m512 e = exp_nonpos16(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, z + c), vl));
    _mm512_mask_storeu_ps(d + c, k, _mm512_mul_ps(e, vg));
  }
}
#endif

// exp of a non-positive argument: the lean float32 form above, std::exp (via
// the shared helper) otherwise.
template <class T>
inline T softmax_exp(T x) {
  if constexpr (std::is_same_v<T, float>) return exp_nonpos(x);
  else return kernels::exp_any(x);
}

template <class T>
void sparse_xent_typed(const T* z, const int64_t* y, int64_t R, int64_t C, T* loss, T* lse) {
  parallel_for(R, std::max<int64_t>(1, 8192 / std::max<int64_t>(C, 1)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* zr = z + r * C;
      T m = zr[0];
#pragma omp simd reduction(max : m)
      for (int64_t c = 1; c < C; ++c) m = zr[c] > m ? zr[c] : m;
      T s = 0;
#if defined(__AVX512F__)
      if constexpr (std::is_same_v<T, float>) {
        s = row_sum_exp(zr, C, m);
      } else
#endif
      {
#pragma omp simd reduction(+ : s)
        for (int64_t c = 0; c < C; ++c) s += softmax_exp(zr[c] - m);
      }
      T l = kernels::xent_lse(m, s);
      lse[r] = l;
      loss[r] = kernels::xent_loss(l, zr[y[r]]);
    }
  });
}

template <class T>
void sparse_xent_backward_typed(const T* g, const T* z, const int64_t* y, const T* lse, int64_t R,
                                int64_t C, T* dz) {
  parallel_for(R, std::max<int64_t>(1, 8192 / std::max<int64_t>(C, 1)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* zr = z + r * C;
      T* dr = dz + r * C;
      T gr = g[r], l = lse[r];
#if defined(__AVX512F__)
      if constexpr (std::is_same_v<T, float>) {
        row_softmax_grad(zr, C, l, gr, dr);
      } else
#endif
      {
#pragma omp simd
        for (int64_t c = 0; c < C; ++c) dr[c] = softmax_exp(zr[c] - l) * gr;
      }
      dr[y[r]] -= gr;
    }
  });
}
}  // namespace

void sparse_xent(const Tensor& logits, const Tensor& labels, const Tensor& loss, const Tensor& lse) {
  int64_t C = logits.shape().back(), R = logits.size() / std::max<int64_t>(C, 1);
  const int64_t* y = labels.data<int64_t>();
  for (int64_t r = 0; r < R; ++r) {
    if (y[r] < 0 || y[r] >= C) {
      throw IndexError("[sparse_categorical_crossentropy] label " + std::to_string(y[r]) +
                       " is out of range for " + std::to_string(C) + " classes");
    }
  }
  LAMINA_DISPATCH_FLOAT(logits.dtype(), "sparse_categorical_crossentropy", [&] {
    using T = scalar_t;
    sparse_xent_typed<T>(logits.data<T>(), y, R, C, loss.data<T>(), lse.data<T>());
  });
}

void sparse_xent_backward(const Tensor& g, const Tensor& logits, const Tensor& labels,
                          const Tensor& lse, const Tensor& dlogits) {
  int64_t C = logits.shape().back(), R = logits.size() / std::max<int64_t>(C, 1);
  LAMINA_DISPATCH_FLOAT(logits.dtype(), "sparse_categorical_crossentropy", [&] {
    using T = scalar_t;
    sparse_xent_backward_typed<T>(g.data<T>(), logits.data<T>(), labels.data<int64_t>(),
                                  lse.data<T>(), R, C, dlogits.data<T>());
  });
}

}  // namespace lamina::cpu
