"""The reference workloads (../shared/WORKLOADS.md, W0-W5): lamina against
PyTorch eager (and torch.compile with --compile) in one run, same models,
shapes and optimizers, same thread count. Each measurement runs in a fresh
subprocess so its peak RSS is its own; the rate is the median of --repeats
repeats of at least --seconds each, after a warm-up.

    python bench/run.py [--threads 2] [--seconds 3] [--repeats 3] [--only W1,W4]
                        [--compile] [--json out.json]
    python bench/run.py --scaling      # the table at 1 and 2 threads, and W1/W2
                                       # throughput at batch 1, 8, 32, 128, 512

Prints: workload, measure, lamina, PyTorch, ratio (lamina / PyTorch; > 1 is
lamina faster, or lamina smaller for memory), peak RSS of each.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# (id, workload kind, measure, batch, unit)
MEASURES = [
    ("W0", "sgemm", "matmul", 1024, "GFLOP/s"),
    ("W0", "sgemm", "matmul", 256, "GFLOP/s"),
    ("W1", "mlp", "train", 128, "samples/s"),
    ("W1", "mlp", "infer", 1024, "samples/s"),
    ("W1", "mlp", "train_step_b1", 1, "ms"),
    ("W1", "mlp", "infer_b1", 1, "ms"),
    ("W2", "convnet", "train", 128, "samples/s"),
    ("W2", "convnet", "infer", 1024, "samples/s"),
    ("W3", "resnet", "train", 64, "samples/s"),
    ("W4", "lstm", "train", 64, "samples/s"),
    ("W4", "gru", "train", 64, "samples/s"),
    ("W5", "gpt", "train", 32, "tokens/s"),
]


def child(spec, seconds, repeats, threads):
    """Runs one measurement in this process; prints one JSON line."""
    wid, kind, measure, batch, framework = spec.split(":")
    batch = int(batch)
    sys.path.insert(0, HERE)
    import numpy as np

    import workloads as W

    rng = np.random.default_rng(0)
    if kind == "sgemm":
        return _time(*_sgemm(framework, batch, threads, rng), seconds, repeats, kind)
    if framework == "lamina":
        import lamina

        lamina.set_num_threads(threads)
        build = {"train": lambda: W.lamina_train(kind, batch, rng),
                 "infer": lambda: W.lamina_infer(kind, batch, rng),
                 "train_step_b1": lambda: W.lamina_train_step(kind, rng),
                 "infer_b1": lambda: W.lamina_infer(kind, 1, rng)}[measure]
    else:
        import torch

        torch.set_num_threads(threads)
        compiled = framework == "torch_compile"
        build = {"train": lambda: W.torch_train(kind, batch, rng, compiled=compiled),
                 "infer": lambda: W.torch_infer(kind, batch, rng, compiled=compiled),
                 "train_step_b1": lambda: W.torch_train_step(kind, rng),
                 "infer_b1": lambda: W.torch_infer(kind, 1, rng, compiled=compiled)}[measure]
    return _time(*build(), seconds, repeats, kind)


def _sgemm(framework, n, threads, rng):
    """W0: one n x n x n float32 product; "items" are its FLOPs."""
    import numpy as np

    a, b = (rng.standard_normal((n, n)).astype(np.float32) for _ in range(2))
    if framework == "lamina":
        import lamina

        lamina.set_num_threads(threads)
        ta, tb = lamina.tensor(a), lamina.tensor(b)
        return (lambda: lamina.ops.matmul(ta, tb)), 2 * n ** 3
    import torch

    torch.set_num_threads(threads)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    if framework == "torch_compile":
        return None, 0  # nothing to compile in one matmul
    return (lambda: torch.matmul(ta, tb)), 2 * n ** 3


def _time(fn, n, seconds, repeats, kind):
    if fn is None:
        print(json.dumps({"error": "not measured"}))
        return
    fn()  # warm-up (and compilation)
    fn()
    times = []
    for _ in range(repeats):
        k, t0 = 0, time.perf_counter()
        while k == 0 or time.perf_counter() - t0 < seconds:
            fn()
            k += 1
        times.append((time.perf_counter() - t0) / k)
    per_call = statistics.median(times)
    if kind == "gpt":
        n *= 128  # tokens
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"per_call_s": per_call, "items": n, "rss_mb": rss_mb}))


def measure(spec, args):
    cmd = [sys.executable, __file__, "--child", spec, "--seconds", str(args.seconds),
           "--repeats", str(args.repeats), "--threads", str(args.threads)]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    if r.returncode != 0:
        return {"error": (r.stderr.strip().splitlines() or ["failed"])[-1][:120]}
    return json.loads(r.stdout.strip().splitlines()[-1])


def value(res, unit):
    if "error" in res:
        return None
    if unit == "ms":
        return res["per_call_s"] * 1e3
    scale = 1e-9 if unit == "GFLOP/s" else 1.0
    return res["items"] / res["per_call_s"] * scale


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--child")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", help="comma-separated workload ids, e.g. W1,W4")
    ap.add_argument("--compile", action="store_true", help="also time torch.compile")
    ap.add_argument("--json")
    ap.add_argument("--scaling", action="store_true",
                    help="the table at 1 and 2 threads, then W1/W2 across batch sizes")
    args = ap.parse_args()
    if args.child:
        return child(args.child, args.seconds, args.repeats, args.threads)
    if args.scaling:
        return scaling(args)
    rows = run_table(args, MEASURES)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": args.threads, "rows": rows}, f, indent=1)


def frameworks_of(args):
    try:
        import torch  # noqa: F401
    except ImportError:
        return ["lamina"]
    return ["lamina", "torch"] + (["torch_compile"] if args.compile else [])


def run_table(args, measures):
    frameworks = frameworks_of(args)
    only = set(args.only.split(",")) if args.only else None
    rows = []
    compiled = "torch_compile" in frameworks
    print(f"threads={args.threads}  {args.repeats} repeats x >= {args.seconds}s  "
          f"(ratio = lamina / PyTorch rate; for ms rows PyTorch / lamina"
          f"{'; against the faster of eager and torch.compile' if compiled else ''})")
    hdr = (f"{'id':<4}{'workload':<9}{'measure':<15}{'unit':<10}{'batch':>6}{'lamina':>10}{'torch':>10}"
           + (f"{'compile':>10}" if compiled else "")
           + f"{'ratio':>8}{'lamina MB':>11}{'torch MB':>10}")
    print(hdr)
    print("-" * len(hdr))
    for wid, kind, meas, batch, unit in measures:
        if only and wid not in only:
            continue
        res = {fw: measure(f"{wid}:{kind}:{meas}:{batch}:{fw}", args) for fw in frameworks}
        vals = {fw: value(r, unit) for fw, r in res.items()}
        lam, tor, comp = vals.get("lamina"), vals.get("torch"), vals.get("torch_compile")
        # the faster PyTorch: lower time for ms rows, higher rate otherwise
        best = [v for v in (tor, comp) if v]
        best = (min(best) if unit == "ms" else max(best)) if best else None
        ratio = None
        if lam and best:
            ratio = best / lam if unit == "ms" else lam / best
        digits = 3 if unit == "ms" else 1
        fmt = lambda v: f"{v:10.{digits}f}" if v is not None else f"{'err':>10}"  # noqa: E731
        mb = lambda fw: f"{res[fw]['rss_mb']:.0f}" if fw in res and "rss_mb" in res[fw] else "-"  # noqa: E731
        comp_cell = (fmt(comp) if comp is not None else f"{'-':>10}") if compiled else ""
        print(f"{wid:<4}{kind:<9}{meas:<15}{unit:<10}{batch:>6}{fmt(lam)}{fmt(tor)}{comp_cell}"
              f"{(f'{ratio:7.2f}x' if ratio else '       -')}{mb('lamina'):>11}{mb('torch'):>10}",
              flush=True)
        for fw, r in res.items():
            if "error" in r:
                print(f"    {fw}: {r['error']}")
        if unit == "GFLOP/s" and lam:
            sys.path.insert(0, HERE)
            from peak import peak_gflops

            peak = peak_gflops(args.threads, 3.57)
            print(f"    lamina at {100 * lam / peak:.0f}% of the fp32 peak estimate ({peak:.0f} GFLOP/s,"
                  " method in bench/peak.py)")
        rows.append({"id": wid, "workload": kind, "measure": meas, "batch": batch, "unit": unit,
                     "threads": args.threads, "results": res, "values": vals, "ratio": ratio})
    return rows


def scaling(args):
    """How cost grows with the work: the whole table at 1 and 2 threads, then
    W1/W2 training and inference throughput across batch sizes."""
    rows = []
    for threads in (1, 2):
        args.threads = threads
        rows += run_table(args, MEASURES)
        print()
    args.threads = 2
    sweep = [(wid, kind, meas, b, "samples/s") for wid, kind in (("W1", "mlp"), ("W2", "convnet"))
             for meas in ("train", "infer") for b in (1, 8, 32, 128, 512)]
    rows += run_table(args, sweep)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
