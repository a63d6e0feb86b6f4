#pragma once
// A register-blocked float32 GEMM for the small products of a recurrent step
// (a block of batch rows times the recurrent kernel, every time step): at
// these sizes (32 x 128 x 512) a general BLAS spends a large share of each
// call packing B, which here is read in place instead.
#include <cstdint>

namespace lamina::cpu {

// C (M x N, ldc) = A (M x K, lda) @ B (K x N, ldb), plus C when accumulate;
// all row-major. Returns false, doing nothing, unless N is a multiple of 64
// and this build has AVX-512; the caller then uses gemm_serial.
bool small_gemm_f32(int64_t M, int64_t N, int64_t K, const float* a, int64_t lda, const float* b,
                    int64_t ldb, float* c, int64_t ldc, bool accumulate);

}  // namespace lamina::cpu
