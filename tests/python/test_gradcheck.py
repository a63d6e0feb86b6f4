"""Every differentiable op's backward against central finite differences (float64)."""

import numpy as np
import pytest

import lamina
from lamina import ops

from testutil import check_grad, to_np

R = np.random.default_rng(42)


def u(*shape, lo=-2.0, hi=2.0):
    return R.uniform(lo, hi, size=shape)


def away_from_zero(*shape, margin=0.2):
    """Values with |x| >= margin (for ops with a kink at 0)."""
    x = R.uniform(margin, 2.0, size=shape)
    return x * np.where(R.random(shape) < 0.5, -1.0, 1.0)


def distinct(*shape):
    """Values with no two closer than 0.05, so max/min/sort have a unique winner."""
    n = int(np.prod(shape)) if shape else 1
    return (R.permutation(n) * 0.1 - n * 0.05 + R.uniform(0, 0.02, n)).reshape(shape)


# ---- elementwise -----------------------------------------------------------------------

UNARY = {
    "negative": (ops.negative, lambda s: u(*s)),
    "abs": (ops.abs, lambda s: away_from_zero(*s)),
    "exp": (ops.exp, lambda s: u(*s)),
    "log": (ops.log, lambda s: u(*s, lo=0.3, hi=3)),
    "log1p": (ops.log1p, lambda s: u(*s, lo=-0.7, hi=3)),
    "expm1": (ops.expm1, lambda s: u(*s)),
    "sqrt": (ops.sqrt, lambda s: u(*s, lo=0.3, hi=3)),
    "square": (ops.square, lambda s: u(*s)),
    "sign": (ops.sign, lambda s: away_from_zero(*s)),
    "tanh": (ops.tanh, lambda s: u(*s)),
    "sigmoid": (ops.sigmoid, lambda s: u(*s)),
    "relu": (ops.relu, lambda s: away_from_zero(*s)),
    "erf": (ops.erf, lambda s: u(*s)),
    "sin": (ops.sin, lambda s: u(*s)),
    "cos": (ops.cos, lambda s: u(*s)),
    "reciprocal": (ops.reciprocal, lambda s: away_from_zero(*s, margin=0.5)),
    "relu6": (ops.relu6, lambda s: np.where(R.random(s) < 0.3, 7.0, 1.0) * away_from_zero(*s)),
    "leaky_relu": (ops.leaky_relu, lambda s: away_from_zero(*s)),
    "elu": (ops.elu, lambda s: away_from_zero(*s)),
    "selu": (ops.selu, lambda s: away_from_zero(*s)),
    "gelu_tanh": (lambda x: ops.gelu(x, approximate=True), lambda s: u(*s, lo=-4, hi=4)),
    "gelu_erf": (lambda x: ops.gelu(x, approximate=False), lambda s: u(*s, lo=-4, hi=4)),
    "silu": (ops.silu, lambda s: u(*s, lo=-4, hi=4)),
    "softplus": (ops.softplus, lambda s: u(*s, lo=-4, hi=4)),
    "pow_scalar": (lambda x: x ** 3, lambda s: u(*s)),
    "rpow_scalar": (lambda x: 2.0 ** x, lambda s: u(*s)),
    "scalar_div": (lambda x: 3.0 / x, lambda s: away_from_zero(*s, margin=0.5)),
    "mul_scalar": (lambda x: x * 2.5 - 1.0, lambda s: u(*s)),
    "softsign": (ops.softsign, lambda s: away_from_zero(*s)),
    "log_sigmoid": (ops.log_sigmoid, lambda s: u(*s)),
}


@pytest.mark.parametrize("name", list(UNARY))
@pytest.mark.parametrize("shape", [(), (3, 4)], ids=str)
def test_unary_grad(name, shape):
    fn, gen = UNARY[name]
    check_grad(fn, gen(shape))


BINARY = {
    "add": (ops.add, lambda sa, sb: (u(*sa), u(*sb))),
    "subtract": (ops.subtract, lambda sa, sb: (u(*sa), u(*sb))),
    "multiply": (ops.multiply, lambda sa, sb: (u(*sa), u(*sb))),
    "divide": (ops.divide, lambda sa, sb: (u(*sa), away_from_zero(*sb, margin=0.5))),
    "power": (ops.power, lambda sa, sb: (u(*sa, lo=0.3, hi=2), u(*sb))),
    "maximum": (ops.maximum, lambda sa, sb: _separated(sa, sb)),
    "minimum": (ops.minimum, lambda sa, sb: _separated(sa, sb)),
    "operators": (lambda a, b: (a + b) * a - b / (b * b + 1) + a ** 2, lambda sa, sb: (u(*sa), u(*sb))),
}


def _separated(sa, sb):
    a = u(*sa)
    b = u(*sb)
    ab = np.broadcast_arrays(a, b)
    close = np.abs(ab[0] - ab[1]) < 0.1
    while close.any():
        a = u(*sa)
        b = u(*sb)
        ab = np.broadcast_arrays(a, b)
        close = np.abs(ab[0] - ab[1]) < 0.1
    return a, b


BROADCAST_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 3), (4, 1)), ((), (3,)), ((3, 1), (1, 2))]


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("sa, sb", BROADCAST_SHAPES, ids=str)
def test_binary_grad_with_broadcasting(name, sa, sb):
    fn, gen = BINARY[name]
    check_grad(fn, *gen(sa, sb))


def test_power_grad_wrt_exponent_at_zero_base():
    # d/db 0^b is taken as 0 (the limit from a > 0); d/da at a=0, b=2 is 0.
    a = lamina.tensor(np.array([0.0, 2.0]), requires_grad=True)
    b = lamina.tensor(np.array([2.0, 3.0]), requires_grad=True)
    ops.sum(a ** b).backward()
    np.testing.assert_allclose(to_np(a.grad), [0.0, 12.0])
    np.testing.assert_allclose(to_np(b.grad), [0.0, 8.0 * np.log(2.0)])


@pytest.mark.parametrize("sc, sa, sb", [((3, 4), (3, 4), (3, 4)), ((3, 1), (4,), ()), ((4,), (3, 4), (3, 1))], ids=str)
def test_where_grad(sc, sa, sb):
    cond = lamina.tensor(R.random(sc) < 0.5)
    check_grad(lambda a, b: ops.where(cond, a, b), u(*sa), u(*sb))


def test_where_grad_with_python_scalar():
    cond = lamina.tensor(np.array([True, False, True]))
    check_grad(lambda a: ops.where(cond, a * a, 0.0), u(3))


def test_clip_grad():
    x = np.array([-3.0, -1.5, -0.5, 0.0, 0.7, 1.9, 2.5, 4.0])
    check_grad(lambda t: ops.clip(t, -1.0, 2.0), x)


def test_clip_grad_tensor_bounds():
    x = np.array([[-3.0, 0.5, 3.0], [0.1, -0.2, 5.0]])
    lo = np.array([-1.0, -0.5, -2.0])
    hi = np.array([[1.0], [2.0]])
    check_grad(lambda t, l, h: ops.clip(t, l, h), x, lo, hi)


# ---- reductions --------------------------------------------------------------------------

AXES = [None, 0, -1, (0, 2), (1,), ()]


# std over no axes is sqrt(0), which has no derivative.
RED_CASES = [(op, ax) for op in ["sum", "mean", "var", "std", "logsumexp", "prod"] for ax in AXES if not (op == "std" and ax == ())]


@pytest.mark.parametrize("op, axis", RED_CASES, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_grad(op, axis, keepdims):
    x = u(2, 3, 4, lo=0.5, hi=1.5) if op == "prod" else u(2, 3, 4)
    check_grad(lambda t: getattr(ops, op)(t, axis=axis, keepdims=keepdims), x)


@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_max_min_grad_distinct(op, axis, keepdims):
    check_grad(lambda t: getattr(ops, op)(t, axis=axis, keepdims=keepdims), distinct(2, 3, 4))


def test_max_grad_ties_share_equally():
    x = lamina.tensor(np.array([1.0, 3.0, 3.0, 2.0]), requires_grad=True)
    ops.max(x).backward()
    np.testing.assert_allclose(to_np(x.grad), [0.0, 0.5, 0.5, 0.0])


def test_prod_grad_with_zeros():
    # One zero in a row: only the zero entry gets a gradient (the product of the
    # others); two zeros: every entry's gradient is 0.
    x = np.array([[2.0, 0.0, 3.0], [1.5, -2.0, 0.5], [0.0, 4.0, 0.0]])
    check_grad(lambda t: ops.prod(t, axis=1), x)
    check_grad(lambda t: ops.prod(t), x[:2])
    check_grad(lambda t: ops.prod(t, axis=0, keepdims=True), x)


def test_reduction_grad_on_views():
    x = u(4, 5)
    check_grad(lambda t: ops.sum(t.T[::-1, ::2] ** 2, axis=0), x)
    check_grad(lambda t: ops.var(ops.transpose(t)[1:, ::-1], axis=1), x)
    check_grad(lambda t: ops.logsumexp(t[::-2], axis=-1, keepdims=True), x)


def test_logsumexp_grad_large_inputs():
    x = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1002.0, -1001.0]])
    check_grad(lambda t: ops.logsumexp(t, axis=1), x)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_grads(axis):
    x = u(3, 4, 2)
    check_grad(lambda t: ops.softmax(t, axis=axis), x)
    check_grad(lambda t: ops.log_softmax(t, axis=axis), x)


def test_softmax_grad_large_inputs():
    x = np.array([[1000.0, 1001.0, 1002.0]])
    check_grad(lambda t: ops.softmax(t), x)
    check_grad(lambda t: ops.log_softmax(t), x)


# ---- linear algebra ------------------------------------------------------------------------------

MATMUL_SHAPES = [((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (2, 4, 1)),
                 ((2, 3, 2, 4), (4, 5)), ((2, 3, 4), (4,))]  # batch folded into rows


@pytest.mark.parametrize("sa, sb", MATMUL_SHAPES, ids=str)
def test_matmul_grad(sa, sb):
    check_grad(ops.matmul, u(*sa), u(*sb))


def test_matmul_grad_views():
    check_grad(lambda a, b: ops.matmul(a.T, b[::-1, ::2]), u(4, 3), u(4, 6))
    check_grad(lambda a: a @ a.T, u(3, 4))


def test_matmul_grad_one_side():
    b = lamina.tensor(u(4, 2))
    check_grad(lambda a: ops.matmul(a, b), u(3, 4))


@pytest.mark.parametrize("sa, sb", [((4,), (4,)), ((3, 4), (4,)), ((2, 3, 4), (5, 4, 2)), ((), (3,))], ids=str)
def test_dot_grad(sa, sb):
    check_grad(ops.dot, u(*sa), u(*sb))


EINSUM = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ij->ji", [(3, 4)]),
    ("i,i->", [(5,), (5,)]),
    ("ij,j->i", [(3, 4), (4,)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (4, 5)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("ij->j", [(3, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
]


@pytest.mark.parametrize("subscripts, shapes", EINSUM, ids=lambda v: str(v))
def test_einsum_grad(subscripts, shapes):
    check_grad(lambda *ts: ops.einsum(subscripts, *ts), *[u(*s) for s in shapes])


def test_tensordot_outer_grad():
    check_grad(lambda a, b: ops.tensordot(a, b, axes=([1, 2], [0, 1])), u(2, 3, 4), u(3, 4, 2))
    check_grad(ops.outer, u(3), u(4))


# ---- shape ops ------------------------------------------------------------------------------------

SHAPE_FNS = {
    "reshape": (lambda t: ops.reshape(t, (4, 6)), (2, 3, 4)),
    "reshape_view": (lambda t: ops.reshape(t.T, (-1,)), (3, 4)),
    "transpose": (lambda t: ops.transpose(t, (2, 0, 1)), (2, 3, 4)),
    "T": (lambda t: t.T, (3, 4)),
    "expand_dims": (lambda t: ops.expand_dims(t, 1), (3, 4)),
    "squeeze": (lambda t: ops.squeeze(t, 1), (3, 1, 4)),
    "broadcast_to": (lambda t: ops.broadcast_to(t, (2, 3, 4)), (3, 1)),
    "flip": (lambda t: ops.flip(t, 0), (3, 4)),
    "pad": (lambda t: ops.pad(t, ((1, 2), (0, 3)), constant_values=1.5), (3, 4)),
    "tile": (lambda t: ops.tile(t, (2, 3)), (2, 3)),
    "tile_prepend": (lambda t: ops.tile(t, (2, 1, 2)), (3,)),
    "repeat": (lambda t: ops.repeat(t, 3, axis=1), (2, 3)),
    "repeat_flat": (lambda t: ops.repeat(t, 2), (2, 3)),
    "take_repeated": (lambda t: ops.take(t, lamina.tensor([0, 2, 2, -1]), axis=1), (3, 4)),
    "take_flat": (lambda t: ops.take(t, lamina.tensor([[5, 0], [5, 11]])), (3, 4)),
    "take_along_axis": (lambda t: ops.take_along_axis(t, lamina.tensor(np.array([[0, 0, 2], [1, 3, 3], [2, 1, 0]])), axis=1), (3, 4)),
    "take_along_axis0": (lambda t: ops.take_along_axis(t, lamina.tensor(np.array([[2, 0, 1, 1]])), axis=0), (3, 4)),
    "split": (lambda t: (lambda p: ops.concatenate([p[2], p[0] * p[1]], axis=1))(ops.split(t, [1, 2], axis=1)), (3, 4)),
    "split_sections": (lambda t: (lambda p: p[0] * 2 + p[1] * p[1])(ops.split(t, 2, axis=0)), (4, 3)),
    "slice_basic": (lambda t: t[1:, ::2], (3, 5)),
    "slice_negative_step": (lambda t: t[::-1, 3:0:-2], (3, 5)),
    "slice_int_none_ellipsis": (lambda t: t[1, None, ..., 2:], (3, 5)),
    "slice_int_array": (lambda t: t[[2, 0, 2]], (3, 5)),
    "slice_int_array_axis1": (lambda t: t[:, np.array([4, 4, 0])], (3, 5)),
    "slice_bool_mask": (lambda t: t[np.array([True, False, True])], (3, 5)),
    "slice_bool_full_mask": (lambda t: t[np.array([[True, False, True, False, True]] * 3)], (3, 5)),
    "cast": (lambda t: ops.cast(ops.cast(t, "float32"), "float64") * 1.0, (3,)),
    "swapaxes": (lambda t: ops.swapaxes(t, 0, 2), (2, 3, 4)),
    "moveaxis": (lambda t: ops.moveaxis(t, 0, -1), (2, 3, 4)),
    "flatten": (lambda t: t.flatten(), (2, 3)),
    "index_add": (lambda t: ops.index_add(t, 0, lamina.tensor([0, 2, 0]), lamina.tensor(np.ones((3, 4)))), (3, 4)),
}


@pytest.mark.parametrize("name", list(SHAPE_FNS))
def test_shape_op_grad(name):
    fn, shape = SHAPE_FNS[name]
    if name == "cast":
        # float32 round trip: the gradient is exact, the numeric derivative is not.
        x = lamina.tensor(u(*shape), requires_grad=True)
        ops.sum(fn(x) * 3.0).backward()
        np.testing.assert_allclose(to_np(x.grad), 3.0)
        return
    check_grad(fn, u(*shape))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_grad(axis):
    shapes = {0: [(1, 3), (2, 3), (3, 3)], 1: [(2, 1), (2, 3), (2, 2)], -1: [(2, 2), (2, 1), (2, 4)]}[axis]
    check_grad(lambda *ts: ops.concatenate(list(ts), axis=axis), *[u(*s) for s in shapes])


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_stack_grad(axis):
    check_grad(lambda a, b, c: ops.stack([a, b, c], axis=axis), u(2, 3), u(2, 3), u(2, 3))


def test_concatenate_same_tensor_twice_grad():
    check_grad(lambda a: ops.concatenate([a, a * 2, a], axis=0), u(2, 3))


def test_index_add_grad_wrt_updates():
    check_grad(lambda b, upd: ops.index_add(b, 1, lamina.tensor([3, 0, 3]), upd), u(2, 4), u(2, 3))


def test_grads_through_views_of_views():
    check_grad(lambda t: ops.exp(t.T[::-1][1:, ::2]) * t[::2, 0] + t[None, ..., -1:][0], u(4, 5))


def test_composite_mlp_grad():
    def mlp(x, w1, b1, w2):
        h = ops.gelu(ops.matmul(x, w1) + b1)
        logits = ops.matmul(h, w2)
        return ops.mean(ops.log_softmax(logits, axis=-1) * lamina.tensor(np.eye(3)[[0, 2, 1, 1]]))

    check_grad(mlp, u(4, 5), u(5, 6), u(6), u(6, 3))
