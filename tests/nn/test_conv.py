"""Convolution layers and fold/unfold against torch: same weights, same inputs, outputs and gradients."""
import math

import numpy as np
import pytest

import ember
from tests.conftest import requires_torch, torch

pytestmark = requires_torch


def _copy_params(ours, ref):
    """Copies the torch module's state into the ember module (keys must match)."""
    state = {k: ember.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()}
    ours.load_state_dict(state)


def _run_both(ours, ref, x, forward_kwargs=None, atol=1e-5, rtol=1e-4):
    """Runs both modules on ``x``, compares outputs and the gradients of input and every parameter."""
    forward_kwargs = forward_kwargs or {}
    xe = ember.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    ye = ours(xe, **forward_kwargs)
    yt = ref(xt, **forward_kwargs)
    assert tuple(ye.shape) == tuple(yt.shape)
    assert ye.dtype == ember.float32
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), atol=atol, rtol=rtol)
    g = np.random.default_rng(3).standard_normal(tuple(yt.shape)).astype(np.float32)
    ye.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), atol=atol, rtol=rtol, err_msg='input grad')
    for (name, pe), (_, pt) in zip(ours.named_parameters(), ref.named_parameters()):
        np.testing.assert_allclose(pe.grad.numpy(), pt.grad.numpy(), atol=atol * 10, rtol=rtol, err_msg=name)


CONV2D_CASES = [
    dict(in_channels=3, out_channels=4, kernel_size=3),
    dict(in_channels=3, out_channels=6, kernel_size=(3, 2), stride=2, padding=1),
    dict(in_channels=4, out_channels=6, kernel_size=3, stride=(1, 2), padding=(2, 1), dilation=2, groups=2),
    dict(in_channels=4, out_channels=4, kernel_size=3, padding=1, groups=4, bias=False),     # depthwise
    dict(in_channels=3, out_channels=5, kernel_size=4, padding='same'),                    # even kernel
    dict(in_channels=3, out_channels=5, kernel_size=(2, 3), padding='same', dilation=(3, 1)),
    dict(in_channels=3, out_channels=5, kernel_size=3, padding='valid'),
    dict(in_channels=3, out_channels=4, kernel_size=3, padding=1, padding_mode='reflect'),
    dict(in_channels=3, out_channels=4, kernel_size=3, padding=(2, 1), padding_mode='replicate'),
    dict(in_channels=3, out_channels=4, kernel_size=3, padding=2, padding_mode='circular', stride=2),
    dict(in_channels=3, out_channels=4, kernel_size=4, padding='same', padding_mode='reflect'),
    dict(in_channels=8, out_channels=16, kernel_size=1),                                  # 1x1
]


@pytest.mark.parametrize('kwargs', CONV2D_CASES, ids=[str(i) for i in range(len(CONV2D_CASES))])
def test_conv2d_matches_torch(kwargs):
    ref = torch.nn.Conv2d(**kwargs)
    ours = ember.nn.Conv2d(**kwargs)
    _copy_params(ours, ref)
    assert repr(ours) == repr(ref)
    assert list(ours.state_dict().keys()) == list(ref.state_dict().keys())
    x = np.random.default_rng(0).standard_normal((2, kwargs['in_channels'], 9, 8)).astype(np.float32)
    _run_both(ours, ref, x)


@pytest.mark.parametrize('kwargs', [
    dict(in_channels=2, out_channels=4, kernel_size=3, stride=2, padding=1),
    dict(in_channels=4, out_channels=6, kernel_size=4, padding='same', dilation=2, groups=2),
    dict(in_channels=2, out_channels=3, kernel_size=3, padding=2, padding_mode='circular'),
])
def test_conv1d_matches_torch(kwargs):
    ref = torch.nn.Conv1d(**kwargs)
    ours = ember.nn.Conv1d(**kwargs)
    _copy_params(ours, ref)
    assert repr(ours) == repr(ref)
    x = np.random.default_rng(1).standard_normal((3, kwargs['in_channels'], 11)).astype(np.float32)
    _run_both(ours, ref, x)


@pytest.mark.parametrize('kwargs', [
    dict(in_channels=2, out_channels=4, kernel_size=3, stride=(1, 2, 2), padding=1),
    dict(in_channels=2, out_channels=2, kernel_size=2, padding='same', padding_mode='replicate'),
])
def test_conv3d_matches_torch(kwargs):
    ref = torch.nn.Conv3d(**kwargs)
    ours = ember.nn.Conv3d(**kwargs)
    _copy_params(ours, ref)
    assert repr(ours) == repr(ref)
    x = np.random.default_rng(2).standard_normal((2, kwargs['in_channels'], 5, 6, 5)).astype(np.float32)
    _run_both(ours, ref, x)


def test_conv2d_unbatched_input():
    ref = torch.nn.Conv2d(3, 4, 3, padding=1)
    ours = ember.nn.Conv2d(3, 4, 3, padding=1)
    _copy_params(ours, ref)
    x = np.random.default_rng(4).standard_normal((3, 6, 5)).astype(np.float32)
    _run_both(ours, ref, x)


CONVT_CASES = [
    (2, dict(in_channels=3, out_channels=4, kernel_size=3)),
    (2, dict(in_channels=4, out_channels=6, kernel_size=3, stride=2, padding=1, output_padding=1, groups=2)),
    (2, dict(in_channels=2, out_channels=3, kernel_size=(2, 3), stride=(3, 2), padding=(1, 0), dilation=(1, 2),
             output_padding=(2, 1), bias=False)),
    (1, dict(in_channels=3, out_channels=2, kernel_size=4, stride=2, padding=1)),
    (1, dict(in_channels=4, out_channels=4, kernel_size=3, groups=4, dilation=2)),
    (3, dict(in_channels=2, out_channels=2, kernel_size=2, stride=2)),
]


@pytest.mark.parametrize('n,kwargs', CONVT_CASES, ids=[str(i) for i in range(len(CONVT_CASES))])
def test_conv_transpose_matches_torch(n, kwargs):
    ref = getattr(torch.nn, f'ConvTranspose{n}d')(**kwargs)
    ours = getattr(ember.nn, f'ConvTranspose{n}d')(**kwargs)
    _copy_params(ours, ref)
    assert repr(ours) == repr(ref)
    assert list(ours.state_dict().keys()) == list(ref.state_dict().keys())
    x = np.random.default_rng(5).standard_normal((2, kwargs['in_channels']) + (4,) * n).astype(np.float32)
    _run_both(ours, ref, x)


def test_conv_transpose_output_size():
    ref = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    ours = ember.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    _copy_params(ours, ref)
    x = np.random.default_rng(6).standard_normal((1, 3, 5, 4)).astype(np.float32)
    for size in [(9, 7), (10, 8), [1, 2, 10, 7]]:
        _run_both(ours, ref, x, {'output_size': size})
    with pytest.raises(ValueError, match='requested an output size of'):
        ours(ember.tensor(x), output_size=(12, 7))


def test_conv_transpose_rejects_other_padding_modes():
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for ConvTranspose2d'):
        ember.nn.ConvTranspose2d(2, 2, 3, padding_mode='reflect')


def test_conv_module_argument_errors():
    with pytest.raises(ValueError, match='in_channels must be divisible by groups'):
        ember.nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        ember.nn.Conv2d(3, 4, 3, stride=2, padding='same')
    with pytest.raises(ValueError, match='padding_mode must be one of'):
        ember.nn.Conv2d(3, 4, 3, padding_mode='bogus')


def test_conv_default_init_statistics():
    conv = ember.nn.Conv2d(64, 128, 3)
    w = conv.weight.detach().numpy()
    bound = 1 / math.sqrt(64 * 9)
    assert np.abs(w).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound
    assert np.abs(conv.bias.detach().numpy()).max() <= bound
    t = ember.nn.ConvTranspose2d(16, 32, 4)     # fan_in from weight.size(1) = 32
    assert np.abs(t.weight.detach().numpy()).max() <= 1 / math.sqrt(32 * 16)


def test_conv_double_backward_matches_torch():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 2, 6, 5)).astype(np.float32)
    w = rng.standard_normal((4, 1, 3, 2)).astype(np.float32)
    results = []
    for m in (ember, torch):
        xt = m.tensor(x, requires_grad=True)
        wt = m.tensor(w, requires_grad=True)
        y = m.nn.functional.conv2d(xt, wt, stride=2, padding=1, groups=2)
        gx, gw = m.autograd.grad((y ** 2).sum(), (xt, wt), create_graph=True)
        loss = (gx ** 2).sum() + (gw * gw).sum()
        loss.backward()
        results.append((xt.grad.detach().numpy(), wt.grad.detach().numpy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-3)


def test_conv_grad_fn_name():
    x = ember.randn(1, 2, 5, 5, requires_grad=True)
    w = ember.randn(3, 2, 3, 3, requires_grad=True)
    assert type(ember.nn.functional.conv2d(x, w).grad_fn).__name__ == 'ConvolutionBackward0'


def test_fold_unfold_modules_match_torch():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 3, 7, 6)).astype(np.float32)
    ref, ours = torch.nn.Unfold((2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), \
        ember.nn.Unfold((2, 3), dilation=(1, 2), padding=1, stride=(2, 1))
    assert repr(ours) == repr(ref)
    _run_both(ours, ref, x)
    cols = rng.standard_normal((2, 3 * 4, 12)).astype(np.float32)
    ref, ours = torch.nn.Fold((5, 7), 2, stride=(1, 2)), ember.nn.Fold((5, 7), 2, stride=(1, 2))
    assert repr(ours) == repr(ref)
    _run_both(ours, ref, cols)


def test_fold_errors():
    with pytest.raises(RuntimeError, match="expected size of input's dimension 2 to match the calculated number of "
                                           r"sliding blocks 4 \* 4 = 16, but got input.size\(2\)=15"):
        ember.nn.functional.fold(ember.zeros(1, 4, 15), (5, 5), 2)
    with pytest.raises(RuntimeError, match="divisible by the product of kernel_size"):
        ember.nn.functional.fold(ember.zeros(1, 5, 16), (5, 5), 2)
