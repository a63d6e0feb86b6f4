// Winograd F(m x m, 3x3) float32 convolution over NHWC images (AVX-512),
// m = 2 or 4.
//
// A 3x3 stride-1 convolution costs 9 m^2 multiply-adds per m x m output tile
// and channel pair; in the Winograd domain it is (m+2)^2 (2.25x fewer for
// m = 2, 4x for m = 4), plus transforms that add and scale. Per image and
// band of tile rows:
//   1. the zero-padded image (NHWC, one copy) is cut into overlapping
//      (m+2)^2 tiles, each transformed to (m+2)^2 values per channel, 16
//      channels a vector: U[xi][tile][cin];
//   2. (m+2)^2 independent products M[xi] = U[xi] (tiles x cin) V[xi]
//      (cin x fout), register-blocked like the direct kernel (runs of tiles x
//      16-channel vectors of outputs), the kernel transformed once per call;
//   3. each tile's products give its m x m outputs.
// The band keeps U and M within the core's L2, so the transformed data never
// goes to memory. The per-tile math is in lamina/kernels/winograd.h.
#include "cpu/conv_winograd.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

#include "lamina/kernels/winograd.h"
#include "lamina/threads.h"

#if defined(__AVX512F__)
#include "cpu/conv_tiles.h"
#endif

namespace lamina::cpu {

#if defined(__AVX512F__)

namespace {

using conv_tiles::kLanes;
using kernels::WinogradF23;
using kernels::WinogradF43;

// m[p][fb..] = sum over c of u[p][c] * v[c][fb..] for P tiles and FV vectors
// of output channels; u's tiles are cin floats apart.
template <int P, int FV>
void gemm_tile(const float* u, int64_t cin, const float* v, int64_t fout, float* m) {
  __m512 acc[P][FV];
#pragma GCC unroll 32
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
    for (int f = 0; f < FV; ++f) acc[p][f] = _mm512_setzero_ps();
  for (int64_t c = 0; c < cin; ++c, ++u, v += fout) {
    __m512 wv[FV];
#pragma GCC unroll 4
    for (int f = 0; f < FV; ++f) wv[f] = _mm512_loadu_ps(v + kLanes * f);
#pragma GCC unroll 32
    for (int p = 0; p < P; ++p) {
      __m512 b = _mm512_set1_ps(u[p * cin]);
#pragma GCC unroll 4
      for (int f = 0; f < FV; ++f) acc[p][f] = _mm512_fmadd_ps(b, wv[f], acc[p][f]);
    }
  }
#pragma GCC unroll 32
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
    for (int f = 0; f < FV; ++f) _mm512_storeu_ps(m + p * fout + f * kLanes, acc[p][f]);
}

using GemmTile = void (*)(const float*, int64_t, const float*, int64_t, float*);

// Runs of up to max_run(FV) tiles, as in the direct kernel.
using conv_tiles::max_run;

template <int FV, int... I>
constexpr std::array<GemmTile, sizeof...(I)> gemm_tiles(std::integer_sequence<int, I...>) {
  return {&gemm_tile<I + 1, FV>...};
}

GemmTile gemm_kernel(int fv, int p) {
  static constexpr auto t1 = gemm_tiles<1>(std::make_integer_sequence<int, max_run(1)>());
  static constexpr auto t2 = gemm_tiles<2>(std::make_integer_sequence<int, max_run(2)>());
  return fv == 2 ? t2[p - 1] : t1[p - 1];
}

// The problem: input (h, w, cin) at (top, left) of a zero grid, output
// (oh, ow, fout) in tiles of m x m.
struct Geometry {
  int64_t h, w, cin, top, left, oh, ow, fout, m;
  int64_t th() const { return (oh + m - 1) / m; }
  int64_t tw() const { return (ow + m - 1) / m; }
  // Every tile reads m + 2 grid rows/columns from m * its index.
  int64_t gh() const { return m * th() + 2; }
  int64_t gw() const { return m * tw() + 2; }
  int64_t xi() const { return (m + 2) * (m + 2); }  // products per tile
};

// Tile rows per band: U and M of a band within ~512 KB (half a core's L2).
int64_t band_rows(const Geometry& g) {
  const int64_t per_row = g.tw() * g.xi() * (g.cin + g.fout);
  // Smaller bands (down to L1 size) measured the same with F(2x2): the
  // products are bound by their broadcasts, not by where U and M sit.
  return std::clamp<int64_t>((int64_t{128} << 10) / per_row, 1, g.th());
}

struct Scratch {
  std::vector<float> grid, u, m;
};

// The image into the zero grid; only the data positions are written, so the
// padding stays as the first resize zeroed it.
void fill_grid(const float* img, const Geometry& g, std::vector<float>& grid) {
  if (grid.empty()) grid.assign(g.gh() * g.gw() * g.cin, 0.0f);
  const int64_t rows = std::min(g.h, g.gh() - g.top), cols = std::min(g.w, g.gw() - g.left);
  for (int64_t y = 0; y < rows; ++y)
    std::memcpy(grid.data() + ((y + g.top) * g.gw() + g.left) * g.cin, img + y * g.w * g.cin,
                cols * g.cin * sizeof(float));
}

// p + i * stride for i = 0, 1, ...: one add per access. The empty asm hides
// the pointer's value from the optimiser, which would otherwise hoist all
// (m+2)^2 addresses of a tile out of the loop and spill most of them.
struct Strided {
  const float* p;
  int64_t stride;
  const float* next() {
    const float* q = p;
    p += stride;
    asm("" : "+r"(p));
    return q;
  }
};

__mmask16 tail_mask(int64_t left) { return left >= kLanes ? 0xFFFF : (1u << left) - 1; }

// Floats between the (m+2)^2 products' matrices of a band: one cache line
// more than the rows need, so a tile's values fall in different L1 sets (a
// multiple of 4 KB apart they would all compete for one).
int64_t xi_stride(int64_t rows) { return (rows + kLanes - 1) / kLanes * kLanes + kLanes; }

// U[xi][t][c] (xi su floats apart) for the band's tiles (tile rows r0..r1).
// Full: cin is a multiple of 16, so every access is a whole vector (a
// constant mask compiles to the plain instructions).
template <class WF, bool Full>
void input_tiles(const float* grid, const Geometry& g, int64_t r0, int64_t r1, int64_t su,
                 float* u) {
  constexpr int A = WF::kIn, M = WF::kOut;
  const int64_t gw = g.gw(), cin = g.cin;
  for (int64_t ty = r0; ty < r1; ++ty)
    for (int64_t tx = 0; tx < g.tw(); ++tx) {
      const int64_t t = (ty - r0) * g.tw() + tx;
      const float* src = grid + (M * ty * gw + M * tx) * cin;
      for (int64_t c = 0; c < cin; c += kLanes) {
        const __mmask16 k = Full ? 0xFFFF : tail_mask(cin - c);
        __m512 d[A][A], e[A][A];
        for (int r = 0; r < A; ++r) {
          Strided in{src + r * gw * cin + c, cin};
          for (int q = 0; q < A; ++q) d[r][q] = _mm512_maskz_loadu_ps(k, in.next());
        }
        kernels::winograd_input<WF>(d, e);
        Strided out{u + t * cin + c, su};
        for (int i = 0; i < A; ++i)
          for (int j = 0; j < A; ++j)
            _mm512_mask_storeu_ps(const_cast<float*>(out.next()), k, e[i][j]);
      }
    }
}

// M[xi] = U[xi] V[xi] for the band's ntb tiles, in equal runs.
void products(const float* u, int64_t su, const float* v, const Geometry& g, int64_t ntb,
              int64_t sm, float* m) {
  const int fv = g.fout % 32 == 0 ? 2 : 1;
  const int64_t runs = (ntb + max_run(fv) - 1) / max_run(fv);
  const int64_t base = ntb / runs, longer = ntb % runs;
  for (int xi = 0; xi < g.xi(); ++xi)
    for (int64_t fb = 0; fb < g.fout; fb += fv * kLanes)
      for (int64_t k = 0, t = 0; k < runs; ++k) {
        const int p = static_cast<int>(base + (k < longer));
        gemm_kernel(fv, p)(u + xi * su + t * g.cin, g.cin, v + xi * g.cin * g.fout + fb, g.fout,
                           m + xi * sm + t * g.fout + fb);
        t += p;
      }
}

// The band's m x m output tiles from M into y (the image's NHWC output).
template <class WF>
void output_tiles(const float* m, int64_t sm, const Geometry& g, int64_t r0, int64_t r1,
                  float* y) {
  constexpr int A = WF::kIn, M = WF::kOut;
  const int64_t F = g.fout;
  for (int64_t ty = r0; ty < r1; ++ty)
    for (int64_t tx = 0; tx < g.tw(); ++tx) {
      const int64_t t = (ty - r0) * g.tw() + tx;
      // The tile's pixels inside the output (edge tiles are cut).
      const int rows = static_cast<int>(std::min<int64_t>(M, g.oh - M * ty));
      const int cols = static_cast<int>(std::min<int64_t>(M, g.ow - M * tx));
      float* dst = y + (M * ty * g.ow + M * tx) * F;
      for (int64_t f = 0; f < F; f += kLanes) {
        __m512 p[A][A], o[M][M];
        Strided in{m + t * F + f, sm};
        for (int i = 0; i < A; ++i)
          for (int j = 0; j < A; ++j) p[i][j] = _mm512_loadu_ps(in.next());
        kernels::winograd_output<WF>(p, o);
        for (int i = 0; i < rows; ++i)
          for (int j = 0; j < cols; ++j) _mm512_storeu_ps(dst + (i * g.ow + j) * F + f, o[i][j]);
      }
    }
}

// V[xi][c][f] from k [3][3][cin][fout], 16 (c, f) pairs a vector (fout is a
// multiple of 16), split over the pool: a single thread would leave the
// other idle for ~10% of a small image's convolution.
template <class WF>
std::vector<float> filter_tiles(const float* k, int64_t cin, int64_t fout) {
  constexpr int A = WF::kIn;
  const int64_t cf = cin * fout;
  std::vector<float> v(A * A * cf);
  parallel_for(cf / kLanes, 16, [&](int64_t b0, int64_t b1) {
    for (int64_t i = b0 * kLanes; i < b1 * kLanes; i += kLanes) {
      __m512 a[3][3], b[A][A];
      for (int r = 0; r < 3; ++r)
        for (int q = 0; q < 3; ++q) a[r][q] = _mm512_loadu_ps(k + (r * 3 + q) * cf + i);
      kernels::winograd_filter<WF>(a, b);
      for (int r = 0; r < A; ++r)
        for (int q = 0; q < A; ++q) _mm512_storeu_ps(v.data() + (r * A + q) * cf + i, b[r][q]);
    }
  });
  return v;
}

// Tiles of U from the grid (tile rows r0..r1) after tile t0 of the band.
template <class WF>
void transform_input(const Geometry& g, int64_t r0, int64_t r1, int64_t su, int64_t t0,
                     Scratch& s) {
  float* u = s.u.data() + t0 * g.cin;
  if (g.cin % kLanes == 0)
    input_tiles<WF, true>(s.grid.data(), g, r0, r1, su, u);
  else
    input_tiles<WF, false>(s.grid.data(), g, r0, r1, su, u);
}

// Images per group: a small image's tiles are pooled with the next images'
// into one band (8x8 in 4x4 tiles is 4 tiles; 7 images give the products
// runs of 14), a large image is cut into bands instead.
int64_t group_size(const Geometry& g) {
  const int64_t tiles = g.th() * g.tw();
  return band_rows(g) < g.th() ? 1 : std::max<int64_t>(1, 28 / tiles);
}

// Calls fn(band tiles, r0, r1) for each band of `count` images (count > 1:
// whole images pooled, r0..r1 all tile rows), with U and M (or Z) sized.
template <class Fn>
void for_bands(const Geometry& g, int64_t count, Scratch& s, int64_t& su, int64_t& sm, Fn&& fn) {
  const int64_t rows = band_rows(g);
  const int64_t most = count > 1 ? count * g.th() * g.tw() : rows * g.tw();
  su = xi_stride(most * g.cin);
  sm = xi_stride(most * g.fout);
  s.u.resize(g.xi() * su);
  s.m.resize(g.xi() * sm);
  if (count > 1) return fn(most, int64_t{0}, g.th());
  for (int64_t r0 = 0; r0 < g.th(); r0 += rows) {
    const int64_t r1 = std::min(r0 + rows, g.th());
    fn((r1 - r0) * g.tw(), r0, r1);
  }
}

// y of `count` images (count > 1 only for whole-image bands).
template <class WF>
void image_group(const float* x, int64_t count, const float* v, const Geometry& g, Scratch& s,
                 float* y) {
  const int64_t in = g.h * g.w * g.cin, out = g.oh * g.ow * g.fout, tpi = g.th() * g.tw();
  int64_t su, sm;
  for_bands(g, count, s, su, sm, [&](int64_t ntb, int64_t r0, int64_t r1) {
    for (int64_t k = 0; k < count; ++k) {
      fill_grid(x + k * in, g, s.grid);
      transform_input<WF>(g, r0, r1, su, k * tpi, s);
    }
    products(s.u.data(), su, v, g, ntb, sm, s.m.data());
    for (int64_t k = 0; k < count; ++k)
      output_tiles<WF>(s.m.data() + k * tpi * g.fout, sm, g, r0, r1, y + k * out);
  });
}

// ---- dw: the same algorithm backwards -------------------------------------

// Z[xi][t][f] = A dY_t A^T (xi sz floats apart) for the band's tiles; dY's
// pixels past the output's edge are zero.
template <class WF>
void grad_tiles(const float* dy, const Geometry& g, int64_t r0, int64_t r1, int64_t sz, float* z) {
  constexpr int A = WF::kIn, M = WF::kOut;
  const int64_t F = g.fout;
  for (int64_t ty = r0; ty < r1; ++ty)
    for (int64_t tx = 0; tx < g.tw(); ++tx) {
      const int64_t t = (ty - r0) * g.tw() + tx;
      const int64_t rows = std::min<int64_t>(M, g.oh - M * ty);
      const int64_t cols = std::min<int64_t>(M, g.ow - M * tx);
      const float* src = dy + (M * ty * g.ow + M * tx) * F;
      for (int64_t f = 0; f < F; f += kLanes) {
        __m512 d[M][M], o[A][A];
        for (int i = 0; i < M; ++i)
          for (int j = 0; j < M; ++j)
            d[i][j] = i < rows && j < cols ? _mm512_loadu_ps(src + (i * g.ow + j) * F + f)
                                           : _mm512_setzero_ps();
        kernels::winograd_output_grad<WF>(d, o);
        Strided out{z + t * F + f, sz};
        for (int i = 0; i < A; ++i)
          for (int j = 0; j < A; ++j) _mm512_storeu_ps(const_cast<float*>(out.next()), o[i][j]);
      }
    }
}

// dv[k][f] += sum over a band's tiles of u[t][k] * z[t][f]: the direct dw's
// kernel over one row of ntb "pixels" (u's rows cin floats apart, z's fout).
using DvBlock = void (*)(const float*, int64_t, int64_t, int64_t, const float*, int64_t, int64_t,
                         int64_t, float*);

template <int FV, int... I>
constexpr std::array<DvBlock, sizeof...(I)> dv_blocks(std::integer_sequence<int, I...>) {
  return {&conv_tiles::outer_sums<I + 1, FV>...};
}

// The kernel for cb channels (1 <= cb <= max_run(fv)).
DvBlock dv_kernel(int fv, int cb) {
  static constexpr auto t1 = dv_blocks<1>(std::make_integer_sequence<int, max_run(1)>());
  static constexpr auto t2 = dv_blocks<2>(std::make_integer_sequence<int, max_run(2)>());
  return fv == 2 ? t2[cb - 1] : t1[cb - 1];
}

// dV[xi] += U[xi]^T Z[xi] over one band's ntb tiles.
void dv_products(const float* u, int64_t su, const float* z, int64_t sz, const Geometry& g,
                 int64_t ntb, float* dv) {
  const int fv = g.fout % 32 == 0 ? 2 : 1;
  for (int xi = 0; xi < g.xi(); ++xi)
    for (int64_t c0 = 0; c0 < g.cin; c0 += max_run(fv)) {
      const int cb = static_cast<int>(std::min<int64_t>(max_run(fv), g.cin - c0));
      for (int64_t fb = 0; fb < g.fout; fb += fv * kLanes)
        dv_kernel(fv, cb)(u + xi * su + c0, 0, g.cin, 0, z + xi * sz + fb, 1, ntb, g.fout,
                          dv + (xi * g.cin + c0) * g.fout + fb);
    }
}

// dV += the sums of `count` images (count > 1 only for whole-image bands).
template <class WF>
void dv_group(const float* x, const float* dy, int64_t count, const Geometry& g, Scratch& s,
              float* dv) {
  const int64_t in = g.h * g.w * g.cin, out = g.oh * g.ow * g.fout, tpi = g.th() * g.tw();
  int64_t su, sz;
  for_bands(g, count, s, su, sz, [&](int64_t ntb, int64_t r0, int64_t r1) {
    for (int64_t k = 0; k < count; ++k) {
      fill_grid(x + k * in, g, s.grid);
      transform_input<WF>(g, r0, r1, su, k * tpi, s);
      grad_tiles<WF>(dy + k * out, g, r0, r1, sz, s.m.data() + k * tpi * g.fout);
    }
    dv_products(s.u.data(), su, s.m.data(), sz, g, ntb, dv);
  });
}

// dw [3][3][cin][fout] = G^T dV G per channel pair, 16 pairs a vector.
template <class WF>
void filter_grads(const float* dv, int64_t cin, int64_t fout, float* dw) {
  constexpr int A = WF::kIn;
  const int64_t cf = cin * fout;
  for (int64_t i = 0; i < cf; i += kLanes) {
    __m512 a[A][A], b[3][3];
    for (int r = 0; r < A; ++r)
      for (int q = 0; q < A; ++q) a[r][q] = _mm512_loadu_ps(dv + (r * A + q) * cf + i);
    kernels::winograd_filter_grad<WF>(a, b);
    for (int r = 0; r < 3; ++r)
      for (int q = 0; q < 3; ++q) _mm512_storeu_ps(dw + (r * 3 + q) * cf + i, b[r][q]);
  }
}

}  // namespace

bool winograd_applies(int64_t kh, int64_t kw, int64_t cin, int64_t fout, int64_t top,
                      int64_t left) {
  // Below 16 input channels the transforms cost more than the products save
  // (W3's first layer, 3 channels, stays direct); at 16 each way Winograd
  // measured 1.6x the direct kernel, forward and backward.
  return kh == 3 && kw == 3 && cin >= 16 && fout % kLanes == 0 && top >= 0 && left >= 0;
}

namespace {

// F(4x4, 3x3) where its tiles need fewer products than F(2x2, 3x3)'s (edge
// tiles partly compute padding); on a tie the more exact F(2x2, 3x3).
bool large_tiles(int64_t oh, int64_t ow) {
  auto tiles = [](int64_t n, int64_t m) { return (n + m - 1) / m; };
  return tiles(oh, 4) * tiles(ow, 4) * 36 < tiles(oh, 2) * tiles(ow, 2) * 16;
}

template <class WF>
void forward(const float* x, int64_t n, const Geometry& g, const float* k, float* y) {
  const std::vector<float> v = filter_tiles<WF>(k, g.cin, g.fout);
  parallel_for(n, 1, [&](int64_t n0, int64_t n1) {
    Scratch s;
    for (int64_t i = n0, step = group_size(g); i < n1; i += step)
      image_group<WF>(x + i * g.h * g.w * g.cin, std::min(step, n1 - i), v.data(), g, s,
                      y + i * g.oh * g.ow * g.fout);
  });
}

template <class WF>
void kernel_grad(const float* x, const float* dy, int64_t n, const Geometry& g, float* dw) {
  const int64_t cf = g.cin * g.fout;
  std::vector<std::pair<int64_t, std::vector<float>>> partials;  // (first image, dV)
  std::mutex mu;
  parallel_for(n, 1, [&](int64_t n0, int64_t n1) {
    Scratch s;
    std::vector<float> dv(g.xi() * cf, 0.0f);
    for (int64_t i = n0, step = group_size(g); i < n1; i += step)
      dv_group<WF>(x + i * g.h * g.w * g.cin, dy + i * g.oh * g.ow * g.fout,
                   std::min(step, n1 - i), g, s, dv.data());
    std::lock_guard<std::mutex> lock(mu);
    partials.emplace_back(n0, std::move(dv));
  });
  // Added in image order, so a run's result does not depend on which thread
  // finished first.
  std::sort(partials.begin(), partials.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<float>& dv = partials[0].second;
  for (size_t p = 1; p < partials.size(); ++p)
    for (int64_t i = 0; i < g.xi() * cf; ++i) dv[i] += partials[p].second[i];
  filter_grads<WF>(dv.data(), g.cin, g.fout, dw);
}

}  // namespace

void conv3x3_winograd(const float* x, int64_t n, int64_t h, int64_t w, int64_t cin, int64_t top,
                      int64_t left, const float* k, int64_t fout, int64_t oh, int64_t ow,
                      float* y) {
  if (n == 0 || oh == 0 || ow == 0) return;  // no output to write
  if (large_tiles(oh, ow))
    return forward<WinogradF43>(x, n, {h, w, cin, top, left, oh, ow, fout, 4}, k, y);
  forward<WinogradF23>(x, n, {h, w, cin, top, left, oh, ow, fout, 2}, k, y);
}

void conv3x3_winograd_dw(const float* x, const float* dy, int64_t n, int64_t h, int64_t w,
                         int64_t cin, int64_t top, int64_t left, int64_t fout, int64_t oh,
                         int64_t ow, float* dw) {
  if (n == 0 || oh == 0 || ow == 0) return (void)std::fill(dw, dw + 9 * cin * fout, 0.0f);
  if (large_tiles(oh, ow))
    return kernel_grad<WinogradF43>(x, dy, n, {h, w, cin, top, left, oh, ow, fout, 4}, dw);
  kernel_grad<WinogradF23>(x, dy, n, {h, w, cin, top, left, oh, ow, fout, 2}, dw);
}

#else  // no AVX-512: never chosen

bool winograd_applies(int64_t, int64_t, int64_t, int64_t, int64_t, int64_t) { return false; }

void conv3x3_winograd(const float*, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                      const float*, int64_t, int64_t, int64_t, float*) {}

void conv3x3_winograd_dw(const float*, const float*, int64_t, int64_t, int64_t, int64_t, int64_t,
                         int64_t, int64_t, int64_t, int64_t, float*) {}

#endif

}  // namespace lamina::cpu
