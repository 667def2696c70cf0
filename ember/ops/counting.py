"""Counting and searching: quantile, unique, unique_consecutive, searchsorted, bucketize, histc, bincount.

quantile is differentiable (a sort, then a gather and a lerp with constant
weights); the others return integer or count results and are not.
"""
import numpy as np

from ember import _dtype
from ember._tensor import Tensor
from ember.ops._dispatch import apply
from ember.ops._registry import Sample, ErrorSample, composite, defop
from ember.ops._util import wrap_dim


def _tensor(array, like):
    return Tensor._make(array, like._device)


# ----------------------------------------------------------------------------- quantile / nanquantile

_INTERPOLATIONS = ('linear', 'lower', 'higher', 'midpoint', 'nearest')


def _quantile(name, input, q, dim, keepdim, interpolation, ignore_nan):
    import ember
    from ember.ops.reduction import _gather_along_dim as gather_along_dim
    from ember.ops.sorting import sort
    if input._dtype not in (_dtype.float32, _dtype.float64):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if input._data.size == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, midpoint or nearest. "
                           f"Got {interpolation}")
    scalar_q = not isinstance(q, Tensor)
    qs = np.atleast_1d(np.asarray(q._data if isinstance(q, Tensor) else q, dtype=np.float64))
    if isinstance(q, Tensor) and q._data.ndim > 1:
        raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
    if isinstance(q, Tensor) and q._dtype is not input._dtype:
        raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
    if qs.size and (qs.min() < 0 or qs.max() > 1):
        bad = qs[(qs < 0) | (qs > 1)][0]
        raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {bad:g}" if scalar_q else
                           f"{name}() q values must be in the range [0, 1]")
    ndim = input._data.ndim
    if dim is None:
        x, d = input.reshape(-1), 0
    else:
        d = wrap_dim(int(dim), ndim)
        x = input if ndim else input.reshape(1)
        x = ember.movedim(x, d, -1) if ndim else x
    values = sort(x, -1)[0]                       # NaN sorts last
    n = values._data.shape[-1]
    nans = np.sum(np.isnan(values._data), axis=-1, keepdims=True)
    count = n - nans if ignore_nan else np.where(nans > 0, n, n)
    rank = qs * (np.maximum(count, 1) - 1)       # (..., m)
    if interpolation == 'lower':
        rank = np.floor(rank)
    elif interpolation == 'higher':
        rank = np.ceil(rank)
    elif interpolation == 'nearest':
        rank = np.round(rank)
    low = np.floor(rank).astype(np.int64)
    high = np.minimum(np.ceil(rank), np.maximum(count - 1, 0)).astype(np.int64)
    weight = (0.5 if interpolation == 'midpoint' else rank - low)
    if not ignore_nan:  # a NaN in the slice makes its quantiles NaN: point both ends at that NaN
        low = np.where(nans > 0, n - 1, low)
        high = np.where(nans > 0, n - 1, high)
    weight = np.broadcast_to(np.asarray(weight, dtype=input._dtype.np), low.shape)
    below = gather_along_dim(values, _tensor(low, input), -1)
    above = gather_along_dim(values, _tensor(high, input), -1)
    result = below + (above - below) * _tensor(np.ascontiguousarray(weight), input)   # (..., m)
    result = ember.movedim(result, -1, 0)
    if keepdim:
        if dim is None:
            result = result.reshape(result.shape[0], *([1] * ndim))
        elif ndim:
            result = result.unsqueeze(d + 1)
    return result[0] if scalar_q else result


def quantile(input, q, dim=None, keepdim=False, *, interpolation='linear', out=None):
    """The ``q``-th quantiles of ``input`` (of all elements or along ``dim``); NaN if a NaN is present."""
    from ember.ops.reduction import _out
    result = _quantile('quantile', input, q, dim, keepdim, interpolation, False)
    return result if out is None else _out(result, out)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation='linear', out=None):
    """The ``q``-th quantiles of ``input``, ignoring NaN."""
    from ember.ops.reduction import _out
    result = _quantile('nanquantile', input, q, dim, keepdim, interpolation, True)
    return result if out is None else _out(result, out)


def _quantile_samples(make):
    q = np.array([0.1, 0.5, 0.75], np.float32)
    nan = make((3, 5))
    nan[0, 1] = nan[2, 2] = nan[2, 4] = np.nan
    return [Sample(make((3, 5)), 0.3), Sample(make((3, 5)), q, 1, grad=False), Sample(make((2, 3, 4)), 0.6, 1, True),
            Sample(make((2, 3, 4)), q, 1, True, grad=False), Sample(make((3, 5)), q, keepdim=True, grad=False),
            Sample(make((3, 5)), 0.4, 0, interpolation='lower'), Sample(make((3, 5)), 0.2, -1, interpolation='higher'),
            Sample(make((3, 5)), 0.3, 1, interpolation='midpoint'), Sample(make((3, 5)), 0.62, 1, keepdim=True,
                                                                            interpolation='nearest'),
            Sample(make((3, 5)), q, 1, interpolation='midpoint', grad=False), Sample(make(()), 0.5),
            Sample(make(()), q, 0, grad=False),
            Sample(nan, q, 1, grad=False), Sample(nan, 0.5, grad=False), Sample(make((4,)), 1.0)]


def _quantile_errors(make):
    return [ErrorSample(make((2, 3)), 1.5, error=RuntimeError, match=r'q must be in the range \[0, 1\]'),
            ErrorSample(make((2, 3), 'int64'), 0.5, error=RuntimeError, match='must be either float or double'),
            ErrorSample(make((0,)), 0.5, error=RuntimeError, match='input tensor must be non-empty'),
            ErrorSample(make((2, 3)), make((1, 1)), error=RuntimeError, match='q must be a scalar or 1D tensor')]


composite('quantile', samples=_quantile_samples).error_samples = _quantile_errors
composite('nanquantile', samples=_quantile_samples)


# ----------------------------------------------------------------------------- unique / unique_consecutive

def _unique_outputs(values, inverse, counts, like, return_inverse, return_counts):
    out = [_tensor(np.ascontiguousarray(values), like)]
    if return_inverse:
        out.append(_tensor(inverse.astype(np.int64), like))
    if return_counts:
        out.append(_tensor(counts.astype(np.int64), like))
    return out[0] if len(out) == 1 else tuple(out)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (or slices along ``dim``), sorted; optionally inverse indices and counts."""
    a = input._data
    if dim is None:
        values, inverse, counts = np.unique(a.reshape(-1), return_inverse=True, return_counts=True)
        inverse = inverse.reshape(a.shape)
    else:
        d = wrap_dim(int(dim), a.ndim)
        if a.shape[d] == 0:
            values, inverse, counts = a, np.zeros(0, np.int64), np.zeros(0, np.int64)
        else:
            values, inverse, counts = np.unique(a, return_inverse=True, return_counts=True, axis=d)
            inverse = inverse.reshape(-1)
    return _unique_outputs(values, inverse, counts, input, return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapses each run of equal consecutive values (or slices along ``dim``) to one."""
    a = input._data
    moved = a.reshape(-1, 1) if dim is None else np.moveaxis(a, wrap_dim(int(dim), a.ndim), 0)
    n = moved.shape[0]
    starts = np.ones(n, dtype=bool)
    if n > 1:
        starts[1:] = (moved[1:] != moved[:-1]).reshape(n - 1, -1).any(axis=1)
    inverse = np.cumsum(starts) - 1
    counts = np.diff(np.append(np.flatnonzero(starts), n))
    values = moved[starts]
    if dim is None:
        values, inverse = values.reshape(-1), inverse.reshape(a.shape)
    else:
        values = np.moveaxis(values, 0, wrap_dim(int(dim), a.ndim))
    return _unique_outputs(values, inverse, counts, input, return_inverse, return_counts)


composite('unique', gradcheck=False, samples=lambda make: [
    Sample(make((3, 5), 'int64', -3, 3)), Sample(make((3, 5), 'int64', -3, 3), return_inverse=True, return_counts=True),
    Sample(np.array([[1, 2], [0, 1], [1, 2]]), dim=0, return_inverse=True, return_counts=True),
    Sample(np.array([[1, 2, 1], [0, 1, 0]]), dim=1, return_counts=True), Sample(np.array([2.5, -1., 2.5], np.float32)),
    Sample(make((0,)), return_inverse=True), Sample(make((4,)) > 0)])
composite('unique_consecutive', gradcheck=False, samples=lambda make: [
    Sample(np.array([1, 1, 2, 2, 3, 1, 1, 2])), Sample(np.array([1, 1, 2, 1]), return_inverse=True, return_counts=True),
    Sample(np.array([[1, 1, 2], [1, 1, 2]]), dim=1, return_inverse=True, return_counts=True),
    Sample(np.array([[1, 2], [1, 2], [0, 1]]), dim=0, return_counts=True), Sample(make((0,)))])


# ----------------------------------------------------------------------------- searchsorted / bucketize

def _search(seq, values, right):
    """Per-row insertion points of ``values`` into the sorted rows of ``seq`` (leading dims match)."""
    side = 'right' if right else 'left'
    if seq.ndim == 1:
        return np.searchsorted(seq, values, side=side)
    rows = int(np.prod(seq.shape[:-1]))
    s, v = seq.reshape(rows, -1), values.reshape(rows, -1)
    ns, nv = s.shape[1], v.shape[1]
    # one merged sort of (row, value, kind): a query's rank in it, less what precedes it that is not
    # its own row's sequence, is its insertion point. kind orders ties: queries first for 'left'.
    row = np.repeat(np.arange(rows), ns + nv)
    merged = np.concatenate([s, v], axis=1).reshape(-1)
    is_query = np.tile(np.r_[np.zeros(ns, bool), np.ones(nv, bool)], rows)
    kind = is_query if right else ~is_query
    order = np.lexsort((kind, merged, row))
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    queries_before = np.cumsum(is_query[order]) - is_query[order]
    before = queries_before[rank] - row * nv
    result = rank - row * (ns + nv) - before
    return result.reshape(rows, ns + nv)[:, ns:].reshape(values.shape)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None, out=None):
    """Indices where ``input`` would be inserted into the innermost dim of ``sorted_sequence``."""
    seq = sorted_sequence._data
    scalar = not isinstance(input, Tensor)
    values = np.asarray(input._data if not scalar else input, dtype=None if not scalar else seq.dtype)
    if side is not None:
        if side not in ('left', 'right'):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == 'left':
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == 'right'
    if sorter is not None:
        seq = np.take_along_axis(seq, sorter._data, axis=-1)
    if seq.ndim > 1 and (scalar or values.shape[:-1] != seq.shape[:-1]):
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           "dimensions of boundaries tensor and input value tensor must match, but we got "
                           f"boundaries tensor {list(seq.shape)} and input value tensor "
                           f"{list(values.shape) if not scalar else []}")
    if seq.dtype != values.dtype:
        common = np.promote_types(seq.dtype, values.dtype)
        seq, values = seq.astype(common), values.astype(common)
    result = _tensor(np.asarray(_search(seq, values, right), dtype=np.int32 if out_int32 else np.int64),
                     sorted_sequence)
    if out is not None:
        from ember.ops._dispatch import write_out
        return write_out(result, out)
    return result


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    """The bucket index of each element for the sorted 1-D ``boundaries``."""
    if boundaries._data.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries._data.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)


def _search_samples(make):
    seq = np.sort(make((5,)))
    rows = np.sort(make((2, 3, 6), 'int64', -4, 4), axis=-1)
    return [Sample(seq, make((3, 4))), Sample(seq, make((7,)), right=True), Sample(seq, 0.25),
            Sample(rows, make((2, 3, 4), 'int64', -5, 5)), Sample(rows, make((2, 3, 4), 'int64', -5, 5), right=True),
            Sample(rows, make((2, 3, 4), 'int64', -5, 5), side='right', out_int32=True),
            Sample(np.array([1, 3, 3, 5]), np.array([3, 0, 6]), side='left'),
            Sample(np.array([5, 1, 3]), np.array([2, 4]), sorter=np.array([1, 2, 0]))]


composite('searchsorted', gradcheck=False, samples=_search_samples)
composite('bucketize', gradcheck=False, samples=lambda make: [
    Sample(make((3, 4)), np.sort(make((5,)))), Sample(np.array([1, 3, 5, 9]), np.array([1, 3, 5]), right=True),
    Sample(np.array([[1, 3], [5, 9]]), np.array([1, 3, 5]), out_int32=True), Sample(make(()), np.sort(make((3,))))])


# ----------------------------------------------------------------------------- histc / bincount

@defop('histc', dtypes='float', gradcheck=False)
def _histc(xp, a, bins, min, max):
    flat = a.reshape(-1)
    lo, hi = float(min), float(max)
    if lo == hi and flat.size:
        lo, hi = float(xp.min(flat)), float(xp.max(flat))
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    keep = flat[(flat >= lo) & (flat <= hi)]
    index = ((keep - lo) * bins / (hi - lo)).astype(np.int64)
    index = xp.minimum(index, bins - 1)
    return xp.bincount(index, minlength=bins).astype(a.dtype)


def histc(input, bins=100, min=0, max=0, *, out=None):
    """Histogram of ``input`` with ``bins`` equal-width bins over [min, max] (data range when both are 0)."""
    if input._dtype.category != _dtype.FLOAT:
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{input._dtype.legacy_name[:-6]}'")
    if bins <= 0:
        raise RuntimeError("torch.histc(): bins must be > 0, but got %d for dim 0" % bins)
    if min > max:
        raise RuntimeError("torch.histc(): max must be larger than min")
    params = {'bins': int(bins), 'min': min, 'max': max}
    if out is not None:
        from ember.ops._dispatch import apply_out
        return apply_out(_histc, (input,), params, out)
    return apply(_histc, (input,), params)


_histc.samples = lambda make: [Sample(make((3, 4))), Sample(make((50,)), 7), Sample(make((50,)), 5, -1, 1),
                               Sample(np.ones(4, np.float32), 4), Sample(make((0,)), 3)]
_histc.error_samples = lambda make: [ErrorSample(make((2, 3), 'int64'), error=NotImplementedError,
                                                 match='not implemented for')]


def bincount(input, weights=None, minlength=0):
    """Count of each non-negative integer in the 1-D ``input`` (summing ``weights`` if given)."""
    a = input._data
    if a.ndim != 1 or a.dtype.kind not in 'iub' or (a.size and a.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return _tensor(np.bincount(a, minlength=minlength).astype(np.int64), input)
    w = weights._data
    dtype = w.dtype if weights._dtype in (_dtype.float32, _dtype.float64) else np.float64
    return _tensor(np.bincount(a, weights=w, minlength=minlength).astype(dtype), input)


composite('bincount', gradcheck=False, samples=lambda make: [
    Sample(make((10,), 'int64', 0, 5)), Sample(make((10,), 'int64', 0, 5), minlength=8),
    Sample(make((6,), 'int64', 0, 4), make((6,))), Sample(make((6,), 'int64', 0, 4), make((6,), 'float64')),
    Sample(make((0,), 'int64'))]).error_samples = lambda make: [
    ErrorSample(np.array([1, -1]), error=RuntimeError, match='bincount only supports 1-d non-negative integral'),
    ErrorSample(np.array([[1]]), error=RuntimeError, match='bincount only supports 1-d non-negative integral')]

TENSOR_METHODS = ['quantile', 'nanquantile', 'unique', 'unique_consecutive', 'histc', 'bincount']
