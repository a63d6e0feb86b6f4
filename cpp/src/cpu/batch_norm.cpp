// Batch norm over the columns of x (M rows, C channels), training mode.
//
// Forward: the per-channel statistics in one read of x, then y in one more
// pass. Backward: sum(g) and sum(g * (x - mean)) in one read of g and x, then
// dx. With `relu` the output is max(0, y) and the backward masks g by y > 0
// (BinaryOp::ReluGrad), so BatchNormalization + ReLU costs the passes of
// the batch norm alone.
//
// Sums: cpu/channel_sums.h (deterministic). The forward sums are of x - x[0]
// (the first row), so E[d^2] - E[d]^2 does not cancel when |mean| is large
// against the spread.
#include <algorithm>
#include <cmath>
#include <vector>

#include "cpu/channel_sums.h"
#include "cpu/nn_kernels.h"
#include "lamina/kernels/binary.h"
#include "lamina/kernels/norm.h"
#include "lamina/kernels/unary.h"
#include "lamina/threads.h"

namespace lamina::cpu {

namespace {

using detail::row_grain;
using detail::sum_pairs;

template <bool Relu, class T>
void batch_norm_typed(const T* x, const T* gamma, const T* beta, double eps, int64_t M, int64_t C,
                      T* y, T* mean, T* var) {
  std::vector<T> sh(x, x + (M > 0 ? C : 0));
  sh.resize(C, T(0));
  const T* s = sh.data();
  std::vector<double> s1, s2;
  sum_pairs<T>(M, C, [&](int64_t r, int64_t k, T& t1, T& t2) {
    T d = x[r * C + k] - s[k];
    t1 += d;
    t2 += d * d;
  }, s1, s2);
  std::vector<T> scale(C), shift(C);
  const double n = static_cast<double>(std::max<int64_t>(M, 1));
  for (int64_t k = 0; k < C; ++k) {
    const double d = s1[k] / n, mu = s[k] + d, v = s2[k] / n - d * d;
    const double vk = v < 0.0 ? 0.0 : v;  // rounding can dip below 0; NaN stays NaN
    const double rs = kernels::norm_rstd(vk, eps), gm = gamma ? gamma[k] : 1.0;
    mean[k] = static_cast<T>(mu);
    var[k] = static_cast<T>(vk);
    scale[k] = static_cast<T>(rs * gm);
    shift[k] = static_cast<T>((beta ? beta[k] : 0.0) - mu * rs * gm);
  }
  parallel_for(M, row_grain(C), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
#pragma omp simd
      for (int64_t k = 0; k < C; ++k) {
        const T v = x[r * C + k] * scale[k] + shift[k];
        y[r * C + k] = Relu ? kernels::unary_fn<UnaryOp::Relu>(v) : v;
      }
    }
  });
}

// g masked by the fused ReLU's output where there is one.
template <bool Masked, class T>
inline T grad_in(const T* g, const T* yr, int64_t e) {
  if constexpr (Masked) return kernels::binary_fn<BinaryOp::ReluGrad>(g[e], yr[e]);
  return g[e];
}

template <bool Masked, class T>
void batch_norm_backward_typed(const T* g, const T* x, const T* gamma, const T* mean, const T* var,
                               double eps, const T* yr, int64_t M, int64_t C, T* dx, T* dgamma,
                               T* dbeta) {
  std::vector<T> rs(C);
  for (int64_t k = 0; k < C; ++k) {
    rs[k] = static_cast<T>(kernels::norm_rstd(static_cast<double>(var[k]), eps));
  }
  std::vector<double> sg, sgx;  // sum g, sum g * (x - mean)
  sum_pairs<T>(M, C, [&](int64_t r, int64_t k, T& t1, T& t2) {
    const T gv = grad_in<Masked>(g, yr, r * C + k);
    t1 += gv;
    t2 += gv * (x[r * C + k] - mean[k]);
  }, sg, sgx);
  std::vector<T> a(C), b(C), c0(C);
  for (int64_t k = 0; k < C; ++k) {
    const double gxh = sgx[k] * rs[k];  // sum g * xhat
    if (dgamma) dgamma[k] = static_cast<T>(gxh);
    if (dbeta) dbeta[k] = static_cast<T>(sg[k]);
    // dx = gamma*rstd * (g - mean(g) - xhat * mean(g*xhat))
    a[k] = (gamma ? gamma[k] : T(1)) * rs[k];
    b[k] = static_cast<T>(sg[k] / std::max<int64_t>(M, 1));
    c0[k] = static_cast<T>(gxh / std::max<int64_t>(M, 1)) * rs[k];
  }
  parallel_for(M, row_grain(C), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
#pragma omp simd
      for (int64_t k = 0; k < C; ++k) {
        const int64_t e = r * C + k;
        dx[e] = kernels::batch_norm_dx(a[k], grad_in<Masked>(g, yr, e), b[k], x[e], mean[k],
                                       c0[k]);
      }
    }
  });
}

template <class T>
T* opt(const Tensor& t) {  // optional tensors (gamma, beta, their grads, the ReLU's output)
  return t.defined() ? t.data<T>() : nullptr;
}

}  // namespace

void batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, bool relu,
                const Tensor& y, const Tensor& mean, const Tensor& var) {
  int64_t C = x.shape().back(), M = x.size() / std::max<int64_t>(C, 1);
  LAMINA_DISPATCH_FLOAT(x.dtype(), "batch_norm", [&] {
    using T = scalar_t;
    auto run = relu ? batch_norm_typed<true, T> : batch_norm_typed<false, T>;
    run(x.data<T>(), opt<T>(gamma), opt<T>(beta), eps, M, C, y.data<T>(), mean.data<T>(),
        var.data<T>());
  });
}

void batch_norm_backward(const Tensor& g, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                         const Tensor& var, double eps, const Tensor& relu_out, const Tensor& dx,
                         const Tensor& dgamma, const Tensor& dbeta) {
  int64_t C = x.shape().back(), M = x.size() / std::max<int64_t>(C, 1);
  LAMINA_DISPATCH_FLOAT(x.dtype(), "batch_norm", [&] {
    using T = scalar_t;
    auto run = relu_out.defined() ? batch_norm_backward_typed<true, T>
                                  : batch_norm_backward_typed<false, T>;
    run(g.data<T>(), x.data<T>(), opt<T>(gamma), mean.data<T>(), var.data<T>(), eps,
        opt<T>(relu_out), M, C, dx.data<T>(), opt<T>(dgamma), opt<T>(dbeta));
  });
}

}  // namespace lamina::cpu
