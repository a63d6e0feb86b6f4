// matmul with NumPy semantics: 1-D operands are promoted and the added axis
// removed; batch axes broadcast.
#include "ops/common.h"

namespace lamina {

namespace {

Tensor swap_last(const Tensor& t) {
  std::vector<int64_t> perm(t.ndim());
  for (int i = 0; i < t.ndim(); ++i) perm[i] = i;
  std::swap(perm[t.ndim() - 1], perm[t.ndim() - 2]);
  return transpose(t, perm);
}

// a: (..., M, K), b: (..., K, N), both at least 2-D.
Tensor matmul_2d(const Tensor& a, const Tensor& b) {
  const int na = a.ndim(), nb = b.ndim();
  const int64_t M = a.shape()[na - 2], K = a.shape()[na - 1];
  const int64_t K2 = b.shape()[nb - 2], N = b.shape()[nb - 1];
  if (K != K2) {
    throw ValueError(op_err("matmul", "inner dimensions differ: shapes " + shape_str(a.shape()) +
                                          " and " + shape_str(b.shape()) + " (" +
                                          std::to_string(K) + " != " + std::to_string(K2) + ")"));
  }
  if (na > 2 && nb == 2 && a.is_contiguous()) {
    // (..., M, K) @ (K, N): the batch folds into the rows, one GEMM. Its
    // backward is then one GEMM each way too, the weight's gradient summed by
    // the GEMM itself rather than per batch and reduced after.
    Shape so(a.shape().begin(), a.shape().end() - 1);
    so.push_back(N);
    return reshape(matmul_2d(reshape(a, {a.size() / std::max<int64_t>(K, 1), K}), b), so);
  }
  Shape ba(a.shape().begin(), a.shape().end() - 2), bb(b.shape().begin(), b.shape().end() - 2);
  Shape batch = broadcast_shapes(ba, bb, "matmul");
  Shape sa = batch, sb = batch, so = batch;
  sa.insert(sa.end(), {M, K});
  sb.insert(sb.end(), {K, N});
  so.insert(so.end(), {M, N});
  Tensor out = empty(so, a.dtype(), a.device());
  backend(a.device()).matmul(expand_view(a, sa), expand_view(b, sb), out);
  return record("matmul", {a, b}, out, [a, b](const Tensor& g) {
    Tensor ad = detach(a), bd = detach(b);
    Tensor ga = a.requires_grad() ? matmul_2d(g, swap_last(bd)) : Tensor();
    Tensor gb = b.requires_grad() ? matmul_2d(swap_last(ad), g) : Tensor();
    return std::vector<Tensor>{ga, gb};
  });
}

}  // namespace

Tensor matmul(const Tensor& a_in, const Tensor& b_in) {
  check_same_device(a_in, b_in, "matmul");
  if (a_in.ndim() == 0 || b_in.ndim() == 0) {
    throw ValueError(op_err("matmul", "operands must be at least 1-D; got shapes " +
                                          shape_str(a_in.shape()) + " and " + shape_str(b_in.shape())));
  }
  Dtype dt = promote_types(a_in.dtype(), b_in.dtype());
  if (dt == Dtype::Bool) dt = Dtype::Int64;
  Tensor a = cast(a_in, dt), b = cast(b_in, dt);
  bool va = a.ndim() == 1, vb = b.ndim() == 1;
  if (va) a = reshape(a, {1, a.shape()[0]});
  if (vb) b = reshape(b, {b.shape()[0], 1});
  Tensor out = matmul_2d(a, b);
  if (va || vb) {
    Shape s(out.shape().begin(), out.shape().end() - 2);
    if (!va) s.push_back(out.shape()[out.ndim() - 2]);
    if (!vb) s.push_back(out.shape()[out.ndim() - 1]);
    out = reshape(out, s);
  }
  return out;
}

}  // namespace lamina
