"""Indexing: ``x[index]``, ``x[index] = value``, ``index_put``, ``nonzero``.

``getitem`` reads an index the way PyTorch does, left to right: integers,
slices and ``None`` (and the ``...`` between them) make a strided VIEW of the
input (one ``basic_view`` op, whose strides and storage offset are PyTorch's);
tensors, lists and bool masks met on the way are noted against the dims of
that view and applied afterwards by the ``index`` op, which copies.  Where the
advanced dims land follows PyTorch (and NumPy, once the integers are gone):
next to each other they stay in place, separated by a slice they go first.

``setitem`` writes through the same path: a basic index becomes an in-place
copy into the view (so the base's history is rewritten by ``copy_slices``), an
advanced one becomes ``index_put_``.  Index arrays travel as op params, not as
op inputs: the rules need only them and the input's shape, so an in-place edit
of the indexed tensor after the read does not invalidate its backward.
"""
import numpy as np

from ember import _dtype
from ember import backend as _backend
from ember._tensor import Tensor
from ember.autograd import grad_mode
from ember.ops._dispatch import apply, apply_inplace, _check_inplace_target, scalar_type_name, unrecorded_view
from ember.ops._registry import Sample, ErrorSample, defop
from ember.ops._index_util import accumulate_flat, advanced_key, advanced_positions

_grad_state = grad_mode._state
_SCALARS = (bool, int, float, complex)


# ----------------------------------------------------------------------------- basic view (ints, slices, None)

def _view_geometry(a, key):
    """PyTorch's strides and storage offset (bytes, from ``a``'s first element) for ``a[key]``.

    They differ from NumPy's in two places: a ``None`` gets the stride unsqueeze would give it
    (NumPy gives 0), and an empty slice still moves the offset (NumPy leaves the pointer).
    """
    shape = list(a.shape)
    strides = list(a.strides)
    offset = 0
    d = 0
    for k in key:
        if k is None:
            strides.insert(d, shape[d] * strides[d] if d < len(shape) else a.itemsize)
            shape.insert(d, 1)
            d += 1
        elif k.__class__ is slice:
            offset += k.start * strides[d]
            shape[d] = len(range(k.start, k.stop, k.step))
            strides[d] *= k.step
            d += 1
        else:
            offset += k * strides[d]
            del shape[d]
            del strides[d]
    return tuple(strides), offset


def _basic_view_kernel(xp, a, key):
    view = a[key + (Ellipsis,)]  # the Ellipsis keeps a 0-d result an array view, not a scalar
    if view.size == 0 or None in key:
        strides, offset = _view_geometry(a, key)
        b = _backend.of_array(a)
        start = view
        if view.size == 0:
            n = offset // a.itemsize
            start = b.as_strided(a, (n + 1,), (a.itemsize,))[n:]
        view = b.as_strided(start, view.shape, strides)
    return view


def _basic_view_rule(F, ctx, grad):
    return F.basic_view_backward(grad, shape=ctx.input_meta[0][0], key=ctx.params['key'])


def _basic_view_op(name, grad_name):
    op = defop(name, view=True, dtypes='all', grad_name=grad_name, public='Tensor.__getitem__')(_basic_view_kernel)
    op.derivative(_basic_view_rule)
    return op


# one kernel, four names: grad_fn says what the last step of the index was, as PyTorch's does
_select = _basic_view_op('basic_view', 'SelectBackward0')
_slice = _basic_view_op('basic_view_slice', 'SliceBackward0')
_unsqueeze = _basic_view_op('basic_view_unsqueeze', 'UnsqueezeBackward0')
_alias = _basic_view_op('basic_view_alias', 'AliasBackward0')
_VIEW_OPS = {int: _select, slice: _slice, None: _unsqueeze, Ellipsis: _alias}


@defop('basic_view_backward', dtypes='all', public=None)
def _basic_view_backward(xp, grad, shape, key):
    """Zeros of ``shape`` with ``grad`` written where ``x[key]`` reads."""
    out = xp.zeros(shape, dtype=grad.dtype)
    out[key + (Ellipsis,)] = grad
    return out


@_basic_view_backward.derivative
def _(F, ctx, grad):
    return F.basic_view(grad, key=ctx.params['key'])


# ----------------------------------------------------------------------------- index (advanced, copies)

@defop('index', dtypes='all', grad_name='IndexBackward0', public='Tensor.__getitem__')
def _index(xp, a, indices, dims):
    return a[advanced_key(indices, dims, a.ndim)]


@_index.derivative
def _(F, ctx, grad):
    p = ctx.params
    zeros = F.zeros(ctx.input_meta[0][0], grad)
    return F.index_put(zeros, grad, indices=p['indices'], dims=p['dims'], accumulate=True)


@defop('index_put', dtypes='all')
def _index_put(xp, a, values, indices, dims, accumulate):
    out = a.copy()
    if accumulate:
        positions = advanced_positions(xp, a.shape, indices, dims)
        values = xp.broadcast_to(xp.asarray(values, dtype=a.dtype), positions.shape)
        accumulate_flat(xp, out.reshape(-1), positions, values)
    else:
        out[advanced_key(indices, dims, a.ndim)] = values
    return out


@_index_put.derivative
def _(F, ctx, grad):
    p = ctx.params
    ga = gv = None
    if ctx.needs_input_grad[0]:
        ga = grad if p['accumulate'] else F.index_put(grad, 0, indices=p['indices'], dims=p['dims'],
                                                      accumulate=False)
    if ctx.needs_input_grad[1]:
        gv = F.index(grad, indices=p['indices'], dims=p['dims'])
    return ga, gv


# ----------------------------------------------------------------------------- parsing an index

def _as_index_array(value, xp):
    """A list / NumPy array used as an index, as an array (bool stays bool, ints become int64)."""
    arr = np.asarray(value)
    if arr.dtype.kind == 'b':
        return xp.asarray(arr)
    if arr.size == 0 or arr.dtype.kind in 'iu':
        return xp.asarray(arr.astype(np.int64))
    raise IndexError("tensors used as indices must be long, int, byte or bool tensors")


def _sequence_as_tuple(index):
    """PyTorch reads a short list holding slices, None, ... or sequences as a tuple of indices."""
    if len(index) >= 32:
        return False
    for item in index:
        if item is None or item is Ellipsis or isinstance(item, (slice, list, tuple, Tensor)):
            return True
    return False


def _mask_indices(xp, mask, shape, dim):
    """The int64 index arrays of a bool ``mask`` applied at ``dim`` of a tensor of ``shape``."""
    for i, n in enumerate(mask.shape):
        if dim + i >= len(shape) or shape[dim + i] != n:
            raise IndexError(f"The shape of the mask {list(mask.shape)} at index {i} does not match the shape of "
                             f"the indexed tensor {list(shape)} at index {dim + i}")
    return [i.astype(np.int64, copy=False) for i in xp.nonzero(mask)]


def _parse(x, index):
    """Splits ``index`` into a basic key (ints, slices, None) and advanced (dims, arrays) on its result.

    Returns ``(key, view_op, adv_dims, adv_arrays, view_shape)``: ``x[key]`` is the view, the
    advanced arrays (raw, bool masks already turned into int arrays) index dims of that view.
    """
    xp = _backend.get(x._device).xp
    if index.__class__ is not tuple:
        if index.__class__ is list and _sequence_as_tuple(index):
            index = tuple(index)
        else:
            index = (index,)
    shape = list(x._data.shape)
    ndim = len(shape)
    consumed = 0
    for item in index:
        if isinstance(item, Tensor):
            consumed += item._data.ndim if item._dtype in (_dtype.bool_, _dtype.uint8) else 1
        elif isinstance(item, np.ndarray):
            consumed += item.ndim if item.dtype.kind == 'b' else 1
        elif item is None or item is Ellipsis or item.__class__ is bool:
            continue
        else:
            consumed += 1
    if consumed > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")

    key = []
    last = Ellipsis
    adv_dims, adv_arrays = [], []
    d = 0
    seen_ellipsis = False
    for item in index:
        cls = item.__class__
        if isinstance(item, Tensor) and item._data.ndim == 0 and item._dtype.category == _dtype.INT \
                and item._dtype is not _dtype.uint8:
            item, cls = int(item.item()), int
        elif isinstance(item, np.integer):
            item, cls = int(item), int
        if cls is int:
            n = shape[d]
            if not -n <= item < n:
                raise IndexError(f"index {item} is out of bounds for dimension {d} with size {n}")
            key.append(item + n if item < 0 else item)
            del shape[d]
            last = int
        elif cls is slice:
            if item.step is not None and item.step <= 0:
                raise ValueError("step must be greater than zero")
            start, stop, step = item.indices(shape[d])
            if item.start is not None or item.stop is not None or step != 1:
                last = slice
            elif len(index) == 1:
                last = slice
            key.append(slice(start, stop, step))
            shape[d] = len(range(start, stop, step))
            d += 1
        elif item is None:
            key.append(None)
            shape.insert(d, 1)
            d += 1
            last = None
        elif item is Ellipsis:
            if seen_ellipsis:
                raise IndexError("an index can only have a single ellipsis ('...')")
            seen_ellipsis = True
            skip = ndim - consumed
            key.extend([slice(0, n, 1) for n in shape[d:d + skip]])
            d += skip
        elif cls is bool or (isinstance(item, Tensor) and item._data.ndim == 0 and item._dtype is _dtype.bool_):
            # a scalar bool is a new dim of size 1 (True) or 0 (False), indexed like a mask
            key.append(None)
            shape.insert(d, 1)
            adv_dims.append(d)
            adv_arrays.append(xp.zeros(1 if bool(item) else 0, dtype=np.int64))
            d += 1
        else:
            if isinstance(item, Tensor):
                arr = item._data
                if arr.dtype.kind == 'u' and arr.dtype.itemsize == 1:
                    arr = arr.astype(bool)
                elif arr.dtype.kind != 'b' and item._dtype not in (_dtype.int64, _dtype.int32):
                    raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            elif isinstance(item, (list, tuple, np.ndarray)):
                arr = _as_index_array(item, xp)
            else:
                raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                                 f"are valid indices (got {type(item).__name__})")
            # the view keeps the dims an advanced index reads (full slices in the key)
            if arr.dtype.kind == 'b':
                for idx in _mask_indices(xp, arr, shape, d):
                    key.append(slice(0, shape[d], 1))
                    adv_dims.append(d)
                    adv_arrays.append(idx)
                    d += 1
            else:
                key.append(slice(0, shape[d], 1))
                adv_dims.append(d)
                adv_arrays.append(arr)
                d += 1
    if adv_arrays:
        adv_arrays = _check_advanced(xp, adv_arrays, adv_dims, shape)
    return tuple(key), _VIEW_OPS[last], adv_dims, adv_arrays, tuple(shape)


def _check_advanced(xp, arrays, dims, shape):
    """Bounds-checks the index arrays, makes them int64 and non-negative, checks they broadcast."""
    out = []
    for arr, d in zip(arrays, dims):
        n = shape[d]
        if arr.dtype != np.int64:
            arr = arr.astype(np.int64)
        if arr.size:
            lo, hi = int(arr.min()), int(arr.max())
            if hi >= n or lo < -n:
                raise IndexError(f"index {hi if hi >= n else lo} is out of bounds for dimension {d} with size {n}")
            if lo < 0:
                arr = xp.where(arr < 0, arr + n, arr)
        out.append(arr)
    if len(out) > 1:
        try:
            np.broadcast_shapes(*[a.shape for a in out])
        except ValueError:
            shapes = ', '.join(str(list(a.shape)) for a in out)
            raise IndexError(f"shape mismatch: indexing tensors could not be broadcast together with shapes "
                             f"{shapes}") from None
    return tuple(out)


def _is_trivial(key, shape):
    if len(key) > len(shape):
        return False
    for k, n in zip(key, shape):
        if k.__class__ is not slice or k.start != 0 or k.stop != n or k.step != 1:
            return False
    return True


# ----------------------------------------------------------------------------- getitem / setitem

def getitem(self, index):
    """``self[index]``: a view for ints, slices, None and ``...``; a copy with tensors, lists or masks."""
    if index.__class__ is int:
        # the common x[i] (a DataLoader's dataset lookups), without the general parse
        shape = self._data.shape
        if shape and -shape[0] <= index < shape[0]:
            if index < 0:
                index += shape[0]
            if not self._requires_grad:
                arr = self._data[index, ...]  # the Ellipsis keeps a 0-d result an array view
                if arr.size:  # (an empty view needs the kernel's storage-offset handling)
                    return unrecorded_view(self, arr)
            return apply(_select, (self,), {'key': (index,)})
    key, view_op, adv_dims, adv_arrays, _ = _parse(self, index)
    if not adv_arrays:
        return apply(view_op, (self,), {'key': key})
    x = self
    if not _is_trivial(key, self._data.shape):
        x = apply(view_op, (self,), {'key': key})
    return apply(_index, (x,), {'indices': adv_arrays, 'dims': tuple(adv_dims)})


def _strip_leading_ones(value, ndim):
    """Drops leading size-1 dims of ``value`` beyond ``ndim`` (PyTorch lets ``x[0] = v[None]`` through)."""
    shape = value._data.shape
    lead = 0
    while len(shape) - lead > ndim and shape[lead] == 1:
        lead += 1
    if lead:
        from ember.ops.shape import reshape
        value = reshape(value, shape[lead:])
    return value


def _expand_error(value_shape, target):
    value_shape, target = list(value_shape), list(target)
    if len(value_shape) > len(target):
        return RuntimeError(f"expand(torch.FloatTensor{{{value_shape}}}, size={target}): the number of sizes "
                            f"provided ({len(target)}) must be greater or equal to the number of dimensions in the "
                            f"tensor ({len(value_shape)})")
    for i in range(1, len(value_shape) + 1):
        if value_shape[-i] not in (1, target[-i]):
            return RuntimeError(f"The expanded size of the tensor ({target[-i]}) must match the existing size "
                                f"({value_shape[-i]}) at non-singleton dimension {len(target) - i}.  Target sizes: "
                                f"{target}.  Tensor sizes: {value_shape}")
    return None


def _setitem_value(self, value):
    if isinstance(value, Tensor):
        return value
    if isinstance(value, _SCALARS) or isinstance(value, np.generic):
        value = value.item() if isinstance(value, np.generic) else value
        if isinstance(value, complex) and self._dtype.category < _dtype.COMPLEX:
            if value.imag != 0:
                raise RuntimeError(f"value cannot be converted to type {self._dtype.np.name.replace('32', '')} "
                                   "without overflow")
            value = value.real
        return value
    raise TypeError(f"can't assign a {type(value).__module__ + '.' if isinstance(value, np.ndarray) else ''}"
                    f"{type(value).__name__} to a torch.{self._dtype.legacy_name}")


def setitem(self, index, value):
    """``self[index] = value`` (in place; differentiable through views and ``index_put_``)."""
    value = _setitem_value(self, value)
    key, view_op, adv_dims, adv_arrays, view_shape = _parse(self, index)
    is_tensor = isinstance(value, Tensor)
    record = _grad_state['enabled'] and (self._requires_grad or (is_tensor and value._requires_grad))
    if not adv_arrays:
        if is_tensor:
            value = _strip_leading_ones(value, len(view_shape))
            err = _expand_error(value._data.shape, view_shape)
            if err is not None:
                raise err
        if record:
            view = apply(view_op, (self,), {'key': key})
            apply_inplace(_copy_value, view, (value,))
            return
        _check_inplace_target(self, 'copy_')
        _write_raw(self, key + (Ellipsis,), value._data if is_tensor else value)
        return
    target = self
    if not _is_trivial(key, self._data.shape):
        target = apply(view_op, (self,), {'key': key}) if record else _raw_view(self, key, view_op)
    if is_tensor and value._dtype is not self._dtype:
        raise RuntimeError("Index put requires the source and destination dtypes match, got "
                           f"{scalar_type_name(self._dtype)} for the destination and "
                           f"{scalar_type_name(value._dtype)} for the source.")
    _index_put_parsed(target, tuple(adv_dims), adv_arrays, value, False, record)


def _raw_view(self, key, view_op):
    with grad_mode.no_grad():
        return apply(view_op, (self,), {'key': key})


def _write_raw(t, key, value):
    """``t._data[key] = value`` with PyTorch's error for overlapping memory; bumps the version."""
    try:
        t._data[key] = value
    except ValueError as exc:
        if not t._data.flags.writeable:
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers to a single memory "
                "location. Please clone() the tensor before performing the operation.") from None
        raise RuntimeError(str(exc)) from None
    t._vc.v += 1


@defop('copy_value', dtypes='all', grad_name='CopyBackwards', public=None)
def _copy_value(xp, dst, src):
    """``src`` broadcast to ``dst``'s shape and cast to its dtype (the value ``dst.copy_(src)`` writes)."""
    if isinstance(src, _SCALARS):
        return xp.full(dst.shape, src, dtype=dst.dtype)
    return xp.broadcast_to(src.astype(dst.dtype, copy=False), dst.shape)


@_copy_value.derivative
def _(F, ctx, grad):
    return None, grad


# ----------------------------------------------------------------------------- index_put

def _parse_index_list(x, indices, op):
    """``index_put``'s list of index tensors (None skips a dim) as (dims, int64 arrays)."""
    if isinstance(indices, Tensor):
        indices = (indices,)
    xp = _backend.get(x._device).xp
    dims, arrays = [], []
    shape = x._data.shape
    d = 0
    for item in indices:
        if item is None:
            d += 1
            continue
        arr = item._data if isinstance(item, Tensor) else _as_index_array(item, xp)
        if arr.dtype.kind == 'u' and arr.dtype.itemsize == 1:
            arr = arr.astype(bool)
        if arr.dtype.kind == 'b':
            for idx in _mask_indices(xp, arr, shape, d):
                dims.append(d)
                arrays.append(idx)
                d += 1
        elif arr.dtype.kind in 'iu':
            dims.append(d)
            arrays.append(arr)
            d += 1
        else:
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if d > len(shape):
        raise IndexError(f"too many indices for tensor of dimension {len(shape)} (got {d})")
    if not arrays:
        return (), ()
    return tuple(dims), _check_advanced(xp, arrays, dims, shape)


def _result_shape(shape, arrays, dims):
    batch = tuple(np.broadcast_shapes(*[a.shape for a in arrays]))
    rest = [shape[d] for d in range(len(shape)) if d not in dims]
    if list(dims) == list(range(dims[0], dims[0] + len(dims))):
        before = sum(1 for d in range(dims[0]))
        return tuple(rest[:before]) + batch + tuple(rest[before:])
    return batch + tuple(rest)


def _index_put_parsed(self, dims, arrays, values, accumulate, record):
    """Writes ``values`` at the parsed advanced index of ``self`` (in place)."""
    if not arrays:
        if isinstance(values, Tensor):
            values = _strip_leading_ones(values, self._data.ndim)
        if record:
            apply_inplace(_copy_value, self, (values,))
        else:
            _check_inplace_target(self, 'index_put_')
            raw_values = values._data if isinstance(values, Tensor) else values
            if accumulate:
                _write_raw(self, Ellipsis, self._data + raw_values)
            else:
                _write_raw(self, Ellipsis, raw_values)
        return self
    result_shape = _result_shape(self._data.shape, arrays, dims)
    if isinstance(values, Tensor):
        values = _strip_leading_ones(values, len(result_shape))
        vshape = values._data.shape
        ok = len(vshape) <= len(result_shape) and all(
            v in (1, r) for v, r in zip(vshape[::-1], result_shape[::-1]))
        if not ok:
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(vshape)} cannot be broadcast to "
                               f"indexing result of shape {list(result_shape)}")
    params = {'indices': arrays, 'dims': dims, 'accumulate': accumulate}
    if record:
        return apply_inplace(_index_put, self, (values,), params)
    _check_inplace_target(self, 'index_put_')
    raw_values = values._data if isinstance(values, Tensor) else values
    if accumulate:
        arr = self._data
        xp = _backend.get(self._device).xp
        if arr.flags.c_contiguous and arr.flags.writeable:
            positions = advanced_positions(xp, arr.shape, arrays, dims)
            raw_values = xp.broadcast_to(xp.asarray(raw_values, dtype=arr.dtype), positions.shape)
            accumulate_flat(xp, arr.reshape(-1), positions, raw_values)
            self._vc.v += 1
        else:
            _write_raw(self, Ellipsis, _index_put.forward(xp, arr, raw_values, **params))
    else:
        _write_raw(self, advanced_key(arrays, dims, self._data.ndim), raw_values)
    return self


def _check_put_values(self, values):
    if not isinstance(values, Tensor):
        raise TypeError(f"index_put(): argument 'values' (position 3) must be Tensor, not {type(values).__name__}")
    if values._dtype is not self._dtype:
        raise RuntimeError("Index put requires the source and destination dtypes match, got "
                           f"{scalar_type_name(self._dtype)} for the destination and "
                           f"{scalar_type_name(values._dtype)} for the source.")


def index_put_(input, indices, values, accumulate=False):
    """Writes ``values`` into ``input`` at ``indices`` (a tuple of index tensors), summing if ``accumulate``."""
    _check_put_values(input, values)
    dims, arrays = _parse_index_list(input, indices, 'index_put_')
    record = _grad_state['enabled'] and (input._requires_grad or values._requires_grad)
    return _index_put_parsed(input, dims, arrays, values, bool(accumulate), record)


def index_put(input, indices, values, accumulate=False):
    """Out-of-place ``index_put_``: a copy of ``input`` with ``values`` put at ``indices``."""
    _check_put_values(input, values)
    dims, arrays = _parse_index_list(input, indices, 'index_put')
    if not arrays:
        from ember.ops.shape import clone
        return _index_put_parsed(clone(input), dims, arrays, values, bool(accumulate),
                                 _grad_state['enabled'] and (input._requires_grad or values._requires_grad))
    result_shape = _result_shape(input._data.shape, arrays, dims)
    values = _strip_leading_ones(values, len(result_shape))
    err = _expand_error(values._data.shape, result_shape)
    if err is not None:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(values._data.shape)} cannot be broadcast "
                           f"to indexing result of shape {list(result_shape)}")
    return apply(_index_put, (input, values), {'indices': arrays, 'dims': dims, 'accumulate': bool(accumulate)})


# ----------------------------------------------------------------------------- nonzero / argwhere / where

@defop('nonzero', dtypes='all', gradcheck=False)
def _nonzero(xp, a):
    return xp.argwhere(a).astype(np.int64, copy=False)


@defop('nonzero_tuple', dtypes='all', gradcheck=False, multi_output=True, public=None)
def _nonzero_tuple(xp, a):
    return tuple(i.astype(np.int64, copy=False) for i in xp.nonzero(a.reshape(1) if a.ndim == 0 else a))


def nonzero(input, *, out=None, as_tuple=False):
    """Indices of the non-zero elements: an (n, ndim) tensor, or one 1-D tensor per dim if ``as_tuple``."""
    if as_tuple:
        return apply(_nonzero_tuple, (input,))
    result = apply(_nonzero, (input,))
    if out is not None:
        from ember.ops._dispatch import write_out
        return write_out(result, out)
    return result


def argwhere(input):
    """Indices of the non-zero elements as an (n, ndim) tensor (``nonzero(input)``)."""
    return apply(_nonzero, (input,))


def _nonzero_samples(make):
    x = make((3, 4))
    x[x < 0] = 0
    return [Sample(x), Sample(make((5,), 'bool')), Sample(make((2, 3), 'int64', low=-1, high=1)),
            Sample(np.asarray(2.0, np.float32)), Sample(make((0, 3)))]


_nonzero.samples = _nonzero_samples
_nonzero.public = 'nonzero'
_nonzero.grad_name = 'NonzeroBackward0'


# ----------------------------------------------------------------------------- samples

def _getitem_samples(make, kind):
    x = make((3, 4, 5))
    if kind == 'select':
        return [Sample(x, 1), Sample(x, -1), Sample(x, (0, 2)), Sample(x, (Ellipsis, 3)), Sample(x, (slice(1, 3), 0)),
                Sample(make((4,)), (2,)), Sample(x, (None, 1)), Sample(x, (1, 2, 3))]
    if kind == 'slice':
        return [Sample(x, slice(1, None)), Sample(x, (slice(None), slice(0, 4, 2))),
                Sample(x, (Ellipsis, slice(1, 4, 3))), Sample(x, (0, slice(1, 2))), Sample(x, slice(5, 9)),
                Sample(make((0, 3)), (slice(None), slice(1, 2)))]
    if kind == 'unsqueeze':
        return [Sample(x, None), Sample(x, (slice(None), None)), Sample(x, (Ellipsis, None)),
                Sample(x, (1, None, slice(None, None, 2), None)), Sample(make(()), None)]
    if kind == 'alias':
        return [Sample(x, Ellipsis), Sample(x, ()), Sample(make(()), Ellipsis)]
    return [Sample(x, np.array([0, 2, 0])), Sample(x, (slice(None), np.array([[1, 0], [3, 3]]))),
            Sample(x, (np.array([0, 2]), slice(1, 3), np.array([4, 0]))),
            Sample(x, (np.array([1, 2]), np.array([0, -1]))), Sample(x, (Ellipsis, np.array([1, 1, 2]))),
            Sample(x, make((3, 4), 'bool')), Sample(x, (slice(None), make((4,), 'bool'))),
            Sample(x, (1, np.array([0, 3]), slice(2, None))), Sample(x, (0, slice(None), np.array([1, 2]))),
            Sample(x, (None, np.array([2]), None)), Sample(x, True), Sample(x, (Ellipsis, False)),
            Sample(make((4,)), np.array([], dtype=np.int64)), Sample(make(()), np.asarray(True))]


def _getitem_errors(make):
    x = make((3, 4))
    return [ErrorSample(x, 5, error=IndexError, match='index 5 is out of bounds for dimension 0 with size 3'),
            ErrorSample(x, (0, -5), error=IndexError, match='index -5 is out of bounds for dimension 0 with size 4'),
            ErrorSample(x, slice(None, None, -1), error=ValueError, match='step must be greater than zero'),
            ErrorSample(x, (0, 0, 0), error=IndexError, match='too many indices for tensor of dimension 2'),
            ErrorSample(x, make((4,), 'bool'), error=IndexError,
                        match=r'The shape of the mask \[4\] at index 0 does not match the shape of the indexed tensor '
                              r'\[3, 4\] at index 0'),
            ErrorSample(x, np.array([3]), error=IndexError,
                        match='index 3 is out of bounds for dimension 0 with size 3'),
            ErrorSample(x, (np.array([0, 1]), np.array([0, 1, 2])), error=IndexError,
                        match=r'shape mismatch: indexing tensors could not be broadcast together with shapes \[2\], '
                              r'\[3\]'),
            ErrorSample(x, np.array([1.0]), error=IndexError, match='tensors used as indices must be long')]


_select.samples = lambda make: _getitem_samples(make, 'select')
_slice.samples = lambda make: _getitem_samples(make, 'slice')
_unsqueeze.samples = lambda make: _getitem_samples(make, 'unsqueeze')
_alias.samples = lambda make: _getitem_samples(make, 'alias')
_index.samples = lambda make: _getitem_samples(make, 'index')
_select.error_samples = _getitem_errors


def _index_put_samples(make):
    x = make((4, 3))
    return [Sample(x, (np.array([0, 2]),), make((3,))), Sample(x, (np.array([0, 2, 0]),), make((3, 3)), True),
            Sample(x, (np.array([1, 3]), np.array([2, 0])), make(())),
            Sample(x, (np.array([[1, 1], [0, 3]]),), make((2, 2, 3)), accumulate=True),
            Sample(x, (make((4, 3), 'bool'),), make(())), Sample(x, (make((4,), 'bool'),), make((1, 3)))]


_index_put.samples = _index_put_samples
_index_put.error_samples = lambda make: [
    ErrorSample(make((4, 3)), (np.array([0]),), make((2, 3)), error=RuntimeError,
                match=r'shape mismatch: value tensor of shape \[2, 3\] cannot be broadcast to indexing result of '
                      r'shape \[1, 3\]'),
    ErrorSample(make((4, 3)), (np.array([0]),), make((3,), 'float64'), error=RuntimeError,
                match='Index put requires the source and destination dtypes match, got Float for the destination '
                      'and Double for the source')]

TENSOR_METHODS = ['index_put', 'index_put_', 'nonzero', 'argwhere']
