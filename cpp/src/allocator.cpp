// Host memory: 64-byte aligned so every row starts on a cache line and AVX-512
// loads never split. CUDA memory comes from the caching allocator in cuda/.
#include <cstdlib>
#include <new>

#include "lamina/tensor.h"

namespace lamina {

void* cuda_malloc(size_t nbytes);   // defined in cuda/ or in cpu/no_cuda.cpp
void cuda_free(void* p);

std::shared_ptr<Storage> allocate_storage(size_t nbytes, Device device) {
  auto st = std::make_shared<Storage>();
  st->nbytes = nbytes;
  st->device = device;
  size_t padded = ((nbytes + 63) / 64) * 64;
  if (padded == 0) padded = 64;
  if (device == Device::CPU) {
    void* p = std::aligned_alloc(64, padded);
    if (!p) throw std::bad_alloc();
    st->data = p;
    st->keepalive = std::shared_ptr<void>(p, [](void* q) { std::free(q); });
  } else {
    void* p = cuda_malloc(padded);
    st->data = p;
    st->keepalive = std::shared_ptr<void>(p, [](void* q) { cuda_free(q); });
  }
  return st;
}

}  // namespace lamina
