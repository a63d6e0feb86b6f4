// A small fixed pool. Workers sleep on a condition variable between jobs;
// the caller runs chunk 0 itself so a 2-core machine uses both cores.
#include "lamina/threads.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace lamina {

void blas_set_num_threads(int n);  // cpu/gemm.cpp

namespace {

class Pool {
 public:
  explicit Pool(int n) { resize(n); }
  ~Pool() { stop(); }

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  void resize(int n) {
    std::lock_guard<std::mutex> lk(run_mu_);  // not while a parallel region runs
    stop();
    uint64_t gen;
    {
      std::lock_guard<std::mutex> g(mu_);
      quit_ = false;
      gen = generation_;
    }
    // New workers start at the current generation: one that started at 0
    // would wake at once and call the finished (null) job of the last run.
    for (int i = 1; i < n; ++i) workers_.emplace_back([this, i, gen] { loop(i, gen); });
  }

  void run(int nchunks, const std::function<void(int)>& job) {
    std::unique_lock<std::mutex> lk(run_mu_);  // one parallel region at a time
    {
      std::lock_guard<std::mutex> g(mu_);
      job_ = &job;
      nchunks_ = nchunks;
      pending_ = nchunks - 1;
      pending_left_.store(nchunks - 1, std::memory_order_relaxed);
      ++generation_;
      published_.store(generation_, std::memory_order_release);
    }
    cv_.notify_all();
    job(0);
    spin_until([this] { return pending_left_.load(std::memory_order_acquire) == 0; });
    std::unique_lock<std::mutex> g(mu_);
    done_cv_.wait(g, [this] { return pending_ == 0; });
    job_ = nullptr;
  }

 private:
  // Back-to-back ops (a GEMM, then its bias add, ...) arrive microseconds
  // apart; a condition-variable wake-up costs tens of microseconds. So both
  // sides poll briefly (about 20 us) before sleeping.
  template <class Pred>
  static void spin_until(Pred&& done) {
    for (int i = 0; i < 4000 && !done(); ++i) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
  }

  void loop(int idx, uint64_t seen) {
    for (;;) {
      const std::function<void(int)>* job;
      spin_until([&] { return published_.load(std::memory_order_acquire) != seen; });
      {
        std::unique_lock<std::mutex> g(mu_);
        cv_.wait(g, [&] { return quit_ || generation_ != seen; });
        if (quit_) return;
        seen = generation_;
        if (idx >= nchunks_) continue;
        job = job_;
      }
      (*job)(idx);
      std::lock_guard<std::mutex> g(mu_);
      pending_left_.fetch_sub(1, std::memory_order_release);
      if (--pending_ == 0) done_cv_.notify_one();
    }
  }

  void stop() {
    {
      std::lock_guard<std::mutex> g(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  std::vector<std::thread> workers_;
  std::mutex mu_, run_mu_;
  std::condition_variable cv_, done_cv_;
  const std::function<void(int)>* job_ = nullptr;
  int nchunks_ = 0, pending_ = 0;
  uint64_t generation_ = 0;
  std::atomic<uint64_t> published_{0};  // generation_, readable without the lock
  std::atomic<int> pending_left_{0};    // pending_, likewise
  bool quit_ = false;
};

int default_threads() {
  unsigned hc = std::thread::hardware_concurrency();
  return static_cast<int>(std::max(1u, std::min(hc, 8u)));
}

Pool& pool() {
  static Pool p(default_threads());
  return p;
}

std::atomic<int> g_threads{0};
thread_local bool t_in_parallel = false;

}  // namespace

void set_num_threads(int n) {
  n = std::max(1, n);
  g_threads = n;
  pool().resize(n);
  blas_set_num_threads(n);
}

int get_num_threads() {
  int n = g_threads.load();
  return n ? n : pool().size();
}

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  int nt = get_num_threads();
  int64_t chunks = std::min<int64_t>(nt, (n + grain - 1) / std::max<int64_t>(grain, 1));
  if (chunks <= 1 || t_in_parallel) {
    fn(0, n);
    return;
  }
  int64_t per = (n + chunks - 1) / chunks;
  std::exception_ptr err;
  std::mutex err_mu;
  std::function<void(int)> job = [&](int c) {
    int64_t b = c * per, e = std::min(n, b + per);
    bool prev = t_in_parallel;
    t_in_parallel = true;
    try {
      if (b < e) fn(b, e);
    } catch (...) {
      std::lock_guard<std::mutex> g(err_mu);
      if (!err) err = std::current_exception();
    }
    t_in_parallel = prev;
  };
  pool().run(static_cast<int>(chunks), job);
  if (err) std::rethrow_exception(err);
}

}  // namespace lamina
