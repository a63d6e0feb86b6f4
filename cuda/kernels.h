#pragma once
// The CUDA backend's kernels; registered in cuda/backend.cu. Same contracts
// as cpu/kernels.h (see lamina/backend.h).
#include <vector>

#include "lamina/backend.h"

namespace lamina::gpu {

void copy(const Tensor& src, const Tensor& dst);
void fill(const Tensor& dst, double value);
void unary(UnaryOp op, const Tensor& in, const Tensor& out);
void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out);
void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out);
void reduce(ReduceOp op, const Tensor& in, const std::vector<int>& axes, const Tensor& out);
void matmul(const Tensor& a, const Tensor& b, const Tensor& out);
void gather(const Tensor& src, int axis, const Tensor& idx, const Tensor& out);
void index_add(const Tensor& dst, int axis, const Tensor& idx, const Tensor& src);
void random(const Tensor& out, uint64_t seed, uint64_t counter, bool normal);

// Defined in backend.cu; the allocator calls it so that linking lamina_core
// statically always keeps the object file holding the backend's registrar.
void link_backend();

}  // namespace lamina::gpu
