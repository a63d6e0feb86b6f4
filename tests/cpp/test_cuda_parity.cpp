// CPU vs CUDA parity: the same ops on the same random data on both devices.
// Without a CUDA build or without a GPU it prints "SKIP: no CUDA device" and
// passes, so it runs in every build.
#include <cmath>
#include <cstdio>
#include <string>

#include "check.h"
#include "lamina/autograd.h"
#include "lamina/ops.h"

using namespace lamina;

#ifdef LAMINA_WITH_CUDA

namespace {

constexpr uint64_t kSeed = 1234;

Tensor rand_cpu(const Shape& s, Dtype dt = Dtype::Float32, uint64_t counter = 0, double lo = -2,
                double hi = 2) {
  return random_uniform(s, lo, hi, dt, kSeed, counter);
}

Tensor to_cuda(const Tensor& t) { return to_device(t, Device::CUDA); }
Tensor to_cpu(const Tensor& t) { return to_device(t, Device::CPU); }

// Max |cpu - gpu| / (atol + rtol * |cpu|) over all elements must be <= 1; both
// read back as float64. NaNs must sit in the same places.
bool close(const Tensor& cpu_in, const Tensor& gpu_in, double rtol, double atol, const char* what) {
  if (gpu_in.device() != Device::CUDA) {
    std::printf("  %s: result is on %s, expected cuda\n", what, device_name(gpu_in.device()));
    return false;
  }
  if (cpu_in.shape() != gpu_in.shape() || cpu_in.dtype() != gpu_in.dtype()) {
    std::printf("  %s: shape/dtype differ: %s %s vs %s %s\n", what, shape_str(cpu_in.shape()).c_str(),
                dtype_name(cpu_in.dtype()), shape_str(gpu_in.shape()).c_str(), dtype_name(gpu_in.dtype()));
    return false;
  }
  Tensor c = contiguous(cast(cpu_in, Dtype::Float64));
  Tensor g = contiguous(cast(to_cpu(gpu_in), Dtype::Float64));
  const double* pc = c.data<double>();
  const double* pg = g.data<double>();
  for (int64_t i = 0; i < c.size(); ++i) {
    bool nc = std::isnan(pc[i]), ng = std::isnan(pg[i]);
    bool ok = (nc && ng) || (!nc && !ng && (pc[i] == pg[i] || std::fabs(pc[i] - pg[i]) <= atol + rtol * std::fabs(pc[i])));
    if (!ok) {
      std::printf("  %s: element %lld differs: cpu %.9g, cuda %.9g\n", what, static_cast<long long>(i),
                  pc[i], pg[i]);
      return false;
    }
  }
  return true;
}

#define CHECK_CLOSE(cpu, gpu, rtol, atol) CHECK(close((cpu), (gpu), (rtol), (atol), #gpu))

}  // namespace

TEST(backend_registered) {
  // Holds even without a GPU: the registrar must survive static linking.
  CHECK(cuda_built());
  bool ok = true;
  try {
    (void)backend(Device::CUDA);
  } catch (const std::exception&) {
    ok = false;
  }
  CHECK(ok);
}

TEST(round_trip_and_random) {
  if (!cuda_available()) return;
  Tensor a = rand_cpu({7, 33});
  CHECK_CLOSE(a, to_cuda(a), 0, 0);
  // Philox on both devices: uniform is exact, normal within a few ulp.
  Tensor uc = random_uniform({1001}, 0, 1, Dtype::Float32, 7, 3);
  Tensor ug = random_uniform({1001}, 0, 1, Dtype::Float32, 7, 3, Device::CUDA);
  CHECK_CLOSE(uc, ug, 0, 0);
  Tensor nc = random_normal({3, 333}, 0, 1, Dtype::Float64, 9, 5);
  Tensor ng = random_normal({3, 333}, 0, 1, Dtype::Float64, 9, 5, Device::CUDA);
  CHECK_CLOSE(nc, ng, 1e-5, 1e-5);
  CHECK_CLOSE(zeros({5, 4}, Dtype::Int32), zeros({5, 4}, Dtype::Int32, Device::CUDA), 0, 0);
  CHECK_CLOSE(full({3}, 2.5, Dtype::Float64), full({3}, 2.5, Dtype::Float64, Device::CUDA), 0, 0);
}

TEST(add_broadcast_and_strided) {
  if (!cuda_available()) return;
  Tensor a = rand_cpu({4, 1, 5}, Dtype::Float32, 1), b = rand_cpu({3, 5}, Dtype::Float32, 2);
  CHECK_CLOSE(add(a, b), add(to_cuda(a), to_cuda(b)), 0, 0);
  Tensor m = rand_cpu({6, 8}, Dtype::Float64, 3);
  Tensor mt = transpose(m), mg = transpose(to_cuda(m));
  CHECK_CLOSE(add(mt, mt), add(mg, mg), 0, 0);
  Tensor s = slice(m, {1, 0}, {6, 8}, {2, 3});
  Tensor sg = slice(to_cuda(m), {1, 0}, {6, 8}, {2, 3});
  CHECK_CLOSE(contiguous(s), contiguous(sg), 0, 0);
  CHECK_CLOSE(multiply(s, scalar(3, Dtype::Float64)), multiply(sg, scalar(3, Dtype::Float64, Device::CUDA)), 0, 0);
  // Int, comparisons, casts, where.
  Tensor i = cast(multiply(a, scalar(10, Dtype::Float32)), Dtype::Int32);
  Tensor j = cast(multiply(b, scalar(10, Dtype::Float32)), Dtype::Int32);
  Tensor ig = to_cuda(i), jg = to_cuda(j);
  CHECK_CLOSE(add(i, j), add(ig, jg), 0, 0);
  CHECK_CLOSE(binary(BinaryOp::FloorDiv, i, j), binary(BinaryOp::FloorDiv, ig, jg), 0, 0);
  CHECK_CLOSE(binary(BinaryOp::Mod, i, j), binary(BinaryOp::Mod, ig, jg), 0, 0);
  CHECK_CLOSE(binary(BinaryOp::Lt, a, b), binary(BinaryOp::Lt, to_cuda(a), to_cuda(b)), 0, 0);
  Tensor cond = binary(BinaryOp::Gt, a, b);
  CHECK_CLOSE(where(cond, a, b), where(to_cuda(cond), to_cuda(a), to_cuda(b)), 0, 0);
  CHECK_CLOSE(cast(a, Dtype::Int64), cast(to_cuda(a), Dtype::Int64), 0, 0);
  // More dims than a kernel indexes: looped on the host.
  Tensor h = rand_cpu({2, 1, 2, 3, 2, 1, 2, 3, 2, 2, 3}, Dtype::Float32, 4);
  Tensor hp = transpose(h, std::vector<int64_t>{10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0});
  CHECK_CLOSE(contiguous(hp), contiguous(transpose(to_cuda(h), std::vector<int64_t>{10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0})), 0, 0);
}

TEST(unary_exp_and_friends) {
  if (!cuda_available()) return;
  for (Dtype dt : {Dtype::Float32, Dtype::Float64}) {
    Tensor x = rand_cpu({5, 257}, dt, 5, -20, 20);
    Tensor xg = to_cuda(x);
    double tol = dt == Dtype::Float32 ? 2e-6 : 1e-13;
    CHECK_CLOSE(exp(x), exp(xg), tol, 0);
    CHECK_CLOSE(tanh(x), tanh(xg), tol, tol);
    CHECK_CLOSE(sigmoid(x), sigmoid(xg), tol, tol);
    CHECK_CLOSE(relu(x), relu(xg), 0, 0);
    CHECK_CLOSE(log(abs(x)), log(abs(xg)), tol, tol);
    CHECK_CLOSE(unary(UnaryOp::Round, x), unary(UnaryOp::Round, xg), 0, 0);
    CHECK_CLOSE(unary(UnaryOp::IsFinite, log(x)), unary(UnaryOp::IsFinite, log(xg)), 0, 0);
  }
}

TEST(sum_and_reductions) {
  if (!cuda_available()) return;
  Tensor x = rand_cpu({37, 1000}, Dtype::Float32, 6);
  Tensor xg = to_cuda(x);
  CHECK_CLOSE(sum(x), sum(xg), 1e-5, 1e-4);
  CHECK_CLOSE(sum(x, std::vector<int64_t>{1}), sum(xg, std::vector<int64_t>{1}), 1e-5, 1e-4);
  CHECK_CLOSE(sum(x, std::vector<int64_t>{0}, true), sum(xg, std::vector<int64_t>{0}, true), 1e-5, 1e-4);
  CHECK_CLOSE(max(x, std::vector<int64_t>{0}), max(xg, std::vector<int64_t>{0}), 0, 0);
  CHECK_CLOSE(min(x, std::vector<int64_t>{1}), min(xg, std::vector<int64_t>{1}), 0, 0);
  CHECK_CLOSE(argmax(x, 1), argmax(xg, 1), 0, 0);
  CHECK_CLOSE(argmin(x, 0), argmin(xg, 0), 0, 0);
  CHECK_CLOSE(argmax(x, std::nullopt), argmax(xg, std::nullopt), 0, 0);
  Tensor y = rand_cpu({3, 4, 5, 6}, Dtype::Float64, 7, 0.5, 1.5);
  Tensor yg = to_cuda(y);
  CHECK_CLOSE(sum(y, std::vector<int64_t>{0, 2}), sum(yg, std::vector<int64_t>{0, 2}), 1e-12, 1e-12);
  CHECK_CLOSE(prod(y, std::vector<int64_t>{1, 3}), prod(yg, std::vector<int64_t>{1, 3}), 1e-12, 0);
  CHECK_CLOSE(mean(transpose(y), std::vector<int64_t>{1}), mean(transpose(yg), std::vector<int64_t>{1}), 1e-12, 1e-12);
  Tensor k = cast(multiply(y, scalar(7, Dtype::Float64)), Dtype::Int32);
  CHECK_CLOSE(sum(k, std::vector<int64_t>{3}), sum(to_cuda(k), std::vector<int64_t>{3}), 0, 0);
  CHECK_CLOSE(max(k), max(to_cuda(k)), 0, 0);
  CHECK_CLOSE(sum(zeros({0, 3})), sum(zeros({0, 3}, Dtype::Float32, Device::CUDA)), 0, 0);
  // NaN wins max and argmax (the first one), as in NumPy.
  Tensor xn = where(binary(BinaryOp::Gt, x, scalar(1.9, Dtype::Float32)), scalar(NAN, Dtype::Float32), x);
  Tensor xng = to_cuda(xn);
  CHECK_CLOSE(max(xn, std::vector<int64_t>{1}), max(xng, std::vector<int64_t>{1}), 0, 0);
  CHECK_CLOSE(argmax(xn, 1), argmax(xng, 1), 0, 0);
  CHECK_CLOSE(argmin(xn, 0), argmin(xng, 0), 0, 0);
  // More kept dims than a kernel indexes: reduced from a permuted copy.
  Shape s10(10, 2);
  s10.push_back(3);
  std::vector<int64_t> rev{10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0};
  Tensor h = transpose(rand_cpu(s10, Dtype::Float64, 18), rev);
  Tensor hg = transpose(to_cuda(rand_cpu(s10, Dtype::Float64, 18)), rev);
  CHECK_CLOSE(sum(h, std::vector<int64_t>{10}), sum(hg, std::vector<int64_t>{10}), 1e-12, 1e-12);
  CHECK_CLOSE(argmax(h, 0), argmax(hg, 0), 0, 0);
}

TEST(matmul_shapes) {
  if (!cuda_available()) return;
  Tensor a = rand_cpu({67, 45}, Dtype::Float32, 8), b = rand_cpu({45, 131}, Dtype::Float32, 9);
  Tensor ag = to_cuda(a), bg = to_cuda(b);
  CHECK_CLOSE(matmul(a, b), matmul(ag, bg), 1e-4, 1e-4);
  CHECK_CLOSE(matmul(transpose(b), transpose(a)), matmul(transpose(bg), transpose(ag)), 1e-4, 1e-4);
  Tensor c = rand_cpu({3, 1, 20, 17}, Dtype::Float64, 10), d = rand_cpu({4, 17, 9}, Dtype::Float64, 11);
  CHECK_CLOSE(matmul(c, d), matmul(to_cuda(c), to_cuda(d)), 1e-12, 1e-12);
  Tensor v = rand_cpu({17}, Dtype::Float64, 12);
  CHECK_CLOSE(matmul(c, v), matmul(to_cuda(c), to_cuda(v)), 1e-12, 1e-12);
  Tensor i = cast(multiply(a, scalar(5, Dtype::Float32)), Dtype::Int64);
  Tensor j = cast(multiply(b, scalar(5, Dtype::Float32)), Dtype::Int64);
  CHECK_CLOSE(matmul(i, j), matmul(to_cuda(i), to_cuda(j)), 0, 0);
  Tensor e = zeros({3, 0}), f = zeros({0, 4});
  CHECK_CLOSE(matmul(e, f), matmul(to_cuda(e), to_cuda(f)), 0, 0);
}

TEST(gather_index_add_and_grad) {
  if (!cuda_available()) return;
  Tensor x = rand_cpu({5, 6, 3}, Dtype::Float32, 13);
  Tensor idx = cast(multiply(rand_cpu({9}, Dtype::Float32, 14, 0, 1), scalar(6, Dtype::Float32)), Dtype::Int64);
  CHECK_CLOSE(take(x, idx, 1), take(to_cuda(x), to_cuda(idx), 1), 0, 0);
  CHECK_CLOSE(take(x, idx, 1), take(to_cuda(x), idx, 1), 0, 0);  // indices on the host
  Tensor idx3 = binary(BinaryOp::Mod, idx, scalar(3, Dtype::Int64));
  CHECK_CLOSE(take(x, idx3, 2), take(to_cuda(x), to_cuda(idx3), 2), 0, 0);
  Tensor u = rand_cpu({5, 9, 3}, Dtype::Float32, 15);
  CHECK_CLOSE(index_add(x, 1, idx, u), index_add(to_cuda(x), 1, to_cuda(idx), to_cuda(u)), 1e-6, 1e-6);
  Tensor xi = cast(multiply(x, scalar(9, Dtype::Float32)), Dtype::Int64);
  Tensor ui = cast(multiply(u, scalar(9, Dtype::Float32)), Dtype::Int64);
  CHECK_CLOSE(index_add(xi, 1, idx, ui), index_add(to_cuda(xi), 1, to_cuda(idx), to_cuda(ui)), 0, 0);
  // A small graph end to end: the gradients agree too.
  Tensor w = rand_cpu({6, 4}, Dtype::Float32, 16);
  Tensor wg = to_cuda(w);
  w.set_requires_grad(true);
  wg.set_requires_grad(true);
  auto loss = [](const Tensor& xx, const Tensor& ww) { return sum(tanh(matmul(xx, ww))); };
  Tensor m = rand_cpu({7, 6}, Dtype::Float32, 17);
  Tensor lc = loss(m, w), lg = loss(to_cuda(m), wg);
  CHECK_CLOSE(lc, lg, 1e-5, 1e-5);
  backward(lc, Tensor(), false);
  backward(lg, Tensor(), false);
  CHECK(w.grad().defined() && wg.grad().defined());
  if (w.grad().defined() && wg.grad().defined()) CHECK_CLOSE(w.grad(), wg.grad(), 1e-5, 1e-5);
}

int main() {
  if (!cuda_available()) {
    // Only the device-free check runs; the rest return early.
    std::printf("SKIP: no CUDA device\n");
  }
  return check::run_all();
}

#else  // !LAMINA_WITH_CUDA

int main() {
  std::printf("SKIP: no CUDA device (lamina built without CUDA)\n");
  return cuda_built() ? 1 : 0;
}

#endif
