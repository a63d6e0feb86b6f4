// Neural-network ops (lamina/nn.h). The keras.ops-shaped wrappers that turn
// 1-D into 2-D, NCHW into NHWC and ints into pairs live in python/lamina/ops.py.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>

#include "convert.h"
#include "lamina/nn.h"

namespace lamina::py {

namespace {
Tensor T(nb::handle h) { return to_tensor(h); }
Tensor opt(nb::handle h) { return h.is_none() ? Tensor() : to_tensor(h); }
using Pair = std::pair<int64_t, int64_t>;
}  // namespace

void init_rnn(nb::module_& m);
void init_attention(nb::module_& m);

void init_nn(nb::module_& m) {
  init_rnn(m);
  init_attention(m);
  m.def("conv2d", [](nb::handle x, nb::handle k, Pair s, std::string pad, Pair d, int64_t groups) {
    return conv2d(T(x), T(k), s, pad, d, groups);
  }, nb::arg("x"), nb::arg("kernel"), nb::arg("strides"), nb::arg("padding"), nb::arg("dilation"),
     nb::arg("groups") = 1);
  m.def("conv2d_transpose", [](nb::handle x, nb::handle k, Pair s, std::string pad, Pair d,
                               std::optional<Pair> op) {
    return conv2d_transpose(T(x), T(k), s, pad, d, op);
  });
  m.def("max_pool2d", [](nb::handle x, Pair pool, Pair s, std::string pad) {
    return max_pool2d(T(x), pool, s, pad);
  });
  m.def("avg_pool2d", [](nb::handle x, Pair pool, Pair s, std::string pad) {
    return avg_pool2d(T(x), pool, s, pad);
  });
  m.def("layer_norm", [](nb::handle x, nb::handle g, nb::handle b, double eps) {
    return layer_norm(T(x), opt(g), opt(b), eps);
  }, nb::arg("x"), nb::arg("gamma").none(), nb::arg("beta").none(), nb::arg("epsilon"));
  m.def("rms_norm", [](nb::handle x, nb::handle g, double eps) { return rms_norm(T(x), opt(g), eps); },
        nb::arg("x"), nb::arg("gamma").none(), nb::arg("epsilon"));
  m.def("batch_norm_train", [](nb::handle x, nb::handle g, nb::handle b, double eps, bool relu) {
    return batch_norm_train(T(x), opt(g), opt(b), eps, relu);
  }, nb::arg("x"), nb::arg("gamma").none(), nb::arg("beta").none(), nb::arg("epsilon"),
     nb::arg("relu") = false);
  m.def("bias_act",
        [](nb::handle x, nb::handle b, bool relu) { return bias_act(T(x), T(b), relu); },
        nb::arg("x"), nb::arg("bias"), nb::arg("relu") = false);
  m.def("dropout_raw", [](nb::handle x, double rate, uint64_t seed, uint64_t counter) {
    return dropout(T(x), rate, seed, counter);
  });
  m.def("checked_class_labels", [](nb::handle y, int64_t n) { return checked_class_labels(T(y), n); },
        nb::arg("labels"), nb::arg("num_classes"));
  m.def("sparse_softmax_cross_entropy", [](nb::handle z, nb::handle y) {
    return sparse_softmax_cross_entropy(T(z), T(y));
  });
  m.def("softmax_cross_entropy", [](nb::handle z, nb::handle y) {
    auto [a, b] = promote_pair(z, y);
    return softmax_cross_entropy(a, b);
  });
  m.def("sigmoid_binary_cross_entropy", [](nb::handle z, nb::handle y) {
    auto [a, b] = promote_pair(z, y);
    return sigmoid_binary_cross_entropy(a, b);
  });
}

}  // namespace lamina::py

namespace lamina::py {
void init_rnn(nb::module_& m) {
  m.def("rnn", [](std::string cell, nb::handle x, nb::handle k, nb::handle rk, nb::handle b,
                  nb::handle rb, nb::handle h0, nb::handle c0, nb::handle mask, bool go_backwards,
                  bool reset_after) {
    auto r = rnn(cell, T(x), T(k), T(rk), opt(b), opt(rb), opt(h0), opt(c0), opt(mask), go_backwards,
                 reset_after);
    return nb::make_tuple(r[0], r[1], r[2]);
  }, nb::arg("cell"), nb::arg("x"), nb::arg("kernel"), nb::arg("recurrent_kernel"),
     nb::arg("bias").none(), nb::arg("recurrent_bias").none(), nb::arg("h0").none(),
     nb::arg("c0").none(), nb::arg("mask").none(), nb::arg("go_backwards") = false,
     nb::arg("reset_after") = true);
}
}  // namespace lamina::py

namespace lamina::py {
void init_attention(nb::module_& m) {
  m.def("dot_product_attention", [](nb::handle q, nb::handle k, nb::handle v, nb::handle bias,
                                    nb::handle mask, std::optional<double> scale, bool causal,
                                    double rate, uint64_t seed, uint64_t counter) {
    return dot_product_attention(T(q), T(k), T(v), opt(bias), opt(mask), scale, causal, rate, seed,
                                 counter);
  }, nb::arg("query"), nb::arg("key"), nb::arg("value"), nb::arg("bias").none(),
     nb::arg("mask").none(), nb::arg("scale").none(), nb::arg("is_causal"), nb::arg("dropout"),
     nb::arg("seed"), nb::arg("counter"));
}
}  // namespace lamina::py
