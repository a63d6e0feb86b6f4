"""Image augmentation layers (RandomFlip, RandomRotation, RandomTranslation,
RandomZoom, RandomCrop, RandomContrast) and the `affine_transform` they share:
against a per-pixel float64 reference, against Keras where it is installed
(same transforms, same random parameters), the distribution of the random
parameters measured from known images, seeding, configs, bad input, and a
short fit."""

import inspect
import json
import os

import numpy as np
import pytest

import lamina
from lamina import layers as L
from lamina.layers.preprocessing.image_transform import FILL_MODES, INTERPOLATIONS, affine_transform

# Keras's torch backend warns about NumPy 2's copy keyword.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
RNG = np.random.default_rng(0)


def np_(x):
    return np.asarray(x.numpy())


# ---- (a) affine_transform against a per-pixel reference ----------------------


def _ref_index(i, size, fill_mode):
    """(index, inside) for integer node i, written from the definitions."""
    if fill_mode == "constant":
        return min(max(i, 0), size - 1), 0 <= i < size
    if fill_mode == "nearest":  # (a a a a | a b c d | d d d d)
        return min(max(i, 0), size - 1), True
    if fill_mode == "wrap":  # (a b c d | a b c d | a b c d)
        return i % size, True
    while i < 0 or i >= size:  # reflect: (d c b a | a b c d | d c b a)
        i = -i - 1 if i < 0 else 2 * size - 1 - i
    return i, True


def ref_affine(images, transforms, interpolation, fill_mode, fill_value):
    """Slow float64 loop over NHWC pixels."""
    n, h, w, c = images.shape
    out = np.zeros((n, h, w, c))
    for b in range(n):
        a0, a1, a2, b0, b1, b2, c0, c1 = (float(v) for v in transforms[b])
        for y in range(h):
            for x in range(w):
                k = c0 * x + c1 * y + 1
                sx, sy = (a0 * x + a1 * y + a2) / k, (b0 * x + b1 * y + b2) / k
                if interpolation == "nearest":
                    ys, xs = [(round(sy), 1.0)], [(round(sx), 1.0)]  # half to even
                else:
                    fy, fx = np.floor(sy), np.floor(sx)
                    ys = [(int(fy), 1 - (sy - fy)), (int(fy) + 1, sy - fy)]
                    xs = [(int(fx), 1 - (sx - fx)), (int(fx) + 1, sx - fx)]
                for iy, wy in ys:
                    for ix, wx in xs:
                        ry, in_y = _ref_index(iy, h, fill_mode)
                        rx, in_x = _ref_index(ix, w, fill_mode)
                        value = images[b, ry, rx] if in_y and in_x else fill_value
                        out[b, y, x] += wy * wx * value
    return out


def random_transforms(n, rng, projective=False, spread=1.5, shift=6.0):
    t = np.zeros((n, 8))
    t[:, [0, 1, 3, 4]] = rng.uniform(-spread, spread, (n, 4))
    t[:, [2, 5]] = rng.uniform(-shift, shift, (n, 2))
    if projective:
        t[:, 6:] = rng.uniform(-0.03, 0.03, (n, 2))
    return t


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("fill_mode", FILL_MODES)
def test_affine_transform_matches_reference(fill_mode, interpolation):
    rng = np.random.default_rng(1)
    images = rng.uniform(-1, 1, (3, 5, 6, 2))
    t = random_transforms(3, rng, projective=True)
    t[0] = [1, 0, 0, 0, 1, 0, 0, 0]  # identity
    t[1, [0, 1, 3, 4, 6, 7]] = [1, 0, 0, 1, 0, 0]  # pure shift, lands between pixels
    got = affine_transform(images, t, interpolation, fill_mode, 0.7)
    assert isinstance(got, lamina.Tensor) and got.dtype == "float64"
    want = ref_affine(images, t, interpolation, fill_mode, 0.7)
    np.testing.assert_allclose(np_(got), want, rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(np_(got)[0], images[0])
    # float32 in, float32 out, same values to float32 precision.
    x32 = lamina.ops.convert_to_tensor(images.astype("float32"))
    got32 = affine_transform(x32, t, interpolation, fill_mode, 0.7)
    assert got32.dtype == "float32"
    np.testing.assert_allclose(np_(got32), want, rtol=1e-4, atol=1e-4)


def test_affine_transform_layouts_and_dtypes():
    rng = np.random.default_rng(2)
    images = rng.uniform(0, 1, (2, 5, 7, 3))
    t = random_transforms(2, rng)
    want = ref_affine(images, t, "bilinear", "reflect", 0.0)
    # channels_first
    cf = affine_transform(
        images.transpose(0, 3, 1, 2), t, "bilinear", "reflect", data_format="channels_first"
    )
    np.testing.assert_allclose(np_(cf).transpose(0, 2, 3, 1), want, atol=1e-10)
    # unbatched image with one transform row
    one = affine_transform(images[1], t[1], "bilinear", "reflect")
    np.testing.assert_allclose(np_(one), want[1], atol=1e-10)
    # integer images: rounded, integer output
    ints = (images * 255).astype("int32")
    got = np_(affine_transform(ints, t, "bilinear", "constant", 9))
    assert got.dtype.kind == "i"
    want = ref_affine(ints.astype(float), t, "bilinear", "constant", 9)
    np.testing.assert_array_equal(got, np.rint(want))


def test_affine_transform_degenerate_points_read_the_fill():
    images = np.ones((1, 4, 4, 1))
    t = np.array([[1, 0, 0, 0, 1, 0, -1.0 / 3.0, 0]])  # k = 0 on the column x = 3
    got = np_(affine_transform(images, t, "bilinear", "constant", 5.0))
    assert np.all(np.isfinite(got)) and np.all(got[0, :, 3] == 5.0)


# ---- random parameters measured from known images ----------------------------


def point_image(n, size, points, value=1.0):
    x = np.zeros((n, size, size, 1), "float32")
    for y, xx in points:
        x[:, y, xx] = value
    return x


def centroid(img):
    """(y, x) centroid of a (h, w, 1) image's mass."""
    m = img[..., 0]
    ys, xs = np.mgrid[: m.shape[0], : m.shape[1]]
    return (m * ys).sum() / m.sum(), (m * xs).sum() / m.sum()


def test_rotation_angles_cover_the_factor_range():
    size, c = 41, 20.0
    x = point_image(200, size, [(20, 34)])  # 14 px right of the centre
    out = np_(L.RandomRotation(0.1, fill_mode="constant", seed=4)(x, training=True))
    angles = []
    for img in out:
        cy, cx = centroid(img)
        # Counter-clockwise on screen (y down) is a negative atan2 in (y, x).
        angles.append(np.degrees(np.arctan2(-(cy - c), cx - c)))
    angles = np.array(angles)
    assert angles.min() >= -36.5 and angles.max() <= 36.5
    assert angles.min() < -30 and angles.max() > 30 and abs(angles.mean()) < 6


def test_rotation_direction_and_pair_factor():
    x = point_image(1, 21, [(10, 17)])
    out = np_(L.RandomRotation((0.25, 0.25), fill_mode="constant", seed=0)(x, training=True))
    cy, cx = centroid(out[0])
    # +90 degrees: the point right of the centre moves above it.
    np.testing.assert_allclose((cy, cx), (3.0, 10.0), atol=1e-4)


def test_translation_offsets_cover_the_factor_range():
    size = 40
    x = point_image(300, size, [(20, 20)])
    layer = L.RandomTranslation((-0.2, 0.3), 0.1, fill_mode="constant", seed=5)
    out = np_(layer(x, training=True))
    d = np.array([centroid(img) for img in out]) - 20.0
    dy, dx = d[:, 0] / size, d[:, 1] / size
    assert dy.min() >= -0.2 - 1e-6 and dy.max() <= 0.3 + 1e-6
    assert dy.min() < -0.15 and dy.max() > 0.25
    assert dx.min() >= -0.1 - 1e-6 and dx.max() <= 0.1 + 1e-6
    assert dx.min() < -0.07 and dx.max() > 0.07
    # Positive factors move down and right.
    fixed = L.RandomTranslation((0.25, 0.25), (0.1, 0.1), fill_mode="constant")
    shifted = np_(fixed(x[:1], training=True))
    np.testing.assert_allclose(centroid(shifted[0]), (30.0, 24.0), atol=1e-4)


def _zoom_from_points(img, d, c):
    """Zoom (input / output distance) of two points at c +- d along each axis."""
    m = img[..., 0]
    left, right = m[:, : int(c)], m[:, int(c) + 1 :]
    xs = np.arange(m.shape[1])
    xl = (left * xs[: int(c)]).sum() / left.sum()
    xr = (right * xs[int(c) + 1 :]).sum() / right.sum()
    return 2 * d / (xr - xl)


def test_zoom_factors_cover_the_range_and_keep_aspect_by_default():
    size, c, d = 41, 20, 8
    x = point_image(200, size, [(c, c - d), (c, c + d)])
    out = np_(L.RandomZoom((-0.3, 0.2), fill_mode="constant", seed=6)(x, training=True))
    zooms = np.array([_zoom_from_points(img, d, c) for img in out])
    assert zooms.min() >= 0.7 - 1e-4 and zooms.max() <= 1.2 + 1e-4
    assert zooms.min() < 0.75 and zooms.max() > 1.15
    # width_factor=None: the same zoom on both axes (transpose to read y).
    both = point_image(50, size, [(c, c - d), (c, c + d), (c - d, c), (c + d, c)])
    layer = L.RandomZoom(0.2, fill_mode="constant", seed=7)
    t = layer._transforms(50, size, size)
    np.testing.assert_array_equal(t[:, 0], t[:, 4])
    out = np_(layer(both, training=True))
    assert out.shape == both.shape
    separate = L.RandomZoom(0.2, 0.2, seed=7)._transforms(50, size, size)
    assert np.any(separate[:, 0] != separate[:, 4])


def test_crop_offsets_are_uniform_and_shared_by_the_batch():
    h, w = 9, 7
    x = np.arange(h * w, dtype="float32").reshape(1, h, w, 1).repeat(3, axis=0)
    layer = L.RandomCrop(5, 4, seed=8)
    seen = set()
    for _ in range(120):
        out = np_(layer(x, training=True))
        assert out.shape == (3, 5, 4, 1)
        top, left = divmod(int(out[0, 0, 0, 0]), w)
        np.testing.assert_array_equal(out, x[:, top : top + 5, left : left + 4])
        seen.add((top, left))
    assert seen == {(t, l) for t in range(h - 5 + 1) for l in range(w - 4 + 1)}


def test_flip_probability_and_single_coin():
    x = RNG.uniform(size=(400, 3, 4, 1)).astype("float32")
    for mode, flip in [
        ("horizontal", lambda a: a[:, ::-1]),
        ("vertical", lambda a: a[::-1]),
        ("horizontal_and_vertical", lambda a: a[::-1, ::-1]),
    ]:
        out = np_(L.RandomFlip(mode, seed=9)(x, training=True))
        flipped = np.array([np.array_equal(o, flip(i)) for o, i in zip(out, x)])
        same = np.array([np.array_equal(o, i) for o, i in zip(out, x)])
        assert np.all(flipped | same), mode  # Keras: one coin decides both flips
        assert 0.4 < flipped.mean() < 0.6, mode


def test_contrast_factor_range():
    x = RNG.uniform(0.3, 0.7, size=(300, 6, 6, 2)).astype("float32")
    out = np_(L.RandomContrast((0.2, 0.5), value_range=(-10, 10), seed=10)(x, training=True))
    f = (out - out.mean(axis=(1, 2), keepdims=True)).std(axis=(1, 2)) / x.std(axis=(1, 2))
    assert np.allclose(f[:, 0], f[:, 1], rtol=1e-3)  # one factor per image
    assert f.min() >= 0.8 - 1e-3 and f.max() <= 1.5 + 1e-3 and f.min() < 0.85 and f.max() > 1.45
    # A number f gives [1, 1 + f], as Keras.
    assert L.RandomContrast(0.3).factor == (0, 0.3)


# ---- seeding, inference, shapes ---------------------------------------------

FACTORIES = {
    "RandomFlip": lambda seed: L.RandomFlip(seed=seed),
    "RandomRotation": lambda seed: L.RandomRotation(0.2, seed=seed),
    "RandomTranslation": lambda seed: L.RandomTranslation(0.2, (-0.1, 0.3), seed=seed),
    "RandomZoom": lambda seed: L.RandomZoom((-0.3, 0.3), 0.2, seed=seed),
    "RandomCrop": lambda seed: L.RandomCrop(6, 5, seed=seed),
    "RandomContrast": lambda seed: L.RandomContrast(0.5, value_range=(0, 1), seed=seed),
}
X = RNG.uniform(0, 1, (4, 9, 8, 3)).astype("float32")


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_seeds_reproduce_and_differ(name):
    make = FACTORIES[name]
    a, b, c = make(11), make(11), make(12)
    ya, yb, yc = np_(a(X, training=True)), np_(b(X, training=True)), np_(c(X, training=True))
    np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(ya, yc)
    assert not np.array_equal(np_(a(X, training=True)), ya)  # the stream moves on
    # Unseeded layers follow lamina.utils.set_random_seed.
    outs = []
    for _ in range(2):
        lamina.utils.set_random_seed(3)
        outs.append(np_(make(None)(X, training=True)))
    np.testing.assert_array_equal(*outs)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_inference_shapes_dtypes_and_unbatched(name):
    layer = FACTORIES[name](1)
    y = layer(X, training=False)
    assert isinstance(y, lamina.Tensor) and y.dtype == "float32"
    assert tuple(y.shape) == tuple(layer.compute_output_shape(X.shape))
    if name != "RandomCrop":
        np.testing.assert_array_equal(np_(y), X)  # the identity at inference
    one = layer(X[2], training=True)
    assert tuple(one.shape) == tuple(layer.compute_output_shape(X[2].shape))
    np.testing.assert_allclose(np_(layer(X[2], training=False)), np_(y)[2], atol=1e-6)
    # channels_first
    cf = FACTORIES[name](1)
    cf.data_format = "channels_first"
    xc = X.transpose(0, 3, 1, 2)
    assert tuple(cf(xc, training=True).shape) == tuple(cf.compute_output_shape(xc.shape))
    # Functional models: symbolic output shape, predict is deterministic.
    i = lamina.Input(X.shape[1:])
    model = lamina.Model(i, FACTORIES[name](1)(i))
    assert tuple(model.output.shape) == (None,) + tuple(y.shape[1:])
    np.testing.assert_array_equal(model.predict(X, verbose=0), model.predict(X, verbose=0))


def test_integer_images_give_float_outputs():
    xi = (X * 255).astype("int32")
    for name in ("RandomRotation", "RandomFlip", "RandomCrop"):
        assert FACTORIES[name](1)(xi, training=True).dtype == "float32"
    assert FACTORIES["RandomRotation"](1)(xi, training=False).dtype == "float32"


def test_crop_inference_is_centre_crop_and_resize():
    x = np.arange(2 * 8 * 12, dtype="float32").reshape(2, 8, 12, 1)
    out = np_(L.RandomCrop(4, 6, seed=0)(x, training=False))
    # Same aspect ratio: the whole image, halved (bilinear, half-pixel centres).
    want = (x[:, 0::2, 0::2] + x[:, 1::2, 0::2] + x[:, 0::2, 1::2] + x[:, 1::2, 1::2]) / 4
    np.testing.assert_allclose(out, want, atol=1e-5)
    # Target aspect 1: the centred 8x8 window, exactly when sizes agree.
    out = np_(L.RandomCrop(8, 8)(x, training=False))
    np.testing.assert_array_equal(out, x[:, :, 2:10])
    # Training with an input not larger than the target: Keras's fallback, a
    # target-sized window at the centred window's corner, here the same window.
    np.testing.assert_array_equal(np_(L.RandomCrop(8, 8)(x, training=True)), out)


# ---- (c) configs --------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_config_round_trip(name):
    layer = FACTORIES[name](21)
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    twin = FACTORIES[name](21)
    np.testing.assert_array_equal(np_(clone(X, training=True)), np_(twin(X, training=True)))
    # Through the saving registry, by class name.
    restored = L.deserialize(L.serialize(layer))
    assert type(restored) is type(layer) and restored.get_config() == config


def test_model_json_round_trip():
    model = lamina.Sequential(
        [lamina.Input((9, 8, 3))]
        + [FACTORIES[name](5) for name in sorted(FACTORIES)]
        + [L.Flatten()]
    )
    restored = lamina.models.model_from_json(model.to_json())
    assert [type(layer).__name__ for layer in restored.layers] == sorted(FACTORIES) + ["Flatten"]
    for a, b in zip(model.layers, restored.layers):
        # JSON has no tuples (a (lower, upper) factor comes back a list, as in Keras).
        assert json.loads(json.dumps(a.get_config())) == json.loads(json.dumps(b.get_config()))
    np.testing.assert_array_equal(restored.predict(X, verbose=0), model.predict(X, verbose=0))


def test_config_values():
    layer = L.RandomRotation(0.2, fill_mode="constant", interpolation="nearest", fill_value=0.5)
    c = layer.get_config()
    assert c["factor"] == (-0.2, 0.2) and c["fill_mode"] == "constant"
    assert c["interpolation"] == "nearest"
    assert c["fill_value"] == 0.5 and c["data_format"] == "channels_last"
    assert L.RandomRotation((0.3, -0.1)).factor == (-0.1, 0.3)
    c = L.RandomZoom(0.2).get_config()
    assert c["height_factor"] == 0.2 and c["width_factor"] is None
    # RandomCrop fixes its seed at construction, as Keras.
    assert isinstance(L.RandomCrop(3, 3).get_config()["seed"], int)


# ---- (d) bad input --------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FACTORIES))
@pytest.mark.parametrize("shape", [(4, 5), (2, 4, 5, 6, 3)])
def test_wrong_rank(name, shape):
    layer = FACTORIES[name](1)
    with pytest.raises(ValueError, match=rf"{name} '{layer.name}'.*rank-3.*rank-4"):
        layer(np.zeros(shape, "float32"), training=True)


@pytest.mark.parametrize(
    "make,arg",
    [
        (lambda: L.RandomRotation(0.1, fill_mode="mirror"), "fill_mode"),
        (lambda: L.RandomTranslation(0.1, 0.1, fill_mode="edge"), "fill_mode"),
        (lambda: L.RandomZoom(0.1, interpolation="bicubic"), "interpolation"),
        (lambda: L.RandomRotation(1.5), "factor"),
        (lambda: L.RandomRotation((1.2, 2.0)), "factor"),
        (lambda: L.RandomRotation("0.1"), "factor"),
        (lambda: L.RandomTranslation(1.2, 0.1), "height_factor"),
        (lambda: L.RandomTranslation(0.1, (-0.5, 1.5)), "width_factor"),
        (lambda: L.RandomZoom(-1.0), "height_factor"),
        (lambda: L.RandomZoom(0.1, (0.1, 0.2, 0.3)), "width_factor"),
        (lambda: L.RandomContrast(1.5), "factor"),
        (lambda: L.RandomContrast(-0.2), "factor"),
        (lambda: L.RandomCrop(0, 5), "height"),
        (lambda: L.RandomCrop(5, 2.5), "width"),
        (lambda: L.RandomFlip("diagonal"), "mode"),
    ],
)
def test_bad_arguments(make, arg):
    with pytest.raises(ValueError, match=rf"^Random\w+ '\w+'.*`{arg}`"):
        make()


def test_unknown_fill_mode_is_also_not_implemented_error_as_keras():
    with pytest.raises(NotImplementedError):
        L.RandomZoom(0.1, fill_mode="mirror")


def test_affine_transform_bad_arguments():
    img = np.zeros((2, 4, 4, 1))
    t = np.tile([1.0, 0, 0, 0, 1, 0, 0, 0], (2, 1))
    with pytest.raises(ValueError, match="fill_mode"):
        affine_transform(img, t, fill_mode="mirror")
    with pytest.raises(ValueError, match="interpolation"):
        affine_transform(img, t, interpolation="cubic")
    with pytest.raises(ValueError, match="rank"):
        affine_transform(img[0, 0], t)
    with pytest.raises(ValueError, match="transform"):
        affine_transform(img, t[:, :6])
    with pytest.raises(ValueError, match="3 transforms for a batch of 2"):
        affine_transform(img, np.tile(t[:1], (3, 1)))


# ---- (e) a model with every augmentation layer fits -------------------------


def test_model_with_augmentation_fits_one_epoch():
    lamina.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (64, 16, 16, 1)).astype("float32")
    y = rng.integers(0, 3, 64)
    model = lamina.Sequential(
        [
            lamina.Input((16, 16, 1)),
            L.RandomFlip("horizontal"),
            L.RandomRotation(0.1),
            L.RandomTranslation(0.1, 0.1),
            L.RandomZoom(0.1),
            L.RandomContrast(0.2, value_range=(0, 1)),
            L.RandomCrop(12, 12),
            L.Conv2D(4, 3, activation="relu"),
            L.Flatten(),
            L.Dense(3, activation="softmax"),
        ]
    )
    assert tuple(model.output_shape) == (None, 3)
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))


# ---- (b) Keras parity (skipped without keras) ---------------------------------


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("keras")


def knp(keras, x):
    return np.asarray(keras.ops.convert_to_numpy(x))


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("fill_mode", FILL_MODES)
def test_affine_transform_matches_keras(keras, fill_mode, interpolation):
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1, (4, 7, 9, 2)).astype("float32")
    # Keras's torch backend ignores c0, c1: affine rows only.
    t = random_transforms(4, rng, shift=14.0).astype("float32")
    kat = keras.ops.image.affine_transform
    want = knp(keras, kat(x, t, interpolation, fill_mode, 0.3))
    got = affine_transform(x, t, interpolation, fill_mode, 0.3)
    np.testing.assert_allclose(np_(got), want, atol=1e-6)
    one = x[0].transpose(2, 0, 1)
    want = knp(keras, kat(one, t[0], interpolation, fill_mode, 0.3, data_format="channels_first"))
    got = affine_transform(one, t[0], interpolation, fill_mode, 0.3, data_format="channels_first")
    np.testing.assert_allclose(np_(got), want, atol=1e-6)
    xi = (x * 255).astype("int32")
    want = knp(keras, keras.ops.image.affine_transform(xi, t, interpolation, fill_mode, 7))
    np.testing.assert_array_equal(np_(affine_transform(xi, t, interpolation, fill_mode, 7)), want)


KERAS_LAYERS = {
    "RandomFlip": lambda m: m.RandomFlip("horizontal", seed=1),
    "RandomRotation": lambda m: m.RandomRotation((-0.2, 0.3), fill_mode="wrap", seed=1),
    "RandomRotationNearest": lambda m: m.RandomRotation(0.4, fill_mode="constant", fill_value=0.5,
                                                        interpolation="nearest", seed=1),
    "RandomTranslation": lambda m: m.RandomTranslation(
        0.3, (-0.2, 0.4), fill_mode="nearest", seed=1
    ),
    "RandomZoom": lambda m: m.RandomZoom((-0.4, 0.3), seed=1),
    "RandomZoomXY": lambda m: m.RandomZoom(0.3, (-0.2, 0.1), fill_mode="constant", seed=1),
    "RandomCrop": lambda m: m.RandomCrop(5, 6, seed=1),
    "RandomContrast": lambda m: m.RandomContrast(0.4, value_range=(0, 1), seed=1),
}


@pytest.mark.parametrize("name", sorted(KERAS_LAYERS))
def test_layer_signature_config_and_shapes_match_keras(keras, name):
    kl, ll = KERAS_LAYERS[name](keras.layers), KERAS_LAYERS[name](L)
    kp = inspect.signature(type(kl).__init__).parameters
    lp = inspect.signature(type(ll).__init__).parameters
    assert [(p, kp[p].default) for p in kp] == [(p, lp[p].default) for p in lp]
    kc, lc = kl.get_config(), ll.get_config()
    assert set(kc) <= set(lc)
    for key in set(kc) - {"name", "dtype"}:
        a, b = kc[key], lc[key]
        a, b = (list(v) if isinstance(v, tuple) else v for v in (a, b))
        assert a == b, key
    for shape in [(4, 10, 11, 3), (None, 10, 11, 3), (10, 11, 3)]:
        assert tuple(ll.compute_output_shape(shape)) == tuple(kl.compute_output_shape(shape))
    kl_cf = type(kl).from_config({**kc, "data_format": "channels_first"})
    ll_cf = type(ll).from_config({**lc, "data_format": "channels_first"})
    shape = (4, 3, 10, 11)
    assert tuple(ll_cf.compute_output_shape(shape)) == tuple(kl_cf.compute_output_shape(shape))


@pytest.mark.parametrize("name", sorted(KERAS_LAYERS))
def test_layer_inference_matches_keras(keras, name):
    kl, ll = KERAS_LAYERS[name](keras.layers), KERAS_LAYERS[name](L)
    x = RNG.uniform(0, 1, (3, 10, 11, 2)).astype("float32")
    if name == "RandomCrop":
        # Keras 3.15's call returns the input unchanged at inference, against its
        # docstring and compute_output_shape; lamina does what it documents: the
        # largest centred window of the target aspect ratio, resized.
        want = keras.ops.image.resize(x, (kl.height, kl.width), crop_to_aspect_ratio=True)
    else:
        want = kl(x, training=False)
    np.testing.assert_allclose(np_(ll(x, training=False)), knp(keras, want), atol=1e-6)


def _inject(layer, draws):
    """Makes the layer's random draws return `draws` in order."""
    queue = [np.asarray(d, np.float32) for d in draws]
    layer._uniform = lambda shape, low, high: queue.pop(0).reshape(shape)


WARPS = ["RandomRotation", "RandomRotationNearest", "RandomTranslation", "RandomZoom",
         "RandomZoomXY"]


@pytest.mark.parametrize("name", WARPS)
@pytest.mark.parametrize("batched", [True, False])
def test_training_warp_matches_keras_given_its_random_parameters(keras, name, batched):
    kl, ll = KERAS_LAYERS[name](keras.layers), KERAS_LAYERS[name](L)
    x = RNG.uniform(0, 1, (5, 10, 11, 2)).astype("float32")
    if not batched:
        x = x[0]
    t = kl.get_random_transformation(x, training=True)
    if "Rotation" in name:
        draws = [knp(keras, t["angle"])]
    elif "Translation" in name:
        tr = knp(keras, t["translations"])
        draws = [tr[:, 1] / 10.0, tr[:, 0] / 11.0]  # fractions of height, width
    else:
        draws = [knp(keras, t["height_zoom"])[:, 0]]
        if ll.width_factor is not None:
            draws.append(knp(keras, t["width_zoom"])[:, 0])
    _inject(ll, draws)
    want = knp(keras, kl.transform_single_image(x, t) if not batched else kl.transform_images(x, t))
    got = np_(ll(x, training=True))
    if "Nearest" in name:
        # Float rounding may move a point across a pixel's half-way line.
        assert np.mean(np.abs(got - want) > 1e-5) < 0.01
    else:
        np.testing.assert_allclose(got, want, atol=2e-5)


def test_crop_small_input_training_matches_keras(keras):
    # Input not larger than the target in both dimensions: Keras centre-crops
    # and resizes in training too (deterministic).
    x = RNG.uniform(0, 1, (2, 6, 14, 3)).astype("float32")
    for h, w in [(8, 8), (6, 10), (12, 5)]:
        want = knp(keras, keras.layers.RandomCrop(h, w, seed=1)(x, training=True))
        got = L.RandomCrop(h, w, seed=1)(x, training=True)
        np.testing.assert_allclose(np_(got), want, atol=1e-5)
