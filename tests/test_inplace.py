"""In-place ops, version counters and views against PyTorch.

Covers the leaf checks, the error for a saved tensor modified in place, ``_version``, and the
rewriting of a base's history when one of its views is modified in place (CopySlices).
"""
import numpy as np
import pytest

import ember
from tests.conftest import requires_torch, torch
from tests.test_autograd import leaf, needs, same

pytestmark = requires_torch


def narrow(t, dim, start, length):
    return t.narrow(dim, start, length)


# ----------------------------------------------------------------------------- leaf checks

def test_in_place_on_leaf_requiring_grad_raises():
    same(lambda m: leaf(m, [1., 2.]).mul_(2))
    same(lambda m: leaf(m, [1., 2.]).add_(1))
    same(lambda m: leaf(m, [1., 2., 3.]).narrow(0, 1, 2).mul_(2))
    same(lambda m: leaf(m, [1., 2., 3., 4.]).view(2, 2).mul_(2))


def test_in_place_on_leaf_allowed_under_no_grad():
    def fn(m):
        x = leaf(m, [1., 2.])
        with m.no_grad():
            x.mul_(2)
            x.narrow(0, 0, 1).add_(1)
        return x, x.is_leaf, x.grad_fn, x._version
    same(fn)


def test_in_place_errors_for_dtype_and_shape():
    same(lambda m: m.ones(2, dtype=m.int64).mul_(1.5))
    same(lambda m: m.ones(2).add_(m.ones(3, 2)))
    same(lambda m: m.ones(2, dtype=m.int64).add_(m.ones(2)))
    same(lambda m: m.ones(2).add_(m.ones(2, dtype=m.int64)))


def test_out_argument_with_grad_raises():
    same(lambda m: m.mul(leaf(m, [1., 2.]), 2, out=m.zeros(2)))
    same(lambda m: m.add(m.ones(2), m.ones(2), out=m.zeros(2)))


# ----------------------------------------------------------------------------- version counter

def test_version_is_an_int_shared_with_views():
    def fn(m):
        x = m.ones(4)
        versions = [x._version]
        x.add_(1)
        versions.append(x._version)
        v = x.view(2, 2)
        v.mul_(2)
        versions += [x._version, v._version]
        n = x.narrow(0, 1, 2)
        n.sub_(1)
        versions += [x._version, v._version, n._version]
        d = x.detach()
        d.div_(2)
        versions += [x._version, d._version]
        y = x * 2
        versions.append(y._version)
        return versions, type(x._version).__name__
    same(fn)


def test_saved_input_modified_in_place_raises_at_backward():
    def fn(m):
        x = leaf(m, [1., 2., 3.])
        y = x * 2
        z = y * y
        y.mul_(3)
        z.sum().backward()
    same(fn)

    def double(m):
        x = leaf(m, [1., 2., 3.], m.float64)
        y = x + 1
        z = y.sum() * y
        y.add_(3)
        z.sum().backward()
    same(double)

    def leaf_constant(m):
        x = leaf(m, [1., 2.])
        w = m.ones(2)
        y = x * w
        w.add_(1)
        y.sum().backward()
    same(leaf_constant)

    def self_alias(m):
        y = leaf(m, [1., 2.]) + 0
        y.mul_(y)
        y.sum().backward()
    same(self_alias)


def test_saved_output_modified_in_place_raises_at_backward():
    needs('exp')

    def fn(m):
        x = leaf(m, [1., 2., 3.])
        y = x.exp()
        y.add_(1)
        y.sum().backward()
    same(fn)


def test_modification_that_backward_does_not_need_is_fine():
    def fn(m):
        x = leaf(m, [1., 2., 3.])
        y = x * 2
        s = y.sum()
        y.add_(1)
        s.backward()
        return x.grad, y
    same(fn)


def test_in_place_chain_gradients():
    def fn(m):
        x = leaf(m, [1., 2., 3.])
        y = x * 1
        y.mul_(2)
        y.add_(x)
        y.sub_(1)
        y.div_(4)
        y.neg_()
        (y * y).sum().backward()
        return x.grad, type(y.grad_fn).__name__, y._version
    same(fn)


# ----------------------------------------------------------------------------- views and CopySlices

def test_in_place_through_narrow_rewrites_base_history():
    def fn(m):
        a = leaf(m, [1., 2., 3., 4.])
        b = a.clone()
        b.narrow(0, 1, 2).mul_(2)
        b.sum().backward()
        return a.grad, b, type(b.grad_fn).__name__
    same(fn)


def test_in_place_through_view_with_tensor_argument():
    def fn(m):
        a = leaf(m, [1., 2., 3., 4.])
        b = a.clone()
        v = b.narrow(0, 1, 2)
        v.mul_(a.narrow(0, 0, 2))
        (b * b).sum().backward()
        return a.grad, b
    same(fn)


def test_in_place_through_transposed_view():
    def fn(m):
        a = m.tensor(np.arange(6.).reshape(2, 3), requires_grad=True)
        w = m.tensor([1., -2.], requires_grad=True)
        b = a * 1
        b.t().narrow(0, 1, 2).mul_(w)
        (b * b).sum().backward()
        return a.grad, w.grad, b
    same(fn)


def test_view_of_modified_base_gets_a_fresh_grad_fn():
    def fn(m):
        a = leaf(m, [1., 2., 3., 4.])
        b = a.clone()
        v = b.view(2, 2)
        b.mul_(2)
        name = type(v.grad_fn).__name__
        (v * v).sum().backward()
        return a.grad, name
    same(fn)

    def sibling_views(m):
        a = leaf(m, [1., 2., 3., 4.])
        b = a * 1
        v = b.view(2, 2).narrow(0, 0, 1)
        w = v.unsqueeze(0)
        v.mul_(3)
        (b.sum() + w.sum()).backward()
        return a.grad, w
    same(sibling_views)


def test_view_grad_fn_refresh_under_no_grad():
    def fn(m):
        a = leaf(m, [1., 2., 3., 4.])
        b = a * 1
        v = b.narrow(0, 1, 2)
        b.mul_(2)
        with m.no_grad():
            name = type(v.grad_fn).__name__
        (v * v).sum().backward()
        return a.grad, name
    same(fn)


def test_saved_view_modified_through_base():
    def fn(m):
        a = leaf(m, [1., 2., 3., 4.])
        b = a.clone()
        v = b.narrow(0, 1, 2)
        s = v * v
        v.add_(1)
        s.sum().backward()
    same(fn)


def test_in_place_with_create_graph_through_view():
    def fn(m):
        a = leaf(m, [1., 2., 3., 4.], m.float64)
        b = a * a
        b.narrow(0, 1, 2).mul_(a.narrow(0, 2, 2))
        g, = m.autograd.grad(b.sum(), a, create_graph=True)
        g2, = m.autograd.grad((g * g).sum(), a)
        return g, g2
    same(fn, atol=1e-9)


def test_in_place_on_detached_view_leaves_original_history_alone():
    def fn(m):
        a = leaf(m, [1., 2., 3.])
        b = a * 2
        d = b.narrow(0, 1, 2).detach()
        d.mul_(leaf(m, [5., 6.]))
        b.sum().backward()
        return a.grad, b, d.requires_grad, type(d.grad_fn).__name__
    same(fn)


def test_setitem_rewrites_history():
    if not hasattr(ember.ops, 'indexing'):
        pytest.skip('indexing not available yet')

    def fn(m):
        a = leaf(m, [1., 2., 3., 4.])
        b = a * 1
        b[1:3] = a[:2] * 5
        b[0] = 7.
        (b * b).sum().backward()
        return a.grad, b, b._version
    same(fn)


def test_custom_function_mark_dirty_on_view():
    def fn(m):
        class AddOne(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.add_(1)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 2
        a = leaf(m, [1., 2., 3., 4.])
        b = a * 1
        r = AddOne.apply(b.narrow(0, 1, 2))
        (b * b).sum().backward()
        return a.grad, b, type(b.grad_fn).__name__, type(r.grad_fn).__name__
    same(fn)


def test_view_made_under_no_grad_cannot_be_modified_with_grad_enabled():
    def fn(m):
        y = leaf(m, [1., 2., 3.]) * 2
        with m.no_grad():
            v = y.narrow(0, 1, 2)
        v.mul_(2)
    same(fn)

    def both_inside(m):
        y = leaf(m, [1., 2., 3.]) * 2
        with m.no_grad():
            v = y.narrow(0, 1, 2)
            v.mul_(2)
        return y.detach(), type(y.grad_fn).__name__
    same(both_inside)


def test_retain_grad_follows_in_place_changes():
    def fn(m):
        x = leaf(m, [1., 2.])
        y = x * 2
        y.retain_grad()
        seen = []
        y.register_hook(lambda g: seen.append(g.clone()))
        y.mul_(3)
        (y * y).sum().backward()
        return y.grad, seen, x.grad
    same(fn)

    def view(m):
        a = leaf(m, [1., 2., 3., 4.])
        b = a * 1
        v = b.view(2, 2)
        v.retain_grad()
        b.mul_(2)
        (v * v).sum().backward()
        return v.grad, a.grad
    same(view)


def test_backward_and_grad_from_a_view_of_a_modified_base():
    def backward(m):
        a = leaf(m, [1., 2., 3., 4.])
        b = a * 1
        v = b.view(2, 2)
        b.mul_(2)
        v.backward(m.ones(2, 2))
        return a.grad
    same(backward)

    def grad(m):
        a = leaf(m, [1., 2., 3., 4.])
        b = a * 1
        v = b.view(2, 2)
        b.mul_(2)
        return m.autograd.grad((v * v).sum(), a)
    same(grad)


def test_in_place_with_promotion_and_broadcasting():
    def fn(m):
        a = leaf(m, [[1., 2.], [3., 4.]])
        w = leaf(m, [2., -1.], m.float64)
        s = leaf(m, [[0.5], [2.]])
        b = a * 1
        b.mul_(w)
        b.narrow(1, 0, 1).add_(s)
        (b * b).sum().backward()
        return b, a.grad, w.grad, s.grad
    same(fn)
