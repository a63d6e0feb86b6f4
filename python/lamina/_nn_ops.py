"""The neural-network part of `lamina.ops` (as `keras.ops.nn`): convolution,
pooling, normalisation and losses, over fused C++ kernels.

Layouts follow Keras: `channels_last` by default; kernels are
(kernel_size..., in_channels / groups, filters); Conv*Transpose kernels are
(kernel_size..., filters, in_channels).
"""

from lamina import _core, _nn_ops3d

EPSILON = 1e-7  # keras.config.epsilon()


def _t(x):
    return _core.convert_to_tensor(x, None, True)


def _pair(v, n, name):
    if isinstance(v, int):
        return (v,) * n
    v = tuple(int(a) for a in v)
    if len(v) != n:
        raise ValueError(f"{name} must be an int or a tuple of {n} ints, got {v}")
    return v


def _channels_first(data_format):
    if data_format in (None, "channels_last"):
        return False
    if data_format == "channels_first":
        return True
    raise ValueError(f"data_format must be 'channels_last' or 'channels_first', got {data_format!r}")


def _to_last(x, cf):
    return _core.transpose(x, (0,) + tuple(range(2, x.ndim)) + (1,)) if cf else x


def _to_first(x, cf):
    return _core.transpose(x, (0, x.ndim - 1) + tuple(range(1, x.ndim - 1))) if cf else x


def _spatial(x, op):
    n = x.ndim - 2
    if n not in (1, 2, 3):
        raise ValueError(f"[{op}] expected input of rank 3, 4 or 5 (batch, spatial..., channels), got shape {x.shape}")
    return n


def _as_2d(x, n):
    """1-D inputs (N, L, C) become (N, 1, L, C)."""
    return _core.expand_dims(x, 1) if n == 1 else x


def _from_2d(y, n):
    return _core.squeeze(y, 1) if n == 1 else y


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D convolution (1-D, 2-D or 3-D); groups follow from in_channels / kernel's in axis."""
    cf = _channels_first(data_format)
    x = _to_last(_t(inputs), cf)
    k = _t(kernel)
    n = _spatial(x, "conv")
    if k.ndim != n + 2:
        raise ValueError(f"[conv] a {n}-D convolution needs a kernel of rank {n + 2}, got shape {k.shape}")
    s, d = _pair(strides, n, "strides"), _pair(dilation_rate, n, "dilation_rate")
    cin, kin = x.shape[-1], k.shape[-2]
    if kin == 0 or cin % kin:
        raise ValueError(
            f"[conv] input of shape {x.shape} has {cin} channels, not a multiple of the "
            f"kernel's {kin} input channels (kernel shape {k.shape})"
        )
    if n == 3:  # composed from the fused 2-D kernel (see _nn_ops3d)
        return _to_first(_nn_ops3d.conv3d(x, k, s, padding.lower(), d, cin // kin), cf)
    if n == 1:
        k = _core.expand_dims(k, 0)
        s, d = (1,) + s, (1,) + d
    y = _core.conv2d(_as_2d(x, n), k, s, padding.lower(), d, cin // kin)
    return _to_first(_from_2d(y, n), cf)


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """Depthwise convolution; kernel (kernel_size..., in_channels, depth_multiplier)."""
    k = _t(kernel)
    shape = tuple(k.shape)
    k = _core.reshape(k, shape[:-2] + (1, shape[-2] * shape[-1]))
    return conv(inputs, k, strides, padding, data_format, dilation_rate)


def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid",
                   data_format=None, dilation_rate=1):
    y = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format, dilation_rate)
    return conv(y, pointwise_kernel, 1, "valid", data_format, 1)


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None,
                   data_format=None, dilation_rate=1):
    """Transposed convolution (the adjoint of `conv`); kernel (kernel_size..., filters, in)."""
    cf = _channels_first(data_format)
    x = _to_last(_t(inputs), cf)
    k = _t(kernel)
    n = _spatial(x, "conv_transpose")
    s, d = _pair(strides, n, "strides"), _pair(dilation_rate, n, "dilation_rate")
    op = None if output_padding is None else _pair(output_padding, n, "output_padding")
    if k.ndim != n + 2 or k.shape[-1] != x.shape[-1]:
        raise ValueError(
            f"[conv_transpose] a {n}-D transposed convolution of input {x.shape} needs a kernel "
            f"(kernel_size..., filters, {x.shape[-1]}) of rank {n + 2}, got shape {k.shape}"
        )
    if n == 3:
        return _to_first(_nn_ops3d.conv3d_transpose(x, k, s, padding.lower(), d, op), cf)
    if n == 1:
        k = _core.expand_dims(k, 0)
        s, d = (1,) + s, (1,) + d
        op = None if op is None else (0,) + op
    if op is not None and n == 1:
        op = (0, op[1])
    y = _core.conv2d_transpose(_as_2d(x, n), k, s, padding.lower(), d, op)
    return _to_first(_from_2d(y, n), cf)


def _pool(inputs, pool_size, strides, padding, data_format, fn, name, fn3d):
    cf = _channels_first(data_format)
    x = _to_last(_t(inputs), cf)
    n = _spatial(x, name)
    p = _pair(pool_size, n, "pool_size")
    s = p if strides is None else _pair(strides, n, "strides")
    if n == 3:
        return _to_first(fn3d(x, p, s, padding.lower()), cf)
    if n == 1:
        p, s = (1,) + p, (1,) + s
    y = fn(_as_2d(x, n), p, s, padding.lower())
    return _to_first(_from_2d(y, n), cf)


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    return _pool(inputs, pool_size, strides, padding, data_format, _core.max_pool2d, "max_pool",
                 _nn_ops3d.max_pool3d)


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Average pooling; with padding='same' the average is over the taps inside the input."""
    return _pool(inputs, pool_size, strides, padding, data_format, _core.avg_pool2d, "average_pool",
                 _nn_ops3d.average_pool3d)


def _move_last(x, axis):
    axis = axis % x.ndim
    if axis == x.ndim - 1:
        return x, None
    perm = [i for i in range(x.ndim) if i != axis] + [axis]
    inv = [0] * x.ndim
    for i, p in enumerate(perm):
        inv[p] = i
    return _core.transpose(x, perm), inv


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=1e-3):
    """Fused layer normalisation over one axis (default the last)."""
    x = _t(x)
    x2, inv = _move_last(x, axis)
    y = _core.layer_norm(x2, gamma, beta, epsilon)
    return y if inv is None else _core.transpose(y, inv)


def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    x = _t(x)
    x2, inv = _move_last(x, axis)
    y = _core.rms_norm(x2, scale, 1e-6 if epsilon is None else epsilon)
    return y if inv is None else _core.transpose(y, inv)


def batch_norm_train(x, gamma=None, beta=None, axis=-1, epsilon=1e-3, relu=False):
    """Batch normalisation with batch statistics over all axes but `axis`.

    Returns (output, batch_mean, batch_variance); the statistics carry no gradient.
    relu=True returns max(0, output) from the same kernel (forward and backward).
    """
    x = _t(x)
    x2, inv = _move_last(x, axis)
    y, mean, var = _core.batch_norm_train(x2, gamma, beta, epsilon, relu)
    return (y if inv is None else _core.transpose(y, inv)), mean, var


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """keras.ops.batch_normalization: normalise with given statistics."""
    x = _t(x)
    shape = [1] * x.ndim
    shape[axis % x.ndim] = x.shape[axis]
    r = lambda v: _core.reshape(_t(v), tuple(shape))  # noqa: E731
    inv = _core.divide(1.0, _core.sqrt(_core.add(r(variance), epsilon)))
    if scale is not None:
        inv = _core.multiply(inv, r(scale))
    y = _core.multiply(_core.subtract(x, r(mean)), inv)
    return _core.add(y, r(offset)) if offset is not None else y


def moments(x, axes, keepdims=False):
    x = _t(x)
    return _core.mean(x, axes, keepdims), _core.var(x, axes, keepdims)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Per-sample loss for integer labels; fused and stable from logits."""
    y, out = _t(target), _t(output)
    out, _ = _move_last(out, axis)
    if y.ndim == out.ndim and y.shape[-1] == 1:
        y = _core.squeeze(y, -1)
    if from_logits:
        return _core.sparse_softmax_cross_entropy(out, y)
    p = _core.divide(out, _core.sum(out, -1, True))
    p = _core.clip(p, EPSILON, 1.0 - EPSILON)
    if y.dtype not in ("int32", "int64"):
        y = _core.cast(y, "int64")
    picked = _core.take_along_axis(p, _core.expand_dims(y, -1), -1)  # range-checked
    return _core.negative(_core.log(_core.squeeze(picked, -1)))


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    y, out = _t(target), _t(output)
    out, _ = _move_last(out, axis)
    y, _ = _move_last(y, axis)
    if y.shape != out.shape:
        raise ValueError(f"[categorical_crossentropy] target shape {y.shape} must equal output shape {out.shape}")
    if from_logits:
        return _core.softmax_cross_entropy(out, y)
    p = _core.divide(out, _core.sum(out, -1, True))
    p = _core.clip(p, EPSILON, 1.0 - EPSILON)
    return _core.negative(_core.sum(_core.multiply(y, _core.log(p)), -1))


def binary_crossentropy(target, output, from_logits=False):
    y, out = _t(target), _t(output)
    if y.shape != out.shape:
        raise ValueError(f"[binary_crossentropy] target shape {y.shape} must equal output shape {out.shape}")
    if from_logits:
        return _core.sigmoid_binary_cross_entropy(out, y)
    p = _core.clip(out, EPSILON, 1.0 - EPSILON)
    one = 1.0
    return _core.negative(
        _core.add(
            _core.multiply(y, _core.log(p)),
            _core.multiply(_core.subtract(one, y), _core.log(_core.subtract(one, p))),
        )
    )


def rnn(cell, inputs, kernel, recurrent_kernel, bias=None, recurrent_bias=None,
        initial_state=None, mask=None, go_backwards=False, reset_after=True):
    """A whole recurrent layer as one fused op.

    cell: "lstm" (gates i, f, c, o), "gru" (z, r, h) or "simple_rnn", with
    Keras's weight layouts: kernel (features, gates*units), recurrent_kernel
    (units, gates*units). For GRU with reset_after, Keras's bias (2, 3*units)
    is passed as bias=bias[0], recurrent_bias=bias[1]. initial_state: h, or
    (h, c) for LSTM. Returns (outputs (batch, time, units) in processing
    order, final h, final c).
    """
    h0 = c0 = None
    if initial_state is not None:
        if isinstance(initial_state, (list, tuple)):
            h0 = initial_state[0]
            c0 = initial_state[1] if len(initial_state) > 1 else None
        else:
            h0 = initial_state
    return _core.rnn(cell, inputs, kernel, recurrent_kernel, bias, recurrent_bias, h0, c0, mask,
                     bool(go_backwards), bool(reset_after))


def dot_product_attention(query, key, value, bias=None, mask=None, scale=None, is_causal=False,
                          flash_attention=None, dropout_rate=0.0, seed=None):
    """softmax(q k^T * scale + bias) v over (batch, seq, heads, dim), as
    keras.ops.dot_product_attention. Always computed by the tiled kernel
    (memory independent of seq^2); `flash_attention` is accepted for Keras
    compatibility. `mask` is boolean (True = attend)."""
    s = c = 0
    if dropout_rate:
        from lamina import random

        q, k = _t(query), _t(key)
        # One counter per attention weight: (batch, heads, q_seq, k_seq).
        s, c = random._take(random._stream_for(seed), (q.shape[0], q.shape[2], q.shape[1], k.shape[1]))
    return _core.dot_product_attention(query, key, value, bias, mask, scale, bool(is_causal),
                                       float(dropout_rate), s, c)
