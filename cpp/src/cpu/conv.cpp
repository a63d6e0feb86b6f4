// im2col / col2im over NHWC images: convolution becomes one GEMM whose rows
// are output pixels and whose columns are (kh, kw, c) taps, so each row copy
// moves c contiguous floats.
#include <cstring>

#include "cpu/nn_kernels.h"
#include "lamina/threads.h"

namespace lamina::cpu {

void im2col(const Tensor& x, const Window2d& g, const Tensor& cols) {
  const size_t isz = itemsize(x.dtype());
  const char* src = static_cast<const char*>(x.data_ptr());
  char* dst = static_cast<char*>(cols.data_ptr());
  const int64_t rows = g.n * g.oh * g.ow, row_bytes = g.kh * g.kw * g.c * isz, cb = g.c * isz;
  parallel_for(rows, std::max<int64_t>(1, 65536 / std::max<int64_t>(row_bytes, 1)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t n = r / (g.oh * g.ow), o = r % (g.oh * g.ow), oy = o / g.ow, ox = o % g.ow;
      char* out = dst + r * row_bytes;
      for (int64_t i = 0; i < g.kh; ++i) {
        int64_t iy = g.in_row(oy, i);
        for (int64_t j = 0; j < g.kw; ++j, out += cb) {
          int64_t ix = g.in_col(ox, j);
          if (g.inside(iy, ix)) std::memcpy(out, src + ((n * g.h + iy) * g.w + ix) * cb, cb);
          else std::memset(out, 0, cb);
        }
      }
    }
  });
}

namespace {
template <class T>
void col2im_typed(const T* cols, const Window2d& g, T* x) {
  // Parallel over images: their pixels are disjoint, so no two threads add
  // into the same place.
  parallel_for(g.n, 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n)
      for (int64_t oy = 0; oy < g.oh; ++oy)
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          const T* row = cols + ((n * g.oh + oy) * g.ow + ox) * g.kh * g.kw * g.c;
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
  });
}
}  // namespace

void col2im(const Tensor& cols, const Window2d& g, const Tensor& x) {
  LAMINA_DISPATCH_FLOAT(x.dtype(), "col2im", [&] {
    col2im_typed<scalar_t>(cols.data<scalar_t>(), g, x.data<scalar_t>());
  });
}

}  // namespace lamina::cpu
