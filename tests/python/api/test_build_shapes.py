"""Which shapes `build` and `compute_output_shape` receive (Keras 3's rules):
a one-argument `build(input_shape)` gets the shape of the first tensor
argument of `call` only; `build(a_shape, b_shape)` gets the shapes of the
`call` arguments `a` and `b` by name; masks never count as inputs."""

import os

import numpy as np
import pytest

import lamina

# Keras warns that OneArgBuild drops the mask it was given (the point of the case).
pytestmark = pytest.mark.filterwarnings("ignore:Layer 'one_arg_build'")


def _keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        import keras

        keras.layers  # noqa: B018
        return keras
    except Exception as e:  # not installed, or no usable backend
        pytest.skip(f"Keras is not installed here ({type(e).__name__}: {e})")


def _layer_classes(base):
    """The same custom layers, subclassing lamina's or Keras's `Layer`."""

    class OneArgBuild(base):
        def build(self, input_shape):
            self.seen = input_shape

        def call(self, x, y, mask=None):
            return x + y[:, :1]

    class NamedBuild(base):
        def build(self, a_shape, b_shape):
            self.seen = (a_shape, b_shape)

        def call(self, a, b=None, scale=1.0):
            return a * scale

        def compute_output_shape(self, a_shape, b_shape):
            return tuple(a_shape[:-1]) + (a_shape[-1] + b_shape[-1],)

    class BadName(base):
        def build(self, a_shape, other):
            pass

        def call(self, a, b):
            return a

    class UnknownArg(base):
        def build(self, a_shape, c_shape):
            pass

        def call(self, a, b):
            return a

    return OneArgBuild, NamedBuild, BadName, UnknownArg


def _shape(s):
    return None if s is None else tuple(s)


def test_build_gets_shapes_as_keras_describes():
    with pytest.raises(TypeError):
        # build(a_shape, b_shape) without `b`: Keras calls build(a_shape=...) and it fails the same way.
        _layer_classes(lamina.layers.Layer)[1]()(np.ones((2, 3), "float32"))
    one, named, _, _ = _layer_classes(lamina.layers.Layer)
    x, y = np.ones((2, 3), "float32"), np.ones((2, 5), "float32")
    layer = one()
    layer(x, y, mask=np.ones((2, 3), "bool"))
    assert layer.seen == (2, 3)  # only the first input, not y nor the mask
    assert layer.get_build_config() == {"input_shape": (2, 3)}
    layer = named()
    layer(x, b=y, scale=2.0)
    assert tuple(map(tuple, layer.seen)) == ((2, 3), (2, 5))
    sym = named()(lamina.Input((3,)), b=lamina.Input((5,)))
    assert tuple(sym.shape) == (None, 8)  # compute_output_shape by name too


@pytest.mark.parametrize("cls_index,match", [(2, "`other`, which does not end in `_shape`"),
                                             (3, "`call\\(\\)` does not have argument `c`")])
def test_build_argument_names_are_checked(cls_index, match):
    cls = _layer_classes(lamina.layers.Layer)[cls_index]
    with pytest.raises(ValueError, match=match):
        cls()(np.ones((2, 3), "float32"), np.ones((2, 3), "float32"))


def test_build_shapes_match_keras():
    keras = _keras()
    ours = _record(lamina.layers.Layer, lamina.Input)
    theirs = _record(keras.layers.Layer, keras.Input)
    assert ours == theirs


def _record(base, make_input):
    """What `build` receives in each case, and the errors' texts."""
    one, named, bad, unknown = _layer_classes(base)
    x, y, m = np.ones((2, 3), "float32"), np.ones((2, 5), "float32"), np.ones((2, 3), "bool")
    out = {}
    layer = one()
    layer(x, y, mask=m)
    out["one"] = _shape(layer.seen)
    layer = one()
    layer(x, y=y)
    out["one_kw"] = _shape(layer.seen)
    layer = named()
    layer(x, b=y, scale=2.0)
    out["named"] = tuple(_shape(s) for s in layer.seen)
    out["named_build_config"] = {k: _shape(v) for k, v in layer.get_build_config()["shapes_dict"].items()}
    out["named_symbolic"] = tuple(named()(make_input((3,)), b=make_input((5,))).shape)
    with pytest.raises(TypeError):
        named()(x)  # `b` missing: build(a_shape=...) lacks b_shape
    for key, cls in (("bad", bad), ("unknown", unknown)):
        with pytest.raises(ValueError) as err:
            cls()(x, y)
        out[key] = str(err.value)
    return out


def test_multi_head_attention_builds_from_query_value_and_key():
    mha = lamina.layers.MultiHeadAttention(num_heads=2, key_dim=3)
    q, v, k = np.ones((2, 4, 6), "float32"), np.ones((2, 5, 7), "float32"), np.ones((2, 5, 8), "float32")
    mha(q, v, key=k, attention_mask=np.ones((2, 4, 5), "bool"))
    assert mha.get_build_config() == {"shapes_dict": {"query_shape": (2, 4, 6), "value_shape": (2, 5, 7),
                                                      "key_shape": (2, 5, 8)}}
    assert tuple(mha.key_dense.kernel.shape) == (8, 2, 3)
    assert tuple(mha.value_dense.kernel.shape) == (7, 2, 3)
