#pragma once
// Philox4x32-10 (Salmon et al., SC'11): counter-based, so element i of a
// random tensor depends only on (seed, counter + i/4), on any device and
// thread count. That is what makes training reproducible bit for bit.
#include <cmath>
#include <cstdint>

#include "lamina/kernels/macros.h"

namespace lamina::kernels {

struct Philox4 {
  uint32_t v[4];
};

LAMINA_HD uint32_t mulhilo(uint32_t a, uint32_t b, uint32_t* hi) {
  uint64_t p = static_cast<uint64_t>(a) * b;
  *hi = static_cast<uint32_t>(p >> 32);
  return static_cast<uint32_t>(p);
}

LAMINA_HD Philox4 philox4x32(uint64_t counter, uint64_t seed) {
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32);
  uint32_t c2 = 0, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int i = 0; i < 10; ++i) {
    uint32_t hi0, hi1;
    uint32_t lo0 = mulhilo(0xD2511F53u, c0, &hi0);
    uint32_t lo1 = mulhilo(0xCD9E8D57u, c2, &hi1);
    uint32_t n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
    c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return Philox4{{c0, c1, c2, c3}};
}

// 24 random bits to a float in [0, 1).
LAMINA_HD float u32_to_unit(uint32_t x) { return static_cast<float>(x >> 8) * (1.0f / 16777216.0f); }

// 53 random bits to a double in [0, 1).
LAMINA_HD double u64_to_unit(uint32_t hi, uint32_t lo) {
  uint64_t bits = (static_cast<uint64_t>(hi) << 21) ^ (lo >> 11);
  return static_cast<double>(bits & ((uint64_t(1) << 53) - 1)) * (1.0 / 9007199254740992.0);
}

// Elements of a T stream that one Philox block serves: float 4 (24 bits
// each), double 2 (53 bits each, as NumPy's float64).
template <class T>
LAMINA_HD constexpr int per_block() {
  return sizeof(T) == 4 ? 4 : 2;
}

// Element i of a uniform stream, from its block r.
template <class T>
LAMINA_HD T uniform_in_block(const Philox4& r, uint64_t i) {
  if constexpr (sizeof(T) == 4) {
    return u32_to_unit(r.v[i % 4]);
  } else {
    int w = static_cast<int>(i % 2) * 2;
    return u64_to_unit(r.v[w], r.v[w + 1]);
  }
}

// Element i of a standard normal stream, from its block r: Box-Muller on a
// pair of uniforms (two pairs per block for float, one for double).
template <class T>
LAMINA_HD T normal_in_block(const Philox4& r, uint64_t i) {
  if constexpr (sizeof(T) == 4) {
    int pair = static_cast<int>((i % 4) / 2) * 2;
    float u1 = (static_cast<float>(r.v[pair] >> 8) + 1.0f) * (1.0f / 16777216.0f);  // (0, 1]
    float u2 = u32_to_unit(r.v[pair + 1]);
    float rad = std::sqrt(-2.0f * std::log(u1));
    float ang = 6.283185307179586f * u2;
    return (i % 2) ? rad * std::sin(ang) : rad * std::cos(ang);
  } else {
    double u1 = 1.0 - u64_to_unit(r.v[0], r.v[1]);  // (0, 1]
    double u2 = u64_to_unit(r.v[2], r.v[3]);
    double rad = std::sqrt(-2.0 * std::log(u1));
    double ang = 6.283185307179586 * u2;
    return (i % 2) ? rad * std::sin(ang) : rad * std::cos(ang);
  }
}

template <class T>
LAMINA_HD T philox_uniform(uint64_t seed, uint64_t counter, uint64_t i) {
  return uniform_in_block<T>(philox4x32(counter + i / per_block<T>(), seed), i);
}

template <class T>
LAMINA_HD T philox_normal(uint64_t seed, uint64_t counter, uint64_t i) {
  return normal_in_block<T>(philox4x32(counter + i / per_block<T>(), seed), i);
}

}  // namespace lamina::kernels
