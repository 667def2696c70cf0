"""Resampling against torch: interpolate / Upsample, grid_sample and affine_grid, values and gradients."""
import warnings

import numpy as np
import pytest

import ember
from tests.conftest import requires_torch, torch

pytestmark = requires_torch


def _compare(fn, arrays, atol=1e-5, rtol=1e-4, grad=True):
    """Runs ``fn(lib, *tensors)`` in both libraries; compares outputs and the gradients of every input."""
    outs = []
    for lib in (ember, torch):
        ts = [lib.tensor(a, requires_grad=grad and a.dtype.kind == 'f') for a in arrays]
        y = fn(lib, *ts)
        res = [y.detach().numpy()]
        if grad:
            g = np.random.default_rng(5).standard_normal(tuple(y.shape)).astype(arrays[0].dtype)
            y.backward(lib.tensor(g))
            res += [t.grad.numpy() if t.grad is not None else np.zeros(t.shape) for t in ts]
        outs.append(res)
    assert outs[0][0].shape == outs[1][0].shape
    for i, (a, b) in enumerate(zip(*outs)):
        np.testing.assert_allclose(a, b, atol=atol, rtol=rtol, err_msg=f'output {i}')


INTERP_CASES = [
    ((2, 3, 5, 6), dict(size=(9, 4))),
    ((2, 3, 5, 6), dict(scale_factor=3)),
    ((2, 3, 7, 6), dict(scale_factor=(0.4, 1.6))),
    ((1, 2, 7, 6), dict(scale_factor=1.3, recompute_scale_factor=True)),
    ((2, 3, 5, 6), dict(size=(10, 12), mode='nearest-exact')),
    ((2, 3, 9, 6), dict(scale_factor=(0.7, 2.5), mode='nearest-exact')),
    ((2, 3, 5, 6), dict(size=(11, 13), mode='bilinear')),
    ((2, 3, 5, 6), dict(size=(11, 13), mode='bilinear', align_corners=True)),
    ((2, 3, 8, 9), dict(size=(3, 4), mode='bilinear')),
    ((2, 3, 5, 6), dict(scale_factor=2.5, mode='bilinear')),
    ((2, 3, 5, 6), dict(scale_factor=(1.7, 0.6), mode='bilinear', recompute_scale_factor=True)),
    ((2, 3, 5, 6), dict(size=(1, 1), mode='bilinear', align_corners=True)),
    ((2, 3, 5, 6), dict(size=(9, 11), mode='bicubic')),
    ((2, 3, 5, 6), dict(size=(9, 11), mode='bicubic', align_corners=True)),
    ((2, 3, 9, 8), dict(scale_factor=0.6, mode='bicubic')),
    ((2, 3, 7), dict(size=15, mode='linear')),
    ((2, 3, 7), dict(scale_factor=0.5, mode='linear', align_corners=True)),
    ((2, 3, 7), dict(scale_factor=1.5, mode='nearest')),
    ((1, 2, 3, 4, 5), dict(size=(5, 6, 3), mode='trilinear')),
    ((1, 2, 3, 4, 5), dict(scale_factor=2, mode='trilinear', align_corners=True)),
    ((1, 2, 3, 4, 5), dict(scale_factor=(2, 0.5, 1.5), mode='nearest')),
    ((2, 3, 8, 9), dict(size=(3, 4), mode='area')),
    ((2, 3, 8, 9), dict(scale_factor=0.5, mode='area')),
    ((2, 3, 5, 6), dict(size=(5, 6), mode='bilinear')),        # same size: a copy
]


@pytest.mark.parametrize('shape,kwargs', INTERP_CASES, ids=[str(i) for i in range(len(INTERP_CASES))])
def test_interpolate_matches_torch(shape, kwargs):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    _compare(lambda lib, t: lib.nn.functional.interpolate(t, **kwargs), [x])


def test_interpolate_float64_and_half():
    x = np.random.default_rng(0).standard_normal((1, 2, 4, 5))
    _compare(lambda lib, t: lib.nn.functional.interpolate(t, scale_factor=1.7, mode='bicubic'), [x],
             atol=1e-10, rtol=1e-9)
    h = x.astype(np.float16)
    ye = ember.nn.functional.interpolate(ember.tensor(h), size=(7, 8), mode='bilinear')
    yt = torch.nn.functional.interpolate(torch.tensor(h), size=(7, 8), mode='bilinear')
    assert ye.dtype == ember.float16
    np.testing.assert_allclose(ye.numpy().astype(np.float32), yt.numpy().astype(np.float32), atol=2e-3)


def test_interpolate_nearest_is_exact_with_inf():
    x = np.arange(12, dtype=np.float32).reshape(1, 1, 3, 4)
    x[0, 0, 1, 2] = np.inf
    ye = ember.nn.functional.interpolate(ember.tensor(x), scale_factor=2)
    yt = torch.nn.functional.interpolate(torch.tensor(x), scale_factor=2)
    np.testing.assert_array_equal(ye.numpy(), yt.numpy())


def test_interpolate_double_backward():
    x = np.random.default_rng(0).standard_normal((1, 2, 4, 5))
    res = []
    for lib in (ember, torch):
        t = lib.tensor(x, requires_grad=True)
        y = lib.nn.functional.interpolate(t, size=(7, 3), mode='bilinear')
        (g,) = lib.autograd.grad((y ** 3).sum(), t, create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), t)
        res.append((g.detach().numpy(), gg.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, atol=1e-10, rtol=1e-8)


def test_interpolate_grad_fn_names():
    x = ember.zeros(1, 1, 2, 2, requires_grad=True)
    F = ember.nn.functional
    assert type(F.interpolate(x, scale_factor=2).grad_fn).__name__ == 'UpsampleNearest2DBackward0'
    assert type(F.interpolate(x, scale_factor=2, mode='bilinear').grad_fn).__name__ == 'UpsampleBilinear2DBackward0'


def test_interpolate_errors():
    x = ember.zeros(1, 2, 4, 4)
    F = ember.nn.functional
    with pytest.raises(ValueError, match='either size or scale_factor should be defined'):
        F.interpolate(x)
    with pytest.raises(ValueError, match='recompute_scale_factor is not meaningful with an explicit size'):
        F.interpolate(x, size=3, recompute_scale_factor=True)
    with pytest.raises(NotImplementedError, match='Got 4D input, but trilinear mode needs 5D input'):
        F.interpolate(x, size=3, mode='trilinear')
    with pytest.raises(NotImplementedError, match=r'Input Error: Only 3D, 4D and 5D input Tensors supported \(got '
                                                  r'3D\) for the modes'):
        F.interpolate(ember.zeros(1, 2, 4), size=3, mode='bicubic')


# ----------------------------------------------------------------------------- Upsample modules

UPSAMPLE_CASES = [
    ('Upsample', dict(scale_factor=2)),
    ('Upsample', dict(size=(7, 9), mode='bilinear')),
    ('Upsample', dict(scale_factor=(1.5, 2.0), mode='bicubic', align_corners=True)),
    ('Upsample', dict(size=5, mode='nearest-exact')),
    ('UpsamplingNearest2d', dict(scale_factor=3)),
    ('UpsamplingBilinear2d', dict(size=(8, 10))),
    ('UpsamplingBilinear2d', dict(scale_factor=1.5)),
]


@pytest.mark.parametrize('name,kwargs', UPSAMPLE_CASES, ids=[str(i) for i in range(len(UPSAMPLE_CASES))])
def test_upsample_modules(name, kwargs):
    ours, ref = getattr(ember.nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert repr(ours) == repr(ref)
    assert list(ours.state_dict()) == list(ref.state_dict()) == []
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5)).astype(np.float32)
    _compare(lambda lib, t: (ours if lib is ember else ref)(t), [x])


# ----------------------------------------------------------------------------- grid_sample / affine_grid

GRID_CASES = [(mode, pad, align) for mode in ('bilinear', 'nearest', 'bicubic')
              for pad in ('zeros', 'border', 'reflection') for align in (False, True)]


@pytest.mark.parametrize('mode,padding_mode,align_corners', GRID_CASES,
                         ids=['-'.join(map(str, c)) for c in GRID_CASES])
def test_grid_sample_2d(mode, padding_mode, align_corners):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 5, 6)).astype(np.float32)
    grid = rng.uniform(-1.6, 1.6, (2, 4, 7, 2)).astype(np.float32)
    _compare(lambda lib, a, g: lib.nn.functional.grid_sample(a, g, mode=mode, padding_mode=padding_mode,
                                                             align_corners=align_corners), [x, grid], atol=1e-4)


@pytest.mark.parametrize('mode,padding_mode', [('bilinear', 'zeros'), ('bilinear', 'reflection'),
                                               ('nearest', 'border')])
def test_grid_sample_3d(mode, padding_mode):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 2, 3, 4, 5)).astype(np.float32)
    grid = rng.uniform(-1.3, 1.3, (2, 2, 3, 4, 3)).astype(np.float32)
    _compare(lambda lib, a, g: lib.nn.functional.grid_sample(a, g, mode=mode, padding_mode=padding_mode,
                                                             align_corners=False), [x, grid], atol=1e-4)


def test_affine_grid_then_grid_sample():
    rng = np.random.default_rng(2)
    theta = (np.eye(2, 3) + rng.uniform(-0.3, 0.3, (3, 2, 3))).astype(np.float32)
    x = rng.standard_normal((3, 2, 6, 5)).astype(np.float32)

    def stn(lib, th, a):
        grid = lib.nn.functional.affine_grid(th, (3, 2, 4, 7), align_corners=False)
        return lib.nn.functional.grid_sample(a, grid, align_corners=False)
    _compare(stn, [theta, x], atol=1e-4)
    theta3 = (np.eye(3, 4) + rng.uniform(-0.2, 0.2, (2, 3, 4))).astype(np.float32)
    _compare(lambda lib, th: lib.nn.functional.affine_grid(th, (2, 1, 3, 4, 2), align_corners=True), [theta3])


def test_grid_sample_errors_and_warning():
    F = ember.nn.functional
    x = ember.zeros(1, 2, 3, 3)
    with pytest.raises(ValueError, match="expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: 'area'"):
        F.grid_sample(x, ember.zeros(1, 2, 2, 2), mode='area')
    with pytest.raises(RuntimeError, match='expected grid to have size 2 in last dimension'):
        F.grid_sample(x, ember.zeros(1, 2, 2, 3), align_corners=False)
    with pytest.raises(ValueError, match='Expected a batch of 2D affine matrices of shape Nx2x3'):
        F.affine_grid(ember.zeros(1, 3, 3), (1, 1, 2, 2), align_corners=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        F.grid_sample(x, ember.zeros(1, 2, 2, 2))
    assert any('align_corners=False since 1.3.0' in str(w.message) for w in caught)
