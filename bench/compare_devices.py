"""CPU vs GPU table from the native benchmark (bench/cpp/bench_ops.cpp).

Runs `lamina_bench` (built with -DLAMINA_BUILD_BENCH=ON; add -DLAMINA_CUDA=ON
for the GPU half) and prints, per op: CPU and GPU median time, the GPU's
speed-up, and the CPU's achieved rate next to this CPU's fp32 peak estimate
(see core_bench.peak_gflops for the method). Without a GPU it prints the CPU
half and says why the GPU half was not run.

    python bench/compare_devices.py [--bench build/bench/lamina_bench] [--seconds 1]
        [--threads 2] [--json out.json] [--quick]
"""

import argparse
import glob
import json
import os
import subprocess
import sys

from peak import peak_gflops

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def find_bench(path):
    if path:
        return path
    found = sorted(glob.glob(os.path.join(ROOT, "build", "*", "lamina_bench")), key=os.path.getmtime)
    if not found:
        sys.exit("no lamina_bench found: configure with -DLAMINA_BUILD_BENCH=ON and build it, "
                 "or pass --bench PATH")
    return found[-1]


def run_bench(exe, args):
    cmd = [exe, "--seconds", str(args.seconds), "--threads", str(args.threads)]
    cmd += ["--quick"] if args.quick else []
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def table(rows, peak):
    by_op, notes = {}, []
    for r in rows:
        if "skipped" in r or "error" in r:
            notes.append(r.get("skipped") or f"{r['op']}: {r['error']}")
            continue
        by_op.setdefault(r["op"], {})[r["device"]] = r
    lines = [f"{'op':<46}{'cpu ms':>10}{'gpu ms':>10}{'gpu/cpu':>9}  cpu rate"]
    for op, d in by_op.items():
        cpu, gpu = d.get("cpu"), d.get("cuda")
        c = f"{cpu['median_ms']:10.3f}" if cpu else f"{'-':>10}"
        g = f"{gpu['median_ms']:10.3f}" if gpu else f"{'-':>10}"
        s = f"{cpu['median_ms'] / gpu['median_ms']:8.1f}x" if cpu and gpu else f"{'-':>9}"
        rate = ""
        if cpu and "gflops" in cpu:
            rate = f"{cpu['gflops']:.1f} GFLOP/s ({100 * cpu['gflops'] / peak:.0f}% of peak)"
        elif cpu:
            rate = f"{cpu['gbytes_per_s']:.1f} GB/s"
        lines.append(f"{op:<46}{c}{g}{s}  {rate}")
    if any(op.startswith("conv2d") for op in by_op):
        notes.append("conv2d rates count the direct method's FLOPs; the CPU runs 3x3 stride-1 "
                     "float32 convolutions as Winograd (2.25-4x fewer multiplies), so they can "
                     "pass 100% of the peak")
    return lines + [f"note: {n}" for n in notes]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench", default=None, help="path of the lamina_bench program")
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ghz", type=float, default=3.57, help="sustained all-core clock for the peak")
    ap.add_argument("--quick", action="store_true", help="small shapes: a smoke run")
    ap.add_argument("--json", default=None, help="also write the raw rows here")
    args = ap.parse_args()
    rows = run_bench(find_bench(args.bench), args)
    peak = peak_gflops(args.threads, args.ghz)
    print(f"lamina native ops, threads={args.threads}, CPU fp32 peak estimate {peak:.0f} GFLOP/s")
    print("\n".join(table(rows, peak)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": args.threads, "peak_gflops": peak, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
