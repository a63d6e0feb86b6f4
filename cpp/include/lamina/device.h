#pragma once
#include <cstdint>
#include <string>

namespace lamina {

enum class Device : uint8_t { CPU, CUDA };

inline const char* device_name(Device d) { return d == Device::CPU ? "cpu" : "cuda"; }
Device device_from_name(const std::string& name);

// True when this build has CUDA kernels and a GPU answers.
bool cuda_available();
bool cuda_built();

}  // namespace lamina
