#pragma once
// Helpers shared by the op files: broadcasting, raw views, and arithmetic
// operators so backward rules read like the math they implement.
#include <string>
#include <vector>

#include "lamina/autograd.h"
#include "lamina/capture.h"
#include "lamina/ops.h"

namespace lamina {

// NumPy broadcasting of two shapes; `op` names the op in the error.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
// A stride-0 view of `t` at `shape` (no autograd record, no copy).
Tensor expand_view(const Tensor& t, const Shape& shape);
// Throws unless both tensors live on the same device.
void check_same_device(const Tensor& a, const Tensor& b, const char* op);
// Axes (possibly negative, possibly absent) as a sorted unique list.
std::vector<int> normalize_axes(const Axes& axes, int ndim, const char* op);
// The shape `x` has after reducing `axes` with keepdims=True.
Shape keepdims_shape(const Shape& s, const std::vector<int>& axes);
Tensor scalar_like(double v, const Tensor& t);

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return subtract(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return multiply(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return divide(a, b); }
inline Tensor operator-(const Tensor& a) { return negative(a); }
inline Tensor operator*(const Tensor& a, double s) { return multiply(a, scalar_like(s, a)); }
inline Tensor operator*(double s, const Tensor& a) { return multiply(scalar_like(s, a), a); }
inline Tensor operator+(const Tensor& a, double s) { return add(a, scalar_like(s, a)); }
inline Tensor operator-(double s, const Tensor& a) { return subtract(scalar_like(s, a), a); }
inline Tensor operator/(const Tensor& a, double s) { return divide(a, scalar_like(s, a)); }

inline std::string op_err(const char* op, const std::string& msg) {
  return std::string("[") + op + "] " + msg;
}

}  // namespace lamina
