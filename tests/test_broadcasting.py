"""Hypothesis: random broadcastable shapes for binary ops; values and gradients equal torch's."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import ember
from tests.conftest import requires_torch, torch

BINARY = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'atan2', 'hypot', 'pow']


@st.composite
def broadcast_pair(draw):
    ndim = draw(st.integers(0, 4))
    shape = [draw(st.integers(0, 4)) for _ in range(ndim)]
    a = list(shape)
    b = list(shape)
    for i in range(ndim):
        pick = draw(st.integers(0, 2))
        if pick == 1:
            a[i] = 1
        elif pick == 2:
            b[i] = 1
    drop_a = draw(st.integers(0, len(a)))
    drop_b = draw(st.integers(0, len(b)))
    return tuple(a[drop_a:]), tuple(b[drop_b:])


@requires_torch
@settings(max_examples=60, deadline=None)
@given(shapes=broadcast_pair(), name=st.sampled_from(BINARY), seed=st.integers(0, 2 ** 16))
def test_binary_broadcasting_matches_torch(shapes, name, seed):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.5, 2.0, shapes[0]).astype(np.float32)
    b = rng.uniform(0.5, 2.0, shapes[1]).astype(np.float32)
    ea, eb = ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    eo, to = getattr(ember, name)(ea, eb), getattr(torch, name)(ta, tb)
    assert tuple(eo.shape) == tuple(to.shape)
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=1e-5, atol=1e-6)
    if eo.numel():
        w = rng.standard_normal(tuple(to.shape)).astype(np.float32)
        eo.backward(ember.tensor(w))
        to.backward(torch.tensor(w))
        np.testing.assert_allclose(ea.grad.numpy(), ta.grad.numpy(), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(eb.grad.numpy(), tb.grad.numpy(), rtol=1e-4, atol=1e-5)


@requires_torch
@settings(max_examples=40, deadline=None)
@given(shapes=broadcast_pair())
def test_broadcast_error_matches_torch(shapes):
    a, b = shapes
    if len(a) and len(b):
        bad = (a[-1] + 2,) if a[-1] != 0 else (3,)
        b2 = b[:-1] + bad if b[-1] not in (1,) else b
        try:
            torch.zeros(a) + torch.zeros(b2)
        except RuntimeError:
            with pytest.raises(RuntimeError, match='must match the size'):
                ember.zeros(a) + ember.zeros(b2)
