// Neural-network ops (lamina/nn.h): validation, geometry, the fused kernels
// and each op's hand-written backward rule beside its forward.
#include "lamina/nn.h"

#include <cmath>
#include <string>

#include "lamina/capture.h"
#include "lamina/nn_backend.h"
#include "ops/common.h"

namespace lamina {

namespace {

using kernels::window_extent;

bool parse_padding(const std::string& p, const char* op) {
  if (p == "same") return true;
  if (p == "valid") return false;
  throw ValueError(op_err(op, "padding must be 'valid' or 'same', got '" + p + "'"));
}

void require_float(const Tensor& t, const char* op, const char* what) {
  if (!is_floating(t.dtype())) {
    throw TypeError(op_err(op, std::string(what) + " must be float32 or float64, got " +
                                   dtype_name(t.dtype())));
  }
}

// Geometry of a window over x (N, H, W, C), checking that it fits.
Window2d make_window(const Shape& x, int64_t kh, int64_t kw, std::pair<int64_t, int64_t> s,
                     std::pair<int64_t, int64_t> d, bool same, const char* op) {
  if (s.first <= 0 || s.second <= 0 || d.first <= 0 || d.second <= 0) {
    throw ValueError(op_err(op, "strides and dilation must be positive"));
  }
  auto ey = window_extent(x[1], kh, s.first, d.first, same);
  auto ex = window_extent(x[2], kw, s.second, d.second, same);
  if (ey.out <= 0 || ex.out <= 0) {
    throw ValueError(op_err(op, "window (" + std::to_string(kh) + ", " + std::to_string(kw) +
                                    ") with dilation (" + std::to_string(d.first) + ", " +
                                    std::to_string(d.second) + ") is larger than the input " +
                                    shape_str(x) + " with padding 'valid'"));
  }
  return Window2d{x[0], x[1], x[2], x[3], kh, kw, s.first, s.second, d.first, d.second,
                  ey.pad_before, ex.pad_before, ey.out, ex.out};
}

Tensor im2col_raw(const Tensor& x, const Window2d& g) {
  bool pointwise = g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pl == 0;
  if (pointwise) return reshape(detach(x), {g.n * g.h * g.w, g.c});
  Tensor cols = empty({g.n * g.oh * g.ow, g.kh * g.kw * g.c}, x.dtype(), x.device());
  nn_backend(x.device(), "conv").im2col(x, g, cols);
  return cols;
}

Tensor col2im_raw(const Tensor& cols, const Window2d& g) {
  Tensor x = zeros({g.n, g.h, g.w, g.c}, cols.dtype(), cols.device());
  nn_backend(cols.device(), "conv").col2im(contiguous(cols), g, x);
  return x;
}

Tensor swap2(const Tensor& t) { return transpose(t, std::vector<int64_t>{1, 0}); }

Tensor conv2d_single(const Tensor& x_in, const Tensor& kernel_in, std::pair<int64_t, int64_t> s,
                     bool same, std::pair<int64_t, int64_t> d) {
  const Shape& ks = kernel_in.shape();
  Tensor x = contiguous(x_in), kernel = contiguous(kernel_in);
  Window2d g = make_window(x.shape(), ks[0], ks[1], s, d, same, "conv2d");
  const int64_t F = ks[3];
  Tensor out = empty({g.n, g.oh, g.ow, F}, x.dtype(), x.device());
  nn_backend(x.device(), "conv2d").conv2d(x, kernel, g, out);
  return record("conv2d", {x, kernel}, out, [x, kernel, g](const Tensor& gout) {
    Tensor dx = x.requires_grad() ? empty(x.shape(), x.dtype(), x.device()) : Tensor();
    Tensor dw = kernel.requires_grad() ? empty(kernel.shape(), x.dtype(), x.device()) : Tensor();
    nn_backend(x.device(), "conv2d").conv2d_backward(detach(x), detach(kernel), g, contiguous(gout), dx, dw);
    return std::vector<Tensor>{dx, dw};
  });
}

void check_conv_args(const Tensor& x, const Tensor& kernel, int64_t groups, const char* op) {
  if (x.ndim() != 4) {
    throw ValueError(op_err(op, "expected input of rank 4 (batch, height, width, channels), got shape " +
                                    shape_str(x.shape())));
  }
  if (kernel.ndim() != 4) {
    throw ValueError(op_err(op, "expected a kernel of rank 4 (kh, kw, in, out), got shape " +
                                    shape_str(kernel.shape())));
  }
  require_float(x, op, "input");
  require_float(kernel, op, "kernel");
  if (groups <= 0) throw ValueError(op_err(op, "groups must be positive"));
}

}  // namespace

Tensor conv2d(const Tensor& x_in, const Tensor& kernel_in, std::pair<int64_t, int64_t> strides,
              const std::string& padding, std::pair<int64_t, int64_t> dilation, int64_t groups) {
  check_conv_args(x_in, kernel_in, groups, "conv2d");
  bool same = parse_padding(padding, "conv2d");
  Dtype dt = promote_types(x_in.dtype(), kernel_in.dtype());
  Tensor x = cast(x_in, dt), kernel = cast(kernel_in, dt);
  const int64_t C = x.shape()[3], Cg = kernel.shape()[2], F = kernel.shape()[3];
  if (Cg * groups != C || F % groups != 0) {
    throw ValueError(op_err("conv2d", "input of shape " + shape_str(x.shape()) + " has " +
                                          std::to_string(C) + " channels but the kernel " +
                                          shape_str(kernel.shape()) + " with groups=" +
                                          std::to_string(groups) + " expects " +
                                          std::to_string(Cg * groups)));
  }
  if (groups == 1) return conv2d_single(x, kernel, strides, same, dilation);
  // Grouped (and depthwise) convolution: one GEMM per group.
  std::vector<Tensor> outs;
  const int64_t Fg = F / groups;
  for (int64_t gi = 0; gi < groups; ++gi) {
    Tensor xg = slice(x, {0, 0, 0, gi * Cg}, {x.shape()[0], x.shape()[1], x.shape()[2], (gi + 1) * Cg},
                      {1, 1, 1, 1});
    Tensor kg = slice(kernel, {0, 0, 0, gi * Fg},
                      {kernel.shape()[0], kernel.shape()[1], Cg, (gi + 1) * Fg}, {1, 1, 1, 1});
    outs.push_back(conv2d_single(xg, kg, strides, same, dilation));
  }
  return concatenate(outs, 3);
}

// Padding before, in the adjoint conv2d's terms, of a transposed convolution with
// an explicit output padding: Keras's left pad of the stride-dilated input
// (backend_utils' conv-transpose padding for JAX) is span - 1 - this.
static int64_t transpose_pad_before(int64_t k, int64_t dil, bool same, int64_t op) {
  int64_t span = (k - 1) * dil + 1;
  if (!same) return 0;
  int64_t pad_len = span + span % 2 - 2 + op;
  int64_t left = std::min(pad_len / 2 + pad_len % 2, span - 1);
  return span - 1 - left;
}

Tensor conv2d_transpose(const Tensor& x_in, const Tensor& kernel_in,
                        std::pair<int64_t, int64_t> s, const std::string& padding,
                        std::pair<int64_t, int64_t> d,
                        std::optional<std::pair<int64_t, int64_t>> output_padding) {
  check_conv_args(x_in, kernel_in, 1, "conv2d_transpose");
  bool same = parse_padding(padding, "conv2d_transpose");
  Dtype dt = promote_types(x_in.dtype(), kernel_in.dtype());
  Tensor x = contiguous(cast(x_in, dt)), kernel = cast(kernel_in, dt);
  const Shape& ks = kernel.shape();
  const int64_t N = x.shape()[0], H = x.shape()[1], W = x.shape()[2], C = x.shape()[3];
  const int64_t F = ks[2];
  if (ks[3] != C) {
    throw ValueError(op_err("conv2d_transpose", "input of shape " + shape_str(x.shape()) +
                                                    " has " + std::to_string(C) +
                                                    " channels but the kernel " + shape_str(ks) +
                                                    " expects " + std::to_string(ks[3])));
  }
  // Output length as keras.ops.conv_transpose.
  auto out_len = [&](int64_t in, int64_t k, int64_t st, int64_t dil, std::optional<int64_t> op) {
    int64_t span = (k - 1) * dil + 1;
    if (!op) return same ? in * st : in * st + std::max<int64_t>(span - st, 0);
    int64_t pad = same ? span / 2 : 0;
    return (in - 1) * st + span - 2 * pad + *op;
  };
  std::optional<int64_t> opy, opx;
  if (output_padding) {
    opy = output_padding->first;
    opx = output_padding->second;
  }
  int64_t Ho = out_len(H, ks[0], s.first, d.first, opy), Wo = out_len(W, ks[1], s.second, d.second, opx);
  if (Ho <= 0 || Wo <= 0) {
    throw ValueError(op_err("conv2d_transpose", "output padding gives an empty output (" +
                                                    std::to_string(Ho) + ", " + std::to_string(Wo) +
                                                    ") for the input " + shape_str(x.shape())));
  }
  // The window geometry of the conv2d whose adjoint this is: (Ho, Wo, F) -> (H, W, C).
  Window2d g = make_window({N, Ho, Wo, F}, ks[0], ks[1], s, d, same, "conv2d_transpose");
  if (output_padding) {
    // Keras's explicit padding (its JAX/torch backends): the output padding
    // only extends the far side, so the geometry is fixed by the input size.
    g.pt = transpose_pad_before(ks[0], d.first, same, *opy);
    g.pl = transpose_pad_before(ks[1], d.second, same, *opx);
    g.oh = H;
    g.ow = W;
  }
  const int64_t K = ks[0] * ks[1] * F;
  Tensor out;
  {
    NoGradGuard ng;
    Tensor w2 = reshape(detach(kernel), {K, C});
    out = col2im_raw(matmul(reshape(detach(x), {N * H * W, C}), swap2(w2)), g);
  }
  Shape kshape = ks;
  return record("conv2d_transpose", {x, kernel}, out, [x, kernel, g, K, C, kshape](const Tensor& gout) {
    Tensor cols = im2col_raw(contiguous(gout), g);  // (N*H*W, K)
    Tensor dx, dw;
    if (x.requires_grad()) dx = reshape(matmul(cols, reshape(detach(kernel), {K, C})), x.shape());
    if (kernel.requires_grad())
      dw = reshape(matmul(swap2(cols), reshape(detach(x), {g.n * g.oh * g.ow, C})), kshape);
    return std::vector<Tensor>{dx, dw};
  });
}

namespace {
Window2d pool_window(const Tensor& x, std::pair<int64_t, int64_t> pool,
                     std::pair<int64_t, int64_t> s, const std::string& padding, const char* op) {
  if (x.ndim() != 4) {
    throw ValueError(op_err(op, "expected input of rank 4 (batch, height, width, channels), got shape " +
                                    shape_str(x.shape())));
  }
  require_float(x, op, "input");
  if (pool.first <= 0 || pool.second <= 0) throw ValueError(op_err(op, "pool size must be positive"));
  return make_window(x.shape(), pool.first, pool.second, s, {1, 1}, parse_padding(padding, op), op);
}
}  // namespace

Tensor max_pool2d(const Tensor& x_in, std::pair<int64_t, int64_t> pool,
                  std::pair<int64_t, int64_t> strides, const std::string& padding) {
  Window2d g = pool_window(x_in, pool, strides, padding, "max_pool");
  Tensor x = contiguous(x_in);
  Tensor out = empty({g.n, g.oh, g.ow, g.c}, x.dtype(), x.device());
  Tensor arg = empty({g.n, g.oh, g.ow, g.c}, Dtype::Int32, x.device());
  nn_backend(x.device(), "max_pool").max_pool(x, g, out, arg);
  return record("max_pool", {x}, out, [g, arg](const Tensor& gout) {
    Tensor dx = zeros({g.n, g.h, g.w, g.c}, gout.dtype(), gout.device());
    nn_backend(gout.device(), "max_pool").max_pool_backward(contiguous(gout), arg, g, dx);
    return std::vector<Tensor>{dx};
  });
}

Tensor avg_pool2d(const Tensor& x_in, std::pair<int64_t, int64_t> pool,
                  std::pair<int64_t, int64_t> strides, const std::string& padding) {
  Window2d g = pool_window(x_in, pool, strides, padding, "average_pool");
  Tensor x = contiguous(x_in);
  Tensor out = empty({g.n, g.oh, g.ow, g.c}, x.dtype(), x.device());
  nn_backend(x.device(), "average_pool").avg_pool(x, g, out);
  return record("average_pool", {x}, out, [g](const Tensor& gout) {
    Tensor dx = zeros({g.n, g.h, g.w, g.c}, gout.dtype(), gout.device());
    nn_backend(gout.device(), "average_pool").avg_pool_backward(contiguous(gout), g, dx);
    return std::vector<Tensor>{dx};
  });
}

namespace {

void check_param(const Tensor& p, int64_t D, const Tensor& x, const char* op, const char* name) {
  if (p.defined() && (p.ndim() != 1 || p.shape()[0] != D)) {
    throw ValueError(op_err(op, std::string(name) + " of shape " + shape_str(p.shape()) +
                                    " does not match input " + shape_str(x.shape()) +
                                    ": expected (" + std::to_string(D) + ",)"));
  }
}

Tensor opt_cast(const Tensor& t, Dtype dt) { return t.defined() ? contiguous(cast(t, dt)) : t; }

Tensor row_norm_op(const Tensor& x_in, const Tensor& gamma_in, const Tensor& beta_in, double eps,
                   bool rms, const char* op) {
  if (x_in.ndim() == 0) throw ValueError(op_err(op, "input must have at least one axis"));
  require_float(x_in, op, "input");
  const int64_t D = x_in.shape().back();
  check_param(gamma_in, D, x_in, op, "gamma");
  check_param(beta_in, D, x_in, op, "beta");
  Tensor x = contiguous(x_in);
  Tensor gamma = opt_cast(gamma_in, x.dtype()), beta = opt_cast(beta_in, x.dtype());
  Shape rows(x.shape().begin(), x.shape().end() - 1);
  Tensor y = empty(x.shape(), x.dtype(), x.device());
  Tensor mean = empty(rows, x.dtype(), x.device()), rstd = empty(rows, x.dtype(), x.device());
  nn_backend(x.device(), op).row_norm(x, gamma, beta, eps, rms, y, mean, rstd);
  return record(op, {x, gamma, beta}, y, [x, gamma, beta, mean, rstd, rms, op](const Tensor& g) {
    Tensor dx = empty(x.shape(), x.dtype(), x.device());
    Tensor dg = gamma.defined() && gamma.requires_grad() ? empty(gamma.shape(), x.dtype(), x.device()) : Tensor();
    Tensor db = beta.defined() && beta.requires_grad() ? empty(beta.shape(), x.dtype(), x.device()) : Tensor();
    nn_backend(x.device(), op).row_norm_backward(contiguous(g), x, gamma, mean, rstd, rms, dx, dg, db);
    return std::vector<Tensor>{dx, dg, db};
  });
}

}  // namespace

Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps) {
  return row_norm_op(x, gamma, beta, eps, false, "layer_norm");
}

Tensor rms_norm(const Tensor& x, const Tensor& gamma, double eps) {
  return row_norm_op(x, gamma, Tensor(), eps, true, "rms_norm");
}

std::tuple<Tensor, Tensor, Tensor> batch_norm_train(const Tensor& x_in, const Tensor& gamma_in,
                                                    const Tensor& beta_in, double eps, bool relu) {
  const char* op = relu ? "batch_norm_relu" : "batch_norm";
  if (x_in.ndim() < 2) {
    throw ValueError(op_err(op, "expected input of rank >= 2 with channels last, got shape " +
                                    shape_str(x_in.shape())));
  }
  require_float(x_in, op, "input");
  const int64_t C = x_in.shape().back();
  check_param(gamma_in, C, x_in, op, "gamma");
  check_param(beta_in, C, x_in, op, "beta");
  Tensor x = contiguous(x_in);
  Tensor gamma = opt_cast(gamma_in, x.dtype()), beta = opt_cast(beta_in, x.dtype());
  Tensor y = empty(x.shape(), x.dtype(), x.device());
  Tensor mean = empty({C}, x.dtype(), x.device()), var = empty({C}, x.dtype(), x.device());
  nn_backend(x.device(), op).batch_norm(x, gamma, beta, eps, relu, y, mean, var);
  // With the ReLU fused, its output masks the gradient in the same kernel.
  Tensor mask = relu ? detach(y) : Tensor();
  y = record(op, {x, gamma, beta}, y, [x, gamma, beta, mean, var, eps, mask, op](const Tensor& g) {
    Tensor dx = empty(x.shape(), x.dtype(), x.device());
    Tensor dg = gamma.defined() && gamma.requires_grad() ? empty(gamma.shape(), x.dtype(), x.device()) : Tensor();
    Tensor db = beta.defined() && beta.requires_grad() ? empty(beta.shape(), x.dtype(), x.device()) : Tensor();
    nn_backend(x.device(), op).batch_norm_backward(contiguous(g), x, gamma, mean, var, eps, mask, dx,
                                                   dg, db);
    return std::vector<Tensor>{dx, dg, db};
  });
  return {y, mean, var};
}

Tensor bias_act(const Tensor& x_in, const Tensor& bias_in, bool relu) {
  const char* op = relu ? "bias_relu" : "bias_add";
  if (x_in.ndim() == 0) throw ValueError(op_err(op, "input must have at least one axis"));
  if (!bias_in.defined()) throw ValueError(op_err(op, "a bias is required"));
  require_float(x_in, op, "input");
  check_same_device(x_in, bias_in, op);
  const int64_t C = x_in.shape().back();
  check_param(bias_in, C, x_in, op, "bias");
  Tensor x = contiguous(x_in), b = opt_cast(bias_in, x.dtype());
  Tensor y = empty(x.shape(), x.dtype(), x.device());
  nn_backend(x.device(), op).bias_act(x, b, relu, y);
  // With the ReLU, its output masks the gradient (and holds no input alive).
  Tensor mask = relu ? detach(y) : Tensor();
  return record(op, {x, b}, y, [b, mask, relu, op](const Tensor& g) {
    Tensor gc = contiguous(g);
    Tensor dx = relu ? empty(gc.shape(), gc.dtype(), gc.device()) : gc;
    Tensor db = b.requires_grad() ? empty(b.shape(), gc.dtype(), gc.device()) : Tensor();
    if (relu || db.defined()) {
      nn_backend(gc.device(), op).bias_act_backward(gc, mask, relu, relu ? dx : Tensor(), db);
    }
    return std::vector<Tensor>{dx, db};
  });
}

Tensor dropout(const Tensor& x_in, double rate, uint64_t seed, uint64_t counter) {
  if (!(rate >= 0.0 && rate < 1.0)) {
    throw ValueError(op_err("dropout", "rate must be in [0, 1), got " + std::to_string(rate)));
  }
  require_float(x_in, "dropout", "input");
  if (rate == 0.0) return x_in;
  Tensor x = contiguous(x_in);
  Tensor y = empty(x.shape(), x.dtype(), x.device());
  nn_backend(x.device(), "dropout").dropout(x, rate, seed, counter, y);
  return record("dropout", {x}, y, [rate, seed, counter](const Tensor& g) {
    // The same (seed, counter) regenerates the same mask.
    return std::vector<Tensor>{dropout(contiguous(g), rate, seed, counter)};
  });
}

namespace {

std::string label_str(double v) {
  return v == std::floor(v) && std::abs(v) < 1e15 ? std::to_string(static_cast<int64_t>(v)) : std::to_string(v);
}

// Every label integral and in [0, n), read on the host from a float64 copy.
void check_class_labels(const Tensor& labels, int64_t n) {
  const double* p = labels.data<double>();
  for (int64_t i = 0; i < labels.size(); ++i) {
    const double v = p[i];
    if (!std::isfinite(v) || v != std::floor(v)) {
      throw ValueError("sparse_categorical_crossentropy expects integer class labels; got non-integer values such as [" +
                       label_str(v) + "]");
    }
    if (v < 0 || v >= static_cast<double>(n)) {
      throw ValueError("sparse_categorical_crossentropy: labels must be in [0, " + std::to_string(n) +
                       ") for an output with " + std::to_string(n) + " classes; got label " + label_str(v));
    }
  }
}

}  // namespace

// The check runs on the host, so a capture records it as a step of its own:
// each replay checks its batch's labels before the loss kernel reads them.
Tensor checked_class_labels(const Tensor& labels_in, int64_t n) {
  if (labels_in.dtype() == Dtype::Bool) {
    throw TypeError("sparse_categorical_crossentropy: labels must be integer class indices, got bool");
  }
  Tensor labels = detach(labels_in);
  Tensor host = contiguous(cast(labels.device() == Device::CPU ? labels : to_device(labels, Device::CPU),
                                Dtype::Float64));
  check_class_labels(host, n);
  if (Capture* c = active_capture()) {
    c->record([host, n] { check_class_labels(host, n); });
    c->hold(host);
  }
  return contiguous(cast(labels, Dtype::Int64));
}

Tensor sparse_softmax_cross_entropy(const Tensor& logits_in, const Tensor& labels_in) {
  const char* op = "sparse_categorical_crossentropy";
  require_float(logits_in, op, "logits");
  Shape expect(logits_in.shape().begin(), logits_in.shape().end() - 1);
  if (logits_in.ndim() == 0 || labels_in.shape() != expect) {
    throw ValueError(op_err(op, "labels of shape " + shape_str(labels_in.shape()) +
                                    " do not match logits of shape " + shape_str(logits_in.shape()) +
                                    ": expected labels of shape " + shape_str(expect)));
  }
  Tensor z = contiguous(logits_in);
  Tensor y = checked_class_labels(labels_in, logits_in.shape().back());
  Tensor loss = empty(expect, z.dtype(), z.device()), lse = empty(expect, z.dtype(), z.device());
  nn_backend(z.device(), op).sparse_xent(z, y, loss, lse);
  return record(op, {z}, loss, [z, y, lse, op](const Tensor& g) {
    Tensor dz = empty(z.shape(), z.dtype(), z.device());
    nn_backend(z.device(), op).sparse_xent_backward(contiguous(g), detach(z), y, lse, dz);
    return std::vector<Tensor>{dz};
  });
}

Tensor softmax_cross_entropy(const Tensor& logits, const Tensor& labels) {
  // -sum(y * log_softmax(z)): gradients from the composite are exact.
  return negative(sum(multiply(labels, log_softmax(logits, -1)), std::vector<int64_t>{-1}));
}

Tensor sigmoid_binary_cross_entropy(const Tensor& z, const Tensor& y) {
  // max(z, 0) - z*y + log1p(exp(-|z|)): stable for any z.
  return add(subtract(relu(z), multiply(z, y)), unary(UnaryOp::Log1p, exp(negative(abs(z)))));
}

}  // namespace lamina
