#pragma once
// The CUDA implementations of NnBackend (lamina/nn_backend.h); same contracts
// as cpu/nn_kernels.h. The table is filled in nn_backend.cu.
#include "lamina/nn_backend.h"

namespace lamina::gpu {

void im2col(const Tensor& x, const Window2d& g, const Tensor& cols);
void col2im(const Tensor& cols, const Window2d& g, const Tensor& x);
void conv2d(const Tensor& x, const Tensor& w, const Window2d& g, const Tensor& y);
void conv2d_backward(const Tensor& x, const Tensor& w, const Window2d& g, const Tensor& gy,
                     const Tensor& dx, const Tensor& dw);
void max_pool(const Tensor& x, const Window2d& g, const Tensor& out, const Tensor& arg);
void max_pool_backward(const Tensor& gout, const Tensor& arg, const Window2d& g, const Tensor& dx);
void avg_pool(const Tensor& x, const Window2d& g, const Tensor& out);
void avg_pool_backward(const Tensor& gout, const Window2d& g, const Tensor& dx);
void row_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, bool rms,
              const Tensor& y, const Tensor& mean, const Tensor& rstd);
void row_norm_backward(const Tensor& g, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                       const Tensor& rstd, bool rms, const Tensor& dx, const Tensor& dgamma,
                       const Tensor& dbeta);
void batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                const Tensor& y, const Tensor& mean, const Tensor& var);
void batch_norm_backward(const Tensor& g, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                         const Tensor& var, double eps, const Tensor& dx, const Tensor& dgamma,
                         const Tensor& dbeta);
void dropout(const Tensor& x, double rate, uint64_t seed, uint64_t counter, const Tensor& y);
void sparse_xent(const Tensor& logits, const Tensor& labels, const Tensor& loss, const Tensor& lse);
void sparse_xent_backward(const Tensor& g, const Tensor& logits, const Tensor& labels,
                          const Tensor& lse, const Tensor& dlogits);
void rnn_forward(const RnnArgs& a, const Tensor& xw, const Tensor& uk, const Tensor& rb,
                 const Tensor& h0, const Tensor& c0, const Tensor& mask, const Tensor& out,
                 const Tensor& act, const Tensor& cst, const Tensor& hprev, const Tensor& rec_h);
void rnn_backward(const RnnArgs& a, const Tensor& dout, const Tensor& uk, const Tensor& act,
                  const Tensor& cst, const Tensor& hprev, const Tensor& rec_h, const Tensor& c0,
                  const Tensor& mask, const Tensor& dxw, const Tensor& drec, const Tensor& dh0,
                  const Tensor& dc0);
void attention(const AttentionArgs& a, const Tensor& q, const Tensor& k, const Tensor& v,
               const Tensor& bias, const Tensor& mask, const Tensor& out, const Tensor& lse);
void attention_backward(const AttentionArgs& a, const Tensor& q, const Tensor& k, const Tensor& v,
                        const Tensor& bias, const Tensor& mask, const Tensor& out, const Tensor& lse,
                        const Tensor& dout, const Tensor& dq, const Tensor& dk, const Tensor& dv,
                        const Tensor& dbias);

// Defined in nn_backend.cu; backend.cu's link_backend calls it so static
// linking keeps the object file holding the NN table's registrar.
void link_nn_backend();

}  // namespace lamina::gpu
