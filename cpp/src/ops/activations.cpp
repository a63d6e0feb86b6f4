// Activations as composites of primitive ops: their gradients come from the
// primitives' rules. Each is written in its numerically stable form.
#include <cmath>

#include "ops/common.h"

namespace lamina {

Tensor relu6(const Tensor& x) { return clip(x, scalar_like(0, x), scalar_like(6, x)); }

Tensor leaky_relu(const Tensor& x, double slope) {
  return where(binary(BinaryOp::Ge, x, scalar_like(0, x)), x, x * slope);
}

Tensor elu(const Tensor& x, double alpha) {
  // expm1 of min(x, 0): the unused branch cannot overflow or poison the gradient.
  Tensor neg = unary(UnaryOp::Expm1, minimum(x, scalar_like(0, x))) * alpha;
  return where(binary(BinaryOp::Gt, x, scalar_like(0, x)), x, neg);
}

Tensor selu(const Tensor& x) {
  constexpr double kAlpha = 1.6732632423543772848170429916717;
  constexpr double kScale = 1.0507009873554804934193349852946;
  return elu(x, kAlpha) * kScale;
}

Tensor gelu(const Tensor& x, bool approximate) {
  if (approximate) {
    const double c = std::sqrt(2.0 / M_PI);
    Tensor inner = (x + x * x * x * 0.044715) * c;
    return x * 0.5 * (tanh(inner) + 1.0);
  }
  return unary(UnaryOp::Gelu, x);  // one fused pass each way
}

Tensor silu(const Tensor& x) { return x * sigmoid(x); }

Tensor softplus(const Tensor& x) {
  // log(1 + e^x) = max(x, 0) + log1p(e^{-|x|}).
  return relu(x) + unary(UnaryOp::Log1p, exp(-abs(x)));
}

Tensor softmax(const Tensor& x_in, int64_t axis) {
  Tensor x = cast(x_in, float_type(x_in.dtype()));
  std::vector<int64_t> ax{axis};
  Tensor e = exp(x - detach(max(x, ax, true)));
  return e / sum(e, ax, true);
}

Tensor log_softmax(const Tensor& x_in, int64_t axis) {
  Tensor x = cast(x_in, float_type(x_in.dtype()));
  std::vector<int64_t> ax{axis};
  Tensor s = x - detach(max(x, ax, true));
  return s - log(sum(exp(s), ax, true));
}

}  // namespace lamina
