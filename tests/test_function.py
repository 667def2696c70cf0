"""Custom ``autograd.Function`` and ``gradcheck``/``gradgradcheck`` against PyTorch."""
import numpy as np
import pytest

import ember
from tests.conftest import requires_torch, torch
from tests.test_autograd import leaf, same

pytestmark = requires_torch


def scaled_square(m):
    class ScaledSquare(m.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.save_for_backward(x)
            ctx.k = k
            return x * x * k

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * 2 * x * ctx.k, None
    return ScaledSquare


def test_save_for_backward_and_non_tensor_args():
    def fn(m):
        x = leaf(m, [1., 2., 3.])
        y = scaled_square(m).apply(x, 3)
        y.sum().backward()
        return x.grad, y, type(y.grad_fn).__name__, type(y.grad_fn.next_functions[0][0]).__name__
    same(fn)


def test_function_double_backward():
    def fn(m):
        x = leaf(m, [1., 2., 3.])
        y = scaled_square(m).apply(x, 3)
        g, = m.autograd.grad(y.sum(), x, create_graph=True)
        g2, = m.autograd.grad(g.sum(), x)
        return g, g2
    same(fn)


def test_setup_context_style():
    def fn(m):
        class Cube(m.autograd.Function):
            @staticmethod
            def forward(x, k):
                return x * x * x * k

            @staticmethod
            def setup_context(ctx, inputs, output):
                x, k = inputs
                ctx.save_for_backward(x)
                ctx.k = k

            @staticmethod
            def backward(ctx, g):
                x, = ctx.saved_tensors
                return g * 3 * x * x * ctx.k, None
        x = leaf(m, [1., -2.])
        y = Cube.apply(x, 2.)
        y.sum().backward()
        return x.grad, y
    same(fn)


def test_multiple_outputs_and_materialized_grads():
    def fn(m):
        class Two(m.autograd.Function):
            @staticmethod
            def forward(ctx, x, y):
                return x + y, x * y

            @staticmethod
            def backward(ctx, ga, gb):
                return ga + gb, ga - gb
        x, y = leaf(m, [1., 2.]), m.tensor([3., 4.])
        a, b = Two.apply(x, y)
        (a * 2 + b).sum().backward()
        first = x.grad.clone()
        x.grad = None
        a, b = Two.apply(x, y)
        a.sum().backward()  # b's gradient arrives as zeros
        return first, x.grad, y.grad, a.grad_fn is b.grad_fn, (a.output_nr, b.output_nr)
    same(fn)


def test_set_materialize_grads_false_passes_none():
    def fn(m):
        seen = []

        class Two(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(False)
                return x * 1, x * 2

            @staticmethod
            def backward(ctx, ga, gb):
                seen.append((ga is None, gb is None))
                return ga if gb is None else ga + gb
        x = leaf(m, [1., 2.])
        a, b = Two.apply(x)
        a.sum().backward()
        return x.grad, seen
    same(fn)


def test_needs_input_grad():
    def fn(m):
        seen = []

        class Fn(m.autograd.Function):
            @staticmethod
            def forward(ctx, x, y, k):
                return x * y * k

            @staticmethod
            def backward(ctx, g):
                seen.append(ctx.needs_input_grad)
                return g, g, None
        x, y = leaf(m, [1., 2.]), m.tensor([3., 4.])
        Fn.apply(x, y, 2).sum().backward()
        Fn.apply(y, x, 2).sum().backward()
        return seen
    same(fn)


def test_mark_non_differentiable():
    def fn(m):
        class WithIndex(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                idx = m.tensor([1., 0.])
                ctx.mark_non_differentiable(idx)
                return x * 2, idx

            @staticmethod
            def backward(ctx, g, gi):
                return g * 2
        x = leaf(m, [1., 2.])
        a, i = WithIndex.apply(x)
        (a.sum() + i.sum()).backward()
        return i.requires_grad, a.requires_grad, x.grad
    same(fn)


def test_integer_output_does_not_require_grad():
    def fn(m):
        class ArgMax(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 1, m.tensor([0, 1])

            @staticmethod
            def backward(ctx, g, gi):
                return g
        a, i = ArgMax.apply(leaf(m, [1., 2.]))
        return a.requires_grad, i.requires_grad, i.dtype is m.int64
    same(fn)


def add_one(m):
    class AddOne(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2
    return AddOne


def test_mark_dirty():
    def fn(m):
        x = leaf(m, [1., 2., 3.])
        y = x * 1
        z = add_one(m).apply(y)
        result = (z is y, type(y.grad_fn).__name__, y._version)
        (z * z).sum().backward()
        return result, x.grad
    same(fn)
    same(lambda m: add_one(m).apply(leaf(m, [1., 2.])))


def test_input_returned_as_is():
    def fn(m):
        class Id(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 3
        x = leaf(m, [1., 2.])
        y = Id.apply(x)
        y.sum().backward()
        return y is x, x.grad, y._base is x, type(y.grad_fn).__name__
    same(fn)


def test_once_differentiable():
    def fn(m):
        class Once(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            @m.autograd.function.once_differentiable
            def backward(ctx, g):
                x, = ctx.saved_tensors
                return g * 2 * x
        x = leaf(m, [1., 2.])
        y = Once.apply(x)
        go = m.ones(2, requires_grad=True)
        g, = m.autograd.grad(y, x, go, create_graph=True)
        first = (g, g.requires_grad)
        g.sum().backward()
        return first
    same(fn, message=False)
    with pytest.raises(RuntimeError, match='once_differentiable'):
        fn(ember)


def test_wrong_number_of_gradients_and_shapes():
    def count(m):
        class Bad(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 1

            @staticmethod
            def backward(ctx, g):
                return g, g
        Bad.apply(leaf(m, [1., 2.])).sum().backward()
    same(count)

    def shape(m):
        class BadShape(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 1

            @staticmethod
            def backward(ctx, g):
                return m.ones(3)
        BadShape.apply(leaf(m, [1., 2.])).sum().backward()
    same(shape)


def test_saved_tensor_checks():
    def modified(m):
        x = leaf(m, [1., 2., 3.])
        y = x * 1
        z = scaled_square(m).apply(y, 2)
        y.mul_(2)
        z.sum().backward()
    same(modified)

    def freed(m):
        x = leaf(m, [1., 2., 3.])
        z = scaled_square(m).apply(x, 2)
        z.sum().backward()
        z.sum().backward()
    same(freed)


def test_function_under_no_grad():
    def fn(m):
        x = leaf(m, [1., 2.])
        with m.no_grad():
            z = scaled_square(m).apply(x, 2)
        return z.requires_grad, z.grad_fn, z
    same(fn)


# ----------------------------------------------------------------------------- gradcheck

def test_gradcheck_passes_on_correct_rules():
    x = ember.tensor([1., 2., 3.], dtype=ember.float64, requires_grad=True)
    y = ember.tensor([0.5, -1., 2.], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda a, b: (a * b / (b * b + 1), a - b), (x, y))
    assert ember.autograd.gradgradcheck(lambda a, b: a * a * b, (x, y))
    assert ember.autograd.gradcheck(scaled_square(ember).apply, (x, 3.))
    assert ember.autograd.gradgradcheck(scaled_square(ember).apply, (x, 3.))


def _wrong(m):
    class Wrong(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, g):
            return g * 3
    return Wrong


def test_gradcheck_fails_on_a_wrong_rule():
    x = ember.tensor([1., 2., 3.], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(_wrong(ember).apply, (x,), raise_exception=False) is False
    from ember.autograd.gradcheck import GradcheckError
    with pytest.raises(GradcheckError, match='Jacobian mismatch for output 0 with respect to input 0'):
        ember.autograd.gradcheck(_wrong(ember).apply, (x,))


def test_gradgradcheck_fails_on_a_wrong_second_derivative():
    class DetachedRule(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, g):
            x, = ctx.saved_tensors
            return g * 3 * (x * x).detach()  # right value, wrong second derivative
    x = ember.tensor([1., 2., 3.], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(DetachedRule.apply, (x,))
    with pytest.raises(RuntimeError, match='Jacobian mismatch'):
        ember.autograd.gradgradcheck(DetachedRule.apply, (x,))
    assert ember.autograd.gradgradcheck(DetachedRule.apply, (x,), raise_exception=False) is False


def test_gradcheck_requires_an_input_with_grad():
    same(lambda m: m.autograd.gradcheck(lambda a: a * 2, (m.ones(2, dtype=m.float64),)), message=False)


def test_saving_the_output_supports_double_backward():
    def fn(m):
        class Exp(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                r = x.exp()
                ctx.save_for_backward(r)
                return r

            @staticmethod
            def backward(ctx, g):
                r, = ctx.saved_tensors
                return g * r
        x = leaf(m, [0.5, -1.], m.float64)
        y = Exp.apply(x)
        g, = m.autograd.grad(y.sum(), x, create_graph=True)
        g2, = m.autograd.grad((g * g).sum(), x)
        return y, g, g2
    same(fn, atol=1e-9)

    def modified(m):
        class Exp(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                r = x.exp()
                ctx.save_for_backward(r)
                return r

            @staticmethod
            def backward(ctx, g):
                r, = ctx.saved_tensors
                return g * r
        y = Exp.apply(leaf(m, [0.5, -1.]))
        y.mul_(2)
        y.sum().backward()
    same(modified)


def test_reentrant_backward_inside_a_function():
    def fn(m):
        class Checkpoint(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x * 3

            @staticmethod
            def backward(ctx, g):
                x, = ctx.saved_tensors
                with m.enable_grad():
                    xd = x.detach().requires_grad_(True)
                    out = xd * xd * 3
                m.autograd.backward(out, g)
                return xd.grad
        x = leaf(m, [1., 2.])
        y = Checkpoint.apply(x * 2)
        (y * y).sum().backward()
        return x.grad
    same(fn)
