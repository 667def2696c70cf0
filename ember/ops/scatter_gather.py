"""Gather and scatter along a dim, and the ``index_*`` ops that index one dim with a vector.

``gather``/``scatter*`` take an index tensor of the input's rank; ``index_select``,
``index_add``, ``index_copy`` and ``index_fill`` take a vector of positions along
``dim``.  Repeated positions are summed with a sort or ``bincount``
(``accumulate_flat``), never ``np.add.at``.  As in ``indexing``, index arrays are
op params: the rules need them, not the indexed tensor's values.
"""
import numpy as np

from ember import _dtype
from ember import backend as _backend
from ember._tensor import Tensor
from ember.ops._dispatch import apply, apply_inplace, scalar_type_name
from ember.ops._registry import Sample, ErrorSample, defop, composite
from ember.ops._util import wrap_dim
from ember.ops._index_util import accumulate_flat, dim_positions, group_reduce, leading_block, pad_to, raw


# ----------------------------------------------------------------------------- gather / scatter kernels

@defop('gather', dtypes='all')
def _gather(xp, a, index, dim):
    if a.ndim == 0:
        return a.reshape(1)[index.reshape(-1)].reshape(index.shape)
    a = leading_block(a, index.shape[:dim] + a.shape[dim:dim + 1] + index.shape[dim + 1:])
    return xp.take_along_axis(a, index, axis=dim)


@_gather.derivative
def _(F, ctx, grad):
    p = ctx.params
    return F.scatter_add(F.zeros(ctx.input_meta[0][0], grad), grad, index=p['index'], dim=p['dim'])


@defop('scatter', dtypes='all')
def _scatter(xp, a, src, index, dim):
    out = a.copy()
    positions = dim_positions(xp, a.shape, index, dim).reshape(-1)
    if isinstance(src, (bool, int, float, complex)):
        out.reshape(-1)[positions] = src
    else:
        out.reshape(-1)[positions] = leading_block(src, index.shape).reshape(-1)
    return out


@_scatter.derivative
def _(F, ctx, grad):
    p = ctx.params
    ga = gs = None
    if ctx.needs_input_grad[0]:
        ga = F.scatter(grad, 0, index=p['index'], dim=p['dim'])
    if ctx.needs_input_grad[1]:
        gs = pad_to(F, F.gather(grad, index=p['index'], dim=p['dim']), ctx.input_meta[1][0])
    return ga, gs


@defop('scatter_add', dtypes='all')
def _scatter_add(xp, a, src, index, dim):
    out = a.copy()
    positions = dim_positions(xp, a.shape, index, dim)
    accumulate_flat(xp, out.reshape(-1), positions, leading_block(src, index.shape))
    return out


@_scatter_add.derivative
def _(F, ctx, grad):
    p = ctx.params
    gs = None
    if ctx.needs_input_grad[1]:
        gs = pad_to(F, F.gather(grad, index=p['index'], dim=p['dim']), ctx.input_meta[1][0])
    return grad, gs


_REDUCE_UFUNCS = {'sum': 'add', 'mean': 'add', 'prod': 'multiply', 'amax': 'maximum', 'amin': 'minimum'}


@defop('scatter_reduce', dtypes='all', save='both', grad_name='ScatterReduceBackward0')
def _scatter_reduce(xp, a, src, index, dim, reduce, include_self):
    out = a.copy()
    flat = out.reshape(-1)
    positions = dim_positions(xp, a.shape, index, dim).reshape(-1)
    if positions.shape[0] == 0:
        return out
    values = leading_block(src, index.shape).reshape(-1)
    ufunc = getattr(xp, _REDUCE_UFUNCS[reduce])
    where, reduced, counts = group_reduce(xp, positions, values, ufunc)
    if reduce == 'mean':
        if include_self:
            reduced = reduced + flat[where]
            counts = counts + 1
        if out.dtype.kind in 'iub':
            flat[where] = reduced // counts
        else:
            flat[where] = reduced / counts
    elif include_self:
        flat[where] = ufunc(flat[where], reduced)
    else:
        flat[where] = reduced
    return out


def _scatter_counts(xp, shape, index, dim, dtype, include_self):
    """How many values meet at each output position (the input's own counted if ``include_self``)."""
    counts = xp.full(shape, 1 if include_self else 0, dtype=dtype)
    positions = dim_positions(xp, shape, index, dim)
    accumulate_flat(xp, counts.reshape(-1), positions, xp.ones(positions.shape, dtype=dtype))
    return counts


@_scatter_reduce.derivative
def _(F, ctx, grad):
    p = ctx.params
    index, dim, reduce, include_self = p['index'], p['dim'], p['reduce'], p['include_self']
    a, src = ctx.inputs
    shape = ctx.input_meta[0][0]
    src_shape = ctx.input_meta[1][0]
    ra = raw(F, a)
    xp = _backend.of_array(ra).xp
    dtype = ra.dtype
    scattered = _scatter_counts(xp, shape, index, dim, dtype, False) > 0
    ga = gs = None
    if reduce in ('sum', 'mean'):
        g = grad
        if reduce == 'mean':
            counts = _scatter_counts(xp, shape, index, dim, dtype, include_self)
            g = F.div(grad, F.const(grad, xp.maximum(counts, 1)))
        ga = g if include_self else F.mul(g, F.const(g, (~scattered).astype(dtype)))
        gs = F.gather(g, index=index, dim=dim)
    elif reduce in ('amax', 'amin'):
        result = raw(F, ctx.output)
        rs = leading_block(raw(F, src), index.shape)
        # NOTE: like PyTorch, an input element equal to the result counts as a tie (halving the
        # sources' share) even where include_self=False left it out; it then gets no gradient itself
        self_hit = ra == result
        src_hit = rs == xp.take_along_axis(result, index, axis=dim)
        counts = self_hit.astype(dtype)
        accumulate_flat(xp, counts.reshape(-1), dim_positions(xp, shape, index, dim), src_hit.astype(dtype))
        share = F.div(grad, F.const(grad, xp.maximum(counts, 1)))
        ga = F.mul(share, F.const(grad, (self_hit & (include_self | ~scattered)).astype(dtype)))
        gs = F.mul(F.gather(share, index=index, dim=dim), F.const(grad, src_hit.astype(dtype)))
    else:
        ga, gs = _prod_grads(F, ctx, grad, xp, scattered)
    if not ctx.needs_input_grad[0]:
        ga = None
    gs = pad_to(F, gs, src_shape) if ctx.needs_input_grad[1] else None
    return ga, gs


def _prod_grads(F, ctx, grad, xp, scattered):
    """Gradients of a scatter product: the product of the other members of each group, zeros handled."""
    p = ctx.params
    index, dim, include_self = p['index'], p['dim'], p['include_self']
    a, src = ctx.inputs
    result = ctx.output
    ra = raw(F, a)
    dtype = ra.dtype
    rs = leading_block(raw(F, src), index.shape)
    self_in = include_self | ~scattered
    a_zero = ra == 0
    self_zero = a_zero & self_in
    src_zero = rs == 0
    zeros = self_zero.astype(dtype)
    accumulate_flat(xp, zeros.reshape(-1), dim_positions(xp, ra.shape, index, dim), src_zero.astype(dtype))
    zeros_at_src = xp.take_along_axis(zeros, index, axis=dim)
    # the group products with zeros replaced by one: what a lone zero's gradient needs
    a_safe = F.add(F.mul(a, F.const(grad, (~a_zero).astype(dtype))), F.const(grad, a_zero.astype(dtype)))
    src_mask = xp.zeros(raw(F, src).shape, dtype=bool)
    src_mask[tuple(slice(0, n) for n in index.shape)] = src_zero
    s_safe = F.add(F.mul(src, F.const(grad, (~src_mask).astype(dtype))), F.const(grad, src_mask.astype(dtype)))
    nonzero_prod = F.scatter_reduce(a_safe, s_safe, index=index, dim=dim, reduce='prod', include_self=include_self)
    # no zero in the group: result / x;  one zero: that zero gets the product of the others
    no_zero = (zeros == 0).astype(dtype)
    lone_self = (self_zero & (zeros == 1)).astype(dtype)
    g_result = F.mul(grad, result)
    ga = F.add(F.mul(F.div(g_result, a_safe), F.const(grad, no_zero * self_in)),
               F.mul(F.mul(grad, nonzero_prod), F.const(grad, lone_self)))
    s_block = F.basic_view(s_safe, key=tuple(slice(0, n, 1) for n in index.shape))
    no_zero_src = (zeros_at_src == 0).astype(dtype)
    lone_src = (src_zero & (zeros_at_src == 1)).astype(dtype)
    gs = F.add(F.mul(F.div(F.gather(g_result, index=index, dim=dim), s_block), F.const(grad, no_zero_src)),
               F.mul(F.gather(F.mul(grad, nonzero_prod), index=index, dim=dim), F.const(grad, lone_src)))
    return ga, gs


# ----------------------------------------------------------------------------- gather / scatter public

def _check_gather_index(op, input, index, dim, src=None):
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): argument 'index' must be Tensor, not {type(index).__name__}")
    if index._dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index")
    nd = input._data.ndim
    dim = wrap_dim(dim, nd)
    ishape, shape = index._data.shape, input._data.shape
    if max(index._data.ndim, 1) != max(nd, 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    if src is not None and max(src._data.ndim, 1) != max(nd, 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    for d in range(len(ishape)):
        if d == dim:
            continue
        if ishape[d] > shape[d] or (src is not None and ishape[d] > src._data.shape[d]):
            if src is None:
                raise RuntimeError(f"Size does not match at dimension {d} expected index {list(ishape)} to be no "
                                   f"larger than self {list(shape)} apart from dimension {dim}")
            raise RuntimeError(f"Expected index {list(ishape)} to be no larger than self {list(shape)} apart from "
                               f"dimension {dim} and to be no larger size than src {list(src._data.shape)}")
    if src is not None and src._data.ndim and ishape[dim] > src._data.shape[dim]:
        raise RuntimeError(f"Expected index {list(ishape)} to be no larger than self {list(shape)} apart from "
                           f"dimension {dim} and to be no larger size than src {list(src._data.shape)}")
    idx = index._data
    n = shape[dim] if nd else 1
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if lo < 0 or hi >= n:
            raise RuntimeError(f"index {hi if hi >= n else lo} is out of bounds for dimension {dim} with size {n}")
    if nd == 0:
        idx = idx.reshape(())
    return dim, idx


def gather(input, dim, index, *, sparse_grad=False, out=None):
    """Values of ``input`` along ``dim`` at ``index``: ``out[i][j] = input[index[i][j]][j]`` for dim 0."""
    dim, idx = _check_gather_index('gather', input, index, dim)
    result = apply(_gather, (input,), {'index': idx, 'dim': dim})
    if out is not None:
        from ember.ops._dispatch import write_out
        return write_out(result, out)
    return result


def _scatter_args(op, input, dim, index, src, value):
    if src is None:
        src = value
    if src is None:
        raise TypeError(f"{op}() missing 1 required positional argument: 'src'")
    if isinstance(src, Tensor):
        if src._dtype is not input._dtype:
            raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype")
        dim, idx = _check_gather_index(op, input, index, dim, src)
    else:
        dim, idx = _check_gather_index(op, input, index, dim)
        if isinstance(src, np.generic):
            src = src.item()
    return dim, idx, src


def _scatter_call(input, dim, index, src, value, reduce, inplace):
    name = 'scatter_' if inplace else 'scatter'
    dim, idx, src = _scatter_args(name, input, dim, index, src, value)
    if reduce is not None:
        if reduce not in ('add', 'multiply'):
            raise RuntimeError(f"reduce argument must be either add or multiply.")
        if not isinstance(src, Tensor):
            src = Tensor._make(_backend.get(input._device).xp.full(idx.shape, src, dtype=input._dtype.np),
                               input._device)
        params = {'index': idx, 'dim': dim, 'reduce': 'sum' if reduce == 'add' else 'prod', 'include_self': True}
        op = _scatter_reduce
    else:
        params = {'index': idx, 'dim': dim}
        op = _scatter
    if inplace:
        return apply_inplace(op, input, (src,), params)
    return apply(op, (input, src), params)


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """A copy of ``input`` with ``src`` (a tensor or a scalar ``value``) written along ``dim`` at ``index``."""
    return _scatter_call(input, dim, index, src, value, reduce, False)


def scatter_(input, dim, index, src=None, value=None, *, reduce=None):
    """In-place ``scatter``."""
    return _scatter_call(input, dim, index, src, value, reduce, True)


def scatter_add(input, dim, index, src):
    """A copy of ``input`` with ``src`` added along ``dim`` at ``index`` (repeats summed)."""
    dim, idx, src = _scatter_args('scatter_add', input, dim, index, src, None)
    return apply(_scatter_add, (input, src), {'index': idx, 'dim': dim})


def scatter_add_(input, dim, index, src):
    """In-place ``scatter_add``."""
    dim, idx, src = _scatter_args('scatter_add_', input, dim, index, src, None)
    return apply_inplace(_scatter_add, input, (src,), {'index': idx, 'dim': dim})


def _scatter_reduce_params(op, input, dim, index, src, reduce, include_self):
    if reduce not in _REDUCE_UFUNCS:
        raise RuntimeError(f"{op}(): reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    dim, idx, src = _scatter_args(op, input, dim, index, src, None)
    return src, {'index': idx, 'dim': dim, 'reduce': reduce, 'include_self': bool(include_self)}


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """A copy of ``input`` with ``src`` reduced into it along ``dim`` at ``index`` (sum, prod, mean, amax, amin)."""
    src, params = _scatter_reduce_params('scatter_reduce', input, dim, index, src, reduce, include_self)
    return apply(_scatter_reduce, (input, src), params)


def scatter_reduce_(input, dim, index, src, reduce, *, include_self=True):
    """In-place ``scatter_reduce``."""
    src, params = _scatter_reduce_params('scatter_reduce_', input, dim, index, src, reduce, include_self)
    return apply_inplace(_scatter_reduce, input, (src,), params)


def take_along_dim(input, indices, dim=None, *, out=None):
    """Values of ``input`` at ``indices`` along ``dim`` (broadcasting the other dims); flattened if dim is None."""
    from ember.ops.shape import expand, reshape, take
    if dim is None:
        result = take(reshape(input, (-1,)), reshape(indices, (-1,)))
    else:
        nd = input._data.ndim
        dim = wrap_dim(dim, nd)
        if indices._dtype is not _dtype.int64:
            raise RuntimeError("torch.take_along_dim(): dtype of indices should be Long but got "
                               f"{scalar_type_name(indices._dtype)}")
        if indices._data.ndim != nd:
            raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of "
                               f"dimensions, but got {nd} dimensions for input, and {indices._data.ndim} "
                               "dimensions for indices")
        shape, ishape = list(input._data.shape), list(indices._data.shape)
        for d in range(nd):
            if d != dim and shape[d] != ishape[d] and shape[d] != 1 and ishape[d] != 1:
                raise RuntimeError(f"The size of tensor a ({shape[d]}) must match the size of tensor b ({ishape[d]}) "
                                   f"at non-singleton dimension {d}")
        common = [max(a, b) if d != dim else None for d, (a, b) in enumerate(zip(shape, ishape))]
        in_shape = [n if n is not None else shape[d] for d, n in enumerate(common)]
        idx_shape = [n if n is not None else ishape[d] for d, n in enumerate(common)]
        idx = indices._data
        n = shape[dim]
        if idx.size and int(idx.min()) < 0:
            indices = Tensor._make(_backend.get(input._device).xp.where(idx < 0, idx + n, idx), input._device)
        result = gather(expand(input, in_shape), dim, expand(indices, idx_shape))
    if out is not None:
        from ember.ops._dispatch import write_out
        return write_out(result, out)
    return result


# ----------------------------------------------------------------------------- samples

def _idx(make, shape, high):
    return make(shape, 'int64', low=0, high=high - 1e-9)


def _gather_samples(make):
    return [Sample(make((3, 4)), 1, _idx(make, (3, 6), 4)), Sample(make((3, 4)), 0, _idx(make, (2, 3), 3)),
            Sample(make((2, 3, 4)), -1, _idx(make, (2, 3, 2), 4)), Sample(make((4,)), 0, np.array([3, 0, 0])),
            Sample(make(()), 0, np.asarray(0)), Sample(make((3, 4)), 1, np.zeros((3, 0), np.int64))]


def _scatter_samples(make):
    return [Sample(make((3, 4)), 1, np.array([[0, 1], [2, 3], [3, 0]]), make((3, 2))),
            Sample(make((4, 3)), 0, np.array([[3, 1, 2]]), make((2, 3)), grad=False),
            Sample(make((4, 3)), 0, np.array([[3, 1, 2]]), make((1, 3))),
            Sample(make((3, 4)), 1, np.array([[2], [0], [1]]), value=1.5),
            Sample(make((4,)), 0, np.array([1, 3]), make((2,)))]


def _scatter_add_samples(make):
    return [Sample(make((3, 4)), 1, np.array([[0, 0], [2, 3], [3, 3]]), make((3, 2))),
            Sample(make((4, 3)), 0, np.array([[3, 1, 3], [3, 1, 0]]), make((3, 3)), grad=False),
            Sample(make((4, 3)), 0, np.array([[3, 1, 3], [3, 1, 0]]), make((2, 3))),
            Sample(make((5,)), 0, np.array([1, 1, 1, 4]), make((4,))),
            Sample(make((3, 4)), 1, np.zeros((3, 0), np.int64), make((3, 0)))]


def _scatter_reduce_samples(make):
    idx = np.array([[0, 0, 2], [1, 3, 3]])
    out = []
    for reduce in ('sum', 'prod', 'mean', 'amax', 'amin'):
        for include_self in (True, False):
            out.append(Sample(make((2, 4), low=0.5, high=2), 1, idx, make((2, 3), low=0.5, high=2), reduce,
                              include_self=include_self))
    out.append(Sample(make((4, 2)), 0, np.array([[1, 1], [3, 1], [1, 1]]), make((3, 2)), 'amax'))
    ints = make((5,), 'int64', low=-5, high=5)
    out.append(Sample(ints, 0, np.array([0, 0, 3]), make((3,), 'int64', low=-5, high=5), 'mean'))
    return out


def _scatter_errors(make):
    return [ErrorSample(make((3, 4)), 1, np.array([[0, 1]], np.int16), make((1, 2)), error=RuntimeError,
                        match=r'scatter\(\): Expected dtype int32/int64 for index'),
            ErrorSample(make((3, 4)), 1, np.array([[0, 4]]), make((1, 2)), error=RuntimeError,
                        match='index 4 is out of bounds for dimension 1 with size 4'),
            ErrorSample(make((3, 4)), 1, np.array([[0, 1]]), make((1, 2), 'float64'), error=RuntimeError,
                        match='Expected self.dtype to be equal to src.dtype')]


_gather.samples = _gather_samples
_gather.error_samples = lambda make: [
    ErrorSample(make((3, 4)), 1, np.array([[0, 1]], np.int16), error=RuntimeError,
                match=r'gather\(\): Expected dtype int32/int64 for index'),
    ErrorSample(make((3, 4)), 1, np.array([[5]]), error=RuntimeError,
                match='index 5 is out of bounds for dimension 1 with size 4'),
    ErrorSample(make((3, 4)), 1, np.array([1]), error=RuntimeError,
                match='Index tensor must have the same number of dimensions as input tensor'),
    ErrorSample(make((3, 4)), 0, np.array([[1, 1, 1, 1, 1]]), error=RuntimeError,
                match=r'Size does not match at dimension 1 expected index \[1, 5\] to be no larger than self \[3, 4\] '
                      'apart from dimension 0')]
_scatter.samples = _scatter_samples
_scatter.error_samples = _scatter_errors
_scatter_add.samples = _scatter_add_samples
_scatter_reduce.samples = _scatter_reduce_samples

composite('take_along_dim', samples=lambda make: [
    Sample(make((3, 4)), _idx(make, (3, 2), 4), 1), Sample(make((3, 4)), _idx(make, (1, 4), 3), 0),
    Sample(make((3, 4)), _idx(make, (5,), 12)), Sample(make((2, 1, 4)), _idx(make, (2, 3, 1), 4), -1)])

TENSOR_METHODS = ['gather', 'scatter', 'scatter_', 'scatter_add', 'scatter_add_', 'scatter_reduce',
                  'scatter_reduce_', 'take_along_dim']
