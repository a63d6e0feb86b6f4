"""`Progbar`: Keras-style progress bar.

verbose=1 on a terminal (or in Jupyter, whose stdout is no tty but honours
carriage returns) redraws one line in place; verbose=1 when stdout is not a
terminal prints one summary line when the bar finishes (no stream of partial
lines in log files); verbose=2 prints one line when it finishes.
"""

import math
import os
import sys
import time

import numpy as np

from lamina.utils import io_utils


def _dynamic_display():
    # Unlike Keras, which also redraws whenever `posix` is imported (always on
    # Linux), a pipe or a log file gets plain lines.
    return "ipykernel" in sys.modules or io_utils.is_tty() or "PYCHARM_HOSTED" in os.environ


class Progbar:
    """Displays a progress bar.

    Args:
        target: total number of steps expected, None if unknown.
        width: bar width on screen.
        verbose: 0 (silent), 1 (bar), 2 (one line at the end).
        stateful_metrics: names of metrics displayed as-is (others are averaged).
        interval: minimum seconds between redraws.
        unit_name: display name for steps ("step").
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None, unit_name="step"):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stateful_metrics = set(stateful_metrics) if stateful_metrics else set()
        self._dynamic_display = _dynamic_display()
        self._seen_so_far = 0
        self._values = {}
        self._values_order = []
        self._start = time.time()
        self._last_update = 0
        self._time_after_first_step = None
        self._prev_total_width = 0

    def update(self, current, values=None, finalize=None):
        """Updates the bar to step `current`; `values` is a list of (name, value)."""
        if finalize is None:
            finalize = False if self.target is None else current >= self.target
        for k, v in values or []:
            if k not in self._values_order:
                self._values_order.append(k)
            if k not in self.stateful_metrics:
                if finalize:
                    self._values[k] = [v, 1]
                else:
                    base = max(current - self._seen_so_far, 1)
                    if k not in self._values:
                        self._values[k] = [v * base, base]
                    else:
                        self._values[k][0] += v * base
                        self._values[k][1] += base
            else:
                self._values[k] = [v, 1]
        self._seen_so_far = current
        now = time.time()
        time_per_unit = self._estimate_step_duration(current, now)

        if self.verbose == 1 and self._dynamic_display:
            if now - self._last_update < self.interval and not finalize:
                return
            special = 0
            message = "\b" * self._prev_total_width + "\r"
            if self.target is not None and self.target > 0:
                numdigits = int(math.log10(self.target)) + 1
                bar = f"\x1b[1m{current:{numdigits}d}/{self.target}\x1b[0m "
                special += 8
                prog_width = int(self.width * float(current) / self.target)
                if prog_width > 0:
                    bar += f"\33[32m{'━' * prog_width}\x1b[0m"
                    special += 9
                bar += f"\33[37m{'━' * (self.width - prog_width)}\x1b[0m"
                special += 9
            else:
                bar = "%7d/Unknown" % current
            message += bar
            if self.target is not None and self.target > 0 and not finalize:
                eta = time_per_unit * (self.target - current)
                if eta > 3600:
                    eta_format = "%d:%02d:%02d" % (eta // 3600, (eta % 3600) // 60, eta % 60)
                elif eta > 60:
                    eta_format = "%d:%02d" % (eta // 60, eta % 60)
                else:
                    eta_format = "%ds" % eta
                info = f" \x1b[1m{eta_format}\x1b[0m"
            else:
                info = f" \x1b[1m{now - self._start:.0f}s\x1b[0m"
            special += 8
            info += self._format_time(time_per_unit, self.unit_name)
            info += self._format_values()
            message += info
            total_width = len(bar) + len(info) - special
            if self._prev_total_width > total_width:
                message += " " * (self._prev_total_width - total_width)
            if finalize:
                message += "\n"
            io_utils.print_msg(message, line_break=False)
            self._prev_total_width = total_width
        elif self.verbose in (1, 2):
            if finalize:
                if self.target is not None and self.target > 0:
                    numdigits = int(math.log10(self.target)) + 1
                    count = f"{current:{numdigits}d}/{self.target}"
                else:
                    count = f"{current}/Unknown"
                info = f"{count} - {now - self._start:.0f}s -{self._format_time(time_per_unit, self.unit_name)}"
                info += self._format_values()
                io_utils.print_msg(info)
        self._last_update = now

    def _format_values(self):
        info = ""
        for k in self._values_order:
            info += f" - {k}:"
            value, count = self._values[k]
            if not isinstance(value, float):
                value = float(np.mean(value))
            avg = value / max(1, count)
            if abs(avg) > 1e-3:
                info += f" {avg:.4f}"
            else:
                info += f" {avg:.4e}"
        return info

    def add(self, n, values=None):
        self.update(self._seen_so_far + n, values)

    def _format_time(self, time_per_unit, unit_name):
        if time_per_unit >= 1 or time_per_unit == 0:
            return f" {time_per_unit:.0f}s/{unit_name}"
        if time_per_unit >= 1e-3:
            return f" {time_per_unit * 1000.0:.0f}ms/{unit_name}"
        return f" {time_per_unit * 1000000.0:.0f}us/{unit_name}"

    def _estimate_step_duration(self, current, now):
        if current:
            if self._time_after_first_step is not None and current > 1:
                time_per_unit = (now - self._time_after_first_step) / (current - 1)
            else:
                time_per_unit = (now - self._start) / current
            if current == 1:
                self._time_after_first_step = now
            return time_per_unit
        return 0
