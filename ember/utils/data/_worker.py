"""The DataLoader worker process: seeding, fetching batches, and sending them to the main process.

A worker reads tasks ``(batch_index, indices)`` from its index queue, fetches and
collates the batch, and writes ``(batch_index, batch)`` to its own result pipe,
pickled by ``_shared.BatchPickler`` (large arrays go through shared memory).
Errors travel as ``ExceptionWrapper`` objects carrying the worker's traceback
text.  ``None`` on the queue, or the shared ``done`` flag, means "exit";
``_ResumeIteration`` starts a new epoch for persistent workers.  A worker
whose main process died notices it at the next poll of its queue and exits.
"""
import os
import queue
import random
import sys
import traceback

import numpy as np

import ember
from ember.utils.data import _shared
from ember.utils.data._collate import default_collate

_POLL_INTERVAL = 0.1   # seconds between checks of the done flag and that the main process is alive
_BLAS_THREAD_VARS = ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS', 'VECLIB_MAXIMUM_THREADS',
                     'NUMEXPR_NUM_THREADS')


class WorkerInfo:
    """What a worker knows about itself: ``id``, ``num_workers``, ``seed`` and its copy of ``dataset``."""

    __initialized = False

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs.keys())
        self.__initialized = True

    def __setattr__(self, key, val):
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {self.__class__.__name__} objects")
        return super().__setattr__(key, val)

    def __repr__(self):
        items = ', '.join(f'{k}={getattr(self, k)}' for k in self.__keys)
        return f'{self.__class__.__name__}({items})'


_worker_info = None


def get_worker_info():
    """The ``WorkerInfo`` of the current DataLoader worker process, or None in the main process."""
    return _worker_info


class ExceptionWrapper:
    """An exception caught in a worker: its type and the formatted traceback, re-raised by the main process."""

    def __init__(self, exc_info=None, where='in background'):
        exc_info = exc_info or sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = ''.join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        """Raises the wrapped exception type with a message holding the original traceback."""
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        elif getattr(self.exc_type, 'message', None):
            raise self.exc_type(message=msg)
        try:
            exception = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        try:
            raise exception
        finally:
            del exception   # the frame must not keep its own exception alive (a cycle that pins the iterator)


class _KeyErrorMessage(str):
    """A str whose repr is itself: KeyError would otherwise print the traceback text quoted on one line."""

    def __repr__(self):
        return self


class _IterableDatasetStopIteration:
    """Sent by a worker whose copy of an IterableDataset is exhausted."""

    def __init__(self, worker_id):
        self.worker_id = worker_id


class _ResumeIteration:
    """Asks a persistent worker to start a new epoch (it answers with the same marker)."""


class _WorkerSpec:
    """Everything a worker needs, sent once at start."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


# ------------------------------------------------------------------------------------------------ fetching
class _MapFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        getitems = getattr(dataset, '__getitems__', None)
        self.getitems = getitems if callable(getitems) else None
        # NOTE: with default_collate a dataset may fetch a whole batch already collated (TensorDataset: one
        # gather per tensor, no per-sample tensors); the result equals default_collate(__getitems__(index)).
        collated = getattr(dataset, '_collated_getitems', None)
        self.collated = collated if auto_collation and collate_fn is default_collate else None

    def fetch(self, index):
        if self.auto_collation:
            if self.collated is not None:
                batch = self.collated(index)
                if batch is not None:
                    return batch
            if self.getitems is not None:
                data = self.getitems(index)
            else:
                data = [self.dataset[i] for i in index]
        else:
            data = self.dataset[index]
        return self.collate_fn(data)


class _IterableFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset_iter = iter(dataset)
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            for _ in index:
                try:
                    data.append(next(self.dataset_iter))
                except StopIteration:
                    self.ended = True
                    break
            if not data or (self.drop_last and len(data) < len(index)):
                raise StopIteration
        else:
            data = next(self.dataset_iter)
        return self.collate_fn(data)


def create_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last):
    """The object that turns one task's indices into a collated batch."""
    kind = _IterableFetcher if iterable else _MapFetcher
    return kind(dataset, auto_collation, collate_fn, drop_last)


# ------------------------------------------------------------------------------------------------ the loop
def _limit_blas_threads():
    for var in _BLAS_THREAD_VARS:
        os.environ[var] = '1'
    try:
        import threadpoolctl
    except ImportError:
        return
    threadpoolctl.threadpool_limits(1)


def _seed_everything(base_seed, worker_id):
    """Seeds ember, ``random`` and NumPy's global RNG from the loader's base seed and the worker id."""
    seed = base_seed + worker_id
    random.seed(seed)
    ember.manual_seed(seed)
    np.random.seed(np.random.SeedSequence([worker_id, base_seed]).generate_state(4))
    return seed


def _send(conn, idx, data, worker_id):
    try:
        payload = _shared.dumps((idx, data))
    except Exception:
        _shared.task_failed()
        wrapped = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
        payload = _shared.dumps((idx, _picklable(wrapped)))
    conn.send_bytes(payload)
    _shared.task_sent()


def _picklable(wrapped):
    """The wrapper itself, or one naming RuntimeError when the exception's class cannot be pickled."""
    try:
        _shared.dumps(wrapped.exc_type)
    except Exception:
        wrapped.exc_type = RuntimeError
    return wrapped


def worker_loop(spec, index_queue, result_conn):
    """Body of a worker process (see the module docstring)."""
    global _worker_info
    try:
        _limit_blas_threads()
        for conn in spec.inherited:   # the main process's ends of earlier workers' pipes (fork)
            conn.close()
        if spec.blob is not None:   # spawn: the dataset and functions come pickled
            spec.dataset, spec.collate_fn, spec.worker_init_fn = _shared.loads(spec.blob)
        _shared.set_prefix(spec.segment_prefix)
        wid = spec.worker_id
        where = f"in DataLoader worker process {wid}"
        seed = _seed_everything(spec.base_seed, wid)
        _worker_info = WorkerInfo(id=wid, num_workers=spec.num_workers, seed=seed, dataset=spec.dataset)

        init_error = None
        fetcher = None
        try:
            if spec.worker_init_fn is not None:
                spec.worker_init_fn(wid)
            fetcher = create_fetcher(spec.iterable, spec.dataset, spec.auto_collation, spec.collate_fn,
                                     spec.drop_last)
        except Exception:
            init_error = _picklable(ExceptionWrapper(where=where))

        iteration_end = False
        while True:
            try:
                task = index_queue.get(timeout=_POLL_INTERVAL)
            except queue.Empty:
                if spec.done.value or os.getppid() != spec.parent_pid:   # shut down, or the main process is gone
                    break
                continue
            if task is None or spec.done.value:
                break
            if isinstance(task, _ResumeIteration):
                if fetcher is not None and spec.iterable:
                    try:
                        fetcher = create_fetcher(True, spec.dataset, spec.auto_collation, spec.collate_fn,
                                                 spec.drop_last)
                    except Exception:
                        init_error = _picklable(ExceptionWrapper(where=where))
                iteration_end = False
                result_conn.send_bytes(_shared.dumps((task, None)))
                continue
            if iteration_end:
                continue   # tasks queued before the main process saw our end of data
            idx, index = task
            if init_error is not None:
                data, init_error = init_error, None
            else:
                try:
                    data = fetcher.fetch(index)
                except Exception as e:
                    _shared.task_failed()
                    if isinstance(e, StopIteration) and spec.iterable:
                        data = _IterableDatasetStopIteration(wid)
                        iteration_end = True
                    else:
                        data = _picklable(ExceptionWrapper(where=where))
            _send(result_conn, idx, data, wid)
            del data
    except KeyboardInterrupt:
        pass   # the main process gets the interrupt too and shuts the workers down
    except (BrokenPipeError, ConnectionResetError):
        pass   # the main process closed our pipe: nothing left to do
    finally:
        _shared.task_failed()
        try:
            result_conn.close()
        except OSError:
            pass
