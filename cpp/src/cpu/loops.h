#pragma once
// Strided N-operand iteration for the CPU kernels. Dimensions are coalesced
// first, so contiguous and broadcast-row cases reach the inner loop as one
// long run that the compiler vectorises; work is split across the pool.
#include <array>
#include <cstdint>
#include <vector>

#include "lamina/tensor.h"
#include "lamina/threads.h"

namespace lamina::cpu {

constexpr int64_t kGrain = 32768;  // elements per thread below which we stay serial

template <int N>
struct Geometry {
  std::vector<int64_t> shape;                   // coalesced, innermost last
  std::array<std::vector<int64_t>, N> strides;  // in bytes
};

// Operand 0 is the output; all operands have `shape` (broadcast views allowed).
template <int N>
Geometry<N> make_geometry(const Shape& shape, const std::array<const Tensor*, N>& ops) {
  Geometry<N> g;
  for (int d = 0; d < static_cast<int>(shape.size()); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !g.shape.empty();
    for (int k = 0; k < N && merge; ++k) {
      int64_t isz = static_cast<int64_t>(itemsize(ops[k]->dtype()));
      merge = g.strides[k].back() == ops[k]->strides()[d] * isz * shape[d];
    }
    if (merge) {
      g.shape.back() *= shape[d];
      for (int k = 0; k < N; ++k)
        g.strides[k].back() = ops[k]->strides()[d] * static_cast<int64_t>(itemsize(ops[k]->dtype()));
    } else {
      g.shape.push_back(shape[d]);
      for (int k = 0; k < N; ++k)
        g.strides[k].push_back(ops[k]->strides()[d] * static_cast<int64_t>(itemsize(ops[k]->dtype())));
    }
  }
  if (g.shape.empty()) {
    g.shape.push_back(1);
    for (int k = 0; k < N; ++k) g.strides[k].push_back(0);
  }
  return g;
}

// Calls inner(ptrs, inner_strides_bytes, n) for every innermost run.
template <int N, class Inner>
void for_each_run(const Shape& shape, const std::array<const Tensor*, N>& ops, Inner&& inner,
                  int64_t grain = kGrain) {
  int64_t total = shape_numel(shape);
  if (total == 0) return;
  Geometry<N> g = make_geometry<N>(shape, ops);
  const int nd = static_cast<int>(g.shape.size());
  const int64_t n_inner = g.shape[nd - 1];
  const int64_t n_outer = total / n_inner;
  std::array<char*, N> base;
  std::array<int64_t, N> istr;
  for (int k = 0; k < N; ++k) {
    base[k] = static_cast<char*>(ops[k]->data_ptr());
    istr[k] = g.strides[k][nd - 1];
  }
  auto outer_range = [&](int64_t o0, int64_t o1, int64_t i0, int64_t i1) {
    std::vector<int64_t> idx(nd, 0);
    int64_t rem = o0;
    for (int d = nd - 2; d >= 0; --d) {
      idx[d] = rem % g.shape[d];
      rem /= g.shape[d];
    }
    for (int64_t o = o0; o < o1; ++o) {
      std::array<char*, N> p;
      for (int k = 0; k < N; ++k) {
        int64_t off = i0 * istr[k];
        for (int d = 0; d < nd - 1; ++d) off += idx[d] * g.strides[k][d];
        p[k] = base[k] + off;
      }
      inner(p, istr, i1 - i0);
      for (int d = nd - 2; d >= 0; --d) {
        if (++idx[d] < g.shape[d]) break;
        idx[d] = 0;
      }
    }
  };
  if (n_outer >= get_num_threads() * 2 || n_inner < grain) {
    int64_t outer_grain = std::max<int64_t>(1, grain / n_inner);
    parallel_for(n_outer, outer_grain,
                 [&](int64_t o0, int64_t o1) { outer_range(o0, o1, 0, n_inner); });
  } else {
    for (int64_t o = 0; o < n_outer; ++o) {
      parallel_for(n_inner, grain, [&](int64_t i0, int64_t i1) { outer_range(o, o + 1, i0, i1); });
    }
  }
}

}  // namespace lamina::cpu
