// Stubs linked when lamina is built without CUDA, so a CUDA request fails
// with a clear message instead of a link error.
#include <stdexcept>

#include "lamina/device.h"

namespace lamina {

void* cuda_malloc(size_t) {
  throw std::runtime_error("CUDA requested, but lamina was built without CUDA "
                           "(rebuild with -Ccmake.define.LAMINA_CUDA=ON on a machine with nvcc)");
}
void cuda_free(void*) {}
bool cuda_built() { return false; }
bool cuda_available() { return false; }
void cuda_copy_bytes(void*, const void*, size_t, bool, bool) {
  throw std::runtime_error("CUDA requested, but lamina was built without CUDA");
}

}  // namespace lamina
