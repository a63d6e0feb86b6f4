#pragma once
// Score masking and gradient math of scaled dot-product attention, shared by
// the CPU and CUDA kernels (dropout keep decisions in kernels/dropout.h).
#include <cstdint>

#include "lamina/kernels/macros.h"

namespace lamina::kernels {

// Query rows are processed in tiles of this many; causal attention looks at
// keys up to the end of the query's tile (keys past the query inside it get
// the masked score). This only matters for rows with every key masked, which
// come out uniform over that range, as on the CPU.
constexpr int64_t kAttentionQueryTile = 64;

// Keys [0, attention_key_end) take part in query qi's softmax.
LAMINA_HD int64_t attention_key_end(int64_t qi, int64_t Tq, int64_t Tk, bool causal) {
  if (!causal) return Tk;
  int64_t end = (qi / kAttentionQueryTile + 1) * kAttentionQueryTile;
  end = end < Tq ? end : Tq;
  return end < Tk ? end : Tk;
}

// Keras masks with a large finite negative, so fully masked rows stay uniform.
template <class T>
LAMINA_HD T attention_masked_score() {
  if constexpr (sizeof(T) == 4) return T(-0.7) * T(3.40282346638528859811704183484516925e+38);
  else return T(-0.7) * T(1.79769313486231570814527423731704357e+308);
}

// Score of (query qi, key kj) from the raw dot product: scaled, biased, then
// masked (mask false or key after the query when causal).
template <class T>
LAMINA_HD T attention_score(T dot, T scale, T bias, bool keep, bool causal, int64_t qi, int64_t kj) {
  T s = dot * scale + bias;
  return keep && !(causal && kj > qi) ? s : attention_masked_score<T>();
}

// Gradient of a score (before scaling) from probability p, dP (dO . v) and
// the row's D = dO . O; `keep` is the dropout scale of p (1 without dropout).
template <class T>
LAMINA_HD T attention_dscore(T p, T dp, T keep, T D) {
  return p * (dp * keep - D);
}

}  // namespace lamina::kernels
