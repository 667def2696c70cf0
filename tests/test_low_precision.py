"""float16 and bfloat16 tensors record graphs and get gradients, as in torch."""
import numpy as np
import pytest

import ember
from tests.conftest import requires_torch, torch


@requires_torch
@pytest.mark.parametrize('dtype', ['float16', 'bfloat16'])
@pytest.mark.parametrize('fn', [lambda m, x: (m.relu(x) * 3).sum(), lambda m, x: (x.exp() * x).sum(),
                                lambda m, x: m.nn.functional.softmax(x, dim=0)[1],
                                lambda m, x: (x @ x.unsqueeze(1)).sum()], ids=['relu', 'exp', 'softmax', 'matmul'])
def test_half_precision_gradients_match_torch(dtype, fn):
    values = np.array([-1.0, 0.5, 2.0], dtype=np.float32)
    ex = ember.tensor(values).to(getattr(ember, dtype)).requires_grad_()
    tx = torch.tensor(values).to(getattr(torch, dtype)).requires_grad_()
    ey, ty = fn(ember, ex), fn(torch, tx)
    assert ey.grad_fn is not None and str(ey.dtype) == str(ty.dtype)
    ey.backward()
    ty.backward()
    assert str(ex.grad.dtype) == str(tx.grad.dtype)
    np.testing.assert_allclose(ex.grad.float().numpy(), tx.grad.float().numpy(), rtol=2e-2, atol=2e-2)
