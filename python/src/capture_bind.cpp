// Capture / replay of a kernel program (lamina/capture.h), for the trainer's
// compiled steps: _core.Capture, begin_capture, end_capture.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>

#include "lamina/capture.h"

namespace nb = nanobind;

namespace lamina::py {

void init_capture(nb::module_& m) {
  nb::class_<Capture>(m, "Capture")
      .def(nb::init<>())
      .def("replay", &Capture::replay, nb::call_guard<nb::gil_scoped_release>(),
           "Re-runs the recorded kernels on their buffers.")
      .def_prop_ro("tainted", &Capture::tainted)
      .def_prop_ro("why", &Capture::why)
      .def_prop_ro("held_bytes", &Capture::held_bytes)
      .def("__len__", &Capture::size);
  m.def("begin_capture", &begin_capture, nb::arg("capture"),
        "Records this thread's CPU kernels into `capture` until end_capture().");
  m.def("end_capture", &end_capture);
}

}  // namespace lamina::py
