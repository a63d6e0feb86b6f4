#pragma once
// The public ops. Each validates its inputs once, promotes dtypes, broadcasts,
// calls the device kernel, and records its backward rule (cpp/src/ops/*.cpp
// keep each op's forward and vector-Jacobian product side by side).
#include <optional>
#include <string>
#include <vector>

#include "lamina/backend.h"
#include "lamina/tensor.h"

namespace lamina {

using Axes = std::optional<std::vector<int64_t>>;  // nullopt: all axes

// ---- creation
Tensor full(const Shape& shape, double value, Dtype dtype = Dtype::Float32,
            Device device = Device::CPU);
Tensor zeros(const Shape& shape, Dtype dtype = Dtype::Float32, Device device = Device::CPU);
Tensor ones(const Shape& shape, Dtype dtype = Dtype::Float32, Device device = Device::CPU);
Tensor scalar(double value, Dtype dtype, Device device = Device::CPU);
Tensor arange(double start, double stop, double step, Dtype dtype, Device device = Device::CPU);
Tensor eye(int64_t n, int64_t m, int64_t k, Dtype dtype, Device device = Device::CPU);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor random_uniform(const Shape& shape, double low, double high, Dtype dtype, uint64_t seed,
                      uint64_t counter, Device device = Device::CPU);
Tensor random_normal(const Shape& shape, double mean, double stddev, Dtype dtype, uint64_t seed,
                     uint64_t counter, Device device = Device::CPU);

// ---- copies, dtypes, devices
Tensor contiguous(const Tensor& t);
Tensor copy(const Tensor& t);
Tensor cast(const Tensor& t, Dtype dtype);
Tensor to_device(const Tensor& t, Device device);
// In-place dst[...] = src (broadcast, cast); no autograd record. For optimizers,
// slice assignment and scatter results.
void assign(const Tensor& dst, const Tensor& src);

// ---- elementwise
Tensor unary(UnaryOp op, const Tensor& x);
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, const Tensor& b);
Tensor subtract(const Tensor& a, const Tensor& b);
Tensor multiply(const Tensor& a, const Tensor& b);
Tensor divide(const Tensor& a, const Tensor& b);
Tensor power(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor negative(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor square(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sign(const Tensor& x);
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor clip(const Tensor& x, const Tensor& lo, const Tensor& hi);
// Operand dtype for a binary op between a and b. `weak_*` marks a Python scalar
// operand, which adopts the other side's dtype (NEP 50), floats lifting ints to float32.
Dtype result_dtype(const Tensor& a, bool weak_a, const Tensor& b, bool weak_b);

// ---- reductions
Tensor reduce(ReduceOp op, const Tensor& x, const Axes& axes, bool keepdims);
Tensor sum(const Tensor& x, const Axes& axes = std::nullopt, bool keepdims = false);
Tensor mean(const Tensor& x, const Axes& axes = std::nullopt, bool keepdims = false);
Tensor max(const Tensor& x, const Axes& axes = std::nullopt, bool keepdims = false);
Tensor min(const Tensor& x, const Axes& axes = std::nullopt, bool keepdims = false);
Tensor prod(const Tensor& x, const Axes& axes = std::nullopt, bool keepdims = false);
Tensor var(const Tensor& x, const Axes& axes = std::nullopt, bool keepdims = false);
Tensor std_(const Tensor& x, const Axes& axes = std::nullopt, bool keepdims = false);
Tensor argmax(const Tensor& x, std::optional<int64_t> axis, bool keepdims = false);
Tensor argmin(const Tensor& x, std::optional<int64_t> axis, bool keepdims = false);
Tensor logsumexp(const Tensor& x, const Axes& axes = std::nullopt, bool keepdims = false);
// Sums `g` down to `shape` (the inverse of broadcasting).
Tensor sum_to(const Tensor& g, const Shape& shape);

// ---- linear algebra
Tensor matmul(const Tensor& a, const Tensor& b);

// ---- shape (views where the layout allows)
Tensor reshape(const Tensor& x, Shape shape);  // one -1 allowed
Tensor transpose(const Tensor& x, std::optional<std::vector<int64_t>> perm = std::nullopt);
Tensor broadcast_to(const Tensor& x, const Shape& shape);
Tensor expand_dims(const Tensor& x, int64_t axis);
Tensor squeeze(const Tensor& x, const Axes& axes = std::nullopt);
// Basic indexing along every axis: start/stop/step per axis, already clamped.
Tensor slice(const Tensor& x, const std::vector<int64_t>& start, const std::vector<int64_t>& stop,
             const std::vector<int64_t>& step);
Tensor concatenate(const std::vector<Tensor>& xs, int64_t axis);
Tensor stack(const std::vector<Tensor>& xs, int64_t axis);
Tensor pad(const Tensor& x, const std::vector<std::pair<int64_t, int64_t>>& widths,
           double value = 0.0);
Tensor tile(const Tensor& x, const std::vector<int64_t>& reps);
Tensor repeat(const Tensor& x, int64_t repeats, std::optional<int64_t> axis);
Tensor take(const Tensor& x, const Tensor& indices, std::optional<int64_t> axis);
Tensor take_along_axis(const Tensor& x, const Tensor& indices, int64_t axis);
// out = zeros(shape) with out[..., idx[j], ...] += updates[..., j, ...] along axis.
Tensor index_add(const Tensor& base, int64_t axis, const Tensor& idx, const Tensor& updates);
Tensor one_hot(const Tensor& x, int64_t num_classes, Dtype dtype = Dtype::Float32);
Tensor flip(const Tensor& x, int64_t axis);

// ---- activations (numerically stable; composites of the ops above)
Tensor relu6(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double negative_slope);
Tensor elu(const Tensor& x, double alpha);
Tensor selu(const Tensor& x);
Tensor gelu(const Tensor& x, bool approximate);
Tensor silu(const Tensor& x);
Tensor softplus(const Tensor& x);
Tensor softmax(const Tensor& x, int64_t axis);
Tensor log_softmax(const Tensor& x, int64_t axis);

}  // namespace lamina
