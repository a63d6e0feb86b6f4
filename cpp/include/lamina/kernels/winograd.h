#pragma once
// Winograd F(2x2, 3x3) tile transforms (Lavin & Gray, 2015): a 3x3
// cross-correlation over a 4x4 input tile gives a 2x2 output tile as
//   Y = A^T [(G g G^T) . (B^T d B)] A,
// 16 products per tile and channel pair instead of 36. The transforms only
// add, subtract and halve, so float32 results stay within a few ulps of the
// direct sum. T is float or any vector type with + and - (GCC's __m512).
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

}  // namespace lamina::kernels
