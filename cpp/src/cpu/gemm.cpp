// Matrix products. float32/float64 go to OpenBLAS (the scipy-openblas32 wheel,
// symbols prefixed `scipy_`) when the build found it; otherwise to a blocked
// fallback so that an install never fails for want of a BLAS.
#include <algorithm>
#include <cstring>
#include <string>

#include "cpu/kernels.h"
#include "lamina/ops.h"
#include "lamina/threads.h"

#ifdef LAMINA_HAVE_OPENBLAS
#include <cblas.h>
#define LAMINA_SGEMM scipy_cblas_sgemm
#define LAMINA_DGEMM scipy_cblas_dgemm
#endif

namespace lamina {

void blas_set_num_threads(int n) {
#ifdef LAMINA_HAVE_OPENBLAS
  scipy_openblas_set_num_threads(n);
#else
  (void)n;
#endif
}

std::string blas_name() {
#ifdef LAMINA_HAVE_OPENBLAS
  return std::string("OpenBLAS (scipy-openblas32): ") + scipy_openblas_get_config();
#else
  return "built-in blocked GEMM (no BLAS found at build time)";
#endif
}

namespace cpu {

namespace {

// A matrix operand as BLAS wants it: row-major, maybe transposed, leading dim.
struct MatView {
  const char* ptr;
  bool trans;
  int64_t ld;
};

// nullopt-like: ok=false when the strides fit neither layout.
bool as_blas(const Tensor& t, int64_t rows, int64_t cols, int64_t rs, int64_t cs, MatView* v) {
  if (cs == 1 && (rs >= std::max<int64_t>(cols, 1) || rows == 1)) {
    *v = {nullptr, false, rows == 1 ? std::max<int64_t>(cols, 1) : rs};
    return true;
  }
  if (rs == 1 && (cs >= std::max<int64_t>(rows, 1) || cols == 1)) {
    *v = {nullptr, true, cols == 1 ? std::max<int64_t>(rows, 1) : cs};
    return true;
  }
  (void)t;
  return false;
}

template <class T>
void gemm_fallback(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const T* A, int64_t lda,
                   const T* B, int64_t ldb, T* C) {
  auto a_at = [&](int64_t i, int64_t k) { return ta ? A[k * lda + i] : A[i * lda + k]; };
  auto b_at = [&](int64_t k, int64_t j) { return tb ? B[j * ldb + k] : B[k * ldb + j]; };
  parallel_for(M, std::max<int64_t>(1, 4096 / std::max<int64_t>(N * K, 1)), [&](int64_t i0, int64_t i1) {
    std::vector<T> brow(N);
    for (int64_t i = i0; i < i1; ++i) {
      T* c = C + i * N;
      std::fill(c, c + N, T(0));
      for (int64_t k = 0; k < K; ++k) {
        T a = a_at(i, k);
        if (!tb) {
          const T* b = B + k * ldb;
          for (int64_t j = 0; j < N; ++j) c[j] += a * b[j];
        } else {
          for (int64_t j = 0; j < N; ++j) c[j] += a * b_at(k, j);
        }
      }
    }
  });
}

template <class T>
void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B,
          int64_t ldb, T* C) {
  if (K == 0) {
    std::fill(C, C + M * N, T(0));
    return;
  }
#ifdef LAMINA_HAVE_OPENBLAS
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    auto TA = ta ? CblasTrans : CblasNoTrans, TB = tb ? CblasTrans : CblasNoTrans;
    if constexpr (std::is_same_v<T, float>)
      LAMINA_SGEMM(CblasRowMajor, TA, TB, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, N);
    else
      LAMINA_DGEMM(CblasRowMajor, TA, TB, M, N, K, 1.0, A, lda, B, ldb, 0.0, C, N);
    return;
  }
#endif
  gemm_fallback(ta, tb, M, N, K, A, lda, B, ldb, C);
}

}  // namespace

void matmul(const Tensor& a_in, const Tensor& b_in, const Tensor& out) {
  const int nd = out.ndim();
  const int64_t M = out.shape()[nd - 2], N = out.shape()[nd - 1], K = a_in.shape()[nd - 1];
  int64_t batch = 1;
  for (int d = 0; d < nd - 2; ++d) batch *= out.shape()[d];
  if (M == 0 || N == 0) return;
  LAMINA_DISPATCH_NUMERIC(out.dtype(), "matmul", [&] {
    using T = scalar_t;
    Tensor a = a_in, b = b_in;
    MatView va, vb;
    if (!as_blas(a, M, K, a.strides()[nd - 2], a.strides()[nd - 1], &va)) {
      a = contiguous(a);
      as_blas(a, M, K, a.strides()[nd - 2], a.strides()[nd - 1], &va);
    }
    if (!as_blas(b, K, N, b.strides()[nd - 2], b.strides()[nd - 1], &vb)) {
      b = contiguous(b);
      as_blas(b, K, N, b.strides()[nd - 2], b.strides()[nd - 1], &vb);
    }
    T* c = out.data<T>();
    std::vector<int64_t> idx(std::max(nd - 2, 0), 0);
    for (int64_t bi = 0; bi < batch; ++bi) {
      int64_t oa = 0, ob = 0, rem = bi;
      for (int d = nd - 3; d >= 0; --d) {
        int64_t i = rem % out.shape()[d];
        rem /= out.shape()[d];
        oa += i * a.strides()[d];
        ob += i * b.strides()[d];
      }
      gemm<T>(va.trans, vb.trans, M, N, K, a.data<T>() + oa, va.ld, b.data<T>() + ob, vb.ld,
              c + bi * M * N);
    }
  });
}

}  // namespace cpu
}  // namespace lamina
