"""What torch's pickles refer to, rebuilt as ember objects.

A checkpoint names its storage types (``torch.FloatStorage``), rebuild functions
(``torch._utils._rebuild_tensor_v2``) and classes (``torch.Size``) by torch's import
paths.  ``TORCH_GLOBALS`` maps each of those names to the ember object that stands
for it; both unpicklers look names up there.  The rebuild functions check every
number the file gives them against the storage it points into, so a damaged or
hostile file cannot make a view that reaches outside its storage.
"""
import codecs
import collections


from ember import _dtype
from ember import backend as _backend
from ember._device import CPU, device as _device_cls
from ember._tensor import Size, Tensor


class StorageType:
    """A typed storage class as a pickle names it (``torch.FloatStorage``): it stands for a dtype."""

    __slots__ = ('name', 'dtype')

    def __init__(self, name, dtype):
        self.name = name
        self.dtype = dtype

    def __repr__(self):
        return 'torch.' + self.name


def _storage_name(d):
    return d.legacy_name.replace('Tensor', 'Storage')


STORAGE_TYPES = {_storage_name(d): StorageType(_storage_name(d), d) for d in _dtype.ALL if d.np is not None}
STORAGE_TYPES['UntypedStorage'] = StorageType('UntypedStorage', _dtype.uint8)
STORAGE_TYPE_OF_DTYPE = {st.dtype: st for name, st in STORAGE_TYPES.items() if name != 'UntypedStorage'}


class LoadedStorage:
    """One storage read from a checkpoint: a 1-D array of ``dtype`` holding ``numel`` elements on ``device``."""

    __slots__ = ('array', 'dtype', 'device')

    def __init__(self, array, dtype, device=CPU):
        self.array = array
        self.dtype = dtype
        self.device = device

    @property
    def numel(self):
        return int(self.array.shape[0])

    def as_tensor(self):
        """The whole storage as a 1-D tensor sharing its memory."""
        return Tensor._make(self.array, self.device)

    def __repr__(self):
        return f"<storage of {self.numel} {self.dtype} on {self.device}>"


def _int_tuple(value, what):
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,)
    if not isinstance(value, (tuple, list)) or not all(isinstance(v, int) and not isinstance(v, bool)
                                                       for v in value):
        raise RuntimeError(f"corrupt checkpoint: tensor {what} must be a tuple of ints, got {value!r:.80}")
    return tuple(value)


def tensor_from_storage(storage, storage_offset, size, stride):
    """A tensor viewing ``storage`` at ``storage_offset`` with ``size`` and ``stride`` (in elements), bounds-checked."""
    if not isinstance(storage, LoadedStorage):
        raise RuntimeError(f"corrupt checkpoint: a tensor refers to {type(storage).__name__}, not a storage")
    size = _int_tuple(size, 'size')
    stride = _int_tuple(stride, 'stride')
    if not isinstance(storage_offset, int) or isinstance(storage_offset, bool):
        raise RuntimeError(f"corrupt checkpoint: storage offset must be an int, got {storage_offset!r:.80}")
    if len(size) != len(stride):
        raise RuntimeError(f"corrupt checkpoint: size {list(size)} and stride {list(stride)} differ in length")
    if storage_offset < 0 or any(n < 0 for n in size) or any(s < 0 for s in stride):
        raise RuntimeError(f"corrupt checkpoint: negative size, stride or offset (size {list(size)}, "
                           f"stride {list(stride)}, offset {storage_offset})")
    numel = storage.numel
    array = storage.array
    if 0 in size:
        start = min(storage_offset, numel)
    else:
        needed = storage_offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1
        if needed > numel:
            raise RuntimeError(f"corrupt checkpoint: a tensor of size {list(size)}, stride {list(stride)} and "
                               f"storage offset {storage_offset} needs {needed} elements but its storage holds "
                               f"{numel}")
        start = storage_offset
    itemsize = array.itemsize
    backend = _backend.get(storage.device)
    try:
        data = backend.as_strided(array[start:], size, tuple(s * itemsize for s in stride))
    except (ValueError, OverflowError) as e:
        raise RuntimeError(f"corrupt checkpoint: cannot make a tensor of size {list(size)}: {e}") from None
    t = Tensor._make(data, storage.device)
    if storage_offset:
        t.__dict__['_storage_offset'] = storage_offset
    return t


def _set_requires_grad(t, requires_grad):
    if not isinstance(requires_grad, bool):
        raise RuntimeError(f"corrupt checkpoint: requires_grad must be a bool, got {requires_grad!r:.80}")
    if requires_grad:
        t.requires_grad = True
    return t


def set_python_state(obj, state):
    """Restores Python attributes saved beside a tensor (torch's ``_set_obj_state``), never the tensor's internals."""
    if state is None:
        return obj
    if isinstance(state, tuple) and len(state) == 2:
        dict_state, slots_state = state
        items = list((dict_state or {}).items()) + list((slots_state or {}).items())
    elif isinstance(state, dict):
        items = list(state.items())
    else:
        raise RuntimeError(f"corrupt checkpoint: invalid tensor state of type {type(state).__name__}")
    for name, value in items:
        if not isinstance(name, str):
            raise RuntimeError("corrupt checkpoint: tensor attribute names must be strings")
        if hasattr(Tensor, name) or name in Tensor.__slots__:
            continue    # internals and properties come from the storage, not from the file
        obj.__dict__[name] = value
    return obj


def _rebuild_tensor(storage, storage_offset, size, stride):
    return tensor_from_storage(storage, storage_offset, size, stride)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None):
    t = tensor_from_storage(storage, storage_offset, size, stride)
    return _set_requires_grad(t, requires_grad)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype,
                       metadata=None):
    if not isinstance(dtype, _dtype.dtype) or dtype.np is None:
        raise RuntimeError(f"corrupt checkpoint: {dtype!r:.80} is not a dtype ember supports")
    if isinstance(storage, LoadedStorage) and storage.dtype is not dtype:
        array = storage.array
        if array.nbytes % dtype.itemsize:
            raise RuntimeError(f"corrupt checkpoint: a storage of {array.nbytes} bytes cannot hold {dtype} "
                               "elements")
        storage = LoadedStorage(array.view(dtype.np), dtype, storage.device)
    return _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks)


def _parameter_class():
    from ember.nn.parameter import Parameter
    return Parameter


def _rebuild_parameter(data, requires_grad, backward_hooks):
    if not isinstance(data, Tensor):
        raise RuntimeError(f"corrupt checkpoint: a Parameter wraps {type(data).__name__}, not a tensor")
    if not isinstance(requires_grad, bool):
        raise RuntimeError(f"corrupt checkpoint: requires_grad must be a bool, got {requires_grad!r:.80}")
    return _parameter_class()(data, requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    return set_python_state(_rebuild_parameter(data, requires_grad, backward_hooks), state)


REBUILD_FUNCTIONS = (_rebuild_tensor, _rebuild_tensor_v2, _rebuild_tensor_v3, _rebuild_parameter,
                     _rebuild_parameter_with_state)


def _rebuild_from_type_v2(func, new_type, args, state):
    if func not in REBUILD_FUNCTIONS:
        raise RuntimeError(f"corrupt checkpoint: {func!r:.80} is not a tensor rebuild function")
    if not isinstance(args, tuple):
        raise RuntimeError("corrupt checkpoint: rebuild arguments must be a tuple")
    t = func(*args)
    if new_type is _parameter_class() and not isinstance(t, new_type):
        t = new_type(t, t.requires_grad)
    return set_python_state(t, state)


def _get_layout(name):
    import ember
    if name != 'torch.strided':
        raise RuntimeError(f"ember supports only the strided layout, the checkpoint asks for {name!r:.80}")
    return ember.strided


def _torch_globals():
    """``'module.name'`` as torch pickles it -> the ember object, for every global a weights-only load admits."""
    table = {
        'collections.OrderedDict': collections.OrderedDict,
        'collections.Counter': collections.Counter,
        'torch.nn.parameter.Parameter': _parameter_class(),
        'torch.serialization._get_layout': _get_layout,
        'torch.Size': Size,
        'torch.Tensor': Tensor,
        'torch.device': _device_cls,
        '_codecs.encode': codecs.encode,
        'builtins.bytearray': bytearray,
        'builtins.set': set,
        'builtins.complex': complex,
        'torch._tensor._rebuild_from_type_v2': _rebuild_from_type_v2,
    }
    for f in REBUILD_FUNCTIONS:
        table['torch._utils.' + f.__name__] = f
    for name, storage_type in STORAGE_TYPES.items():
        table['torch.' + name] = storage_type
    table['torch.storage.UntypedStorage'] = STORAGE_TYPES['UntypedStorage']
    for d in _dtype.ALL:
        if d.np is not None:
            table['torch.' + d.name] = d
    for alias, d in _dtype.ALIASES.items():
        if d is not None and d.np is not None:
            table['torch.' + alias] = d
    return table


_TABLE = None


def torch_globals():
    """The cached table of :func:`_torch_globals`."""
    global _TABLE
    if _TABLE is None:
        _TABLE = _torch_globals()
    return _TABLE


def storage_dtype(storage_type):
    """The dtype a storage type in a persistent id stands for."""
    if isinstance(storage_type, StorageType):
        return storage_type.dtype
    if isinstance(storage_type, _dtype.dtype) and storage_type.np is not None:
        return storage_type
    raise RuntimeError(f"corrupt checkpoint: {storage_type!r:.80} is not a storage type")

