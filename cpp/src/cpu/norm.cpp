// Fused row normalisations (layer norm, RMS norm): one pass for statistics and
// one for the output, backward likewise (batch norm: batch_norm.cpp). Sums are
// accumulated in double, per fixed chunk, and combined in chunk order.
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "cpu/nn_kernels.h"
#include "lamina/kernels/norm.h"
#include "lamina/threads.h"

namespace lamina::cpu {

namespace {

// Runs fn(chunk, begin, end) over [0, n) in get_num_threads() fixed chunks.
template <class Fn>
int for_chunks(int64_t n, Fn&& fn) {
  int nc = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(get_num_threads(), n)));
  int64_t per = (n + nc - 1) / nc;
  parallel_for(nc, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) fn(static_cast<int>(c), c * per, std::min(n, (c + 1) * per));
  });
  return nc;
}

// gamma/beta may be absent; the kernels read these buffers instead, so the hot
// loops carry no branches and vectorise.
template <class T>
const T* or_fill(const T* p, std::vector<T>& buf, int64_t D, T v) {
  if (p) return p;
  buf.assign(D, v);
  return buf.data();
}

#if defined(__AVX512F__)
// float rows of 16*NV features (NV = 1..4), 16 rows at a time: the per-row
// horizontal sums (the cost of a short row) are done for 16 rows together by a
// shuffle tree, which leaves row i's sum in lane i; the row statistics then
// load and store as whole vectors. Rows past the last full block take the
// general loop.
constexpr int kRowBlock = 16;
// Shuffles are written in their zero-masked form with every lane kept: the
// same instructions, without GCC 12's false -Wmaybe-uninitialized on the
// unmasked forms' _mm512_undefined_ps.
constexpr __mmask16 kAll = 0xFFFF;

// Row sums of 16 vectors: lane i of the result is the sum of v[i]'s lanes.
inline __m512 hsum16(const __m512* v) {
  __m512 w[8], u[4], t[2];
  for (int k = 0; k < 8; ++k) {
    __m512 a = v[2 * k], b = v[2 * k + 1];
    w[k] = _mm512_add_ps(_mm512_maskz_shuffle_f32x4(kAll, a, b, _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_maskz_shuffle_f32x4(kAll, a, b, _MM_SHUFFLE(3, 2, 3, 2)));
  }
  for (int k = 0; k < 4; ++k) {
    __m512 c = w[2 * k], d = w[2 * k + 1];
    u[k] = _mm512_add_ps(_mm512_maskz_shuffle_f32x4(kAll, c, d, _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_maskz_shuffle_f32x4(kAll, c, d, _MM_SHUFFLE(3, 1, 3, 1)));
  }
  for (int k = 0; k < 2; ++k) {
    __m512 e = u[2 * k], f = u[2 * k + 1];
    t[k] = _mm512_add_ps(_mm512_maskz_shuffle_ps(kAll, e, f, _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_maskz_shuffle_ps(kAll, e, f, _MM_SHUFFLE(3, 2, 3, 2)));
  }
  __m512 s = _mm512_add_ps(_mm512_maskz_shuffle_ps(kAll, t[0], t[1], _MM_SHUFFLE(2, 0, 2, 0)),
                           _mm512_maskz_shuffle_ps(kAll, t[0], t[1], _MM_SHUFFLE(3, 1, 3, 1)));
  // Element 4j+m now holds row 4m+j.
  const __m512i idx = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  return _mm512_maskz_permutexvar_ps(kAll, idx, s);
}

inline __m512 lane(__m512 v, int i) { return _mm512_maskz_permutexvar_ps(kAll, _mm512_set1_epi32(i), v); }

// Rows [b0, b1) in whole blocks of 16; returns the first row not done.
template <int NV>
int64_t row_norm_blocks(const float* x, const float* gamma, const float* beta, float eps, bool rms,
                        int64_t b0, int64_t b1, float* y, float* mean, float* rstd) {
  constexpr int D = 16 * NV;
  const __m512 inv_d = _mm512_set1_ps(1.0f / D), ve = _mm512_set1_ps(eps), one = _mm512_set1_ps(1.0f);
  __m512 gv[NV], bv[NV];
  for (int j = 0; j < NV; ++j) {
    gv[j] = _mm512_loadu_ps(gamma + 16 * j);
    bv[j] = _mm512_loadu_ps(beta + 16 * j);
  }
  int64_t r = b0;
  for (; r + kRowBlock <= b1; r += kRowBlock) {
    const float* xb = x + r * D;
    __m512 v[kRowBlock];
    __m512 m = _mm512_setzero_ps();
    if (!rms) {
      for (int i = 0; i < kRowBlock; ++i) {
        __m512 s = _mm512_loadu_ps(xb + i * D);
        for (int j = 1; j < NV; ++j) s = _mm512_add_ps(s, _mm512_loadu_ps(xb + i * D + 16 * j));
        v[i] = s;
      }
      m = _mm512_mul_ps(hsum16(v), inv_d);
    }
    for (int i = 0; i < kRowBlock; ++i) {
      __m512 mi = lane(m, i);
      __m512 c = _mm512_sub_ps(_mm512_loadu_ps(xb + i * D), mi);
      __m512 q = _mm512_mul_ps(c, c);
      for (int j = 1; j < NV; ++j) {
        c = _mm512_sub_ps(_mm512_loadu_ps(xb + i * D + 16 * j), mi);
        q = _mm512_fmadd_ps(c, c, q);
      }
      v[i] = q;
    }
    __m512 var = _mm512_mul_ps(hsum16(v), inv_d);
    __m512 rs = _mm512_div_ps(one, _mm512_maskz_sqrt_ps(kAll, _mm512_add_ps(var, ve)));
    _mm512_storeu_ps(mean + r, m);
    _mm512_storeu_ps(rstd + r, rs);
    float* yb = y + r * D;
    for (int i = 0; i < kRowBlock; ++i) {
      __m512 mi = lane(m, i), ri = lane(rs, i);
      for (int j = 0; j < NV; ++j) {
        __m512 h = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(xb + i * D + 16 * j), mi), ri);
        _mm512_storeu_ps(yb + i * D + 16 * j, _mm512_fmadd_ps(h, gv[j], bv[j]));
      }
    }
  }
  return r;
}

// Backward over whole blocks of rows in [b0, b1): dx, and dgamma/dbeta added
// into the float accumulators pg/pb (D each); returns the first row not done.
template <int NV>
int64_t row_norm_backward_blocks(const float* g, const float* x, const float* gamma,
                                 const float* mean, const float* rstd, bool rms, int64_t b0,
                                 int64_t b1, float* dx, float* pg, float* pb) {
  constexpr int D = 16 * NV;
  const __m512 inv_d = _mm512_set1_ps(1.0f / D);
  __m512 gv[NV], ag[NV], ab[NV];
  for (int j = 0; j < NV; ++j) {
    gv[j] = _mm512_loadu_ps(gamma + 16 * j);
    ag[j] = _mm512_loadu_ps(pg + 16 * j);
    ab[j] = _mm512_loadu_ps(pb + 16 * j);
  }
  int64_t r = b0;
  for (; r + kRowBlock <= b1; r += kRowBlock) {
    const float *xb = x + r * D, *gb = g + r * D;
    const __m512 m = _mm512_loadu_ps(mean + r), rs = _mm512_loadu_ps(rstd + r);
    __m512 v1[kRowBlock], v2[kRowBlock];
    for (int i = 0; i < kRowBlock; ++i) {
      __m512 mi = lane(m, i), ri = lane(rs, i);
      __m512 s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps();
      for (int j = 0; j < NV; ++j) {
        __m512 gr = _mm512_loadu_ps(gb + i * D + 16 * j);
        __m512 h = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(xb + i * D + 16 * j), mi), ri);
        __m512 dh = _mm512_mul_ps(gr, gv[j]);
        s1 = _mm512_add_ps(s1, dh);
        s2 = _mm512_fmadd_ps(dh, h, s2);
        ag[j] = _mm512_fmadd_ps(gr, h, ag[j]);
        ab[j] = _mm512_add_ps(ab[j], gr);
      }
      v1[i] = s1;
      v2[i] = s2;
    }
    const __m512 a = rms ? _mm512_setzero_ps() : _mm512_mul_ps(hsum16(v1), inv_d);
    const __m512 b = _mm512_mul_ps(hsum16(v2), inv_d);
    float* db = dx + r * D;
    for (int i = 0; i < kRowBlock; ++i) {
      __m512 mi = lane(m, i), ri = lane(rs, i), ai = lane(a, i), bi = lane(b, i);
      for (int j = 0; j < NV; ++j) {
        __m512 gr = _mm512_loadu_ps(gb + i * D + 16 * j);
        __m512 h = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(xb + i * D + 16 * j), mi), ri);
        __m512 t = _mm512_sub_ps(_mm512_sub_ps(_mm512_mul_ps(gr, gv[j]), ai), _mm512_mul_ps(h, bi));
        _mm512_storeu_ps(db + i * D + 16 * j, _mm512_mul_ps(ri, t));
      }
    }
  }
  for (int j = 0; j < NV; ++j) {
    _mm512_storeu_ps(pg + 16 * j, ag[j]);
    _mm512_storeu_ps(pb + 16 * j, ab[j]);
  }
  return r;
}
#endif

// Rows handled by the blocked path: the full blocks of [r0, r1), or none (r0).
template <class T>
int64_t row_norm_fast(const T* x, const T* gamma, const T* beta, T eps, bool rms, int64_t r0,
                      int64_t r1, int64_t D, T* y, T* mean, T* rstd) {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    switch (D) {
      case 16: return row_norm_blocks<1>(x, gamma, beta, eps, rms, r0, r1, y, mean, rstd);
      case 32: return row_norm_blocks<2>(x, gamma, beta, eps, rms, r0, r1, y, mean, rstd);
      case 48: return row_norm_blocks<3>(x, gamma, beta, eps, rms, r0, r1, y, mean, rstd);
      case 64: return row_norm_blocks<4>(x, gamma, beta, eps, rms, r0, r1, y, mean, rstd);
      default: break;
    }
  }
#endif
  return r0;
}

template <class T>
int64_t row_norm_backward_fast(const T* g, const T* x, const T* gamma, const T* mean, const T* rstd,
                               bool rms, int64_t r0, int64_t r1, int64_t D, T* dx, T* pg, T* pb) {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    switch (D) {
      case 16: return row_norm_backward_blocks<1>(g, x, gamma, mean, rstd, rms, r0, r1, dx, pg, pb);
      case 32: return row_norm_backward_blocks<2>(g, x, gamma, mean, rstd, rms, r0, r1, dx, pg, pb);
      case 48: return row_norm_backward_blocks<3>(g, x, gamma, mean, rstd, rms, r0, r1, dx, pg, pb);
      case 64: return row_norm_backward_blocks<4>(g, x, gamma, mean, rstd, rms, r0, r1, dx, pg, pb);
      default: break;
    }
  }
#endif
  return r0;
}

// Row statistics accumulate in T with vectorised (tree-order) reductions: rows
// are short (the feature size), so a serial double chain would cost more than
// the rest of the kernel, and float tree sums over a row are as accurate.
template <class T>
void row_norm_typed(const T* x, const T* gamma_in, const T* beta_in, double eps, bool rms,
                    int64_t R, int64_t D, T* y, T* mean, T* rstd) {
  std::vector<T> ones, zeros;
  const T* gamma = or_fill(gamma_in, ones, D, T(1));
  const T* beta = or_fill(beta_in, zeros, D, T(0));
  const T inv_d = T(1) / static_cast<T>(std::max<int64_t>(D, 1)), e = static_cast<T>(eps);
  parallel_for(R, std::max<int64_t>(1, 8192 / std::max<int64_t>(D, 1)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = row_norm_fast(x, gamma, beta, e, rms, r0, r1, D, y, mean, rstd); r < r1; ++r) {
      const T* xr = x + r * D;
      T m = 0, v = 0;
      if (!rms) {
#pragma omp simd reduction(+ : m)
        for (int64_t d = 0; d < D; ++d) m += xr[d];
        m *= inv_d;
      }
#pragma omp simd reduction(+ : v)
      for (int64_t d = 0; d < D; ++d) v += (xr[d] - m) * (xr[d] - m);
      T rs = kernels::norm_rstd(v * inv_d, e);
      mean[r] = m;
      rstd[r] = rs;
      T* yr = y + r * D;
#pragma omp simd
      for (int64_t d = 0; d < D; ++d) yr[d] = kernels::row_norm_y(xr[d], m, rs, gamma[d], beta[d]);
    }
  });
}

// dx = rstd * (dxh - mean(dxh) - xhat * mean(dxh * xhat)), dxh = g * gamma.
// dgamma/dbeta are summed per thread chunk: in T over blocks of rows (vectorised
// across features), then each block folded into double, so long batches keep
// their precision.
template <class T>
void row_norm_backward_typed(const T* g, const T* x, const T* gamma_in, const T* mean,
                             const T* rstd, bool rms, int64_t R, int64_t D, T* dx, T* dgamma,
                             T* dbeta) {
  constexpr int kBlock = 64;
  std::vector<T> ones;
  const T* gamma = or_fill(gamma_in, ones, D, T(1));
  const T inv_d = T(1) / static_cast<T>(std::max<int64_t>(D, 1));
  int nc = std::max(1, get_num_threads());
  std::vector<double> pg(nc * D, 0.0), pb(nc * D, 0.0);
  nc = for_chunks(R, [&](int c, int64_t r0, int64_t r1) {
    std::vector<T> bg(D, T(0)), bb(D, T(0));
    double *cg = pg.data() + c * D, *cb = pb.data() + c * D;
    auto flush = [&] {
      for (int64_t d = 0; d < D; ++d) {
        cg[d] += bg[d];
        cb[d] += bb[d];
        bg[d] = bb[d] = T(0);
      }
    };
    for (int64_t c0 = r0; c0 < r1; c0 += kBlock) {
      const int64_t c1 = std::min(r1, c0 + kBlock);
      for (int64_t r = row_norm_backward_fast(g, x, gamma, mean, rstd, rms, c0, c1, D, dx, bg.data(),
                                              bb.data());
           r < c1; ++r) {
        const T *gr = g + r * D, *xr = x + r * D;
        const T m = mean[r], rs = rstd[r];
        T s1 = 0, s2 = 0;
#pragma omp simd reduction(+ : s1, s2)
        for (int64_t d = 0; d < D; ++d) {
          T dh = gr[d] * gamma[d];
          s1 += dh;
          s2 += dh * (xr[d] - m) * rs;
        }
        const T a = rms ? T(0) : s1 * inv_d, b = s2 * inv_d;
        T *dr = dx + r * D, *pbg = bg.data(), *pbb = bb.data();
#pragma omp simd
        for (int64_t d = 0; d < D; ++d) {
          T h = kernels::norm_xhat(xr[d], m, rs);
          dr[d] = kernels::row_norm_dx(gr[d], gamma[d], xr[d], m, rs, a, b);
          pbg[d] += gr[d] * h;
          pbb[d] += gr[d];
        }
      }
      flush();
    }
  });
  for (int64_t d = 0; d < D; ++d) {
    double sg = 0, sb = 0;
    for (int c = 0; c < nc; ++c) {
      sg += pg[c * D + d];
      sb += pb[c * D + d];
    }
    if (dgamma) dgamma[d] = static_cast<T>(sg);
    if (dbeta) dbeta[d] = static_cast<T>(sb);
  }
}

template <class T>
const T* opt(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}
template <class T>
T* opt_mut(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

}  // namespace

void row_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, bool rms,
              const Tensor& y, const Tensor& mean, const Tensor& rstd) {
  int64_t D = x.shape().back(), R = x.size() / std::max<int64_t>(D, 1);
  LAMINA_DISPATCH_FLOAT(x.dtype(), "layer_norm", [&] {
    using T = scalar_t;
    row_norm_typed<T>(x.data<T>(), opt<T>(gamma), opt<T>(beta), eps, rms, R, D, y.data<T>(),
                      mean.data<T>(), rstd.data<T>());
  });
}

void row_norm_backward(const Tensor& g, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                       const Tensor& rstd, bool rms, const Tensor& dx, const Tensor& dgamma,
                       const Tensor& dbeta) {
  int64_t D = x.shape().back(), R = x.size() / std::max<int64_t>(D, 1);
  LAMINA_DISPATCH_FLOAT(x.dtype(), "layer_norm", [&] {
    using T = scalar_t;
    row_norm_backward_typed<T>(g.data<T>(), x.data<T>(), opt<T>(gamma), mean.data<T>(),
                               rstd.data<T>(), rms, R, D, dx.data<T>(), opt_mut<T>(dgamma),
                               opt_mut<T>(dbeta));
  });
}

}  // namespace lamina::cpu
