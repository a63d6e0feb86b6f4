// Recurrent scans (SimpleRNN, LSTM, GRU) over whole sequences. Batch rows
// never interact, so each thread runs the full time loop for its own block of
// rows: no synchronisation per step. A step is one GEMM (h @ U) for the
// block plus the fused gate math of kernels/rnn.h.
#include <cstring>
#include <vector>

#include "cpu/kernels.h"
#include "cpu/nn_kernels.h"
#include "lamina/kernels/rnn.h"
#include "lamina/threads.h"

namespace lamina::cpu {

namespace {

template <class T>
const T* opt(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
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
  const Dtype dt = sizeof(T) == 4 ? Dtype::Float32 : Dtype::Float64;
  for (int64_t s = 0; s < T_; ++s) {
    const int64_t t = a.go_backwards ? T_ - 1 - s : s;
    for (int64_t r = 0; r < nb; ++r)
      std::memcpy(hprev + ((b0 + r) * T_ + s) * U, h.data() + r * U, U * sizeof(T));
    const bool split = gru && !a.reset_after;  // the h gate sees (r * h) @ U_h
    gemm_serial(dt, false, false, nb, split ? 2 * U : GU, U, h.data(), U, uk, GU, rec.data(), GU, false);
    if (rb)
      for (int64_t r = 0; r < nb; ++r)
        for (int64_t k = 0; k < GU; ++k) rec[r * GU + k] += rb[k];
    if (split) {
      for (int64_t r = 0; r < nb; ++r) {
        const T* x = xw + ((b0 + r) * T_ + t) * GU;
        for (int64_t u = 0; u < U; ++u)
          rh[r * U + u] = kernels::sigmoid(x[U + u] + rec[r * GU + U + u]) * h[r * U + u];
      }
      gemm_serial(dt, false, false, nb, U, U, rh.data(), U, uk + 2 * U, GU, rec.data() + 2 * U, GU, false);
    }
    for (int64_t r = 0; r < nb; ++r) {
      const int64_t b = b0 + r;
      T* o = out + (b * (T_ + 2) + s) * U;
      T* cs = cst + (b * T_ + s) * U;
      if (mask && mask[b * T_ + t] == T(0)) {  // state carried, previous output repeated
        std::memcpy(o, prev_out.data() + r * U, U * sizeof(T));
        std::memcpy(cs, c.data() + r * U, U * sizeof(T));
        continue;
      }
      const T* x = xw + (b * T_ + t) * GU;
      T* ac = act + (b * T_ + s) * GU;
      const T* rc = rec.data() + r * GU;
      T* hr = h.data() + r * U;
      T* cr = c.data() + r * U;
      T* po = prev_out.data() + r * U;
      // One loop per cell type with the gate count fixed at compile time, so
      // the loop over units vectorises (exp included).
      if (lstm) {
#pragma omp simd
        for (int64_t u = 0; u < U; ++u) {
          T xg[4] = {x[u], x[U + u], x[2 * U + u], x[3 * U + u]};
          T rg[4] = {rc[u], rc[U + u], rc[2 * U + u], rc[3 * U + u]};
          T ag[4], cn;
          T hn = kernels::lstm_cell(xg, rg, cr[u], ag, &cn);
          ac[u] = ag[0]; ac[U + u] = ag[1]; ac[2 * U + u] = ag[2]; ac[3 * U + u] = ag[3];
          cr[u] = cn;
          hr[u] = o[u] = po[u] = hn;
        }
      } else if (gru) {
        T* rh_s = rec_h + (b * T_ + s) * U;
        const T* rhr = rh.data() + r * U;
        const bool ra = a.reset_after;
#pragma omp simd
        for (int64_t u = 0; u < U; ++u) {
          T xg[3] = {x[u], x[U + u], x[2 * U + u]};
          T rg[3] = {rc[u], rc[U + u], rc[2 * U + u]};
          T ag[3];
          T hn = kernels::gru_cell(xg, rg, hr[u], ra, ag);
          rh_s[u] = ra ? rg[2] : rhr[u];
          ac[u] = ag[0]; ac[U + u] = ag[1]; ac[2 * U + u] = ag[2];
          hr[u] = o[u] = po[u] = hn;
        }
      } else {
#pragma omp simd
        for (int64_t u = 0; u < U; ++u) {
          T hn = kernels::simple_rnn_cell(x[u], rc[u]);
          ac[u] = hn;
          hr[u] = o[u] = po[u] = hn;
        }
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
  const Dtype dt = sizeof(T) == 4 ? Dtype::Float32 : Dtype::Float64;
  std::vector<T> dh(nb * U), dc(nb * U), carry(nb * U, T(0)), dnext(nb * U), drh(nb * U);
  std::vector<T> dz(nb * GU);
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
        T* dcr = dc.data() + r * U;
        const T* cs = cst + (b * T_ + s) * U;
        const T* cp = s > 0 ? cst + (b * T_ + s - 1) * U : (c0 ? c0 + b * U : nullptr);
#pragma omp simd
        for (int64_t u = 0; u < U; ++u) {
          T g = dhr[u] + dhs[u] + car[u];
          car[u] = T(0);
          T ag[4] = {ac[u], ac[U + u], ac[2 * U + u], ac[3 * U + u]};
          T dxg[4], dcp;
          kernels::lstm_cell_backward(ag, cs[u], cp ? cp[u] : T(0), g, dcr[u], dxg, &dcp);
          dcr[u] = dcp;
          dx[u] = dzr[u] = dxg[0];
          dx[U + u] = dzr[U + u] = dxg[1];
          dx[2 * U + u] = dzr[2 * U + u] = dxg[2];
          dx[3 * U + u] = dzr[3 * U + u] = dxg[3];
          dnr[u] = T(0);
        }
        continue;
      }
      for (int64_t u = 0; u < U; ++u) {
        T g = dhr[u] + dhs[u] + car[u];
        car[u] = T(0);
        T ag[4], dxg[4], drg[4], direct = T(0);
        for (int64_t k = 0; k < G; ++k) ag[k] = ac[k * U + u];
        if (gru) {
          kernels::gru_cell_backward(ag, rec_h[(b * T_ + s) * U + u], hprev[(b * T_ + s) * U + u], g,
                                     a.reset_after, dxg, drg, &direct);
        } else {
          dxg[0] = drg[0] = g * (T(1) - ag[0] * ag[0]);
        }
        for (int64_t k = 0; k < G; ++k) {
          dx[k * U + u] = dxg[k];
          dzr[k * U + u] = drg[k];
        }
        dnr[u] = direct;
      }
    }
    if (split) {
      // Path through r * h_prev: d(rh) = dhh @ U_h^T feeds r's gate and h_prev.
      gemm_serial(dt, false, true, nb, U, U, dz.data() + 2 * U, GU, uk + 2 * U, GU, drh.data(), U, false);
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
      gemm_serial(dt, false, true, nb, U, 2 * U, dz.data(), GU, uk, GU, dnext.data(), U, true);
    } else {
      gemm_serial(dt, false, true, nb, U, GU, dz.data(), GU, uk, GU, dnext.data(), U, true);
    }
    for (int64_t r = 0; r < nb; ++r) {
      const int64_t b = b0 + r;
      std::memcpy(drec + (b * T_ + s) * GU, dz.data() + r * GU, GU * sizeof(T));
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
