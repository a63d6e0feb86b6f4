#pragma once
// Kernel-level capture of a fixed program, replayed without Python.
//
// While a Capture is active on a thread, every CPU kernel the op layer
// launches through lamina/backend.h and lamina/nn_backend.h runs as usual
// and is also recorded with its tensors (which the recording keeps alive).
// Replaying re-runs exactly those kernels, in order, on the same buffers: no
// Python, no op-layer validation or allocation, as a CUDA graph does. New
// data goes in by writing the captured input buffers, results come out of
// the captured output buffers.
//
// The recording is only valid for other data when the program did not look
// at values on the host. Anything that would bake one batch's values into
// the program (reading a tensor into Python, moving data between devices, a
// host-side computation outside the kernels) taints the capture, and the
// caller runs eagerly instead. Two host values may change between replays
// by design: the counters of random draws (set_draws, so a replay draws what
// the eager step would) and the hyper-parameter tensors the fused optimizer
// updates read when they run (lamina/optim.h).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "lamina/tensor.h"

namespace lamina {

// The bytes of a capture's state buffers at one moment (Capture::snapshot).
struct CaptureSnapshot {
  std::vector<std::pair<Storage*, std::vector<char>>> buffers;
  bool operator==(const CaptureSnapshot& o) const { return buffers == o.buffers; }
};

class Capture {
 public:
  // Random draws: a recorded random kernel reads its (seed, counter) from
  // slot k at replay; the slots start as the draws of the capture run.
  using Draw = std::pair<uint64_t, uint64_t>;
  size_t add_draw(Draw d) {
    draws_.push_back(d);
    replay_draws_.push_back(d);
    return draws_.size() - 1;
  }
  const std::vector<Draw>& draws() const { return draws_; }
  Draw replay_draw(size_t k) const { return replay_draws_[k]; }
  // The (seed, counter) of each draw for the next replays, in draw order.
  void set_draws(const std::vector<Draw>& d);

  // State: the recorded buffers allocated before the capture began (weights,
  // optimizer slots, metric totals, input buffers), which a replay may
  // update in place. Saving and restoring them lets a caller check a replay
  // against an eager run of the same step from the same state.
  CaptureSnapshot snapshot() const;
  void restore(const CaptureSnapshot& s) const;

  void record(std::function<void()> call) {
    calls_.push_back(std::move(call));
    release_dropped();
  }
  // The capture's own handle on `t`'s buffer (shape, strides, offset, dtype;
  // no autograd links) for a recorded kernel. Counting these per buffer
  // tells when the eager step has dropped a buffer: its memory is then
  // freed for the rest of the capture run (the planner gives the buffer a
  // place in the arena later), so capturing needs about the memory of an
  // eager step, not of all its tensors at once.
  Tensor own(const Tensor& t);
  // Notes that the last recorded call uses `t` (its buffer's lifetime), and
  // counts the buffer towards held_bytes (once per buffer).
  void hold(const Tensor& t);
  // Around a kernel's first run: buffers made during the capture that it is
  // the first to touch are copied before and compared after, so the planner
  // knows which ones a kernel fills (their earlier contents never matter)
  // and which ones hold values written on the host (constants, kept).
  void probe_first_use(const std::vector<Storage*>& storages);
  void settle_first_use();

  // Memory planning: the buffers made during the capture and filled by its
  // kernels, except `keep` (the outputs the caller reads after a replay),
  // move into one arena where buffers whose lifetimes (first to last
  // recorded use) do not overlap share memory. Returns the arena's bytes.
  size_t plan(const std::vector<Tensor>& keep);
  size_t planned_bytes() const { return planned_bytes_; }
  void taint(const std::string& why) {
    if (why_.empty()) why_ = why;
  }
  bool tainted() const { return !why_.empty(); }
  const std::string& why() const { return why_; }
  size_t size() const { return calls_.size(); }
  // Bytes of every buffer the recording keeps alive (weights and inputs
  // included): nothing is reused between kernels yet, so a program holds
  // all of its intermediate tensors at once.
  size_t held_bytes() const { return held_bytes_; }
  // Re-runs the recorded kernels; throws if the capture is tainted.
  void replay() const;

 private:
  friend void begin_capture(Capture* c);
  struct Life {
    size_t first = 0, last = 0;
    bool filled = false;  // its first use was a kernel that changed it
  };
  std::vector<std::function<void()>> calls_;
  std::unordered_map<Storage*, Life> life_;  // buffers made during the capture
  std::vector<std::pair<Storage*, std::vector<char>>> probes_;
  struct Owned {
    std::weak_ptr<Storage> storage;
    long handles = 0;
  };
  std::unordered_map<Storage*, Owned> owned_;
  std::vector<Storage*> releasable_;  // filled by a kernel, memory not yet freed
  void release_dropped();
  size_t planned_bytes_ = 0;
  std::unordered_set<Storage*> held_;
  size_t held_bytes_ = 0;
  uint64_t first_serial_ = 0;  // storages from here on were made while capturing
  std::vector<Draw> draws_, replay_draws_;
  std::string why_;
};

// Starts recording this thread's kernels into `c`; throws if one is active.
void begin_capture(Capture* c);
void end_capture();
Capture* active_capture();
// Taints the active capture, if any, naming the reason.
void capture_taint(const char* why);

}  // namespace lamina
