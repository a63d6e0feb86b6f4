#include <array>
#include <stdexcept>
#include <string>

#include "capture_tables.h"
#include "cpu/nn_kernels.h"
#include "lamina/capture.h"

namespace lamina {

namespace {
const NnBackend kCpuNn{cpu::im2col,         cpu::col2im,        cpu::max_pool,
                       cpu::max_pool_backward, cpu::avg_pool,   cpu::avg_pool_backward,
                       cpu::row_norm,       cpu::row_norm_backward, cpu::batch_norm,
                       cpu::batch_norm_backward, cpu::dropout,  cpu::sparse_xent,
                       cpu::sparse_xent_backward, cpu::rnn_forward, cpu::rnn_backward,
                       cpu::attention, cpu::attention_backward,
                       cpu::bias_act, cpu::bias_act_backward,
                       cpu::conv2d, cpu::conv2d_backward};
std::array<const NnBackend*, 2> g_nn{&kCpuNn, nullptr};
}  // namespace

void register_nn_backend(Device device, const NnBackend* b) { g_nn[static_cast<int>(device)] = b; }

const NnBackend& nn_backend(Device device, const char* op) {
  const NnBackend* b = g_nn[static_cast<int>(device)];
  if (!b) {
    throw std::runtime_error(std::string("[") + op + "] has no kernel for device '" +
                             device_name(device) + "' in this build");
  }
  if (device == Device::CPU && active_capture()) return recording_nn_backend(*b);
  return *b;
}

}  // namespace lamina
