"""Indexing against PyTorch: ``x[index]``, ``x[index] = value`` and the gather/scatter/index/masked ops.

Each case is written once as a function of the module (ember or torch) and run in both;
values, shapes, dtypes, strides and storage offsets of views, gradients and version
counters must agree.
"""
import warnings

import numpy as np
import pytest

import ember
from tests.conftest import requires_torch, torch
from tests.op_harness import assert_same

pytestmark = requires_torch

RNG = np.random.default_rng(0)
BASE = RNG.standard_normal((4, 5, 6)).astype(np.float32)


def _tensor(m, array, requires_grad=False):
    t = m.tensor(array)
    return t.requires_grad_(True) if requires_grad else t


def _i(m, values, dtype='int64'):
    return m.tensor(np.asarray(values, dtype=dtype))


def _mask(m, shape, seed=1):
    return m.tensor(np.random.default_rng(seed).random(shape) > 0.5)


# ----------------------------------------------------------------------------- getitem

BASIC = {
    'int': lambda m: 1,
    'neg_int': lambda m: -1,
    'int_int': lambda m: (2, -3),
    'int_int_int': lambda m: (3, 4, 5),
    'slice': lambda m: slice(1, 3),
    'slice_step': lambda m: (slice(None), slice(0, 5, 2)),
    'slice_past_end': lambda m: slice(2, 99),
    'empty_slice': lambda m: (slice(None), slice(3, 3)),
    'slice_beyond': lambda m: slice(7, None),
    'ellipsis': lambda m: Ellipsis,
    'ellipsis_int': lambda m: (Ellipsis, 2),
    'int_ellipsis_int': lambda m: (1, Ellipsis, 2),
    'none': lambda m: None,
    'none_mid': lambda m: (slice(None), None),
    'none_end': lambda m: (Ellipsis, None),
    'none_int': lambda m: (None, 1),
    'int_none': lambda m: (1, None),
    'mix': lambda m: (1, None, slice(None, None, 2), None, -1),
    'empty_tuple': lambda m: (),
    'full_slices': lambda m: (slice(None), slice(None)),
    'zero_dim_tensor': lambda m: m.tensor(2),
    'zero_dim_tensor_pair': lambda m: (m.tensor(1), slice(1, None), m.tensor(-2)),
    'numpy_int': lambda m: (np.int64(1), 2),
    'list_with_slice': lambda m: [0, slice(1, 3)],
}

ADVANCED = {
    'list': lambda m: [0, 2, 2],
    'empty_list': lambda m: [],
    'tensor': lambda m: _i(m, [3, 0, -1]),
    'tensor_2d': lambda m: _i(m, [[1, 0], [2, 3]]),
    'int32_tensor': lambda m: _i(m, [1, 3], 'int32'),
    'two_tensors': lambda m: (_i(m, [0, 1, 2]), _i(m, [4, 3, 2])),
    'broadcast_tensors': lambda m: (_i(m, [[0], [3]]), _i(m, [1, 2, 0])),
    'adjacent_after_slice': lambda m: (slice(None), _i(m, [0, 4]), _i(m, [5, 1])),
    'separated_by_slice': lambda m: (_i(m, [0, 3]), slice(1, 4), _i(m, [5, 1])),
    'int_then_tensor': lambda m: (0, slice(None), _i(m, [1, 2])),
    'tensor_then_int': lambda m: (_i(m, [1, 2]), slice(None), 3),
    'int_and_tensor_separated': lambda m: (1, _i(m, [1, 2]), slice(None)),
    'ellipsis_tensor': lambda m: (Ellipsis, _i(m, [0, 0, 5])),
    'none_and_tensor': lambda m: (None, _i(m, [1]), None, slice(1, 3)),
    'mask_full': lambda m: _mask(m, (4, 5, 6)),
    'mask_leading': lambda m: _mask(m, (4, 5)),
    'mask_middle': lambda m: (slice(None), _mask(m, (5,))),
    'mask_and_tensor': lambda m: (_mask(m, (4,)), slice(None), _i(m, [0])),
    'bool_list': lambda m: [True, False, True, True],
    'python_true': lambda m: True,
    'python_false': lambda m: (Ellipsis, False),
    'zero_dim_bool_tensor': lambda m: m.tensor(True),
    'nested_list_as_tuple': lambda m: [[0, 1], [1, 0]],
    'uint8_mask': lambda m: (m.tensor(np.array([1, 0, 1, 0], np.uint8)),),
}


def _getitem_both(index_fn, array=BASE, requires_grad=True):
    outs = []
    for m in (ember, torch):
        x = _tensor(m, array, requires_grad)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            outs.append((x, x[index_fn(m)]))
    return outs


def _check_grads(ours, ref, ex, tx):
    weight = RNG.standard_normal(tuple(ref.shape)).astype(np.float32)
    (ours * ember.tensor(weight)).sum().backward()
    (ref * torch.tensor(weight)).sum().backward()
    assert_same(ex.grad, tx.grad, what='grad')


@pytest.mark.parametrize('name', list(BASIC))
def test_basic_getitem_is_a_view_like_torch(name):
    (ex, ours), (tx, ref) = _getitem_both(BASIC[name])
    assert_same(ours, ref)
    assert ours.stride() == ref.stride(), f'strides {ours.stride()} vs torch {ref.stride()}'
    assert ours.storage_offset() == ref.storage_offset()
    assert ours._base is ex  # shares storage with the indexed tensor
    assert ours.grad_fn is not None
    _check_grads(ours, ref, ex, tx)


@pytest.mark.parametrize('name', list(BASIC))
def test_basic_getitem_of_a_noncontiguous_view(name):
    outs = []
    for m in (ember, torch):
        x = _tensor(m, np.ascontiguousarray(BASE.transpose(2, 0, 1))).permute(1, 2, 0)
        outs.append(x[BASIC[name](m)])
    assert_same(outs[0], outs[1])
    assert outs[0].stride() == outs[1].stride()
    assert outs[0].storage_offset() == outs[1].storage_offset()


def test_getitem_writes_through_the_view():
    x = ember.zeros(3, 4)
    v = x[1, 1:3]
    v.add_(2)
    assert x.numpy()[1].tolist() == [0, 2, 2, 0]
    assert x._version == v._version


def test_grad_fn_names_follow_torch():
    x = ember.zeros(2, 3, 4, requires_grad=True).clone()
    t = torch.zeros(2, 3, 4, requires_grad=True).clone()
    for idx in [0, slice(1, None), None, Ellipsis, (0, slice(None)), (slice(None), 0), (Ellipsis, None),
                [0, 1], (slice(None), [1, 2])]:
        assert x[idx].grad_fn.name() == type(t[idx].grad_fn).__name__, idx


@pytest.mark.parametrize('name', list(ADVANCED))
def test_advanced_getitem_matches_torch(name):
    (ex, ours), (tx, ref) = _getitem_both(ADVANCED[name])
    assert_same(ours, ref)
    assert ours._base is None  # advanced indexing copies
    if ref.numel():
        _check_grads(ours, ref, ex, tx)


def test_advanced_getitem_accumulates_repeated_indices():
    for m in (ember, torch):
        x = m.ones(5, requires_grad=True)
        x[m.tensor([1, 1, 1, 4])].sum().backward()
        assert x.grad.tolist() == [0, 3, 0, 0, 1]


@pytest.mark.parametrize('dtype', ['int64', 'int32', 'bool', 'float64', 'uint8', 'complex64'])
def test_getitem_keeps_dtype(dtype):
    array = (RNG.standard_normal((3, 4)) * 3).astype(dtype)
    for idx in [1, (slice(None), 2), [0, 2], (Ellipsis, None)]:
        ours = _tensor(ember, array)[idx]
        ref = _tensor(torch, array)[idx]
        assert_same(ours, ref)


def test_getitem_zero_dim_and_empty():
    for idx in [None, Ellipsis, (), True, False, (None, None)]:
        assert_same(ember.tensor(3.5)[idx], torch.tensor(3.5)[idx])
    for idx in [slice(None), 0, (slice(None), []), [True, False, True]]:
        e, t = ember.zeros(3, 0)[idx], torch.zeros(3, 0)[idx]
        assert_same(e, t)


GETITEM_ERRORS = [
    (lambda m: 3, IndexError, 'index 3 is out of bounds for dimension 0 with size 3'),
    (lambda m: -4, IndexError, 'index -4 is out of bounds for dimension 0 with size 3'),
    (lambda m: (0, 4), IndexError, 'index 4 is out of bounds for dimension 0 with size 4'),
    (lambda m: (slice(None), 4), IndexError, 'index 4 is out of bounds for dimension 1 with size 4'),
    (lambda m: slice(None, None, -1), ValueError, 'step must be greater than zero'),
    (lambda m: (0, 0, 0), IndexError, 'too many indices for tensor of dimension 2'),
    (lambda m: _i(m, [5]), IndexError, 'index 5 is out of bounds for dimension 0 with size 3'),
    (lambda m: _mask(m, (4,)), IndexError,
     r'The shape of the mask \[4\] at index 0 does not match the shape of the indexed tensor \[3, 4\] at index 0'),
    (lambda m: (_i(m, [0, 1]), _i(m, [0, 1, 2])), IndexError,
     r'shape mismatch: indexing tensors could not be broadcast together with shapes \[2\], \[3\]'),
    (lambda m: m.tensor([1.0]), IndexError, 'tensors used as indices must be long, int, byte or bool tensors'),
    (lambda m: _i(m, [1], 'int16'), IndexError, 'tensors used as indices must be long, int, byte or bool tensors'),
    (lambda m: 1.5, IndexError, 'only integers, slices'),
]


@pytest.mark.parametrize('case', range(len(GETITEM_ERRORS)))
def test_getitem_errors_match_torch(case):
    index_fn, error, match = GETITEM_ERRORS[case]
    with pytest.raises(error):
        torch.zeros(3, 4)[index_fn(torch)]
    with pytest.raises(error, match=match):
        ember.zeros(3, 4)[index_fn(ember)]


# ----------------------------------------------------------------------------- setitem

SET_INDICES = {**{k: BASIC[k] for k in ('int', 'int_int', 'slice_step', 'ellipsis_int', 'none_mid', 'mix',
                                         'zero_dim_tensor', 'empty_slice')},
               **{k: ADVANCED[k] for k in ('list', 'tensor_2d', 'two_tensors', 'separated_by_slice',
                                            'int_then_tensor', 'mask_full', 'mask_leading', 'mask_middle',
                                            'python_true', 'none_and_tensor')}}


def _value_for(m, shape, kind, requires_grad=False):
    if kind == 'scalar':
        return 2.5
    if kind == 'int_scalar':
        return 7
    if kind == 'zero_dim':
        return _tensor(m, np.float32(-1.25), requires_grad)
    if kind == 'broadcast':  # the last dim only, plus a leading 1 PyTorch strips
        last = shape[-1] if shape else 1
        return _tensor(m, np.linspace(-1, 1, last, dtype=np.float32).reshape(1, last) if shape else
                       np.float32(0.5), requires_grad)
    return _tensor(m, np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape) / 7, requires_grad)


@pytest.mark.parametrize('kind', ['scalar', 'int_scalar', 'zero_dim', 'broadcast', 'full'])
@pytest.mark.parametrize('name', list(SET_INDICES))
def test_setitem_matches_torch(name, kind):
    index_fn = SET_INDICES[name]
    shape = tuple(torch.tensor(BASE)[index_fn(torch)].shape)
    results = []
    for m in (ember, torch):
        leaf = _tensor(m, BASE, True)
        x = leaf * 1
        value = _value_for(m, shape, kind, requires_grad=True)
        before = x._version
        x[index_fn(m)] = value
        assert x._version > before
        weight = m.tensor(np.linspace(-2, 2, BASE.size, dtype=np.float32).reshape(BASE.shape))
        (x * weight).sum().backward()
        vgrad = value.grad if isinstance(value, (ember.Tensor, torch.Tensor)) else None
        results.append((x, leaf.grad, vgrad))
    (x_e, g_e, v_e), (x_t, g_t, v_t) = results
    assert_same(x_e, x_t, what='value')
    assert_same(g_e, g_t, what='grad of input')
    assert_same(v_e, v_t, what='grad of value')


@pytest.mark.parametrize('name', list(SET_INDICES))
def test_setitem_without_grad_and_dtypes(name):
    index_fn = SET_INDICES[name]
    for dtype in ('int64', 'float64', 'bool'):
        array = (BASE * 3).astype(dtype)
        e, t = _tensor(ember, array), _tensor(torch, array)
        e[index_fn(ember)] = 1
        t[index_fn(torch)] = 1
        assert_same(e, t)
    e, t = _tensor(ember, BASE.astype(np.int64)), _tensor(torch, BASE.astype(np.int64))
    e[1] = 2.7  # cast to the tensor's dtype
    t[1] = 2.7
    assert_same(e, t)
    e[0] = ember.tensor([1.9] * 6)  # a basic index copies with a cast
    t[0] = torch.tensor([1.9] * 6)
    assert_same(e, t)


def test_setitem_through_a_view_rewrites_history():
    results = []
    for m in (ember, torch):
        a = _tensor(m, BASE, True)
        x = a * 2
        row = x[1]
        row[2:4] = _tensor(m, np.ones((2, 6), np.float32))
        row[[0, 0]] = row[[0, 0]] * 3
        (x ** 2).sum().backward()
        results.append((x, a.grad))
    assert_same(results[0], results[1])


def test_setitem_refuses_a_leaf_that_requires_grad():
    x = ember.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match='a view of a leaf Variable that requires grad'):
        x[0] = 1
    with pytest.raises(RuntimeError, match='leaf Variable that requires grad'):
        x[[0, 1]] = 1
    with ember.no_grad():
        x[0] = 1
        x[[1]] = 2
    assert x.tolist() == [1, 2, 0]


def test_setitem_saved_tensor_version_check():
    a = ember.ones(3, requires_grad=True)
    x = a * 1
    y = x * x  # saves x
    x[0] = 5
    with pytest.raises(RuntimeError, match='modified by an inplace operation'):
        y.sum().backward()


def test_setitem_into_expanded_tensor_refuses():
    x = ember.zeros(3).expand(2, 3)
    with pytest.raises(RuntimeError, match='more than one element of the written-to tensor'):
        x[0] = 1


SETITEM_ERRORS = [
    (lambda m: (0, m.ones(2, 6)), RuntimeError, 'must be greater or equal to the number of dimensions'),
    (lambda m: (0, m.ones(4)), RuntimeError, r'The expanded size of the tensor \(6\) must match the existing size '
                                             r'\(4\) at non-singleton dimension 0'),
    (lambda m: ([0, 1], m.ones(3, 6)), RuntimeError, r'shape mismatch: value tensor of shape \[3, 6\] cannot be '
                                                     r'broadcast to indexing result of shape \[2, 6\]'),
    (lambda m: ([0], m.ones(6, dtype=m.float64)), RuntimeError,
     'Index put requires the source and destination dtypes match, got Float for the destination and Double'),
    (lambda m: (0, [1.0] * 6), TypeError, "can't assign a list to a torch.FloatTensor"),
    (lambda m: (0, 1 + 2j), RuntimeError, 'value cannot be converted to type float without overflow'),
]


@pytest.mark.parametrize('case', range(len(SETITEM_ERRORS)))
def test_setitem_errors_match_torch(case):
    fn, error, match = SETITEM_ERRORS[case]
    with pytest.raises(error):
        index, value = fn(torch)
        torch.zeros(4, 6)[index] = value
    with pytest.raises(error, match=match):
        index, value = fn(ember)
        ember.zeros(4, 6)[index] = value


# ----------------------------------------------------------------------------- the ops, methods and in-place forms

def _both(fn):
    outs = []
    for m in (ember, torch):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            outs.append(fn(m))
    return outs


INPLACE_CASES = {
    'scatter_': lambda m, x: x.scatter_(1, _i(m, [[4], [0]]), -3.0),
    'scatter_add_': lambda m, x: x.scatter_add_(0, _i(m, [[1, 1, 1]]), _tensor(m, BASE[2, :1, :3])),
    'scatter_reduce_': lambda m, x: x.scatter_reduce_(0, _i(m, [[1, 1, 1], [1, 0, 0]]), _tensor(m, BASE[2, :2, :3]),
                                                      'amax', include_self=False),
    'index_add_': lambda m, x: x.index_add_(0, _i(m, [1, 1]), _tensor(m, BASE[1, :2]), alpha=2),
    'index_copy_': lambda m, x: x.index_copy_(1, _i(m, [3, 0]), _tensor(m, BASE[1, :, :2])),
    'index_fill_': lambda m, x: x.index_fill_(1, _i(m, [3, 0]), -1.0),
    'index_put_': lambda m, x: x.index_put_((_i(m, [0, 0]), _i(m, [1, 1])), _tensor(m, np.float32(2.0)),
                                            accumulate=True),
    'masked_fill_': lambda m, x: x.masked_fill_(_mask(m, (6,)), 0.5),
    'masked_scatter_': lambda m, x: x.masked_scatter_(_mask(m, (5, 6)), _tensor(m, BASE[1])),
    'put_': lambda m, x: x.put_(_i(m, [0, -1, 7]), _tensor(m, BASE[1, 0, :3])),
}

OP_CASES = {
    'gather': lambda m: _tensor(m, BASE[0]).gather(1, _i(m, [[0, 0], [5, 1], [2, 2], [3, 4], [1, 1]])),
    'take_along_dim': lambda m: m.take_along_dim(_tensor(m, BASE[0]), _i(m, [[0], [-1], [2], [3], [4]]), dim=1),
    'scatter_src': lambda m: _tensor(m, BASE[0]).scatter(0, _i(m, [[4, 0, 1]]), _tensor(m, BASE[1, :1, :3])),
    'scatter_value': lambda m: _tensor(m, BASE[0]).scatter(1, _i(m, [[4], [0]]), value=9.0),
    'scatter_reduce_add': lambda m: _tensor(m, BASE[0]).scatter(1, _i(m, [[4, 4], [0, 0]]),
                                                              _tensor(m, BASE[1, :2, :2]), reduce='add'),
    'scatter_reduce_mul': lambda m: _tensor(m, BASE[0]).scatter(1, _i(m, [[4, 4], [0, 0]]), 2.0, reduce='multiply'),
    'index_select': lambda m: m.index_select(_tensor(m, BASE), 2, _i(m, [5, 0, 5])),
    'index_add': lambda m: m.index_add(_tensor(m, BASE[0]), 1, _i(m, [5, 5]), _tensor(m, BASE[1, :, :2])),
    'index_copy': lambda m: _tensor(m, BASE[0]).index_copy(0, _i(m, [4]), _tensor(m, BASE[1, :1])),
    'index_fill': lambda m: m.index_fill(_tensor(m, BASE[0]), 0, _i(m, 2), m.tensor(3.0)),
    'index_put': lambda m: m.index_put(_tensor(m, BASE[0]), (_mask(m, (5,)),), _tensor(m, np.float32(2.0))),
    'masked_fill': lambda m: m.masked_fill(_tensor(m, BASE[0]), _mask(m, (2, 5, 6)), m.tensor(1.5)),
    'masked_scatter': lambda m: _tensor(m, BASE[0, 0]).masked_scatter(_mask(m, (3, 6)), _tensor(m, BASE[1])),
    'masked_select': lambda m: m.masked_select(_tensor(m, BASE[0]), _mask(m, (6,))),
    'put': lambda m: _tensor(m, BASE[0]).put(_i(m, [1, 1]), _tensor(m, BASE[1, 0, :2]), accumulate=True),
    'take': lambda m: m.take(_tensor(m, BASE[0]), _i(m, [[0, -1], [7, 7]])),
    'nonzero': lambda m: m.nonzero(_tensor(m, BASE[0] > 0)),
    'nonzero_tuple': lambda m: m.nonzero(_tensor(m, BASE[0] > 0), as_tuple=True),
    'nonzero_zero_dim': lambda m: (m.tensor(1.0).nonzero(), m.tensor(0.0).nonzero(as_tuple=True)),
    'argwhere': lambda m: m.argwhere(_tensor(m, BASE[0] > 0)),
    'where_one_arg': lambda m: m.where(_tensor(m, BASE[0] > 0)),
}


@pytest.mark.parametrize('name', list(OP_CASES))
def test_ops_match_torch(name):
    ours, ref = _both(OP_CASES[name])
    assert_same(ours, ref)


@pytest.mark.parametrize('name', list(INPLACE_CASES))
def test_inplace_ops_match_torch_bump_version_and_return_self(name):
    results = []
    for m in (ember, torch):
        x = _tensor(m, BASE[0])
        out = INPLACE_CASES[name](m, x)
        assert out is x and x._version == 1
        results.append(x)
    assert_same(results[0], results[1])


def test_inplace_op_gradients_through_a_view():
    results = []
    for m in (ember, torch):
        a = _tensor(m, BASE[0], True)
        src = _tensor(m, BASE[1, :2], True)
        x = a * 1
        x[1:3].index_add_(1, _i(m, [0, 0, 5, 1, 2, 3]), src, alpha=0.5)
        x.masked_fill_(_mask(m, (6,)), 2.0)
        x.scatter_add_(0, _i(m, [[4, 4, 0]]), src[:1, :3])
        (x * x).sum().backward()
        results.append((x, a.grad, src.grad))
    assert_same(results[0], results[1])


def test_scatter_reduce_gradients_with_zeros_and_ties():
    self_values = np.array([[0.0, 2.0, 3.0, 1.0]], np.float32)
    src_values = np.array([[0.0, 2.0, 2.0, 0.0, 5.0]], np.float32)
    index = [[0, 1, 1, 2, 3]]
    for reduce in ('prod', 'amax', 'amin', 'mean', 'sum'):
        for include_self in (True, False):
            results = []
            for m in (ember, torch):
                a = _tensor(m, self_values, True)
                s = _tensor(m, src_values, True)
                out = a.scatter_reduce(1, _i(m, index), s, reduce, include_self=include_self)
                out.backward(m.tensor([[1.0, 2.0, 3.0, 4.0]]))
                results.append((out, a.grad, s.grad))
            assert_same(results[0], results[1], what=f'{reduce} include_self={include_self}')


OP_ERRORS = [
    (lambda m: m.zeros(3, 4).gather(1, _i(m, [[0]], 'int16')), RuntimeError,
     r'gather\(\): Expected dtype int32/int64 for index'),
    (lambda m: m.zeros(3, 4).gather(1, _i(m, [[4]])), RuntimeError,
     'index 4 is out of bounds for dimension 1 with size 4'),
    (lambda m: m.zeros(3, 4).scatter_(0, _i(m, [[3]]), 1.0), RuntimeError,
     'index 3 is out of bounds for dimension 0 with size 3'),
    (lambda m: m.zeros(3, 4).index_select(0, _i(m, [[0]])), IndexError, 'Index is supposed to be a vector'),
    (lambda m: m.zeros(3, 4).index_fill_(0, _i(m, [0], 'int32'), 1), IndexError,
     r'index_fill_\(\): Expected dtype int64 for index'),
    (lambda m: m.zeros(3, 4).index_copy_(0, _i(m, [3]), m.zeros(1, 4)), IndexError,
     'index 3 is out of bounds for dimension 0 with size 3'),
    (lambda m: m.zeros(3, 4).masked_fill(m.zeros(4, dtype=m.uint8), 1), RuntimeError,
     'masked_fill_ only supports boolean masks'),
    (lambda m: m.zeros(3).masked_fill_(m.ones(2, 3, dtype=m.bool), 1.0), RuntimeError,
     r"output with shape \[3\] doesn't match the broadcast shape \[2, 3\]"),
    (lambda m: m.zeros(3).masked_scatter(m.ones(3, dtype=m.bool), m.zeros(2)), RuntimeError,
     'Number of elements of source < number of ones in mask'),
    (lambda m: m.zeros(3).put_(_i(m, [3]), m.zeros(1)), IndexError,
     'out of range: tried to access index 3 on a tensor of 3 elements'),
    (lambda m: m.zeros(3, 4).take_along_dim(_i(m, [[0]], 'int32'), 1), RuntimeError,
     'dtype of indices should be Long but got Int'),
]


@pytest.mark.parametrize('case', range(len(OP_ERRORS)))
def test_op_errors_match_torch(case):
    fn, error, match = OP_ERRORS[case]
    with pytest.raises(error):
        fn(torch)
    with pytest.raises(error, match=match):
        fn(ember)


def test_large_accumulating_backward_is_exact():
    # an embedding-style read: few rows of a big table, many repeats
    table = RNG.standard_normal((5000, 8)).astype(np.float32)
    rows = RNG.integers(0, 5000, size=300)
    rows[:50] = 7
    grads = []
    for m in (ember, torch):
        w = _tensor(m, table, True)
        w[m.tensor(rows)].sum().backward()
        grads.append(w.grad)
    assert_same(grads[0], grads[1])


# ----------------------------------------------------------------------------- random index combinations

try:
    from hypothesis import given, settings, strategies as st
except ImportError:  # pragma: no cover
    given = None

if given is not None:
    SHAPE = (4, 3, 5)

    def _component(draw, size):
        kind = draw(st.sampled_from(['int', 'slice', 'none', 'list', 'mask']))
        if kind == 'int':
            return draw(st.integers(-size, size - 1)), 1
        if kind == 'slice':
            start = draw(st.one_of(st.none(), st.integers(-size - 1, size + 1)))
            stop = draw(st.one_of(st.none(), st.integers(-size - 1, size + 1)))
            step = draw(st.one_of(st.none(), st.integers(1, 3)))
            return slice(start, stop, step), 1
        if kind == 'none':
            return None, 0
        if kind == 'list':
            n = draw(st.integers(1, 3))
            return ('list', draw(st.lists(st.integers(-size, size - 1), min_size=n, max_size=n))), 1
        return ('mask', draw(st.lists(st.booleans(), min_size=size, max_size=size))), 1

    @st.composite
    def _indices(draw):
        parts, dim = [], 0
        length = draw(st.integers(0, 4))
        use_ellipsis = draw(st.booleans())
        for _ in range(length):
            if dim >= len(SHAPE):
                break
            comp, used = _component(draw, SHAPE[dim])
            parts.append(comp)
            dim += used
        if use_ellipsis and parts:
            parts.insert(draw(st.integers(0, len(parts))), Ellipsis)
        return parts

    def _realize(m, parts):
        out = []
        for p in parts:
            if isinstance(p, tuple) and p[0] == 'list':
                out.append(m.tensor(np.array(p[1], np.int64)))
            elif isinstance(p, tuple) and p[0] == 'mask':
                out.append(m.tensor(np.array(p[1], bool)))
            else:
                out.append(p)
        return tuple(out)

    @settings(max_examples=150, deadline=None)
    @given(_indices())
    def test_random_index_combinations(parts):
        array = np.arange(np.prod(SHAPE), dtype=np.float32).reshape(SHAPE)
        try:
            ref_x = torch.tensor(array, requires_grad=True)
            ref = ref_x[_realize(torch, parts)]
        except (IndexError, RuntimeError, ValueError) as exc:
            with pytest.raises(type(exc)):
                ember.tensor(array)[_realize(ember, parts)]
            return
        x = ember.tensor(array, requires_grad=True)
        ours = x[_realize(ember, parts)]
        assert_same(ours, ref, what=f'{parts}')
        if ref._base is not None:
            assert ours.stride() == ref.stride() and ours.storage_offset() == ref.storage_offset(), parts
        if ref.numel():
            weight = np.linspace(-1, 1, ref.numel(), dtype=np.float32).reshape(tuple(ref.shape))
            (ours * ember.tensor(weight)).sum().backward()
            (ref * torch.tensor(weight)).sum().backward()
            assert_same(x.grad, ref_x.grad, what=f'grad {parts}')
        # the same index as a target of setitem
        e, t = ember.tensor(array), torch.tensor(array)
        e[_realize(ember, parts)] = -1.0
        t[_realize(torch, parts)] = -1.0
        assert_same(e, t, what=f'setitem {parts}')
