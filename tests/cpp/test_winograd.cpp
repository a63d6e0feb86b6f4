// Winograd F(2x2, 3x3) and F(4x4, 3x3): the tile transforms of
// lamina/kernels/winograd.h in double (a tile equals the direct
// cross-correlation; the gradient transforms are the adjoints of the forward
// ones), and the float32 convolutions that use them (conv_winograd.cpp) run
// forward and backward under the sanitizers on odd sizes, against the
// float64 im2col path.
#include <algorithm>
#include <cmath>
#include <random>

#include "check.h"
#include "lamina/autograd.h"
#include "lamina/kernels/winograd.h"
#include "lamina/nn.h"
#include "lamina/threads.h"

using namespace lamina;
using namespace lamina::kernels;

template <int R, int C>
static void fill(double (&a)[R][C], std::mt19937& gen) {
  std::normal_distribution<double> n;
  for (auto& row : a)
    for (double& v : row) v = n(gen);
}

template <int R, int C>
static double dot(const double (&a)[R][C], const double (&b)[R][C]) {
  double s = 0;
  for (int i = 0; i < R; ++i)
    for (int j = 0; j < C; ++j) s += a[i][j] * b[i][j];
  return s;
}

template <class F>
static void check_tile_algebra(uint32_t seed) {
  constexpr int A = F::kIn, M = F::kOut;
  std::mt19937 gen(seed);
  double d[A][A], g[3][3], u[A][A], v[A][A], m[A][A], y[M][M];
  fill(d, gen);
  fill(g, gen);
  winograd_input<F>(d, u);
  winograd_filter<F>(g, v);
  for (int i = 0; i < A; ++i)
    for (int j = 0; j < A; ++j) m[i][j] = u[i][j] * v[i][j];
  winograd_output<F>(m, y);
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < M; ++j) {
      double ref = 0;
      for (int a = 0; a < 3; ++a)
        for (int b = 0; b < 3; ++b) ref += d[i + a][j + b] * g[a][b];
      CHECK_NEAR(y[i][j], ref, 1e-11);
    }
  // <output(m), dy> = <m, output_grad(dy)> and <filter(g), dv> = <g, filter_grad(dv)>.
  double dy[M][M], z[A][A], dv[A][A], dg[3][3];
  fill(dy, gen);
  fill(dv, gen);
  winograd_output_grad<F>(dy, z);
  winograd_filter_grad<F>(dv, dg);
  CHECK_NEAR(dot(y, dy), dot(m, z), 1e-11);
  CHECK_NEAR(dot(v, dv), dot(g, dg), 1e-11);
}

TEST(winograd_f23_tile_algebra) { check_tile_algebra<WinogradF23>(1); }
TEST(winograd_f43_tile_algebra) { check_tile_algebra<WinogradF43>(2); }

static Tensor rnd32(const Shape& s, uint64_t seed) {
  Tensor t = contiguous(random_normal(s, 0, 1, Dtype::Float32, seed, 0));
  t.set_requires_grad(true);
  return t;
}

static double max_diff(const Tensor& a, const Tensor& b) {
  Tensor x = contiguous(cast(a, Dtype::Float64)), y = contiguous(cast(b, Dtype::Float64));
  double m = 0;
  for (int64_t i = 0; i < x.size(); ++i)
    m = std::max(m, std::fabs(x.data<double>()[i] - y.data<double>()[i]));
  return m;
}

// Odd images (cut edge tiles), small ones (pooled across images), channel
// counts with a masked tail, both paddings; forward, dx and dw.
TEST(winograd_conv_matches_float64) {
  set_num_threads(2);
  struct Case {
    Shape x, w;
    const char* pad;
  } cases[] = {{{3, 9, 7, 24}, {3, 3, 24, 32}, "same"},
               {{9, 6, 5, 16}, {3, 3, 16, 16}, "valid"},
               {{2, 17, 15, 32}, {3, 3, 32, 16}, "same"}};
  uint64_t seed = 10;
  for (const Case& c : cases) {
    Tensor x = rnd32(c.x, seed++), w = rnd32(c.w, seed++);
    Tensor x64 = detach(cast(x, Dtype::Float64)), w64 = detach(cast(w, Dtype::Float64));
    x64.set_requires_grad(true);
    w64.set_requires_grad(true);
    Tensor y = conv2d(x, w, {1, 1}, c.pad, {1, 1}, 1);
    Tensor y64 = conv2d(x64, w64, {1, 1}, c.pad, {1, 1}, 1);
    Tensor gy = contiguous(random_normal(y.shape(), 0, 1, Dtype::Float32, seed++, 0));
    backward(sum(multiply(y, gy)), Tensor(), false);
    backward(sum(multiply(y64, cast(gy, Dtype::Float64))), Tensor(), false);
    CHECK(max_diff(y, y64) < 2e-4);
    CHECK(max_diff(x.grad(), x64.grad()) < 2e-4);
    CHECK(max_diff(w.grad(), w64.grad()) < 2e-3);
  }
}

TEST_MAIN()
