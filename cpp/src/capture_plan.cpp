// Memory planning for a captured program (Capture::plan, lamina/capture.h):
// buffers whose lifetimes do not overlap share one arena, as TFLite's and
// XLA's buffer assignment do, so a replayed step needs about the memory of
// its live tensors at the busiest moment, not the sum of all of them.
#include <algorithm>
#include <memory>
#include <unordered_set>
#include <vector>

#include "lamina/capture.h"

namespace lamina {

void host_empty_cache();  // allocator.cpp

namespace {

constexpr size_t kAlign = 64;  // a cache line: AVX-512 loads never split

struct Slot {
  Storage* storage;
  size_t first, last, bytes, offset = 0;
};

size_t aligned(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

bool overlap_in_time(const Slot& a, const Slot& b) { return !(a.last < b.first || b.last < a.first); }

// Largest first, each at the lowest offset clear of every placed buffer
// alive at the same time (greedy by size: near the live peak in practice).
size_t assign_offsets(std::vector<Slot>& slots) {
  std::sort(slots.begin(), slots.end(), [](const Slot& a, const Slot& b) {
    return a.bytes != b.bytes ? a.bytes > b.bytes : a.first < b.first;
  });
  size_t total = 0;
  std::vector<const Slot*> placed, busy;
  for (Slot& s : slots) {
    busy.clear();
    for (const Slot* p : placed)
      if (overlap_in_time(*p, s)) busy.push_back(p);
    std::sort(busy.begin(), busy.end(), [](const Slot* a, const Slot* b) { return a->offset < b->offset; });
    size_t offset = 0;
    for (const Slot* p : busy) {
      if (offset + s.bytes <= p->offset) break;
      offset = std::max(offset, p->offset + p->bytes);
    }
    s.offset = offset;
    total = std::max(total, offset + s.bytes);
    placed.push_back(&s);
  }
  return total;
}

// Points `s` at `data` inside the arena and frees its own buffer.
void move_into(Storage* s, void* data, const std::shared_ptr<void>& arena) {
  release_memory(*s);
  s->data = data;
  s->keepalive = arena;
}

}  // namespace

size_t Capture::plan(const std::vector<Tensor>& keep) {
  std::unordered_set<Storage*> kept;
  for (const Tensor& t : keep)
    if (t.defined()) kept.insert(t.impl()->storage.get());
  std::vector<Slot> slots;
  for (const auto& [s, life] : life_) {
    const bool released = s->data == nullptr;  // freed when the eager step dropped it
    if (!life.filled || kept.count(s) || s->device != Device::CPU || s->nbytes == 0) continue;
    if (!s->owned && !released) continue;  // memory someone else owns (NumPy)
    slots.push_back(Slot{s, life.first, life.last, aligned(s->nbytes)});
  }
  if (slots.empty()) return 0;
  const size_t total = assign_offsets(slots);
  // The eager steps' freed blocks go back to the system first: the arena
  // replaces them, it does not add to them.
  host_empty_cache();
  std::shared_ptr<Storage> arena = allocate_storage(total, Device::CPU);
  char* base = static_cast<char*>(arena->data);
  for (const Slot& s : slots) {
    planned_bytes_ += s.storage->nbytes;
    held_bytes_ -= s.storage->nbytes;
    move_into(s.storage, base + s.offset, arena);
  }
  held_bytes_ += total;
  life_.clear();  // planned once
  releasable_.clear();
  return total;
}

}  // namespace lamina
