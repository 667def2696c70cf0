"""Samplers: the order in which a DataLoader visits a map-style dataset.

Every sampler here can be checkpointed mid-epoch: ``state_dict()`` records the
randomness the current epoch was drawn from (a seed, or the generator's state
before the epoch's draws) and how many items were yielded so far;
``load_state_dict()`` makes the next ``iter()`` replay that epoch's order and
skip what was already yielded, so a resumed run continues where it stopped.
Each ``__iter__`` sets up its epoch eagerly (draws its seed) and only then
returns the lazy iterator, so a state taken right after ``iter()`` already
names the epoch.
"""
import itertools

import numpy as np

import ember

__all__ = ['Sampler', 'SequentialSampler', 'RandomSampler', 'SubsetRandomSampler', 'WeightedRandomSampler',
           'BatchSampler']


class Sampler:
    """Base class of samplers: subclasses implement ``__iter__`` over dataset indices (and usually ``__len__``)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError

    def state_dict(self):
        """The sampler's position (empty for samplers that keep no state)."""
        return {}

    def load_state_dict(self, state_dict):
        """Restores a position saved by ``state_dict()``; the next ``iter()`` continues from it."""


def _draw_seed(generator=None):
    """A fresh int64 seed from ``generator`` (or ember's default generator), as torch's samplers draw it."""
    return int(ember.empty((), dtype=ember.int64).random_(generator=generator).item())


class _Resumable(Sampler):
    """Shared bookkeeping: items yielded in the current epoch, and a pending state to resume from."""

    def _reset_position(self):
        self._num_yielded = 0
        self._epoch_record = None   # how this epoch's randomness can be recreated
        self._pending = None        # a state from load_state_dict, used by the next __iter__

    def _count(self, items, skip=0, skipped_already=False):
        """An iterator over ``items[skip:]`` that counts each item into the sampler's position.

        With ``skipped_already`` the items start at position ``skip`` (nothing is dropped).
        """
        self._num_yielded = skip
        return self._counting(items if skipped_already else itertools.islice(items, skip, None))

    def _counting(self, items):
        for item in items:
            self._num_yielded += 1
            yield item
        self._epoch_record = None   # epoch finished: the next state starts a fresh one
        self._num_yielded = 0

    def _take_pending(self):
        pending, self._pending = self._pending, None
        return pending or {}

    def state_dict(self):
        """``{'num_yielded': n, ...}``: the current epoch's randomness and position."""
        state = {'num_yielded': self._num_yielded}
        if self._epoch_record is not None:
            state.update(self._epoch_record)
        elif getattr(self, 'generator', None) is not None:   # between epochs: the next one draws from here
            state['generator_state'] = self.generator.get_state()
        return state

    def load_state_dict(self, state_dict):
        """Makes the next ``iter()`` replay the saved epoch and skip ``num_yielded`` items."""
        self._pending = dict(state_dict)


def _epoch_generator(generator, pending):
    """The generator one epoch draws from, and a record that recreates it.

    Without a user generator a seed is drawn from ember's default generator (as torch does) so the
    epoch can be replayed from the seed alone; with one, its state before the draws is recorded.
    """
    if pending.get('seed') is not None:
        seed = pending['seed']
        return ember.Generator().manual_seed(seed), {'seed': seed}
    if generator is None:
        seed = _draw_seed()
        return ember.Generator().manual_seed(seed), {'seed': seed}
    if pending.get('generator_state') is not None:
        generator.set_state(pending['generator_state'])
    return generator, {'generator_state': generator.get_state()}


class SequentialSampler(_Resumable):
    """Yields ``0, 1, ..., len(data_source) - 1`` in order."""

    def __init__(self, data_source):
        self.data_source = data_source
        self._reset_position()

    def __iter__(self):
        skip = self._take_pending().get('num_yielded', 0)
        self._epoch_record = {}
        return self._count(range(len(self.data_source)), skip)

    def __len__(self):
        return len(self.data_source)


class RandomSampler(_Resumable):
    """Yields indices in random order: a permutation, or ``num_samples`` draws with ``replacement=True``.

    Args:
        data_source: the dataset (only its length is used).
        replacement: draw with replacement (on demand, in chunks of 32 as torch does).
        num_samples: how many indices to yield (default ``len(data_source)``).
        generator: the ``ember.Generator`` to draw from (default: a seed drawn from ember's RNG each epoch).
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")
        self._reset_position()

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        pending = self._take_pending()
        generator, self._epoch_record = _epoch_generator(self.generator, pending)
        return self._count(self._indices(generator, len(self.data_source)), pending.get('num_yielded', 0))

    def _indices(self, generator, n):
        count = self.num_samples
        if self.replacement:
            for _ in range(count // 32):
                yield from ember.randint(0, n, (32,), dtype=ember.int64, generator=generator).tolist()
            yield from ember.randint(0, n, (count % 32,), dtype=ember.int64, generator=generator).tolist()
        else:
            for _ in range(count // n):
                yield from ember.randperm(n, generator=generator).tolist()
            yield from ember.randperm(n, generator=generator).tolist()[:count % n]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(_Resumable):
    """Yields the given ``indices`` in random order (without replacement)."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator
        self._reset_position()

    def __iter__(self):
        pending = self._take_pending()
        generator, self._epoch_record = _epoch_generator(self.generator, pending)
        order = ember.randperm(len(self.indices), generator=generator).tolist()
        return self._count((self.indices[i] for i in order), pending.get('num_yielded', 0))

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(_Resumable):
    """Yields ``num_samples`` indices of ``[0, len(weights))`` drawn with probabilities proportional to ``weights``.

    Args:
        weights: a 1-d sequence of non-negative weights (need not sum to one).
        num_samples: how many indices to draw.
        replacement: draw with replacement (default); without it an index appears at most once.
        generator: the ``ember.Generator`` to draw from.
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        weights_tensor = ember.as_tensor(np.asarray(weights, dtype=np.float64))
        if weights_tensor.dim() != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(weights_tensor.shape)}")
        self.weights = weights_tensor
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator
        self._reset_position()

    def __iter__(self):
        pending = self._take_pending()
        generator, self._epoch_record = _epoch_generator(self.generator, pending)
        drawn = ember.multinomial(self.weights, self.num_samples, self.replacement, generator=generator)
        return self._count(drawn.tolist(), pending.get('num_yielded', 0))

    def __len__(self):
        return self.num_samples


class BatchSampler(_Resumable):
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter unless ``drop_last``)."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last
        self._reset_position()

    def __iter__(self):
        pending = self._take_pending()
        skip = pending.get('num_yielded', 0)
        inner_state = pending.get('sampler')
        inner_skips = False
        if inner_state is not None and hasattr(self.sampler, 'load_state_dict'):
            # NOTE: a resumable inner sampler skips the consumed indices itself (no replay of them)
            inner_skips = 'num_yielded' in inner_state
            inner_state = dict(inner_state, num_yielded=skip * self.batch_size) if inner_skips else inner_state
            self.sampler.load_state_dict(inner_state)
        indices = iter(self.sampler)
        self._epoch_record = {}
        return self._count(self._batches(indices), skip, skipped_already=inner_skips)

    def _batches(self, indices):
        size = self.batch_size
        if self.drop_last:
            for batch in zip(*([indices] * size)):
                yield [*batch]
        else:
            batch = [*itertools.islice(indices, size)]
            while batch:
                yield batch
                batch = [*itertools.islice(indices, size)]

    def state_dict(self):
        """``{'num_yielded': batches, 'sampler': the inner sampler's state}``."""
        state = {'num_yielded': self._num_yielded}
        if hasattr(self.sampler, 'state_dict'):
            state['sampler'] = self.sampler.state_dict()
        return state

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
