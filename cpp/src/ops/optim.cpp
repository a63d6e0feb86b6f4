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
  capture_taint("its optimizer updates run outside the kernel tables");
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
  capture_taint("its optimizer updates run outside the kernel tables");
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

namespace {

constexpr size_t kMaxSlots = 3;

// One parameter's elements through `update` (inlined: the loop vectorises
// where the formula allows).
template <class T, class F>
void update_elements(F update, T* p, const T* g, T* const* base, const T* h, int64_t n) {
  parallel_for(n, 32768, [&](int64_t a, int64_t b) {
    for (int64_t k = a; k < b; ++k) {
      T* s[kMaxSlots];
      for (size_t j = 0; j < kMaxSlots; ++j) s[j] = base[j] ? base[j] + k : nullptr;
      update(p[k], g[k], s, h);
    }
  });
}

template <class T>
void update_by_kind(const std::string& kind, T* p, const T* g, T* const* base, const T* h,
                    int64_t n) {
  if (kind == "rmsprop") return update_elements<T>(kernels::rmsprop_update<T>, p, g, base, h, n);
  if (kind == "adagrad") return update_elements<T>(kernels::adagrad_update<T>, p, g, base, h, n);
  if (kind == "adadelta") return update_elements<T>(kernels::adadelta_update<T>, p, g, base, h, n);
  if (kind == "adamax") return update_elements<T>(kernels::adamax_update<T>, p, g, base, h, n);
  if (kind == "nadam") return update_elements<T>(kernels::nadam_update<T>, p, g, base, h, n);
  if (kind == "lion") return update_elements<T>(kernels::lion_update<T>, p, g, base, h, n);
  throw ValueError(op_err("optimizer_update", "unknown optimizer '" + kind + "'"));
}


// Slots and hyper-parameters each kind reads (kernels/optim.h), checked up
// front: a missing slot would otherwise be a null dereference in the kernel.
void check_kind(const std::string& kind, const std::vector<std::vector<Tensor>>& slots,
                const std::vector<double>& h) {
  struct Need {
    const char* kind;
    size_t hyper;
    int slots;
  };
  static const Need needs[] = {{"rmsprop", 5, 1}, {"adagrad", 2, 1}, {"adadelta", 3, 2},
                               {"adamax", 5, 2},  {"nadam", 7, 2},   {"lion", 3, 1}};
  for (const Need& n : needs) {
    if (kind != n.kind) continue;
    if (h.size() != n.hyper) {
      throw ValueError(op_err("optimizer_update", kind + " takes " + std::to_string(n.hyper) +
                                                      " hyper-parameters, got " +
                                                      std::to_string(h.size())));
    }
    // The slots the kernel dereferences: RMSprop's momentum and average
    // gradient only when momentum > 0 and centered.
    std::vector<int> required;
    for (int j = 0; j < n.slots; ++j) required.push_back(j);
    if (kind == "rmsprop") {
      if (h[3] > 0) required.push_back(1);
      if (h[4] != 0) required.push_back(2);
    }
    for (int j : required) {
      if (static_cast<int>(slots.size()) <= j || slots[j].empty()) {
        throw ValueError(op_err("optimizer_update", kind + " needs slot " + std::to_string(j)));
      }
    }
    return;
  }
  throw ValueError(op_err("optimizer_update", "unknown optimizer '" + kind + "'"));
}

}  // namespace

void optimizer_update(const std::string& kind, const std::vector<Tensor>& params,
                      const std::vector<Tensor>& grads,
                      const std::vector<std::vector<Tensor>>& slots,
                      const std::vector<double>& hyper) {
  capture_taint("its optimizer updates run outside the kernel tables");
  const char* op = "optimizer_update";
  check_kind(kind, slots, hyper);
  if (slots.size() > kMaxSlots) throw ValueError(op_err(op, "at most 3 slots per parameter"));
  std::vector<const std::vector<Tensor>*> slot_ptrs;
  for (const auto& s : slots) {
    if (!s.empty() && s.size() != params.size()) {
      throw ValueError(op_err(op, std::to_string(s.size()) + " slots for " +
                                      std::to_string(params.size()) + " parameters"));
    }
    slot_ptrs.push_back(&s);
  }
  check_slots(params, grads, slot_ptrs, op);
  NoGradGuard ng;
  for (size_t i = 0; i < params.size(); ++i) {
    Tensor g = as_param_grad(grads[i], params[i]);
    LAMINA_DISPATCH_FLOAT(params[i].dtype(), op, [&] {
      using T = scalar_t;
      std::vector<T> h(hyper.begin(), hyper.end());
      h.resize(8, T(0));  // kernels read fixed positions; absent ones are 0
      T* base[kMaxSlots] = {nullptr, nullptr, nullptr};
      for (size_t j = 0; j < slots.size(); ++j)
        base[j] = slots[j].empty() ? nullptr : slots[j][i].data<T>();
      update_by_kind<T>(kind, params[i].data<T>(), g.data<T>(), base, h.data(), params[i].size());
    });
  }
}

}  // namespace lamina
