"""Argument checks and output-shape arithmetic shared by the convolution and
pooling layers (the formulas of Keras's `compute_conv_output_shape`,
`deconv_output_length` and `compute_pooling_output_shape`)."""


def standardize_tuple(value, n, name, allow_zero=False):
    """`value` (an int or an iterable of `n` ints) as a tuple of `n` ints."""
    error = f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value}"
    if isinstance(value, bool):
        raise ValueError(error)
    if isinstance(value, int):
        out = (value,) * n
    else:
        try:
            out = tuple(value)
        except TypeError:
            raise ValueError(error) from None
        if len(out) != n or not all(isinstance(v, int) and not isinstance(v, bool) for v in out):
            raise ValueError(error)
    bad = [v for v in out if (v < 0 if allow_zero else v <= 0)]
    if bad:
        req = ">= 0" if allow_zero else "> 0"
        raise ValueError(
            f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value} "
            f"including values {bad} that do not satisfy `value {req}`"
        )
    return out


def standardize_padding(value, allow_causal=False):
    if isinstance(value, (list, tuple)):
        return value
    padding = str(value).lower()
    allowed = {"valid", "same", "causal"} if allow_causal else {"valid", "same"}
    if padding not in allowed:
        raise ValueError(
            f"The `padding` argument must be a list/tuple or one of {sorted(allowed)}. Received: {value}"
        )
    return padding


def spatial_dims(layer, input_shape, rank, data_format):
    """The spatial sizes of `input_shape`, checking its rank."""
    input_shape = tuple(input_shape)
    if len(input_shape) != rank + 2:
        kind = {1: "(batch, steps, channels)", 2: "(batch, rows, cols, channels)",
                3: "(batch, depth, rows, cols, channels)"}.get(rank, "")
        raise ValueError(
            f"{layer.__class__.__name__} '{layer.name}' expects inputs of rank {rank + 2} {kind}, "
            f"got shape {input_shape}"
        )
    return input_shape[1:-1] if data_format == "channels_last" else input_shape[2:]


def _assemble(input_shape, spatial, channels, data_format):
    if data_format == "channels_last":
        return (input_shape[0],) + tuple(spatial) + (channels,)
    return (input_shape[0], channels) + tuple(spatial)


def compute_conv_output_shape(layer, input_shape, filters, kernel_size, strides, padding, data_format,
                              dilation_rate):
    rank = len(kernel_size)
    spatial = spatial_dims(layer, input_shape, rank, data_format)
    out = []
    for size, k, s, d in zip(spatial, kernel_size, strides, dilation_rate):
        if size is None:
            out.append(None)
            continue
        effective = d * (k - 1) + 1
        n = (size - effective) // s + 1 if padding == "valid" else (size - 1) // s + 1
        if n <= 0:
            raise ValueError(
                f"{layer.__class__.__name__} '{layer.name}': computed output size would be {n} "
                f"(not positive) for inputs of shape {tuple(input_shape)}, kernel_size={tuple(kernel_size)}, "
                f"strides={tuple(strides)}, dilation_rate={tuple(dilation_rate)}, padding='{padding}'"
            )
        out.append(n)
    return _assemble(input_shape, out, filters, data_format)


def deconv_output_length(size, kernel, padding, output_padding, stride, dilation):
    """Keras's `deconv_output_length` for one axis."""
    if size is None:
        return None
    kernel = kernel + (kernel - 1) * (dilation - 1)
    if output_padding is None:
        if padding == "valid":
            return size * stride + max(kernel - stride, 0)
        return size * stride
    pad = kernel // 2 if padding == "same" else 0
    return (size - 1) * stride + kernel - 2 * pad + output_padding


def compute_conv_transpose_output_shape(layer, input_shape, filters, kernel_size, strides, padding,
                                        output_padding, data_format, dilation_rate):
    rank = len(kernel_size)
    spatial = spatial_dims(layer, input_shape, rank, data_format)
    ops_ = (None,) * rank if output_padding is None else output_padding
    out = [
        deconv_output_length(size, k, padding, op, s, d)
        for size, k, op, s, d in zip(spatial, kernel_size, ops_, strides, dilation_rate)
    ]
    return _assemble(input_shape, out, filters, data_format)


def compute_pooling_output_shape(layer, input_shape, pool_size, strides, padding, data_format):
    rank = len(pool_size)
    spatial = spatial_dims(layer, input_shape, rank, data_format)
    channels = input_shape[-1] if data_format == "channels_last" else input_shape[1]
    out = []
    for size, p, s in zip(spatial, pool_size, strides):
        if size is None:
            out.append(None)
            continue
        n = (size - p) // s + 1 if padding == "valid" else (size - 1) // s + 1
        if n <= 0:
            raise ValueError(
                f"{layer.__class__.__name__} '{layer.name}': computed output size would be {n} "
                f"(not positive) for inputs of shape {tuple(input_shape)}, pool_size={tuple(pool_size)}, "
                f"strides={tuple(strides)}, padding='{padding}'"
            )
        out.append(n)
    return _assemble(input_shape, out, channels, data_format)


def channel_bias(bias, rank, data_format):
    """`bias` shaped to broadcast over the channels axis."""
    from lamina import ops

    if data_format == "channels_last":
        return bias
    return ops.reshape(bias, (1, bias.shape[0]) + (1,) * rank)
