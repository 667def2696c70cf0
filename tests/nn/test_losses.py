"""Every loss of ember.nn against torch: values, gradients, options, errors, warnings and module reprs."""
import warnings

import numpy as np
import pytest

import ember
import ember.nn.functional as EF
from tests.conftest import requires_torch, torch

if torch is not None:
    import torch.nn.functional as TF

pytestmark = requires_torch

RNG = np.random.default_rng(0)


def randn(*shape, low=None, high=None, dtype=np.float32):
    if low is not None:
        return RNG.uniform(low, high, size=shape).astype(dtype)
    return RNG.standard_normal(shape).astype(dtype)


def classes(shape, n, ignore=None):
    t = RNG.integers(0, n, size=shape).astype(np.int64)
    if ignore is not None and t.size > 1:
        t.reshape(-1)[::3] = ignore
    return t


class Grad:
    """Marks a NumPy input that requires grad in both frameworks."""

    def __init__(self, array):
        self.array = array


def _convert(value, module, dtype, leaves):
    if isinstance(value, Grad):
        arr = value.array.astype(dtype) if dtype is not None else value.array
        t = module.tensor(arr, requires_grad=True)
        leaves.append(t)
        return t
    if isinstance(value, np.ndarray):
        arr = value.astype(dtype) if dtype is not None and value.dtype.kind == 'f' else value
        return module.tensor(arr)
    return value


def compare(name, *args, dtype=None, rtol=1e-5, atol=1e-5, functional=True, **kwargs):
    """Runs ``F.<name>`` in ember and torch on the same inputs; compares values and input gradients."""
    results = []
    for module, fns in ((ember, EF), (torch, TF)):
        leaves = []
        a = [_convert(v, module, dtype, leaves) for v in args]
        k = {key: _convert(v, module, dtype, leaves) for key, v in kwargs.items()}
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            out = getattr(fns, name)(*a, **k)
        grads = []
        if leaves and out.requires_grad:
            w = np.random.default_rng(5).standard_normal(tuple(out.shape)).astype(out.detach().numpy().dtype)
            grads = module.autograd.grad(out, leaves, module.tensor(w), allow_unused=True)
        results.append((out, grads))
    (eo, eg), (to, tg) = results
    assert str(eo.dtype) == str(to.dtype), f'{name}: dtype {eo.dtype} vs {to.dtype}'
    assert tuple(eo.shape) == tuple(to.shape), f'{name}: shape {tuple(eo.shape)} vs {tuple(to.shape)}'
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=rtol, atol=atol, equal_nan=True,
                               err_msg=f'{name} value')
    assert len(eg) == len(tg)
    for i, (a, b) in enumerate(zip(eg, tg)):
        if b is None:
            assert a is None or not np.any(a.numpy()), f'{name} grad {i}: torch has none'
            continue
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=rtol, atol=atol, equal_nan=True,
                                   err_msg=f'{name} grad {i}')
    return eo


REDUCTIONS = ['none', 'mean', 'sum']


# ----------------------------------------------------------------------------- cross entropy / nll

@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('smoothing', [0.0, 0.25])
@pytest.mark.parametrize('weighted', [False, True])
@pytest.mark.parametrize('shape', [(6, 5), (3, 5, 4), (2, 5, 3, 2), (5,)])
def test_cross_entropy_indices(shape, weighted, smoothing, reduction):
    x = randn(*shape)
    tshape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    t = classes(tshape, 5, ignore=-100 if len(shape) > 1 else None)
    w = randn(5, low=0.2, high=2.0) if weighted else None
    compare('cross_entropy', Grad(x), t, weight=w, reduction=reduction, label_smoothing=smoothing)


@pytest.mark.parametrize('reduction', REDUCTIONS)
def test_cross_entropy_custom_ignore_index_with_weights(reduction):
    x, t, w = randn(8, 4), classes((8,), 4), randn(4, low=0.5, high=1.5)
    compare('cross_entropy', Grad(x), t, weight=w, ignore_index=2, reduction=reduction, label_smoothing=0.1)
    compare('nll_loss', Grad(x), t, weight=w, ignore_index=2, reduction=reduction)


def test_cross_entropy_all_ignored_and_empty():
    x = randn(4, 3)
    t = np.full((4,), -100, dtype=np.int64)
    compare('cross_entropy', Grad(x), t)
    compare('cross_entropy', Grad(x), t, reduction='sum')
    compare('cross_entropy', Grad(randn(0, 3)), np.zeros((0,), np.int64))
    compare('cross_entropy', Grad(randn(0, 3)), np.zeros((0,), np.int64), reduction='sum')


def test_cross_entropy_float64_and_uint8_target():
    compare('cross_entropy', Grad(randn(5, 4)), classes((5,), 4), dtype=np.float64, rtol=1e-10, atol=1e-12)
    compare('cross_entropy', Grad(randn(5, 4)), classes((5,), 4).astype(np.uint8))


@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('smoothing', [0.0, 0.3])
@pytest.mark.parametrize('shape', [(6, 5), (2, 5, 3), (5,)])
def test_cross_entropy_probabilities(shape, smoothing, reduction):
    x = randn(*shape)
    p = np.exp(randn(*shape))
    p /= p.sum(axis=0 if len(shape) == 1 else 1, keepdims=True)
    w = randn(5, low=0.2, high=2.0)
    compare('cross_entropy', Grad(x), Grad(p), reduction=reduction, label_smoothing=smoothing)
    compare('cross_entropy', Grad(x), Grad(p), weight=w, reduction=reduction, label_smoothing=smoothing)


@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('shape', [(6, 5), (2, 5, 3, 2), (5,)])
def test_nll_loss(shape, reduction):
    x = randn(*shape)
    tshape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    t = classes(tshape, 5, ignore=-100 if len(shape) > 1 else None)
    compare('nll_loss', Grad(x), t, reduction=reduction)
    compare('nll_loss', Grad(x), t, weight=randn(5, low=0.2, high=2.0), reduction=reduction)


def test_cross_entropy_is_twice_differentiable_with_weights_and_smoothing():
    x = ember.tensor(randn(4, 5).astype(np.float64), requires_grad=True)
    t = ember.tensor(classes((4,), 5, ignore=-100))
    w = ember.tensor(randn(5, low=0.5, high=1.5).astype(np.float64))
    for fn in (lambda x: EF.cross_entropy(x, t, weight=w, label_smoothing=0.2),
               lambda x: EF.cross_entropy(x, t, weight=w, reduction='none', label_smoothing=0.2),
               lambda x: EF.nll_loss(x, t, weight=w, reduction='sum')):
        assert ember.autograd.gradcheck(fn, (x,), eps=1e-6, atol=1e-5)
        assert ember.autograd.gradgradcheck(fn, (x,), eps=1e-6, atol=1e-4)


def test_cross_entropy_double_backward_matches_torch():
    x, t = randn(4, 5), classes((4,), 5, ignore=-100)
    res = []
    for m, F in ((ember, EF), (torch, TF)):
        xt = m.tensor(x, requires_grad=True)
        loss = F.cross_entropy(xt, m.tensor(t), label_smoothing=0.1)
        g, = m.autograd.grad(loss, xt, create_graph=True)
        gg, = m.autograd.grad((g * g).sum(), xt)
        res.append(gg.detach().numpy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize('call, error, match', [
    (lambda F, m: F.cross_entropy(m.randn(4, 5), m.tensor([0, 1, 2, 12])), IndexError, 'Target 12 is out of bounds.'),
    (lambda F, m: F.nll_loss(m.randn(4, 5), m.tensor([0, 1, 2, -3])), IndexError, 'Target -3 is out of bounds.'),
    (lambda F, m: F.cross_entropy(m.randn(4, 5), m.tensor([0, 1, 2])), ValueError,
     r'Expected input batch_size \(4\) to match target batch_size \(3\).'),
    (lambda F, m: F.cross_entropy(m.randn(4, 5), m.tensor([0, 1, 2, 3], dtype=m.int32)), RuntimeError,
     'expected target dtype to be Long or Byte, but got Int'),
    (lambda F, m: F.cross_entropy(m.randn(4, 5), m.zeros(4, 5, dtype=m.long)), RuntimeError,
     'Expected floating point type for target with class probabilities, got Long'),
    (lambda F, m: F.cross_entropy(m.randn(4, 5), m.zeros(4, 6)), RuntimeError,
     '0D or 1D target tensor expected, multi-target not supported'),
    (lambda F, m: F.cross_entropy(m.randn(2, 3, 4), m.zeros(2, 5, dtype=m.long)), RuntimeError,
     r'Expected target size \[2, 4\], got \[2, 5\]'),
    (lambda F, m: F.cross_entropy(m.randn(4, 5), m.tensor([0, 1, 2, 3]), weight=m.ones(4)), RuntimeError,
     'weight tensor should be defined either for all 5 classes or no classes but got weight tensor of shape: '
     r'\[4\]'),
    (lambda F, m: F.cross_entropy(m.randn(4, 5), m.tensor([0, 1, 2, 3]), label_smoothing=1.5), RuntimeError,
     'label_smoothing must be between 0.0 and 1.0. Got: 1.5'),
    (lambda F, m: F.cross_entropy(m.randn(4, 5), m.tensor([0, 1, 2, 3]), reduction='avg'), ValueError,
     'avg is not a valid value for reduction'),
    (lambda F, m: F.nll_loss(m.tensor(1.0), m.tensor(0)), ValueError, r'Expected 1 or more dimensions \(got 0\)'),
    (lambda F, m: F.cross_entropy(m.randn(5), m.tensor([1, 2, 3])), ValueError,
     'For 1D input, 1D target must have size 1, but got target size: 3'),
    (lambda F, m: F.binary_cross_entropy(m.rand(4), m.rand(3)), ValueError,
     r'Using a target size \(torch.Size\(\[3\]\)\) that is different to the input size \(torch.Size\(\[4\]\)\) '
     'is deprecated'),
    (lambda F, m: F.binary_cross_entropy(m.tensor([1.5]), m.rand(1)), RuntimeError,
     'all elements of input should be between 0 and 1'),
    (lambda F, m: F.binary_cross_entropy_with_logits(m.rand(4), m.rand(3)), ValueError,
     r'Target size \(torch.Size\(\[3\]\)\) must be the same as input size \(torch.Size\(\[4\]\)\)'),
    (lambda F, m: F.gaussian_nll_loss(m.rand(4, 3), m.rand(4, 3), m.rand(4, 2)), ValueError,
     'var is of incorrect size'),
    (lambda F, m: F.gaussian_nll_loss(m.rand(4, 3), m.rand(4, 3), -m.rand(4, 3) - 0.1), ValueError,
     'var has negative entry/entries'),
    (lambda F, m: F.gaussian_nll_loss(m.rand(4, 3), m.rand(4, 3), m.rand(4, 3), reduction='x'), ValueError,
     'x is not valid'),
    (lambda F, m: F.smooth_l1_loss(m.rand(4), m.rand(4), beta=-1), RuntimeError,
     'smooth_l1_loss does not support negative values for beta.'),
    (lambda F, m: F.huber_loss(m.rand(4), m.rand(4), delta=0), RuntimeError,
     'huber_loss does not support non-positive values for delta.'),
    (lambda F, m: F.multi_margin_loss(m.rand(4, 3), m.tensor([0, 1, 2, 3])), RuntimeError, 'target out of range'),
    (lambda F, m: F.multi_margin_loss(m.rand(4, 3), m.tensor([0, 1, 2, 1]), p=3), ValueError,
     'only p == 1 and p == 2 supported'),
    (lambda F, m: F.triplet_margin_loss(m.rand(4, 3), m.rand(4, 3), m.rand(4, 3), margin=0), ValueError,
     'margin must be greater than 0, got 0'),
    (lambda F, m: F.triplet_margin_with_distance_loss(m.rand(4, 3), m.rand(4, 3), m.rand(3)), RuntimeError,
     'The anchor, positive, and negative tensors are expected to have the same number of dimensions, but got: '
     'anchor 2D, positive 2D, and negative 1D inputs'),
    (lambda F, m: F.margin_ranking_loss(m.rand(4), m.rand(4), m.rand(4, 1)), RuntimeError,
     'margin_ranking_loss : All input tensors should have same dimension'),
    (lambda F, m: F.cosine_embedding_loss(m.rand(4, 3), m.rand(4, 3), m.rand(4, 1)), RuntimeError,
     '0D or 1D target tensor expected, multi-target not supported'),
    (lambda F, m: F.mse_loss(m.rand(4), m.rand(4), reduction='bad'), ValueError,
     'bad is not a valid value for reduction'),
])
def test_errors_match_torch(call, error, match):
    with pytest.raises(error, match=match):
        call(TF, torch)
    with pytest.raises(error, match=match):
        call(EF, ember)


def test_arguments_torch_cannot_differentiate_are_refused():
    for m, F in ((torch, TF), (ember, EF)):
        with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'weight'"):
            F.cross_entropy(m.randn(3, 4), m.tensor([0, 1, 2]), weight=m.ones(4, requires_grad=True))
        with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'target'"):
            F.soft_margin_loss(m.randn(3, 4), m.ones(3, 4, requires_grad=True))


# ----------------------------------------------------------------------------- legacy arguments and warnings

@pytest.mark.parametrize('size_average, reduce, expected', [
    (None, False, 'none'), (False, None, 'sum'), (True, True, 'mean'), (False, False, 'none'), (True, None, 'mean')])
def test_legacy_size_average_reduce(size_average, reduce, expected):
    x, t = randn(4, 3), classes((4,), 3)
    for name, args in (('cross_entropy', (Grad(x), t)), ('nll_loss', (Grad(x), t)),
                       ('mse_loss', (Grad(x), randn(4, 3))), ('l1_loss', (Grad(x), randn(4, 3))),
                       ('soft_margin_loss', (Grad(x), np.sign(randn(4, 3)))),
                       ('kl_div', (Grad(x), randn(4, 3, low=0.1, high=1.0)))):
        compare(name, *args, size_average=size_average, reduce=reduce)
    with pytest.warns(UserWarning, match=f"please use reduction='{expected}' instead"):
        EF.mse_loss(ember.tensor(x), ember.tensor(x), size_average=size_average, reduce=reduce)


def test_broadcast_warning_and_kl_mean_warning():
    with pytest.warns(UserWarning, match=r'Using a target size \(torch.Size\(\[4\]\)\) that is different'):
        EF.mse_loss(ember.rand(4, 1), ember.rand(4))
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        EF.kl_div(ember.rand(4), ember.rand(4))


# ----------------------------------------------------------------------------- regression losses

@pytest.mark.parametrize('reduction', REDUCTIONS)
def test_regression_losses(reduction):
    x, y = randn(4, 3), randn(4, 3)
    for name in ('mse_loss', 'l1_loss'):
        compare(name, Grad(x), Grad(y), reduction=reduction)
        compare(name, Grad(x), Grad(y), reduction=reduction, weight=randn(4, 3, low=0.1, high=1.0))
    compare('mse_loss', Grad(randn(4, 1)), Grad(randn(4)), reduction=reduction)
    for beta in (1.0, 0.5, 0.0):
        compare('smooth_l1_loss', Grad(x), Grad(y), reduction=reduction, beta=beta)
    for delta in (1.0, 0.3, 2.5):
        compare('huber_loss', Grad(x), Grad(y), reduction=reduction, delta=delta)
    compare('huber_loss', Grad(x), Grad(y), reduction=reduction, weight=randn(4, 3, low=0.1, high=1.0))


def test_mse_mixed_dtypes_promote():
    out = compare('mse_loss', Grad(randn(3)), randn(3).astype(np.float64))
    assert out.dtype == ember.float64


# ----------------------------------------------------------------------------- probabilistic losses

@pytest.mark.parametrize('reduction', REDUCTIONS)
def test_binary_cross_entropy(reduction):
    x, t = randn(4, 3, low=0.05, high=0.95), randn(4, 3, low=0.0, high=1.0)
    compare('binary_cross_entropy', Grad(x), Grad(t), reduction=reduction)
    compare('binary_cross_entropy', Grad(x), t, weight=randn(3, low=0.1, high=2.0), reduction=reduction)
    # the log clamp at -100 (input exactly 0 or 1)
    edge = np.array([0.0, 1.0, 0.5], np.float32)
    compare('binary_cross_entropy', edge, np.array([1.0, 0.0, 1.0], np.float32), reduction=reduction)


@pytest.mark.parametrize('reduction', REDUCTIONS)
def test_binary_cross_entropy_with_logits(reduction):
    x, t = randn(4, 3) * 4, randn(4, 3, low=0.0, high=1.0)
    compare('binary_cross_entropy_with_logits', Grad(x), Grad(t), reduction=reduction)
    compare('binary_cross_entropy_with_logits', Grad(x), Grad(t), weight=randn(4, 1, low=0.1, high=2.0),
            pos_weight=randn(3, low=0.5, high=3.0), reduction=reduction)
    big = np.array([-200.0, -30.0, 0.5, 40.0, 300.0], np.float32)
    compare('binary_cross_entropy_with_logits', Grad(big), np.array([1.0, 0.0, 1.0, 0.0, 1.0], np.float32))


@pytest.mark.parametrize('reduction', REDUCTIONS + ['batchmean'])
@pytest.mark.parametrize('log_target', [False, True])
def test_kl_div(reduction, log_target):
    x = np.log(randn(4, 3, low=0.05, high=1.0))
    t = randn(4, 3, low=0.0, high=1.0)
    t[0, 0] = 0.0
    if log_target:
        t = np.log(t + 0.1)
    compare('kl_div', Grad(x), Grad(t), reduction=reduction, log_target=log_target)


@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('log_input', [True, False])
@pytest.mark.parametrize('full', [False, True])
def test_poisson_nll_loss(reduction, log_input, full):
    x = randn(4, 3) if log_input else randn(4, 3, low=0.1, high=3.0)
    t = RNG.integers(0, 5, size=(4, 3)).astype(np.float32)
    compare('poisson_nll_loss', Grad(x), t, log_input=log_input, full=full, reduction=reduction, eps=1e-6)


@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('full', [False, True])
@pytest.mark.parametrize('var_shape', [(4, 3), (4,), (4, 1), 'float'])
def test_gaussian_nll_loss(reduction, full, var_shape):
    x, y = randn(4, 3), randn(4, 3)
    var = 0.7 if var_shape == 'float' else Grad(randn(*var_shape, low=0.1, high=2.0))
    compare('gaussian_nll_loss', Grad(x), Grad(y), var, full=full, reduction=reduction)
    if var_shape == (4, 3):  # entries below eps are clamped, the gradient still flows
        tiny = randn(4, 3, low=0.0, high=2.0)
        tiny[0, :2] = 0.0
        compare('gaussian_nll_loss', Grad(x), y, Grad(tiny), eps=0.05, reduction=reduction)


# ----------------------------------------------------------------------------- margin and embedding losses

@pytest.mark.parametrize('reduction', REDUCTIONS)
def test_margin_losses(reduction):
    x1, x2 = randn(6, 4), randn(6, 4)
    sign = np.array([1, -1, 1, -1, -1, 1], np.float32)
    for margin in (0.0, 0.3):
        compare('cosine_embedding_loss', Grad(x1), Grad(x2), sign, margin=margin, reduction=reduction)
    compare('cosine_embedding_loss', Grad(x1[0]), Grad(x2[0]), np.array(-1.0, np.float32), margin=-0.5,
            reduction=reduction)
    a, b = randn(6), randn(6)
    for margin in (0.0, 0.5):
        compare('margin_ranking_loss', Grad(a), Grad(b), Grad(sign), margin=margin, reduction=reduction)
    for margin in (1.0, 0.4):
        compare('hinge_embedding_loss', Grad(randn(6, 4)), np.sign(randn(6, 4)), margin=margin, reduction=reduction)
    compare('soft_margin_loss', Grad(randn(6, 4)), np.sign(randn(6, 4)), reduction=reduction)
    w = randn(4, low=0.1, high=2.0)
    compare('multilabel_soft_margin_loss', Grad(randn(6, 4)), Grad(randn(6, 4, low=0, high=1)), reduction=reduction)
    compare('multilabel_soft_margin_loss', Grad(randn(6, 4)), randn(6, 4, low=0, high=1), weight=w,
            reduction=reduction)


@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('p', [1, 2])
def test_multi_margin_loss(reduction, p):
    x, t = randn(6, 5), classes((6,), 5)
    for margin in (1.0, 0.5):
        compare('multi_margin_loss', Grad(x), t, p=p, margin=margin, reduction=reduction)
    compare('multi_margin_loss', Grad(x), t, p=p, weight=randn(5, low=0.1, high=2.0), reduction=reduction)
    compare('multi_margin_loss', Grad(randn(5)), np.array(3), p=p, reduction=reduction)


@pytest.mark.parametrize('reduction', REDUCTIONS)
def test_multilabel_margin_loss(reduction):
    x = randn(4, 5)
    t = np.array([[3, 0, -1, 1, 2], [1, 1, 4, -1, -1], [0, 1, 2, 3, 4], [-1, 2, 3, 0, 0]], np.int64)
    compare('multilabel_margin_loss', Grad(x), t, reduction=reduction)
    compare('multilabel_margin_loss', Grad(x[0]), t[0], reduction=reduction)


@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('swap', [False, True])
def test_triplet_losses(reduction, swap):
    a, p, n = randn(6, 4), randn(6, 4), randn(6, 4)
    for norm in (2, 1, 3.0):
        compare('triplet_margin_loss', Grad(a), Grad(p), Grad(n), p=norm, swap=swap, margin=2.0, reduction=reduction)
    compare('triplet_margin_loss', Grad(a[0]), Grad(p[0]), Grad(n[0]), swap=swap, reduction=reduction)
    compare('triplet_margin_with_distance_loss', Grad(a), Grad(p), Grad(n), swap=swap, margin=1.5,
            reduction=reduction)
    res = []
    for m, F in ((ember, EF), (torch, TF)):
        def dist(x, y, m=m):
            return 1 - (x * y).sum(-1) / (x.norm(dim=-1) * y.norm(dim=-1))
        res.append(F.triplet_margin_with_distance_loss(m.tensor(a), m.tensor(p), m.tensor(n),
                                                       distance_function=dist, swap=swap, reduction=reduction))
    np.testing.assert_allclose(res[0].numpy(), res[1].numpy(), rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- CTC

def _ctc_case(steps, n, classes, s_max, seed):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((steps, n, classes)).astype(np.float32)
    targets = rng.integers(1, classes, size=(n, s_max)).astype(np.int64)
    tg_len = rng.integers(0, s_max + 1, size=n).astype(np.int64)
    in_len = rng.integers(np.minimum(2 * tg_len + 1, steps), steps + 1).astype(np.int64)
    return logits, targets, in_len, tg_len


def _ctc_both(logits, targets, in_len, tg_len, concat=False, **kwargs):
    res = []
    for m, F in ((ember, EF), (torch, TF)):
        z = m.tensor(logits, requires_grad=True)
        lp = z.log_softmax(-1)
        lp.retain_grad()
        t = targets
        if concat:
            t = np.concatenate([row[:k] for row, k in zip(targets, tg_len)])
        loss = F.ctc_loss(lp, m.tensor(t), m.tensor(in_len), m.tensor(tg_len), **kwargs)
        w = np.random.default_rng(1).standard_normal(tuple(loss.shape)).astype(np.float32)
        (loss * m.tensor(w)).sum().backward()
        res.append((loss.detach().numpy(), lp.grad.numpy(), z.grad.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize('reduction', REDUCTIONS)
@pytest.mark.parametrize('steps, n, classes, s_max, seed', [
    (12, 4, 6, 4, 0), (30, 3, 5, 10, 1), (5, 2, 3, 2, 2), (50, 5, 20, 15, 3), (1, 2, 3, 1, 4)])
def test_ctc_loss_matches_torch(reduction, steps, n, classes, s_max, seed):
    case = _ctc_case(steps, n, classes, s_max, seed)
    _ctc_both(*case, reduction=reduction)
    _ctc_both(*case, reduction=reduction, concat=True)


def test_ctc_loss_repeats_blank_and_lists():
    logits = randn(9, 2, 4)
    targets = np.array([[1, 1, 2], [3, 3, 3]], np.int64)
    _ctc_both(logits, targets, np.array([9, 9]), np.array([3, 3]))
    _ctc_both(logits, targets - 1, np.array([9, 7]), np.array([3, 2]), blank=3)
    lp_e = ember.tensor(logits).log_softmax(-1)
    lp_t = torch.tensor(logits).log_softmax(-1)
    a = EF.ctc_loss(lp_e, ember.tensor(targets), (9, 8), (3, 2))
    b = TF.ctc_loss(lp_t, torch.tensor(targets), (9, 8), (3, 2))
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5)


@pytest.mark.parametrize('reduction', REDUCTIONS)
def test_ctc_loss_zero_infinity(reduction):
    logits = randn(4, 3, 5)
    targets = np.array([[1, 2, 3, 4], [1, 1, 1, 1], [2, 3, 0, 0]], np.int64)
    in_len, tg_len = np.array([4, 4, 4]), np.array([4, 4, 2])   # the second alignment is impossible
    _ctc_both(logits, targets, in_len, tg_len, reduction=reduction, zero_infinity=True)
    loss = EF.ctc_loss(ember.tensor(logits).log_softmax(-1), ember.tensor(targets), ember.tensor(in_len),
                       ember.tensor(tg_len), reduction='none')
    assert np.isinf(loss.numpy()[1])


def test_ctc_loss_unbatched():
    logits, targets = randn(7, 4), np.array([1, 2, 2], np.int64)
    res = []
    for m, F in ((ember, EF), (torch, TF)):
        res.append(F.ctc_loss(m.tensor(logits).log_softmax(-1), m.tensor(targets), m.tensor(7), m.tensor(3),
                              reduction='none').numpy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-5)
    assert res[0].shape == res[1].shape


# ----------------------------------------------------------------------------- modules

MODULE_CASES = [
    ('L1Loss', {}, lambda: (Grad(randn(4, 3)), randn(4, 3))),
    ('MSELoss', {'reduction': 'sum'}, lambda: (Grad(randn(4, 3)), randn(4, 3))),
    ('NLLLoss', {'weight': randn(3, low=0.5, high=1.5), 'ignore_index': 1},
     lambda: (Grad(randn(4, 3)), classes((4,), 3))),
    ('CrossEntropyLoss', {'weight': randn(3, low=0.5, high=1.5), 'label_smoothing': 0.1},
     lambda: (Grad(randn(4, 3)), classes((4,), 3))),
    ('CrossEntropyLoss', {'size_average': False}, lambda: (Grad(randn(4, 3)), classes((4,), 3))),
    ('PoissonNLLLoss', {'full': True}, lambda: (Grad(randn(4, 3)), RNG.integers(0, 4, (4, 3)).astype(np.float32))),
    ('GaussianNLLLoss', {'full': True}, lambda: (Grad(randn(4, 3)), randn(4, 3), randn(4, 1, low=0.2, high=1))),
    ('KLDivLoss', {'reduction': 'batchmean', 'log_target': True}, lambda: (Grad(randn(4, 3)), randn(4, 3))),
    ('BCELoss', {'weight': randn(3, low=0.5, high=1.5)},
     lambda: (Grad(randn(4, 3, low=0.1, high=0.9)), randn(4, 3, low=0, high=1))),
    ('BCEWithLogitsLoss', {'pos_weight': randn(3, low=0.5, high=1.5)},
     lambda: (Grad(randn(4, 3)), randn(4, 3, low=0, high=1))),
    ('HingeEmbeddingLoss', {'margin': 0.5}, lambda: (Grad(randn(4, 3)), np.sign(randn(4, 3)))),
    ('MultiLabelMarginLoss', {}, lambda: (Grad(randn(2, 3)), np.array([[2, -1, 0], [0, 1, -1]]))),
    ('SmoothL1Loss', {'beta': 0.5}, lambda: (Grad(randn(4, 3)), randn(4, 3))),
    ('HuberLoss', {'delta': 0.5}, lambda: (Grad(randn(4, 3)), randn(4, 3))),
    ('SoftMarginLoss', {}, lambda: (Grad(randn(4, 3)), np.sign(randn(4, 3)))),
    ('MultiLabelSoftMarginLoss', {'weight': randn(3, low=0.5, high=1.5)},
     lambda: (Grad(randn(4, 3)), randn(4, 3, low=0, high=1))),
    ('CosineEmbeddingLoss', {'margin': 0.2},
     lambda: (Grad(randn(4, 3)), Grad(randn(4, 3)), np.array([1., -1, 1, -1]))),
    ('MarginRankingLoss', {'margin': 0.2}, lambda: (Grad(randn(4)), Grad(randn(4)), np.array([1., -1, 1, -1]))),
    ('MultiMarginLoss', {'p': 2, 'margin': 0.5, 'weight': randn(3, low=0.5, high=1.5)},
     lambda: (Grad(randn(4, 3)), classes((4,), 3))),
    ('TripletMarginLoss', {'margin': 0.5, 'p': 1, 'swap': True},
     lambda: (Grad(randn(4, 3)), Grad(randn(4, 3)), Grad(randn(4, 3)))),
    ('TripletMarginWithDistanceLoss', {'swap': True},
     lambda: (Grad(randn(4, 3)), Grad(randn(4, 3)), Grad(randn(4, 3)))),
    ('CTCLoss', {'blank': 0, 'zero_infinity': True},
     lambda: (Grad(np.log(np.full((6, 2, 4), 0.25, np.float32))), np.array([[1, 2], [3, 3]]), np.array([6, 5]),
              np.array([2, 2]))),
]


@pytest.mark.parametrize('name, options, inputs', MODULE_CASES, ids=[c[0] for c in MODULE_CASES])
def test_loss_modules_match_torch(name, options, inputs):
    args = inputs()
    results = []
    for m in (ember, torch):
        opts = {k: m.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            module = getattr(m.nn, name)(**opts)
        leaves = []
        tensors = [_convert(a, m, None, leaves) for a in args]
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            out = module(*tensors)
        grads = m.autograd.grad(out.sum(), leaves) if leaves else []
        results.append((module, out, grads))
    (em, eo, eg), (tm, to, tg) = results
    assert repr(em) == repr(tm)
    assert list(em.state_dict().keys()) == list(tm.state_dict().keys())
    assert em.reduction == tm.reduction
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy(), rtol=1e-5, atol=1e-6)
    for a, b in zip(eg, tg):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def test_loss_module_defaults_and_errors():
    for name in ('CrossEntropyLoss', 'NLLLoss'):
        e, t = getattr(ember.nn, name)(), getattr(torch.nn, name)()
        assert (e.ignore_index, e.reduction, e.weight) == (t.ignore_index, t.reduction, None)
    assert ember.nn.CrossEntropyLoss().label_smoothing == 0.0
    assert ember.nn.CTCLoss().blank == 0 and ember.nn.CTCLoss().zero_infinity is False
    with pytest.warns(UserWarning, match="please use reduction='sum' instead"):
        assert ember.nn.MSELoss(size_average=False).reduction == 'sum'
    with pytest.raises(ValueError, match='only p == 1 and p == 2 supported'):
        ember.nn.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match='TripletMarginLoss: expected margin to be greater than 0, got 0 instead'):
        ember.nn.TripletMarginLoss(margin=0)
    w = ember.ones(3)
    loss = ember.nn.CrossEntropyLoss(weight=w)
    assert loss.weight is w and list(loss.state_dict()) == ['weight']
