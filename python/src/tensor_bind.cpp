// lamina.Tensor: properties, NumPy/DLPack exchange and Python operators.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "convert.h"
#include "lamina/autograd.h"
#include "lamina/capture.h"

namespace lamina::py {

namespace {

nb::tuple shape_tuple(const Tensor& t) {
  nb::list l;
  for (auto d : t.shape()) l.append(d);
  return nb::tuple(l);
}

double item(const Tensor& t) {
  if (t.size() != 1) {
    throw ValueError("only tensors with one element can be converted to Python scalars; got shape " +
                     shape_str(t.shape()));
  }
  capture_taint("it reads a tensor's value into Python");
  Tensor c = contiguous(cast(detach(t), Dtype::Float64));
  if (c.device() != Device::CPU) c = to_device(c, Device::CPU);
  return *c.data<double>();
}

template <BinaryOp Op>
Tensor bin(nb::handle a, nb::handle b) {
  auto [x, y] = promote_pair(a, b);
  return binary(Op, x, y);
}

// Python's reflected operators (2 - t): operands swapped back.
template <BinaryOp Op>
Tensor rbin(nb::handle a, nb::handle b) {
  return bin<Op>(b, a);
}

}  // namespace

void init_tensor(nb::module_& m) {
  auto cls = nb::class_<Tensor>(m, "Tensor",
                                "An n-dimensional array on a device, with reverse-mode autograd.");
  // Tensor(other) shares other's storage and graph node: it lets Python
  // subclasses (lamina.Variable) wrap a tensor without copying.
  cls.def(nb::init<const Tensor&>(), nb::arg("other"))
      .def_prop_ro("shape", &shape_tuple)
      .def_prop_ro("dtype", [](const Tensor& t) { return std::string(dtype_name(t.dtype())); })
      .def_prop_ro("ndim", &Tensor::ndim)
      .def_prop_ro("size", &Tensor::size)
      .def_prop_ro("device", [](const Tensor& t) { return std::string(device_name(t.device())); })
      .def_prop_ro("strides", [](const Tensor& t) { return t.strides(); })
      .def_prop_ro("is_leaf", &Tensor::is_leaf)
      .def_prop_ro("grad_fn",
                   [](const Tensor& t) -> std::optional<std::string> {
                     if (!t.grad_fn()) return std::nullopt;
                     return std::string(t.grad_fn()->name);
                   })
      .def_prop_rw("requires_grad", &Tensor::requires_grad, &Tensor::set_requires_grad)
      .def_prop_rw(
          "grad",
          [](const Tensor& t) -> std::optional<Tensor> {
            if (!t.grad().defined()) return std::nullopt;
            return t.grad();
          },
          [](Tensor& t, std::optional<Tensor> g) { t.set_grad(g ? *g : Tensor()); },
          nb::arg("grad").none())
      .def("is_contiguous", &Tensor::is_contiguous)
      .def("numpy", [](const Tensor& t) { return to_numpy(t); },
           "A NumPy array sharing this tensor's memory (CPU tensors; a copy otherwise).")
      .def("__array__",
           [](const Tensor& t, nb::handle dtype, nb::handle copy) {
             nb::object a = to_numpy(t);
             if (!dtype.is_none()) a = a.attr("astype")(dtype);
             if (!copy.is_none() && nb::cast<bool>(copy)) a = a.attr("copy")();
             return a;
           },
           nb::arg("dtype") = nb::none(), nb::arg("copy") = nb::none())
      .def("__dlpack__",
           [](const Tensor& t, nb::kwargs kw) {
             std::vector<size_t> shape(t.shape().begin(), t.shape().end());
             auto* keep = new std::shared_ptr<Storage>(t.impl()->storage);
             nb::capsule owner(keep, [](void* p) noexcept {
               delete static_cast<std::shared_ptr<Storage>*>(p);
             });
             nb::dlpack::dtype dt = t.dtype() == Dtype::Float32   ? nb::dtype<float>()
                                    : t.dtype() == Dtype::Float64 ? nb::dtype<double>()
                                    : t.dtype() == Dtype::Int32   ? nb::dtype<int32_t>()
                                    : t.dtype() == Dtype::Int64   ? nb::dtype<int64_t>()
                                                                  : nb::dtype<bool>();
             int dev = t.device() == Device::CUDA ? nb::device::cuda::value : nb::device::cpu::value;
             nb::ndarray<> arr(t.data_ptr(), shape.size(), shape.data(), owner, t.strides().data(), dt,
                               dev);
             // An ndarray without a framework casts to a DLPack capsule itself:
             // that capsule is what __dlpack__ must return.
             (void)kw;
             return nb::cast(arr, nb::rv_policy::reference);
           })
      .def("__dlpack_device__",
           [](const Tensor& t) {
             return nb::make_tuple(t.device() == Device::CUDA ? 2 : 1, 0);
           })
      .def("detach", &detach)
      .def("contiguous", &contiguous)
      .def("__float__", &item)
      .def("__int__", [](const Tensor& t) { return static_cast<int64_t>(item(t)); })
      .def("__bool__", [](const Tensor& t) { return item(t) != 0.0; })
      .def("item",
           [](const Tensor& t) -> nb::object {
             double v = item(t);
             if (is_floating(t.dtype())) return nb::float_(v);
             if (t.dtype() == Dtype::Bool) return nb::bool_(v != 0.0);
             return nb::int_(static_cast<int64_t>(v));
           })
      .def("__len__",
           [](const Tensor& t) {
             if (t.ndim() == 0) throw TypeError("len() of a 0-d tensor");
             return t.shape()[0];
           })
      .def("__hash__", [](const Tensor& t) { return reinterpret_cast<intptr_t>(t.impl()); })
      .def("__add__", &bin<BinaryOp::Add>)
      .def("__radd__", &rbin<BinaryOp::Add>)
      .def("__sub__", &bin<BinaryOp::Sub>)
      .def("__rsub__", &rbin<BinaryOp::Sub>)
      .def("__mul__", &bin<BinaryOp::Mul>)
      .def("__rmul__", &rbin<BinaryOp::Mul>)
      .def("__truediv__", &bin<BinaryOp::Div>)
      .def("__rtruediv__", &rbin<BinaryOp::Div>)
      .def("__floordiv__", &bin<BinaryOp::FloorDiv>)
      .def("__rfloordiv__", &rbin<BinaryOp::FloorDiv>)
      .def("__mod__", &bin<BinaryOp::Mod>)
      .def("__rmod__", &rbin<BinaryOp::Mod>)
      .def("__pow__", &bin<BinaryOp::Pow>)
      .def("__rpow__", &rbin<BinaryOp::Pow>)
      .def("__eq__", [](nb::handle a, nb::handle b) -> nb::object {
        if (b.is_none()) return nb::bool_(false);
        return nb::cast(bin<BinaryOp::Eq>(a, b));
      }, nb::arg("other").none())
      .def("__ne__", [](nb::handle a, nb::handle b) -> nb::object {
        if (b.is_none()) return nb::bool_(true);
        return nb::cast(bin<BinaryOp::Ne>(a, b));
      }, nb::arg("other").none())
      .def("__lt__", &bin<BinaryOp::Lt>)
      .def("__le__", &bin<BinaryOp::Le>)
      .def("__gt__", &bin<BinaryOp::Gt>)
      .def("__ge__", &bin<BinaryOp::Ge>)
      .def("__and__", &bin<BinaryOp::LogicalAnd>)
      .def("__or__", &bin<BinaryOp::LogicalOr>)
      .def("__xor__", &bin<BinaryOp::LogicalXor>)
      .def("__invert__", [](const Tensor& t) { return unary(UnaryOp::LogicalNot, t); })
      .def("__neg__", [](const Tensor& t) { return negative(t); })
      .def("__pos__", [](const Tensor& t) { return t; })
      .def("__abs__", [](const Tensor& t) { return abs(t); })
      .def("__matmul__", [](nb::handle a, nb::handle b) {
        auto [x, y] = promote_pair(a, b);
        return matmul(x, y);
      })
      .def("__rmatmul__", [](nb::handle a, nb::handle b) {
        auto [x, y] = promote_pair(b, a);
        return matmul(x, y);
      });
}

}  // namespace lamina::py
