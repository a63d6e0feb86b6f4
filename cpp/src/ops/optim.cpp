// Fused optimizer steps: validation here, one CPU pass per parameter with the
// math of kernels/optim.h. Parameters are updated in place; gradients of any
// layout are read through a contiguous copy only when needed.
#include "lamina/optim.h"

#include <cmath>
#include <functional>
#include <initializer_list>
#include <string>

#include "lamina/autograd.h"
#include "lamina/capture.h"
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

namespace {

void adam_run(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
              const std::vector<Tensor>& m, const std::vector<Tensor>& v,
              const std::vector<Tensor>& vhat, const AdamConfig& c) {
  const double lr_t = c.lr * std::sqrt(1 - std::pow(c.beta2, c.step)) / (1 - std::pow(c.beta1, c.step));
  for (size_t i = 0; i < params.size(); ++i) {
    LAMINA_DISPATCH_FLOAT(params[i].dtype(), "adam", [&] {
      using T = scalar_t;
      T *p = params[i].data<T>(), *mm = m[i].data<T>(), *vv = v[i].data<T>();
      T* vh = vhat.empty() ? nullptr : vhat[i].data<T>();
      const T* gg = grads[i].data<T>();
      parallel_for(params[i].size(), 32768, [&](int64_t a, int64_t b) {
        for (int64_t k = a; k < b; ++k)
          kernels::adam_update<T>(p[k], gg[k], mm[k], vv[k], vh ? vh + k : nullptr, T(c.lr), T(lr_t),
                                  T(c.beta1), T(c.beta2), T(c.epsilon), T(c.weight_decay));
      });
    });
  }
}

void sgd_run(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
             const std::vector<Tensor>& momentums, double lr, double momentum, bool nesterov,
             double weight_decay) {
  for (size_t i = 0; i < params.size(); ++i) {
    LAMINA_DISPATCH_FLOAT(params[i].dtype(), "sgd", [&] {
      using T = scalar_t;
      T* p = params[i].data<T>();
      T* mm = momentums.empty() ? nullptr : momentums[i].data<T>();
      const T* gg = grads[i].data<T>();
      parallel_for(params[i].size(), 32768, [&](int64_t a, int64_t b) {
        for (int64_t k = a; k < b; ++k)
          kernels::sgd_update<T>(p[k], gg[k], mm ? mm + k : nullptr, T(lr), T(momentum), nesterov,
                                 T(weight_decay));
      });
    });
  }
}

// Each parameter's gradient as the update reads it (a cast / contiguous
// copy only where needed; those copies are kernels, so a capture records them).
std::vector<Tensor> param_grads(const std::vector<Tensor>& grads, const std::vector<Tensor>& params) {
  std::vector<Tensor> out;
  out.reserve(grads.size());
  for (size_t i = 0; i < grads.size(); ++i) out.push_back(as_param_grad(grads[i], params[i]));
  return out;
}

// The step's hyper-parameters, read when the update runs (and at each
// replay of a captured step, after the caller wrote the next step's values).
const double* hyper_values(const Tensor& hyper, size_t n, const char* op) {
  if (hyper.dtype() != Dtype::Float64 || hyper.device() != Device::CPU || !hyper.is_contiguous() ||
      hyper.size() != static_cast<int64_t>(n)) {
    throw ValueError(op_err(op, "hyper-parameters must be a contiguous float64 CPU tensor of " +
                                    std::to_string(n) + " values, got shape " +
                                    shape_str(hyper.shape())));
  }
  return hyper.data<double>();
}

// Runs an update now and, while a capture is active, records it with its
// tensors so each replay repeats it with the hyper tensor's values then.
void run_recorded(const std::function<void()>& update,
                  std::initializer_list<const std::vector<Tensor>*> lists, const Tensor& hyper) {
  update();
  if (Capture* c = active_capture()) {
    c->record(update);
    for (const auto* l : lists)
      for (const Tensor& t : *l) c->hold(t);
    c->hold(hyper);
  }
}

AdamConfig adam_config(const double* h) {
  return AdamConfig{h[0], h[1], h[2], h[3], h[4], static_cast<int64_t>(h[5])};
}

}  // namespace

void adam_update(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                 const std::vector<Tensor>& m, const std::vector<Tensor>& v,
                 const std::vector<Tensor>& vhat, const AdamConfig& c) {
  capture_taint("its optimizer update took its hyper-parameters as host values");
  check_slots(params, grads, {&m, &v, &vhat}, "adam");
  if (m.size() != params.size() || v.size() != params.size())
    throw ValueError(op_err("adam", "missing m/v slots"));
  NoGradGuard ng;
  adam_run(params, param_grads(grads, params), m, v, vhat, c);
}

void adam_update(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                 const std::vector<Tensor>& m, const std::vector<Tensor>& v,
                 const std::vector<Tensor>& vhat, const Tensor& hyper) {
  hyper_values(hyper, 6, "adam");
  check_slots(params, grads, {&m, &v, &vhat}, "adam");
  if (m.size() != params.size() || v.size() != params.size())
    throw ValueError(op_err("adam", "missing m/v slots"));
  NoGradGuard ng;
  const std::vector<Tensor> g = param_grads(grads, params);
  run_recorded([=] { adam_run(params, g, m, v, vhat, adam_config(hyper.data<double>())); },
               {&params, &g, &m, &v, &vhat}, hyper);
}

void sgd_update(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                const std::vector<Tensor>& momentums, double lr, double momentum, bool nesterov,
                double weight_decay) {
  capture_taint("its optimizer update took its hyper-parameters as host values");
  check_slots(params, grads, {&momentums}, "sgd");
  NoGradGuard ng;
  sgd_run(params, param_grads(grads, params), momentums, lr, momentum, nesterov, weight_decay);
}

void sgd_update(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                const std::vector<Tensor>& momentums, bool nesterov, const Tensor& hyper) {
  hyper_values(hyper, 3, "sgd");
  check_slots(params, grads, {&momentums}, "sgd");
  NoGradGuard ng;
  const std::vector<Tensor> g = param_grads(grads, params);
  run_recorded([=] {
    const double* h = hyper.data<double>();
    sgd_run(params, g, momentums, h[0], h[1], nesterov, h[2]);
  }, {&params, &g, &momentums}, hyper);
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

namespace {

void optimizer_run(const std::string& kind, const std::vector<Tensor>& params,
                   const std::vector<Tensor>& grads, const std::vector<std::vector<Tensor>>& slots,
                   const double* hyper, size_t n_hyper) {
  for (size_t i = 0; i < params.size(); ++i) {
    LAMINA_DISPATCH_FLOAT(params[i].dtype(), "optimizer_update", [&] {
      using T = scalar_t;
      std::vector<T> h(hyper, hyper + n_hyper);
      h.resize(8, T(0));  // kernels read fixed positions; absent ones are 0
      T* base[kMaxSlots] = {nullptr, nullptr, nullptr};
      for (size_t j = 0; j < slots.size(); ++j)
        base[j] = slots[j].empty() ? nullptr : slots[j][i].data<T>();
      update_by_kind<T>(kind, params[i].data<T>(), grads[i].data<T>(), base, h.data(), params[i].size());
    });
  }
}

void check_optimizer_args(const std::string& kind, const std::vector<Tensor>& params,
                          const std::vector<Tensor>& grads,
                          const std::vector<std::vector<Tensor>>& slots,
                          const std::vector<double>& hyper) {
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
}

}  // namespace

void optimizer_update(const std::string& kind, const std::vector<Tensor>& params,
                      const std::vector<Tensor>& grads,
                      const std::vector<std::vector<Tensor>>& slots,
                      const std::vector<double>& hyper) {
  capture_taint("its optimizer update took its hyper-parameters as host values");
  check_optimizer_args(kind, params, grads, slots, hyper);
  NoGradGuard ng;
  optimizer_run(kind, params, param_grads(grads, params), slots, hyper.data(), hyper.size());
}

void optimizer_update(const std::string& kind, const std::vector<Tensor>& params,
                      const std::vector<Tensor>& grads,
                      const std::vector<std::vector<Tensor>>& slots, const Tensor& hyper) {
  if (hyper.dtype() != Dtype::Float64 || hyper.device() != Device::CPU || !hyper.is_contiguous() ||
      hyper.ndim() != 1) {
    throw ValueError(op_err("optimizer_update", "hyper-parameters must be a contiguous 1-D float64 CPU tensor"));
  }
  const size_t n = static_cast<size_t>(hyper.size());
  check_optimizer_args(kind, params, grads, slots, std::vector<double>(hyper.data<double>(), hyper.data<double>() + n));
  NoGradGuard ng;
  const std::vector<Tensor> g = param_grads(grads, params);
  run_recorded([=] { optimizer_run(kind, params, g, slots, hyper.data<double>(), n); }, {&params, &g}, hyper);
  if (Capture* c = active_capture())
    for (const auto& s : slots)
      for (const Tensor& t : s) c->hold(t);
}

}  // namespace lamina
