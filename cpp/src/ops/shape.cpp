// Shape ops. Reshape, transpose, broadcast, squeeze, slice and flip return
// views sharing storage; the rest build new tensors. Backward rules beside each.
#include <algorithm>
#include <numeric>

#include "ops/common.h"

namespace lamina {

namespace {

// Strides for viewing `t` as `shape` without a copy, if possible (PyTorch's
// rule: each run of merged input dims must be contiguous within itself).
bool view_strides(const Tensor& t, const Shape& shape, Strides* out) {
  if (t.is_contiguous()) {
    *out = contiguous_strides(shape);
    return true;
  }
  const Shape& os = t.shape();
  const Strides& ost = t.strides();
  Strides ns(shape.size());
  int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
  int64_t chunk_base_stride = ost.empty() ? 1 : ost.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = static_cast<int64_t>(os.size()) - 1; d >= 0; --d) {
    tensor_numel *= os[d];
    if (d == 0 || (os[d - 1] != 1 && ost[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        ns[view_d] = view_numel * chunk_base_stride;
        view_numel *= shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return false;
      if (d > 0) {
        chunk_base_stride = ost[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return false;
  *out = ns;
  return true;
}

}  // namespace

Tensor reshape(const Tensor& x, Shape shape) {
  int64_t known = 1;
  int infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) throw ValueError(op_err("reshape", "only one dimension can be -1"));
      infer = static_cast<int>(i);
    } else if (shape[i] < 0) {
      throw ValueError(op_err("reshape", "negative dimension in " + shape_str(shape)));
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || x.size() % known != 0) {
      throw ValueError(op_err("reshape", "cannot reshape a tensor of shape " + shape_str(x.shape()) +
                                             " into shape " + shape_str(shape)));
    }
    shape[infer] = x.size() / known;
  }
  if (shape_numel(shape) != x.size()) {
    throw ValueError(op_err("reshape", "cannot reshape a tensor of shape " + shape_str(x.shape()) +
                                           " (" + std::to_string(x.size()) + " elements) into shape " +
                                           shape_str(shape)));
  }
  if (shape == x.shape()) return x;
  Strides st;
  Tensor base = x;
  if (!view_strides(x, shape, &st)) {
    base = copy(detach(x));
    st = contiguous_strides(shape);
  }
  Tensor out = make_view(base, shape, st, base.offset());
  Shape in_shape = x.shape();
  return record("reshape", {x}, out, [in_shape](const Tensor& g) {
    return std::vector<Tensor>{reshape(g, in_shape)};
  });
}

Tensor transpose(const Tensor& x, std::optional<std::vector<int64_t>> perm_in) {
  const int nd = x.ndim();
  std::vector<int64_t> perm(nd);
  if (!perm_in) {
    for (int i = 0; i < nd; ++i) perm[i] = nd - 1 - i;
  } else {
    if (static_cast<int>(perm_in->size()) != nd) {
      throw ValueError(op_err("transpose", "axes " + shape_str(*perm_in) +
                                               " do not match a tensor of rank " + std::to_string(nd)));
    }
    std::vector<bool> seen(nd, false);
    for (int i = 0; i < nd; ++i) {
      int a = normalize_axis((*perm_in)[i], nd, "transpose");
      if (seen[a]) throw ValueError(op_err("transpose", "repeated axis in " + shape_str(*perm_in)));
      seen[a] = true;
      perm[i] = a;
    }
  }
  Shape s(nd);
  Strides st(nd);
  for (int i = 0; i < nd; ++i) {
    s[i] = x.shape()[perm[i]];
    st[i] = x.strides()[perm[i]];
  }
  Tensor out = make_view(x, s, st, x.offset());
  std::vector<int64_t> inv(nd);
  for (int i = 0; i < nd; ++i) inv[perm[i]] = i;
  return record("transpose", {x}, out, [inv](const Tensor& g) {
    return std::vector<Tensor>{transpose(g, inv)};
  });
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  Shape b = broadcast_shapes(x.shape(), shape, "broadcast_to");
  if (b != shape) {
    throw ValueError(op_err("broadcast_to", "cannot broadcast shape " + shape_str(x.shape()) +
                                                " to " + shape_str(shape)));
  }
  if (x.shape() == shape) return x;
  // The engine sums the gradient back down to x's shape.
  return record("broadcast_to", {x}, expand_view(x, shape),
                [](const Tensor& g) { return std::vector<Tensor>{g}; });
}

Tensor expand_dims(const Tensor& x, int64_t axis) {
  int a = normalize_axis(axis, x.ndim() + 1, "expand_dims");
  Shape s = x.shape();
  s.insert(s.begin() + a, 1);
  return reshape(x, s);
}

Tensor squeeze(const Tensor& x, const Axes& axes) {
  Shape s;
  if (!axes) {
    for (auto d : x.shape())
      if (d != 1) s.push_back(d);
  } else {
    std::vector<int> ax = normalize_axes(axes, x.ndim(), "squeeze");
    for (int i = 0; i < x.ndim(); ++i) {
      bool drop = std::find(ax.begin(), ax.end(), i) != ax.end();
      if (drop && x.shape()[i] != 1) {
        throw ValueError(op_err("squeeze", "cannot squeeze axis " + std::to_string(i) +
                                               " of size " + std::to_string(x.shape()[i]) +
                                               " in shape " + shape_str(x.shape())));
      }
      if (!drop) s.push_back(x.shape()[i]);
    }
  }
  return reshape(x, s);
}

namespace {
Tensor slice_view(const Tensor& x, const std::vector<int64_t>& start,
                  const std::vector<int64_t>& stop, const std::vector<int64_t>& step) {
  Shape s(x.ndim());
  Strides st(x.ndim());
  int64_t off = x.offset();
  for (int d = 0; d < x.ndim(); ++d) {
    int64_t len = step[d] > 0 ? (stop[d] - start[d] + step[d] - 1) / step[d]
                              : (start[d] - stop[d] - step[d] - 1) / (-step[d]);
    s[d] = std::max<int64_t>(len, 0);
    st[d] = x.strides()[d] * step[d];
    if (s[d] > 0) off += start[d] * x.strides()[d];
  }
  return make_view(x, s, st, off);
}
}  // namespace

Tensor slice(const Tensor& x, const std::vector<int64_t>& start, const std::vector<int64_t>& stop,
             const std::vector<int64_t>& step) {
  if (static_cast<int>(start.size()) != x.ndim() || stop.size() != start.size() ||
      step.size() != start.size()) {
    throw ValueError(op_err("slice", "expected start/stop/step for each of " +
                                         std::to_string(x.ndim()) + " axes"));
  }
  for (auto st : step)
    if (st == 0) throw ValueError(op_err("slice", "slice step cannot be zero"));
  Tensor out = slice_view(x, start, stop, step);
  Shape in_shape = x.shape();
  Dtype dt = x.dtype();
  return record("slice", {x}, out, [in_shape, dt, start, stop, step](const Tensor& g) {
    Tensor z = zeros(in_shape, dt, g.device());
    assign(slice_view(z, start, stop, step), g);
    return std::vector<Tensor>{z};
  });
}

Tensor flip(const Tensor& x, int64_t axis_in) {
  int axis = normalize_axis(axis_in, x.ndim(), "flip");
  std::vector<int64_t> start(x.ndim(), 0), stop(x.shape().begin(), x.shape().end()),
      step(x.ndim(), 1);
  start[axis] = x.shape()[axis] - 1;
  stop[axis] = -1;
  step[axis] = -1;
  // stop=-1 with step=-1 walks down to index 0 inclusive.
  return slice(x, start, stop, step);
}

Tensor concatenate(const std::vector<Tensor>& xs_in, int64_t axis_in) {
  if (xs_in.empty()) throw ValueError(op_err("concatenate", "need at least one tensor"));
  const int nd = xs_in[0].ndim();
  if (nd == 0) throw ValueError(op_err("concatenate", "zero-dimensional tensors cannot be concatenated"));
  int axis = normalize_axis(axis_in, nd, "concatenate");
  Dtype dt = xs_in[0].dtype();
  for (auto& t : xs_in) dt = promote_types(dt, t.dtype());
  std::vector<Tensor> xs;
  Shape out_shape = xs_in[0].shape();
  out_shape[axis] = 0;
  for (auto& t : xs_in) {
    if (t.ndim() != nd) {
      throw ValueError(op_err("concatenate", "all inputs must have the same rank; got shapes " +
                                                 shape_str(xs_in[0].shape()) + " and " +
                                                 shape_str(t.shape())));
    }
    for (int d = 0; d < nd; ++d) {
      if (d != axis && t.shape()[d] != xs_in[0].shape()[d]) {
        throw ValueError(op_err("concatenate", "shapes " + shape_str(xs_in[0].shape()) + " and " +
                                                   shape_str(t.shape()) +
                                                   " differ outside axis " + std::to_string(axis)));
      }
    }
    check_same_device(t, xs_in[0], "concatenate");
    out_shape[axis] += t.shape()[axis];
    xs.push_back(cast(t, dt));
  }
  Tensor out = empty(out_shape, dt, xs[0].device());
  std::vector<int64_t> offsets;
  int64_t off = 0;
  for (auto& t : xs) {
    std::vector<int64_t> start(nd, 0), stop(out_shape.begin(), out_shape.end()), step(nd, 1);
    start[axis] = off;
    stop[axis] = off + t.shape()[axis];
    assign(slice_view(out, start, stop, step), t);
    offsets.push_back(off);
    off += t.shape()[axis];
  }
  std::vector<int64_t> sizes;
  for (auto& t : xs) sizes.push_back(t.shape()[axis]);
  return record("concatenate", xs, out, [axis, offsets, sizes, out_shape, nd](const Tensor& g) {
    std::vector<Tensor> gs;
    for (size_t i = 0; i < offsets.size(); ++i) {
      std::vector<int64_t> start(nd, 0), stop(out_shape.begin(), out_shape.end()), step(nd, 1);
      start[axis] = offsets[i];
      stop[axis] = offsets[i] + sizes[i];
      gs.push_back(slice(g, start, stop, step));
    }
    return gs;
  });
}

Tensor stack(const std::vector<Tensor>& xs, int64_t axis) {
  if (xs.empty()) throw ValueError(op_err("stack", "need at least one tensor"));
  int a = normalize_axis(axis, xs[0].ndim() + 1, "stack");
  std::vector<Tensor> ex;
  for (auto& t : xs) {
    if (t.shape() != xs[0].shape()) {
      throw ValueError(op_err("stack", "all inputs must have the same shape; got " +
                                           shape_str(xs[0].shape()) + " and " + shape_str(t.shape())));
    }
    ex.push_back(expand_dims(t, a));
  }
  return concatenate(ex, a);
}

Tensor pad(const Tensor& x, const std::vector<std::pair<int64_t, int64_t>>& widths, double value) {
  const int nd = x.ndim();
  if (static_cast<int>(widths.size()) != nd) {
    throw ValueError(op_err("pad", "expected " + std::to_string(nd) + " (before, after) pairs for shape " +
                                       shape_str(x.shape()) + ", got " + std::to_string(widths.size())));
  }
  Shape s = x.shape();
  std::vector<int64_t> start(nd), stop(nd), step(nd, 1);
  for (int d = 0; d < nd; ++d) {
    if (widths[d].first < 0 || widths[d].second < 0)
      throw ValueError(op_err("pad", "pad widths must be non-negative"));
    start[d] = widths[d].first;
    stop[d] = widths[d].first + s[d];
    s[d] += widths[d].first + widths[d].second;
  }
  Tensor out = full(s, value, x.dtype(), x.device());
  assign(slice_view(out, start, stop, step), x);
  return record("pad", {x}, out, [start, stop, step](const Tensor& g) {
    return std::vector<Tensor>{slice(g, start, stop, step)};
  });
}

Tensor tile(const Tensor& x_in, const std::vector<int64_t>& reps_in) {
  // Composite: interleave a broadcast axis before each axis, then merge pairs.
  std::vector<int64_t> reps = reps_in;
  Tensor x = x_in;
  while (static_cast<int>(reps.size()) < x.ndim()) reps.insert(reps.begin(), 1);
  Shape xs = x.shape();
  while (xs.size() < reps.size()) xs.insert(xs.begin(), 1);
  x = reshape(x, xs);
  Shape inter, target, final_shape;
  for (size_t d = 0; d < xs.size(); ++d) {
    if (reps[d] < 0) throw ValueError(op_err("tile", "repeats must be non-negative"));
    inter.push_back(1);
    inter.push_back(xs[d]);
    target.push_back(reps[d]);
    target.push_back(xs[d]);
    final_shape.push_back(reps[d] * xs[d]);
  }
  return reshape(contiguous(broadcast_to(reshape(x, inter), target)), final_shape);
}

Tensor repeat(const Tensor& x_in, int64_t repeats, std::optional<int64_t> axis_in) {
  if (repeats < 0) throw ValueError(op_err("repeat", "repeats must be non-negative"));
  Tensor x = axis_in ? x_in : reshape(x_in, {-1});
  int axis = normalize_axis(axis_in.value_or(0), x.ndim(), "repeat");
  Shape inter = x.shape(), target = x.shape(), final_shape = x.shape();
  inter.insert(inter.begin() + axis + 1, 1);
  target.insert(target.begin() + axis + 1, repeats);
  final_shape[axis] *= repeats;
  return reshape(contiguous(broadcast_to(reshape(x, inter), target)), final_shape);
}

}  // namespace lamina
