// Recurrent scans on the GPU. Each step is the recurrent GEMM h @ U (the
// tiled GEMM of matmul.cu) followed by one fused kernel, a thread per (row,
// unit), running the cell math of kernels/rnn.h, the same functions as the
// CPU scan. Backward runs BPTT in reverse: one cell-gradient kernel, the
// GEMM dz @ U^T for the carried dh, and one kernel folding it in.
#include "lamina/kernels/rnn.h"
#include "nn_common.cuh"
#include "nn_kernels.h"

namespace lamina::gpu {

namespace {

// One step's geometry and flags, passed by value to the step kernels.
struct Step {
  int64_t B, T, U, GU, s, t;
  Cell cell;
  bool reset_after;
};

inline Step make_step(const RnnArgs& a, int64_t s) {
  return {a.B, a.T, a.U, a.G * a.U, s, a.go_backwards ? a.T - 1 - s : s, a.cell, a.reset_after};
}

template <class T>
__device__ bool step_live(const T* mask, const Step& p, int64_t b) {
  return !(mask && mask[b * p.T + p.t] == T(0));
}

// GRU without reset_after: the h gate sees (r * h_prev) @ U_h, so r first.
template <class T>
__global__ void gru_reset_kernel(const T* xw, const T* rec, const T* h, Step p, T* rh) {
  LAMINA_GRID_LOOP(e, p.B * p.U) {
    const int64_t b = e / p.U, u = e % p.U;
    const T* x = xw + (b * p.T + p.t) * p.GU;
    rh[e] = kernels::sigmoid(x[p.U + u] + rec[b * p.GU + p.U + u]) * h[e];
  }
}

// The gate math of one step: saves h_prev, updates h, c and the last output,
// writes out, act, cst and (GRU) rec_h. Masked steps carry the state. GRU
// without reset_after passes r * h_prev (rh, saved as rec_h) and its
// projection (rech, the h gate's recurrent input).
template <class T>
__global__ void step_kernel(const T* xw, const T* rec, const T* rb, const T* rh, const T* rech,
                            const T* mask, Step p, T* h, T* c, T* prev_out, T* out, T* act, T* cst, T* hprev,
                            T* rec_h) {
  LAMINA_GRID_LOOP(e, p.B * p.U) {
    const int64_t b = e / p.U, u = e % p.U, U = p.U, bs = b * p.T + p.s;
    hprev[bs * U + u] = h[e];
    T* o = out + (b * (p.T + 2) + p.s) * U;
    if (!step_live(mask, p, b)) {  // state carried, previous output repeated
      o[u] = prev_out[e];
      cst[bs * U + u] = c[e];
      if (p.cell == Cell::GRU) rec_h[bs * U + u] = T(0);  // read by the kernel's gradient
      continue;
    }
    const T* x = xw + (b * p.T + p.t) * p.GU;
    const T* rc = rec + b * p.GU;
    auto r = [&](int64_t k) { return rc[k] + (rb ? rb[k] : T(0)); };
    T* ac = act + bs * p.GU;
    T hn;
    if (p.cell == Cell::LSTM) {
      T i, f, g, og, cn;
      hn = kernels::lstm_cell(x[u] + r(u), x[U + u] + r(U + u), x[2 * U + u] + r(2 * U + u),
                              x[3 * U + u] + r(3 * U + u), c[e], i, f, g, og, cn);
      ac[u] = i;
      ac[U + u] = f;
      ac[2 * U + u] = g;
      ac[3 * U + u] = og;
      c[e] = cn;
    } else if (p.cell == Cell::GRU) {
      rec_h[bs * U + u] = p.reset_after ? r(2 * U + u) : rh[e];
      T z, rr, hh;
      hn = kernels::gru_cell(x[u], x[U + u], x[2 * U + u], r(u), r(U + u),
                             p.reset_after ? r(2 * U + u) : rech[e], h[e], p.reset_after, z, rr, hh);
      ac[u] = z;
      ac[U + u] = rr;
      ac[2 * U + u] = hh;
    } else {
      hn = ac[u] = kernels::simple_rnn_cell(x[u], r(u));
    }
    h[e] = o[u] = prev_out[e] = hn;
    cst[bs * U + u] = c[e];
  }
}

// out[:, T] = h, out[:, T + 1] = c.
template <class T>
__global__ void final_state_kernel(const T* h, const T* c, int64_t B, int64_t T_, int64_t U, T* out) {
  LAMINA_GRID_LOOP(e, B * U) {
    const int64_t b = e / U, u = e % U;
    out[(b * (T_ + 2) + T_) * U + u] = h[e];
    out[(b * (T_ + 2) + T_ + 1) * U + u] = c[e];
  }
}

// Cell gradients of one step: dz (B, GU) feeds the recurrent GEMM, dxw the
// input projection; dnext gets the direct part of dh_prev. Masked rows pass
// their output grad on through `carry`.
template <class T>
__global__ void step_backward_kernel(const T* dout, const T* act, const T* cst, const T* hprev,
                                     const T* rec_h, const T* c0, const T* mask, Step p, T* dh,
                                     T* dc, T* carry, T* dz, T* dnext, T* dxw, T* drec) {
  LAMINA_GRID_LOOP(e, p.B * p.U) {
    const int64_t b = e / p.U, u = e % p.U, U = p.U, bs = b * p.T + p.s;
    const int G = static_cast<int>(p.GU / U);
    const T dhs = dout[(b * (p.T + 2) + p.s) * U + u];
    T* dx = dxw + (b * p.T + p.t) * p.GU;
    T* dzr = dz + b * p.GU;
    if (!step_live(mask, p, b)) {
      carry[e] += dhs;
      for (int k = 0; k < G; ++k) dx[k * U + u] = dzr[k * U + u] = drec[bs * p.GU + k * U + u] = T(0);
      continue;
    }
    const T g = dh[e] + dhs + carry[e];
    carry[e] = T(0);
    const T* ac = act + bs * p.GU;
    if (p.cell == Cell::LSTM) {
      const T cp = p.s > 0 ? cst[(bs - 1) * U + u] : (c0 ? c0[e] : T(0));
      T di, df, dg, dog, dcp;
      kernels::lstm_cell_backward(ac[u], ac[U + u], ac[2 * U + u], ac[3 * U + u], cst[bs * U + u],
                                  cp, g, dc[e], di, df, dg, dog, dcp);
      dc[e] = dcp;
      dx[u] = dzr[u] = di;
      dx[U + u] = dzr[U + u] = df;
      dx[2 * U + u] = dzr[2 * U + u] = dg;
      dx[3 * U + u] = dzr[3 * U + u] = dog;
      dnext[e] = T(0);
    } else if (p.cell == Cell::GRU) {
      T dxz, dxr, dxh, drh, direct;
      kernels::gru_cell_backward(ac[u], ac[U + u], ac[2 * U + u], rec_h[bs * U + u],
                                 hprev[bs * U + u], g, p.reset_after, dxz, dxr, dxh, drh, direct);
      dx[u] = dzr[u] = dxz;
      dx[U + u] = dzr[U + u] = dxr;
      dx[2 * U + u] = dxh;
      dzr[2 * U + u] = drh;
      dnext[e] = direct;
    } else {
      const T d = g * (T(1) - ac[u] * ac[u]);
      dx[u] = dzr[u] = d;
      dnext[e] = T(0);
    }
  }
}

// GRU without reset_after: the path through r * h_prev, given
// drh = dhh @ U_h^T, feeds r's gate and h_prev.
template <class T>
__global__ void gru_reset_backward_kernel(const T* act, const T* hprev, const T* drh, const T* mask,
                                          Step p, T* dz, T* dnext, T* dxw) {
  LAMINA_GRID_LOOP(e, p.B * p.U) {
    const int64_t b = e / p.U, u = e % p.U, U = p.U, bs = b * p.T + p.s;
    if (!step_live(mask, p, b)) continue;
    const T rr = act[bs * p.GU + U + u], hp = hprev[bs * U + u];
    const T dr = drh[e] * hp * rr * (T(1) - rr);
    dxw[(b * p.T + p.t) * p.GU + U + u] = dz[b * p.GU + U + u] = dr;
    dnext[e] += drh[e] * rr;
  }
}

// drec row of the step = dz; live rows take dh = dnext + dz @ U^T.
template <class T>
__global__ void step_finish_kernel(const T* dz, const T* dnext, const T* rec_grad, const T* mask,
                                   Step p, T* dh, T* drec) {
  LAMINA_GRID_LOOP(e, p.B * p.U) {
    const int64_t b = e / p.U, u = e % p.U, U = p.U, bs = b * p.T + p.s;
    for (int64_t k = u; k < p.GU; k += U) drec[bs * p.GU + k] = dz[b * p.GU + k];
    if (step_live(mask, p, b)) dh[e] = dnext[e] + rec_grad[e];
  }
}

Tensor buffer(const RnnArgs& a, int64_t cols, Dtype dt) { return empty({a.B, cols}, dt, Device::CUDA); }

// dst (B, U) = src, or 0 when src is undefined.
void init_state(const Tensor& dst, const Tensor& src) {
  if (src.defined()) copy(src, dst);
  else fill(dst, 0.0);
}

}  // namespace

void rnn_forward(const RnnArgs& a, const Tensor& xw, const Tensor& uk, const Tensor& rb,
                 const Tensor& h0, const Tensor& c0, const Tensor& mask, const Tensor& out,
                 const Tensor& act, const Tensor& cst, const Tensor& hprev, const Tensor& rec_h) {
  const int64_t n = a.B * a.U, U = a.U, GU = a.G * a.U;
  if (n == 0) return;
  LAMINA_DISPATCH_FLOAT(xw.dtype(), "rnn", [&] {
    using T = scalar_t;
    const Dtype dt = xw.dtype();
    Tensor h = buffer(a, U, dt), c = buffer(a, U, dt), prev = buffer(a, U, dt), rec = buffer(a, GU, dt);
    init_state(h, h0);
    init_state(c, c0);
    fill(prev, 0.0);
    const bool split = a.cell == Cell::GRU && !a.reset_after;
    Tensor rh = split ? buffer(a, U, dt) : Tensor(), rech = split ? buffer(a, U, dt) : Tensor();
    for (int64_t s = 0; s < a.T; ++s) {
      const Step p = make_step(a, s);
      matmul(h, uk, rec);
      if (split) {
        gru_reset_kernel<T><<<grid_for(n), kThreads>>>(xw.data<T>(), rec.data<T>(), h.data<T>(), p,
                                                        rh.data<T>());
        check_launch("rnn");
        matmul(rh, nn::view2(uk, U, U, GU, 1, 2 * U), rech);
      }
      step_kernel<T><<<grid_for(n), kThreads>>>(
          xw.data<T>(), rec.data<T>(), nn::opt<T>(rb), nn::opt<T>(rh), nn::opt<T>(rech), nn::opt<T>(mask), p,
          h.data<T>(), c.data<T>(), prev.data<T>(), out.data<T>(), act.data<T>(), cst.data<T>(),
          hprev.data<T>(), rec_h.data<T>());
      check_launch("rnn");
    }
    final_state_kernel<T><<<grid_for(n), kThreads>>>(h.data<T>(), c.data<T>(), a.B, a.T, U,
                                                      out.data<T>());
    check_launch("rnn");
  });
}

void rnn_backward(const RnnArgs& a, const Tensor& dout, const Tensor& uk, const Tensor& act,
                  const Tensor& cst, const Tensor& hprev, const Tensor& rec_h, const Tensor& c0,
                  const Tensor& mask, const Tensor& dxw, const Tensor& drec, const Tensor& dh0,
                  const Tensor& dc0) {
  const int64_t n = a.B * a.U, U = a.U, GU = a.G * a.U;
  if (n == 0) return;
  LAMINA_DISPATCH_FLOAT(dout.dtype(), "rnn", [&] {
    using T = scalar_t;
    const Dtype dt = dout.dtype();
    const bool lstm = a.cell == Cell::LSTM, split = a.cell == Cell::GRU && !a.reset_after;
    Tensor dh = buffer(a, U, dt), dc = buffer(a, U, dt), carry = buffer(a, U, dt);
    Tensor dnext = buffer(a, U, dt), rec_grad = buffer(a, U, dt), dz = buffer(a, GU, dt);
    Tensor drh = split ? buffer(a, U, dt) : Tensor();
    // dh and dc enter from the final-state grads, out[:, T] and out[:, T + 1].
    const int64_t row = (a.T + 2) * U;
    copy(nn::view2(dout, a.B, U, row, 1, a.T * U), dh);
    if (lstm) copy(nn::view2(dout, a.B, U, row, 1, (a.T + 1) * U), dc);
    else fill(dc, 0.0);
    fill(carry, 0.0);
    for (int64_t s = a.T - 1; s >= 0; --s) {
      const Step p = make_step(a, s);
      step_backward_kernel<T><<<grid_for(n), kThreads>>>(
          dout.data<T>(), act.data<T>(), cst.data<T>(), hprev.data<T>(), rec_h.data<T>(),
          nn::opt<T>(c0), nn::opt<T>(mask), p, dh.data<T>(), dc.data<T>(), carry.data<T>(),
          dz.data<T>(), dnext.data<T>(), dxw.data<T>(), drec.data<T>());
      check_launch("rnn");
      if (split) {
        matmul(nn::view2(dz, a.B, U, GU, 1, 2 * U), nn::view2(uk, U, U, 1, GU, 2 * U), drh);
        gru_reset_backward_kernel<T><<<grid_for(n), kThreads>>>(
            act.data<T>(), hprev.data<T>(), drh.data<T>(), nn::opt<T>(mask), p, dz.data<T>(),
            dnext.data<T>(), dxw.data<T>());
        check_launch("rnn");
        matmul(nn::view2(dz, a.B, 2 * U, GU, 1), nn::view2(uk, 2 * U, U, 1, GU), rec_grad);
      } else {
        matmul(dz, nn::view2(uk, GU, U, 1, GU), rec_grad);
      }
      step_finish_kernel<T><<<grid_for(n), kThreads>>>(dz.data<T>(), dnext.data<T>(),
                                                       rec_grad.data<T>(), nn::opt<T>(mask), p,
                                                       dh.data<T>(), drec.data<T>());
      check_launch("rnn");
    }
    copy(dh, dh0);
    copy(dc, dc0);
  });
}

}  // namespace lamina::gpu
