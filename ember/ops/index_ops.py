"""Ops that index one dim with a vector (``index_select``, ``index_add``, ``index_copy``, ``index_fill``),
``put`` on the flattened tensor, and the mask ops (``masked_fill``, ``masked_scatter``, ``masked_select``).

Index vectors and masks are op params, as in ``indexing``; repeated positions are
summed by ``accumulate_flat`` (a sort or ``bincount``).
"""
import numpy as np

from ember import _dtype
from ember import backend as _backend
from ember._tensor import Tensor
from ember.ops._dispatch import apply, apply_inplace, scalar_type_name
from ember.ops._registry import Sample, ErrorSample, defop, composite
from ember.ops._util import wrap_dim
from ember.ops._index_util import accumulate_flat, dim_positions


# ----------------------------------------------------------------------------- index_select / add / copy / fill

def _check_index_vector(op, input, dim, index):
    nd = input._data.ndim
    dim = wrap_dim(dim, nd)
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): argument 'index' must be Tensor, not {type(index).__name__}")
    kind = op.rstrip('_')
    if index._data.ndim > 1:
        if kind == 'index_fill':
            raise RuntimeError("Index has to be a vector/scalar")
        raise IndexError(f"{op}(): Index is supposed to be a vector")
    if index._dtype is not _dtype.int64:
        name = scalar_type_name(index._dtype)
        if kind == 'index_fill':
            raise IndexError(f"{op}(): Expected dtype int64 for index.")
        if kind == 'index_copy':
            raise RuntimeError(f"{op}(): Expected a long tensor for index, but got {name}")
        if index._dtype is not _dtype.int32:
            if kind == 'index_add':
                raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index but got: {name}")
            raise RuntimeError(f"{op}(): Expected dtype int32 or int64 for index")
    idx = index._data.reshape(-1).astype(np.int64, copy=False)
    n = input._data.shape[dim] if nd else 1
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if kind == 'index_fill' and lo < 0 and lo >= -n:  # index_fill alone wraps negative positions
            idx = _backend.get(input._device).xp.where(idx < 0, idx + n, idx)
            lo = 0
        if lo < 0 or hi >= n:
            bad = hi if hi >= n else lo
            if op == 'index_select':
                raise RuntimeError(f"INDICES element is out of DATA bounds, id={bad} axis_dim={n}")
            message = f"index {bad} is out of bounds for dimension {dim} with size {n}"
            if op.startswith('index_add'):
                raise RuntimeError(message)
            raise IndexError(f"{op}(): {message}" if op.startswith('index_copy') else message)
    return dim, idx


@defop('index_select', dtypes='all')
def _index_select(xp, a, index, dim):
    if a.ndim == 0:
        return a.reshape(1)[index].reshape(())
    return xp.take(a, index, axis=dim)


@_index_select.derivative
def _(F, ctx, grad):
    p = ctx.params
    return F.index_add(F.zeros(ctx.input_meta[0][0], grad), grad, index=p['index'], dim=p['dim'], alpha=1)


@defop('index_add', dtypes='all')
def _index_add(xp, a, src, index, dim, alpha):
    out = a.copy()
    if a.ndim == 0:
        index_nd, src = index.reshape(()), src.reshape(())
        positions = xp.zeros(index.shape, dtype=np.int64)
    else:
        view = [1] * a.ndim
        view[dim] = index.shape[0]
        index_nd = xp.broadcast_to(index.reshape(view), src.shape)
        positions = dim_positions(xp, a.shape, index_nd, dim)
    if alpha != 1:
        src = src * xp.asarray(alpha, dtype=a.dtype)
    accumulate_flat(xp, out.reshape(-1), positions, src)
    return out


@_index_add.derivative
def _(F, ctx, grad):
    p = ctx.params
    gs = None
    if ctx.needs_input_grad[1]:
        gs = F.index_select(grad, index=p['index'], dim=p['dim'])
        if p['alpha'] != 1:
            gs = gs * p['alpha']
    return grad, gs


@defop('index_copy', dtypes='all')
def _index_copy(xp, a, src, index, dim):
    out = a.copy()
    if a.ndim == 0:
        if index.size:
            out[...] = src.reshape(-1)[-1]
        return out
    out[(slice(None),) * dim + (index,)] = src
    return out


@_index_copy.derivative
def _(F, ctx, grad):
    p = ctx.params
    ga = F.index_fill(grad, 0, index=p['index'], dim=p['dim']) if ctx.needs_input_grad[0] else None
    gs = F.index_select(grad, index=p['index'], dim=p['dim']) if ctx.needs_input_grad[1] else None
    return ga, gs


@defop('index_fill', dtypes='all')
def _index_fill(xp, a, value, index, dim, unique=None):
    out = a.copy()
    if a.ndim == 0:
        if index.size:
            out[...] = value
        return out
    out[(slice(None),) * dim + (index,)] = value
    return out


@_index_fill.derivative
def _(F, ctx, grad):
    p = ctx.params
    ga = F.index_fill(grad, 0, index=p['index'], dim=p['dim']) if ctx.needs_input_grad[0] else None
    gv = None
    if ctx.needs_input_grad[1]:
        picked = F.index_select(grad, index=p['unique'], dim=p['dim'])
        gv = F.sum(picked, dim=tuple(range(len(picked.shape))), keepdim=False, dtype=F.dtype_of(grad))
    return ga, gv


def index_select(input, dim, index, *, out=None):
    """The slices of ``input`` along ``dim`` at the positions in the vector ``index``."""
    dim, idx = _check_index_vector('index_select', input, dim, index)
    result = apply(_index_select, (input,), {'index': idx, 'dim': dim})
    if out is not None:
        from ember.ops._dispatch import write_out
        return write_out(result, out)
    return result


def _index_source(op, input, dim, index, source, what):
    dim, idx = _check_index_vector(op, input, dim, index)
    if not isinstance(source, Tensor):
        raise TypeError(f"{op}(): argument 'source' must be Tensor, not {type(source).__name__}")
    if source._dtype is not input._dtype:
        if what == 'add':
            raise RuntimeError(f"{op}(): self ({scalar_type_name(input._dtype)}) and source "
                               f"({scalar_type_name(source._dtype)}) must have the same scalar type")
        raise RuntimeError(f"{op}(): self and source expected to have the same dtype, but got (self) "
                           f"{scalar_type_name(input._dtype)} and (source) {scalar_type_name(source._dtype)}")
    expected = list(input._data.shape)
    if expected:
        expected[dim] = idx.shape[0]
    if what == 'add' and source._data.ndim and source._data.shape[dim] != idx.shape[0]:
        raise RuntimeError(f"{op}(): Number of indices ({idx.shape[0]}) should be equal to source.size(dim): "
                           f"({source._data.shape[dim]}), for dim: {dim}")
    if list(source._data.shape) != expected and not (source._data.ndim == 0 and idx.shape[0] == 1):
        raise RuntimeError(f"{op}(): Source/destination tensor must have same slice shapes. Destination slice "
                           f"shape: {list(input._data.shape)} at dimension {dim} and source slice shape: "
                           f"{list(source._data.shape)} at dimension {dim}.")
    if source._data.ndim != input._data.ndim:
        from ember.ops.shape import reshape
        source = reshape(source, expected)
    return dim, idx, source


def index_add(input, dim, index, source, *, alpha=1, out=None):
    """A copy of ``input`` with ``alpha * source`` added to the slices at ``index`` along ``dim``."""
    dim, idx, source = _index_source('index_add_', input, dim, index, source, 'add')
    result = apply(_index_add, (input, source), {'index': idx, 'dim': dim, 'alpha': alpha})
    if out is not None:
        from ember.ops._dispatch import write_out
        return write_out(result, out)
    return result


def index_add_(input, dim, index, source, *, alpha=1):
    """In-place ``index_add``."""
    dim, idx, source = _index_source('index_add_', input, dim, index, source, 'add')
    return apply_inplace(_index_add, input, (source,), {'index': idx, 'dim': dim, 'alpha': alpha})


def index_copy(input, dim, index, source):
    """A copy of ``input`` with the slices at ``index`` along ``dim`` replaced by ``source``."""
    dim, idx, source = _index_source('index_copy_', input, dim, index, source, 'copy')
    return apply(_index_copy, (input, source), {'index': idx, 'dim': dim})


def index_copy_(input, dim, index, source):
    """In-place ``index_copy``."""
    dim, idx, source = _index_source('index_copy_', input, dim, index, source, 'copy')
    return apply_inplace(_index_copy, input, (source,), {'index': idx, 'dim': dim})


def _fill_params(op, input, dim, index, value):
    dim, idx = _check_index_vector(op, input, dim, index)
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"{op}(): Expected value to be 0-dim tensor, but got tensor with "
                               f"{value._data.ndim} dimension(s).")
        if value._dtype is not input._dtype:
            from ember.ops.pointwise import to_dtype
            value = to_dtype(value, input._dtype)
    elif isinstance(value, np.generic):
        value = value.item()
    xp = _backend.get(input._device).xp
    return value, {'index': idx, 'dim': dim, 'unique': xp.unique(idx) if idx.size else idx}


def index_fill(input, dim, index, value):
    """A copy of ``input`` with the slices at ``index`` along ``dim`` set to ``value``."""
    value, params = _fill_params('index_fill', input, dim, index, value)
    return apply(_index_fill, (input, value), params)


def index_fill_(input, dim, index, value):
    """In-place ``index_fill``."""
    value, params = _fill_params('index_fill_', input, dim, index, value)
    return apply_inplace(_index_fill, input, (value,), params)


# ----------------------------------------------------------------------------- put

@defop('put', dtypes='all')
def _put(xp, a, src, index, accumulate):
    out = a.copy()
    flat = out.reshape(-1)
    if accumulate:
        accumulate_flat(xp, flat, index, src)
    elif isinstance(src, (bool, int, float, complex)):
        flat[index] = src
    else:
        flat[index] = src.reshape(-1)
    return out


@_put.derivative
def _(F, ctx, grad):
    p = ctx.params
    ga = gs = None
    if ctx.needs_input_grad[0]:
        ga = grad if p['accumulate'] else F.put(grad, 0, index=p['index'], accumulate=False)
    if ctx.needs_input_grad[1]:
        picked = F.take(grad, F.const(grad, p['index']))
        gs = F.reshape_copy(picked, shape=ctx.input_meta[1][0])
    return ga, gs


def _put_params(op, input, index, source, accumulate):
    if index._dtype is not _dtype.int64:
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got {scalar_type_name(index._dtype)}")
    if source._dtype is not input._dtype:
        raise RuntimeError(f"{op}(): self and source expected to have the same dtype, but got self.dtype = "
                           f"{input._dtype} and source.dtype = {source._dtype}")
    if index._data.size != source._data.size:
        raise IndexError(f"put_(): Expected source and index to have the same number of elements, but got "
                           f"source.numel() = {source._data.size}, index.numel() = {index._data.size}")
    idx = index._data.reshape(-1)
    n = input._data.size
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if hi >= n or lo < -n:
            raise IndexError(f"out of range: tried to access index {hi if hi >= n else lo} on a tensor of {n} "
                             "elements.")
        if lo < 0:
            idx = _backend.get(input._device).xp.where(idx < 0, idx + n, idx)
    return {'index': idx, 'accumulate': bool(accumulate)}


def put(input, index, source, accumulate=False):
    """A copy of ``input`` (seen as 1-D) with ``source`` written (or added) at ``index``."""
    return apply(_put, (input, source), _put_params('put', input, index, source, accumulate))


def put_(input, index, source, accumulate=False):
    """In-place ``put``."""
    return apply_inplace(_put, input, (source,), _put_params('put_', input, index, source, accumulate))



# ----------------------------------------------------------------------------- masked_fill / scatter / select

_C_NAMES = {'uint8': 'unsigned char', 'int8': 'signed char', 'int16': 'short int', 'int32': 'int',
            'int64': 'long int', 'float16': 'c10::Half', 'bfloat16': 'c10::BFloat16', 'float32': 'float',
            'float64': 'double'}


def _check_mask(op, mask):
    if not isinstance(mask, Tensor):
        raise TypeError(f"{op}(): argument 'mask' (position 2) must be Tensor, not {type(mask).__name__}")
    if mask._dtype is not _dtype.bool_:
        if op == 'masked_select':
            raise RuntimeError("masked_select: expected BoolTensor for mask")
        if op.startswith('masked_scatter'):
            raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype "
                               f"{_C_NAMES.get(mask._dtype.name, mask._dtype.name)}")
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{_C_NAMES.get(mask._dtype.name, mask._dtype.name)}")
    return mask._data


def _broadcast_shape(a, b):
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        for i in range(1, max(len(a), len(b)) + 1):
            x = a[-i] if i <= len(a) else 1
            y = b[-i] if i <= len(b) else 1
            if x != y and x != 1 and y != 1:
                raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                                   f"non-singleton dimension {max(len(a), len(b)) - i}") from None
        raise


@defop('masked_fill', dtypes='all')
def _masked_fill(xp, a, value, mask):
    if isinstance(value, (bool, int, float, complex)):
        value = xp.asarray(value).astype(a.dtype)
    else:
        value = value.astype(a.dtype, copy=False)
    return xp.where(mask, value, a)


@_masked_fill.derivative
def _(F, ctx, grad):
    mask = ctx.params['mask']
    ga = F.masked_fill(grad, 0, mask=mask) if ctx.needs_input_grad[0] else None
    gv = None
    if ctx.needs_input_grad[1]:
        kept = F.masked_fill(grad, 0, mask=~mask)
        gv = F.sum(kept, dim=tuple(range(len(kept.shape))), keepdim=False, dtype=F.dtype_of(grad))
    return ga, gv


def _fill_value(op, input, value):
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value._data.ndim} dimension(s).")
        return value
    if isinstance(value, np.generic):
        value = value.item()
    if not isinstance(value, (bool, int, float, complex)):
        raise TypeError(f"{op}() received an invalid combination of arguments - got value of type "
                        f"{type(value).__name__}")
    return value


def masked_fill(input, mask, value):
    """A copy of ``input`` (broadcast with ``mask``) with ``value`` where ``mask`` is True."""
    m = _check_mask('masked_fill', mask)
    value = _fill_value('masked_fill', input, value)
    _broadcast_shape(input._data.shape, m.shape)
    return apply(_masked_fill, (input, value), {'mask': m})


def masked_fill_(input, mask, value):
    """In-place ``masked_fill``; ``mask`` must broadcast to ``input``'s shape."""
    m = _check_mask('masked_fill_', mask)
    value = _fill_value('masked_fill_', input, value)
    shape = _broadcast_shape(input._data.shape, m.shape)
    if shape != input._data.shape:
        raise RuntimeError(f"output with shape {list(input._data.shape)} doesn't match the broadcast shape "
                           f"{list(shape)}")
    return apply_inplace(_masked_fill, input, (value,), {'mask': m})


@defop('masked_scatter', dtypes='all')
def _masked_scatter(xp, a, source, mask, positions):
    out = xp.broadcast_to(a, mask.shape).copy()
    out.reshape(-1)[positions] = source.reshape(-1)[:positions.shape[0]]
    return out


@_masked_scatter.derivative
def _(F, ctx, grad):
    p = ctx.params
    ga = F.masked_fill(grad, 0, mask=p['mask']) if ctx.needs_input_grad[0] else None
    gs = None
    if ctx.needs_input_grad[1]:
        shape = ctx.input_meta[1][0]
        numel = 1
        for n in shape:
            numel *= n
        picked = F.take(grad, F.const(grad, p['positions']))
        padded = F.basic_view_backward(picked, shape=(numel,), key=(slice(0, p['positions'].shape[0], 1),))
        gs = F.reshape_copy(padded, shape=shape)
    return ga, gs


def _scatter_params(op, input, mask, source):
    m = _check_mask(op, mask)
    if not isinstance(source, Tensor):
        raise TypeError(f"{op}(): argument 'source' (position 2) must be Tensor, not {type(source).__name__}")
    if source._dtype is not input._dtype:
        raise RuntimeError(f"masked_scatter_: expected self and source to have same dtypes but got "
                           f"{scalar_type_name(input._dtype)} and {scalar_type_name(source._dtype)}")
    shape = _broadcast_shape(input._data.shape, m.shape)
    xp = _backend.get(input._device).xp
    m = xp.broadcast_to(m, shape)
    positions = xp.flatnonzero(m).astype(np.int64, copy=False)  # row-major, the order source is read in
    if positions.shape[0] > source._data.size:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    return shape, {'mask': m, 'positions': positions}


def masked_scatter(input, mask, source):
    """A copy of ``input`` with the elements of ``source``, in order, written where ``mask`` is True."""
    _, params = _scatter_params('masked_scatter', input, mask, source)
    return apply(_masked_scatter, (input, source), params)


def masked_scatter_(input, mask, source):
    """In-place ``masked_scatter``; ``mask`` must broadcast to ``input``'s shape."""
    shape, params = _scatter_params('masked_scatter_', input, mask, source)
    if shape != input._data.shape:
        raise RuntimeError(f"output with shape {list(input._data.shape)} doesn't match the broadcast shape "
                           f"{list(shape)}")
    return apply_inplace(_masked_scatter, input, (source,), params)


def masked_select(input, mask, *, out=None):
    """The elements of ``input`` (broadcast with ``mask``) where ``mask`` is True, as a 1-D tensor."""
    from ember.ops.shape import expand
    m = _check_mask('masked_select', mask)
    shape = _broadcast_shape(input._data.shape, m.shape)
    if input._data.shape != shape:
        input = expand(input, shape)
    if m.shape != shape:
        mask = Tensor._make(_backend.get(input._device).xp.broadcast_to(m, shape), input._device)
    from ember.ops.shape import reshape
    if not shape:
        input, mask = reshape(input, (1,)), Tensor._make(m.reshape(1), input._device)
    result = input[mask]
    if out is not None:
        from ember.ops._dispatch import write_out
        return write_out(result, out)
    return result


# ----------------------------------------------------------------------------- samples

def _index_vector_samples(make, with_source, kind=None):
    out = []
    for shape, dim, idx in (((4, 3), 0, np.array([3, 0, 3])), ((2, 5), 1, np.array([1, 4])),
                            ((2, 3, 4), -1, np.array([0])), ((3,), 0, np.asarray(2))):
        if kind == 'copy' and idx.size > 1 and len(set(idx.tolist())) < idx.size:
            idx = np.array([3, 0, 1])
        if with_source:
            src_shape = list(shape)
            src_shape[dim] = idx.size
            out.append(Sample(make(shape), dim, idx, make(tuple(src_shape))))
        else:
            out.append(Sample(make(shape), dim, idx))
    return out


_index_select.samples = lambda make: _index_vector_samples(make, False)
_index_select.error_samples = lambda make: [
    ErrorSample(make((3, 4)), 1, np.array([[1]]), error=IndexError, match='Index is supposed to be a vector'),
    ErrorSample(make((3, 4)), 1, np.array([1.0]), error=RuntimeError, match='Expected dtype int32 or int64 for index')]
_index_add.samples = lambda make: _index_vector_samples(make, True) + [
    Sample(make((4, 3)), 0, np.array([1, 1]), make((2, 3)), alpha=-2.5)]
_index_add.error_samples = lambda make: [
    ErrorSample(make((4, 3)), 0, np.array([1]), make((1, 3), 'float64'), error=RuntimeError,
                match=r'index_add_\(\): self \(Float\) and source \(Double\) must have the same scalar type')]
_index_copy.samples = lambda make: _index_vector_samples(make, True, 'copy')
_index_fill.samples = lambda make: [
    Sample(make((4, 3)), 0, np.array([3, 0, 3]), -1.5), Sample(make((2, 5)), 1, np.array([1, 4]), make(())),
    Sample(make((2, 3, 4)), -1, np.asarray(2), 2), Sample(make((4, 3)), 1, np.array([2, 2]), make(())),
    Sample(make((4, 3)), 1, np.array([-1, 0]), 0.5)]
_put.samples = lambda make: [
    Sample(make((3, 4)), np.array([0, 11, -1]), make((3,)), grad=False),
    Sample(make((3, 4)), np.array([[0, 5], [7, 2]]), make((2, 2))),
    Sample(make((3, 4)), np.array([1, 1, 6]), make((3,)), accumulate=True)]
_put.public = 'Tensor.put'

_masked_fill.samples = lambda make: [
    Sample(make((3, 4)), make((3, 4), 'bool'), -1.5), Sample(make((3, 4)), make((4,), 'bool'), make(())),
    Sample(make((4,)), make((3, 4), 'bool'), 2.0), Sample(make(()), np.asarray(True), 7),
    Sample(make((0, 2)), make((0, 2), 'bool'), 1.0)]
_masked_fill.error_samples = lambda make: [
    ErrorSample(make((3,)), make((3,), 'uint8'), 1.0, match='masked_fill_ only supports boolean masks'),
    ErrorSample(make((3,)), make((3,), 'bool'), make((1,)),
                match='masked_fill_ only supports a 0-dimensional value tensor, but got tensor with 1 dimension')]
_masked_scatter.samples = lambda make: [
    Sample(make((3, 4)), make((3, 4), 'bool'), make((12,))), Sample(make((3, 4)), make((4,), 'bool'), make((4, 4))),
    Sample(make((2,)), make((3, 2), 'bool'), make((7,))), Sample(make(()), np.asarray(True), make((2,)))]
_masked_scatter.error_samples = lambda make: [
    ErrorSample(make((3,)), np.ones(3, bool), make((2,)),
                match='Number of elements of source < number of ones in mask')]
composite('masked_select', samples=lambda make: [
    Sample(make((3, 4)), make((3, 4), 'bool')), Sample(make((3, 4)), make((4,), 'bool')),
    Sample(make((4,)), make((2, 4), 'bool')), Sample(make(()), np.asarray(True))])

TENSOR_METHODS = ['index_select', 'index_add', 'index_add_', 'index_copy', 'index_copy_', 'index_fill', 'index_fill_',
                  'put', 'put_', 'masked_fill', 'masked_fill_', 'masked_scatter', 'masked_scatter_', 'masked_select']
