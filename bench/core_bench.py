"""Core kernels of lamina side by side with NumPy and (when installed) PyTorch.

Prints one table: sgemm GFLOP/s at 256^3 and 1024^3 (also as a fraction of
the CPU's fp32 peak), elementwise add/mul/exp in GB/s on 1e6 and 1e7 floats,
a full sum reduction, and the per-call overhead of a tiny `a + b`.

Every row is the median of at least 3 repeats of at least `--seconds` each,
after a warm-up, all in this one process with the same thread count.
Run: python bench/core_bench.py [--threads 2] [--seconds 1] [--json out.json]
"""

import argparse
import json
import os
import statistics
import time

import numpy as np

import lamina
from peak import peak_gflops  # noqa: E402

try:  # optional comparison only; never a dependency of lamina
    import torch
except ImportError:
    torch = None


def direct_sgemm(threads):
    """A caller of the OpenBLAS that lamina vendors, bypassing lamina: the
    "BLAS it calls" baseline for the sgemm rows. None if lamina has no BLAS."""
    import ctypes
    import glob

    libs = glob.glob(os.path.join(os.path.dirname(lamina.__file__), "libscipy_openblas*.so"))
    if not libs:
        import scipy_openblas32  # the build-time copy, when lamina runs from a build tree

        libs = [os.path.join(scipy_openblas32.get_lib_dir(), "libscipy_openblas.so")]
    lib = ctypes.CDLL(libs[0])  # the same library instance lamina uses
    f = lib.scipy_cblas_sgemm
    f.argtypes = [ctypes.c_int] * 6 + [ctypes.c_float, ctypes.c_void_p, ctypes.c_int,
                                       ctypes.c_void_p, ctypes.c_int, ctypes.c_float,
                                       ctypes.c_void_p, ctypes.c_int]

    def call(a, b, c):
        # Threaded only for this call: lamina keeps the shared library at one
        # thread, and leaving it at two would oversubscribe lamina's own rows.
        n = a.shape[0]
        lib.scipy_openblas_set_num_threads(threads)
        f(101, 111, 111, n, n, n, 1.0, a.ctypes.data, n, b.ctypes.data, n, 0.0, c.ctypes.data, n)
        lib.scipy_openblas_set_num_threads(1)

    def restore():
        lib.scipy_openblas_set_num_threads(1)

    return call, restore


def timeit(fn, seconds, repeats=3):
    fn()  # warm-up
    rates = []
    for _ in range(repeats):
        n, t0 = 0, time.perf_counter()
        while True:
            fn()
            n += 1
            dt = time.perf_counter() - t0
            if dt >= seconds:
                break
        rates.append(dt / n)
    return statistics.median(rates)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--json")
    ap.add_argument("--ghz", type=float, default=3.57, help="sustained all-core clock")
    args = ap.parse_args()
    try:  # NumPy's BLAS threads; it would also set lamina's OpenBLAS, so first
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
    except ImportError:
        pass
    lamina.set_num_threads(args.threads)  # lamina's pool; its OpenBLAS back to 1 thread
    if torch is not None:
        torch.set_num_threads(args.threads)
    peak = peak_gflops(args.threads, args.ghz)
    rows = []

    def row(name, unit, work, lam, ref_np, ref_torch, ref_blas=None):
        res = {"name": name, "unit": unit}
        for key, fn in (("lamina", lam), ("numpy", ref_np), ("torch", ref_torch), ("blas", ref_blas)):
            res[key] = work / timeit(fn, args.seconds) if fn else None
        rows.append(res)
        return res

    try:
        blas_call, blas_restore = direct_sgemm(args.threads)
    except (ImportError, OSError, AttributeError):
        blas_call = blas_restore = None

    rng = np.random.default_rng(0)
    for n in (256, 1024):
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        la, lb = lamina.tensor(a), lamina.tensor(b)
        ta, tb = (torch.from_numpy(a), torch.from_numpy(b)) if torch else (None, None)
        c = np.empty((n, n), np.float32)
        direct = (lambda: blas_call(a, b, c)) if blas_call else None
        r = row(f"sgemm {n}^3", "GFLOP/s", 2 * n**3 / 1e9, lambda: la @ lb, lambda: a @ b,
                (lambda: ta @ tb) if torch else None, direct)
        r["peak_fraction"] = r["lamina"] / peak
    if blas_restore:
        blas_restore()

    for n in (10**6, 10**7):
        x = rng.standard_normal(n, dtype=np.float32)
        y = rng.standard_normal(n, dtype=np.float32)
        lx, ly = lamina.tensor(x), lamina.tensor(y)
        tx, ty = (torch.from_numpy(x), torch.from_numpy(y)) if torch else (None, None)
        gb3 = 3 * 4 * n / 1e9  # two reads, one write
        gb2 = 2 * 4 * n / 1e9
        tag = f"1e{len(str(n)) - 1}"
        row(f"add {tag}", "GB/s", gb3, lambda: lx + ly, lambda: x + y,
            (lambda: tx + ty) if torch else None)
        row(f"mul {tag}", "GB/s", gb3, lambda: lx * ly, lambda: x * y,
            (lambda: tx * ty) if torch else None)
        row(f"exp {tag}", "GB/s", gb2, lambda: lamina.ops.exp(lx), lambda: np.exp(x),
            (lambda: torch.exp(tx)) if torch else None)
        row(f"sum {tag}", "GB/s", 4 * n / 1e9, lambda: lamina.ops.sum(lx), lambda: x.sum(),
            (lambda: tx.sum()) if torch else None)

    sa, sb = lamina.tensor(np.ones(4, np.float32)), lamina.tensor(np.ones(4, np.float32))
    na, nb = np.ones(4, np.float32), np.ones(4, np.float32)
    qa, qb = (torch.ones(4), torch.ones(4)) if torch else (None, None)
    r = row("tiny a+b (calls/s)", "Mcalls/s", 1e-6, lambda: sa + sb, lambda: na + nb,
            (lambda: qa + qb) if torch else None)

    print(f"lamina {lamina.__version__}  threads={args.threads}  "
          f"fp32 peak estimate {peak:.0f} GFLOP/s  BLAS: {lamina.build_info()['blas'][:90]}")
    if os.environ.get("OPENBLAS_CORETYPE"):
        print(f"note: OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']} forces OpenBLAS's kernels "
              "(lamina's and NumPy's); unset it to measure the CPU's own")
    hdr = (f"{'kernel':<22}{'unit':>10}{'lamina':>10}{'numpy':>10}{'torch':>10}{'its BLAS':>10}"
           f"{'vs numpy':>10}{'vs torch':>10}{'vs BLAS':>10}")
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        fmt = lambda v: f"{v:10.2f}" if v is not None else f"{'-':>10}"
        rn = r["lamina"] / r["numpy"] if r["numpy"] else None
        rt = r["lamina"] / r["torch"] if r["torch"] else None
        rb = r["lamina"] / r["blas"] if r.get("blas") else None
        line = (f"{r['name']:<22}{r['unit']:>10}{fmt(r['lamina'])}{fmt(r['numpy'])}"
                f"{fmt(r['torch'])}{fmt(r.get('blas'))}")
        for v in (rn, rt, rb):
            line += f"{v:9.2f}x" if v else f"{'-':>10}"
        if "peak_fraction" in r:
            line += f"  ({100 * r['peak_fraction']:.0f}% of peak)"
        print(line)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": args.threads, "peak_gflops": peak, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
