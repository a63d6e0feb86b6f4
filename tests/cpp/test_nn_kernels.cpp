// The fused NN kernels (conv, pooling, norms, dropout, cross-entropy, rnn,
// attention, optimizer updates) run forward and backward under the sanitizers
// on odd sizes; values are checked against small direct computations. The
// full numeric checks (NumPy references, finite differences) are in
// tests/python/test_nn_ops.py, test_rnn_ops.py and test_attention_op.py.
#include "check.h"
#include "lamina/autograd.h"
#include "lamina/nn.h"
#include "lamina/optim.h"

using namespace lamina;

static Tensor rnd(const Shape& s, uint64_t seed, bool grad = true) {
  Tensor t = contiguous(random_normal(s, 0, 1, Dtype::Float64, seed, 0));
  if (grad) t.set_requires_grad(true);
  return t;
}

static double at(const Tensor& t, int64_t i) { return contiguous(t).data<double>()[i]; }

TEST(conv2d_and_pool_backward_run) {
  Tensor x = rnd({2, 7, 5, 3}, 1), w = rnd({3, 2, 3, 4}, 2);
  Tensor y = conv2d(x, w, {2, 1}, "same", {1, 1}, 1);
  CHECK((y.shape() == Shape{2, 4, 5, 4}));
  Tensor p = max_pool2d(y, {2, 2}, {2, 2}, "same");
  Tensor q = avg_pool2d(y, {3, 3}, {1, 1}, "same");
  backward(add(sum(p), sum(q)), Tensor(), false);
  CHECK(x.grad().defined() && w.grad().defined());
  // y[0,0,0,0]: taps (kh=3,kw=2) with "same" padding pt=1 (total 2), pl=0.
  double ref = 0;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 2; ++j)
      for (int c = 0; c < 3; ++c) {
        int iy = i - 1, ix = j;
        if (iy < 0) continue;
        ref += at(x, (iy * 5 + ix) * 3 + c) * at(w, ((i * 2 + j) * 3 + c) * 4);
      }
  CHECK_NEAR(at(y, 0), ref, 1e-10);
}

TEST(conv_transpose_and_groups_run) {
  Tensor x = rnd({1, 3, 4, 4}, 3), w = rnd({3, 3, 2, 4}, 4);
  Tensor y = conv2d_transpose(x, w, {2, 2}, "valid", {1, 1}, std::nullopt);
  CHECK((y.shape() == Shape{1, 7, 9, 2}));
  Tensor g = conv2d(rnd({1, 5, 5, 4}, 5), rnd({3, 3, 2, 6}, 6), {1, 1}, "valid", {2, 2}, 2);
  CHECK((g.shape() == Shape{1, 1, 1, 6}));
  backward(add(sum(y), sum(g)), Tensor(), false);
  CHECK(x.grad().defined());
}

TEST(norms_dropout_xent_run) {
  Tensor x = rnd({5, 7}, 7), gamma = rnd({7}, 8), beta = rnd({7}, 9);
  Tensor ln = layer_norm(x, gamma, beta, 1e-3);
  Tensor rn = rms_norm(x, gamma, 1e-6);
  auto [bn, mean, var] = batch_norm_train(x, gamma, beta, 1e-3);
  Tensor d = dropout(x, 0.5, 11, 0);
  Tensor labels = arange(0, 5, 1, Dtype::Int64);
  Tensor ce = sparse_softmax_cross_entropy(x, labels);
  backward(sum(add(add(add(sum(ln), sum(rn)), add(sum(bn), sum(d))), sum(ce))), Tensor(), false);
  CHECK(gamma.grad().defined() && beta.grad().defined());
  double m0 = 0;
  for (int r = 0; r < 5; ++r) m0 += at(x, r * 7) / 5;
  CHECK_NEAR(at(mean, 0), m0, 1e-12);
  CHECK_THROWS(sparse_softmax_cross_entropy(x, full({5}, 9, Dtype::Int64)), ValueError);  // labels are checked before the kernel
}

TEST(rnn_cells_with_masks_run) {
  for (const char* cell : {"lstm", "gru", "simple_rnn"}) {
    int64_t G = std::string(cell) == "lstm" ? 4 : std::string(cell) == "gru" ? 3 : 1;
    Tensor x = rnd({3, 6, 4}, 12), k = rnd({4, G * 5}, 13), rk = rnd({5, G * 5}, 14);
    Tensor b = rnd({G * 5}, 15);
    Tensor rb = G == 3 ? rnd({G * 5}, 16) : Tensor();
    Tensor mask = ones({3, 6});
    mask.data<float>()[2] = 0;
    mask.data<float>()[6 + 0] = 0;
    for (bool back : {false, true}) {
      auto r = rnn(cell, x, k, rk, b, rb, rnd({3, 5}, 17), Tensor(), mask, back, true);
      CHECK((r[0].shape() == Shape{3, 6, 5}));
      backward(add(sum(r[0]), sum(r[1])), Tensor(), false);
    }
    CHECK(rk.grad().defined() && x.grad().defined());
  }
  Tensor x = rnd({2, 4, 3}, 18), k = rnd({3, 12}, 19), rk = rnd({4, 12}, 20);
  auto r = rnn("gru", x, k, rk, Tensor(), Tensor(), Tensor(), Tensor(), Tensor(), false, false);
  backward(sum(r[0]), Tensor(), false);
  CHECK(rk.grad().defined());
}

TEST(attention_tiles_run) {
  for (bool causal : {false, true}) {
    Tensor q = rnd({2, 70, 2, 3}, 21), k = rnd({2, 130, 2, 3}, 22), v = rnd({2, 130, 2, 3}, 23);
    Tensor bias = rnd({1, 2, 70, 130}, 24);
    Tensor mask = binary(BinaryOp::Gt, random_uniform({2, 1, 70, 130}, 0, 1, Dtype::Float32, 25, 0),
                         scalar(0.2, Dtype::Float32));
    Tensor o = dot_product_attention(q, k, v, bias, mask, std::nullopt, causal, 0.1, 26, 0);
    CHECK((o.shape() == Shape{2, 70, 2, 3}));
    backward(sum(o), Tensor(), false);
    CHECK(q.grad().defined() && bias.grad().defined());
  }
}

TEST(optimizer_updates_run) {
  Tensor p = zeros({5}, Dtype::Float32), g = ones({5}, Dtype::Float32);
  Tensor m = zeros({5}, Dtype::Float32), v = zeros({5}, Dtype::Float32);
  adam_update({p}, {g}, {m}, {v}, {}, AdamConfig{0.1, 0.9, 0.999, 1e-7, 0.0, 1});
  CHECK_NEAR(p.data<float>()[0], -0.1, 1e-5);  // first Adam step moves by lr
  sgd_update({p}, {g}, {}, 0.5, 0.0, false, 0.0);
  CHECK_NEAR(p.data<float>()[3], -0.6, 1e-5);
}

TEST_MAIN()
