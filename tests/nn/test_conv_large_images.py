"""Convolution paths that only large feature maps take (the row-shift GEMMs for stride-1 convs with
>= 400 output positions, the batch-folded transposed conv for strided layers); compared with torch."""
import numpy as np
import pytest

import ember
from tests.conftest import requires_torch, torch

CASES = [dict(padding=1), dict(padding=0), dict(padding=2, dilation=2), dict(padding=(1, 0)), dict(padding=1, bias=False)]


@requires_torch
@pytest.mark.parametrize('kw', CASES, ids=[str(c) for c in CASES])
def test_stride1_conv_on_large_maps_matches_torch(kw):
    kw = dict(kw)
    bias = kw.pop('bias', True)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 26, 23)).astype(np.float32)
    tconv = torch.nn.Conv2d(5, 7, 3, bias=bias, **kw)
    econv = ember.nn.Conv2d(5, 7, 3, bias=bias, **kw)
    econv.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tconv.state_dict().items()})
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    eo, to = econv(ex), tconv(tx)
    assert eo.shape[-1] * eo.shape[-2] >= 400
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=1e-4, atol=1e-4)
    g = rng.standard_normal(tuple(to.shape)).astype(np.float32)
    eo.backward(ember.tensor(g))
    to.backward(torch.tensor(g))
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(econv.weight.grad.numpy(), tconv.weight.grad.numpy(), rtol=1e-4, atol=1e-3)


@requires_torch
def test_strided_conv_input_gradient_batch_folded_matches_torch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 6, 14, 14)).astype(np.float32)
    tconv = torch.nn.Conv2d(6, 8, 3, stride=2, padding=1)
    econv = ember.nn.Conv2d(6, 8, 3, stride=2, padding=1)
    econv.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tconv.state_dict().items()})
    ex, tx = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    econv(ex).sum().backward()
    tconv(tx).sum().backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_large_map_conv_gradcheck_float64():
    rng = np.random.default_rng(2)
    x = ember.tensor(rng.standard_normal((1, 1, 21, 20)), requires_grad=True)
    w = ember.tensor(rng.standard_normal((1, 1, 3, 3)), requires_grad=True)
    f = lambda a, b: ember.nn.functional.conv2d(a, b, padding=1)[..., :3, :3]
    assert ember.autograd.gradcheck(f, (x, w))


def test_kept_im2col_columns_are_used_once_and_not_kept_without_weight_grad():
    from ember.ops import conv
    rng = np.random.default_rng(3)
    x = ember.tensor(rng.standard_normal((2, 4, 24, 24)).astype(np.float32))
    layer = ember.nn.Conv2d(4, 6, 3, padding=1)
    layer(x).sum().backward()
    assert not conv._COLS, 'the weight gradient takes the kept matrix'
    layer.requires_grad_(False)
    layer(x).sum()                      # recorded nowhere: nothing needs the matrix
    assert not conv._COLS
    with ember.no_grad():
        layer(x)
    assert not conv._COLS
