#pragma once
// Keep decisions of dropout (plain and inside attention), shared by the CPU
// and CUDA kernels so both drop exactly the same elements.
#include <cstdint>

#include "lamina/kernels/macros.h"
#include "lamina/kernels/philox.h"

namespace lamina::kernels {

// An element is kept when its float32 uniform is >= the rate (compared in
// float32 on every device, so the decision is bit-identical).
LAMINA_HD bool dropout_keep(float u, float rate) { return u >= rate; }

template <class T>
LAMINA_HD T dropout_value(T x, float u, float rate, T scale) {
  return dropout_keep(u, rate) ? x * scale : T(0);
}

// Attention dropout: 1/(1-rate) or 0 for probability `idx` (flat over
// (B, N, Tq, Tk)), drawn from the Philox stream (seed, counter).
template <class T>
LAMINA_HD T attention_keep_scale(double rate, uint64_t seed, uint64_t counter, uint64_t idx) {
  if (rate <= 0) return T(1);
  float u = philox_uniform<float>(seed, counter, idx);
  return dropout_keep(u, static_cast<float>(rate)) ? static_cast<T>(1.0 / (1.0 - rate)) : T(0);
}

}  // namespace lamina::kernels
