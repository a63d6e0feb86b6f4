// Direct stride-1 convolution, forward and both gradients, for float32 NHWC.
// 3x3 windows with 16+ channels are handed to Winograd (conv_winograd.cpp).
//
// Forward (and dx, which is the forward convolution of the zero-padded dy with
// the flipped, transposed kernel) works on one zero-padded image at a time,
// stored channel-planar, so a run of P pixels of one output row reads P
// consecutive floats of each plane for every tap: the micro-kernel broadcasts
// them at constant offsets and accumulates P x (FV x 16) outputs in
// registers. A row is cut into equal runs of at most 28 / FV pixels, one
// micro-kernel instance per run length, so no padding pixel is computed.
//
// dw sums x-tap times dy over every pixel: the image is padded in NHWC, a
// block of CB input channels is broadcast per pixel against FV vectors of dy,
// and the CB x FV accumulators stay in registers for the whole image.
#include "cpu/conv_direct.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

#include "cpu/conv_winograd.h"
#include "lamina/threads.h"

#if defined(__AVX512F__)
#include "cpu/conv_tiles.h"
#endif

namespace lamina::cpu {

#if defined(__AVX512F__)

namespace {

using conv_tiles::kLanes;

// P pixels x FV*16 output channels of one run into out (NHWC, at the run's
// first pixel and channel). a: the planes at the run's first pixel; toff: tap
// offsets in pixels; w: [tap][cin][fout] at the run's first output channel.
template <int P, int FV>
void run_tile(const float* a, int64_t qs, int64_t cin, const int64_t* toff, int ntap,
              const float* w, int64_t fout, float* out) {
  __m512 acc[P][FV];
#pragma GCC unroll 32
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
    for (int v = 0; v < FV; ++v) acc[p][v] = _mm512_setzero_ps();
  for (int t = 0; t < ntap; ++t) {
    const float* at = a + toff[t];
    const float* wt = w + t * cin * fout;
    for (int64_t c = 0; c < cin; ++c, at += qs, wt += fout) {
      __m512 wv[FV];
#pragma GCC unroll 4
      for (int v = 0; v < FV; ++v) wv[v] = _mm512_loadu_ps(wt + kLanes * v);
#pragma GCC unroll 32
      for (int p = 0; p < P; ++p) {
        __m512 b = _mm512_set1_ps(at[p]);
#pragma GCC unroll 4
        for (int v = 0; v < FV; ++v) acc[p][v] = _mm512_fmadd_ps(b, wv[v], acc[p][v]);
      }
    }
  }
#pragma GCC unroll 32
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
    for (int v = 0; v < FV; ++v) _mm512_storeu_ps(out + p * fout + v * kLanes, acc[p][v]);
}

using RunTile = void (*)(const float*, int64_t, int64_t, const int64_t*, int, const float*,
                         int64_t, float*);

// Register blocking by output channels: runs of up to max_run(FV) pixels.
using conv_tiles::max_run;

template <int FV, int... I>
constexpr std::array<RunTile, sizeof...(I)> run_tiles(std::integer_sequence<int, I...>) {
  return {&run_tile<I + 1, FV>...};
}

// The micro-kernel for runs of p pixels (1 <= p <= max_run(fv)).
RunTile run_kernel(int fv, int p) {
  static constexpr auto t1 = run_tiles<1>(std::make_integer_sequence<int, max_run(1)>());
  static constexpr auto t2 = run_tiles<2>(std::make_integer_sequence<int, max_run(2)>());
  return fv == 2 ? t2[p - 1] : t1[p - 1];
}

// A zero-padded image in planes, as the window slides over it. Input row y
// starts at grid row y + top, column `left`; between the data of two rows lie
// ws - w_in zero columns, shared as the right padding of one row and the left
// padding of the next, so the grid is only max(left, right) wider than the
// input and few virtual pixels are wasted.
struct Planes {
  int64_t ws = 0, qs = 0;  // grid width, floats per plane
  std::vector<float> buf;
};

void size_planes(Planes& pl, int64_t c, int64_t h_in, int64_t w_in, int64_t top, int64_t left,
                 int64_t h_out, int64_t w_out, int64_t span_h, int64_t span_w) {
  if (!pl.buf.empty()) return;
  const int64_t right = std::max<int64_t>(0, w_out + span_w - 1 - left - w_in);
  pl.ws = std::max(w_in + std::max(left, right), w_out);
  const int64_t hs = std::max(h_out + span_h - 1, top + h_in);
  // Every read of the runs: the last output pixel plus the furthest tap.
  const int64_t reads = h_out * pl.ws + (span_h - 1) * pl.ws + span_w;
  pl.qs = std::max(hs * pl.ws, reads) + kLanes;
  pl.buf.resize(pl.qs * c);
}

// Every lane kept: the zero-masked forms are the same instructions, without
// GCC 12's false -Wuninitialized on the unmasked forms' undefined operand.
constexpr __mmask16 kAll16 = 0xFFFF;
constexpr __mmask8 kAll8 = 0xFF;

// dst rows j = src columns j of a 16 x 16 block: 32-bit interleaves, then
// 64-bit ones (each 128-bit lane holds one column for 4 rows), then two
// rounds of lane shuffles put the four row groups of a column side by side.
void transpose16(const float* src, int64_t lds, float* dst, int64_t ldd) {
  __m512 r[16], t[16], u[16];
  for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(src + i * lds);
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_maskz_unpacklo_ps(kAll16, r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_maskz_unpackhi_ps(kAll16, r[2 * i], r[2 * i + 1]);
  }
  auto lo = [](__m512 a, __m512 b) {
    return _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(kAll8, _mm512_castps_pd(a), _mm512_castps_pd(b)));
  };
  auto hi = [](__m512 a, __m512 b) {
    return _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(kAll8, _mm512_castps_pd(a), _mm512_castps_pd(b)));
  };
  for (int g = 0; g < 4; ++g) {  // u[4g + m]: lane l = column 4l + m of rows 4g..4g+3
    u[4 * g] = lo(t[4 * g], t[4 * g + 2]);
    u[4 * g + 1] = hi(t[4 * g], t[4 * g + 2]);
    u[4 * g + 2] = lo(t[4 * g + 1], t[4 * g + 3]);
    u[4 * g + 3] = hi(t[4 * g + 1], t[4 * g + 3]);
  }
  for (int m = 0; m < 4; ++m) {
    __m512 va = _mm512_maskz_shuffle_f32x4(kAll16, u[m], u[4 + m], 0x44), vb = _mm512_maskz_shuffle_f32x4(kAll16, u[m], u[4 + m], 0xEE);
    __m512 wa = _mm512_maskz_shuffle_f32x4(kAll16, u[8 + m], u[12 + m], 0x44);
    __m512 wb = _mm512_maskz_shuffle_f32x4(kAll16, u[8 + m], u[12 + m], 0xEE);
    _mm512_storeu_ps(dst + m * ldd, _mm512_maskz_shuffle_f32x4(kAll16, va, wa, 0x88));
    _mm512_storeu_ps(dst + (4 + m) * ldd, _mm512_maskz_shuffle_f32x4(kAll16, va, wa, 0xDD));
    _mm512_storeu_ps(dst + (8 + m) * ldd, _mm512_maskz_shuffle_f32x4(kAll16, vb, wb, 0x88));
    _mm512_storeu_ps(dst + (12 + m) * ldd, _mm512_maskz_shuffle_f32x4(kAll16, vb, wb, 0xDD));
  }
}

// img (h, w, c) NHWC into the planes at (top, left). Only data positions are
// written: the padding stays as size_planes zeroed it.
void fill_planes(const float* img, int64_t h, int64_t w, int64_t c, int64_t top, int64_t left,
                 Planes& pl) {
  const int64_t full = c % kLanes == 0 ? w / kLanes * kLanes : 0;
  for (int64_t y = 0; y < h; ++y) {
    float* row = pl.buf.data() + (y + top) * pl.ws + left;
    const float* src = img + y * w * c;
    for (int64_t x = 0; x < full; x += kLanes)
      for (int64_t k = 0; k < c; k += kLanes)
        transpose16(src + x * c + k, c, row + k * pl.qs + x, pl.qs);
    for (int64_t x = full; x < w; ++x)
      for (int64_t k = 0; k < c; ++k) row[k * pl.qs + x] = src[x * c + k];
  }
}

// The h_out x w_out output of pl convolved with w ([ntap][cin][fout]) into
// dst (NHWC), one row at a time in equal runs.
void conv_planes(const Planes& pl, int fv, int64_t cin, const std::vector<int64_t>& toff,
                 const float* w, int64_t fout, int64_t h_out, int64_t w_out, float* dst) {
  const int64_t runs = (w_out + max_run(fv) - 1) / max_run(fv);
  const int64_t base = w_out / runs, longer = w_out % runs;  // the first `longer` get one more
  const int ntap = static_cast<int>(toff.size());
  for (int64_t r = 0; r < h_out; ++r) {
    for (int64_t k = 0, col = 0; k < runs; ++k) {
      const int p = static_cast<int>(base + (k < longer));
      const RunTile kernel = run_kernel(fv, p);
      for (int64_t fb = 0; fb < fout; fb += fv * kLanes)
        kernel(pl.buf.data() + r * pl.ws + col, pl.qs, cin, toff.data(), ntap, w + fb, fout,
               dst + (r * w_out + col) * fout + fb);
      col += p;
    }
  }
}

// Output-channel vectors per micro-kernel; 0: no multiple of 16 channels.
// Two vectors (runs of up to 14 pixels) measured faster than four (runs of
// up to 7) even for 64 channels: longer runs share each kernel vector more.
int tile_fv(int64_t fout) { return fout % 32 == 0 ? 2 : fout % 16 == 0 ? 1 : 0; }

std::vector<int64_t> tap_offsets(const Window2d& g, int64_t ws) {
  std::vector<int64_t> off;
  for (int64_t i = 0; i < g.kh; ++i)
    for (int64_t j = 0; j < g.kw; ++j) off.push_back(i * g.dh * ws + j * g.dw);
  return off;
}

int64_t span(int64_t k, int64_t d) { return (k - 1) * d + 1; }

// Parallel over images; each thread keeps one scratch state for its images.
template <class State, class Fn>
void per_image(int64_t n, Fn&& fn) {
  parallel_for(n, 1, [&](int64_t n0, int64_t n1) {
    State s;
    for (int64_t i = n0; i < n1; ++i) fn(s, i);
  });
}

bool applies(const Tensor& x, const Window2d& g) {
  // Images are the unit of parallel work: fewer images than threads would
  // leave a thread idle, where im2col splits by rows instead.
  return x.dtype() == Dtype::Float32 && g.sh == 1 && g.sw == 1 && g.n >= get_num_threads();
}

// ---- forward ---------------------------------------------------------------

// 3x3 undilated windows with enough channels go through Winograd
// (conv_winograd.cpp).
bool winograd(const Window2d& g, int64_t cin, int64_t fout, int64_t top, int64_t left) {
  return g.dh == 1 && g.dw == 1 && winograd_applies(g.kh, g.kw, cin, fout, top, left);
}

void forward(const float* x, const float* w, const Window2d& g, int64_t F, int fv, float* y) {
  if (winograd(g, g.c, F, g.pt, g.pl))
    return conv3x3_winograd(x, g.n, g.h, g.w, g.c, g.pt, g.pl, w, F, g.oh, g.ow, y);
  const int64_t sh = span(g.kh, g.dh), sw = span(g.kw, g.dw);
  per_image<Planes>(g.n, [&](Planes& pl, int64_t n) {
    size_planes(pl, g.c, g.h, g.w, g.pt, g.pl, g.oh, g.ow, sh, sw);
    fill_planes(x + n * g.h * g.w * g.c, g.h, g.w, g.c, g.pt, g.pl, pl);
    conv_planes(pl, fv, g.c, tap_offsets(g, pl.ws), w, F, g.oh, g.ow, y + n * g.oh * g.ow * F);
  });
}

// ---- dx: forward convolution of padded dy with the flipped kernel ----------
//
// dx[y, x] = sum over taps (i', j') of dy[y - pt + i', x - pl + j'] (zero
// outside dy) times w[kh-1-i', kw-1-j'] transposed (dilation scales the
// offsets): dy is padded by (span-1-pt, span-1-pl) before.

void backward_input(const float* gy, const float* w, const Window2d& g, int64_t F, int fv,
                    float* dx) {
  const int64_t sh = span(g.kh, g.dh), sw = span(g.kw, g.dw);
  // wf[i'][j'][f][c] = w[kh-1-i'][kw-1-j'][c][f]
  std::vector<float> wf(g.kh * g.kw * F * g.c);
  for (int64_t i = 0; i < g.kh; ++i)
    for (int64_t j = 0; j < g.kw; ++j) {
      const float* src = w + ((g.kh - 1 - i) * g.kw + (g.kw - 1 - j)) * g.c * F;
      float* dst = wf.data() + (i * g.kw + j) * F * g.c;
      for (int64_t c = 0; c < g.c; ++c)
        for (int64_t f = 0; f < F; ++f) dst[f * g.c + c] = src[c * F + f];
    }
  const int64_t top = sh - 1 - g.pt, left = sw - 1 - g.pl;
  if (winograd(g, F, g.c, top, left))
    return conv3x3_winograd(gy, g.n, g.oh, g.ow, F, top, left, wf.data(), g.c, g.h, g.w, dx);
  per_image<Planes>(g.n, [&](Planes& pl, int64_t n) {
    size_planes(pl, F, g.oh, g.ow, top, left, g.h, g.w, sh, sw);
    fill_planes(gy + n * g.oh * g.ow * F, g.oh, g.ow, F, top, left, pl);
    conv_planes(pl, fv, F, tap_offsets(g, pl.ws), wf.data(), g.c, g.h, g.w,
                       dx + n * g.h * g.w * g.c);
  });
}

// ---- dw ---------------------------------------------------------------------

template <int CB, int FV>
void backward_kernel(const float* x, const float* gy, const Window2d& g, int64_t F, float* dw) {
  const int64_t hp = g.oh + span(g.kh, g.dh) - 1, wp = g.ow + span(g.kw, g.dw) - 1;
  const auto toff = tap_offsets(g, wp);
  const int64_t K = g.kh * g.kw * g.c;
  std::vector<std::pair<int64_t, std::vector<float>>> partials;  // (first image, sums)
  std::mutex mu;
  parallel_for(g.n, 1, [&](int64_t n0, int64_t n1) {
    std::vector<float> xp(hp * wp * g.c, 0.0f), part(K * F, 0.0f);
    for (int64_t n = n0; n < n1; ++n) {
      const float* img = x + n * g.h * g.w * g.c;
      for (int64_t y = 0; y < g.h; ++y)
        std::memcpy(xp.data() + ((y + g.pt) * wp + g.pl) * g.c, img + y * g.w * g.c,
                    g.w * g.c * sizeof(float));
      const float* dy = gy + n * g.oh * g.ow * F;
      for (size_t t = 0; t < toff.size(); ++t)
        for (int64_t c0 = 0; c0 < g.c; c0 += CB)
          for (int64_t fb = 0; fb < F; fb += FV * kLanes)
            conv_tiles::outer_sums<CB, FV>(xp.data() + c0, wp, g.c, toff[t], dy + fb, g.oh,
                                           g.ow, F, part.data() + (t * g.c + c0) * F + fb);
    }
    std::lock_guard<std::mutex> lock(mu);
    partials.emplace_back(n0, std::move(part));
  });
  // Added in image order, so a run's result does not depend on which thread
  // finished first.
  std::sort(partials.begin(), partials.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::fill(dw, dw + K * F, 0.0f);
  for (const auto& p : partials)
    for (int64_t i = 0; i < K * F; ++i) dw[i] += p.second[i];
}

bool backward_weights(const float* x, const float* gy, const Window2d& g, int64_t F, float* dw) {
  if (winograd(g, g.c, F, g.pt, g.pl))
    return conv3x3_winograd_dw(x, gy, g.n, g.h, g.w, g.c, g.pt, g.pl, F, g.oh, g.ow, dw), true;
  if (F % 32 == 0 && g.c % 8 == 0) return backward_kernel<8, 2>(x, gy, g, F, dw), true;
  if (F % 16 == 0 && g.c % 16 == 0) return backward_kernel<16, 1>(x, gy, g, F, dw), true;
  if (F % 16 == 0 && g.c % 8 == 0) return backward_kernel<8, 1>(x, gy, g, F, dw), true;
  return false;
}

}  // namespace

bool conv2d_direct(const Tensor& x, const Tensor& w, const Window2d& g, const Tensor& y) {
  if (!applies(x, g)) return false;
  const int64_t F = w.shape()[3];
  const int fv = tile_fv(F);
  if (fv == 0) return false;
  forward(x.data<float>(), w.data<float>(), g, F, fv, y.data<float>());
  return true;
}

ConvGrads conv2d_backward_direct(const Tensor& x, const Tensor& w, const Window2d& g,
                                 const Tensor& gy, const Tensor& dx, const Tensor& dw) {
  ConvGrads done{false, false};
  if (!applies(x, g)) return done;
  const int64_t F = w.shape()[3];
  const float* gys = gy.data<float>();
  if (dx.defined() && tile_fv(g.c) != 0) {
    backward_input(gys, w.data<float>(), g, F, tile_fv(g.c), dx.data<float>());
    done.dx = true;
  }
  if (dw.defined())
    done.dw = backward_weights(x.data<float>(), gys, g, F, dw.data<float>());
  return done;
}

#else  // no AVX-512: the im2col path handles every case

bool conv2d_direct(const Tensor&, const Tensor&, const Window2d&, const Tensor&) { return false; }

ConvGrads conv2d_backward_direct(const Tensor&, const Tensor&, const Window2d&, const Tensor&,
                                 const Tensor&, const Tensor&) {
  return {false, false};
}

#endif

}  // namespace lamina::cpu
