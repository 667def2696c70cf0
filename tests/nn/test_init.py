"""nn.init: distributions (bounds, mean, std), in-place and no-grad behaviour, fans, gains, errors."""
import math

import numpy as np
import pytest

import ember
from ember.nn import init
from tests.conftest import requires_torch, torch


def _param(*shape):
    return ember.nn.Parameter(ember.empty(*shape))


@requires_torch
@pytest.mark.parametrize('args', [('linear',), ('conv2d',), ('sigmoid',), ('tanh',), ('relu',), ('leaky_relu',),
                                  ('leaky_relu', 0.2), ('leaky_relu', 1), ('selu',)])
def test_calculate_gain_matches_torch(args):
    assert init.calculate_gain(*args) == torch.nn.init.calculate_gain(*args)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match='Unsupported nonlinearity foo'):
        init.calculate_gain('foo')
    with pytest.raises(ValueError, match='negative_slope True not a valid number'):
        init.calculate_gain('leaky_relu', True)


@requires_torch
@pytest.mark.parametrize('shape', [(3, 4), (5, 3, 2, 2), (2, 7, 3)])
def test_fans_match_torch(shape):
    ours = init._calculate_fan_in_and_fan_out(ember.empty(*shape))
    assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))
    with pytest.raises(ValueError, match='fewer than 2 dimensions'):
        init._calculate_fan_in_and_fan_out(ember.empty(3))


def test_in_place_under_no_grad_on_parameters():
    p = _param(30, 40)
    version = p._version
    out = init.kaiming_uniform_(p, a=math.sqrt(5))
    assert out is p and p._version > version
    assert p.requires_grad and p.grad_fn is None
    for fn in (init.uniform_, init.normal_, init.xavier_uniform_, init.xavier_normal_, init.kaiming_normal_,
               init.orthogonal_, init.trunc_normal_, init.ones_, init.zeros_, init.eye_):
        assert fn(p) is p and p.grad_fn is None
    assert init.constant_(p, 0.3) is p and np.all(p.detach().numpy() == np.float32(0.3))
    assert init.sparse_(p, 0.5) is p and init.dirac_(_param(2, 2, 3)) is not None


def _stats(t):
    a = t.detach().numpy().astype(np.float64)
    return a.min(), a.max(), a.mean(), a.std()


def test_uniform_normal_and_constants():
    lo, hi, mean, std = _stats(init.uniform_(_param(200, 300), -0.5, 1.5))
    assert lo >= -0.5 and hi < 1.5 and abs(mean - 0.5) < 0.01 and abs(std - 2 / math.sqrt(12)) < 0.01
    _, _, mean, std = _stats(init.normal_(_param(200, 300), 1.0, 0.5))
    assert abs(mean - 1.0) < 0.01 and abs(std - 0.5) < 0.01
    assert np.all(init.ones_(_param(3, 2)).detach().numpy() == 1)
    assert np.all(init.zeros_(_param(3, 2)).detach().numpy() == 0)
    np.testing.assert_array_equal(init.eye_(_param(3, 4)).detach().numpy(), np.eye(3, 4))
    with pytest.raises(ValueError, match='Only tensors with 2 dimensions are supported'):
        init.eye_(_param(3))


@pytest.mark.parametrize('fn,mode,expected_std', [
    ('xavier_uniform_', None, math.sqrt(2 / (300 + 200))),
    ('xavier_normal_', None, math.sqrt(2 / (300 + 200))),
    ('kaiming_uniform_', 'fan_in', math.sqrt(2) / math.sqrt(300)),
    ('kaiming_normal_', 'fan_in', math.sqrt(2) / math.sqrt(300)),
    ('kaiming_normal_', 'fan_out', math.sqrt(2) / math.sqrt(200))])
def test_fan_based_std(fn, mode, expected_std):
    p = _param(200, 300)
    if mode is None:
        getattr(init, fn)(p)
    else:
        getattr(init, fn)(p, mode=mode, nonlinearity='relu')
    lo, hi, mean, std = _stats(p)
    assert abs(std - expected_std) < 0.02 * expected_std and abs(mean) < 0.02 * expected_std
    if 'uniform' in fn:
        bound = math.sqrt(3) * expected_std
        assert lo >= -bound and hi <= bound


def test_kaiming_gain_a_and_errors():
    p = init.kaiming_uniform_(_param(100, 400), a=math.sqrt(5))
    bound = 1 / math.sqrt(400)
    lo, hi, _, std = _stats(p)
    assert lo >= -bound and hi <= bound and abs(std - bound / math.sqrt(3)) < 0.02 * bound
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(_param(3, 3), mode='fan_avg')
    with pytest.warns(UserWarning, match='Initializing zero-element tensors is a no-op'):
        init.kaiming_uniform_(_param(0, 3))


def test_trunc_normal():
    lo, hi, mean, std = _stats(init.trunc_normal_(_param(300, 300), std=0.02))
    assert lo >= -2 and hi <= 2 and abs(std - 0.02) < 0.001
    lo, hi, mean, std = _stats(init.trunc_normal_(_param(300, 300), mean=0.0, std=1.0, a=-1.0, b=1.0))
    assert lo >= -1 and hi <= 1 and abs(mean) < 0.01 and abs(std - 0.5379) < 0.01  # std of N(0,1) cut to [-1, 1]
    lo, hi, mean, _ = _stats(init.trunc_normal_(_param(300, 300), mean=0.0, std=1.0, a=0.5, b=0.6))
    assert lo >= 0.5 and hi <= 0.6 and abs(mean - 0.549) < 0.005
    with pytest.warns(UserWarning, match='mean is more than 2 std'):
        init.trunc_normal_(_param(3, 3), mean=10.0, a=-1.0, b=1.0)


def test_orthogonal():
    for shape in [(5, 8), (8, 5), (4, 2, 3)]:
        p = init.orthogonal_(_param(*shape), gain=2.0)
        flat = p.detach().numpy().reshape(shape[0], -1).astype(np.float64)
        gram = flat @ flat.T if shape[0] <= flat.shape[1] else flat.T @ flat
        np.testing.assert_allclose(gram, 4 * np.eye(gram.shape[0]), atol=1e-5)
    with pytest.raises(ValueError, match='Only tensors with 2 or more dimensions are supported'):
        init.orthogonal_(_param(3))


def test_sparse_zeroes_per_column():
    p = init.sparse_(_param(10, 30), sparsity=0.25, std=0.5)
    zeros = (p.detach().numpy() == 0).sum(0)
    assert np.all(zeros == 3)


@requires_torch
@pytest.mark.parametrize('shape,groups', [((4, 4, 3), 1), ((6, 2, 3, 3), 2), ((2, 5, 3, 3, 3), 1),
                                          ((4, 2, 5, 4), 2)])
def test_dirac_matches_torch(shape, groups):
    ours = init.dirac_(_param(*shape), groups)
    ref = torch.nn.init.dirac_(torch.empty(*shape), groups)
    np.testing.assert_array_equal(ours.detach().numpy(), ref.numpy())
    with pytest.raises(ValueError, match='dim 0 must be divisible by groups'):
        init.dirac_(_param(3, 2, 3), 2)


def test_generator_and_manual_seed_reproduce():
    g1, g2 = ember.Generator().manual_seed(5), ember.Generator().manual_seed(5)
    a = init.normal_(ember.empty(4, 4), generator=g1).numpy()
    b = init.normal_(ember.empty(4, 4), generator=g2).numpy()
    np.testing.assert_array_equal(a, b)
    ember.manual_seed(7)
    c = init.xavier_uniform_(ember.empty(4, 4)).numpy()
    ember.manual_seed(7)
    d = init.xavier_uniform_(ember.empty(4, 4)).numpy()
    np.testing.assert_array_equal(c, d)


def test_deprecated_aliases_warn():
    with pytest.warns(FutureWarning, match='nn.init.uniform` is now deprecated'):
        init.uniform(ember.empty(3))
