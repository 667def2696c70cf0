"""Binary arithmetic: division with rounding, floor_divide/remainder/fmod, pow, atan2, hypot, copysign,
xlogy, heaviside, lerp, addcmul and addcdiv.

Loaded through ``ember.ops.pointwise_math``, which re-exports these functions.
Binary ops promote both operands to PyTorch's result type; a Python number
as first operand becomes a 0-dim tensor typed against the other operand.
"""
import math

import numpy as np

from ember import _dtype
from ember._tensor import Tensor
from ember.ops._dispatch import apply, apply_inplace, apply_out, scalar_type_name
from ember.ops._registry import Sample, ErrorSample, composite, defop
from ember.ops.pointwise_math import check_tensor, not_implemented, quiet, scalar_tensor

_EMPTY = {}

# ----------------------------------------------------------------------------- division with rounding

_ZERO_DIV = 'ZeroDivisionError'


def _check_int_divisor(xp, a, b):
    if a.dtype.kind in 'iub' if hasattr(a, 'dtype') else isinstance(a, int):
        if bool(xp.any(xp.asarray(b) == 0)):
            raise RuntimeError(_ZERO_DIV)


def _trunc_divide(xp, a, b):
    if getattr(a, 'dtype', None) is not None and a.dtype.kind in 'iu':
        q = xp.floor_divide(a, b)
        fix = (xp.remainder(a, b) != 0) & ((a < 0) != (xp.asarray(b) < 0))
        return q + fix.astype(q.dtype)
    return xp.trunc(xp.true_divide(a, b))


@defop('div_rounded', promote='common', grad_name='DivBackward2', public='div', dtypes='numeric')
def _div_rounded(xp, a, b, mode):
    _check_int_divisor(xp, a, b)
    with np.errstate(all='ignore'):
        if mode == 'trunc':
            return _trunc_divide(xp, a, b)
        return xp.floor_divide(a, b)


@_div_rounded.derivative
def _(F, ctx, g):
    return F.zeros_like(g), (F.zeros_like(g) if ctx.needs_input_grad[1] else None)


def _check_mode(mode):
    if mode not in ('trunc', 'floor'):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{mode}'")


def div_rounded(input, other, mode, out=None):
    """``div(input, other, rounding_mode=mode)`` for ``mode`` 'trunc' or 'floor'."""
    _check_mode(mode)
    params = {'mode': mode}
    if not isinstance(input, Tensor):
        input = scalar_tensor(input, other)
    if out is not None:
        return apply_out(_div_rounded, (input, other), params, out)
    return apply(_div_rounded, (input, other), params)


def div_rounded_(self, other, mode):
    """In-place ``self.div_(other, rounding_mode=mode)``."""
    _check_mode(mode)
    return apply_inplace(_div_rounded, self, (other,), {'mode': mode})


def _div_samples(make):
    return [Sample(make((2, 3), low=-5, high=5), make((2, 3), low=0.5, high=2), rounding_mode='trunc'),
            Sample(make((2, 3), low=-5, high=5), make((3,), low=-2, high=-0.5), rounding_mode='floor'),
            Sample(make((2, 3), low=-5, high=5), 1.5, rounding_mode='floor'),
            Sample(make((), low=-5, high=5), make((4,), low=0.5, high=2), rounding_mode='trunc'),
            Sample(make((0, 3)), make((3,), low=0.5), rounding_mode='trunc'),
            Sample(make((6,), 'int64', low=-9, high=9), make((6,), 'int64', low=1, high=4), rounding_mode='trunc'),
            Sample(make((6,), 'int64', low=-9, high=9), -4, rounding_mode='trunc', grad=False),
            Sample(make((6,), 'int64', low=-9, high=9), 4, rounding_mode='floor', grad=False)]


_div_rounded.samples = _div_samples
_div_rounded.error_samples = lambda make: [
    ErrorSample(make((2,)), make((2,)), rounding_mode='round', match="rounding_mode to be one of None"),
    ErrorSample(make((2,), 'int64'), 0, rounding_mode='floor', match='ZeroDivisionError')]


# ----------------------------------------------------------------------------- floor_divide / remainder / fmod

@defop('floor_divide', promote='common', dtypes='numeric', gradcheck=False)
def _floor_divide(xp, a, b):
    _check_int_divisor(xp, a, b)
    with np.errstate(all='ignore'):
        return xp.floor_divide(a, b)


@defop('remainder', promote='common', save='inputs', dtypes='numeric')
def _remainder(xp, a, b):
    _check_int_divisor(xp, a, b)
    with np.errstate(all='ignore'):
        return xp.remainder(a, b)


@_remainder.derivative
def _(F, ctx, g):
    a, b = ctx.inputs
    gb = None
    if ctx.needs_input_grad[1]:
        gb = F.neg(g) * F.floor(F.div(a, b))
    return g, gb


@defop('fmod', promote='common', save='inputs', dtypes='numeric')
def _fmod(xp, a, b):
    _check_int_divisor(xp, a, b)
    with np.errstate(all='ignore'):
        return xp.fmod(a, b)


@_fmod.derivative
def _(F, ctx, g):
    a, b = ctx.inputs
    gb = None
    if ctx.needs_input_grad[1]:
        gb = F.neg(g) * F.trunc(F.div(a, b))
    return g, gb


def _binary_public(op, name, doc, scalar_first=True):
    def fn(input, other, *, out=None):
        if not isinstance(input, Tensor):
            if not scalar_first or not isinstance(other, Tensor):
                check_tensor(input, name)
            input = scalar_tensor(input, other)
        if out is not None:
            return apply_out(op, (input, other), _EMPTY, out)
        return apply(op, (input, other))

    def fn_(self, other):
        return apply_inplace(op, self, (other,))
    fn.__name__ = fn.__qualname__ = name
    fn_.__name__ = fn_.__qualname__ = name + '_'
    fn.__doc__ = doc
    fn_.__doc__ = f"In-place version of :func:`{name}`."
    return fn, fn_


floor_divide, floor_divide_ = _binary_public(_floor_divide, 'floor_divide',
                                             "Division rounded toward negative infinity (``input // other``).")
remainder, remainder_ = _binary_public(_remainder, 'remainder',
                                       "Python-style modulus: the result has the sign of ``other``.")
fmod, fmod_ = _binary_public(_fmod, 'fmod', "C-style remainder: the result has the sign of ``input``.")


def _mod_samples(make):
    return [Sample(make((2, 3), low=-5, high=5), make((2, 3), low=0.7, high=2)),
            Sample(make((2, 3), low=-5, high=5), make((3,), low=-2, high=-0.7)),
            Sample(make((2, 3), low=-5, high=5), 1.5), Sample(make((), low=-5, high=5), make((4,), low=0.7, high=2)),
            Sample(make((0, 3)), make((3,), low=0.7)),
            Sample(make((6,), 'int64', low=-9, high=9), make((6,), 'int64', low=1, high=4), grad=False),
            Sample(make((6,), 'int64', low=-9, high=9), -4, grad=False)]


def _int_zero_div(make):
    return [ErrorSample(make((3,), 'int64'), 0, match='ZeroDivisionError'),
            ErrorSample(make((3,)), make((4,)), match=r'size of tensor a \(3\) must match the size of tensor b \(4\)')]


for _op in (_floor_divide, _remainder, _fmod):
    _op.samples = _mod_samples
    _op.error_samples = _int_zero_div


# ----------------------------------------------------------------------------- pow

def _int_pow(xp, a, b):
    # integer bases to negative integer exponents: PyTorch gives 1/a truncated (0 unless a is +-1)
    neg = b < 0
    if not bool(xp.any(neg)):
        return xp.power(a, b)
    out = xp.power(a, xp.where(neg, 0, b))
    odd = (b % 2) != 0
    inv = xp.where(a == 1, 1, xp.where(a == -1, xp.where(odd, -1, 1), 0)).astype(out.dtype)
    return xp.where(neg, inv, out)


@defop('pow', promote='common', save='inputs', dtypes='numeric', grad_name='PowBackward1')
def _pow(xp, a, b):
    if a.dtype.kind in 'iu' and not isinstance(b, (int, float, bool, complex)) and b.dtype.kind in 'iu':
        return _int_pow(xp, a, b)
    with np.errstate(all='ignore'):
        return xp.power(a, b)


@_pow.derivative
def _(F, ctx, g):
    a, b = ctx.inputs
    ga = gb = None
    scalar_b = isinstance(b, (int, float, complex))
    if ctx.needs_input_grad[0]:
        if scalar_b:
            ga = F.zeros_like(g) if b == 0 else g * F.conj(F.pow(a, b - 1) * b)
        else:
            ga = F.where(F.eq(b, 0), 0.0, g * F.conj(F.pow(a, b - 1) * b))
    if not scalar_b and ctx.needs_input_grad[1]:
        zero = F.logical_and(F.eq(a, 0), F.ge(F.real(b), 0)) if F.dtype_of(b).category == _dtype.COMPLEX \
            else F.logical_and(F.eq(a, 0), F.ge(b, 0))
        gb = F.where(zero, 0.0, g * F.conj(F.pow(a, b) * F.log(F.where(zero, 1.0, a))))
    return ga, gb


def _check_int_pow(base, exponent):
    if isinstance(exponent, int) and not isinstance(exponent, bool) and exponent < 0 and \
            isinstance(base, Tensor) and base._dtype.category <= _dtype.INT:
        raise RuntimeError("Integers to negative integer powers are not allowed.")


def pow(input, exponent, *, out=None):
    """``input`` raised to ``exponent`` (either may be a Python number)."""
    if not isinstance(input, Tensor):
        if not isinstance(exponent, Tensor):
            check_tensor(input, 'pow', 'self')
        input = scalar_tensor(input, exponent)
    _check_int_pow(input, exponent)
    if out is not None:
        return apply_out(_pow, (input, exponent), _EMPTY, out)
    return apply(_pow, (input, exponent))


def pow_(self, exponent):
    """In-place version of :func:`pow`."""
    _check_int_pow(self, exponent)
    return apply_inplace(_pow, self, (exponent,))


def float_power(input, exponent, *, out=None):
    """``pow`` computed in double precision (float64, or complex128 for complex operands)."""
    operands = (input, exponent)
    cplx = any((isinstance(x, Tensor) and x._dtype.category == _dtype.COMPLEX) or isinstance(x, complex)
               for x in operands)
    target = _dtype.complex128 if cplx else _dtype.float64
    from ember.ops.pointwise import to_dtype
    if isinstance(input, Tensor):
        input = to_dtype(input, target)
    if isinstance(exponent, Tensor):
        exponent = to_dtype(exponent, target)
    elif not isinstance(input, Tensor):
        input = Tensor._make(np.asarray(input, dtype=target.np), exponent._device)
    return pow(input, exponent, out=out)


def float_power_(self, exponent):
    """In-place version of :func:`float_power` (``self`` must be float64 or complex128)."""
    if self._dtype not in (_dtype.float64, _dtype.complex128):
        raise RuntimeError(f"the base given to float_power_ has dtype {scalar_type_name(self._dtype)} but the "
                           "operation's result requires dtype Double")
    return pow_(self, exponent.to(self._dtype) if isinstance(exponent, Tensor) else exponent)


_pow.samples = lambda make: [
    Sample(make((2, 3), low=0.5, high=2), make((2, 3), low=-2, high=2)),
    Sample(make((2, 3), low=0.5, high=2), make((3,), low=-2, high=2)),
    Sample(make((2, 3), low=-2, high=2), 2), Sample(make((2, 3), low=0.5, high=2), -1.5),
    Sample(make((2, 3), low=0.5, high=2), 0), Sample(2.5, make((2, 3))),
    Sample(make((), low=0.5, high=2), make((4,))), Sample(make((0, 3), low=0.5), make((3,))),
    Sample(make((6,), 'int64', low=-3, high=4), make((6,), 'int64', low=-2, high=3), grad=False),
    Sample(make((6,), 'int64', low=-3, high=4), 3, grad=False), Sample(2, make((6,), 'int64', high=5), grad=False),
    Sample(make((3,), 'int64', low=1, high=4), 0.5, grad=False)]
_pow.error_samples = lambda make: [
    ErrorSample(make((3,), 'int64'), -1, match='Integers to negative integer powers are not allowed'),
    ErrorSample(make((2, 3)), make((4,)), match=r'size of tensor a \(3\) must match the size of tensor b \(4\)')]
composite('float_power', public='float_power', samples=lambda make: [
    Sample(make((2, 3), low=0.5, high=2), make((3,))), Sample(make((2, 3), low=0.5, high=2), 2),
    Sample(make((3,), 'int64', low=1, high=4), -2, grad=False)])


# ----------------------------------------------------------------------------- more binary math

def _real_only(name, *args):
    d = _dtype.result_type_of(list(args))
    if d.category == _dtype.COMPLEX:
        raise not_implemented(name, d)


def _float_only(name, *args):
    d = _dtype.result_type_of(list(args))
    if d.category < _dtype.FLOAT:
        raise not_implemented(name, d)


@defop('atan2', promote='float', save='inputs')
def _atan2(xp, a, b):
    return xp.arctan2(a, b)


@_atan2.derivative
def _(F, ctx, g):
    a, b = ctx.inputs
    denom = a * a + b * b
    return g * (b / denom), (g * (F.neg(a) / denom) if ctx.needs_input_grad[1] else None)


@defop('hypot', promote='common', save='both')
def _hypot(xp, a, b):
    return xp.hypot(a, b)


@_hypot.derivative
def _(F, ctx, g):
    a, b = ctx.inputs
    out = ctx.output
    return g * (a / out), (g * (b / out) if ctx.needs_input_grad[1] else None)


@defop('copysign', promote='float', save='both')
def _copysign(xp, a, b):
    return xp.copysign(a, b)


@_copysign.derivative
def _(F, ctx, g):
    a = ctx.inputs[0]
    return g * (F.sign(a) * F.sign(ctx.output)), (F.zeros_like(g) if ctx.needs_input_grad[1] else None)


@quiet
def _xlogy_kernel(xp, a, b):
    out = a * (xp.log(b) if hasattr(b, 'dtype') else _scalar_log(b))
    return xp.where((a == 0) & ~xp.isnan(b), 0, out).astype(out.dtype, copy=False)


def _scalar_log(b):
    # a Python number stays a Python number, so that it does not upcast a float32 tensor
    if isinstance(b, complex):
        return complex(np.log(b))
    return math.log(b) if b > 0 else (-math.inf if b == 0 else math.nan)


@defop('xlogy', promote='float', save='inputs')
def _xlogy(xp, a, b):
    return _xlogy_kernel(xp, a, b)


@_xlogy.derivative
def _(F, ctx, g):
    a, b = ctx.inputs
    ga = gb = None
    if ctx.needs_input_grad[0]:
        ga = F.where(F.logical_and(F.eq(a, 0), F.le(b, 0)), 0.0, g * F.log(b))
    if ctx.needs_input_grad[1]:
        gb = g * a / b
    return ga, gb


@defop('heaviside', promote='common', dtypes='numeric', gradcheck=False)
def _heaviside(xp, a, values):
    return xp.heaviside(a, values).astype(a.dtype, copy=False)


def atan2(input, other, *, out=None):
    """Elementwise arctangent of ``input / other`` choosing the quadrant by both signs."""
    if out is not None:
        return apply_out(_atan2, (input, other), _EMPTY, out)
    return apply(_atan2, (input, other))


def atan2_(self, other):
    """In-place version of :func:`atan2`."""
    return apply_inplace(_atan2, self, (other,))


arctan2, arctan2_ = atan2, atan2_


def hypot(input, other, *, out=None):
    """``sqrt(input**2 + other**2)`` without intermediate overflow."""
    _float_only('hypot', input, other)
    if out is not None:
        return apply_out(_hypot, (input, other), _EMPTY, out)
    return apply(_hypot, (input, other))


def hypot_(self, other):
    """In-place version of :func:`hypot`."""
    return apply_inplace(_hypot, self, (other,))


def copysign(input, other, *, out=None):
    """Magnitude of ``input`` with the sign of ``other``."""
    if out is not None:
        return apply_out(_copysign, (input, other), _EMPTY, out)
    return apply(_copysign, (input, other))


def copysign_(self, other):
    """In-place version of :func:`copysign`."""
    return apply_inplace(_copysign, self, (other,))


def xlogy(input, other, *, out=None):
    """``input * log(other)``, zero where ``input`` is zero (unless ``other`` is NaN)."""
    if not isinstance(input, Tensor):
        input = scalar_tensor(input, other)
    _real_only('xlogy', input, other)
    if out is not None:
        return apply_out(_xlogy, (input, other), _EMPTY, out)
    return apply(_xlogy, (input, other))


def xlogy_(self, other):
    """In-place version of :func:`xlogy`."""
    return apply_inplace(_xlogy, self, (other,))


def heaviside(input, values, *, out=None):
    """Heaviside step: 0 for negative, ``values`` at zero, 1 for positive ``input``."""
    if input._dtype is not values._dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    if input._dtype.category == _dtype.COMPLEX:
        raise RuntimeError("heaviside is not yet implemented for complex tensors.")
    if out is not None:
        return apply_out(_heaviside, (input, values), _EMPTY, out)
    return apply(_heaviside, (input, values))


def heaviside_(self, values):
    """In-place version of :func:`heaviside`."""
    return apply_inplace(_heaviside, self, (values,))


def _float_pair_samples(make):
    return [Sample(make((2, 3)), make((2, 3), low=0.5, high=2)), Sample(make((2, 3)), make((3,), low=-2, high=-0.5)),
            Sample(make((4, 1)), make((1, 5), low=0.5, high=2)), Sample(make(()), make((3,), low=0.5, high=2)),
            Sample(make((2, 3)), make((), low=0.5, high=2)), Sample(make((0, 3)), make((3,), low=0.5))]


_atan2.samples = lambda make: _float_pair_samples(make) + [
    Sample(make((4,), 'int64', low=-3, high=3), make((4,), 'int64', low=-3, high=3), grad=False)]
_hypot.samples = _float_pair_samples
_hypot.error_samples = lambda make: [ErrorSample(make((3,), 'int64'), make((3,), 'int64'), error=NotImplementedError,
                                                 match='"hypot_cpu" not implemented for \'Long\'')]
_copysign.samples = lambda make: [
    Sample(make((2, 3), low=0.3, high=2), make((2, 3))), Sample(make((2, 3), low=-2, high=-0.3), make((3,))),
    Sample(make(()), make((3,))), Sample(make((2, 3), low=0.3, high=2), -1.5), Sample(make((0, 3)), make((3,))),
    Sample(make((4,), 'int64', low=-3, high=3), -1, grad=False)]
_xlogy.samples = lambda make: [
    Sample(make((2, 3)), make((2, 3), low=0.5, high=2)), Sample(make((2, 3)), make((3,), low=0.5, high=2)),
    Sample(make(()), make((3,), low=0.5, high=2)), Sample(make((2, 3)), 2.5), Sample(0.5, make((3,), low=0.5, high=2)),
    Sample(make((0, 3)), make((3,), low=0.5)), Sample(np.array([0.0, 0.0, 1.0], np.float32),
                                                       np.array([0.0, np.nan, 0.0], np.float32), grad=False)]
_heaviside.samples = lambda make: [
    Sample(np.array([-1.5, 0.0, 2.0, 0.0], np.float32), np.array([0.5, 0.5, 0.5, 0.25], np.float32)),
    Sample(make((2, 3)), make((3,))), Sample(np.array([-2, 0, 3]), np.array(7))]
_heaviside.error_samples = lambda make: [
    ErrorSample(make((3,)), make((3,), 'float64'), match='heaviside is not yet implemented for tensors with different')]


# ----------------------------------------------------------------------------- lerp / addcmul / addcdiv

@defop('lerp', promote='common', save='inputs')
def _lerp(xp, a, b, w):
    diff = b - a
    small = xp.abs(w) < 0.5
    return xp.where(small, a + w * diff, b - diff * (1 - w)).astype(diff.dtype, copy=False)


@_lerp.derivative
def _(F, ctx, g):
    a, b, w = ctx.inputs
    need = ctx.needs_input_grad
    scalar_w = isinstance(w, (int, float, complex))
    wc = w if scalar_w else F.conj(w)
    ga = g * (1 - wc) if need[0] else None
    gb = g * wc if need[1] else None
    gw = g * F.conj(b - a) if not scalar_w and need[2] else None
    return ga, gb, gw


def lerp(input, end, weight, *, out=None):
    """``input + weight * (end - input)`` (``weight`` a number or a tensor)."""
    _check_same_dtype('end', input, end)
    if isinstance(weight, Tensor):
        _check_same_dtype('weight', input, weight)
    if input._dtype.category < _dtype.FLOAT:
        raise NotImplementedError(f"\"lerp_kernel_{'tensor' if isinstance(weight, Tensor) else 'scalar'}\" not "
                                  f"implemented for '{scalar_type_name(input._dtype)}'")
    if out is not None:
        return apply_out(_lerp, (input, end, weight), _EMPTY, out)
    return apply(_lerp, (input, end, weight))


def lerp_(self, end, weight):
    """In-place version of :func:`lerp`."""
    _check_same_dtype('end', self, end)
    return apply_inplace(_lerp, self, (end, weight))


def _check_same_dtype(arg, input, other):
    if isinstance(other, Tensor) and other._dtype is not input._dtype:
        raise RuntimeError(f"expected dtype {input._dtype} for `{arg}` but got dtype {other._dtype}")


_lerp.samples = lambda make: [
    Sample(make((2, 3)), make((2, 3)), 0.3), Sample(make((2, 3)), make((3,)), 0.8),
    Sample(make((2, 3)), make((2, 3)), make((3,))), Sample(make(()), make((3,)), make(())),
    Sample(make((0, 3)), make((3,)), 0.5)]
_lerp.error_samples = lambda make: [ErrorSample(make((3,)), make((3,), 'float64'), 0.5,
                                                match='expected dtype torch.float32 for `end`')]


@defop('addcmul', promote='common', save='inputs')
def _addcmul(xp, a, t1, t2, value):
    return a + value * t1 * t2 if value != 1 else a + t1 * t2


@_addcmul.derivative
def _(F, ctx, g):
    a, t1, t2 = ctx.inputs
    v = ctx.params['value']
    need = ctx.needs_input_grad
    g1 = g * F.conj(t2 * v) if need[1] else None
    g2 = g * F.conj(t1 * v) if need[2] else None
    return g, g1, g2


@defop('addcdiv', promote='common', save='inputs')
def _addcdiv(xp, a, t1, t2, value):
    with np.errstate(all='ignore'):
        return a + value * (t1 / t2) if value != 1 else a + t1 / t2


@_addcdiv.derivative
def _(F, ctx, g):
    a, t1, t2 = ctx.inputs
    v = ctx.params['value']
    need = ctx.needs_input_grad
    g1 = g * F.conj(v / t2) if need[1] else None
    g2 = F.neg(g) * F.conj(t1 * v / (t2 * t2)) if need[2] else None
    return g, g1, g2


def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    """``input + value * tensor1 * tensor2``."""
    if out is not None:
        return apply_out(_addcmul, (input, tensor1, tensor2), {'value': value}, out)
    return apply(_addcmul, (input, tensor1, tensor2), {'value': value})


def addcmul_(self, tensor1, tensor2, *, value=1):
    """In-place version of :func:`addcmul`."""
    return apply_inplace(_addcmul, self, (tensor1, tensor2), {'value': value})


def _check_addcdiv(t1, t2):
    if t1._dtype.category <= _dtype.INT and t2._dtype.category <= _dtype.INT:
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future release addcdiv "
                           "will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can "
                           "be implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for "
                           "integer inputs and as (input + value * tensor1 / tensor2) for float inputs. The future "
                           "addcdiv behavior is just the latter implementation: (input + value * tensor1 / tensor2), "
                           "for all dtypes.")


def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    """``input + value * tensor1 / tensor2``."""
    _check_addcdiv(tensor1, tensor2)
    if out is not None:
        return apply_out(_addcdiv, (input, tensor1, tensor2), {'value': value}, out)
    return apply(_addcdiv, (input, tensor1, tensor2), {'value': value})


def addcdiv_(self, tensor1, tensor2, *, value=1):
    """In-place version of :func:`addcdiv`."""
    _check_addcdiv(tensor1, tensor2)
    return apply_inplace(_addcdiv, self, (tensor1, tensor2), {'value': value})


_addcmul.samples = lambda make: [
    Sample(make((2, 3)), make((2, 3)), make((2, 3))), Sample(make((2, 3)), make((3,)), make((2, 1)), value=0.5),
    Sample(make(()), make((3,)), make(())), Sample(make((0, 3)), make((3,)), make((3,)), value=2)]
_addcdiv.samples = lambda make: [
    Sample(make((2, 3)), make((2, 3)), make((2, 3), low=0.5, high=2)),
    Sample(make((2, 3)), make((3,)), make((2, 1), low=-2, high=-0.5), value=0.5),
    Sample(make(()), make((3,)), make((), low=0.5, high=2)), Sample(make((0, 3)), make((3,)), make((3,), low=0.5))]
_addcdiv.error_samples = lambda make: [ErrorSample(make((3,)), make((3,), 'int64'), make((3,), 'int64', low=1),
                                                   match='Integer division with addcdiv is no longer supported')]


__all__ = [
    'div_rounded', 'div_rounded_', 'floor_divide', 'floor_divide_', 'remainder', 'remainder_', 'fmod', 'fmod_', 'pow',
    'pow_', 'float_power', 'float_power_', 'atan2', 'atan2_', 'arctan2', 'arctan2_', 'hypot', 'hypot_', 'copysign',
    'copysign_', 'xlogy', 'xlogy_', 'heaviside', 'heaviside_', 'lerp', 'lerp_', 'addcmul', 'addcmul_', 'addcdiv',
    'addcdiv_']
TENSOR_METHODS = [n for n in __all__ if not n.startswith('div_rounded')]
