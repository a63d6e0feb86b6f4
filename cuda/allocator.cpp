// GPU memory: a caching allocator over cudaMalloc, and host<->device copies.
//
// cudaMalloc/cudaFree synchronise the device and cost tens of microseconds, so
// freed blocks are kept in size-binned free lists and handed out again. Sizes
// are rounded up to a bin (512 B steps below 1 MiB, then four bins per power of
// two), so a freed block serves any later request of the same bin. When
// cudaMalloc runs out of memory the cache is released and the call retried.
//
// The cache is a leaked singleton: tensors freed during interpreter shutdown
// still find it, and nothing calls into a CUDA runtime that is unloading.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernels.h"
#include "lamina/device.h"

namespace lamina {

namespace {

[[noreturn]] void fail(const char* op, cudaError_t e) {
  throw std::runtime_error(std::string("[") + op + "] CUDA error: " + cudaGetErrorString(e));
}

size_t bin_size(size_t n) {
  constexpr size_t kSmall = size_t(1) << 20;
  if (n <= kSmall) return std::max<size_t>(512, (n + 511) / 512 * 512);
  size_t p = kSmall;
  while (p * 2 < n) p *= 2;          // p < n <= 2p
  size_t step = p / 4;               // bins at p * {1.25, 1.5, 1.75, 2}
  return (n + step - 1) / step * step;
}

class CachingAllocator {
 public:
  void* allocate(size_t nbytes) {
    size_t sz = bin_size(nbytes);
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = free_.find(sz);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        cached_bytes_ -= sz;
        live_[p] = sz;
        return p;
      }
    }
    void* p = nullptr;
    cudaError_t e = cudaMalloc(&p, sz);
    if (e == cudaErrorMemoryAllocation) {
      cudaGetLastError();  // clear it, give the cache back, try once more
      release_cached();
      e = cudaMalloc(&p, sz);
    }
    if (e != cudaSuccess) {
      cudaGetLastError();
      fail("cuda_malloc", e);
    }
    std::lock_guard<std::mutex> lock(mu_);
    live_[p] = sz;
    return p;
  }

  void deallocate(void* p) {
    if (!p) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(p);
    if (it == live_.end()) return;  // not ours
    size_t sz = it->second;
    live_.erase(it);
    free_[sz].push_back(p);
    cached_bytes_ += sz;
  }

  // cudaFree every cached block (live tensors are untouched).
  void release_cached() {
    std::unordered_map<size_t, std::vector<void*>> blocks;
    {
      std::lock_guard<std::mutex> lock(mu_);
      blocks.swap(free_);
      cached_bytes_ = 0;
    }
    for (auto& kv : blocks)
      for (void* p : kv.second) cudaFree(p);
  }

  size_t cached_bytes() {
    std::lock_guard<std::mutex> lock(mu_);
    return cached_bytes_;
  }

 private:
  std::mutex mu_;
  std::unordered_map<size_t, std::vector<void*>> free_;  // bin size -> free blocks
  std::unordered_map<void*, size_t> live_;               // handed-out block -> bin size
  size_t cached_bytes_ = 0;
};

CachingAllocator& allocator() {
  static CachingAllocator* a = new CachingAllocator();  // leaked on purpose, see above
  return *a;
}

}  // namespace

void* cuda_malloc(size_t nbytes) {
  gpu::link_backend();
  return allocator().allocate(nbytes);
}

void cuda_free(void* p) { allocator().deallocate(p); }

// Not in a public header yet: frees the cached blocks back to the driver.
void cuda_empty_cache() { allocator().release_cached(); }
size_t cuda_cached_bytes() { return allocator().cached_bytes(); }

void cuda_copy_bytes(void* dst, const void* src, size_t n, bool dst_cuda, bool src_cuda) {
  if (n == 0) return;
  if (!dst_cuda && !src_cuda) {
    std::memcpy(dst, src, n);
    return;
  }
  cudaMemcpyKind kind = dst_cuda ? (src_cuda ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
                                 : cudaMemcpyDeviceToHost;
  // Synchronous on the legacy default stream: ordered after every kernel.
  cudaError_t e = cudaMemcpy(dst, src, n, kind);
  if (e != cudaSuccess) {
    cudaGetLastError();
    fail("to_device", e);
  }
}

}  // namespace lamina
