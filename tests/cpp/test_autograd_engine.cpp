// The reverse-mode engine: accumulation, shared subgraphs, freeing, capture.
#include "check.h"
#include "lamina/autograd.h"
#include "lamina/ops.h"

using namespace lamina;

static Tensor leaf(const Shape& s, double start) {
  Tensor t = reshape(arange(start, start + static_cast<double>(shape_numel(s)), 1, Dtype::Float64), s);
  t = contiguous(t);
  t.set_requires_grad(true);
  return t;
}

TEST(square_sum_gradient) {
  Tensor x = leaf({3}, 1);
  Tensor y = sum(multiply(x, x));
  backward(y, Tensor(), false);
  for (int i = 0; i < 3; ++i) CHECK_NEAR(x.grad().data<double>()[i], 2.0 * (i + 1), 1e-12);
}

TEST(diamond_graph_accumulates) {
  Tensor x = leaf({2}, 1);
  Tensor a = exp(x);
  Tensor y = sum(add(multiply(a, a), a));  // d/dx = 2e^{2x} + e^x
  backward(y, Tensor(), false);
  for (int i = 0; i < 2; ++i) {
    double v = i + 1;
    CHECK_NEAR(x.grad().data<double>()[i], 2 * std::exp(2 * v) + std::exp(v), 1e-9);
  }
}

TEST(grads_accumulate_across_calls) {
  Tensor x = leaf({2}, 1);
  backward(sum(x), Tensor(), false);
  backward(sum(x), Tensor(), false);
  CHECK(x.grad().data<double>()[0] == 2.0);
}

TEST(freed_graph_raises) {
  Tensor x = leaf({2}, 1);
  Tensor y = sum(exp(x));
  backward(y, Tensor(), false);
  CHECK_THROWS(backward(y, Tensor(), false), ValueError);
  Tensor z = sum(exp(x));
  backward(z, Tensor(), true);
  backward(z, Tensor(), false);  // retained once, so this works
}

TEST(broadcast_grad_is_reduced) {
  Tensor x = leaf({3, 1}, 0);
  Tensor b = leaf({4}, 0);
  backward(sum(add(x, b)), Tensor(), false);
  CHECK((x.grad().shape() == Shape{3, 1}));
  CHECK(x.grad().data<double>()[0] == 4.0);
  CHECK(b.grad().data<double>()[0] == 3.0);
}

TEST(capture_mode_leaves_grad_untouched) {
  Tensor x = leaf({2}, 1);
  auto gs = backward(sum(multiply(x, x)), Tensor(), false, {x});
  CHECK(!x.grad().defined());
  CHECK(gs[0].data<double>()[1] == 4.0);
}

TEST(non_scalar_needs_gradient) {
  Tensor x = leaf({2}, 1);
  CHECK_THROWS(backward(exp(x), Tensor(), false), ValueError);
}

TEST(no_grad_records_nothing) {
  Tensor x = leaf({2}, 1);
  NoGradGuard g;
  Tensor y = exp(x);
  CHECK(!y.requires_grad());
  CHECK(y.grad_fn() == nullptr);
}

TEST(deep_chain_does_not_overflow_stack) {
  Tensor x = leaf({1}, 1);
  Tensor y = x;
  for (int i = 0; i < 20000; ++i) y = add(y, scalar(0.0, Dtype::Float64));
  backward(sum(y), Tensor(), false);
  CHECK(x.grad().data<double>()[0] == 1.0);
}

TEST_MAIN()
