// Gather along an axis and its adjoint scatter-add on the GPU. Both tensors
// are contiguous and split as (pre, axis, post); indices are flat, wrapped
// and bounds-checked int64 (the op layer checks them on the host).
#include "common.cuh"
#include "kernels.h"
#include "lamina/ops.h"

namespace lamina::gpu {

Tensor device_indices(const Tensor& idx) {
  return idx.device() == Device::CUDA ? idx : to_device(idx, Device::CUDA);
}

namespace {

void split3(const Shape& s, int axis, int64_t* pre, int64_t* mid, int64_t* post) {
  *pre = 1;
  *post = 1;
  for (int d = 0; d < axis; ++d) *pre *= s[d];
  for (size_t d = axis + 1; d < s.size(); ++d) *post *= s[d];
  *mid = s[axis];
}

// out[p, j, c] = src[p, ix[j], c]; U is an unsigned type of the element's size.
template <class U>
__global__ void __launch_bounds__(kThreads)
gather_kernel(int64_t total, const U* src, const int64_t* ix, U* out, int64_t n_idx, int64_t n_src,
              int64_t post) {
  int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (; r < total; r += step) {
    int64_t c = r % post, t = r / post;
    int64_t j = t % n_idx, p = t / n_idx;
    out[r] = src[(p * n_src + ix[j]) * post + c];
  }
}

__device__ __forceinline__ void atomic_add(float* p, float v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add(double* p, double v) { atomicAdd(p, v); }
__device__ __forceinline__ void atomic_add(int32_t* p, int32_t v) {
  atomicAdd(reinterpret_cast<int*>(p), static_cast<int>(v));
}
__device__ __forceinline__ void atomic_add(int64_t* p, int64_t v) {
  // Two's complement: adding as unsigned wraps to the same bits.
  atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
}

// dst[p, ix[j], c] += src[p, j, c]; repeated indices meet in the atomics.
template <class T>
__global__ void __launch_bounds__(kThreads)
index_add_kernel(int64_t total, T* dst, const int64_t* ix, const T* src, int64_t n_idx,
                 int64_t n_dst, int64_t post) {
  int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (; r < total; r += step) {
    int64_t c = r % post, t = r / post;
    int64_t j = t % n_idx, p = t / n_idx;
    atomic_add(dst + (p * n_dst + ix[j]) * post + c, src[r]);
  }
}

}  // namespace

void gather(const Tensor& src_in, int axis, const Tensor& idx_in, const Tensor& out) {
  Tensor src = src_in.is_contiguous() ? src_in : contiguous(src_in);
  Tensor idx = device_indices(idx_in);
  int64_t pre, n_src, post;
  split3(src.shape(), axis, &pre, &n_src, &post);
  const int64_t n_idx = idx.size();
  const int64_t total = pre * n_idx * post;
  if (total == 0) return;
  const int64_t* ix = idx.data<int64_t>();
  auto run = [&](auto tag) {
    using U = decltype(tag);
    gather_kernel<U><<<grid_for(total), kThreads>>>(total, static_cast<const U*>(src.data_ptr()), ix,
                                                     static_cast<U*>(out.data_ptr()), n_idx, n_src, post);
  };
  switch (itemsize(src.dtype())) {
    case 1: run(uint8_t{}); break;
    case 2: run(uint16_t{}); break;
    case 4: run(uint32_t{}); break;
    default: run(uint64_t{}); break;
  }
  check_launch("gather");
}

void index_add(const Tensor& dst, int axis, const Tensor& idx_in, const Tensor& src_in) {
  Tensor src = src_in.is_contiguous() ? src_in : contiguous(src_in);
  Tensor idx = device_indices(idx_in);
  int64_t pre, n_dst, post;
  split3(dst.shape(), axis, &pre, &n_dst, &post);
  const int64_t n_idx = idx.size();
  const int64_t total = pre * n_idx * post;
  LAMINA_DISPATCH_NUMERIC(dst.dtype(), "index_add", [&] {
    using T = scalar_t;
    if (total == 0) return;
    index_add_kernel<T><<<grid_for(total), kThreads>>>(total, dst.data<T>(), idx.data<int64_t>(),
                                                        src.data<T>(), n_idx, n_dst, post);
    check_launch("index_add");
  });
}

}  // namespace lamina::gpu
