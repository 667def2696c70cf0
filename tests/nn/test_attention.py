"""scaled_dot_product_attention and MultiheadAttention against torch: every kind of mask, gradients, gradcheck."""
import itertools

import numpy as np
import pytest

import ember
from tests.conftest import requires_torch

torch = pytest.importorskip('torch')
pytestmark = requires_torch
TF = torch.nn.functional
EF = ember.nn.functional


def _e(t, grad=False):
    return ember.tensor(t.detach().numpy(), requires_grad=grad)


def _close(a, b, tol=1e-5):
    a = a.detach().numpy()
    b = b.detach().numpy()
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def _masks(L, S, dims=2):
    g = torch.Generator().manual_seed(3)
    shape = (L, S) if dims == 2 else (2, 1, L, S)
    allowed = torch.rand(shape, generator=g) > 0.3
    allowed[..., 0] = True          # every query can attend somewhere
    return {'none': None, 'bool': allowed, 'float': torch.randn(shape, generator=g)}


@pytest.mark.parametrize('mask_kind,is_causal,scale', [
    ('none', False, None), ('bool', False, None), ('float', False, None), ('none', True, None),
    ('none', False, 0.25), ('bool', False, 0.5)])
@pytest.mark.parametrize('mask_dims', [2, 4])
def test_sdpa_matches_torch(mask_kind, is_causal, scale, mask_dims):
    torch.manual_seed(0)
    q = torch.randn(2, 3, 5, 4, requires_grad=True)
    k = torch.randn(2, 3, 5 if is_causal else 6, 4, requires_grad=True)
    v = torch.randn(2, 3, k.shape[2], 3, requires_grad=True)
    mask = _masks(5, k.shape[2], mask_dims)[mask_kind]
    out_t = TF.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=is_causal, scale=scale)
    qe, ke, ve = _e(q, True), _e(k, True), _e(v, True)
    out_e = EF.scaled_dot_product_attention(qe, ke, ve, attn_mask=None if mask is None else _e(mask),
                                            is_causal=is_causal, scale=scale)
    _close(out_e, out_t)
    g = torch.randn_like(out_t)
    (out_t * g).sum().backward()
    (out_e * _e(g)).sum().backward()
    for a, b in [(qe, q), (ke, k), (ve, v)]:
        _close(a.grad, b.grad)


def test_sdpa_row_with_no_allowed_key_gives_zeros_like_torch():
    q = torch.randn(1, 3, 4)
    mask = torch.tensor([[True, False], [False, False], [True, True]])
    out_t = TF.scaled_dot_product_attention(q, q[:, :2], q[:, :2], attn_mask=mask)
    out_e = EF.scaled_dot_product_attention(_e(q), _e(q[:, :2]), _e(q[:, :2]), attn_mask=_e(mask))
    _close(out_e, out_t)


def test_sdpa_gqa_and_errors():
    q, k = torch.randn(1, 4, 3, 2), torch.randn(1, 2, 3, 2)
    out_t = TF.scaled_dot_product_attention(q, k, k, enable_gqa=True)
    _close(EF.scaled_dot_product_attention(_e(q), _e(k), _e(k), enable_gqa=True), out_t)
    with pytest.raises(RuntimeError, match='Explicit attn_mask should not be set when is_causal=True'):
        EF.scaled_dot_product_attention(_e(q), _e(q), _e(q), attn_mask=ember.ones(3, 3, dtype=ember.bool),
                                        is_causal=True)


def test_sdpa_dropout_is_random_and_scaled():
    q = ember.randn(1, 8, 8)
    a = EF.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    b = EF.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    assert not np.allclose(a.numpy(), b.numpy())


def test_sdpa_gradcheck_float64():
    rng = np.random.default_rng(0)
    q, k, v = (ember.tensor(rng.standard_normal((2, 3, 2)), requires_grad=True) for _ in range(3))
    mask = ember.tensor(rng.standard_normal((3, 3)))
    fn = lambda q, k, v: EF.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # noqa: E731
    assert ember.autograd.gradcheck(fn, (q, k, v))
    assert ember.autograd.gradgradcheck(fn, (q, k, v))


def _mha_pair(E=8, heads=2, **kw):
    torch.manual_seed(0)
    ref = torch.nn.MultiheadAttention(E, heads, **kw)
    ours = ember.nn.MultiheadAttention(E, heads, **kw)
    ours.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
    return ref, ours


MHA_GRID = list(itertools.product(['none', 'bool', 'float'], ['none', 'bool', 'float', 'bool3d'], [True, False],
                                  [True, False]))


@pytest.mark.parametrize('kpm_kind,mask_kind,need_weights,batch_first', MHA_GRID)
def test_mha_matches_torch(kpm_kind, mask_kind, need_weights, batch_first):
    ref, ours = _mha_pair(batch_first=batch_first)
    L, S, N = 4, 5, 3
    g = torch.Generator().manual_seed(1)
    q = torch.randn((N, L, 8) if batch_first else (L, N, 8), generator=g, requires_grad=True)
    kv = torch.randn((N, S, 8) if batch_first else (S, N, 8), generator=g, requires_grad=True)
    kpm = {'none': None, 'bool': torch.rand(N, S, generator=g) > 0.6,
           'float': torch.randn(N, S, generator=g)}[kpm_kind]
    if kpm is not None and kpm.dtype == torch.bool:
        kpm[:, 0] = False
    attn_mask = {'none': None, 'bool': torch.rand(L, S, generator=g) > 0.6, 'float': torch.randn(L, S, generator=g),
                 'bool3d': torch.rand(N * 2, L, S, generator=g) > 0.6}[mask_kind]
    if attn_mask is not None and attn_mask.dtype == torch.bool:
        attn_mask[..., 0] = False
    if kpm is not None and attn_mask is not None and kpm.dtype != attn_mask.dtype:
        attn_mask = attn_mask.float().masked_fill(attn_mask, float('-inf')) if attn_mask.dtype == torch.bool \
            else attn_mask
        kpm = kpm.float().masked_fill(kpm, float('-inf')) if kpm.dtype == torch.bool else kpm
    out_t, w_t = ref(q, kv, kv, key_padding_mask=kpm, attn_mask=attn_mask, need_weights=need_weights)
    qe, kve = _e(q, True), _e(kv, True)
    out_e, w_e = ours(qe, kve, kve, key_padding_mask=None if kpm is None else _e(kpm),
                      attn_mask=None if attn_mask is None else _e(attn_mask), need_weights=need_weights)
    _close(out_e, out_t)
    if need_weights:
        _close(w_e, w_t)
    else:
        assert w_e is None and w_t is None
    gr = torch.randn_like(out_t)
    (out_t * gr).sum().backward()
    (out_e * _e(gr)).sum().backward()
    _close(qe.grad, q.grad)
    _close(kve.grad, kv.grad)
    for (n, p), q_ in zip(ref.named_parameters(), ours.parameters()):
        _close(q_.grad, p.grad, 1e-4)


@pytest.mark.parametrize('kw', [dict(kdim=3, vdim=5), dict(bias=False), dict(add_bias_kv=True),
                                dict(add_zero_attn=True), dict(add_bias_kv=True, add_zero_attn=True, kdim=6, vdim=6)])
@pytest.mark.parametrize('average', [True, False])
def test_mha_variants(kw, average):
    ref, ours = _mha_pair(**kw)
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert repr(ours) == repr(ref)
    kd, vd = kw.get('kdim', 8), kw.get('vdim', 8)
    q, k, v = torch.randn(4, 2, 8), torch.randn(5, 2, kd), torch.randn(5, 2, vd)
    mask = torch.rand(4, 5) > 0.5
    mask[:, 0] = False
    out_t, w_t = ref(q, k, v, attn_mask=mask, average_attn_weights=average)
    out_e, w_e = ours(_e(q), _e(k), _e(v), attn_mask=_e(mask), average_attn_weights=average)
    _close(out_e, out_t)
    _close(w_e, w_t)
    (out_t.sum() + w_t.sum()).backward()
    (out_e.sum() + w_e.sum()).backward()
    for (n, p), q_ in zip(ref.named_parameters(), ours.parameters()):
        _close(q_.grad, p.grad, 1e-4)


def test_mha_self_attention_unbatched_and_causal():
    ref, ours = _mha_pair()
    x = torch.randn(6, 8)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(6)
    out_t, w_t = ref(x, x, x, attn_mask=mask)
    out_e, w_e = ours(_e(x), _e(x), _e(x), attn_mask=_e(mask))
    _close(out_e, out_t)
    _close(w_e, w_t)
    xb = torch.randn(6, 2, 8)
    out_t, _ = ref(xb, xb, xb, attn_mask=mask, is_causal=True, need_weights=False)
    xe = _e(xb)
    out_e, _ = ours(xe, xe, xe, attn_mask=_e(mask), is_causal=True, need_weights=False)
    _close(out_e, out_t)


def test_mha_init_and_repr():
    m = ember.nn.MultiheadAttention(256, 4)
    assert repr(m) == repr(torch.nn.MultiheadAttention(256, 4))
    w = m.in_proj_weight.detach().numpy()
    bound = np.sqrt(6 / (256 + 768))
    assert w.min() >= -bound and w.max() <= bound and abs(w.std() - bound / np.sqrt(3)) < 2e-3
    assert np.all(m.in_proj_bias.detach().numpy() == 0) and np.all(m.out_proj.bias.detach().numpy() == 0)
    assert type(m.out_proj).__name__ == 'NonDynamicallyQuantizableLinear'
    assert isinstance(m.out_proj, ember.nn.Linear)


def test_mha_dropout_only_in_training():
    m = ember.nn.MultiheadAttention(8, 2, dropout=0.5)
    x = ember.randn(4, 2, 8)
    m.eval()
    a, b = m(x, x, x)[0], m(x, x, x)[0]
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    m.train()
    assert not np.allclose(m(x, x, x)[0].detach().numpy(), m(x, x, x)[0].detach().numpy())


def test_mha_gradcheck_float64():
    m = ember.nn.MultiheadAttention(4, 2, add_bias_kv=True).double()
    x = ember.randn(3, 2, 4, dtype=ember.float64, requires_grad=True)
    kpm = ember.tensor([[False, False, True], [False, False, False]])
    assert ember.autograd.gradcheck(lambda x: m(x, x, x, key_padding_mask=kpm)[0], (x,))
