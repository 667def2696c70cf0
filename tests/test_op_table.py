"""Generic tests over the whole op table: every entry with samples is checked against PyTorch.

For each op: forward values and dtypes, gradients (float32) against torch's,
float64 gradcheck, gradgradcheck, non-contiguous inputs, mixed dtypes and the
error samples.  Adding an op with samples adds it to every test here.
"""
import numpy as np
import pytest

import ember
from ember.ops import TABLE
from tests.conftest import requires_torch, torch
from tests.op_harness import assert_same, make_maker, resolve, to_module

OPS = [op for op in TABLE.values() if op.samples is not None and op.public]
OP_IDS = [op.name for op in OPS]


def _samples(op, seed=0):
    return op.samples(make_maker(seed))


def _call(module, op, sample, dtype=None, requires_grad=False, noncontig=False):
    public = op.public
    if module is not ember and op.torch_public:
        public = op.torch_public
    fn = resolve(module, public)
    args = [to_module(a, module, dtype, requires_grad, noncontig) for a in sample.args]
    kwargs = {k: to_module(v, module, dtype, requires_grad, noncontig) for k, v in sample.kwargs.items()}
    kwargs = {k: _convert_dtype_arg(v, module) for k, v in kwargs.items()}
    args = [_convert_dtype_arg(a, module) for a in args]
    return fn(*args, **kwargs), args, kwargs


def _convert_dtype_arg(v, module):
    if isinstance(v, ember.dtype):
        return getattr(module, v.name)
    return v


def _tensor_inputs(args, kwargs):
    found = []
    for a in list(args) + list(kwargs.values()):
        items = a if isinstance(a, (list, tuple)) else [a]
        for x in items:
            if hasattr(x, 'requires_grad') and getattr(x, 'requires_grad', False):
                found.append(x)
    return found


def _diff_outputs(out):
    outs = out if isinstance(out, (tuple, list)) else [out]
    res = []
    for o in outs:
        if hasattr(o, 'requires_grad') and o.requires_grad:
            res.append(o)
    return res


@requires_torch
@pytest.mark.parametrize('op', OPS, ids=OP_IDS)
def test_forward_matches_torch(op):
    for sample in _samples(op):
        ours, _, _ = _call(ember, op, sample)
        ref, _, _ = _call(torch, op, sample)
        assert_same(ours, ref, rtol=op.rtol or 1.3e-6, atol=op.atol or 1e-5, what=f'{op.name} {sample}')


@requires_torch
@pytest.mark.parametrize('op', OPS, ids=OP_IDS)
def test_noncontiguous_inputs(op):
    for sample in _samples(op):
        ours, _, _ = _call(ember, op, sample, noncontig=True)
        ref, _, _ = _call(torch, op, sample, noncontig=True)
        assert_same(ours, ref, rtol=op.rtol or 1.3e-6, atol=op.atol or 1e-5, what=f'{op.name} {sample}')


def _grad_samples(op):
    if op.backward is None and op.forward is not None:
        return []
    if not op.gradcheck:
        return []
    return [s for s in _samples(op) if s.grad]


@requires_torch
@pytest.mark.parametrize('op', OPS, ids=OP_IDS)
def test_gradients_match_torch(op):
    samples = _grad_samples(op)
    if not samples:
        pytest.skip('not differentiable')
    rng = np.random.default_rng(1)
    for sample in samples:
        ours, e_args, e_kwargs = _call(ember, op, sample, requires_grad=True)
        ref, t_args, t_kwargs = _call(torch, op, sample, requires_grad=True)
        e_in, t_in = _tensor_inputs(e_args, e_kwargs), _tensor_inputs(t_args, t_kwargs)
        e_out, t_out = _diff_outputs(ours), _diff_outputs(ref)
        assert len(e_out) == len(t_out), f'{op.name}: differentiable outputs differ from torch'
        if not e_out or not e_in:
            continue
        weights = [rng.standard_normal(tuple(o.shape)).astype(np.float32) for o in t_out]
        e_grads = ember.autograd.grad(e_out, e_in, [ember.tensor(w) for w in weights], allow_unused=True)
        t_grads = torch.autograd.grad(t_out, t_in, [torch.tensor(w) for w in weights], allow_unused=True)
        t_grads = [g if g is not None else torch.zeros_like(x) for g, x in zip(t_grads, t_in)]
        e_grads = [g if g is not None else ember.zeros_like(x) for g, x in zip(e_grads, e_in)]
        assert_same(e_grads, t_grads, rtol=op.rtol or 1e-5, atol=op.atol or 1e-5, what=f'grad {op.name} {sample}')


@pytest.mark.parametrize('op', OPS, ids=OP_IDS)
def test_gradcheck_float64(op):
    samples = _grad_samples(op)
    if not samples:
        pytest.skip('not differentiable')
    for sample in samples:
        _, args, kwargs = _call(ember, op, sample, dtype=np.float64, requires_grad=True)
        inputs = _tensor_inputs(args, kwargs)
        if not inputs or any(x.numel() == 0 for x in inputs):
            continue
        fn = _rebinder(op, args, kwargs, inputs)
        assert ember.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3), f'{op.name} {sample}'


@pytest.mark.parametrize('op', OPS, ids=OP_IDS)
def test_gradgradcheck_float64(op):
    samples = _grad_samples(op)
    if not samples or not op.gradgradcheck or op.once_differentiable:
        pytest.skip('not twice differentiable')
    for sample in samples[:3]:
        _, args, kwargs = _call(ember, op, sample, dtype=np.float64, requires_grad=True)
        inputs = _tensor_inputs(args, kwargs)
        if not inputs or any(x.numel() == 0 for x in inputs):
            continue
        fn = _rebinder(op, args, kwargs, inputs)
        assert ember.autograd.gradgradcheck(fn, inputs, eps=1e-6, atol=1e-4, rtol=1e-3), f'{op.name} {sample}'


def _rebinder(op, args, kwargs, inputs):
    """A function of the differentiable inputs that calls the op with the other arguments fixed."""
    fn = resolve(ember, op.public)
    ids = [id(x) for x in inputs]

    def swap(v, new):
        if isinstance(v, list):
            return [swap(x, new) for x in v]
        if isinstance(v, tuple) and any(id(x) in ids for x in v):
            return tuple(swap(x, new) for x in v)
        if id(v) in ids:
            return new[ids.index(id(v))]
        return v

    def call(*new):
        return fn(*[swap(a, new) for a in args], **{k: swap(v, new) for k, v in kwargs.items()})
    return call


MIXED = [('int64', 'float32'), ('int32', 'float64'), ('float16', 'float32'), ('bool', 'int64'), ('uint8', 'int8'),
         ('float32', 'complex64'), ('int16', 'float16'), ('float64', 'float32')]


@requires_torch
@pytest.mark.parametrize('op', [op for op in OPS if op.promote], ids=[op.name for op in OPS if op.promote])
def test_mixed_dtypes_follow_torch_promotion(op):
    make = make_maker(2)
    sample = _samples(op)[0]
    arrays = [i for i, a in enumerate(sample.args) if isinstance(a, np.ndarray)]
    if len(arrays) < 2:
        pytest.skip('fewer than two tensor inputs')
    for d1, d2 in MIXED:
        args = list(sample.args)
        args[arrays[0]] = make(args[arrays[0]].shape, d1, low=1, high=3)
        args[arrays[1]] = make(args[arrays[1]].shape, d2, low=1, high=3)
        for zero_dim in (False, True):
            if zero_dim:
                args[arrays[1]] = np.asarray(args[arrays[1]].reshape(-1)[:1].reshape(()))
            s = type(sample)(*args, **sample.kwargs)
            try:
                ref, _, _ = _call(torch, op, s)
            except Exception as exc:  # torch refuses: ember must refuse too
                with pytest.raises(Exception):
                    _call(ember, op, s)
                continue
            ours, _, _ = _call(ember, op, s)
            assert_same(ours, ref, rtol=1e-3, atol=1e-3, what=f'{op.name} {d1},{d2} zero_dim={zero_dim}')


@requires_torch
@pytest.mark.parametrize('op', [op for op in OPS if op.error_samples],
                         ids=[op.name for op in OPS if op.error_samples])
def test_errors_match_torch(op):
    for err in op.error_samples(make_maker(3)):
        s = type('S', (), {'args': err.args, 'kwargs': err.kwargs})
        with pytest.raises(err.error) as ours:
            _call(ember, op, s)
        with pytest.raises(err.error):
            _call(torch, op, s)
        if err.match:
            import re
            assert re.search(err.match, str(ours.value)), f'{op.name}: message {str(ours.value)!r}'


def test_every_op_has_a_rule_or_says_why():
    for op in TABLE.values():
        if op.forward is None or op.name in ('to_device',):
            continue
        floaty = op.dtypes in ('float', 'all', 'numeric')
        assert op.backward is not None or not floaty or op.gradcheck is False, \
            f"op {op.name} has no derivative rule; mark it gradcheck=False if it is not differentiable"
