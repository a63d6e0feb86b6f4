// Normalisations on the GPU. Layer/RMS norm: one block per row, statistics by
// block reductions. Batch norm and the gamma/beta grads of layer norm sum down
// columns in double, by fixed chunks of rows added in order (column_sums). The
// per-element formulas are kernels/norm.h's.
#include "lamina/kernels/binary.h"
#include "lamina/kernels/norm.h"
#include "lamina/kernels/unary.h"
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

// Column sums of f(r, k) over the rows of an (M, C) matrix, in double: each
// thread sums a fixed chunk of rows of one column (reads across a warp are
// coalesced), then one thread per column adds its chunks in order, so the
// result does not depend on the launch.
constexpr int64_t kChunkRows = 64;

template <class F>
__global__ void column_partial_kernel(int64_t M, int64_t C, F f, double* part) {
  const int64_t chunks = (M + kChunkRows - 1) / kChunkRows;
  LAMINA_GRID_LOOP(e, chunks * C) {
    const int64_t c = e / C, k = e % C, r1 = (c + 1) * kChunkRows < M ? (c + 1) * kChunkRows : M;
    double s = 0;
    for (int64_t r = c * kChunkRows; r < r1; ++r) s += f(r, k);
    part[e] = s;
  }
}

__global__ void column_total_kernel(int64_t chunks, int64_t C, const double* part, double* out) {
  LAMINA_GRID_LOOP(k, C) {
    double s = 0;
    for (int64_t c = 0; c < chunks; ++c) s += part[c * C + k];
    out[k] = s;
  }
}

// out (C,) float64 on the device = column sums of f.
template <class F>
void column_sums(int64_t M, int64_t C, const F& f, const Tensor& out, const char* op) {
  const int64_t chunks = std::max<int64_t>(1, (M + kChunkRows - 1) / kChunkRows);
  Tensor part = empty({chunks, C}, Dtype::Float64, Device::CUDA);
  column_partial_kernel<F><<<grid_for(chunks * C), kThreads>>>(M, C, f, part.data<double>());
  check_launch(op);
  column_total_kernel<<<grid_for(C), kThreads>>>(chunks, C, part.data<double>(), out.data<double>());
  check_launch(op);
}

// The summands, as functors (device code takes no host lambdas).
template <class T>
struct Elem {  // x[r, k]
  const T* x;
  int64_t C;
  __device__ double operator()(int64_t r, int64_t k) const { return static_cast<double>(x[r * C + k]); }
};
template <class T>
struct SqDev {  // (x[r, k] - mu[k])^2, the difference taken in T as on the CPU
  const T *x, *mu;
  int64_t C;
  __device__ double operator()(int64_t r, int64_t k) const {
    double d = x[r * C + k] - mu[k];
    return d * d;
  }
};
// g, masked by the fused ReLU's output y where there is one.
template <class T>
__device__ T grad_in(const T* g, const T* y, int64_t e) {
  return y ? kernels::binary_fn<BinaryOp::ReluGrad>(g[e], y[e]) : g[e];
}
template <class T>
struct GradCol {  // g[r, k], masked
  const T *g, *y;
  int64_t C;
  __device__ double operator()(int64_t r, int64_t k) const {
    return static_cast<double>(grad_in(g, y, r * C + k));
  }
};
template <class T>
struct GradXhatCol {  // g * (x - mean[k]) * rstd[k], per channel, g masked
  const T *g, *y, *x, *mean, *rstd;
  int64_t C;
  __device__ double operator()(int64_t r, int64_t k) const {
    return static_cast<double>(grad_in(g, y, r * C + k)) * (x[r * C + k] - mean[k]) * rstd[k];
  }
};
template <class T>
struct GradXhatRow {  // g * xhat with the row's statistics (layer norm)
  const T *g, *x, *mean, *rstd;
  int64_t D;
  __device__ double operator()(int64_t r, int64_t d) const {
    return static_cast<double>(g[r * D + d] * kernels::norm_xhat(x[r * D + d], mean[r], rstd[r]));
  }
};

template <class T>
__global__ void cast_kernel(const double* s, int64_t n, T* out) {
  LAMINA_GRID_LOOP(i, n) out[i] = static_cast<T>(s[i]);
}

template <class T>
__global__ void batch_mean_kernel(const double* sum, int64_t M, int64_t C, T* mean) {
  LAMINA_GRID_LOOP(k, C) mean[k] = static_cast<T>(sum[k] / (M > 1 ? M : 1));
}

// Biased variance and the affine map y = x * scale + shift of the CPU kernel.
template <class T>
__global__ void batch_affine_coef_kernel(const double* sq, const T* mean, const T* gamma,
                                         const T* beta, double eps, int64_t M, int64_t C, T* var,
                                         T* scale, T* shift) {
  LAMINA_GRID_LOOP(k, C) {
    const double vk = sq[k] / (M > 1 ? M : 1), rs = kernels::norm_rstd(vk, eps);
    const double gm = gamma ? gamma[k] : T(1);
    var[k] = static_cast<T>(vk);
    scale[k] = static_cast<T>(rs * gm);
    shift[k] = static_cast<T>((beta ? beta[k] : T(0)) - mean[k] * rs * gm);
  }
}

template <class T>
__global__ void batch_affine_kernel(const T* x, const T* scale, const T* shift, int64_t n, int64_t C,
                                    bool relu, T* y) {
  LAMINA_GRID_LOOP(e, n) {
    const T v = x[e] * scale[e % C] + shift[e % C];
    y[e] = relu ? kernels::unary_fn<UnaryOp::Relu>(v) : v;
  }
}

template <class T>
__global__ void batch_rstd_kernel(const T* var, double eps, int64_t C, T* rs) {
  LAMINA_GRID_LOOP(k, C) rs[k] = static_cast<T>(kernels::norm_rstd(static_cast<double>(var[k]), eps));
}

// From sum g and sum g * xhat: dgamma, dbeta and the coefficients of
// kernels::batch_norm_dx, as the CPU kernel computes them.
template <class T>
__global__ void batch_grad_coef_kernel(const double* sg, const double* sgx, const T* gamma,
                                       const T* rs, int64_t M, int64_t C, T* coef, T* dgamma,
                                       T* dbeta) {
  LAMINA_GRID_LOOP(k, C) {
    if (dgamma) dgamma[k] = static_cast<T>(sgx[k]);
    if (dbeta) dbeta[k] = static_cast<T>(sg[k]);
    coef[k] = (gamma ? gamma[k] : T(1)) * rs[k];      // scale
    coef[C + k] = static_cast<T>(sg[k] / M);           // mean of g
    coef[2 * C + k] = static_cast<T>(sgx[k] / M) * rs[k];  // mean of g * xhat, times rstd
  }
}

template <class T>
__global__ void batch_dx_kernel(const T* g, const T* y, const T* x, const T* mean, const T* coef,
                                int64_t n, int64_t C, T* dx) {
  LAMINA_GRID_LOOP(e, n) {
    const int64_t k = e % C;
    dx[e] = kernels::batch_norm_dx(coef[k], grad_in(g, y, e), coef[C + k], x[e], mean[k],
                                   coef[2 * C + k]);
  }
}

template <class T>
void cast_to(const Tensor& sums, int64_t n, const Tensor& out, const char* op) {
  cast_kernel<T><<<grid_for(n), kThreads>>>(sums.data<double>(), n, out.data<T>());
  check_launch(op);
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
    Tensor sums = empty({D}, Dtype::Float64, Device::CUDA);
    if (dgamma.defined()) {
      column_sums(R, D, GradXhatRow<T>{g.data<T>(), x.data<T>(), mean.data<T>(), rstd.data<T>(), D},
                  sums, "layer_norm");
      cast_to<T>(sums, D, dgamma, "layer_norm");
    }
    if (dbeta.defined()) {
      column_sums(R, D, Elem<T>{g.data<T>(), D}, sums, "layer_norm");
      cast_to<T>(sums, D, dbeta, "layer_norm");
    }
  });
}

void batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, bool relu,
                const Tensor& y, const Tensor& mean, const Tensor& var) {
  int64_t C, M = rows_of(x, &C);
  if (C == 0) return;
  LAMINA_DISPATCH_FLOAT(x.dtype(), "batch_norm", [&] {
    using T = scalar_t;
    Tensor sums = empty({C}, Dtype::Float64, Device::CUDA);
    Tensor ss = empty({2, C}, x.dtype(), Device::CUDA);  // scale, shift
    T *mu = mean.data<T>(), *scale = ss.data<T>(), *shift = scale + C;
    column_sums(M, C, Elem<T>{x.data<T>(), C}, sums, "batch_norm");
    batch_mean_kernel<T><<<grid_for(C), kThreads>>>(sums.data<double>(), M, C, mu);
    check_launch("batch_norm");
    column_sums(M, C, SqDev<T>{x.data<T>(), mu, C}, sums, "batch_norm");
    batch_affine_coef_kernel<T><<<grid_for(C), kThreads>>>(sums.data<double>(), mu, nn::opt<T>(gamma),
                                                           nn::opt<T>(beta), eps, M, C, var.data<T>(),
                                                           scale, shift);
    check_launch("batch_norm");
    if (M == 0) return;
    batch_affine_kernel<T><<<grid_for(M * C), kThreads>>>(x.data<T>(), scale, shift, M * C, C, relu,
                                                           y.data<T>());
    check_launch("batch_norm");
  });
}

void batch_norm_backward(const Tensor& g, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                         const Tensor& var, double eps, const Tensor& relu_out, const Tensor& dx,
                         const Tensor& dgamma, const Tensor& dbeta) {
  int64_t C, M = rows_of(x, &C);
  if (C == 0) return;
  LAMINA_DISPATCH_FLOAT(x.dtype(), "batch_norm", [&] {
    using T = scalar_t;
    Tensor coef = empty({4, C}, x.dtype(), Device::CUDA);  // 3 coefficients, then rstd
    Tensor sg = empty({C}, Dtype::Float64, Device::CUDA), sgx = empty({C}, Dtype::Float64, Device::CUDA);
    T* rs = coef.data<T>() + 3 * C;
    batch_rstd_kernel<T><<<grid_for(C), kThreads>>>(var.data<T>(), eps, C, rs);
    check_launch("batch_norm");
    const T* yr = nn::opt<T>(relu_out);
    column_sums(M, C, GradCol<T>{g.data<T>(), yr, C}, sg, "batch_norm");
    column_sums(M, C, GradXhatCol<T>{g.data<T>(), yr, x.data<T>(), mean.data<T>(), rs, C}, sgx,
                "batch_norm");
    batch_grad_coef_kernel<T><<<grid_for(C), kThreads>>>(sg.data<double>(), sgx.data<double>(),
                                                         nn::opt<T>(gamma), rs, M, C, coef.data<T>(),
                                                         nn::opt_mut<T>(dgamma), nn::opt_mut<T>(dbeta));
    check_launch("batch_norm");
    if (M == 0) return;
    batch_dx_kernel<T><<<grid_for(M * C), kThreads>>>(g.data<T>(), yr, x.data<T>(), mean.data<T>(),
                                                      coef.data<T>(), M * C, C, dx.data<T>());
    check_launch("batch_norm");
  });
}

}  // namespace lamina::gpu
