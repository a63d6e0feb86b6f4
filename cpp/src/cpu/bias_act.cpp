// The epilogue of a dense or convolution layer over (M rows, C channels):
// y = act(x + bias) in one pass, act the identity or ReLU. Backward in one
// pass too: dx = g masked by y > 0 (ReLU), written while the bias gradient's
// per-channel sums accumulate (cpu/channel_sums.h). Apart, the add, the ReLU,
// the ReLU's backward and the bias gradient's reduction are four passes.
#include <algorithm>
#include <vector>

#include "cpu/channel_sums.h"
#include "cpu/nn_kernels.h"
#include "lamina/kernels/binary.h"
#include "lamina/kernels/unary.h"
#include "lamina/threads.h"

namespace lamina::cpu {

namespace {

template <bool Relu, class T>
void bias_act_typed(const T* x, const T* b, int64_t M, int64_t C, T* y) {
  parallel_for(M, detail::row_grain(C), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
#pragma omp simd
      for (int64_t k = 0; k < C; ++k) {
        const T v = x[r * C + k] + b[k];
        y[r * C + k] = Relu ? kernels::unary_fn<UnaryOp::Relu>(v) : v;
      }
    }
  });
}

// dx (when Relu) and the bias gradient's sums, in one pass over g.
template <bool Relu, class T>
void bias_act_backward_typed(const T* g, const T* y, int64_t M, int64_t C, T* dx, T* db) {
  std::vector<double> s, unused;
  detail::sum_pairs<T>(M, C, [&](int64_t r, int64_t k, T& t1, T&) {
    const int64_t e = r * C + k;
    if constexpr (Relu) {
      dx[e] = kernels::binary_fn<BinaryOp::ReluGrad>(g[e], y[e]);
      t1 += dx[e];
    } else {
      t1 += g[e];
    }
  }, s, unused);
  if (db)
    for (int64_t k = 0; k < C; ++k) db[k] = static_cast<T>(s[k]);
}

}  // namespace

void bias_act(const Tensor& x, const Tensor& bias, bool relu, const Tensor& y) {
  int64_t C = x.shape().back(), M = x.size() / std::max<int64_t>(C, 1);
  LAMINA_DISPATCH_FLOAT(x.dtype(), "bias_act", [&] {
    using T = scalar_t;
    auto run = relu ? bias_act_typed<true, T> : bias_act_typed<false, T>;
    run(x.data<T>(), bias.data<T>(), M, C, y.data<T>());
  });
}

void bias_act_backward(const Tensor& g, const Tensor& y, bool relu, const Tensor& dx,
                       const Tensor& dbias) {
  int64_t C = g.shape().back(), M = g.size() / std::max<int64_t>(C, 1);
  LAMINA_DISPATCH_FLOAT(g.dtype(), "bias_act", [&] {
    using T = scalar_t;
    T* db = dbias.defined() ? dbias.data<T>() : nullptr;
    if (relu) bias_act_backward_typed<true, T>(g.data<T>(), y.data<T>(), M, C, dx.data<T>(), db);
    else bias_act_backward_typed<false, T>(g.data<T>(), nullptr, M, C, nullptr, db);
  });
}

}  // namespace lamina::cpu
