"""Reductions: sum, mean, prod, max/min, all/any, ... over ``dim`` with ``keepdim`` and ``dtype``.

Also home of the selection helpers ``gather_along``/``scatter_along`` (the
gradient of max-with-dim, sort, topk, ...), and of the named-tuple return
types (``torch.return_types.max``) that those ops give back.
"""
import numpy as np

from ember import _dtype
from ember._tensor import Tensor
from ember.ops._dispatch import apply, apply_out
from ember.ops._registry import Sample, ErrorSample, defop
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
