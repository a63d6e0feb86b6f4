#pragma once
// Kernels of the neural-network ops on one device (see lamina/nn.h). Inputs
// are contiguous; outputs contiguous and, where noted, zeroed by the caller.
#include "lamina/kernels/conv.h"
#include "lamina/tensor.h"

namespace lamina {

using kernels::Window2d;

enum class Cell : int { SimpleRNN = 0, LSTM = 1, GRU = 2 };

// One recurrent scan: B sequences of T steps, U units, G gates per unit.
// Saved tensors are indexed by processing step s (reversed time when
// go_backwards); xw/dxw and mask by time t.
struct RnnArgs {
  Cell cell;
  int64_t B, T, U, G;
  bool reset_after, go_backwards;
};

// Scaled dot-product attention over (B, T, N, D) tensors; bias and mask are
// views broadcast to (B, N, Tq, Tk) (stride 0 where broadcast) or undefined.
struct AttentionArgs {
  int64_t B, Tq, Tk, N, D;
  double scale;
  bool causal;
  double dropout;  // rate; mask from Philox (seed, counter) by element index
  uint64_t seed, counter;
};

struct NnBackend {
  // cols (N*oh*ow, kh*kw*c) from x (N, h, w, c); taps in the padding are 0.
  void (*im2col)(const Tensor& x, const Window2d& g, const Tensor& cols);
  // x (zeroed) += the adjoint of im2col applied to cols.
  void (*col2im)(const Tensor& cols, const Window2d& g, const Tensor& x);
  // out (N, oh, ow, c) and the argmax tap (int32, flat h*w index) per output.
  void (*max_pool)(const Tensor& x, const Window2d& g, const Tensor& out, const Tensor& arg);
  void (*max_pool_backward)(const Tensor& gout, const Tensor& arg, const Window2d& g, const Tensor& dx);
  void (*avg_pool)(const Tensor& x, const Window2d& g, const Tensor& out);
  void (*avg_pool_backward)(const Tensor& gout, const Window2d& g, const Tensor& dx);
  // Rows of x (R, D): y, and per-row mean and 1/std. rms=true skips centring.
  void (*row_norm)(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, bool rms,
                   const Tensor& y, const Tensor& mean, const Tensor& rstd);
  // dx, and dgamma/dbeta (D,) when defined.
  void (*row_norm_backward)(const Tensor& g, const Tensor& x, const Tensor& gamma,
                            const Tensor& mean, const Tensor& rstd, bool rms, const Tensor& dx,
                            const Tensor& dgamma, const Tensor& dbeta);
  // Columns of x (M, C): per-channel batch statistics, then y.
  void (*batch_norm)(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                     bool relu, const Tensor& y, const Tensor& mean, const Tensor& var);
  void (*batch_norm_backward)(const Tensor& g, const Tensor& x, const Tensor& gamma,
                              const Tensor& mean, const Tensor& var, double eps,
                              const Tensor& relu_out, const Tensor& dx, const Tensor& dgamma,
                              const Tensor& dbeta);
  // y = x * keep / (1 - rate), keep = uniform(seed, counter)[i] >= rate.
  void (*dropout)(const Tensor& x, double rate, uint64_t seed, uint64_t counter, const Tensor& y);
  // Rows of logits (R, C), labels (R,) int64: loss (R,) and logsumexp (R,).
  void (*sparse_xent)(const Tensor& logits, const Tensor& labels, const Tensor& loss,
                      const Tensor& lse);
  // dlogits = (softmax - onehot) * g[row].
  void (*sparse_xent_backward)(const Tensor& g, const Tensor& logits, const Tensor& labels,
                               const Tensor& lse, const Tensor& dlogits);
  // out (B, T+2, U): outputs per step, then final h, then final c. Saves the
  // gate activations `act` (B, T, G*U), cell states `cst` (B, T, U), entering
  // states `hprev` (B, T, U) and, for GRU, `rec_h` (B, T, U): the recurrent h
  // projection (reset_after) or r * h_prev (not reset_after).
  void (*rnn_forward)(const RnnArgs& a, const Tensor& xw, const Tensor& uk, const Tensor& rb,
                      const Tensor& h0, const Tensor& c0, const Tensor& mask, const Tensor& out,
                      const Tensor& act, const Tensor& cst, const Tensor& hprev, const Tensor& rec_h);
  // dxw (B, T, G*U) by time, drec (B, T, G*U) by step, dh0 and dc0 (B, U).
  void (*rnn_backward)(const RnnArgs& a, const Tensor& dout, const Tensor& uk, const Tensor& act,
                       const Tensor& cst, const Tensor& hprev, const Tensor& rec_h,
                       const Tensor& c0, const Tensor& mask, const Tensor& dxw, const Tensor& drec,
                       const Tensor& dh0, const Tensor& dc0);
  // out (B, Tq, N, D) and the row log-sum-exp (B, N, Tq), in tiles with an
  // online softmax: memory does not grow with Tq * Tk.
  void (*attention)(const AttentionArgs& a, const Tensor& q, const Tensor& k, const Tensor& v,
                    const Tensor& bias, const Tensor& mask, const Tensor& out, const Tensor& lse);
  // dq, dk, dv (like q, k, v) and dbias (B, N, Tq, Tk) when defined, recomputing
  // the probabilities tile by tile from lse.
  void (*attention_backward)(const AttentionArgs& a, const Tensor& q, const Tensor& k,
                             const Tensor& v, const Tensor& bias, const Tensor& mask,
                             const Tensor& out, const Tensor& lse, const Tensor& dout,
                             const Tensor& dq, const Tensor& dk, const Tensor& dv,
                             const Tensor& dbias);
  // Rows of x (M, C): y = act(x + bias), act the identity or ReLU (a layer's
  // epilogue); backward: dx = g masked by y > 0 (ReLU only; without ReLU dx
  // is g and not written) and dbias (C,) when defined.
  void (*bias_act)(const Tensor& x, const Tensor& bias, bool relu, const Tensor& y);
  void (*bias_act_backward)(const Tensor& g, const Tensor& y, bool relu, const Tensor& dx,
                            const Tensor& dbias);
  // y (N*oh*ow, F) = im2col(x) @ w (K, F) without materialising the columns.
  void (*conv2d)(const Tensor& x, const Tensor& w, const Window2d& g, const Tensor& y);
  // dx (like x, written over) and dw (K, F), each only when defined.
  void (*conv2d_backward)(const Tensor& x, const Tensor& w, const Window2d& g, const Tensor& gy,
                          const Tensor& dx, const Tensor& dw);
};

const NnBackend& nn_backend(Device device, const char* op);
void register_nn_backend(Device device, const NnBackend* b);

}  // namespace lamina
