"""The autograd engine against PyTorch: backward, autograd.grad, hooks, graph structure, higher order.

Each test writes its computation once as ``fn(m)`` where ``m`` is the module (ember or torch);
``same(fn)`` runs it in both and compares results, or the exception type and message.
"""
import sys
import warnings

import numpy as np
import pytest

import ember
from tests.conftest import requires_torch, torch

pytestmark = requires_torch


# ----------------------------------------------------------------------------- comparison helpers

def _plain(x):
    """Tensors become (array, dtype name); containers recurse; nodes become their names."""
    if isinstance(x, ember.Tensor) or (torch is not None and isinstance(x, torch.Tensor)):
        return ('tensor', np.array(x.detach().tolist(), dtype=complex if x.is_complex() else float),
                str(x.dtype).split('.')[-1], bool(x.requires_grad))
    if isinstance(x, (list, tuple)):
        return type(x)(_plain(v) for v in x) if isinstance(x, list) else tuple(_plain(v) for v in x)
    if type(x).__name__ in ('dtype', 'device', 'layout'):
        return str(x)
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    return x


def _run(fn, module):
    try:
        return _plain(fn(module)), None
    except Exception as exc:  # compared below
        return None, exc


def _assert_close(a, b, atol, path='result'):
    if isinstance(b, tuple) and b and b[0] == 'tensor':
        assert isinstance(a, tuple) and a[0] == 'tensor', f"{path}: ember gave {a!r}, torch a tensor"
        assert a[1].shape == b[1].shape, f"{path}: shape {a[1].shape} != {b[1].shape}"
        assert a[2] == b[2], f"{path}: dtype {a[2]} != {b[2]}"
        assert a[3] == b[3], f"{path}: requires_grad {a[3]} != {b[3]}"
        np.testing.assert_allclose(a[1], b[1], rtol=1e-5, atol=atol, err_msg=path)
    elif isinstance(b, (list, tuple)):
        assert isinstance(a, (list, tuple)) and len(a) == len(b), f"{path}: {a!r} != {b!r}"
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_close(x, y, atol, f"{path}[{i}]")
    elif isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-5, abs=atol), f"{path}: {a!r} != {b!r}"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def same(fn, atol=1e-6, message=True):
    """Runs ``fn(torch)`` and ``fn(ember)``; results (or errors and their messages) must agree."""
    expected, t_exc = _run(fn, torch)
    got, e_exc = _run(fn, ember)
    if t_exc is not None:
        assert e_exc is not None, f"torch raised {t_exc!r}, ember returned {got!r}"
        assert type(e_exc).__name__ == type(t_exc).__name__ or isinstance(e_exc, type(t_exc)), (e_exc, t_exc)
        if message:
            assert str(e_exc) == str(t_exc)
        return
    if e_exc is not None:
        raise e_exc
    _assert_close(got, expected, atol)
    return got


def node_tree(node, m):
    """``(name, [(child tree, output_nr), ...])`` of a grad_fn, as both libraries print it."""
    if node is None:
        return None
    return (type(node).__name__, [(node_tree(n, m), i) for n, i in node.next_functions])


def needs(*names):
    missing = [n for n in names if not hasattr(ember, n)]
    if missing:
        pytest.skip(f"ember has no {', '.join(missing)} yet")


def leaf(m, values, dtype=None, requires_grad=True):
    return m.tensor(values, dtype=dtype or m.float32, requires_grad=requires_grad)


# ----------------------------------------------------------------------------- backward

def test_scalar_backward():
    def fn(m):
        x = leaf(m, [1., 2., 3.])
        y = ((x * x + x) / 2 - x.neg()).mean()
        y.backward()
        return x.grad
    same(fn)


def test_backward_with_gradient_for_non_scalar():
    def fn(m):
        x = leaf(m, [[1., 2.], [3., 4.]])
        (x * x).backward(m.tensor([[1., 0.5], [2., -1.]]))
        return x.grad
    same(fn)


def test_backward_errors():
    same(lambda m: (leaf(m, [1., 2.]) * 2).backward())
    same(lambda m: m.ones(3).sum().backward())
    same(lambda m: (leaf(m, [1., 2.]) * 2).backward(m.ones(3)))
    same(lambda m: m.autograd.grad(leaf(m, [1., 2.]) * 2, leaf(m, [1.])))


def test_gradient_accumulates_across_calls_in_place():
    def fn(m):
        x = leaf(m, [1., 2.])
        (x * x).sum().backward()
        g = x.grad
        (x * 3).sum().backward()
        return x.grad, g is x.grad, x.grad.requires_grad
    same(fn)


def test_second_backward_raises_after_free_only_when_saved_tensors_are_needed():
    def saves(m):
        x = leaf(m, [1., 2.])
        y = (x * x).sum()
        y.backward()
        y.backward()
    same(saves)

    def saves_nothing(m):
        x = leaf(m, [1., 2.])
        y = (x + x).sum()
        y.backward()
        y.backward()
        return x.grad
    same(saves_nothing)

    def retained(m):
        x = leaf(m, [1., 2.])
        y = (x * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        return x.grad
    same(retained)


def test_multiple_roots_and_autograd_backward():
    def fn(m):
        x = leaf(m, [1., 2.])
        a, b = x * 2, x * x
        m.autograd.backward([a, b], [m.ones(2), m.tensor([1., -1.])])
        m.autograd.backward([a.sum(), b.sum()])
        return x.grad
    same(fn)


def test_diamond_and_reused_intermediate():
    def fn(m):
        x = leaf(m, [1., 2., 3.])
        h = x * 2
        a = h * h
        b = h + 1
        c = a * b + h
        c.sum().backward()
        return x.grad
    same(fn)


def test_backward_inputs_argument():
    def fn(m):
        x = leaf(m, [1., 2.])
        w = leaf(m, [3., 4.])
        h = x * w
        (h * h).sum().backward(inputs=[x, h])
        return x.grad, w.grad, h.grad
    same(fn)


def test_long_chain_is_iterative():
    x = ember.ones(3, requires_grad=True)
    y = x
    for _ in range(10000):
        y = y * 1.0001
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        y.sum().backward()
    finally:
        sys.setrecursionlimit(limit)
    np.testing.assert_allclose(x.grad.numpy(), np.full(3, 1.0001 ** 10000), rtol=1e-3)


def test_backward_is_deterministic():
    def run():
        order = []
        x = ember.tensor([1., 2.], requires_grad=True)
        hs = [x * float(i) for i in range(6)]
        for i, h in enumerate(hs):
            h.register_hook(lambda g, i=i: order.append(i))
        sum(h.sum() for h in hs).backward()
        return order, x.grad.tolist()
    assert run() == run()


# ----------------------------------------------------------------------------- autograd.grad

def test_grad_basic_and_grad_outputs():
    def fn(m):
        x = leaf(m, [1., 2., 3.])
        y = x * x
        g, = m.autograd.grad(y, x, m.tensor([1., 2., 3.]))
        return g, x.grad
    same(fn)


def test_grad_scalar_grad_output_and_non_leaf_inputs():
    def fn(m):
        x = leaf(m, [1., 2., 3.])
        h = x * 2
        y = (h * h).sum()
        return m.autograd.grad(y, [h, x], grad_outputs=m.tensor(3.))
    same(fn)


def test_grad_unused_inputs():
    def unused(m):
        x, z = leaf(m, [1., 2.]), leaf(m, [1., 2.])
        return m.autograd.grad((x * x).sum(), [x, z])
    same(unused)
    same(lambda m: (lambda x, z: m.autograd.grad((x * x).sum(), [x, z], allow_unused=True))(
        leaf(m, [1., 2.]), leaf(m, [1., 2.])))
    same(lambda m: (lambda x, z: m.autograd.grad((x * x).sum(), [x, z], materialize_grads=True))(
        leaf(m, [1., 2.]), leaf(m, [1., 2.])))
    same(lambda m: m.autograd.grad((leaf(m, [1.]) * 2).sum(), m.ones(1)))


def test_grad_retain_graph():
    def fn(m):
        x = leaf(m, [1., 2.])
        y = (x * x).sum()
        a = m.autograd.grad(y, x, retain_graph=True)
        b = m.autograd.grad(y, x)
        return a, b
    same(fn)

    def freed(m):
        x = leaf(m, [1., 2.])
        y = (x * x).sum()
        m.autograd.grad(y, x)
        m.autograd.grad(y, x)
    same(freed)


def test_grad_does_not_touch_leaf_grad():
    def fn(m):
        x = leaf(m, [1., 2.])
        h = x * 3
        h.retain_grad()
        m.autograd.grad((h * h).sum(), x)
        return x.grad, h.grad
    same(fn)


def test_create_graph_higher_order_cubic():
    def fn(m):
        x = leaf(m, [2., -1.5], m.float64)
        y = (x * x * x).sum()
        g1, = m.autograd.grad(y, x, create_graph=True)
        g2, = m.autograd.grad(g1.sum(), x, create_graph=True)
        g3, = m.autograd.grad(g2.sum(), x)
        return g1, g2, g3
    same(fn)


def test_create_graph_with_pow_sin_exp():
    needs('sin', 'exp', 'pow')

    def fn(m):
        x = leaf(m, [0.3, -1.2, 2.0], m.float64)
        y = (m.sin(x) * m.exp(x) * x ** 3).sum()
        g1, = m.autograd.grad(y, x, create_graph=True)
        g2, = m.autograd.grad(g1.sum(), x, create_graph=True)
        g3, = m.autograd.grad(g2.sum(), x)
        return g1, g2, g3
    same(fn, atol=1e-9)


def test_create_graph_matmul():
    needs('matmul')

    def fn(m):
        a = m.tensor(np.arange(6.).reshape(2, 3) / 5, dtype=m.float64, requires_grad=True)
        b = m.tensor(np.arange(12.).reshape(3, 4) / 7, dtype=m.float64, requires_grad=True)
        y = ((a @ b) * (a @ b)).sum()
        ga, gb = m.autograd.grad(y, [a, b], create_graph=True)
        hab = m.autograd.grad((ga * ga).sum() + gb.sum(), [a, b])
        return ga, gb, hab
    same(fn, atol=1e-9)


def test_backward_create_graph_then_double_backward():
    def fn(m):
        x = leaf(m, [1., 2.])
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            (x * x * x).sum().backward(create_graph=True)
        g = x.grad
        x.grad = None
        g.sum().backward()
        return g, x.grad
    same(fn)


# ----------------------------------------------------------------------------- hooks

def test_leaf_hook_modifies_and_is_removable():
    def fn(m):
        x = leaf(m, [1., 2., 3.])
        handle = x.register_hook(lambda g: g * 2)
        (x * x).sum().backward()
        first = x.grad.clone()
        handle.remove()
        x.grad = None
        (x * x).sum().backward()
        return first, x.grad
    same(fn)


def test_non_leaf_hook_and_retain_grad():
    def fn(m):
        x = leaf(m, [1., 2., 3.])
        y = x * 3
        seen = []
        y.register_hook(lambda g: seen.append(g.clone()))
        y.register_hook(lambda g: g + 1)
        y.retain_grad()
        (y * y).sum().backward()
        return x.grad, y.grad, seen, y.retains_grad, x.retains_grad
    same(fn)


def test_hooks_on_tensor_without_grad_raise():
    same(lambda m: m.ones(2).register_hook(lambda g: g))
    same(lambda m: m.ones(2).retain_grad())


def test_post_accumulate_grad_hook():
    def fn(m):
        x = leaf(m, [1., 2.])
        seen = []
        x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.clone()))
        (x * x).sum().backward()
        (x * 3).sum().backward()
        return seen
    same(fn)
    same(lambda m: (leaf(m, [1.]) * 2).register_post_accumulate_grad_hook(lambda t: None))


def test_node_hooks_and_prehooks():
    def fn(m):
        x = leaf(m, [1., 2., 3.])
        y = x * 2
        seen = []
        y.grad_fn.register_prehook(lambda go: seen.append(('pre', go)))
        y.grad_fn.register_hook(lambda gi, go: seen.append(('post', gi, go)))
        y.sum().backward()
        return seen, x.grad
    same(fn)

    def replaces(m):
        x = leaf(m, [1., 2., 3.])
        y = x * 2
        y.grad_fn.register_prehook(lambda go: (go[0] * 10,))
        h = y.grad_fn.register_hook(lambda gi, go: (gi[0] + 1, gi[1]))
        y.sum().backward()
        first = x.grad.clone()
        h.remove()
        x.grad = None
        y = x * 2
        y.sum().backward()
        return first, x.grad
    same(replaces)


def test_non_leaf_grad_warning():
    x = ember.ones(2, requires_grad=True)
    y = x * 2
    with pytest.warns(UserWarning, match='not a leaf Tensor'):
        assert y.grad is None
    (y * y).sum().backward(inputs=[y])
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert y.grad.tolist() == [4., 4.]


# ----------------------------------------------------------------------------- graph structure

def test_next_functions_structure():
    def fn(m):
        a, b = leaf(m, [1., 2.]), leaf(m, [3., 4.])
        c = (a * b + a).sum()
        add = c.grad_fn.next_functions[0][0]
        mul = add.next_functions[0][0]
        return (node_tree(c.grad_fn, m), mul.next_functions[0][0].variable is a,
                mul.next_functions[1][0].variable is b, add.next_functions[1][0] is mul.next_functions[0][0])
    same(fn)


def test_next_functions_with_constants_and_views():
    def fn(m):
        a = leaf(m, [[1., 2., 3.], [4., 5., 6.]])
        c = m.ones(2, 3)
        y = (a * c).view(3, 2).permute(1, 0).expand(4, 2, 3)
        return node_tree((y - 1).mean().grad_fn, m), a.grad_fn, a.is_leaf, y.is_leaf
    same(fn)


def test_leaf_and_requires_grad_flags():
    def fn(m):
        x = leaf(m, [1., 2.])
        c = m.ones(2)
        y = x * c
        with m.no_grad():
            z = x * 2
        return [(t.is_leaf, t.requires_grad, t.grad_fn is None) for t in (x, c, y, z)]
    same(fn)


def test_requires_grad_rules():
    same(lambda m: m.ones(2, dtype=m.int64).requires_grad_())
    same(lambda m: (leaf(m, [1.]) * 2).requires_grad_(False))
    same(lambda m: (m.ones(2).requires_grad_(), m.ones(2, dtype=m.complex64).requires_grad_()))
    same(lambda m: (leaf(m, [1.]) * 2).requires_grad_(True))


def test_detach():
    def fn(m):
        x = leaf(m, [1., 2.])
        y = x * 2
        d = y.detach()
        d.add_(1)
        return y, d, d.is_leaf, d.grad_fn, y._version, d._version, d._base is None
    same(fn)

    def detach_in_place(m):
        y = leaf(m, [1., 2.]) * 2
        r = y.detach_()
        return r is y, y.requires_grad, y.is_leaf, y.grad_fn
    same(detach_in_place)


def test_detached_tensor_shares_storage_but_not_history():
    def fn(m):
        x = leaf(m, [1., 2., 3., 4.])
        y = x * 2
        d = y.narrow(0, 1, 2).detach() if hasattr(y, 'narrow') else y.as_strided((2,), (1,), 1).detach()
        w = leaf(m, [5., 6.])
        d.mul_(w)
        d.sum().backward()
        return d.storage_offset(), y, w.grad, type(y.grad_fn).__name__, x.grad
    same(fn)


# ----------------------------------------------------------------------------- anomaly mode

def test_detect_anomaly_names_the_node_and_warns_with_forward_trace():
    x = ember.tensor([0., 1.], requires_grad=True)
    with pytest.warns(UserWarning):
        with ember.autograd.detect_anomaly():
            y = x / x
            with pytest.warns(UserWarning, match='(?s)Traceback of forward call.*test_autograd.py'):
                with pytest.raises(RuntimeError, match=r"Function 'DivBackward0' returned nan values in its 1th "
                                                       r"output."):
                    y.sum().backward()
    assert not ember.autograd.anomaly_mode.is_anomaly_enabled()


def test_detect_anomaly_first_output():
    def fn(m):
        x = leaf(m, [0., 1.])
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            with m.autograd.detect_anomaly():
                y = m.ones(2) / (x * x)
                y.sum().backward()
    same(fn)

    def set_mode(m):
        x = leaf(m, [0., 1.])
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            with m.autograd.set_detect_anomaly(True):
                (x / x).sum().backward()
    same(set_mode)


def test_anomaly_mode_off_lets_nan_through():
    def fn(m):
        x = leaf(m, [0., 1.])
        (x / x).sum().backward()
        return x.grad
    same(fn)


def test_accumulate_grad_node_hooks():
    def fn(m):
        x = leaf(m, [1., 2.])
        y = x * 2
        acc = y.grad_fn.next_functions[0][0]
        seen = []
        acc.register_prehook(lambda go: seen.append(('pre', go, x.grad)))
        acc.register_hook(lambda gi, go: seen.append(('post', gi, go, x.grad.clone())))
        y.sum().backward()
        return seen, type(acc).__name__, acc.variable is x
    same(fn)


def test_variable_is_a_legacy_alias():
    def fn(m):
        x = m.ones(2)
        v = m.autograd.Variable(x, requires_grad=True)
        return isinstance(x, m.autograd.Variable), v is x, v.requires_grad, v.is_leaf
    same(fn)


def test_anomaly_mode_shows_forward_trace_for_any_backward_error():
    x = ember.ones(3, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        with ember.autograd.detect_anomaly():
            y = x * 2
            z = y * y
            y.add_(1)
            with pytest.warns(UserWarning, match='(?s)Error detected in MulBackward0.*test_autograd.py'):
                with pytest.raises(RuntimeError, match='The variable in question was changed'):
                    z.sum().backward()


def test_grad_fn_class_names():
    def fn(m):
        x = leaf(m, [[1., 2.], [3., 4.]])
        results = [x.sum(), x.sum(1), x.mean(), x.mean(0, keepdim=True), x * 2, x + 1, x - x, x / 2, -x,
                   x.view(4), x.reshape(4), x.permute(1, 0), x.expand(3, 2, 2), x.clone()]
        return [type(r.grad_fn).__name__ for r in results], str(results[0].grad_fn).split(' ')[0]
    same(fn)


def test_grad_and_backward_accept_iterables_of_inputs():
    def fn(m):
        params = [leaf(m, [1., 2.]), leaf(m, [3.])]
        loss = (params[0] * params[1]).sum()
        gs = m.autograd.grad(loss, iter(params), retain_graph=True)
        loss.backward(inputs=iter(params[:1]))
        return gs, params[0].grad, params[1].grad
    same(fn)
