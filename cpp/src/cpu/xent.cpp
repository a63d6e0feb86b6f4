// Softmax cross-entropy with integer labels, fused: one pass per row for the
// log-sum-exp and the loss, one for the gradient; no probabilities stored.
#include <cmath>
#include <string>

#include "cpu/nn_kernels.h"
#include "lamina/kernels/xent.h"
#include "lamina/threads.h"

namespace lamina::cpu {

namespace {
template <class T>
void sparse_xent_typed(const T* z, const int64_t* y, int64_t R, int64_t C, T* loss, T* lse) {
  parallel_for(R, std::max<int64_t>(1, 8192 / std::max<int64_t>(C, 1)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* zr = z + r * C;
      T m = zr[0];
#pragma omp simd reduction(max : m)
      for (int64_t c = 1; c < C; ++c) m = zr[c] > m ? zr[c] : m;
      T s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t c = 0; c < C; ++c) s += kernels::xent_exp_term(zr[c], m);
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
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) dr[c] = kernels::xent_grad(zr[c], l, gr);
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
