#pragma once
// Per-channel sums over the rows of an (M, C) matrix, for the kernels that
// reduce columns while they pass over the data (batch norm, bias gradients).
// Sums accumulate in T over blocks of kBlock rows (vectorised across
// channels, in registers for 16/32/64 channels), each block folded into
// double, per fixed thread chunk, chunks combined in order: results do not
// depend on timing.
#include <algorithm>
#include <vector>

#include "lamina/threads.h"

namespace lamina::cpu::detail {

constexpr int64_t kBlock = 64;

// Per-channel sums (s1, s2) of the pairs rows(r0, r1, a1, a2) adds into T
// accumulators, over all M rows; see the file comment for the order.
template <class T, class Rows>
void channel_sums(int64_t M, int64_t C, Rows&& rows, std::vector<double>& s1,
                  std::vector<double>& s2) {
  const int nc = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(get_num_threads(), M)));
  const int64_t per = (M + nc - 1) / nc;
  std::vector<double> part(2 * nc * C, 0.0);
  parallel_for(nc, 1, [&](int64_t c0, int64_t c1) {
    std::vector<T> a(2 * C);
    for (int64_t c = c0; c < c1; ++c) {
      double *p1 = part.data() + 2 * c * C, *p2 = p1 + C;
      const int64_t end = std::min(M, (c + 1) * per);
      for (int64_t b = c * per; b < end; b += kBlock) {
        std::fill(a.begin(), a.end(), T(0));
        rows(b, std::min(end, b + kBlock), a.data(), a.data() + C);
        for (int64_t k = 0; k < C; ++k) {
          p1[k] += a[k];
          p2[k] += a[C + k];
        }
      }
    }
  });
  s1.assign(C, 0.0);
  s2.assign(C, 0.0);
  for (int c = 0; c < nc; ++c)
    for (int64_t k = 0; k < C; ++k) {
      s1[k] += part[2 * c * C + k];
      s2[k] += part[(2 * c + 1) * C + k];
    }
}

// Adds f(row, k, &t1, &t2) over rows [r0, r1) into a1/a2. CC > 0 fixes the
// channel count at compile time so the accumulators live in registers.
template <int CC, class T, class F>
void add_rows(int64_t r0, int64_t r1, int64_t C_rt, T* a1, T* a2, F&& f) {
  if constexpr (CC > 0) {
    T l1[CC] = {}, l2[CC] = {};
    for (int64_t r = r0; r < r1; ++r) {
#pragma omp simd
      for (int k = 0; k < CC; ++k) f(r, k, l1[k], l2[k]);
    }
    for (int k = 0; k < CC; ++k) {
      a1[k] += l1[k];
      a2[k] += l2[k];
    }
  } else {
    for (int64_t r = r0; r < r1; ++r) {
#pragma omp simd
      for (int64_t k = 0; k < C_rt; ++k) f(r, k, a1[k], a2[k]);
    }
  }
}

template <class T, class F>
void add_rows_any(int64_t r0, int64_t r1, int64_t C, T* a1, T* a2, F&& f) {
  switch (C) {
    case 16: return add_rows<16>(r0, r1, C, a1, a2, f);
    case 32: return add_rows<32>(r0, r1, C, a1, a2, f);
    case 64: return add_rows<64>(r0, r1, C, a1, a2, f);
    default: return add_rows<0>(r0, r1, C, a1, a2, f);
  }
}

// Per-channel sums (s1, s2) of f(row, k, &t1, &t2) over all M rows.
template <class T, class F>
void sum_pairs(int64_t M, int64_t C, F&& f, std::vector<double>& s1, std::vector<double>& s2) {
  channel_sums<T>(M, C, [&](int64_t r0, int64_t r1, T* a1, T* a2) {
    add_rows_any(r0, r1, C, a1, a2, f);
  }, s1, s2);
}

// Rows per parallel task for an elementwise pass over (M, C).
inline int64_t row_grain(int64_t C) {
  return std::max<int64_t>(1, 16384 / std::max<int64_t>(C, 1));
}

}  // namespace lamina::cpu::detail
