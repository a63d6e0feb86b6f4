// The recurrent op: the input projection for all steps as one GEMM (recorded
// by autograd as matmul + add), then one fused scan node whose backward runs
// back-propagation through time in C++ and returns the recurrent-kernel
// gradient as one GEMM over all steps.
#include "lamina/nn.h"
#include "lamina/nn_backend.h"
#include "ops/common.h"

namespace lamina {

namespace {

Cell parse_cell(const std::string& name, int64_t* gates) {
  if (name == "lstm") return *gates = 4, Cell::LSTM;
  if (name == "gru") return *gates = 3, Cell::GRU;
  if (name == "simple_rnn" || name == "rnn") return *gates = 1, Cell::SimpleRNN;
  throw ValueError(op_err("rnn", "unknown cell '" + name + "': expected lstm, gru or simple_rnn"));
}

void expect_shape(const Tensor& t, const Shape& s, const char* what) {
  if (t.defined() && t.shape() != s) {
    throw ValueError(op_err("rnn", std::string(what) + " has shape " + shape_str(t.shape()) +
                                       ", expected " + shape_str(s)));
  }
}

Tensor flat2(const Tensor& t, int64_t cols) { return reshape(t, {-1, cols}); }

}  // namespace

std::vector<Tensor> rnn(const std::string& cell_name, const Tensor& x_in, const Tensor& kernel,
                        const Tensor& rkernel, const Tensor& bias, const Tensor& rbias,
                        const Tensor& h0_in, const Tensor& c0_in, const Tensor& mask_in,
                        bool go_backwards, bool reset_after) {
  int64_t G;
  Cell cell = parse_cell(cell_name, &G);
  if (x_in.ndim() != 3) {
    throw ValueError(op_err("rnn", "expected input of rank 3 (batch, timesteps, features), got shape " +
                                       shape_str(x_in.shape())));
  }
  if (!is_floating(x_in.dtype())) throw TypeError(op_err("rnn", "input must be float"));
  const int64_t B = x_in.shape()[0], T = x_in.shape()[1], I = x_in.shape()[2];
  if (rkernel.ndim() != 2) throw ValueError(op_err("rnn", "recurrent_kernel must be 2-D"));
  const int64_t U = rkernel.shape()[0];
  expect_shape(kernel, {I, G * U}, "kernel");
  expect_shape(rkernel, {U, G * U}, "recurrent_kernel");
  expect_shape(bias, {G * U}, "bias");
  expect_shape(rbias, {G * U}, "recurrent_bias");
  expect_shape(h0_in, {B, U}, "initial h state");
  expect_shape(c0_in, {B, U}, "initial c state");
  expect_shape(mask_in, {B, T}, "mask");
  if (rbias.defined() && !(cell == Cell::GRU && reset_after)) {
    throw ValueError(op_err("rnn", "a recurrent bias is only used by GRU with reset_after=True"));
  }
  const Dtype dt = x_in.dtype();
  // LSTM and SimpleRNN add x @ W and h @ U before any gate math, so their
  // bias joins the per-step recurrent bias (added to each step's small
  // product, in cache) instead of a pass over all B x T x G*U of xw; its
  // gradient is then the recurrent bias's. GRU's reset gate multiplies only
  // the recurrent part, so its input bias stays with xw.
  const bool bias_in_steps = bias.defined() && cell != Cell::GRU;
  Tensor xw = matmul(x_in, cast(kernel, dt));
  if (bias.defined() && !bias_in_steps) xw = add(xw, cast(bias, dt));
  xw = contiguous(xw);
  Tensor uk = contiguous(cast(rkernel, dt));
  const Tensor& step_bias = bias_in_steps ? bias : rbias;
  Tensor rb = step_bias.defined() ? contiguous(cast(step_bias, dt)) : Tensor();
  Tensor h0 = h0_in.defined() ? contiguous(cast(h0_in, dt)) : Tensor();
  Tensor c0 = c0_in.defined() ? contiguous(cast(c0_in, dt)) : Tensor();
  Tensor mask = mask_in.defined() ? contiguous(cast(detach(mask_in), dt)) : Tensor();
  Device dev = xw.device();
  RnnArgs args{cell, B, T, U, G, reset_after, go_backwards};
  Tensor out = empty({B, T + 2, U}, dt, dev);
  Tensor act = empty({B, T, G * U}, dt, dev), cst = empty({B, T, U}, dt, dev);
  Tensor hprev = empty({B, T, U}, dt, dev), rec_h = empty({B, T, U}, dt, dev);
  nn_backend(dev, "rnn").rnn_forward(args, xw, uk, rb, h0, c0, mask, out, act, cst, hprev, rec_h);
  out = record("rnn", {xw, uk, rb, h0, c0}, out,
               [args, uk, rb, h0, c0, mask, act, cst, hprev, rec_h](const Tensor& g) {
    const int64_t B = args.B, T = args.T, U = args.U, GU = args.G * args.U;
    Device dev = g.device();
    // LSTM and SimpleRNN gates see x and h_prev alike, so the gradient for
    // the recurrent kernel is dxw itself, row for row unless the sequence
    // runs backwards: one buffer, and one write of it per step saved.
    const bool same = args.cell != Cell::GRU && !args.go_backwards;
    Tensor dxw = empty({B, T, GU}, g.dtype(), dev);
    Tensor drec = same ? dxw : empty({B, T, GU}, g.dtype(), dev);
    Tensor dh0 = empty({B, U}, g.dtype(), dev), dc0 = empty({B, U}, g.dtype(), dev);
    nn_backend(dev, "rnn").rnn_backward(args, contiguous(g), detach(uk), act, cst, hprev, rec_h,
                                        c0.defined() ? detach(c0) : Tensor(), mask, dxw, drec, dh0, dc0);
    Tensor duk;
    if (uk.requires_grad()) {
      Tensor dr = flat2(drec, GU);
      if (args.cell == Cell::GRU && !args.reset_after) {
        // z and r see h_prev; the h gate sees r * h_prev.
        std::vector<int64_t> s0{0, 0}, s1{B * T, 2 * U}, s2{0, 2 * U}, s3{B * T, GU}, st{1, 1};
        Tensor top = matmul(transpose(flat2(hprev, U)), slice(dr, s0, s1, st));
        Tensor low = matmul(transpose(flat2(rec_h, U)), slice(dr, s2, s3, st));
        duk = concatenate({top, low}, 1);
      } else {
        duk = matmul(transpose(flat2(hprev, U)), dr);
      }
    }
    Tensor drb = rb.defined() && rb.requires_grad() ? sum(flat2(drec, GU), std::vector<int64_t>{0}) : Tensor();
    return std::vector<Tensor>{dxw, duk, drb, dh0, args.cell == Cell::LSTM ? dc0 : Tensor()};
  });
  std::vector<int64_t> st{1, 1, 1};
  Tensor seq = slice(out, {0, 0, 0}, {B, T, U}, st);
  Tensor h_last = reshape(slice(out, {0, T, 0}, {B, T + 1, U}, st), {B, U});
  Tensor c_last = reshape(slice(out, {0, T + 1, 0}, {B, T + 2, U}, st), {B, U});
  return {seq, h_last, c_last};
}

}  // namespace lamina
