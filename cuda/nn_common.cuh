#pragma once
// Helpers shared by the CUDA NN kernels: pointers of optional tensors, 2-D
// views for the GEMM, block reductions, and the window taps that reach one
// input pixel (for gather-style adjoints that need no atomics).
#include "common.cuh"
#include "kernels.h"
#include "lamina/kernels/conv.h"

namespace lamina::gpu::nn {

template <class T>
const T* opt(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}
template <class T>
T* opt_mut(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

// A (rows, cols) view of t's storage starting `extra` elements past t's first
// element, with the given strides: operands and outputs of gpu::matmul.
inline Tensor view2(const Tensor& t, int64_t rows, int64_t cols, int64_t rs, int64_t cs,
                    int64_t extra = 0) {
  return make_view(t, {rows, cols}, {rs, cs}, t.offset() + extra);
}

// Grid-stride loop over [0, n).
#define LAMINA_GRID_LOOP(i, n)                                                          \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)

// Sum (or max) of v over the block; every thread gets the result. `buf`
// holds one value per warp. blockDim.x must be a multiple of 32.
template <class T, bool Max>
__device__ T block_reduce(T v, T* buf) {
  for (int o = 16; o > 0; o >>= 1) {
    T w = __shfl_xor_sync(0xffffffffu, v, o);
    v = Max ? (w > v ? w : v) : v + w;
  }
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, nw = blockDim.x / 32;
  __syncthreads();  // buf may still be read from a previous call
  if (lane == 0) buf[warp] = v;
  __syncthreads();
  v = buf[0];
  for (int k = 1; k < nw; ++k) v = Max ? (buf[k] > v ? buf[k] : v) : v + buf[k];
  return v;
}

// Calls f(o, i) for every output position o (along one axis: out size `out`,
// stride s, dilation d, padding before p, kernel k) whose tap i reads input
// position `in`: o*s - p + i*d == in.
template <class F>
__device__ void taps_reaching(int64_t in, int64_t out, int64_t k, int64_t s, int64_t d, int64_t p,
                              F&& f) {
  for (int64_t i = 0; i < k; ++i) {
    int64_t num = in + p - i * d;
    if (num < 0 || num % s) continue;
    int64_t o = num / s;
    if (o < out) f(o, i);
  }
}

}  // namespace lamina::gpu::nn
