// Reductions and their backward rules.
#include <algorithm>
#include <cmath>
#include <limits>

#include "ops/common.h"

namespace lamina {

std::vector<int> normalize_axes(const Axes& axes, int ndim, const char* op) {
  std::vector<int> out;
  if (!axes) {
    for (int i = 0; i < ndim; ++i) out.push_back(i);
    return out;
  }
  for (auto a : *axes) {
    if (a < -ndim || a >= std::max(ndim, 1) || (ndim == 0 && a != 0 && a != -1)) {
      throw IndexError(op_err(op, "axis " + std::to_string(a) +
                                      " is out of bounds for a tensor of rank " +
                                      std::to_string(ndim)));
    }
    if (ndim == 0) continue;
    int n = static_cast<int>(a < 0 ? a + ndim : a);
    if (std::find(out.begin(), out.end(), n) != out.end()) {
      throw ValueError(op_err(op, "repeated axis " + std::to_string(a)));
    }
    out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Shape keepdims_shape(const Shape& s, const std::vector<int>& axes) {
  Shape k = s;
  for (int a : axes) k[a] = 1;
  return k;
}

namespace {

Shape drop_axes(const Shape& s, const std::vector<int>& axes) {
  Shape out;
  for (int i = 0; i < static_cast<int>(s.size()); ++i)
    if (std::find(axes.begin(), axes.end(), i) == axes.end()) out.push_back(s[i]);
  return out;
}

const char* reduce_name(ReduceOp op) {
  static const char* names[] = {"sum", "prod", "max", "min", "argmax", "argmin"};
  return names[static_cast<int>(op)];
}

}  // namespace

Tensor reduce(ReduceOp op, const Tensor& x_in, const Axes& axes_in, bool keepdims) {
  const char* name = reduce_name(op);
  std::vector<int> axes = normalize_axes(axes_in, x_in.ndim(), name);
  Tensor x = x_in;
  // NumPy sums and multiplies bools and int32 in int64.
  if ((op == ReduceOp::Sum || op == ReduceOp::Prod) && !is_floating(x.dtype()))
    x = cast(x, Dtype::Int64);
  if (x.dtype() == Dtype::Bool) {
    // max/min of bools are bools (any/all), as NumPy; computed in int32.
    if (op == ReduceOp::Max || op == ReduceOp::Min)
      return cast(reduce(op, cast(x, Dtype::Int32), axes_in, keepdims), Dtype::Bool);
    x = cast(x, Dtype::Int32);
  }
  for (int a : axes) {
    if (x.shape()[a] == 0 && op != ReduceOp::Sum && op != ReduceOp::Prod) {
      throw ValueError(op_err(name, "zero-size axis " + std::to_string(a) + " in shape " +
                                        shape_str(x.shape()) + " has no identity"));
    }
  }
  bool arg = op == ReduceOp::ArgMax || op == ReduceOp::ArgMin;
  Shape kshape = keepdims_shape(x.shape(), axes);
  Tensor out = empty(kshape, arg ? Dtype::Int64 : x.dtype(), x.device());
  backend(x.device()).reduce(op, x, axes, out);
  Shape final_shape = keepdims ? kshape : drop_axes(x.shape(), axes);
  out = make_view(out, final_shape, contiguous_strides(final_shape), 0);
  if (arg) return out;
  Tensor saved_out = detach(out);
  Shape xshape = x.shape();
  std::vector<int64_t> ax(axes.begin(), axes.end());
  return record(name, {x}, out, [op, x, saved_out, kshape, xshape, ax](const Tensor& g) {
    Tensor gk = broadcast_to(reshape(g, kshape), xshape);
    if (op == ReduceOp::Sum) return std::vector<Tensor>{gk};
    Tensor ok = broadcast_to(reshape(saved_out, kshape), xshape);
    Tensor xd = detach(x);
    if (op == ReduceOp::Prod) {
      // d prod / dx_i = product of the others, without dividing by x_i = 0:
      // no zero in the slice gives out/x; one zero gives the product of the
      // non-zeros at that zero and 0 elsewhere; two or more give 0.
      Tensor zero = binary(BinaryOp::Eq, xd, zeros_like(xd));
      Tensor nz = where(zero, ones_like(xd), xd);
      Tensor p_nz = broadcast_to(prod(nz, ax, true), xshape);
      Tensor nzero = broadcast_to(sum(cast(zero, xd.dtype()), ax, true), xshape);
      Tensor none = binary(BinaryOp::Eq, nzero, zeros_like(nzero));
      Tensor one = binary(BinaryOp::Eq, nzero, ones_like(nzero));
      Tensor z = zeros_like(xd);
      Tensor others = where(zero, where(one, p_nz, z), where(none, p_nz / nz, z));
      (void)ok;
      return std::vector<Tensor>{gk * others};
    }
    // max/min: the gradient is shared among the elements that hit the extreme.
    Tensor hit = cast(binary(BinaryOp::Eq, xd, ok), g.dtype());
    Tensor count = broadcast_to(sum(hit, ax, true), xshape);
    return std::vector<Tensor>{gk * hit / count};
  });
}

Tensor sum(const Tensor& x, const Axes& axes, bool keepdims) { return reduce(ReduceOp::Sum, x, axes, keepdims); }
Tensor prod(const Tensor& x, const Axes& axes, bool keepdims) { return reduce(ReduceOp::Prod, x, axes, keepdims); }
Tensor max(const Tensor& x, const Axes& axes, bool keepdims) { return reduce(ReduceOp::Max, x, axes, keepdims); }
Tensor min(const Tensor& x, const Axes& axes, bool keepdims) { return reduce(ReduceOp::Min, x, axes, keepdims); }

namespace {
Tensor arg_reduce(ReduceOp op, const Tensor& x, std::optional<int64_t> axis, bool keepdims) {
  if (axis) return reduce(op, x, std::vector<int64_t>{*axis}, keepdims);
  Tensor r = reduce(op, reshape(x, {-1}), std::vector<int64_t>{0}, false);
  return keepdims ? reshape(r, Shape(x.ndim(), 1)) : r;
}
}  // namespace

Tensor argmax(const Tensor& x, std::optional<int64_t> axis, bool keepdims) {
  return arg_reduce(ReduceOp::ArgMax, x, axis, keepdims);
}

Tensor argmin(const Tensor& x, std::optional<int64_t> axis, bool keepdims) {
  return arg_reduce(ReduceOp::ArgMin, x, axis, keepdims);
}

Tensor mean(const Tensor& x_in, const Axes& axes_in, bool keepdims) {
  Tensor x = cast(x_in, float_type(x_in.dtype()));
  std::vector<int> axes = normalize_axes(axes_in, x.ndim(), "mean");
  int64_t n = 1;
  for (int a : axes) n *= x.shape()[a];
  std::vector<int64_t> ax(axes.begin(), axes.end());
  // n == 0 gives 0/0 = nan, as NumPy.
  return sum(x, ax, keepdims) / static_cast<double>(n);
}

Tensor var(const Tensor& x_in, const Axes& axes_in, bool keepdims) {
  Tensor x = cast(x_in, float_type(x_in.dtype()));
  std::vector<int> axes = normalize_axes(axes_in, x.ndim(), "var");
  std::vector<int64_t> ax(axes.begin(), axes.end());
  Tensor centered = x - mean(x, ax, true);
  return mean(centered * centered, ax, keepdims);
}

Tensor std_(const Tensor& x, const Axes& axes, bool keepdims) { return sqrt(var(x, axes, keepdims)); }

Tensor logsumexp(const Tensor& x_in, const Axes& axes_in, bool keepdims) {
  Tensor x = cast(x_in, float_type(x_in.dtype()));
  std::vector<int> axes = normalize_axes(axes_in, x.ndim(), "logsumexp");
  std::vector<int64_t> ax(axes.begin(), axes.end());
  // Shift by the (constant) max so exp never overflows; an infinite max shifts by 0.
  Tensor m = detach(max(x, ax, true));
  m = where(unary(UnaryOp::IsFinite, m), m, zeros_like(m));
  Tensor s = log(sum(exp(x - m), ax, true)) + m;
  if (keepdims) return s;
  return squeeze(s, Axes(ax));
}

Tensor sum_to(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  int lead = g.ndim() - static_cast<int>(shape.size());
  if (lead < 0) {
    throw ValueError(op_err("sum_to", "cannot reduce shape " + shape_str(g.shape()) + " to " +
                                          shape_str(shape)));
  }
  std::vector<int64_t> ax;
  for (int i = 0; i < g.ndim(); ++i) {
    if (i < lead || (shape[i - lead] == 1 && g.shape()[i] != 1)) ax.push_back(i);
  }
  Tensor s = ax.empty() ? g : sum(g, ax, true);
  return reshape(s, shape);
}

}  // namespace lamina
