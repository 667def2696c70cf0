"""``DataLoader``: batches from a dataset, in the main process or in worker processes.

The loader combines a dataset with a sampler (which indices, in which order), a
batch sampler (which indices go together) and a collate function (how samples
become a batch).  With ``num_workers=0`` batches are made in the calling
process; otherwise worker processes make them (see ``_multiprocess.py``).

Resuming: ``loader.state_dict()`` records the current epoch (the sampler's
randomness, the workers' base seed, the generator state and how many batches
were delivered) and ``load_state_dict()`` makes the next ``iter(loader)``
continue that epoch with the next batch.  Workers' own random streams restart
from their seeds on resume; they are not replayed to the middle of the epoch.
"""
import math
import os
import sys
import multiprocessing
import warnings
import weakref

from ember.utils.data import _collate
from ember.utils.data._collate import default_collate, default_convert
from ember.utils.data._iterators import _DatasetKind, _SingleProcessDataLoaderIter
from ember.utils.data._multiprocess import _MultiProcessingDataLoaderIter
from ember.utils.data._worker import get_worker_info
from ember.utils.data.dataset import IterableDataset
from ember.utils.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ['DataLoader', 'default_collate', 'default_convert', 'get_worker_info']


class _InfiniteConstantSampler(Sampler):
    """Yields None forever: the index stream of an IterableDataset (which ignores indices)."""

    def __iter__(self):
        while True:
            yield None


def _cpu_count():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count()


class DataLoader:
    """Iterates over ``dataset`` in batches.

    Args:
        dataset: a map-style ``Dataset`` (``__getitem__``/``__len__``) or an ``IterableDataset``.
        batch_size: samples per batch (default 1); ``None`` turns batching off.
        shuffle: reshuffle the indices every epoch (map-style datasets only).
        sampler: the order of indices (exclusive with ``shuffle``).
        batch_sampler: yields whole lists of indices (exclusive with batch_size, shuffle, sampler, drop_last).
        num_workers: worker processes making batches (0: the calling process does).
        collate_fn: turns a list of samples into a batch (default ``default_collate``).
        pin_memory: accepted; there is no pinned memory on the cpu.
        drop_last: drop the last batch when it is incomplete.
        timeout: seconds to wait for a batch from the workers (0: forever) before raising.
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker after seeding.
        multiprocessing_context: a start method name ('fork', 'spawn', 'forkserver') or context.
        generator: the ``ember.Generator`` for the shuffle order and the workers' base seed.
        prefetch_factor: batches in flight per worker (default 2 with workers).
        persistent_workers: keep the workers alive from one epoch to the next.
        in_order: deliver batches in sampler order (False: as soon as any worker has one).
    """

    _initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device='', in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = _DatasetKind.Iterable
            if shuffle not in {False, None}:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got "
                                 f"sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, but "
                                 f"got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = _DatasetKind.Map

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and "
                                 "drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")

        if sampler is None:
            if self._dataset_kind == _DatasetKind.Iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = _collate.default_collate if self._auto_collation else _collate.default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers

        self._IterableDataset_len_called = None
        self._iterator = None        # the persistent workers' iterator
        self._last_iterator = None   # weak reference to the newest iterator (for state_dict)
        self._resume_state = None
        self._initialized = True
        self.check_worker_number_rationality()

    # ------------------------------------------------------------------ attributes
    @property
    def multiprocessing_context(self):
        return self._multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context):
        if context is not None:
            if self.num_workers <= 0:
                raise ValueError(f"multiprocessing_context can only be used with multi-process loading "
                                 f"(num_workers > 0), but got num_workers={self.num_workers}")
            if isinstance(context, str):
                valid = multiprocessing.get_all_start_methods()
                if context not in valid:
                    raise ValueError(f"multiprocessing_context option should specify a valid start method in "
                                     f"{valid!r}, but got multiprocessing_context={context!r}")
                context = multiprocessing.get_context(context)
            if not isinstance(context, multiprocessing.context.BaseContext):
                raise TypeError(f"multiprocessing_context option should be a valid context object or a string "
                                f"specifying the start method, but got multiprocessing_context={context}")
        self._multiprocessing_context = context

    def __setattr__(self, attr, val):
        if self._initialized and attr in ('batch_size', 'batch_sampler', 'sampler', 'drop_last', 'dataset',
                                          'persistent_workers'):
            raise ValueError(f"{attr} attribute should not be set after {self.__class__.__name__} is initialized")
        super().__setattr__(attr, val)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def _context(self):
        """The multiprocessing context for workers: the given one, else 'fork' on Linux (as torch)."""
        if self.multiprocessing_context is not None:
            return self.multiprocessing_context
        if sys.platform.startswith('linux'):
            return multiprocessing.get_context('fork')
        return multiprocessing.get_context()

    # ------------------------------------------------------------------ iteration
    def _get_iterator(self):
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        self.check_worker_number_rationality()
        return _MultiProcessingDataLoaderIter(self)

    def __iter__(self):
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            iterator = self._iterator
        else:
            iterator = self._get_iterator()
        self._last_iterator = weakref.ref(iterator)
        return iterator

    def __len__(self):
        if self._dataset_kind == _DatasetKind.Iterable:
            length = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)

    def check_worker_number_rationality(self):
        """Warns when more workers are asked for than this process may use cpus."""
        if not self.num_workers:
            return
        suggested = _cpu_count()
        if suggested is None or self.num_workers > suggested:
            where = ("Our suggested max number of worker in current system is {}{}, which is smaller than what this "
                     "DataLoader is going to create.".format(suggested, '' if hasattr(os, 'sched_getaffinity')
                                                             else ' (`cpuset` is not taken into account)')
                     if suggested is not None else
                     "DataLoader is not able to compute a suggested max number of worker in current system.")
            warnings.warn(f"This DataLoader will create {self.num_workers} worker processes in total. {where} Please "
                          "be aware that excessive worker creation might get DataLoader running slow or even freeze, "
                          "lower the worker number to avoid potential slowness/freeze if necessary.", stacklevel=2)

    # ------------------------------------------------------------------ resuming
    def state_dict(self):
        """The loader's position: the current epoch's randomness and how many batches it delivered.

        Taken mid-epoch, ``load_state_dict`` on a fresh loader (same dataset and arguments) makes its
        next iteration yield the remaining batches of that epoch; taken between epochs, the next epoch.
        """
        iterator = self._last_iterator() if self._last_iterator is not None else None
        if iterator is not None and not iterator._finished:
            return {'num_yielded': iterator._num_yielded, 'base_seed': iterator._base_seed,
                    'sampler': iterator._sampler_snapshot, 'generator_state': iterator._generator_state}
        return {'num_yielded': 0, 'base_seed': None, 'sampler': None,
                'generator_state': None if self.generator is None else self.generator.get_state()}

    def load_state_dict(self, state_dict):
        """Makes the next ``iter(self)`` continue from a position saved by ``state_dict()``."""
        missing = {'num_yielded', 'base_seed', 'sampler', 'generator_state'} - set(state_dict)
        if missing:
            raise KeyError(f"DataLoader state_dict is missing {sorted(missing)}")
        self._resume_state = dict(state_dict)

    def _pop_resume_state(self):
        state, self._resume_state = self._resume_state, None
        return state
