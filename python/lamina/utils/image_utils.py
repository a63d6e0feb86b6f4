"""`save_img` and `image_grid`: images to PNG with no imaging library.

Keras's `save_img` needs Pillow; a PNG is only zlib-compressed rows behind a
few checksummed chunks, so lamina writes it with the standard library and
examples can save sample grids on a bare install.
"""

import os
import struct
import zlib

import numpy as np

_COLOR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type (grey, grey+alpha, RGB, RGBA)


def _chunk(tag, data):
    body = tag + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def encode_png(pixels):
    """PNG bytes of a uint8 array (H, W) or (H, W, C) with C in 1..4."""
    a = np.asarray(pixels)
    if a.dtype != np.uint8:
        raise ValueError(f"encode_png: expected uint8 pixels, got {a.dtype}")
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[2] not in _COLOR_TYPE or 0 in a.shape:
        raise ValueError(f"encode_png: expected shape (H, W) or (H, W, 1|2|3|4), got {pixels.shape}")
    h, w, c = a.shape
    # Each row is prefixed by its filter type (0: none).
    raw = np.concatenate([np.zeros((h, 1), np.uint8), a.reshape(h, w * c)], axis=1).tobytes()
    header = struct.pack(">IIBBBBB", w, h, 8, _COLOR_TYPE[c], 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(raw, 6)) + _chunk(b"IEND", b""))


def _to_uint8(x, scale):
    a = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError("save_img: the image holds NaN or infinite values")
    if scale:  # Keras's array_to_img(scale=True): shift and stretch to 0..255
        a = a - a.min()
        top = a.max()
        a = a / top * 255.0 if top > 0 else a
    return np.clip(a, 0, 255).astype(np.uint8)  # truncating, as Keras's array_to_img


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Saves an image array (H, W, C) (or (C, H, W) with `data_format="channels_first"`,
    or (H, W)) as a PNG, atomically. Only PNG is supported."""
    fmt = (file_format or os.path.splitext(os.fspath(path))[1].lstrip(".") or "png").lower()
    if fmt != "png":
        raise ValueError(f"save_img: only PNG is supported without an imaging library, got {fmt!r}")
    a = np.asarray(x)
    if a.ndim == 3 and data_format == "channels_first":
        a = np.moveaxis(a, 0, -1)
    data = encode_png(_to_uint8(a, scale))
    path = os.fspath(path)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return path


def image_grid(images, ncols=8, pad=1, pad_value=0.0):
    """Tiles N images (N, H, W) or (N, H, W, C) into one (rows*H, ncols*W[, C]) array."""
    a = np.asarray(images)
    if a.ndim not in (3, 4) or len(a) == 0:
        raise ValueError(f"image_grid: expected (N, H, W) or (N, H, W, C) with N > 0, got {a.shape}")
    n, h, w = a.shape[:3]
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    out = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad) + a.shape[3:], pad_value, a.dtype)
    for i in range(n):
        r, c = divmod(i, ncols)
        top, left = pad + r * (h + pad), pad + c * (w + pad)
        out[top:top + h, left:left + w] = a[i]
    return out


def _pil():
    try:
        from PIL import Image
    except ImportError as e:
        raise ImportError(
            "This function returns or reads a PIL image, so it needs Pillow: `pip install pillow`. "
            "(lamina.utils.save_img writes PNGs without it.)"
        ) from e
    return Image


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """A PIL Image from an array (H, W, C) as Keras's: 1 channel gives mode
    "L", 3 "RGB", 4 "RGBA"; `scale` stretches the values to 0..255."""
    Image = _pil()
    a = np.asarray(x)
    if a.ndim != 3:
        raise ValueError(f"array_to_img: expected an image array of rank 3, got shape {a.shape}")
    if data_format == "channels_first":
        a = np.moveaxis(a, 0, -1)
    mode = {1: "L", 3: "RGB", 4: "RGBA"}.get(a.shape[-1])
    if mode is None:
        raise ValueError(f"array_to_img: unsupported channel number {a.shape[-1]} (1, 3 or 4)")
    a = _to_uint8(a, scale)
    return Image.fromarray(a[..., 0] if mode == "L" else a, mode)


def img_to_array(img, data_format=None, dtype=None):
    """A float32 array (H, W, C) (or (C, H, W) with channels_first) from a PIL Image."""
    a = np.asarray(img, dtype=dtype or "float32")
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3:
        raise ValueError(f"img_to_array: unsupported image shape {a.shape}")
    return np.moveaxis(a, -1, 0) if data_format == "channels_first" else a


def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest", keep_aspect_ratio=False):
    """Loads an image file into a PIL Image (as Keras's; needs Pillow)."""
    Image = _pil()
    modes = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}
    if color_mode not in modes:
        raise ValueError(f'color_mode must be "grayscale", "rgb" or "rgba", got {color_mode!r}')
    with open(os.fspath(path), "rb") as f:
        img = Image.open(f)
        img.load()
    img = img.convert(modes[color_mode])
    if target_size is not None:
        size = (target_size[1], target_size[0])
        if img.size != size:
            resample = getattr(Image, interpolation.upper(), None)
            if resample is None:
                raise ValueError(f"load_img: unknown interpolation {interpolation!r}")
            if keep_aspect_ratio:
                w, h = img.size
                cw, ch = (w, int(w * size[1] / size[0])) if w * size[1] <= h * size[0] else (int(h * size[0] / size[1]), h)
                left, top = (w - cw) // 2, (h - ch) // 2
                img = img.crop((left, top, left + cw, top + ch))
            img = img.resize(size, resample)
    return img
