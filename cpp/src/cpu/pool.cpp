// Max and average pooling over NHWC windows. The channel loop is innermost
// and contiguous, so each window tap is one vector operation.
#include <limits>
#include <vector>

#include "cpu/nn_kernels.h"
#include "lamina/kernels/pool.h"
#include "lamina/threads.h"

namespace lamina::cpu {

namespace {

template <class T>
void max_pool_typed(const T* x, const Window2d& g, T* out, int32_t* arg) {
  parallel_for(g.n * g.oh, 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t n = r / g.oh, oy = r % g.oh;
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        T* o = out + ((n * g.oh + oy) * g.ow + ox) * g.c;
        int32_t* a = arg + ((n * g.oh + oy) * g.ow + ox) * g.c;
        for (int64_t c = 0; c < g.c; ++c) {
          o[c] = -std::numeric_limits<T>::infinity();
          a[c] = -1;
        }
        for (int64_t i = 0; i < g.kh; ++i) {
          int64_t iy = g.in_row(oy, i);
          for (int64_t j = 0; j < g.kw; ++j) {
            int64_t ix = g.in_col(ox, j);
            if (!g.inside(iy, ix)) continue;  // padding never wins (Keras pads with -inf)
            const T* xv = x + ((n * g.h + iy) * g.w + ix) * g.c;
            int32_t pos = static_cast<int32_t>(iy * g.w + ix);
#pragma omp simd
            for (int64_t c = 0; c < g.c; ++c) {
              bool take = kernels::max_pool_take(xv[c], o[c], a[c]);
              o[c] = take ? xv[c] : o[c];
              a[c] = take ? pos : a[c];
            }
          }
        }
      }
    }
  });
}

template <class T>
void max_pool_backward_typed(const T* gout, const int32_t* arg, const Window2d& g, T* dx) {
  parallel_for(g.n, 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      // Pixel by pixel, channels inner: no division per element.
      const int64_t pixels = g.oh * g.ow;
      const int32_t* a = arg + n * pixels * g.c;
      const T* go = gout + n * pixels * g.c;
      T* d = dx + n * g.h * g.w * g.c;
      for (int64_t p = 0; p < pixels; ++p, a += g.c, go += g.c)
        for (int64_t c = 0; c < g.c; ++c)
          if (a[c] >= 0) d[a[c] * g.c + c] += go[c];
    }
  });
}

template <class T>
void avg_pool_typed(const T* x, const Window2d& g, T* out) {
  parallel_for(g.n * g.oh, 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t n = r / g.oh, oy = r % g.oh;
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        T* o = out + ((n * g.oh + oy) * g.ow + ox) * g.c;
        for (int64_t c = 0; c < g.c; ++c) o[c] = 0;
        for (int64_t i = 0; i < g.kh; ++i) {
          int64_t iy = g.in_row(oy, i);
          for (int64_t j = 0; j < g.kw; ++j) {
            int64_t ix = g.in_col(ox, j);
            if (!g.inside(iy, ix)) continue;
            const T* xv = x + ((n * g.h + iy) * g.w + ix) * g.c;
#pragma omp simd
            for (int64_t c = 0; c < g.c; ++c) o[c] += xv[c];
          }
        }
        T inv = kernels::avg_pool_scale<T>(g, oy, ox);
        for (int64_t c = 0; c < g.c; ++c) o[c] *= inv;
      }
    }
  });
}

template <class T>
void avg_pool_backward_typed(const T* gout, const Window2d& g, T* dx) {
  parallel_for(g.n, 1, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n)
      for (int64_t oy = 0; oy < g.oh; ++oy)
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          const T* go = gout + ((n * g.oh + oy) * g.ow + ox) * g.c;
          T inv = kernels::avg_pool_scale<T>(g, oy, ox);
          for (int64_t i = 0; i < g.kh; ++i) {
            int64_t iy = g.in_row(oy, i);
            for (int64_t j = 0; j < g.kw; ++j) {
              int64_t ix = g.in_col(ox, j);
              if (!g.inside(iy, ix)) continue;
              T* d = dx + ((n * g.h + iy) * g.w + ix) * g.c;
#pragma omp simd
              for (int64_t c = 0; c < g.c; ++c) d[c] += go[c] * inv;
            }
          }
        }
  });
}

}  // namespace

void max_pool(const Tensor& x, const Window2d& g, const Tensor& out, const Tensor& arg) {
  LAMINA_DISPATCH_FLOAT(x.dtype(), "max_pool", [&] {
    max_pool_typed<scalar_t>(x.data<scalar_t>(), g, out.data<scalar_t>(), arg.data<int32_t>());
  });
}

void max_pool_backward(const Tensor& gout, const Tensor& arg, const Window2d& g, const Tensor& dx) {
  LAMINA_DISPATCH_FLOAT(dx.dtype(), "max_pool", [&] {
    max_pool_backward_typed<scalar_t>(gout.data<scalar_t>(), arg.data<int32_t>(), g, dx.data<scalar_t>());
  });
}

void avg_pool(const Tensor& x, const Window2d& g, const Tensor& out) {
  LAMINA_DISPATCH_FLOAT(x.dtype(), "average_pool", [&] {
    avg_pool_typed<scalar_t>(x.data<scalar_t>(), g, out.data<scalar_t>());
  });
}

void avg_pool_backward(const Tensor& gout, const Window2d& g, const Tensor& dx) {
  LAMINA_DISPATCH_FLOAT(dx.dtype(), "average_pool", [&] {
    avg_pool_backward_typed<scalar_t>(gout.data<scalar_t>(), g, dx.data<scalar_t>());
  });
}

}  // namespace lamina::cpu
