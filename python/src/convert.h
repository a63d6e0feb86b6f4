#pragma once
// Conversions between Python objects and lamina tensors, shared by the
// binding files.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <optional>

#include "lamina/ops.h"

namespace nb = nanobind;

namespace lamina::py {

// None / "float32" / np.float32 / np.dtype / float -> Dtype.
std::optional<Dtype> parse_dtype(nb::handle obj);
// Anything array-like to a tensor. NumPy arrays keep their dtype; Python
// floats become float32, ints int32, bools bool (as keras.ops). `copy=false`
// shares a NumPy array's memory when no cast is needed.
Tensor to_tensor(nb::handle obj, std::optional<Dtype> dtype = std::nullopt, bool copy = true);
// An operand of a binary op: Python scalars are "weak" and take the other
// operand's dtype (NEP 50).
struct Operand {
  Tensor t;
  bool weak;
};
Operand to_operand(nb::handle obj);
// Resolves the dtypes of two operands and returns both as tensors of it.
std::pair<Tensor, Tensor> promote_pair(nb::handle a, nb::handle b);
Axes parse_axes(nb::handle obj);
// Shares the memory of any DLPack / buffer-protocol array.
Tensor wrap_ndarray(const nb::ndarray<nb::ro>& a);
// A NumPy view of a CPU tensor's memory (a copy first for device tensors).
nb::object to_numpy(const Tensor& t);

}  // namespace lamina::py
