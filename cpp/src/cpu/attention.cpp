// Scaled dot-product attention, FlashAttention-2 style on the CPU: for each
// (batch, head), query tiles meet key tiles through small GEMMs and an online
// softmax, so no Tq x Tk matrix is ever stored. Backward recomputes each
// probability tile from the saved row log-sum-exp. (batch, head) pairs are
// independent and run in parallel without any shared writes.
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "cpu/kernels.h"
#include "cpu/nn_kernels.h"
#include "lamina/kernels/attention.h"
#include "lamina/kernels/dropout.h"
#include "lamina/kernels/unary.h"
#include "lamina/threads.h"

namespace lamina::cpu {

namespace {

constexpr int64_t kTq = kernels::kAttentionQueryTile, kTk = 128;

template <class T>
struct Head {
  // Contiguous copies of one head's rows: (Tq, D), (Tk, D).
  std::vector<T> q, k, v;
};

template <class T>
void gather_head(const T* src, int64_t b, int64_t h, int64_t Tn, const AttentionArgs& a, std::vector<T>& dst) {
  dst.resize(Tn * a.D);
  for (int64_t t = 0; t < Tn; ++t)
    std::memcpy(dst.data() + t * a.D, src + ((b * Tn + t) * a.N + h) * a.D, a.D * sizeof(T));
}

// Scores of one tile, scaled, with bias, mask and causality applied.
template <class T>
void score_tile(const AttentionArgs& a, const T* q, const T* k, int64_t i0, int64_t ni, int64_t j0,
                int64_t nj, int64_t b, int64_t h, const Tensor& bias, const Tensor& mask, T* s) {
  const Dtype dt = sizeof(T) == 4 ? Dtype::Float32 : Dtype::Float64;
  gemm_serial(dt, false, true, ni, nj, a.D, q + i0 * a.D, a.D, k + j0 * a.D, a.D, s, nj, false);
  const T neg = kernels::attention_masked_score<T>();
  const T sc = static_cast<T>(a.scale);
  const T* bp = bias.defined() ? bias.data<T>() : nullptr;
  const bool* mp = mask.defined() ? mask.data<bool>() : nullptr;
  for (int64_t i = 0; i < ni; ++i) {
    T* row = s + i * nj;
    const int64_t qi = i0 + i;
#pragma omp simd
    for (int64_t j = 0; j < nj; ++j) row[j] *= sc;
    if (bp) {
      const auto& st = bias.strides();
      const T* br = bp + b * st[0] + h * st[1] + qi * st[2] + j0 * st[3];
      for (int64_t j = 0; j < nj; ++j) row[j] += br[j * st[3]];
    }
    if (mp) {
      const auto& st = mask.strides();
      const bool* mr = mp + b * st[0] + h * st[1] + qi * st[2] + j0 * st[3];
      for (int64_t j = 0; j < nj; ++j) row[j] = mr[j * st[3]] ? row[j] : neg;
    }
    if (a.causal)  // only the diagonal tile has keys after the query
      for (int64_t j = std::max<int64_t>(0, qi - j0 + 1); j < nj; ++j) row[j] = neg;
  }
}

template <class T>
T keep_scale(const AttentionArgs& a, int64_t b, int64_t h, int64_t qi, int64_t kj) {
  uint64_t idx = static_cast<uint64_t>(((b * a.N + h) * a.Tq + qi) * a.Tk + kj);
  return kernels::attention_keep_scale<T>(a.dropout, a.seed, a.counter, idx);
}

template <class T>
void forward_head(const AttentionArgs& a, int64_t b, int64_t h, const T* Q, const T* K, const T* V,
                  const Tensor& bias, const Tensor& mask, T* O, T* L) {
  const Dtype dt = sizeof(T) == 4 ? Dtype::Float32 : Dtype::Float64;
  Head<T> hd;
  gather_head(Q, b, h, a.Tq, a, hd.q);
  gather_head(K, b, h, a.Tk, a, hd.k);
  gather_head(V, b, h, a.Tk, a, hd.v);
  std::vector<T> s(kTq * kTk), acc(kTq * a.D), m(kTq), l(kTq);
  for (int64_t i0 = 0; i0 < a.Tq; i0 += kTq) {
    const int64_t ni = std::min(kTq, a.Tq - i0);
    std::fill(acc.begin(), acc.end(), T(0));
    std::fill(m.begin(), m.end(), -std::numeric_limits<T>::infinity());
    std::fill(l.begin(), l.end(), T(0));
    // Causal attention never looks past the last query of the tile.
    const int64_t j_end = kernels::attention_key_end(i0, a.Tq, a.Tk, a.causal);
    for (int64_t j0 = 0; j0 < j_end; j0 += kTk) {
      const int64_t nj = std::min(kTk, j_end - j0);
      score_tile(a, hd.q.data(), hd.k.data(), i0, ni, j0, nj, b, h, bias, mask, s.data());
      for (int64_t i = 0; i < ni; ++i) {
        T* row = s.data() + i * nj;
        T mx = m[i];
        for (int64_t j = 0; j < nj; ++j) mx = row[j] > mx ? row[j] : mx;
        T corr = kernels::exp_any(m[i] - mx);
        T sum = 0;
#pragma omp simd reduction(+ : sum)
        for (int64_t j = 0; j < nj; ++j) {
          row[j] = kernels::exp_any(row[j] - mx);
          sum += row[j];
        }
        l[i] = l[i] * corr + sum;
        m[i] = mx;
        for (int64_t d = 0; d < a.D; ++d) acc[i * a.D + d] *= corr;
        if (a.dropout > 0)
          for (int64_t j = 0; j < nj; ++j) row[j] *= keep_scale<T>(a, b, h, i0 + i, j0 + j);
      }
      gemm_serial(dt, false, false, ni, a.D, nj, s.data(), nj, hd.v.data() + j0 * a.D, a.D,
                  acc.data(), a.D, true);
    }
    for (int64_t i = 0; i < ni; ++i) {
      T inv = T(1) / l[i];
      T* o = O + ((b * a.Tq + i0 + i) * a.N + h) * a.D;
      for (int64_t d = 0; d < a.D; ++d) o[d] = acc[i * a.D + d] * inv;
      L[(b * a.N + h) * a.Tq + i0 + i] = m[i] + std::log(l[i]);
    }
  }
}

template <class T>
void scatter_head(T* dst, int64_t b, int64_t h, int64_t Tn, const AttentionArgs& a, const std::vector<T>& src) {
  for (int64_t t = 0; t < Tn; ++t)
    std::memcpy(dst + ((b * Tn + t) * a.N + h) * a.D, src.data() + t * a.D, a.D * sizeof(T));
}

template <class T>
void backward_head(const AttentionArgs& a, int64_t b, int64_t h, const T* Q, const T* K, const T* V,
                   const Tensor& bias, const Tensor& mask, const T* O, const T* L, const T* dO,
                   T* dQ, T* dK, T* dV, T* dB) {
  const Dtype dt = sizeof(T) == 4 ? Dtype::Float32 : Dtype::Float64;
  Head<T> hd;
  std::vector<T> o, go;
  gather_head(Q, b, h, a.Tq, a, hd.q);
  gather_head(K, b, h, a.Tk, a, hd.k);
  gather_head(V, b, h, a.Tk, a, hd.v);
  gather_head(O, b, h, a.Tq, a, o);
  gather_head(dO, b, h, a.Tq, a, go);
  std::vector<T> dq(a.Tq * a.D, T(0)), dk(a.Tk * a.D, T(0)), dv(a.Tk * a.D, T(0));
  std::vector<T> Dr(a.Tq);
  for (int64_t i = 0; i < a.Tq; ++i) {
    T s = 0;
    for (int64_t d = 0; d < a.D; ++d) s += go[i * a.D + d] * o[i * a.D + d];
    Dr[i] = s;
  }
  std::vector<T> p(kTq * kTk), pd(kTq * kTk), dp(kTq * kTk);
  const T sc = static_cast<T>(a.scale);
  for (int64_t i0 = 0; i0 < a.Tq; i0 += kTq) {
    const int64_t ni = std::min(kTq, a.Tq - i0);
    const int64_t j_end = kernels::attention_key_end(i0, a.Tq, a.Tk, a.causal);
    for (int64_t j0 = 0; j0 < j_end; j0 += kTk) {
      const int64_t nj = std::min(kTk, j_end - j0);
      score_tile(a, hd.q.data(), hd.k.data(), i0, ni, j0, nj, b, h, bias, mask, p.data());
      const bool drop = a.dropout > 0;
      for (int64_t i = 0; i < ni; ++i) {
        T li = L[(b * a.N + h) * a.Tq + i0 + i];
        T* pr = p.data() + i * nj;
#pragma omp simd
        for (int64_t j = 0; j < nj; ++j) pr[j] = kernels::exp_any(pr[j] - li);
        T* pdr = pd.data() + i * nj;
        if (drop)
          for (int64_t j = 0; j < nj; ++j) pdr[j] = pr[j] * keep_scale<T>(a, b, h, i0 + i, j0 + j);
        else
          std::memcpy(pdr, pr, nj * sizeof(T));
      }
      // dV += P_dropped^T dO ; dP = (dO V^T) * keep
      gemm_serial(dt, true, false, nj, a.D, ni, pd.data(), nj, go.data() + i0 * a.D, a.D,
                  dv.data() + j0 * a.D, a.D, true);
      gemm_serial(dt, false, true, ni, nj, a.D, go.data() + i0 * a.D, a.D, hd.v.data() + j0 * a.D,
                  a.D, dp.data(), nj, false);
      for (int64_t i = 0; i < ni; ++i) {
        const T* pr = p.data() + i * nj;
        const T* pdr = pd.data() + i * nj;
        T* dr = dp.data() + i * nj;
        const T di = Dr[i0 + i];
        if (drop) {
          for (int64_t j = 0; j < nj; ++j) {
            T ks = pr[j] == T(0) ? T(0) : pdr[j] / pr[j];
            dr[j] = kernels::attention_dscore(pr[j], dr[j], ks, di);
          }
        } else {
#pragma omp simd
          for (int64_t j = 0; j < nj; ++j) dr[j] = kernels::attention_dscore(pr[j], dr[j], T(1), di);
        }
        if (dB) std::memcpy(dB + ((b * a.N + h) * a.Tq + i0 + i) * a.Tk + j0, dr, nj * sizeof(T));
#pragma omp simd
        for (int64_t j = 0; j < nj; ++j) dr[j] *= sc;
      }
      gemm_serial(dt, false, false, ni, a.D, nj, dp.data(), nj, hd.k.data() + j0 * a.D, a.D,
                  dq.data() + i0 * a.D, a.D, true);
      gemm_serial(dt, true, false, nj, a.D, ni, dp.data(), nj, hd.q.data() + i0 * a.D, a.D,
                  dk.data() + j0 * a.D, a.D, true);
    }
  }
  scatter_head(dQ, b, h, a.Tq, a, dq);
  scatter_head(dK, b, h, a.Tk, a, dk);
  scatter_head(dV, b, h, a.Tk, a, dv);
}

}  // namespace

void attention(const AttentionArgs& a, const Tensor& q, const Tensor& k, const Tensor& v,
               const Tensor& bias, const Tensor& mask, const Tensor& out, const Tensor& lse) {
  LAMINA_DISPATCH_FLOAT(q.dtype(), "dot_product_attention", [&] {
    using T = scalar_t;
    parallel_for(a.B * a.N, 1, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p)
        forward_head<T>(a, p / a.N, p % a.N, q.data<T>(), k.data<T>(), v.data<T>(), bias, mask,
                        out.data<T>(), lse.data<T>());
    });
  });
}

void attention_backward(const AttentionArgs& a, const Tensor& q, const Tensor& k, const Tensor& v,
                        const Tensor& bias, const Tensor& mask, const Tensor& out, const Tensor& lse,
                        const Tensor& dout, const Tensor& dq, const Tensor& dk, const Tensor& dv,
                        const Tensor& dbias) {
  LAMINA_DISPATCH_FLOAT(q.dtype(), "dot_product_attention", [&] {
    using T = scalar_t;
    T* db = dbias.defined() ? dbias.data<T>() : nullptr;
    parallel_for(a.B * a.N, 1, [&](int64_t p0, int64_t p1) {
      for (int64_t p = p0; p < p1; ++p)
        backward_head<T>(a, p / a.N, p % a.N, q.data<T>(), k.data<T>(), v.data<T>(), bias, mask,
                         out.data<T>(), lse.data<T>(), dout.data<T>(), dq.data<T>(), dk.data<T>(),
                         dv.data<T>(), db);
    });
  });
}

}  // namespace lamina::cpu
