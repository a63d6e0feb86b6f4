// The reverse-mode engine: a topological walk over Nodes from the root,
// calling each Node's vector-Jacobian product once all its consumers are done.
#include "lamina/autograd.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "lamina/ops.h"

namespace lamina {

namespace {
thread_local bool t_grad_enabled = true;
}

bool grad_enabled() { return t_grad_enabled; }
void set_grad_enabled(bool on) { t_grad_enabled = on; }

bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!t_grad_enabled) return false;
  for (auto& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

Tensor detach(const Tensor& t) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = t.impl()->storage;
  impl->shape = t.shape();
  impl->strides = t.strides();
  impl->offset = t.offset();
  impl->dtype = t.dtype();
  return Tensor(std::move(impl));
}

Tensor record(const char* name, std::vector<Tensor> inputs, Tensor out, VjpFn vjp) {
  if (!needs_grad(inputs)) return out;
  if (!is_floating(out.dtype())) return out;  // no gradient flows through ints/bools
  auto node = std::make_shared<Node>();
  node->name = name;
  node->inputs = std::move(inputs);
  node->vjp = std::move(vjp);
  node->out_shape = out.shape();
  node->out_dtype = out.dtype();
  out.impl()->grad_fn = std::move(node);
  out.impl()->requires_grad = true;
  return out;
}

namespace {

// Holds shared_ptrs: releasing a consumer's inputs must not free a producer
// that is still waiting in the order.
void topo_sort(const std::shared_ptr<Node>& root, std::vector<std::shared_ptr<Node>>& order) {
  // Iterative DFS: deep graphs (long RNNs, 10^5-step loops) must not blow the stack.
  std::unordered_set<Node*> seen;
  std::vector<std::pair<std::shared_ptr<Node>, size_t>> stack{{root, 0}};
  seen.insert(root.get());
  while (!stack.empty()) {
    auto& [node, i] = stack.back();
    if (i < node->inputs.size()) {
      const Tensor& in = node->inputs[i++];
      if (in.defined() && in.grad_fn() && seen.insert(in.grad_fn().get()).second)
        stack.push_back({in.grad_fn(), 0});
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  std::reverse(order.begin(), order.end());  // consumers before producers
}

Tensor accumulate(const Tensor& acc, const Tensor& g) { return acc.defined() ? add(acc, g) : g; }

// A leaf's gradient gets storage of its own: `g` may be a stride-0 broadcast
// view (from sum) or the caller's output gradient, and in-place updates of
// `.grad` must touch neither.
Tensor accumulate_owned(const Tensor& acc, const Tensor& g) {
  return acc.defined() ? add(acc, g) : copy(g);
}

// Brings a gradient to the shape and dtype of the tensor it belongs to.
Tensor fit_grad(const Tensor& g, const Shape& shape, Dtype dtype) {
  Tensor r = g.shape() == shape ? g : sum_to(g, shape);
  return r.dtype() == dtype ? r : cast(r, dtype);
}

}  // namespace

std::vector<Tensor> backward(const Tensor& root, const Tensor& grad_root, bool retain_graph,
                             const std::vector<Tensor>& inputs) {
  if (!root.requires_grad()) {
    throw ValueError("[backward] the tensor does not require grad and has no grad_fn");
  }
  Tensor g0 = grad_root;
  if (!g0.defined()) {
    if (root.size() != 1) {
      throw ValueError("[backward] grad can be implicitly created only for scalar outputs; got shape " +
                       shape_str(root.shape()) + ": pass an output gradient");
    }
    g0 = ones(root.shape(), root.dtype(), root.device());
  } else if (g0.shape() != root.shape()) {
    throw ValueError("[backward] output gradient of shape " + shape_str(g0.shape()) +
                     " does not match the output's shape " + shape_str(root.shape()));
  }
  NoGradGuard no_grad;
  const bool capture = !inputs.empty();
  std::unordered_map<TensorImpl*, Tensor> leaf_grads;  // for `inputs` that are leaves
  auto deliver_leaf = [&](const Tensor& leaf, const Tensor& g) {
    if (capture) {
      auto& slot = leaf_grads[leaf.impl()];
      slot = accumulate_owned(slot, g);
    } else {
      leaf.set_grad(accumulate_owned(leaf.grad(), g));
    }
  };
  if (!root.grad_fn()) {
    deliver_leaf(root, fit_grad(g0, root.shape(), root.dtype()));
  }
  std::unordered_map<Node*, Tensor> grads;
  std::vector<std::shared_ptr<Node>> order;
  if (root.grad_fn()) {
    grads[root.grad_fn().get()] = g0;
    topo_sort(root.grad_fn(), order);
  }
  for (auto& node : order) {
    if (node->released) {
      throw ValueError(std::string("[backward] the graph through '") + node->name +
                       "' was already freed by an earlier backward; pass retain_graph=True");
    }
  }
  std::unordered_map<Node*, Tensor> node_grads_out;  // grads of non-leaf `inputs`
  std::unordered_set<Node*> wanted;
  for (auto& t : inputs)
    if (t.grad_fn()) wanted.insert(t.grad_fn().get());
  for (auto& node_ptr : order) {
    Node* node = node_ptr.get();
    auto it = grads.find(node);
    if (it == grads.end()) continue;
    Tensor g = it->second;
    grads.erase(it);
    if (wanted.count(node)) node_grads_out[node] = g;
    std::vector<Tensor> in_grads = node->vjp(g);
    for (size_t i = 0; i < node->inputs.size() && i < in_grads.size(); ++i) {
      const Tensor& in = node->inputs[i];
      if (!in.defined() || !in.requires_grad() || !in_grads[i].defined()) continue;
      Tensor gi = fit_grad(in_grads[i], in.shape(), in.dtype());
      if (in.grad_fn()) {
        auto& slot = grads[in.grad_fn().get()];
        slot = accumulate(slot, gi);
      } else {
        deliver_leaf(in, gi);
      }
    }
    if (!retain_graph) {
      node->inputs.clear();
      node->vjp = nullptr;
      node->released = true;
    }
  }
  std::vector<Tensor> result;
  for (auto& t : inputs) {
    if (t.grad_fn()) {
      auto it = node_grads_out.find(t.grad_fn().get());
      result.push_back(it == node_grads_out.end() ? Tensor() : it->second);
    } else {
      auto it = leaf_grads.find(t.impl());
      result.push_back(it == leaf_grads.end() ? Tensor() : it->second);
    }
  }
  return result;
}

}  // namespace lamina
