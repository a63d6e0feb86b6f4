#pragma once
// Per-unit math of the recurrent cells (Keras gate orders), shared by the CPU
// and CUDA scans. `xw` is the input projection x_t @ W + b for one unit's
// gates, `rec` the recurrent projection h_{t-1} @ U (+ recurrent bias).
#include <cmath>

#include "lamina/kernels/macros.h"
#include "lamina/kernels/unary.h"

namespace lamina::kernels {

template <class T>
LAMINA_HD T sigmoid(T x) {
  return T(1) / (T(1) + exp_any(-x));
}

template <class T>
LAMINA_HD T tanh_(T x) {
  T e = exp_any(T(2) * x);
  return x != x ? x : T(1) - T(2) / (e + T(1));
}

// LSTM, gates i, f, c, o. Returns h; writes the activations and the new cell.
template <class T>
LAMINA_HD T lstm_cell(const T xw[4], const T rec[4], T c_prev, T act[4], T* c) {
  T i = sigmoid(xw[0] + rec[0]), f = sigmoid(xw[1] + rec[1]);
  T g = tanh_(xw[2] + rec[2]), o = sigmoid(xw[3] + rec[3]);
  act[0] = i; act[1] = f; act[2] = g; act[3] = o;
  *c = f * c_prev + i * g;
  return o * tanh_(*c);
}

// Gradients of the LSTM cell: dz (pre-activations) and dc_prev.
template <class T>
LAMINA_HD void lstm_cell_backward(const T act[4], T c, T c_prev, T dh, T dc_next, T dz[4], T* dc_prev) {
  T i = act[0], f = act[1], g = act[2], o = act[3];
  T tc = tanh_(c);
  T dc = dh * o * (T(1) - tc * tc) + dc_next;
  dz[0] = dc * g * i * (T(1) - i);
  dz[1] = dc * c_prev * f * (T(1) - f);
  dz[2] = dc * i * (T(1) - g * g);
  dz[3] = dh * tc * o * (T(1) - o);
  *dc_prev = dc * f;
}

// GRU, gates z, r, h. With reset_after the reset gate multiplies the
// recurrent projection (rec[2] includes its bias); without it the caller
// passes rec[2] = (r * h_prev) @ U_h computed after this function's r.
template <class T>
LAMINA_HD T gru_cell(const T xw[3], const T rec[3], T h_prev, bool reset_after, T act[3]) {
  T z = sigmoid(xw[0] + rec[0]), r = sigmoid(xw[1] + rec[1]);
  T hh = tanh_(xw[2] + (reset_after ? r * rec[2] : rec[2]));
  act[0] = z; act[1] = r; act[2] = hh;
  return z * h_prev + (T(1) - z) * hh;
}

// Gradients of the GRU cell given dh: pre-activation grads for the input
// projection (dxw), for the recurrent projection (drec), and dh_prev's direct
// part. Without reset_after, drec[2] is the grad of (r*h_prev) @ U_h and the
// caller adds the path through r*h_prev.
template <class T>
LAMINA_HD void gru_cell_backward(const T act[3], T rec2, T h_prev, T dh, bool reset_after,
                                 T dxw[3], T drec[3], T* dh_prev) {
  T z = act[0], r = act[1], hh = act[2];
  T dhh = dh * (T(1) - z) * (T(1) - hh * hh);
  T dr = reset_after ? dhh * rec2 : T(0);
  dxw[0] = drec[0] = dh * (h_prev - hh) * z * (T(1) - z);
  dxw[1] = drec[1] = dr * r * (T(1) - r);
  dxw[2] = dhh;
  drec[2] = reset_after ? dhh * r : dhh;
  *dh_prev = dh * z;
}

template <class T>
LAMINA_HD T simple_rnn_cell(T xw, T rec) {
  return tanh_(xw + rec);
}

}  // namespace lamina::kernels
