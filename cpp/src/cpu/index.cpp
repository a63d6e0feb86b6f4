// Gather along an axis and its adjoint, scatter-add (used by take's backward
// and by embedding lookups, so no one-hot is ever materialised).
#include <cstring>

#include "cpu/kernels.h"
#include "lamina/threads.h"

namespace lamina::cpu {

namespace {
// (pre, axis, post) sizes of a contiguous tensor split at `axis`.
void split3(const Shape& s, int axis, int64_t* pre, int64_t* mid, int64_t* post) {
  *pre = 1;
  *post = 1;
  for (int d = 0; d < axis; ++d) *pre *= s[d];
  for (size_t d = axis + 1; d < s.size(); ++d) *post *= s[d];
  *mid = s[axis];
}
}  // namespace

void gather(const Tensor& src, int axis, const Tensor& idx, const Tensor& out) {
  int64_t pre, n_src, post;
  split3(src.shape(), axis, &pre, &n_src, &post);
  const int64_t n_idx = idx.size();
  const int64_t* ix = idx.data<int64_t>();
  const size_t isz = itemsize(src.dtype());
  const char* s = static_cast<const char*>(src.data_ptr());
  char* o = static_cast<char*>(out.data_ptr());
  parallel_for(pre * n_idx, std::max<int64_t>(1, 16384 / std::max<int64_t>(post, 1)), [&](int64_t a, int64_t b) {
    for (int64_t r = a; r < b; ++r) {
      int64_t p = r / n_idx, j = r % n_idx;
      std::memcpy(o + (r * post) * isz, s + ((p * n_src + ix[j]) * post) * isz, post * isz);
    }
  });
}

namespace {
template <class T>
void index_add_typed(T* d, const T* s, const int64_t* ix, int64_t pre, int64_t n_dst, int64_t n_idx,
                     int64_t post) {
  // Parallel over `post` columns: rows hit by repeated indices never race.
  parallel_for(post, std::max<int64_t>(64, 16384 / std::max<int64_t>(pre * n_idx, 1)), [&](int64_t c0, int64_t c1) {
    for (int64_t p = 0; p < pre; ++p)
      for (int64_t j = 0; j < n_idx; ++j) {
        T* drow = d + (p * n_dst + ix[j]) * post;
        const T* srow = s + (p * n_idx + j) * post;
#pragma omp simd
        for (int64_t c = c0; c < c1; ++c) drow[c] += srow[c];
      }
  });
}
}  // namespace

void index_add(const Tensor& dst, int axis, const Tensor& idx, const Tensor& src) {
  int64_t pre, n_dst, post;
  split3(dst.shape(), axis, &pre, &n_dst, &post);
  LAMINA_DISPATCH_NUMERIC(dst.dtype(), "index_add", [&] {
    index_add_typed<scalar_t>(dst.data<scalar_t>(), src.data<scalar_t>(), idx.data<int64_t>(), pre,
                              n_dst, idx.size(), post);
  });
}

}  // namespace lamina::cpu
