#include "convert.h"

#include <cstdint>
#include <cstring>

#include <nanobind/stl/string.h>

#include "lamina/autograd.h"
#include "lamina/capture.h"

namespace lamina::py {

namespace {

Dtype from_dl(const nb::dlpack::dtype& dt, Dtype* widened_from = nullptr) {
  using nb::dlpack::dtype_code;
  (void)widened_from;
  auto code = static_cast<dtype_code>(dt.code);
  if (code == dtype_code::Float && dt.bits == 32) return Dtype::Float32;
  if (code == dtype_code::Float && dt.bits == 64) return Dtype::Float64;
  if (code == dtype_code::Int && dt.bits == 32) return Dtype::Int32;
  if (code == dtype_code::Int && dt.bits == 64) return Dtype::Int64;
  if (code == dtype_code::Bool && dt.bits == 8) return Dtype::Bool;
  throw TypeError("unsupported array dtype");
}

nb::dlpack::dtype to_dl(Dtype d) {
  switch (d) {
    case Dtype::Bool: return nb::dtype<bool>();
    case Dtype::Int32: return nb::dtype<int32_t>();
    case Dtype::Int64: return nb::dtype<int64_t>();
    case Dtype::Float32: return nb::dtype<float>();
    case Dtype::Float64: return nb::dtype<double>();
  }
  return nb::dtype<float>();
}

nb::module_& numpy() {
  // Leaked on purpose: a static destructor would run after Python finalises.
  static nb::module_* np = new nb::module_(nb::module_::import_("numpy"));
  return *np;
}

// A NumPy array of a dtype lamina supports (narrow ints widen to int32,
// float16 to float32), in any layout.
nb::object as_supported_numpy(nb::handle obj) {
  nb::object arr = numpy().attr("asarray")(obj);
  std::string name = nb::cast<std::string>(arr.attr("dtype").attr("name"));
  if (name == "float32" || name == "float64" || name == "int32" || name == "int64" || name == "bool")
    return arr;
  if (name == "uint8" || name == "int8" || name == "int16" || name == "uint16")
    return arr.attr("astype")("int32");
  if (name == "uint32") return arr.attr("astype")("int64");
  if (name == "float16") return arr.attr("astype")("float32");
  throw TypeError("unsupported dtype '" + name +
                  "': lamina supports float32, float64, int32, int64 and bool");
}

bool fits_int32(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

}  // namespace

Tensor wrap_ndarray(const nb::ndarray<nb::ro>& a) {
  Shape shape(a.ndim());
  Strides strides(a.ndim());
  for (size_t i = 0; i < a.ndim(); ++i) {
    shape[i] = static_cast<int64_t>(a.shape(i));
    strides[i] = a.stride(i);
  }
  Dtype dt = from_dl(a.dtype());
  // The ndarray keeps the producer alive; releasing it may run Python code.
  auto* held = new nb::ndarray<nb::ro>(a);
  std::shared_ptr<void> keep(held, [](void* p) {
    nb::gil_scoped_acquire gil;
    delete static_cast<nb::ndarray<nb::ro>*>(p);
  });
  Device dev = a.device_type() == nb::device::cuda::value ? Device::CUDA : Device::CPU;
  return from_blob(const_cast<void*>(a.data()), shape, strides, dt, dev, std::move(keep));
}

std::optional<Dtype> parse_dtype(nb::handle obj) {
  if (obj.is_none()) return std::nullopt;
  if (nb::isinstance<nb::str>(obj)) return dtype_from_name(nb::cast<std::string>(obj));
  if (obj.is(reinterpret_cast<PyObject*>(&PyFloat_Type))) return Dtype::Float32;
  if (obj.is(reinterpret_cast<PyObject*>(&PyLong_Type))) return Dtype::Int64;
  if (obj.is(reinterpret_cast<PyObject*>(&PyBool_Type))) return Dtype::Bool;
  nb::object name = numpy().attr("dtype")(obj).attr("name");
  return dtype_from_name(nb::cast<std::string>(name));
}

Tensor to_tensor(nb::handle obj, std::optional<Dtype> dtype, bool copy) {
  Tensor t;
  if (nb::isinstance<Tensor>(obj)) {
    t = nb::cast<Tensor>(obj);
    return dtype ? cast(t, *dtype) : t;
  }
  if (PyBool_Check(obj.ptr())) {
    t = scalar(obj.ptr() == Py_True, Dtype::Bool);
  } else if (PyLong_Check(obj.ptr())) {
    int64_t v = nb::cast<int64_t>(obj);
    t = scalar(static_cast<double>(v), fits_int32(v) ? Dtype::Int32 : Dtype::Int64);
  } else if (PyFloat_CheckExact(obj.ptr())) {
    t = scalar(nb::cast<double>(obj), Dtype::Float32);
  } else {
    // NumPy scalars (np.float64 subclasses float) keep their dtype, as arrays do.
    bool is_ndarray = nb::isinstance(obj, numpy().attr("ndarray")) ||
                      nb::isinstance(obj, numpy().attr("generic"));
    nb::object arr = as_supported_numpy(obj);
    if (!is_ndarray) {
      // Python lists: floats default to float32 and ints to int32, as keras.ops.
      std::string name = nb::cast<std::string>(arr.attr("dtype").attr("name"));
      if (name == "float64") arr = arr.attr("astype")("float32");
      // ...unless a value needs int64 (no silent wrap-around).
      if (name == "int64" && (nb::cast<int64_t>(arr.attr("size")) == 0 ||
                              (fits_int32(nb::cast<int64_t>(arr.attr("min")())) &&
                               fits_int32(nb::cast<int64_t>(arr.attr("max")())))))
        arr = arr.attr("astype")("int32");
    }
    nb::ndarray<nb::ro> nd = nb::cast<nb::ndarray<nb::ro>>(arr);
    t = wrap_ndarray(nd);
    bool shares = copy == false && (!dtype || *dtype == t.dtype()) && arr.is(obj);
    if (!shares) t = contiguous(lamina::copy(t));
  }
  return dtype ? cast(t, *dtype) : t;
}

Operand to_operand(nb::handle obj) {
  if (nb::isinstance<Tensor>(obj)) return {nb::cast<Tensor>(obj), false};
  if (PyBool_Check(obj.ptr())) return {scalar(obj.ptr() == Py_True, Dtype::Bool), true};
  if (PyLong_Check(obj.ptr())) return {scalar(static_cast<double>(nb::cast<int64_t>(obj)), Dtype::Int64), true};
  if (PyFloat_Check(obj.ptr())) return {scalar(nb::cast<double>(obj), Dtype::Float64), true};
  return {to_tensor(obj), false};
}

std::pair<Tensor, Tensor> promote_pair(nb::handle a_obj, nb::handle b_obj) {
  Operand a = to_operand(a_obj), b = to_operand(b_obj);
  Dtype dt = result_dtype(a.t, a.weak, b.t, b.weak);
  // A Python int the int32 result cannot hold raises, as NumPy (NEP 50).
  for (nb::handle h : {a_obj, b_obj}) {
    if (dt == Dtype::Int32 && PyLong_Check(h.ptr()) && !PyBool_Check(h.ptr())) {
      int64_t v = nb::cast<int64_t>(h);
      if (!fits_int32(v)) {
        PyErr_SetString(PyExc_OverflowError,
                        ("Python integer " + std::to_string(v) + " out of bounds for int32").c_str());
        throw nb::python_error();
      }
    }
  }
  // A weak scalar is re-made on the other operand's device.
  if (a.weak && !b.weak && a.t.device() != b.t.device()) a.t = to_device(a.t, b.t.device());
  if (b.weak && !a.weak && a.t.device() != b.t.device()) b.t = to_device(b.t, a.t.device());
  return {cast(a.t, dt), cast(b.t, dt)};
}

Axes parse_axes(nb::handle obj) {
  if (obj.is_none()) return std::nullopt;
  std::vector<int64_t> ax;
  // Any integer scalar (int, np.int64: __index__) is one axis, as NumPy.
  if (PyLong_Check(obj.ptr()) || (PyIndex_Check(obj.ptr()) && !PySequence_Check(obj.ptr()))) {
    ax.push_back(nb::cast<int64_t>(obj));
  } else {
    for (nb::handle h : nb::iter(obj)) ax.push_back(nb::cast<int64_t>(h));
  }
  return ax;
}

nb::object to_numpy(const Tensor& t_in) {
  capture_taint("it reads a tensor's values into Python");
  Tensor t = t_in.device() == Device::CPU ? t_in : to_device(detach(t_in), Device::CPU);
  std::vector<size_t> shape(t.shape().begin(), t.shape().end());
  std::vector<int64_t> strides(t.strides().begin(), t.strides().end());
  // The capsule owns a reference to the storage, so the array outlives the tensor.
  auto* keep = new std::shared_ptr<Storage>(t.impl()->storage);
  nb::capsule owner(keep, [](void* p) noexcept { delete static_cast<std::shared_ptr<Storage>*>(p); });
  nb::ndarray<nb::numpy> arr(t.data_ptr(), shape.size(), shape.data(), owner, strides.data(),
                             to_dl(t.dtype()));
  return nb::cast(arr, nb::rv_policy::reference);
}

}  // namespace lamina::py
