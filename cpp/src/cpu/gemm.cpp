// Matrix products. float32/float64 go to OpenBLAS (the scipy-openblas32 wheel,
// symbols prefixed `scipy_`) when the build found it; otherwise to a blocked
// fallback so that an install never fails for want of a BLAS.
#include <algorithm>
#include <cstring>
#include <string>

#include "cpu/kernels.h"
#include "lamina/ops.h"
#include "cpu/small_gemm.h"
#include "lamina/threads.h"

#ifdef LAMINA_HAVE_OPENBLAS
#include <cblas.h>
#define LAMINA_SGEMM scipy_cblas_sgemm
#define LAMINA_DGEMM scipy_cblas_dgemm
#define LAMINA_SGEMV scipy_cblas_sgemv
#define LAMINA_DGEMV scipy_cblas_dgemv
#endif

namespace lamina {

// OpenBLAS always runs single-threaded inside lamina: matmul splits the work
// over lamina's own pool instead. OpenBLAS's threads busy-wait between calls
// and fight our pool for the same cores; measured on 2 cores, a conv layer's
// GEMMs ran up to 5x slower with them.
void blas_set_num_threads(int n) {
#ifdef LAMINA_HAVE_OPENBLAS
  (void)n;
  scipy_openblas_set_num_threads(1);
#else
  (void)n;
#endif
}

namespace {
struct BlasInit {
  BlasInit() { blas_set_num_threads(1); }
} g_blas_init;
}  // namespace

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
bool as_blas(int64_t rows, int64_t cols, int64_t rs, int64_t cs, MatView* v) {
  if (cs == 1 && (rs >= std::max<int64_t>(cols, 1) || rows == 1)) {
    *v = {nullptr, false, rows == 1 ? std::max<int64_t>(cols, 1) : rs};
    return true;
  }
  if (rs == 1 && (cs >= std::max<int64_t>(rows, 1) || cols == 1)) {
    *v = {nullptr, true, cols == 1 ? std::max<int64_t>(rows, 1) : cs};
    return true;
  }
  return false;
}

// The built-in GEMM used when no BLAS was found: i-k-j order so the inner
// loop streams a row of B and vectorises.
template <class T>
void gemm_fallback(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const T* A, int64_t lda,
                   const T* B, int64_t ldb, T* C, int64_t ldc) {
  auto a_at = [&](int64_t i, int64_t k) { return ta ? A[k * lda + i] : A[i * lda + k]; };
  auto b_at = [&](int64_t k, int64_t j) { return tb ? B[j * ldb + k] : B[k * ldb + j]; };
  {
    for (int64_t i = 0; i < M; ++i) {
      T* c = C + i * ldc;
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
  }
}

// C[M, N] (row stride ldc) = op(A) @ op(B), single-threaded.
template <class T>
void gemm_block(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const T* A, int64_t lda,
                const T* B, int64_t ldb, T* C, int64_t ldc, bool accumulate = false) {
  if (K == 0) {
    if (!accumulate)
      for (int64_t i = 0; i < M; ++i) std::fill(C + i * ldc, C + i * ldc + N, T(0));
    return;
  }
#ifdef LAMINA_HAVE_OPENBLAS
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    // A single row or column is a matrix-vector product: gemm would pack the
    // whole matrix first (a batch-1 Dense layer took 4x NumPy's time).
    if (M == 1 || N == 1) {
      const bool row = M == 1;
      // row: c = op(B)^T a, the vector a with stride (ta ? lda : 1).
      // col: c = op(A) b, the vector b with stride (tb ? 1 : ldb).
      const T* mat = row ? B : A;
      const int64_t ld = row ? ldb : lda;
      const bool stored_t = row ? !tb : ta;  // mat as stored must be transposed
      const int64_t rows = row ? (tb ? N : K) : (ta ? K : M), cols = row ? (tb ? K : N) : (ta ? M : K);
      const T* vec = row ? A : B;
      const int64_t incv = row ? (ta ? lda : 1) : (tb ? 1 : ldb), incc = row ? 1 : ldc;
      const auto TM = stored_t ? CblasTrans : CblasNoTrans;
      const T beta = accumulate ? T(1) : T(0);
      if constexpr (std::is_same_v<T, float>)
        LAMINA_SGEMV(CblasRowMajor, TM, rows, cols, 1.0f, mat, ld, vec, incv, beta, C, incc);
      else
        LAMINA_DGEMV(CblasRowMajor, TM, rows, cols, 1.0, mat, ld, vec, incv, beta, C, incc);
      return;
    }
    // A few rows against a wide matrix (small-batch Dense layers): the
    // register-blocked kernel reads B in place instead of packing all of it.
    if constexpr (std::is_same_v<T, float>)
      if (!ta && !tb && M <= 16 && small_gemm_f32(M, N, K, A, lda, B, ldb, C, ldc, accumulate)) return;
    auto TA = ta ? CblasTrans : CblasNoTrans, TB = tb ? CblasTrans : CblasNoTrans;
    if constexpr (std::is_same_v<T, float>)
      LAMINA_SGEMM(CblasRowMajor, TA, TB, M, N, K, 1.0f, A, lda, B, ldb, accumulate ? 1.0f : 0.0f, C, ldc);
    else
      LAMINA_DGEMM(CblasRowMajor, TA, TB, M, N, K, 1.0, A, lda, B, ldb, accumulate ? 1.0 : 0.0, C, ldc);
    return;
  }
#endif
  if (!accumulate) {
    gemm_fallback(ta, tb, M, N, K, A, lda, B, ldb, C, ldc);
    return;
  }
  std::vector<T> tmp(M * N);
  gemm_fallback(ta, tb, M, N, K, A, lda, B, ldb, tmp.data(), N);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) C[i * ldc + j] += tmp[i * N + j];
}

}  // namespace

void gemm_serial(Dtype dt, bool ta, bool tb, int64_t M, int64_t N, int64_t K, const void* A,
                 int64_t lda, const void* B, int64_t ldb, void* C, int64_t ldc, bool accumulate) {
  LAMINA_DISPATCH_FLOAT(dt, "gemm", [&] {
    using T = scalar_t;
    gemm_block<T>(ta, tb, M, N, K, static_cast<const T*>(A), lda, static_cast<const T*>(B), ldb,
                  static_cast<T*>(C), ldc, accumulate);
  });
}

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
    if (!as_blas(M, K, a.strides()[nd - 2], a.strides()[nd - 1], &va)) {
      a = contiguous(a);
      as_blas(M, K, a.strides()[nd - 2], a.strides()[nd - 1], &va);
    }
    if (!as_blas(K, N, b.strides()[nd - 2], b.strides()[nd - 1], &vb)) {
      b = contiguous(b);
      as_blas(K, N, b.strides()[nd - 2], b.strides()[nd - 1], &vb);
    }
    T* c = out.data<T>();
    auto batch_offsets = [&](int64_t bi, int64_t* oa, int64_t* ob) {
      int64_t rem = bi;
      *oa = *ob = 0;
      for (int d = nd - 3; d >= 0; --d) {
        int64_t i = rem % out.shape()[d];
        rem /= out.shape()[d];
        *oa += i * a.strides()[d];
        *ob += i * b.strides()[d];
      }
    };
    // Tasks: whole matrices when the batch alone fills the pool, otherwise
    // each matrix split into row blocks (or column blocks when M is small).
    const int nt = get_num_threads();
    const double flops = 2.0 * M * N * K;
    int64_t splits = 1;
    if (batch < nt && flops * batch > 2e5) splits = (nt + batch - 1) / batch;
    const bool by_rows = M >= N;
    const int64_t len = by_rows ? M : N;
    splits = std::max<int64_t>(1, std::min<int64_t>(splits, len / 8));
    int64_t grain = flops > 2e5 ? 1 : std::max<int64_t>(1, static_cast<int64_t>(2e5 / std::max(flops, 1.0)));
    parallel_for(batch * splits, grain, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        int64_t bi = t / splits, part = t % splits;
        int64_t oa, ob;
        batch_offsets(bi, &oa, &ob);
        int64_t per = (len + splits - 1) / splits, s0 = part * per, s1 = std::min(len, s0 + per);
        if (s0 >= s1) continue;
        const T* A = a.data<T>() + oa;
        const T* B = b.data<T>() + ob;
        T* C = c + bi * M * N;
        if (by_rows) {
          const T* A0 = va.trans ? A + s0 : A + s0 * va.ld;
          gemm_block<T>(va.trans, vb.trans, s1 - s0, N, K, A0, va.ld, B, vb.ld, C + s0 * N, N);
        } else {
          const T* B0 = vb.trans ? B + s0 * vb.ld : B + s0;
          gemm_block<T>(va.trans, vb.trans, M, s1 - s0, K, A, va.ld, B0, vb.ld, C + s0, N);
        }
      }
    });
  });
}

}  // namespace cpu
}  // namespace lamina
