"""Comparisons, logical and bitwise ops, maximum/minimum, ``where`` and the complex parts.

Comparisons promote their inputs to the common dtype first and return bool
tensors; they have no gradient.  ``maximum``/``minimum`` split the gradient of
tied elements in half, as PyTorch does.
"""
import math

import numpy as np

from ember import _dtype
from ember._tensor import Tensor
from ember.ops._dispatch import apply, apply_inplace, apply_out, scalar_type_name
from ember.ops._registry import Sample, ErrorSample, defop
from ember.ops.pointwise_math import check_tensor, not_implemented, quiet

_EMPTY = {}
_NUMBERS = (int, float, bool, complex, np.generic)


def _pair_samples(make):
    return [Sample(make((2, 3)), make((2, 3))), Sample(make((2, 3)), make((3,))), Sample(make((4, 1)), make((1, 5))),
            Sample(make(()), make((3,))), Sample(make((2, 3)), 0.5), Sample(make((0, 3)), make((3,))),
            Sample(make((5,), 'int64', low=-3, high=3), make((5,), 'int64', low=-3, high=3))]


def _broadcast_errors(make):
    return [ErrorSample(make((2, 3)), make((4,)),
                        match=r'size of tensor a \(3\) must match the size of tensor b \(4\)')]


def _binary_public(op, name, doc, scalar_other=True, check=None):
    def fn(input, other, *, out=None):
        if not isinstance(input, Tensor):
            check_tensor(input, name)
        if not scalar_other and not isinstance(other, Tensor):
            raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
        if check is not None:
            check(input, other)
        if out is not None:
            return apply_out(op, (input, other), _EMPTY, out)
        return apply(op, (input, other))

    def fn_(self, other):
        if check is not None:
            check(self, other)
        return apply_inplace(op, self, (other,))
    fn.__name__ = fn.__qualname__ = name
    fn_.__name__ = fn_.__qualname__ = name + '_'
    fn.__doc__ = doc
    fn_.__doc__ = f"In-place version of :func:`{name}`."
    return fn, fn_


# ----------------------------------------------------------------------------- eq / ne / lt / le / gt / ge

def _ordered(name):
    def check(input, other):
        if _dtype.result_type_of([input, other]).category == _dtype.COMPLEX:
            raise not_implemented(name, _dtype.result_type_of([input, other]))
    return check


def _comparison(name, ufunc, doc):
    op = defop(name, promote='common', dtypes='all', gradcheck=False)(
        lambda xp, a, b: getattr(xp, ufunc)(a, b))
    op.samples = _pair_samples
    op.error_samples = _broadcast_errors
    fn, fn_ = _binary_public(op, name, doc, check=None if name in ('eq', 'ne') else _ordered(name))
    return op, fn, fn_


_eq, _eq_fn, eq_ = _comparison('eq', 'equal', "Elementwise ``input == other`` (a bool tensor).")
_ne, _ne_fn, ne_ = _comparison('ne', 'not_equal', "Elementwise ``input != other`` (a bool tensor).")
_lt, lt, lt_ = _comparison('lt', 'less', "Elementwise ``input < other`` (a bool tensor).")
_le, le, le_ = _comparison('le', 'less_equal', "Elementwise ``input <= other`` (a bool tensor).")
_gt, gt, gt_ = _comparison('gt', 'greater', "Elementwise ``input > other`` (a bool tensor).")
_ge, ge, ge_ = _comparison('ge', 'greater_equal', "Elementwise ``input >= other`` (a bool tensor).")


def eq(input, other, *, out=None):
    """Elementwise ``input == other`` (a bool tensor)."""
    if other is None or not isinstance(other, (Tensor,) + _NUMBERS):
        if out is None and isinstance(input, Tensor) and not isinstance(other, (list, tuple)):
            return False  # ``t == None`` is False, as in PyTorch
    return _eq_fn(input, other, out=out)


def ne(input, other, *, out=None):
    """Elementwise ``input != other`` (a bool tensor)."""
    if other is None or not isinstance(other, (Tensor,) + _NUMBERS):
        if out is None and isinstance(input, Tensor) and not isinstance(other, (list, tuple)):
            return True
    return _ne_fn(input, other, out=out)


greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
greater_, greater_equal_, less_, less_equal_, not_equal_ = gt_, ge_, lt_, le_, ne_


# ----------------------------------------------------------------------------- maximum / minimum / fmax / fmin

def _maximum_rule(F, ctx, g, loses_a, loses_b):
    a, b = ctx.inputs
    need = ctx.needs_input_grad
    tie = F.eq(a, b)
    half = g * 0.5
    ga = F.where(tie, half, F.where(loses_a(F, a, b), 0.0, g)) if need[0] else None
    gb = F.where(tie, half, F.where(loses_b(F, a, b), 0.0, g)) if need[1] else None
    return ga, gb


@defop('maximum', promote='common', save='inputs', dtypes='numeric')
def _maximum(xp, a, b):
    return xp.maximum(a, b)


@defop('minimum', promote='common', save='inputs', dtypes='numeric')
def _minimum(xp, a, b):
    return xp.minimum(a, b)


@_maximum.derivative
def _(F, ctx, g):
    return _maximum_rule(F, ctx, g, lambda F, a, b: F.lt(a, b), lambda F, a, b: F.gt(a, b))


@_minimum.derivative
def _(F, ctx, g):
    return _maximum_rule(F, ctx, g, lambda F, a, b: F.gt(a, b), lambda F, a, b: F.lt(a, b))


@defop('fmax', promote='common', save='inputs', dtypes='numeric')
def _fmax(xp, a, b):
    return xp.fmax(a, b)


@defop('fmin', promote='common', save='inputs', dtypes='numeric')
def _fmin(xp, a, b):
    return xp.fmin(a, b)


def _fmax_rule(F, ctx, g, wins):
    a, b = ctx.inputs
    pick_a = F.logical_or(wins(a, b), F.isnan(b))
    return F.where(pick_a, g, 0.0), (F.where(pick_a, 0.0, g) if ctx.needs_input_grad[1] else None)


@_fmax.derivative
def _(F, ctx, g):
    return _fmax_rule(F, ctx, g, F.ge)


@_fmin.derivative
def _(F, ctx, g):
    return _fmax_rule(F, ctx, g, F.le)


def _no_complex(name):
    def check(input, other):
        if input._dtype.category == _dtype.COMPLEX or other._dtype.category == _dtype.COMPLEX:
            raise RuntimeError(f"{name} not implemented for complex tensors.")
    return check


maximum, _ = _binary_public(_maximum, 'maximum', "Elementwise maximum (NaN propagates).", False,
                            _no_complex('maximum'))
minimum, _ = _binary_public(_minimum, 'minimum', "Elementwise minimum (NaN propagates).", False,
                            _no_complex('minimum'))
fmax, _ = _binary_public(_fmax, 'fmax', "Elementwise maximum, ignoring NaN where the other value is a number.", False,
                         _no_complex('fmax'))
fmin, _ = _binary_public(_fmin, 'fmin', "Elementwise minimum, ignoring NaN where the other value is a number.", False,
                         _no_complex('fmin'))


def _minmax_samples(make, tie_grad=True):
    tie = make((2, 3))
    return [Sample(make((2, 3)), make((2, 3))), Sample(make((2, 3)), make((3,))), Sample(make(()), make((3,))),
            Sample(tie, tie.copy(), grad=tie_grad), Sample(make((0, 3)), make((3,))),
            Sample(np.array([np.nan, 1.0, 2.0], np.float32), np.array([0.5, np.nan, 3.0], np.float32), grad=False),
            Sample(make((5,), 'int64', low=-3, high=3), make((5,), 'int64', low=-3, high=3))]


for _op in (_maximum, _minimum, _fmax, _fmin):
    _op.samples = _minmax_samples
    _op.error_samples = _broadcast_errors
# fmax/fmin give a tie's whole gradient to ``input``: finite differences see half of it
_fmax.samples = _fmin.samples = lambda make: _minmax_samples(make, tie_grad=False)


# ----------------------------------------------------------------------------- where

@defop('where', promote='common', promote_skip=1, save='inputs', dtypes='all')
def _where(xp, cond, a, b):
    return xp.where(cond, a, b)


@_where.derivative
def _(F, ctx, g):
    cond = ctx.inputs[0]
    need = ctx.needs_input_grad
    return None, (F.where(cond, g, 0.0) if need[1] else None), (F.where(cond, 0.0, g) if need[2] else None)


def where(condition, input=None, other=None, *, out=None):
    """Elements of ``input`` where ``condition`` holds, else of ``other`` (either may be a number)."""
    if input is None and other is None:
        from ember.ops import indexing
        return indexing.nonzero(condition, as_tuple=True)
    if not isinstance(condition, Tensor):
        check_tensor(condition, 'where', 'condition')
    if condition._dtype is _dtype.uint8:
        condition = condition.to(_dtype.bool_)
    elif condition._dtype is not _dtype.bool_:
        raise RuntimeError("where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{scalar_type_name(condition._dtype)}")
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        from ember.ops.creation import tensor
        input = tensor(input, device=condition._device)
    from ember.ops.pointwise import scalar_like
    if not isinstance(input, Tensor):
        input = scalar_like(input, other)
    if out is not None:
        return apply_out(_where, (condition, input, other), _EMPTY, out)
    return apply(_where, (condition, input, other))


def _where_samples(make):
    c = make((2, 3), 'bool')
    return [Sample(c, make((2, 3)), make((2, 3))), Sample(c, make((3,)), make((2, 1))), Sample(c, make((2, 3)), 0.5),
            Sample(c, 1.5, make((3,))), Sample(np.asarray(make((), 'bool')), make((3,)), make(())),
            Sample(make((0, 3), 'bool'), make((3,)), make((3,))), Sample(c, 1.5, 0, grad=False),
            Sample(c, make((3,), 'int64'), 0.5, grad=False)]


_where.samples = _where_samples
_where.error_samples = lambda make: [
    ErrorSample(make((3,)), make((3,)), make((3,)), match='where expected condition to be a boolean tensor')]


# ----------------------------------------------------------------------------- logical and bitwise

def _logical(name, ufunc, doc):
    op = defop(name, dtypes='all', gradcheck=False)(lambda xp, a, b: getattr(xp, ufunc)(a, b))
    op.samples = lambda make: [Sample(make((2, 3)) > 0, make((2, 3)) > 0), Sample(make((2, 3)), make((3,), 'int64')),
                               Sample(make(()), make((3,))), Sample(make((0, 3)), make((3,)) > 0)]
    op.error_samples = _broadcast_errors
    fn, fn_ = _binary_public(op, name, doc, scalar_other=False)
    return op, fn, fn_


_logical_and, logical_and, logical_and_ = _logical('logical_and', 'logical_and', "Elementwise logical AND.")
_logical_or, logical_or, logical_or_ = _logical('logical_or', 'logical_or', "Elementwise logical OR.")
_logical_xor, logical_xor, logical_xor_ = _logical('logical_xor', 'logical_xor', "Elementwise logical XOR.")


@defop('logical_not', dtypes='all', gradcheck=False)
def _logical_not(xp, a):
    return xp.logical_not(a)


def logical_not(input, *, out=None):
    """Elementwise logical NOT (a bool tensor)."""
    if out is not None:
        return apply_out(_logical_not, (input,), _EMPTY, out)
    return apply(_logical_not, (input,))


def logical_not_(self):
    """In-place version of :func:`logical_not`."""
    return apply_inplace(_logical_not, self, ())


_logical_not.samples = lambda make: [Sample(make((2, 3))), Sample(make((3,)) > 0),
                                     Sample(np.asarray(make((), 'int64'))),
                                     Sample(make((0,)))]


_KERNEL_NAMES = {'bitwise_left_shift': 'lshift', 'bitwise_right_shift': 'rshift'}


def _bitwise_check(name):
    def check(input, other=None):
        d = _dtype.result_type_of([input] if other is None else [input, other])
        if d.category > _dtype.INT:
            raise not_implemented(_KERNEL_NAMES.get(name, name), d)
    return check


def _shift_kernel(left):
    def kernel(xp, a, b):
        bits = a.dtype.itemsize * 8
        b = xp.asarray(b)
        out_of_range = (b < 0) | (b >= bits)
        safe = xp.where(out_of_range, bits - 1 if not left else 0, b).astype(a.dtype, copy=False)
        if left:
            return xp.where(out_of_range, 0, xp.left_shift(a, safe)).astype(a.dtype, copy=False)
        return xp.right_shift(a, safe)
    return kernel


def _bitwise(name, kernel, doc):
    op = defop(name, promote='common', dtypes='integral', gradcheck=False)(kernel)
    op.samples = lambda make: [
        Sample(make((2, 3), 'int64', low=-9, high=9), make((2, 3), 'int64', low=0, high=5)),
        Sample(make((2, 3), 'int32', low=-9, high=9), make((3,), 'int64', low=0, high=5)),
        Sample(make((4,), 'int16', low=-9, high=9), 3),
        Sample(np.asarray(make((), 'uint8', high=9)), make((3,), 'uint8', high=5)),
        Sample(make((0, 3), 'int64'), make((3,), 'int64')), Sample(make((2, 3), 'bool'), make((2, 3), 'bool'))]
    label = _KERNEL_NAMES.get(name, name)
    op.error_samples = lambda make: [
        ErrorSample(make((2,)), make((2,)), error=NotImplementedError, match=f'"{label}_cpu" not implemented for '
                    "'Float'")]
    fn, fn_ = _binary_public(op, name, doc, check=_bitwise_check(name))
    return op, fn, fn_


_bitwise_and, bitwise_and, bitwise_and_ = _bitwise('bitwise_and', lambda xp, a, b: xp.bitwise_and(a, b),
                                                   "Elementwise bitwise AND (logical AND for bool).")
_bitwise_or, bitwise_or, bitwise_or_ = _bitwise('bitwise_or', lambda xp, a, b: xp.bitwise_or(a, b),
                                                "Elementwise bitwise OR (logical OR for bool).")
_bitwise_xor, bitwise_xor, bitwise_xor_ = _bitwise('bitwise_xor', lambda xp, a, b: xp.bitwise_xor(a, b),
                                                   "Elementwise bitwise XOR (logical XOR for bool).")
_lshift, bitwise_left_shift, bitwise_left_shift_ = _bitwise(
    'bitwise_left_shift', _shift_kernel(True), "``input << other``; shifts past the width give 0.")
_rshift, bitwise_right_shift, bitwise_right_shift_ = _bitwise(
    'bitwise_right_shift', _shift_kernel(False), "Arithmetic ``input >> other``.")
for _op in (_lshift, _rshift):
    _op.samples = lambda make: [
        Sample(make((2, 3), 'int64', low=-9, high=9), make((2, 3), 'int64', low=0, high=5)),
        Sample(make((4,), 'int32', low=-9, high=9), 2), Sample(make((), 'int64', low=-9, high=9), make((3,), 'int64')),
        Sample(np.array([1, -8, 3], np.int64), np.array([70, 64, -1], np.int64)), Sample(make((0,), 'int64'), 1)]


@defop('bitwise_not', dtypes='integral', gradcheck=False)
def _bitwise_not(xp, a):
    return xp.invert(a)


def bitwise_not(input, *, out=None):
    """Elementwise bitwise NOT (logical NOT for bool)."""
    _bitwise_check('bitwise_not')(input)
    if out is not None:
        return apply_out(_bitwise_not, (input,), _EMPTY, out)
    return apply(_bitwise_not, (input,))


def bitwise_not_(self):
    """In-place version of :func:`bitwise_not`."""
    _bitwise_check('bitwise_not')(self)
    return apply_inplace(_bitwise_not, self, ())


_bitwise_not.samples = lambda make: [Sample(make((2, 3), 'int64')), Sample(make((3,), 'bool')),
                                     Sample(np.asarray(make((), 'uint8', high=200)))]
_bitwise_not.error_samples = lambda make: [
    ErrorSample(make((2,)), error=NotImplementedError, match='"bitwise_not_cpu" not implemented for \'Float\'')]


# ----------------------------------------------------------------------------- isnan and friends

def _test(name, kernel, doc, complex_error=False):
    op = defop(name, dtypes='all', gradcheck=False)(kernel)
    op.samples = lambda make: [Sample(np.array([np.nan, np.inf, -np.inf, 0.0, -1.5], np.float32)),
                               Sample(make((2, 3))), Sample(make((3,), 'int64')), Sample(make(()))]

    def fn(input):
        check_tensor(input, name)
        if complex_error and input._dtype.category == _dtype.COMPLEX:
            raise RuntimeError(f"{name} does not support complex inputs.")
        return apply(op, (input,))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return op, fn


def _isposinf_kernel(xp, a):
    return xp.isposinf(a) if a.dtype.kind == 'f' else xp.zeros(a.shape, dtype=bool)


def _isneginf_kernel(xp, a):
    return xp.isneginf(a) if a.dtype.kind == 'f' else xp.zeros(a.shape, dtype=bool)


_isnan, isnan = _test('isnan', lambda xp, a: xp.isnan(a), "True where ``input`` is NaN.")
_isinf, isinf = _test('isinf', lambda xp, a: xp.isinf(a), "True where ``input`` is +inf or -inf.")
_isfinite, isfinite = _test('isfinite', lambda xp, a: xp.isfinite(a), "True where ``input`` is finite.")
_isposinf, isposinf = _test('isposinf', _isposinf_kernel, "True where ``input`` is +inf.", True)
_isneginf, isneginf = _test('isneginf', _isneginf_kernel, "True where ``input`` is -inf.", True)
_isreal, isreal = _test('isreal', lambda xp, a: xp.imag(a) == 0 if a.dtype.kind == 'c' else xp.ones(a.shape, bool),
                        "True where ``input`` has no imaginary part.")
_signbit, signbit = _test('signbit', lambda xp, a: xp.signbit(a) if a.dtype.kind == 'f' else a < 0,
                          "True where the sign bit of ``input`` is set.", True)


@defop('isclose', dtypes='all', gradcheck=False)
@quiet
def _isclose(xp, a, b, rtol, atol, equal_nan):
    close = a == b
    if a.dtype.kind in 'fc':
        if equal_nan:
            close |= xp.isnan(a) & xp.isnan(b)
        diff = xp.abs(a - b)
        close |= xp.isfinite(diff) & (diff <= atol + xp.abs(rtol * b))
    elif a.dtype.kind != 'b':
        diff = xp.abs(a.astype(xp.float64) - b)
        close |= diff <= atol + xp.abs(rtol * b.astype(xp.float64))
    return close


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True where ``|input - other| <= atol + rtol * |other|`` (and where both are equal or both NaN)."""
    if input._dtype is not other._dtype:
        raise RuntimeError(f"{scalar_type_name(input._dtype)} did not match {scalar_type_name(other._dtype)}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    return apply(_isclose, (input, other), {'rtol': rtol, 'atol': atol, 'equal_nan': equal_nan})


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True if ``isclose`` holds for every element."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input, other):
    """True if both tensors have the same shape and equal elements."""
    if input.shape != other.shape:
        return False
    return bool(_eq_fn(input, other)._data.all())


_isclose.samples = lambda make: [
    Sample(np.array([1.0, np.nan, 2.0, np.inf], np.float32), np.array([1.0 + 1e-6, np.nan, 2.1, np.inf], np.float32)),
    Sample(np.array([1.0, np.nan], np.float32), np.array([1.0, np.nan], np.float32), equal_nan=True),
    Sample(make((2, 3)), make((3,)), rtol=0.5, atol=0.5), Sample(make((3,), 'int64'), make((3,), 'int64'), atol=1)]
_isclose.error_samples = lambda make: [
    ErrorSample(make((3,)), make((3,), 'float64'), match='Float did not match Double')]


# ----------------------------------------------------------------------------- real / imag / angle

@defop('real', view=True, dtypes='all', grad_name='RealBackward0')
def _real(xp, a):
    return a.real


@_real.derivative
def _(F, ctx, g):
    return g


@defop('imag', view=True, dtypes='all', grad_name='ImagBackward0')
def _imag(xp, a):
    return a.imag


@_imag.derivative
def _(F, ctx, g):
    return g * 1j


def real(input):
    """The real part of ``input`` (a view for complex tensors, ``input`` itself otherwise)."""
    if input._dtype.category != _dtype.COMPLEX:
        return input
    return apply(_real, (input,))


def imag(input):
    """The imaginary part of a complex ``input`` (a view)."""
    if input._dtype.category != _dtype.COMPLEX:
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return apply(_imag, (input,))


_real.samples = lambda make: [Sample(make((2, 3), 'complex64')), Sample(make((3,)))]
_imag.samples = lambda make: [Sample(make((2, 3), 'complex64'))]
_imag.error_samples = lambda make: [
    ErrorSample(make((3,)), match='imag is not implemented for tensors with non-complex')]


@defop('angle', promote='float', save='inputs', dtypes='all')
def _angle(xp, a):
    if a.dtype.kind == 'c':
        return xp.angle(a)
    return xp.where(xp.isnan(a), a, xp.where(a < 0, math.pi, 0)).astype(a.dtype, copy=False)


@_angle.derivative
def _(F, ctx, g):
    a = ctx.inputs[0]
    if F.dtype_of(a).category != _dtype.COMPLEX:
        return F.zeros_like(g)
    mag2 = F.real(a * F.conj(a))
    zero = F.eq(mag2, 0)
    return F.where(zero, 0.0, g * a / F.where(zero, 1.0, mag2) * 1j)


def angle(input, *, out=None):
    """The argument of each element (0 or pi for real inputs)."""
    if out is not None:
        return apply_out(_angle, (input,), _EMPTY, out)
    return apply(_angle, (input,))


_angle.samples = lambda make: [Sample(make((2, 3))), Sample(make((4,), 'complex64')), Sample(make((3,), 'int64')),
                               Sample(np.array([-1.0, 0.0, -0.0, np.nan], np.float32), grad=False)]


TENSOR_METHODS = [
    'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'greater', 'greater_equal', 'less', 'less_equal', 'not_equal',
    'eq_', 'ne_', 'lt_', 'le_', 'gt_', 'ge_', 'greater_', 'greater_equal_', 'less_', 'less_equal_', 'not_equal_',
    'maximum', 'minimum', 'fmax', 'fmin', 'logical_and', 'logical_or', 'logical_xor', 'logical_not',
    'logical_and_', 'logical_or_', 'logical_xor_', 'logical_not_', 'bitwise_and', 'bitwise_or', 'bitwise_xor',
    'bitwise_not', 'bitwise_left_shift', 'bitwise_right_shift', 'bitwise_and_', 'bitwise_or_', 'bitwise_xor_',
    'bitwise_not_', 'bitwise_left_shift_', 'bitwise_right_shift_', 'isnan', 'isinf', 'isfinite', 'isposinf',
    'isneginf', 'isreal', 'signbit', 'isclose', 'allclose', 'equal', 'angle']


def _where_method(self, condition, other):
    """``self.where(condition, other)`` is ``where(condition, self, other)``."""
    return where(condition, self, other)


Tensor.where = _where_method
