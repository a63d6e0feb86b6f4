#pragma once
// Fused optimizer steps: every parameter updated in place in one call, with
// no autograd record, as the optimizers' inner loop (python/lamina/optimizers).
#include <string>
#include <vector>

#include "lamina/tensor.h"

namespace lamina {

struct AdamConfig {
  double lr, beta1, beta2, epsilon, weight_decay;
  int64_t step;  // 1-based: the iteration this update makes
};

// m, v (and vhat when amsgrad; else empty) are the slots of each parameter.
void adam_update(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                 const std::vector<Tensor>& m, const std::vector<Tensor>& v,
                 const std::vector<Tensor>& vhat, const AdamConfig& cfg);

// The same with the step's hyper-parameters in a float64 tensor [lr, beta1,
// beta2, epsilon, weight_decay, step], read when the update runs: a captured
// step records the update and a replay reads the values written since.
void adam_update(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                 const std::vector<Tensor>& m, const std::vector<Tensor>& v,
                 const std::vector<Tensor>& vhat, const Tensor& hyper);

// momentum slots may be empty when momentum == 0.
void sgd_update(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                const std::vector<Tensor>& momentums, double lr, double momentum, bool nesterov,
                double weight_decay);
// hyper: float64 [lr, momentum, weight_decay], read when the update runs.
void sgd_update(const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                const std::vector<Tensor>& momentums, bool nesterov, const Tensor& hyper);

// RMSprop, Adagrad, Adadelta, Adamax, Nadam or Lion (`kind`, lower case) over
// all parameters in one call: slots[j][i] is slot j of parameter i (an empty
// slot list when the optimizer's options leave that slot out), `hyper` the
// step's hyper-parameters in the order kernels/optim.h documents.
void optimizer_update(const std::string& kind, const std::vector<Tensor>& params,
                      const std::vector<Tensor>& grads,
                      const std::vector<std::vector<Tensor>>& slots,
                      const std::vector<double>& hyper);
// hyper as a 1-D float64 tensor, read when the update runs.
void optimizer_update(const std::string& kind, const std::vector<Tensor>& params,
                      const std::vector<Tensor>& grads,
                      const std::vector<std::vector<Tensor>>& slots, const Tensor& hyper);

}  // namespace lamina
