"""Grad modes against PyTorch: no_grad, enable_grad, set_grad_enabled, inference_mode."""
import pytest

import ember
from tests.conftest import requires_torch, torch
from tests.test_autograd import leaf, same

pytestmark = requires_torch


def test_context_managers_and_nesting():
    def fn(m):
        x = leaf(m, [1., 2.])
        out = []
        with m.no_grad():
            out.append((x * 2).requires_grad)
            with m.enable_grad():
                out.append((x * 2).requires_grad)
                with m.set_grad_enabled(False):
                    out.append(m.is_grad_enabled())
                out.append(m.is_grad_enabled())
            out.append(m.is_grad_enabled())
        out.append(m.is_grad_enabled())
        return out
    same(fn)


def test_decorators_with_and_without_parentheses():
    def fn(m):
        x = leaf(m, [1., 2.])

        @m.no_grad()
        def a():
            return (x * 2).requires_grad

        @m.no_grad
        def b():
            return (x * 2).requires_grad

        @m.enable_grad
        def c():
            return m.is_grad_enabled()

        @m.inference_mode()
        def d():
            return m.is_grad_enabled(), m.is_inference_mode_enabled()

        @m.inference_mode
        def e():
            return m.is_grad_enabled()

        @m.set_grad_enabled(False)
        def f():
            return m.is_grad_enabled()
        after_decorating = m.is_grad_enabled()
        with m.no_grad():
            inner = c()
        return a(), b(), inner, d(), e(), f(), after_decorating, m.is_grad_enabled(), a.__name__
    same(fn)


def test_decorated_generator_keeps_mode_only_inside():
    def fn(m):
        x = leaf(m, [1., 2.])
        log = []

        @m.no_grad()
        def gen():
            log.append(m.is_grad_enabled())
            received = yield (x * 2).requires_grad
            log.append((received, m.is_grad_enabled()))
            try:
                yield 'second'
            except ValueError:
                yield ('caught', m.is_grad_enabled())
            return 'done'
        g = gen()
        first = next(g)
        log.append(('caller', m.is_grad_enabled()))
        second = g.send('hello')
        third = g.throw(ValueError())
        g.close()
        return first, second, third, log, m.is_grad_enabled()
    same(fn)


def test_set_grad_enabled_as_a_function_call():
    def fn(m):
        m.set_grad_enabled(False)
        off = m.is_grad_enabled(), (leaf(m, [1.]) * 2).requires_grad
        m.set_grad_enabled(True)
        return off, m.is_grad_enabled()
    same(fn)


def test_mode_restored_after_exception():
    def fn(m):
        try:
            with m.no_grad():
                raise KeyError('x')
        except KeyError:
            pass
        return m.is_grad_enabled()
    same(fn)


def test_inference_mode():
    def fn(m):
        x = leaf(m, [1., 2.])
        with m.inference_mode():
            y = x * 2
            inside = (y.requires_grad, m.is_grad_enabled(), m.is_inference_mode_enabled())
            with m.inference_mode(False):
                nested = m.is_inference_mode_enabled()
        return inside, nested, m.is_inference_mode_enabled(), m.is_grad_enabled(), y
    same(fn)


def test_no_grad_results_are_leaves_and_backward_ignores_them():
    def fn(m):
        x = leaf(m, [1., 2.])
        with m.no_grad():
            c = x * 3
        y = (x * c).sum()
        y.backward()
        return x.grad, c.is_leaf, c.requires_grad
    same(fn)


def test_grad_mode_class_cannot_decorate_classes():
    with pytest.raises(TypeError):
        ember.no_grad()(type('C', (), {}))
