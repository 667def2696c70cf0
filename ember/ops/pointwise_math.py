"""Pointwise math: exp/log, roots, trigonometry, abs/sign, rounding, clamp, nan_to_num, fill_/copy_.

Most unary ops are declared with ``unary_op``, which enters the kernel and its
rule into the table and builds the public function, the ``out=`` form and the
in-place ``x.op_()`` method.  Float ops lift integer inputs to the default
float dtype (``promote='float'``).  Rules for complex inputs follow PyTorch's
convention: the gradient is ``grad * conj(f'(z))``.  The binary arithmetic
(rounding division, remainders, pow, lerp, addcmul, ...) is in
``ember/ops/arithmetic.py`` and re-exported from here.
"""
import math

import numpy as np

from ember import _dtype
from ember._tensor import Tensor
from ember.ops._dispatch import apply, apply_inplace, apply_out, scalar_type_name
from ember.ops._registry import Sample, ErrorSample, defop

_EMPTY = {}
_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


def quiet(kernel):
    """``kernel`` run with NumPy's floating-point warnings off (PyTorch returns inf/nan silently)."""
    def run(xp, *args, **params):
        with np.errstate(all='ignore'):
            return kernel(xp, *args, **params)
    run.__name__ = getattr(kernel, '__name__', 'kernel')
    return run


def not_implemented(op, d):
    """PyTorch's error for a kernel that has no implementation for dtype ``d``."""
    return NotImplementedError(f'"{op}_cpu" not implemented for \'{scalar_type_name(d)}\'')


def check_tensor(x, name, arg='input'):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' (position 1) must be Tensor, not {type(x).__name__}")


def unary_op(name, kernel, rule, *, module=__name__, save='inputs', low=-2.0, high=2.0, promote='float',
             dtypes='float', complex_sample=False, int_sample=True, warns=False, grad_name=None, doc=None,
             reject=None):
    """Enters a unary op and returns ``(op, public function, in-place method)``.

    ``reject(dtype)`` may return the error for an unsupported input dtype.
    """
    op = defop(name, promote=promote, save=save, dtypes=dtypes, grad_name=grad_name)(
        quiet(kernel) if warns else kernel)
    if rule is not None:
        op.derivative(rule)
    else:
        op.gradcheck = False

    def samples(make):
        s = [Sample(make((2, 3), low=low, high=high)), Sample(make((), low=low, high=high)), Sample(make((0, 2)))]
        if int_sample:
            s.append(Sample(make((5,), 'int64', low=max(low, -4), high=min(high, 4)), grad=False))
        if complex_sample:
            s.append(Sample(make((4,), 'complex64', low=max(low, -1.5), high=min(high, 1.5)), grad=False))
        return s
    op.samples = samples

    def fn(input, *, out=None):
        if not isinstance(input, Tensor):
            check_tensor(input, name)
        if reject is not None:
            err = reject(input._dtype)
            if err is not None:
                raise err
        if out is not None:
            return apply_out(op, (input,), _EMPTY, out)
        return apply(op, (input,))

    def fn_(self):
        if reject is not None:
            err = reject(self._dtype)
            if err is not None:
                raise err
        return apply_inplace(op, self, ())

    fn.__name__ = fn.__qualname__ = name
    fn_.__name__ = fn_.__qualname__ = name + '_'
    fn.__module__ = fn_.__module__ = module
    fn.__doc__ = doc or f"Elementwise ``{name}`` of ``input``."
    fn_.__doc__ = f"In-place version of :func:`{name}`."
    return op, fn, fn_


def scalar_tensor(value, like):
    """A Python number as a 0-dim tensor typed as PyTorch types it against tensor ``like``."""
    from ember.ops.pointwise import scalar_like
    return scalar_like(value, like)


def _ufunc(name):
    def kernel(xp, a):
        return getattr(xp, name)(a)
    kernel.__name__ = name
    return kernel


def _zero_rule(F, ctx, grad):
    return F.zeros_like(grad)


# ----------------------------------------------------------------------------- exp / log / roots

def _exp_rule(F, ctx, g):
    return g * F.conj(ctx.output)


def _exp2_rule(F, ctx, g):
    return g * F.conj(ctx.output * _LN2)


def _expm1_rule(F, ctx, g):
    return g * F.conj(ctx.output + 1)


def _log_rule(F, ctx, g):
    return g / F.conj(ctx.inputs[0])


def _log2_rule(F, ctx, g):
    return g / F.conj(ctx.inputs[0] * _LN2)


def _log10_rule(F, ctx, g):
    return g / F.conj(ctx.inputs[0] * _LN10)


def _log1p_rule(F, ctx, g):
    return g / F.conj(ctx.inputs[0] + 1)


def _sqrt_rule(F, ctx, g):
    return g / F.conj(ctx.output * 2)


def _rsqrt_rule(F, ctx, g):
    out = ctx.output
    return g * F.conj(out * out * out * -0.5)


def _reciprocal_rule(F, ctx, g):
    out = ctx.output
    return g * F.conj(F.neg(out * out))


_exp, exp, exp_ = unary_op('exp', _ufunc('exp'), _exp_rule, save='output', complex_sample=True, warns=True)
_exp2, exp2, exp2_ = unary_op('exp2', _ufunc('exp2'), _exp2_rule, save='output', warns=True)
_expm1, expm1, expm1_ = unary_op('expm1', _ufunc('expm1'), _expm1_rule, save='output', warns=True)
_log, log, log_ = unary_op('log', _ufunc('log'), _log_rule, low=0.3, high=3, complex_sample=True, warns=True)
_log2, log2, log2_ = unary_op('log2', _ufunc('log2'), _log2_rule, low=0.3, high=3, warns=True)
_log10, log10, log10_ = unary_op('log10', _ufunc('log10'), _log10_rule, low=0.3, high=3, warns=True)
_log1p, log1p, log1p_ = unary_op('log1p', _ufunc('log1p'), _log1p_rule, low=-0.6, high=3, warns=True)
_sqrt, sqrt, sqrt_ = unary_op('sqrt', _ufunc('sqrt'), _sqrt_rule, save='output', low=0.3, high=3,
                              complex_sample=True, warns=True)
_rsqrt, rsqrt, rsqrt_ = unary_op('rsqrt', lambda xp, a: 1 / xp.sqrt(a), _rsqrt_rule, save='output', low=0.3,
                                 high=3, warns=True)
_reciprocal, reciprocal, reciprocal_ = unary_op('reciprocal', lambda xp, a: 1 / a, _reciprocal_rule,
                                                save='output', low=0.5, high=2, warns=True)


# ----------------------------------------------------------------------------- trigonometric and hyperbolic

def _sin_rule(F, ctx, g):
    return g * F.conj(F.cos(ctx.inputs[0]))


def _cos_rule(F, ctx, g):
    return g * F.conj(F.neg(F.sin(ctx.inputs[0])))


def _tan_rule(F, ctx, g):
    out = ctx.output
    return g * F.conj(out * out + 1)


def _asin_rule(F, ctx, g):
    a = ctx.inputs[0]
    return g / F.conj(F.sqrt(1 - a * a))


def _acos_rule(F, ctx, g):
    a = ctx.inputs[0]
    return F.neg(g / F.conj(F.sqrt(1 - a * a)))


def _atan_rule(F, ctx, g):
    a = ctx.inputs[0]
    return g / F.conj(a * a + 1)


def _sinh_rule(F, ctx, g):
    return g * F.conj(F.cosh(ctx.inputs[0]))


def _cosh_rule(F, ctx, g):
    return g * F.conj(F.sinh(ctx.inputs[0]))


def _tanh_rule(F, ctx, g):
    out = ctx.output
    return g * F.conj(1 - out * out)


def _asinh_rule(F, ctx, g):
    a = ctx.inputs[0]
    return g / F.conj(F.sqrt(a * a + 1))


def _acosh_rule(F, ctx, g):
    a = ctx.inputs[0]
    return g / F.conj(F.sqrt(a - 1) * F.sqrt(a + 1))


def _atanh_rule(F, ctx, g):
    a = ctx.inputs[0]
    return g / F.conj(1 - a * a)


_sin, sin, sin_ = unary_op('sin', _ufunc('sin'), _sin_rule, complex_sample=True)
_cos, cos, cos_ = unary_op('cos', _ufunc('cos'), _cos_rule, complex_sample=True)
_tan, tan, tan_ = unary_op('tan', _ufunc('tan'), _tan_rule, save='output', low=-1.2, high=1.2)
_asin, asin, asin_ = unary_op('asin', _ufunc('arcsin'), _asin_rule, low=-0.9, high=0.9, warns=True)
_acos, acos, acos_ = unary_op('acos', _ufunc('arccos'), _acos_rule, low=-0.9, high=0.9, warns=True)
_atan, atan, atan_ = unary_op('atan', _ufunc('arctan'), _atan_rule)
_sinh, sinh, sinh_ = unary_op('sinh', _ufunc('sinh'), _sinh_rule, warns=True)
_cosh, cosh, cosh_ = unary_op('cosh', _ufunc('cosh'), _cosh_rule, warns=True)
_tanh, tanh, tanh_ = unary_op('tanh', _ufunc('tanh'), _tanh_rule, save='output', complex_sample=True)
_asinh, asinh, asinh_ = unary_op('asinh', _ufunc('arcsinh'), _asinh_rule)
_acosh, acosh, acosh_ = unary_op('acosh', _ufunc('arccosh'), _acosh_rule, low=1.2, high=3, warns=True)
_atanh, atanh, atanh_ = unary_op('atanh', _ufunc('arctanh'), _atanh_rule, low=-0.9, high=0.9, warns=True)
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh
arcsin_, arccos_, arctan_, arcsinh_, arccosh_, arctanh_ = asin_, acos_, atan_, asinh_, acosh_, atanh_


def _deg2rad_rule(F, ctx, g):
    return g * (math.pi / 180)


def _rad2deg_rule(F, ctx, g):
    return g * (180 / math.pi)


_deg2rad, deg2rad, deg2rad_ = unary_op('deg2rad', lambda xp, a: a * (math.pi / 180), _deg2rad_rule, save=None)
_rad2deg, rad2deg, rad2deg_ = unary_op('rad2deg', lambda xp, a: a * (180 / math.pi), _rad2deg_rule, save=None)


def _sinc_kernel(xp, a):
    pa = a * math.pi
    out = xp.sin(pa) / pa
    return xp.where(a == 0, 1, out).astype(out.dtype, copy=False)


def _sinc_rule(F, ctx, g):
    a = ctx.inputs[0]
    zero = F.eq(a, 0)
    a = F.where(zero, 1.0, a)   # keeps 0/0 out of the discarded branch
    pa = a * math.pi
    d = (F.cos(pa) * pa - F.sin(pa)) / (pa * a)
    return g * F.conj(F.where(zero, 0.0, d))


_sinc, sinc, sinc_ = unary_op('sinc', _sinc_kernel, _sinc_rule, warns=True)


# ----------------------------------------------------------------------------- abs / sign / square

def _no_bool(opname):
    return lambda d: not_implemented(opname, d) if d is _dtype.bool_ else None


def _abs_rule(F, ctx, g):
    return g * F.sgn(ctx.inputs[0])


def _sgn_kernel(xp, a):
    if a.dtype.kind != 'c':
        return xp.sign(a)
    mag = xp.abs(a)
    return xp.where(mag == 0, 0, a / xp.where(mag == 0, 1, mag)).astype(a.dtype, copy=False)


def _sgn_rule(F, ctx, g):
    a = ctx.inputs[0]
    if F.dtype_of(a).category != _dtype.COMPLEX:
        return F.zeros_like(g)
    # d sgn(z): (g - sgn * Re(conj(sgn) g)) / |z|, zero at z = 0
    mag = F.abs(a)
    s = F.sgn(a)
    res = (g - s * F.real(F.conj(s) * g)) / F.where(F.eq(mag, 0), 1.0, mag)
    return F.where(F.eq(mag, 0), 0.0, res)


def _sign_reject(d):
    if d.category == _dtype.COMPLEX:
        return RuntimeError("Unlike NumPy, torch.sign is not intended to support complex numbers. Please use "
                            "torch.sgn instead.")
    return None


def _square_kernel(xp, a):
    if a.dtype.kind == 'b':
        a = a.astype(xp.int64)
    return a * a


def _square_rule(F, ctx, g):
    return g * F.conj(ctx.inputs[0] * 2)


_abs, abs, abs_ = unary_op('abs', _ufunc('abs'), _abs_rule, promote=None, dtypes='numeric', complex_sample=True,
                           reject=_no_bool('abs'), doc="Absolute value of each element (magnitude for complex).")
_sgn, sgn, sgn_ = unary_op('sgn', _sgn_kernel, _sgn_rule, promote=None, dtypes='numeric', complex_sample=True,
                           warns=True, doc="Sign for real inputs; ``z / |z|`` (0 at 0) for complex inputs.")
# torch answers real inputs with a ZeroTensor gradient that cannot be compared: check values only
_sgn.samples = (lambda samples: lambda make: [Sample(*s.args, grad=False) for s in samples(make)])(_sgn.samples)
_sign, sign, sign_ = unary_op('sign', _ufunc('sign'), _zero_rule, promote=None, dtypes='numeric',
                              reject=_sign_reject, doc="Sign (-1, 0 or 1) of each element.")
_square, square, square_ = unary_op('square', _square_kernel, _square_rule, promote=None, dtypes='numeric',
                                    grad_name='PowBackward0', doc="Square of each element.")
absolute, absolute_ = abs, abs_


def positive(input):
    """Returns ``input`` itself (``+input``)."""
    if input._dtype is _dtype.bool_:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def conj_physical(input, *, out=None):
    """Complex conjugate as a materialised tensor (a copy for complex inputs, ``input`` for real ones)."""
    if out is not None:
        return apply_out(_conj_physical, (input,), _EMPTY, out)
    if input._dtype.category != _dtype.COMPLEX:
        return input
    return apply(_conj_physical, (input,))


@defop('conj_physical', dtypes='all')
def _conj_physical(xp, a):
    return xp.conj(a) if a.dtype.kind == 'c' else a.copy()


@_conj_physical.derivative
def _(F, ctx, g):
    return F.conj(g)


def conj_physical_(self):
    """In-place complex conjugate."""
    if self._dtype.category != _dtype.COMPLEX:
        return self
    return apply_inplace(_conj_physical, self, ())


_conj_physical.samples = lambda make: [Sample(make((2, 3))), Sample(make((3,), 'complex64'), grad=False)]


# ----------------------------------------------------------------------------- rounding

def _rounding(fn):
    def kernel(xp, a):
        return a.copy() if a.dtype.kind in 'iub' else getattr(xp, fn)(a)
    kernel.__name__ = fn
    return kernel


_floor, floor, floor_ = unary_op('floor', _rounding('floor'), _zero_rule, promote=None, dtypes='numeric')
_ceil, ceil, ceil_ = unary_op('ceil', _rounding('ceil'), _zero_rule, promote=None, dtypes='numeric')
_trunc, trunc, trunc_ = unary_op('trunc', _rounding('trunc'), _zero_rule, promote=None, dtypes='numeric')
_frac, frac, frac_ = unary_op('frac', lambda xp, a: a - xp.trunc(a), lambda F, ctx, g: g, save=None,
                              promote=None, int_sample=False,
                              reject=lambda d: not_implemented('frac', d) if d.category < _dtype.FLOAT else None)
fix, fix_ = trunc, trunc_


@defop('round', dtypes='numeric')
def _round(xp, a, decimals):
    if a.dtype.kind in 'iub':
        return a.copy()
    if decimals == 0:
        return xp.rint(a)
    if decimals > 0:
        ten = 10.0 ** decimals
        return xp.rint(a * ten) / ten
    ten = 10.0 ** -decimals
    return xp.rint(a / ten) * ten


_round.derivative(_zero_rule)
_round.samples = lambda make: [Sample(make((2, 3), low=-5, high=5)), Sample(make((2, 3), low=-5, high=5), decimals=2),
                               Sample(make((4,), low=-500, high=500), decimals=-2), Sample(make(())),
                               Sample(make((4,), 'int64', low=-9, high=9), grad=False)]


def round(input, *, decimals=0, out=None):
    """Rounds to the nearest integer (halves to even), or to ``decimals`` decimal places."""
    check_tensor(input, 'round')
    if decimals != 0 and input._dtype.category < _dtype.FLOAT:
        raise not_implemented('round', input._dtype)
    params = {'decimals': int(decimals)}
    if out is not None:
        return apply_out(_round, (input,), params, out)
    return apply(_round, (input,), params)


def round_(self, *, decimals=0):
    """In-place version of :func:`round`."""
    return apply_inplace(_round, self, (), {'decimals': int(decimals)})


# ----------------------------------------------------------------------------- clamp

@defop('clamp', dtypes='numeric', save='inputs', grad_name='ClampBackward1')
def _clamp(xp, a, min, max):
    out = a
    if min is not None:
        out = xp.maximum(out, min)
    if max is not None:
        out = xp.minimum(out, max)
    return out if out is not a else a.copy()


@_clamp.derivative
def _(F, ctx, g):
    a = ctx.inputs[0]
    lo, hi = ctx.params['min'], ctx.params['max']
    keep = None
    if lo is not None:
        keep = F.ge(a, lo)
    if hi is not None:
        le = F.le(a, hi)
        keep = le if keep is None else F.logical_and(keep, le)
    return F.where(keep, g, 0.0)


@defop('clamp_tensor', promote='common', save='inputs', dtypes='numeric', grad_name='ClampBackward0',
       public='clamp')
def _clamp_tensor(xp, a, lo, hi):
    return xp.minimum(xp.maximum(a, lo), hi)


@_clamp_tensor.derivative
def _(F, ctx, g):
    a, lo, hi = ctx.inputs
    need = ctx.needs_input_grad
    ga = glo = ghi = None
    if need[0]:
        ga = F.where(F.logical_and(F.ge(a, lo), F.le(a, hi)), g, 0.0)
    if need[1]:
        glo = F.where(F.logical_and(F.lt(a, lo), F.lt(lo, hi)), g, 0.0)
    if need[2]:
        ghi = F.where(F.logical_or(F.gt(a, hi), F.lt(hi, lo)), g, 0.0)
    return ga, glo, ghi


@defop('clamp_min_tensor', promote='common', save='inputs', dtypes='numeric', grad_name='ClampMinBackward1',
       public='clamp_min')
def _clamp_min_tensor(xp, a, lo):
    return xp.maximum(a, lo)


@_clamp_min_tensor.derivative
def _(F, ctx, g):
    a, lo = ctx.inputs
    keep = F.ge(a, lo)
    return F.where(keep, g, 0.0), (F.where(keep, 0.0, g) if ctx.needs_input_grad[1] else None)


@defop('clamp_max_tensor', promote='common', save='inputs', dtypes='numeric', grad_name='ClampMaxBackward1',
       public='clamp_max')
def _clamp_max_tensor(xp, a, hi):
    return xp.minimum(a, hi)


@_clamp_max_tensor.derivative
def _(F, ctx, g):
    a, hi = ctx.inputs
    keep = F.le(a, hi)
    return F.where(keep, g, 0.0), (F.where(keep, 0.0, g) if ctx.needs_input_grad[1] else None)


def _clamp_call(input, min, max, out=None, inplace=False):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    target = _dtype.result_type_of([input] + [v for v in (min, max) if v is not None])
    if target.category == _dtype.COMPLEX:
        raise not_implemented('clamp', target)
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        if min is not None and not isinstance(min, Tensor):
            min = scalar_tensor(min, input)
        if max is not None and not isinstance(max, Tensor):
            max = scalar_tensor(max, input)
        if max is None:
            op, args = _clamp_min_tensor, (input, min)
        elif min is None:
            op, args = _clamp_max_tensor, (input, max)
        else:
            op, args = _clamp_tensor, (input, min, max)
        params = _EMPTY
    else:
        op, args, params = _clamp, (input,), {'min': min, 'max': max}
        if target is not input._dtype:
            if inplace:
                if not _dtype.can_cast(target, input._dtype):
                    raise RuntimeError(f"result type {scalar_type_name(target)} can't be cast to the desired output "
                                       f"type {scalar_type_name(input._dtype)}")
            else:
                from ember.ops.pointwise import to_dtype
                args = (to_dtype(input, target),)
    if inplace:
        return apply_inplace(op, input, args[1:], params)
    if out is not None:
        return apply_out(op, args, params, out)
    return apply(op, args, params)


def clamp(input, min=None, max=None, *, out=None):
    """Limits each element to ``[min, max]`` (either bound may be None, a number or a tensor)."""
    check_tensor(input, 'clamp')
    return _clamp_call(input, min, max, out)


def clamp_(self, min=None, max=None):
    """In-place version of :func:`clamp`."""
    return _clamp_call(self, min, max, inplace=True)


def clamp_min(input, min, *, out=None):
    """``clamp(input, min=min)``."""
    return _clamp_call(input, min, None, out)


def clamp_max(input, max, *, out=None):
    """``clamp(input, max=max)``."""
    return _clamp_call(input, None, max, out)


def clamp_min_(self, min):
    return _clamp_call(self, min, None, inplace=True)


def clamp_max_(self, max):
    return _clamp_call(self, None, max, inplace=True)


clip, clip_ = clamp, clamp_

_clamp.samples = lambda make: [
    Sample(make((2, 3)), -0.5, 0.5), Sample(make((2, 3)), min=-0.5), Sample(make((2, 3)), max=0.5),
    Sample(make(()), -0.5, 0.5), Sample(make((0, 2)), 0.0, 1.0),
    Sample(make((5,), 'int64', low=-5, high=5), -2, 3, grad=False),
    Sample(make((5,), 'int64', low=-5, high=5), 0.5, grad=False)]
_clamp.error_samples = lambda make: [ErrorSample(make((3,)), match="At least one of 'min' or 'max' must not be None")]
_clamp_tensor.samples = lambda make: [
    Sample(make((2, 3)), make((2, 3), low=-2, high=-0.3), make((3,), low=0.3, high=2)),
    Sample(make((2, 3)), make((2, 3)), make((2, 3))), Sample(make((2, 3)), make(()), make((3,)))]
_clamp_min_tensor.samples = lambda make: [Sample(make((2, 3)), make((3,))), Sample(make(()), make((2,)))]
_clamp_max_tensor.samples = lambda make: [Sample(make((2, 3)), make((3,))), Sample(make(()), make((2,)))]


# ----------------------------------------------------------------------------- nan_to_num

@defop('nan_to_num', save='inputs', dtypes='numeric')
def _nan_to_num(xp, a, nan, posinf, neginf):
    if a.dtype.kind not in 'fc':
        return a.copy()
    return xp.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)


@_nan_to_num.derivative
def _(F, ctx, g):
    return F.where(F.isfinite(ctx.inputs[0]), g, 0.0)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    """Replaces NaN, +inf and -inf by ``nan``, ``posinf`` and ``neginf`` (default: the dtype's extremes)."""
    params = {'nan': 0.0 if nan is None else nan, 'posinf': posinf, 'neginf': neginf}
    if out is not None:
        return apply_out(_nan_to_num, (input,), params, out)
    return apply(_nan_to_num, (input,), params)


def nan_to_num_(self, nan=0.0, posinf=None, neginf=None):
    """In-place version of :func:`nan_to_num`."""
    return apply_inplace(_nan_to_num, self, (), {'nan': 0.0 if nan is None else nan, 'posinf': posinf,
                                                 'neginf': neginf})


_nan_to_num.samples = lambda make: [
    Sample(make((2, 3))), Sample(np.array([np.nan, np.inf, -np.inf, 1.5], np.float32), grad=False),
    Sample(np.array([np.nan, np.inf, -np.inf, 1.5], np.float32), 2.0, 10.0, -10.0, grad=False),
    Sample(np.array([np.nan, 1.0]), posinf=3.0), Sample(make(())), Sample(make((3,), 'int64'), grad=False)]


# ----------------------------------------------------------------------------- fill_ / zero_ / copy_

@defop('fill', dtypes='all', grad_name='FillBackward0', public=None)
def _fill(xp, a, value):
    return xp.full(a.shape, value, dtype=a.dtype)


@_fill.derivative
def _(F, ctx, g):
    return F.zeros_like(g)


@defop('copy_from', dtypes='all', grad_name='CopyBackwards', public=None)
def _copy_from(xp, a, src):
    src = xp.asarray(src)
    if src.dtype != a.dtype:
        if src.dtype.kind == 'c' and a.dtype.kind != 'c':
            src = src.real
        src = src.astype(a.dtype)
    return xp.broadcast_to(src, a.shape)


@_copy_from.derivative
def _(F, ctx, g):
    gsrc = None
    if ctx.needs_input_grad[1]:
        gsrc = g
        if F.dtype_of(g).category == _dtype.COMPLEX and ctx.input_meta[1][1].category != _dtype.COMPLEX:
            gsrc = F.real(g)
    return F.zeros_like(g), gsrc


def fill_(self, value):
    """Fills ``self`` with ``value`` (a number or a 0-dim tensor)."""
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value._data.ndim} dimensions.")
        return copy_(self, value)
    if self._dtype.category < _dtype.COMPLEX and isinstance(value, complex):
        raise RuntimeError(f"value cannot be converted to type {self._dtype.name} without overflow")
    return apply_inplace(_fill, self, (), {'value': value})


def zero_(self):
    """Fills ``self`` with zeros."""
    return apply_inplace(_fill, self, (), {'value': 0})


def copy_(self, src, non_blocking=False):
    """Copies ``src`` into ``self`` (broadcasting and casting); gradients flow to ``src``."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' (position 1) must be Tensor, not {type(src).__name__}")
    if src._device != self._device:
        from ember.ops.creation import to_device
        src = to_device(src, self._device)
    try:
        np.broadcast_shapes(src._data.shape, self._data.shape)
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({self._data.shape[-1] if self._data.ndim else 1}) must match the "
                           f"size of tensor b ({src._data.shape[-1] if src._data.ndim else 1}) at non-singleton "
                           "dimension") from None
    if np.broadcast_shapes(src._data.shape, self._data.shape) != self._data.shape:
        raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
                           f"{list(np.broadcast_shapes(src._data.shape, self._data.shape))}")
    return apply_inplace(_copy_from, self, (src,))


TENSOR_METHODS = [
    'exp', 'exp2', 'expm1', 'log', 'log2', 'log10', 'log1p', 'sqrt', 'rsqrt', 'reciprocal', 'sin', 'cos', 'tan',
    'asin', 'acos', 'atan', 'sinh', 'cosh', 'tanh', 'asinh', 'acosh', 'atanh', 'arcsin', 'arccos', 'arctan',
    'arcsinh', 'arccosh', 'arctanh', 'deg2rad', 'rad2deg', 'sinc', 'abs', 'absolute', 'sgn', 'sign', 'square',
    'positive', 'conj_physical', 'floor', 'ceil', 'trunc', 'fix', 'frac', 'round', 'clamp', 'clip', 'clamp_min',
    'clamp_max', 'nan_to_num']
TENSOR_METHODS += [n + '_' for n in TENSOR_METHODS if n != 'positive'] + ['fill_', 'zero_', 'copy_']

# The binary arithmetic lives in its own module; importing it here enters its ops and re-exports its
# functions (``ember.pow``, ``Tensor.pow``, ...).
from ember.ops import arithmetic as _arithmetic  # noqa: E402
from ember.ops.arithmetic import *  # noqa: E402,F401,F403

TENSOR_METHODS += _arithmetic.TENSOR_METHODS
