"""Reductions: sum, mean, prod, max/min, all/any, ... over ``dim`` with ``keepdim`` and ``dtype``.

Also home of the selection helpers ``gather_along``/``scatter_along`` (the
gradient of max-with-dim, sort, topk, ...), and of the named-tuple return
types (``torch.return_types.max``) that those ops give back.
"""
import numpy as np

from ember import _dtype
from ember._tensor import Tensor
from ember.ops._dispatch import apply, apply_out
from ember.ops._registry import Sample, ErrorSample, composite, defop
from ember.ops._util import wrap_dim, wrap_dims

_EMPTY = {}


def reduce_dims(input, dim):
    """``dim`` (None, int, sequence; empty means all) as a sorted tuple of axes of ``input``'s array.

    A 0-dim tensor accepts dim 0 / -1 like torch, but has no axis to reduce: that gives ().
    """
    ndim = input._data.ndim
    if isinstance(dim, (list, tuple)) and len(dim) == 0:
        dim = None
    dims = wrap_dims(dim, ndim)
    return dims if ndim else ()


def expand_reduced(F, grad, in_shape, dims, keepdim):
    """Broadcasts the gradient of a reduction over ``dims`` back to ``in_shape``."""
    if not keepdim and dims:
        kept = tuple(1 if i in dims else n for i, n in enumerate(in_shape))
        grad = F.reshape_copy(grad, shape=kept)
    return F.expand(grad, shape=in_shape)


@defop('sum', dtypes='all')
def _sum(xp, a, dim, keepdim, dtype):
    return xp.sum(a, axis=dim, keepdims=keepdim, dtype=dtype.np)


@_sum.derivative
def _(F, ctx, grad):
    p = ctx.params
    return expand_reduced(F, grad, ctx.input_meta[0][0], p['dim'], p['keepdim'])


def _reduction_dtype(input, dtype):
    if dtype is not None:
        return dtype
    if input._dtype.category <= _dtype.INT:
        return _dtype.int64
    return input._dtype


def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum of elements, over all of them or over ``dim``."""
    params = {'dim': reduce_dims(input, dim), 'keepdim': keepdim, 'dtype': _reduction_dtype(input, dtype)}
    if out is not None:
        return apply_out(_sum, (input,), params, out)
    return apply(_sum, (input,), params)


_sum.samples = lambda make: [Sample(make((2, 3, 4))), Sample(make((2, 3, 4)), 1), Sample(make((2, 3, 4)), (0, 2), True),
                             Sample(make((2, 3)), -1, keepdim=True), Sample(make(())), Sample(make((0, 3)), 0)]
_sum.error_samples = lambda make: [ErrorSample(make((2, 3)), 2, error=IndexError, match='Dimension out of range')]
_sum.grad_name = 'SumBackward1'


def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Mean of elements, over all of them or over ``dim``."""
    if dtype is None and input._dtype.category < _dtype.FLOAT:
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a floating point or "
                           f"complex dtype. Got: {input._dtype.legacy_name.replace('Tensor', '')}")
    params = {'dim': reduce_dims(input, dim), 'keepdim': keepdim, 'dtype': dtype or input._dtype}
    if out is not None:
        return apply_out(_mean, (input,), params, out)
    return apply(_mean, (input,), params)


@defop('mean')
def _mean(xp, a, dim, keepdim, dtype):
    return xp.mean(a, axis=dim, keepdims=keepdim, dtype=dtype.np)


@_mean.derivative
def _(F, ctx, grad):
    p = ctx.params
    shape = ctx.input_meta[0][0]
    n = 1
    for d in p['dim']:
        n *= shape[d]
    return F.div(expand_reduced(F, grad, shape, p['dim'], p['keepdim']), n)


_mean.samples = lambda make: [Sample(make((2, 3, 4))), Sample(make((2, 3, 4)), 1), Sample(make((2, 3, 4)), (0, 2), True),
                              Sample(make(()))]

_mean.error_samples = lambda make: [ErrorSample(make((2, 3)), -3, error=IndexError, match='Dimension out of range')]


# ----------------------------------------------------------------------------- nansum / nanmean

@defop('nansum', save='inputs', dtypes='all')
def _nansum(xp, a, dim, keepdim, dtype):
    return xp.nansum(a, axis=dim, keepdims=keepdim, dtype=dtype.np)


@_nansum.derivative
def _(F, ctx, grad):
    p = ctx.params
    x, = ctx.inputs
    return F.mul(expand_reduced(F, grad, ctx.input_meta[0][0], p['dim'], p['keepdim']), F.not_nan(x))


@defop('not_nan', public=None, gradcheck=False)
def _not_nan(xp, a):
    """1 where ``a`` is a number, 0 where it is NaN (in ``a``'s dtype): a constant mask for rules."""
    return (a == a).astype(a.dtype)


def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum of elements, treating NaN as zero."""
    params = {'dim': reduce_dims(input, dim), 'keepdim': keepdim, 'dtype': _reduction_dtype(input, dtype)}
    if out is not None:
        return apply_out(_nansum, (input,), params, out)
    return apply(_nansum, (input,), params)


def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Mean of the elements that are not NaN."""
    if dtype is None and input._dtype.category < _dtype.FLOAT:
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but got "
                           f"{input._dtype.legacy_name.replace('Tensor', '')}")
    if dtype is not None:
        from ember.ops.pointwise import to_dtype
        input = to_dtype(input, dtype)
    count = sum(apply(_not_nan, (input,)), dim, keepdim)
    result = nansum(input, dim, keepdim) / count
    if out is not None:
        from ember.ops._dispatch import write_out
        return write_out(result, out)
    return result


def _nan_samples(make):
    x = make((3, 4))
    x[0, 1] = x[2, 2] = np.nan
    return [Sample(x), Sample(x, 1), Sample(x, (0, 1), keepdim=True), Sample(make(())), Sample(make((0, 2)), 0)]


_nansum.samples = _nan_samples
composite('nanmean', samples=_nan_samples)
_nansum.error_samples = lambda make: [ErrorSample(make((2, 3)), 2, error=IndexError, match='Dimension out of range')]


# ----------------------------------------------------------------------------- prod

@defop('prod', save='inputs', dtypes='all')
def _prod(xp, a, dim, keepdim, dtype):
    return xp.prod(a, axis=dim, keepdims=keepdim, dtype=dtype.np)


@_prod.derivative
def _(F, ctx, grad):
    # NOTE: the gradient is the product of all *other* elements, never out / x, so that zeros give the
    # right answer.  Raw arrays use the fast exclusive-product kernel; under create_graph the same
    # products are written with differentiable ops (O(n^2) memory, only for higher-order gradients).
    p = ctx.params
    x, = ctx.inputs
    shape = ctx.input_meta[0][0]
    g = expand_reduced(F, grad, shape, p['dim'], p['keepdim'])
    if not F.is_tensor_mode():
        return F.mul(g, F.prod_others(x, dims=p['dim']))
    return F.mul(g, _prod_others_composite(F, x, p['dim']))


def _to_last_axis(F, x, dims):
    """``x`` with ``dims`` moved to the end and merged into one axis; returns it and the way back."""
    shape = tuple(x.shape)
    rest = tuple(d for d in range(len(shape)) if d not in dims)
    order = rest + tuple(dims)
    n = 1
    for d in dims:
        n *= shape[d]
    moved = F.permute(x, dims=order) if order != tuple(range(len(shape))) else x
    flat = F.reshape_copy(moved, shape=tuple(shape[d] for d in rest) + (n,))
    inverse = tuple(order.index(i) for i in range(len(shape)))

    def back(y):
        y = F.reshape_copy(y, shape=tuple(shape[d] for d in order))
        return F.permute(y, dims=inverse) if order != tuple(range(len(shape))) else y
    return flat, n, back


def _others_matrix(F, x, n):
    """``M[..., i, j] = x[..., j]`` off the diagonal and 1 on it (differentiable in ``x``)."""
    eye = np.eye(n, dtype=F.dtype_of(x).np)
    row = F.unsqueeze(x, dim=x.ndim - 1)
    full = F.expand(row, shape=tuple(x.shape[:-1]) + (n, n))
    return F.add(F.mul(full, F.const(x, 1 - eye)), F.const(x, eye))


def _prod_others_composite(F, x, dims):
    flat, n, back = _to_last_axis(F, x, dims)
    m = _others_matrix(F, flat, n)
    others = F.prod(m, dim=(m.ndim - 1,), keepdim=False, dtype=F.dtype_of(m))
    return back(others)


@defop('prod_others', public=None, gradcheck=False)
def _prod_others(xp, a, dims):
    """For each element, the product of the other elements of its slice over ``dims``."""
    nd = a.ndim
    rest = tuple(d for d in range(nd) if d not in dims)
    order = rest + tuple(dims)
    moved = xp.transpose(a, order)
    lead = moved.shape[:len(rest)]
    flat = moved.reshape(lead + (-1,))
    n = flat.shape[-1]
    before = xp.ones_like(flat)
    after = xp.ones_like(flat)
    if n > 1:
        before[..., 1:] = xp.cumprod(flat[..., :-1], axis=-1)
        after[..., :-1] = xp.flip(xp.cumprod(xp.flip(flat[..., 1:], axis=-1), axis=-1), axis=-1)
    out = (before * after).reshape(moved.shape)
    return xp.transpose(out, tuple(order.index(i) for i in range(nd)))


def prod(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Product of elements, over all of them or over ``dim``."""
    params = {'dim': reduce_dims(input, dim), 'keepdim': keepdim, 'dtype': _reduction_dtype(input, dtype)}
    if out is not None:
        return apply_out(_prod, (input,), params, out)
    return apply(_prod, (input,), params)


def _prod_samples(make):
    z = make((3, 4))
    z[1, 2] = 0.0
    zz = make((2, 4))
    zz[0, 1] = zz[0, 3] = 0.0
    return [Sample(make((2, 3, 4), low=0.5, high=1.5)), Sample(make((2, 3, 4)), 1), Sample(make((3, 4)), -1, True),
            Sample(z), Sample(z, 1), Sample(zz, 1), Sample(make(())), Sample(make((0, 3)), 0),
            Sample(make((2, 3)), 1, dtype=_dtype.float64)]


_prod.samples = _prod_samples
_prod.error_samples = lambda make: [ErrorSample(make((2, 3)), 2, error=IndexError, match='Dimension out of range')]
_prod.grad_name = 'ProdBackward1'


# ----------------------------------------------------------------------------- named-tuple results

class _ReturnType(tuple):
    """A tuple with named fields that prints like ``torch.return_types.max(values=..., indices=...)``."""

    __slots__ = ()
    _fields = ()

    def __new__(cls, values):
        return tuple.__new__(cls, values)

    def __repr__(self):
        body = ',\n'.join(f'{f}={v!r}' for f, v in zip(self._fields, self))
        return f'torch.return_types.{type(self).__name__}(\n{body})'

    def __reduce__(self):
        return type(self), (tuple(self),)


def _return_type(name, fields=('values', 'indices')):
    cls = type(name, (_ReturnType,), {'__slots__': (), '_fields': fields, '__module__': 'torch.return_types'})
    for i, f in enumerate(fields):
        setattr(cls, f, property(lambda self, i=i: tuple.__getitem__(self, i)))
    return cls


class return_types:
    """The named tuples that ops with several results return (``ember.return_types.max``, ...)."""
    max = _return_type('max')
    min = _return_type('min')
    aminmax = _return_type('aminmax', ('min', 'max'))
    sort = _return_type('sort')
    topk = _return_type('topk')
    kthvalue = _return_type('kthvalue')
    median = _return_type('median')
    nanmedian = _return_type('nanmedian')
    mode = _return_type('mode')
    cummax = _return_type('cummax')
    cummin = _return_type('cummin')


# ----------------------------------------------------------------------------- gather / scatter along a dim

@defop('gather_along', public=None, dtypes='all', save='inputs')
def _gather_along(xp, a, index, dim, keepdim):
    """``a``'s values at ``index`` along ``dim`` (``index`` lacks ``dim`` unless ``keepdim``)."""
    if not keepdim:
        index = xp.expand_dims(index, dim)
    out = xp.take_along_axis(a, index, axis=dim)
    return out if keepdim else xp.squeeze(out, axis=dim)


@_gather_along.derivative
def _(F, ctx, grad):
    p = ctx.params
    return F.scatter_along(grad, ctx.inputs[1], dim=p['dim'], keepdim=p['keepdim'],
                           shape=ctx.input_meta[0][0], unique=False), None


def _gather_along_dim(input, index, dim):
    """``input``'s values at ``index`` (same ndim) along ``dim``, differentiable in ``input``."""
    return apply(_gather_along, (input, index), {'dim': dim % input._data.ndim, 'keepdim': True})


@defop('scatter_along', public=None, save='inputs')
def _scatter_along(xp, src, index, dim, keepdim, shape, unique):
    """Zeros of ``shape`` with ``src`` placed at ``index`` along ``dim``; repeats add up unless ``unique``."""
    if not keepdim:
        index = xp.expand_dims(index, dim)
        src = xp.expand_dims(src, dim)
    out = xp.zeros(shape, dtype=src.dtype)
    if unique or src.size == 0:
        xp.put_along_axis(out, index, src, axis=dim)
        return out
    # NOTE: flat positions + bincount instead of np.add.at, which is slow.
    strides = np.cumprod((1,) + tuple(shape[::-1]))[-2::-1] if len(shape) else ()
    flat = xp.zeros(index.shape, dtype=np.int64)
    grids = xp.indices(index.shape, sparse=True)
    for d in range(len(shape)):
        flat = flat + (index if d == dim else grids[d]) * int(strides[d])
    numel = int(np.prod(shape))
    if src.dtype.kind == 'c':
        total = (xp.bincount(flat.ravel(), src.real.ravel(), numel)
                 + 1j * xp.bincount(flat.ravel(), src.imag.ravel(), numel))
    else:
        total = xp.bincount(flat.ravel(), src.ravel().astype(np.float64), numel)
    return total.astype(src.dtype).reshape(shape)


@_scatter_along.derivative
def _(F, ctx, grad):
    p = ctx.params
    return F.gather_along(grad, ctx.inputs[1], dim=p['dim'], keepdim=p['keepdim']), None


# ----------------------------------------------------------------------------- amax / amin / max / min

@defop('amax', save='both', dtypes='all')
def _amax(xp, a, dim, keepdim):
    return xp.max(a, axis=dim, keepdims=keepdim)


@defop('amin', save='both', dtypes='all')
def _amin(xp, a, dim, keepdim):
    return xp.min(a, axis=dim, keepdims=keepdim)


@_amax.derivative
@_amin.derivative
def _(F, ctx, grad):
    p = ctx.params
    shape = ctx.input_meta[0][0]
    x, = ctx.inputs
    weights = F.tie_weights(x, expand_reduced(F, ctx.output, shape, p['dim'], p['keepdim']), dims=p['dim'])
    return F.mul(expand_reduced(F, grad, shape, p['dim'], p['keepdim']), weights)


@defop('tie_weights', public=None, gradcheck=False)
def _tie_weights(xp, a, extreme, dims):
    """1/count where ``a`` equals the (broadcast) ``extreme`` of its slice, else 0: ties share a gradient."""
    mask = a == extreme
    if a.dtype.kind == 'f':
        mask |= (a != a) & (extreme != extreme)  # max propagates NaN; the NaNs take the gradient
    return (mask / xp.sum(mask, axis=dims, keepdims=True, dtype=a.dtype)).astype(a.dtype, copy=False)


def _check_nonempty(name, input, dims):
    shape = input._data.shape
    for d in dims:
        if shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def amax(input, dim=(), keepdim=False, *, out=None):
    """Largest value over ``dim`` (all dims by default); ties share the gradient evenly."""
    dims = reduce_dims(input, dim)
    _check_nonempty('amax', input, dims)
    params = {'dim': dims, 'keepdim': keepdim}
    return apply(_amax, (input,), params) if out is None else apply_out(_amax, (input,), params, out)


def amin(input, dim=(), keepdim=False, *, out=None):
    """Smallest value over ``dim`` (all dims by default); ties share the gradient evenly."""
    dims = reduce_dims(input, dim)
    _check_nonempty('amin', input, dims)
    params = {'dim': dims, 'keepdim': keepdim}
    return apply(_amin, (input,), params) if out is None else apply_out(_amin, (input,), params, out)


def _out(result, out):
    from ember.ops._dispatch import write_out
    if isinstance(result, tuple):
        for r, o in zip(result, out):
            write_out(r.detach(), o)
        return type(result)(tuple(out)) if isinstance(result, _ReturnType) else tuple(out)
    return write_out(result.detach(), out)


def _select(xp, a, dim, keepdim, largest):
    if a.ndim == 0:
        return a.copy(), xp.zeros((), dtype=np.int64)
    index = (xp.argmax if largest else xp.argmin)(a, axis=dim, keepdims=True)
    values = xp.take_along_axis(a, index, axis=dim)
    if not keepdim:
        values, index = xp.squeeze(values, axis=dim), xp.squeeze(index, axis=dim)
    return values, index.astype(np.int64, copy=False)


@defop('max_dim', multi_output=True, save='output', dtypes='all', grad_name='MaxBackward0', public='max')
def _max_dim(xp, a, dim, keepdim):
    return _select(xp, a, dim, keepdim, True)


@defop('min_dim', multi_output=True, save='output', dtypes='all', grad_name='MinBackward0', public='min')
def _min_dim(xp, a, dim, keepdim):
    return _select(xp, a, dim, keepdim, False)


@_max_dim.derivative
@_min_dim.derivative
def _(F, ctx, grad):
    shape = ctx.input_meta[0][0]
    if not shape:
        return grad[0]
    p = ctx.params
    return F.scatter_along(grad[0], ctx.output[1], dim=p['dim'], keepdim=p['keepdim'], shape=shape, unique=True)


def _max_or_min(name, op, full_op, input, dim, keepdim, out, other):
    if isinstance(dim, Tensor) or other is not None:
        import ember
        return getattr(ember, 'maximum' if name == 'max' else 'minimum')(input, dim if other is None else other,
                                                                          out=out)
    if dim is None:
        if input._data.size == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                               "Specify the reduction dim with the 'dim' argument.")
        result = apply(full_op, (input,), {'dim': tuple(range(input._data.ndim)), 'keepdim': False})
        return result if out is None else _out(result, out)
    d = wrap_dim(int(dim), input._data.ndim)
    if input._data.ndim:
        _check_nonempty(name, input, (d,))
    values, indices = apply(op, (input,), {'dim': d, 'keepdim': keepdim})
    result = getattr(return_types, name)((values, indices))
    return result if out is None else _out(result, out)


def max(input, dim=None, keepdim=False, *, out=None, other=None):
    """``max(input)``: the largest value; ``max(input, dim)``: (values, indices); ``max(a, b)``: maximum."""
    return _max_or_min('max', _max_dim, _amax, input, dim, keepdim, out, other)


def min(input, dim=None, keepdim=False, *, out=None, other=None):
    """``min(input)``: the smallest value; ``min(input, dim)``: (values, indices); ``min(a, b)``: minimum."""
    return _max_or_min('min', _min_dim, _amin, input, dim, keepdim, out, other)


def _extreme_samples(make):
    return [Sample(make((3, 4))), Sample(make((2, 3, 4)), 1), Sample(make((2, 3, 4)), (0, 2), True),
            Sample(make((3, 4)), -1, keepdim=True), Sample(make(())), Sample(make((0, 3)), 1),
            Sample(np.array([[1., 3., 3.], [2., 2., -1.]], dtype=np.float32), 1, grad=False, name='ties'),
            Sample(np.array([1., 3., 3., 3.], dtype=np.float32), grad=False, name='ties')]


def _select_samples(make):
    return [Sample(make((3, 4)), 1), Sample(make((2, 3, 4)), 0, True), Sample(make((3, 4)), -1, keepdim=True),
            Sample(make(()), 0), Sample(make((0, 3)), 1), Sample(make((3, 4), 'int64', -5, 5), 0, grad=False),
            Sample(np.array([[1., np.nan, 2.], [2., 2., -1.]], dtype=np.float32), 1, grad=False)]


_amax.samples = _amin.samples = _extreme_samples
_max_dim.samples = _min_dim.samples = _select_samples
_amax.error_samples = lambda make: [
    ErrorSample(make((0, 3)), 0, error=IndexError, match=r'amax\(\): Expected reduction dim 0 to have non-zero size'),
    ErrorSample(make((2, 3)), 2, error=IndexError, match='Dimension out of range')]
_max_dim.error_samples = lambda make: [
    ErrorSample(make((0, 3)), 0, error=IndexError, match=r'max\(\): Expected reduction dim 0 to have non-zero size'),
    ErrorSample(make((0, 3)), error=RuntimeError, match='Expected reduction dim to be specified'),
    ErrorSample(make((2, 3)), 2, error=IndexError, match='Dimension out of range')]


# ----------------------------------------------------------------------------- argmax / argmin / aminmax

@defop('argmax', dtypes='all', gradcheck=False)
def _argmax(xp, a, dim, keepdim):
    return _arg_extreme(xp, a, dim, keepdim, xp.argmax)


@defop('argmin', dtypes='all', gradcheck=False)
def _argmin(xp, a, dim, keepdim):
    return _arg_extreme(xp, a, dim, keepdim, xp.argmin)


def _arg_extreme(xp, a, dim, keepdim, fn):
    if dim is None:
        index = fn(a.reshape(-1))
        return xp.full((1,) * a.ndim if keepdim else (), index, dtype=np.int64)
    if a.ndim == 0:
        return xp.zeros((), dtype=np.int64)
    return fn(a, axis=dim, keepdims=keepdim).astype(np.int64, copy=False)


def _argx(name, op, input, dim, keepdim, out):
    if dim is None:
        if input._data.size == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
    else:
        dim = wrap_dim(int(dim), input._data.ndim)
        if input._data.ndim:
            _check_nonempty(name, input, (dim,))
    params = {'dim': dim, 'keepdim': keepdim}
    return apply(op, (input,), params) if out is None else apply_out(op, (input,), params, out)


def argmax(input, dim=None, keepdim=False, *, out=None):
    """Index of the largest value (of the flattened input when ``dim`` is None)."""
    return _argx('argmax', _argmax, input, dim, keepdim, out)


def argmin(input, dim=None, keepdim=False, *, out=None):
    """Index of the smallest value (of the flattened input when ``dim`` is None)."""
    return _argx('argmin', _argmin, input, dim, keepdim, out)


_argmax.samples = _argmin.samples = lambda make: [
    Sample(make((3, 4))), Sample(make((3, 4)), 1), Sample(make((2, 3, 4)), -1, True), Sample(make((3, 4)), keepdim=True),
    Sample(make(())), Sample(make(()), 0), Sample(make((0, 3)), 1), Sample(make((4, 5), 'int64', -3, 3), 0),
    Sample(np.array([[1., np.nan, 2.], [2., 2., -1.]], dtype=np.float32), 1)]
_argmax.error_samples = lambda make: [
    ErrorSample(make((0, 3)), error=IndexError, match='Expected reduction dim to be specified'),
    ErrorSample(make((0, 3)), 0, error=IndexError, match='Expected reduction dim 0 to have non-zero size'),
    ErrorSample(make((2, 3)), 2, error=IndexError, match='Dimension out of range')]


def aminmax(input, *, dim=None, keepdim=False, out=None):
    """(min, max) over ``dim`` (all elements by default) as ``return_types.aminmax``."""
    dims = reduce_dims(input, dim)
    if input._data.size == 0 and (dim is None or 0 in [input._data.shape[d] for d in dims]):
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                           "identity.")
    if dim is None and keepdim:
        dims = tuple(range(input._data.ndim))
    params = {'dim': dims, 'keepdim': keepdim}
    result = return_types.aminmax((apply(_amin, (input,), params), apply(_amax, (input,), params)))
    return result if out is None else _out(result, out)


composite('aminmax', samples=lambda make: [
    Sample(make((3, 4))), Sample(make((2, 3, 4)), dim=1), Sample(make((3, 4)), dim=-1, keepdim=True),
    Sample(make(())), Sample(make((3, 4)), keepdim=True)])


# ----------------------------------------------------------------------------- all / any / count_nonzero

@defop('all', dtypes='all', gradcheck=False)
def _all(xp, a, dim, keepdim):
    out = xp.all(a, axis=dim, keepdims=keepdim)
    return out.astype(np.uint8) if a.dtype == np.uint8 else out


@defop('any', dtypes='all', gradcheck=False)
def _any(xp, a, dim, keepdim):
    out = xp.any(a, axis=dim, keepdims=keepdim)
    return out.astype(np.uint8) if a.dtype == np.uint8 else out


def all(input, dim=None, keepdim=False, *, out=None):
    """True where every element (over ``dim``, or all of them) is nonzero."""
    params = {'dim': reduce_dims(input, dim), 'keepdim': keepdim}
    return apply(_all, (input,), params) if out is None else apply_out(_all, (input,), params, out)


def any(input, dim=None, keepdim=False, *, out=None):
    """True where some element (over ``dim``, or all of them) is nonzero."""
    params = {'dim': reduce_dims(input, dim), 'keepdim': keepdim}
    return apply(_any, (input,), params) if out is None else apply_out(_any, (input,), params, out)


def _logical_samples(make):
    sparse = make((3, 4)) * (make((3, 4)) > 0)
    return [Sample(sparse), Sample(sparse, 1), Sample(sparse, (0, 1), True), Sample(make((3, 4)) > 0, 0),
            Sample(make((2, 3), 'uint8', 0, 2)), Sample(make(())), Sample(make((0, 3))), Sample(make((0, 3)), 1)]


_all.samples = _any.samples = _logical_samples


@defop('count_nonzero', dtypes='all', gradcheck=False)
def _count_nonzero(xp, a, dim):
    return xp.count_nonzero(a, axis=dim).astype(np.int64)


def count_nonzero(input, dim=None):
    """Number of nonzero elements, over ``dim`` or all of them."""
    return apply(_count_nonzero, (input,), {'dim': reduce_dims(input, dim)})


_count_nonzero.samples = lambda make: [
    Sample(make((3, 4), 'int64', -1, 2)), Sample(make((3, 4), 'int64', -1, 2), 1), Sample(make((3, 4)) > 0, (0, 1)),
    Sample(make(())), Sample(make((0, 3)), 0)]


TENSOR_METHODS = ['sum', 'mean', 'nansum', 'nanmean', 'prod', 'amax', 'amin', 'max', 'min', 'argmax', 'argmin',
                  'aminmax', 'all', 'any', 'count_nonzero']


def _full_or_dims(name):
    """torch names the all-elements overload ``<Name>Backward0`` and the ``dim=`` one ``<Name>Backward1``."""
    def grad_name(params, input_meta):
        full = not params['keepdim'] and len(params['dim']) == len(input_meta[0][0])
        return f'{name}Backward{0 if full else 1}'
    return grad_name


_sum.grad_name = _full_or_dims('Sum')
_mean.grad_name = _full_or_dims('Mean')
