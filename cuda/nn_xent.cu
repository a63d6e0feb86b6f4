// Sparse softmax cross-entropy on the GPU: one block per row for the
// log-sum-exp and the loss, one thread per logit for the gradient. The
// formulas are kernels/xent.h's, as on the CPU.
#include <string>

#include "lamina/kernels/xent.h"
#include "lamina/ops.h"
#include "nn_common.cuh"
#include "nn_kernels.h"

namespace lamina::gpu {

namespace {

constexpr int kRowThreads = 256;

template <class T>
__global__ void __launch_bounds__(kRowThreads)
xent_kernel(const T* z, const int64_t* y, int64_t C, T* loss, T* lse) {
  __shared__ T buf[kRowThreads / 32];
  const int64_t r = blockIdx.x;
  const T* zr = z + r * C;
  T m = zr[0];
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) m = zr[c] > m ? zr[c] : m;
  m = nn::block_reduce<T, true>(m, buf);
  T s = 0;
  for (int64_t c = threadIdx.x; c < C; c += blockDim.x) s += kernels::xent_exp_term(zr[c], m);
  s = nn::block_reduce<T, false>(s, buf);
  if (threadIdx.x == 0) {
    T l = kernels::xent_lse(m, s);
    lse[r] = l;
    loss[r] = kernels::xent_loss(l, zr[y[r]]);
  }
}

template <class T>
__global__ void xent_backward_kernel(const T* g, const T* z, const int64_t* y, const T* lse,
                                     int64_t n, int64_t C, T* dz) {
  LAMINA_GRID_LOOP(e, n) {
    const int64_t r = e / C, c = e % C;
    T d = kernels::xent_grad(z[e], lse[r], g[r]);
    dz[e] = c == y[r] ? d - g[r] : d;
  }
}

}  // namespace

void sparse_xent(const Tensor& logits, const Tensor& labels, const Tensor& loss, const Tensor& lse) {
  int64_t C = logits.shape().back(), R = logits.size() / std::max<int64_t>(C, 1);
  // Labels are checked on the host, with the CPU kernel's message: a bad
  // label would otherwise read out of bounds on the device.
  Tensor host = to_device(labels, Device::CPU);
  const int64_t* yh = host.data<int64_t>();
  for (int64_t r = 0; r < R; ++r) {
    if (yh[r] < 0 || yh[r] >= C) {
      throw IndexError("[sparse_categorical_crossentropy] label " + std::to_string(yh[r]) +
                       " is out of range for " + std::to_string(C) + " classes");
    }
  }
  if (R == 0) return;
  Tensor y = labels.device() == Device::CUDA ? labels : to_device(labels, Device::CUDA);
  LAMINA_DISPATCH_FLOAT(logits.dtype(), "sparse_categorical_crossentropy", [&] {
    using T = scalar_t;
    for (int64_t r0 = 0; r0 < R; r0 += kMaxBlocks) {  // one block per row
      const int64_t nr = std::min<int64_t>(kMaxBlocks, R - r0);
      xent_kernel<T><<<static_cast<unsigned>(nr), kRowThreads>>>(
          logits.data<T>() + r0 * C, y.data<int64_t>() + r0, C, loss.data<T>() + r0,
          lse.data<T>() + r0);
      check_launch("sparse_categorical_crossentropy");
    }
  });
}

void sparse_xent_backward(const Tensor& g, const Tensor& logits, const Tensor& labels,
                          const Tensor& lse, const Tensor& dlogits) {
  const int64_t C = logits.shape().back(), n = logits.size();
  if (n == 0) return;
  Tensor y = labels.device() == Device::CUDA ? labels : to_device(labels, Device::CUDA);
  LAMINA_DISPATCH_FLOAT(logits.dtype(), "sparse_categorical_crossentropy", [&] {
    using T = scalar_t;
    xent_backward_kernel<T><<<grid_for(n), kThreads>>>(g.data<T>(), logits.data<T>(),
                                                       y.data<int64_t>(), lse.data<T>(), n, C,
                                                       dlogits.data<T>());
    check_launch("sparse_categorical_crossentropy");
  });
}

}  // namespace lamina::gpu
