// CPU reductions. Two layouts are reduced in place: reduced axes trailing
// (row reductions) and reduced axes leading (column reductions, e.g. a bias
// gradient). Any other layout is first made contiguous as (kept..., reduced...).
#include <algorithm>
#include <cstring>
#include <limits>

#include "cpu/kernels.h"
#include "lamina/kernels/binary.h"
#include "lamina/autograd.h"
#include "lamina/ops.h"
#include "lamina/threads.h"

namespace lamina::cpu {

namespace {

template <class T>
using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;

// Sum of n contiguous values: vectorised float blocks, blocks added in double.
template <class T>
Acc<T> sum_run(const T* x, int64_t n) {
  Acc<T> total = 0;
  constexpr int64_t kBlock = 4096;
  for (int64_t b = 0; b < n; b += kBlock) {
    int64_t e = std::min(n, b + kBlock);
    T acc = 0;
#pragma omp simd reduction(+ : acc)
    for (int64_t i = b; i < e; ++i) acc += x[i];
    total += acc;
  }
  return total;
}

template <class T>
T identity(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum: return T(0);
    case ReduceOp::Prod: return T(1);
    case ReduceOp::Max: return std::numeric_limits<T>::lowest();
    case ReduceOp::Min: return std::numeric_limits<T>::max();
    default: return T(0);
  }
}

template <class T>
T reduce_run(ReduceOp op, const T* x, int64_t n) {
  switch (op) {
    case ReduceOp::Sum: return static_cast<T>(sum_run(x, n));
    case ReduceOp::Prod: {
      Acc<T> p = 1;
      for (int64_t i = 0; i < n; ++i) p *= x[i];
      return static_cast<T>(p);
    }
    case ReduceOp::Max: {
      T m = identity<T>(op);
      for (int64_t i = 0; i < n; ++i) m = kernels::binary_fn<BinaryOp::Maximum>(m, x[i]);
      return m;
    }
    case ReduceOp::Min: {
      T m = identity<T>(op);
      for (int64_t i = 0; i < n; ++i) m = kernels::binary_fn<BinaryOp::Minimum>(m, x[i]);
      return m;
    }
    default: return T(0);
  }
}

// First index of the max (or min); a NaN wins, as in NumPy.
template <class T>
int64_t arg_run(bool is_max, const T* x, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i) {
    T b = x[best], v = x[i];
    if (b != b) break;
    if (v != v || (is_max ? v > b : v < b)) best = i;
  }
  return best;
}

// out[o] = reduce(x[o*n : (o+1)*n]).
template <class T>
void reduce_rows(ReduceOp op, const T* x, int64_t outer, int64_t n, const Tensor& out) {
  if (op == ReduceOp::ArgMax || op == ReduceOp::ArgMin) {
    int64_t* o = out.data<int64_t>();
    parallel_for(outer, std::max<int64_t>(1, 32768 / std::max<int64_t>(n, 1)), [&](int64_t a, int64_t b) {
      for (int64_t i = a; i < b; ++i) o[i] = arg_run(op == ReduceOp::ArgMax, x + i * n, n);
    });
    return;
  }
  T* o = out.data<T>();
  if (outer == 1 && op == ReduceOp::Sum && n >= 65536) {
    // One long sum: per-thread partials over fixed chunks, combined in order.
    int nt = get_num_threads();
    std::vector<Acc<T>> part(nt, 0);
    int64_t per = (n + nt - 1) / nt;
    parallel_for(nt, 1, [&](int64_t a, int64_t b) {
      for (int64_t t = a; t < b; ++t) {
        int64_t s = t * per, e = std::min(n, s + per);
        if (s < e) part[t] = sum_run(x + s, e - s);
      }
    });
    Acc<T> total = 0;
    for (auto p : part) total += p;
    o[0] = static_cast<T>(total);
    return;
  }
  parallel_for(outer, std::max<int64_t>(1, 32768 / std::max<int64_t>(n, 1)), [&](int64_t a, int64_t b) {
    for (int64_t i = a; i < b; ++i) o[i] = reduce_run(op, x + i * n, n);
  });
}

// out[j] = reduce_i x[i*k + j].
template <class T>
void reduce_cols(ReduceOp op, const T* x, int64_t rows, int64_t k, const Tensor& out) {
  T* o = out.data<T>();
  parallel_for(k, std::max<int64_t>(16, 32768 / std::max<int64_t>(rows, 1)), [&](int64_t a, int64_t b) {
    int64_t w = b - a;
    if (op == ReduceOp::Sum) {
      std::vector<Acc<T>> acc(w, 0);
      std::vector<T> blk(w);
      constexpr int64_t kBlock = 256;  // float partials per block, added in double
      for (int64_t r0 = 0; r0 < rows; r0 += kBlock) {
        std::fill(blk.begin(), blk.end(), T(0));
        int64_t r1 = std::min(rows, r0 + kBlock);
        for (int64_t r = r0; r < r1; ++r) {
          const T* row = x + r * k + a;
#pragma omp simd
          for (int64_t j = 0; j < w; ++j) blk[j] += row[j];
        }
        for (int64_t j = 0; j < w; ++j) acc[j] += blk[j];
      }
      for (int64_t j = 0; j < w; ++j) o[a + j] = static_cast<T>(acc[j]);
      return;
    }
    for (int64_t j = 0; j < w; ++j) o[a + j] = identity<T>(op);
    for (int64_t r = 0; r < rows; ++r) {
      const T* row = x + r * k + a;
      for (int64_t j = 0; j < w; ++j) {
        T& v = o[a + j];
        switch (op) {
          case ReduceOp::Prod: v *= row[j]; break;
          case ReduceOp::Max: v = kernels::binary_fn<BinaryOp::Maximum>(v, row[j]); break;
          default: v = kernels::binary_fn<BinaryOp::Minimum>(v, row[j]); break;
        }
      }
    }
  });
}

}  // namespace

void reduce(ReduceOp op, const Tensor& in, const std::vector<int>& axes, const Tensor& out) {
  const int nd = in.ndim();
  std::vector<bool> red(nd, false);
  for (int a : axes) red[a] = true;
  int64_t n_red = 1, n_keep = 1;
  for (int d = 0; d < nd; ++d) (red[d] ? n_red : n_keep) *= in.shape()[d];
  bool arg = op == ReduceOp::ArgMax || op == ReduceOp::ArgMin;
  if (in.size() == 0) {
    if (n_red == 0 && op != ReduceOp::Sum && op != ReduceOp::Prod) {
      throw ValueError("zero-size reduction has no identity for max/min/argmax/argmin");
    }
    if (!arg) LAMINA_DISPATCH_ALL(out.dtype(), "reduce", [&] { fill(out, identity<scalar_t>(op)); });
    return;
  }
  // Where do the reduced axes sit among the non-unit dims? keep* red* is a
  // row reduction, red* keep* a column reduction.
  std::vector<bool> pattern;
  for (int d = 0; d < nd; ++d)
    if (in.shape()[d] != 1) pattern.push_back(red[d]);
  bool trailing = std::is_sorted(pattern.begin(), pattern.end());
  bool leading = std::is_sorted(pattern.rbegin(), pattern.rend());
  Tensor x = in;
  if (!in.is_contiguous() || !(trailing || (leading && !arg))) {
    // Permute to (kept..., reduced...) and make contiguous.
    std::vector<int64_t> perm;
    for (int d = 0; d < nd; ++d) if (!red[d]) perm.push_back(d);
    for (int d = 0; d < nd; ++d) if (red[d]) perm.push_back(d);
    x = contiguous(transpose(detach(in), perm));
    trailing = true;
    leading = false;
  }
  LAMINA_DISPATCH_ALL(x.dtype(), "reduce", [&] {
    if constexpr (std::is_same_v<scalar_t, bool>) {
      throw TypeError("[reduce] bool tensors must be cast before reducing");
    } else {
      if (trailing) reduce_rows<scalar_t>(op, x.data<scalar_t>(), n_keep, n_red, out);
      else reduce_cols<scalar_t>(op, x.data<scalar_t>(), n_red, n_keep, out);
    }
  });
}

}  // namespace lamina::cpu
