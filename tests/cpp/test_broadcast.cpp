// Broadcasting, promotion and elementwise kernels over strided operands.
#include "check.h"
#include "lamina/ops.h"

using namespace lamina;

static Tensor iota(const Shape& s, Dtype dt = Dtype::Float32) {
  return reshape(arange(0, static_cast<double>(shape_numel(s)), 1, dt), s);
}

TEST(broadcast_add_matches_loops) {
  Tensor a = iota({2, 3, 1}), b = iota({4});
  Tensor c = add(a, b);
  CHECK((c.shape() == Shape{2, 3, 4}));
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 4; ++j) CHECK(c.data<float>()[i * 4 + j] == static_cast<float>(i + j));
}

TEST(incompatible_shapes_name_both) {
  Tensor a = zeros({2, 3}), b = zeros({4});
  try {
    add(a, b);
    CHECK(false);
  } catch (const ValueError& e) {
    std::string m = e.what();
    CHECK(m.find("add") != std::string::npos);
    CHECK(m.find("(2, 3)") != std::string::npos);
    CHECK(m.find("(4,)") != std::string::npos);
  }
}

TEST(promotion_follows_numpy) {
  CHECK(promote_types(Dtype::Int32, Dtype::Float32) == Dtype::Float64);
  CHECK(promote_types(Dtype::Int32, Dtype::Int64) == Dtype::Int64);
  CHECK(promote_types(Dtype::Bool, Dtype::Int32) == Dtype::Int32);
  CHECK(promote_types(Dtype::Float32, Dtype::Float64) == Dtype::Float64);
  Tensor r = add(iota({3}, Dtype::Int32), iota({3}, Dtype::Float32));
  CHECK(r.dtype() == Dtype::Float64);
}

TEST(strided_operands) {
  Tensor a = iota({3, 4});
  Tensor at = transpose(a);            // (4, 3) strided
  Tensor m = multiply(at, at);
  CHECK(m.data<float>()[1] == 16.0f);  // at[0,1] = a[1,0] = 4
}

TEST(exp_accuracy_float32) {
  Tensor x = arange(-80, 80, 0.37, Dtype::Float32);
  Tensor y = exp(x);
  double worst = 0;
  for (int64_t i = 0; i < x.size(); ++i) {
    double ref = std::exp(static_cast<double>(x.data<float>()[i]));
    worst = std::max(worst, std::fabs(y.data<float>()[i] - ref) / ref);
  }
  CHECK(worst < 4e-7);
}

TEST(large_parallel_sum) {
  Tensor x = ones({1 << 20});
  Tensor s = sum(x);
  CHECK(s.data<float>()[0] == static_cast<float>(1 << 20));
  Tensor m = ones({300, 1000});
  Tensor cs = sum(m, std::vector<int64_t>{0});
  CHECK(cs.data<float>()[999] == 300.0f);
}

TEST(matmul_against_loops) {
  Tensor a = iota({2, 3, 4}), b = iota({4, 5});
  Tensor c = matmul(a, b);
  CHECK((c.shape() == Shape{2, 3, 5}));
  for (int bi = 0; bi < 2; ++bi)
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 5; ++j) {
        float ref = 0;
        for (int k = 0; k < 4; ++k) ref += a.data<float>()[bi * 12 + i * 4 + k] * b.data<float>()[k * 5 + j];
        CHECK_NEAR(c.data<float>()[bi * 15 + i * 5 + j], ref, 1e-3);
      }
}

TEST_MAIN()
