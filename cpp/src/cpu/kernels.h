#pragma once
// The CPU backend's kernels; registered in cpu/backend.cpp.
#include <vector>

#include "lamina/backend.h"

namespace lamina::cpu {

void copy(const Tensor& src, const Tensor& dst);
void fill(const Tensor& dst, double value);
void unary(UnaryOp op, const Tensor& in, const Tensor& out);
void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out);
void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out);
void reduce(ReduceOp op, const Tensor& in, const std::vector<int>& axes, const Tensor& out);
void matmul(const Tensor& a, const Tensor& b, const Tensor& out);
// Row-major C (ldc) = op(A) @ op(B) (+ C when accumulate), on the calling thread.
void gemm_serial(Dtype dt, bool ta, bool tb, int64_t M, int64_t N, int64_t K, const void* A,
                 int64_t lda, const void* B, int64_t ldb, void* C, int64_t ldc, bool accumulate);
void gather(const Tensor& src, int axis, const Tensor& idx, const Tensor& out);
void index_add(const Tensor& dst, int axis, const Tensor& idx, const Tensor& src);
void random(const Tensor& out, uint64_t seed, uint64_t counter, bool normal);

}  // namespace lamina::cpu
