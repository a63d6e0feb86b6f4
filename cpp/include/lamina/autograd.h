#pragma once
#include <functional>
#include <vector>

#include "lamina/tensor.h"

namespace lamina {

// The vector-Jacobian product of one op: given the gradient of its output,
// returns one gradient per input (an undefined Tensor where none flows).
using VjpFn = std::function<std::vector<Tensor>(const Tensor& grad_out)>;

struct Node {
  const char* name = "";
  std::vector<Tensor> inputs;  // the edges of the graph; keeps inputs alive
  VjpFn vjp;
  Shape out_shape;
  Dtype out_dtype = Dtype::Float32;
  bool released = false;
};

bool grad_enabled();
void set_grad_enabled(bool on);

struct NoGradGuard {
  bool prev;
  NoGradGuard() : prev(grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(prev); }
};

// True when any input needs a gradient and grad mode is on.
bool needs_grad(const std::vector<Tensor>& inputs);

// Attaches a graph node to `out` when any input needs a gradient. The backward
// rule should capture `detach(out)` rather than `out` to avoid a cycle.
Tensor record(const char* name, std::vector<Tensor> inputs, Tensor out, VjpFn vjp);

// Reverse-mode pass from `root`. With `inputs` empty, gradients accumulate into
// the `.grad` of leaves; otherwise they are returned for `inputs` and no
// `.grad` changes (as torch.autograd.grad / tf.GradientTape.gradient).
std::vector<Tensor> backward(const Tensor& root, const Tensor& grad_root, bool retain_graph,
                             const std::vector<Tensor>& inputs = {});

Tensor detach(const Tensor& t);

}  // namespace lamina
