// Fused optimizer steps: validation here, one CPU pass per parameter with the
// math of kernels/optim.h. Parameters are updated in place; gradients of any
// layout are read through a contiguous copy only when needed.
#include "lamina/optim.h"

#include <cmath>
#include <string>

#include "lamina/autograd.h"
#include "lamina/kernels/optim.h"
#include "lamina/threads.h"
#include "ops/common.h"

namespace lamina {

namespace {

void check_slots(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                 const std::vector<const std::vector<Tensor>*>& slots, const char* op) {
  if (grads.size() != params.size()) {
    throw ValueError(op_err(op, std::to_string(params.size()) + " parameters but " +
                                    std::to_string(grads.size()) + " gradients"));
  }
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    if (!is_floating(p.dtype()) || !p.is_contiguous() || p.device() != Device::CPU) {
      throw ValueError(op_err(op, "parameter " + std::to_string(i) +
                                      " must be a contiguous float tensor on the CPU"));
    }
    if (grads[i].shape() != p.shape()) {
      throw ValueError(op_err(op, "gradient of shape " + shape_str(grads[i].shape()) +
                                      " for parameter " + std::to_string(i) + " of shape " +
                                      shape_str(p.shape())));
    }
    for (auto* s : slots) {
      if (s->empty()) continue;
      const Tensor& t = (*s)[i];
      if (t.shape() != p.shape() || t.dtype() != p.dtype() || !t.is_contiguous()) {
        throw ValueError(op_err(op, "optimizer slot for parameter " + std::to_string(i) +
                                        " does not match it (shape " + shape_str(t.shape()) + ")"));
      }
    }
  }
}

Tensor as_param_grad(const Tensor& g, const Tensor& p) {
  return contiguous(cast(detach(g), p.dtype()));
}

}  // namespace

void adam_update(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                 const std::vector<Tensor>& m, const std::vector<Tensor>& v,
                 const std::vector<Tensor>& vhat, const AdamConfig& c) {
  check_slots(params, grads, {&m, &v, &vhat}, "adam");
  if (m.size() != params.size() || v.size() != params.size())
    throw ValueError(op_err("adam", "missing m/v slots"));
  NoGradGuard ng;
  const double lr_t = c.lr * std::sqrt(1 - std::pow(c.beta2, c.step)) / (1 - std::pow(c.beta1, c.step));
  for (size_t i = 0; i < params.size(); ++i) {
    Tensor g = as_param_grad(grads[i], params[i]);
    LAMINA_DISPATCH_FLOAT(params[i].dtype(), "adam", [&] {
      using T = scalar_t;
      T *p = params[i].data<T>(), *mm = m[i].data<T>(), *vv = v[i].data<T>();
      T* vh = vhat.empty() ? nullptr : vhat[i].data<T>();
      const T* gg = g.data<T>();
      parallel_for(params[i].size(), 32768, [&](int64_t a, int64_t b) {
        for (int64_t k = a; k < b; ++k)
          kernels::adam_update<T>(p[k], gg[k], mm[k], vv[k], vh ? vh + k : nullptr, T(c.lr), T(lr_t),
                                  T(c.beta1), T(c.beta2), T(c.epsilon), T(c.weight_decay));
      });
    });
  }
}

void sgd_update(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                const std::vector<Tensor>& momentums, double lr, double momentum, bool nesterov,
                double weight_decay) {
  check_slots(params, grads, {&momentums}, "sgd");
  NoGradGuard ng;
  for (size_t i = 0; i < params.size(); ++i) {
    Tensor g = as_param_grad(grads[i], params[i]);
    LAMINA_DISPATCH_FLOAT(params[i].dtype(), "sgd", [&] {
      using T = scalar_t;
      T* p = params[i].data<T>();
      T* mm = momentums.empty() ? nullptr : momentums[i].data<T>();
      const T* gg = g.data<T>();
      parallel_for(params[i].size(), 32768, [&](int64_t a, int64_t b) {
        for (int64_t k = a; k < b; ++k)
          kernels::sgd_update<T>(p[k], gg[k], mm ? mm + k : nullptr, T(lr), T(momentum), nesterov,
                                 T(weight_decay));
      });
    });
  }
}

}  // namespace lamina
