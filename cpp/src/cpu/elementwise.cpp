// CPU kernels for copy/cast, fill, unary, binary and where. The math is in
// cpp/include/lamina/kernels/{unary,binary}.h, shared with cuda/.
#include <algorithm>
#include <cstring>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "cpu/loops.h"
#include "cpu/kernels.h"
#include "lamina/kernels/binary.h"
#include "lamina/kernels/unary.h"

namespace lamina::cpu {

using kernels::binary_fn;
using kernels::unary_fn;

void copy(const Tensor& src, const Tensor& dst) {
  LAMINA_DISPATCH_ALL(dst.dtype(), "copy", [&] {
    using D = scalar_t;
    LAMINA_DISPATCH_ALL(src.dtype(), "copy", [&] {
      using S = scalar_t;
      for_each_run<2>(dst.shape(), {&dst, &src}, [](auto p, auto st, int64_t n) {
        D* o = reinterpret_cast<D*>(p[0]);
        const S* s = reinterpret_cast<const S*>(p[1]);
        if (st[0] == sizeof(D) && st[1] == sizeof(S)) {
          if constexpr (std::is_same_v<D, S>) {
            std::memcpy(o, s, n * sizeof(D));
          } else {
            for (int64_t i = 0; i < n; ++i) o[i] = static_cast<D>(s[i]);
          }
        } else if (st[0] == sizeof(D) && st[1] == 0) {
          // A broadcast source (e.g. the gradient of a sum): a vectorised fill.
          std::fill_n(o, n, static_cast<D>(*s));
        } else {
          for (int64_t i = 0; i < n; ++i)
            *reinterpret_cast<D*>(p[0] + i * st[0]) =
                static_cast<D>(*reinterpret_cast<const S*>(p[1] + i * st[1]));
        }
      });
    });
  });
}

void fill(const Tensor& dst, double value) {
  LAMINA_DISPATCH_ALL(dst.dtype(), "fill", [&] {
    scalar_t v = static_cast<scalar_t>(value);
    for_each_run<1>(dst.shape(), {&dst}, [v](auto p, auto st, int64_t n) {
      for (int64_t i = 0; i < n; ++i) *reinterpret_cast<scalar_t*>(p[0] + i * st[0]) = v;
    });
  });
}

template <UnaryOp Op, class T>
void unary_typed(const Tensor& in, const Tensor& out) {
  using R = decltype(unary_fn<Op>(T{}));
  for_each_run<2>(out.shape(), {&out, &in}, [](auto p, auto st, int64_t n) {
    R* o = reinterpret_cast<R*>(p[0]);
    const T* x = reinterpret_cast<const T*>(p[1]);
    if (st[0] == sizeof(R) && st[1] == sizeof(T)) {
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = unary_fn<Op>(x[i]);
    } else {
      for (int64_t i = 0; i < n; ++i)
        *reinterpret_cast<R*>(p[0] + i * st[0]) =
            unary_fn<Op>(*reinterpret_cast<const T*>(p[1] + i * st[1]));
    }
  });
}

template <UnaryOp Op>
void unary_op(const Tensor& in, const Tensor& out) {
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

template <BinaryOp Op, class T>
void binary_typed(const Tensor& a, const Tensor& b, const Tensor& out) {
  using R = decltype(binary_fn<Op>(T{}, T{}));
  for_each_run<3>(out.shape(), {&out, &a, &b}, [](auto p, auto st, int64_t n) {
    R* o = reinterpret_cast<R*>(p[0]);
    const T* x = reinterpret_cast<const T*>(p[1]);
    const T* y = reinterpret_cast<const T*>(p[2]);
    if (st[0] == sizeof(R) && st[1] == sizeof(T) && st[2] == sizeof(T)) {
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = binary_fn<Op>(x[i], y[i]);
    } else if (st[0] == sizeof(R) && st[1] == sizeof(T) && st[2] == 0) {
      const T yv = *y;
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = binary_fn<Op>(x[i], yv);
    } else if (st[0] == sizeof(R) && st[1] == 0 && st[2] == sizeof(T)) {
      const T xv = *x;
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) o[i] = binary_fn<Op>(xv, y[i]);
    } else {
      for (int64_t i = 0; i < n; ++i)
        *reinterpret_cast<R*>(p[0] + i * st[0]) =
            binary_fn<Op>(*reinterpret_cast<const T*>(p[1] + i * st[1]),
                          *reinterpret_cast<const T*>(p[2] + i * st[2]));
    }
  });
}

template <BinaryOp Op>
void binary_op(const Tensor& a, const Tensor& b, const Tensor& out) {
  if constexpr (Op >= BinaryOp::Eq) {
    LAMINA_DISPATCH_ALL(a.dtype(), "binary", [&] { binary_typed<Op, scalar_t>(a, b, out); });
  } else {
    LAMINA_DISPATCH_NUMERIC(a.dtype(), "binary", [&] { binary_typed<Op, scalar_t>(a, b, out); });
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

namespace {

// Contiguous runs of where, b contiguous or one broadcast value. gcc leaves
// a select on a bool array as a branch per element, which a ReLU mask
// mispredicts half the time; 4-byte types get an explicit masked blend.
template <class T>
void where_run(int64_t n, const bool* __restrict c, const T* __restrict a, const T* __restrict b,
               bool b_scalar, T* __restrict o) {
  int64_t i = 0;
#if defined(__AVX512F__)
  if constexpr (sizeof(T) == 4) {
    const __m512i bs = _mm512_set1_epi32(b_scalar ? *reinterpret_cast<const int32_t*>(b) : 0);
    for (; i + 16 <= n; i += 16) {
      // zero-masked form, every lane kept: GCC 12 warns falsely on the plain one
      __m512i m32 = _mm512_maskz_cvtepu8_epi32(0xFFFF, _mm_loadu_si128(reinterpret_cast<const __m128i*>(c + i)));
      __mmask16 k = _mm512_test_epi32_mask(m32, m32);
      __m512i bv = b_scalar ? bs : _mm512_loadu_si512(b + i);
      _mm512_storeu_si512(o + i, _mm512_mask_blend_epi32(k, bv, _mm512_loadu_si512(a + i)));
    }
  }
#endif
  for (; i < n; ++i) o[i] = c[i] ? a[i] : b[b_scalar ? 0 : i];
}

}  // namespace

void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  LAMINA_DISPATCH_ALL(out.dtype(), "where", [&] {
    using T = scalar_t;
    for_each_run<4>(out.shape(), {&out, &cond, &a, &b}, [](auto p, auto st, int64_t n) {
      const int64_t t = sizeof(T);
      if (st[0] == t && st[1] == 1 && st[2] == t && (st[3] == t || st[3] == 0)) {
        where_run<T>(n, reinterpret_cast<const bool*>(p[1]), reinterpret_cast<const T*>(p[2]),
                     reinterpret_cast<const T*>(p[3]), st[3] == 0, reinterpret_cast<T*>(p[0]));
        return;
      }
      for (int64_t i = 0; i < n; ++i) {
        bool c = *reinterpret_cast<const bool*>(p[1] + i * st[1]);
        *reinterpret_cast<T*>(p[0] + i * st[0]) = c ? *reinterpret_cast<const T*>(p[2] + i * st[2])
                                                    : *reinterpret_cast<const T*>(p[3] + i * st[3]);
      }
    });
  });
}

}  // namespace lamina::cpu
