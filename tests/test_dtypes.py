"""dtypes and type promotion against PyTorch: promote_types, result_type, can_cast, the default dtype."""
import itertools

import numpy as np
import pytest

import ember
from tests.conftest import requires_torch, torch
from tests.test_autograd import same

pytestmark = requires_torch

NAMES = ['bool', 'uint8', 'int8', 'int16', 'int32', 'int64', 'float16', 'bfloat16', 'float32', 'float64',
         'complex64', 'complex128']


def dt(m, name):
    return getattr(m, name)


def name_of(d):
    return str(d).split('.')[-1]


@pytest.mark.parametrize('a', NAMES)
def test_promote_types_all_pairs(a):
    for b in NAMES:
        expected = name_of(torch.promote_types(dt(torch, a), dt(torch, b)))
        assert name_of(ember.promote_types(dt(ember, a), dt(ember, b))) == expected, (a, b)


@pytest.mark.parametrize('a', NAMES)
def test_can_cast_all_pairs(a):
    for b in NAMES:
        assert ember.can_cast(dt(ember, a), dt(ember, b)) == torch.can_cast(dt(torch, a), dt(torch, b)), (a, b)


def _operand(m, kind, name):
    if kind == 'tensor':
        return m.ones(2, dtype=dt(m, name))
    if kind == 'zerodim':
        return m.ones((), dtype=dt(m, name))
    return {'bool': True, 'int': 3, 'float': 2.5, 'complex': 1 + 2j}[name]


OPERANDS = ([('tensor', n) for n in NAMES] + [('zerodim', n) for n in NAMES]
            + [('scalar', n) for n in ('bool', 'int', 'float', 'complex')])


@pytest.mark.parametrize('left', OPERANDS, ids=lambda o: f'{o[0]}-{o[1]}')
def test_result_type(left):
    for right in OPERANDS:
        if left[0] == 'scalar' and right[0] == 'scalar':
            continue
        expected = torch.result_type(_operand(torch, *left), _operand(torch, *right))
        if expected is torch.complex32:
            continue  # ember has no complex32 (chalf); float16 with complex gives complex64 there
        got = ember.result_type(_operand(ember, *left), _operand(ember, *right))
        assert name_of(got) == name_of(expected), (left, right)


@pytest.mark.parametrize('pair', [('float32', 'float64'), ('int32', 'float16'), ('uint8', 'int8'),
                                  ('bool', 'int64'), ('bfloat16', 'float16'), ('int64', 'complex64')])
def test_binary_op_dtypes_follow_promotion(pair):
    a, b = pair

    def fn(m):
        x, y = m.ones(3, dtype=dt(m, a)), m.ones(3, dtype=dt(m, b))
        return [name_of(r.dtype) for r in (x + y, x * y, x - y if 'bool' not in pair else x + y,
                                           x * m.ones((), dtype=m.float64), x + 2.5, x * 2, x / y)]
    same(fn)


def test_python_scalars_do_not_upcast():
    def fn(m):
        x = m.ones(2, dtype=m.float32)
        h = m.ones(2, dtype=m.float16)
        i = m.ones(2, dtype=m.int32)
        return [name_of(t.dtype) for t in (x * 2.5, x + 3, h * 1e3, i * 2, i * 2.5, i + True, x * np.float64(2.),
                                           i / 2, x + (1 + 1j))]
    same(fn)


def test_default_dtype_affects_factories_and_division():
    def fn(m):
        prev = m.get_default_dtype()
        try:
            m.set_default_dtype(m.float64)
            out = [m.get_default_dtype(), m.tensor([1.5]).dtype, m.ones(2).dtype, m.zeros(1).dtype,
                   m.arange(0., 2.).dtype, m.tensor([1, 2]).dtype, (m.tensor([1, 2]) / m.tensor([2, 2])).dtype,
                   (m.tensor([1]) * 1.5).dtype, m.tensor(1 + 2j).dtype, m.full((2,), 1.).dtype]
        finally:
            m.set_default_dtype(prev)
        out += [m.get_default_dtype(), (m.tensor([1, 2]) / m.tensor([2, 2])).dtype, m.tensor(1 + 2j).dtype]
        return [name_of(d) for d in out]
    same(fn)


def test_set_default_dtype_rejects_non_float():
    same(lambda m: m.set_default_dtype(m.int64), message=False)


def test_dtype_attributes():
    for name in NAMES:
        e, t = dt(ember, name), dt(torch, name)
        assert e.is_floating_point == t.is_floating_point, name
        assert e.is_complex == t.is_complex, name
        assert e.is_signed == t.is_signed, name
        assert e.itemsize == t.itemsize, name
        assert repr(e) == repr(t), name
        assert str(e) == str(t), name
    assert ember.float is ember.float32 and ember.double is ember.float64 and ember.long is ember.int64
    assert ember.half is ember.float16 and ember.int is ember.int32 and ember.short is ember.int16


def test_integer_and_bool_dtypes_of_operations():
    def fn(m):
        i = m.tensor([1, 2, 3])
        b = m.tensor([True, False, True])
        u = m.tensor([1, 2, 3], dtype=m.uint8)
        return [name_of(t.dtype) for t in (i.sum(), b.sum(), u.sum(), i.mean(dtype=m.float32), b + b, u + i,
                                           u * -1, i.float(), b.long())]
    same(fn)
