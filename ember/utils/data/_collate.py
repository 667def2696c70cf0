"""``default_collate`` and ``default_convert``: turning a list of samples into a batch.

The rules are torch's: tensors are stacked along a new first dimension, NumPy
arrays and scalars become tensors, Python ints/floats/bools become int64/
float64/bool tensors, strings stay a list, and mappings, named tuples and
sequences are collated field by field.  Stacking works on whole arrays; in a
worker process the stacked array is allocated in shared memory, so it reaches
the main process without a copy.
"""
import collections.abc
import copy
import re

import numpy as np

import ember
from ember.utils.data import _shared

__all__ = ['collate', 'default_collate', 'default_convert', 'default_collate_fn_map']

np_str_obj_array_pattern = re.compile(r'[SaUO]')

default_collate_err_msg_format = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
                                  "found {}")


# ------------------------------------------------------------------------------------------ batched fetch
def gather_columns(tensors, indices):
    """``[t[indices] for t in tensors]`` as NumPy arrays, one gather each (into shared memory in a worker).

    Returns None when a tensor is not a plain cpu tensor (the caller then fetches sample by sample).
    """
    arrays = []
    for t in tensors:
        if t.requires_grad or t.device.type != 'cpu' or t.dim() == 0:
            return None
        arrays.append(np.asarray(t))
    index = np.asarray(indices, dtype=np.intp)
    if index.ndim != 1:
        return None
    columns = []
    for a in arrays:
        bad = (index >= len(a)) | (index < -len(a))
        if bad.any():
            raise IndexError(f"index {int(index[bad][0])} is out of bounds for dimension 0 with size {len(a)}")
        out = _shared.empty_shared((index.size,) + a.shape[1:], a.dtype)
        np.take(a, index, axis=0, out=out)
        columns.append(out)
    return columns


def rows_of(columns):
    """The samples (tuples of tensors, one per column) of gathered columns."""
    return list(zip(*[[ember.from_numpy(c[i, ...]) for i in range(len(c))] for c in columns]))


# ------------------------------------------------------------------------------------------------ collate
def _from_arrays(arrays, batch):
    """Stacks same-shaped NumPy arrays into one tensor (shared memory in a worker)."""
    first = arrays[0]
    shape, dtype = first.shape, first.dtype
    for i, a in enumerate(arrays):
        if a.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 and "
                               f"{list(a.shape)} at entry {i}")
        if a.dtype != dtype:
            return ember.stack([ember.as_tensor(b) for b in batch], 0)   # mixed dtypes: torch's promotion
    if _shared.enabled():
        out = _shared.empty_shared((len(arrays),) + shape, dtype)
        np.stack(arrays, out=out)
    else:
        out = np.array(arrays)
    return ember.from_numpy(out)


def collate_tensor_fn(batch, *, collate_fn_map=None):
    """Stacks a list of tensors along a new first dimension."""
    for t in batch:
        if t.requires_grad or t.device.type != 'cpu':
            return ember.stack(batch, 0)
    return _from_arrays([np.asarray(t) for t in batch], batch)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    """Stacks NumPy arrays into a tensor (string and object arrays are refused, as in torch)."""
    elem = batch[0]
    if np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    return _from_arrays(batch, batch)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    """A tensor of NumPy scalars, keeping their dtype."""
    return ember.from_numpy(np.array(batch))


def collate_float_fn(batch, *, collate_fn_map=None):
    """A float64 tensor of Python floats."""
    return ember.from_numpy(np.array(batch, dtype=np.float64))


def collate_int_fn(batch, *, collate_fn_map=None):
    """An int64 (or bool) tensor of Python ints (or bools)."""
    types = set(map(type, batch))
    if types == {int}:
        return ember.from_numpy(np.array(batch, dtype=np.int64))
    if types == {bool}:
        return ember.from_numpy(np.array(batch, dtype=np.bool_))
    return ember.tensor(batch)


def collate_str_fn(batch, *, collate_fn_map=None):
    """Strings and bytes stay a list."""
    return batch


default_collate_fn_map = {
    ember.Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def collate(batch, *, collate_fn_map=None):
    """Collates ``batch`` element type by element type, with ``collate_fn_map`` for the leaves (torch's rules)."""
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        fields = {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem}
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update(fields)
                return clone
            return elem_type(fields)
        except TypeError:
            return fields
    if isinstance(elem, tuple) and hasattr(elem, '_fields'):   # namedtuple
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        it = iter(batch)
        elem_size = len(next(it))
        if not all(len(e) == elem_size for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)]
        if isinstance(elem, tuple):
            return columns   # a list, as torch returns for tuples
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, column in enumerate(columns):
                    clone[i] = column
                return clone
            return elem_type(columns)
        except TypeError:
            return columns
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def default_collate(batch):
    """Puts each data field into a tensor with an outer batch dimension (torch's ``default_collate``).

    Tensors are stacked; NumPy arrays and scalars, ints, floats and bools become tensors; strings and
    bytes stay lists; mappings, named tuples and sequences are collated field by field.

    Args:
        batch: a list of samples.
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)


def default_convert(data):
    """Converts NumPy arrays (also inside mappings, named tuples and sequences) into tensors.

    The collate function of a DataLoader without batching (``batch_size=None``).
    """
    elem_type = type(data)
    if isinstance(data, ember.Tensor):
        return data
    if elem_type.__module__ == 'numpy' and elem_type.__name__ not in ('str_', 'string_'):
        if elem_type.__name__ == 'ndarray' and np_str_obj_array_pattern.search(data.dtype.str) is not None:
            return data
        return ember.from_numpy(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        fields = {key: default_convert(data[key]) for key in data}
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update(fields)
                return clone
            return elem_type(fields)
        except TypeError:
            return fields
    if isinstance(data, tuple) and hasattr(data, '_fields'):   # namedtuple
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        converted = [default_convert(d) for d in data]
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(converted):
                    clone[i] = d
                return clone
            return elem_type(converted)
        except TypeError:
            return converted
    return data
