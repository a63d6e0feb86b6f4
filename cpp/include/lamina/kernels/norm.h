#pragma once
// Per-element math of the normalisations (layer/RMS norm over rows, batch norm
// over columns), shared by the CPU loops and the CUDA kernels. Scalars in,
// scalar out, so the CPU's simd loops calling them still vectorise.
#include <cmath>

#include "lamina/kernels/macros.h"

namespace lamina::kernels {

// 1 / sqrt(var + eps).
template <class T>
LAMINA_HD T norm_rstd(T var, T eps) {
  return T(1) / std::sqrt(var + eps);
}

// Normalised value xhat = (x - mean) * rstd.
template <class T>
LAMINA_HD T norm_xhat(T x, T mean, T rstd) {
  return (x - mean) * rstd;
}

// Row norm output: xhat * gamma + beta.
template <class T>
LAMINA_HD T row_norm_y(T x, T mean, T rstd, T gamma, T beta) {
  return norm_xhat(x, mean, rstd) * gamma + beta;
}

// Row norm input grad: rstd * (g*gamma - a - xhat*b), where a = mean(g*gamma)
// (0 for RMS norm) and b = mean(g*gamma*xhat) over the row.
template <class T>
LAMINA_HD T row_norm_dx(T g, T gamma, T x, T mean, T rstd, T a, T b) {
  return rstd * (g * gamma - a - norm_xhat(x, mean, rstd) * b);
}

// Batch norm input grad: scale * (g - gmean - (x - mean) * c), where
// scale = gamma*rstd, gmean = mean(g) and c = mean(g*xhat) * rstd per channel.
template <class T>
LAMINA_HD T batch_norm_dx(T scale, T g, T gmean, T x, T mean, T c) {
  return scale * (g - gmean - (x - mean) * c);
}

}  // namespace lamina::kernels
