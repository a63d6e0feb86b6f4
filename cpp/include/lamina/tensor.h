#pragma once
#include <memory>
#include <string>
#include <vector>

#include "lamina/device.h"
#include "lamina/dtype.h"

namespace lamina {

using Shape = std::vector<int64_t>;
using Strides = std::vector<int64_t>;  // in elements, not bytes

struct Node;

// A block of memory on one device: either ours (`owned`, freed by the
// destructor) or shared with a NumPy/DLPack producer that `keepalive` holds.
struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  Device device = Device::CPU;
  bool owned = false;
  std::shared_ptr<void> keepalive;
  // Allocation order (a capture tells the state that existed before it,
  // which its verification saves and restores, from its own intermediates).
  uint64_t serial;
  Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage();
};

std::shared_ptr<Storage> allocate_storage(size_t nbytes, Device device);
// Frees a storage's memory now, as its destructor would, leaving it empty
// (a captured program re-points its buffers into a planned arena).
void release_memory(Storage& s);

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Strides strides;
  int64_t offset = 0;  // in elements
  Dtype dtype = Dtype::Float32;
  bool requires_grad = false;
  std::shared_ptr<Node> grad_fn;             // null for leaves
  std::shared_ptr<TensorImpl> grad;          // accumulated by backward on leaves
  bool retains_grad = false;
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl_->shape; }
  int64_t shape(int axis) const;  // negative axes count from the end
  const Strides& strides() const { return impl_->strides; }
  int64_t offset() const { return impl_->offset; }
  Dtype dtype() const { return impl_->dtype; }
  Device device() const { return impl_->storage->device; }
  int ndim() const { return static_cast<int>(impl_->shape.size()); }
  int64_t size() const;
  size_t nbytes() const { return size() * itemsize(dtype()); }
  bool is_contiguous() const;

  void* data_ptr() const {
    return static_cast<char*>(impl_->storage->data) + impl_->offset * itemsize(dtype());
  }
  template <class T>
  T* data() const { return static_cast<T*>(data_ptr()); }

  bool requires_grad() const { return impl_->requires_grad; }
  void set_requires_grad(bool r);
  Tensor grad() const { return Tensor(impl_->grad); }
  void set_grad(const Tensor& g) const { impl_->grad = g.impl_; }
  const std::shared_ptr<Node>& grad_fn() const { return impl_->grad_fn; }
  bool is_leaf() const { return impl_->grad_fn == nullptr; }

  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& o) const { return impl_ == o.impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

Strides contiguous_strides(const Shape& shape);
int64_t shape_numel(const Shape& shape);
std::string shape_str(const Shape& shape);

// A new tensor with fresh, uninitialised contiguous storage.
Tensor empty(const Shape& shape, Dtype dtype = Dtype::Float32, Device device = Device::CPU);
// A tensor viewing `base`'s storage with another geometry; no autograd record.
Tensor make_view(const Tensor& base, Shape shape, Strides strides, int64_t offset);
// Wraps external memory (NumPy, DLPack) without copying.
Tensor from_blob(void* data, Shape shape, Strides strides, Dtype dtype, Device device,
                 std::shared_ptr<void> keepalive);

// Normalises a possibly negative axis for an op named `op`; throws IndexError.
int normalize_axis(int64_t axis, int ndim, const char* op);

}  // namespace lamina
