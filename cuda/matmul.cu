// Batched matrix products on the GPU: a tiled shared-memory GEMM (64x64
// output tile per block of 256 threads, 4x4 outputs per thread, K in steps of
// 16). Operands are read through their strides, so transposed and broadcast
// (stride-0 batch) views need no copy; out is contiguous [..., M, N].
// Accumulates in the operand type, as BLAS does. No cuBLAS is assumed.
#include "common.cuh"
#include "kernels.h"

namespace lamina::gpu {

namespace {

constexpr int BM = 64, BN = 64, BK = 16, TM = 4, TN = 4;
constexpr int kGemmThreads = (BM / TM) * (BN / TN);  // 256

struct MatStrides {
  int64_t a_rs, a_cs, b_rs, b_cs;
};

template <class T>
__global__ void __launch_bounds__(kGemmThreads)
gemm_kernel(int64_t M, int64_t N, int64_t K, const T* A, const T* B, T* C, MatStrides s,
            Geom<2> batch, int64_t n_batch) {
  __shared__ T As[BK][BM + 1];  // +1: fewer bank conflicts on the k-fast stores
  __shared__ T Bs[BK][BN];
  const int tid = threadIdx.x;
  const int tx = tid % (BN / TN), ty = tid / (BN / TN);
  const int64_t tiles_m = (M + BM - 1) / BM, tiles_n = (N + BN - 1) / BN;
  // Load order: along the operand's unit-stride axis when it has one.
  const bool a_k_fast = s.a_cs == 1 || s.a_rs != 1;
  const bool b_n_fast = s.b_cs == 1 || s.b_rs != 1;
  for (int64_t bz = blockIdx.z; bz < n_batch; bz += gridDim.z) {
    int64_t off[2];
    geom_offsets<2>(batch, bz, off);
    const T* a = A + off[0];
    const T* b = B + off[1];
    T* c = C + bz * M * N;
    for (int64_t tm = blockIdx.y; tm < tiles_m; tm += gridDim.y) {
      for (int64_t tn = blockIdx.x; tn < tiles_n; tn += gridDim.x) {
        const int64_t row0 = tm * BM, col0 = tn * BN;
        T acc[TM][TN];
#pragma unroll
        for (int i = 0; i < TM; ++i)
#pragma unroll
          for (int j = 0; j < TN; ++j) acc[i][j] = T(0);
        for (int64_t k0 = 0; k0 < K; k0 += BK) {
          for (int l = tid; l < BM * BK; l += kGemmThreads) {
            int r = a_k_fast ? l / BK : l % BM;
            int kk = a_k_fast ? l % BK : l / BM;
            int64_t gr = row0 + r, gk = k0 + kk;
            As[kk][r] = (gr < M && gk < K) ? a[gr * s.a_rs + gk * s.a_cs] : T(0);
          }
          for (int l = tid; l < BK * BN; l += kGemmThreads) {
            int cc = b_n_fast ? l % BN : l / BK;
            int kk = b_n_fast ? l / BN : l % BK;
            int64_t gk = k0 + kk, gc = col0 + cc;
            Bs[kk][cc] = (gk < K && gc < N) ? b[gk * s.b_rs + gc * s.b_cs] : T(0);
          }
          __syncthreads();
#pragma unroll
          for (int kk = 0; kk < BK; ++kk) {
            T ar[TM], br[TN];
#pragma unroll
            for (int i = 0; i < TM; ++i) ar[i] = As[kk][ty + i * (BM / TM)];
#pragma unroll
            for (int j = 0; j < TN; ++j) br[j] = Bs[kk][tx + j * (BN / TN)];
#pragma unroll
            for (int i = 0; i < TM; ++i)
#pragma unroll
              for (int j = 0; j < TN; ++j) acc[i][j] += ar[i] * br[j];
          }
          __syncthreads();
        }
#pragma unroll
        for (int i = 0; i < TM; ++i) {
          int64_t r = row0 + ty + i * (BM / TM);
          if (r >= M) continue;
#pragma unroll
          for (int j = 0; j < TN; ++j) {
            int64_t cidx = col0 + tx + j * (BN / TN);
            if (cidx < N) c[r * N + cidx] = acc[i][j];
          }
        }
      }
    }
  }
}

}  // namespace

void matmul(const Tensor& a, const Tensor& b, const Tensor& out) {
  const int nd = out.ndim();
  const int64_t M = out.shape()[nd - 2], N = out.shape()[nd - 1], K = a.shape()[nd - 1];
  if (M == 0 || N == 0 || out.size() == 0) return;
  LAMINA_DISPATCH_NUMERIC(out.dtype(), "matmul", [&] {
    using T = scalar_t;
    if (K == 0) {
      fill(out, 0.0);
      return;
    }
    MatStrides s{a.strides()[nd - 2], a.strides()[nd - 1], b.strides()[nd - 2], b.strides()[nd - 1]};
    // Batch dims: out is contiguous, so batch index bz starts at bz*M*N; the
    // geometry gives a's and b's offsets (stride 0 where broadcast).
    Shape bshape(out.shape().begin(), out.shape().end() - 2);
    const int64_t* ast = a.strides().data();
    const int64_t* bst = b.strides().data();
    T* c = out.data<T>();
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    const int64_t tiles_m = (M + BM - 1) / BM, tiles_n = (N + BN - 1) / BN;
    auto run = [&](const Geom<2>& g, int64_t n_batch, int64_t c_off) {
      dim3 grid(static_cast<unsigned>(std::min<int64_t>(tiles_n, 1 << 30)),
                static_cast<unsigned>(std::min<int64_t>(tiles_m, 65535)),
                static_cast<unsigned>(std::min<int64_t>(n_batch, 65535)));
      gemm_kernel<T><<<grid, kGemmThreads>>>(M, N, K, pa, pb, c + c_off, s, g, n_batch);
      check_launch("matmul");
    };
    if (bshape.empty()) {
      Geom<2> g{};
      g.nd = 1;
      g.idx32 = true;
      g.shape[0] = 1;
      run(g, 1, 0);
      return;
    }
    int64_t done = 0;  // batches launched so far (row-major over bshape)
    for_each_geom<2>(bshape, {ast, bst}, [&](const Geom<2>& g, int64_t n) {
      run(g, n, done * M * N);
      done += n;
    });
  });
}

}  // namespace lamina::gpu
