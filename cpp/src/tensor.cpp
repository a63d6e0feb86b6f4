#include "lamina/tensor.h"

#include <cstdlib>
#include <sstream>

#include "lamina/autograd.h"

namespace lamina {

Dtype dtype_from_name(const std::string& n) {
  if (n == "float32" || n == "float") return Dtype::Float32;
  if (n == "float64" || n == "double") return Dtype::Float64;
  if (n == "int32") return Dtype::Int32;
  if (n == "int64" || n == "int") return Dtype::Int64;
  if (n == "bool") return Dtype::Bool;
  throw TypeError("unsupported dtype '" + n +
                  "': lamina supports float32, float64, int32, int64 and bool");
}

Dtype promote_types(Dtype a, Dtype b) {
  if (a == b) return a;
  if (a > b) std::swap(a, b);  // now a has the lower rank
  if (a == Dtype::Bool) return b;
  // int32 with float32 needs float64 to hold every int32 exactly (NumPy's rule);
  // so does int64 with any float.
  if (is_integral(a) && b == Dtype::Float32) return Dtype::Float64;
  return b;
}

Device device_from_name(const std::string& name) {
  std::string base = name.substr(0, name.find(':'));
  if (base == "cpu") return Device::CPU;
  if (base == "cuda" || base == "gpu") return Device::CUDA;
  throw ValueError("unknown device '" + name + "': expected 'cpu' or 'cuda'");
}

std::shared_ptr<Storage> allocate_storage(size_t nbytes, Device device);

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (auto s : shape) n *= s;
  return n;
}

Strides contiguous_strides(const Shape& shape) {
  Strides st(shape.size());
  int64_t s = 1;
  for (int i = static_cast<int>(shape.size()) - 1; i >= 0; --i) {
    st[i] = s;
    s *= shape[i] > 0 ? shape[i] : 1;
  }
  return st;
}

std::string shape_str(const Shape& shape) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  if (shape.size() == 1) os << ",";
  os << ")";
  return os.str();
}

int normalize_axis(int64_t axis, int ndim, const char* op) {
  if (axis < -ndim || axis >= (ndim == 0 ? 1 : ndim)) {
    throw IndexError(std::string("[") + op + "] axis " + std::to_string(axis) +
                     " is out of bounds for a tensor of rank " + std::to_string(ndim));
  }
  return static_cast<int>(axis < 0 ? axis + ndim : axis);
}

int64_t Tensor::shape(int axis) const { return impl_->shape[normalize_axis(axis, ndim(), "shape")]; }

int64_t Tensor::size() const { return shape_numel(impl_->shape); }

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (int i = ndim() - 1; i >= 0; --i) {
    if (impl_->shape[i] == 1) continue;
    if (impl_->strides[i] != expected) return false;
    expected *= impl_->shape[i];
  }
  return true;
}

void Tensor::set_requires_grad(bool r) {
  if (r && !is_floating(dtype())) {
    throw TypeError(std::string("only float tensors can require gradients, got ") +
                    dtype_name(dtype()));
  }
  if (!is_leaf() && !r) {
    throw ValueError("requires_grad can only be turned off on leaf tensors; use detach()");
  }
  impl_->requires_grad = r;
}

Tensor empty(const Shape& shape, Dtype dtype, Device device) {
  for (auto s : shape) {
    if (s < 0) throw ValueError("negative dimension in shape " + shape_str(shape));
  }
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = allocate_storage(shape_numel(shape) * itemsize(dtype), device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor make_view(const Tensor& base, Shape shape, Strides strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.impl()->storage;
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = base.dtype();
  return Tensor(std::move(impl));
}

Tensor from_blob(void* data, Shape shape, Strides strides, Dtype dtype, Device device,
                 std::shared_ptr<void> keepalive) {
  auto st = std::make_shared<Storage>();
  st->data = data;
  st->device = device;
  st->keepalive = std::move(keepalive);
  int64_t span = 1;
  for (size_t i = 0; i < shape.size(); ++i) span += (shape[i] - 1) * strides[i];
  st->nbytes = shape_numel(shape) ? span * itemsize(dtype) : 0;
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::move(st);
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

}  // namespace lamina
