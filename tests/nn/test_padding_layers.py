"""Padding modules: values and reprs equal torch's."""
import numpy as np
import pytest

import ember
from tests.conftest import requires_torch, torch

CASES = [('ZeroPad2d', (1,), 4), ('ZeroPad1d', ((2, 1),), 3), ('ConstantPad2d', ((1, 2, 0, 1), 3.5), 4),
         ('ConstantPad1d', (2, 1.0), 3), ('ConstantPad3d', (1, -1.0), 5), ('ReflectionPad2d', (2,), 4),
         ('ReflectionPad1d', ((1, 2),), 3), ('ReplicationPad2d', ((1, 0, 2, 1),), 4),
         ('ReplicationPad3d', (1,), 5), ('CircularPad2d', (1,), 4), ('CircularPad1d', (2,), 3)]


@requires_torch
@pytest.mark.parametrize('name,args,ndim', CASES, ids=[c[0] + str(i) for i, c in enumerate(CASES)])
def test_padding_module_matches_torch(name, args, ndim):
    x = np.random.default_rng(0).standard_normal((1, 2, 4, 5, 6)[:ndim]).astype(np.float32)
    em, tm = getattr(ember.nn, name)(*args), getattr(torch.nn, name)(*args)
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    eo, to = em(ex), tm(tx)
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy())
    eo.sum().backward()
    to.sum().backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy())
    assert repr(em) == repr(tm)
