#pragma once
// Per-element math of softmax cross-entropy with integer labels, shared by the
// CPU loops and the CUDA kernels: the row log-sum-exp from its max and the
// sum of exp(z - max), the loss, and the gradient. (The CPU's float32 loops
// take their exp from cpu/xent.cpp instead: a leaner form for the softmax's
// non-positive arguments, with an AVX-512 table variant.)
#include <cmath>

#include "lamina/kernels/macros.h"
#include "lamina/kernels/unary.h"

namespace lamina::kernels {

// One term of the row sum: exp(z - max).
template <class T>
LAMINA_HD T xent_exp_term(T z, T row_max) {
  return exp_any(z - row_max);
}

template <class T>
LAMINA_HD T xent_lse(T row_max, T sum_exp) {
  return row_max + std::log(sum_exp);
}

// Loss of a row: lse - z[label].
template <class T>
LAMINA_HD T xent_loss(T lse, T z_label) {
  return lse - z_label;
}

// dlogits without the label term: softmax * g. The label's entry then takes -g.
template <class T>
LAMINA_HD T xent_grad(T z, T lse, T g) {
  return exp_any(z - lse) * g;
}

}  // namespace lamina::kernels
