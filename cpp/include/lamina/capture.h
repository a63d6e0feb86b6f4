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
// the program (reading a tensor into Python, drawing random numbers, moving
// data between devices, a host-side computation outside the kernels) taints
// the capture, and the caller runs eagerly instead.
#include <functional>
#include <string>
#include <unordered_set>
#include <vector>

#include "lamina/tensor.h"

namespace lamina {

class Capture {
 public:
  void record(std::function<void()> call) { calls_.push_back(std::move(call)); }
  // Counts a recorded tensor's buffer towards held_bytes (once per buffer).
  void hold(const Tensor& t);
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
  std::vector<std::function<void()>> calls_;
  std::unordered_set<const Storage*> held_;
  size_t held_bytes_ = 0;
  std::string why_;
};

// Starts recording this thread's kernels into `c`; throws if one is active.
void begin_capture(Capture* c);
void end_capture();
Capture* active_capture();
// Taints the active capture, if any, naming the reason.
void capture_taint(const char* why);

}  // namespace lamina
