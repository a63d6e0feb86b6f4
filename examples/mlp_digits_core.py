"""Train a two-layer MLP on scikit-learn's 8x8 handwritten digits with lamina's
core only: tensors, ops and reverse-mode autograd (no layers yet).

    python examples/mlp_digits_core.py [--epochs 30] [--quick]

Prints a line per epoch, the test accuracy, and saves the weights to
mlp_digits_core.npz (written to a temporary file, then renamed).
"""

import argparse
import os
import tempfile
import time

import numpy as np

import lamina
from lamina import ops


def load_digits():
    try:
        from sklearn.datasets import load_digits as sk_load
    except ImportError as e:
        raise SystemExit("this example needs scikit-learn: pip install scikit-learn") from e
    d = sk_load()
    x = (d.data / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(x))
    x, y = x[order], y[order]
    n_test = len(x) // 5
    return (x[n_test:], y[n_test:]), (x[:n_test], y[:n_test])


def glorot(shape, seed):
    limit = np.sqrt(6.0 / (shape[0] + shape[1]))
    w = lamina.random.uniform(shape, -limit, limit, seed=seed)
    w.requires_grad = True
    return w


def forward(params, x):
    w1, b1, w2, b2 = params
    h = ops.relu(x @ w1 + b1)
    return h @ w2 + b2


def loss_fn(logits, y):
    logp = ops.log_softmax(logits, axis=-1)
    picked = ops.take_along_axis(logp, ops.expand_dims(y, -1), axis=-1)
    return -ops.mean(picked)


def accuracy(params, x, y):
    with lamina.no_grad():
        pred = ops.argmax(forward(params, lamina.tensor(x)), axis=-1).numpy()
    return float((pred == y).mean())


def save_weights(params, path):
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        np.savez(f, **{f"p{i}": p.numpy() for i, p in enumerate(params)})
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--quick", action="store_true", help="3 epochs, for tests")
    ap.add_argument("--out", default="mlp_digits_core.npz")
    args = ap.parse_args()
    epochs = 3 if args.quick else args.epochs

    lamina.random.set_seed(0)
    (x_tr, y_tr), (x_te, y_te) = load_digits()
    params = [glorot((64, 128), 1), lamina.zeros((128,)), glorot((128, 10), 2), lamina.zeros((10,))]
    for p in params[1::2]:
        p.requires_grad = True
    velocity = [lamina.zeros(p.shape) for p in params]
    rng = np.random.default_rng(0)
    t0 = time.time()
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(x_tr))
        total = 0.0
        for i in range(0, len(order), args.batch_size):
            idx = order[i : i + args.batch_size]
            xb, yb = lamina.tensor(x_tr[idx]), lamina.tensor(y_tr[idx])
            with lamina.GradientTape() as tape:
                loss = loss_fn(forward(params, xb), yb)
            grads = tape.gradient(loss, params)
            with lamina.no_grad():  # SGD with momentum 0.9, in place
                for p, g, v in zip(params, grads, velocity):
                    ops.assign(v, v * 0.9 - g * args.lr)
                    ops.assign(p, p + v)
            total += float(loss) * len(idx)
        print(f"epoch {epoch:3d}/{epochs}  loss {total / len(x_tr):.4f}  "
              f"val_acc {accuracy(params, x_te, y_te):.4f}  {time.time() - t0:.1f}s", flush=True)
    acc = accuracy(params, x_te, y_te)
    save_weights(params, args.out)
    print(f"test accuracy: {acc:.4f}  (saved {args.out})")


if __name__ == "__main__":
    main()
