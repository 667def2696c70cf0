"""Datasets and their combinators, checked against torch.utils.data on the same data."""
import numpy as np
import pytest

import ember
from ember.utils.data import (ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset, Subset,
                              TensorDataset, random_split)
from tests.conftest import requires_torch, torch


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i * i


class Stream(IterableDataset):
    def __init__(self, start, stop):
        self.start, self.stop = start, stop

    def __iter__(self):
        return iter(range(self.start, self.stop))

    def __len__(self):
        return self.stop - self.start


def test_tensor_dataset():
    x, y = ember.randn(5, 2), ember.arange(5)
    ds = TensorDataset(x, y)
    assert len(ds) == 5
    xi, yi = ds[3]
    assert ember.equal(xi, x[3]) and yi.item() == 3
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(x, ember.arange(4))


def test_tensor_dataset_batched_fetch_and_subclass():
    x = ember.randn(6, 2)
    ds = TensorDataset(x)
    rows = ds.__getitems__([4, 0, -1])
    assert [len(r) for r in rows] == [1, 1, 1]
    assert ember.equal(rows[0][0], x[4]) and ember.equal(rows[2][0], x[5])
    with pytest.raises(IndexError, match="index 6 is out of bounds for dimension 0 with size 6"):
        ds.__getitems__([6])

    class Doubled(TensorDataset):
        def __getitem__(self, i):
            return (self.tensors[0][i] * 2,)
    assert ember.equal(Doubled(x).__getitems__([1])[0][0], x[1] * 2)   # a subclass's own __getitem__ is used


def test_stack_dataset():
    a, b = Squares(4), TensorDataset(ember.arange(4))
    ds = StackDataset(a, b)
    assert len(ds) == 4 and ds[2][0] == 4 and ds[2][1][0].item() == 2
    items = ds.__getitems__([1, 3])
    assert items[1][0] == 9 and items[1][1][0].item() == 3
    named = StackDataset(sq=a, t=b)
    assert named[3]['sq'] == 9 and named.__getitems__([0])[0]['sq'] == 0
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        StackDataset(a, Squares(5))


@requires_torch
def test_concat_dataset_matches_torch():
    ours = ConcatDataset([Squares(3), Squares(4)])
    theirs = torch.utils.data.ConcatDataset([Squares(3), Squares(4)])
    assert len(ours) == len(theirs) == 7
    assert [ours[i] for i in range(-7, 7)] == [theirs[i] for i in range(-7, 7)]
    assert ours.cumulative_sizes == theirs.cumulative_sizes
    with pytest.raises(ValueError, match="absolute value of index should not exceed dataset length"):
        ours[-8]
    assert len(Squares(2) + Squares(3)) == 5


def test_chain_dataset():
    chained = ChainDataset([Stream(0, 3), Stream(10, 12)])
    assert list(chained) == [0, 1, 2, 10, 11] and len(chained) == 5
    assert list(Stream(0, 2) + Stream(5, 6)) == [0, 1, 5]


def test_subset():
    s = Subset(Squares(10), [9, 2, 4])
    assert len(s) == 3 and [s[i] for i in range(3)] == [81, 4, 16]
    assert s.__getitems__([0, 2]) == [81, 16]


def test_random_split_lengths_and_fractions():
    parts = random_split(Squares(10), [3, 7], generator=ember.Generator().manual_seed(1))
    assert [len(p) for p in parts] == [3, 7]
    assert sorted(parts[0].indices + parts[1].indices) == list(range(10))
    again = random_split(Squares(10), [3, 7], generator=ember.Generator().manual_seed(1))
    assert again[0].indices == parts[0].indices
    assert [len(p) for p in random_split(Squares(10), [0.5, 0.3, 0.2])] == [5, 3, 2]
    assert [len(p) for p in random_split(Squares(11), [0.5, 0.5])] == [6, 5]
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length of the input dataset!"):
        random_split(Squares(10), [3, 3])


@requires_torch
def test_random_split_fractions_match_torch():
    for n, fracs in [(11, [0.5, 0.5]), (10, [0.34, 0.33, 0.33]), (7, [0.1, 0.9])]:
        ours = [len(p) for p in random_split(Squares(n), fracs)]
        theirs = [len(p) for p in torch.utils.data.random_split(Squares(n), fracs)]
        assert ours == theirs


def test_dataset_base_errors():
    with pytest.raises(NotImplementedError):
        Dataset()[0]
    with pytest.raises(NotImplementedError):
        iter(IterableDataset())
    np.testing.assert_equal(len(ConcatDataset([Squares(1)])), 1)
