"""Reductions: sum, mean, ... over ``dim`` with ``keepdim`` and ``dtype``."""
from ember import _dtype
from ember._tensor import Tensor
from ember.ops._dispatch import apply, apply_out
from ember.ops._registry import Sample, ErrorSample, defop
from ember.ops._util import wrap_dims

_EMPTY = {}


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
    if isinstance(dim, (list, tuple)) and len(dim) == 0:
        dim = None
    params = {'dim': wrap_dims(dim, input._data.ndim), 'keepdim': keepdim, 'dtype': _reduction_dtype(input, dtype)}
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
    if isinstance(dim, (list, tuple)) and len(dim) == 0:
        dim = None
    dims = wrap_dims(dim, input._data.ndim)
    params = {'dim': dims, 'keepdim': keepdim, 'dtype': dtype or input._dtype}
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

TENSOR_METHODS = ['sum', 'mean']
