// im2col / col2im over NHWC images: convolution becomes one GEMM whose rows
// are output pixels and whose columns are (kh, kw, c) taps, so each row copy
// moves c contiguous floats.
#include <cstring>

#include <vector>

#include "cpu/conv_direct.h"
#include "cpu/kernels.h"
#include "cpu/nn_kernels.h"
#include "lamina/threads.h"

namespace lamina::cpu {

namespace {

// Rows [r0, r1) of the column matrix into dst (row-major, K = kh*kw*c).
// With dilation 1 the kw taps of one kernel row are adjacent in the input,
// so inside the image they are one copy of kw*c values.
void im2col_rows(const char* src, const Window2d& g, size_t isz, int64_t r0, int64_t r1, char* dst) {
  const int64_t cb = g.c * isz, row_bytes = g.kh * g.kw * cb;
  for (int64_t r = r0; r < r1; ++r) {
    int64_t n = r / (g.oh * g.ow), o = r % (g.oh * g.ow), oy = o / g.ow, ox = o % g.ow;
    char* out = dst + (r - r0) * row_bytes;
    for (int64_t i = 0; i < g.kh; ++i) {
      int64_t iy = g.in_row(oy, i);
      int64_t ix0 = g.in_col(ox, 0), ix1 = g.in_col(ox, g.kw - 1);
      if (g.dw == 1 && iy >= 0 && iy < g.h && ix0 >= 0 && ix1 < g.w) {
        std::memcpy(out, src + ((n * g.h + iy) * g.w + ix0) * cb, g.kw * cb);
        out += g.kw * cb;
        continue;
      }
      for (int64_t j = 0; j < g.kw; ++j, out += cb) {
        int64_t ix = g.in_col(ox, j);
        if (g.inside(iy, ix)) std::memcpy(out, src + ((n * g.h + iy) * g.w + ix) * cb, cb);
        else std::memset(out, 0, cb);
      }
    }
  }
}

template <class T>
void col2im_rows(const T* cols, const Window2d& g, int64_t r0, int64_t r1, T* x) {
  for (int64_t r = r0; r < r1; ++r) {
    int64_t n = r / (g.oh * g.ow), o = r % (g.oh * g.ow), oy = o / g.ow, ox = o % g.ow;
    const T* row = cols + (r - r0) * g.kh * g.kw * g.c;
    for (int64_t i = 0; i < g.kh; ++i) {
      int64_t iy = g.in_row(oy, i);
      for (int64_t j = 0; j < g.kw; ++j, row += g.c) {
        int64_t ix = g.in_col(ox, j);
        if (!g.inside(iy, ix)) continue;
        T* dst = x + ((n * g.h + iy) * g.w + ix) * g.c;
#pragma omp simd
        for (int64_t c = 0; c < g.c; ++c) dst[c] += row[c];
      }
    }
  }
}

// Rows of the column matrix per block: small enough that a block stays in L2.
int64_t block_rows(const Window2d& g, size_t isz) {
  int64_t k_bytes = g.kh * g.kw * g.c * static_cast<int64_t>(isz);
  return std::max<int64_t>(16, std::min<int64_t>(512, (256 << 10) / std::max<int64_t>(k_bytes, 1)));
}

}  // namespace

void im2col(const Tensor& x, const Window2d& g, const Tensor& cols) {
  const size_t isz = itemsize(x.dtype());
  const char* src = static_cast<const char*>(x.data_ptr());
  char* dst = static_cast<char*>(cols.data_ptr());
  const int64_t rows = g.n * g.oh * g.ow, row_bytes = g.kh * g.kw * g.c * isz;
  parallel_for(rows, std::max<int64_t>(1, 65536 / std::max<int64_t>(row_bytes, 1)), [&](int64_t r0, int64_t r1) {
    im2col_rows(src, g, isz, r0, r1, dst + r0 * row_bytes);
  });
}

// Convolution without the full column matrix: each thread builds the columns
// of a block of output rows in a cache-resident buffer and multiplies it at
// once, so the only large memory traffic is reading x and writing y.
void conv2d(const Tensor& x, const Tensor& w, const Window2d& g, const Tensor& y) {
  if (conv2d_direct(x, w, g, y)) return;
  LAMINA_DISPATCH_FLOAT(x.dtype(), "conv2d", [&] {
    using T = scalar_t;
    const int64_t K = g.kh * g.kw * g.c, F = w.shape()[3], rows = g.n * g.oh * g.ow;
    const int64_t blk = block_rows(g, sizeof(T));
    const char* src = static_cast<const char*>(x.data_ptr());
    parallel_for((rows + blk - 1) / blk, 1, [&](int64_t b0, int64_t b1) {
      std::vector<T> buf(blk * K);
      for (int64_t b = b0; b < b1; ++b) {
        int64_t r0 = b * blk, r1 = std::min(rows, r0 + blk);
        im2col_rows(src, g, sizeof(T), r0, r1, reinterpret_cast<char*>(buf.data()));
        gemm_serial(x.dtype(), false, false, r1 - r0, F, K, buf.data(), K, w.data<T>(), F,
                    y.data<T>() + r0 * F, F, false);
      }
    });
  });
}

// dx (zeroed) and dw from gy, block by block; threads own whole images so
// their col2im writes never overlap, and keep private dw sums added in order.
void conv2d_backward(const Tensor& x, const Tensor& w, const Window2d& g, const Tensor& gy,
                     const Tensor& dx_in, const Tensor& dw_in) {
  ConvGrads done = conv2d_backward_direct(x, w, g, gy, dx_in, dw_in);
  const Tensor dx = done.dx ? Tensor() : dx_in, dw = done.dw ? Tensor() : dw_in;
  if (!dx.defined() && !dw.defined()) return;
  LAMINA_DISPATCH_FLOAT(x.dtype(), "conv2d", [&] {
    using T = scalar_t;
    const int64_t K = g.kh * g.kw * g.c, F = w.shape()[3], per_img = g.oh * g.ow;
    const int64_t blk = block_rows(g, sizeof(T));
    const char* src = static_cast<const char*>(x.data_ptr());
    const int nt = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(get_num_threads(), g.n)));
    std::vector<std::vector<T>> partial(nt);
    const int64_t imgs_per = (g.n + nt - 1) / nt;
    parallel_for(nt, 1, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        int64_t n0 = t * imgs_per, n1 = std::min(g.n, n0 + imgs_per);
        if (n0 >= n1) continue;
        std::vector<T> buf(blk * K);
        if (dw.defined()) partial[t].assign(K * F, T(0));
        if (dx.defined())  // col2im adds into this thread's images
          std::fill(dx.data<T>() + n0 * g.h * g.w * g.c, dx.data<T>() + n1 * g.h * g.w * g.c, T(0));
        for (int64_t r0 = n0 * per_img; r0 < n1 * per_img; r0 += blk) {
          int64_t r1 = std::min(n1 * per_img, r0 + blk);
          const T* gyb = gy.data<T>() + r0 * F;
          if (dw.defined()) {
            im2col_rows(src, g, sizeof(T), r0, r1, reinterpret_cast<char*>(buf.data()));
            gemm_serial(x.dtype(), true, false, K, F, r1 - r0, buf.data(), K, gyb, F,
                        partial[t].data(), F, true);
          }
          if (dx.defined()) {
            gemm_serial(x.dtype(), false, true, r1 - r0, K, F, gyb, F, w.data<T>(), F, buf.data(),
                        K, false);
            col2im_rows(buf.data(), g, r0, r1, dx.data<T>());
          }
        }
      }
    });
    if (dw.defined()) {
      T* out = dw.data<T>();
      std::fill(out, out + K * F, T(0));
      for (int t = 0; t < nt; ++t)
        if (!partial[t].empty())
          for (int64_t i = 0; i < K * F; ++i) out[i] += partial[t][i];
    }
  });
}

void col2im(const Tensor& cols, const Window2d& g, const Tensor& x) {
  LAMINA_DISPATCH_FLOAT(x.dtype(), "col2im", [&] {
    // Parallel over images: their pixels are disjoint, so no two threads add
    // into the same place.
    const int64_t per_img = g.oh * g.ow, K = g.kh * g.kw * g.c;
    parallel_for(g.n, 1, [&](int64_t n0, int64_t n1) {
      col2im_rows(cols.data<scalar_t>() + n0 * per_img * K, g, n0 * per_img, n1 * per_img,
                  x.data<scalar_t>());
    });
  });
}

}  // namespace lamina::cpu
