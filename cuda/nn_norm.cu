// Normalisations on the GPU. Layer/RMS norm: one block per row, statistics by
// block reductions. Batch norm and the gamma/beta grads of layer norm sum down
// columns: one thread per column, rows in order, accumulated in double (reads
// across a warp are coalesced). The per-element formulas are kernels/norm.h's.
#include "lamina/kernels/norm.h"
#include "nn_common.cuh"
#include "nn_kernels.h"

namespace lamina::gpu {

namespace {

constexpr int kRowThreads = 256;

template <class T>
__global__ void __launch_bounds__(kRowThreads)
row_norm_kernel(const T* x, const T* gamma, const T* beta, T eps, bool rms, int64_t D, T* y,
                T* mean, T* rstd) {
  __shared__ T buf[kRowThreads / 32];
  const int64_t r = blockIdx.x;
  const T* xr = x + r * D;
  const T inv_d = T(1) / static_cast<T>(D > 1 ? D : 1);
  T m = 0;
  if (!rms) {
    T s = 0;
    for (int64_t d = threadIdx.x; d < D; d += blockDim.x) s += xr[d];
    m = nn::block_reduce<T, false>(s, buf) * inv_d;
  }
  T v = 0;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) v += (xr[d] - m) * (xr[d] - m);
  const T rs = kernels::norm_rstd(nn::block_reduce<T, false>(v, buf) * inv_d, eps);
  if (threadIdx.x == 0) {
    mean[r] = m;
    rstd[r] = rs;
  }
  T* yr = y + r * D;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x)
    yr[d] = kernels::row_norm_y(xr[d], m, rs, gamma ? gamma[d] : T(1), beta ? beta[d] : T(0));
}

template <class T>
__global__ void __launch_bounds__(kRowThreads)
row_norm_dx_kernel(const T* g, const T* x, const T* gamma, const T* mean, const T* rstd, bool rms,
                   int64_t D, T* dx) {
  __shared__ T buf[kRowThreads / 32];
  const int64_t r = blockIdx.x;
  const T *gr = g + r * D, *xr = x + r * D;
  const T m = mean[r], rs = rstd[r], inv_d = T(1) / static_cast<T>(D > 1 ? D : 1);
  T s1 = 0, s2 = 0;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x) {
    T dh = gr[d] * (gamma ? gamma[d] : T(1));
    s1 += dh;
    s2 += dh * kernels::norm_xhat(xr[d], m, rs);
  }
  s1 = nn::block_reduce<T, false>(s1, buf);
  s2 = nn::block_reduce<T, false>(s2, buf);
  const T a = rms ? T(0) : s1 * inv_d, b = s2 * inv_d;
  for (int64_t d = threadIdx.x; d < D; d += blockDim.x)
    dx[r * D + d] = kernels::row_norm_dx(gr[d], gamma ? gamma[d] : T(1), xr[d], m, rs, a, b);
}

// dgamma = sum_r g * xhat, dbeta = sum_r g; one thread per feature.
template <class T>
__global__ void row_norm_params_kernel(const T* g, const T* x, const T* mean, const T* rstd,
                                       int64_t R, int64_t D, T* dgamma, T* dbeta) {
  LAMINA_GRID_LOOP(d, D) {
    double sg = 0, sb = 0;
    for (int64_t r = 0; r < R; ++r) {
      T gv = g[r * D + d];
      sg += static_cast<double>(gv * kernels::norm_xhat(x[r * D + d], mean[r], rstd[r]));
      sb += static_cast<double>(gv);
    }
    if (dgamma) dgamma[d] = static_cast<T>(sg);
    if (dbeta) dbeta[d] = static_cast<T>(sb);
  }
}

// Per channel: mean and biased variance (two passes, double), then the
// affine map y = x * scale + shift that the CPU kernel uses too.
template <class T>
__global__ void batch_stats_kernel(const T* x, const T* gamma, const T* beta, double eps, int64_t M,
                                   int64_t C, T* mean, T* var, T* scale, T* shift) {
  LAMINA_GRID_LOOP(k, C) {
    const int64_t m1 = M > 1 ? M : 1;
    double s = 0;
    for (int64_t r = 0; r < M; ++r) s += static_cast<double>(x[r * C + k]);
    const T mu = static_cast<T>(s / m1);
    double v = 0;
    for (int64_t r = 0; r < M; ++r) {
      double d = x[r * C + k] - mu;
      v += d * d;
    }
    const double vk = v / m1, rs = kernels::norm_rstd(vk, eps), gm = gamma ? gamma[k] : T(1);
    mean[k] = mu;
    var[k] = static_cast<T>(vk);
    scale[k] = static_cast<T>(rs * gm);
    shift[k] = static_cast<T>((beta ? beta[k] : T(0)) - mu * rs * gm);
  }
}

template <class T>
__global__ void batch_affine_kernel(const T* x, const T* scale, const T* shift, int64_t n, int64_t C,
                                    T* y) {
  LAMINA_GRID_LOOP(e, n) y[e] = x[e] * scale[e % C] + shift[e % C];
}

// Per channel: sum g and sum g * xhat (double), then the coefficients of
// kernels::batch_norm_dx, as the CPU kernel computes them.
template <class T>
__global__ void batch_grad_stats_kernel(const T* g, const T* x, const T* gamma, const T* mean,
                                        const T* var, double eps, int64_t M, int64_t C, T* coef,
                                        T* dgamma, T* dbeta) {
  LAMINA_GRID_LOOP(k, C) {
    const T rs = static_cast<T>(kernels::norm_rstd(static_cast<double>(var[k]), eps));
    double sg = 0, sgx = 0;
    for (int64_t r = 0; r < M; ++r) {
      double gv = g[r * C + k];
      sg += gv;
      sgx += gv * (x[r * C + k] - mean[k]) * rs;
    }
    if (dgamma) dgamma[k] = static_cast<T>(sgx);
    if (dbeta) dbeta[k] = static_cast<T>(sg);
    coef[k] = (gamma ? gamma[k] : T(1)) * rs;         // scale
    coef[C + k] = static_cast<T>(sg / M);              // mean of g
    coef[2 * C + k] = static_cast<T>(sgx / M) * rs;    // mean of g * xhat, times rstd
  }
}

template <class T>
__global__ void batch_dx_kernel(const T* g, const T* x, const T* mean, const T* coef, int64_t n,
                                int64_t C, T* dx) {
  LAMINA_GRID_LOOP(e, n) {
    const int64_t k = e % C;
    dx[e] = kernels::batch_norm_dx(coef[k], g[e], coef[C + k], x[e], mean[k], coef[2 * C + k]);
  }
}

int64_t rows_of(const Tensor& x, int64_t* D) {
  *D = x.shape().back();
  return x.size() / std::max<int64_t>(*D, 1);
}

}  // namespace

void row_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, bool rms,
              const Tensor& y, const Tensor& mean, const Tensor& rstd) {
  int64_t D, R = rows_of(x, &D);
  if (R == 0 || D == 0) return;
  LAMINA_DISPATCH_FLOAT(x.dtype(), "layer_norm", [&] {
    using T = scalar_t;
    for (int64_t r0 = 0; r0 < R; r0 += kMaxBlocks) {  // one block per row
      const int64_t nr = std::min<int64_t>(kMaxBlocks, R - r0);
      row_norm_kernel<T><<<static_cast<unsigned>(nr), kRowThreads>>>(
          x.data<T>() + r0 * D, nn::opt<T>(gamma), nn::opt<T>(beta), static_cast<T>(eps), rms, D,
          y.data<T>() + r0 * D, mean.data<T>() + r0, rstd.data<T>() + r0);
      check_launch("layer_norm");
    }
  });
}

void row_norm_backward(const Tensor& g, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                       const Tensor& rstd, bool rms, const Tensor& dx, const Tensor& dgamma,
                       const Tensor& dbeta) {
  int64_t D, R = rows_of(x, &D);
  if (D == 0) return;
  LAMINA_DISPATCH_FLOAT(x.dtype(), "layer_norm", [&] {
    using T = scalar_t;
    for (int64_t r0 = 0; r0 < R; r0 += kMaxBlocks) {
      const int64_t nr = std::min<int64_t>(kMaxBlocks, R - r0);
      row_norm_dx_kernel<T><<<static_cast<unsigned>(nr), kRowThreads>>>(
          g.data<T>() + r0 * D, x.data<T>() + r0 * D, nn::opt<T>(gamma), mean.data<T>() + r0,
          rstd.data<T>() + r0, rms, D, dx.data<T>() + r0 * D);
      check_launch("layer_norm");
    }
    if (dgamma.defined() || dbeta.defined()) {
      row_norm_params_kernel<T><<<grid_for(D), kThreads>>>(g.data<T>(), x.data<T>(), mean.data<T>(),
                                                           rstd.data<T>(), R, D, nn::opt_mut<T>(dgamma),
                                                           nn::opt_mut<T>(dbeta));
      check_launch("layer_norm");
    }
  });
}

void batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                const Tensor& y, const Tensor& mean, const Tensor& var) {
  int64_t C, M = rows_of(x, &C);
  if (C == 0) return;
  LAMINA_DISPATCH_FLOAT(x.dtype(), "batch_norm", [&] {
    using T = scalar_t;
    Tensor ss = empty({2, C}, x.dtype(), Device::CUDA);  // scale, shift
    batch_stats_kernel<T><<<grid_for(C), kThreads>>>(x.data<T>(), nn::opt<T>(gamma), nn::opt<T>(beta),
                                                     eps, M, C, mean.data<T>(), var.data<T>(),
                                                     ss.data<T>(), ss.data<T>() + C);
    check_launch("batch_norm");
    if (M == 0) return;
    batch_affine_kernel<T><<<grid_for(M * C), kThreads>>>(x.data<T>(), ss.data<T>(), ss.data<T>() + C,
                                                          M * C, C, y.data<T>());
    check_launch("batch_norm");
  });
}

void batch_norm_backward(const Tensor& g, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                         const Tensor& var, double eps, const Tensor& dx, const Tensor& dgamma,
                         const Tensor& dbeta) {
  int64_t C, M = rows_of(x, &C);
  if (C == 0) return;
  LAMINA_DISPATCH_FLOAT(x.dtype(), "batch_norm", [&] {
    using T = scalar_t;
    Tensor coef = empty({3, C}, x.dtype(), Device::CUDA);
    batch_grad_stats_kernel<T><<<grid_for(C), kThreads>>>(
        g.data<T>(), x.data<T>(), nn::opt<T>(gamma), mean.data<T>(), var.data<T>(), eps, M, C,
        coef.data<T>(), nn::opt_mut<T>(dgamma), nn::opt_mut<T>(dbeta));
    check_launch("batch_norm");
    if (M == 0) return;
    batch_dx_kernel<T><<<grid_for(M * C), kThreads>>>(g.data<T>(), x.data<T>(), mean.data<T>(),
                                                      coef.data<T>(), M * C, C, dx.data<T>());
    check_launch("batch_norm");
  });
}

}  // namespace lamina::gpu
