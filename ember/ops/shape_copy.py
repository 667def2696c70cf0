"""Shape ops that copy: cat/stack and friends, flip, roll, rot90, repeat, tile, tril/triu, diag, block_diag.

``cat``, ``stack`` and ``block_diag`` take a variable number of tensors; in
derivative rules they are called as ``F.cat([a, b], dim=0)``.  Their gradients
are views (``narrow``/``select``) of the incoming gradient.
"""
import numpy as np

from ember import _dtype
from ember._tensor import Tensor
from ember.ops._dispatch import apply, apply_inplace, apply_out, scalar_type_name
from ember.ops._registry import ErrorSample, Sample, composite, defop
from ember.ops._util import as_shape, wrap_dim
from ember.ops.shape import clone, reshape
from ember.ops.shape_extra import _at, _int, _shape_str
from ember.ops.shape_views import atleast_1d, atleast_2d, atleast_3d, diag_embed
from ember.ops.shape_views import diagonal as _diagonal

# (repeat is a Tensor method only, as in torch)
__all__ = ['cat', 'concat', 'concatenate', 'stack', 'hstack', 'vstack', 'row_stack', 'dstack', 'column_stack',
           'flip', 'fliplr', 'flipud', 'roll', 'rot90', 'tile', 'repeat_interleave', 'tril', 'triu',
           'tril_indices', 'triu_indices', 'diag', 'diagflat', 'block_diag']

_EMPTY = {}


def _tensor_list(tensors, name):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    return tuple(tensors)


# ----------------------------------------------------------------------------- cat / stack

def _skipped(shape, out_ndim):
    """cat ignores 1-D tensors of shape (0,) (a legacy rule of PyTorch's)."""
    return shape == (0,) and out_ndim != 1


@defop('cat', promote='common', dtypes='all')
def _cat(xp, *arrays, dim):
    kept = [a for a in arrays if a.shape != (0,)]
    if not kept:
        return xp.concatenate(arrays, axis=0)
    shape = list(kept[0].shape)
    shape[dim] = sum(a.shape[dim] for a in kept)
    out = xp.empty(tuple(shape), dtype=xp.result_type(*kept))     # row-major, like torch's result
    return xp.concatenate(kept, axis=dim, out=out)


@_cat.derivative
def _(F, ctx, grad):
    dim = ctx.params['dim']
    out_nd = len(grad.shape)
    grads = []
    start = 0
    for i, (shape, _) in enumerate(ctx.input_meta):
        if _skipped(shape, out_nd):
            grads.append(F.zeros(shape, grad) if ctx.needs_input_grad[i] else None)
            continue
        n = shape[dim]
        grads.append(F.narrow(grad, dim=dim, start=start, length=n) if ctx.needs_input_grad[i] else None)
        start += n
    return tuple(grads)


def cat(tensors, dim=0, *, out=None):
    """Concatenates ``tensors`` along ``dim`` (their other sizes must match); dtypes are promoted."""
    tensors = _tensor_list(tensors, 'cat')
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if t._data.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    ref = next((t for t in tensors if t._data.shape != (0,)), tensors[0])
    shape = ref._data.shape
    dim = wrap_dim(dim, len(shape))
    for i, t in enumerate(tensors):
        other = t._data.shape
        if other == (0,) and t is not ref:
            continue
        if len(other) != len(shape):
            raise RuntimeError(f"Tensors must have same number of dimensions: got {len(shape)} and {len(other)}")
        for d, (a, b) in enumerate(zip(shape, other)):
            if d != dim and a != b:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {dim}. Expected size {a} but "
                                   f"got size {b} for tensor number {i} in the list.")
    if out is not None:
        return apply_out(_cat, tensors, {'dim': dim}, out)
    return apply(_cat, tensors, {'dim': dim})


concat = cat


def concatenate(tensors, axis=0, out=None):
    """``cat`` with NumPy's argument name ``axis``."""
    return cat(tensors, axis, out=out)


_cat.samples = lambda make: [
    Sample([make((2, 3)), make((4, 3))]), Sample([make((2, 3)), make((2, 1)), make((2, 2))], dim=1),
    Sample([make((2, 3)), make((0,)), make((2, 3))], dim=-1), Sample([make((3,)), make((0,))]),
    Sample([make((2, 3)), make((2, 3), 'float64')]), Sample([make((2, 3), 'int64'), make((1, 3))]),
    Sample([make((0, 3)), make((2, 3))])]
_cat.error_samples = lambda make: [
    ErrorSample([make((2, 2)), make((3, 3))], 1, match=r'Sizes of tensors must match except in dimension 1. Expected '
                r'size 2 but got size 3 for tensor number 1 in the list.'),
    ErrorSample([make((2, 3)), make((3,))], match='Tensors must have same number of dimensions: got 2 and 1'),
    ErrorSample([make(()), make((2,))], match=r'zero-dimensional tensor \(at position 0\) cannot be concatenated'),
    ErrorSample([], error=ValueError, match='expected a non-empty list of Tensors'),
    ErrorSample([make((2, 3)), make((2, 3))], 2, error=IndexError, match='Dimension out of range')]


@defop('stack', promote='common', dtypes='all')
def _stack(xp, *arrays, dim):
    shape = arrays[0].shape[:dim] + (len(arrays),) + arrays[0].shape[dim:]
    out = xp.empty(shape, dtype=xp.result_type(*arrays))      # row-major, like torch's result
    return xp.stack(arrays, axis=dim, out=out)


@_stack.derivative
def _(F, ctx, grad):
    dim = ctx.params['dim']
    return tuple(F.select(grad, dim=dim, index=i) if ctx.needs_input_grad[i] else None
                 for i in range(len(ctx.input_meta)))


def stack(tensors, dim=0, *, out=None):
    """Joins equal-shaped ``tensors`` along a new dim ``dim``."""
    tensors = _tensor_list(tensors, 'stack')
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {_shape_str(shape)} at entry 0 "
                               f"and {_shape_str(t._data.shape)} at entry {i}")
    dim = wrap_dim(dim, len(shape) + 1)
    if out is not None:
        return apply_out(_stack, tensors, {'dim': dim}, out)
    return apply(_stack, tensors, {'dim': dim})


_stack.samples = lambda make: [
    Sample([make((2, 3)), make((2, 3))]), Sample([make((2, 3)), make((2, 3)), make((2, 3))], dim=-1),
    Sample([make(()), make(())]), Sample([make((3,)), make((3,), 'float64')], dim=1), Sample([make((0, 2))], 1)]
_stack.error_samples = lambda make: [
    ErrorSample([make((2, 3)), make((2, 4))],
                match=r'stack expects each tensor to be equal size, but got \[2, 3\] at entry 0 and \[2, 4\] at '
                      r'entry 1'),
    ErrorSample([], match='stack expects a non-empty TensorList')]


def _stack_family(tensors, name, fn):
    tensors = _tensor_list(tensors, name)
    return tuple(fn(t) for t in tensors)


def hstack(tensors, *, out=None):
    """Concatenates horizontally: along dim 1 (dim 0 for 1-D tensors)."""
    items = _stack_family(tensors, 'hstack', atleast_1d)
    if not items:
        raise RuntimeError("hstack expects a non-empty TensorList")
    return cat(items, 0 if items[0]._data.ndim == 1 else 1, out=out)


def vstack(tensors, *, out=None):
    """Concatenates vertically: 1-D tensors become rows, then ``cat`` along dim 0."""
    items = _stack_family(tensors, 'vstack', atleast_2d)
    if not items:
        raise RuntimeError("vstack expects a non-empty TensorList")
    return cat(items, 0, out=out)


row_stack = vstack


def dstack(tensors, *, out=None):
    """Concatenates depth-wise: inputs made at least 3-D, then ``cat`` along dim 2."""
    items = _stack_family(tensors, 'dstack', atleast_3d)
    if not items:
        raise RuntimeError("dstack expects a non-empty TensorList")
    return cat(items, 2, out=out)


def column_stack(tensors, *, out=None):
    """Stacks 0-D/1-D tensors as columns (and 2-D ones as they are) along dim 1."""
    items = _stack_family(tensors, 'column_stack',
                          lambda t: reshape(t, (int(t._data.size), 1)) if t._data.ndim <= 1 else t)
    if not items:
        raise RuntimeError("column_stack expects a non-empty TensorList")
    return cat(items, 1, out=out)


composite('hstack', samples=lambda make: [Sample([make((2, 3)), make((2, 1))]), Sample([make((3,)), make(())]),
                                          Sample([make((2, 2, 1)), make((2, 1, 1))])], dtypes='all')
composite('vstack', samples=lambda make: [Sample([make((2, 3)), make((3,))]), Sample([make(()), make((1,))])],
          dtypes='all')
composite('dstack', samples=lambda make: [Sample([make((2, 3)), make((2, 3))]), Sample([make((3,)), make((1, 3, 2))])],
          dtypes='all')
composite('column_stack', samples=lambda make: [Sample([make((3,)), make((3, 2)), make((3,))]),
                                                Sample([make(()), make((1,))])], dtypes='all')


# ----------------------------------------------------------------------------- flip / roll / rot90

@defop('flip', dtypes='all')
def _flip(xp, a, dims):
    return xp.flip(a, axis=dims).copy(order='K')    # keeps the input's layout, like torch


@_flip.derivative
def _(F, ctx, grad):
    return F.flip(grad, dims=ctx.params['dims'])


def flip(input, *dims):
    """A copy of ``input`` with the order of elements reversed along ``dims``."""
    dims = as_shape(dims, 'dims')
    nd = input._data.ndim
    wrapped = [wrap_dim(d, nd) for d in dims]
    for d in wrapped:
        if wrapped.count(d) > 1:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return apply(_flip, (input,), {'dims': tuple(wrapped)})


def fliplr(input):
    """Flips a tensor of at least 2 dims left to right (dim 1)."""
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input):
    """Flips a tensor of at least 1 dim upside down (dim 0)."""
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


_flip.samples = lambda make: [Sample(make((2, 3, 4)), (0, 2)), Sample(make((2, 3)), (-1,)), Sample(make(()), ()),
                              Sample(make((3, 0)), (0, 1))]
_flip.error_samples = lambda make: [ErrorSample(make((2, 3)), (0, 0), match='dim 0 appears multiple times')]
composite('fliplr', samples=lambda make: [Sample(make((2, 3))), Sample(make((2, 3, 2)))], dtypes='all')
composite('flipud', samples=lambda make: [Sample(make((3,))), Sample(make((2, 3, 2)))], dtypes='all')


@defop('roll', dtypes='all')
def _roll(xp, a, shifts, dims):
    if dims is None:
        return xp.roll(a, shifts[0])
    out = xp.roll(a, shifts, axis=dims)
    return out if out.flags.c_contiguous else xp.ascontiguousarray(out)   # row-major, like torch's result


@_roll.derivative
def _(F, ctx, grad):
    p = ctx.params
    return F.roll(grad, shifts=tuple(-s for s in p['shifts']), dims=p['dims'])


def roll(input, shifts, dims=None):
    """Rotates elements along ``dims`` by ``shifts`` (over the flattened tensor when ``dims`` is None)."""
    shifts = (_int(shifts),) if isinstance(shifts, (int, Tensor)) else tuple(_int(s) for s in shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return apply(_roll, (input,), {'shifts': shifts, 'dims': None})
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
    nd = input._data.ndim
    return apply(_roll, (input,), {'shifts': shifts, 'dims': tuple(wrap_dim(d, nd) for d in dims)})


_roll.samples = lambda make: [Sample(make((3, 4)), 1), Sample(make((3, 4)), -2, 1),
                              Sample(make((3, 4)), (1, 5), (0, 1)),
                              Sample(make(()), 3), Sample(make((2, 3)), (2, 2), (1, 1)), Sample(make((0, 3)), 1, 1)]
_roll.error_samples = lambda make: [ErrorSample(make((2, 3)), (1, 2), (0,), match='shifts and dimensions must align')]


@defop('rot90', dtypes='all')
def _rot90(xp, a, k, dims):
    d0, d1 = dims
    order = list(range(a.ndim))
    order[d0], order[d1] = d1, d0
    if k == 0:
        return a.copy()
    if k == 2:
        return xp.flip(a, axis=dims).copy(order='K')
    # like torch: a contiguous flip, then a transposed view of it
    flipped = xp.flip(a, axis=d1 if k == 1 else d0).copy(order='K')
    return flipped.transpose(order)


@_rot90.derivative
def _(F, ctx, grad):
    p = ctx.params
    return F.rot90(grad, k=(-p['k']) % 4, dims=p['dims'])


def rot90(input, k=1, dims=(0, 1)):
    """Rotates by 90 degrees ``k`` times in the plane of ``dims`` (from the first toward the second)."""
    dims = tuple(dims)
    nd = input._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if nd < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {nd}")
    d0, d1 = wrap_dim(dims[0], nd), wrap_dim(dims[1], nd)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}")
    return apply(_rot90, (input,), {'k': _int(k) % 4, 'dims': (d0, d1)})


_rot90.samples = lambda make: [Sample(make((2, 3))), Sample(make((2, 3)), 2), Sample(make((2, 3, 4)), 3, (2, 0)),
                               Sample(make((2, 3)), -1, (1, 0)), Sample(make((2, 3)), 4)]
_rot90.error_samples = lambda make: [
    ErrorSample(make((2, 3)), 1, (0,), match='expected total rotation dims == 2, but got dims = 1'),
    ErrorSample(make((3,)), 1, match='expected total dims >= 2, but got total dims = 1')]


# ----------------------------------------------------------------------------- repeat / tile / repeat_interleave

def _interleaved(shape, repeats):
    """(r0, s0, r1, s1, ...) for ``shape`` left-padded with ones to ``len(repeats)`` dims."""
    shape = (1,) * (len(repeats) - len(shape)) + tuple(shape)
    inter = []
    for r, s in zip(repeats, shape):
        inter += [r, s]
    return shape, tuple(inter)


@defop('repeat', dtypes='all')
def _repeat(xp, a, repeats):
    shape, inter = _interleaved(a.shape, repeats)
    out = xp.empty(tuple(r * s for r, s in zip(repeats, shape)), dtype=a.dtype)
    out.reshape(inter)[...] = a.reshape(tuple(n for s in shape for n in (1, s)))
    return out


@_repeat.derivative
def _(F, ctx, grad):
    in_shape = ctx.input_meta[0][0]
    repeats = ctx.params['repeats']
    _, inter = _interleaved(in_shape, repeats)
    g = F.reshape_copy(grad, shape=inter)
    g = F.sum(g, dim=tuple(range(0, len(inter), 2)), keepdim=False, dtype=F.dtype_of(grad))
    return F.reshape_copy(g, shape=in_shape)


def repeat(input, *sizes):
    """Repeats ``input`` ``sizes[i]`` times along each dim (new leading dims for extra sizes)."""
    sizes = as_shape(sizes, 'repeats')
    if len(sizes) < input._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(sizes)}: {_shape_str(sizes)}")
    return apply(_repeat, (input,), {'repeats': sizes})


def tile(input, dims):
    """Repeats ``input`` along each dim; ``dims`` shorter than the tensor's dims is padded with ones."""
    dims = as_shape((dims,), 'dims')
    lead = input._data.ndim - len(dims)
    return repeat(input, (1,) * lead + dims if lead > 0 else dims)


_repeat.samples = lambda make: [Sample(make((2, 3)), 2, 1), Sample(make((2, 3)), (1, 2, 3)), Sample(make(()), 3),
                                Sample(make((3,)), 0, 2), Sample(make((2, 1)), [1, 1])]
_repeat.public = 'Tensor.repeat'
_repeat.error_samples = lambda make: [
    ErrorSample(make((2, 3)), 2, match='Number of dimensions of repeat dims can not be smaller')]
composite('tile', samples=lambda make: [Sample(make((2, 3)), (2,)), Sample(make((2, 3)), (2, 1, 2)),
                                        Sample(make(()), (2, 2))], dtypes='all')


@defop('repeat_interleave', dtypes='all')
def _repeat_interleave(xp, a, repeats, dim):
    return xp.repeat(a, repeats, axis=dim)


@_repeat_interleave.derivative
def _(F, ctx, grad):
    p = ctx.params
    size = ctx.input_meta[0][0][p['dim']]
    return F.repeat_interleave_backward(grad, repeats=p['repeats'], dim=p['dim'], size=size)


@defop('repeat_interleave_backward', public=None)
def _repeat_interleave_backward(xp, grad, repeats, dim, size):
    """Sums the gradient over each group of repeated copies."""
    if isinstance(repeats, int):
        return grad.reshape(grad.shape[:dim] + (size, repeats) + grad.shape[dim + 1:]).sum(axis=dim + 1)
    out = xp.zeros(grad.shape[:dim] + (size,) + grad.shape[dim + 1:], dtype=grad.dtype)
    if grad.shape[dim] == 0:
        return out
    # reduceat needs strictly increasing starts: sum the non-empty groups only
    nonempty = repeats > 0
    starts = (xp.cumsum(repeats) - repeats)[nonempty]
    out[_at(dim, nonempty)] = xp.add.reduceat(grad, starts, axis=dim)
    return out


@_repeat_interleave_backward.derivative
def _(F, ctx, grad):
    p = ctx.params
    return F.repeat_interleave(grad, repeats=p['repeats'], dim=p['dim'])


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeats each element (each slice along ``dim``) ``repeats`` times; ``repeats`` is an int or a tensor."""
    if repeats is None:
        counts = input
        if counts._data.ndim > 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        from ember.ops.creation import arange
        return repeat_interleave(arange(int(counts._data.size), dtype=counts._dtype, device=counts._device), counts, 0)
    if dim is None:
        input = reshape(input, (-1,))
        dim = 0
    nd = input._data.ndim
    dim = wrap_dim(dim, nd)
    size = input._data.shape[dim] if nd else 1
    if isinstance(repeats, Tensor):
        if repeats._data.ndim > 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        if repeats._dtype not in (_dtype.int64, _dtype.int32):
            raise RuntimeError("repeats has to be Long or Int tensor")
        if repeats._data.size == 1:
            repeats = int(repeats._data.reshape(-1)[0])
        else:
            counts = repeats._data.astype(np.int64)
            if counts.shape[0] != size:
                raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                                   f"{counts.shape[0]} and input.size({dim}) = {size}")
            if counts.size and counts.min() < 0:
                raise RuntimeError("repeats can not be negative")
            return apply(_repeat_interleave, (input,), {'repeats': counts, 'dim': dim})
    repeats = _int(repeats)
    if repeats < 0:
        raise RuntimeError("Repeats must be non-negative")
    if nd == 0:
        input = reshape(input, (1,))
    return apply(_repeat_interleave, (input,), {'repeats': repeats, 'dim': dim})


_repeat_interleave.samples = lambda make: [
    Sample(make((2, 3)), 2), Sample(make((2, 3)), 3, dim=1), Sample(make((3, 2)), np.array([1, 0, 2]), dim=0),
    Sample(make((2, 3)), np.array([0, 2, 0]), dim=-1), Sample(make((2, 3)), np.array([2]), dim=0),
    Sample(make(()), 2), Sample(make((0, 2)), np.array([], dtype=np.int64), dim=0)]
_repeat_interleave.error_samples = lambda make: [
    ErrorSample(make((2, 3)), np.array([1, 2]), dim=1, match=r'repeats must have the same size as input along dim, but '
                r'got repeats.size\(0\) = 2 and input.size\(1\) = 3'),
    ErrorSample(make((2, 3)), -1, match='Repeats must be non-negative')]


# ----------------------------------------------------------------------------- tril / triu and their indices

def _triangle_op(name, kernel_name):
    @defop(name, dtypes='all')
    def kernel(xp, a, diagonal):
        return xp.ascontiguousarray(getattr(xp, kernel_name)(a, diagonal))    # row-major, like torch's result

    @kernel.derivative
    def _(F, ctx, grad):
        return getattr(F, name)(grad, diagonal=ctx.params['diagonal'])

    kernel.samples = lambda make: [Sample(make((3, 4))), Sample(make((3, 4)), 1), Sample(make((2, 3, 3)), -1),
                                   Sample(make((4, 2)), diagonal=-5), Sample(make((0, 2)))]
    kernel.error_samples = lambda make: [
        ErrorSample(make((3,)), match=f'{name}: input tensor must have at least 2 dimensions')]
    return kernel


_tril = _triangle_op('tril', 'tril')
_triu = _triangle_op('triu', 'triu')


def _triangle_args(input, diagonal, name):
    if input._data.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
    return {'diagonal': _int(diagonal)}


def tril(input, diagonal=0, *, out=None):
    """The lower triangle (on and below the ``diagonal``-th diagonal) of the last two dims; zeros elsewhere."""
    params = _triangle_args(input, diagonal, 'tril')
    if out is not None:
        return apply_out(_tril, (input,), params, out)
    return apply(_tril, (input,), params)


def triu(input, diagonal=0, *, out=None):
    """The upper triangle (on and above the ``diagonal``-th diagonal) of the last two dims; zeros elsewhere."""
    params = _triangle_args(input, diagonal, 'triu')
    if out is not None:
        return apply_out(_triu, (input,), params, out)
    return apply(_triu, (input,), params)


def tril_(input, diagonal=0):
    """In-place ``tril``."""
    return apply_inplace(_tril, input, (), _triangle_args(input, diagonal, 'tril'))


def triu_(input, diagonal=0):
    """In-place ``triu``."""
    return apply_inplace(_triu, input, (), _triangle_args(input, diagonal, 'triu'))


def _indices(row, col, offset, dtype, device, upper):
    from ember.ops.creation import tensor
    if dtype is None:
        dtype = _dtype.int64
    if dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError(f'"{"triu" if upper else "tril"}_indices" not implemented for '
                           f"'{scalar_type_name(dtype)}'")
    row, col, offset = int(row), int(col), int(offset)
    if row < 0 or col < 0:
        raise RuntimeError(f"row must be non-negative, got{row}" if row < 0 else f"col must be non-negative, got{col}")
    rows, cols = (np.triu_indices if upper else np.tril_indices)(row, offset, col)
    return tensor(np.stack([rows, cols]).astype(dtype.np).reshape(2, -1), dtype=dtype, device=device)


def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) row/column indices of the lower triangle of a ``row`` x ``col`` matrix, row-major."""
    return _indices(row, col, offset, dtype, device, upper=False)


def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    """The (2, N) row/column indices of the upper triangle of a ``row`` x ``col`` matrix, row-major."""
    return _indices(row, col, offset, dtype, device, upper=True)


composite('tril_indices', samples=lambda make: [Sample(3, 3), Sample(4, 3, 1), Sample(3, 5, -1), Sample(0, 0),
                                                Sample(3, 3, -5)], dtypes='all')
composite('triu_indices', samples=lambda make: [Sample(3, 3), Sample(4, 3, 1), Sample(3, 5, -1), Sample(2, 2, 4)],
          dtypes='all')


# ----------------------------------------------------------------------------- diag / diagflat / block_diag

def diag(input, diagonal=0, *, out=None):
    """A 1-D input: the square matrix with it on the ``diagonal``-th diagonal; a 2-D input: that diagonal (a copy)."""
    nd = input._data.ndim
    if nd == 1:
        result = diag_embed(input, diagonal, 0, 1)
    elif nd == 2:
        result = clone(_diagonal(input, diagonal, 0, 1))
    else:
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {nd}D")
    if out is not None:
        from ember.ops._dispatch import write_out
        return write_out(result, out)
    return result


def diagflat(input, offset=0):
    """The square matrix with the flattened ``input`` on the ``offset``-th diagonal."""
    return diag_embed(reshape(input, (-1,)), offset, 0, 1)


composite('diag', samples=lambda make: [Sample(make((3,))), Sample(make((3,)), 1), Sample(make((3, 4)), -1),
                                        Sample(make((3, 4))), Sample(make((0,)), 2)], dtypes='all')
composite('diagflat', samples=lambda make: [Sample(make((2, 2))), Sample(make((3,)), -2), Sample(make(()))],
          dtypes='all')


def _as_block(shape):
    return (1, 1) if len(shape) == 0 else (1, shape[0]) if len(shape) == 1 else shape


@defop('block_diag', promote='common', dtypes='all')
def _block_diag(xp, *arrays):
    blocks = [_as_block(a.shape) for a in arrays]
    out = xp.zeros((sum(b[0] for b in blocks), sum(b[1] for b in blocks)), dtype=arrays[0].dtype)
    r = c = 0
    for a, (h, w) in zip(arrays, blocks):
        out[r:r + h, c:c + w] = a.reshape(h, w)
        r += h
        c += w
    return out


@_block_diag.derivative
def _(F, ctx, grad):
    grads = []
    r = c = 0
    for i, (shape, _) in enumerate(ctx.input_meta):
        h, w = _as_block(shape)
        if ctx.needs_input_grad[i]:
            g = F.narrow(F.narrow(grad, dim=0, start=r, length=h), dim=1, start=c, length=w)
            grads.append(F.reshape_copy(g, shape=shape))
        else:
            grads.append(None)
        r += h
        c += w
    return tuple(grads)


def block_diag(*tensors):
    """A block-diagonal matrix with the (at most 2-D) inputs as its blocks."""
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
        if t._data.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{t._data.ndim} dimensions")
    if not tensors:
        return Tensor._make(np.zeros((1, 0), dtype=_dtype.get_default_dtype().np))
    return apply(_block_diag, tensors, _EMPTY)


_block_diag.samples = lambda make: [
    Sample(make((2, 2)), make((1, 3))), Sample(make(()), make((2,)), make((2, 1))),
    Sample(make((2, 3)), make((2, 2), 'float64')), Sample(make((0, 2)), make((2, 0)), make((1, 1)))]
_block_diag.error_samples = lambda make: [
    ErrorSample(make((2, 2, 2)), match='Input tensors must have 2 or fewer dimensions. Input 0 has 3 dimensions')]


TENSOR_METHODS = ['flip', 'fliplr', 'flipud', 'roll', 'rot90', 'repeat', 'tile', 'repeat_interleave', 'tril', 'triu',
                  'tril_', 'triu_', 'diag', 'diagflat']
