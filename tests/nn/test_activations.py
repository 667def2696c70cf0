"""Activation layers and functions against torch: values, gradients, repr, in-place variants, warnings."""
import warnings

import numpy as np
import pytest

import ember
import ember.nn as enn
import ember.nn.functional as EF
from tests.conftest import requires_torch, torch
from tests.nn.test_layers import copy_weights, run_both
from tests.op_harness import assert_same

pytestmark = requires_torch

# (class name, constructor args, kwargs)
MODULES = [
    ('ReLU', (), {}), ('ReLU', (True,), {}), ('ReLU6', (), {}), ('ReLU6', (), {'inplace': True}),
    ('LeakyReLU', (), {}), ('LeakyReLU', (0.2, True), {}), ('PReLU', (), {}), ('PReLU', (4,), {'init': 0.1}),
    ('ELU', (), {}), ('ELU', (0.5,), {'inplace': True}), ('SELU', (), {}), ('SELU', (True,), {}),
    ('CELU', (), {}), ('CELU', (1.5,), {}), ('GELU', (), {}), ('GELU', ('tanh',), {}), ('SiLU', (), {}),
    ('SiLU', (True,), {}), ('Mish', (), {}), ('Sigmoid', (), {}), ('Tanh', (), {}), ('Softmax', (1,), {}),
    ('Softmax', (-1,), {}), ('LogSoftmax', (1,), {}), ('Softmin', (0,), {}), ('Softplus', (), {}),
    ('Softplus', (2.0, 5.0), {}), ('Softsign', (), {}), ('Softshrink', (), {}), ('Softshrink', (0.3,), {}),
    ('Hardshrink', (), {}), ('Hardshrink', (1.2,), {}), ('Tanhshrink', (), {}), ('Hardswish', (), {}),
    ('Hardsigmoid', (), {}), ('Hardtanh', (), {}), ('Hardtanh', (-0.5, 2.0), {}), ('Threshold', (0.1, 20.0), {}),
    ('Threshold', (0.1, 20.0, True), {}), ('GLU', (), {}), ('GLU', (1,), {}), ('LogSigmoid', (), {}),
    ('RReLU', (), {}), ('RReLU', (0.1, 0.3), {}), ('Softmax2d', (), {}),
]


@pytest.mark.parametrize('name,args,kwargs', MODULES, ids=[f'{m[0]}{i}' for i, m in enumerate(MODULES)])
def test_activation_module_matches_torch(name, args, kwargs):
    ours, ref = getattr(enn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(ref)
    assert list(ours.state_dict()) == list(ref.state_dict())
    copy_weights(ours, ref)
    if name == 'RReLU':   # random in training: compare the deterministic eval mode
        ours.eval()
        ref.eval()
    x = np.random.default_rng(0).uniform(-4, 4, (3, 4, 2, 2)).astype(np.float32)
    if getattr(ours, 'inplace', False):
        run_both(lambda t: ours(t * 1), lambda t: ref(t * 1), x)
    else:
        run_both(ours, ref, x)


@pytest.mark.parametrize('fn,args', [('relu_', ()), ('elu_', (0.7,)), ('selu_', ()), ('celu_', (1.2,)),
                                     ('leaky_relu_', (0.3,)), ('hardtanh_', (-0.5, 0.5)), ('threshold_', (0.2, -1.0)),
                                     ('rrelu_', ())])
def test_inplace_functions(fn, args):
    x = np.random.default_rng(0).uniform(-2, 2, (4, 5)).astype(np.float32)
    e, t = ember.tensor(x), torch.tensor(x)
    e_out, t_out = getattr(EF, fn)(e, *args), getattr(torch.nn.functional, fn)(t, *args)
    assert e_out is e and t_out is t
    assert_same(e, t, rtol=1e-6)


def test_inplace_activation_gradient():
    x = ember.randn(3, 4, requires_grad=True)
    xt = torch.tensor(x.detach().numpy(), requires_grad=True)
    EF.relu(x * 2, inplace=True).sum().backward()
    torch.nn.functional.relu(xt * 2, inplace=True).sum().backward()
    assert_same(x.grad, xt.grad)


def test_softmax_implicit_dim_warns():
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    for fn in ('softmax', 'log_softmax', 'softmin'):
        with pytest.warns(UserWarning, match=f'Implicit dimension choice for {fn} has been deprecated'):
            ours = getattr(EF, fn)(ember.tensor(x))
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            ref = getattr(torch.nn.functional, fn)(torch.tensor(x))
        assert_same(ours, ref)
    with pytest.warns(UserWarning):
        enn.Softmax()(ember.randn(2, 3))
    e = EF.softmax(ember.tensor(x), 1, dtype=ember.float64)
    assert e.dtype is ember.float64


def test_rrelu_training_draws_slopes_in_bounds():
    x = -ember.rand(1000) - 0.5
    x.requires_grad_()
    y = EF.rrelu(x, 0.1, 0.3, training=True)
    slopes = (y / x).detach().numpy()
    assert slopes.min() >= 0.1 - 1e-6 and slopes.max() <= 0.3 + 1e-6 and slopes.std() > 0.03
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), slopes, rtol=1e-5)
    pos = ember.rand(10) + 0.1
    assert np.array_equal(EF.rrelu(pos, training=True).numpy(), pos.numpy())


def test_prelu_channels_and_errors():
    ref, ours = torch.nn.PReLU(3), enn.PReLU(3)
    copy_weights(ours, ref)
    run_both(ours, ref, np.random.default_rng(0).uniform(-2, 2, (2, 3, 4)).astype(np.float32))
    with pytest.raises(RuntimeError, match='Mismatch of parameter numbers and input channel size'):
        ours(ember.randn(2, 4))


def test_functional_errors():
    with pytest.raises(RuntimeError, match='Halving dimension must be even, but dimension 1 is size 3'):
        EF.glu(ember.randn(2, 3))
    with pytest.raises(RuntimeError, match='lambda must be in range'):
        EF.softshrink(ember.randn(3), -1.0)
    with pytest.raises(RuntimeError, match='Lower bound should be less than or equal to the upper bound'):
        EF.rrelu(ember.randn(3), 0.5, 0.1)
    with pytest.raises(RuntimeError, match='approximate argument must be either none or tanh'):
        EF.gelu(ember.randn(3), approximate='x')


@pytest.mark.parametrize('fn', ['sigmoid', 'tanh', 'logsigmoid', 'softsign', 'tanhshrink', 'hardswish', 'hardsigmoid',
                                'relu6', 'silu', 'mish', 'gelu', 'selu', 'celu', 'elu', 'softplus'])
def test_functional_matches_torch(fn):
    x = np.random.default_rng(0).uniform(-5, 5, (4, 6)).astype(np.float32)
    e, t = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        eo, to = getattr(EF, fn)(e), getattr(torch.nn.functional, fn)(t)
    assert_same(eo, to, rtol=1e-5)
    eo.sum().backward()
    to.sum().backward()
    assert_same(e.grad, t.grad, rtol=1e-5)


def test_gumbel_softmax_shapes_and_hard():
    logits = ember.randn(5, 4, requires_grad=True)
    soft = EF.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(soft.sum(-1).detach().numpy(), 1, rtol=1e-5)
    hard = EF.gumbel_softmax(logits, hard=True)
    values = hard.detach().numpy()
    assert set(np.unique(values)) <= {0.0, 1.0} and np.all(values.sum(-1) == 1)
    hard.sum().backward()
    assert logits.grad is not None
