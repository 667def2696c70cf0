"""Pointwise behaviour the generic op-table tests cannot express.

Complex gradients, in-place forms, copy_/fill_/zero_, reflected operators,
gradient conventions at kinks, erf accuracy and PyTorch's error messages.
"""
import math

import numpy as np
import pytest

import ember
from tests.conftest import requires_torch, torch
from tests.op_harness import assert_same


def nnf(m):
    """The module's nn.functional (torch's or ember's)."""
    return m.nn.functional


def both(fn, *arrays, requires_grad=False):
    """Runs ``fn(module, *tensors)`` in ember and torch on the same arrays."""
    out = []
    for m in (ember, torch):
        ts = [m.tensor(a, requires_grad=requires_grad and a.dtype.kind in 'fc') for a in arrays]
        out.append((fn(m, *ts), ts))
    return out


def grads_of(fn, *arrays, seed=0):
    """Gradients (ember, torch) of ``sum(real(fn(x)) * w)`` for a fixed random ``w``."""
    rng = np.random.default_rng(seed)
    res = []
    w = None
    for m in (ember, torch):
        ts = [m.tensor(a, requires_grad=True) for a in arrays]
        y = fn(m, *ts)
        if w is None:
            w = rng.standard_normal(tuple(y.shape)).astype(np.float64)
        yr = y.real if y.is_complex() else y
        (yr * m.tensor(w, dtype=yr.dtype)).sum().backward()
        res.append([t.grad for t in ts])
    return res


# ----------------------------------------------------------------------------- complex gradients

@requires_torch
@pytest.mark.parametrize('name', ['exp', 'log', 'sqrt', 'abs', 'angle', 'sin', 'cos', 'tanh', 'sigmoid', 'sgn',
                                  'reciprocal', 'rsqrt', 'square'])
def test_complex_gradients_follow_torch_convention(name):
    rng = np.random.default_rng(1)
    z = (rng.uniform(0.3, 1.5, (5,)) + 1j * rng.uniform(-1.5, 1.5, (5,))).astype(np.complex128)
    ours, ref = grads_of(lambda m, x: getattr(m, name)(x), z)
    assert_same(ours, ref, rtol=1e-10, atol=1e-12, what=name)


@requires_torch
def test_complex_real_imag_and_products():
    rng = np.random.default_rng(2)
    z = rng.standard_normal(4) + 1j * rng.standard_normal(4)
    w = rng.standard_normal(4) + 1j * rng.standard_normal(4)
    ours, ref = grads_of(lambda m, a, b: m.real(a * b) + m.imag(m.exp(a)) * 2, z, w)
    assert_same(ours, ref, rtol=1e-10, atol=1e-12)
    ours, ref = grads_of(lambda m, a, b: m.pow(a, b), z, w)
    assert_same(ours, ref, rtol=1e-10, atol=1e-12)


@requires_torch
def test_complex_values():
    z = np.array([1 + 2j, -0.5 + 0.1j, 0j, -3 - 4j], np.complex64)
    for name in ('exp', 'log', 'sqrt', 'abs', 'angle', 'sgn', 'sigmoid', 'tanh'):
        (a, _), (b, _) = both(lambda m, x: getattr(m, name)(x), z)
        assert_same(a, b, rtol=2e-6, atol=1e-6, what=name)


# ----------------------------------------------------------------------------- kinks and ties

@requires_torch
def test_gradients_at_kinks_follow_torch():
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0, 3.0, -3.0, 6.0])
    cases = [
        lambda m, t: m.relu(t), lambda m, t: m.abs(t), lambda m, t: m.clamp(t, 0.0, 1.0),
        lambda m, t: m.clamp(t, min=0.5), lambda m, t: nnf(m).hardtanh(t, 0.0, 1.0),
        lambda m, t: nnf(m).relu6(t), lambda m, t: nnf(m).leaky_relu(t, 0.1),
        lambda m, t: nnf(m).elu(t), lambda m, t: nnf(m).hardswish(t),
        lambda m, t: nnf(m).hardsigmoid(t), lambda m, t: m.threshold(t, 1.0, -2.0),
        lambda m, t: m.sign(t), lambda m, t: nnf(m).softplus(t, 2.0, 2.0), lambda m, t: m.sinc(t),
        lambda m, t: nnf(m).gelu(t), lambda m, t: nnf(m).gelu(t, approximate='tanh'),
        lambda m, t: nnf(m).silu(t), lambda m, t: nnf(m).mish(t), lambda m, t: m.selu(t),
        lambda m, t: m.celu(t, 0.5), lambda m, t: m.logit(t * 0.1 + 0.5, eps=0.55)]
    for i, fn in enumerate(cases):
        ours, ref = grads_of(fn, x)
        assert_same(ours, ref, rtol=1e-7, atol=1e-12, what=f'case {i}')  # torch rounds some constants


@requires_torch
def test_max_min_tie_splitting_and_clamp_tensor_bounds():
    a = np.array([1.0, 2.0, 3.0, 0.0, 5.0])
    b = np.array([1.0, 1.0, 4.0, 0.0, np.nan])
    lo = np.array([0.0, 2.5, 1.0, 1.0, 0.0])
    hi = np.array([2.0, 2.0, 0.5, 1.0, 9.0])
    for fn in (lambda m, x, y: m.maximum(x, y), lambda m, x, y: m.minimum(x, y), lambda m, x, y: m.fmax(x, y),
               lambda m, x, y: m.fmin(x, y)):
        ours, ref = grads_of(fn, a, b)
        assert_same(ours, ref)
    ours, ref = grads_of(lambda m, x, l, h: m.clamp(x, l, h), a, lo, hi)
    assert_same(ours, ref)
    ours, ref = grads_of(lambda m, x, l: m.clamp(x, min=l), a, lo)
    assert_same(ours, ref)
    ours, ref = grads_of(lambda m, x, h: m.clamp(x, max=h), a, hi)
    assert_same(ours, ref)


# ----------------------------------------------------------------------------- operators and dtypes

@requires_torch
def test_reflected_operators_and_int_dtypes():
    ints = np.array([1, 2, 3, 7])
    floats = np.array([1.5, -2.0, 3.25], np.float32)
    for arr in (ints, floats):
        for fn in (lambda m, t: 2 ** t, lambda m, t: 5 // t, lambda m, t: 3 % t, lambda m, t: t ** 2,
                   lambda m, t: t // 2, lambda m, t: t % -2, lambda m, t: 2.5 ** t, lambda m, t: m.exp(t),
                   lambda m, t: m.sigmoid(t), lambda m, t: m.sqrt(t), lambda m, t: m.deg2rad(t),
                   lambda m, t: m.float_power(t, 2), lambda m, t: m.div(t, -2, rounding_mode='trunc'),
                   lambda m, t: m.div(t, -2, rounding_mode='floor'), lambda m, t: m.erf(t)):
            (a, _), (b, _) = both(fn, arr)
            assert_same(a, b)
    (a, _), (b, _) = both(lambda m, t: -t ** 2 & 6 | 1 ^ t, ints)
    assert_same(a, b)
    (a, _), (b, _) = both(lambda m, t: (t << 2, t >> 1, ~t, t == 2, t != 2, t < 2.5), ints)
    assert_same(a, b)


@requires_torch
def test_pow_integer_and_error_cases():
    base = np.array([2, 1, -1, 0, 3])
    exp = np.array([-1, -1, -3, -1, 2])
    (a, _), (b, _) = both(lambda m, x, y: m.pow(x, y), base, exp)
    assert_same(a, b)
    with pytest.raises(RuntimeError, match='Integers to negative integer powers are not allowed'):
        ember.pow(ember.tensor([1, 2]), -1)


# ----------------------------------------------------------------------------- in-place

@requires_torch
def test_inplace_ops_match_out_of_place_and_track_gradients():
    x = np.array([0.3, 0.7, 1.2, 1.9])
    for name, args in [('exp_', ()), ('sqrt_', ()), ('sigmoid_', ()), ('tanh_', ()), ('relu_', ()), ('pow_', (2,)),
                       ('clamp_', (0.5, 1.0)), ('lerp_', (np.array([1.0, 2.0, 3.0, 4.0]), 0.25)),
                       ('addcmul_', (np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.5, 0.5, 2.0, 2.0]))),
                       ('addcdiv_', (np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.5, 0.5, 2.0, 2.0]))),
                       ('remainder_', (0.5,)), ('floor_divide_', (0.5,)), ('abs_', ()), ('round_', ())]:
        def fn(m, t, *rest):
            y = t * 1.0
            extra = [m.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
            getattr(y, name)(*extra)
            return y
        ours, ref = grads_of(fn, x) if name not in ('floor_divide_',) else both(fn, x)
        assert_same(ours, ref, what=name)


@requires_torch
def test_inplace_dtype_errors_and_bitwise_inplace():
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        ember.tensor([1, 2]).exp_()
    t = ember.tensor([6, 5])
    t &= 3
    t |= 8
    t ^= 1
    assert t.tolist() == [11, 8]
    with pytest.raises(NotImplementedError, match='"bitwise_and_cpu" not implemented for \'Float\''):
        ember.tensor([1.0]) & ember.tensor([1.0])


def test_copy_fill_zero():
    src = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    base = ember.zeros(2, 3, dtype=ember.float64, requires_grad=True)
    y = base * 1
    y.copy_(src)
    assert y.dtype is ember.float64
    (y * ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=ember.float64)).sum().backward()
    assert src.grad.tolist() == [5.0, 7.0, 9.0]
    assert base.grad.tolist() == [[0.0] * 3] * 2
    ints = ember.zeros(3, dtype=ember.int64)
    ints.copy_(ember.tensor([1.7, -2.2, 3.9]))
    assert ints.tolist() == [1, -2, 3]
    ints.fill_(7)
    assert ints.tolist() == [7, 7, 7]
    ints.zero_()
    assert ints.tolist() == [0, 0, 0]
    v = ember.tensor(2.5, requires_grad=True)
    z = ember.zeros(3) * 1
    z.fill_(v)
    z.sum().backward()
    assert v.grad.item() == 3.0
    with pytest.raises(RuntimeError, match='fill_ only supports 0-dimension value tensor'):
        ember.zeros(3).fill_(ember.ones(2))


# ----------------------------------------------------------------------------- erf family accuracy

def test_erf_family_accuracy_float64():
    x = np.linspace(-6, 6, 4001)
    erf = np.array([math.erf(v) for v in x])
    erfc = np.array([math.erfc(v) for v in x])
    np.testing.assert_allclose(ember.erf(ember.tensor(x)).numpy(), erf, rtol=4e-15, atol=1e-300)
    np.testing.assert_allclose(ember.erfc(ember.tensor(x)).numpy(), erfc, rtol=4e-15, atol=1e-300)
    big = np.array([10.0, 20.0, 26.0, 30.0, np.inf, -np.inf, np.nan])
    got = ember.erfc(ember.tensor(big)).numpy()
    np.testing.assert_allclose(got[:3], [math.erfc(v) for v in big[:3]], rtol=1e-14)
    assert got[3] == 0 and got[4] == 0 and got[5] == 2 and np.isnan(got[6])
    y = np.concatenate([np.linspace(-0.999999, 0.999999, 2001), [1 - 2 ** -52, -1e-300]])
    inv = ember.erfinv(ember.tensor(y)).numpy()
    np.testing.assert_allclose(ember.erf(ember.tensor(inv)).numpy(), y, rtol=1e-15, atol=1e-300)
    edge = ember.erfinv(ember.tensor([1.0, -1.0, 1.5, 0.0])).numpy()
    assert edge[0] == np.inf and edge[1] == -np.inf and np.isnan(edge[2]) and edge[3] == 0


@requires_torch
def test_erf_family_float32_matches_torch():
    x = np.linspace(-9.5, 9.5, 5001).astype(np.float32)
    for name in ('erf', 'erfc'):
        (a, _), (b, _) = both(lambda m, t: getattr(m, name)(t), x)
        assert_same(a, b, rtol=2e-6, atol=1e-30, what=name)
    y = np.linspace(-0.9999, 0.9999, 2001).astype(np.float32)
    (a, _), (b, _) = both(lambda m, t: m.erfinv(t), y)
    assert_same(a, b, rtol=2e-6, atol=1e-7)


# ----------------------------------------------------------------------------- misc

@requires_torch
def test_isclose_allclose_equal_nan_to_num():
    a = np.array([1.0, np.nan, np.inf, -np.inf, 2.0], np.float32)
    b = np.array([1.0 + 1e-7, np.nan, np.inf, np.inf, 2.1], np.float32)
    for fn in (lambda m, x, y: m.isclose(x, y), lambda m, x, y: m.isclose(x, y, equal_nan=True),
               lambda m, x, y: m.allclose(x, x), lambda m, x, y: m.equal(x, y), lambda m, x, y: m.equal(y, y),
               lambda m, x, y: m.nan_to_num(x), lambda m, x, y: m.nan_to_num(x, nan=1.0, posinf=2.0),
               lambda m, x, y: (m.isnan(x), m.isinf(x), m.isposinf(x), m.isneginf(x), m.isfinite(x))):
        (o, _), (r, _) = both(fn, a, b)
        assert_same(o, r)
    assert (ember.tensor([1.0]) == None) is False  # noqa: E711


@requires_torch
def test_where_scalars_and_real_imag_views():
    cond = np.array([True, False, True])
    (o, _), (r, _) = both(lambda m, c: m.where(c, 1.5, 0), cond)
    assert_same(o, r)
    (o, _), (r, _) = both(lambda m, c: m.where(c, 1, 0), cond)
    assert_same(o, r)
    z = ember.tensor([1 + 2j, 3 - 4j])
    re, im = z.real, z.imag
    assert re.tolist() == [1.0, 3.0] and im.tolist() == [2.0, -4.0]
    assert im.stride() == (2,) and im.storage_offset() == 1
    with pytest.raises(RuntimeError, match='imag is not implemented for tensors with non-complex dtypes'):
        ember.tensor([1.0]).imag
