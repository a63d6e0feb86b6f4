// CPU vs CUDA parity: the same ops on the same random data on both devices.
// Without a CUDA build or without a GPU it prints "SKIP: no CUDA device" and
// passes, so it runs in every build.
#include <cmath>
#include <cstdio>
#include <string>

#include "check.h"
#include "lamina/autograd.h"
#include "lamina/nn_backend.h"
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

// ---- NN kernel tables: the CPU and CUDA tables on the same inputs ----------------------------

const NnBackend& cpu_nn() { return nn_backend(Device::CPU, "parity"); }
const NnBackend& gpu_nn() { return nn_backend(Device::CUDA, "parity"); }

// Uninitialised, zeroed, or undefined-as-given outputs on one device.
Tensor out_on(const Shape& s, Dtype dt, Device d) { return empty(s, dt, d); }
Tensor zeros_on(const Shape& s, Dtype dt, Device d) { return zeros(s, dt, d); }
Tensor on(const Tensor& t, Device d) { return t.defined() ? to_device(t, d) : Tensor(); }

// Keras "same"/"valid" window geometry over an NHWC input.
Window2d window(const Shape& x, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh,
                int64_t dw, bool same) {
  auto ey = kernels::window_extent(x[1], kh, sh, dh, same);
  auto ex = kernels::window_extent(x[2], kw, sw, dw, same);
  return Window2d{x[0], x[1], x[2], x[3], kh, kw, sh, sw, dh, dw, ey.pad_before, ex.pad_before,
                  ey.out, ex.out};
}

std::vector<Window2d> conv_windows(const Shape& x) {
  return {window(x, 3, 3, 1, 1, 1, 1, true), window(x, 3, 2, 2, 1, 1, 1, true),
          window(x, 2, 3, 1, 2, 2, 1, false), window(x, 1, 1, 1, 1, 1, 1, false)};
}

}  // namespace

TEST(nn_table_registered) {
  // Holds even without a GPU: the NN registrar must survive static linking.
  bool ok = true;
  try {
    (void)gpu_nn();
  } catch (const std::exception&) {
    ok = false;
  }
  CHECK(ok);
}

TEST(nn_im2col_col2im_conv2d) {
  if (!cuda_available()) return;
  for (Dtype dt : {Dtype::Float32, Dtype::Float64}) {
    const double tol = dt == Dtype::Float32 ? 1e-4 : 1e-11;
    Shape xs{2, 9, 8, 3};
    Tensor x = rand_cpu(xs, dt, 20), xg = to_cuda(x);
    for (const Window2d& g : conv_windows(xs)) {
      const int64_t rows = g.n * g.oh * g.ow, K = g.kh * g.kw * g.c, F = 5;
      Tensor cc = out_on({rows, K}, dt, Device::CPU), cg = out_on({rows, K}, dt, Device::CUDA);
      cpu_nn().im2col(x, g, cc);
      gpu_nn().im2col(xg, g, cg);
      CHECK_CLOSE(cc, cg, 0, 0);
      Tensor cols = rand_cpu({rows, K}, dt, 21);
      Tensor xc = zeros_on(xs, dt, Device::CPU), xgz = zeros_on(xs, dt, Device::CUDA);
      cpu_nn().col2im(cols, g, xc);
      gpu_nn().col2im(to_cuda(cols), g, xgz);
      CHECK_CLOSE(xc, xgz, tol, tol);
      // conv2d and its backward (dx zeroed by the caller, dw written).
      Tensor w = rand_cpu({g.kh, g.kw, g.c, F}, dt, 22), wg = to_cuda(w);
      Tensor yc = out_on({g.n, g.oh, g.ow, F}, dt, Device::CPU), yg = out_on({g.n, g.oh, g.ow, F}, dt, Device::CUDA);
      cpu_nn().conv2d(x, w, g, yc);
      gpu_nn().conv2d(xg, wg, g, yg);
      CHECK_CLOSE(yc, yg, tol, tol);
      Tensor gy = rand_cpu({g.n, g.oh, g.ow, F}, dt, 23);
      Tensor dxc = zeros_on(xs, dt, Device::CPU), dxg = zeros_on(xs, dt, Device::CUDA);
      Tensor dwc = out_on(w.shape(), dt, Device::CPU), dwg = out_on(w.shape(), dt, Device::CUDA);
      cpu_nn().conv2d_backward(x, w, g, gy, dxc, dwc);
      gpu_nn().conv2d_backward(xg, wg, g, to_cuda(gy), dxg, dwg);
      CHECK_CLOSE(dxc, dxg, tol, tol);
      CHECK_CLOSE(dwc, dwg, tol, tol);
      Tensor dxg2 = zeros_on(xs, dt, Device::CUDA);  // dx only
      gpu_nn().conv2d_backward(xg, wg, g, to_cuda(gy), dxg2, Tensor());
      CHECK_CLOSE(dxc, dxg2, tol, tol);
    }
  }
}

TEST(nn_pooling) {
  if (!cuda_available()) return;
  for (Dtype dt : {Dtype::Float32, Dtype::Float64}) {
    const double tol = dt == Dtype::Float32 ? 1e-5 : 1e-12;
    Shape xs{2, 7, 6, 4};
    Tensor x = rand_cpu(xs, dt, 24), xg = to_cuda(x);
    for (const Window2d& g : {window(xs, 2, 2, 2, 2, 1, 1, true), window(xs, 3, 3, 1, 1, 1, 1, true),
                              window(xs, 3, 2, 2, 1, 1, 1, false)}) {
      Shape os{g.n, g.oh, g.ow, g.c};
      Tensor oc = out_on(os, dt, Device::CPU), og = out_on(os, dt, Device::CUDA);
      Tensor ac = out_on(os, Dtype::Int32, Device::CPU), ag = out_on(os, Dtype::Int32, Device::CUDA);
      cpu_nn().max_pool(x, g, oc, ac);
      gpu_nn().max_pool(xg, g, og, ag);
      CHECK_CLOSE(oc, og, 0, 0);
      CHECK_CLOSE(ac, ag, 0, 0);
      Tensor go = rand_cpu(os, dt, 25);
      Tensor dc = zeros_on(xs, dt, Device::CPU), dg = zeros_on(xs, dt, Device::CUDA);
      cpu_nn().max_pool_backward(go, ac, g, dc);
      gpu_nn().max_pool_backward(to_cuda(go), ag, g, dg);
      CHECK_CLOSE(dc, dg, tol, tol);
      cpu_nn().avg_pool(x, g, oc);
      gpu_nn().avg_pool(xg, g, og);
      CHECK_CLOSE(oc, og, tol, tol);
      Tensor ec = zeros_on(xs, dt, Device::CPU), eg = zeros_on(xs, dt, Device::CUDA);
      cpu_nn().avg_pool_backward(go, g, ec);
      gpu_nn().avg_pool_backward(to_cuda(go), g, eg);
      CHECK_CLOSE(ec, eg, tol, tol);
    }
  }
}

TEST(nn_row_norm) {
  if (!cuda_available()) return;
  for (Dtype dt : {Dtype::Float32, Dtype::Float64}) {
    const double tol = dt == Dtype::Float32 ? 1e-4 : 1e-11;
    for (int64_t D : {1, 7, 300, 1030}) {
      for (bool rms : {false, true}) {
        for (bool affine : {true, false}) {
          const int64_t R = 37;
          Tensor x = rand_cpu({R, D}, dt, 26), gm = rand_cpu({D}, dt, 27), bt = rand_cpu({D}, dt, 28);
          if (!affine) gm = bt = Tensor();
          if (rms) bt = Tensor();
          auto run = [&](Device d, const NnBackend& nn, std::vector<Tensor>& o) {
            Tensor y = out_on({R, D}, dt, d), m = out_on({R}, dt, d), r = out_on({R}, dt, d);
            nn.row_norm(on(x, d), on(gm, d), on(bt, d), 1e-3, rms, y, m, r);
            Tensor g = on(rand_cpu({R, D}, dt, 29), d), dx = out_on({R, D}, dt, d);
            Tensor dgm = gm.defined() ? out_on({D}, dt, d) : Tensor();
            Tensor dbt = bt.defined() ? out_on({D}, dt, d) : Tensor();
            nn.row_norm_backward(g, on(x, d), on(gm, d), m, r, rms, dx, dgm, dbt);
            o = {y, m, r, dx, dgm, dbt};
          };
          std::vector<Tensor> c, gp;
          run(Device::CPU, cpu_nn(), c);
          run(Device::CUDA, gpu_nn(), gp);
          for (size_t i = 0; i < c.size(); ++i)
            if (c[i].defined()) CHECK_CLOSE(c[i], gp[i], tol, tol);
        }
      }
    }
  }
}

TEST(nn_batch_norm) {
  if (!cuda_available()) return;
  for (Dtype dt : {Dtype::Float32, Dtype::Float64}) {
    const double tol = dt == Dtype::Float32 ? 1e-4 : 1e-11;
    for (bool affine : {true, false}) {
      const int64_t M = 300, C = 13;
      Tensor x = rand_cpu({M, C}, dt, 30), gm = rand_cpu({C}, dt, 31), bt = rand_cpu({C}, dt, 32);
      if (!affine) gm = bt = Tensor();
      auto run = [&](Device d, const NnBackend& nn, std::vector<Tensor>& o) {
        Tensor y = out_on({M, C}, dt, d), m = out_on({C}, dt, d), v = out_on({C}, dt, d);
        nn.batch_norm(on(x, d), on(gm, d), on(bt, d), 1e-3, y, m, v);
        Tensor g = on(rand_cpu({M, C}, dt, 33), d), dx = out_on({M, C}, dt, d);
        Tensor dgm = out_on({C}, dt, d), dbt = out_on({C}, dt, d);
        nn.batch_norm_backward(g, on(x, d), on(gm, d), m, v, 1e-3, dx, dgm, dbt);
        o = {y, m, v, dx, dgm, dbt};
      };
      std::vector<Tensor> c, gp;
      run(Device::CPU, cpu_nn(), c);
      run(Device::CUDA, gpu_nn(), gp);
      for (size_t i = 0; i < c.size(); ++i) CHECK_CLOSE(c[i], gp[i], tol, tol);
    }
  }
}

TEST(nn_dropout_exact) {
  if (!cuda_available()) return;
  for (Dtype dt : {Dtype::Float32, Dtype::Float64}) {
    Tensor x = rand_cpu({3, 1001}, dt, 34);
    Tensor yc = out_on(x.shape(), dt, Device::CPU), yg = out_on(x.shape(), dt, Device::CUDA);
    cpu_nn().dropout(x, 0.3, 99, 17, yc);
    gpu_nn().dropout(to_cuda(x), 0.3, 99, 17, yg);
    CHECK_CLOSE(yc, yg, 0, 0);  // the same elements dropped, the same scale
  }
}

TEST(nn_sparse_xent) {
  if (!cuda_available()) return;
  for (Dtype dt : {Dtype::Float32, Dtype::Float64}) {
    const double tol = dt == Dtype::Float32 ? 1e-5 : 1e-12;
    for (int64_t C : {1, 10, 1000}) {
      const int64_t R = 29;
      Tensor z = rand_cpu({R, C}, dt, 35, -8, 8);
      Tensor y = cast(multiply(rand_cpu({R}, Dtype::Float32, 36, 0, 0.999), scalar(static_cast<double>(C), Dtype::Float32)), Dtype::Int64);
      Tensor lc = out_on({R}, dt, Device::CPU), sc = out_on({R}, dt, Device::CPU);
      Tensor lg = out_on({R}, dt, Device::CUDA), sg = out_on({R}, dt, Device::CUDA);
      cpu_nn().sparse_xent(z, y, lc, sc);
      gpu_nn().sparse_xent(to_cuda(z), to_cuda(y), lg, sg);
      CHECK_CLOSE(lc, lg, tol, tol);
      CHECK_CLOSE(sc, sg, tol, tol);
      Tensor g = rand_cpu({R}, dt, 37);
      Tensor dc = out_on({R, C}, dt, Device::CPU), dg = out_on({R, C}, dt, Device::CUDA);
      cpu_nn().sparse_xent_backward(g, z, y, sc, dc);
      gpu_nn().sparse_xent_backward(to_cuda(g), to_cuda(z), to_cuda(y), sg, dg);
      CHECK_CLOSE(dc, dg, tol, tol);
    }
  }
  // A bad label raises the CPU kernel's error, not a device fault.
  Tensor z = to_cuda(rand_cpu({2, 3}));
  Tensor y = to_cuda(cast(full({2}, 3, Dtype::Float32), Dtype::Int64));
  bool threw = false;
  try {
    gpu_nn().sparse_xent(z, y, out_on({2}, Dtype::Float32, Device::CUDA), out_on({2}, Dtype::Float32, Device::CUDA));
  } catch (const IndexError&) {
    threw = true;
  }
  CHECK(threw);
}

TEST(nn_rnn_scans) {
  if (!cuda_available()) return;
  struct Case {
    Cell cell;
    bool reset_after, go_backwards, masked, h0, c0;
  };
  const Case cases[] = {{Cell::SimpleRNN, false, false, false, false, false},
                        {Cell::SimpleRNN, false, true, true, true, false},
                        {Cell::LSTM, false, false, false, false, false},
                        {Cell::LSTM, false, true, true, true, true},
                        {Cell::GRU, true, false, true, true, false},
                        {Cell::GRU, false, false, true, true, false},
                        {Cell::GRU, false, true, false, false, false}};
  for (Dtype dt : {Dtype::Float32, Dtype::Float64}) {
    const double tol = dt == Dtype::Float32 ? 1e-4 : 1e-11;
    for (const Case& k : cases) {
      const int64_t B = 5, T = 7, U = 33, G = k.cell == Cell::LSTM ? 4 : k.cell == Cell::GRU ? 3 : 1;
      RnnArgs a{k.cell, B, T, U, G, k.reset_after, k.go_backwards};
      Tensor xw = rand_cpu({B, T, G * U}, dt, 40), uk = rand_cpu({U, G * U}, dt, 41, -0.3, 0.3);
      Tensor rb = k.cell == Cell::GRU && k.reset_after ? rand_cpu({G * U}, dt, 42) : Tensor();
      Tensor h0 = k.h0 ? rand_cpu({B, U}, dt, 43) : Tensor(), c0 = k.c0 ? rand_cpu({B, U}, dt, 44) : Tensor();
      Tensor mask = k.masked ? cast(binary(BinaryOp::Gt, rand_cpu({B, T}, dt, 45, 0, 1), scalar(0.3, dt)), dt) : Tensor();
      Tensor dout = rand_cpu({B, T + 2, U}, dt, 46);
      auto run = [&](Device d, const NnBackend& nn, std::vector<Tensor>& o) {
        Tensor out = out_on({B, T + 2, U}, dt, d), act = out_on({B, T, G * U}, dt, d);
        Tensor cst = out_on({B, T, U}, dt, d), hprev = out_on({B, T, U}, dt, d), rec_h = out_on({B, T, U}, dt, d);
        nn.rnn_forward(a, on(xw, d), on(uk, d), on(rb, d), on(h0, d), on(c0, d), on(mask, d), out, act,
                       cst, hprev, rec_h);
        Tensor dxw = out_on({B, T, G * U}, dt, d), drec = out_on({B, T, G * U}, dt, d);
        Tensor dh0 = out_on({B, U}, dt, d), dc0 = out_on({B, U}, dt, d);
        nn.rnn_backward(a, on(dout, d), on(uk, d), act, cst, hprev, rec_h, on(c0, d), on(mask, d),
                        dxw, drec, dh0, dc0);
        // act and rec_h of masked steps are never written: compare the rest.
        o = {out, cst, hprev, dxw, drec, dh0, dc0};
        if (!k.masked) {
          o.push_back(act);
          if (k.cell == Cell::GRU) o.push_back(rec_h);
        }
      };
      std::vector<Tensor> c, gp;
      run(Device::CPU, cpu_nn(), c);
      run(Device::CUDA, gpu_nn(), gp);
      for (size_t i = 0; i < c.size(); ++i) CHECK_CLOSE(c[i], gp[i], tol, tol);
    }
  }
}

TEST(nn_attention) {
  if (!cuda_available()) return;
  struct Case {
    int64_t Tq, Tk, D;
    bool causal, bias, mask;
    double dropout;
  };
  const Case cases[] = {{5, 9, 8, false, false, false, 0.0}, {70, 45, 16, false, true, true, 0.0},
                        {70, 70, 16, true, false, false, 0.0}, {67, 130, 24, true, true, true, 0.0},
                        {33, 40, 8, false, false, true, 0.3}, {20, 20, 160, false, true, false, 0.0},
                        {9, 11, 300, true, false, false, 0.0}};  // float64 D=300: > 48 KiB of shared memory
  for (Dtype dt : {Dtype::Float32, Dtype::Float64}) {
    const double tol = dt == Dtype::Float32 ? 2e-4 : 1e-10;
    for (const Case& k : cases) {
      const int64_t B = 2, N = 3;
      AttentionArgs a{B, k.Tq, k.Tk, N, k.D, 1.0 / std::sqrt(static_cast<double>(k.D)), k.causal,
                      k.dropout, 77, 5};
      Tensor q = rand_cpu({B, k.Tq, N, k.D}, dt, 50), kk = rand_cpu({B, k.Tk, N, k.D}, dt, 51);
      Tensor v = rand_cpu({B, k.Tk, N, k.D}, dt, 52), dout = rand_cpu({B, k.Tq, N, k.D}, dt, 53);
      Tensor bias = k.bias ? rand_cpu({B, N, k.Tq, k.Tk}, dt, 54) : Tensor();
      // Some rows fully masked: they come out uniform on both devices.
      Tensor mask = k.mask ? binary(BinaryOp::Gt, rand_cpu({B, N, k.Tq, k.Tk}, Dtype::Float32, 55, 0, 1), scalar(0.2, Dtype::Float32)) : Tensor();
      auto run = [&](Device d, const NnBackend& nn, std::vector<Tensor>& o) {
        Tensor out = out_on(q.shape(), dt, d), lse = out_on({B, N, k.Tq}, dt, d);
        nn.attention(a, on(q, d), on(kk, d), on(v, d), on(bias, d), on(mask, d), out, lse);
        Tensor dq = out_on(q.shape(), dt, d), dk = out_on(kk.shape(), dt, d), dv = out_on(v.shape(), dt, d);
        Tensor db = k.bias ? zeros_on({B, N, k.Tq, k.Tk}, dt, d) : Tensor();
        nn.attention_backward(a, on(q, d), on(kk, d), on(v, d), on(bias, d), on(mask, d), out, lse,
                              on(dout, d), dq, dk, dv, db);
        o = {out, lse, dq, dk, dv, db};
      };
      std::vector<Tensor> c, gp;
      run(Device::CPU, cpu_nn(), c);
      run(Device::CUDA, gpu_nn(), gp);
      for (size_t i = 0; i < c.size(); ++i)
        if (c[i].defined()) CHECK_CLOSE(c[i], gp[i], tol, tol);
    }
  }
}


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
