#pragma once
// Shared pieces of the CUDA backend: error checks, and strided N-operand
// geometry passed to kernels by value so a grid-stride loop can turn a linear
// element index into one offset per operand.
//
// Every kernel and copy runs on the legacy default stream, so work is ordered
// across all ops and a block the caching allocator hands back out is never
// still in use by an earlier kernel. Do not build with --default-stream per-thread.
#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "lamina/backend.h"

namespace lamina::gpu {

[[noreturn]] inline void throw_cuda(const char* op, cudaError_t e) {
  throw std::runtime_error(std::string("[") + op + "] CUDA error: " + cudaGetErrorString(e));
}
inline void check(cudaError_t e, const char* op) {
  if (e != cudaSuccess) throw_cuda(op, e);
}
// After a launch: configuration errors surface here, faults on a later call.
inline void check_launch(const char* op) { check(cudaGetLastError(), op); }

constexpr int kMaxDims = 8;     // dims a kernel indexes; more are looped on the host
constexpr int kThreads = 256;   // threads per block of the elementwise kernels
constexpr int64_t kMaxBlocks = 65536;

inline unsigned grid_for(int64_t n, int threads = kThreads) {
  int64_t b = (n + threads - 1) / threads;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min(b, kMaxBlocks)));
}

// N operands over one iteration shape (coalesced, innermost last). Strides in
// elements of each operand's own dtype; base is an extra per-operand offset.
template <int N>
struct Geom {
  int nd;
  bool idx32;  // every index fits 32 bits: cheaper division
  int64_t shape[kMaxDims];
  int64_t stride[N][kMaxDims];
  int64_t base[N];
};

template <int N>
__host__ __device__ __forceinline__ void geom_offsets(const Geom<N>& g, int64_t i, int64_t* off) {
#pragma unroll
  for (int k = 0; k < N; ++k) off[k] = g.base[k];
  if (g.nd == 1) {
#pragma unroll
    for (int k = 0; k < N; ++k) off[k] += i * g.stride[k][0];
    return;
  }
  if (g.idx32) {
    uint32_t r32 = static_cast<uint32_t>(i);
    for (int d = g.nd - 1; d >= 0; --d) {
      uint32_t s = static_cast<uint32_t>(g.shape[d]);
      uint32_t q = r32 / s;
      int64_t r = r32 - q * s;
      r32 = q;
#pragma unroll
      for (int k = 0; k < N; ++k) off[k] += r * g.stride[k][d];
    }
  } else {
    for (int d = g.nd - 1; d >= 0; --d) {
      int64_t s = g.shape[d];
      int64_t q = i / s;
      int64_t r = i - q * s;
      i = q;
#pragma unroll
      for (int k = 0; k < N; ++k) off[k] += r * g.stride[k][d];
    }
  }
}

// Coalesces (shape, strides[k]) like the CPU loops do: drops size-1 dims and
// merges neighbours whose strides chain for every operand. Then calls
// fn(geom, n) once, or once per index of the leading dims when more than
// kMaxDims remain. Nothing is called for an empty shape.
template <int N, class Fn>
void for_each_geom(const Shape& shape, const std::array<const int64_t*, N>& strides, Fn&& fn) {
  int64_t total = shape_numel(shape);
  if (total == 0) return;
  std::vector<int64_t> cs;
  std::array<std::vector<int64_t>, N> cst;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !cs.empty();
    for (int k = 0; k < N && merge; ++k) merge = cst[k].back() == strides[k][d] * shape[d];
    if (merge) {
      cs.back() *= shape[d];
      for (int k = 0; k < N; ++k) cst[k].back() = strides[k][d];
    } else {
      cs.push_back(shape[d]);
      for (int k = 0; k < N; ++k) cst[k].push_back(strides[k][d]);
    }
  }
  if (cs.empty()) {
    cs.push_back(1);
    for (int k = 0; k < N; ++k) cst[k].push_back(0);
  }
  const int nd = static_cast<int>(cs.size());
  const int lead = std::max(0, nd - kMaxDims);
  Geom<N> g{};
  g.nd = nd - lead;
  int64_t inner = 1;
  for (int d = 0; d < g.nd; ++d) {
    g.shape[d] = cs[lead + d];
    inner *= g.shape[d];
    for (int k = 0; k < N; ++k) g.stride[k][d] = cst[k][lead + d];
  }
  g.idx32 = inner < (int64_t(1) << 31);
  int64_t outer = total / inner;
  for (int64_t o = 0; o < outer; ++o) {
    int64_t rem = o;
    for (int k = 0; k < N; ++k) g.base[k] = 0;
    for (int d = lead - 1; d >= 0; --d) {
      int64_t r = rem % cs[d];
      rem /= cs[d];
      for (int k = 0; k < N; ++k) g.base[k] += r * cst[k][d];
    }
    fn(g, inner);
  }
}

template <int N, class Fn>
void for_each_geom(const Shape& shape, const std::array<const Tensor*, N>& ops, Fn&& fn) {
  std::array<const int64_t*, N> st;
  for (int k = 0; k < N; ++k) st[k] = ops[k]->strides().data();
  for_each_geom<N>(shape, st, std::forward<Fn>(fn));
}

template <int N, class F>
__global__ void __launch_bounds__(kThreads) elementwise_kernel(int64_t n, Geom<N> g, F f) {
  int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (; i < n; i += step) {
    int64_t off[N];
    geom_offsets<N>(g, i, off);
    f(off);
  }
}

// Runs f(offsets) for every element of `shape`; operand 0 is the output.
template <int N, class F>
void launch_elementwise(const char* op, const Shape& shape, const std::array<const Tensor*, N>& ops,
                        const F& f) {
  for_each_geom<N>(shape, ops, [&](const Geom<N>& g, int64_t n) {
    elementwise_kernel<N, F><<<grid_for(n), kThreads>>>(n, g, f);
    check_launch(op);
  });
}

// An int64 index tensor on the GPU (callers may hand a CPU one).
Tensor device_indices(const Tensor& idx);

}  // namespace lamina::gpu
