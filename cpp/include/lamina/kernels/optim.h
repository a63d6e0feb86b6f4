#pragma once
// Per-element optimizer updates with Keras's formulas, shared by CPU and CUDA.
#include <cmath>

#include "lamina/kernels/macros.h"

namespace lamina::kernels {

// Keras Adam: m, v moving averages; epsilon added to sqrt(v) after the bias
// correction was folded into the step size lr_t. With amsgrad, vhat keeps the
// running max of v. AdamW's decay (p -= p * wd * lr) happens first.
template <class T>
LAMINA_HD void adam_update(T& p, T g, T& m, T& v, T* vhat, T lr, T lr_t, T beta1, T beta2, T eps,
                           T wd) {
  if (wd != T(0)) p -= p * wd * lr;
  m += (g - m) * (T(1) - beta1);
  v += (g * g - v) * (T(1) - beta2);
  T vv = v;
  if (vhat) {
    *vhat = *vhat > v ? *vhat : v;
    vv = *vhat;
  }
  p -= lr_t * m / (std::sqrt(vv) + eps);
}

// Keras SGD: m = momentum * m - lr * g; p += m (nesterov: p += momentum * m - lr * g).
template <class T>
LAMINA_HD void sgd_update(T& p, T g, T* m, T lr, T momentum, bool nesterov, T wd) {
  if (wd != T(0)) p -= p * wd * lr;
  if (!m) {
    p -= lr * g;
    return;
  }
  *m = momentum * *m - lr * g;
  p += nesterov ? momentum * *m - lr * g : *m;
}

}  // namespace lamina::kernels
