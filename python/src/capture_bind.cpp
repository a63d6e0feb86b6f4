// Capture / replay of a kernel program (lamina/capture.h), for the trainer's
// compiled steps: _core.Capture, begin_capture, end_capture.
#include <nanobind/nanobind.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "lamina/capture.h"

namespace nb = nanobind;

namespace lamina::py {

void init_capture(nb::module_& m) {
  nb::class_<CaptureSnapshot>(m, "CaptureSnapshot")
      .def("__eq__", [](const CaptureSnapshot& a, const CaptureSnapshot& b) { return a == b; })
      .def_prop_ro("nbytes", [](const CaptureSnapshot& s) {
        size_t n = 0;
        for (const auto& b : s.buffers) n += b.second.size();
        return n;
      });
  nb::class_<Capture>(m, "Capture")
      .def(nb::init<>())
      .def("replay", &Capture::replay, nb::call_guard<nb::gil_scoped_release>(),
           "Re-runs the recorded kernels on their buffers.")
      .def_prop_ro("tainted", &Capture::tainted)
      .def_prop_ro("why", &Capture::why)
      .def_prop_ro("held_bytes", &Capture::held_bytes)
      .def("__len__", &Capture::size)
      .def_prop_ro("draws", &Capture::draws, "(seed, counter) of each random draw recorded, in order.")
      .def("set_draws", &Capture::set_draws, nb::arg("draws"),
           "The (seed, counter) each recorded draw takes in the next replays.")
      .def("snapshot", &Capture::snapshot, "The bytes of the state buffers (made before the capture).")
      .def("restore", &Capture::restore, nb::arg("snapshot"))
      .def("plan", &Capture::plan, nb::arg("keep"),
           "Moves the buffers the kernels fill (all but `keep`) into one arena shared by "
           "non-overlapping lifetimes; returns its bytes.")
      .def_prop_ro("planned_bytes", &Capture::planned_bytes);
  m.def("begin_capture", &begin_capture, nb::arg("capture"),
        "Records this thread's CPU kernels into `capture` until end_capture().");
  m.def("end_capture", &end_capture);
  m.def("capture_taint", [](const std::string& why) { capture_taint(why.c_str()); }, nb::arg("why"),
        "Marks the active capture (if any) as not replayable, naming why.");
}

}  // namespace lamina::py
