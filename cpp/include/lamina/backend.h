#pragma once
#include <vector>

#include "lamina/tensor.h"

namespace lamina {

enum class UnaryOp : uint8_t {
  Neg, Abs, Exp, Log, Log1p, Expm1, Sqrt, Square, Sign, Tanh, Sigmoid, Relu, Erf,
  Sin, Cos, Floor, Ceil, Round, Reciprocal, LogicalNot, IsNan, IsInf, IsFinite,
  Gelu, GeluGrad  // x * Phi(x) (erf form) and its derivative
};

enum class BinaryOp : uint8_t {
  Add, Sub, Mul, Div, Pow, Maximum, Minimum, FloorDiv, Mod,
  ReluGrad,  // a where b > 0, else 0: ReLU's backward from its output, one pass
  Eq, Ne, Lt, Le, Gt, Ge, LogicalAnd, LogicalOr, LogicalXor
};

enum class ReduceOp : uint8_t { Sum, Prod, Max, Min, ArgMax, ArgMin };

// Kernels of one device. The op layer (cpp/src/ops) validates, promotes and
// broadcasts once, then calls these with tensors already of matching shapes:
// operands are views (broadcast dims have stride 0), outputs are contiguous.
struct Backend {
  // dst = src elementwise with dtype conversion; dst may be a strided view.
  void (*copy)(const Tensor& src, const Tensor& dst);
  void (*fill)(const Tensor& dst, double value);
  // out = op(in); same dtype except predicates, whose out is bool.
  void (*unary)(UnaryOp op, const Tensor& in, const Tensor& out);
  // out = a op b; a and b share a dtype; comparisons and logic write bool.
  void (*binary)(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out);
  void (*where)(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out);
  // out has the shape of `in` with every axis in `axes` set to 1.
  void (*reduce)(ReduceOp op, const Tensor& in, const std::vector<int>& axes, const Tensor& out);
  // out[b] = a[b] @ b[b] over broadcast batch dims; float32/float64 via BLAS.
  void (*matmul)(const Tensor& a, const Tensor& b, const Tensor& out);
  // out[..., j, ...] = src[..., idx[j], ...] along `axis` (idx flat int64, checked).
  void (*gather)(const Tensor& src, int axis, const Tensor& idx, const Tensor& out);
  // dst[..., idx[j], ...] += src[..., j, ...] along `axis`.
  void (*index_add)(const Tensor& dst, int axis, const Tensor& idx, const Tensor& src);
  // Fills `out` with uniform [0,1) (normal=false) or standard normal values from
  // the counter-based Philox stream (seed, counter).
  void (*random)(const Tensor& out, uint64_t seed, uint64_t counter, bool normal);
};

const Backend& backend(Device device);
void register_backend(Device device, const Backend* b);

}  // namespace lamina
