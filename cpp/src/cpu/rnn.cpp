// Recurrent scans (SimpleRNN, LSTM, GRU) over whole sequences. Batch rows
// never interact, so each thread runs the full time loop for its own block of
// rows: no synchronisation per step. A step is one GEMM (h @ U) for the
// block plus the fused gate math of kernels/rnn.h.
#include <cstring>
#include <type_traits>
#include <vector>

#include "cpu/kernels.h"
#include "cpu/nn_kernels.h"
#include "cpu/small_gemm.h"
#include "lamina/kernels/rnn.h"
#include "lamina/threads.h"

namespace lamina::cpu {

namespace {

template <class T>
const T* opt(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

// Row-major C (+)= A @ B of one step: the register-blocked small GEMM for
// float32 where it applies, BLAS otherwise.
template <class T>
void step_gemm(int64_t M, int64_t N, int64_t K, const T* a, int64_t lda, const T* b, int64_t ldb,
               T* c, int64_t ldc, bool accumulate) {
  if constexpr (std::is_same_v<T, float>)
    if (small_gemm_f32(M, N, K, a, lda, b, ldb, c, ldc, accumulate)) return;
  const Dtype dt = sizeof(T) == 4 ? Dtype::Float32 : Dtype::Float64;
  gemm_serial(dt, false, false, M, N, K, a, lda, b, ldb, c, ldc, accumulate);
}

// Runs fn(b0, b1) over blocks of batch rows, one block per thread.
template <class Fn>
void over_rows(int64_t B, Fn&& fn) {
  int64_t nt = std::min<int64_t>(get_num_threads(), B);
  int64_t per = (B + nt - 1) / std::max<int64_t>(nt, 1);
  parallel_for(nt, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      int64_t b0 = c * per, b1 = std::min(B, b0 + per);
      if (b0 < b1) fn(b0, b1);
    }
  });
}

// The gate math of one batch row for one step. Separate functions with
// restrict parameters, because that is what lets gcc vectorise the loop over
// units (restrict on local pointers is not used for alias analysis).
template <class T>
void lstm_row(int64_t U, const T* __restrict x, const T* __restrict rc, T* __restrict c,
              T* __restrict act, T* __restrict h, T* __restrict out, T* __restrict prev_out) {
  for (int64_t u = 0; u < U; ++u) {
    T i, f, g, o, cn;
    T hn = kernels::lstm_cell(x[u] + rc[u], x[U + u] + rc[U + u], x[2 * U + u] + rc[2 * U + u],
                              x[3 * U + u] + rc[3 * U + u], c[u], i, f, g, o, cn);
    act[u] = i;
    act[U + u] = f;
    act[2 * U + u] = g;
    act[3 * U + u] = o;
    c[u] = cn;
    h[u] = out[u] = prev_out[u] = hn;
  }
}

// (Pure copies stay out of these loops: gcc would split them off as memcpy
// calls and then give up vectorising the rest.)
template <class T, bool ra>
void gru_row(int64_t U, const T* __restrict x, const T* __restrict rc, T* __restrict act,
             T* __restrict h, T* __restrict out, T* __restrict prev_out) {
  for (int64_t u = 0; u < U; ++u) {
    T z, r, hh;
    T hn = kernels::gru_cell(x[u], x[U + u], x[2 * U + u], rc[u], rc[U + u], rc[2 * U + u], h[u],
                             ra, z, r, hh);
    act[u] = z;
    act[U + u] = r;
    act[2 * U + u] = hh;
    h[u] = out[u] = prev_out[u] = hn;
  }
}

template <class T>
void lstm_row_backward(int64_t U, const T* __restrict act, const T* __restrict c,
                       const T* __restrict c_prev, const T* __restrict dh_step,
                       const T* __restrict dh, const T* __restrict carry, T* __restrict dc,
                       T* __restrict dz) {
  for (int64_t u = 0; u < U; ++u) {
    T g = dh[u] + dh_step[u] + carry[u];
    T di, df, dg, dog, dcp;
    kernels::lstm_cell_backward(act[u], act[U + u], act[2 * U + u], act[3 * U + u], c[u],
                                c_prev[u], g, dc[u], di, df, dg, dog, dcp);
    dc[u] = dcp;
    dz[u] = di;
    dz[U + u] = df;
    dz[2 * U + u] = dg;
    dz[3 * U + u] = dog;
  }
}

template <class T>
void forward_rows(const RnnArgs& a, int64_t b0, int64_t b1, const T* xw, const T* uk, const T* rb,
                  const T* h0, const T* c0, const T* mask, T* out, T* act, T* cst, T* hprev,
                  T* rec_h) {
  const int64_t U = a.U, G = a.G, GU = G * U, T_ = a.T, nb = b1 - b0;
  const bool gru = a.cell == Cell::GRU, lstm = a.cell == Cell::LSTM;
  std::vector<T> h(nb * U), c(nb * U, T(0)), prev_out(nb * U, T(0)), rec(nb * GU), rh(nb * U);
  for (int64_t r = 0; r < nb; ++r)
    for (int64_t u = 0; u < U; ++u) {
      h[r * U + u] = h0 ? h0[(b0 + r) * U + u] : T(0);
      if (c0) c[r * U + u] = c0[(b0 + r) * U + u];
    }
  for (int64_t s = 0; s < T_; ++s) {
    const int64_t t = a.go_backwards ? T_ - 1 - s : s;
    for (int64_t r = 0; r < nb; ++r)
      std::memcpy(hprev + ((b0 + r) * T_ + s) * U, h.data() + r * U, U * sizeof(T));
    const bool split = gru && !a.reset_after;  // the h gate sees (r * h) @ U_h
    step_gemm(nb, split ? 2 * U : GU, U, h.data(), U, uk, GU, rec.data(), GU, false);
    if (rb)
      for (int64_t r = 0; r < nb; ++r)
        for (int64_t k = 0; k < GU; ++k) rec[r * GU + k] += rb[k];
    if (split) {
      for (int64_t r = 0; r < nb; ++r) {
        const T* x = xw + ((b0 + r) * T_ + t) * GU;
        for (int64_t u = 0; u < U; ++u)
          rh[r * U + u] = kernels::sigmoid(x[U + u] + rec[r * GU + U + u]) * h[r * U + u];
      }
      step_gemm(nb, U, U, rh.data(), U, uk + 2 * U, GU, rec.data() + 2 * U, GU, false);
    }
    for (int64_t r = 0; r < nb; ++r) {
      const int64_t b = b0 + r;
      T* o = out + (b * (T_ + 2) + s) * U;
      T* cs = cst + (b * T_ + s) * U;
      if (mask && mask[b * T_ + t] == T(0)) {  // state carried, previous output repeated
        std::memcpy(o, prev_out.data() + r * U, U * sizeof(T));
        std::memcpy(cs, c.data() + r * U, U * sizeof(T));
        // The kernel's gradient multiplies every step's rec_h by that step's
        // (zero) gradient: it must hold numbers, not whatever the buffer had.
        if (gru) std::fill(rec_h + (b * T_ + s) * U, rec_h + (b * T_ + s + 1) * U, T(0));
        continue;
      }
      const T* x = xw + (b * T_ + t) * GU;
      T* ac = act + (b * T_ + s) * GU;
      const T* rc = rec.data() + r * GU;
      T* hr = h.data() + r * U;
      T* po = prev_out.data() + r * U;
      if (lstm) {
        lstm_row(U, x, rc, c.data() + r * U, ac, hr, o, po);
      } else if (gru) {
        // reset_after as a template argument keeps the unit loop branch-free.
        std::memcpy(rec_h + (b * T_ + s) * U, a.reset_after ? rc + 2 * U : rh.data() + r * U,
                    U * sizeof(T));
        if (a.reset_after) gru_row<T, true>(U, x, rc, ac, hr, o, po);
        else gru_row<T, false>(U, x, rc, ac, hr, o, po);
      } else {
        for (int64_t u = 0; u < U; ++u) hr[u] = o[u] = po[u] = ac[u] = kernels::simple_rnn_cell(x[u], rc[u]);
      }
      std::memcpy(cs, c.data() + r * U, U * sizeof(T));
    }
  }
  for (int64_t r = 0; r < nb; ++r) {
    std::memcpy(out + ((b0 + r) * (T_ + 2) + T_) * U, h.data() + r * U, U * sizeof(T));
    std::memcpy(out + ((b0 + r) * (T_ + 2) + T_ + 1) * U, c.data() + r * U, U * sizeof(T));
  }
}

template <class T>
void backward_rows(const RnnArgs& a, int64_t b0, int64_t b1, const T* dout, const T* uk,
                   const T* act, const T* cst, const T* hprev, const T* rec_h, const T* c0,
                   const T* mask, T* dxw, T* drec, T* dh0, T* dc0) {
  const int64_t U = a.U, G = a.G, GU = G * U, T_ = a.T, nb = b1 - b0;
  const bool gru = a.cell == Cell::GRU, lstm = a.cell == Cell::LSTM;
  const bool split = gru && !a.reset_after;
  // The kernel transposed once, so each step's dz @ U^T is a plain product.
  std::vector<T> ukt(GU * U);
  for (int64_t u = 0; u < U; ++u)
    for (int64_t g = 0; g < GU; ++g) ukt[g * U + u] = uk[u * GU + g];
  std::vector<T> dh(nb * U), dc(nb * U), carry(nb * U, T(0)), dnext(nb * U), drh(nb * U);
  std::vector<T> dz(nb * GU), zero_row(U, T(0));
  for (int64_t r = 0; r < nb; ++r)
    for (int64_t u = 0; u < U; ++u) {
      dh[r * U + u] = dout[((b0 + r) * (T_ + 2) + T_) * U + u];
      dc[r * U + u] = lstm ? dout[((b0 + r) * (T_ + 2) + T_ + 1) * U + u] : T(0);
    }
  for (int64_t s = T_ - 1; s >= 0; --s) {
    const int64_t t = a.go_backwards ? T_ - 1 - s : s;
    std::fill(dz.begin(), dz.end(), T(0));
    std::vector<bool> live(nb);
    for (int64_t r = 0; r < nb; ++r) {
      const int64_t b = b0 + r;
      const T* dhs = dout + (b * (T_ + 2) + s) * U;
      live[r] = !(mask && mask[b * T_ + t] == T(0));
      T* dx = dxw + (b * T_ + t) * GU;
      if (!live[r]) {
        for (int64_t u = 0; u < U; ++u) carry[r * U + u] += dhs[u];
        std::fill(dx, dx + GU, T(0));
        std::fill(drec + (b * T_ + s) * GU, drec + (b * T_ + s + 1) * GU, T(0));
        continue;
      }
      const T* ac = act + (b * T_ + s) * GU;
      T* dhr = dh.data() + r * U;
      T* car = carry.data() + r * U;
      T* dzr = dz.data() + r * GU;
      T* dnr = dnext.data() + r * U;
      if (lstm) {
        const T* cp = s > 0 ? cst + (b * T_ + s - 1) * U : (c0 ? c0 + b * U : zero_row.data());
        // One output stream fewer keeps gcc vectorising; dx equals dz for LSTM.
        lstm_row_backward(U, ac, cst + (b * T_ + s) * U, cp, dhs, dhr, car, dc.data() + r * U, dzr);
        std::memcpy(dx, dzr, GU * sizeof(T));
        std::fill(car, car + U, T(0));
        std::fill(dnr, dnr + U, T(0));
        continue;
      }
      for (int64_t u = 0; u < U; ++u) {
        T g = dhr[u] + dhs[u] + car[u];
        car[u] = T(0);
        if (gru) {
          T dxz, dxr, dxh, drh, direct;
          kernels::gru_cell_backward(ac[u], ac[U + u], ac[2 * U + u], rec_h[(b * T_ + s) * U + u],
                                     hprev[(b * T_ + s) * U + u], g, a.reset_after, dxz, dxr, dxh,
                                     drh, direct);
          dx[u] = dzr[u] = dxz;
          dx[U + u] = dzr[U + u] = dxr;
          dx[2 * U + u] = dxh;
          dzr[2 * U + u] = drh;
          dnr[u] = direct;
        } else {
          T d = g * (T(1) - ac[u] * ac[u]);
          dx[u] = dzr[u] = d;
          dnr[u] = T(0);
        }
      }
    }
    if (split) {
      // Path through r * h_prev: d(rh) = dhh @ U_h^T feeds r's gate and h_prev.
      step_gemm(nb, U, U, dz.data() + 2 * U, GU, ukt.data() + 2 * U * U, U, drh.data(), U, false);
      for (int64_t r = 0; r < nb; ++r) {
        if (!live[r]) continue;
        const int64_t b = b0 + r;
        const T* ac = act + (b * T_ + s) * GU;
        T* dx = dxw + (b * T_ + t) * GU;
        for (int64_t u = 0; u < U; ++u) {
          T rr = ac[U + u], hp = hprev[(b * T_ + s) * U + u];
          T dr = drh[r * U + u] * hp * rr * (T(1) - rr);
          dx[U + u] = dz[r * GU + U + u] = dr;
          dnext[r * U + u] += drh[r * U + u] * rr;
        }
      }
      step_gemm(nb, U, 2 * U, dz.data(), GU, ukt.data(), U, dnext.data(), U, true);
    } else {
      step_gemm(nb, U, GU, dz.data(), GU, ukt.data(), U, dnext.data(), U, true);
    }
    for (int64_t r = 0; r < nb; ++r) {
      const int64_t b = b0 + r;
      // drec may be dxw itself (the op passes one buffer when they agree).
      if (drec != dxw) std::memcpy(drec + (b * T_ + s) * GU, dz.data() + r * GU, GU * sizeof(T));
      if (live[r]) std::memcpy(dh.data() + r * U, dnext.data() + r * U, U * sizeof(T));
    }
  }
  for (int64_t r = 0; r < nb; ++r) {
    std::memcpy(dh0 + (b0 + r) * U, dh.data() + r * U, U * sizeof(T));
    std::memcpy(dc0 + (b0 + r) * U, dc.data() + r * U, U * sizeof(T));
  }
}

}  // namespace

void rnn_forward(const RnnArgs& a, const Tensor& xw, const Tensor& uk, const Tensor& rb,
                 const Tensor& h0, const Tensor& c0, const Tensor& mask, const Tensor& out,
                 const Tensor& act, const Tensor& cst, const Tensor& hprev, const Tensor& rec_h) {
  LAMINA_DISPATCH_FLOAT(xw.dtype(), "rnn", [&] {
    using T = scalar_t;
    over_rows(a.B, [&](int64_t b0, int64_t b1) {
      forward_rows<T>(a, b0, b1, xw.data<T>(), uk.data<T>(), opt<T>(rb), opt<T>(h0), opt<T>(c0),
                      opt<T>(mask), out.data<T>(), act.data<T>(), cst.data<T>(), hprev.data<T>(),
                      rec_h.data<T>());
    });
  });
}

void rnn_backward(const RnnArgs& a, const Tensor& dout, const Tensor& uk, const Tensor& act,
                  const Tensor& cst, const Tensor& hprev, const Tensor& rec_h, const Tensor& c0,
                  const Tensor& mask, const Tensor& dxw, const Tensor& drec, const Tensor& dh0,
                  const Tensor& dc0) {
  LAMINA_DISPATCH_FLOAT(dout.dtype(), "rnn", [&] {
    using T = scalar_t;
    over_rows(a.B, [&](int64_t b0, int64_t b1) {
      backward_rows<T>(a, b0, b1, dout.data<T>(), uk.data<T>(), act.data<T>(), cst.data<T>(),
                       hprev.data<T>(), rec_h.data<T>(), opt<T>(c0), opt<T>(mask), dxw.data<T>(),
                       drec.data<T>(), dh0.data<T>(), dc0.data<T>());
    });
  });
}

}  // namespace lamina::cpu
