// Softmax cross-entropy with integer labels, fused: one pass per row for the
// log-sum-exp and the loss, one for the gradient; no probabilities stored.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#include "cpu/nn_kernels.h"
#include "lamina/kernels/xent.h"
#include "lamina/threads.h"

namespace lamina::cpu {

namespace {

// exp(x) for the x <= 0 of a softmax (logit minus the row max or the lse),
// float32: the polynomial of kernels::exp_f32, with 2^n a single exponent
// field because n >= -126 here; below -87.33 (results under FLT_MIN, far below
// any row sum of at least 1) it gives 0. NaN stays NaN. Half the instructions
// of the general exp, which also handles overflow and subnormal results.
inline float exp_nonpos(float x) {
  float xc = x < -87.0f ? -87.0f : x;  // NaN passes through
  float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = xc - n * 0.693145751953125f;
  r = r - n * 1.428606765330187045e-06f;
  float p = 1.9875691500E-4f;
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  p = p * r * r + r + 1.0f;
  int32_t b = (static_cast<int32_t>(n) + 127) << 23;
  float s;
  std::memcpy(&s, &b, 4);
  float y = p * s;
  return x < -87.33654f ? 0.0f : y;
}

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
#pragma omp simd reduction(+ : s)
      for (int64_t c = 0; c < C; ++c) s += softmax_exp(zr[c] - m);
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
      for (int64_t c = 0; c < C; ++c) dr[c] = softmax_exp(zr[c] - l) * gr;
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
