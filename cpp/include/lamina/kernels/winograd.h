#pragma once
// Winograd F(2x2, 3x3) tile transforms (Lavin & Gray, 2015): a 3x3
// cross-correlation over a 4x4 input tile gives a 2x2 output tile as
//   Y = A^T [(G g G^T) . (B^T d B)] A,
// 16 products per tile and channel pair instead of 36. The transforms only
// add, subtract and halve, so float32 results stay within a few ulps of the
// direct sum. T is float or any vector type with + and - (GCC's __m512).
//
// The kernel's gradient runs the same algorithm backwards (the adjoints):
// dV[xi] = sum over tiles of U[xi] (x) (A dY A^T)[xi], then dg = G^T dV G.
#include "lamina/kernels/macros.h"

namespace lamina::kernels {

// u = B^T d B; d[r][c] is input row r, column c of the tile.
template <class T>
LAMINA_HD void winograd_input_f23(const T d[4][4], T u[4][4]) {
  T e[4][4];  // e = d B: the rows transformed
  for (int r = 0; r < 4; ++r) {
    e[r][0] = d[r][0] - d[r][2];
    e[r][1] = d[r][1] + d[r][2];
    e[r][2] = d[r][2] - d[r][1];
    e[r][3] = d[r][1] - d[r][3];
  }
  for (int j = 0; j < 4; ++j) {
    u[0][j] = e[0][j] - e[2][j];
    u[1][j] = e[1][j] + e[2][j];
    u[2][j] = e[2][j] - e[1][j];
    u[3][j] = e[1][j] - e[3][j];
  }
}

// v = G g G^T for one 3x3 kernel g (one input/output channel pair).
template <class T>
LAMINA_HD void winograd_filter_f23(const T g[3][3], T v[4][4]) {
  T h[4][3];  // h = G g
  for (int b = 0; b < 3; ++b) {
    h[0][b] = g[0][b];
    h[1][b] = (g[0][b] + g[1][b] + g[2][b]) * 0.5f;
    h[2][b] = (g[0][b] - g[1][b] + g[2][b]) * 0.5f;
    h[3][b] = g[2][b];
  }
  for (int i = 0; i < 4; ++i) {
    v[i][0] = h[i][0];
    v[i][1] = (h[i][0] + h[i][1] + h[i][2]) * 0.5f;
    v[i][2] = (h[i][0] - h[i][1] + h[i][2]) * 0.5f;
    v[i][3] = h[i][2];
  }
}

// y = A^T m A: the 2x2 output tile from the 16 products m.
template <class T>
LAMINA_HD void winograd_output_f23(const T m[4][4], T y[2][2]) {
  T s[4], t[4];  // m A, per row: the two output columns
  for (int i = 0; i < 4; ++i) {
    s[i] = m[i][0] + m[i][1] + m[i][2];
    t[i] = m[i][1] - m[i][2] - m[i][3];
  }
  y[0][0] = s[0] + s[1] + s[2];
  y[1][0] = s[1] - s[2] - s[3];
  y[0][1] = t[0] + t[1] + t[2];
  y[1][1] = t[1] - t[2] - t[3];
}

// z = A dy A^T: the adjoint of the output transform, from a 2x2 gradient tile.
template <class T>
LAMINA_HD void winograd_output_grad_f23(const T dy[2][2], T z[4][4]) {
  T r[4][2];  // A dy: the rows combined
  for (int q = 0; q < 2; ++q) {
    r[0][q] = dy[0][q];
    r[1][q] = dy[0][q] + dy[1][q];
    r[2][q] = dy[0][q] - dy[1][q];
    r[3][q] = T{} - dy[1][q];
  }
  for (int i = 0; i < 4; ++i) {
    z[i][0] = r[i][0];
    z[i][1] = r[i][0] + r[i][1];
    z[i][2] = r[i][0] - r[i][1];
    z[i][3] = T{} - r[i][1];
  }
}

// dg = G^T dv G: the adjoint of the filter transform.
template <class T>
LAMINA_HD void winograd_filter_grad_f23(const T dv[4][4], T dg[3][3]) {
  T h[3][4];  // G^T dv
  for (int j = 0; j < 4; ++j) {
    h[0][j] = dv[0][j] + (dv[1][j] + dv[2][j]) * 0.5f;
    h[1][j] = (dv[1][j] - dv[2][j]) * 0.5f;
    h[2][j] = dv[3][j] + (dv[1][j] + dv[2][j]) * 0.5f;
  }
  for (int a = 0; a < 3; ++a) {
    dg[a][0] = h[a][0] + (h[a][1] + h[a][2]) * 0.5f;
    dg[a][1] = (h[a][1] - h[a][2]) * 0.5f;
    dg[a][2] = h[a][3] + (h[a][1] + h[a][2]) * 0.5f;
  }
}

}  // namespace lamina::kernels
