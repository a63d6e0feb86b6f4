"""Image geometry shared by the augmentation layers: `affine_transform`
(as `keras.ops.image.affine_transform`), Keras's affine matrix for a
rotation/shear/scale about the image centre, and a half-pixel bilinear resize.

Computed in NumPy over the whole batch at once (no gradients: augmentation
is applied to inputs); results come back as lamina tensors.
"""

import numpy as np

from lamina import _core
from lamina.backend.config import standardize_data_format

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")


def _to_numpy(x):
    return np.asarray(x.numpy()) if isinstance(x, _core.Tensor) else np.asarray(x)


def _fix_index(index, size, fill_mode):
    """Integer indices along one axis mapped into [0, size)."""
    if fill_mode in ("constant", "nearest"):
        # "constant" clips only to read safely; out-of-bounds points then take
        # `fill_value`.
        return np.clip(index, 0, size - 1)
    if fill_mode == "wrap":  # (a b c d | a b c d | a b c d)
        return index % size
    # "reflect", (d c b a | a b c d | d c b a): periodic with period 2 * size.
    table = np.concatenate([np.arange(size), np.arange(size)[::-1]]).astype(index.dtype)
    return table[index % (2 * size)]


def _check_args(interpolation, fill_mode):
    if interpolation not in INTERPOLATIONS:
        raise ValueError(
            f"Invalid value for argument `interpolation`. Expected one of {INTERPOLATIONS}. "
            f"Received: interpolation={interpolation}"
        )
    if fill_mode not in FILL_MODES:
        raise ValueError(
            f"Invalid value for argument `fill_mode`. Expected one of {FILL_MODES}. "
            f"Received: fill_mode={fill_mode}"
        )


def _source_coords(transform, h, w, dtype):
    """Input (y, x) points, each (n, h, w), that the output pixels map to."""
    t = transform.astype(dtype)
    ys, xs = np.meshgrid(np.arange(h, dtype=dtype), np.arange(w, dtype=dtype), indexing="ij")
    a0, a1, a2, b0, b1, b2, c0, c1 = (t[:, i, None, None] for i in range(8))
    k = c0 * xs + c1 * ys + 1
    with np.errstate(divide="ignore", invalid="ignore"):
        sy, sx = (b0 * xs + b1 * ys + b2) / k, (a0 * xs + a1 * ys + a2) / k
    # Points at infinity (k = 0) or far away would overflow the int32 indices:
    # keep them far outside the image, where they read the fill.
    far = dtype(1 << 24)
    return tuple(np.clip(np.nan_to_num(c, nan=-far), -far, far) for c in (sy, sx))


def _axis_nodes(coord, size, interpolation, fill_mode):
    """Per-axis interpolation nodes: (fixed index, in-bounds mask, weight)."""
    if interpolation == "nearest":
        # np.rint rounds half to even, as torch.round / jnp.round.
        i = np.rint(coord).astype(np.int32)
        nodes = [(i, None)]
    else:
        lower = np.floor(coord)
        frac = coord - lower
        i = lower.astype(np.int32)
        nodes = [(i, 1 - frac), (i + 1, frac)]
    return [(_fix_index(i, size, fill_mode), (i >= 0) & (i < size), w) for i, w in nodes]


def _sample(images, sy, sx, interpolation, fill_mode, fill_value):
    """Samples NHWC `images` at float points (sy, sx) of shape (n, h', w')."""
    n, h, w, c = images.shape
    flat = images.reshape(n * h * w, c)
    base = (np.arange(n, dtype=np.int32) * (h * w)).reshape(n, 1, 1)
    rows = [(base + iy * w, vy, wy) for iy, vy, wy in _axis_nodes(sy, h, interpolation, fill_mode)]
    cols = _axis_nodes(sx, w, interpolation, fill_mode)
    fill = np.asarray(fill_value, dtype=images.dtype)
    out = None
    for row, vy, wy in rows:
        for ix, vx, wx in cols:
            v = np.take(flat, row + ix, axis=0)
            if fill_mode == "constant":
                v = np.where((vy & vx)[..., None], v, fill)
            if wy is not None:
                v = v * (wy * wx)[..., None]
            out = v if out is None else out + v
    return out


def affine_transform(
    images,
    transform,
    interpolation="bilinear",
    fill_mode="constant",
    fill_value=0,
    data_format=None,
):
    """Applies projective transform(s) to image(s), as
    `keras.ops.image.affine_transform`.

    `transform` is `(8,)` or `(batch, 8)`; a row `[a0, a1, a2, b0, b1, b2, c0,
    c1]` maps the output point `(x, y)` to the input point
    `((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)`, `k = c0 x + c1 y + 1`.
    Keras documents `c0, c1` as used by TensorFlow only (taken as 0
    elsewhere); here, as TensorFlow, they are applied. Returns a lamina tensor of the images' dtype.
    """
    _check_args(interpolation, fill_mode)
    data_format = standardize_data_format(data_format)
    x = _to_numpy(images)
    t = _to_numpy(transform)
    if x.ndim not in (3, 4):
        raise ValueError(
            "Invalid images rank: expected rank 3 (single image) or rank 4 (batch of images). "
            f"Received input with shape: images.shape={x.shape}"
        )
    if t.ndim not in (1, 2) or t.shape[-1] != 8:
        raise ValueError(
            "Invalid transform: expected shape (8,) (single transform) or (batch, 8). "
            f"Received input with shape: transform.shape={t.shape}"
        )
    out_dtype = x.dtype
    unbatched = x.ndim == 3
    if unbatched:
        x = x[None]
    if data_format == "channels_first":
        x = np.transpose(x, (0, 2, 3, 1))
    t = t.reshape(-1, 8)
    if t.shape[0] not in (1, x.shape[0]):
        raise ValueError(
            f"Invalid transform: {t.shape[0]} transforms for a batch of {x.shape[0]} images."
        )
    t = np.broadcast_to(t, (x.shape[0], 8))
    # float64 stays float64; everything else is computed in float32, as Keras.
    compute = np.float64 if x.dtype == np.float64 else np.float32
    sy, sx = _source_coords(t, x.shape[1], x.shape[2], compute)
    if out_dtype.kind in "iub":
        fill_value = int(fill_value)  # as Keras: an integer image takes an integer fill
    out = _sample(x.astype(compute, copy=False), sy, sx, interpolation, fill_mode, fill_value)
    if data_format == "channels_first":
        out = np.transpose(out, (0, 3, 1, 2))
    if unbatched:
        out = out[0]
    if out_dtype.kind in "iub":
        out = np.rint(out)
    # Dtypes lamina lacks (uint8, float16, ...) map to its nearest (int32, float32).
    return _core.convert_to_tensor(np.ascontiguousarray(out.astype(out_dtype)), None, True)


def compute_affine_matrix(angle, translate_x, translate_y, scale, shear_x, shear_y, height, width,
                          center_x=0.5, center_y=0.5):
    """Keras's `_compute_affine_matrix`: (batch, 8) float32 transforms rotating
    by `angle` degrees (with shear in degrees, scale and translation in pixels)
    about the point (center_x, center_y) given as fractions of the image."""
    angle, translate_x, translate_y, scale, shear_x, shear_y = (
        np.asarray(v, dtype=np.float32).reshape(-1)
        for v in (angle, translate_x, translate_y, scale, shear_x, shear_y)
    )
    rad = np.float32(np.pi / 180.0)
    angle, shear_x, shear_y = angle * rad, np.tan(shear_x * rad), np.tan(shear_y * rad)
    cx = np.float32(center_x * (width - 1))
    cy = np.float32(center_y * (height - 1))
    cos, sin = np.cos(angle), np.sin(angle)
    a0 = scale * (cos + shear_x * sin)
    a1 = scale * (-sin + shear_x * cos)
    a2 = translate_x + cx - cx * a0 - cy * a1
    b0 = scale * (shear_y * cos + sin)
    b1 = scale * (shear_y * -sin + cos)
    b2 = translate_y + cy - cx * b0 - cy * b1
    zeros = np.zeros_like(a0)
    return np.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1).astype(np.float32)


def _resize_axis(x, axis, size, interpolation="bilinear"):
    """Bilinear, half-pixel centres, no antialiasing (torch's interpolate with
    align_corners=False, which keras.ops.image.resize uses); "nearest" takes
    the source pixel under the output pixel's centre, floor((i + 0.5) * in / out)
    (torch's "nearest-exact", which Keras uses; TF and JAX agree)."""
    n_in = x.shape[axis]
    if n_in == size:
        return x
    if interpolation == "nearest":
        idx = np.minimum(np.floor((np.arange(size) + 0.5) * (n_in / size)).astype(np.int64), n_in - 1)
        return np.take(x, idx, axis=axis)
    src = (np.arange(size, dtype=np.float64) + 0.5) * (n_in / size) - 0.5
    src = np.maximum(src, 0.0)
    lo = np.floor(src).astype(np.int64)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = (src - lo).astype(x.dtype)
    shape = [1] * x.ndim
    shape[axis] = size
    frac = frac.reshape(shape)
    return np.take(x, lo, axis=axis) * (1 - frac) + np.take(x, hi, axis=axis) * frac


def resize_bilinear(images, height, width, h_axis, w_axis, interpolation="bilinear"):
    """NumPy `images` resized to (height, width) along the given axes."""
    return _resize_axis(_resize_axis(images, h_axis, height, interpolation), w_axis, width, interpolation)


def center_window(in_h, in_w, height, width):
    """(top, left, rows, cols) of the largest centred window with the aspect
    ratio height:width (Keras's crop_to_aspect_ratio)."""
    crop_h = max(min(in_h, int(float(in_w * height) / width)), 1)
    crop_w = max(min(in_w, int(float(in_h * width) / height)), 1)
    return int((in_h - crop_h) / 2), int((in_w - crop_w) / 2), crop_h, crop_w
