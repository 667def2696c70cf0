"""Views with their own geometry (diagonal, Tensor.unfold, view_as_real/complex) and views built from others.

``diagonal`` and ``unfold`` are strided views made with the backend's
``as_strided`` (NumPy's own ``diagonal`` is read-only); their derivatives
scatter the gradient back with ``diag_embed`` and ``tensor_unfold_backward``,
whose rules are the views again.  movedim, unflatten, ravel, atleast_*d,
broadcast_tensors and meshgrid are compositions of permute/view/expand.
"""
import numpy as np

from ember import backend as _backend
from ember import _dtype
from ember._tensor import Size, Tensor
from ember.ops._dispatch import apply, scalar_type_name
from ember.ops._registry import ErrorSample, Sample, composite, defop
from ember.ops._util import as_shape, wrap_dim
from ember.ops.shape import expand, permute, reshape, unsqueeze, view
from ember.ops.shape_extra import _at, _int, _shape_str

__all__ = ['diagonal', 'diag_embed', 'movedim', 'moveaxis', 'unflatten', 'view_as_real', 'view_as_complex', 'ravel',
           'atleast_1d', 'atleast_2d', 'atleast_3d', 'broadcast_tensors', 'broadcast_shapes', 'meshgrid']


# ----------------------------------------------------------------------------- diagonal / diag_embed

def _diag_length(shape, offset, dim1, dim2):
    if offset >= 0:
        return max(min(shape[dim1], shape[dim2] - offset), 0)
    return max(min(shape[dim1] + offset, shape[dim2]), 0)


def _diagonal_view(a, offset, dim1, dim2):
    """A writable strided view of the diagonal (NumPy's own ``diagonal`` is read-only)."""
    n = _diag_length(a.shape, offset, dim1, dim2)
    if n > 0:
        a = a[_at(dim2, slice(offset, None))] if offset >= 0 else a[_at(dim1, slice(-offset, None))]
    keep = [d for d in range(a.ndim) if d not in (dim1, dim2)]
    shape = tuple(a.shape[d] for d in keep) + (n,)
    strides = tuple(a.strides[d] for d in keep) + (a.strides[dim1] + a.strides[dim2],)
    return _backend.of_array(a).as_strided(a, shape, strides)


@defop('diagonal', view=True, dtypes='all')
def _diagonal(xp, a, offset, dim1, dim2):
    return _diagonal_view(a, offset, dim1, dim2)


@_diagonal.derivative
def _(F, ctx, grad):
    p = ctx.params
    return F.diag_embed(grad, shape=ctx.input_meta[0][0], offset=p['offset'], dim1=p['dim1'], dim2=p['dim2'])


@defop('diag_embed', dtypes='all')
def _diag_embed(xp, a, shape, offset, dim1, dim2):
    out = xp.zeros(shape, dtype=a.dtype)
    _diagonal_view(out, offset, dim1, dim2)[...] = a
    return out


@_diag_embed.derivative
def _(F, ctx, grad):
    p = ctx.params
    return F.diagonal(grad, offset=p['offset'], dim1=p['dim1'], dim2=p['dim2'])


def _diag_dims(nd, dim1, dim2):
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


def diagonal(input, offset=0, dim1=0, dim2=1):
    """A view of the ``offset``-th diagonal of the planes ``dim1``, ``dim2`` (it becomes the last dim)."""
    d1, d2 = _diag_dims(input._data.ndim, dim1, dim2)
    return apply(_diagonal, (input,), {'offset': _int(offset), 'dim1': d1, 'dim2': d2})


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """A tensor whose diagonals (planes ``dim1``, ``dim2``) are filled by the last dim of ``input``, zeros elsewhere."""
    nd = input._data.ndim + 1
    d1, d2 = _diag_dims(nd, dim1, dim2)
    offset = _int(offset)
    n = (input._data.shape[-1] if input._data.ndim else 1) + abs(offset)
    rest = list(input._data.shape[:-1])
    shape = []
    for d in range(nd):
        shape.append(n if d in (d1, d2) else rest.pop(0))
    if input._data.ndim == 0:
        input = reshape(input, (1,))
    return apply(_diag_embed, (input,), {'shape': tuple(shape), 'offset': offset, 'dim1': d1, 'dim2': d2})


_diagonal.samples = lambda make: [
    Sample(make((3, 4))), Sample(make((3, 4)), 1), Sample(make((3, 4)), -2), Sample(make((2, 3, 4)), 0, 2, 0),
    Sample(make((2, 3, 4)), offset=-1, dim1=-1, dim2=1), Sample(make((3, 4)), 7), Sample(make((0, 3)))]
_diagonal.error_samples = lambda make: [
    ErrorSample(make((2, 3)), 0, 1, 1, match='diagonal dimensions cannot be identical 1, 1')]
_diag_embed.samples = lambda make: [
    Sample(make((3,))), Sample(make((2, 3)), 1), Sample(make((2, 3)), -1, 0, 2), Sample(make((2, 3)), 0, -1, 0),
    Sample(make((0,)))]


# ----------------------------------------------------------------------------- unfold (Tensor.unfold)

@defop('tensor_unfold', view=True, grad_name='UnfoldBackward0', dtypes='all', public='Tensor.unfold')
def _tensor_unfold(xp, a, dim, size, step):
    if a.ndim == 0:
        return _backend.of_array(a).as_strided(a, (1,), (a.itemsize,))
    n = a.shape[dim]
    count = (n - size) // step + 1
    shape = a.shape[:dim] + (count,) + a.shape[dim + 1:] + (size,)
    strides = a.strides[:dim] + (a.strides[dim] * step,) + a.strides[dim + 1:] + (a.strides[dim],)
    return _backend.of_array(a).as_strided(a, shape, strides)


@_tensor_unfold.derivative
def _(F, ctx, grad):
    p = ctx.params
    return F.tensor_unfold_backward(grad, shape=ctx.input_meta[0][0], dim=p['dim'], size=p['size'], step=p['step'])


@defop('tensor_unfold_backward', public=None)
def _tensor_unfold_backward(xp, grad, shape, dim, size, step):
    out = xp.zeros(shape, dtype=grad.dtype)
    if not shape:
        out[...] = grad.reshape(())
        return out
    count = grad.shape[dim]
    windows = xp.moveaxis(grad, -1, dim + 1)    # (..., count, size, ...)
    # windows overlap when step < size: loop over the shorter of the two axes and accumulate
    if size <= count:
        for k in range(size):
            out[_at(dim, slice(k, k + step * (count - 1) + 1, step))] += windows[_at(dim + 1, k)]
    else:
        for i in range(count):
            out[_at(dim, slice(i * step, i * step + size))] += windows[_at(dim, i)]
    return out


@_tensor_unfold_backward.derivative
def _(F, ctx, grad):
    p = ctx.params
    return F.tensor_unfold(grad, dim=p['dim'], size=p['size'], step=p['step'])


def unfold(input, dimension, size, step):
    """A view of all windows of ``size`` elements, ``step`` apart, along ``dimension`` (a new last dim)."""
    nd = input._data.ndim
    dim = wrap_dim(dimension, nd)
    n = input._data.shape[dim] if nd else 1
    size, step = _int(size), _int(step)
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {dim} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    return apply(_tensor_unfold, (input,), {'dim': dim, 'size': size, 'step': step})


_tensor_unfold.samples = lambda make: [
    Sample(make((3, 7)), 1, 3, 2), Sample(make((5, 2)), 0, 2, 1), Sample(make((6,)), 0, 2, 3),
    Sample(make((2, 4)), -1, 4, 1), Sample(make(()), 0, 1, 1), Sample(make((3, 4)), 1, 0, 1)]
_tensor_unfold.error_samples = lambda make: [
    ErrorSample(make((2, 3)), 1, 4, 1, match='maximum size for tensor at dimension 1 is 3 but size is 4'),
    ErrorSample(make((2, 3)), 1, 2, 0, match='step is 0 but must be > 0')]


# ----------------------------------------------------------------------------- view_as_real / view_as_complex

@defop('view_as_real', view=True, dtypes='complex')
def _view_as_real(xp, a):
    re = a.real
    half = re.itemsize
    return _backend.of_array(a).as_strided(re, a.shape + (2,), a.strides + (half,))


@_view_as_real.derivative
def _(F, ctx, grad):
    return F.view_as_complex(grad)


@defop('view_as_complex', view=True, dtypes='float')
def _view_as_complex(xp, a):
    if a.strides[-1] != a.itemsize:
        a = xp.ascontiguousarray(a)     # only reached by derivative rules; the public function checks strides
    return a.view(np.complex64 if a.dtype == np.float32 else np.complex128)[..., 0]


@_view_as_complex.derivative
def _(F, ctx, grad):
    return F.view_as_real(grad)


def view_as_real(input):
    """A real view of a complex tensor, with a last dim of size 2 holding (real, imag)."""
    if not input.is_complex():
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return apply(_view_as_real, (input,))


def view_as_complex(input):
    """A complex view of a real tensor whose last dim has size 2 and stride 1."""
    d = input._dtype
    if d is _dtype.float16:
        raise RuntimeError("view_as_complex: ember has no complex32 (ComplexHalf) dtype for a Half tensor")
    if d not in (_dtype.float32, _dtype.float64):
        raise RuntimeError(f"view_as_complex is only supported for half, float and double tensors, but got a tensor "
                           f"of scalar type: {scalar_type_name(d)}")
    shape, strides = input._data.shape, input.stride()
    if not shape or shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if strides[-1] != 1:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(s % 2 for s in strides[:-1]):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    if input.storage_offset() % 2:
        raise RuntimeError("Tensor must have a storage_offset divisible by 2")
    return apply(_view_as_complex, (input,))


_view_as_real.samples = lambda make: [Sample(make((2, 3), 'complex64')), Sample(make((), 'complex128'))]
# view_as_complex needs a last dim of stride 1, which the generic non-contiguous test breaks: tests/test_views.py


# ----------------------------------------------------------------------------- views built from other views

def _dim_list(dims, nd, name):
    if isinstance(dims, (int, Tensor)):
        return [wrap_dim(_int(dims), nd)]
    return [wrap_dim(_int(d), nd) for d in dims]


def movedim(input, source, destination):
    """A view with the dims in ``source`` moved to the positions in ``destination``."""
    nd = input._data.ndim
    src_raw = [source] if isinstance(source, int) else list(source)
    dst_raw = [destination] if isinstance(destination, int) else list(destination)
    if len(src_raw) != len(dst_raw):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({_shape_str(src_raw)} dims) should "
                           f"contain the same number of dims as destination ({_shape_str(dst_raw)} dims)")
    src, dst = _dim_list(src_raw, nd, 'source'), _dim_list(dst_raw, nd, 'destination')
    if len(set(src)) != len(src):
        raise RuntimeError(f"movedim: repeated dim in `source` ({_shape_str(src_raw)})")
    if len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({_shape_str(dst_raw)})")
    order = [None] * nd
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(nd) if d not in src)
    order = [o if o is not None else next(rest) for o in order]
    return permute(input, order)


moveaxis = movedim


def unflatten(input, dim, sizes):
    """Expands dim ``dim`` of ``input`` into the shape ``sizes`` (one entry may be -1)."""
    shape = input._data.shape
    dim = wrap_dim(dim, len(shape))
    sizes = list(as_shape((sizes,)))
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    n = shape[dim]
    if -1 in sizes:
        known = 1
        for s in sizes:
            if s != -1:
                known *= s
        if known and n % known == 0:
            sizes[sizes.index(-1)] = n // known
    total = 1
    for s in sizes:
        total *= s
    if total != n or sizes.count(-1):
        raise RuntimeError(f"unflatten: Provided sizes {_shape_str(sizes)} don't multiply up to the size of dim "
                           f"{dim} ({n}) in the input tensor")
    return view(input, shape[:dim] + tuple(sizes) + shape[dim + 1:])


def ravel(input):
    """``input`` flattened to 1-D: a view when it is contiguous, else a copy."""
    return reshape(input, (-1,))


def _tensors_arg(tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(tensors[0]), True
    return tensors, len(tensors) != 1


def _atleast(tensors, fn):
    items, many = _tensors_arg(tensors)
    out = tuple(fn(t) for t in items)
    return out if many else out[0]


def _at_least_1d(t):
    return reshape(t, (1,)) if t._data.ndim == 0 else t


def _at_least_2d(t):
    nd = t._data.ndim
    return reshape(t, (1, 1)) if nd == 0 else unsqueeze(t, 0) if nd == 1 else t


def _at_least_3d(t):
    nd = t._data.ndim
    if nd == 0:
        return reshape(t, (1, 1, 1))
    if nd == 1:
        return unsqueeze(unsqueeze(t, 0), -1)
    return unsqueeze(t, -1) if nd == 2 else t


def atleast_1d(*tensors):
    """Each input as a view with at least 1 dim (a tuple when given several)."""
    return _atleast(tensors, _at_least_1d)


def atleast_2d(*tensors):
    """Each input as a view with at least 2 dims (a tuple when given several)."""
    return _atleast(tensors, _at_least_2d)


def atleast_3d(*tensors):
    """Each input as a view with at least 3 dims (a tuple when given several)."""
    return _atleast(tensors, _at_least_3d)


def broadcast_shapes(*shapes):
    """The shape that tensors of ``shapes`` broadcast to."""
    result = []
    for i, raw in enumerate(shapes):
        shape = (raw,) if isinstance(raw, int) else tuple(int(n) for n in raw)
        if any(n < 0 for n in shape):
            raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: {_shape_str(shape)}")
        if len(shape) > len(result):
            result = [1] * (len(shape) - len(result)) + result
        for k in range(1, len(shape) + 1):
            n, r = shape[-k], result[-k]
            if n == r or n == 1:
                continue
            if r == 1:
                result[-k] = n
            else:
                raise RuntimeError(f"Attempting to broadcast a dimension of length {n} at {-k}! Mismatching argument "
                                   f"at index {i} had {tuple(shape)}; but expected shape should be broadcastable to "
                                   f"{_shape_str(result)}")
    return Size(result)


def broadcast_tensors(*tensors):
    """Views of the inputs expanded to their common broadcast shape."""
    items, _ = _tensors_arg(tensors)
    if len(items) == 1 and not isinstance(tensors[0], (list, tuple)):
        items = tensors
    try:
        shape = broadcast_shapes(*(t._data.shape for t in items))
    except RuntimeError:
        for i, t in enumerate(items[1:], 1):
            try:
                broadcast_shapes(items[0]._data.shape, t._data.shape)
            except RuntimeError:
                a, b = items[0]._data.shape, t._data.shape
                for k in range(1, min(len(a), len(b)) + 1):
                    if a[-k] != b[-k] and a[-k] != 1 and b[-k] != 1:
                        raise RuntimeError(f"The size of tensor a ({a[-k]}) must match the size of tensor b "
                                           f"({b[-k]}) at non-singleton dimension {max(len(a), len(b)) - k}") from None
        raise
    return tuple(t if t._data.shape == shape else expand(t, shape) for t in items)


def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D tensors, as expanded views; ``indexing`` is 'ij' (default) or 'xy'."""
    items, _ = _tensors_arg(tensors)
    if indexing is None:
        import warnings
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                      UserWarning, stacklevel=2)
        indexing = 'ij'
    if indexing not in ('ij', 'xy'):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    if not items:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in items:
        if t._data.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t}")
        if t._dtype is not items[0]._dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
        if t._device != items[0]._device:
            raise RuntimeError("meshgrid expects all tensors to have the same device")
    swap = indexing == 'xy' and len(items) >= 2
    if swap:
        items = (items[1], items[0]) + tuple(items[2:])
    sizes = tuple(int(t._data.size) for t in items)
    out = []
    for i, t in enumerate(items):
        shape = [1] * len(items)
        shape[i] = -1
        out.append(expand(view(t, tuple(shape)), sizes))
    if swap:
        out[0], out[1] = out[1], out[0]
    return tuple(out)


composite('movedim', samples=lambda make: [
    Sample(make((2, 3, 4)), 0, 2), Sample(make((2, 3, 4)), (0, 1), (2, 0)), Sample(make((2, 3)), -1, 0)], dtypes='all')
composite('unflatten', samples=lambda make: [
    Sample(make((2, 6)), 1, (2, 3)), Sample(make((6, 2)), 0, (-1, 2)), Sample(make((2, 3)), -1, (3, 1, 1)),
    Sample(make((0, 4)), 1, (2, 2))], public='Tensor.unflatten', dtypes='all')
composite('ravel', samples=lambda make: [Sample(make((2, 3))), Sample(make((2, 3)).T), Sample(make(()))], dtypes='all')
composite('atleast_1d', samples=lambda make: [Sample(make(())), Sample(make((3,))), Sample(make(()), make((2, 2)))],
          dtypes='all')
composite('atleast_2d', samples=lambda make: [Sample(make(())), Sample(make((3,))), Sample([make((3, 2)), make(())])],
          dtypes='all')
composite('atleast_3d', samples=lambda make: [Sample(make(())), Sample(make((3,))), Sample(make((3, 2))),
                                              Sample(make((2, 2, 2, 2)))], dtypes='all')
composite('broadcast_tensors', samples=lambda make: [
    Sample(make((3, 1)), make((4,))), Sample(make(()), make((2, 3)), make((1, 3))), Sample(make((2, 0)), make((1,)))],
    dtypes='all')
composite('broadcast_shapes', samples=lambda make: [Sample((3, 1), (4,)), Sample((2, 1, 3), (5, 1), 1)], dtypes='all')
composite('meshgrid', samples=lambda make: [
    Sample(make((3,)), make((4,)), indexing='ij'), Sample(make((3,)), make((4,)), make((2,)), indexing='xy'),
    Sample([make((2,)), make(())], indexing='ij'), Sample(make((3,)), indexing='xy')], dtypes='all')


TENSOR_METHODS = ['diagonal', 'diag_embed', 'movedim', 'moveaxis', 'unflatten', 'unfold', 'ravel']
