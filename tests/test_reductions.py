"""Reductions, scans and sorting: what the generic op-table tests cannot express (ties, zeros, return types)."""
import numpy as np
import pytest

import ember
from tests.conftest import requires_torch, torch
from tests.op_harness import assert_same


def both(fn, *arrays, grad=True):
    """Runs ``fn(module, *tensors)`` in ember and torch; returns outputs and input gradients (weights = 1..n)."""
    results = []
    for m in (ember, torch):
        ts = [m.tensor(a, requires_grad=grad and a.dtype.kind == 'f') for a in arrays]
        out = fn(m, *ts)
        grads = None
        if grad:
            first = out[0] if isinstance(out, tuple) else out
            w = m.tensor(np.arange(1, first.numel() + 1, dtype=np.float64).reshape(tuple(first.shape)),
                         dtype=first.dtype)
            grads = m.autograd.grad([first], ts, [w])
        results.append((out, grads))
    return results


TIES = np.array([[1., 3., 3.], [2., 2., -1.], [5., 5., 5.]])


@requires_torch
@pytest.mark.parametrize('fn', [lambda m, x: m.amax(x, 1), lambda m, x: m.amin(x), lambda m, x: x.max(),
                                lambda m, x: m.median(x), lambda m, x: m.linalg.vector_norm(x, float('inf'), 1)
                                if hasattr(m.linalg, 'vector_norm') else m.amax(x.abs(), 1)])
def test_ties_share_the_gradient_evenly(fn):
    (ours, g1), (ref, g2) = both(fn, TIES)
    assert_same(ours, ref)
    assert_same(g1, g2)


@requires_torch
def test_max_with_dim_gives_the_gradient_to_the_first_index():
    (ours, g1), (ref, g2) = both(lambda m, x: m.max(x, 1), TIES)
    assert_same(tuple(ours), tuple(ref))
    assert_same(g1, g2)


@requires_torch
@pytest.mark.parametrize('fn', [lambda m, x: m.prod(x), lambda m, x: m.prod(x, 1), lambda m, x: m.cumprod(x, 1)])
def test_products_with_zeros_have_exact_gradients(fn):
    x = np.array([[0., 2., 3., 0.5], [1.5, 0., 2., -1.], [0., 0., 2., 3.]])
    (ours, g1), (ref, g2) = both(fn, x)
    assert_same(ours, ref)
    assert_same(g1, g2)
    xe = ember.tensor(x, requires_grad=True)
    assert ember.autograd.gradgradcheck(lambda t: fn(ember, t), [xe])


@requires_torch
def test_std_of_constant_slice_has_zero_gradient():
    (ours, g1), (ref, g2) = both(lambda m, x: m.std(x, 1), np.array([[2., 2., 2.], [1., 2., 4.]]))
    assert_same(ours, ref)
    assert_same(g1, g2)


@requires_torch
def test_logcumsumexp_gradient_is_stable_for_large_values():
    x = np.array([[100., -100., 300., 1.], [-500., -400., -600., 0.]])
    (ours, g1), (ref, g2) = both(lambda m, t: m.logcumsumexp(t, 1), x)
    assert_same(ours, ref)
    assert_same(g1, g2)


def test_return_types_are_named_tuples():
    x = ember.tensor([[1., 5., 2.], [7., 0., 3.]])
    r = x.max(1)
    assert isinstance(r, tuple) and r.values.tolist() == [5., 7.] and r.indices.tolist() == [1, 0]
    values, indices = ember.sort(x, descending=True)
    assert indices.tolist() == [[1, 2, 0], [0, 2, 1]]
    assert repr(r).startswith('torch.return_types.max(\nvalues=tensor(')
    assert ember.aminmax(x).max.item() == 7.0
    assert isinstance(r, ember.return_types.max)


@requires_torch
def test_stable_sort_keeps_equal_elements_in_order():
    x = np.array([3, 1, 2, 1, 3, 2, 1, 1], dtype=np.int64)
    for descending in (False, True):
        ours = ember.sort(ember.tensor(x), descending=descending, stable=True)
        ref = torch.sort(torch.tensor(x), descending=descending, stable=True)
        assert_same(tuple(ours), tuple(ref))


@requires_torch
def test_reductions_of_ints_and_bools():
    x = np.array([[1, 2], [3, 4]], dtype=np.int32)
    for fn in (lambda m, t: m.sum(t), lambda m, t: m.prod(t, 1), lambda m, t: m.cumsum(t, 0),
               lambda m, t: m.all(t > 1), lambda m, t: (t > 1).sum()):
        assert_same(fn(ember, ember.tensor(x)), fn(torch, torch.tensor(x)))
    with pytest.raises(RuntimeError, match='mean'):
        ember.mean(ember.tensor(x))


@requires_torch
def test_out_and_tensor_methods():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    out = ember.empty(3)
    ember.sum(ember.tensor(x), 0, out=out)
    assert out.tolist() == [3., 5., 7.]
    t = ember.tensor(x)
    assert_same(t.softmax(1), torch.tensor(x).softmax(1))
    assert_same(t.logsumexp(0), torch.tensor(x).logsumexp(0))
    assert_same(t.var(1, correction=0), torch.tensor(x).var(1, correction=0))
    assert_same(tuple(t.topk(2)), tuple(torch.tensor(x).topk(2)))
    with pytest.raises(RuntimeError, match='out=... arguments don.t support automatic differentiation'):
        ember.sum(ember.tensor(x, requires_grad=True), 0, out=ember.empty(3))
