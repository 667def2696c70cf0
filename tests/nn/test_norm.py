"""Normalisation layers against torch: same weights and inputs, outputs, gradients and running statistics."""
import warnings

import numpy as np
import pytest

import ember
from tests.conftest import requires_torch, torch

pytestmark = requires_torch


def _copy_params(ours, ref):
    state = {k: ember.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()}
    ours.load_state_dict(state)


def _randomise(ref, seed=1):
    """Non-trivial weight and bias so their gradients and effect are checked."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in ref.parameters():
            p.copy_(torch.tensor(rng.uniform(0.5, 1.5, tuple(p.shape)).astype(np.float32)))


def _run_both(ours, ref, x, atol=1e-5, rtol=1e-4, seed=3):
    xe = ember.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ye, yt = ours(xe), ref(xt)
    assert tuple(ye.shape) == tuple(yt.shape)
    assert str(ye.dtype) == str(yt.dtype)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), atol=atol, rtol=rtol)
    g = np.random.default_rng(seed).standard_normal(tuple(yt.shape)).astype(np.float32)
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), atol=atol, rtol=rtol, err_msg='input grad')
    for (name, pe), (_, pt) in zip(ours.named_parameters(), ref.named_parameters()):
        np.testing.assert_allclose(pe.grad.numpy(), pt.grad.numpy(), atol=atol * 10, rtol=rtol, err_msg=name)


def _same_state(ours, ref, atol=1e-6):
    so, sr = ours.state_dict(), ref.state_dict()
    assert list(so.keys()) == list(sr.keys())
    for k in sr:
        a, b = so[k].numpy(), sr[k].numpy()
        assert a.dtype == b.dtype, k
        np.testing.assert_allclose(a, b, atol=atol, rtol=1e-5, err_msg=k)


def _make(name, *args, **kwargs):
    return getattr(ember.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)


# ----------------------------------------------------------------------------- BatchNorm

BN_CASES = [
    ('BatchNorm1d', dict(num_features=4), (8, 4)),
    ('BatchNorm1d', dict(num_features=3, momentum=0.3), (5, 3, 7)),
    ('BatchNorm2d', dict(num_features=3), (4, 3, 5, 6)),
    ('BatchNorm2d', dict(num_features=3, momentum=None), (4, 3, 5, 6)),
    ('BatchNorm2d', dict(num_features=3, affine=False), (2, 3, 4, 4)),
    ('BatchNorm2d', dict(num_features=3, track_running_stats=False), (2, 3, 4, 4)),
    ('BatchNorm2d', dict(num_features=3, eps=1e-3, bias=False), (2, 3, 4, 4)),
    ('BatchNorm3d', dict(num_features=2), (3, 2, 3, 4, 2)),
]


@pytest.mark.parametrize('name,kwargs,shape', BN_CASES, ids=[f'{c[0]}-{i}' for i, c in enumerate(BN_CASES)])
def test_batchnorm_train_steps_then_eval(name, kwargs, shape):
    ours, ref = _make(name, **kwargs)
    assert repr(ours) == repr(ref)
    _randomise(ref)
    _copy_params(ours, ref)
    _same_state(ours, ref)
    rng = np.random.default_rng(0)
    for step in range(3):
        x = (rng.standard_normal(shape) * 2 + 0.5).astype(np.float32)
        _run_both(ours, ref, x, seed=step)
        _same_state(ours, ref)
    ours.eval()
    ref.eval()
    x = rng.standard_normal(shape).astype(np.float32)
    _run_both(ours, ref, x)
    _same_state(ours, ref)


def test_batchnorm_num_batches_tracked_and_momentum_none():
    ours, ref = _make('BatchNorm1d', 3, momentum=None)
    rng = np.random.default_rng(0)
    for _ in range(4):
        x = rng.standard_normal((6, 3)).astype(np.float32)
        ours(ember.tensor(x))
        ref(torch.tensor(x))
    assert ours.num_batches_tracked.item() == 4
    assert ours.num_batches_tracked.dtype == ember.int64
    _same_state(ours, ref)


def test_batchnorm_state_dict_keys_and_old_checkpoints():
    ours, ref = _make('BatchNorm2d', 5)
    assert list(ours.state_dict().keys()) == ['weight', 'bias', 'running_mean', 'running_var',
                                              'num_batches_tracked']
    state = {k: ember.tensor(v.numpy()) for k, v in ref.state_dict().items() if k != 'num_batches_tracked'}
    ours.load_state_dict(state)      # checkpoints from before num_batches_tracked still load
    ours2, _ = _make('BatchNorm2d', 5, track_running_stats=False)
    assert list(ours2.state_dict().keys()) == ['weight', 'bias']


def test_batchnorm_errors():
    bn = ember.nn.BatchNorm2d(3)
    with pytest.raises(ValueError, match=r'expected 4D input \(got 3D input\)'):
        bn(ember.zeros(3, 4, 4))
    with pytest.raises(ValueError, match=r'expected 2D or 3D input \(got 4D input\)'):
        ember.nn.BatchNorm1d(3)(ember.zeros(2, 3, 4, 4))
    with pytest.raises(ValueError, match=r'Expected more than 1 value per channel when training'):
        ember.nn.BatchNorm1d(3)(ember.zeros(1, 3))


def test_batchnorm_eval_without_running_stats_uses_batch_statistics():
    ours, ref = _make('BatchNorm2d', 3, track_running_stats=False)
    ours.eval()
    ref.eval()
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 4)).astype(np.float32)
    _run_both(ours, ref, x)


def test_functional_batch_norm_eval_gradients():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4, 5)).astype(np.float32)
    rm = rng.standard_normal(4).astype(np.float32)
    rv = rng.uniform(0.5, 2, 4).astype(np.float32)
    w = rng.standard_normal(4).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    outs = []
    for lib in (ember, torch):
        xs, ws, bs = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
        y = lib.nn.functional.batch_norm(xs, lib.tensor(rm), lib.tensor(rv), ws, bs, False, 0.1, 1e-3)
        (y * y).sum().backward()
        outs.append([t.detach().numpy() for t in (y, xs.grad, ws.grad, bs.grad)])
    for a, b_ in zip(*outs):
        np.testing.assert_allclose(a, b_, atol=1e-5, rtol=1e-4)


# ----------------------------------------------------------------------------- InstanceNorm

IN_CASES = [
    ('InstanceNorm1d', dict(num_features=3), (2, 3, 7)),
    ('InstanceNorm1d', dict(num_features=3, affine=True), (3, 7)),             # unbatched
    ('InstanceNorm2d', dict(num_features=3, affine=True), (2, 3, 5, 4)),
    ('InstanceNorm2d', dict(num_features=3, affine=True, track_running_stats=True), (2, 3, 5, 4)),
    ('InstanceNorm2d', dict(num_features=2, track_running_stats=True, momentum=None), (3, 2, 4, 4)),
    ('InstanceNorm3d', dict(num_features=2, affine=True), (2, 2, 3, 3, 2)),
]


@pytest.mark.parametrize('name,kwargs,shape', IN_CASES, ids=[f'{c[0]}-{i}' for i, c in enumerate(IN_CASES)])
def test_instancenorm_matches_torch(name, kwargs, shape):
    ours, ref = _make(name, **kwargs)
    assert repr(ours) == repr(ref)
    _randomise(ref)
    _copy_params(ours, ref)
    rng = np.random.default_rng(0)
    for step in range(2):
        _run_both(ours, ref, (rng.standard_normal(shape) + 1).astype(np.float32), seed=step)
        _same_state(ours, ref)
    ours.eval()
    ref.eval()
    _run_both(ours, ref, rng.standard_normal(shape).astype(np.float32))


def test_instancenorm_errors():
    with pytest.raises(ValueError, match=r'expected 3D or 4D input \(got 2D input\)'):
        ember.nn.InstanceNorm2d(3)(ember.zeros(3, 4))
    with pytest.raises(ValueError, match=r"expected input's size at dim=1 to match num_features \(4\), but got: 3"):
        ember.nn.InstanceNorm1d(4, affine=True)(ember.zeros(2, 3, 5))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        ember.nn.InstanceNorm1d(4)(ember.randn(2, 3, 5))
    assert any('does not match num_features' in str(w.message) for w in caught)


# ----------------------------------------------------------------------------- LayerNorm, GroupNorm, RMSNorm, LRN

LAYER_CASES = [
    ('LayerNorm', (6,), {}, (4, 6)),
    ('LayerNorm', ((3, 4),), dict(eps=1e-3), (2, 5, 3, 4)),
    ('LayerNorm', (5,), dict(bias=False), (2, 3, 5)),
    ('LayerNorm', (5,), dict(elementwise_affine=False), (2, 3, 5)),
    ('GroupNorm', (2, 6), {}, (3, 6, 4, 5)),
    ('GroupNorm', (3, 6), dict(eps=1e-3), (2, 6, 7)),
    ('GroupNorm', (1, 4), dict(affine=False), (2, 4, 3, 3)),
    ('GroupNorm', (4, 4), dict(bias=False), (2, 4, 3, 3)),
    ('RMSNorm', ([5],), {}, (3, 4, 5)),
    ('RMSNorm', ((2, 3),), dict(eps=1e-4), (4, 2, 3)),
    ('RMSNorm', (5,), dict(elementwise_affine=False), (3, 5)),
    ('LocalResponseNorm', (3,), {}, (2, 6, 4, 4)),
    ('LocalResponseNorm', (2,), dict(alpha=0.5, beta=0.6, k=2.0), (2, 5, 7)),
    ('LocalResponseNorm', (4,), dict(alpha=0.1), (1, 5, 2, 3, 2)),
]


@pytest.mark.parametrize('name,args,kwargs,shape', LAYER_CASES,
                         ids=[f'{c[0]}-{i}' for i, c in enumerate(LAYER_CASES)])
def test_layer_norms_match_torch(name, args, kwargs, shape):
    ours, ref = _make(name, *args, **kwargs)
    assert repr(ours) == repr(ref)
    assert list(ours.state_dict().keys()) == list(ref.state_dict().keys())
    _same_state(ours, ref)      # default initialisation
    _randomise(ref)
    _copy_params(ours, ref)
    x = (np.random.default_rng(0).standard_normal(shape) * 3 + 1).astype(np.float32)
    _run_both(ours, ref, x)


def test_layer_norm_errors():
    with pytest.raises(RuntimeError, match=r'Given normalized_shape=\[4\], expected input with shape \[\*, 4\], '
                                           r'but got input of size\[2, 3\]'):
        ember.nn.LayerNorm(4)(ember.zeros(2, 3))
    with pytest.raises(ValueError, match='num_channels must be divisible by num_groups'):
        ember.nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match=r'Expected 3D or higher dimensionality input \(got 2 dimensions\)'):
        ember.nn.LocalResponseNorm(2)(ember.zeros(2, 3))


@pytest.mark.parametrize('fn', ['layer_norm', 'group_norm', 'batch_norm', 'rms_norm'])
def test_double_backward_matches_torch(fn):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 6, 3)).astype(np.float64)
    w = rng.uniform(0.5, 1.5, 6 if fn in ('group_norm', 'batch_norm') else 3)
    b = rng.standard_normal(w.shape)
    results = []
    for lib in (ember, torch):
        F = lib.nn.functional
        xs, ws, bs = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
        if fn == 'layer_norm':
            y = F.layer_norm(xs, (3,), ws, bs)
        elif fn == 'group_norm':
            y = F.group_norm(xs, 2, ws, bs)
        elif fn == 'batch_norm':
            y = F.batch_norm(xs, None, None, ws, bs, training=True)
        else:
            y = F.rms_norm(xs, (3,), ws) + bs
        loss = (y.sin() * lib.tensor(np.linspace(-1, 1, y.numel()).reshape(tuple(y.shape)))).sum()
        gx, gw = lib.autograd.grad(loss, (xs, ws), create_graph=True)
        second = lib.autograd.grad((gx * gx).sum() + (gw * gw).sum(), (xs, ws, bs), allow_unused=True)
        results.append([t.detach().numpy() for t in (gx, gw)] +
                       [np.zeros(1) if t is None else t.numpy() for t in second])
    for a, b_ in zip(*results):
        np.testing.assert_allclose(a, b_, atol=1e-8, rtol=1e-6)


def test_half_precision_layer_norm():
    x = np.random.default_rng(0).standard_normal((3, 8)).astype(np.float16)
    ye = ember.nn.functional.layer_norm(ember.tensor(x), (8,))
    yt = torch.nn.functional.layer_norm(torch.tensor(x), (8,))
    assert ye.dtype == ember.float16
    np.testing.assert_allclose(ye.numpy().astype(np.float32), yt.numpy().astype(np.float32), atol=2e-3)
