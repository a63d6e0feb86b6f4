// CUDA kernels for copy/cast, fill, unary, binary and where: grid-stride loops
// over strided operands calling the same per-element math as the CPU backend
// (cpp/include/lamina/kernels/{unary,binary}.h).
#include <type_traits>

#include "common.cuh"
#include "kernels.h"
#include "lamina/kernels/binary.h"
#include "lamina/kernels/unary.h"

namespace lamina::gpu {

namespace {

template <class D, class S>
struct CopyF {
  D* o;
  const S* s;
  __device__ void operator()(const int64_t* off) const { o[off[0]] = static_cast<D>(s[off[1]]); }
};

template <class T>
struct FillF {
  T* o;
  T v;
  __device__ void operator()(const int64_t* off) const { o[off[0]] = v; }
};

template <UnaryOp Op, class T>
struct UnaryF {
  using R = decltype(kernels::unary_fn<Op>(T{}));
  R* o;
  const T* x;
  __device__ void operator()(const int64_t* off) const { o[off[0]] = kernels::unary_fn<Op>(x[off[1]]); }
};

template <BinaryOp Op, class T>
struct BinaryF {
  using R = decltype(kernels::binary_fn<Op>(T{}, T{}));
  R* o;
  const T* a;
  const T* b;
  __device__ void operator()(const int64_t* off) const {
    o[off[0]] = kernels::binary_fn<Op>(a[off[1]], b[off[2]]);
  }
};

template <class T>
struct WhereF {
  T* o;
  const bool* c;
  const T* a;
  const T* b;
  __device__ void operator()(const int64_t* off) const { o[off[0]] = c[off[1]] ? a[off[2]] : b[off[3]]; }
};

template <UnaryOp Op, class T>
void unary_typed(const Tensor& in, const Tensor& out) {
  using F = UnaryF<Op, T>;
  F f{out.data<typename F::R>(), in.data<T>()};
  launch_elementwise<2>("unary", out.shape(), {&out, &in}, f);
}

template <UnaryOp Op>
void unary_op(const Tensor& in, const Tensor& out) {
  // The same dtype sets as cpu::unary, so both raise the same TypeError.
  constexpr bool float_only = kernels::unary_float_only(Op);
  if constexpr (float_only) {
    LAMINA_DISPATCH_FLOAT(in.dtype(), "unary", [&] { unary_typed<Op, scalar_t>(in, out); });
  } else if constexpr (Op == UnaryOp::LogicalNot || Op == UnaryOp::IsNan || Op == UnaryOp::IsInf ||
                       Op == UnaryOp::IsFinite) {
    LAMINA_DISPATCH_ALL(in.dtype(), "unary", [&] { unary_typed<Op, scalar_t>(in, out); });
  } else {
    LAMINA_DISPATCH_NUMERIC(in.dtype(), "unary", [&] { unary_typed<Op, scalar_t>(in, out); });
  }
}

template <BinaryOp Op, class T>
void binary_typed(const Tensor& a, const Tensor& b, const Tensor& out) {
  using F = BinaryF<Op, T>;
  F f{out.data<typename F::R>(), a.data<T>(), b.data<T>()};
  launch_elementwise<3>("binary", out.shape(), {&out, &a, &b}, f);
}

template <BinaryOp Op>
void binary_op(const Tensor& a, const Tensor& b, const Tensor& out) {
  if constexpr (Op >= BinaryOp::Eq) {
    LAMINA_DISPATCH_ALL(a.dtype(), "binary", [&] { binary_typed<Op, scalar_t>(a, b, out); });
  } else {
    LAMINA_DISPATCH_NUMERIC(a.dtype(), "binary", [&] { binary_typed<Op, scalar_t>(a, b, out); });
  }
}

}  // namespace

void copy(const Tensor& src, const Tensor& dst) {
  if (dst.size() == 0) return;
  if (src.dtype() == dst.dtype() && src.is_contiguous() && dst.is_contiguous() &&
      src.shape() == dst.shape()) {
    check(cudaMemcpyAsync(dst.data_ptr(), src.data_ptr(), dst.nbytes(), cudaMemcpyDeviceToDevice),
          "copy");
    return;
  }
  LAMINA_DISPATCH_ALL(dst.dtype(), "copy", [&] {
    using D = scalar_t;
    LAMINA_DISPATCH_ALL(src.dtype(), "copy", [&] {
      using S = scalar_t;
      CopyF<D, S> f{dst.data<D>(), src.data<S>()};
      launch_elementwise<2>("copy", dst.shape(), {&dst, &src}, f);
    });
  });
}

void fill(const Tensor& dst, double value) {
  LAMINA_DISPATCH_ALL(dst.dtype(), "fill", [&] {
    FillF<scalar_t> f{dst.data<scalar_t>(), static_cast<scalar_t>(value)};
    launch_elementwise<1>("fill", dst.shape(), {&dst}, f);
  });
}

void unary(UnaryOp op, const Tensor& in, const Tensor& out) {
  switch (op) {
#define CASE(NAME) case UnaryOp::NAME: return unary_op<UnaryOp::NAME>(in, out);
    CASE(Neg) CASE(Abs) CASE(Exp) CASE(Log) CASE(Log1p) CASE(Expm1) CASE(Sqrt) CASE(Square)
    CASE(Sign) CASE(Tanh) CASE(Sigmoid) CASE(Relu) CASE(Erf) CASE(Sin) CASE(Cos) CASE(Floor)
    CASE(Ceil) CASE(Round) CASE(Reciprocal) CASE(LogicalNot) CASE(IsNan) CASE(IsInf) CASE(IsFinite)
    CASE(Gelu) CASE(GeluGrad)
#undef CASE
  }
}

void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  switch (op) {
#define CASE(NAME) case BinaryOp::NAME: return binary_op<BinaryOp::NAME>(a, b, out);
    CASE(Add) CASE(Sub) CASE(Mul) CASE(Div) CASE(Pow) CASE(Maximum) CASE(Minimum) CASE(FloorDiv)
    CASE(Mod) CASE(ReluGrad) CASE(Eq) CASE(Ne) CASE(Lt) CASE(Le) CASE(Gt) CASE(Ge)
    CASE(LogicalAnd) CASE(LogicalOr) CASE(LogicalXor)
#undef CASE
  }
}

void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  LAMINA_DISPATCH_ALL(out.dtype(), "where", [&] {
    using T = scalar_t;
    WhereF<T> f{out.data<T>(), cond.data<bool>(), a.data<T>(), b.data<T>()};
    launch_elementwise<4>("where", out.shape(), {&out, &cond, &a, &b}, f);
  });
}

}  // namespace lamina::gpu
