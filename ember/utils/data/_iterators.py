"""The DataLoader's iterators: what they share, and the single-process one."""
import warnings

from ember.utils.data._worker import create_fetcher
from ember.utils.data.sampler import _draw_seed


class _DatasetKind:
    Map = 0
    Iterable = 1


class _BaseDataLoaderIter:
    """One pass (an epoch) over a DataLoader: indices from its sampler, the base seed, resuming."""

    def __init__(self, loader):
        self._dataset = loader.dataset
        self._dataset_kind = loader._dataset_kind
        self._iterable = loader._dataset_kind == _DatasetKind.Iterable
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._persistent_workers = loader.persistent_workers
        if loader.pin_memory:
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device pinned "
                          "memory won't be used.", stacklevel=3)
        resume = self._restore_generator(loader)
        if resume is not None and resume.get('base_seed') is not None:
            self._base_seed = resume['base_seed']
        else:
            self._base_seed = _draw_seed(loader.generator)
        self._start_epoch(loader, resume)

    @staticmethod
    def _restore_generator(loader):
        resume = loader._pop_resume_state()
        if resume is not None and resume.get('generator_state') is not None and loader.generator is not None:
            loader.generator.set_state(resume['generator_state'])
        return resume

    def _start_epoch(self, loader, resume):
        """A new sampler iterator; with a saved ``resume`` state, positioned after its delivered batches."""
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._generator_state = None if loader.generator is None else loader.generator.get_state()
        sampler = self._index_sampler
        done = resume.get('num_yielded', 0) if resume else 0
        saved = resume.get('sampler') if resume else None
        can_load = saved is not None and hasattr(sampler, 'load_state_dict')
        self._discard_batches = 0
        if done and can_load and not self._iterable and 'num_yielded' in saved:
            sampler.load_state_dict(dict(saved, num_yielded=done))   # the sampler skips on its own
            self._sampler_iter = iter(sampler)
        else:
            if can_load:
                sampler.load_state_dict(dict(saved, num_yielded=0) if 'num_yielded' in saved else saved)
            self._sampler_iter = iter(sampler)
            if self._iterable:
                self._discard_batches = done   # a stream can only be skipped by reading it
            else:
                for _ in range(done):
                    next(self._sampler_iter, None)
        self._sampler_snapshot = sampler.state_dict() if hasattr(sampler, 'state_dict') else None
        self._num_yielded = done
        self._finished = False

    def _reset(self, loader):
        """Starts the next epoch on the same iterator (persistent workers)."""
        self._start_epoch(loader, self._restore_generator(loader))

    def __iter__(self):
        return self

    def _next_data(self):
        raise NotImplementedError

    def __next__(self):
        try:
            while self._discard_batches:
                self._discard_batches -= 1
                self._next_data()
            data = self._next_data()
        except StopIteration:
            self._finished = True
            raise
        self._num_yielded += 1
        if (self._iterable and self._IterableDataset_len_called is not None
                and self._num_yielded > self._IterableDataset_len_called):
            msg = (f"Length of IterableDataset {self._dataset} was reported to be {self._IterableDataset_len_called}"
                   f"(when accessing len(dataloader)), but {self._num_yielded} samples have been fetched. ")
            if self._num_workers > 0:
                msg += ("For multiprocessing data-loading, this could be caused by not properly configuring the "
                        "IterableDataset replica at each worker. Please see "
                        "https://pytorch.org/docs/stable/data.html#torch.utils.data.IterableDataset for examples.")
            warnings.warn(msg, stacklevel=2)
        return data

    def __len__(self):
        return len(self._index_sampler)

    def __getstate__(self):
        raise NotImplementedError(f"{self.__class__.__name__} cannot be pickled")


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    """Makes each batch in the calling process."""

    def __init__(self, loader):
        super().__init__(loader)
        if self._timeout != 0:
            raise AssertionError("_SingleProcessDataLoaderIter requires timeout == 0")
        self._fetcher = create_fetcher(self._iterable, self._dataset, self._auto_collation, self._collate_fn,
                                       self._drop_last)

    def _next_data(self):
        index = next(self._sampler_iter)
        return self._fetcher.fetch(index)
