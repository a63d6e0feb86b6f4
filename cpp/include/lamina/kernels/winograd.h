#pragma once
// Winograd F(m x m, 3x3) tile transforms (Lavin & Gray, 2015): a 3x3
// cross-correlation over an (m+2) x (m+2) input tile gives an m x m output
// tile as
//   Y = A^T [(G g G^T) . (B^T d B)] A,
// (m+2)^2 products per tile and channel pair instead of 9 m^2: F(2x2, 3x3)
// needs 2.25x fewer, F(4x4, 3x3) 4x fewer. F23's transforms only add,
// subtract and halve (results within a few ulps of the direct sum); F43's
// scale by up to 16/15 and 8, so its float32 error is larger (below). T is
// float or any vector type with + - and * by a float (GCC's __m512).
//
// The kernel's gradient runs the same algorithm backwards (the adjoints):
// dV[xi] = sum over tiles of U[xi] (x) (A dY A^T)[xi], then dg = G^T dV G.
//
// Each variant gives its 1-D transforms; the 2-D ones below apply them to
// the rows, then to the columns.
#include "lamina/kernels/macros.h"

namespace lamina::kernels {

struct WinogradF23 {
  static constexpr int kOut = 2, kIn = 4;
  template <class T>
  LAMINA_HD static void bt(const T* d, T* u) {  // u = B^T d
    u[0] = d[0] - d[2];
    u[1] = d[1] + d[2];
    u[2] = d[2] - d[1];
    u[3] = d[1] - d[3];
  }
  template <class T>
  LAMINA_HD static void g(const T* k, T* v) {  // v = G k
    v[0] = k[0];
    v[1] = (k[0] + k[1] + k[2]) * 0.5f;
    v[2] = (k[0] - k[1] + k[2]) * 0.5f;
    v[3] = k[2];
  }
  template <class T>
  LAMINA_HD static void at(const T* m, T* y) {  // y = A^T m
    y[0] = m[0] + m[1] + m[2];
    y[1] = m[1] - m[2] - m[3];
  }
  template <class T>
  LAMINA_HD static void a(const T* dy, T* z) {  // z = A dy
    z[0] = dy[0];
    z[1] = dy[0] + dy[1];
    z[2] = dy[0] - dy[1];
    z[3] = T{} - dy[1];
  }
  template <class T>
  LAMINA_HD static void gt(const T* dv, T* dk) {  // dk = G^T dv
    dk[0] = dv[0] + (dv[1] + dv[2]) * 0.5f;
    dk[1] = (dv[1] - dv[2]) * 0.5f;
    dk[2] = dv[3] + (dv[1] + dv[2]) * 0.5f;
  }
};

// The scalar type that multiplies a T: a vector of floats takes a float,
// double takes double (so the inexact constants 1/3 and 1/15 keep double's
// precision there, and float's everywhere else).
template <class T>
struct WinogradScalar {
  using type = float;
};
template <>
struct WinogradScalar<double> {
  using type = double;
};

// Interpolation points 0, 1, -1, 1/2, -2 and infinity: against Lavin's
// 0, +-1, +-2 they measured 3x less worst-case float32 error (4e-6 against
// 1.4e-5 of the output's RMS, 16 channels; direct summation: 5e-7).
struct WinogradF43 {
  static constexpr int kOut = 4, kIn = 6;
  template <class T>
  LAMINA_HD static void bt(const T* d, T* u) {
    u[0] = d[0] + d[4] + (d[3] - d[1]) * 1.5f - d[2] * 2.0f;
    u[1] = d[4] - d[1] + d[2] * 0.5f + d[3] * 2.5f;
    u[2] = d[4] + d[1] - d[2] * 2.5f + d[3] * 0.5f;
    u[3] = d[4] - d[2] + (d[3] - d[1]) * 2.0f;
    u[4] = d[4] - d[2] + (d[1] - d[3]) * 0.5f;
    u[5] = d[1] + d[5] + (d[4] - d[2]) * 1.5f - d[3] * 2.0f;
  }
  template <class T>
  LAMINA_HD static void g(const T* k, T* v) {
    using S = typename WinogradScalar<T>::type;
    v[0] = k[0];
    v[1] = (k[0] + k[1] + k[2]) * S(1.0 / 3);
    v[2] = (k[1] - k[0] - k[2]) * S(1.0 / 3);
    v[3] = (k[0] * 16.0f + k[1] * 8.0f + k[2] * 4.0f) * S(-1.0 / 15);
    v[4] = (k[0] - k[1] * 2.0f + k[2] * 4.0f) * S(1.0 / 15);
    v[5] = k[2];
  }
  template <class T>
  LAMINA_HD static void at(const T* m, T* y) {
    const T p = m[1] + m[2], n = m[1] - m[2];
    y[0] = m[0] + p + m[3] + m[4];
    y[1] = n + m[3] * 0.5f - m[4] * 2.0f;
    y[2] = p + m[3] * 0.25f + m[4] * 4.0f;
    y[3] = n + m[3] * 0.125f - m[4] * 8.0f + m[5];
  }
  template <class T>
  LAMINA_HD static void a(const T* dy, T* z) {
    const T e = dy[0] + dy[2], o = dy[1] + dy[3];
    z[0] = dy[0];
    z[1] = e + o;
    z[2] = e - o;
    z[3] = dy[0] + dy[1] * 0.5f + dy[2] * 0.25f + dy[3] * 0.125f;
    z[4] = dy[0] - dy[1] * 2.0f + dy[2] * 4.0f - dy[3] * 8.0f;
    z[5] = dy[3];
  }
  template <class T>
  LAMINA_HD static void gt(const T* dv, T* dk) {
    using S = typename WinogradScalar<T>::type;
    const T p = dv[1] + dv[2], n = dv[1] - dv[2];
    dk[0] = dv[0] + n * S(1.0 / 3) + (dv[4] - dv[3] * 16.0f) * S(1.0 / 15);
    dk[1] = p * S(1.0 / 3) - (dv[3] * 8.0f + dv[4] * 2.0f) * S(1.0 / 15);
    dk[2] = n * S(1.0 / 3) + (dv[4] - dv[3]) * S(4.0 / 15) + dv[5];
  }
};

// out = L in R^T for the 1-D transforms L (on the rows index) and R (on
// the columns index): first every row through R, then every column through L.
template <int I0, int I1, int O0, int O1, class T, class Rows, class Cols>
LAMINA_HD void winograd_2d(const T (&in)[I0][I1], T (&out)[O0][O1], Rows rows, Cols cols) {
  T mid[I0][O1], col[I0], res[O0];
  for (int r = 0; r < I0; ++r) rows(in[r], mid[r]);
  for (int j = 0; j < O1; ++j) {
    for (int r = 0; r < I0; ++r) col[r] = mid[r][j];
    cols(col, res);
    for (int i = 0; i < O0; ++i) out[i][j] = res[i];
  }
}

// u = B^T d B
template <class F, class T>
LAMINA_HD void winograd_input(const T (&d)[F::kIn][F::kIn], T (&u)[F::kIn][F::kIn]) {
  auto f = [](const T* x, T* y) { F::bt(x, y); };
  winograd_2d(d, u, f, f);
}

// v = G g G^T for one 3x3 kernel g (one input/output channel pair).
template <class F, class T>
LAMINA_HD void winograd_filter(const T (&g)[3][3], T (&v)[F::kIn][F::kIn]) {
  auto f = [](const T* x, T* y) { F::g(x, y); };
  winograd_2d(g, v, f, f);
}

// y = A^T m A: the output tile from the products m.
template <class F, class T>
LAMINA_HD void winograd_output(const T (&m)[F::kIn][F::kIn], T (&y)[F::kOut][F::kOut]) {
  auto f = [](const T* x, T* z) { F::at(x, z); };
  winograd_2d(m, y, f, f);
}

// z = A dy A^T: the adjoint of the output transform.
template <class F, class T>
LAMINA_HD void winograd_output_grad(const T (&dy)[F::kOut][F::kOut], T (&z)[F::kIn][F::kIn]) {
  auto f = [](const T* x, T* y) { F::a(x, y); };
  winograd_2d(dy, z, f, f);
}

// dg = G^T dv G: the adjoint of the filter transform.
template <class F, class T>
LAMINA_HD void winograd_filter_grad(const T (&dv)[F::kIn][F::kIn], T (&dg)[3][3]) {
  auto f = [](const T* x, T* y) { F::gt(x, y); };
  winograd_2d(dv, dg, f, f);
}

}  // namespace lamina::kernels
