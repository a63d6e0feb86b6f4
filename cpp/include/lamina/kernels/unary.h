#pragma once
// Per-element math of every unary op, shared by the CPU loops and the CUDA
// grid loops. Written branch-free where it matters so loops vectorise.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "lamina/backend.h"
#include "lamina/kernels/macros.h"

namespace lamina::kernels {

// The core both float32 exps share: x = n*ln2 + r (n rounded by the
// 1.5*2^23 trick: plain adds, so it vectorises where floor() would not) and
// e^r by a degree-6 polynomial; e^x = the result * 2^n.
LAMINA_HD float exp_reduced_f32(float x, float& n) {
  n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = x - n * 0.693145751953125f;
  r = r - n * 1.428606765330187045e-06f;
  float p = 1.9875691500E-4f;
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  return p * r * r + r + 1.0f;
}

// exp for float32 within 2 ulp: x = n*ln2 + r, a degree-6 polynomial for e^r,
// and 2^n built in the exponent bits. Plain arithmetic, so gcc vectorises it.
LAMINA_HD float exp_f32(float x_in) {
  float x = x_in < 88.7228f ? x_in : 88.7228f;
  x = x > -103.9720f ? x : -103.9720f;
  float n;
  const float p = exp_reduced_f32(x, n);
  // 2^n split in two factors so subnormal results (n < -126) stay exact.
  int32_t ni = static_cast<int32_t>(n);
  int32_t n1 = ni >> 1;
  int32_t n2 = ni - n1;
  int32_t b1 = (n1 + 127) << 23, b2 = (n2 + 127) << 23;
  float s1, s2;
  std::memcpy(&s1, &b1, 4);
  std::memcpy(&s2, &b2, 4);
  float y = p * s1 * s2;
  // Beyond the clamps the result is inf / 0, and NaN stays NaN (as std::exp);
  // selects rather than branches, so the loop still vectorises.
  const int32_t inf_bits = 0x7f800000;
  float inf;
  std::memcpy(&inf, &inf_bits, 4);
  y = x_in > 88.72284f ? inf : y;
  y = x_in < -103.9720f ? 0.0f : y;
  return x_in != x_in ? x_in : y;
}

template <class T>
LAMINA_HD T exp_any(T x) {
  if constexpr (sizeof(T) == 4) return exp_f32(x);
  else return std::exp(x);
}

// The standard normal CDF Phi(x) = erfc(-x / sqrt(2)) / 2. float32: erfc of
// |x| / sqrt(2) from its Chebyshev fit in exp form (Numerical Recipes'
// erfcc, relative error below 1.2e-7 for every argument), so neither tail
// cancels and the loop vectorises through exp_f32; float64: std::erfc.
template <class T>
LAMINA_HD T normal_cdf(T x) {
  if constexpr (sizeof(T) == 8) {
    return T(0.5) * std::erfc(-x * T(0.70710678118654752440));
  } else {
    const float z = (x < 0.0f ? -x : x) * 0.70710678118654752440f;
    const float t = 1.0f / (1.0f + 0.5f * z);
    float p = 0.17087277f;
    p = p * t - 0.82215223f;
    p = p * t + 1.48851587f;
    p = p * t - 1.13520398f;
    p = p * t + 0.27886807f;
    p = p * t - 0.18628806f;
    p = p * t + 0.09678418f;
    p = p * t + 0.37409196f;
    p = p * t + 1.00002368f;
    p = p * t - 1.26551223f;
    const float erfc = t * exp_f32(p - z * z);
    const float cdf = x < 0.0f ? 0.5f * erfc : 1.0f - 0.5f * erfc;
    return x != x ? x : cdf;
  }
}

// The standard normal density.
template <class T>
LAMINA_HD T normal_pdf(T x) {
  return T(0.39894228040143267794) * exp_any(T(-0.5) * x * x);
}

// Ops defined only for floating inputs (integers are promoted first).
constexpr bool unary_float_only(UnaryOp op) {
  return op == UnaryOp::Exp || op == UnaryOp::Log || op == UnaryOp::Log1p ||
         op == UnaryOp::Expm1 || op == UnaryOp::Sqrt || op == UnaryOp::Tanh ||
         op == UnaryOp::Sigmoid || op == UnaryOp::Erf || op == UnaryOp::Sin || op == UnaryOp::Cos ||
         op == UnaryOp::Reciprocal || op == UnaryOp::Gelu || op == UnaryOp::GeluGrad;
}

template <UnaryOp Op, class T>
LAMINA_HD auto unary_fn(T x) {
  if constexpr (Op == UnaryOp::Neg) return static_cast<T>(-x);
  else if constexpr (Op == UnaryOp::Abs) return static_cast<T>(x < T(0) ? -x : x);
  else if constexpr (Op == UnaryOp::Exp) return exp_any(x);
  else if constexpr (Op == UnaryOp::Log) return std::log(x);
  else if constexpr (Op == UnaryOp::Log1p) return std::log1p(x);
  else if constexpr (Op == UnaryOp::Expm1) return std::expm1(x);
  else if constexpr (Op == UnaryOp::Sqrt) return std::sqrt(x);
  else if constexpr (Op == UnaryOp::Square) return static_cast<T>(x * x);
  else if constexpr (Op == UnaryOp::Sign)
    return static_cast<T>(x != x ? x : static_cast<T>((T(0) < x) - (x < T(0))));
  else if constexpr (Op == UnaryOp::Tanh) {
    // float64 has no vectorised exp here anyway: std::tanh keeps full relative
    // precision near 0, where 1 - 2/(e^{2x}+1) cancels.
    if constexpr (std::is_same_v<T, double>) return std::tanh(x);
    // tanh(x) = 1 - 2/(e^{2x}+1): stable at both ends, vectorises via exp_any.
    T e = exp_any(T(2) * x);
    T t = T(1) - T(2) / (e + T(1));
    return x != x ? x : t;
  } else if constexpr (Op == UnaryOp::Sigmoid) return T(1) / (T(1) + exp_any(-x));
  else if constexpr (Op == UnaryOp::Relu) {
    // NaN propagates; -inf gives 0 (0 * x would make it NaN).
    if constexpr (std::is_floating_point_v<T>) return x > T(0) ? x : (x != x ? x : T(0));
    else return static_cast<T>(x > T(0) ? x : T(0));
  }
  else if constexpr (Op == UnaryOp::Erf) return std::erf(x);
  else if constexpr (Op == UnaryOp::Gelu) return static_cast<T>(x * normal_cdf(x));
  else if constexpr (Op == UnaryOp::GeluGrad) return static_cast<T>(normal_cdf(x) + x * normal_pdf(x));
  else if constexpr (Op == UnaryOp::Sin) return std::sin(x);
  else if constexpr (Op == UnaryOp::Cos) return std::cos(x);
  // Integers are already whole: return them as they are (std::floor(int) is a
  // double, which is neither the output dtype nor callable in device code).
  else if constexpr (std::is_integral_v<T> &&
                     (Op == UnaryOp::Floor || Op == UnaryOp::Ceil || Op == UnaryOp::Round)) return x;
  else if constexpr (Op == UnaryOp::Floor) return std::floor(x);
  else if constexpr (Op == UnaryOp::Ceil) return std::ceil(x);
  else if constexpr (Op == UnaryOp::Round) return std::nearbyint(x);  // half to even, as NumPy
  else if constexpr (Op == UnaryOp::Reciprocal) return T(1) / x;
  else if constexpr (Op == UnaryOp::LogicalNot) return !static_cast<bool>(x);
  else if constexpr (Op == UnaryOp::IsNan) return x != x;
  else if constexpr (Op == UnaryOp::IsInf) return std::isinf(static_cast<double>(x));
  else return std::isfinite(static_cast<double>(x));
}

constexpr bool unary_returns_bool(UnaryOp op) {
  return op == UnaryOp::LogicalNot || op == UnaryOp::IsNan || op == UnaryOp::IsInf ||
         op == UnaryOp::IsFinite;
}

}  // namespace lamina::kernels
