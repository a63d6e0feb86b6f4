#pragma once
// Neural-network ops: fused kernels with hand-written backward rules.
// Layouts follow Keras: channels_last, kernels (kh, kw, in / groups, out).
#include <string>

#include "lamina/kernels/conv.h"
#include "lamina/ops.h"

namespace lamina {

// x (N, H, W, C), kernel (kh, kw, C / groups, F) -> (N, Ho, Wo, F).
Tensor conv2d(const Tensor& x, const Tensor& kernel, std::pair<int64_t, int64_t> strides,
              const std::string& padding, std::pair<int64_t, int64_t> dilation, int64_t groups);
// The adjoint of conv2d in x: x (N, H, W, C), kernel (kh, kw, F, C) as Keras's
// Conv2DTranspose -> (N, Ho, Wo, F).
Tensor conv2d_transpose(const Tensor& x, const Tensor& kernel, std::pair<int64_t, int64_t> strides,
                        const std::string& padding, std::pair<int64_t, int64_t> dilation,
                        std::optional<std::pair<int64_t, int64_t>> output_padding);
// x (N, H, W, C) -> (N, Ho, Wo, C); average pooling excludes padding (as Keras).
Tensor max_pool2d(const Tensor& x, std::pair<int64_t, int64_t> pool,
                  std::pair<int64_t, int64_t> strides, const std::string& padding);
Tensor avg_pool2d(const Tensor& x, std::pair<int64_t, int64_t> pool,
                  std::pair<int64_t, int64_t> strides, const std::string& padding);

// Normalises over the last axis of x: (x - mean) / sqrt(var + eps) * gamma + beta.
// gamma/beta may be undefined (no scale/centre).
Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps);
Tensor rms_norm(const Tensor& x, const Tensor& gamma, double eps);
// Training-mode batch norm over all axes but the last: returns the output and
// the batch mean and (biased) variance per channel for the moving averages.
// relu=true returns max(0, output), fused (its backward in the same kernel).
std::tuple<Tensor, Tensor, Tensor> batch_norm_train(const Tensor& x, const Tensor& gamma,
                                                    const Tensor& beta, double eps,
                                                    bool relu = false);

// A layer's epilogue: act(x + bias) with bias (C,) along the last axis and act
// the identity or ReLU (relu=true), forward and backward one pass each.
Tensor bias_act(const Tensor& x, const Tensor& bias, bool relu);

// Inverted dropout whose mask is recomputed from (seed, counter) in backward.
Tensor dropout(const Tensor& x, double rate, uint64_t seed, uint64_t counter);

// A recurrent layer over a whole sequence in one op: x (B, T, I), kernel
// (I, G*U), recurrent_kernel (U, G*U) in Keras's gate orders (LSTM i,f,c,o;
// GRU z,r,h). bias: (G*U) for LSTM/SimpleRNN/GRU without reset_after, and for
// GRU with reset_after the input bias, `recurrent_bias` the recurrent one.
// mask (B, T): masked steps keep the state and repeat the previous output.
// Returns {outputs (B, T, U) in processing order, final h, final c}.
std::vector<Tensor> rnn(const std::string& cell, const Tensor& x, const Tensor& kernel,
                        const Tensor& recurrent_kernel, const Tensor& bias,
                        const Tensor& recurrent_bias, const Tensor& h0, const Tensor& c0,
                        const Tensor& mask, bool go_backwards, bool reset_after);

// softmax(q k^T * scale + bias, masked) v over (batch, seq, heads, dim)
// tensors, as keras.ops.dot_product_attention. bias and the boolean mask
// broadcast to (batch, heads, q_seq, k_seq); causal keeps key j <= query i;
// dropout (rate > 0) drops attention weights with a Philox mask.
Tensor dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias,
                             const Tensor& mask, std::optional<double> scale, bool causal,
                             double dropout_rate, uint64_t seed, uint64_t counter);

// Per-sample losses over the last axis of logits.
Tensor sparse_softmax_cross_entropy(const Tensor& logits, const Tensor& labels);
// Class labels (integers, or integral floats) as int64, each checked to be in
// [0, n): a ValueError names the first bad one.
Tensor checked_class_labels(const Tensor& labels, int64_t n);
Tensor softmax_cross_entropy(const Tensor& logits, const Tensor& labels);
Tensor sigmoid_binary_cross_entropy(const Tensor& logits, const Tensor& labels);

}  // namespace lamina
