// Host memory: 64-byte aligned so rows start on a cache line and AVX-512
// loads never split; large blocks are 2 MiB aligned and marked for
// transparent huge pages, which removes most page faults on first touch
// (NumPy does the same). Freed large blocks are kept in a small cache and
// reused: a training step frees and allocates the same sizes every batch,
// and returning them to the OS made the kernel zero fresh pages each time
// (a quarter of an attention step's time). CUDA memory comes from cuda/.
#include <sys/mman.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>

#include "lamina/tensor.h"

namespace lamina {

void* cuda_malloc(size_t nbytes);  // defined in cuda/ or in cpu/no_cuda.cpp
void cuda_free(void* p);

void host_empty_cache();

namespace {
constexpr size_t kHugeThreshold = size_t(4) << 20;
constexpr size_t kHugePage = size_t(2) << 20;

constexpr size_t kCacheLimit = size_t(512) << 20;
// Blocks from here up are cached: glibc serves them with mmap, so each fresh
// one costs page faults and zeroing.
constexpr size_t kCacheThreshold = size_t(128) << 10;

size_t padded_size(size_t nbytes) {
  size_t align = nbytes >= kHugeThreshold ? kHugePage : 64;
  size_t padded = ((nbytes + align - 1) / align) * align;
  return padded == 0 ? align : padded;
}

// Freed large blocks by padded size. Leaked on purpose at exit (no static
// destructor order problems with tensors freed late).
struct HostCache {
  std::mutex mu;
  std::multimap<size_t, void*> blocks;
  size_t bytes = 0;
};
HostCache& cache() {
  static HostCache* c = new HostCache();
  return *c;
}

void* host_alloc(size_t nbytes) {
  size_t padded = padded_size(nbytes);
  if (padded >= kCacheThreshold) {
    HostCache& c = cache();
    std::lock_guard<std::mutex> g(c.mu);
    auto it = c.blocks.find(padded);
    if (it != c.blocks.end()) {
      void* p = it->second;
      c.blocks.erase(it);
      c.bytes -= padded;
      return p;
    }
  }
  size_t align = padded >= kHugeThreshold ? kHugePage : 64;
  void* p = std::aligned_alloc(align, padded);
  if (!p) {
    host_empty_cache();
    p = std::aligned_alloc(align, padded);
    if (!p) throw std::bad_alloc();
  }
#ifdef MADV_HUGEPAGE
  if (align == kHugePage) madvise(p, padded, MADV_HUGEPAGE);
#endif
  return p;
}

void host_free(void* p, size_t nbytes) {
  size_t padded = padded_size(nbytes);
  if (padded >= kCacheThreshold && padded <= kCacheLimit / 4) {
    HostCache& c = cache();
    std::lock_guard<std::mutex> g(c.mu);
    while (c.bytes + padded > kCacheLimit && !c.blocks.empty()) {
      auto victim = c.blocks.begin();  // smallest first: large blocks are costlier to refault
      c.bytes -= victim->first;
      std::free(victim->second);
      c.blocks.erase(victim);
    }
    c.blocks.emplace(padded, p);
    c.bytes += padded;
    return;
  }
  std::free(p);
}
}  // namespace

void host_empty_cache() {
  HostCache& c = cache();
  std::lock_guard<std::mutex> g(c.mu);
  for (auto& [size, p] : c.blocks) std::free(p);
  c.blocks.clear();
  c.bytes = 0;
}

uint64_t next_storage_serial() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

Storage::Storage() : serial(next_storage_serial()) {}

Storage::~Storage() { release_memory(*this); }

void release_memory(Storage& s) {
  if (s.owned && s.data) {
    if (s.device == Device::CPU) host_free(s.data, s.nbytes);
    else cuda_free(s.data);
  }
  s.data = nullptr;
  s.owned = false;
  s.keepalive.reset();
}

std::shared_ptr<Storage> allocate_storage(size_t nbytes, Device device) {
  auto st = std::make_shared<Storage>();
  st->nbytes = nbytes;
  st->device = device;
  st->data = device == Device::CPU ? host_alloc(nbytes) : cuda_malloc(((nbytes + 255) / 256) * 256 + 256);
  st->owned = true;
  return st;
}

}  // namespace lamina
