"""Module hooks against torch: forward (pre-)hooks, full backward (pre-)hooks, global and registration hooks."""
import warnings

import numpy as np
import pytest

import ember
from tests.conftest import requires_torch, torch
from tests.nn.test_module import both, deterministic

pytestmark = requires_torch


def _t(lib, shape, seed, requires_grad=True):
    values = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return lib.tensor(values, requires_grad=requires_grad)


def make_add(lib, log):
    class Add(lib.nn.Module):
        def forward(self, x, y=0, *, scale=1):
            log.append(('forward', x, y, scale))
            return (x + y) * scale
    return Add()


def make_mul(lib):
    class Mul(lib.nn.Module):
        """Several inputs (one not requiring grad, one not a tensor) and two outputs."""

        def forward(self, a, b, c=None, scale=2.0):
            return a * b * scale, a + b
    return Mul()


# ----------------------------------------------------------------------------- forward hooks

def test_forward_hook_order_and_replacement():
    def fn(lib):
        log = []
        m = make_add(lib, log)
        m.register_forward_pre_hook(lambda mod, args: log.append(('pre1', len(args))))
        h2 = m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,) + args[1:])
        m.register_forward_pre_hook(lambda mod, args: log.append(('pre0', len(args))), prepend=True)
        h4 = m.register_forward_pre_hook(lambda mod, args, kw: (args, {**kw, 'scale': 10}), with_kwargs=True)
        m.register_forward_hook(lambda mod, args, out: log.append(('post', len(args), out)))
        h6 = m.register_forward_hook(lambda mod, args, out: out + 1)
        m.register_forward_hook(lambda mod, args, kw, out: log.append(('postkw', kw)), with_kwargs=True, prepend=True)
        h8 = m.register_forward_pre_hook(lambda mod, args: args[0] + 100)  # a single value becomes the args
        x = lib.ones(2)
        first = m(x, 1)
        for h in (h8, h2, h4, h6):
            h.remove()
        h6.remove()  # twice is fine
        second = m(x, y=lib.ones(2))
        with m.register_forward_hook(lambda mod, a, o: o * 0):
            third = m(x)
        fourth = m(x)
        return (first, second, third, fourth, log, type(h2).__name__, len(m._forward_hooks),
                len(m._forward_pre_hooks), len(m._forward_hooks_with_kwargs), len(m._forward_pre_hooks_with_kwargs))
    both(fn)


def test_forward_hooks_on_children_collect_features():
    def fn(lib):
        seq = deterministic(lib, lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.ReLU(), lib.nn.Linear(3, 1)))
        feats = {}
        for name, mod in seq.named_children():
            mod.register_forward_hook(lambda mod, a, o, name=name: feats.__setitem__(name, o))
        seq(lib.ones(4, 2))
        return feats
    both(fn)


def test_forward_hook_always_call():
    def fn(lib):
        log = []

        class Boom(lib.nn.Module):
            def forward(self, x):
                raise ValueError('boom')
        b = Boom()
        b.register_forward_hook(lambda mod, a, o: log.append(('always', o)), always_call=True)
        b.register_forward_hook(lambda mod, a, kw, o: log.append(('always-kw', kw)), always_call=True,
                                with_kwargs=True)
        b.register_forward_hook(lambda mod, a, o: log.append(('normal', o)))
        try:
            b(lib.ones(1))
        except ValueError as e:
            log.append(type(e).__name__)
        a = make_add(lib, log)
        a.register_forward_pre_hook(lambda mod, args: (_ for _ in ()).throw(KeyError('pre')))
        a.register_forward_hook(lambda mod, args, o: log.append('after-pre-error'), always_call=True)
        try:
            a(lib.ones(1))
        except KeyError:
            log.append('KeyError')
        ok = make_add(lib, log)
        ok.register_forward_hook(lambda mod, args, o: log.append(('once', o)), always_call=True)
        ok(lib.ones(1))
        return log
    both(fn)


def test_forward_hook_errors_and_silenced_always_call_error():
    def bad_pre(lib):
        m = make_add(lib, [])
        m.register_forward_pre_hook(lambda mod, a, kw: a, with_kwargs=True)
        return m(lib.ones(2))
    both(bad_pre)

    def silenced(lib):
        class Boom(lib.nn.Module):
            def forward(self, x):
                raise ValueError('forward')
        b = Boom()
        b.register_forward_hook(lambda *a: 1 / 0, always_call=True)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            try:
                b(lib.ones(1))
            except ValueError as e:
                err = str(e).split(': ')[-1]
        return err, [str(x.message) for x in w]
    both(silenced)


def test_global_forward_hooks():
    def fn(lib):
        mm = lib.nn.modules.module
        log = []
        g1 = mm.register_module_forward_pre_hook(lambda mod, a: log.append(('gpre', type(mod).__name__)))
        g2 = mm.register_module_forward_hook(lambda mod, a, o: log.append(('gpost', type(mod).__name__)))
        g3 = mm.register_module_forward_hook(lambda mod, a, kw, o: log.append(('gkw', kw)), with_kwargs=True)
        try:
            seq = lib.nn.Sequential(lib.nn.ReLU(), make_add(lib, log))
            seq[1].register_forward_pre_hook(lambda mod, a: log.append('localpre'))
            seq[1].register_forward_hook(lambda mod, a, o: log.append('localpost'))
            seq(lib.ones(2))
        finally:
            g1.remove(), g2.remove(), g3.remove()
        seq(lib.ones(2))
        return log
    both(fn)


def test_registration_hooks():
    def fn(lib):
        mm = lib.nn.modules.module
        log = []
        hs = [mm.register_module_buffer_registration_hook(lambda m, n, b: log.append(('buffer', n)) or b * 2),
              mm.register_module_module_registration_hook(lambda m, n, c: log.append(('module', n, type(c).__name__))),
              mm.register_module_parameter_registration_hook(lambda m, n, p: log.append(('param', n)))]
        try:
            bn = lib.nn.BatchNorm1d(2)
            seq = lib.nn.Sequential(lib.nn.ReLU())
            seq.extra = lib.nn.Tanh()
        finally:
            for h in hs:
                h.remove()
        lib.nn.Linear(1, 1)
        return log, bn.running_var
    both(fn)


# ----------------------------------------------------------------------------- backward hooks

def _grad_log(lib, module, name, log, pre=True):
    module.register_full_backward_hook(lambda mod, gi, go: log.append((name, 'hook', gi, go)))
    if pre:
        module.register_full_backward_pre_hook(lambda mod, go: log.append((name, 'pre', go)))


@pytest.mark.parametrize('input_grad', [True, False])
def test_full_backward_hooks_linear(input_grad):
    def fn(lib):
        log = []
        lin = deterministic(lib, lib.nn.Linear(3, 2))
        _grad_log(lib, lin, 'lin', log)
        x = _t(lib, (4, 3), 0, requires_grad=input_grad)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            lin(x).pow(2).sum().backward()
        return log, x.grad, lin.weight.grad, [str(m.message)[:40] for m in w]
    both(fn, rtol=1e-5, atol=1e-5)


def test_full_backward_hooks_conv2d():
    def fn(lib):
        log = []
        conv = deterministic(lib, lib.nn.Conv2d(2, 3, 2))
        _grad_log(lib, conv, 'conv', log)
        x = _t(lib, (1, 2, 4, 4), 1)
        (conv(x) ** 2).sum().backward()
        return log, x.grad
    both(fn, rtol=1e-4, atol=1e-5)


def test_full_backward_hooks_sequential_and_children():
    def fn(lib):
        log = []
        seq = deterministic(lib, lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2)))
        _grad_log(lib, seq, 'seq', log, pre=False)
        _grad_log(lib, seq[0], 's0', log, pre=False)
        seq[2].register_full_backward_pre_hook(lambda mod, go: log.append(('s2', 'pre', go)))
        x = _t(lib, (2, 3), 2)
        (seq(x) * lib.tensor([1.0, 2.0])).sum().backward()
        return log
    both(fn)


def test_full_backward_hooks_several_inputs_and_outputs():
    def fn(lib):
        log = []
        mul = make_mul(lib)
        _grad_log(lib, mul, 'mul', log)
        a, b = _t(lib, (3,), 3), _t(lib, (3,), 4, requires_grad=False)
        o1, o2 = mul(a, b, 5, scale=3.0)
        (o1 * 2 + o2).sum().backward()
        a, b = _t(lib, (3,), 5), _t(lib, (3,), 6)
        o1, o2 = mul(a, b)
        o1.sum().backward()  # o2 gets no gradient: None in grad_output
        return log, a.grad, b.grad
    both(fn)


def test_full_backward_hooks_kwargs_and_identity():
    def fn(lib):
        log = []

        class K(lib.nn.Module):
            def forward(self, a, *, b):
                return a * b

        class Id(lib.nn.Module):
            def forward(self, a):
                return a
        k, i = K(), Id()
        _grad_log(lib, k, 'k', log, pre=False)
        _grad_log(lib, i, 'id', log, pre=False)
        a, b = _t(lib, (2,), 7), _t(lib, (2,), 8)
        k(a, b=b).sum().backward()
        (i(a) * 3).sum().backward()
        return log, a.grad, b.grad
    both(fn)


def test_backward_hook_return_values_replace_gradients():
    def fn(lib):
        log = []
        lin = deterministic(lib, lib.nn.Linear(3, 2))
        lin.register_full_backward_pre_hook(lambda m, go: (go[0] * 10,))
        lin.register_full_backward_hook(lambda m, gi, go: log.append(('after-pre', go)))
        lin.register_full_backward_hook(lambda m, gi, go: (gi[0] + 1,))
        lin.register_full_backward_hook(lambda m, gi, go: log.append(('after-replace', gi)), prepend=False)
        x = _t(lib, (2, 3), 9)
        lin(x).sum().backward()
        return log, x.grad, lin.weight.grad, lin.bias.grad
    both(fn)


@pytest.mark.parametrize('case', ['hook_count', 'pre_count', 'no_input_grad_value', 'inplace_output',
                                  'mixed_hook_kinds', 'mixed_hook_kinds_reverse'])
def test_backward_hook_errors(case):
    def fn(lib):
        lin = lib.nn.Linear(3, 2)
        x = _t(lib, (2, 3), 10)
        if case == 'hook_count':
            lin.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
        elif case == 'pre_count':
            lin.register_full_backward_pre_hook(lambda m, go: (go[0], go[0]))
        elif case == 'no_input_grad_value':
            lin.register_full_backward_hook(lambda m, gi, go: (lib.ones(1),))
            x = x.detach()
        elif case == 'inplace_output':
            lin.register_full_backward_hook(lambda m, gi, go: None)
            return lin(x).relu_()
        elif case == 'mixed_hook_kinds':
            lin.register_full_backward_hook(lambda m, gi, go: None)
            return lin.register_backward_hook(lambda m, gi, go: None)
        elif case == 'mixed_hook_kinds_reverse':
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                lin.register_backward_hook(lambda m, gi, go: None)
            return lin.register_full_backward_hook(lambda m, gi, go: None)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            lin(x).sum().backward()
    both(fn)


def test_backward_hook_removal_and_no_grad():
    def fn(lib):
        log = []
        lin = lib.nn.Linear(3, 2)
        h = lin.register_full_backward_hook(lambda m, gi, go: log.append('hook'))
        p = lin.register_full_backward_pre_hook(lambda m, go: log.append('pre'))
        h.remove()
        p.remove()
        lin(_t(lib, (2, 3), 11)).sum().backward()
        lin.register_full_backward_hook(lambda m, gi, go: log.append('hook'))
        with lib.no_grad():
            out = lin(_t(lib, (2, 3), 11))
        frozen = lib.nn.Linear(3, 2).requires_grad_(False)
        frozen.register_full_backward_hook(lambda m, gi, go: log.append('frozen'))
        return log, len(lin._backward_hooks), out.requires_grad, frozen(_t(lib, (2, 3), 1, False)).requires_grad
    both(fn)


def test_backward_hook_captured_at_forward_time():
    def fn(lib):
        log = []
        lin = deterministic(lib, lib.nn.Linear(2, 1))
        h = lin.register_full_backward_hook(lambda m, gi, go: log.append(('hook', go)))
        out = lin(_t(lib, (1, 2), 12))
        h.remove()  # the call already holds its hooks
        out.sum().backward()
        return log
    both(fn)


def test_global_backward_hooks():
    def fn(lib):
        mm = lib.nn.modules.module
        log = []
        g = mm.register_module_full_backward_hook(lambda m, gi, go: log.append(('global', type(m).__name__, gi, go)))
        gp = mm.register_module_full_backward_pre_hook(lambda m, go: log.append(('gpre', type(m).__name__, go)))
        try:
            seq = deterministic(lib, lib.nn.Sequential(lib.nn.Linear(2, 1), lib.nn.Sigmoid()))
            seq(_t(lib, (1, 2), 13)).sum().backward()
        finally:
            g.remove(), gp.remove()
        seq(_t(lib, (1, 2), 13)).sum().backward()
        return log
    both(fn)


def test_backward_hook_output_not_tensor_warns():
    def fn(lib):
        class Lst(lib.nn.Module):
            def forward(self, x):
                return [x * 2]
        m = Lst()
        log = []
        m.register_full_backward_hook(lambda mod, gi, go: log.append('hook'))
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            out = m(_t(lib, (2,), 14))
        out[0].sum().backward()
        return log, [str(x.message) for x in w]
    both(fn)


def test_legacy_backward_hook_runs():
    """``register_backward_hook`` hooks the output's last node; its tuples follow that node (not compared)."""
    log = []
    lin = ember.nn.Linear(3, 2)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        lin.register_backward_hook(lambda m, gi, go: log.append((len(gi), go[0].shape)))
        lin(_t(ember, (4, 3), 15)).sum().backward()
    assert log and log[0][1] == (4, 2)


def test_custom_function_view_outputs_refuse_inplace():
    """The rule behind the in-place error on hooked outputs: views made in a custom Function are read-only."""
    def fn(lib):
        class Half(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return (x * 2)[0:1]

            @staticmethod
            def backward(ctx, g):
                return lib.cat([g, g * 0]) * 2

        class Same(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, g):
                return g
        out = []
        for fn_cls, x in ((Half, lib.ones(2, requires_grad=True)), (Same, lib.ones(2, requires_grad=True) * 1),
                          (Same, lib.ones(2))):
            y = fn_cls.apply(x)
            try:
                y.relu_()
                out.append('ok')
            except RuntimeError as e:
                out.append(str(e))
        return out
    both(fn)
