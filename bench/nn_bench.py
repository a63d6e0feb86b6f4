"""The fused neural-network kernels of lamina beside PyTorch's, forward plus
backward, in one process with the same thread count (issue #3's shapes):
conv2d on the layer shapes of WORKLOADS W2 (mnist convnet, batch 128) and W3
(ResNet-20, batch 64), LSTM and GRU (batch 64, length 200, 128 units),
causal attention (batch 32, 4 heads, head dim 32, seq 128 and 512), and
batch norm, layer norm and softmax cross-entropy.

Each row: median of >= 3 repeats of >= `--seconds`, after a warm-up; the ratio
is PyTorch time / lamina time (> 1: lamina is faster). The rate is GFLOP/s
against the fp32 peak estimate for the compute-bound kernels, and GB/s against
a measured large-array add for the memory-bound ones. Convolution rates count
the direct method's FLOPs; lamina runs 3x3 stride-1 float32 convolutions as
Winograd F(4x4, 3x3) or F(2x2, 3x3), which multiplies 4x or 2.25x less, so
those rows can pass 100% of the peak.
Run: python bench/nn_bench.py [--threads 2] [--seconds 1]
"""

import argparse
import statistics
import time

import numpy as np

import lamina
from lamina import ops
from peak import peak_gflops

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # PyTorch is only a comparison, never a dependency
    torch = None


def timeit(fn, seconds):
    fn()
    runs = []
    for _ in range(3):
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds or n == 0:
            fn()
            n += 1
        runs.append((time.perf_counter() - t0) / n)
    return statistics.median(runs)


def leaf(a):
    t = lamina.tensor(a)
    t.requires_grad = True
    return t


def tleaf(a):
    return torch.tensor(a).requires_grad_()


def clear(*ts):
    for t in ts:
        t.grad = None


def conv_case(N, H, C, Fo, rng):
    x = rng.standard_normal((N, H, H, C), dtype=np.float32)
    w = rng.standard_normal((3, 3, C, Fo), dtype=np.float32) * 0.1
    lx, lw = leaf(x), leaf(w)

    def lam():
        ops.sum(ops.conv(lx, lw, padding="same")).backward()
        clear(lx, lw)

    tor = None
    if torch:
        tx = tleaf(x.transpose(0, 3, 1, 2).copy())
        tw = tleaf(w.transpose(3, 2, 0, 1).copy())

        def tor():
            F.conv2d(tx, tw, padding=1).sum().backward()
            clear(tx, tw)

    flops = 3 * 2 * N * H * H * 9 * C * Fo  # forward + two backward GEMMs
    return f"conv2d {N}x{H}x{H}x{C}->{Fo}", lam, tor, flops


def rnn_case(cell, rng):
    B, T, I, U = 64, 200, 128, 128
    G = 4 if cell == "lstm" else 3
    x = rng.standard_normal((B, T, I), dtype=np.float32)
    k = rng.standard_normal((I, G * U), dtype=np.float32) * 0.05
    rk = rng.standard_normal((U, G * U), dtype=np.float32) * 0.05
    lx, lk, lrk = lamina.tensor(x), leaf(k), leaf(rk)
    lb = leaf(np.zeros(G * U, np.float32))
    lrb = leaf(np.zeros(G * U, np.float32)) if cell == "gru" else None

    def lam():
        seq, h, _ = ops.rnn(cell, lx, lk, lrk, lb, lrb)
        ops.sum(h).backward()
        clear(lk, lrk, lb)

    tor = None
    if torch:
        m = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(I, U, batch_first=True)
        tx = torch.tensor(x)

        def tor():
            _, hs = m(tx)
            (hs[0] if cell == "lstm" else hs).sum().backward()
            m.zero_grad(set_to_none=True)

    flops = 3 * 2 * B * T * (I + U) * G * U
    return f"{cell} 64x200x128", lam, tor, flops


def attention_case(T, rng):
    B, N, D = 32, 4, 32
    q, k, v = (rng.standard_normal((B, T, N, D), dtype=np.float32) for _ in range(3))
    lq, lk, lv = leaf(q), leaf(k), leaf(v)

    def lam():
        ops.sum(ops.dot_product_attention(lq, lk, lv, is_causal=True)).backward()
        clear(lq, lk, lv)

    tor = None
    if torch:
        tq, tk, tv = (tleaf(a.transpose(0, 2, 1, 3).copy()) for a in (q, k, v))

        def tor():
            F.scaled_dot_product_attention(tq, tk, tv, is_causal=True).sum().backward()
            clear(tq, tk, tv)

    flops = 3.5 * 2 * 2 * B * N * T * T * D / 2  # causal half; bwd ~2.5x fwd
    return f"attention causal T={T}", lam, tor, flops


def norm_cases(rng):
    x = rng.standard_normal((64 * 32 * 32, 16), dtype=np.float32)
    g, b = np.ones(16, np.float32), np.zeros(16, np.float32)
    lx, lg, lb = leaf(x), leaf(g), leaf(b)
    cases = []

    def bn():
        ops.sum(ops.batch_norm_train(lx, lg, lb, epsilon=1e-5)[0]).backward()
        clear(lx, lg, lb)

    def ln():
        ops.sum(ops.layer_normalization(lx, lg, lb, epsilon=1e-5)).backward()
        clear(lx, lg, lb)

    z = rng.standard_normal((4096, 1000), dtype=np.float32)
    y = rng.integers(0, 1000, 4096)
    lz = leaf(z)

    def xent():
        ops.mean(ops.sparse_categorical_crossentropy(y, lz, from_logits=True)).backward()
        clear(lz)

    tbn = tln = txe = None
    if torch:
        tx, tg, tb = tleaf(x), tleaf(g), tleaf(b)
        tz, ty = tleaf(z), torch.tensor(y)

        def tbn():
            F.batch_norm(tx, None, None, tg, tb, training=True, eps=1e-5).sum().backward()
            clear(tx, tg, tb)

        def tln():
            F.layer_norm(tx, (16,), tg, tb, eps=1e-5).sum().backward()
            clear(tx, tg, tb)

        def txe():
            F.cross_entropy(tz, ty).backward()
            clear(tz)

    # Rates of the memory-bound kernels in bytes that must move: forward reads
    # x and writes y, backward reads x and dy and writes dx (5 passes); the
    # loss reads the logits forward and reads them and writes dz backward.
    cases.append(("batch_norm 65536x16", bn, tbn, Bytes(5 * x.nbytes)))
    cases.append(("layer_norm 65536x16", ln, tln, Bytes(5 * x.nbytes)))
    cases.append(("softmax xent 4096x1000", xent, txe, Bytes(3 * z.nbytes)))
    return cases


class Bytes(float):
    """A case's work in bytes moved (not flops)."""


def stream_gbs(seconds):
    """Memory bandwidth lamina reaches on a large elementwise add (two 64 MB
    reads, one write): the ceiling for the memory-bound kernels (their 4-16 MB
    arrays partly fit in the caches, so they can pass it)."""
    host = np.ones(1 << 24, np.float32)
    a, b = lamina.tensor(host), lamina.tensor(host)
    return 3 * host.nbytes / timeit(lambda: ops.add(a, b), seconds) / 1e9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=1.0)
    args = ap.parse_args()
    lamina.set_num_threads(args.threads)
    if torch:
        torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    cases = [conv_case(128, 28, 1, 32, rng), conv_case(128, 13, 32, 64, rng),
             conv_case(64, 32, 16, 16, rng), conv_case(64, 16, 32, 32, rng),
             conv_case(64, 8, 64, 64, rng), rnn_case("lstm", rng), rnn_case("gru", rng),
             attention_case(128, rng), attention_case(512, rng)] + norm_cases(rng)
    print(f"lamina {lamina.__version__} vs torch {torch.__version__ if torch else '(not installed)'}"
          f"  threads={args.threads}  (forward + backward)")
    peak = peak_gflops(args.threads, 3.57)
    bw = stream_gbs(args.seconds)
    print(f"fp32 peak estimate {peak:.0f} GFLOP/s (bench/peak.py); large-array add {bw:.0f} GB/s")
    print("(conv rates: direct-method FLOPs; lamina's 3x3 convolutions are Winograd, 2.25-4x fewer"
          " multiplies, so they can pass 100%)")
    print(f"{'kernel':<28}{'lamina ms':>11}{'torch ms':>10}{'speedup':>9}{'lamina rate':>14}{'of peak':>9}")
    for name, lam, tor, work in cases:
        a = timeit(lam, args.seconds) * 1e3
        b = timeit(tor, args.seconds) * 1e3 if tor else None
        if isinstance(work, Bytes):
            rate, frac = f"{work / a / 1e6:8.1f} GB/s", f"{100 * work / a / 1e6 / bw:8.0f}%"
        else:
            rate, frac = f"{work / a / 1e6:7.1f} GFLOP/s", f"{100 * work / a / 1e6 / peak:8.0f}%"
        sp = f"{b / a:8.2f}x" if b else f"{'-':>9}"
        bt = f"{b:10.2f}" if b else f"{'-':>10}"
        print(f"{name:<28}{a:11.2f}{bt}{sp}{rate:>14}{frac:>9}", flush=True)


if __name__ == "__main__":
    main()
