"""Activation functions and the error function family (erf, erfc, erfinv).

Each activation is one op with its own rule (one graph node), the rule built
from table ops so that it can be differentiated again.  Functions carry the
signatures of ``torch.nn.functional`` (``inplace=`` included).

erf/erfc are evaluated with NumPy only: piecewise Chebyshev expansions of
``erf(x)/x`` (|x| < 1) and of ``sqrt(pi) * x * exp(x**2) * erfc(x)`` in ``1/x``
(1 <= x < 8),
then the asymptotic series (x >= 8).  The expansions were computed once in
high precision (see the coefficient tables); erf and erfc are accurate to a few
float64 ulps.  ``exp(-x**2)`` is split as ``exp(-xh**2) * exp(-(x-xh)(x+xh))``
with a short ``xh`` so that rounding ``x**2`` does not cost accuracy for large x.
erfinv starts from Winitzki's closed form and refines with Halley steps.
"""
import math

import numpy as np

from ember._tensor import Tensor
from ember.ops._dispatch import apply, apply_inplace, apply_out
from ember.ops._registry import Sample, ErrorSample, composite, defop
from ember.ops.pointwise_math import check_tensor, quiet, unary_op

_EMPTY = {}
_SQRT_PI = math.sqrt(math.pi)
_TWO_OVER_SQRT_PI = 2 / _SQRT_PI
_SQRT1_2 = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


# ----------------------------------------------------------------------------- erf numerics

# Chebyshev coefficients, computed once by interpolation at 40 first-kind nodes with 50-digit arithmetic
# (mpmath) and cut where they fall below 1e-18:
#   _SMALL_COEFFS: erf(x)/x as a function of u = x*x on [0, 1]
#   _MID_COEFFS, _FAR_COEFFS: sqrt(pi) * x * exp(x*x) * erfc(x) as a function of t = 1/x on [1/3, 1], [1/8, 1/3]
_SMALL_COEFFS = (
    0.9754769393826541, -0.14226120510371365, 0.010035582187599796, -0.0005768764699767485, 2.741993125219606e-05,
    -1.1043175507344507e-06, 3.8488755420345036e-08, -1.1808582533875466e-09, 3.2334215826050907e-11,
    -7.991015947004549e-13, 1.7990725113961456e-14, -3.718635487818693e-16, 7.103599003714253e-18,)
_MID_COEFFS = (
    0.8551089990706034, -0.09807520798156037, -7.439279454722501e-05, 0.0010850584944575457,
    -0.00019109614219352407, 1.9591542891666517e-05, -5.922332765922281e-07, -2.7023471473666234e-07,
    7.826817420612567e-08, -1.3286933266795526e-08, 1.5187356596382218e-09, -6.401763470714633e-11,
    -2.3115202534299373e-11, 8.30344208164561e-12, -1.735164328632092e-12, 2.6680056033348554e-13,
    -2.774352406493938e-14, 2.524261882357841e-16, 7.890746880848943e-16, -2.543919289699269e-16,
    5.4873468763702664e-17, -9.18207437090687e-18, 1.137060081264914e-18,)
_FAR_COEFFS = (
    0.9738336519463368, -0.02038283337594581, -0.0017451006089477723, 0.00010828265986780438,
    2.4993842066674094e-07, -4.393664898345879e-07, 2.7865526486328533e-08, 3.035132139627877e-10,
    -1.9329792059057517e-10, 1.507564333155534e-11, -3.2021251741776e-14, -1.1388289382674806e-13,
    1.2379347812891313e-14, -3.8466221164132044e-16, -6.920563763631726e-17, 1.2103813234933515e-17,)


def _trim(coeffs, tol):
    """The coefficients needed for relative accuracy ``tol`` (for float32 and below)."""
    keep = len(coeffs)
    while keep > 2 and abs(coeffs[keep - 1]) < tol:
        keep -= 1
    return coeffs[:keep]


def _asymptotic_terms(n):
    terms, c = [], 1.0
    for k in range(n):
        terms.append(c)
        c *= -(2 * k + 1) / 2
    return tuple(terms)


# (coefficients, lo, hi) of each piece
_SMALL = (_SMALL_COEFFS, 0.0, 1.0)       # |x| < 1
_MID = (_MID_COEFFS, 1 / 3, 1.0)          # 1 <= x < 3
_FAR = (_FAR_COEFFS, 1 / 8, 1 / 3)        # 3 <= x < 8
_ASYM = _asymptotic_terms(21)             # x >= 8, in u = 1/x^2 (u <= 1/64)
_PIECES = {8: (_SMALL, _MID, _FAR, _ASYM)}
_PIECES[4] = tuple((_trim(c, 1e-10), lo, hi) for c, lo, hi in _PIECES[8][:3]) + (_ASYM[:8],)


def _clenshaw(xp, x, piece):
    """Sum of the Chebyshev series ``piece`` at ``x`` (mapped from [lo, hi] to [-1, 1]), in place where it can."""
    coeffs, lo, hi = piece
    t = x * (2 / (hi - lo))
    t -= (lo + hi) / (hi - lo)
    t2 = t + t
    b1, b2, tmp = xp.full_like(t, coeffs[-1]), xp.zeros_like(t), xp.empty_like(t)
    for c in coeffs[-2:0:-1]:
        xp.multiply(t2, b1, out=tmp)
        tmp -= b2
        tmp += c
        b2, b1, tmp = b1, tmp, b2
    xp.multiply(t, b1, out=tmp)
    tmp -= b2
    tmp += coeffs[0]
    return tmp


def _horner(u, coeffs):
    acc = coeffs[-1]
    for c in coeffs[-2::-1]:
        acc = acc * u + c
    return acc


def _erf_small(xp, x, pieces):
    return x * _clenshaw(xp, x * x, pieces[0])


def _erfc_large(xp, x, pieces):
    """erfc(x) for x >= 1 (NaN stays NaN)."""
    t = 1 / x
    h = xp.empty_like(x)
    mid = x < 3
    far = (x >= 3) & (x < 8)
    rest = ~(mid | far)
    if mid.any():
        h[mid] = _clenshaw(xp, t[mid], pieces[1])
    if far.any():
        h[far] = _clenshaw(xp, t[far], pieces[2])
    if rest.any():
        tr = t[rest]
        h[rest] = _horner(tr * tr, pieces[3])
    xs = xp.minimum(x, 28.0)   # erfc underflows to 0 well before 28
    xh = xp.floor(xs * 256) / 256
    return xp.exp(-(xh * xh)) * xp.exp(-((xs - xh) * (xs + xh))) * (h * t) * (1 / _SQRT_PI)


def _working(a):
    if a.dtype.itemsize < 4:   # float16 / bfloat16: compute in float32
        return a.astype(np.float32), _PIECES[4]
    return a, _PIECES[a.dtype.itemsize]


# float32 (and float16/bfloat16, computed in float32): two branch-free polynomials, accurate to about
# 2 float32 ulps; both are evaluated everywhere and np.where picks (no boolean-mask gathers).
#   |x| < 1:  erf(x) = x * P(s), s = 2 x^2 - 1: the first 7 terms of _SMALL_COEFFS in monomial form
#   |x| >= 1: erfc(x) = exp(-x^2) / (sqrt(pi) x) * Q(s), s mapping t = 1/x from [1/4, 1] to [-1, 1];
#             Q interpolates the float64 evaluation at 10 Chebyshev nodes (error < 1e-9); above 4,
#             erf is 1 in float32, so x is clamped there.
_F32_LARGE_LO = 0.25


def _f32_tables():
    cheb = np.polynomial.chebyshev
    small = cheb.cheb2poly(np.array(_SMALL_COEFFS[:7]))
    lo, hi = _F32_LARGE_LO, 1.0

    def h(s):  # sqrt(pi) * x * exp(x^2) * erfc(x) at t = 1/x, in float64
        x = 1 / ((s + 1) / 2 * (hi - lo) + lo)
        return _SQRT_PI * x * np.exp(x * x) * _erfc_large(np, x, _PIECES[8])
    large = cheb.cheb2poly(cheb.chebinterpolate(h, 9))
    return tuple(np.float32(c) for c in small), tuple(np.float32(c) for c in large)


def _horner_(xp, s, coeffs, out):
    """sum(coeffs[k] * s**k), written into ``out``."""
    acc = xp.multiply(s, coeffs[-1], out=out)
    acc += coeffs[-2]
    for c in coeffs[-3::-1]:
        acc *= s
        acc += c
    return acc


def _erf_f32(xp, x):
    # in place in a few buffers: fresh large arrays cost more than the arithmetic
    if x.ndim == 0:  # (NumPy makes scalars of 0-d results, which cannot be written in place)
        return _erf_f32(xp, x.reshape(1)).reshape(())
    small_c, large_c = _F32_TABLES
    f32 = np.float32
    a = xp.clip(x, f32(-1), f32(1))
    b = xp.multiply(a, a)
    b *= f32(2)
    b -= f32(1)
    small = _horner_(xp, b, small_c, xp.empty_like(a))
    small *= a
    xc = xp.abs(x, out=a)
    xp.clip(xc, f32(1), f32(4), out=xc)
    t = xp.reciprocal(xc, out=b)
    s = xp.multiply(t, f32(2 / (1 - _F32_LARGE_LO)))
    s -= f32((1 + _F32_LARGE_LO) / (1 - _F32_LARGE_LO))
    large = _horner_(xp, s, large_c, xp.empty_like(s))
    large *= t
    xc *= xc
    xp.negative(xc, out=xc)
    xp.exp(xc, out=xc)
    large *= xc
    large *= f32(-1 / _SQRT_PI)
    large += f32(1)
    xp.copysign(large, x, out=large)
    # select with exact arithmetic: small * m + large * (1 - m), m = 1.0 where |x| < 1 (NaN stays NaN)
    m = xp.abs(x, out=s)
    xp.less(m, f32(1), out=m)
    small *= m
    large *= xp.subtract(f32(1), m, out=b)
    large += small
    return large


@quiet
def erf_kernel(xp, a):
    """erf of a float array, with NumPy/CuPy operations only."""
    if a.dtype.itemsize <= 4 and a.dtype.kind == 'f':
        x = a if a.dtype == np.float32 else a.astype(np.float32)
        return _erf_f32(xp, x).astype(a.dtype, copy=False)
    x, pieces = _working(a)
    ax = xp.abs(x)
    small = ax < 1
    if small.all():
        return _erf_small(xp, x, pieces).astype(a.dtype, copy=False)
    out = xp.empty_like(x)
    out[small] = _erf_small(xp, x[small], pieces)
    big = ~small
    xb = x[big]
    out[big] = xp.sign(xb) * (1 - _erfc_large(xp, xp.abs(xb), pieces))
    return out.astype(a.dtype, copy=False)


@quiet
def erfc_kernel(xp, a):
    """erfc of a float array, with NumPy/CuPy operations only."""
    x, pieces = _working(a)
    out = xp.empty_like(x)
    small = xp.abs(x) < 1
    neg = x <= -1
    pos = ~(small | neg)
    if small.any():
        out[small] = 1 - _erf_small(xp, x[small], pieces)
    if neg.any():
        out[neg] = 2 - _erfc_large(xp, -x[neg], pieces)
    if pos.any():
        out[pos] = _erfc_large(xp, x[pos], pieces)
    return out.astype(a.dtype, copy=False)


@quiet
def erfinv_kernel(xp, a):
    """Inverse error function: Winitzki's approximation refined by Halley steps (in float64)."""
    x = a.astype(xp.float64)
    ax = xp.abs(x)
    w = xp.log((1 - ax) * (1 + ax))
    k = 2 / (math.pi * 0.147) + w / 2
    y = xp.sqrt(xp.sqrt(k * k - w / 0.147) - k)
    y = xp.where(xp.isfinite(y), y, 0.0)
    upper = ax >= 0.5
    for _ in range(3):
        # the residual erf(y) - |x|, through erfc where |x| is near 1 to keep its digits
        r = xp.where(upper, (1 - ax) - erfc_kernel(xp, y), erf_kernel(xp, y) - ax)
        d = _TWO_OVER_SQRT_PI * xp.exp(-(y * y))
        y = y - r / (d + y * r)
    y = xp.where(ax == 1, xp.inf, xp.where(ax > 1, xp.nan, y))
    return (xp.sign(x) * y).astype(a.dtype, copy=False)


_F32_TABLES = _f32_tables()


# ----------------------------------------------------------------------------- erf / erfc / erfinv ops

def _erf_rule(F, ctx, g):
    a = ctx.inputs[0]
    return g * (F.exp(F.neg(a * a)) * _TWO_OVER_SQRT_PI)


def _erfc_rule(F, ctx, g):
    a = ctx.inputs[0]
    return g * (F.exp(F.neg(a * a)) * -_TWO_OVER_SQRT_PI)


def _erfinv_rule(F, ctx, g):
    out = ctx.output
    return g * (F.exp(out * out) * (_SQRT_PI / 2))


_erf, erf, erf_ = unary_op('erf', erf_kernel, _erf_rule, module=__name__, low=-3, high=3,
                           doc="The error function ``2/sqrt(pi) * integral_0^x exp(-t^2) dt``.")
_erfc, erfc, erfc_ = unary_op('erfc', erfc_kernel, _erfc_rule, module=__name__, low=-3, high=3,
                              doc="The complementary error function ``1 - erf(x)``.")
_erfinv, erfinv, erfinv_ = unary_op('erfinv', erfinv_kernel, _erfinv_rule, module=__name__, save='output',
                                    low=-0.95, high=0.95, doc="The inverse of :func:`erf` on (-1, 1).")


# ----------------------------------------------------------------------------- sigmoid / logit

def _sigmoid_kernel(xp, a):
    out = xp.negative(a, out=xp.empty_like(a))   # one buffer, reused in place: 1 / (1 + exp(-a))
    xp.exp(out, out=out)
    out += 1
    return xp.reciprocal(out, out=out)


def _sigmoid_rule(F, ctx, g):
    out = ctx.output
    return g * F.conj(out * (1 - out))


_sigmoid, sigmoid, sigmoid_ = unary_op('sigmoid', _sigmoid_kernel, _sigmoid_rule, module=__name__, save='output',
                                       low=-4, high=4, complex_sample=True, warns=True,
                                       doc="The logistic function ``1 / (1 + exp(-x))``.")


@defop('logit', promote='float', save='inputs')
@quiet
def _logit(xp, a, eps):
    if eps is not None:
        a = xp.clip(a, eps, 1 - eps)
    return xp.log(a / (1 - a))


@_logit.derivative
def _(F, ctx, g):
    a = ctx.inputs[0]
    eps = ctx.params['eps']
    d = g / (a * (1 - a))
    if eps is None:
        return d
    return F.where(F.logical_or(F.lt(a, eps), F.gt(a, 1 - eps)), 0.0, d)


def logit(input, eps=None, *, out=None):
    """``log(p / (1 - p))``, with ``p`` clamped to ``[eps, 1 - eps]`` when ``eps`` is given."""
    check_tensor(input, 'logit')
    params = {'eps': eps}
    if out is not None:
        return apply_out(_logit, (input,), params, out)
    return apply(_logit, (input,), params)


def logit_(self, eps=None):
    """In-place version of :func:`logit`."""
    return apply_inplace(_logit, self, (), {'eps': eps})


_logit.samples = lambda make: [Sample(make((2, 3), low=0.1, high=0.9)), Sample(make((2, 3), low=0.1, high=0.9), 0.2),
                               Sample(make((), low=0.1, high=0.9)), Sample(make((0,))),
                               Sample(make((4,), low=-0.5, high=1.5), grad=False)]


# ----------------------------------------------------------------------------- activation ops

def _activation(name, kernel, rule, samples, *, save='inputs', promote='float', dtypes='float', torch_public=None,
                grad_name=None, warns=False):
    op = defop(name, promote=promote, save=save, dtypes=dtypes, grad_name=grad_name)(
        quiet(kernel) if warns else kernel)
    op.derivative(rule)
    op.samples = samples
    op.torch_public = torch_public
    if torch_public and torch_public.startswith('nn.functional.'):
        op.public = torch_public  # not a top-level name in PyTorch: tested through nn.functional
    return op


def _run(op, input, params, inplace):
    if not isinstance(input, Tensor):
        check_tensor(input, op.name)
    if inplace:
        return apply_inplace(op, input, (), params)
    return apply(op, (input,), params)


def _std_samples(low=-2.0, high=2.0, **kw):
    def samples(make):
        return [Sample(make((2, 3), low=low, high=high), **kw), Sample(make((), low=low, high=high), **kw),
                Sample(make((0, 2)), **kw), Sample(make((5,), 'float64', low=low, high=high), **kw)]
    return samples


# relu, threshold, hardtanh (relu6), leaky_relu

@defop('relu', save='output', dtypes='numeric')
def _relu(xp, a):
    return xp.maximum(a, 0).astype(a.dtype, copy=False)


@_relu.derivative
def _(F, ctx, g):
    return F.threshold_backward(g, ctx.output, threshold=0)


_SAME_SIZE_INT = {1: np.int8, 2: np.int16, 4: np.int32, 8: np.int64}


@defop('threshold_backward', save='inputs', public=None)
def _threshold_backward(xp, g, a, threshold):
    """``g`` where ``a > threshold``, else 0 (NaN and inf in ``g`` kept or zeroed exactly, as a select)."""
    keep = xp.greater(a, threshold)
    bits = _SAME_SIZE_INT.get(g.dtype.itemsize)
    if bits is None or g.dtype.kind not in 'fV' or g.ndim == 0 or keep.shape != g.shape:
        return xp.where(keep, g, xp.zeros((), dtype=g.dtype))
    # a bitwise AND with an all-ones/all-zeros mask is the same select as where(), in two cheap passes
    out = xp.negative(keep.view(xp.uint8), dtype=bits)
    xp.bitwise_and(out, g.view(bits), out=out)
    return out.view(g.dtype)


@_threshold_backward.derivative
def _(F, ctx, grad):
    return F.threshold_backward(grad, ctx.inputs[1], threshold=ctx.params['threshold']), None


_relu.samples = lambda make: [Sample(make((2, 3))), Sample(make(())), Sample(make((0, 2))),
                              Sample(make((5,), 'int64', low=-3, high=3), grad=False)]


def relu(input, inplace=False):
    """``max(input, 0)`` elementwise."""
    return _run(_relu, input, _EMPTY, inplace)


def relu_(input):
    """In-place :func:`relu`."""
    return _run(_relu, input, _EMPTY, True)


def _threshold_kernel(xp, a, threshold, value):
    return xp.where(a > threshold, a, value).astype(a.dtype, copy=False)


def _threshold_rule(F, ctx, g):
    return F.threshold_backward(g, ctx.inputs[0], threshold=ctx.params['threshold'])


_threshold = _activation('threshold', _threshold_kernel, _threshold_rule,
                         lambda make: [Sample(make((2, 3)), 0.5, -1.0), Sample(make(()), 0.1, 20.0),
                                       Sample(make((0,)), 0.0, 0.0),
                                       Sample(make((5,), 'int64', low=-3, high=3), 1, 7, grad=False)],
                         promote=None, dtypes='numeric')


def threshold(input, threshold, value, inplace=False):
    """``input`` where it exceeds ``threshold``, else ``value``."""
    return _run(_threshold, input, {'threshold': threshold, 'value': value}, inplace)


def threshold_(input, threshold, value):
    """In-place :func:`threshold`."""
    return _run(_threshold, input, {'threshold': threshold, 'value': value}, True)


def _hardtanh_kernel(xp, a, min_val, max_val):
    return xp.minimum(xp.maximum(a, min_val), max_val).astype(a.dtype, copy=False)


def _hardtanh_rule(F, ctx, g):
    a = ctx.inputs[0]
    p = ctx.params
    return F.where(F.logical_and(F.gt(a, p['min_val']), F.lt(a, p['max_val'])), g, 0.0)


_hardtanh = _activation('hardtanh', _hardtanh_kernel, _hardtanh_rule,
                        lambda make: [Sample(make((2, 3))), Sample(make((2, 3)), -0.5, 0.7), Sample(make(())),
                                      Sample(make((0,)))],
                        promote=None, torch_public='nn.functional.hardtanh')


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """``input`` clamped to ``[min_val, max_val]``."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _run(_hardtanh, input, {'min_val': min_val, 'max_val': max_val}, inplace)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """In-place :func:`hardtanh`."""
    return hardtanh(input, min_val, max_val, True)


def relu6(input, inplace=False):
    """``min(max(input, 0), 6)``."""
    return _run(_hardtanh, input, {'min_val': 0.0, 'max_val': 6.0}, inplace)


def _leaky_relu_kernel(xp, a, negative_slope):
    return xp.where(a > 0, a, a * negative_slope).astype(a.dtype, copy=False)


def _leaky_relu_rule(F, ctx, g):
    return F.where(F.gt(ctx.inputs[0], 0), g, g * ctx.params['negative_slope'])


_leaky_relu = _activation('leaky_relu', _leaky_relu_kernel, _leaky_relu_rule,
                          lambda make: [Sample(make((2, 3))), Sample(make((2, 3)), 0.2), Sample(make(())),
                                        Sample(make((0,)))],
                          promote=None, torch_public='nn.functional.leaky_relu')


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """``input`` for positive elements, ``negative_slope * input`` otherwise."""
    return _run(_leaky_relu, input, {'negative_slope': negative_slope}, inplace)


def leaky_relu_(input, negative_slope=0.01):
    """In-place :func:`leaky_relu`."""
    return _run(_leaky_relu, input, {'negative_slope': negative_slope}, True)


# elu family: scale * (x if x > 0 else alpha * (exp(x * input_scale) - 1))

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _elu_kernel(xp, a, alpha, scale, input_scale):
    neg = xp.expm1(xp.minimum(a, 0) * input_scale) * (alpha * scale)
    return xp.where(a > 0, a * scale, neg).astype(a.dtype, copy=False)


def _elu_rule(F, ctx, g):
    a = ctx.inputs[0]
    p = ctx.params
    neg = g * (F.exp(a * p['input_scale']) * (p['alpha'] * p['scale'] * p['input_scale']))
    return F.where(F.gt(a, 0), g * p['scale'], neg)


_elu = _activation('elu', _elu_kernel, _elu_rule,
                   lambda make: [Sample(make((2, 3))), Sample(make((2, 3)), 0.5), Sample(make(())), Sample(make((0,)))],
                   promote=None, torch_public='nn.functional.elu')


def elu(input, alpha=1.0, inplace=False):
    """``x`` for positive ``x``, ``alpha * (exp(x) - 1)`` otherwise."""
    return _run(_elu, input, {'alpha': alpha, 'scale': 1.0, 'input_scale': 1.0}, inplace)


def elu_(input, alpha=1.0):
    """In-place :func:`elu`."""
    return elu(input, alpha, True)


def selu(input, inplace=False):
    """Scaled ELU with the self-normalising constants."""
    return _run(_elu, input, {'alpha': _SELU_ALPHA, 'scale': _SELU_SCALE, 'input_scale': 1.0}, inplace)


def selu_(input):
    """In-place :func:`selu`."""
    return selu(input, True)


def celu(input, alpha=1.0, inplace=False):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _run(_elu, input, {'alpha': alpha, 'scale': 1.0, 'input_scale': 1.0 / alpha}, inplace)


def celu_(input, alpha=1.0):
    """In-place :func:`celu`."""
    return celu(input, alpha, True)


# gelu, silu, mish, softplus

_GELU_K = math.sqrt(2 / math.pi)
_GELU_C = 0.044715


def _gelu_kernel(xp, a, approximate):
    if approximate == 'tanh':
        return 0.5 * a * (1 + xp.tanh(_GELU_K * (a + _GELU_C * a * a * a)))
    return a * (0.5 * (1 + erf_kernel(xp, a * _SQRT1_2)))


def _gelu_rule(F, ctx, g):
    a = ctx.inputs[0]
    if ctx.params['approximate'] == 'tanh':
        a2 = a * a
        t = F.tanh((a + a2 * a * _GELU_C) * _GELU_K)
        d = (1 + t) * 0.5 + a * (1 - t * t) * ((1 + a2 * (3 * _GELU_C)) * (0.5 * _GELU_K))
        return g * d
    cdf = (F.erf(a * _SQRT1_2) + 1) * 0.5
    pdf = F.exp(a * a * -0.5) * _INV_SQRT_2PI
    return g * (cdf + a * pdf)


_gelu = _activation('gelu', _gelu_kernel, _gelu_rule,
                    lambda make: [Sample(make((2, 3), low=-3, high=3)), Sample(make((2, 3), low=-3, high=3),
                                                                              approximate='tanh'),
                                  Sample(make(())), Sample(make((0,))), Sample(make((5,), 'float64', low=-6, high=6))],
                    torch_public='nn.functional.gelu', warns=True)


def gelu(input, approximate='none'):
    """``x * Phi(x)`` (Phi the standard normal CDF); ``approximate='tanh'`` uses the tanh formula."""
    if approximate not in ('none', 'tanh'):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return _run(_gelu, input, {'approximate': approximate}, False)


def _silu_rule(F, ctx, g):
    a = ctx.inputs[0]
    s = F.sigmoid(a)
    return g * (s * (1 + a * (1 - s)))


_silu = _activation('silu', lambda xp, a: a / (1 + xp.exp(-a)), _silu_rule, _std_samples(-4, 4),
                    torch_public='nn.functional.silu', warns=True)


def silu(input, inplace=False):
    """``x * sigmoid(x)`` (swish)."""
    return _run(_silu, input, _EMPTY, inplace)


def _softplus_kernel(xp, a, beta, threshold):
    z = a * beta
    return xp.where(z > threshold, a, xp.log1p(xp.exp(z)) / beta).astype(a.dtype, copy=False)


def _softplus_rule(F, ctx, g):
    a = ctx.inputs[0]
    p = ctx.params
    z = a * p['beta']
    return F.where(F.gt(z, p['threshold']), g, g * F.sigmoid(z))


_softplus = _activation('softplus', _softplus_kernel, _softplus_rule,
                        lambda make: [Sample(make((2, 3), low=-4, high=4)),
                                      Sample(make((2, 3), low=-4, high=4), 2.0, 3.0),
                                      Sample(make(())), Sample(make((0,))), Sample(make((4,), 'float64'), beta=0.5)],
                        torch_public='nn.functional.softplus', warns=True)


def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``."""
    return _run(_softplus, input, {'beta': beta, 'threshold': threshold}, False)


def _mish_kernel(xp, a):
    sp = xp.where(a > 20, a, xp.log1p(xp.exp(xp.minimum(a, 20))))
    return a * xp.tanh(sp)


def _mish_rule(F, ctx, g):
    a = ctx.inputs[0]
    t = F.tanh(F.softplus(a, beta=1.0, threshold=20.0))
    return g * (t + a * F.sigmoid(a) * (1 - t * t))


_mish = _activation('mish', _mish_kernel, _mish_rule, _std_samples(-4, 4), torch_public='nn.functional.mish',
                    warns=True)


def mish(input, inplace=False):
    """``x * tanh(softplus(x))``."""
    return _run(_mish, input, _EMPTY, inplace)


# hardsigmoid, hardswish, softsign, tanhshrink

def _hardsigmoid_rule(F, ctx, g):
    a = ctx.inputs[0]
    return F.where(F.logical_and(F.gt(a, -3.0), F.lt(a, 3.0)), g * (1 / 6), 0.0)


_hardsigmoid = _activation('hardsigmoid', lambda xp, a: xp.minimum(xp.maximum(a + 3, 0), 6) / 6, _hardsigmoid_rule,
                           _std_samples(-5, 5), torch_public='nn.functional.hardsigmoid')


def hardsigmoid(input, inplace=False):
    """``relu6(x + 3) / 6``."""
    return _run(_hardsigmoid, input, _EMPTY, inplace)


def _hardswish_rule(F, ctx, g):
    a = ctx.inputs[0]
    mid = F.where(F.lt(a, 3.0), g * (a / 3 + 0.5), g)
    return F.where(F.le(a, -3.0), 0.0, mid)


_hardswish = _activation('hardswish', lambda xp, a: a * (xp.minimum(xp.maximum(a + 3, 0), 6) / 6), _hardswish_rule,
                         _std_samples(-5, 5), torch_public='nn.functional.hardswish')


def hardswish(input, inplace=False):
    """``x * relu6(x + 3) / 6``."""
    return _run(_hardswish, input, _EMPTY, inplace)


def _softsign_rule(F, ctx, g):
    d = F.abs(ctx.inputs[0]) + 1
    return g / (d * d)


_softsign = _activation('softsign', lambda xp, a: a / (1 + xp.abs(a)), _softsign_rule, _std_samples(),
                        torch_public='nn.functional.softsign')


def softsign(input):
    """``x / (1 + |x|)``."""
    return _run(_softsign, input, _EMPTY, False)


def _tanhshrink_rule(F, ctx, g):
    t = F.tanh(ctx.inputs[0])
    return g * (t * t)


_tanhshrink = _activation('tanhshrink', lambda xp, a: a - xp.tanh(a), _tanhshrink_rule, _std_samples(),
                          torch_public='nn.functional.tanhshrink')


def tanhshrink(input):
    """``x - tanh(x)``."""
    return _run(_tanhshrink, input, _EMPTY, False)


_gelu.error_samples = lambda make: [ErrorSample(make((3,)), approximate='fast',
                                                match='approximate argument must be either none or tanh')]
composite('relu6', public='nn.functional.relu6', torch_public='nn.functional.relu6', samples=lambda make: [
    Sample(make((2, 3), low=-2, high=8)), Sample(make(()))])
composite('selu', public='selu', samples=_std_samples())
composite('celu', public='celu', samples=lambda make: [Sample(make((2, 3))), Sample(make((3,)), 0.5)])

TENSOR_METHODS = ['erf', 'erfc', 'erfinv', 'erf_', 'erfc_', 'erfinv_', 'sigmoid', 'sigmoid_', 'logit', 'logit_',
                  'relu', 'relu_']
