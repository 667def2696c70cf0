"""Transformer layers against torch with the same weights (dropout off): outputs and every gradient."""
import numpy as np
import pytest

import ember
from tests.conftest import requires_torch

torch = pytest.importorskip('torch')
pytestmark = requires_torch


def _e(t, grad=False):
    return ember.tensor(t.detach().numpy(), requires_grad=grad)


def _close(a, b, tol=2e-5):
    a = a.detach().numpy()
    b = b.detach().numpy()
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def _copy(ref, ours):
    ours.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
    assert repr(ours) == repr(ref)
    assert list(ours.state_dict()) == list(ref.state_dict())


def _check_grads(ref, ours, pairs, out_t, out_e):
    g = torch.randn_like(out_t)
    (out_t * g).sum().backward()
    (out_e * _e(g)).sum().backward()
    for a, b in pairs:
        _close(a.grad, b.grad, 1e-4)
    for (n, p), (m, q) in zip(ref.named_parameters(), ours.named_parameters()):
        assert n == m
        _close(q.grad, p.grad, 1e-4)


@pytest.mark.parametrize('norm_first', [False, True])
@pytest.mark.parametrize('batch_first', [False, True])
@pytest.mark.parametrize('activation', ['relu', 'gelu', 'module'])
def test_encoder_layer_matches_torch(norm_first, batch_first, activation):
    torch.manual_seed(0)
    act_t = torch.nn.GELU() if activation == 'module' else activation
    act_e = ember.nn.GELU() if activation == 'module' else activation
    ref = torch.nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, activation=act_t, batch_first=batch_first,
                                           norm_first=norm_first)
    ours = ember.nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, activation=act_e, batch_first=batch_first,
                                            norm_first=norm_first)
    _copy(ref, ours)
    x = torch.randn((2, 5, 16) if batch_first else (5, 2, 16), requires_grad=True)
    kpm = torch.tensor([[False] * 5, [False, False, False, True, True]])
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5)
    xe = _e(x, True)
    out_t = ref(x, src_mask=mask, src_key_padding_mask=kpm)
    out_e = ours(xe, src_mask=_e(mask), src_key_padding_mask=_e(kpm))
    _close(out_e, out_t)
    _check_grads(ref, ours, [(xe, x)], out_t, out_e)


@pytest.mark.parametrize('norm_first', [False, True])
def test_decoder_layer_matches_torch(norm_first):
    torch.manual_seed(0)
    ref = torch.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, norm_first=norm_first)
    ours = ember.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, norm_first=norm_first)
    _copy(ref, ours)
    tgt = torch.randn(4, 3, 8, requires_grad=True)
    mem = torch.randn(6, 3, 8, requires_grad=True)
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(4)
    mkpm = torch.zeros(3, 6, dtype=torch.bool)
    mkpm[1, 4:] = True
    out_t = ref(tgt, mem, tgt_mask=tmask, memory_key_padding_mask=mkpm)
    te, me = _e(tgt, True), _e(mem, True)
    out_e = ours(te, me, tgt_mask=_e(tmask), memory_key_padding_mask=_e(mkpm))
    _close(out_e, out_t)
    _check_grads(ref, ours, [(te, tgt), (me, mem)], out_t, out_e)


def test_encoder_stack_with_norm():
    torch.manual_seed(0)
    layer_t = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    ref = torch.nn.TransformerEncoder(layer_t, 3, norm=torch.nn.LayerNorm(8), enable_nested_tensor=False)
    ours = ember.nn.TransformerEncoder(ember.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True), 3,
                                       norm=ember.nn.LayerNorm(8), enable_nested_tensor=False)
    _copy(ref, ours)
    x = torch.randn(2, 5, 8, requires_grad=True)
    xe = _e(x, True)
    out_t, out_e = ref(x), ours(xe)
    _close(out_e, out_t)
    _check_grads(ref, ours, [(xe, x)], out_t, out_e)


@pytest.mark.parametrize('batch_first', [False, True])
def test_full_transformer_matches_torch(batch_first):
    torch.manual_seed(0)
    ref = torch.nn.Transformer(8, 2, 2, 2, 16, dropout=0.0, batch_first=batch_first)
    ours = ember.nn.Transformer(8, 2, 2, 2, 16, dropout=0.0, batch_first=batch_first)
    _copy(ref, ours)
    src = torch.randn((3, 6, 8) if batch_first else (6, 3, 8), requires_grad=True)
    tgt = torch.randn((3, 4, 8) if batch_first else (4, 3, 8), requires_grad=True)
    mask = ref.generate_square_subsequent_mask(4)
    out_t = ref(src, tgt, tgt_mask=mask)
    se, te = _e(src, True), _e(tgt, True)
    out_e = ours(se, te, tgt_mask=ember.nn.Transformer.generate_square_subsequent_mask(4))
    _close(out_e, out_t)
    _check_grads(ref, ours, [(se, src), (te, tgt)], out_t, out_e)


def test_square_subsequent_mask_and_init():
    m = ember.nn.Transformer.generate_square_subsequent_mask(4)
    np.testing.assert_array_equal(m.numpy(), torch.nn.Transformer.generate_square_subsequent_mask(4).numpy())
    t = ember.nn.Transformer(16, 2, 1, 1, 32)
    w = t.encoder.layers[0].linear1.weight.detach().numpy()
    bound = np.sqrt(6 / (16 + 32))
    assert w.min() >= -bound and w.max() <= bound


def test_errors():
    t = ember.nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(RuntimeError, match='the batch number of src and tgt must be equal'):
        t(ember.randn(3, 2, 8), ember.randn(3, 4, 8))
    with pytest.raises(RuntimeError, match='the feature number of src and tgt must be equal to d_model'):
        t(ember.randn(3, 2, 6), ember.randn(3, 2, 6))
    with pytest.raises(RuntimeError, match='activation should be relu/gelu, not tanh'):
        ember.nn.TransformerEncoderLayer(8, 2, activation='tanh')


def test_custom_encoder_decoder_and_callable_activation():
    enc = ember.nn.TransformerEncoder(ember.nn.TransformerEncoderLayer(8, 2, 16, activation=ember.nn.functional.gelu),
                                      1)
    dec = ember.nn.TransformerDecoder(ember.nn.TransformerDecoderLayer(8, 2, 16), 1)
    t = ember.nn.Transformer(8, 2, custom_encoder=enc, custom_decoder=dec)
    assert t.encoder is enc and t.decoder is dec
    assert t(ember.randn(5, 2, 8), ember.randn(3, 2, 8)).shape == (3, 2, 8)
