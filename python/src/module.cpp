// The extension module lamina._core: one init function per area.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>

#include <stdexcept>

#include "lamina/dtype.h"

namespace nb = nanobind;

namespace lamina::py {
void init_tensor(nb::module_& m);
void init_ops(nb::module_& m);
void init_autograd(nb::module_& m);
void init_runtime(nb::module_& m);
void init_nn(nb::module_& m);
void init_optim(nb::module_& m);
void init_capture(nb::module_& m);
}  // namespace lamina::py

NB_MODULE(_core, m) {
  m.doc() = "lamina's compiled core: tensors, ops, autograd";
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const lamina::TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const lamina::ValueError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const lamina::IndexError& e) {
      PyErr_SetString(PyExc_IndexError, e.what());
    }
  });
  lamina::py::init_tensor(m);
  lamina::py::init_ops(m);
  lamina::py::init_autograd(m);
  lamina::py::init_runtime(m);
  lamina::py::init_nn(m);
  lamina::py::init_optim(m);
  lamina::py::init_capture(m);
}
