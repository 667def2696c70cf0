"""Moving batches from DataLoader workers to the main process through POSIX shared memory.

A worker collates each large array of a batch straight into a shared-memory
segment (``empty_shared``) and sends only a small pickle naming the segment.
The main process maps the segment, unlinks its name at once (the mapping stays
valid until the last array that uses it is freed, then the memory goes back to
the system) and wraps the mapped memory as the batch's tensors: no copy on the
main side.  Arrays that are not in a segment yet are copied into one while they
are pickled (large ones) or pickled inline (small ones, where a segment's system
calls cost more than the copy).

Every segment name starts with a prefix unique to one DataLoader iterator, so a
segment whose message never reached the main process (the loop was left early,
a worker died mid-send) is found and unlinked by ``sweep(prefix)`` at shutdown.
Where POSIX shared memory is missing everything is pickled inline.
"""
import io
import itertools
import mmap
import os
import pickle
import weakref

import numpy as np

import ember

try:
    import _posixshmem
except ImportError:  # not a POSIX system: batches are pickled inline
    _posixshmem = None

INLINE_LIMIT = 16 * 1024   # arrays below this many bytes travel inside the pickle
_SHM_DIR = '/dev/shm'

_owned = {}                # id(mmap) -> (weakref to it, segment name, size, address of its first byte)
_prefix = None             # the name prefix of segments this worker creates (None: not a worker)
_counter = itertools.count()
_unsent = []               # names created for the task in progress (unlinked if it fails)


def set_prefix(prefix):
    """Makes this process create segments named ``prefix<n>`` (called once in each worker)."""
    global _prefix
    _prefix = prefix if _posixshmem is not None else None


def enabled():
    """True in a worker process that sends batches through shared memory."""
    return _prefix is not None


def _create(size, prefix=None, track=True):
    name = f'{prefix or _prefix}{next(_counter)}'
    fd = _posixshmem.shm_open(name, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    try:
        os.ftruncate(fd, size)
        if hasattr(os, 'posix_fallocate'):
            # NOTE: reserve the pages now: a full /dev/shm then fails here with ENOSPC instead of
            # killing the worker with SIGBUS on first write.
            os.posix_fallocate(fd, 0, size)
        buf = mmap.mmap(fd, size)
    except BaseException:
        _posixshmem.shm_unlink(name)
        raise
    finally:
        os.close(fd)
    if track:
        _unsent.append(name)
    key = id(buf)
    address = np.frombuffer(buf, dtype=np.uint8).__array_interface__['data'][0]
    _owned[key] = (weakref.ref(buf, lambda _ref, key=key: _owned.pop(key, None)), name, size, address)
    return buf


def empty_shared(shape, dtype):
    """An uninitialised array in a new shared-memory segment, or an ordinary one when sharing is off or fails."""
    dtype = np.dtype(dtype)
    size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if _prefix is None or size < INLINE_LIMIT:
        return np.empty(shape, dtype)
    try:
        buf = _create(size)
    except OSError:   # /dev/shm full or unavailable: fall back to pickling the batch
        return np.empty(shape, dtype)
    return np.frombuffer(buf, dtype=dtype).reshape(shape)


def _segment_of(array):
    """``(mmap, name, size, address)`` of the segment ``array`` lives in, or None."""
    base = array
    while isinstance(base, np.ndarray):
        base = base.base
    if isinstance(base, memoryview):
        base = base.obj
    entry = _owned.get(id(base))
    if entry is not None and entry[0]() is base:
        return base, entry[1], entry[2], entry[3]
    return None


def task_sent():
    """The batch's message went out: its segments now belong to the main process."""
    _unsent.clear()


def task_failed():
    """The batch was not sent: unlink the segments made for it."""
    for name in _unsent:
        try:
            _posixshmem.shm_unlink(name)
        except OSError:
            pass
    _unsent.clear()


# ---------------------------------------------------------------------------------------------- pickling
def _attach(name, size, unlink=True):
    """Maps segment ``name`` (and, by default, unlinks its name: the mapping lives on)."""
    fd = _posixshmem.shm_open(name, os.O_RDWR, 0o600)
    try:
        buf = mmap.mmap(fd, size)
    finally:
        os.close(fd)
        if unlink:
            _posixshmem.shm_unlink(name)
    return buf


def _rebuild_array(buf, offset, shape, strides, dtype):
    return np.ndarray(shape, dtype, buffer=buf, offset=offset, strides=strides)


def _rebuild_tensor(array, requires_grad, device):
    tensor = ember.from_numpy(array)
    if device != 'cpu':
        tensor = tensor.to(device)
    if requires_grad:
        tensor.requires_grad_(True)
    return tensor


class _SegmentRef:
    """Pickles as "map this segment": pickle's memo makes several arrays in one segment share one mapping."""

    def __init__(self, name, size, unlink):
        self.args = (name, size, unlink)

    def __reduce__(self):
        return _attach, self.args


class BatchPickler(pickle.Pickler):
    """Pickles ember tensors and NumPy arrays by segment name (large) or inline (small).

    ``segment_prefix`` (used by the main process for the dataset it sends to spawned workers,
    which several processes map) names the segments this pickler creates and leaves them linked;
    the main process sweeps them at shutdown.
    """

    def __init__(self, file, segment_prefix=None):
        super().__init__(file, protocol=5)
        self._keep = segment_prefix is not None
        self._new_prefix = segment_prefix or _prefix
        self._refs = {}

    def reducer_override(self, obj):
        cls = type(obj)
        if cls is ember.Tensor:
            return self._reduce_tensor(obj)
        if cls is np.ndarray and not obj.dtype.hasobject and obj.nbytes >= INLINE_LIMIT and _posixshmem:
            return self._reduce_array(obj)
        return NotImplemented

    def _reduce_tensor(self, tensor):
        if tensor.grad_fn is not None:
            raise RuntimeError("Cowardly refusing to serialize non-leaf tensor which requires_grad, since autograd "
                               "does not support crossing process boundaries.  If you just want to transfer the data, "
                               "call detach() on the tensor before serializing (e.g., putting it on the queue).")
        return _rebuild_tensor, (np.asarray(tensor.detach().cpu()), tensor.requires_grad, str(tensor.device))

    def _reduce_array(self, array):
        found = _segment_of(array)
        if found is None:
            if self._new_prefix is None:
                return NotImplemented
            try:
                buf = _create(array.nbytes, self._new_prefix, track=not self._keep)
            except OSError:
                return NotImplemented
            copy = np.frombuffer(buf, dtype=array.dtype).reshape(array.shape)
            np.copyto(copy, array)
            found = _segment_of(copy)
            array = copy
        buf, name, size, address = found
        ref = self._refs.get(name)
        if ref is None:
            ref = self._refs[name] = _SegmentRef(name, size, not self._keep)
        offset = array.__array_interface__['data'][0] - address
        return _rebuild_array, (ref, offset, array.shape, array.strides, array.dtype)


def dumps(obj, segment_prefix=None):
    """``obj`` pickled with ``BatchPickler``."""
    out = io.BytesIO()
    BatchPickler(out, segment_prefix).dump(obj)
    return out.getvalue()


loads = pickle.loads


def sweep(prefix):
    """Unlinks every segment whose name starts with ``prefix`` (left over by an interrupted transfer)."""
    if _posixshmem is None or not os.path.isdir(_SHM_DIR):
        return
    stem = prefix.lstrip('/')
    try:
        names = [n for n in os.listdir(_SHM_DIR) if n.startswith(stem)]
    except OSError:
        return
    for name in names:
        try:
            _posixshmem.shm_unlink('/' + name)
        except OSError:
            pass
