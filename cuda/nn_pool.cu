// Max and average pooling on the GPU: one thread per output element forward;
// backward is a gather, one thread per input element summing the outputs
// whose window reads it, so no atomics are needed. Per-element rules (which
// tap wins the max, the averaging count) come from kernels/pool.h.
#include <cmath>

#include "lamina/kernels/pool.h"
#include "nn_common.cuh"
#include "nn_kernels.h"

namespace lamina::gpu {

namespace {

// Output element e = ((b*oh + oy)*ow + ox)*c + ch.
struct OutPos {
  int64_t b, oy, ox, ch;
};
__device__ OutPos out_pos(const Window2d& g, int64_t e) {
  int64_t ch = e % g.c, p = e / g.c;
  return {p / (g.oh * g.ow), (p / g.ow) % g.oh, p % g.ow, ch};
}

template <class T>
__global__ void max_pool_kernel(const T* x, Window2d g, int64_t n, T* out, int32_t* arg) {
  LAMINA_GRID_LOOP(e, n) {
    OutPos o = out_pos(g, e);
    T best = T(-INFINITY);
    int32_t at = -1;
    for (int64_t i = 0; i < g.kh; ++i) {
      int64_t iy = g.in_row(o.oy, i);
      for (int64_t j = 0; j < g.kw; ++j) {
        int64_t ix = g.in_col(o.ox, j);
        if (!g.inside(iy, ix)) continue;  // padding never wins (Keras pads with -inf)
        T v = x[((o.b * g.h + iy) * g.w + ix) * g.c + o.ch];
        if (kernels::max_pool_take(v, best, at)) {
          best = v;
          at = static_cast<int32_t>(iy * g.w + ix);
        }
      }
    }
    out[e] = best;
    arg[e] = at;
  }
}

// Input element e = ((b*h + iy)*w + ix)*c + ch.
template <class T>
__global__ void max_pool_backward_kernel(const T* gout, const int32_t* arg, Window2d g, int64_t n,
                                         T* dx) {
  LAMINA_GRID_LOOP(e, n) {
    int64_t ch = e % g.c, p = e / g.c, ix = p % g.w, iy = (p / g.w) % g.h, b = p / (g.w * g.h);
    const int32_t pos = static_cast<int32_t>(iy * g.w + ix);
    T acc = T(0);
    nn::taps_reaching(iy, g.oh, g.kh, g.sh, g.dh, g.pt, [&](int64_t oy, int64_t) {
      nn::taps_reaching(ix, g.ow, g.kw, g.sw, g.dw, g.pl, [&](int64_t ox, int64_t) {
        int64_t k = ((b * g.oh + oy) * g.ow + ox) * g.c + ch;
        if (arg[k] == pos) acc += gout[k];
      });
    });
    dx[e] += acc;
  }
}

template <class T>
__global__ void avg_pool_kernel(const T* x, Window2d g, int64_t n, T* out) {
  LAMINA_GRID_LOOP(e, n) {
    OutPos o = out_pos(g, e);
    T acc = T(0);
    for (int64_t i = 0; i < g.kh; ++i) {
      int64_t iy = g.in_row(o.oy, i);
      for (int64_t j = 0; j < g.kw; ++j) {
        int64_t ix = g.in_col(o.ox, j);
        if (g.inside(iy, ix)) acc += x[((o.b * g.h + iy) * g.w + ix) * g.c + o.ch];
      }
    }
    out[e] = acc * kernels::avg_pool_scale<T>(g, o.oy, o.ox);
  }
}

template <class T>
__global__ void avg_pool_backward_kernel(const T* gout, Window2d g, int64_t n, T* dx) {
  LAMINA_GRID_LOOP(e, n) {
    int64_t ch = e % g.c, p = e / g.c, ix = p % g.w, iy = (p / g.w) % g.h, b = p / (g.w * g.h);
    T acc = T(0);
    nn::taps_reaching(iy, g.oh, g.kh, g.sh, g.dh, g.pt, [&](int64_t oy, int64_t) {
      nn::taps_reaching(ix, g.ow, g.kw, g.sw, g.dw, g.pl, [&](int64_t ox, int64_t) {
        acc += gout[((b * g.oh + oy) * g.ow + ox) * g.c + ch] * kernels::avg_pool_scale<T>(g, oy, ox);
      });
    });
    dx[e] += acc;
  }
}

int64_t out_size(const Window2d& g) { return g.n * g.oh * g.ow * g.c; }
int64_t in_size(const Window2d& g) { return g.n * g.h * g.w * g.c; }

}  // namespace

void max_pool(const Tensor& x, const Window2d& g, const Tensor& out, const Tensor& arg) {
  LAMINA_DISPATCH_FLOAT(x.dtype(), "max_pool", [&] {
    using T = scalar_t;
    const int64_t n = out_size(g);
    if (n == 0) return;
    max_pool_kernel<T><<<grid_for(n), kThreads>>>(x.data<T>(), g, n, out.data<T>(), arg.data<int32_t>());
    check_launch("max_pool");
  });
}

void max_pool_backward(const Tensor& gout, const Tensor& arg, const Window2d& g, const Tensor& dx) {
  LAMINA_DISPATCH_FLOAT(dx.dtype(), "max_pool", [&] {
    using T = scalar_t;
    const int64_t n = in_size(g);
    if (n == 0) return;
    max_pool_backward_kernel<T><<<grid_for(n), kThreads>>>(gout.data<T>(), arg.data<int32_t>(), g, n,
                                                            dx.data<T>());
    check_launch("max_pool");
  });
}

void avg_pool(const Tensor& x, const Window2d& g, const Tensor& out) {
  LAMINA_DISPATCH_FLOAT(x.dtype(), "average_pool", [&] {
    using T = scalar_t;
    const int64_t n = out_size(g);
    if (n == 0) return;
    avg_pool_kernel<T><<<grid_for(n), kThreads>>>(x.data<T>(), g, n, out.data<T>());
    check_launch("average_pool");
  });
}

void avg_pool_backward(const Tensor& gout, const Window2d& g, const Tensor& dx) {
  LAMINA_DISPATCH_FLOAT(dx.dtype(), "average_pool", [&] {
    using T = scalar_t;
    const int64_t n = in_size(g);
    if (n == 0) return;
    avg_pool_backward_kernel<T><<<grid_for(n), kThreads>>>(gout.data<T>(), g, n, dx.data<T>());
    check_launch("average_pool");
  });
}

}  // namespace lamina::gpu
