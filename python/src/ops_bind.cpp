// lamina._core op functions, named and argued as keras.ops. Every array
// argument accepts a Tensor, a NumPy array or a Python scalar.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "convert.h"
#include "lamina/autograd.h"
#include "lamina/capture.h"

namespace lamina::py {

namespace {

Shape parse_shape(nb::handle obj) {
  if (PyLong_Check(obj.ptr()) || (PyIndex_Check(obj.ptr()) && !PySequence_Check(obj.ptr())))
    return {nb::cast<int64_t>(obj)};
  Shape s;
  for (nb::handle h : nb::iter(obj)) s.push_back(nb::cast<int64_t>(h));
  return s;
}

Tensor T(nb::handle h) { return to_tensor(h); }

template <BinaryOp Op>
void def_binary(nb::module_& m, const char* name) {
  m.def(name, [](nb::handle a, nb::handle b) {
    auto [x, y] = promote_pair(a, b);
    return binary(Op, x, y);
  }, nb::arg("x1"), nb::arg("x2"));
}

template <UnaryOp Op>
void def_unary(nb::module_& m, const char* name) {
  m.def(name, [](nb::handle x) { return unary(Op, T(x)); }, nb::arg("x"));
}

using ReduceFn = Tensor (*)(const Tensor&, const Axes&, bool);

void def_reduce(nb::module_& m, const char* name, ReduceFn fn) {
  m.def(name, [fn](nb::handle x, nb::handle axis, bool keepdims) {
    return fn(T(x), parse_axes(axis), keepdims);
  }, nb::arg("x"), nb::arg("axis") = nb::none(), nb::arg("keepdims") = false);
}

Dtype default_dtype(nb::handle dtype, Dtype fallback) {
  auto d = parse_dtype(dtype);
  return d ? *d : fallback;
}

}  // namespace

void init_ops(nb::module_& m) {
  m.def("convert_to_tensor",
        [](nb::handle x, nb::handle dtype, bool copy) { return to_tensor(x, parse_dtype(dtype), copy); },
        nb::arg("x"), nb::arg("dtype") = nb::none(), nb::arg("copy") = true);
  m.def("from_dlpack", [](nb::ndarray<nb::ro> a) { return wrap_ndarray(a); }, nb::arg("x"),
        "Shares the memory of a DLPack-capable array (NumPy, PyTorch, ...) without copying.");
  m.def("result_dtype_name", [](nb::handle a, nb::handle b) {
    Operand x = to_operand(a), y = to_operand(b);
    return std::string(dtype_name(result_dtype(x.t, x.weak, y.t, y.weak)));
  });

  def_binary<BinaryOp::Add>(m, "add");
  def_binary<BinaryOp::Sub>(m, "subtract");
  def_binary<BinaryOp::Mul>(m, "multiply");
  def_binary<BinaryOp::Div>(m, "divide");
  def_binary<BinaryOp::Div>(m, "true_divide");
  def_binary<BinaryOp::Pow>(m, "power");
  def_binary<BinaryOp::Maximum>(m, "maximum");
  def_binary<BinaryOp::Minimum>(m, "minimum");
  def_binary<BinaryOp::FloorDiv>(m, "floor_divide");
  def_binary<BinaryOp::Mod>(m, "mod");
  def_binary<BinaryOp::Eq>(m, "equal");
  def_binary<BinaryOp::Ne>(m, "not_equal");
  def_binary<BinaryOp::Lt>(m, "less");
  def_binary<BinaryOp::Le>(m, "less_equal");
  def_binary<BinaryOp::Gt>(m, "greater");
  def_binary<BinaryOp::Ge>(m, "greater_equal");
  def_binary<BinaryOp::LogicalAnd>(m, "logical_and");
  def_binary<BinaryOp::LogicalOr>(m, "logical_or");
  def_binary<BinaryOp::LogicalXor>(m, "logical_xor");

  def_unary<UnaryOp::Neg>(m, "negative");
  def_unary<UnaryOp::Abs>(m, "abs");
  def_unary<UnaryOp::Abs>(m, "absolute");
  def_unary<UnaryOp::Exp>(m, "exp");
  def_unary<UnaryOp::Log>(m, "log");
  def_unary<UnaryOp::Log1p>(m, "log1p");
  def_unary<UnaryOp::Expm1>(m, "expm1");
  def_unary<UnaryOp::Sqrt>(m, "sqrt");
  def_unary<UnaryOp::Square>(m, "square");
  def_unary<UnaryOp::Sign>(m, "sign");
  def_unary<UnaryOp::Tanh>(m, "tanh");
  def_unary<UnaryOp::Sigmoid>(m, "sigmoid");
  def_unary<UnaryOp::Relu>(m, "relu");
  def_unary<UnaryOp::Erf>(m, "erf");
  def_unary<UnaryOp::Sin>(m, "sin");
  def_unary<UnaryOp::Cos>(m, "cos");
  def_unary<UnaryOp::Floor>(m, "floor");
  def_unary<UnaryOp::Ceil>(m, "ceil");
  def_unary<UnaryOp::Round>(m, "round");
  def_unary<UnaryOp::Reciprocal>(m, "reciprocal");
  def_unary<UnaryOp::LogicalNot>(m, "logical_not");
  def_unary<UnaryOp::IsNan>(m, "isnan");
  def_unary<UnaryOp::IsInf>(m, "isinf");
  def_unary<UnaryOp::IsFinite>(m, "isfinite");

  m.def("clip", [](nb::handle x, nb::handle lo, nb::handle hi) {
    return clip(T(x), T(lo), T(hi));
  }, nb::arg("x"), nb::arg("x_min"), nb::arg("x_max"));
  m.def("where", [](nb::handle c, nb::handle a, nb::handle b) {
    auto [x, y] = promote_pair(a, b);
    return where(T(c), x, y);
  }, nb::arg("condition"), nb::arg("x1"), nb::arg("x2"));

  def_reduce(m, "sum", &sum);
  def_reduce(m, "mean", &mean);
  def_reduce(m, "max", &max);
  def_reduce(m, "min", &min);
  def_reduce(m, "prod", &prod);
  def_reduce(m, "var", &var);
  def_reduce(m, "std", &std_);
  def_reduce(m, "logsumexp", &logsumexp);
  m.def("argmax", [](nb::handle x, std::optional<int64_t> axis, bool keepdims) {
    return argmax(T(x), axis, keepdims);
  }, nb::arg("x"), nb::arg("axis") = nb::none(), nb::arg("keepdims") = false);
  m.def("argmin", [](nb::handle x, std::optional<int64_t> axis, bool keepdims) {
    return argmin(T(x), axis, keepdims);
  }, nb::arg("x"), nb::arg("axis") = nb::none(), nb::arg("keepdims") = false);
  m.def("sum_to", [](nb::handle g, nb::handle shape) { return sum_to(T(g), parse_shape(shape)); });

  m.def("matmul", [](nb::handle a, nb::handle b) {
    auto [x, y] = promote_pair(a, b);
    return matmul(x, y);
  }, nb::arg("x1"), nb::arg("x2"));
  m.def("transpose", [](nb::handle x, nb::handle axes) {
    std::optional<std::vector<int64_t>> perm;
    if (!axes.is_none()) perm = parse_shape(axes);
    return transpose(T(x), perm);
  }, nb::arg("x"), nb::arg("axes") = nb::none());
  m.def("reshape", [](nb::handle x, nb::handle shape) { return reshape(T(x), parse_shape(shape)); },
        nb::arg("x"), nb::arg("newshape"));
  m.def("broadcast_to", [](nb::handle x, nb::handle shape) { return broadcast_to(T(x), parse_shape(shape)); },
        nb::arg("x"), nb::arg("shape"));
  m.def("expand_dims", [](nb::handle x, nb::handle axis) {
    Tensor t = T(x);
    Axes ax = parse_axes(axis);
    std::vector<int64_t> a = *ax;
    int out_nd = t.ndim() + static_cast<int>(a.size());
    for (auto& v : a) v = normalize_axis(v, out_nd, "expand_dims");
    std::sort(a.begin(), a.end());
    for (auto v : a) t = expand_dims(t, v);
    return t;
  }, nb::arg("x"), nb::arg("axis"));
  m.def("squeeze", [](nb::handle x, nb::handle axis) { return squeeze(T(x), parse_axes(axis)); },
        nb::arg("x"), nb::arg("axis") = nb::none());
  m.def("slice", [](nb::handle x, std::vector<int64_t> start, std::vector<int64_t> stop,
                    std::vector<int64_t> step) { return slice(T(x), start, stop, step); });
  m.def("concatenate", [](nb::handle xs, int64_t axis) {
    std::vector<Tensor> ts;
    for (nb::handle h : nb::iter(xs)) ts.push_back(T(h));
    return concatenate(ts, axis);
  }, nb::arg("xs"), nb::arg("axis") = 0);
  m.def("stack", [](nb::handle xs, int64_t axis) {
    std::vector<Tensor> ts;
    for (nb::handle h : nb::iter(xs)) ts.push_back(T(h));
    return stack(ts, axis);
  }, nb::arg("x"), nb::arg("axis") = 0);
  m.def("pad_constant", [](nb::handle x, std::vector<std::pair<int64_t, int64_t>> widths, double value) {
    return pad(T(x), widths, value);
  });
  m.def("tile", [](nb::handle x, nb::handle reps) { return tile(T(x), parse_shape(reps)); },
        nb::arg("x"), nb::arg("repeats"));
  m.def("repeat", [](nb::handle x, int64_t repeats, std::optional<int64_t> axis) {
    return repeat(T(x), repeats, axis);
  }, nb::arg("x"), nb::arg("repeats"), nb::arg("axis") = nb::none());
  m.def("take", [](nb::handle x, nb::handle idx, std::optional<int64_t> axis) {
    return take(T(x), T(idx), axis);
  }, nb::arg("x"), nb::arg("indices"), nb::arg("axis") = nb::none());
  m.def("take_along_axis", [](nb::handle x, nb::handle idx, int64_t axis) {
    return take_along_axis(T(x), T(idx), axis);
  }, nb::arg("x"), nb::arg("indices"), nb::arg("axis"));
  m.def("index_add", [](nb::handle base, int64_t axis, nb::handle idx, nb::handle upd) {
    return index_add(T(base), axis, T(idx), T(upd));
  }, nb::arg("x"), nb::arg("axis"), nb::arg("indices"), nb::arg("updates"));
  m.def("one_hot", [](nb::handle x, int64_t n, nb::handle dtype) {
    return one_hot(T(x), n, default_dtype(dtype, Dtype::Float32));
  }, nb::arg("x"), nb::arg("num_classes"), nb::arg("dtype") = nb::none());
  m.def("flip", [](nb::handle x, int64_t axis) { return flip(T(x), axis); });
  m.def("cast", [](nb::handle x, nb::handle dtype) { return cast(T(x), *parse_dtype(dtype)); },
        nb::arg("x"), nb::arg("dtype"));
  m.def("copy", [](nb::handle x) { return copy(T(x)); }, nb::arg("x"));
  m.def("assign",
        [](const Tensor& dst, nb::handle src) { assign(dst, to_tensor(src)); },
        "In-place dst[...] = src with broadcasting and casting; not recorded by autograd.");

  m.def("relu6", [](nb::handle x) { return relu6(T(x)); }, nb::arg("x"));
  m.def("leaky_relu", [](nb::handle x, double s) { return leaky_relu(T(x), s); }, nb::arg("x"),
        nb::arg("negative_slope") = 0.2);
  m.def("elu", [](nb::handle x, double a) { return elu(T(x), a); }, nb::arg("x"), nb::arg("alpha") = 1.0);
  m.def("selu", [](nb::handle x) { return selu(T(x)); }, nb::arg("x"));
  m.def("gelu", [](nb::handle x, bool approx) { return gelu(T(x), approx); }, nb::arg("x"),
        nb::arg("approximate") = true);
  m.def("silu", [](nb::handle x) { return silu(T(x)); }, nb::arg("x"));
  m.def("softplus", [](nb::handle x) { return softplus(T(x)); }, nb::arg("x"));
  m.def("softmax", [](nb::handle x, int64_t axis) { return softmax(T(x), axis); }, nb::arg("x"),
        nb::arg("axis") = -1);
  m.def("log_softmax", [](nb::handle x, int64_t axis) { return log_softmax(T(x), axis); },
        nb::arg("x"), nb::arg("axis") = -1);

  m.def("full", [](nb::handle shape, double v, nb::handle dtype, std::string device) {
    return full(parse_shape(shape), v, default_dtype(dtype, Dtype::Float32), device_from_name(device));
  }, nb::arg("shape"), nb::arg("fill_value"), nb::arg("dtype") = nb::none(), nb::arg("device") = "cpu");
  m.def("arange", [](double start, double stop, double step, nb::handle dtype, std::string device) {
    return arange(start, stop, step, default_dtype(dtype, Dtype::Float32), device_from_name(device));
  }, nb::arg("start"), nb::arg("stop"), nb::arg("step"), nb::arg("dtype").none(), nb::arg("device"));
  m.def("eye", [](int64_t n, int64_t mm, int64_t k, nb::handle dtype, std::string device) {
    return eye(n, mm, k, default_dtype(dtype, Dtype::Float32), device_from_name(device));
  }, nb::arg("n"), nb::arg("m"), nb::arg("k"), nb::arg("dtype").none(), nb::arg("device"));
  m.def("random_uniform", [](nb::handle shape, double lo, double hi, nb::handle dtype, uint64_t seed,
                             uint64_t counter, std::string device) {
    return random_uniform(parse_shape(shape), lo, hi, default_dtype(dtype, Dtype::Float32), seed,
                          counter, device_from_name(device));
  }, nb::arg("shape"), nb::arg("minval"), nb::arg("maxval"), nb::arg("dtype").none(), nb::arg("seed"),
     nb::arg("counter"), nb::arg("device"));
  m.def("random_normal", [](nb::handle shape, double mean, double sd, nb::handle dtype, uint64_t seed,
                            uint64_t counter, std::string device) {
    return random_normal(parse_shape(shape), mean, sd, default_dtype(dtype, Dtype::Float32), seed,
                         counter, device_from_name(device));
  }, nb::arg("shape"), nb::arg("mean"), nb::arg("stddev"), nb::arg("dtype").none(), nb::arg("seed"),
     nb::arg("counter"), nb::arg("device"));
  m.def("to_device", [](const Tensor& t, std::string device) { return to_device(t, device_from_name(device)); });
}

}  // namespace lamina::py
