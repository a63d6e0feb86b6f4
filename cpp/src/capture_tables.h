#pragma once
// The recording kernel tables of capture.cpp, for backend() / nn_backend().
#include "lamina/backend.h"
#include "lamina/nn_backend.h"

namespace lamina {

const Backend& recording_backend(const Backend& real_cpu);
const NnBackend& recording_nn_backend(const NnBackend& real_cpu);

}  // namespace lamina
