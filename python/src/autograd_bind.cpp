// Autograd and runtime controls: backward, grad mode, threads, build info.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "convert.h"
#include "lamina/autograd.h"
#include "lamina/threads.h"

namespace lamina {
std::string blas_name();
}

namespace lamina::py {

void init_autograd(nb::module_& m) {
  m.def("backward", [](const Tensor& root, std::optional<Tensor> grad, bool retain_graph) {
    nb::gil_scoped_release release;
    backward(root, grad ? *grad : Tensor(), retain_graph);
  }, nb::arg("tensor"), nb::arg("gradient") = nb::none(), nb::arg("retain_graph") = false);
  m.def("grad", [](const Tensor& root, std::vector<Tensor> inputs, std::optional<Tensor> grad,
                   bool retain_graph) {
    std::vector<Tensor> gs;
    {
      nb::gil_scoped_release release;
      gs = backward(root, grad ? *grad : Tensor(), retain_graph, inputs);
    }
    nb::list out;
    for (auto& g : gs) out.append(g.defined() ? nb::cast(g) : nb::none());
    return out;
  }, nb::arg("target"), nb::arg("sources"), nb::arg("output_gradient") = nb::none(),
     nb::arg("retain_graph") = false);
  m.def("is_grad_enabled", &grad_enabled);
  m.def("set_grad_enabled", &set_grad_enabled);
}

void init_runtime(nb::module_& m) {
  m.def("set_num_threads", &set_num_threads, nb::arg("n"));
  m.def("get_num_threads", &get_num_threads);
  m.def("cuda_built", &cuda_built);
  m.def("cuda_available", &cuda_available);
  m.def("blas_name", &blas_name);
#if defined(__clang__)
  m.attr("compiler") = "clang " __clang_version__;
#elif defined(__GNUC__)
  m.attr("compiler") = "gcc " __VERSION__;
#else
  m.attr("compiler") = "unknown";
#endif
}

}  // namespace lamina::py
