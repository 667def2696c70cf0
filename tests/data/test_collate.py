"""default_collate / default_convert: the same batch structure, shapes, dtypes and values as torch's."""
import collections

import numpy as np
import pytest

import ember
from ember.utils.data import default_collate, default_convert
from tests.conftest import requires_torch, torch

Point = collections.namedtuple('Point', ['x', 'y'])


def to_torch(obj):
    """The same structure with ember tensors replaced by torch tensors."""
    if isinstance(obj, ember.Tensor):
        return torch.from_numpy(np.asarray(obj).copy())
    if isinstance(obj, Point):
        return Point(*(to_torch(v) for v in obj))
    if isinstance(obj, dict):
        return type(obj)((k, to_torch(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_torch(v) for v in obj)
    return obj


def assert_same(ours, theirs):
    """Same structure and types; tensors with equal shape, dtype and values."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, ember.Tensor), type(ours)
        assert tuple(ours.shape) == tuple(theirs.shape)
        assert str(ours.dtype) == str(theirs.dtype)
        np.testing.assert_array_equal(np.asarray(ours), theirs.numpy())
        return
    assert type(ours) is type(theirs), (type(ours), type(theirs))
    if isinstance(theirs, dict):
        assert list(ours) == list(theirs)
        for k in theirs:
            assert_same(ours[k], theirs[k])
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_same(a, b)
    else:
        assert ours == theirs


def batches():
    rng = np.random.default_rng(0)
    t = [ember.from_numpy(rng.standard_normal((3, 4)).astype(np.float32)) for _ in range(5)]
    yield 'tensors', t
    yield 'int tensors', [ember.tensor([1, 2]), ember.tensor([3, 4])]
    yield 'ints', [0, 1, 2, 3]
    yield 'floats', [0.5, 1.5, -2.0]
    yield 'bools', [True, False, True]
    yield 'strings', ['a', 'bc', 'd']
    yield 'bytes', [b'a', b'b']
    yield 'numpy arrays', [rng.standard_normal(3).astype(np.float32) for _ in range(4)]
    yield 'numpy int arrays', [np.arange(3, dtype=np.int32) + i for i in range(4)]
    yield 'numpy f32 scalars', [np.float32(1.5), np.float32(2.5)]
    yield 'numpy f64 scalars', [np.float64(1.5), np.float64(2.5)]
    yield 'numpy i32 scalars', [np.int32(1), np.int32(2)]
    yield 'numpy bool scalars', [np.bool_(True), np.bool_(False)]
    yield 'numpy f16 scalars', [np.float16(1), np.float16(2)]
    yield 'tuples', [(t[i], i, float(i)) for i in range(4)]
    yield 'lists', [[t[i], i] for i in range(4)]
    yield 'dicts', [{'x': t[i], 'label': i, 'name': f's{i}'} for i in range(4)]
    yield 'ordered dicts', [collections.OrderedDict(b=i, a=t[i]) for i in range(3)]
    yield 'namedtuples', [Point(t[i], i) for i in range(3)]
    yield 'nested', [{'pair': (t[i], [i, i + 1]), 'meta': {'id': i, 'w': 0.5 * i}} for i in range(3)]
    yield 'tensor + int (mnist)', [(t[i], i % 3) for i in range(5)]
    yield '0-d tensors', [ember.tensor(1.5), ember.tensor(2.5)]


@requires_torch
@pytest.mark.parametrize('name,batch', list(batches()), ids=[n for n, _ in batches()])
def test_default_collate_matches_torch(name, batch):
    ours = default_collate(batch)
    theirs = torch.utils.data.default_collate(to_torch(batch))
    assert_same(ours, theirs)


@requires_torch
@pytest.mark.parametrize('sample', [np.arange(3), {'a': np.arange(2.0), 'b': 'x'}, (np.float32(2), 1),
                                    Point(np.arange(2), 3), [np.zeros(2), 'y'], 5, 'text', np.array(['a', 'b'])],
                         ids=['array', 'dict', 'tuple', 'namedtuple', 'list', 'int', 'str', 'str-array'])
def test_default_convert_matches_torch(sample):
    ours = default_convert(sample)
    theirs = torch.utils.data.default_convert(sample)
    if isinstance(theirs, np.ndarray):
        assert ours is sample
    else:
        assert_same(ours, theirs)


def test_mismatched_sizes():
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, but got \[3\] at entry 0 "
                                           r"and \[4\] at entry 1"):
        default_collate([ember.ones(3), ember.ones(4)])
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [3]])


def test_unsupported_types():
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors, numpy arrays, numbers, dicts "
                                        "or lists; found <class 'object'>"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match=r"found <U1"):
        default_collate([np.array(['a']), np.array(['b'])])


def test_stacked_batch_is_a_new_tensor():
    rows = [ember.ones(2), ember.zeros(2)]
    out = default_collate(rows)
    out[0, 0] = 5.0
    assert rows[0][0].item() == 1.0


def test_requires_grad_goes_through_stack():
    a = ember.ones(2, requires_grad=True)
    out = default_collate([a, a * 2])
    assert out.requires_grad
    out.sum().backward()
    assert a.grad.tolist() == [3.0, 3.0]


def test_batched_fetch_equals_collated_samples():
    x = ember.randn(10, 3)
    y = ember.arange(10)
    ds = ember.utils.data.TensorDataset(x, y)
    samples = ds.__getitems__([3, 1, 7])
    assert isinstance(samples, list) and len(samples) == 3 and isinstance(samples[0], tuple)
    assert ember.equal(samples[1][0], x[1]) and samples[2][1].item() == 7
    xb, yb = default_collate(samples)
    fast = ds._collated_getitems([3, 1, 7])
    assert isinstance(fast, list) and ember.equal(fast[0], xb) and ember.equal(fast[1], yb)
    assert ember.equal(xb, x[[3, 1, 7]]) and yb.tolist() == [3, 1, 7]
