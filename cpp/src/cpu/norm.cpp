// Fused normalisations: layer/RMS norm over rows and batch norm over columns,
// one pass for statistics and one for the output, backward likewise. Sums are
// accumulated in double, per fixed chunk, and combined in chunk order.
#include <cmath>
#include <vector>

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
    for (int64_t r = r0; r < r1; ++r) {
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
    for (int64_t r = r0; r < r1; ++r) {
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
      if ((r - r0) % kBlock == kBlock - 1) flush();
    }
    flush();
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

// Per-channel sums of f(row, channel) over rows of an (M, C) matrix.
template <class F>
std::vector<double> column_sums(int64_t M, int64_t C, F&& f) {
  int nc = std::max(1, get_num_threads());
  std::vector<double> part(nc * C, 0.0);
  nc = for_chunks(M, [&](int c, int64_t r0, int64_t r1) {
    double* p = part.data() + c * C;
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t k = 0; k < C; ++k) p[k] += f(r, k);
  });
  std::vector<double> s(C, 0.0);
  for (int c = 0; c < nc; ++c)
    for (int64_t k = 0; k < C; ++k) s[k] += part[c * C + k];
  return s;
}

template <class T>
void batch_norm_typed(const T* x, const T* gamma, const T* beta, double eps, int64_t M, int64_t C,
                      T* y, T* mean, T* var) {
  auto s = column_sums(M, C, [&](int64_t r, int64_t k) { return static_cast<double>(x[r * C + k]); });
  std::vector<T> mu(C), scale(C), shift(C);
  for (int64_t k = 0; k < C; ++k) mu[k] = static_cast<T>(s[k] / std::max<int64_t>(M, 1));
  auto v = column_sums(M, C, [&](int64_t r, int64_t k) {
    double d = x[r * C + k] - mu[k];
    return d * d;
  });
  for (int64_t k = 0; k < C; ++k) {
    double vk = v[k] / std::max<int64_t>(M, 1);
    mean[k] = mu[k];
    var[k] = static_cast<T>(vk);
    double rs = 1.0 / std::sqrt(vk + eps);
    scale[k] = static_cast<T>(rs * (gamma ? gamma[k] : T(1)));
    shift[k] = static_cast<T>((beta ? beta[k] : T(0)) - mu[k] * rs * (gamma ? gamma[k] : T(1)));
  }
  parallel_for(M, std::max<int64_t>(1, 16384 / std::max<int64_t>(C, 1)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
#pragma omp simd
      for (int64_t k = 0; k < C; ++k) y[r * C + k] = x[r * C + k] * scale[k] + shift[k];
    }
  });
}

template <class T>
void batch_norm_backward_typed(const T* g, const T* x, const T* gamma, const T* mean, const T* var,
                               double eps, int64_t M, int64_t C, T* dx, T* dgamma, T* dbeta) {
  std::vector<T> rs(C);
  for (int64_t k = 0; k < C; ++k) rs[k] = static_cast<T>(1.0 / std::sqrt(var[k] + eps));
  auto sg = column_sums(M, C, [&](int64_t r, int64_t k) { return static_cast<double>(g[r * C + k]); });
  auto sgx = column_sums(M, C, [&](int64_t r, int64_t k) {
    return static_cast<double>(g[r * C + k]) * (x[r * C + k] - mean[k]) * rs[k];
  });
  std::vector<T> a(C), b(C), c0(C);
  for (int64_t k = 0; k < C; ++k) {
    T gm = gamma ? gamma[k] : T(1);
    if (dgamma) dgamma[k] = static_cast<T>(sgx[k]);
    if (dbeta) dbeta[k] = static_cast<T>(sg[k]);
    // dx = gamma*rstd * (g - mean(g) - xhat * mean(g*xhat))
    a[k] = gm * rs[k];
    b[k] = static_cast<T>(sg[k] / M);
    c0[k] = static_cast<T>(sgx[k] / M) * rs[k];
  }
  parallel_for(M, std::max<int64_t>(1, 16384 / std::max<int64_t>(C, 1)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
#pragma omp simd
      for (int64_t k = 0; k < C; ++k)
        dx[r * C + k] = kernels::batch_norm_dx(a[k], g[r * C + k], b[k], x[r * C + k], mean[k], c0[k]);
    }
  });
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

void batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                const Tensor& y, const Tensor& mean, const Tensor& var) {
  int64_t C = x.shape().back(), M = x.size() / std::max<int64_t>(C, 1);
  LAMINA_DISPATCH_FLOAT(x.dtype(), "batch_norm", [&] {
    using T = scalar_t;
    batch_norm_typed<T>(x.data<T>(), opt<T>(gamma), opt<T>(beta), eps, M, C, y.data<T>(),
                        mean.data<T>(), var.data<T>());
  });
}

void batch_norm_backward(const Tensor& g, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                         const Tensor& var, double eps, const Tensor& dx, const Tensor& dgamma,
                         const Tensor& dbeta) {
  int64_t C = x.shape().back(), M = x.size() / std::max<int64_t>(C, 1);
  LAMINA_DISPATCH_FLOAT(x.dtype(), "batch_norm", [&] {
    using T = scalar_t;
    batch_norm_backward_typed<T>(g.data<T>(), x.data<T>(), opt<T>(gamma), mean.data<T>(),
                                 var.data<T>(), eps, M, C, dx.data<T>(), opt_mut<T>(dgamma),
                                 opt_mut<T>(dbeta));
  });
}

}  // namespace lamina::cpu
