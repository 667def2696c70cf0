"""Pickling a checkpoint the way ``torch.save`` does.

Tensors become ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
requires_grad, OrderedDict())`` with the storage as a persistent id
``('storage', torch.<Type>Storage, key, location, numel)``; Parameters wrap that in
``torch._utils._rebuild_parameter``; ``Size``, dtypes and devices are written under
torch's names.  The names must be written as torch's even though ``torch`` may not be
importable here, so this pickler (Python's own pure-Python one) writes those GLOBAL
opcodes itself instead of looking the objects up by import.

Storage sharing comes from NumPy memory: every tensor whose array lives in the same
owning buffer (a view, a detached alias, a slice) points into one storage, written once.
"""
import collections
import pickle

import numpy as np

from ember import _dtype
from ember import backend as _backend
from ember._device import device as _device_cls
from ember._tensor import Size, Tensor
from ember.serialization._rebuild import STORAGE_TYPE_OF_DTYPE


class TorchName:
    """A global as torch's pickles name it (``torch._utils _rebuild_tensor_v2``)."""

    __slots__ = ('module', 'name')
    _cache = {}

    def __new__(cls, module, name):
        key = (module, name)
        obj = cls._cache.get(key)
        if obj is None:
            obj = object.__new__(cls)
            obj.module, obj.name = module, name
            cls._cache[key] = obj
        return obj

    def __repr__(self):
        return f'{self.module}.{self.name}'

    def __call__(self, *args):
        # pickle requires a reduce function to be callable; this one is only ever written, never called
        raise TypeError(f"{self!r} is a name written into checkpoints, not a function")


_REBUILD_TENSOR = TorchName('torch._utils', '_rebuild_tensor_v2')
_REBUILD_PARAMETER = TorchName('torch._utils', '_rebuild_parameter')
_TORCH_SIZE = TorchName('torch', 'Size')
_TORCH_DEVICE = TorchName('torch', 'device')
_STORAGE_NAMES = {d: TorchName('torch', st.name) for d, st in STORAGE_TYPE_OF_DTYPE.items()}


class StorageRef:
    """Where a pickled tensor's storage goes: its key in the archive."""

    __slots__ = ('key', 'dtype', 'location', 'numel')

    def __init__(self, key, dtype, location, numel):
        self.key, self.dtype, self.location, self.numel = key, dtype, location, numel


def owner_of(array):
    """The array that owns the memory ``array`` views: follows ``.base`` through NumPy views, including the
    ``as_strided`` ones (whose base is a ``DummyArray`` wrapping the viewed array)."""
    root = array
    while True:
        base = root.base
        if isinstance(base, np.ndarray):
            root = base
        elif base is not None and type(base).__name__ == 'DummyArray' and isinstance(base.base, np.ndarray):
            root = base.base
        else:
            return root


def _flat_bytes(root):
    """The owner's whole buffer as a 1-D uint8 array, or None when it is not one contiguous block."""
    if root.flags.c_contiguous:
        flat = root.reshape(-1)
    elif root.flags.f_contiguous:
        flat = root.T.reshape(-1)
    else:
        return None
    return flat.view(np.uint8) if flat.size else np.empty(0, np.uint8)


class StorageTable:
    """The storages met while pickling, each with its key, in first-met order."""

    def __init__(self):
        self._by_owner = {}     # (id(owner buffer), dtype) -> StorageRef
        self.records = []       # (key, 1-D uint8 array of the storage's bytes)
        self._keep = []         # owners stay alive so their ids stay unique while saving
        self._itemsizes = []

    def _new(self, dtype, location, data_bytes):
        key = str(len(self.records))
        ref = StorageRef(key, dtype, location, data_bytes.nbytes // dtype.itemsize)
        self.records.append((key, data_bytes))
        self._itemsizes.append(dtype.itemsize)
        return ref

    def itemsize_of(self, key):
        return self._itemsizes[int(key)]

    def locate(self, t):
        """(storage ref, storage offset, stride) for tensor ``t`` in elements."""
        d = t._dtype
        if d.np is None:
            raise RuntimeError(f"cannot save a tensor of dtype {d}")
        if t._device.type == 'meta':
            raise RuntimeError("cannot save a meta tensor: it has no data")
        if t._device.type != 'cpu':
            # sharing between device tensors is not tracked: each is written from a host copy
            host = np.array(_backend.get(t._device).to_numpy(t._data), order="C", copy=None)
            ref = self._new(d, str(t._device) if t._device.index is not None else t._device.type + ':0',
                            _flat_bytes(host))
            return ref, 0, _contiguous_strides(host.shape)
        arr = t._data
        if arr.dtype.byteorder == '>':
            arr = arr.astype(arr.dtype.newbyteorder('<'))
        placed = self._place_in_owner(arr, d)
        if placed is not None:
            return placed
        copy = np.array(arr, order="C", copy=None)
        return self._new(d, 'cpu', _flat_bytes(copy)), 0, _contiguous_strides(copy.shape)

    def _place_in_owner(self, arr, d):
        itemsize = d.itemsize
        if any(s < 0 or s % itemsize for s in arr.strides):
            return None
        root = owner_of(arr)
        key = (id(root), d)
        ref = self._by_owner.get(key)
        if ref is None:
            flat = _flat_bytes(root)
            if flat is None or flat.nbytes % itemsize:
                return None
            ref = self._new(d, 'cpu', flat)
            self._by_owner[key] = ref
            self._keep.append(root)
        flat = self.records[int(ref.key)][1]
        start = flat.__array_interface__['data'][0]
        begin = arr.__array_interface__['data'][0] - start
        if begin < 0 or begin % itemsize:
            return None
        offset = begin // itemsize
        stride = tuple(s // itemsize for s in arr.strides)
        if arr.size and offset + sum((n - 1) * s for n, s in zip(arr.shape, stride)) >= ref.numel:
            return None
        return ref, offset, stride


def _contiguous_strides(shape):
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def _device_args(d):
    # NOTE: a fresh string, as torch's device makes one: otherwise the pickle memo would share it with the
    # storages' 'cpu' location and the bytes would differ from torch's
    kind = d.type.encode().decode()
    return (kind,) if d.index is None else (kind, d.index)


class CheckpointPickler(pickle._Pickler):
    """Pickles ember objects under torch's names, with tensors' storages as persistent ids."""

    dispatch = pickle._Pickler.dispatch.copy()

    def __init__(self, file, protocol=2, legacy=False):
        super().__init__(file, protocol=protocol)
        self.storages = StorageTable()
        self._legacy = legacy

    def persistent_id(self, obj):
        if type(obj) is StorageRef:
            if self._legacy:    # the old format adds view metadata (always None since torch 1.0)
                return ('storage', _STORAGE_NAMES[obj.dtype], obj.key, obj.location, obj.numel, None)
            return ('storage', _STORAGE_NAMES[obj.dtype], obj.key, obj.location, obj.numel)
        return None

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            return self._reduce_tensor(obj)
        cls = type(obj)
        if cls is Size:
            return _TORCH_SIZE, (tuple(obj),)
        if cls is _device_cls:
            return _TORCH_DEVICE, _device_args(obj)
        return NotImplemented

    def _reduce_tensor(self, t):
        if getattr(type(t), '_is_param', False):
            return _REBUILD_PARAMETER, (t.detach(), t._requires_grad, collections.OrderedDict())
        ref, offset, stride = self.storages.locate(t)
        return _REBUILD_TENSOR, (ref, offset, tuple(t._data.shape), stride, t._requires_grad,
                                 collections.OrderedDict())

    def _save_torch_name(self, obj):
        self.write(pickle.GLOBAL + f'{obj.module}\n{obj.name}\n'.encode('utf-8'))
        self.memoize(obj)

    def _save_dtype(self, obj):
        self.write(pickle.GLOBAL + f'torch\n{obj.name}\n'.encode('utf-8'))
        self.memoize(obj)

    dispatch[TorchName] = _save_torch_name
    dispatch[_dtype.dtype] = _save_dtype
