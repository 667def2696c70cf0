"""Pointwise ops: arithmetic, comparisons and the conversions between dtypes.

Binary ops promote their inputs to PyTorch's result type first
(``promote='common'``); ops that only make sense on floats also lift integers
to the default float dtype (``promote='float'``).  Derivative rules never
reduce broadcast gradients themselves: the engine sums each input gradient
back to that input's shape.
"""
import numpy as np

from ember import _dtype
from ember._tensor import Tensor
from ember.ops._dispatch import apply, apply_inplace, apply_out
from ember.ops._registry import Sample, ErrorSample, defop

_EMPTY = {}


def binary(xp_ufunc_name):
    """A forward kernel that calls ``xp.<name>(a, b)``."""
    def kernel(xp, a, b):
        return getattr(xp, xp_ufunc_name)(a, b)
    kernel.__name__ = xp_ufunc_name
    return kernel


def _binary_samples(make):
    return [Sample(make((2, 3)), make((2, 3))), Sample(make((2, 3)), make((3,))), Sample(make((4, 1)), make((1, 5))),
            Sample(make(()), make((3,))), Sample(make((2, 3)), 2.5), Sample(make((0, 3)), make((3,)))]


def _binary_errors(make):
    return [ErrorSample(make((2, 3)), make((4,)), match=r'size of tensor a \(3\) must match the size of tensor b \(4\)')]


# ----------------------------------------------------------------------------- add / sub / mul / div

@defop('add', promote='common', dtypes='all')
def _add(xp, a, b):
    return xp.add(a, b)


@_add.derivative
def _(F, ctx, grad):
    return grad, grad


@defop('sub', promote='common', dtypes='numeric')
def _sub(xp, a, b):
    return xp.subtract(a, b)


@_sub.derivative
def _(F, ctx, grad):
    return grad, F.neg(grad) if ctx.needs_input_grad[1] else None


@defop('mul', promote='common', save='inputs', dtypes='all')
def _mul(xp, a, b):
    return xp.multiply(a, b)


_mul.saved_for = {0: (1,), 1: (0,)}


@_mul.derivative
def _(F, ctx, grad):
    a, b = ctx.inputs
    ga = F.mul(grad, _conj_operand(F, b)) if ctx.needs_input_grad[0] else None
    gb = F.mul(grad, F.conj(a)) if ctx.needs_input_grad[1] else None
    return ga, gb


def _conj_operand(F, b):
    """conj(b) for a tensor/array or a Python number."""
    if isinstance(b, (int, float)):
        return b
    if isinstance(b, complex):
        return b.conjugate()
    return F.conj(b)


@defop('div', promote='float', save='inputs')
def _div(xp, a, b):
    return xp.true_divide(a, b)


_div.saved_for = {0: (1,), 1: (0, 1)}


@_div.derivative
def _(F, ctx, grad):
    a, b = ctx.inputs
    ga = F.div(grad, _conj_operand(F, b)) if ctx.needs_input_grad[0] else None
    gb = None
    if ctx.needs_input_grad[1]:
        gb = F.neg(F.div(F.mul(grad, F.conj(a)), F.conj(F.mul(b, b))))
    return ga, gb


@defop('neg', dtypes='numeric')
def _neg(xp, a):
    return xp.negative(a)


@_neg.derivative
def _(F, ctx, grad):
    return F.neg(grad)


@defop('conj', dtypes='all')
def _conj(xp, a):
    return xp.conj(a) if a.dtype.kind == 'c' else a


@_conj.derivative
def _(F, ctx, grad):
    return F.conj(grad)


def add(input, other, *, alpha=1, out=None):
    """Adds ``other``, scaled by ``alpha``, to ``input``."""
    if alpha != 1:
        other = mul(other, alpha) if isinstance(other, Tensor) else other * alpha
    if out is not None:
        return apply_out(_add, (input, other), _EMPTY, out)
    return apply(_add, (input, other))


def sub(input, other, *, alpha=1, out=None):
    """Subtracts ``other``, scaled by ``alpha``, from ``input``."""
    if input._dtype is _dtype.bool_ and isinstance(other, Tensor) and other._dtype is _dtype.bool_:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
                           "`logical_xor()` operator instead.")
    if input._dtype is _dtype.bool_ or (isinstance(other, Tensor) and other._dtype is _dtype.bool_):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying "
                           "to invert a mask, use the `~` or `logical_not()` operator instead.")
    if alpha != 1:
        other = mul(other, alpha) if isinstance(other, Tensor) else other * alpha
    if out is not None:
        return apply_out(_sub, (input, other), _EMPTY, out)
    return apply(_sub, (input, other))


subtract = sub


def rsub(input, other, *, alpha=1):
    """``other - alpha * input``."""
    if isinstance(other, Tensor):
        return sub(other, input, alpha=alpha)
    return add(neg(input) if alpha == 1 else mul(input, -alpha), other)


def mul(input, other, *, out=None):
    """Multiplies ``input`` by ``other`` elementwise."""
    if out is not None:
        return apply_out(_mul, (input, other), _EMPTY, out)
    if not isinstance(input, Tensor):
        input, other = other, input
    return apply(_mul, (input, other))


multiply = mul


def div(input, other, *, rounding_mode=None, out=None):
    """Divides ``input`` by ``other``; ``rounding_mode`` None (true division), 'trunc' or 'floor'."""
    if rounding_mode is not None:
        from ember.ops import pointwise_math
        return pointwise_math.div_rounded(input, other, rounding_mode, out=out)
    if out is not None:
        return apply_out(_div, (input, other), _EMPTY, out)
    return apply(_div, (input, other))


divide = true_divide = div


def rdiv(input, other):
    """``other / input`` for a scalar ``other``."""
    return div(scalar_like(other, input), input)


def scalar_like(value, like):
    """A 0-dim tensor holding Python scalar ``value``, typed as PyTorch would type it against ``like``."""
    if isinstance(value, Tensor):
        return value
    d = _dtype.result_type_of([like, value])
    t = Tensor._make(np.asarray(value, dtype=d.np), like._device)
    return t


def neg(input, *, out=None):
    """Returns ``-input``."""
    if input._dtype is _dtype.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.")
    if out is not None:
        return apply_out(_neg, (input,), _EMPTY, out)
    return apply(_neg, (input,))


negative = neg


def conj(input):
    """Complex conjugate (``input`` itself for real tensors)."""
    if input._dtype.category != _dtype.COMPLEX:
        return input
    return apply(_conj, (input,))


def add_(self, other, *, alpha=1):
    if alpha != 1:
        other = mul(other, alpha) if isinstance(other, Tensor) else other * alpha
    return apply_inplace(_add, self, (other,))


def sub_(self, other, *, alpha=1):
    if alpha != 1:
        other = mul(other, alpha) if isinstance(other, Tensor) else other * alpha
    return apply_inplace(_sub, self, (other,))


def mul_(self, other):
    return apply_inplace(_mul, self, (other,))


def div_(self, other, *, rounding_mode=None):
    if rounding_mode is not None:
        from ember.ops import pointwise_math
        return pointwise_math.div_rounded_(self, other, rounding_mode)
    return apply_inplace(_div, self, (other,))


def neg_(self):
    return apply_inplace(_neg, self, ())


for _op in (_add, _sub, _mul, _div):
    _op.samples = _binary_samples
    _op.error_samples = _binary_errors
_div.samples = lambda make: [Sample(make((2, 3)), make((2, 3), low=0.5, high=2.0)),
                             Sample(make((2, 3)), make((3,), low=0.5, high=2.0)),
                             Sample(make((2, 3)), 2.5), Sample(make((0, 3)), make((3,), low=0.5))]
_neg.samples = lambda make: [Sample(make((2, 3))), Sample(make(())), Sample(make((0,)))]
_conj.samples = None


# ----------------------------------------------------------------------------- dtype conversion

@defop('to_dtype', dtypes='all', grad_name='ToCopyBackward0', public=None)
def _to_dtype(xp, a, dtype):
    return a.astype(dtype.np)


@_to_dtype.derivative
def _(F, ctx, grad):
    return F.to_dtype(grad, dtype=ctx.input_meta[0][1])


def to_dtype(input, dtype):
    """``input`` converted to ``dtype`` (differentiable between float and complex types)."""
    if input._dtype is dtype:
        return input
    return apply(_to_dtype, (input,), {'dtype': dtype})


TENSOR_METHODS = ['add', 'sub', 'subtract', 'mul', 'multiply', 'div', 'divide', 'true_divide', 'neg', 'negative',
                  'conj', 'add_', 'sub_', 'mul_', 'div_', 'neg_']
