"""Autograd semantics: backward, accumulation, no_grad, detach, graph lifetime, GradientTape."""

import numpy as np
import pytest

import lamina
from lamina import ops

from testutil import to_np


def leaf(values, dtype="float64"):
    return lamina.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# ---- backward ----------------------------------------------------------------------


def test_backward_fills_leaf_grads():
    x = leaf([1.0, 2.0, 3.0])
    w = leaf([0.5, -1.0, 2.0])
    c = lamina.tensor(np.array([1.0, 1.0, 1.0]))  # does not require grad
    y = ops.sum(x * w + c)
    assert y.shape == () and y.requires_grad and not y.is_leaf
    assert y.grad_fn is not None
    y.backward()
    np.testing.assert_allclose(to_np(x.grad), [0.5, -1.0, 2.0])
    np.testing.assert_allclose(to_np(w.grad), [1.0, 2.0, 3.0])
    assert c.grad is None
    assert x.grad.shape == x.shape and x.grad.dtype == "float64"


def test_backward_float32():
    x = leaf([1.0, -2.0], "float32")
    (x * x).sum().backward()
    assert x.grad.dtype == "float32"
    np.testing.assert_allclose(to_np(x.grad), [2.0, -4.0])


def test_backward_through_shared_subexpression():
    x = leaf([2.0])
    a = x * x  # used twice
    y = ops.sum(a * a + a)  # x^4 + x^2
    y.backward()
    np.testing.assert_allclose(to_np(x.grad), [4 * 8 + 2 * 2])


def test_backward_of_leaf_itself():
    x = lamina.tensor(np.array(3.0), requires_grad=True)
    x.backward()
    assert float(x.grad) == 1.0


def test_gradients_accumulate():
    x = leaf([1.0, 2.0])
    ops.sum(x * x).backward()
    ops.sum(x * x).backward()
    np.testing.assert_allclose(to_np(x.grad), [4.0, 8.0])
    ops.sum(3 * x).backward()
    np.testing.assert_allclose(to_np(x.grad), [7.0, 11.0])


def test_clearing_grad():
    x = leaf([1.0, 2.0])
    ops.sum(x * x).backward()
    x.grad = None
    assert x.grad is None
    ops.sum(x).backward()
    np.testing.assert_allclose(to_np(x.grad), [1.0, 1.0])


def test_grad_of_accumulated_views_does_not_alias():
    """x.grad from sum() must hold correct values after later ops and backward calls."""
    x = leaf(np.ones((2, 3)))
    ops.sum(x).backward()
    g1 = to_np(x.grad)
    ops.sum(2 * x).backward()
    np.testing.assert_allclose(g1, np.ones((2, 3)))
    np.testing.assert_allclose(to_np(x.grad), 3 * np.ones((2, 3)))


def test_grad_owns_its_memory():
    """.grad is a dense tensor of its own: not a broadcast view, not the output gradient."""
    x = leaf(np.ones(3))
    ops.sum(x).backward()
    assert x.grad.is_contiguous()
    with lamina.no_grad():
        x.grad[0] = 5.0
    np.testing.assert_array_equal(to_np(x.grad), [5.0, 1.0, 1.0])
    y = leaf(np.ones(3))
    g = lamina.tensor(np.array([1.0, 2.0, 3.0]))
    (y + 0).backward(g)
    y.grad[0] = 100.0
    np.testing.assert_array_equal(to_np(g), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(to_np(y.grad), [100.0, 2.0, 3.0])


def test_tape_gradient_owns_its_memory():
    x = lamina.tensor(np.ones((2, 2)))
    with lamina.GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(x)
    g = tape.gradient(y, x)
    assert g.is_contiguous()
    g[0, 0] = 9.0
    np.testing.assert_array_equal(to_np(g), [[9.0, 1.0], [1.0, 1.0]])


def test_backward_non_scalar_requires_gradient():
    x = leaf([1.0, 2.0])
    y = x * 2
    with pytest.raises(ValueError, match="scalar"):
        y.backward()
    y.backward(gradient=lamina.tensor(np.array([1.0, 10.0])))
    np.testing.assert_allclose(to_np(x.grad), [2.0, 20.0])


def test_backward_explicit_gradient_numpy_and_shape_check():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = x * x
    y.backward(np.array([[1.0, 0.0], [0.0, 2.0]]))
    np.testing.assert_allclose(to_np(x.grad), [[2.0, 0.0], [0.0, 16.0]])
    z = x * 3
    with pytest.raises(ValueError, match=r"\(3,\)"):
        z.backward(lamina.tensor(np.ones(3)))


def test_backward_on_tensor_without_grad_raises():
    t = lamina.tensor([1.0, 2.0])
    with pytest.raises(ValueError):
        ops.sum(t).backward()


def test_graph_freed_after_backward():
    x = leaf([1.0, 2.0])
    y = ops.sum(ops.exp(x) * x)
    y.backward()
    with pytest.raises((RuntimeError, ValueError), match="retain_graph"):
        y.backward()
    np.testing.assert_allclose(to_np(x.grad), np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0])))


def test_retain_graph():
    x = leaf([1.0, 2.0])
    y = ops.sum(x * x * x)
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(to_np(x.grad), 2 * 3 * np.array([1.0, 4.0]))
    with pytest.raises((RuntimeError, ValueError), match="retain_graph"):
        y.backward()


def test_freed_intermediate_shared_by_new_graph_raises():
    x = leaf([1.0])
    h = x * 2
    ops.sum(h).backward()
    y = ops.sum(h * 3)  # reuses h's freed graph
    with pytest.raises((RuntimeError, ValueError), match="retain_graph"):
        y.backward()


def test_int_tensors_cannot_require_grad():
    with pytest.raises(TypeError):
        lamina.tensor([1, 2]).requires_grad = True


def test_int_outputs_do_not_require_grad():
    x = leaf([1.5, 2.5])
    assert not ops.argmax(x).requires_grad
    assert not (x > 2).requires_grad
    assert not ops.cast(x, "int32").requires_grad


def test_cast_backward():
    x = leaf([1.0, 2.0], "float32")
    y = ops.sum(ops.cast(x, "float64") * 3)
    y.backward()
    assert x.grad.dtype == "float32"
    np.testing.assert_allclose(to_np(x.grad), [3.0, 3.0])


def test_leaf_and_nonleaf_properties():
    x = leaf([1.0])
    y = x * 2
    assert x.is_leaf and not y.is_leaf
    assert y.grad_fn == "multiply"
    with pytest.raises(ValueError):
        y.requires_grad = False


# ---- no_grad / enable_grad / detach --------------------------------------------------------


def test_no_grad_records_nothing():
    x = leaf([1.0, 2.0])
    with lamina.no_grad():
        y = x * x
        z = ops.sum(ops.exp(y))
    assert not y.requires_grad and not z.requires_grad
    assert y.grad_fn is None and y.is_leaf
    with pytest.raises(ValueError):
        z.backward()
    # grad mode is restored afterwards
    assert (x * x).requires_grad


def test_no_grad_restores_on_exception():
    x = leaf([1.0])
    with pytest.raises(RuntimeError):
        with lamina.no_grad():
            raise RuntimeError("boom")
    assert (x * 2).requires_grad


def test_enable_grad_inside_no_grad():
    x = leaf([1.0])
    with lamina.no_grad():
        with lamina.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad and not z.requires_grad


def test_detach():
    x = leaf([1.0, 2.0])
    y = x * 3
    d = y.detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    np.testing.assert_allclose(to_np(d), [3.0, 6.0])
    # detach shares memory
    y.numpy()[0] = 100.0
    assert to_np(d)[0] == 100.0
    # gradient stops at the detached tensor
    z = ops.sum(x * d)
    z.backward()
    np.testing.assert_allclose(to_np(x.grad), [100.0, 6.0])
    s = ops.stop_gradient(x * x)
    assert not s.requires_grad


# ---- GradientTape -------------------------------------------------------------------------


def test_tape_watch_single_source():
    x = lamina.tensor([1.0, 2.0])
    with lamina.GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(x * x)
    g = tape.gradient(y, x)
    assert isinstance(g, lamina.Tensor)
    np.testing.assert_allclose(to_np(g), [2.0, 4.0])
    assert x.grad is None, "tape.gradient must not touch .grad"


def test_tape_list_sources_and_nested():
    a = lamina.tensor([1.0, 2.0])
    b = lamina.tensor([3.0])
    with lamina.GradientTape() as tape:
        tape.watch([a, b])
        y = ops.sum(a * a) * ops.sum(b)
    ga, gb = tape.gradient(y, [a, b])
    np.testing.assert_allclose(to_np(ga), 2 * np.array([1.0, 2.0]) * 3.0)
    np.testing.assert_allclose(to_np(gb), [5.0])


def test_tape_nested_structure():
    a = lamina.tensor([1.0])
    b = lamina.tensor([2.0])
    with lamina.GradientTape(persistent=True) as tape:
        tape.watch([a, b])
        y = ops.sum(a * b)
    out = tape.gradient(y, [a, (b, a)])
    assert isinstance(out, list) and isinstance(out[1], tuple)
    np.testing.assert_allclose(to_np(out[0]), [2.0])
    np.testing.assert_allclose(to_np(out[1][0]), [1.0])


def test_tape_persistent():
    x = lamina.tensor([3.0])
    with lamina.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = ops.sum(x * x)
        z = ops.sum(x * x * x)
    np.testing.assert_allclose(to_np(tape.gradient(y, x)), [6.0])
    np.testing.assert_allclose(to_np(tape.gradient(z, x)), [27.0])
    np.testing.assert_allclose(to_np(tape.gradient(y, x)), [6.0])


def test_tape_non_persistent_second_call_raises():
    x = lamina.tensor([3.0])
    with lamina.GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(x * x)
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="persistent"):
        tape.gradient(y, x)


def test_tape_unwatched_source_gives_none():
    x = lamina.tensor([1.0])
    u = lamina.tensor([2.0])
    with lamina.GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(x * u)
    gx, gu = tape.gradient(y, [x, u])
    np.testing.assert_allclose(to_np(gx), [2.0])
    assert gu is None


def test_tape_target_without_graph_gives_none():
    x = lamina.tensor([1.0])
    with lamina.GradientTape() as tape:
        y = ops.sum(x * 2)
    assert tape.gradient(y, x) is None


def test_tape_watches_requires_grad_automatically():
    w = lamina.tensor([2.0, -1.0], requires_grad=True)
    with lamina.GradientTape() as tape:
        y = ops.sum(w * w * w)
    np.testing.assert_allclose(to_np(tape.gradient(y, w)), 3 * np.array([4.0, 1.0]))


def test_tape_records_inside_no_grad():
    x = lamina.tensor([1.0])
    with lamina.no_grad():
        with lamina.GradientTape() as tape:
            tape.watch(x)
            y = ops.sum(x * 5)
        assert not (x * 1).requires_grad
    np.testing.assert_allclose(to_np(tape.gradient(y, x)), [5.0])


def test_tape_gradient_wrt_intermediate():
    x = lamina.tensor([1.0, 2.0])
    with lamina.GradientTape() as tape:
        tape.watch(x)
        h = x * 3
        y = ops.sum(h * h)
    gh, gx = tape.gradient(y, [h, x])
    np.testing.assert_allclose(to_np(gh), 2 * np.array([3.0, 6.0]))
    np.testing.assert_allclose(to_np(gx), 18 * np.array([1.0, 2.0]))


def test_tape_output_gradients():
    x = lamina.tensor([1.0, 2.0])
    with lamina.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    g = tape.gradient(y, x, output_gradients=lamina.tensor([1.0, 0.5]))
    np.testing.assert_allclose(to_np(g), [2.0, 2.0])


def test_tape_rejects_non_tensors():
    with lamina.GradientTape() as tape:
        with pytest.raises(TypeError):
            tape.watch(np.ones(2))
