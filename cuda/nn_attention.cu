// Scaled dot-product attention on the GPU, FlashAttention style: one block per
// (batch, head, query tile) walks the key tiles with an online softmax, so no
// Tq x Tk matrix is stored; the row log-sum-exp is saved. Backward recomputes
// the probabilities from it: one pass per query tile for dq (and dbias), one
// per key tile for dk and dv, so every output has a single owner and no
// atomics are needed. Score masking, dropout and the score gradient come from
// kernels/attention.h and kernels/dropout.h, as on the CPU.
#include <cmath>

#include "lamina/kernels/attention.h"
#include "lamina/kernels/dropout.h"
#include "lamina/kernels/unary.h"
#include "nn_common.cuh"
#include "nn_kernels.h"

namespace lamina::gpu {

namespace {

constexpr int kAttnThreads = 128;

template <class T>
struct Attn {
  int64_t B, Tq, Tk, N, D;
  T scale;
  bool causal;
  double rate;
  uint64_t seed, counter;
  const T* bias;  // (B, N, Tq, Tk) through strides bs, or null
  int64_t bs[4];
  const bool* mask;
  int64_t ms[4];
  int tile;  // query and key rows per tile
};

// Offset of row t of head h of batch b in a (B, T, N, D) tensor.
template <class T>
__device__ int64_t row_off(const Attn<T>& a, int64_t b, int64_t t, int64_t Tn, int64_t h) {
  return ((b * Tn + t) * a.N + h) * a.D;
}

// Score of (qi, kj) from the tiles' rows: -inf for keys outside the query's
// softmax (they get probability 0), else kernels::attention_score.
template <class T>
__device__ T score(const Attn<T>& a, const T* q, const T* k, int64_t b, int64_t h, int64_t qi,
                   int64_t kj) {
  if (kj >= kernels::attention_key_end(qi, a.Tq, a.Tk, a.causal)) return T(-INFINITY);
  T dot = 0;
  for (int64_t d = 0; d < a.D; ++d) dot += q[d] * k[d];
  T bv = a.bias ? a.bias[b * a.bs[0] + h * a.bs[1] + qi * a.bs[2] + kj * a.bs[3]] : T(0);
  bool keep = a.mask ? a.mask[b * a.ms[0] + h * a.ms[1] + qi * a.ms[2] + kj * a.ms[3]] : true;
  return kernels::attention_score(dot, a.scale, bv, keep, a.causal, qi, kj);
}

template <class T>
__device__ T keep_scale(const Attn<T>& a, int64_t b, int64_t h, int64_t qi, int64_t kj) {
  uint64_t idx = static_cast<uint64_t>(((b * a.N + h) * a.Tq + qi) * a.Tk + kj);
  return kernels::attention_keep_scale<T>(a.rate, a.seed, a.counter, idx);
}

// Copies rows [t0, t0 + nt) of head (b, h) of a (B, Tn, N, D) tensor into dst (nt, D).
template <class T>
__device__ void load_rows(const Attn<T>& a, const T* src, int64_t b, int64_t h, int64_t Tn,
                          int64_t t0, int64_t nt, T* dst) {
  for (int64_t e = threadIdx.x; e < nt * a.D; e += blockDim.x)
    dst[e] = src[row_off(a, b, t0 + e / a.D, Tn, h) + e % a.D];
}

__device__ int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }

template <class T>
__device__ T warp_sum(T v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
template <class T>
__device__ T warp_max(T v) {
  for (int o = 16; o > 0; o >>= 1) {
    T w = __shfl_xor_sync(0xffffffffu, v, o);
    v = w > v ? w : v;
  }
  return v;
}

template <class T>
__global__ void __launch_bounds__(kAttnThreads)
attention_kernel(Attn<T> a, const T* Q, const T* K, const T* V, T* O, T* L) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T* sm = reinterpret_cast<T*>(smem_raw);
  const int tile = a.tile;
  T *qs = sm, *ks = qs + tile * a.D, *vs = ks + tile * a.D, *s = vs + tile * a.D;
  T *m = s + tile * tile, *l = m + tile, *corr = l + tile;
  const int64_t qtiles = (a.Tq + tile - 1) / tile, nblk = a.B * a.N * qtiles;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, nwarps = blockDim.x / 32;
  for (int64_t blk = blockIdx.x; blk < nblk; blk += gridDim.x) {
    const int64_t bh = blk / qtiles, b = bh / a.N, h = bh % a.N, i0 = (blk % qtiles) * tile;
    const int64_t ni = imin(tile, a.Tq - i0);
    __syncthreads();
    load_rows(a, Q, b, h, a.Tq, i0, ni, qs);
    for (int64_t e = threadIdx.x; e < ni * a.D; e += blockDim.x) O[row_off(a, b, i0 + e / a.D, a.Tq, h) + e % a.D] = T(0);
    for (int64_t i = threadIdx.x; i < ni; i += blockDim.x) {
      m[i] = T(-INFINITY);
      l[i] = T(0);
    }
    const int64_t j_end = kernels::attention_key_end(i0 + ni - 1, a.Tq, a.Tk, a.causal);
    for (int64_t j0 = 0; j0 < j_end; j0 += tile) {
      const int64_t nj = imin(tile, j_end - j0);
      __syncthreads();
      load_rows(a, K, b, h, a.Tk, j0, nj, ks);
      load_rows(a, V, b, h, a.Tk, j0, nj, vs);
      __syncthreads();
      for (int64_t e = threadIdx.x; e < ni * nj; e += blockDim.x) {
        const int64_t i = e / nj, j = e % nj;
        s[i * tile + j] = score(a, qs + i * a.D, ks + j * a.D, b, h, i0 + i, j0 + j);
      }
      __syncthreads();
      // Online softmax, a warp per query row.
      for (int64_t i = warp; i < ni; i += nwarps) {
        T* row = s + i * tile;
        T mx = m[i];
        for (int64_t j = lane; j < nj; j += 32) mx = row[j] > mx ? row[j] : mx;
        mx = warp_max(mx);
        T sum = 0;
        for (int64_t j = lane; j < nj; j += 32) {
          T pv = kernels::exp_any(row[j] - mx);
          sum += pv;
          row[j] = a.rate > 0 ? pv * keep_scale(a, b, h, i0 + i, j0 + j) : pv;
        }
        sum = warp_sum(sum);
        if (lane == 0) {
          corr[i] = kernels::exp_any(m[i] - mx);
          l[i] = l[i] * corr[i] + sum;
          m[i] = mx;
        }
      }
      __syncthreads();
      for (int64_t e = threadIdx.x; e < ni * a.D; e += blockDim.x) {
        const int64_t i = e / a.D, d = e % a.D;
        T acc = 0;
        for (int64_t j = 0; j < nj; ++j) acc += s[i * tile + j] * vs[j * a.D + d];
        T* o = O + row_off(a, b, i0 + i, a.Tq, h) + d;
        *o = *o * corr[i] + acc;
      }
    }
    __syncthreads();
    for (int64_t e = threadIdx.x; e < ni * a.D; e += blockDim.x)
      O[row_off(a, b, i0 + e / a.D, a.Tq, h) + e % a.D] /= l[e / a.D];
    for (int64_t i = threadIdx.x; i < ni; i += blockDim.x) L[bh * a.Tq + i0 + i] = m[i] + log(l[i]);
  }
}

// Dr = rowsum(dO * O) per (b, h, qi), laid out like lse.
template <class T>
__global__ void attention_rowdot_kernel(Attn<T> a, const T* O, const T* dO, T* Dr) {
  LAMINA_GRID_LOOP(e, a.B * a.N * a.Tq) {
    const int64_t qi = e % a.Tq, bh = e / a.Tq, b = bh / a.N, h = bh % a.N;
    const int64_t off = row_off(a, b, qi, a.Tq, h);
    T s = 0;
    for (int64_t d = 0; d < a.D; ++d) s += dO[off + d] * O[off + d];
    Dr[e] = s;
  }
}

// Probability (after dropout) and score gradient of (qi, kj), from the rows
// of q, k, v, dO in shared memory and the row's lse and Dr.
template <class T>
__device__ void prob_and_grad(const Attn<T>& a, const T* q, const T* k, const T* v, const T* go,
                              int64_t b, int64_t h, int64_t qi, int64_t kj, T lse, T dr, T* pd,
                              T* ds) {
  const T p = kernels::exp_any(score(a, q, k, b, h, qi, kj) - lse);
  const T keep = a.rate > 0 ? keep_scale(a, b, h, qi, kj) : T(1);
  T dp = 0;
  for (int64_t d = 0; d < a.D; ++d) dp += go[d] * v[d];
  *pd = p * keep;
  *ds = kernels::attention_dscore(p, dp, keep, dr);
}

// One block per (b, h, query tile): dq (and dbias, before scaling).
template <class T>
__global__ void __launch_bounds__(kAttnThreads)
attention_dq_kernel(Attn<T> a, const T* Q, const T* K, const T* V, const T* dO, const T* L,
                    const T* Dr, T* dQ, T* dB) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T* sm = reinterpret_cast<T*>(smem_raw);
  const int tile = a.tile;
  T *qs = sm, *gos = qs + tile * a.D, *ks = gos + tile * a.D, *vs = ks + tile * a.D;
  T* dss = vs + tile * a.D;
  const int64_t qtiles = (a.Tq + tile - 1) / tile, nblk = a.B * a.N * qtiles;
  for (int64_t blk = blockIdx.x; blk < nblk; blk += gridDim.x) {
    const int64_t bh = blk / qtiles, b = bh / a.N, h = bh % a.N, i0 = (blk % qtiles) * tile;
    const int64_t ni = imin(tile, a.Tq - i0);
    __syncthreads();
    load_rows(a, Q, b, h, a.Tq, i0, ni, qs);
    load_rows(a, dO, b, h, a.Tq, i0, ni, gos);
    for (int64_t e = threadIdx.x; e < ni * a.D; e += blockDim.x) dQ[row_off(a, b, i0 + e / a.D, a.Tq, h) + e % a.D] = T(0);
    const int64_t j_end = kernels::attention_key_end(i0 + ni - 1, a.Tq, a.Tk, a.causal);
    for (int64_t j0 = 0; j0 < j_end; j0 += tile) {
      const int64_t nj = imin(tile, j_end - j0);
      __syncthreads();
      load_rows(a, K, b, h, a.Tk, j0, nj, ks);
      load_rows(a, V, b, h, a.Tk, j0, nj, vs);
      __syncthreads();
      for (int64_t e = threadIdx.x; e < ni * nj; e += blockDim.x) {
        const int64_t i = e / nj, j = e % nj, qi = i0 + i, kj = j0 + j;
        T pd, ds;
        prob_and_grad(a, qs + i * a.D, ks + j * a.D, vs + j * a.D, gos + i * a.D, b, h, qi, kj,
                      L[bh * a.Tq + qi], Dr[bh * a.Tq + qi], &pd, &ds);
        if (dB && kj < kernels::attention_key_end(qi, a.Tq, a.Tk, a.causal))
          dB[(bh * a.Tq + qi) * a.Tk + kj] = ds;
        dss[i * tile + j] = ds * a.scale;
      }
      __syncthreads();
      for (int64_t e = threadIdx.x; e < ni * a.D; e += blockDim.x) {
        const int64_t i = e / a.D, d = e % a.D;
        T acc = 0;
        for (int64_t j = 0; j < nj; ++j) acc += dss[i * tile + j] * ks[j * a.D + d];
        dQ[row_off(a, b, i0 + i, a.Tq, h) + d] += acc;
      }
    }
  }
}

// One block per (b, h, key tile): dk and dv over every query tile.
template <class T>
__global__ void __launch_bounds__(kAttnThreads)
attention_dkv_kernel(Attn<T> a, const T* Q, const T* K, const T* V, const T* dO, const T* L,
                     const T* Dr, T* dK, T* dV) {
  extern __shared__ __align__(16) unsigned char smem_raw[];
  T* sm = reinterpret_cast<T*>(smem_raw);
  const int tile = a.tile;
  T *qs = sm, *gos = qs + tile * a.D, *ks = gos + tile * a.D, *vs = ks + tile * a.D;
  T *pds = vs + tile * a.D, *dss = pds + tile * tile;
  const int64_t ktiles = (a.Tk + tile - 1) / tile, nblk = a.B * a.N * ktiles;
  for (int64_t blk = blockIdx.x; blk < nblk; blk += gridDim.x) {
    const int64_t bh = blk / ktiles, b = bh / a.N, h = bh % a.N, j0 = (blk % ktiles) * tile;
    const int64_t nj = imin(tile, a.Tk - j0);
    __syncthreads();
    load_rows(a, K, b, h, a.Tk, j0, nj, ks);
    load_rows(a, V, b, h, a.Tk, j0, nj, vs);
    for (int64_t e = threadIdx.x; e < nj * a.D; e += blockDim.x) {
      const int64_t off = row_off(a, b, j0 + e / a.D, a.Tk, h) + e % a.D;
      dK[off] = T(0);
      dV[off] = T(0);
    }
    for (int64_t i0 = 0; i0 < a.Tq; i0 += tile) {
      const int64_t ni = imin(tile, a.Tq - i0);
      if (kernels::attention_key_end(i0 + ni - 1, a.Tq, a.Tk, a.causal) <= j0) continue;
      __syncthreads();
      load_rows(a, Q, b, h, a.Tq, i0, ni, qs);
      load_rows(a, dO, b, h, a.Tq, i0, ni, gos);
      __syncthreads();
      for (int64_t e = threadIdx.x; e < ni * nj; e += blockDim.x) {
        const int64_t i = e / nj, j = e % nj, qi = i0 + i;
        T pd, ds;
        prob_and_grad(a, qs + i * a.D, ks + j * a.D, vs + j * a.D, gos + i * a.D, b, h, qi, j0 + j,
                      L[bh * a.Tq + qi], Dr[bh * a.Tq + qi], &pd, &ds);
        pds[i * tile + j] = pd;
        dss[i * tile + j] = ds * a.scale;
      }
      __syncthreads();
      for (int64_t e = threadIdx.x; e < nj * a.D; e += blockDim.x) {
        const int64_t j = e / a.D, d = e % a.D;
        T sv = 0, sk = 0;
        for (int64_t i = 0; i < ni; ++i) {
          sv += pds[i * tile + j] * gos[i * a.D + d];
          sk += dss[i * tile + j] * qs[i * a.D + d];
        }
        const int64_t off = row_off(a, b, j0 + j, a.Tk, h) + d;
        dV[off] += sv;
        dK[off] += sk;
      }
    }
  }
}

template <class T>
Attn<T> make_attn(const AttentionArgs& a, const Tensor& bias, const Tensor& mask) {
  Attn<T> p{};
  p.B = a.B, p.Tq = a.Tq, p.Tk = a.Tk, p.N = a.N, p.D = a.D;
  p.scale = static_cast<T>(a.scale);
  p.causal = a.causal;
  p.rate = a.dropout;
  p.seed = a.seed, p.counter = a.counter;
  p.bias = bias.defined() ? bias.data<T>() : nullptr;
  p.mask = mask.defined() ? mask.data<bool>() : nullptr;
  for (int d = 0; d < 4; ++d) {
    p.bs[d] = bias.defined() ? bias.strides()[d] : 0;
    p.ms[d] = mask.defined() ? mask.strides()[d] : 0;
  }
  return p;
}

// Shared memory of one block: `rows` (tile, D) arrays, `squares` (tile, tile)
// arrays and `vecs` (tile,) arrays.
size_t smem_bytes(int tile, int64_t D, size_t isz, int rows, int squares, int vecs) {
  return isz * (static_cast<size_t>(rows) * tile * D + static_cast<size_t>(squares) * tile * tile +
                static_cast<size_t>(vecs) * tile);
}

// The largest tile of 32, 16 or 8 rows whose buffers fit the default 48 KiB;
// else 8, with the kernel opted in to more shared memory (large head dims).
template <class K>
int pick_tile(K kernel, int64_t D, size_t isz, int rows, int squares, int vecs, size_t* bytes) {
  for (int tile : {32, 16, 8}) {
    *bytes = smem_bytes(tile, D, isz, rows, squares, vecs);
    if (*bytes <= 48 * 1024) return tile;
  }
  check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             static_cast<int>(*bytes)),
        "dot_product_attention");
  return 8;
}

unsigned blocks_for(int64_t n) { return static_cast<unsigned>(std::max<int64_t>(1, std::min(n, kMaxBlocks))); }

}  // namespace

void attention(const AttentionArgs& a, const Tensor& q, const Tensor& k, const Tensor& v,
               const Tensor& bias, const Tensor& mask, const Tensor& out, const Tensor& lse) {
  if (a.B * a.N * a.Tq == 0) return;
  LAMINA_DISPATCH_FLOAT(q.dtype(), "dot_product_attention", [&] {
    using T = scalar_t;
    Attn<T> p = make_attn<T>(a, bias, mask);
    size_t bytes;
    p.tile = pick_tile(attention_kernel<T>, a.D, sizeof(T), 3, 1, 3, &bytes);
    const int64_t nblk = a.B * a.N * ((a.Tq + p.tile - 1) / p.tile);
    attention_kernel<T><<<blocks_for(nblk), kAttnThreads, bytes>>>(
        p, q.data<T>(), k.data<T>(), v.data<T>(), out.data<T>(), lse.data<T>());
    check_launch("dot_product_attention");
  });
}

void attention_backward(const AttentionArgs& a, const Tensor& q, const Tensor& k, const Tensor& v,
                        const Tensor& bias, const Tensor& mask, const Tensor& out, const Tensor& lse,
                        const Tensor& dout, const Tensor& dq, const Tensor& dk, const Tensor& dv,
                        const Tensor& dbias) {
  LAMINA_DISPATCH_FLOAT(q.dtype(), "dot_product_attention", [&] {
    using T = scalar_t;
    Attn<T> p = make_attn<T>(a, bias, mask);
    const int64_t rows = a.B * a.N * a.Tq;
    if (a.B * a.N * a.Tk > 0) {  // no queries: dk and dv are 0
      fill(dk, 0.0);
      fill(dv, 0.0);
    }
    if (rows == 0) return;
    Tensor Dr = empty({a.B, a.N, a.Tq}, q.dtype(), Device::CUDA);
    attention_rowdot_kernel<T><<<grid_for(rows), kThreads>>>(p, out.data<T>(), dout.data<T>(), Dr.data<T>());
    check_launch("dot_product_attention");
    size_t bytes;
    p.tile = pick_tile(attention_dq_kernel<T>, a.D, sizeof(T), 4, 1, 0, &bytes);
    attention_dq_kernel<T><<<blocks_for(a.B * a.N * ((a.Tq + p.tile - 1) / p.tile)), kAttnThreads, bytes>>>(
        p, q.data<T>(), k.data<T>(), v.data<T>(), dout.data<T>(), lse.data<T>(), Dr.data<T>(),
        dq.data<T>(), dbias.defined() ? dbias.data<T>() : nullptr);
    check_launch("dot_product_attention");
    if (a.Tk == 0) return;
    p.tile = pick_tile(attention_dkv_kernel<T>, a.D, sizeof(T), 4, 2, 0, &bytes);
    attention_dkv_kernel<T><<<blocks_for(a.B * a.N * ((a.Tk + p.tile - 1) / p.tile)), kAttnThreads, bytes>>>(
        p, q.data<T>(), k.data<T>(), v.data<T>(), dout.data<T>(), lse.data<T>(), Dr.data<T>(),
        dk.data<T>(), dv.data<T>());
    check_launch("dot_product_attention");
  });
}

}  // namespace lamina::gpu
