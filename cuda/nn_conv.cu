// Convolution on the GPU through im2col + the tiled GEMM of matmul.cu: the
// column matrix is built for a chunk of whole images at a time, so memory
// stays bounded. col2im is a gather (each input pixel sums the taps that read
// it), so it needs no atomics and is deterministic.
#include "nn_common.cuh"
#include "nn_kernels.h"

namespace lamina::gpu {

namespace {

// Column element (r, k), k = (i*kw + j)*c + ch: the input pixel or 0 in the padding.
template <class T>
__global__ void im2col_kernel(const T* x, Window2d g, int64_t row0, int64_t n, T* cols) {
  const int64_t K = g.kh * g.kw * g.c;
  LAMINA_GRID_LOOP(e, n) {
    int64_t r = row0 + e / K, k = e % K;
    int64_t ch = k % g.c, tap = k / g.c, i = tap / g.kw, j = tap % g.kw;
    int64_t b = r / (g.oh * g.ow), o = r % (g.oh * g.ow), oy = o / g.ow, ox = o % g.ow;
    int64_t iy = g.in_row(oy, i), ix = g.in_col(ox, j);
    cols[e] = g.inside(iy, ix) ? x[((b * g.h + iy) * g.w + ix) * g.c + ch] : T(0);
  }
}

// x (images [img0, img0 + n / (h*w*c))) += adjoint of im2col of cols, whose
// first row belongs to image img0.
template <class T>
__global__ void col2im_kernel(const T* cols, Window2d g, int64_t img0, int64_t n, T* x) {
  const int64_t K = g.kh * g.kw * g.c;
  LAMINA_GRID_LOOP(e, n) {
    int64_t ch = e % g.c, p = e / g.c, ix = p % g.w, iy = (p / g.w) % g.h, b = p / (g.w * g.h);
    T acc = T(0);
    nn::taps_reaching(iy, g.oh, g.kh, g.sh, g.dh, g.pt, [&](int64_t oy, int64_t i) {
      nn::taps_reaching(ix, g.ow, g.kw, g.sw, g.dw, g.pl, [&](int64_t ox, int64_t j) {
        int64_t r = (b * g.oh + oy) * g.ow + ox;
        acc += cols[r * K + (i * g.kw + j) * g.c + ch];
      });
    });
    x[(img0 * g.h * g.w * g.c) + e] += acc;
  }
}

template <class T>
void im2col_rows(const T* x, const Window2d& g, int64_t row0, int64_t rows, T* cols) {
  const int64_t n = rows * g.kh * g.kw * g.c;
  if (n == 0) return;
  im2col_kernel<T><<<grid_for(n), kThreads>>>(x, g, row0, n, cols);
  check_launch("conv");
}

// cols holds the rows of images [img0, img0 + nimg); its row 0 is image img0's.
template <class T>
void col2im_images(const T* cols, const Window2d& g, int64_t img0, int64_t nimg, T* x) {
  const int64_t n = nimg * g.h * g.w * g.c;
  if (n == 0) return;
  col2im_kernel<T><<<grid_for(n), kThreads>>>(cols, g, img0, n, x);
  check_launch("conv");
}

// Images per chunk: the column matrix of a chunk stays under ~64M elements.
int64_t images_per_chunk(const Window2d& g) {
  int64_t per = std::max<int64_t>(1, g.oh * g.ow * g.kh * g.kw * g.c);
  return std::max<int64_t>(1, std::min<int64_t>(g.n, (int64_t(1) << 26) / per));
}

}  // namespace

void im2col(const Tensor& x, const Window2d& g, const Tensor& cols) {
  LAMINA_DISPATCH_FLOAT(x.dtype(), "conv", [&] {
    using T = scalar_t;
    im2col_rows<T>(x.data<T>(), g, 0, g.n * g.oh * g.ow, cols.data<T>());
  });
}

void col2im(const Tensor& cols, const Window2d& g, const Tensor& x) {
  LAMINA_DISPATCH_FLOAT(x.dtype(), "col2im", [&] {
    using T = scalar_t;
    col2im_images<T>(cols.data<T>(), g, 0, g.n, x.data<T>());
  });
}

// y rows of a chunk = cols (rows, K) @ w (K, F).
void conv2d(const Tensor& x, const Tensor& w, const Window2d& g, const Tensor& y) {
  LAMINA_DISPATCH_FLOAT(x.dtype(), "conv2d", [&] {
    using T = scalar_t;
    const int64_t K = g.kh * g.kw * g.c, F = w.shape()[3], per_img = g.oh * g.ow;
    const int64_t chunk = images_per_chunk(g);
    Tensor cols = empty({chunk * per_img, K}, x.dtype(), Device::CUDA);
    Tensor wk = nn::view2(w, K, F, F, 1);
    for (int64_t n0 = 0; n0 < g.n; n0 += chunk) {
      const int64_t rows = std::min(chunk, g.n - n0) * per_img;
      im2col_rows<T>(x.data<T>(), g, n0 * per_img, rows, cols.data<T>());
      matmul(nn::view2(cols, rows, K, K, 1), wk, nn::view2(y, rows, F, F, 1, n0 * per_img * F));
    }
  });
}

// dw = sum over chunks of cols^T @ gy; dx += col2im(gy @ w^T).
void conv2d_backward(const Tensor& x, const Tensor& w, const Window2d& g, const Tensor& gy,
                     const Tensor& dx, const Tensor& dw) {
  LAMINA_DISPATCH_FLOAT(x.dtype(), "conv2d", [&] {
    using T = scalar_t;
    const int64_t K = g.kh * g.kw * g.c, F = w.shape()[3], per_img = g.oh * g.ow;
    const int64_t chunk = images_per_chunk(g);
    Tensor cols = empty({chunk * per_img, K}, x.dtype(), Device::CUDA);
    Tensor part = dw.defined() ? empty({K, F}, x.dtype(), Device::CUDA) : Tensor();
    Tensor dw2 = dw.defined() ? nn::view2(dw, K, F, F, 1) : Tensor();  // shaped like part
    if (dw.defined()) fill(dw, 0.0);
    if (dx.defined()) fill(dx, 0.0);  // col2im adds into it
    for (int64_t n0 = 0; n0 < g.n; n0 += chunk) {
      const int64_t nimg = std::min(chunk, g.n - n0), rows = nimg * per_img;
      Tensor gyc = nn::view2(gy, rows, F, F, 1, n0 * per_img * F);
      if (dw.defined()) {
        im2col_rows<T>(x.data<T>(), g, n0 * per_img, rows, cols.data<T>());
        matmul(nn::view2(cols, K, rows, 1, K), gyc, part);
        binary(BinaryOp::Add, dw2, part, dw2);
      }
      if (dx.defined()) {
        Tensor dcols = nn::view2(cols, rows, K, K, 1);
        matmul(gyc, nn::view2(w, F, K, 1, F), dcols);
        col2im_images<T>(cols.data<T>(), g, n0, nimg, dx.data<T>());
      }
    }
  });
}

}  // namespace lamina::gpu
