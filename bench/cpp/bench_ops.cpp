// Native benchmark of lamina's core ops on the CPU and, in a CUDA build with a
// GPU, on the GPU: the same op, shapes and inputs on each device. One JSON
// line per (op, device) on stdout: median milliseconds over the repeats after
// a warm-up, and the achieved GFLOP/s or GB/s. bench/compare_devices.py turns
// the lines into a CPU/GPU table.
//
//   lamina_bench [--seconds S] [--threads N] [--device cpu|cuda|all] [--quick]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "lamina/autograd.h"
#include "lamina/device.h"
#include "lamina/nn.h"
#include "lamina/ops.h"
#include "lamina/optim.h"
#include "lamina/threads.h"

using namespace lamina;

namespace {

struct Options {
  double seconds = 1.0;
  int threads = 2;
  std::string device = "all";
  bool quick = false;  // small shapes: a smoke run (CI) rather than a measurement
};

// A benchmark case: `make` prepares inputs on a device and returns the timed step.
struct Case {
  std::string name;
  double flops, bytes;  // per step; one of them is 0
  std::function<std::function<void()>(Device)> make;
};

Tensor rnd(const Shape& s, Device d, uint64_t counter, bool grad = false) {
  Tensor t = to_device(random_uniform(s, -1.0, 1.0, Dtype::Float32, 42, counter), d);
  if (grad) t.set_requires_grad(true);
  return t;
}

// Forward and backward from a scalar sum; the step's leaves keep their grads
// cleared so memory does not grow.
std::function<void()> fwd_bwd(std::function<Tensor()> f) {
  return [f] {
    Tensor y = f();
    Tensor s = sum(y);
    backward(s, ones_like(s), false, {});
  };
}

// Waits for the device: reading one value back orders after all queued work.
void sync(Device d, const Tensor& t) {
  if (d == Device::CUDA && t.defined()) to_device(reshape(t, {-1}), Device::CPU);
}

std::vector<Case> cases(const Options& o) {
  const int64_t n = o.quick ? 128 : 1024;
  const int64_t B = o.quick ? 4 : 64, T = o.quick ? 10 : 200, U = o.quick ? 16 : 128;
  const int64_t cb = o.quick ? 4 : 128, ab = o.quick ? 2 : 32, at = o.quick ? 16 : 128;
  const int64_t big = o.quick ? (1 << 14) : (1 << 22);
  std::vector<Case> c;
  c.push_back({"matmul " + std::to_string(n) + "^3", 2.0 * n * n * n, 0, [=](Device d) {
                 Tensor a = rnd({n, n}, d, 1), b = rnd({n, n}, d, 2);
                 return std::function<void()>([=] { sync(d, matmul(a, b)); });
               }});
  c.push_back({"conv2d fwd+bwd (" + std::to_string(cb) + ",13,13,32)->64 3x3",
               3.0 * 2 * cb * 11 * 11 * 64 * 9 * 32, 0, [=](Device d) {
                 Tensor x = rnd({cb, 13, 13, 32}, d, 3, true), k = rnd({3, 3, 32, 64}, d, 4, true);
                 return fwd_bwd([=] { return conv2d(x, k, {1, 1}, "valid", {1, 1}, 1); });
               }});
  c.push_back({"lstm fwd+bwd B=" + std::to_string(B) + " T=" + std::to_string(T) + " U=" +
                   std::to_string(U),
               3.0 * 2 * B * T * (U + U) * 4 * U, 0, [=](Device d) {
                 Tensor x = rnd({B, T, U}, d, 5, true), k = rnd({U, 4 * U}, d, 6, true);
                 Tensor rk = rnd({U, 4 * U}, d, 7, true), b = rnd({4 * U}, d, 8, true);
                 return fwd_bwd([=] {
                   return rnn("lstm", x, k, rk, b, Tensor(), Tensor(), Tensor(), Tensor(), false,
                              true)[0];
                 });
               }});
  c.push_back({"attention causal fwd+bwd (" + std::to_string(ab) + "," + std::to_string(at) +
                   ",4,32)",
               3.5 * 2 * 2 * ab * 4 * at * at * 32 / 2, 0, [=](Device d) {
                 Tensor q = rnd({ab, at, 4, 32}, d, 9, true), k = rnd({ab, at, 4, 32}, d, 10, true);
                 Tensor v = rnd({ab, at, 4, 32}, d, 11, true);
                 return fwd_bwd([=] {
                   return dot_product_attention(q, k, v, Tensor(), Tensor(), std::nullopt, true,
                                                0.0, 0, 0);
                 });
               }});
  c.push_back({"add " + std::to_string(big), 0, 12.0 * big, [=](Device d) {
                 Tensor a = rnd({big}, d, 12), b = rnd({big}, d, 13);
                 return std::function<void()>([=] { sync(d, add(a, b)); });
               }});
  c.push_back({"sum " + std::to_string(big), 0, 4.0 * big, [=](Device d) {
                 Tensor a = rnd({big}, d, 14);
                 return std::function<void()>([=] { sync(d, sum(a)); });
               }});
  c.push_back({"adam step 10x" + std::to_string(big / 4), 0, 10 * 7 * 4.0 * (big / 4),
               [=](Device d) {
                 std::vector<Tensor> p, g, m, v;
                 for (uint64_t i = 0; i < 10; ++i) {
                   p.push_back(rnd({big / 4}, d, 20 + i));
                   g.push_back(rnd({big / 4}, d, 40 + i));
                   m.push_back(zeros({big / 4}, Dtype::Float32, d));
                   v.push_back(zeros({big / 4}, Dtype::Float32, d));
                 }
                 auto step = std::make_shared<int64_t>(0);
                 return std::function<void()>([=] {
                   adam_update(p, g, m, v, {}, {1e-3, 0.9, 0.999, 1e-7, 0.0, ++*step});
                   sync(d, p[0]);
                 });
               }});
  return c;
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += (ch == '\n') ? ' ' : ch;
  }
  return out;
}

using Clock = std::chrono::steady_clock;

double seconds_of(const std::function<void()>& f) {
  auto t0 = Clock::now();
  f();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Median of >= 5 repeats, each running the step enough times to fill
// seconds / 5, after one warm-up repeat.
double median_ms(const std::function<void()>& step, double seconds) {
  double once = std::max(seconds_of(step), 1e-6);
  int64_t iters = std::max<int64_t>(1, static_cast<int64_t>(seconds / 5 / once));
  std::vector<double> per;
  for (int r = 0; r < 6; ++r) {
    double t = seconds_of([&] {
      for (int64_t i = 0; i < iters; ++i) step();
    });
    if (r > 0) per.push_back(t / iters * 1e3);  // repeat 0 is the warm-up
  }
  std::sort(per.begin(), per.end());
  return per[per.size() / 2];
}

void run(const Case& c, Device d, const Options& o) {
  double ms = median_ms(c.make(d), o.seconds);
  std::string rate = c.flops > 0
                         ? "\"gflops\": " + std::to_string(c.flops / ms / 1e6)
                         : "\"gbytes_per_s\": " + std::to_string(c.bytes / ms / 1e6);
  std::printf("{\"op\": \"%s\", \"device\": \"%s\", \"threads\": %d, \"median_ms\": %.4f, %s}\n",
              c.name.c_str(), device_name(d), o.threads, ms, rate.c_str());
  std::fflush(stdout);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "lamina_bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return std::string(argv[++i]);
    };
    if (a == "--seconds") o.seconds = std::atof(next().c_str());
    else if (a == "--threads") o.threads = std::atoi(next().c_str());
    else if (a == "--device") o.device = next();
    else if (a == "--quick") o.quick = true;
    else {
      std::fprintf(stderr, "usage: lamina_bench [--seconds S] [--threads N] [--device cpu|cuda|all] [--quick]\n");
      std::exit(2);
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  set_num_threads(o.threads);
  bool want_cpu = o.device != "cuda", want_gpu = o.device != "cpu";
  bool gpu = want_gpu && cuda_available();
  for (const Case& c : cases(o)) {
    try {
      if (want_cpu) run(c, Device::CPU, o);
      if (gpu) run(c, Device::CUDA, o);
    } catch (const std::exception& e) {  // e.g. an op without a kernel on this device
      std::printf("{\"op\": \"%s\", \"error\": \"%s\"}\n", c.name.c_str(),
                  json_escape(e.what()).c_str());
    }
  }
  if (want_gpu && !gpu) {
    const char* why = cuda_built() ? "no CUDA device found" : "this build has no CUDA kernels";
    std::printf("{\"device\": \"cuda\", \"skipped\": \"%s: the GPU half was not run\"}\n", why);
  }
  return 0;
}
