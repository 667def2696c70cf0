"""Shape and view ops: view/reshape, permute, expand, squeeze, as_strided, ...

View ops return NumPy views of their input, so they share storage exactly
where PyTorch's views do; the dispatcher marks them as views (shared version
counter, ``_base``).  ``copy_slices`` rewrites a base's history after an
in-place op on one of its views.
"""
import numpy as np

from ember import backend as _backend
from ember._tensor import Tensor
from ember.autograd.graph import Node, edge_of
from ember.ops._dispatch import apply, view_geometry
from ember.ops._registry import Sample, ErrorSample, defop
from ember.ops._util import as_shape, wrap_dim, wrap_dims


# ----------------------------------------------------------------------------- view / reshape

@defop('view', view=True, grad_name='ViewBackward0', dtypes='all')
def _view(xp, a, shape):
    try:
        return xp.reshape(a, shape, copy=False)
    except ValueError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                           "dimension spans across two contiguous subspaces). Use .reshape(...) instead.") from None


@_view.derivative
def _(F, ctx, grad):
    return F.reshape_copy(grad, shape=ctx.input_meta[0][0])


@defop('reshape_copy', grad_name='UnsafeViewBackward0', dtypes='all', public='reshape')
def _reshape_copy(xp, a, shape):
    return xp.reshape(a, shape)


@_reshape_copy.derivative
def _(F, ctx, grad):
    return F.reshape_copy(grad, shape=ctx.input_meta[0][0])


def _infer_shape(shape, numel, op):
    shape = list(shape)
    neg = [i for i, n in enumerate(shape) if n == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for n in shape:
        if n < -1:
            raise RuntimeError(f"invalid shape dimension {n}")
    known = 1
    for n in shape:
        if n != -1:
            known *= n
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '[{', '.join(map(str, shape))}]' is invalid for input of size {numel}")
        shape[neg[0]] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '[{', '.join(map(str, shape))}]' is invalid for input of size {numel}")
    return tuple(shape)


def view(input, *shape):
    """Returns a tensor with the same data and a new shape (no copy; raises if impossible)."""
    if len(shape) == 1 and not isinstance(shape[0], int) and not isinstance(shape[0], (tuple, list)) and \
            not isinstance(shape[0], Tensor):
        from ember._dtype import dtype as _dt
        if isinstance(shape[0], _dt):
            return view_as_dtype(input, shape[0])
    shape = _infer_shape(as_shape(shape), input._data.size, 'view')
    if shape == input._data.shape and False:
        return input
    return apply(_view, (input,), {'shape': shape})


def view_as_dtype(input, dtype):
    if dtype.itemsize != input._dtype.itemsize:
        raise RuntimeError("view(dtype) with a different element size is not supported")
    out = Tensor._make(input._data.view(dtype.np), input._device)
    out._base = input._base if input._base is not None else input
    out._vc = input._vc
    return out


def reshape(input, *shape):
    """Returns a tensor with the given shape: a view when the strides allow it, else a copy."""
    shape = _infer_shape(as_shape(shape), input._data.size, 'reshape')
    try:
        return apply(_view, (input,), {'shape': shape})
    except RuntimeError:
        return apply(_reshape_copy, (input,), {'shape': shape})


def view_as(input, other):
    return view(input, other.shape)


def reshape_as(input, other):
    return reshape(input, other.shape)


def flatten(input, start_dim=0, end_dim=-1):
    """Flattens dims ``start_dim`` to ``end_dim`` into one."""
    nd = input._data.ndim
    if nd == 0:
        return reshape(input, (1,))
    s = wrap_dim(start_dim, nd)
    e = wrap_dim(end_dim, nd)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    shape = input._data.shape
    n = 1
    for d in shape[s:e + 1]:
        n *= d
    return reshape(input, shape[:s] + (n,) + shape[e + 1:])


_view.samples = lambda make: [Sample(make((2, 3, 4)), (6, 4)), Sample(make((2, 3)), (-1,)),
                              Sample(make(()), (1, 1)), Sample(make((0, 3)), (3, 0))]
_view.public = 'Tensor.view'
_view.error_samples = lambda make: [ErrorSample(make((2, 3)), (4, 2), match='invalid for input of size 6')]
_reshape_copy.samples = lambda make: [Sample(make((2, 3, 4)), (4, 6)), Sample(make((2, 3)).T, (6,))]


# ----------------------------------------------------------------------------- permute / transpose

@defop('permute', view=True, dtypes='all')
def _permute(xp, a, dims):
    return xp.transpose(a, dims)


@_permute.derivative
def _(F, ctx, grad):
    dims = ctx.params['dims']
    inverse = [0] * len(dims)
    for i, d in enumerate(dims):
        inverse[d] = i
    return F.permute(grad, dims=tuple(inverse))


def permute(input, *dims):
    """Returns a view with the dimensions reordered."""
    dims = as_shape(dims, 'dims')
    nd = input._data.ndim
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
                           f"length of the desired ordering of dimensions i.e. input.dim() = {nd} is not equal "
                           f"to len(dims) = {len(dims)}")
    dims = tuple(wrap_dim(d, nd) for d in dims)
    if len(set(dims)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return apply(_permute, (input,), {'dims': dims})


def transpose(input, dim0, dim1):
    """Returns a view with ``dim0`` and ``dim1`` swapped."""
    nd = input._data.ndim
    if nd == 0:
        wrap_dim(dim0, 0), wrap_dim(dim1, 0)
        return apply(_permute, (input,), {'dims': ()})
    d0, d1 = wrap_dim(dim0, nd), wrap_dim(dim1, nd)
    dims = list(range(nd))
    dims[d0], dims[d1] = d1, d0
    return apply(_permute, (input,), {'dims': tuple(dims)})


swapaxes = swapdims = transpose


def t(input):
    """Transposes a tensor of at most 2 dims."""
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    return transpose(input, 0, 1) if input._data.ndim == 2 else apply(
        _permute, (input,), {'dims': tuple(range(input._data.ndim))})


_permute.samples = lambda make: [Sample(make((2, 3, 4)), (2, 0, 1)), Sample(make((0, 3)), (1, 0)),
                                 Sample(make(()), ())]
_permute.error_samples = lambda make: [ErrorSample(make((2, 3)), (0, 0), match='duplicate dims')]


# ----------------------------------------------------------------------------- expand

@defop('expand', view=True, dtypes='all')
def _expand(xp, a, shape):
    return xp.broadcast_to(a, shape)


@_expand.derivative
def _(F, ctx, grad):
    return F.sum_to_size(grad, shape=ctx.input_meta[0][0])


def expand(input, *sizes):
    """Returns a view with singleton dims expanded to ``sizes`` (-1 keeps a dim)."""
    sizes = as_shape(sizes)
    shape = input._data.shape
    nd = len(sizes)
    if nd < len(shape):
        raise RuntimeError(f"expand(torch.FloatTensor{{[{', '.join(map(str, shape))}]}}, size=[{', '.join(map(str, sizes))}]): "
                           "the number of sizes provided ({}) must be greater or equal to the number of dimensions "
                           "in the tensor ({})".format(nd, len(shape)))
    out = []
    lead = nd - len(shape)
    for i, n in enumerate(sizes):
        if i < lead:
            if n < 0:
                raise RuntimeError(f"The expanded size of the tensor (-1) isn't allowed in a leading, "
                                   "non-existing dimension {i}")
            out.append(n)
            continue
        old = shape[i - lead]
        if n == -1:
            n = old
        elif old != n and old != 1:
            raise RuntimeError(f"The expanded size of the tensor ({n}) must match the existing size ({old}) at "
                               f"non-singleton dimension {i}.  Target sizes: [{', '.join(map(str, sizes))}].  "
                               f"Tensor sizes: [{', '.join(map(str, shape))}]")
        out.append(n)
    return apply(_expand, (input,), {'shape': tuple(out)})


def expand_as(input, other):
    return expand(input, other.shape)


def broadcast_to(input, shape):
    return expand(input, shape)


_expand.samples = lambda make: [Sample(make((3, 1)), (2, 3, 4)), Sample(make(()), (2,)),
                                Sample(make((1, 3)), (-1, 3)), Sample(make((1,)), (0,))]
_expand.public = 'Tensor.expand'


@defop('sum_to_size', dtypes='float')
def _sum_to_size(xp, a, shape):
    lead = a.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape) if n == 1 and a.shape[i + lead] != 1)
    if axes:
        a = a.sum(axis=axes, keepdims=True)
    if lead:
        a = a.reshape(shape)
    return a


@_sum_to_size.derivative
def _(F, ctx, grad):
    return F.expand(grad, shape=ctx.input_meta[0][0])


def sum_to_size(input, *size):
    """Sums ``input`` over broadcast dims so that its shape becomes ``size``."""
    size = as_shape(size)
    shape = input._data.shape
    ok = len(size) <= len(shape) and all(
        s == n or s == 1 for s, n in zip(size, shape[len(shape) - len(size):]))
    if not ok:
        raise RuntimeError(f"size {{{', '.join(map(str, size))}}} is not expandable to size "
                           f"{{{', '.join(map(str, shape))}}}.")
    return apply(_sum_to_size, (input,), {'shape': size})


_sum_to_size.samples = lambda make: [Sample(make((2, 3, 4)), (3, 1)), Sample(make((2, 3)), (2, 3))]
_sum_to_size.public = 'Tensor.sum_to_size'


# ----------------------------------------------------------------------------- squeeze / unsqueeze

@defop('unsqueeze', view=True, dtypes='all')
def _unsqueeze(xp, a, dim):
    # PyTorch gives the new dim the stride size*stride of the dim after it
    shape = list(a.shape)
    strides = list(a.strides)
    new_stride = shape[dim] * strides[dim] if dim < a.ndim else a.itemsize
    shape.insert(dim, 1)
    strides.insert(dim, new_stride)
    return _backend.of_array(a).as_strided(a, tuple(shape), tuple(strides))


@_unsqueeze.derivative
def _(F, ctx, grad):
    return F.squeeze(grad, dims=(ctx.params['dim'],))


@defop('squeeze', view=True, dtypes='all')
def _squeeze(xp, a, dims):
    return xp.squeeze(a, axis=dims) if dims else a[...]


@_squeeze.derivative
def _(F, ctx, grad):
    return F.reshape_copy(grad, shape=ctx.input_meta[0][0])


def unsqueeze(input, dim):
    """Returns a view with a size-one dim inserted at ``dim``."""
    return apply(_unsqueeze, (input,), {'dim': wrap_dim(dim, input._data.ndim + 1)})


def squeeze(input, dim=None):
    """Returns a view with size-one dims (all, or those in ``dim``) removed."""
    shape = input._data.shape
    if dim is None:
        dims = tuple(i for i, n in enumerate(shape) if n == 1)
    else:
        dims = tuple(d for d in wrap_dims(dim, len(shape)) if len(shape) and shape[d] == 1)
    return apply(_squeeze, (input,), {'dims': dims})


_unsqueeze.samples = lambda make: [Sample(make((2, 3)), 1), Sample(make((2, 3)), -1), Sample(make(()), 0)]
_squeeze.samples = lambda make: [Sample(make((2, 1, 3, 1))), Sample(make((2, 1, 3)), 1), Sample(make((2, 1, 3)), 0),
                                 Sample(make((1, 1)), (0, 1))]


# ----------------------------------------------------------------------------- as_strided, take

def _storage_extent(shape, strides, offset):
    return offset + sum((n - 1) * s for n, s in zip(shape, strides) if n > 0) + 1 if all(shape) else offset


def _flat_storage(xp, a, size):
    return _backend.of_array(a).as_strided(a, (size,), (a.itemsize,))


@defop('as_strided', view=True, dtypes='all')
def _as_strided(xp, a, size, stride, storage_offset, base_strides):
    # a is the base tensor's array; positions are in elements of its storage
    b = _backend.of_array(a)
    extent = max(_storage_extent(size, stride, storage_offset), _storage_extent(a.shape, base_strides, 0))
    flat = _flat_storage(xp, a, extent)[storage_offset:]
    return b.as_strided(flat, tuple(size), tuple(s * a.itemsize for s in stride))


@_as_strided.derivative
def _(F, ctx, grad):
    shape, _ = ctx.input_meta[0]
    p = ctx.params
    index = _positions_in_base(shape, p['base_strides'], p['size'], p['stride'], p['storage_offset'])
    return F.scatter_flat(grad, F.const(grad, index), shape=shape)


def _positions_in_base(base_shape, base_strides, size, stride, offset):
    """For each element of a strided view: its row-major index among the base's elements."""
    extent = max(_storage_extent(size, stride, offset), _storage_extent(base_shape, base_strides, 0))
    numel = int(np.prod(base_shape))
    storage = np.arange(extent, dtype=np.int64)
    base_pos = np.lib.stride_tricks.as_strided(storage, base_shape, tuple(s * 8 for s in base_strides))
    inverse = np.full(extent, -1, dtype=np.int64)
    inverse[base_pos.reshape(-1)] = np.arange(numel, dtype=np.int64)
    view_pos = np.lib.stride_tricks.as_strided(storage[offset:], size, tuple(s * 8 for s in stride))
    return inverse[view_pos]


def as_strided(input, size, stride, storage_offset=None):
    """A view of ``input``'s storage with the given size, stride (in elements) and offset."""
    base = input._base if input._base is not None else input
    offset = input.storage_offset() if storage_offset is None else storage_offset
    offset -= base.storage_offset()  # a detached tensor may start inside its storage
    return _as_strided_on(base, tuple(size), tuple(stride), offset)


def _as_strided_on(base, size, stride, offset):
    arr = base._data
    base_strides = tuple(s // arr.itemsize for s in arr.strides)
    return apply(_as_strided, (base,), {'size': size, 'stride': stride, 'storage_offset': offset,
                                        'base_strides': base_strides})


def as_strided_from_base(base, view):
    """``view`` re-expressed as an as_strided view of ``base`` (graph goes through base's grad_fn)."""
    size, stride, offset = view_geometry(view)
    return _as_strided_on(base, size, stride, offset)


_as_strided.samples = lambda make: [Sample(make((3, 4)), (2, 2), (1, 2), 1), Sample(make((6,)), (3, 2), (2, 1))]
_as_strided.gradgradcheck = True


@defop('take', save='inputs', dtypes='all')
def _take(xp, a, index):
    return a.reshape(-1)[index]


@_take.derivative
def _(F, ctx, grad):
    _, index = ctx.inputs
    return F.scatter_flat(grad, index, shape=ctx.input_meta[0][0]), None


@defop('scatter_flat', save='inputs')
def _scatter_flat(xp, src, index, shape):
    """Zeros of ``shape`` with ``src`` added at flat positions ``index`` (repeats accumulate)."""
    numel = 1
    for n in shape:
        numel *= n
    out = xp.zeros(numel, dtype=src.dtype)
    _backend.of_array(src).scatter_add(out, index.reshape(-1), src.reshape(-1))
    return out.reshape(shape)


@_scatter_flat.derivative
def _(F, ctx, grad):
    _, index = ctx.inputs
    return F.take(grad, index), None


def take(input, index):
    """Elements of ``input`` (seen as 1-D) at ``index``; the result has ``index``'s shape."""
    numel = input._data.size
    idx = index._data
    if idx.dtype.kind not in 'iu':
        raise RuntimeError(f"take(): Expected a long tensor for index, but got {index.dtype}")
    if idx.size and (idx.max() >= numel or idx.min() < -numel):
        bad = int(idx.max()) if idx.max() >= numel else int(idx.min())
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {numel} elements.")
    if idx.size and idx.min() < 0:  # the backward's scatter-add needs non-negative positions
        index = Tensor._make(_backend.of_array(idx).xp.where(idx < 0, idx + numel, idx), index._device)
    return apply(_take, (input, index))


_take.samples = lambda make: [Sample(make((3, 4)), np.array([[0, 5], [11, -1]])), Sample(make((3,)), np.array([1, 1]))]
_scatter_flat.public = None


# ----------------------------------------------------------------------------- copy_slices

class CopySlices(Node):
    """The history of a base after an in-place op on one of its views.

    Gradient to the old base: the incoming gradient with the view's region
    zeroed; gradient to the new values written through the view: that region.
    """

    __slots__ = ('index', 'numel')

    def name(self):
        return 'CopySlices'

    def apply(self, grads, create_graph):
        g = grads[0]
        index = self.index
        if create_graph:
            from ember.ops._dispatch import TENSOR_NS as F
            idx = F.const(g, index)
            mask = np.ones(self.numel, dtype=g._dtype.np)
            mask[index.reshape(-1)] = 0
            return F.mul(g, F.const(g, mask.reshape(g._data.shape))), F.take(g, idx)
        flat = g.reshape(-1)
        grad_src = flat[index]
        grad_base = flat.copy()
        grad_base[index.reshape(-1)] = 0
        return grad_base.reshape(g.shape), grad_src


def copy_slices(base, view, result):
    """Rewrites ``base``'s history after ``view`` (of ``base``) was overwritten with ``result``."""
    size, stride, offset = view_geometry(view)
    arr = base._data
    base_strides = tuple(s // arr.itemsize for s in arr.strides)
    index = _positions_in_base(arr.shape, base_strides, size, stride, offset)
    base_edge = edge_of(base)
    node = CopySlices((base_edge, edge_of(result)), ((arr.shape, base._dtype), (size, result._dtype)),
                      ((arr.shape, base._dtype),))
    node.index = index
    node.numel = arr.size
    base._grad_fn = node
    base._output_nr = 0
    base._requires_grad = True
    fresh = _as_strided_on(base, size, stride, offset)
    view._grad_fn = fresh._grad_fn
    view._output_nr = 0
    view._requires_grad = True
    view._view_version = view._vc.v


# ----------------------------------------------------------------------------- contiguous / clone

@defop('clone', dtypes='all')
def _clone(xp, a):
    return a.copy(order='K')  # keeps the input's layout, like memory_format=torch.preserve_format


@_clone.derivative
def _(F, ctx, grad):
    return grad


def clone(input, *, memory_format=None):
    """A copy of ``input`` with its own storage (differentiable)."""
    return apply(_clone, (input,))


def contiguous(input, memory_format=None):
    """``input`` if it is contiguous, else a contiguous copy."""
    if input.is_contiguous():
        return input
    return apply(_contiguous, (input,))


@defop('contiguous', dtypes='all', grad_name='CloneBackward0', public='Tensor.contiguous')
def _contiguous(xp, a):
    return a.copy(order='C')  # (ascontiguousarray would turn 0-d into 1-d)


@_contiguous.derivative
def _(F, ctx, grad):
    return grad


_clone.samples = lambda make: [Sample(make((2, 3))), Sample(make((2, 3)).T), Sample(make((0,)))]
_contiguous.samples = lambda make: [Sample(make((2, 3)).T), Sample(make((2, 3)))]


TENSOR_METHODS = ['view', 'reshape', 'view_as', 'reshape_as', 'flatten', 'permute', 'transpose', 'swapaxes',
                  'swapdims', 't', 'expand', 'expand_as', 'broadcast_to', 'sum_to_size', 'unsqueeze', 'squeeze',
                  'as_strided', 'take', 'clone', 'contiguous']
