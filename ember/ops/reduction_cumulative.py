"""Scans along one dim: cumsum, cumprod, cummax/cummin, logcumsumexp; and diff, trapezoid.

The gradients of cumprod and logcumsumexp run a fast scan kernel on raw arrays;
under ``create_graph=True`` they are written instead as an n-by-n product of
differentiable ops (the same numbers, O(n^2) memory, used only for
higher-order gradients).
"""
import numpy as np

from ember import _dtype
from ember.ops._dispatch import apply, apply_out
from ember.ops._registry import Sample, ErrorSample, composite, defop
from ember.ops._util import wrap_dim
from ember.ops.reduction import _others_matrix, _out, _reduction_dtype, _to_last_axis, return_types


def _scan_dim(input, dim):
    return wrap_dim(int(dim), input._data.ndim)


def _reverse_cumsum(xp, a, axis):
    return xp.flip(xp.cumsum(xp.flip(a, axis), axis=axis), axis)


# ----------------------------------------------------------------------------- cumsum

@defop('cumsum', dtypes='all')
def _cumsum(xp, a, dim, reverse, dtype):
    if a.ndim == 0:
        return a.astype(dtype.np)
    if reverse:
        return xp.ascontiguousarray(_reverse_cumsum(xp, a.astype(dtype.np, copy=False), dim))
    return xp.cumsum(a, axis=dim, dtype=dtype.np)


@_cumsum.derivative
def _(F, ctx, grad):
    p = ctx.params
    return F.cumsum(grad, dim=p['dim'], reverse=not p['reverse'], dtype=F.dtype_of(grad))


def cumsum(input, dim, *, dtype=None, out=None):
    """Cumulative sum along ``dim``."""
    params = {'dim': _scan_dim(input, dim), 'reverse': False, 'dtype': _reduction_dtype(input, dtype)}
    return apply(_cumsum, (input,), params) if out is None else apply_out(_cumsum, (input,), params, out)


def _scan_samples(make):
    return [Sample(make((3, 4)), 1), Sample(make((2, 3, 4)), 0), Sample(make((3, 4)), -1), Sample(make(()), 0),
            Sample(make((0, 3)), 0), Sample(make((3, 4), 'int64', -3, 3), 1)]


_cumsum.samples = lambda make: _scan_samples(make) + [Sample(make((3, 4)), 1, dtype=_dtype.float64),
                                                      Sample(make((3, 4)) > 0, 0)]
_cumsum.error_samples = lambda make: [ErrorSample(make((2, 3)), 2, error=IndexError, match='Dimension out of range')]


# ----------------------------------------------------------------------------- cumprod

@defop('cumprod', save='both', dtypes='all')
def _cumprod(xp, a, dim, dtype):
    if a.ndim == 0:
        return a.astype(dtype.np)
    return xp.cumprod(a, axis=dim, dtype=dtype.np)


@_cumprod.derivative
def _(F, ctx, grad):
    # NOTE: d y_i / d x_k is the product of x_j for j <= i, j != k: never y_i / x_k, which fails at zeros.
    p = ctx.params
    x, = ctx.inputs
    if x.ndim == 0:
        return grad
    if not F.is_tensor_mode():
        return F.cumprod_grad(x, ctx.output, grad, dim=p['dim'])
    flat, n, back = _to_last_axis(F, x, (p['dim'],))
    gflat, _, _ = _to_last_axis(F, grad, (p['dim'],))
    upper = F.const(flat, np.triu(np.ones((n, n), dtype=F.dtype_of(flat).np)))
    prefix = F.cumprod(_others_matrix(F, flat, n), dim=flat.ndim, dtype=F.dtype_of(flat))
    weighted = F.mul(F.mul(prefix, upper), F.unsqueeze(gflat, dim=gflat.ndim - 1))
    return back(F.sum(weighted, dim=(flat.ndim,), keepdim=False, dtype=F.dtype_of(flat)))


@defop('cumprod_grad', public=None, gradcheck=False)
def _cumprod_grad(xp, x, y, g, dim):
    """The gradient of cumprod, exact where ``x`` has zeros (first zero of each slice handled apart)."""
    if x.size == 0:
        return xp.zeros_like(y)
    x, y, g = (xp.moveaxis(v, dim, -1) for v in (x, y, g))
    n = x.shape[-1]
    g = g.astype(y.dtype, copy=False)
    k = xp.arange(n)
    is_zero = x == 0
    first_zero = xp.where(is_zero.any(axis=-1, keepdims=True), xp.argmax(is_zero, axis=-1, keepdims=True), n)
    before = _reverse_cumsum(xp, g * y, -1) / xp.where(is_zero, 1, x)
    skip_first_zero = xp.cumprod(xp.where(k == first_zero, 1, x), axis=-1)
    at = _reverse_cumsum(xp, g * skip_first_zero, -1)
    out = xp.where(k < first_zero, before, xp.where(k == first_zero, at, 0))
    return xp.ascontiguousarray(xp.moveaxis(out.astype(y.dtype, copy=False), -1, dim))


def cumprod(input, dim, *, dtype=None, out=None):
    """Cumulative product along ``dim``."""
    params = {'dim': _scan_dim(input, dim), 'dtype': _reduction_dtype(input, dtype)}
    return apply(_cumprod, (input,), params) if out is None else apply_out(_cumprod, (input,), params, out)


def _cumprod_samples(make):
    z = make((3, 5))
    z[0, 1] = z[1, 4] = z[2, 0] = z[2, 3] = 0.0
    return [Sample(make((3, 4), low=0.5, high=1.5), 1), Sample(z, 1), Sample(make((2, 3, 4)), 0),
            Sample(make(()), 0), Sample(make((0, 3)), 0), Sample(make((3, 4), 'int64', -3, 3), 1),
            Sample(make((3, 4)), -1, dtype=_dtype.float64)]


_cumprod.samples = _cumprod_samples
_cumprod.error_samples = lambda make: [ErrorSample(make((2, 3)), -3, error=IndexError, match='Dimension out of range')]


# ----------------------------------------------------------------------------- cummax / cummin

def _cum_extreme(xp, a, dim, largest):
    if a.ndim == 0:
        return a.copy(), xp.zeros((), dtype=np.int64)
    values = (xp.maximum if largest else xp.minimum).accumulate(a, axis=dim)
    # like torch: a later tie takes over the index; once NaN, only a later NaN does
    hit = (a == values) | (a != a)
    shape = [1] * a.ndim
    shape[dim] = a.shape[dim]
    positions = xp.arange(a.shape[dim], dtype=np.int64).reshape(shape)
    indices = xp.maximum.accumulate(xp.where(hit, positions, 0), axis=dim)
    return values, indices


@defop('cummax', multi_output=True, save='output', dtypes='all')
def _cummax(xp, a, dim):
    return _cum_extreme(xp, a, dim, True)


@defop('cummin', multi_output=True, save='output', dtypes='all')
def _cummin(xp, a, dim):
    return _cum_extreme(xp, a, dim, False)


@_cummax.derivative
@_cummin.derivative
def _(F, ctx, grad):
    shape = ctx.input_meta[0][0]
    if not shape:
        return grad[0]
    return F.scatter_along(grad[0], ctx.output[1], dim=ctx.params['dim'], keepdim=True, shape=shape, unique=False)


def cummax(input, dim, *, out=None):
    """(values, indices) of the running maximum along ``dim``."""
    result = return_types.cummax(apply(_cummax, (input,), {'dim': _scan_dim(input, dim)}))
    return result if out is None else _out(result, out)


def cummin(input, dim, *, out=None):
    """(values, indices) of the running minimum along ``dim``."""
    result = return_types.cummin(apply(_cummin, (input,), {'dim': _scan_dim(input, dim)}))
    return result if out is None else _out(result, out)


def _cum_extreme_samples(make):
    ties = np.array([[1., 3., 3., 2., np.nan, 5., np.nan], [3., 1., 1., 2., 0., 0., 4.]], dtype=np.float32)
    return [Sample(make((3, 4)), 1), Sample(make((2, 3, 4)), 0), Sample(make((3, 4)), -1), Sample(make(()), 0),
            Sample(make((0, 3)), 0), Sample(make((3, 4), 'int64', -3, 3), 1), Sample(ties, 1, grad=False)]


_cummax.samples = _cummin.samples = _cum_extreme_samples


# ----------------------------------------------------------------------------- logcumsumexp

@defop('logcumsumexp', save='both')
def _logcumsumexp(xp, a, dim):
    if a.ndim == 0:
        return a.copy()
    return xp.logaddexp.accumulate(a, axis=dim)


@_logcumsumexp.derivative
def _(F, ctx, grad):
    x, = ctx.inputs
    dim = ctx.params['dim']
    if x.ndim == 0:
        return grad
    if not F.is_tensor_mode():
        return F.logcumsumexp_grad(x, ctx.output, grad, dim=dim)
    # grad_k = sum_{i >= k} g_i exp(x_k - y_i); masking the exponent keeps i < k from overflowing
    flat, n, back = _to_last_axis(F, x, (dim,))
    yflat, _, _ = _to_last_axis(F, ctx.output, (dim,))
    gflat, _, _ = _to_last_axis(F, grad, (dim,))
    upper = F.const(flat, np.triu(np.ones((n, n), dtype=F.dtype_of(flat).np)))
    last = flat.ndim
    gap = F.sub(F.unsqueeze(flat, dim=last), F.unsqueeze(yflat, dim=last - 1))
    weights = F.mul(F.exp(F.mul(gap, upper)), upper)
    return back(F.sum(F.mul(weights, F.unsqueeze(gflat, dim=last - 1)), dim=(last,), keepdim=False,
                      dtype=F.dtype_of(flat)))


@defop('logcumsumexp_grad', public=None, gradcheck=False)
def _logcumsumexp_grad(xp, x, y, g, dim):
    """sum over i >= k of g_i exp(x_k - y_i), in log space (positive and negative parts of g apart)."""
    def reverse_scan(v):
        return xp.flip(xp.logaddexp.accumulate(xp.flip(v, dim), axis=dim), dim)
    with np.errstate(divide='ignore', invalid='ignore'):
        pos = xp.log(xp.where(g > 0, g, 0)) - y
        neg = xp.log(xp.where(g < 0, -g, 0)) - y
        out = xp.exp(x + reverse_scan(pos)) - xp.exp(x + reverse_scan(neg))
    return out.astype(x.dtype, copy=False)


def logcumsumexp(input, dim, *, out=None):
    """``log(cumsum(exp(input)))`` along ``dim``, computed stably."""
    params = {'dim': _scan_dim(input, dim)}
    return apply(_logcumsumexp, (input,), params) if out is None else apply_out(_logcumsumexp, (input,), params, out)


_logcumsumexp.samples = lambda make: [
    Sample(make((3, 4)), 1), Sample(make((2, 3, 4)), 0), Sample(make((3, 4)) * 40, -1), Sample(make(()), 0),
    Sample(make((0, 3)), 0), Sample(np.array([[-np.inf, 1., -np.inf, 2.]], dtype=np.float32), 1, grad=False)]


# ----------------------------------------------------------------------------- diff / trapezoid

@defop('diff', dtypes='all')
def _diff(xp, a, dim):
    return xp.diff(a, axis=dim)


@_diff.derivative
def _(F, ctx, grad):
    return F.diff_adjoint(grad, dim=ctx.params['dim'])


@defop('diff_adjoint', public=None)
def _diff_adjoint(xp, g, dim):
    """The transpose of ``diff``: ``out[j] = g[j-1] - g[j]`` with zeros past either end."""
    width = [(0, 0)] * g.ndim
    width[dim] = (1, 0)
    before = xp.pad(g, width)
    width[dim] = (0, 1)
    return before - xp.pad(g, width)


@_diff_adjoint.derivative
def _(F, ctx, grad):
    return F.diff(grad, dim=ctx.params['dim'])


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The ``n``-th forward difference along ``dim`` (after adding ``prepend`` / ``append``)."""
    if input._data.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    dim = wrap_dim(int(dim), input._data.ndim)
    if prepend is not None or append is not None:
        import ember
        parts = [t if t._data.ndim else t.expand(*input.shape[:dim], 1, *input.shape[dim + 1:])
                 for t in (prepend, input, append) if t is not None]
        input = ember.cat(parts, dim)
    for _ in range(n):
        if input._data.shape[dim] == 0:
            break
        input = apply(_diff, (input,), {'dim': dim})
    return input


_diff.samples = lambda make: [
    Sample(make((3, 5))), Sample(make((3, 5)), 2, 0), Sample(make((2, 3, 4)), dim=1), Sample(make((3, 5)), 3, -1),
    Sample(make((0, 3)), dim=0), Sample(make((2, 3)), 4), Sample(make((3, 4), 'int64', -3, 3)),
    Sample(make((3, 4)) > 0, dim=0)]
_diff.error_samples = lambda make: [ErrorSample(make(()), error=RuntimeError, match='at least one-dimensional'),
                                    ErrorSample(make((2, 3)), 1, 2, error=IndexError, match='Dimension out of range')]


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """Integral of ``y`` along ``dim`` by the trapezoidal rule (spacing ``dx``, or sample points ``x``)."""
    import ember
    dim = wrap_dim(int(dim), y._data.ndim)
    n = y._data.shape[dim]
    if n == 0:
        shape = y.shape[:dim] + y.shape[dim + 1:]
        return ember.zeros(shape, dtype=y.dtype if y.is_floating_point() else ember.get_default_dtype())
    left, right = ember.narrow(y, dim, 0, n - 1), ember.narrow(y, dim, 1, n - 1)
    if x is None:
        return ember.sum(left + right, dim) * ((1.0 if dx is None else dx) / 2)
    if x._data.ndim == 1 and y._data.ndim > 1:
        x = x.reshape(*[-1 if d == dim else 1 for d in range(y._data.ndim)])
    spacing = diff(x, dim=dim if x._data.ndim > 1 else -1 if y._data.ndim == 1 else dim)
    return ember.sum(spacing * (left + right), dim) / 2


composite('trapezoid', samples=lambda make: [
    Sample(make((3, 5))), Sample(make((3, 5)), dx=0.5), Sample(make((2, 3, 4)), dim=1),
    Sample(make((3, 5)), make((5,))), Sample(make((3, 5)), make((3, 5)), dim=0), Sample(make((0, 3)), dim=0)])

TENSOR_METHODS = ['cumsum', 'cumprod', 'cummax', 'cummin', 'logcumsumexp', 'diff']
