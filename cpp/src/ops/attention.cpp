// Scaled dot-product attention as one op: tiled online-softmax forward,
// backward recomputing the probabilities from the saved log-sum-exp.
#include <cmath>

#include "lamina/nn.h"
#include "lamina/nn_backend.h"
#include "ops/common.h"

namespace lamina {

Tensor dot_product_attention(const Tensor& q_in, const Tensor& k_in, const Tensor& v_in,
                             const Tensor& bias_in, const Tensor& mask_in,
                             std::optional<double> scale, bool causal, double dropout_rate,
                             uint64_t seed, uint64_t counter) {
  const char* op = "dot_product_attention";
  if (q_in.ndim() != 4 || k_in.ndim() != 4 || v_in.ndim() != 4) {
    throw ValueError(op_err(op, "query, key and value must be (batch, seq, heads, dim); got " +
                                    shape_str(q_in.shape()) + ", " + shape_str(k_in.shape()) +
                                    ", " + shape_str(v_in.shape())));
  }
  if (!is_floating(q_in.dtype())) throw TypeError(op_err(op, "query must be float"));
  const int64_t B = q_in.shape()[0], Tq = q_in.shape()[1], N = q_in.shape()[2], D = q_in.shape()[3];
  const int64_t Tk = k_in.shape()[1];
  if (k_in.shape() != Shape{B, Tk, N, D} || v_in.shape() != Shape{B, Tk, N, D}) {
    throw ValueError(op_err(op, "key " + shape_str(k_in.shape()) + " and value " +
                                    shape_str(v_in.shape()) + " must be (batch, k_seq, heads, dim) matching query " +
                                    shape_str(q_in.shape())));
  }
  if (!(dropout_rate >= 0 && dropout_rate < 1)) throw ValueError(op_err(op, "dropout rate must be in [0, 1)"));
  const Dtype dt = q_in.dtype();
  Tensor q = contiguous(q_in), k = contiguous(cast(k_in, dt)), v = contiguous(cast(v_in, dt));
  const Shape full{B, N, Tq, Tk};
  auto broadcast4 = [&](const Tensor& t, const char* what) {
    bool ok = t.ndim() <= 4;
    for (int i = 0; ok && i < t.ndim(); ++i) {
      int64_t d = t.shape()[t.ndim() - 1 - i];
      ok = d == 1 || d == full[3 - i];
    }
    if (!ok) {
      throw ValueError(op_err(op, std::string(what) + " of shape " + shape_str(t.shape()) +
                                      " does not broadcast to (batch, heads, q_seq, k_seq) = " +
                                      shape_str(full)));
    }
    return expand_view(contiguous(t), full);
  };
  Tensor bias = bias_in.defined() ? cast(bias_in, dt) : Tensor();
  Tensor bias_v = bias.defined() ? broadcast4(bias, "bias") : Tensor();
  Tensor mask_v;
  if (mask_in.defined()) {
    Tensor m = mask_in.dtype() == Dtype::Bool ? detach(mask_in) : binary(BinaryOp::Ne, detach(mask_in), scalar_like(0, mask_in));
    mask_v = broadcast4(m, "mask");
  }
  AttentionArgs a{B, Tq, Tk, N, D, scale ? *scale : 1.0 / std::sqrt(static_cast<double>(D)),
                  causal, dropout_rate, seed, counter};
  Tensor out = empty(q.shape(), dt, q.device()), lse = empty({B, N, Tq}, dt, q.device());
  nn_backend(q.device(), op).attention(a, q, k, v, bias_v, mask_v, out, lse);
  Tensor saved_out = detach(out);
  return record(op, {q, k, v, bias}, out,
                [a, q, k, v, bias, bias_v, mask_v, saved_out, lse, op](const Tensor& g) {
    Tensor dq = empty(q.shape(), q.dtype(), q.device()), dk = empty(k.shape(), q.dtype(), q.device());
    Tensor dv = empty(v.shape(), q.dtype(), q.device());
    Tensor db = bias.defined() && bias.requires_grad()
                    ? empty({a.B, a.N, a.Tq, a.Tk}, q.dtype(), q.device()) : Tensor();
    if (db.defined()) backend(q.device()).fill(db, 0.0);
    nn_backend(q.device(), op).attention_backward(a, detach(q), detach(k), detach(v), bias_v, mask_v,
                                                  saved_out, lse, contiguous(g), dq, dk, dv, db);
    return std::vector<Tensor>{dq, dk, dv, db};
  });
}

}  // namespace lamina
