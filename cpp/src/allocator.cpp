// Host memory: 64-byte aligned so rows start on a cache line and AVX-512
// loads never split; large blocks are 2 MiB aligned and marked for
// transparent huge pages, which removes most page faults on first touch
// (NumPy does the same). CUDA memory comes from the caching allocator in cuda/.
#include <sys/mman.h>

#include <cstdlib>
#include <new>

#include "lamina/tensor.h"

namespace lamina {

void* cuda_malloc(size_t nbytes);  // defined in cuda/ or in cpu/no_cuda.cpp
void cuda_free(void* p);

namespace {
constexpr size_t kHugeThreshold = size_t(4) << 20;
constexpr size_t kHugePage = size_t(2) << 20;

void* host_alloc(size_t nbytes) {
  size_t align = nbytes >= kHugeThreshold ? kHugePage : 64;
  size_t padded = ((nbytes + align - 1) / align) * align;
  if (padded == 0) padded = align;
  void* p = std::aligned_alloc(align, padded);
  if (!p) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  if (align == kHugePage) madvise(p, padded, MADV_HUGEPAGE);
#endif
  return p;
}
}  // namespace

Storage::~Storage() {
  if (!owned || !data) return;
  if (device == Device::CPU) std::free(data);
  else cuda_free(data);
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
