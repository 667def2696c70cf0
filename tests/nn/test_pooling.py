"""Pooling layers against torch: outputs, indices, gradients and repr."""
import numpy as np
import pytest

import ember
from tests.conftest import requires_torch, torch

pytestmark = requires_torch


def _both(name, args, kwargs, x, forward_args=()):
    """Builds ember.nn.<name> and torch.nn.<name>, runs both on ``x``, compares outputs and input gradients."""
    ours = getattr(ember.nn, name)(*args, **kwargs)
    ref = getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(ref)
    assert list(ours.state_dict().keys()) == list(ref.state_dict().keys()) == []
    xe = ember.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    oe = ours(xe, *forward_args[0]) if forward_args else ours(xe)
    ot = ref(xt, *forward_args[1]) if forward_args else ref(xt)
    oe_list = oe if isinstance(oe, tuple) else (oe,)
    ot_list = ot if isinstance(ot, tuple) else (ot,)
    assert len(oe_list) == len(ot_list)
    for a, b in zip(oe_list, ot_list):
        assert tuple(a.shape) == tuple(b.shape)
        assert str(a.dtype) == str(b.dtype)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)
    g = np.random.default_rng(1).standard_normal(tuple(ot_list[0].shape)).astype(np.float32)
    oe_list[0].backward(ember.tensor(g))
    ot_list[0].backward(torch.tensor(g))
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)
    return oe, ot


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


MAXPOOL2D = [
    ((2,), {}),
    ((3,), dict(stride=2, padding=1)),
    ((3,), dict(stride=2, ceil_mode=True)),
    (((3, 2),), dict(stride=(2, 1), padding=(1, 0), dilation=(2, 1))),
    ((2,), dict(return_indices=True)),
    ((3,), dict(stride=2, padding=1, ceil_mode=True, return_indices=True)),
    ((2,), dict(stride=1, dilation=2, ceil_mode=True)),
]


@pytest.mark.parametrize('args,kwargs', MAXPOOL2D, ids=[str(i) for i in range(len(MAXPOOL2D))])
def test_max_pool2d(args, kwargs):
    _both('MaxPool2d', args, kwargs, _x(2, 3, 9, 8))


def test_max_pool_1d_3d_and_unbatched():
    _both('MaxPool1d', (3,), dict(stride=2, padding=1, return_indices=True), _x(2, 3, 10))
    _both('MaxPool3d', (2,), dict(ceil_mode=True), _x(1, 2, 5, 4, 5))
    _both('MaxPool2d', (2,), {}, _x(3, 6, 7))


def test_max_pool_ties_pick_first_like_torch():
    x = np.zeros((1, 1, 4, 4), np.float32)
    x[0, 0, :2, :2] = 1.0
    _both('MaxPool2d', (2,), dict(return_indices=True), x)
    _both('MaxPool2d', (3,), dict(stride=1, padding=1, return_indices=True), x)


def test_max_pool_nan_propagates():
    x = _x(1, 1, 4, 4)
    x[0, 0, 1, 1] = np.nan
    ours = ember.nn.functional.max_pool2d(ember.tensor(x), 2)
    ref = torch.nn.functional.max_pool2d(torch.tensor(x), 2)
    np.testing.assert_array_equal(np.isnan(ours.numpy()), np.isnan(ref.numpy()))


AVGPOOL2D = [
    ((2,), {}),
    ((3,), dict(stride=2, padding=1)),
    ((3,), dict(stride=2, padding=1, count_include_pad=False)),
    ((3,), dict(stride=2, padding=1, ceil_mode=True)),
    ((3,), dict(stride=2, padding=1, ceil_mode=True, count_include_pad=False)),
    (((3, 2),), dict(stride=(2, 3), divisor_override=5)),
    ((2,), dict(stride=1, ceil_mode=True)),
]


@pytest.mark.parametrize('args,kwargs', AVGPOOL2D, ids=[str(i) for i in range(len(AVGPOOL2D))])
def test_avg_pool2d(args, kwargs):
    _both('AvgPool2d', args, kwargs, _x(2, 3, 9, 8))


def test_avg_pool_1d_3d():
    _both('AvgPool1d', (3,), dict(stride=2, padding=1, ceil_mode=True, count_include_pad=False), _x(2, 3, 10))
    _both('AvgPool3d', (2,), dict(stride=2, padding=1), _x(1, 2, 5, 4, 5))


@pytest.mark.parametrize('size', [1, 3, (4, 2), (None, 5), (7, 9), (9, 8)])
def test_adaptive_avg_pool2d(size):
    _both('AdaptiveAvgPool2d', (size,), {}, _x(2, 3, 9, 8))


@pytest.mark.parametrize('size', [1, 3, (4, 2), (None, 5), (7, 9)])
def test_adaptive_max_pool2d(size):
    _both('AdaptiveMaxPool2d', (size,), dict(return_indices=True), _x(2, 3, 9, 8))


def test_adaptive_pool_1d_3d():
    _both('AdaptiveAvgPool1d', (4,), {}, _x(2, 3, 10))
    _both('AdaptiveMaxPool1d', (4,), dict(return_indices=True), _x(2, 3, 10))
    _both('AdaptiveAvgPool3d', ((2, 3, 1),), {}, _x(1, 2, 5, 4, 5))
    _both('AdaptiveMaxPool3d', ((2, 3, 1),), {}, _x(1, 2, 5, 4, 5))


def test_max_unpool2d_roundtrip():
    x = _x(2, 3, 8, 6)
    values_e, idx_e = ember.nn.functional.max_pool2d(ember.tensor(x), 2, return_indices=True)
    values_t, idx_t = torch.nn.functional.max_pool2d(torch.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(idx_e.numpy(), idx_t.numpy())
    oe, ot = _both('MaxUnpool2d', (2,), {}, values_t.numpy(), forward_args=((idx_e,), (idx_t,)))
    np.testing.assert_array_equal(oe.detach().numpy(), ot.detach().numpy())
    _both('MaxUnpool2d', (2,), {}, values_t.numpy(), forward_args=((idx_e, (9, 7)), (idx_t, (9, 7))))


def test_lp_pool2d():
    _both('LPPool2d', (2, 3), dict(stride=2), np.abs(_x(2, 3, 9, 8)) + 0.1)
    _both('LPPool1d', (3.0, 2), {}, np.abs(_x(2, 3, 9)) + 0.1)


def test_max_pool_double_backward():
    x = _x(2, 2, 6, 6)
    grads = []
    for m in (ember, torch):
        xt = m.tensor(x, requires_grad=True)
        y = m.nn.functional.max_pool2d(xt, 3, stride=2, padding=1)
        (g,) = m.autograd.grad((y ** 2).sum(), xt, create_graph=True)
        (g ** 2).sum().backward()
        grads.append(xt.grad.detach().numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5, atol=1e-5)


def test_pool_errors_match_torch():
    f = ember.nn.functional
    with pytest.raises(RuntimeError, match='pad should be at most half of effective kernel size, but got pad=2, '
                                           'kernel_size=3 and dilation=1'):
        f.max_pool2d(ember.zeros(1, 2, 5, 5), 3, padding=2)
    with pytest.raises(RuntimeError, match=r'Given input size: \(1x1x5\). Calculated output size: \(1x0x2\). Output '
                                           'size is too small'):
        f.max_pool2d(ember.zeros(1, 1, 1, 5), 2)
    with pytest.raises(RuntimeError, match='adaptive_avg_pool2d: output_size must be 2'):
        f.adaptive_avg_pool2d(ember.zeros(1, 2, 5, 5), (2, 2, 2))


def test_grad_fn_names():
    x = ember.randn(1, 2, 6, 6, requires_grad=True)
    f = ember.nn.functional
    assert type(f.max_pool2d(x, 2).grad_fn).__name__ == 'MaxPool2DWithIndicesBackward0'
    assert type(f.avg_pool2d(x, 2).grad_fn).__name__ == 'AvgPool2DBackward0'
    assert type(f.adaptive_avg_pool2d(x, 3).grad_fn).__name__ == 'AdaptiveAvgPool2DBackward0'
