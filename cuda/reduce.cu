// GPU reductions, same contract as cpu::reduce: `out` is contiguous with the
// shape of `in`, every reduced axis set to 1. The input is read in place
// through two geometries, the kept axes (output index -> offset) and the
// reduced axes (reduction index -> offset). Long reductions along a
// contiguous axis, or with few outputs, use one block per output; otherwise
// one thread per output, so that neighbouring threads read neighbouring
// elements. Float sums and products accumulate in double as on the CPU; the
// order is fixed, so results are deterministic.
#include <limits>
#include <type_traits>

#include "common.cuh"
#include "kernels.h"
#include "lamina/autograd.h"
#include "lamina/kernels/binary.h"
#include "lamina/ops.h"

namespace lamina::gpu {

namespace {

constexpr int kReduceThreads = 256;

template <class T>
using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;

constexpr bool is_arg(ReduceOp op) { return op == ReduceOp::ArgMax || op == ReduceOp::ArgMin; }

// The running state of one reduction; merge() must be associative for the
// block tree, push() sees indices in increasing order.
template <ReduceOp Op, class T, bool Arg = is_arg(Op)>
struct State {
  using A = std::conditional_t<Op == ReduceOp::Sum || Op == ReduceOp::Prod, Acc<T>, T>;
  A acc;
  __device__ void init(T ident) { acc = static_cast<A>(ident); }
  __device__ void push(T v, int64_t) { merge_value(static_cast<A>(v)); }
  __device__ void merge(const State& o) { merge_value(o.acc); }
  __device__ void merge_value(A v) {
    if constexpr (Op == ReduceOp::Sum) acc += v;
    else if constexpr (Op == ReduceOp::Prod) acc *= v;
    else if constexpr (Op == ReduceOp::Max) acc = kernels::binary_fn<BinaryOp::Maximum>(acc, v);
    else acc = kernels::binary_fn<BinaryOp::Minimum>(acc, v);
  }
  using Out = T;
  __device__ T result() const { return static_cast<T>(acc); }
};

// ArgMax / ArgMin: the first index of the extreme value; a NaN wins (the
// first NaN), as in NumPy and cpu::reduce.
template <ReduceOp Op, class T>
struct State<Op, T, true> {
  T val;
  int64_t idx;  // -1: no element seen
  __device__ void init(T) { idx = -1; }
  __device__ bool better(T v, int64_t i) const {
    if (idx < 0) return true;
    bool vn = v != v, cn = val != val;
    if (cn) return vn && i < idx;
    if (vn) return true;
    if (Op == ReduceOp::ArgMax ? v > val : v < val) return true;
    return v == val && i < idx;
  }
  __device__ void push(T v, int64_t i) {
    if (better(v, i)) {
      val = v;
      idx = i;
    }
  }
  __device__ void merge(const State& o) {
    if (o.idx >= 0) push(o.val, o.idx);
  }
  using Out = int64_t;
  __device__ int64_t result() const { return idx < 0 ? 0 : idx; }
};

// One thread per output element.
template <ReduceOp Op, class T>
__global__ void __launch_bounds__(kReduceThreads)
reduce_thread_kernel(const T* x, Geom<1> keep, Geom<1> red, int64_t n_out, int64_t n_red, T ident,
                     typename State<Op, T>::Out* out) {
  int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t step = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (; o < n_out; o += step) {
    int64_t base;
    geom_offsets<1>(keep, o, &base);
    State<Op, T> s;
    s.init(ident);
    for (int64_t j = 0; j < n_red; ++j) {
      int64_t off;
      geom_offsets<1>(red, j, &off);
      s.push(x[base + off], j);
    }
    out[o] = s.result();
  }
}

// One block per output element: strided partials, then a tree in shared memory.
template <ReduceOp Op, class T>
__global__ void __launch_bounds__(kReduceThreads)
reduce_block_kernel(const T* x, Geom<1> keep, Geom<1> red, int64_t n_out, int64_t n_red, T ident,
                    typename State<Op, T>::Out* out) {
  using S = State<Op, T>;
  __shared__ S part[kReduceThreads];
  for (int64_t o = blockIdx.x; o < n_out; o += gridDim.x) {
    int64_t base;
    geom_offsets<1>(keep, o, &base);
    S s;
    s.init(ident);
    for (int64_t j = threadIdx.x; j < n_red; j += blockDim.x) {
      int64_t off;
      geom_offsets<1>(red, j, &off);
      s.push(x[base + off], j);
    }
    part[threadIdx.x] = s;
    __syncthreads();
    for (int w = kReduceThreads / 2; w > 0; w /= 2) {
      if (static_cast<int>(threadIdx.x) < w) part[threadIdx.x].merge(part[threadIdx.x + w]);
      __syncthreads();
    }
    if (threadIdx.x == 0) out[o] = part[0].result();
    __syncthreads();
  }
}

template <class T>
T identity(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum: return T(0);
    case ReduceOp::Prod: return T(1);
    case ReduceOp::Max: return std::numeric_limits<T>::lowest();
    case ReduceOp::Min: return std::numeric_limits<T>::max();
    default: return T(0);
  }
}

// Geometry of one operand over the given dims of `t` (coalesced, <= kMaxDims).
bool make_geom1(const Tensor& t, const std::vector<int>& dims, Geom<1>* g) {
  Shape shape;
  Strides st;
  for (int d : dims) {
    shape.push_back(t.shape()[d]);
    st.push_back(t.strides()[d]);
  }
  if (shape.empty()) {
    shape.push_back(1);
    st.push_back(0);
  }
  int calls = 0;
  for_each_geom<1>(shape, {st.data()}, [&](const Geom<1>& gg, int64_t) {
    if (calls++ == 0) *g = gg;
  });
  return calls == 1;
}

template <ReduceOp Op, class T>
void launch(const Tensor& x, const Geom<1>& keep, const Geom<1>& red, int64_t n_out, int64_t n_red,
            bool red_contiguous, const Tensor& out) {
  using Out = typename State<Op, T>::Out;
  const T ident = identity<T>(Op);
  const bool by_block = n_red >= 128 && (red_contiguous || n_out < 8192);
  if (by_block) {
    unsigned blocks = static_cast<unsigned>(std::min<int64_t>(n_out, kMaxBlocks));
    reduce_block_kernel<Op, T><<<blocks, kReduceThreads>>>(x.data<T>(), keep, red, n_out, n_red,
                                                            ident, out.data<Out>());
  } else {
    reduce_thread_kernel<Op, T><<<grid_for(n_out, kReduceThreads), kReduceThreads>>>(
        x.data<T>(), keep, red, n_out, n_red, ident, out.data<Out>());
  }
  check_launch("reduce");
}

template <class T>
void launch_op(ReduceOp op, const Tensor& x, const Geom<1>& keep, const Geom<1>& red, int64_t n_out,
               int64_t n_red, bool red_contiguous, const Tensor& out) {
  switch (op) {
#define CASE(NAME) \
  case ReduceOp::NAME: return launch<ReduceOp::NAME, T>(x, keep, red, n_out, n_red, red_contiguous, out);
    CASE(Sum) CASE(Prod) CASE(Max) CASE(Min) CASE(ArgMax) CASE(ArgMin)
#undef CASE
  }
}

}  // namespace

void reduce(ReduceOp op, const Tensor& in, const std::vector<int>& axes, const Tensor& out) {
  const int nd = in.ndim();
  std::vector<bool> red(nd, false);
  for (int a : axes) red[a] = true;
  int64_t n_red = 1, n_keep = 1;
  for (int d = 0; d < nd; ++d) (red[d] ? n_red : n_keep) *= in.shape()[d];
  const bool arg = is_arg(op);
  if (in.size() == 0) {
    if (n_red == 0 && op != ReduceOp::Sum && op != ReduceOp::Prod) {
      throw ValueError("zero-size reduction has no identity for max/min/argmax/argmin");
    }
    if (!arg) LAMINA_DISPATCH_ALL(out.dtype(), "reduce", [&] { fill(out, identity<scalar_t>(op)); });
    return;
  }
  if (in.dtype() == Dtype::Bool) throw TypeError("[reduce] bool tensors must be cast before reducing");
  std::vector<int> kept_dims, red_dims;
  for (int d = 0; d < nd; ++d) (red[d] ? red_dims : kept_dims).push_back(d);
  Tensor x = in;
  Geom<1> gk, gr;
  if (!make_geom1(x, kept_dims, &gk) || !make_geom1(x, red_dims, &gr)) {
    // Too many dims to index: permute to (kept..., reduced...) and copy.
    std::vector<int64_t> perm;
    for (int d : kept_dims) perm.push_back(d);
    for (int d : red_dims) perm.push_back(d);
    x = contiguous(transpose(detach(in), perm));
    std::vector<int> kd, rd;
    for (int i = 0; i < nd; ++i) (i < static_cast<int>(kept_dims.size()) ? kd : rd).push_back(i);
    make_geom1(x, kd, &gk);
    make_geom1(x, rd, &gr);
  }
  const bool red_contiguous = gr.stride[0][gr.nd - 1] == 1;
  LAMINA_DISPATCH_NUMERIC(x.dtype(), "reduce", [&] {
    launch_op<scalar_t>(op, x, gk, gr, n_keep, n_red, red_contiguous, out);
  });
}

}  // namespace lamina::gpu
