#pragma once
// Direct (register-blocked) float32 convolution for stride-1 windows over NHWC
// images, used in place of im2col + GEMM where it applies: small channel
// counts make the GEMM skinny (N = 16..64) and the column matrix costs more
// than the arithmetic. Each function returns false, doing nothing, when the
// case is not one it handles; the caller then takes the im2col path.
#include "lamina/kernels/conv.h"
#include "lamina/tensor.h"

namespace lamina::cpu {

using kernels::Window2d;

bool conv2d_direct(const Tensor& x, const Tensor& w, const Window2d& g, const Tensor& y);

// Computes whichever of the defined dx, dw it handles (dx is overwritten, not
// added to) and says which, so the caller finishes the rest.
struct ConvGrads {
  bool dx, dw;
};
ConvGrads conv2d_backward_direct(const Tensor& x, const Tensor& w, const Window2d& g,
                                 const Tensor& gy, const Tensor& dx, const Tensor& dw);

}  // namespace lamina::cpu
