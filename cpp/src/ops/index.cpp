// Gathers and their adjoint scatter-adds.
#include "ops/common.h"

namespace lamina {

namespace {

// Wraps negative indices in place, checking each against `n`.
void wrap_indices(const Tensor& host, int64_t n, const std::string& op) {
  int64_t* p = host.data<int64_t>();
  for (int64_t i = 0; i < host.size(); ++i) {
    int64_t v = p[i];
    if (v < -n || v >= n) {
      throw IndexError(op_err(op.c_str(), "index " + std::to_string(v) +
                                              " is out of bounds for axis of size " + std::to_string(n)));
    }
    p[i] = v < 0 ? v + n : v;
  }
}

// Flat int64 indices, negatives wrapped, every index checked against `n`.
// The check runs on the host, so a capture records it as a step of its own:
// a replay checks the new indices before any kernel reads them.
Tensor checked_indices(const Tensor& idx, int64_t n, const char* op) {
  if (is_floating(idx.dtype()) || idx.dtype() == Dtype::Bool) {
    throw TypeError(op_err(op, std::string("indices must be integers, got ") + dtype_name(idx.dtype())));
  }
  Tensor flat = contiguous(cast(reshape(detach(idx), {-1}), Dtype::Int64));
  Tensor host = flat.device() == Device::CPU ? copy(flat) : to_device(flat, Device::CPU);
  wrap_indices(host, n, op);
  if (Capture* c = active_capture()) {
    c->record([host, n, name = std::string(op)] { wrap_indices(host, n, name); });
    c->hold(host);
  }
  return flat.device() == Device::CPU ? host : to_device(host, flat.device());
}

Tensor gather_flat(const Tensor& x, int axis, const Tensor& flat_idx) {
  Tensor xc = contiguous(x);
  Shape os = xc.shape();
  os[axis] = flat_idx.size();
  Tensor out = empty(os, x.dtype(), x.device());
  backend(x.device()).gather(xc, axis, flat_idx, out);
  Shape in_shape = x.shape();
  return record("take", {x}, out, [in_shape, axis, flat_idx](const Tensor& g) {
    // Scattered straight into fresh zeros: index_add() would copy them first.
    Tensor dx = zeros(in_shape, g.dtype(), g.device());
    backend(g.device()).index_add(dx, axis, flat_idx, contiguous(g));
    return std::vector<Tensor>{dx};
  });
}

}  // namespace

Tensor take(const Tensor& x_in, const Tensor& indices, std::optional<int64_t> axis_in) {
  Tensor x = axis_in ? x_in : reshape(x_in, {-1});
  if (x.ndim() == 0) throw ValueError(op_err("take", "cannot index a 0-d tensor"));
  int axis = normalize_axis(axis_in.value_or(0), x.ndim(), "take");
  Tensor flat = checked_indices(indices, x.shape()[axis], "take");
  Tensor out = gather_flat(x, axis, flat);
  Shape s(x.shape().begin(), x.shape().begin() + axis);
  s.insert(s.end(), indices.shape().begin(), indices.shape().end());
  s.insert(s.end(), x.shape().begin() + axis + 1, x.shape().end());
  return reshape(out, s);
}

Tensor take_along_axis(const Tensor& x, const Tensor& indices, int64_t axis_in) {
  const int nd = x.ndim();
  int axis = normalize_axis(axis_in, nd, "take_along_axis");
  if (indices.ndim() != nd) {
    throw ValueError(op_err("take_along_axis", "indices of shape " + shape_str(indices.shape()) +
                                                   " must have the rank of x " + shape_str(x.shape())));
  }
  // Composite: turn (coords..., idx) into flat offsets into x, then take().
  Tensor idx = contiguous(cast(detach(indices), Dtype::Int64));
  Shape xs = x.shape();
  xs[axis] = idx.shape()[axis];
  Shape bshape = broadcast_shapes(xs, idx.shape(), "take_along_axis");
  Tensor flat_i = checked_indices(idx, x.shape()[axis], "take_along_axis");
  Tensor ix = broadcast_to(reshape(flat_i, idx.shape()), bshape);
  Strides cst = contiguous_strides(x.shape());
  Tensor lin = ix * scalar(static_cast<double>(cst[axis]), Dtype::Int64, x.device());
  for (int d = 0; d < nd; ++d) {
    if (d == axis) continue;
    Shape s(nd, 1);
    s[d] = bshape[d];
    Tensor coord = reshape(arange(0, static_cast<double>(bshape[d]), 1, Dtype::Int64, x.device()), s);
    lin = lin + coord * scalar(static_cast<double>(cst[d]), Dtype::Int64, x.device());
  }
  Shape xb = x.shape();
  for (int d = 0; d < nd; ++d)
    if (d != axis && xb[d] == 1 && bshape[d] != 1) xb[d] = bshape[d];
  Tensor xx = xb == x.shape() ? x : contiguous(broadcast_to(x, xb));
  if (xb != x.shape()) {
    // x broadcast along a non-axis dim: recompute offsets for its new strides.
    return take_along_axis(xx, indices, axis);
  }
  return take(reshape(xx, {-1}), lin, 0);
}

Tensor index_add(const Tensor& base, int64_t axis_in, const Tensor& idx, const Tensor& updates) {
  int axis = normalize_axis(axis_in, base.ndim(), "index_add");
  Tensor flat = checked_indices(idx, base.shape()[axis], "index_add");
  Shape us = base.shape();
  us[axis] = flat.size();
  Tensor u = contiguous(cast(reshape(updates, us), base.dtype()));
  Tensor out = copy(detach(base));
  backend(base.device()).index_add(out, axis, flat, u);
  return record("index_add", {base, u}, out, [axis, flat](const Tensor& g) {
    Tensor gc = contiguous(g);
    Shape os = gc.shape();
    os[axis] = flat.size();
    Tensor gu = empty(os, g.dtype(), g.device());
    backend(g.device()).gather(gc, axis, flat, gu);
    return std::vector<Tensor>{g, gu};
  });
}

Tensor one_hot(const Tensor& x, int64_t num_classes, Dtype dtype) {
  if (num_classes <= 0) throw ValueError(op_err("one_hot", "num_classes must be positive"));
  if (is_floating(x.dtype())) {
    throw TypeError(op_err("one_hot", std::string("expected integer class ids, got ") + dtype_name(x.dtype())));
  }
  // Out-of-range ids (negative included) give an all-zero row, as keras.ops.one_hot.
  Tensor classes = arange(0, static_cast<double>(num_classes), 1, Dtype::Int64, x.device());
  return cast(binary(BinaryOp::Eq, expand_dims(cast(x, Dtype::Int64), -1), classes), dtype);
}

}  // namespace lamina
