// Capture and replay (lamina/capture.h): recording wrappers around the CPU
// kernel tables, handed out by backend() / nn_backend() while a capture is
// active on the calling thread.
#include "lamina/capture.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <tuple>

#include "capture_tables.h"

namespace lamina {

namespace {

thread_local Capture* t_active = nullptr;

// The tables being wrapped (the CPU ones; set before any wrapper can run).
const Backend* g_real = nullptr;
const NnBackend* g_real_nn = nullptr;

template <class Table>
const Table& real();
template <>
const Backend& real<Backend>() { return *g_real; }
template <>
const NnBackend& real<NnBackend>() { return *g_real_nn; }

// Runs kernel M of the real table and records the call with copies of its
// arguments: tensors by handle (keeping their buffers alive), the rest by value.
void hold_arg(Capture& c, const Tensor& t) {
  if (t.defined()) c.hold(t);
}
template <class T>
void hold_arg(Capture&, const T&) {}

void storage_of(std::vector<Storage*>& out, const Tensor& t) {
  if (t.defined()) out.push_back(t.impl()->storage.get());
}
template <class T>
void storage_of(std::vector<Storage*>&, const T&) {}

template <class T>
T own_arg(Capture&, const T& v) {
  return v;
}
Tensor own_arg(Capture& c, const Tensor& t) { return c.own(t); }

template <class Table, class Fn>
struct Rec;
template <class Table, class... A>
struct Rec<Table, void (*)(A...)> {
  using Fn = void (*)(A...);
  template <Fn Table::*M>
  static void call(A... a) {
    const Fn f = real<Table>().*M;
    Capture* c = t_active;
    if (c) {
      std::vector<Storage*> touched;
      (storage_of(touched, a), ...);
      c->probe_first_use(touched);
    }
    f(a...);
    if (c) {
      c->record([f, args = std::make_tuple(own_arg(*c, a)...)] { std::apply(f, args); });
      (hold_arg(*c, a), ...);
      c->settle_first_use();
    }
  }
};

#define LAMINA_REC(T, m) t.m = &Rec<T, decltype(T::m)>::template call<&T::m>;

// Random kernels take their (seed, counter) from the capture's draw slots
// at replay, so each replay draws fresh numbers (the caller sets the slots
// to what the eager step would reserve) instead of repeating the first.
void rec_random(const Tensor& out, uint64_t seed, uint64_t counter, bool normal) {
  const auto f = real<Backend>().random;
  if (Capture* c = t_active) c->probe_first_use({out.impl()->storage.get()});
  f(out, seed, counter, normal);
  if (Capture* c = t_active) {
    const size_t k = c->add_draw({seed, counter});
    c->record([c, k, f, out = c->own(out), normal] {
      const Capture::Draw d = c->replay_draw(k);
      f(out, d.first, d.second, normal);
    });
    c->hold(out);
    c->settle_first_use();
  }
}

void rec_dropout(const Tensor& x, double rate, uint64_t seed, uint64_t counter, const Tensor& y) {
  const auto f = real<NnBackend>().dropout;
  if (Capture* c = t_active) c->probe_first_use({x.impl()->storage.get(), y.impl()->storage.get()});
  f(x, rate, seed, counter, y);
  if (Capture* c = t_active) {
    const size_t k = c->add_draw({seed, counter});
    c->record([c, k, f, x = c->own(x), rate, y = c->own(y)] {
      const Capture::Draw d = c->replay_draw(k);
      f(x, rate, d.first, d.second, y);
    });
    c->hold(x);
    c->hold(y);
    c->settle_first_use();
  }
}

Backend make_recording(const Backend& r) {
  static_assert(sizeof(Backend) == 10 * sizeof(void*), "record every new Backend kernel here");
  Backend t = r;
  LAMINA_REC(Backend, copy) LAMINA_REC(Backend, fill) LAMINA_REC(Backend, unary)
  LAMINA_REC(Backend, binary) LAMINA_REC(Backend, where) LAMINA_REC(Backend, reduce)
  LAMINA_REC(Backend, matmul) LAMINA_REC(Backend, gather) LAMINA_REC(Backend, index_add)
  t.random = rec_random;
  return t;
}

NnBackend make_recording(const NnBackend& r) {
  static_assert(sizeof(NnBackend) == 21 * sizeof(void*), "record every new NnBackend kernel here");
  NnBackend t = r;
  LAMINA_REC(NnBackend, im2col) LAMINA_REC(NnBackend, col2im) LAMINA_REC(NnBackend, max_pool)
  LAMINA_REC(NnBackend, max_pool_backward) LAMINA_REC(NnBackend, avg_pool)
  LAMINA_REC(NnBackend, avg_pool_backward) LAMINA_REC(NnBackend, row_norm)
  LAMINA_REC(NnBackend, row_norm_backward) LAMINA_REC(NnBackend, batch_norm)
  LAMINA_REC(NnBackend, batch_norm_backward) LAMINA_REC(NnBackend, sparse_xent)
  LAMINA_REC(NnBackend, sparse_xent_backward) LAMINA_REC(NnBackend, rnn_forward)
  LAMINA_REC(NnBackend, rnn_backward) LAMINA_REC(NnBackend, attention)
  LAMINA_REC(NnBackend, attention_backward) LAMINA_REC(NnBackend, bias_act)
  LAMINA_REC(NnBackend, bias_act_backward) LAMINA_REC(NnBackend, conv2d)
  LAMINA_REC(NnBackend, conv2d_backward)
  t.dropout = rec_dropout;
  return t;
}

#undef LAMINA_REC

}  // namespace

void Capture::hold(const Tensor& t) {
  Storage* s = t.impl()->storage.get();
  if (held_.insert(s).second) held_bytes_ += s->nbytes;
  if (calls_.empty()) return;
  const size_t k = calls_.size() - 1;
  if (s->serial < first_serial_) return;
  auto it = life_.find(s);
  if (it == life_.end()) {
    life_.emplace(s, Life{k, k, false});  // not probed: treated as holding host values
  } else {
    it->second.last = k;
  }
}

void Capture::probe_first_use(const std::vector<Storage*>& storages) {
  probes_.clear();
  for (Storage* s : storages) {
    if (s->serial < first_serial_ || s->device != Device::CPU || life_.count(s)) continue;
    bool seen = false;
    for (const auto& p : probes_) seen = seen || p.first == s;
    if (seen) continue;
    const char* d = static_cast<const char*>(s->data);
    probes_.emplace_back(s, std::vector<char>(d, d + s->nbytes));
  }
}

void Capture::settle_first_use() {
  for (auto& [s, before] : probes_) {
    auto it = life_.find(s);
    if (it == life_.end() || it->second.first != calls_.size() - 1) continue;
    it->second.filled = std::memcmp(before.data(), s->data, s->nbytes) != 0;
    if (it->second.filled && s->owned) releasable_.push_back(s);
  }
  probes_.clear();
}

Tensor Capture::own(const Tensor& t) {
  if (!t.defined()) return t;
  const TensorImpl& src = *t.impl();
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = src.storage;
  impl->shape = src.shape;
  impl->strides = src.strides;
  impl->offset = src.offset;
  impl->dtype = src.dtype;
  Owned& o = owned_[src.storage.get()];
  if (o.handles == 0) o.storage = src.storage;
  ++o.handles;
  return Tensor(impl);
}

void Capture::release_dropped() {
  for (size_t i = 0; i < releasable_.size();) {
    Storage* s = releasable_[i];
    auto it = owned_.find(s);
    if (it == owned_.end() || it->second.storage.use_count() != it->second.handles) {
      ++i;
      continue;
    }
    // Only the capture's handles are left: free the memory (the eager step
    // reuses it); the buffer gets its place in the arena when planned.
    release_memory(*s);
    releasable_[i] = releasable_.back();
    releasable_.pop_back();
  }
}

void Capture::set_draws(const std::vector<Draw>& d) {
  if (d.size() != draws_.size()) {
    throw std::invalid_argument("[capture] set_draws: " + std::to_string(d.size()) +
                                " draws for a program that makes " + std::to_string(draws_.size()));
  }
  replay_draws_ = d;
}

CaptureSnapshot Capture::snapshot() const {
  CaptureSnapshot s;
  for (Storage* st : held_) {
    if (st->serial >= first_serial_ || st->device != Device::CPU) continue;
    const char* p = static_cast<const char*>(st->data);
    s.buffers.emplace_back(st, std::vector<char>(p, p + st->nbytes));
  }
  return s;
}

void Capture::restore(const CaptureSnapshot& s) const {
  for (const auto& [st, bytes] : s.buffers) {
    if (!held_.count(st)) throw std::invalid_argument("[capture] restore: a snapshot of another program");
    std::copy(bytes.begin(), bytes.end(), static_cast<char*>(st->data));
  }
}

void Capture::replay() const {
  if (tainted()) throw std::runtime_error("[capture] cannot replay this program: " + why_);
  for (const auto& call : calls_) call();
}

void begin_capture(Capture* c) {
  if (t_active) throw std::runtime_error("[capture] a capture is already active on this thread");
  if (c->first_serial_ == 0) c->first_serial_ = Storage().serial;
  t_active = c;
}

void end_capture() { t_active = nullptr; }

Capture* active_capture() { return t_active; }

void capture_taint(const char* why) {
  if (t_active) t_active->taint(why);
}

const Backend& recording_backend(const Backend& real_cpu) {
  g_real = &real_cpu;
  static const Backend table = make_recording(real_cpu);
  return table;
}

const NnBackend& recording_nn_backend(const NnBackend& real_cpu) {
  g_real_nn = &real_cpu;
  static const NnBackend table = make_recording(real_cpu);
  return table;
}

}  // namespace lamina
