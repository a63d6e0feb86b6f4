// Elementwise ops: validation, promotion and broadcasting once, then the
// device kernel; each op's backward rule sits in its case below.
#include <cmath>

#include "lamina/kernels/binary.h"
#include "lamina/kernels/unary.h"
#include "ops/common.h"

namespace lamina {

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1) {
      throw ValueError(op_err(op, "shapes " + shape_str(a) + " and " + shape_str(b) +
                                      " cannot be broadcast together"));
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Tensor expand_view(const Tensor& t, const Shape& shape) {
  if (t.shape() == shape) return t;
  size_t n = shape.size(), off = n - t.shape().size();
  Strides st(n, 0);
  for (size_t i = 0; i < t.shape().size(); ++i)
    st[i + off] = t.shape()[i] == 1 ? 0 : t.strides()[i];
  return make_view(t, shape, st, t.offset());
}

void check_same_device(const Tensor& a, const Tensor& b, const char* op) {
  if (a.device() != b.device()) {
    throw ValueError(op_err(op, std::string("operands are on different devices: ") +
                                    device_name(a.device()) + " and " + device_name(b.device())));
  }
}

Dtype result_dtype(const Tensor& a, bool weak_a, const Tensor& b, bool weak_b) {
  if (weak_a && !weak_b) return result_dtype(b, false, a, true);
  if (weak_b && !weak_a) {
    Dtype s = b.dtype(), t = a.dtype();
    if (is_floating(s) && !is_floating(t)) return Dtype::Float32;
    if (is_integral(s) && t == Dtype::Bool) return Dtype::Int64;
    return t;
  }
  return promote_types(a.dtype(), b.dtype());
}

namespace {

const char* unary_name(UnaryOp op) {
  static const char* names[] = {"negative", "abs", "exp", "log", "log1p", "expm1", "sqrt",
                                "square", "sign", "tanh", "sigmoid", "relu", "erf", "sin",
                                "cos", "floor", "ceil", "round", "reciprocal", "logical_not",
                                "isnan", "isinf", "isfinite", "gelu", "gelu_grad"};
  return names[static_cast<int>(op)];
}

const char* binary_name(BinaryOp op) {
  static const char* names[] = {"add", "subtract", "multiply", "divide", "power", "maximum",
                                "minimum", "floor_divide", "mod", "relu_grad", "equal",
                                "not_equal", "less", "less_equal", "greater", "greater_equal",
                                "logical_and", "logical_or", "logical_xor"};
  return names[static_cast<int>(op)];
}

bool vjp_reads_input(UnaryOp op) {
  switch (op) {
    case UnaryOp::Neg: case UnaryOp::Exp: case UnaryOp::Expm1: case UnaryOp::Sqrt:
    case UnaryOp::Tanh: case UnaryOp::Sigmoid: case UnaryOp::Relu: case UnaryOp::Reciprocal:
      return false;
    default: return true;
  }
}

std::vector<Tensor> unary_vjp(UnaryOp op, const Tensor& x, const Tensor& out, const Tensor& g) {
  switch (op) {
    case UnaryOp::Neg: return {-g};
    case UnaryOp::Abs: return {g * sign(x)};
    case UnaryOp::Exp: return {g * out};
    case UnaryOp::Log: return {g / x};
    case UnaryOp::Log1p: return {g / (x + 1.0)};
    case UnaryOp::Expm1: return {g * (out + 1.0)};
    case UnaryOp::Sqrt: return {g / (out * 2.0)};
    case UnaryOp::Square: return {g * x * 2.0};
    case UnaryOp::Tanh: return {g * (1.0 - out * out)};
    case UnaryOp::Sigmoid: return {g * out * (1.0 - out)};
    case UnaryOp::Relu: return {binary(BinaryOp::ReluGrad, g, out)};
    case UnaryOp::Erf: return {g * exp(-(x * x)) * (2.0 / std::sqrt(M_PI))};
    case UnaryOp::Gelu: return {g * unary(UnaryOp::GeluGrad, x)};
    case UnaryOp::GeluGrad: {  // d/dx (Phi + x phi) = phi * (2 - x^2)
      Tensor pdf = exp(x * x * -0.5) * (1.0 / std::sqrt(2.0 * M_PI));
      return {g * pdf * (2.0 - x * x)};
    }
    case UnaryOp::Sin: return {g * unary(UnaryOp::Cos, x)};
    case UnaryOp::Cos: return {-(g * unary(UnaryOp::Sin, x))};
    case UnaryOp::Reciprocal: return {-(g * out * out)};
    default: return {zeros_like(g)};  // piecewise-constant: sign, floor, ceil, round
  }
}

}  // namespace

Tensor unary(UnaryOp op, const Tensor& x_in) {
  Tensor x = x_in;
  if (kernels::unary_float_only(op)) x = cast(x, float_type(x.dtype()));
  bool pred = kernels::unary_returns_bool(op);
  if (!pred && x.dtype() == Dtype::Bool && op != UnaryOp::Abs) {
    throw TypeError(op_err(unary_name(op), "not supported for bool tensors"));
  }
  if (x.dtype() == Dtype::Bool && op == UnaryOp::Abs) return x;
  if (pred && !is_floating(x.dtype()) && op != UnaryOp::LogicalNot) {
    bool v = op == UnaryOp::IsFinite;  // ints are never nan or inf
    return full(x.shape(), v, Dtype::Bool, x.device());
  }
  Tensor out = empty(x.shape(), pred ? Dtype::Bool : x.dtype(), x.device());
  backend(x.device()).unary(op, x, out);
  if (pred) return out;
  Tensor saved_out = detach(out);
  // Gradients written from the output alone do not hold the input alive.
  Tensor saved_x = vjp_reads_input(op) ? detach(x) : Tensor();
  return record(unary_name(op), {x}, out, [op, saved_x, saved_out](const Tensor& g) {
    return unary_vjp(op, saved_x, saved_out, g);
  });
}

namespace {

std::vector<Tensor> binary_vjp(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out,
                               const Tensor& g, bool need_b) {
  switch (op) {
    case BinaryOp::Add: return {g, g};
    case BinaryOp::Sub: return {g, -g};
    case BinaryOp::Mul: return {g * b, g * a};
    case BinaryOp::Div: return {g / b, need_b ? -(g * out / b) : Tensor()};
    case BinaryOp::Pow: {
      Tensor ga = g * b * power(a, b - scalar_like(1, b));
      Tensor gb;
      if (need_b) {
        // d/db a^b = a^b log a; taken as 0 where a == 0 (the limit from a > 0).
        Tensor pos = binary(BinaryOp::Gt, a, scalar_like(0, a));
        Tensor safe_a = where(pos, a, ones_like(a));
        gb = g * out * where(binary(BinaryOp::Eq, a, scalar_like(0, a)), zeros_like(a), log(safe_a));
      }
      return {ga, gb};
    }
    case BinaryOp::Maximum:
    case BinaryOp::Minimum: {
      // Ties split the gradient evenly, as TensorFlow and PyTorch do.
      BinaryOp win = op == BinaryOp::Maximum ? BinaryOp::Gt : BinaryOp::Lt;
      Tensor wa = cast(binary(win, a, b), g.dtype());
      Tensor tie = cast(binary(BinaryOp::Eq, a, b), g.dtype());
      Tensor share_a = wa + tie * 0.5;
      return {g * share_a, g * (1.0 - share_a)};
    }
    case BinaryOp::ReluGrad:  // piecewise constant in b
      return {binary(BinaryOp::ReluGrad, g, b), need_b ? zeros_like(b) : Tensor()};
    case BinaryOp::Mod: return {g, need_b ? -(g * binary(BinaryOp::FloorDiv, a, b)) : Tensor()};
    default: return {zeros_like(g), zeros_like(g)};  // floor_divide: piecewise constant
  }
}

}  // namespace

Tensor binary(BinaryOp op, const Tensor& a_in, const Tensor& b_in) {
  const char* name = binary_name(op);
  check_same_device(a_in, b_in, name);
  Dtype dt = promote_types(a_in.dtype(), b_in.dtype());
  if (op == BinaryOp::Div && !is_floating(dt)) dt = Dtype::Float32;  // true division
  if (dt == Dtype::Bool && !kernels::binary_returns_bool(op)) {
    if (op == BinaryOp::Add || op == BinaryOp::Maximum) op = BinaryOp::LogicalOr;
    else if (op == BinaryOp::Mul || op == BinaryOp::Minimum) op = BinaryOp::LogicalAnd;
    else throw TypeError(op_err(name, "not supported for bool tensors"));
  }
  Tensor a = cast(a_in, dt), b = cast(b_in, dt);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = empty(shape, kernels::binary_returns_bool(op) ? Dtype::Bool : dt, a.device());
  backend(a.device()).binary(op, expand_view(a, shape), expand_view(b, shape), out);
  if (!needs_grad({a, b})) return out;
  Tensor saved_out = detach(out);
  bool need_b = b.requires_grad();
  return record(name, {a, b}, out, [op, a, b, saved_out, need_b](const Tensor& g) {
    return binary_vjp(op, detach(a), detach(b), saved_out, g, need_b);
  });
}

Tensor add(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Add, a, b); }
Tensor subtract(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Sub, a, b); }
Tensor multiply(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Mul, a, b); }
Tensor divide(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Div, a, b); }
Tensor power(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Pow, a, b); }
Tensor maximum(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Maximum, a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Minimum, a, b); }
Tensor negative(const Tensor& x) { return unary(UnaryOp::Neg, x); }
Tensor exp(const Tensor& x) { return unary(UnaryOp::Exp, x); }
Tensor log(const Tensor& x) { return unary(UnaryOp::Log, x); }
Tensor sqrt(const Tensor& x) { return unary(UnaryOp::Sqrt, x); }
Tensor square(const Tensor& x) { return unary(UnaryOp::Square, x); }
Tensor tanh(const Tensor& x) { return unary(UnaryOp::Tanh, x); }
Tensor sigmoid(const Tensor& x) { return unary(UnaryOp::Sigmoid, x); }
Tensor relu(const Tensor& x) { return unary(UnaryOp::Relu, x); }
Tensor abs(const Tensor& x) { return unary(UnaryOp::Abs, x); }
Tensor sign(const Tensor& x) { return unary(UnaryOp::Sign, x); }

Tensor where(const Tensor& cond_in, const Tensor& a_in, const Tensor& b_in) {
  check_same_device(a_in, b_in, "where");
  check_same_device(cond_in, a_in, "where");
  Dtype dt = promote_types(a_in.dtype(), b_in.dtype());
  Tensor a = cast(a_in, dt), b = cast(b_in, dt);
  Tensor c = cond_in.dtype() == Dtype::Bool ? cond_in
                                            : binary(BinaryOp::Ne, cond_in, scalar_like(0, cond_in));
  Shape shape = broadcast_shapes(broadcast_shapes(c.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = empty(shape, dt, a.device());
  backend(a.device()).where(expand_view(c, shape), expand_view(a, shape), expand_view(b, shape), out);
  Tensor cd = detach(c);
  return record("where", {a, b}, out, [cd](const Tensor& g) {
    Tensor z = zeros_like(g);
    return std::vector<Tensor>{where(cd, g, z), where(cd, z, g)};
  });
}

Tensor clip(const Tensor& x, const Tensor& lo, const Tensor& hi) {
  // Built from where(): the gradient flows to x inside [lo, hi] and to the
  // bound that is active outside it.
  Tensor lo_c = cast(lo, x.dtype()), hi_c = cast(hi, x.dtype());
  Tensor below = binary(BinaryOp::Lt, x, lo_c);
  Tensor above = binary(BinaryOp::Gt, x, hi_c);
  return where(above, hi_c, where(below, lo_c, x));
}

}  // namespace lamina
