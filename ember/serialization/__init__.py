"""``ember.save`` and ``ember.load``: checkpoints in PyTorch's own file format.

A file written here loads with ``torch.load`` and a file written by ``torch.save``
loads here: a zip archive holding ``data.pkl`` (the pickled object, tensors as
``torch._utils._rebuild_tensor_v2`` calls whose storages are persistent ids) and one
record per storage, ``data/<key>``, 64-byte aligned.  The pre-1.6 stream format is read
too.  Loading is safe by default: ``weights_only=True`` admits only tensors,
containers, primitives and the globals registered with :func:`add_safe_globals`.

Modules: ``_pickler`` (save side), ``_unpickler`` (both unpicklers), ``_rebuild``
(torch's names as ember objects), ``_zipformat`` (the archive), ``_legacy`` (the old
format), ``_atomic`` (crash-safe replacement of a file).
"""
import contextlib
import io
import os
import pickle
import sys

import numpy as np

from ember import backend as _backend
from ember._device import CPU, device as _device_cls
from ember._tensor import Tensor
from ember.serialization import _atomic, _legacy, _rebuild, _unpickler, _zipformat
from ember.serialization._pickler import CheckpointPickler

DEFAULT_PROTOCOL = 2
STORAGE_ALIGNMENT = _zipformat.ALIGNMENT

UNSAFE_MESSAGE = (
    "In ember (as in PyTorch 2.6+), `weights_only` defaults to True in `ember.load`. Re-running `ember.load` with "
    "`weights_only` set to `False` will likely succeed, but it can result in arbitrary code execution. Do it only "
    "if you got the file from a trusted source.")

__all__ = ['save', 'load', 'add_safe_globals', 'get_safe_globals', 'clear_safe_globals', 'safe_globals',
           'get_unsafe_globals_in_checkpoint', 'DEFAULT_PROTOCOL']


# ---------------------------------------------------------------------------------------------- safe globals
def add_safe_globals(safe_globals):
    """Marks classes and functions as safe for ``weights_only=True`` loads.

    Args:
        safe_globals: a list of objects, or of ``(object, "module.name")`` pairs for objects a checkpoint
            names differently from their import path.
    """
    _unpickler.add_user_globals(safe_globals)


def get_safe_globals():
    """The objects registered with :func:`add_safe_globals`, as a list."""
    out = []
    for name, obj in _unpickler._user_globals.items():
        out.append(obj if _unpickler.global_name(obj) == name else (obj, name))
    return out


def clear_safe_globals():
    """Forgets every global registered with :func:`add_safe_globals`."""
    _unpickler._user_globals.clear()


@contextlib.contextmanager
def safe_globals(safe_globals):
    """Context manager that allowlists ``safe_globals`` for ``weights_only=True`` loads inside its block."""
    saved = dict(_unpickler._user_globals)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _unpickler._user_globals.clear()
        _unpickler._user_globals.update(saved)


# ---------------------------------------------------------------------------------------------- save
def _archive_name(f):
    """The folder name inside the zip, as torch picks it: the file's name without its last extension."""
    if not isinstance(f, (str, bytes, os.PathLike)):
        return 'archive'
    name = os.fspath(f)
    if isinstance(name, bytes):
        name = os.fsdecode(name)
    if not name.isascii():
        return 'archive'
    base = name.replace('\\', '/').rsplit('/', 1)[-1]
    if '.' in base:
        base = base[:base.rindex('.')]
    return base or 'archive'


def _pickle_object(obj, protocol):
    buffer = io.BytesIO()
    pickler = CheckpointPickler(buffer, protocol=protocol)
    pickler.dump(obj)
    return buffer.getvalue(), pickler.storages.records


def _write_archive(file, prefix, data_pkl, records, byteorder_record=True):
    writer = _zipformat.ArchiveWriter(file, prefix)
    writer.write_record('data.pkl', data_pkl)
    writer.write_record('.format_version', b'1')
    writer.write_record('.storage_alignment', str(STORAGE_ALIGNMENT).encode())
    if byteorder_record:
        writer.write_record('byteorder', sys.byteorder.encode())
    for key, data in records:
        writer.write_record(f'data/{key}', data)
    writer.write_record('version', b'3\n')
    writer.write_record('.data/serialization_id', writer.serialization_id().encode())
    writer.finish()


def _write_legacy(file, obj, protocol):
    def write_object(out):
        pickler = CheckpointPickler(out, protocol=protocol, legacy=True)
        pickler.dump(obj)
        return [(key, data, pickler.storages.itemsize_of(key)) for key, data in pickler.storages.records]
    _legacy.write_legacy(file, write_object)


def save(obj, f, pickle_module=None, pickle_protocol=DEFAULT_PROTOCOL, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Saves ``obj`` to ``f`` (a path or a writable binary file) in PyTorch's checkpoint format.

    Writing to a path is atomic: the data goes to a temporary file in the same directory, which replaces
    the target only once it is complete and on disk.

    Args:
        obj: what to save: tensors, containers of them, state dicts, numbers, strings...
        f: a path (``str`` or ``os.PathLike``) or a file-like object with ``write``.
        pickle_module: accepted for compatibility; ember always uses its own pickler.
        pickle_protocol: the pickle protocol (2, as torch, by default).
        _use_new_zipfile_serialization: False writes the legacy (pre-1.6) stream format.
    """
    if pickle_module is not None and pickle_module is not pickle:
        raise ValueError("ember.save writes with its own pickler; pickle_module must be None or pickle")
    if not 2 <= pickle_protocol <= pickle.HIGHEST_PROTOCOL:
        raise ValueError(f"pickle_protocol must be between 2 and {pickle.HIGHEST_PROTOCOL}, got {pickle_protocol}")

    def write(file):
        if _use_new_zipfile_serialization:
            data_pkl, records = _pickle_object(obj, pickle_protocol)
            _write_archive(file, _archive_name(f), data_pkl, records, not _disable_byteorder_record)
        else:
            _write_legacy(file, obj, pickle_protocol)

    if isinstance(f, (str, bytes, os.PathLike)):
        target = _atomic.resolve_target(f)
        if _atomic.needs_direct_write(target):
            with open(target, 'wb') as file:
                write(file)
        else:
            with _atomic.atomic_open(target) as file:
                write(file)
    elif hasattr(f, 'write'):
        write(f)
        flush = getattr(f, 'flush', None)
        if flush is not None:
            flush()
    else:
        raise TypeError(f"ember.save: f must be a path or a writable file object, got {type(f).__name__}")


# ---------------------------------------------------------------------------------------------- load
def _target_device(map_location, location):
    """Where a storage saved at ``location`` goes, for the non-callable forms of ``map_location``."""
    if map_location is None:
        target = location
    elif isinstance(map_location, dict):
        target = map_location.get(location, location)
    elif isinstance(map_location, (str, _device_cls)):
        target = map_location
    elif isinstance(map_location, bytes):
        target = map_location.decode()
    else:
        raise ValueError(f"map_location must be a string, device, dict or callable, got "
                         f"{type(map_location).__name__}")
    try:
        dev = _device_cls(target) if not isinstance(target, _device_cls) else target
    except RuntimeError:
        raise RuntimeError(f"don't know how to restore data location of storage at {target!r}") from None
    if dev.type == 'cuda':
        try:
            _backend.get(dev)
        except RuntimeError:
            raise RuntimeError("Attempting to deserialize object on a CUDA device but ember.cuda.is_available() "
                               "is False. If you are running on a CPU-only machine, please use ember.load with "
                               "map_location=ember.device('cpu') to map your storages to the CPU.") from None
    if dev.type == 'meta':
        raise RuntimeError("cannot load a checkpoint onto the meta device")
    return dev


def _restore_location(storage, location, map_location):
    """Applies ``map_location`` to a storage freshly read on the CPU."""
    if callable(map_location) and not isinstance(map_location, (str, _device_cls)):
        result = map_location(storage.as_tensor(), location)
        if result is not None:
            if isinstance(result, _rebuild.LoadedStorage):
                return result
            if not isinstance(result, Tensor) or result.dim() != 1 or result.dtype is not storage.dtype:
                raise RuntimeError("map_location callable must return the storage (a 1-D tensor of its dtype) or "
                                   "None")
            return _rebuild.LoadedStorage(result._data, storage.dtype, result.device)
        map_location = None
    dev = _target_device(map_location, location)
    if dev.type == 'cpu':
        return storage
    moved = storage.as_tensor().to(dev)
    return _rebuild.LoadedStorage(moved._data, storage.dtype, moved.device)


def _parse_storage_pid(pid):
    if len(pid) != 5:
        raise pickle.UnpicklingError(f"malformed storage id {pid!r:.80}")
    _, storage_type, key, location, numel = pid
    try:
        dtype = _rebuild.storage_dtype(storage_type)
    except RuntimeError as e:
        raise pickle.UnpicklingError(str(e)) from None
    if isinstance(location, bytes):
        location = location.decode('ascii', 'replace')
    if not isinstance(key, str) or not isinstance(location, str) or not isinstance(numel, int) or numel < 0:
        raise pickle.UnpicklingError(f"malformed storage id {pid!r:.80}")
    return dtype, key, location, numel


class _ZipStorages:
    """Reads each storage record of an archive once, when the pickle first refers to it."""

    def __init__(self, reader, map_location, mmap_array, big_endian):
        self._reader = reader
        self._map_location = map_location
        self._mmap = mmap_array
        self._big_endian = big_endian
        self._loaded = {}

    def __call__(self, pid):
        dtype, key, location, numel = _parse_storage_pid(pid)
        storage = self._loaded.get(key)
        if storage is not None:
            if storage.dtype is not dtype:
                raise RuntimeError(f"storage data/{key} is referenced with two dtypes ({storage.dtype} and {dtype})")
            return storage
        name = f'data/{key}'
        nbytes = numel * dtype.itemsize
        size = self._reader.record_size(name)
        if size != nbytes:
            raise RuntimeError(f"storage size mismatch: record {name} holds {size} bytes but the pickle expects "
                               f"{numel} elements of {dtype} ({nbytes} bytes); the file is corrupt")
        if self._mmap is not None:
            start = self._reader.data_offset(name)
            if start + nbytes > len(self._mmap):
                raise RuntimeError(f"PytorchStreamReader failed reading file {name}: the file is truncated")
            # one array per record, over the mapping itself: each storage is its own owner when saved again
            raw = np.frombuffer(self._mmap, dtype=np.uint8, count=nbytes, offset=start) if nbytes else None
        else:
            raw = self._reader.read_array(name)
        array = raw.view(dtype.np) if nbytes else np.empty(0, dtype=dtype.np)
        if self._big_endian and dtype.itemsize > 1:
            array = array.byteswap()
        storage = _restore_location(_rebuild.LoadedStorage(array, dtype, CPU), location, self._map_location)
        self._loaded[key] = storage
        return storage


def _unpickle(file, persistent_load, weights_only, encoding, size_limit):
    if weights_only:
        unpickler = _unpickler.WeightsUnpickler(file, persistent_load, encoding=encoding, size_limit=size_limit)
        try:
            return unpickler.load()
        except pickle.UnpicklingError as e:
            raise pickle.UnpicklingError(_weights_only_message(str(e))) from None
        except (RuntimeError, ValueError):
            raise
        except Exception as e:    # a malformed pickle may trip any check of the rebuild functions
            raise pickle.UnpicklingError(_weights_only_message(f"{type(e).__name__}: {e}")) from None
    return _unpickler.FullUnpickler(file, persistent_load, encoding=encoding).load()


def _weights_only_message(message):
    if 'was not an allowed global by default' in message:
        return ("Weights only load failed. This file can still be loaded, to do so you have two options, do those "
                f"steps only if you trust the source of the checkpoint. \n\t(1) {UNSAFE_MESSAGE}\n\t(2) "
                "Alternatively, to load with `weights_only=True` please check the recommended steps in the "
                f"following error message.\n\tWeightsUnpickler error: {message}")
    return f"Weights only load failed: {message}\n{UNSAFE_MESSAGE}"


def _file_size(file):
    position = file.tell()
    end = file.seek(0, os.SEEK_END)
    file.seek(position)
    return end - position


@contextlib.contextmanager
def _opened(f, need_path):
    if isinstance(f, (str, bytes, os.PathLike)):
        with open(f, 'rb') as file:
            yield file, os.fspath(f)
        return
    if need_path:
        raise ValueError("f must be a file path in order to use the mmap argument")
    if not hasattr(f, 'read'):
        raise TypeError(f"ember.load: f must be a path or a readable binary file object, got {type(f).__name__}")
    seekable = getattr(f, 'seekable', None)
    if seekable is not None and seekable() and hasattr(f, 'readinto'):
        yield f, None
    else:
        yield io.BytesIO(f.read()), None


def _map_file(path):
    """A private copy-on-write mapping of the file: tensors can be written, the file never changes."""
    import mmap as _mmap
    with open(path, 'rb') as file:
        return _mmap.mmap(file.fileno(), 0, access=_mmap.ACCESS_COPY)


def _load_zip(file, size, map_location, weights_only, mmap_array, encoding):
    reader = _zipformat.ArchiveReader(file, file.tell() + size)
    if not reader.has('data.pkl'):
        raise RuntimeError(f"PytorchStreamReader failed locating file data.pkl: file not found (archive "
                           f"'{reader.prefix}' is not a torch.save checkpoint; torch.jit archives are not supported)")
    big_endian = False
    if reader.has('byteorder'):
        order = reader.read_bytes('byteorder')
        if order not in (b'little', b'big'):
            raise ValueError(f"Unknown endianness type: {order.decode('latin1')!r}")
        big_endian = order == b'big'
    if reader.has('.format_version'):
        try:
            version = int(reader.read_bytes('.format_version'))
        except ValueError:
            raise RuntimeError("corrupt checkpoint: unreadable .format_version record") from None
        if version > 1:
            raise RuntimeError(f"checkpoint format version {version} is newer than ember understands (1)")
    data_pkl = reader.read_bytes('data.pkl')
    storages = _ZipStorages(reader, map_location, mmap_array, big_endian != (sys.byteorder == 'big'))
    return _unpickle(io.BytesIO(data_pkl), storages, weights_only, encoding, len(data_pkl))


def _move_tree(obj, device):
    """``obj`` with every tensor in its (nested) containers moved to ``device``."""
    if isinstance(obj, Tensor):
        return obj.to(device)
    if isinstance(obj, dict):
        for key, value in obj.items():
            obj[key] = _move_tree(value, device)
        return obj
    if isinstance(obj, list):
        obj[:] = [_move_tree(v, device) for v in obj]
        return obj
    if type(obj) is tuple:
        return tuple(_move_tree(v, device) for v in obj)
    return obj


def _load_legacy(file, size, map_location, weights_only, encoding):
    loader = _legacy.LegacyLoader(file, size)

    def unpickle(f, persistent_load):
        return _unpickle(f, persistent_load, weights_only, encoding, size)

    result = loader.load(unpickle)
    # NOTE: the storages' bytes come after the object in this format, so tensors are first made on the CPU
    # and moved afterwards when map_location sends them elsewhere (their sharing is then not kept)
    target = None
    for storage, location in loader.storages():
        restored = _restore_location(storage, location, map_location)
        if restored.device.type != 'cpu':
            target = restored.device
    return result if target is None else _move_tree(result, target)


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Loads an object saved with ``ember.save`` or ``torch.save``.

    Args:
        f: a path (``str`` or ``os.PathLike``) or a readable binary file object.
        map_location: where storages go: a device or string (``'cpu'``), a dict from saved location to
            target (``{'cuda:0': 'cpu'}``), or ``callable(storage, location)`` returning the storage to use
            (a 1-D tensor) or None for the default.
        pickle_module: accepted for compatibility (only ``pickle``); passing one without ``weights_only``
            means ``weights_only=False``, as in torch.
        weights_only: True (the default) admits only tensors, containers, primitives and allowlisted
            globals, and never runs code from the file; False unpickles anything (trusted files only).
        mmap: map the file's storages into memory instead of reading them (paths only).
        pickle_load_args: ``encoding`` for Python 2 strings (default ``'utf-8'``).

    Raises:
        pickle.UnpicklingError: the pickle is malformed or names something a weights-only load refuses.
        RuntimeError: the archive is damaged, truncated or inconsistent with its pickle.
    """
    if pickle_module is not None and pickle_module is not pickle:
        if weights_only:
            raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    if weights_only is None:
        weights_only = pickle_module is None
    encoding = pickle_load_args.pop('encoding', 'utf-8')
    if pickle_load_args:
        raise TypeError(f"ember.load() got an unexpected keyword argument '{next(iter(pickle_load_args))}'")
    with _opened(f, bool(mmap)) as (file, path):
        head = file.read(16)
        file.seek(-len(head), os.SEEK_CUR)
        size = _file_size(file)
        if head[:4] == b'PK\x03\x04' or head[:4] == b'PK\x05\x06':
            mmap_array = _map_file(path) if mmap else None
            return _load_zip(file, size, map_location, weights_only, mmap_array, encoding)
        if mmap:
            raise RuntimeError("mmap can only be used with files saved with `torch.save(_use_new_zipfile_"
                               "serialization=True)`, please torch.save your checkpoint with this option in order "
                               "to use mmap.")
        if not head:
            raise RuntimeError("cannot load an empty file (the checkpoint is truncated or was never written)")
        if _legacy.is_legacy(head):
            return _load_legacy(file, size, map_location, weights_only, encoding)
        raise pickle.UnpicklingError(f"invalid load key, {head[:1]!r}: the file is neither a checkpoint archive "
                                     "nor a legacy torch.save stream")


def get_unsafe_globals_in_checkpoint(f):
    """The ``module.name`` of every global in the checkpoint ``f`` that a ``weights_only=True`` load refuses."""
    with _opened(f, False) as (file, _):
        size = _file_size(file)
        reader = _zipformat.ArchiveReader(file, file.tell() + size)
        return _unpickler.unsafe_globals_in(reader.read_bytes('data.pkl'))
