"""Sorting and selection: sort, argsort, topk, kthvalue, median, mode, quantile, unique, searchsorted, histograms.

Selection ops return (values, indices); their gradient scatters into the
selected positions with ``scatter_along`` (which has its own rule, so these ops
are differentiable twice).  Sorts are stable; NaN sorts as the largest value,
as in torch.
"""
import numpy as np

from ember.ops._dispatch import apply
from ember.ops._registry import Sample, ErrorSample, composite, defop
from ember.ops._util import wrap_dim
from ember.ops.reduction import _check_nonempty, _out, expand_reduced, return_types


def _stable_argsort(xp, a, axis, descending):
    if not descending:
        return xp.argsort(a, axis=axis, kind='stable')
    # reversing a stable ascending sort of the reversed input keeps equal elements in their order
    n = a.shape[axis]
    flipped = xp.argsort(xp.flip(a, axis), axis=axis, kind='stable')
    return (n - 1) - xp.flip(flipped, axis)


def _selection_rule(F, ctx, grad):
    shape = ctx.input_meta[0][0]
    if not shape:
        return grad[0]
    p = ctx.params
    return F.scatter_along(grad[0], ctx.output[1], dim=p['dim'], keepdim=p.get('keepdim', True), shape=shape,
                           unique=True)


# ----------------------------------------------------------------------------- sort / argsort / msort / topk

@defop('sort', multi_output=True, save='output', dtypes='all', grad_name='SortBackward0')
def _sort(xp, a, dim, descending):
    if a.ndim == 0:
        return a.copy(), xp.zeros((), dtype=np.int64)
    index = _stable_argsort(xp, a, dim, descending).astype(np.int64, copy=False)
    return xp.take_along_axis(a, index, axis=dim), index


_sort.derivative(_selection_rule)


def sort(input, dim=-1, descending=False, stable=False, *, out=None):
    """(values, indices) of ``input`` sorted along ``dim`` (stably; NaN counts as largest)."""
    params = {'dim': wrap_dim(int(dim), input._data.ndim), 'descending': bool(descending)}
    result = return_types.sort(apply(_sort, (input,), params))
    return result if out is None else _out(result, out)


def argsort(input, dim=-1, descending=False, stable=False):
    """Indices that sort ``input`` along ``dim``."""
    return sort(input, dim, descending, stable)[1]


def msort(input, *, out=None):
    """``input`` sorted along its first dim."""
    result = sort(input, 0)[0]
    return result if out is None else _out(result, out)


def _sort_samples(make):
    nan = np.array([[3., np.nan, 1., 2., 1.], [0., 5., np.nan, np.nan, -1.]], dtype=np.float32)
    return [Sample(make((3, 5))), Sample(make((3, 5)), 0), Sample(make((2, 3, 4)), 1, True),
            Sample(make((3, 5)), descending=True, dim=-1), Sample(make(())), Sample(make((0, 3)), 0),
            Sample(make((4, 6), 'int64', -2, 2), 1), Sample(make((4, 6), 'int64', -2, 2), 1, True),
            Sample(nan, grad=False), Sample(nan, 1, True, grad=False), Sample(make((5,)) > 0)]


_sort.samples = _sort_samples
_sort.error_samples = lambda make: [ErrorSample(make((2, 3)), 2, error=IndexError, match='Dimension out of range')]
composite('argsort', samples=lambda make: _sort_samples(make)[:-1])
composite('msort', samples=lambda make: [Sample(make((3, 5))), Sample(make((4,))), Sample(make((4, 3), 'int64', -2, 2))])


@defop('topk', multi_output=True, save='output', dtypes='all', grad_name='TopkBackward0')
def _topk(xp, a, k, dim, largest):
    if a.ndim == 0:
        return a.copy(), xp.zeros((), dtype=np.int64)
    index = _stable_argsort(xp, a, dim, largest)
    index = xp.take(index, xp.arange(k), axis=dim).astype(np.int64, copy=False)
    return xp.take_along_axis(a, index, axis=dim), index


_topk.derivative(_selection_rule)


def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    """(values, indices) of the ``k`` largest (or smallest) elements along ``dim``."""
    d = wrap_dim(int(dim), input._data.ndim)
    size = input._data.shape[d] if input._data.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    result = return_types.topk(apply(_topk, (input,), {'k': int(k), 'dim': d, 'largest': bool(largest)}))
    return result if out is None else _out(result, out)


_topk.samples = lambda make: [
    Sample(make((3, 5)), 2), Sample(make((3, 5)), 3, 0), Sample(make((2, 3, 4)), 1, 1, False),
    Sample(make((3, 5)), 5, largest=False), Sample(make(()), 1), Sample(make((3, 5)), 0), Sample(make((0, 3)), 0, 0),
    Sample(make((4, 6)).argsort(1), 2, grad=False)]
_topk.error_samples = lambda make: [ErrorSample(make((2, 3)), 4, error=RuntimeError, match='selected index k out of range')]


# ----------------------------------------------------------------------------- kthvalue / median / mode

@defop('kthvalue', multi_output=True, save='output', dtypes='all', grad_name='KthvalueBackward0')
def _kthvalue(xp, a, k, dim, keepdim):
    if a.ndim == 0:
        return a.copy(), xp.zeros((), dtype=np.int64)
    order = _stable_argsort(xp, a, dim, False)
    index = xp.take(order, [k - 1] if keepdim else k - 1, axis=dim).astype(np.int64, copy=False)
    return _take_values(xp, a, index, dim, keepdim), index


def _take_values(xp, a, index, dim, keepdim):
    if keepdim:
        return xp.take_along_axis(a, index, axis=dim)
    return xp.squeeze(xp.take_along_axis(a, xp.expand_dims(index, dim), axis=dim), axis=dim)


_kthvalue.derivative(_selection_rule)


def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    """(values, indices) of the ``k``-th smallest element along ``dim``."""
    d = wrap_dim(int(dim), input._data.ndim)
    if input._data.ndim:
        _check_nonempty('kthvalue', input, (d,))
    size = input._data.shape[d] if input._data.ndim else 1
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    result = return_types.kthvalue(apply(_kthvalue, (input,), {'k': int(k), 'dim': d, 'keepdim': keepdim}))
    return result if out is None else _out(result, out)


_kthvalue.samples = lambda make: [
    Sample(make((3, 5)), 2), Sample(make((3, 5)), 3, 0), Sample(make((2, 3, 4)), 1, 1, True),
    Sample(make((3, 5)), 5, -1, keepdim=True), Sample(make(()), 1), Sample(make((0, 3)), 1, 1),
    Sample(make((4, 6)).argsort(1), 2, grad=False)]
_kthvalue.error_samples = lambda make: [
    ErrorSample(make((2, 3)), 4, error=RuntimeError, match='selected number k out of range for dimension 1'),
    ErrorSample(make((0, 3)), 1, 0, error=IndexError, match='Expected reduction dim 0 to have non-zero size')]


def _median_kernel(xp, a, dim, keepdim, ignore_nan):
    if a.ndim == 0:
        return a.copy(), xp.zeros((), dtype=np.int64)
    order = _stable_argsort(xp, a, dim, False)
    n = a.shape[dim]
    if a.dtype.kind in 'fc':
        nans = xp.sum(a != a, axis=dim, keepdims=True)
        if ignore_nan:
            position = xp.maximum(n - nans - 1, 0) // 2
        else:  # any NaN makes the median NaN: point at the first NaN, which sorts right after the numbers
            position = xp.where(nans > 0, n - nans, (n - 1) // 2)
    else:
        position = xp.full((1,) * a.ndim, (n - 1) // 2)
    index = xp.take_along_axis(order, position.astype(np.int64), axis=dim).astype(np.int64, copy=False)
    if not keepdim:
        index = xp.squeeze(index, axis=dim)
    return _take_values(xp, a, index, dim, keepdim), index


_median_dim = defop('median_dim', multi_output=True, save='output', dtypes='all', grad_name='MedianBackward1',
                    public='median')(_median_kernel)
_median_dim.derivative(_selection_rule)


@defop('median', multi_output=True, save='output', nondiff_outputs=(1,), dtypes='all', grad_name='MedianBackward0')
def _median_all(xp, a, ignore_nan):
    flat = a.reshape(-1)
    if flat.size == 0:
        return xp.full((), np.nan, dtype=a.dtype), xp.zeros(a.shape, dtype=a.dtype)
    value, _ = _median_kernel(xp, flat, 0, True, ignore_nan)
    # the gradient is shared by every element equal to the median, as torch does
    mask = flat == value
    if a.dtype.kind == 'f':
        mask |= (flat != flat) & (value != value)
    weights = (mask / xp.sum(mask)).astype(a.dtype if a.dtype.kind in 'fc' else np.float32, copy=False)
    return value.reshape(()), weights.reshape(a.shape)


@_median_all.derivative
def _(F, ctx, grad):
    return F.mul(expand_reduced(F, grad[0], ctx.input_meta[0][0], (), True), ctx.output[1])


def _median(name, input, dim, keepdim, out, ignore_nan):
    if dim is None:
        result = apply(_median_all, (input,), {'ignore_nan': ignore_nan})[0]
        return result if out is None else _out(result, out)
    d = wrap_dim(int(dim), input._data.ndim)
    if input._data.ndim:
        _check_nonempty(name, input, (d,))
    pair = apply(_median_dim, (input,), {'dim': d, 'keepdim': keepdim, 'ignore_nan': ignore_nan})
    result = getattr(return_types, name)(pair)
    return result if out is None else _out(result, out)


def median(input, dim=None, keepdim=False, *, out=None):
    """The lower median (of all elements, or (values, indices) along ``dim``); NaN if there is a NaN."""
    return _median('median', input, dim, keepdim, out, False)


def nanmedian(input, dim=None, keepdim=False, *, out=None):
    """The lower median ignoring NaN (of all elements, or (values, indices) along ``dim``)."""
    return _median('nanmedian', input, dim, keepdim, out, True)


def _median_samples(make):
    nan = np.array([[1., np.nan, 2., 3.], [2., 5., 1., 0.]], dtype=np.float32)
    return [Sample(make((3, 5)), 1), Sample(make((3, 4)), 0, True), Sample(make((2, 3, 4)), -1), Sample(make(()), 0),
            Sample(make((0, 3)), 1), Sample(make((4, 5), 'int64', -20, 20), 1, grad=False), Sample(nan, 1, grad=False),
            Sample(np.full((2, 3), np.nan, np.float32), 1, grad=False)]


_median_dim.samples = _median_samples
_median_dim.error_samples = lambda make: [
    ErrorSample(make((0, 3)), 0, error=IndexError, match=r'median\(\): Expected reduction dim 0 to have non-zero size')]
_median_all.samples = lambda make: [
    Sample(make((3, 5))), Sample(make((4,))), Sample(make(())), Sample(make((3, 4), 'int64', -20, 20)),
    Sample(np.array([1., np.nan, 2.], np.float32), grad=False), Sample(make((0, 3)))]
composite('nanmedian', samples=lambda make: _median_samples(make) + [
    Sample(np.array([1., np.nan, 2., 5.], np.float32), grad=False), Sample(make((3, 5)))])


@defop('mode', multi_output=True, save='output', dtypes='all', grad_name='ModeBackward0')
def _mode(xp, a, dim, keepdim):
    if a.ndim == 0:
        return a.copy(), xp.zeros((), dtype=np.int64)
    a_last = xp.moveaxis(a, dim, -1)
    n = a_last.shape[-1]
    order = xp.argsort(a_last, axis=-1, kind='stable')
    s = xp.take_along_axis(a_last, order, axis=-1)
    positions = xp.arange(n)
    starts = xp.ones(s.shape, dtype=bool)
    starts[..., 1:] = s[..., 1:] != s[..., :-1]
    run_start = xp.maximum.accumulate(xp.where(starts, positions, 0), axis=-1)
    # the end of the first longest run: the smallest of the most frequent values, at its last position
    at = xp.argmax(positions - run_start, axis=-1)[..., None]
    values = xp.take_along_axis(s, at, axis=-1)[..., 0]
    index = xp.take_along_axis(order, at, axis=-1)[..., 0].astype(np.int64)
    if keepdim:
        values, index = xp.expand_dims(values, dim), xp.expand_dims(index, dim)
    else:
        values, index = xp.ascontiguousarray(values), xp.ascontiguousarray(index)
    return values, index


_mode.derivative(_selection_rule)


def mode(input, dim=-1, keepdim=False, *, out=None):
    """(values, indices): the most frequent value along ``dim`` (the smallest on ties), and its last index."""
    d = wrap_dim(int(dim), input._data.ndim)
    if input._data.ndim:
        _check_nonempty('mode', input, (d,))
    result = return_types.mode(apply(_mode, (input,), {'dim': d, 'keepdim': keepdim}))
    return result if out is None else _out(result, out)


_mode.samples = lambda make: [
    Sample(make((4, 6), 'int64', -2, 2), 1), Sample(make((4, 6), 'int64', -2, 2), 0, True),
    Sample(np.array([[1, 2, 2, 1, 3], [3, 3, 1, 1, 2]]), -1), Sample(make((3, 5))), Sample(make(()), 0),
    Sample(np.array([[1., 2., 2.], [0.5, 0.5, 3.]], np.float32), 1, grad=False)]
_mode.error_samples = lambda make: [ErrorSample(make((0, 3)), 0, error=IndexError,
                                                match='Expected reduction dim 0 to have non-zero size')]

TENSOR_METHODS = ['sort', 'argsort', 'msort', 'topk', 'kthvalue', 'median', 'nanmedian', 'mode']
