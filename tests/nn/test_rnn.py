"""RNN, LSTM, GRU and their cells against torch with the same weights: outputs, states, every gradient."""
import itertools
import warnings

import numpy as np
import pytest

import ember
from tests.conftest import requires_torch

torch = pytest.importorskip('torch')
pytestmark = requires_torch

CLASSES = {'RNN': 'RNN', 'RNN_relu': 'RNN', 'LSTM': 'LSTM', 'LSTM_proj': 'LSTM', 'GRU': 'GRU'}


def _pair(kind, dtype=torch.float32, **kw):
    kw = dict(kw)
    if kind == 'RNN_relu':
        kw['nonlinearity'] = 'relu'
    if kind == 'LSTM_proj':
        kw['proj_size'] = 3
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        ref = getattr(torch.nn, CLASSES[kind])(4, 5, **kw).to(dtype)
        ours = getattr(ember.nn, CLASSES[kind])(4, 5, **kw).to(getattr(ember, str(dtype).split('.')[1]))
    ours.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
    return ref, ours


def _e(t, grad=False):
    return ember.tensor(t.detach().numpy(), requires_grad=grad)


def _close(a, b, tol=1e-5):
    a = a.detach().numpy() if hasattr(a, 'detach') else a
    b = b.detach().numpy()
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def _flat(hidden):
    return list(hidden) if isinstance(hidden, tuple) else [hidden]


GRID = list(itertools.product(['RNN', 'RNN_relu', 'LSTM', 'LSTM_proj', 'GRU'], [1, 2], [False, True], [False, True],
                              [False, True]))


@pytest.mark.parametrize('kind,layers,bidirectional,batch_first,with_hx', GRID)
def test_matches_torch_padded(kind, layers, bidirectional, batch_first, with_hx):
    torch.manual_seed(0)
    ref, ours = _pair(kind, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first)
    T, B = 6, 3
    x = torch.randn((B, T, 4) if batch_first else (T, B, 4), requires_grad=True)
    D = 2 if bidirectional else 1
    hout = 3 if kind == 'LSTM_proj' else 5
    hx_t = hx_e = None
    if with_hx:
        h0 = torch.randn(layers * D, B, hout, requires_grad=True)
        if kind.startswith('LSTM'):
            c0 = torch.randn(layers * D, B, 5, requires_grad=True)
            hx_t, hx_e = (h0, c0), (_e(h0, True), _e(c0, True))
        else:
            hx_t, hx_e = h0, _e(h0, True)
    xe = _e(x, True)
    out_t, hid_t = ref(x, hx_t)
    out_e, hid_e = ours(xe, hx_e)
    _close(out_e, out_t)
    for a, b in zip(_flat(hid_e), _flat(hid_t)):
        _close(a, b)
    # a loss that reads the output and every final state
    gens = [torch.randn_like(out_t)] + [torch.randn_like(h) for h in _flat(hid_t)]
    loss_t = sum((o * g).sum() for o, g in zip([out_t] + _flat(hid_t), gens))
    loss_e = sum((o * _e(g)).sum() for o, g in zip([out_e] + _flat(hid_e), gens))
    loss_t.backward()
    loss_e.backward()
    _close(xe.grad, x.grad)
    for (name, p), q in zip(ref.named_parameters(), ours.parameters()):
        _close(q.grad, p.grad, 1e-4)
    if with_hx:
        for a, b in zip(_flat(hx_e), _flat(hx_t)):
            _close(a.grad, b.grad)


@pytest.mark.parametrize('kind,layers,bidirectional,enforce_sorted', list(itertools.product(
    ['RNN', 'LSTM', 'LSTM_proj', 'GRU'], [1, 2], [False, True], [False, True])))
def test_matches_torch_packed(kind, layers, bidirectional, enforce_sorted):
    from torch.nn.utils.rnn import pack_padded_sequence as tpack, pad_packed_sequence as tpad
    from ember.nn.utils.rnn import pack_padded_sequence as epack, pad_packed_sequence as epad
    torch.manual_seed(1)
    ref, ours = _pair(kind, num_layers=layers, bidirectional=bidirectional, batch_first=True)
    lengths = [5, 5, 3, 1] if enforce_sorted else [3, 5, 1, 4]
    x = torch.randn(4, 5, 4, requires_grad=True)
    xe = _e(x, True)
    D = 2 if bidirectional else 1
    hout = 3 if kind == 'LSTM_proj' else 5
    h0 = torch.randn(layers * D, 4, hout, requires_grad=True)
    if kind.startswith('LSTM'):
        c0 = torch.randn(layers * D, 4, 5, requires_grad=True)
        hx_t, hx_e = (h0, c0), (_e(h0, True), _e(c0, True))
    else:
        hx_t, hx_e = h0, _e(h0, True)
    pt = tpack(x, lengths, batch_first=True, enforce_sorted=enforce_sorted)
    pe = epack(xe, ember.tensor(lengths), batch_first=True, enforce_sorted=enforce_sorted)
    out_t, hid_t = ref(pt, hx_t)
    out_e, hid_e = ours(pe, hx_e)
    assert type(out_e).__name__ == 'PackedSequence'
    _close(out_e.data, out_t.data)
    np.testing.assert_array_equal(out_e.batch_sizes.numpy(), out_t.batch_sizes.numpy())
    for a, b in zip(_flat(hid_e), _flat(hid_t)):
        _close(a, b)
    pad_t, _ = tpad(out_t, batch_first=True)
    pad_e, _ = epad(out_e, batch_first=True)
    _close(pad_e, pad_t)
    gens = [torch.randn_like(pad_t)] + [torch.randn_like(h) for h in _flat(hid_t)]
    loss_t = sum((o * g).sum() for o, g in zip([pad_t] + _flat(hid_t), gens))
    loss_e = sum((o * _e(g)).sum() for o, g in zip([pad_e] + _flat(hid_e), gens))
    loss_t.backward()
    loss_e.backward()
    _close(xe.grad, x.grad)
    for a, b in zip(_flat(hx_e), _flat(hx_t)):
        _close(a.grad, b.grad)
    for (name, p), q in zip(ref.named_parameters(), ours.parameters()):
        _close(q.grad, p.grad, 1e-4)


@pytest.mark.parametrize('kind', ['RNN', 'LSTM', 'GRU'])
def test_unbatched_input(kind):
    ref, ours = _pair(kind, num_layers=2)
    x = torch.randn(6, 4)
    out_t, hid_t = ref(x)
    out_e, hid_e = ours(_e(x))
    _close(out_e, out_t)
    for a, b in zip(_flat(hid_e), _flat(hid_t)):
        _close(a, b)


def test_no_bias_and_dropout_between_layers():
    ref, ours = _pair('LSTM', num_layers=3, bias=False, dropout=0.5)
    assert list(ours.state_dict()) == list(ref.state_dict())
    x = torch.randn(5, 2, 4)
    ours.eval()
    ref.eval()
    _close(ours(_e(x))[0], ref(x)[0])
    ours.train()
    a = ours(_e(x))[0]
    b = ours(_e(x))[0]
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())


@pytest.mark.parametrize('kind,kw', [('LSTM', dict(num_layers=2, batch_first=True)),
                                     ('LSTM', dict(proj_size=3, bidirectional=True)),
                                     ('GRU', dict(bias=False, dropout=0.25, num_layers=2)),
                                     ('RNN', dict(nonlinearity='relu'))])
def test_repr_and_state_dict_keys(kind, kw):
    ref = getattr(torch.nn, kind)(10, 20, **kw)
    ours = getattr(ember.nn, kind)(10, 20, **kw)
    assert repr(ours) == repr(ref)
    assert list(ours.state_dict()) == list(ref.state_dict())
    for (n1, p), (n2, q) in zip(ref.named_parameters(), ours.named_parameters()):
        assert n1 == n2 and tuple(p.shape) == tuple(q.shape)


def test_default_init_is_uniform_over_hidden():
    m = ember.nn.LSTM(64, 400)
    w = m.weight_hh_l0.detach().numpy()
    bound = 1 / np.sqrt(400)
    assert w.min() >= -bound and w.max() <= bound
    assert abs(w.std() - bound / np.sqrt(3)) < 1e-3
    assert abs(w.mean()) < 1e-3


def test_errors_like_torch():
    m = ember.nn.LSTM(3, 4, num_layers=2)
    with pytest.raises(RuntimeError, match=r'input.size\(-1\) must be equal to input_size. Expected 3, got 4'):
        m(ember.randn(5, 2, 4))
    with pytest.raises(RuntimeError, match=r'Expected hidden\[0\] size \(2, 2, 4\), got \[2, 3, 4\]'):
        m(ember.randn(5, 2, 3), (ember.zeros(2, 3, 4), ember.zeros(2, 2, 4)))
    with pytest.raises(ValueError, match='LSTM: Expected input to be 2D or 3D, got 4D instead'):
        m(ember.randn(1, 5, 2, 3))
    with pytest.raises(ValueError, match='does not match weight dtype'):
        m(ember.randn(5, 2, 3, dtype=ember.float64))
    with pytest.raises(RuntimeError, match=r'Expected hidden size \(1, 2, 4\), got \[2, 2, 4\]'):
        ember.nn.GRU(3, 4)(ember.randn(5, 2, 3), ember.zeros(2, 2, 4))
    with pytest.raises(ValueError, match='proj_size has to be smaller than hidden_size'):
        ember.nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match='only supported for LSTM'):
        ember.nn.GRU(3, 4, proj_size=2)
    with pytest.warns(UserWarning, match='non-zero dropout expects num_layers greater than 1'):
        ember.nn.LSTM(3, 4, dropout=0.5)


@pytest.mark.parametrize('kind', ['RNN', 'LSTM', 'GRU'])
@pytest.mark.parametrize('batched', [True, False])
def test_cells_match_torch(kind, batched):
    ref = getattr(torch.nn, kind + 'Cell')(4, 5)
    ours = getattr(ember.nn, kind + 'Cell')(4, 5)
    ours.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
    assert repr(ours) == repr(ref)
    x = torch.randn(3, 4) if batched else torch.randn(4)
    h = torch.randn(3, 5) if batched else torch.randn(5)
    hx_t = (h, h * 0.5) if kind == 'LSTM' else h
    hx_e = (_e(h), _e(h * 0.5)) if kind == 'LSTM' else _e(h)
    xe = _e(x, True)
    x.requires_grad_()
    for hxt, hxe in [(None, None), (hx_t, hx_e)]:
        out_t = ref(x, hxt)
        out_e = ours(xe, hxe)
        for a, b in zip(_flat(out_e), _flat(out_t)):
            _close(a, b)
    sum(o.sum() for o in _flat(out_t)).backward()
    sum(o.sum() for o in _flat(out_e)).backward()
    _close(xe.grad, x.grad)
    for p, q in zip(ref.parameters(), ours.parameters()):
        _close(q.grad, p.grad)


@pytest.mark.parametrize('kind', ['RNN', 'LSTM', 'LSTM_proj', 'GRU'])
def test_gradcheck_and_gradgradcheck_float64(kind):
    torch.manual_seed(0)
    _, ours = _pair(kind, dtype=torch.float64, bidirectional=True)
    x = ember.randn(3, 2, 4, dtype=ember.float64, requires_grad=True)
    # gradients with respect to the input and to the states through the whole bidirectional layer
    assert ember.autograd.gradcheck(lambda x: ours(x)[0], (x,), eps=1e-6, atol=1e-5)
    assert ember.autograd.gradgradcheck(lambda x: ours(x)[0], (x,), eps=1e-6, atol=1e-5)
    h0 = ember.randn(2, 2, 3 if kind == 'LSTM_proj' else 5, dtype=ember.float64, requires_grad=True)
    if kind.startswith('LSTM'):
        c0 = ember.randn(2, 2, 5, dtype=ember.float64, requires_grad=True)
        assert ember.autograd.gradcheck(lambda h, c: ours(x, (h, c))[1], (h0, c0), eps=1e-6, atol=1e-5)
    else:
        assert ember.autograd.gradcheck(lambda h: ours(x, h)[1], (h0,), eps=1e-6, atol=1e-5)


def test_weight_gradcheck_packed_float64():
    from ember.ops.rnn_kernels import _run_layer
    rng = np.random.default_rng(0)

    def t(*shape):
        return ember.tensor(rng.standard_normal(shape) * 0.5, requires_grad=True)
    x, h0, c0 = t(4, 3, 2), t(3, 3), t(3, 4)
    w_ih, w_hh, b_ih, b_hh, w_hr = t(16, 2), t(16, 3), t(16), t(16), t(3, 4)
    for reverse in (False, True):
        def fn(*a):
            return _run_layer('LSTM', *a, reverse=reverse, batch_sizes=(3, 2, 2, 1))[:3]
        args = (x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr)
        assert ember.autograd.gradcheck(fn, args, eps=1e-6, atol=1e-5)
        assert ember.autograd.gradgradcheck(fn, args, eps=1e-6, atol=1e-4)


def test_state_dict_interchanges_with_torch():
    ref = torch.nn.GRU(4, 5, num_layers=2, bidirectional=True)
    ours = ember.nn.GRU(4, 5, num_layers=2, bidirectional=True)
    ref.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    x = torch.randn(3, 2, 4)
    _close(ours(_e(x))[0], ref(x)[0])
