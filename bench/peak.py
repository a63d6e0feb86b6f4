"""The CPU's fp32 peak estimate shared by the benchmarks."""

import os


def peak_gflops(threads, ghz):
    """fp32 FMA peak = cores x flop/cycle x GHz.

    flop/cycle = 2 FMA pipes x vector lanes x 2: 64 with AVX-512 (16 lanes),
    32 with AVX2. The clock is the sustained all-core clock of a
    register-only FMA loop (3.57 GHz on the reference EPYC; --ghz for another
    machine), not /proc/cpuinfo's boost figure. A CPU that splits 512-bit
    ops into two 256-bit halves (Zen 4) really has half this peak."""
    flags = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
    per_cycle = 64 if "avx512f" in flags else 32
    return threads * per_cycle * ghz
