"""Statistical reductions: var/std, logsumexp, softmax/log_softmax, norms.

softmax and log_softmax are fused kernels with their own rules (one pass of
exp and one reduction forward; one multiply-reduce backward), not compositions.
"""
import math

import numpy as np

from ember import _dtype
from ember.ops._dispatch import apply, apply_out
from ember.ops._registry import Sample, ErrorSample, composite, defop
from ember.ops._util import wrap_dim
from ember.ops.reduction import _out, expand_reduced, reduce_dims


def _count(shape, dims):
    n = 1
    for d in dims:
        n *= shape[d]
    return n


def _require_float(name, input):
    if input._dtype.category < _dtype.FLOAT:
        raise RuntimeError(f"{name} only support floating point and complex dtypes")


# ----------------------------------------------------------------------------- var / std

def _var_kernel(xp, a, dim, correction, keepdim):
    n = _count(a.shape, dim)
    dof = n - correction
    mean = xp.mean(a, axis=dim, keepdims=True) if n else xp.zeros((1,) * a.ndim, a.dtype)
    centered = a - mean
    sq = (centered * centered.conj()).real if a.dtype.kind == 'c' else centered * centered
    total = xp.sum(sq, axis=dim, keepdims=keepdim)
    with np.errstate(divide='ignore', invalid='ignore'):
        return (total / max(dof, 0)).astype(total.dtype, copy=False)


_var = defop('var', save='inputs', grad_name='VarBackward0')(_var_kernel)


@_var.derivative
def _(F, ctx, grad):
    p = ctx.params
    x, = ctx.inputs
    shape = ctx.input_meta[0][0]
    dof = _count(shape, p['dim']) - p['correction']
    centered = F.sub(x, F.mean(x, dim=p['dim'], keepdim=True, dtype=F.dtype_of(x)))
    g = expand_reduced(F, grad, shape, p['dim'], p['keepdim'])
    return F.mul(g, F.mul(centered, 2.0 / dof if dof > 0 else math.inf))


@defop('std', save='both', multi_output=True, grad_name='StdBackward0')
def _std(xp, a, dim, correction, keepdim):
    out = xp.sqrt(_var_kernel(xp, a, dim, correction, keepdim))
    return out, out == 0


@_std.derivative
def _(F, ctx, grad):
    # d std = (x - mean) / (dof * std); where std == 0 every x equals the mean and torch gives 0, not 0/0.
    p = ctx.params
    x, = ctx.inputs
    std, zero = ctx.output
    shape = ctx.input_meta[0][0]
    dof = _count(shape, p['dim']) - p['correction']
    centered = F.sub(x, F.mean(x, dim=p['dim'], keepdim=True, dtype=F.dtype_of(x)))
    safe = F.add(std, F.to_dtype(zero, dtype=F.dtype_of(std)))
    scaled = F.div(grad[0], F.mul(safe, float(dof) if dof > 0 else math.nan))
    return F.mul(expand_reduced(F, scaled, shape, p['dim'], p['keepdim']), centered)


def _var_args(name, input, dim, unbiased, keepdim, correction):
    if isinstance(dim, bool):  # the old var(input, unbiased) form
        dim, unbiased = None, dim
    _require_float('std and var', input)
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    elif unbiased is not None:
        raise RuntimeError(f"{name}: can't specify both unbiased and correction")
    dims = reduce_dims(input, dim)
    return {'dim': dims, 'correction': correction, 'keepdim': keepdim}


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Variance over ``dim`` with Bessel's ``correction`` (1 by default; ``unbiased=False`` means 0)."""
    params = _var_args('var', input, dim, unbiased, keepdim, correction)
    return apply(_var, (input,), params) if out is None else apply_out(_var, (input,), params, out)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    """Standard deviation over ``dim`` with Bessel's ``correction`` (1 by default)."""
    params = _var_args('std', input, dim, unbiased, keepdim, correction)
    result = apply(_std, (input,), params)[0]
    return result if out is None else _out(result, out)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) over ``dim``."""
    from ember.ops.reduction import mean
    params = _var_args('var_mean', input, dim, unbiased, keepdim, correction)
    return apply(_var, (input,), params), mean(input, params['dim'] or None, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) over ``dim``."""
    from ember.ops.reduction import mean
    params = _var_args('std_mean', input, dim, unbiased, keepdim, correction)
    return apply(_std, (input,), params)[0], mean(input, params['dim'] or None, keepdim)


def _var_samples(make):
    const = np.ones((2, 3), dtype=np.float32)
    return [Sample(make((3, 4))), Sample(make((3, 4)), 1), Sample(make((2, 3, 4)), (0, 2), keepdim=True),
            Sample(make((3, 4)), -1, False, True), Sample(make((3, 4)), 1, correction=0),
            Sample(make((3, 4)), dim=0, correction=2), Sample(make((3, 4)), False), Sample(make((5,)), unbiased=False),
            Sample(const, 1, grad=False), Sample(make((0, 3)), 1)]


_var.samples = _std.samples = _var_samples
_std.public = 'std'
composite('var_mean', samples=lambda make: _var_samples(make)[:6])
composite('std_mean', samples=lambda make: _var_samples(make)[:6])
_var.error_samples = _std.error_samples = lambda make: [
    ErrorSample(make((2, 3)), 2, error=IndexError, match='Dimension out of range'),
    ErrorSample(make((2, 3), 'int64'), error=RuntimeError, match='std and var only support floating point')]


# ----------------------------------------------------------------------------- logsumexp

@defop('logsumexp', save='both', promote='float')
def _logsumexp(xp, a, dim, keepdim):
    if a.size == 0:
        return xp.log(xp.sum(xp.exp(a), axis=dim, keepdims=keepdim))
    m = xp.max(a, axis=dim, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)  # all -inf (or an inf): shift by 0 so no inf - inf appears
    out = xp.log(xp.sum(xp.exp(a - m), axis=dim, keepdims=True)) + m
    return out if keepdim else xp.squeeze(out, axis=dim)


@_logsumexp.derivative
def _(F, ctx, grad):
    p = ctx.params
    x, = ctx.inputs
    shape = ctx.input_meta[0][0]
    out = expand_reduced(F, ctx.output, shape, p['dim'], p['keepdim'])
    return F.mul(expand_reduced(F, grad, shape, p['dim'], p['keepdim']), F.exp(F.sub(x, out)))


def logsumexp(input, dim, keepdim=False, *, out=None):
    """``log(sum(exp(input)))`` over ``dim``, computed without overflow."""
    params = {'dim': reduce_dims(input, dim), 'keepdim': keepdim}
    return apply(_logsumexp, (input,), params) if out is None else apply_out(_logsumexp, (input,), params, out)


_logsumexp.samples = lambda make: [
    Sample(make((3, 4)), 1), Sample(make((2, 3, 4)), (0, 2), True), Sample(make((3, 4)), -1, keepdim=True),
    Sample(make((3, 4)) * 100, 0), Sample(make(()), 0), Sample(make((0, 3)), 0), Sample(make((3, 4), 'int64'), 1),
    Sample(np.array([[-np.inf, -np.inf], [1.0, -np.inf]], dtype=np.float32), 1, grad=False)]
_logsumexp.error_samples = lambda make: [ErrorSample(make((2, 3)), 2, error=IndexError,
                                                     match='Dimension out of range')]


# ----------------------------------------------------------------------------- softmax / log_softmax

def _check_softmax_dtype(name, input, dtype):
    if dtype is None and input._dtype.category < _dtype.FLOAT:
        kernel = 'softmax' if name == 'softmax' else 'log_softmax'
        raise RuntimeError(f'"{kernel}_lastdim_kernel_impl" not implemented for '
                           f"'{input._dtype.legacy_name.replace('Tensor', '')}'")


@defop('softmax', save='output', grad_name='SoftmaxBackward0')
def _softmax(xp, a, dim, dtype):
    a = a.astype(dtype.np, copy=False)
    if a.size == 0 or a.ndim == 0:
        return xp.exp(a - a)
    # one temporary, reused in place: subtract the max, exp, scale by 1/sum
    e = xp.subtract(a, xp.max(a, axis=dim, keepdims=True))
    xp.exp(e, out=e)
    scale = xp.sum(e, axis=dim, keepdims=True)
    xp.reciprocal(scale, out=scale)
    e *= scale
    return e


@_softmax.derivative
def _(F, ctx, grad):
    y = ctx.output
    d = ctx.params['dim']
    dims = (d,) if y.ndim else ()
    inner = F.sum(F.mul(grad, y), dim=dims, keepdim=True, dtype=F.dtype_of(y))
    return F.mul(y, F.sub(grad, inner))


@defop('log_softmax', save='output', grad_name='LogSoftmaxBackward0')
def _log_softmax(xp, a, dim, dtype):
    a = a.astype(dtype.np, copy=False)
    if a.size == 0 or a.ndim == 0:
        return a - a
    shifted = xp.subtract(a, xp.max(a, axis=dim, keepdims=True))
    shifted -= xp.log(xp.sum(xp.exp(shifted), axis=dim, keepdims=True))
    return shifted


@_log_softmax.derivative
def _(F, ctx, grad):
    y = ctx.output
    d = ctx.params['dim']
    dims = (d,) if y.ndim else ()
    total = F.sum(grad, dim=dims, keepdim=True, dtype=F.dtype_of(y))
    return F.sub(grad, F.mul(F.exp(y), total))


def softmax(input, dim, dtype=None, *, _stacklevel=None):
    """``exp(input) / sum(exp(input))`` along ``dim``."""
    _check_softmax_dtype('softmax', input, dtype)
    params = {'dim': wrap_dim(int(dim), input._data.ndim), 'dtype': dtype or input._dtype}
    return apply(_softmax, (input,), params)


def log_softmax(input, dim, dtype=None, *, _stacklevel=None):
    """``log(softmax(input))`` along ``dim``, computed stably."""
    _check_softmax_dtype('log_softmax', input, dtype)
    params = {'dim': wrap_dim(int(dim), input._data.ndim), 'dtype': dtype or input._dtype}
    return apply(_log_softmax, (input,), params)


def _softmax_samples(make):
    return [Sample(make((3, 4)), 1), Sample(make((2, 3, 4)), 0), Sample(make((3, 4)), -1),
            Sample(make((3, 4)) * 50, 1), Sample(make(()), 0), Sample(make((0, 3)), 1), Sample(make((0, 3)), 0),
            Sample(make((3, 4)), 1, dtype=_dtype.float64), Sample(make((3, 4), 'int64'), 1, dtype=_dtype.float32)]


_softmax.samples = _log_softmax.samples = _softmax_samples
_softmax.error_samples = lambda make: [
    ErrorSample(make((2, 3)), 2, error=IndexError, match='Dimension out of range'),
    ErrorSample(make((2, 3), 'int64'), 1, error=RuntimeError, match='not implemented for')]


# ----------------------------------------------------------------------------- vector_norm / norm

@defop('vector_norm', multi_output=True, save='both', nondiff_outputs=(1,), grad_name='LinalgVectorNormBackward0',
       public='linalg.vector_norm')
def _vector_norm(xp, a, ord, dim, keepdim, dtype):
    a = a.astype(dtype.np, copy=False)
    m = xp.abs(a)
    real = m.dtype
    if ord == math.inf or ord == -math.inf:
        out = (xp.max if ord > 0 else xp.min)(m, axis=dim, keepdims=keepdim)
    elif ord == 0:
        out = xp.sum(m != 0, axis=dim, keepdims=keepdim, dtype=real)
    elif ord == 1:
        out = xp.sum(m, axis=dim, keepdims=keepdim)
    elif ord == 2:
        out = xp.sqrt(xp.sum(m * m, axis=dim, keepdims=keepdim))
    else:
        with np.errstate(divide='ignore'):
            out = xp.sum(m ** real.type(ord), axis=dim, keepdims=keepdim) ** real.type(1.0 / ord)
    return out, (out == 0).astype(real)


@_vector_norm.derivative
def _(F, ctx, grad):
    p = ctx.params
    x, = ctx.inputs
    norm, aux = ctx.output
    ord = p['ord']
    shape = ctx.input_meta[0][0]
    x = F.to_dtype(x, dtype=p['dtype']) if ctx.input_meta[0][1] is not p['dtype'] else x
    g = grad[0]
    if ord == 0:
        return F.mul(x, 0.0)
    if ord == math.inf or ord == -math.inf:
        ties = F.tie_weights(F.abs(x), expand_reduced(F, norm, shape, p['dim'], p['keepdim']), dims=p['dim'])
        return F.mul(F.mul(expand_reduced(F, g, shape, p['dim'], p['keepdim']), F.sign(x)), ties)
    if ord == 1:
        return F.mul(expand_reduced(F, g, shape, p['dim'], p['keepdim']), F.sign(x))
    # where the norm is 0, every x is 0 and torch's gradient is 0: add 1 to the denominator there.
    if ord == 2:
        scale = F.div(g, F.add(norm, aux))
        return F.mul(expand_reduced(F, scale, shape, p['dim'], p['keepdim']), x)
    scale = F.div(g, F.add(F.pow(norm, ord - 1), aux))
    if ord < 2:
        direction = F.mul(F.sign(x), F.pow(F.abs(x), ord - 1))
    else:
        direction = F.mul(x, F.pow(F.abs(x), ord - 2))
    return F.mul(expand_reduced(F, scale, shape, p['dim'], p['keepdim']), direction)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """The ``ord``-norm of ``x`` seen as a vector (over ``dim``, or all elements)."""
    if x._dtype.category < _dtype.FLOAT:
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{x._dtype.legacy_name.replace('Tensor', '')}")
    ord = float(ord)
    dims = reduce_dims(x, dim)
    if ord < 0 or math.isinf(ord):
        if dim is None and x._data.size == 0:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {_ord_name(ord)} norm on an empty tensor "
                               "because the operation does not have an identity")
        for d in dims:
            if x._data.shape[d] == 0:
                raise RuntimeError(f"linalg.vector_norm cannot compute the {_ord_name(ord)} norm on the dimension "
                                   f"{d}because this dimension is empty and the operation does not have an identity")
    params = {'ord': ord, 'dim': dims, 'keepdim': keepdim, 'dtype': dtype or x._dtype}
    result = apply(_vector_norm, (x,), params)[0]
    return result if out is None else _out(result, out)


def _ord_name(ord):
    return ('-' if ord < 0 else '') + 'inf' if math.isinf(ord) else repr(ord)


_vector_norm.samples = lambda make: [
    Sample(make((3, 4))), Sample(make((3, 4)), 1), Sample(make((2, 3, 4)), 2, (0, 2), True),
    Sample(make((3, 4)), math.inf, 1), Sample(make((3, 4)), -math.inf), Sample(make((3, 4)), 1, -1),
    Sample(make((3, 4)), 3, 1), Sample(make((3, 4), low=0.3), 0.5, 0), Sample(make((3, 4)), 0, 1, grad=False),
    Sample(make((3, 4)), 1.5), Sample(np.zeros((2, 3), np.float32), 2, 1), Sample(make(())),
    Sample(make((0, 3))), Sample(make((3, 4)), dtype=_dtype.float64)]
_vector_norm.error_samples = lambda make: [
    ErrorSample(make((2, 3), 'int64'), error=RuntimeError, match='Expected a floating point or complex tensor'),
    ErrorSample(make((0, 3)), math.inf, error=RuntimeError, match='cannot compute the inf norm on an empty tensor'),
    ErrorSample(make((2, 3)), 2, 2, error=IndexError, match='Dimension out of range')]


def norm(input, p='fro', dim=None, keepdim=False, out=None, dtype=None):
    """``torch.norm``: Frobenius ('fro'), nuclear ('nuc') or ``p``-norm over ``dim``."""
    if isinstance(dim, int):
        dim = (dim,)
    if p == 'nuc':
        import ember
        result = ember.linalg.matrix_norm(input, 'nuc', dim if dim is not None else (-2, -1), keepdim, dtype=dtype)
        return result if out is None else _out(result, out)
    if p == 'fro' or p is None:
        if dim is not None and len(dim) > 2:
            raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(str(d) for d in dim)}")
        p = 2
    return vector_norm(input, p, dim, keepdim, dtype=dtype, out=out)


composite('norm', samples=lambda make: [
    Sample(make((3, 4))), Sample(make((3, 4)), 'fro', 1), Sample(make((2, 3, 4)), 2, (0, 2), True),
    Sample(make((3, 4)), math.inf, 1), Sample(make((3, 4)), 1), Sample(make((3, 4)), 3, dim=0),
    Sample(make((3, 4)), p='fro', dim=(0, 1)), Sample(make(()))])

TENSOR_METHODS = ['var', 'std', 'logsumexp', 'softmax', 'log_softmax', 'norm']
