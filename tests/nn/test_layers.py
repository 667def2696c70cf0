"""Layers against torch: same weights copied in, same input; outputs, gradients, repr, state_dict keys, init."""
import math

import numpy as np
import pytest

import ember
import ember.nn as enn
import ember.nn.functional as EF
from tests.conftest import requires_torch, torch
from tests.op_harness import assert_same

pytestmark = requires_torch


def copy_weights(ours, ref):
    """Loads torch module ``ref``'s state into ember module ``ours``."""
    state = {k: ember.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()}
    ours.load_state_dict(state)


def run_both(ours, ref, *arrays, grad=True, rtol=1e-5, atol=1e-5, kwargs=None):
    """Runs both modules on the same inputs; compares outputs, input gradients and parameter gradients."""
    kwargs = kwargs or {}
    e_in = [ember.tensor(a, requires_grad=grad and a.dtype.kind == 'f') for a in arrays]
    t_in = [torch.tensor(a, requires_grad=grad and a.dtype.kind == 'f') for a in arrays]
    e_out, t_out = ours(*e_in, **kwargs), ref(*t_in, **kwargs)
    assert_same(e_out, t_out, rtol=rtol, atol=atol, what='forward')
    if not grad:
        return e_out, t_out
    g = np.random.default_rng(1).standard_normal(tuple(t_out.shape)).astype(np.float32)
    e_out.backward(ember.tensor(g))
    t_out.backward(torch.tensor(g))
    for e, t in zip(e_in, t_in):
        if t.grad is not None:
            assert_same(e.grad, t.grad, rtol=rtol, atol=atol, what='input grad')
    if not hasattr(ref, 'named_parameters'):
        return e_out, t_out
    e_params, t_params = dict(ours.named_parameters()), dict(ref.named_parameters())
    assert list(e_params) == list(t_params)
    for name, tp in t_params.items():
        if tp.grad is None:
            assert e_params[name].grad is None, name
        else:
            assert_same(e_params[name].grad, tp.grad, rtol=rtol, atol=atol, what=f'grad of {name}')
    return e_out, t_out


def _x(*shape, seed=0, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, shape).astype(np.float32)


# ----------------------------------------------------------------------------- Linear family

@pytest.mark.parametrize('shape', [(4, 6), (2, 3, 6), (6,), (0, 6)])
@pytest.mark.parametrize('bias', [True, False])
def test_linear_matches_torch(shape, bias):
    ref = torch.nn.Linear(6, 5, bias=bias)
    ours = enn.Linear(6, 5, bias=bias)
    copy_weights(ours, ref)
    run_both(ours, ref, _x(*shape))
    assert repr(ours) == repr(ref)
    assert list(ours.state_dict()) == list(ref.state_dict())


def test_linear_double_backward():
    x = ember.randn(3, 4, dtype=ember.float64, requires_grad=True)
    w = ember.randn(2, 4, dtype=ember.float64, requires_grad=True)
    b = ember.randn(2, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda *a: EF.linear(*a), (x, w, b))
    assert ember.autograd.gradgradcheck(lambda *a: EF.linear(*a), (x, w, b))


def test_linear_errors_and_grad_fn():
    lin = enn.Linear(3, 2)
    with pytest.raises(RuntimeError, match=r'mat1 and mat2 shapes cannot be multiplied \(4x5 and 3x2\)'):
        lin(ember.randn(4, 5))
    assert type(lin(ember.randn(4, 3)).grad_fn).__name__ == 'AddmmBackward0'


def test_linear_default_init_statistics():
    ember.manual_seed(0)
    lin = enn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w = lin.weight.detach().numpy()
    assert w.min() >= -bound and w.max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound
    assert abs(w.mean()) < 0.01 * bound
    b = lin.bias.detach().numpy()
    assert b.min() >= -bound and b.max() <= bound


def test_identity_and_lazy_linear():
    ident = enn.Identity(3, foo=1)
    x = ember.randn(2, 3)
    assert ident(x) is x
    assert repr(ident) == repr(torch.nn.Identity())
    lazy = enn.LazyLinear(4)
    assert repr(lazy) == 'LazyLinear(in_features=0, out_features=4, bias=True)'
    weight = lazy.weight
    y = lazy(ember.randn(5, 7))
    assert tuple(y.shape) == (5, 4)
    assert type(lazy) is enn.Linear and lazy.in_features == 7
    assert lazy.weight is weight and tuple(weight.shape) == (4, 7)
    assert repr(lazy) == repr(torch.nn.Linear(7, 4))


def test_bilinear_matches_torch():
    ref = torch.nn.Bilinear(3, 4, 5)
    ours = enn.Bilinear(3, 4, 5)
    copy_weights(ours, ref)
    run_both(ours, ref, _x(6, 3), _x(6, 4, seed=1))
    run_both(ours, ref, _x(2, 6, 3), _x(2, 6, 4, seed=1))
    assert repr(ours) == repr(ref)
    assert list(ours.state_dict()) == list(ref.state_dict())
    bound = 1 / math.sqrt(3)
    big = enn.Bilinear(3, 50, 60).weight.detach().numpy()
    assert big.min() >= -bound and big.max() <= bound and abs(big.std() - bound / math.sqrt(3)) < 0.03


# ----------------------------------------------------------------------------- Embedding

@pytest.mark.parametrize('kwargs', [{}, {'padding_idx': 2}, {'padding_idx': -1}, {'scale_grad_by_freq': True},
                                    {'padding_idx': 0, 'scale_grad_by_freq': True}])
def test_embedding_matches_torch(kwargs):
    ref = torch.nn.Embedding(10, 4, **kwargs)
    ours = enn.Embedding(10, 4, **kwargs)
    copy_weights(ours, ref)
    idx = np.array([[1, 2, 2, 9], [0, 2, 5, 1]], dtype=np.int64)
    run_both(ours, ref, idx)
    assert repr(ours) == repr(ref)
    assert list(ours.state_dict()) == list(ref.state_dict())


def test_embedding_padding_row_zero_and_no_grad():
    emb = enn.Embedding(6, 3, padding_idx=4)
    assert np.all(emb.weight.detach().numpy()[4] == 0)
    emb(ember.tensor([4, 4, 1])).sum().backward()
    g = emb.weight.grad.numpy()
    assert np.all(g[4] == 0) and np.all(g[1] == 1)


def test_embedding_max_norm_renormalises_in_place():
    ref = torch.nn.Embedding(8, 5, max_norm=1.0)
    ours = enn.Embedding(8, 5, max_norm=1.0)
    copy_weights(ours, ref)
    idx = np.array([1, 3, 3, 7], dtype=np.int64)
    version = ours.weight._version
    run_both(ours, ref, idx)
    assert ours.weight._version > version
    np.testing.assert_allclose(ours.weight.detach().numpy(), ref.weight.detach().numpy(), rtol=1e-6, atol=1e-7)
    norms = np.linalg.norm(ours.weight.detach().numpy()[[1, 3, 7]], axis=1)
    assert np.all(norms <= 1.0 + 1e-6)
    assert repr(ours) == repr(ref)


def test_embedding_from_pretrained_and_init_statistics():
    w = torch.randn(5, 3)
    ref = torch.nn.Embedding.from_pretrained(w, padding_idx=1)
    ours = enn.Embedding.from_pretrained(ember.tensor(w.numpy()), padding_idx=1)
    assert not ours.weight.requires_grad and repr(ours) == repr(ref)
    idx = np.array([0, 1, 4], dtype=np.int64)
    run_both(ours, ref, idx, grad=False)
    unfrozen = enn.Embedding.from_pretrained(ember.tensor(w.numpy()), freeze=False)
    assert unfrozen.weight.requires_grad
    big = enn.Embedding(500, 200).weight.detach().numpy()
    assert abs(big.mean()) < 0.01 and abs(big.std() - 1) < 0.01


def test_embedding_errors():
    emb = enn.Embedding(4, 2)
    with pytest.raises(IndexError, match='index out of range in self'):
        emb(ember.tensor([4]))
    with pytest.raises(RuntimeError, match="Expected tensor for argument #1 'indices'"):
        emb(ember.tensor([1.0]))
    with pytest.raises(AssertionError, match='Padding_idx must be within num_embeddings'):
        enn.Embedding(4, 2, padding_idx=4)


def test_embedding_large_gradient_matches_torch():
    rng = np.random.default_rng(0)
    idx = rng.integers(0, 50, (64, 20))
    w = rng.standard_normal((50, 16)).astype(np.float32)
    g = rng.standard_normal((64, 20, 16)).astype(np.float32)
    ew, tw = ember.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    EF.embedding(ember.tensor(idx), ew).backward(ember.tensor(g))
    torch.nn.functional.embedding(torch.tensor(idx), tw).backward(torch.tensor(g))
    np.testing.assert_allclose(ew.grad.numpy(), tw.grad.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('mode', ['sum', 'mean', 'max'])
def test_embedding_bag_matches_torch(mode):
    ref = torch.nn.EmbeddingBag(10, 3, mode=mode)
    ours = enn.EmbeddingBag(10, 3, mode=mode)
    copy_weights(ours, ref)
    assert repr(ours) == repr(ref)
    run_both(ours, ref, np.array([[1, 2, 4], [4, 3, 9]], dtype=np.int64))
    idx = np.array([1, 2, 4, 5, 4, 3, 2, 9], dtype=np.int64)
    offsets = np.array([0, 4, 4], dtype=np.int64)   # bag 1 is empty
    e_out = ours(ember.tensor(idx), ember.tensor(offsets))
    t_out = ref(torch.tensor(idx), torch.tensor(offsets))
    assert_same(e_out, t_out, rtol=1e-5, atol=1e-6)


def test_embedding_bag_padding_and_weights():
    ref = torch.nn.EmbeddingBag(10, 3, mode='mean', padding_idx=2)
    ours = enn.EmbeddingBag(10, 3, mode='mean', padding_idx=2)
    copy_weights(ours, ref)
    run_both(ours, ref, np.array([[1, 2, 4], [2, 2, 9]], dtype=np.int64))
    ref = torch.nn.EmbeddingBag(10, 3, mode='sum')
    ours = enn.EmbeddingBag(10, 3, mode='sum')
    copy_weights(ours, ref)
    idx, offsets, psw = np.array([1, 2, 4, 5, 9]), np.array([0, 2]), _x(5)
    e = ours(ember.tensor(idx), ember.tensor(offsets), per_sample_weights=ember.tensor(psw))
    t = ref(torch.tensor(idx), torch.tensor(offsets), per_sample_weights=torch.tensor(psw))
    assert_same(e, t, rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- Dropout

@pytest.mark.parametrize('cls', ['Dropout', 'Dropout1d', 'Dropout2d', 'Dropout3d', 'AlphaDropout',
                                 'FeatureAlphaDropout'])
def test_dropout_eval_identity_and_repr(cls):
    ours, ref = getattr(enn, cls)(0.3), getattr(torch.nn, cls)(0.3)
    assert repr(ours) == repr(ref)
    assert repr(getattr(enn, cls)(0.2, True)) == repr(getattr(torch.nn, cls)(0.2, True))
    ours.eval()
    shape = {'Dropout1d': (2, 3, 4), 'Dropout3d': (2, 3, 2, 2, 2)}.get(cls, (2, 3, 4, 5))
    x = ember.randn(*shape)
    assert ours(x) is x
    with pytest.raises(ValueError, match='dropout probability has to be between 0 and 1, but got 1.5'):
        getattr(enn, cls)(1.5)


def test_dropout_training_statistics_and_gradient():
    x = ember.ones(200, 500, requires_grad=True)
    y = EF.dropout(x, 0.3)
    values = y.detach().numpy()
    kept = values != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(values[kept], 1 / 0.7, rtol=1e-6)
    assert y.dtype is ember.float32
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), values)


def test_dropout_p0_p1_and_seed():
    x = ember.randn(4, 5, requires_grad=True)
    assert EF.dropout(x, 0.0) is x
    assert np.all(EF.dropout(x, 1.0).detach().numpy() == 0)
    ember.manual_seed(3)
    a = EF.dropout(x, 0.5).detach().numpy()
    ember.manual_seed(3)
    b = EF.dropout(x, 0.5).detach().numpy()
    np.testing.assert_array_equal(a, b)
    m = enn.Dropout(0.5)
    m.eval()
    assert m(x) is x


def test_dropout_inplace():
    x = ember.ones(50, 40)
    y = EF.dropout(x, 0.5, inplace=True)
    assert y is x and set(np.unique(x.numpy())) <= {0.0, 2.0}


def test_channel_dropout_zeroes_whole_channels():
    x = ember.ones(8, 16, 5, 5)
    y = EF.dropout2d(x, 0.5).numpy()
    per_channel = y.reshape(8, 16, -1)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))
    y1 = EF.dropout1d(ember.ones(16, 7), 0.5).numpy()   # unbatched (C, L)
    assert np.all((y1 == 0).all(-1) | (y1 == 2).all(-1))
    y3 = EF.dropout3d(ember.ones(6, 2, 2, 2), 0.5).numpy()  # unbatched (C, D, H, W)
    assert np.all((y3.reshape(6, -1) == 0).all(-1) | (y3.reshape(6, -1) == 2).all(-1))
    with pytest.raises(RuntimeError, match='dropout1d: Expected 2D or 3D input'):
        EF.dropout1d(ember.ones(3), 0.5)
    with pytest.warns(UserWarning, match='Received a 3D input to dropout2d'):
        EF.dropout2d(ember.ones(2, 3, 4), 0.5)


def test_alpha_dropout_keeps_mean_and_variance():
    x = ember.randn(400, 500)
    y = EF.alpha_dropout(x, 0.2, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    x = ember.randn(400, 500, requires_grad=True)
    y = EF.alpha_dropout(x, 0.2, training=True)
    y.sum().backward()
    grads = np.unique(np.round(x.grad.numpy(), 5))
    assert len(grads) == 2 and 0 in grads
    z = EF.feature_alpha_dropout(ember.randn(50, 40, 3), 0.5, training=True).numpy()
    assert z.shape == (50, 40, 3)


# ----------------------------------------------------------------------------- reshaping and distances

def test_flatten_unflatten():
    for ours, ref in [(enn.Flatten(), torch.nn.Flatten()), (enn.Flatten(0, 1), torch.nn.Flatten(0, 1)),
                      (enn.Unflatten(1, (3, 4)), torch.nn.Unflatten(1, (3, 4)))]:
        assert repr(ours) == repr(ref)
        run_both(ours, ref, _x(2, 12, 2) if isinstance(ours, enn.Unflatten) else _x(2, 3, 4))
    with pytest.raises(TypeError, match='unflattened_size must be tuple of ints'):
        enn.Unflatten(1, (2, 2.0))


def test_pixel_and_channel_shuffle():
    for ours, ref, shape in [(enn.PixelShuffle(2), torch.nn.PixelShuffle(2), (2, 8, 3, 3)),
                             (enn.PixelUnshuffle(3), torch.nn.PixelUnshuffle(3), (2, 2, 6, 3)),
                             (enn.ChannelShuffle(2), torch.nn.ChannelShuffle(2), (2, 6, 3, 3))]:
        assert repr(ours) == repr(ref)
        run_both(ours, ref, _x(*shape))


def test_distance_modules():
    for ours, ref in [(enn.CosineSimilarity(), torch.nn.CosineSimilarity()),
                      (enn.CosineSimilarity(dim=0, eps=1e-6), torch.nn.CosineSimilarity(dim=0, eps=1e-6)),
                      (enn.PairwiseDistance(), torch.nn.PairwiseDistance()),
                      (enn.PairwiseDistance(p=1.0, keepdim=True), torch.nn.PairwiseDistance(p=1.0, keepdim=True))]:
        assert repr(ours) == repr(ref)
        run_both(ours, ref, _x(4, 5), _x(4, 5, seed=2))


def test_functional_distances_and_one_hot():
    a, b = _x(30, 4), _x(20, 4, seed=3)
    for fn, args in [('cdist', (a, b)), ('pdist', (a,))]:
        e = getattr(ember.nn.functional, fn)(*[ember.tensor(x) for x in args])
        t = getattr(torch, fn)(*[torch.tensor(x) for x in args])
        assert_same(e, t, rtol=1e-4, atol=1e-4)
    idx = np.array([[0, 3], [2, 1]])
    assert_same(EF.one_hot(ember.tensor(idx)), torch.nn.functional.one_hot(torch.tensor(idx)))
    assert_same(EF.one_hot(ember.tensor(idx), 6), torch.nn.functional.one_hot(torch.tensor(idx), 6))
    with pytest.raises(RuntimeError, match='Class values must be smaller than num_classes'):
        EF.one_hot(ember.tensor(idx), 3)
    with pytest.raises(RuntimeError, match='one_hot is only applicable to index tensor'):
        EF.one_hot(ember.tensor([1.0]))
    x = _x(3, 4)
    assert_same(EF.pad(ember.tensor(x), (1, 2)), torch.nn.functional.pad(torch.tensor(x), (1, 2)))


def test_mlp_training_step_matches_torch():
    ref = torch.nn.Sequential(torch.nn.Linear(20, 16), torch.nn.ReLU(), torch.nn.Dropout(0.0),
                              torch.nn.Linear(16, 3), torch.nn.LogSoftmax(dim=1))
    ours = enn.Sequential(enn.Linear(20, 16), enn.ReLU(), enn.Dropout(0.0), enn.Linear(16, 3),
                          enn.LogSoftmax(dim=1))
    copy_weights(ours, ref)
    assert repr(ours) == repr(ref)
    run_both(ours, ref, _x(8, 20))
