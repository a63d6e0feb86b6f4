// Fused optimizer updates (lamina/optim.h).
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "convert.h"
#include "lamina/optim.h"

namespace lamina::py {

void init_optim(nb::module_& m) {
  m.def("adam_update", [](std::vector<Tensor> params, std::vector<Tensor> grads, std::vector<Tensor> mm,
                          std::vector<Tensor> vv, std::vector<Tensor> vhat, double lr, double beta1,
                          double beta2, double eps, int64_t step, double wd) {
    adam_update(params, grads, mm, vv, vhat, AdamConfig{lr, beta1, beta2, eps, wd, step});
  }, nb::arg("params"), nb::arg("grads"), nb::arg("m"), nb::arg("v"), nb::arg("vhat"),
     nb::arg("learning_rate"), nb::arg("beta_1"), nb::arg("beta_2"), nb::arg("epsilon"),
     nb::arg("step"), nb::arg("weight_decay") = 0.0,
     "Keras Adam/AdamW step over all parameters in place (vhat empty unless amsgrad).");
  m.def("sgd_update", [](std::vector<Tensor> params, std::vector<Tensor> grads,
                         std::vector<Tensor> momentums, double lr, double momentum, bool nesterov,
                         double wd) { sgd_update(params, grads, momentums, lr, momentum, nesterov, wd); },
        nb::arg("params"), nb::arg("grads"), nb::arg("momentums"), nb::arg("learning_rate"),
        nb::arg("momentum"), nb::arg("nesterov"), nb::arg("weight_decay") = 0.0,
        "Keras SGD step over all parameters in place (momentums empty when momentum == 0).");
  // The forms a captured step records: hyper-parameters in a float64 tensor
  // the optimizer rewrites before every step (lamina/optim.h).
  m.def("adam_update",
        nb::overload_cast<const std::vector<Tensor>&, const std::vector<Tensor>&, const std::vector<Tensor>&,
                          const std::vector<Tensor>&, const std::vector<Tensor>&, const Tensor&>(&adam_update),
        nb::arg("params"), nb::arg("grads"), nb::arg("m"), nb::arg("v"), nb::arg("vhat"), nb::arg("hyper"),
        "Adam with hyper = float64 [lr, beta_1, beta_2, epsilon, weight_decay, step], read when it runs.");
  m.def("sgd_update",
        nb::overload_cast<const std::vector<Tensor>&, const std::vector<Tensor>&, const std::vector<Tensor>&,
                          bool, const Tensor&>(&sgd_update),
        nb::arg("params"), nb::arg("grads"), nb::arg("momentums"), nb::arg("nesterov"), nb::arg("hyper"),
        "SGD with hyper = float64 [lr, momentum, weight_decay], read when it runs.");
  m.def("optimizer_update",
        nb::overload_cast<const std::string&, const std::vector<Tensor>&, const std::vector<Tensor>&,
                          const std::vector<std::vector<Tensor>>&, const Tensor&>(&optimizer_update),
        nb::arg("kind"), nb::arg("params"), nb::arg("grads"), nb::arg("slots"), nb::arg("hyper"));
  m.def("optimizer_update",
        nb::overload_cast<const std::string&, const std::vector<Tensor>&, const std::vector<Tensor>&,
                          const std::vector<std::vector<Tensor>>&, const std::vector<double>&>(&optimizer_update), nb::arg("kind"), nb::arg("params"), nb::arg("grads"),
        nb::arg("slots"), nb::arg("hyper"),
        "RMSprop/Adagrad/Adadelta/Adamax/Nadam/Lion step over all parameters in place: "
        "slots[j][i] is slot j of parameter i, hyper as kernels/optim.h documents.");
}

}  // namespace lamina::py
