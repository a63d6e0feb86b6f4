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

// The other Keras optimizers, one element at a time. `s` holds the element's
// slots (in the order each optimizer's comment names) and `h` the step's
// hyper-parameters, with step-dependent factors already folded in on the host.

// RMSprop. s: velocity, momentum (if h[3] > 0), average_gradient (if centered).
// h: lr, rho, epsilon, momentum, centered.
template <class T>
LAMINA_HD void rmsprop_update(T& p, T g, T** s, const T* h) {
  T& vel = *s[0];
  vel = vel * h[1] + g * g * (T(1) - h[1]);
  T denom = vel + h[2];
  if (h[4] != T(0)) {
    T& avg = *s[2];
    avg = avg * h[1] + g * (T(1) - h[1]);
    denom = vel - avg * avg + h[2];
  }
  T inc = g * h[0] / std::sqrt(denom);
  if (h[3] > T(0)) {
    *s[1] = *s[1] * h[3] + inc;
    inc = *s[1];
  }
  p -= inc;
}

// Adagrad. s: accumulator. h: lr, epsilon.
template <class T>
LAMINA_HD void adagrad_update(T& p, T g, T** s, const T* h) {
  *s[0] += g * g;
  p -= g * h[0] / std::sqrt(*s[0] + h[1]);
}

// Adadelta. s: accumulated_grad, accumulated_delta_var. h: lr, rho, epsilon.
template <class T>
LAMINA_HD void adadelta_update(T& p, T g, T** s, const T* h) {
  T &ag = *s[0], &ad = *s[1];
  ag = ag * h[1] + g * g * (T(1) - h[1]);
  T delta = -(std::sqrt(ad + h[2]) * g) / std::sqrt(ag + h[2]);
  ad = ad * h[1] + delta * delta * (T(1) - h[1]);
  p += delta * h[0];
}

// Adamax. s: momentum, norm. h: lr, beta_1, beta_2, epsilon, 1 - beta_1**t.
template <class T>
LAMINA_HD void adamax_update(T& p, T g, T** s, const T* h) {
  T &m = *s[0], &u = *s[1];
  m += (g - m) * (T(1) - h[1]);
  T ag = g < T(0) ? -g : g, bu = u * h[2];
  u = bu > ag ? bu : ag;
  p -= m * h[0] / ((u + h[3]) * h[4]);
}

// Nadam. s: momentum, velocity. h: lr, beta_1, beta_2, epsilon,
// u_{t+1} / (1 - prod u up to t+1), (1 - u_t) / (1 - prod u up to t), 1 - beta_2**t.
template <class T>
LAMINA_HD void nadam_update(T& p, T g, T** s, const T* h) {
  T &m = *s[0], &v = *s[1];
  m += (g - m) * (T(1) - h[1]);
  v += (g * g - v) * (T(1) - h[2]);
  T m_hat = m * h[4] + g * h[5];
  T v_hat = v / h[6];
  p -= m_hat * h[0] / (std::sqrt(v_hat) + h[3]);
}

// Lion. s: momentum. h: lr, beta_1, beta_2.
template <class T>
LAMINA_HD void lion_update(T& p, T g, T** s, const T* h) {
  T& m = *s[0];
  T c = m * h[1] + g * (T(1) - h[1]);
  p -= (c > T(0) ? T(1) : (c < T(0) ? T(-1) : T(0))) * h[0];
  m = m * h[2] + g * (T(1) - h[2]);
}

}  // namespace lamina::kernels
