#include <array>
#include <stdexcept>

#include "capture_tables.h"
#include "cpu/kernels.h"
#include "lamina/capture.h"

namespace lamina {

namespace {
const Backend kCpu{cpu::copy,   cpu::fill,   cpu::unary,  cpu::binary,    cpu::where,
                   cpu::reduce, cpu::matmul, cpu::gather, cpu::index_add, cpu::random};
std::array<const Backend*, 2> g_backends{&kCpu, nullptr};
}  // namespace

void register_backend(Device device, const Backend* b) {
  g_backends[static_cast<int>(device)] = b;
}

const Backend& backend(Device device) {
  const Backend* b = g_backends[static_cast<int>(device)];
  if (!b) {
    throw std::runtime_error(std::string("device '") + device_name(device) +
                             "' has no kernels: lamina was built without CUDA "
                             "(rebuild with -Ccmake.define.LAMINA_CUDA=ON)");
  }
  if (device == Device::CPU && active_capture()) return recording_backend(*b);
  return *b;
}

}  // namespace lamina
