"""lamina.utils.save_img / image_grid: PNGs written with the standard library,
read back with an independent decoder (Pillow or matplotlib when installed, else
a zlib decode of the file's own chunks)."""

import struct
import zlib

import numpy as np
import pytest

from lamina.utils import image_grid, save_img


def _decode(path):
    """A minimal independent PNG reader: checks every chunk CRC, inflates IDAT."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        tag, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        (crc,) = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        assert zlib.crc32(tag + body) & 0xFFFFFFFF == crc, tag
        if tag == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif tag == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype = hdr[:4]
    c = {0: 1, 4: 2, 2: 3, 6: 4}[ctype]
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + w * c)
    assert np.all(rows[:, 0] == 0)
    return rows[:, 1:].reshape(h, w, c)


@pytest.mark.parametrize("channels", [None, 1, 3, 4])
def test_save_img_round_trip(tmp_path, channels):
    rng = np.random.default_rng(channels or 0)
    shape = (7, 5) if channels is None else (7, 5, channels)
    img = rng.integers(0, 256, shape).astype(np.float32)
    path = save_img(tmp_path / "a.png", img, scale=False)
    got = _decode(path)
    np.testing.assert_array_equal(got.reshape(shape), img.astype(np.uint8))
    pil = pytest.importorskip("PIL.Image", reason="Pillow absent: independent decode done above")
    np.testing.assert_array_equal(np.asarray(pil.open(path)).reshape(shape), img.astype(np.uint8))


def test_save_img_scales_like_keras(tmp_path):
    img = np.array([[-1.0, 0.0], [1.0, 3.0]])
    got = _decode(save_img(tmp_path / "s.png", img))[..., 0]
    np.testing.assert_array_equal(got, [[0, 63], [127, 255]])  # truncated, as Keras


def test_save_img_channels_first(tmp_path):
    img = np.arange(2 * 3 * 3, dtype=np.float32).reshape(3, 2, 3)
    got = _decode(save_img(tmp_path / "c.png", img, data_format="channels_first", scale=False))
    np.testing.assert_array_equal(got, np.moveaxis(img, 0, -1).astype(np.uint8))


def test_save_img_bad_input(tmp_path):
    with pytest.raises(ValueError, match="only PNG"):
        save_img(tmp_path / "a.jpg", np.zeros((2, 2)))
    with pytest.raises(ValueError, match="NaN"):
        save_img(tmp_path / "a.png", np.full((2, 2), np.nan))
    with pytest.raises(ValueError, match="shape"):
        save_img(tmp_path / "a.png", np.zeros((2, 2, 5)))
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_image_grid_layout():
    imgs = np.arange(5 * 2 * 3).reshape(5, 2, 3) + 1
    grid = image_grid(imgs, ncols=3, pad=1)
    assert grid.shape == (2 * 3 + 1, 3 * 4 + 1)
    np.testing.assert_array_equal(grid[1:3, 1:4], imgs[0])
    np.testing.assert_array_equal(grid[4:6, 5:8], imgs[4])
    assert grid[4:6, 9:12].sum() == 0  # the sixth cell is empty padding


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_array_to_img_and_back_match_keras(channels, tmp_path):
    pytest.importorskip("PIL.Image", reason="array_to_img returns a PIL image")
    from lamina.utils import array_to_img, img_to_array, load_img

    rng = np.random.default_rng(channels)
    x = rng.uniform(-1, 3, (6, 5, channels)).astype("float32")
    img = array_to_img(x)
    assert img.size == (5, 6) and img.mode == {1: "L", 3: "RGB", 4: "RGBA"}[channels]
    back = img_to_array(img)
    assert back.shape == (6, 5, channels) and back.dtype == np.float32
    want = np.floor((x - x.min()).astype("float64") / (x.max() - x.min()) * 255)
    np.testing.assert_allclose(back, want, atol=1.0)  # float32 vs float64 at integer edges
    img.save(tmp_path / "a.png")
    loaded = img_to_array(load_img(tmp_path / "a.png", color_mode="grayscale", target_size=(3, 4)))
    assert loaded.shape == (3, 4, 1)
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        import keras
    except ImportError:
        return
    np.testing.assert_array_equal(back, keras.utils.img_to_array(keras.utils.array_to_img(x)))
    np.testing.assert_array_equal(
        loaded, keras.utils.img_to_array(keras.utils.load_img(tmp_path / "a.png", color_mode="grayscale",
                                                              target_size=(3, 4))))


def test_array_to_img_bad_input():
    pytest.importorskip("PIL.Image")
    from lamina.utils import array_to_img

    with pytest.raises(ValueError, match="rank 3"):
        array_to_img(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="channel"):
        array_to_img(np.zeros((2, 2, 2)))
