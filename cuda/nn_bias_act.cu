// A layer's epilogue on the GPU, as cpu/bias_act.cpp: y = act(x + bias) in
// one kernel; backward dx = g masked by y > 0 (ReLU), then the bias gradient
// as the column sums of dx (or g) through the generic reduction.
#include "lamina/kernels/binary.h"
#include "lamina/kernels/unary.h"
#include "nn_common.cuh"
#include "nn_kernels.h"

namespace lamina::gpu {

namespace {

template <class T>
__global__ void bias_act_kernel(const T* x, const T* b, int64_t n, int64_t C, bool relu, T* y) {
  LAMINA_GRID_LOOP(e, n) {
    const T v = x[e] + b[e % C];
    y[e] = relu ? kernels::unary_fn<UnaryOp::Relu>(v) : v;
  }
}

template <class T>
__global__ void relu_grad_kernel(const T* g, const T* y, int64_t n, T* dx) {
  LAMINA_GRID_LOOP(e, n) dx[e] = kernels::binary_fn<BinaryOp::ReluGrad>(g[e], y[e]);
}

}  // namespace

void bias_act(const Tensor& x, const Tensor& bias, bool relu, const Tensor& y) {
  const int64_t n = x.size(), C = x.shape().back();
  if (n == 0) return;
  LAMINA_DISPATCH_FLOAT(x.dtype(), "bias_act", [&] {
    using T = scalar_t;
    bias_act_kernel<T><<<grid_for(n), kThreads>>>(x.data<T>(), bias.data<T>(), n, C, relu,
                                                   y.data<T>());
    check_launch("bias_act");
  });
}

void bias_act_backward(const Tensor& g, const Tensor& y, bool relu, const Tensor& dx,
                       const Tensor& dbias) {
  const int64_t n = g.size(), C = g.shape().back(), M = n / std::max<int64_t>(C, 1);
  if (relu && n > 0) {
    LAMINA_DISPATCH_FLOAT(g.dtype(), "bias_act", [&] {
      using T = scalar_t;
      relu_grad_kernel<T><<<grid_for(n), kThreads>>>(g.data<T>(), y.data<T>(), n, dx.data<T>());
      check_launch("bias_act");
    });
  }
  if (!dbias.defined()) return;
  const Tensor& src = relu ? dx : g;
  reduce(ReduceOp::Sum, nn::view2(src, M, C, C, 1), {0}, nn::view2(dbias, 1, C, C, 1));
}

}  // namespace lamina::gpu
