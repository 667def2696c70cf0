"""nn.utils: gradient clipping and parameter/vector conversion against torch."""
import numpy as np
import pytest

import ember
import ember.nn as enn
from ember.nn import utils
from tests.conftest import requires_torch, torch
from tests.nn.test_layers import copy_weights

pytestmark = requires_torch


def _pair():
    ref = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3))
    ours = enn.Sequential(enn.Linear(5, 4), enn.Tanh(), enn.Linear(4, 3))
    copy_weights(ours, ref)
    x = np.random.default_rng(0).standard_normal((6, 5)).astype(np.float32)
    (ours(ember.tensor(x)) ** 2).sum().backward()
    (ref(torch.tensor(x)) ** 2).sum().backward()
    return ours, ref


def _grads(model):
    return [p.grad.numpy() for p in model.parameters()]


@pytest.mark.parametrize('norm_type', [2.0, 1, 3.0, float('inf')])
@pytest.mark.parametrize('max_norm', [0.1, 1e6])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, ref = _pair()
    e_total = utils.clip_grad_norm_(ours.parameters(), max_norm, norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(ref.parameters(), max_norm, norm_type)
    assert isinstance(e_total, ember.Tensor) and e_total.ndim == 0
    np.testing.assert_allclose(e_total.item(), t_total.item(), rtol=1e-5)
    for a, b in zip(_grads(ours), _grads(ref)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_clip_grad_norm_single_tensor_nonfinite_and_foreach():
    p = ember.nn.Parameter(ember.ones(3))
    p.grad = ember.tensor([3.0, 4.0, 0.0])
    total = utils.clip_grad_norm_(p, 1.0, foreach=True)
    assert abs(total.item() - 5.0) < 1e-6
    np.testing.assert_allclose(p.grad.numpy(), np.array([3, 4, 0]) / (5 + 1e-6), rtol=1e-6)
    p.grad = ember.tensor([float('inf'), 1.0, 0.0])
    with pytest.raises(RuntimeError, match='The total norm of order 2.0 for gradients from `parameters` is non-finite'):
        utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert utils.clip_grad_norm_([], 1.0).item() == 0.0
    with pytest.warns(UserWarning, match='empty generator'):
        utils.clip_grad_norm_((q for q in []), 1.0)


def test_total_norm_helpers():
    ours, ref = _pair()
    grads = [p.grad for p in ours.parameters()]
    total = utils.get_total_norm(grads, 2.0)
    t_total = torch.nn.utils.get_total_norm([p.grad for p in ref.parameters()], 2.0)
    np.testing.assert_allclose(total.item(), t_total.item(), rtol=1e-5)
    utils.clip_grads_with_norm_(ours.parameters(), 0.5, total)
    torch.nn.utils.clip_grads_with_norm_(ref.parameters(), 0.5, t_total)
    for a, b in zip(_grads(ours), _grads(ref)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_clip_grad_value():
    ours, ref = _pair()
    utils.clip_grad_value_(ours.parameters(), 0.05)
    torch.nn.utils.clip_grad_value_(ref.parameters(), 0.05)
    for a, b in zip(_grads(ours), _grads(ref)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
        assert np.abs(a).max() <= 0.05


def test_parameters_to_vector_and_back():
    ours, ref = _pair()
    vec = utils.parameters_to_vector(ours.parameters())
    t_vec = torch.nn.utils.parameters_to_vector(ref.parameters())
    np.testing.assert_array_equal(vec.detach().numpy(), t_vec.detach().numpy())
    new = ember.arange(vec.numel(), dtype=ember.float32)
    utils.vector_to_parameters(new, ours.parameters())
    assert np.array_equal(utils.parameters_to_vector(ours.parameters()).detach().numpy(), new.numpy())
    assert tuple(ours[0].weight.shape) == (4, 5)
    with pytest.raises(TypeError, match='expected torch.Tensor, but got'):
        utils.vector_to_parameters([1.0], ours.parameters())
    # the vector keeps the graph back to the parameters
    vec = utils.parameters_to_vector(ours.parameters())
    vec.sum().backward()
    assert ours[0].weight.grad is not None
