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

// The cells take and return scalars (not arrays) so that a loop over units
// calling them vectorises.

// LSTM, gates i, f, c, o from pre-activations z*. Returns h; writes the
// activations and the new cell state.
template <class T>
LAMINA_HD T lstm_cell(T zi, T zf, T zc, T zo, T c_prev, T& i, T& f, T& g, T& o, T& c) {
  i = sigmoid(zi);
  f = sigmoid(zf);
  g = tanh_(zc);
  o = sigmoid(zo);
  c = f * c_prev + i * g;
  return o * tanh_(c);
}

// Gradients of the LSTM cell: pre-activation grads and dc_prev.
template <class T>
LAMINA_HD void lstm_cell_backward(T i, T f, T g, T o, T c, T c_prev, T dh, T dc_next, T& dzi,
                                  T& dzf, T& dzc, T& dzo, T& dc_prev) {
  T tc = tanh_(c);
  T dc = dh * o * (T(1) - tc * tc) + dc_next;
  dzi = dc * g * i * (T(1) - i);
  dzf = dc * c_prev * f * (T(1) - f);
  dzc = dc * i * (T(1) - g * g);
  dzo = dh * tc * o * (T(1) - o);
  dc_prev = dc * f;
}

// GRU, gates z, r, h. With reset_after the reset gate multiplies the
// recurrent projection rh (its bias included); without it the caller passes
// rh = (r * h_prev) @ U_h, computed after r.
template <class T>
LAMINA_HD T gru_cell(T xz, T xr, T xh, T rz, T rr, T rh, T h_prev, bool reset_after, T& z, T& r,
                     T& hh) {
  z = sigmoid(xz + rz);
  r = sigmoid(xr + rr);
  hh = tanh_(xh + (reset_after ? r * rh : rh));
  return z * h_prev + (T(1) - z) * hh;
}

// Gradients of the GRU cell given dh: the input-projection grads dx*, the
// grad of the recurrent h projection (drh), and dh_prev's direct part. The
// z and r recurrent grads equal dxz and dxr. Without reset_after, dxr is left
// 0: the caller adds the path through r * h_prev.
template <class T>
LAMINA_HD void gru_cell_backward(T z, T r, T hh, T rh, T h_prev, T dh, bool reset_after, T& dxz,
                                 T& dxr, T& dxh, T& drh, T& dh_prev) {
  T dhh = dh * (T(1) - z) * (T(1) - hh * hh);
  T dr = reset_after ? dhh * rh : T(0);
  dxz = dh * (h_prev - hh) * z * (T(1) - z);
  dxr = dr * r * (T(1) - r);
  dxh = dhh;
  drh = reset_after ? dhh * r : dhh;
  dh_prev = dh * z;
}

template <class T>
LAMINA_HD T simple_rnn_cell(T xw, T rec) {
  return tanh_(xw + rec);
}

}  // namespace lamina::kernels
