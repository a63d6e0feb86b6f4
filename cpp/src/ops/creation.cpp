// Creating tensors, copies, casts and moves between devices.
#include <cmath>

#include "ops/common.h"

namespace lamina {

void cuda_copy_bytes(void* dst, const void* src, size_t n, bool dst_cuda, bool src_cuda);

Tensor full(const Shape& shape, double value, Dtype dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  backend(device).fill(t, value);
  return t;
}
Tensor zeros(const Shape& shape, Dtype dtype, Device device) { return full(shape, 0.0, dtype, device); }
Tensor ones(const Shape& shape, Dtype dtype, Device device) { return full(shape, 1.0, dtype, device); }
Tensor scalar(double value, Dtype dtype, Device device) { return full({}, value, dtype, device); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype(), t.device()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype(), t.device()); }
Tensor scalar_like(double v, const Tensor& t) { return scalar(v, t.dtype(), t.device()); }

Tensor arange(double start, double stop, double step, Dtype dtype, Device device) {
  if (step == 0) throw ValueError("[arange] step must not be zero");
  int64_t n = static_cast<int64_t>(std::ceil((stop - start) / step));
  n = std::max<int64_t>(n, 0);
  Tensor t = empty({n}, dtype, Device::CPU);
  LAMINA_DISPATCH_ALL(dtype, "arange", [&] {
    scalar_t* p = t.data<scalar_t>();
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<scalar_t>(start + i * step);
  });
  return device == Device::CPU ? t : to_device(t, device);
}

Tensor eye(int64_t n, int64_t m, int64_t k, Dtype dtype, Device device) {
  if (n < 0 || m < 0) throw ValueError("[eye] negative size");
  Tensor t = zeros({n, m}, dtype, Device::CPU);
  LAMINA_DISPATCH_ALL(dtype, "eye", [&] {
    scalar_t* p = t.data<scalar_t>();
    for (int64_t i = 0; i < n; ++i)
      if (i + k >= 0 && i + k < m) p[i * m + i + k] = scalar_t(1);
  });
  return device == Device::CPU ? t : to_device(t, device);
}

Tensor random_uniform(const Shape& shape, double low, double high, Dtype dtype, uint64_t seed,
                      uint64_t counter, Device device) {
  Tensor u = empty(shape, float_type(dtype), device);
  backend(device).random(u, seed, counter, false);
  if (low == 0.0 && high == 1.0) return u;
  return add(multiply(u, scalar(high - low, u.dtype(), device)), scalar(low, u.dtype(), device));
}

Tensor random_normal(const Shape& shape, double mean, double stddev, Dtype dtype, uint64_t seed,
                     uint64_t counter, Device device) {
  Tensor z = empty(shape, float_type(dtype), device);
  backend(device).random(z, seed, counter, true);
  if (mean == 0.0 && stddev == 1.0) return z;
  return add(multiply(z, scalar(stddev, z.dtype(), device)), scalar(mean, z.dtype(), device));
}

Tensor copy(const Tensor& t) {
  Tensor out = empty(t.shape(), t.dtype(), t.device());
  backend(t.device()).copy(t, out);
  return record("copy", {t}, out, [](const Tensor& g) { return std::vector<Tensor>{g}; });
}

Tensor contiguous(const Tensor& t) { return t.is_contiguous() ? t : copy(t); }

Tensor cast(const Tensor& t, Dtype dtype) {
  if (t.dtype() == dtype) return t;
  Tensor out = empty(t.shape(), dtype, t.device());
  backend(t.device()).copy(t, out);
  Dtype src = t.dtype();
  return record("cast", {t}, out, [src](const Tensor& g) { return std::vector<Tensor>{cast(g, src)}; });
}

Tensor to_device(const Tensor& t, Device device) {
  if (t.device() == device) return t;
  capture_taint("it moves data between devices");
  Tensor src = contiguous(t);
  Tensor out = empty(t.shape(), t.dtype(), device);
  cuda_copy_bytes(out.data_ptr(), src.data_ptr(), src.nbytes(), device == Device::CUDA,
                  src.device() == Device::CUDA);
  Device from = t.device();
  return record("to_device", {t}, out,
                [from](const Tensor& g) { return std::vector<Tensor>{to_device(g, from)}; });
}

void assign(const Tensor& dst, const Tensor& src_in) {
  check_same_device(dst, src_in, "assign");
  Shape bs = broadcast_shapes(dst.shape(), src_in.shape(), "assign");
  if (bs != dst.shape()) {
    throw ValueError(op_err("assign", "cannot broadcast a value of shape " +
                                          shape_str(src_in.shape()) + " into shape " +
                                          shape_str(dst.shape())));
  }
  Tensor src = src_in;
  // Overlapping source and destination (x[1:] = x[:-1]) must read before writing.
  if (src.impl()->storage == dst.impl()->storage) src = contiguous(copy(detach(src)));
  backend(dst.device()).copy(expand_view(src, dst.shape()), dst);
}

}  // namespace lamina
