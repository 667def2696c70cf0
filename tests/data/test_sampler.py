"""Samplers: orders, lengths, argument errors, determinism under a seed, and resuming mid-epoch."""
import itertools

import pytest

import ember
from ember.utils.data import (BatchSampler, DistributedSampler, RandomSampler, SequentialSampler,
                              SubsetRandomSampler, WeightedRandomSampler)
from tests.conftest import requires_torch, torch

DATA = range(10)


def gen(seed=0):
    return ember.Generator().manual_seed(seed)


def test_sequential():
    assert list(SequentialSampler(DATA)) == list(range(10))
    assert len(SequentialSampler(DATA)) == 10


def test_random_is_a_permutation_and_reproducible():
    a = list(RandomSampler(DATA, generator=gen(1)))
    b = list(RandomSampler(DATA, generator=gen(1)))
    assert sorted(a) == list(range(10)) and a == b
    sampler = RandomSampler(DATA, generator=gen(1))
    assert list(sampler) != list(sampler)   # the generator moves on: a new order each epoch
    ember.manual_seed(5)
    c = list(RandomSampler(DATA))
    ember.manual_seed(5)
    assert list(RandomSampler(DATA)) == c


def test_random_num_samples_and_replacement():
    s = RandomSampler(DATA, num_samples=25, generator=gen())
    out = list(s)
    assert len(out) == 25 == len(s)
    assert sorted(out[:10]) == list(range(10)) and sorted(out[10:20]) == list(range(10))
    r = list(RandomSampler(DATA, replacement=True, num_samples=70, generator=gen()))
    assert len(r) == 70 and set(r) <= set(range(10)) and len(set(r)) < 70


def test_random_errors():
    with pytest.raises(TypeError, match="replacement should be a boolean value, but got replacement=1"):
        RandomSampler(DATA, replacement=1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got num_samples=0"):
        RandomSampler(DATA, num_samples=0)


def test_subset_random():
    idx = [3, 5, 7, 11]
    out = list(SubsetRandomSampler(idx, generator=gen()))
    assert sorted(out) == idx and len(SubsetRandomSampler(idx)) == 4


def test_weighted_random():
    s = WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 200, generator=gen())
    out = list(s)
    assert len(out) == 200 and set(out) == {1, 3}
    assert out.count(3) > out.count(1)
    assert sorted(WeightedRandomSampler([1, 2, 3, 4], 4, replacement=False, generator=gen())) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got num_samples=True"):
        WeightedRandomSampler([1.0], True)
    with pytest.raises(ValueError, match="replacement should be a boolean value, but got replacement=0"):
        WeightedRandomSampler([1.0], 1, replacement=0)
    with pytest.raises(ValueError, match=r"weights should be a 1d sequence but given weights have shape \(1, 2\)"):
        WeightedRandomSampler([[1.0, 2.0]], 1)


@requires_torch
@pytest.mark.parametrize('n,size,drop', [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False), (0, 2, False)])
def test_batch_sampler_matches_torch(n, size, drop):
    ours = BatchSampler(SequentialSampler(range(n)), size, drop)
    theirs = torch.utils.data.BatchSampler(torch.utils.data.SequentialSampler(range(n)), size, drop)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_batch_sampler_errors():
    with pytest.raises(ValueError, match="batch_size should be a positive integer value, but got batch_size=0"):
        BatchSampler(DATA, 0, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean value, but got drop_last=1"):
        BatchSampler(DATA, 2, 1)


@requires_torch
@pytest.mark.parametrize('n,replicas,drop', [(10, 3, False), (10, 3, True), (2, 4, False), (12, 4, False)])
def test_distributed_split_matches_torch_without_shuffle(n, replicas, drop):
    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop)
        theirs = torch.utils.data.DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_distributed_shuffle_partitions_and_epochs():
    parts = [list(DistributedSampler(range(12), 3, r, seed=4)) for r in range(3)]
    assert sorted(itertools.chain(*parts)) == list(range(12))
    s = DistributedSampler(range(12), 3, 0, seed=4)
    first = list(s)
    assert list(s) == first   # same epoch, same order
    s.set_epoch(1)
    assert list(s) != first
    with pytest.raises(ValueError, match=r"Invalid rank 3, rank should be in the interval \[0, 2\]"):
        DistributedSampler(range(12), 3, 3)


def resume_check(make, consumed):
    """Consume ``consumed`` items, save, and check a fresh sampler continues with the same items."""
    sampler = make()
    it = iter(sampler)
    head = [next(it) for _ in range(consumed)]
    state = sampler.state_dict()
    rest = list(it)
    fresh = make()
    fresh.load_state_dict(state)
    assert len(head) == consumed and list(fresh) == rest


@pytest.mark.parametrize('make', [
    lambda: SequentialSampler(DATA),
    lambda: RandomSampler(DATA),
    lambda: RandomSampler(DATA, generator=ember.Generator().manual_seed(3)),
    lambda: RandomSampler(DATA, replacement=True, num_samples=50),
    lambda: SubsetRandomSampler([2, 4, 6, 8, 10]),
    lambda: WeightedRandomSampler([1.0, 2.0, 3.0], 20),
    lambda: DistributedSampler(range(20), 2, 1, seed=7),
    lambda: BatchSampler(RandomSampler(DATA), 3, False),
], ids=['sequential', 'random', 'random-gen', 'replacement', 'subset', 'weighted', 'distributed', 'batch'])
def test_resume_mid_epoch(make):
    resume_check(make, 2)


def test_state_between_epochs_starts_fresh():
    g = gen(9)
    sampler = RandomSampler(DATA, generator=g)
    list(sampler)
    state = sampler.state_dict()
    assert state['num_yielded'] == 0
    expected = list(sampler)
    other = RandomSampler(DATA, generator=ember.Generator())
    other.load_state_dict(state)
    assert list(other) == expected
