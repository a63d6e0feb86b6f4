#pragma once
// Per-element math of every binary op, shared by CPU and CUDA kernels.
#include <cmath>
#include <type_traits>

#include "lamina/backend.h"
#include "lamina/kernels/macros.h"

namespace lamina::kernels {

template <class T>
LAMINA_HD T int_pow(T base, T exp) {
  if (exp < 0) return base == 1 ? 1 : (base == -1 ? (exp % 2 ? -1 : 1) : 0);
  T r = 1;
  while (exp) {
    if (exp & 1) r *= base;
    base *= base;
    exp >>= 1;
  }
  return r;
}

template <BinaryOp Op, class T>
LAMINA_HD auto binary_fn(T a, T b) {
  if constexpr (Op == BinaryOp::Add) return static_cast<T>(a + b);
  else if constexpr (Op == BinaryOp::Sub) return static_cast<T>(a - b);
  else if constexpr (Op == BinaryOp::Mul) return static_cast<T>(a * b);
  else if constexpr (Op == BinaryOp::Div) {
    if constexpr (std::is_floating_point_v<T>) return a / b;
    else return static_cast<T>(b == 0 ? 0 : a / b);
  } else if constexpr (Op == BinaryOp::Pow) {
    if constexpr (std::is_floating_point_v<T>) {
      if (b == T(2)) return a * a;
      return static_cast<T>(std::pow(a, b));
    } else {
      return int_pow(a, b);
    }
  } else if constexpr (Op == BinaryOp::Maximum) {
    if constexpr (std::is_floating_point_v<T>) return (a != a || a > b) ? a : b;  // NaN propagates, as NumPy
    else return a > b ? a : b;
  } else if constexpr (Op == BinaryOp::Minimum) {
    if constexpr (std::is_floating_point_v<T>) return (a != a || a < b) ? a : b;
    else return a < b ? a : b;
  } else if constexpr (Op == BinaryOp::FloorDiv) {
    if constexpr (std::is_floating_point_v<T>) return std::floor(a / b);
    else {
      if (b == 0) return T(0);
      T q = a / b;
      return static_cast<T>((a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q);
    }
  } else if constexpr (Op == BinaryOp::Mod) {
    if constexpr (std::is_floating_point_v<T>) {
      T m = std::fmod(a, b);
      return (m != 0 && ((m < 0) != (b < 0))) ? m + b : m;
    } else {
      if (b == 0) return T(0);
      T m = a % b;
      return static_cast<T>((m != 0 && ((m < 0) != (b < 0))) ? m + b : m);
    }
  } else if constexpr (Op == BinaryOp::ReluGrad) {
    return b > T(0) ? a : T(0);
  } else if constexpr (Op == BinaryOp::Eq) return a == b;
  else if constexpr (Op == BinaryOp::Ne) return a != b;
  else if constexpr (Op == BinaryOp::Lt) return a < b;
  else if constexpr (Op == BinaryOp::Le) return a <= b;
  else if constexpr (Op == BinaryOp::Gt) return a > b;
  else if constexpr (Op == BinaryOp::Ge) return a >= b;
  else if constexpr (Op == BinaryOp::LogicalAnd) return static_cast<bool>(a) && static_cast<bool>(b);
  else if constexpr (Op == BinaryOp::LogicalOr) return static_cast<bool>(a) || static_cast<bool>(b);
  else return static_cast<bool>(a) != static_cast<bool>(b);
}

constexpr bool binary_returns_bool(BinaryOp op) { return op >= BinaryOp::Eq; }

}  // namespace lamina::kernels
