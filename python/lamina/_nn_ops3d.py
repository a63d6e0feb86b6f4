"""3-D convolution and pooling (channels_last, rank 5), built from the fused
2-D kernels: the (rows, cols) part runs in one fused 2-D op with the depth
axis folded into the batch (or, for convolutions, the depth taps folded into
the channels), and the depth axis is handled by strided slices, pads and
adds. Every step is a differentiable op, so the backward comes for free.

Called by `lamina._nn_ops` with channels_last tensors and validated tuples.
"""

import numpy as np

from lamina import _core


def _out_len(size, k, s, d, padding):
    keff = d * (k - 1) + 1
    return (size - keff) // s + 1 if padding == "valid" else -(-size // s)


def _check_padding(op, padding):
    if padding not in ("valid", "same"):
        raise ValueError(f"[{op}] padding must be 'valid' or 'same', got {padding!r}")


def check_windows(op, x_shape, window, strides, dilation, padding):
    """Output spatial sizes; raises naming `op` if a window overhangs the input."""
    _check_padding(op, padding)
    out = tuple(_out_len(n, k, s, d, padding) for n, k, s, d in zip(x_shape[1:4], window, strides, dilation))
    if min(out) <= 0:
        raise ValueError(
            f"[{op}] window {tuple(window)} with dilation {tuple(dilation)} is larger than the "
            f"input {tuple(x_shape)} with padding '{padding}'"
        )
    return out


def _pad_depth(x, k, s, d, padding, value=0.0):
    """`x` padded on the depth axis as 'same' asks (TF's split: extra at the end)."""
    if padding == "valid":
        return x, 0
    size = x.shape[1]
    total = max((_out_len(size, k, s, d, padding) - 1) * s + d * (k - 1) + 1 - size, 0)
    if total == 0:
        return x, 0
    left = total // 2
    pads = [(0, 0), (left, total - left)] + [(0, 0)] * (x.ndim - 2)
    return _core.pad_constant(x, pads, value), left


def _depth_taps(x, k, s, d, n_out):
    """The `k` depth slices x[:, t*d : ... : s], each of depth `n_out`."""
    taps = []
    for t in range(k):
        start = [0] * x.ndim
        stop = list(x.shape)
        step = [1] * x.ndim
        start[1], stop[1], step[1] = t * d, t * d + (n_out - 1) * s + 1, s
        taps.append(_core.slice(x, start, stop, step))
    return taps


def conv3d(x, k, strides, padding, dilation, groups):
    """x (N, D, H, W, C), kernel (KD, KH, KW, C/groups, F)."""
    n, _, h, w, c = x.shape
    kd = k.shape[0]
    d_out = check_windows("conv", x.shape, k.shape[:3], strides, dilation, padding)[0]
    xp, _ = _pad_depth(x, kd, strides[0], dilation[0], padding)
    # The depth taps become extra input channels of one 2-D convolution (one
    # large GEMM rather than kd small ones); per group the channels run
    # (tap, channel) to match the kernel reshaped to (KH, KW, KD*C/groups, F).
    xs = _core.stack(_depth_taps(xp, kd, strides[0], dilation[0], d_out), -2)  # (N, Do, H, W, KD, C)
    if groups > 1:
        xs = _core.reshape(xs, (n, d_out, h, w, kd, groups, c // groups))
        xs = _core.transpose(xs, (0, 1, 2, 3, 5, 4, 6))
    xs = _core.reshape(xs, (n * d_out, h, w, kd * c))
    k2 = _core.transpose(k, (1, 2, 0, 3, 4))
    k2 = _core.reshape(k2, (k.shape[1], k.shape[2], kd * k.shape[3], k.shape[4]))
    y = _core.conv2d(xs, k2, tuple(strides[1:]), padding, tuple(dilation[1:]), groups)
    return _core.reshape(y, (n, d_out) + tuple(y.shape[1:]))


def _deconv_len(size, k, s, d, padding, output_padding):
    """Keras's `deconv_output_length`."""
    keff = d * (k - 1) + 1
    if output_padding is None:
        return size * s + max(keff - s, 0) if padding == "valid" else size * s
    pad = keff // 2 if padding == "same" else 0
    return (size - 1) * s + keff - 2 * pad + output_padding


def _place(u, offset, length):
    """u shifted by `offset` along depth into a zero array of depth `length`."""
    if offset < 0:
        u = _core.slice(u, [0, -offset] + [0] * (u.ndim - 2), list(u.shape), [1] * u.ndim)
        offset = 0
    extra = length - offset - u.shape[1]
    if extra < 0:
        stop = list(u.shape)
        stop[1] = length - offset
        u, extra = _core.slice(u, [0] * u.ndim, stop, [1] * u.ndim), 0
    return _core.pad_constant(u, [(0, 0), (offset, extra)] + [(0, 0)] * (u.ndim - 2), 0.0)


def conv3d_transpose(x, k, strides, padding, dilation, output_padding):
    """x (N, D, H, W, C), kernel (KD, KH, KW, F, C): the adjoint of `conv3d`
    on an input of Keras's `deconv_output_length`."""
    _check_padding("conv_transpose", padding)
    n, depth, h, w, c = x.shape
    kd, f = k.shape[0], k.shape[3]
    s, dd = strides[0], dilation[0]
    op = None if output_padding is None else output_padding[0]
    out_d = _deconv_len(depth, kd, s, dd, padding, op)
    if out_d <= 0:
        raise ValueError(
            f"[conv_transpose] output depth would be {out_d} for input {tuple(x.shape)}, "
            f"kernel {tuple(k.shape)}, strides {tuple(strides)}, padding '{padding}'"
        )
    # All depth taps in one fused 2-D transposed convolution: output channel kd*F + f.
    k2 = _core.reshape(_core.transpose(k, (1, 2, 0, 3, 4)), (k.shape[1], k.shape[2], kd * f, c))
    hw_op = None if output_padding is None else tuple(output_padding[1:])
    y = _core.conv2d_transpose(_core.reshape(x, (n * depth, h, w, c)), k2, tuple(strides[1:]), padding,
                               tuple(dilation[1:]), hw_op)
    y = _core.reshape(y, (n, depth) + tuple(y.shape[1:3]) + (kd, f))
    if s > 1:  # input step i lands on output i*s: interleave s-1 zero planes
        y = _core.pad_constant(_core.expand_dims(y, 2), [(0, 0), (0, 0), (0, s - 1)] + [(0, 0)] * 4, 0.0)
        y = _core.reshape(y, (n, depth * s) + tuple(y.shape[3:]))
    full = (depth - 1) * s + dd * (kd - 1) + 1
    before = max(full - out_d, 0) // 2 if padding == "same" else 0
    out = None
    for t in range(kd):
        tap = _core.squeeze(_core.slice(y, [0, 0, 0, 0, t, 0], list(y.shape[:4]) + [t + 1, f], [1] * 6), 4)
        tap = _place(tap, t * dd - before, out_d)
        out = tap if out is None else _core.add(out, tap)
    return out


def _pool2d_folded(x, pool, strides, padding, fn):
    """The (rows, cols) pooling with depth folded into the batch."""
    n, depth = x.shape[:2]
    y = fn(_core.reshape(x, (n * depth,) + tuple(x.shape[2:])), tuple(pool[1:]), tuple(strides[1:]), padding)
    return _core.reshape(y, (n, depth) + tuple(y.shape[1:]))


def max_pool3d(x, pool, strides, padding):
    d_out = check_windows("max_pool", x.shape, pool, strides, (1, 1, 1), padding)[0]
    y = _pool2d_folded(x, pool, strides, padding, _core.max_pool2d)
    # 'same' windows always hold a real tap, so -inf padding never wins.
    y, _ = _pad_depth(y, pool[0], strides[0], 1, padding, float("-inf"))
    return _core.max(_core.stack(_depth_taps(y, pool[0], strides[0], 1, d_out), 0), 0)


def average_pool3d(x, pool, strides, padding):
    """Averages over the taps inside the input only (as the 2-D op and Keras)."""
    depth = x.shape[1]
    d_out = check_windows("average_pool", x.shape, pool, strides, (1, 1, 1), padding)[0]
    y = _pool2d_folded(x, pool, strides, padding, _core.avg_pool2d)
    y, left = _pad_depth(y, pool[0], strides[0], 1, padding)
    total = _core.sum(_core.stack(_depth_taps(y, pool[0], strides[0], 1, d_out), 0), 0)
    # The 2-D op already averaged (rows, cols); divide by the in-input depth taps.
    starts = np.arange(d_out) * strides[0] - left
    count = np.minimum(starts + pool[0], depth) - np.maximum(starts, 0)
    scale = (1.0 / count).astype(x.dtype).reshape(1, d_out, 1, 1, 1)
    scale = _core.convert_to_tensor(scale, x.dtype, True)
    if x.device != "cpu":  # the counts are made on the host
        scale = scale.to(x.device)
    return _core.multiply(total, scale)
