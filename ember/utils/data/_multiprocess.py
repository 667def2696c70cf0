"""The DataLoader iterator that makes batches in worker processes.

Design notes.

* Channels.  Each worker has an index queue (``multiprocessing.Queue``: the
  main process never blocks on a put) and its own result pipe.  Because each
  worker writes only to its own pipe, a worker that dies mid-write cannot
  corrupt another's messages, and its death closes the pipe's last write end,
  so the main process sees EOF at once.  (The main process closes its copy of
  each write end right after starting the worker; a worker forked later never
  inherits it.)

* Waiting.  The main process waits on all result pipes with a short timeout
  and, whenever the wait times out, checks ``is_alive()`` of every worker, so a
  dead worker turns into a RuntimeError naming its pid and signal instead of a
  hang.  ``timeout=`` bounds the total wait for one batch.

* Order.  Tasks carry a batch index; results that arrive early wait in a
  reorder buffer, so batches come out in sampler order (``in_order=False``
  hands them out as they arrive).  At most ``prefetch_factor * num_workers``
  tasks are outstanding.

* Shutdown.  Leaving the loop early (``break``), an exception, garbage
  collection of the iterator and interpreter exit (an ``atexit`` hook) all
  end in ``_shutdown_workers``: raise the shared ``done`` flag and send each
  worker ``None`` (the flag alone suffices: when the iterator is collected
  as part of a reference cycle, the index queues' feeder threads may already
  have been finalised, and the workers, which poll their queue every 0.1 s,
  see the flag instead; a lock-free shared byte, so a worker killed at any
  moment cannot leave it locked), keep draining the
  pipes (so no worker blocks on a full pipe, and shared-memory segments in
  flight are released) until the workers exit, terminate stragglers, reap
  them (no zombies), and unlink any segment left under the iterator's prefix.
"""
import atexit
import contextlib
import itertools
import multiprocessing.connection
import os
import signal
import time
import weakref

from ember.utils.data import _shared
from ember.utils.data._iterators import _BaseDataLoaderIter
from ember.utils.data._worker import (_BLAS_THREAD_VARS, ExceptionWrapper, _IterableDatasetStopIteration,
                                      _ResumeIteration, _WorkerSpec, worker_loop)

_CHECK_INTERVAL = 0.5   # seconds between liveness checks of the workers while waiting
_JOIN_TIMEOUT = 5.0     # seconds a worker gets to exit after being told to
_iterator_ids = itertools.count()
_live_iterators = weakref.WeakSet()


@atexit.register
def _shutdown_all_at_exit():
    for iterator in list(_live_iterators):
        iterator._shutdown_workers()


@contextlib.contextmanager
def _single_threaded_blas():
    """Sets the BLAS thread variables while a spawned worker starts (it reads them before importing NumPy)."""
    saved = {var: os.environ.get(var) for var in _BLAS_THREAD_VARS}
    os.environ.update({var: '1' for var in _BLAS_THREAD_VARS})
    try:
        yield
    finally:
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value


def _death_message(worker):
    code = worker.exitcode
    if code is not None and code < 0:
        try:
            name = signal.strsignal(-code) or f'signal {-code}'
        except ValueError:
            name = f'signal {-code}'
        return f"DataLoader worker (pid {worker.pid}) is killed by signal: {name}."
    return (f"DataLoader worker (pid {worker.pid}) exited unexpectedly with exit code {code}. Details are lost due "
            f"to multiprocessing. Rerunning with num_workers=0 may give better error trace.")


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """Iterates over a DataLoader whose batches are made by ``num_workers`` worker processes."""

    def __init__(self, loader):
        super().__init__(loader)
        self._shutdown = True   # until the workers exist
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        self._prefix = f'/emb{os.getpid()}_{next(_iterator_ids)}_'
        context = loader._context()
        spawned = context.get_start_method() != 'fork'
        self._workers, self._index_queues, self._conns = [], [], []
        self._done = context.RawValue('b', 0)
        self._shutdown = False
        _live_iterators.add(self)
        try:
            blob = None
            if spawned:   # the dataset and functions are pickled once, large arrays into shared memory
                blob = _shared.dumps((self._dataset, self._collate_fn, loader.worker_init_fn),
                                     segment_prefix=self._prefix + 'd')
            for wid in range(self._num_workers):
                index_queue = context.Queue()
                index_queue.cancel_join_thread()
                reader, writer = context.Pipe(duplex=False)
                spec = _WorkerSpec(
                    iterable=self._iterable, auto_collation=self._auto_collation, drop_last=self._drop_last,
                    base_seed=self._base_seed, worker_id=wid, num_workers=self._num_workers,
                    segment_prefix=f'{self._prefix}{wid}_', parent_pid=os.getpid(), blob=blob, done=self._done,
                    dataset=None if spawned else self._dataset,
                    collate_fn=None if spawned else self._collate_fn,
                    worker_init_fn=None if spawned else loader.worker_init_fn,
                    inherited=[] if spawned else list(self._conns))
                worker = context.Process(target=worker_loop, args=(spec, index_queue, writer), daemon=True)
                with _single_threaded_blas() if spawned else contextlib.nullcontext():
                    worker.start()
                writer.close()
                self._index_queues.append(index_queue)
                self._conns.append(reader)
                self._workers.append(worker)
        except BaseException:
            self._shutdown_workers()
            raise
        self._owner = {conn: wid for wid, conn in enumerate(self._conns)}
        self._exiting = [False] * self._num_workers   # told to exit (a finished IterableDataset replica)
        self._reset_tasks()
        self._prefetch()

    # ------------------------------------------------------------------ epochs
    def _reset_tasks(self):
        self._send_idx = 0        # index of the next task to send
        self._rcvd_idx = 0        # index of the next batch to hand out
        self._task_worker = {}    # task index -> worker, for tasks sent and not handed out
        self._buffer = {}         # task index -> batch that arrived before its turn
        self._outstanding = 0
        self._worker_active = [not e for e in self._exiting]
        self._worker_tasks = [0] * self._num_workers
        self._worker_cycle = itertools.cycle(range(self._num_workers))

    def _prefetch(self):
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _reset(self, loader):
        super()._reset(loader)
        for wid, index_queue in enumerate(self._index_queues):
            index_queue.put(_ResumeIteration())
        acknowledged = 0
        while acknowledged < self._num_workers:   # batches of the previous epoch still in the pipes are dropped
            _, idx, _ = self._get_data()
            if isinstance(idx, _ResumeIteration):
                acknowledged += 1
        self._reset_tasks()
        self._prefetch()

    # ------------------------------------------------------------------ tasks
    def _try_put_index(self):
        max_tasks = self._prefetch_factor * self._num_workers
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        active = sum(self._worker_active)
        for _ in range(self._num_workers):
            wid = next(self._worker_cycle)
            if self._worker_active[wid] and (self._in_order or self._worker_tasks[wid] < max_tasks // active):
                break
        else:
            return
        self._index_queues[wid].put((self._send_idx, index))
        self._task_worker[self._send_idx] = wid
        self._worker_tasks[wid] += 1
        self._outstanding += 1
        self._send_idx += 1

    def _next_data(self):
        while True:
            while self._rcvd_idx < self._send_idx:   # skip tasks of workers whose stream ended
                idx = self._rcvd_idx
                if idx in self._buffer or (idx in self._task_worker and self._worker_active[self._task_worker[idx]]):
                    break
                self._task_worker.pop(idx, None)
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration
            if self._rcvd_idx in self._buffer:
                idx = self._rcvd_idx
                self._rcvd_idx += 1
                return self._process_data(self._buffer.pop(idx), self._task_worker.pop(idx))
            wid, idx, data = self._get_data()
            self._outstanding -= 1
            if isinstance(data, _IterableDatasetStopIteration):
                self._worker_ended(data.worker_id)
                self._task_worker.pop(idx, None)
                self._try_put_index()
                continue
            if idx == self._rcvd_idx:
                self._rcvd_idx += 1
                return self._process_data(data, self._task_worker.pop(idx))
            if not self._in_order:
                return self._process_data(data, self._task_worker.pop(idx))
            self._buffer[idx] = data

    def _process_data(self, data, wid):
        self._worker_tasks[wid] -= 1
        self._try_put_index()
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        return data

    def _worker_ended(self, wid):
        """A worker's IterableDataset replica is exhausted: give it no more tasks this epoch."""
        self._worker_active[wid] = False
        if not self._persistent_workers:
            self._exiting[wid] = True
            self._index_queues[wid].put(None)

    # ------------------------------------------------------------------ receiving
    def _get_data(self):
        """``(worker, task index, batch)`` of the next message from any worker; raises if a worker died."""
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            conns = [c for c in self._conns if c is not None]
            if not conns:
                raise RuntimeError("DataLoader has no running workers left to wait for")
            wait = _CHECK_INTERVAL if deadline is None else max(0.0, min(_CHECK_INTERVAL, deadline - time.monotonic()))
            ready = multiprocessing.connection.wait(conns, wait)
            for conn in ready:
                wid = self._owner[conn]
                try:
                    payload = conn.recv_bytes()
                except (EOFError, OSError):
                    self._pipe_closed(wid)
                    continue
                idx, data = _shared.loads(payload)
                return wid, idx, data
            if not ready:
                self._check_workers()
                if deadline is not None and time.monotonic() >= deadline:
                    raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")

    def _pipe_closed(self, wid):
        conn = self._conns[wid]
        conn.close()
        self._conns[wid] = None
        if self._exiting[wid]:
            return
        worker = self._workers[wid]
        worker.join(timeout=_CHECK_INTERVAL)
        self._fail(worker)

    def _check_workers(self):
        for wid, worker in enumerate(self._workers):
            if not self._exiting[wid] and not worker.is_alive():
                self._fail(worker)

    def _fail(self, worker):
        message = _death_message(worker)
        self._shutdown_workers()
        raise RuntimeError(message)

    # ------------------------------------------------------------------ shutdown
    def _drain(self, timeout):
        """Reads and drops whatever the workers sent (releasing its shared memory)."""
        conns = [c for c in self._conns if c is not None]
        if not conns:
            return
        for conn in multiprocessing.connection.wait(conns, timeout):
            wid = self._owner.get(conn) if hasattr(self, '_owner') else self._conns.index(conn)
            try:
                _shared.loads(conn.recv_bytes())
            except (EOFError, OSError):
                conn.close()
                self._conns[wid] = None
            except Exception:
                pass   # a message that cannot be rebuilt here; its segments are swept below

    def _shutdown_workers(self):
        if self._shutdown:
            return
        self._shutdown = True
        _live_iterators.discard(self)
        try:
            if hasattr(self, '_done'):
                self._done.value = 1
            for index_queue in self._index_queues:
                with contextlib.suppress(Exception):
                    index_queue.put(None)
            deadline = time.monotonic() + _JOIN_TIMEOUT
            while any(w.is_alive() for w in self._workers) and time.monotonic() < deadline:
                self._drain(0.05)
            for worker in self._workers:
                if worker.is_alive():
                    worker.terminate()
                    worker.join(timeout=1.0)
                if worker.is_alive():
                    worker.kill()
                worker.join()
            self._drain(0)
        finally:
            for conn in self._conns:
                if conn is not None:
                    conn.close()
            self._conns = [None] * len(self._conns)
            for index_queue in self._index_queues:
                with contextlib.suppress(Exception):
                    index_queue.close()
            _shared.sweep(self._prefix)

    def __del__(self):
        with contextlib.suppress(Exception):
            self._shutdown_workers()
