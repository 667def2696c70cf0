"""More views: narrow, select, and the multi-view splits unbind, split, chunk, tensor_split.

Every op here returns a NumPy view of its input, so the result shares
storage with the input exactly where PyTorch's does (same ``stride()`` and
``storage_offset()``).  The derivative of a view scatters the gradient back
into zeros with a ``*_backward`` op, and that op's own rule is the view again,
so higher-order gradients work.  ``unbind``/``split``/``chunk`` are
multi-output views: one node, one gradient per piece.  (diagonal, unfold,
movedim, meshgrid, ... are in ``shape_views``.)
"""
import numpy as np

from ember import _dtype
from ember._tensor import Tensor
from ember.ops._dispatch import apply, scalar_type_name
from ember.ops._registry import ErrorSample, Sample, composite, defop
from ember.ops._util import wrap_dim

__all__ = ['narrow', 'narrow_copy', 'select', 'unbind', 'split', 'split_with_sizes', 'tensor_split', 'chunk', 'hsplit',
           'vsplit', 'dsplit']


def _at(dim, index):
    """An index tuple that applies ``index`` on axis ``dim`` (the trailing Ellipsis keeps 0-d results views)."""
    return (slice(None),) * dim + (index, Ellipsis)


def _slice(a, dim, start, stop):
    """``a[start:stop]`` along ``dim``; an empty result still starts at ``start``, as torch's does."""
    piece = a[_at(dim, slice(start, stop))]
    if stop > start or start == 0 or not isinstance(a, np.ndarray):
        return piece
    # NumPy leaves an empty slice's data pointer at the array's start, which changes storage_offset()
    owner = a
    while isinstance(owner.base, np.ndarray):
        owner = owner.base
    offset = (a.__array_interface__['data'][0] - owner.__array_interface__['data'][0]) + start * a.strides[dim]
    try:
        return np.ndarray(piece.shape, a.dtype, buffer=owner, offset=offset, strides=piece.strides)
    except (TypeError, ValueError, BufferError):
        return piece


def _shape_str(shape):
    return '[' + ', '.join(str(n) for n in shape) + ']'


def _int(x):
    return int(x.item()) if isinstance(x, Tensor) else int(x)


# ----------------------------------------------------------------------------- narrow

@defop('narrow', view=True, grad_name='SliceBackward0', dtypes='all')
def _narrow(xp, a, dim, start, length):
    return _slice(a, dim, start, start + length)


@_narrow.derivative
def _(F, ctx, grad):
    p = ctx.params
    return F.narrow_backward(grad, shape=ctx.input_meta[0][0], dim=p['dim'], start=p['start'], length=p['length'])


@defop('narrow_backward', grad_name='SliceBackwardBackward0', public=None)
def _narrow_backward(xp, grad, shape, dim, start, length):
    out = xp.zeros(shape, dtype=grad.dtype)
    out[_at(dim, slice(start, start + length))] = grad
    return out


@_narrow_backward.derivative
def _(F, ctx, grad):
    p = ctx.params
    return F.narrow(grad, dim=p['dim'], start=p['start'], length=p['length'])


def narrow(input, dim, start, length):
    """A view of ``input`` with ``length`` elements of ``dim`` starting at ``start``."""
    nd = input._data.ndim
    if nd == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    dim = wrap_dim(dim, nd)
    start, length = _int(start), _int(length)
    size = input._data.shape[dim]
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    if start < 0:
        start += size
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return apply(_narrow, (input,), {'dim': dim, 'start': start, 'length': length})


def narrow_copy(input, dim, start, length):
    """A copy of ``narrow(input, dim, start, length)``."""
    from ember.ops.shape import clone
    return clone(narrow(input, dim, start, length))


_narrow.samples = lambda make: [Sample(make((4, 5)), 1, 1, 3), Sample(make((4, 5)), 0, -2, 2),
                                Sample(make((3, 2, 4)), -1, 0, 0), Sample(make((0, 3)), 1, 1, 1)]
_narrow.error_samples = lambda make: [
    ErrorSample(make((2, 3)), 1, 2, 2, match=r'start \(2\) \+ length \(2\) exceeds dimension size \(3\)'),
    ErrorSample(make((2, 3)), 1, 4, 0, error=IndexError, match=r'start out of range'),
    ErrorSample(make((2, 3)), 2, 0, 1, error=IndexError, match='Dimension out of range')]


# ----------------------------------------------------------------------------- select

@defop('select', view=True, dtypes='all')
def _select(xp, a, dim, index):
    return a[_at(dim, index)]


@_select.derivative
def _(F, ctx, grad):
    p = ctx.params
    return F.select_backward(grad, shape=ctx.input_meta[0][0], dim=p['dim'], index=p['index'])


@defop('select_backward', public=None)
def _select_backward(xp, grad, shape, dim, index):
    out = xp.zeros(shape, dtype=grad.dtype)
    out[_at(dim, index)] = grad
    return out


@_select_backward.derivative
def _(F, ctx, grad):
    p = ctx.params
    return F.select(grad, dim=p['dim'], index=p['index'])


def select(input, dim, index):
    """A view of ``input`` at position ``index`` of ``dim``, with that dim removed."""
    shape = input._data.shape
    if not shape:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    dim = wrap_dim(dim, len(shape))
    index = _int(index)
    size = shape[dim]
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {_shape_str(shape)} at "
                         f"dimension {dim}")
    return apply(_select, (input,), {'dim': dim, 'index': index + size if index < 0 else index})


_select.samples = lambda make: [Sample(make((4, 5)), 1, 2), Sample(make((4, 5)), 0, -1), Sample(make((3,)), 0, 1),
                                Sample(make((2, 0)), 0, 1)]
_select.error_samples = lambda make: [
    ErrorSample(make((2, 3)), 0, 2, error=IndexError,
                match=r'select\(\): index 2 out of range for tensor of size \[2, 3\] at dimension 0')]


# ----------------------------------------------------------------------------- unbind / split / chunk

@defop('unbind', view=True, multi_output=True, dtypes='all')
def _unbind(xp, a, dim):
    return tuple(a[_at(dim, i)] for i in range(a.shape[dim]))


@_unbind.derivative
def _(F, ctx, grad):
    return F.stack(list(grad), dim=ctx.params['dim'])


def unbind(input, dim=0):
    """The slices of ``input`` along ``dim``, as a tuple of views."""
    nd = input._data.ndim
    if nd == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    return apply(_unbind, (input,), {'dim': wrap_dim(dim, nd)})


_unbind.samples = lambda make: [Sample(make((3, 4))), Sample(make((3, 4)), 1), Sample(make((2, 3, 2)), -1)]


def _pieces(a, dim, sizes):
    out = []
    start = 0
    for n in sizes:
        out.append(_slice(a, dim, start, start + n))
        start += n
    return tuple(out)


@defop('split', view=True, multi_output=True, dtypes='all')
def _split(xp, a, split_size, dim):
    return _pieces(a, dim, _split_sizes(a.shape[dim], split_size))


@_split.derivative
def _(F, ctx, grad):
    return F.cat(list(grad), dim=ctx.params['dim'])


@defop('split_with_sizes', view=True, multi_output=True, dtypes='all')
def _split_with_sizes(xp, a, split_sizes, dim):
    return _pieces(a, dim, split_sizes)


@_split_with_sizes.derivative
def _(F, ctx, grad):
    return F.cat(list(grad), dim=ctx.params['dim'])


def _split_sizes(size, split_size):
    if split_size == 0:
        return [0]
    count = max((size + split_size - 1) // split_size, 1)
    return [split_size] * (count - 1) + [size - split_size * (count - 1)]


def split(tensor, split_size_or_sections, dim=0):
    """Splits ``tensor`` into views of ``split_size`` along ``dim`` (or of the sizes in a list)."""
    if not isinstance(split_size_or_sections, (int, Tensor)):
        return split_with_sizes(tensor, split_size_or_sections, dim)
    nd = tensor._data.ndim
    if nd == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    dim = wrap_dim(dim, nd)
    split_size = _int(split_size_or_sections)
    size = tensor._data.shape[dim]
    if split_size < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got split_size={split_size}")
    if split_size == 0 and size != 0:
        raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
    return apply(_split, (tensor,), {'split_size': split_size, 'dim': dim})


def split_with_sizes(input, split_sizes, dim=0):
    """Splits ``input`` along ``dim`` into views of the given sizes."""
    nd = input._data.ndim
    if nd == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    dim = wrap_dim(dim, nd)
    sizes = tuple(_int(n) for n in split_sizes)
    size = input._data.shape[dim]
    if any(n < 0 for n in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative entries, but got "
                           f"split_sizes={_shape_str(sizes)}")
    if sum(sizes) != size:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size at "
                           f"dimension {dim}), but got split_sizes={_shape_str(sizes)}")
    return apply(_split_with_sizes, (input,), {'split_sizes': sizes, 'dim': dim})


def chunk(input, chunks, dim=0):
    """Splits ``input`` into at most ``chunks`` views of equal size (the last may be smaller)."""
    chunks = _int(chunks)
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    nd = input._data.ndim
    if nd == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    dim = wrap_dim(dim, nd)
    size = input._data.shape[dim]
    split_size = (size + chunks - 1) // chunks
    if split_size == 0 and size == 0:
        return split_with_sizes(input, [0] * chunks, dim)
    return split(input, split_size, dim)


def tensor_split(input, indices_or_sections, dim=0):
    """Splits ``input`` into ``sections`` near-equal views, or at the given ``indices``, along ``dim``."""
    nd = input._data.ndim
    if nd == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    dim = wrap_dim(dim, nd)
    size = input._data.shape[dim]
    arg = indices_or_sections
    if isinstance(arg, Tensor):
        if arg._dtype is not _dtype.int64:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to have dtype of long, but got "
                               f"{scalar_type_name(arg._dtype)}")
        if arg._data.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                               f"one-dimensional tensor, but got a tensor with {arg._data.ndim} dims")
        arg = int(arg.item()) if arg._data.ndim == 0 else [int(i) for i in arg._data.tolist()]
    if isinstance(arg, int):
        if arg <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {arg}")
        small, extra = divmod(size, arg)
        bounds = []
        start = 0
        for i in range(arg):
            n = small + (1 if i < extra else 0)
            bounds.append((start, start + n))
            start += n
    else:
        cuts = [0] + [int(i) for i in arg] + [size]
        bounds = []
        for lo, hi in zip(cuts[:-1], cuts[1:]):
            lo = min(max(lo + size if lo < 0 else lo, 0), size)
            hi = min(max(hi + size if hi < 0 else hi, 0), size)
            bounds.append((lo, max(hi, lo)))
    return tuple(apply(_narrow, (input,), {'dim': dim, 'start': lo, 'length': hi - lo}) for lo, hi in bounds)


def _split_at_dim(input, sections, dim, name, min_dims):
    if input._data.ndim < min_dims:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dims} dimension, but got a tensor "
                           f"with {input._data.ndim} dimensions!")
    if isinstance(sections, int) and input._data.shape[dim] % sections:
        raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the size of the dimension "
                           f"{input._data.shape[dim]} is not divisible by the split_size {sections}!")
    return tensor_split(input, sections, dim)


def hsplit(input, indices_or_sections):
    """``tensor_split`` along dim 1 (dim 0 for 1-D tensors), requiring an even split for an int."""
    return _split_at_dim(input, indices_or_sections, 1 if input._data.ndim > 1 else 0, 'hsplit', 1)


def vsplit(input, indices_or_sections):
    """``tensor_split`` along dim 0, requiring an even split for an int."""
    return _split_at_dim(input, indices_or_sections, 0, 'vsplit', 2)


def dsplit(input, indices_or_sections):
    """``tensor_split`` along dim 2, requiring an even split for an int."""
    return _split_at_dim(input, indices_or_sections, 2, 'dsplit', 3)


_split.samples = lambda make: [Sample(make((5, 4)), 2), Sample(make((5, 4)), 3, 1), Sample(make((4, 3)), 4),
                               Sample(make((0, 3)), 2)]
_split.public = 'Tensor.split'
_split.error_samples = lambda make: [
    ErrorSample(make((2, 3)), 0, 1, match='split_size can only be 0 if dimension size is 0')]
_split_with_sizes.samples = lambda make: [Sample(make((5, 4)), [1, 4]), Sample(make((5, 4)), [2, 0, 2], dim=-1)]
_split_with_sizes.error_samples = lambda make: [
    ErrorSample(make((2, 3)), [1, 3], 1, match=r'split_with_sizes expects split_sizes to sum exactly to 3 '
                                              r"\(input tensor's size at dimension 1\), but got split_sizes=\[1, 3\]")]
composite('chunk', samples=lambda make: [Sample(make((5, 4)), 2), Sample(make((5, 4)), 3, 1),
                                         Sample(make((0, 3)), 2), Sample(make((2, 3)), 5, dim=1)],
          dtypes='all')
composite('tensor_split', samples=lambda make: [
    Sample(make((5, 4)), 3), Sample(make((5, 4)), [1, 3], dim=1), Sample(make((6,)), [-2, 2, 9]),
    Sample(make((5, 4)), np.array(2)), Sample(make((5, 4)), np.array([3, 1]))], dtypes='all')
composite('hsplit', samples=lambda make: [Sample(make((3, 4)), 2), Sample(make((6,)), [1, 4])], dtypes='all')
composite('vsplit', samples=lambda make: [Sample(make((4, 3)), 2)], dtypes='all')
composite('dsplit', samples=lambda make: [Sample(make((2, 3, 4)), [1])], dtypes='all')


TENSOR_METHODS = ['narrow', 'narrow_copy', 'select', 'unbind', 'split', 'split_with_sizes', 'tensor_split', 'chunk',
                  'hsplit', 'vsplit', 'dsplit']
