"""Activation functions of ``nn.functional``.

Most activations are ops of ``ember/ops/activation.py`` (one graph node each);
the functions here give them torch's ``nn.functional`` signatures.  The ones
that only ``nn.functional`` has (logsigmoid, softshrink, hardshrink, prelu,
glu) are entered into the op table here, with their samples, so the generic
tests check them against torch.  softmax, log_softmax and softmin keep torch's
implicit-``dim`` warning.
"""
import warnings

from ember import _dtype
from ember._tensor import Tensor
from ember.autograd import grad_mode
from ember.ops import activation as _act
from ember.ops import pointwise_math as _pm
from ember.ops import reduction_stats as _rs
from ember.ops._dispatch import apply, apply_inplace, scalar_type_name
from ember.ops._registry import ErrorSample, Sample, composite, defop
from ember.ops.pointwise_math import quiet

__all__ = ['relu', 'relu_', 'relu6', 'elu', 'elu_', 'selu', 'selu_', 'celu', 'celu_', 'leaky_relu', 'leaky_relu_',
           'prelu', 'rrelu', 'rrelu_', 'glu', 'gelu', 'silu', 'mish', 'hardtanh', 'hardtanh_', 'hardswish',
           'hardsigmoid', 'logsigmoid', 'softplus', 'softshrink', 'hardshrink', 'tanhshrink', 'softsign',
           'threshold', 'threshold_', 'sigmoid', 'tanh', 'softmax', 'softmin', 'log_softmax', 'gumbel_softmax']

_EMPTY = {}


def _check(input, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")


def _require_float(input, kernel):
    if input._dtype.category != _dtype.FLOAT:
        raise NotImplementedError(f'"{kernel}_cpu" not implemented for \'{scalar_type_name(input._dtype)}\'')


def _run(op, input, params, inplace=False):
    if inplace:
        return apply_inplace(op, input, (), params)
    return apply(op, (input,), params)


# ----------------------------------------------------------------------------- forwarding to ember.ops

# the op-table functions already have nn.functional's signatures
relu = _act.relu
relu6 = _act.relu6
leaky_relu = _act.leaky_relu
gelu = _act.gelu
silu = _act.silu
mish = _act.mish
hardtanh = _act.hardtanh
softplus = _act.softplus
tanhshrink = _act.tanhshrink
softsign = _act.softsign
threshold = _act.threshold



def relu_(input):
    """In-place :func:`relu`."""
    return _act.relu(input, True)


def elu(input, alpha=1.0, inplace=False):
    """``x`` for positive ``x``, ``alpha * (exp(x) - 1)`` otherwise."""
    _require_float(input, 'elu')
    return _act.elu(input, alpha, inplace)


def elu_(input, alpha=1.0):
    """In-place :func:`elu`."""
    return elu(input, alpha, True)


def selu(input, inplace=False):
    """Scaled ELU with the self-normalising constants."""
    _require_float(input, 'elu')
    return _act.selu(input, inplace)


def selu_(input):
    """In-place :func:`selu`."""
    return selu(input, True)


def celu(input, alpha=1.0, inplace=False):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``."""
    _require_float(input, 'elu')
    return _act.celu(input, alpha, inplace)


def celu_(input, alpha=1.0):
    """In-place :func:`celu`."""
    return celu(input, alpha, True)


def leaky_relu_(input, negative_slope=0.01):
    """In-place :func:`leaky_relu`."""
    return _act.leaky_relu(input, negative_slope, True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    """In-place :func:`hardtanh`."""
    return _act.hardtanh(input, min_val, max_val, True)


def hardswish(input, inplace=False):
    """``x * relu6(x + 3) / 6``."""
    _require_float(input, 'hardswish')
    return _act.hardswish(input, inplace)


def hardsigmoid(input, inplace=False):
    """``relu6(x + 3) / 6``."""
    _require_float(input, 'hardsigmoid')
    return _act.hardsigmoid(input, inplace)


def threshold_(input, threshold, value):
    """In-place :func:`threshold`."""
    return _act.threshold(input, threshold, value, True)


def sigmoid(input):
    """``1 / (1 + exp(-x))`` (deprecated in torch's ``nn.functional`` in favour of ``torch.sigmoid``)."""
    return _act.sigmoid(input)


def tanh(input):
    """Hyperbolic tangent (deprecated in torch's ``nn.functional`` in favour of ``torch.tanh``)."""
    return _pm.tanh(input)


# ----------------------------------------------------------------------------- logsigmoid, shrinks

@defop('logsigmoid', save='inputs', public='nn.functional.logsigmoid', grad_name='LogSigmoidBackward0')
@quiet
def _logsigmoid(xp, a):
    # NOTE: min(x, 0) - log1p(exp(-|x|)) never overflows, for either sign of x.
    return xp.minimum(a, 0) - xp.log1p(xp.exp(-xp.abs(a)))


@_logsigmoid.derivative
def _(F, ctx, g):
    return g * F.sigmoid(F.neg(ctx.inputs[0]))


def logsigmoid(input):
    """``log(1 / (1 + exp(-x)))``, computed without overflow."""
    _check(input, 'log_sigmoid')
    _require_float(input, 'log_sigmoid')
    return apply(_logsigmoid, (input,))


def _shrink_check(input, lambd, name):
    _check(input, name)
    _require_float(input, name)
    if name == 'softshrink' and not lambd >= 0:
        raise RuntimeError(f"lambda must be in range [0, 3.40282e+38] for input dtype "
                           f"{scalar_type_name(input._dtype)}, but found {lambd:g}")


@defop('softshrink', save='inputs', public='nn.functional.softshrink')
def _softshrink(xp, a, lambd):
    return xp.where(a > lambd, a - lambd, xp.where(a < -lambd, a + lambd, 0)).astype(a.dtype, copy=False)


@_softshrink.derivative
def _(F, ctx, g):
    lambd = ctx.params['lambd']
    return F.where(F.gt(F.abs(ctx.inputs[0]), lambd), g, 0.0)


def softshrink(input, lambd=0.5):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, 0 in between."""
    _shrink_check(input, lambd, 'softshrink')
    return apply(_softshrink, (input,), {'lambd': lambd})


@defop('hardshrink', save='inputs', public='nn.functional.hardshrink')
def _hardshrink(xp, a, lambd):
    return xp.where(xp.abs(a) > lambd, a, 0).astype(a.dtype, copy=False)


@_hardshrink.derivative
def _(F, ctx, g):
    return F.where(F.gt(F.abs(ctx.inputs[0]), ctx.params['lambd']), g, 0.0)


def hardshrink(input, lambd=0.5):
    """``x`` where ``|x| > lambd``, else 0."""
    _shrink_check(input, lambd, 'hardshrink')
    return apply(_hardshrink, (input,), {'lambd': lambd})


def _std_samples(low=-2.0, high=2.0, **kw):
    def samples(make):
        return [Sample(make((2, 3), low=low, high=high), **kw), Sample(make((), low=low, high=high), **kw),
                Sample(make((0, 2)), **kw), Sample(make((5,), 'float64', low=low, high=high), **kw)]
    return samples


_logsigmoid.samples = lambda make: _std_samples(-4, 4)(make) + [Sample(make((3,), low=-60, high=60), grad=False)]
_softshrink.samples = lambda make: _std_samples()(make) + [Sample(make((2, 3)), 0.7), Sample(make((4,)), lambd=0.0)]
_softshrink.error_samples = lambda make: [ErrorSample(make((3,)), -1.0, match='lambda must be in range')]
_hardshrink.samples = lambda make: _std_samples()(make) + [Sample(make((2, 3)), 0.7), Sample(make((4,)), lambd=1.5)]


# ----------------------------------------------------------------------------- prelu, rrelu

@defop('prelu', save='inputs', public='nn.functional.prelu', grad_name='PreluKernelBackward0')
def _prelu(xp, a, w):
    return xp.where(a > 0, a, a * w).astype(a.dtype, copy=False)


@_prelu.derivative
def _(F, ctx, g):
    a, w = ctx.inputs
    need_a, need_w = ctx.needs_input_grad
    positive = F.gt(a, 0)
    ga = F.where(positive, g, g * w) if need_a else None
    gw = F.where(positive, 0.0, g * a) if need_w else None   # the engine sums it back to w's shape
    return ga, gw


def prelu(input, weight):
    """``max(0, x) + weight * min(0, x)``; ``weight`` has one element or one per channel (dim 1)."""
    _check(input, 'prelu')
    if not isinstance(weight, Tensor):
        raise TypeError(f"prelu(): argument 'weight' (position 2) must be Tensor, not {type(weight).__name__}")
    if input._dtype is not weight._dtype:
        raise RuntimeError(f"expected scalar type {scalar_type_name(input._dtype)} but found "
                           f"{scalar_type_name(weight._dtype)}")
    n = weight.numel()
    if weight._data.ndim > 1 and input._data.ndim > 0:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = "
                           f"{weight._data.ndim}")
    if n != 1:
        channels = input.shape[1] if input._data.ndim >= 2 else 1
        if n != channels:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                               f"{n} and channel size = {channels}.")
        weight = weight.reshape((n,) + (1,) * (input._data.ndim - 2))
    elif weight._data.ndim > 0 and input._data.ndim == 0:
        weight = weight.reshape(())
    return apply(_prelu, (input, weight))


_prelu.samples = lambda make: [
    Sample(make((2, 3, 4)), make((3,))), Sample(make((2, 3)), make((1,))), Sample(make((4,)), make((1,))),
    Sample(make((2, 3, 2, 2)), make((3,))), Sample(make(()), make(())), Sample(make((0, 3)), make((3,)))]
_prelu.error_samples = lambda make: [
    ErrorSample(make((2, 3)), make((2,)), match='Mismatch of parameter numbers and input channel size')]


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Leaky ReLU with a random slope in ``[lower, upper]`` per element (training) or their mean (eval)."""
    _check(input, 'rrelu')
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    _require_float(input, 'rrelu_with_noise')
    import ember
    with grad_mode.no_grad():
        slopes = ember.empty_like(input).uniform_(lower, upper)
        slopes = ember.where(input > 0, ember.ones_like(input), slopes)
    if inplace:
        return input.mul_(slopes)
    return input * slopes


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    """In-place :func:`rrelu`."""
    return rrelu(input, lower, upper, training, True)


# ----------------------------------------------------------------------------- glu

@defop('glu', save='inputs', public='nn.functional.glu')
@quiet
def _glu(xp, a, dim):
    half = a.shape[dim] // 2
    first = a[(slice(None),) * dim + (slice(0, half),)]
    second = a[(slice(None),) * dim + (slice(half, None),)]
    return first / (1 + xp.exp(-second))


@_glu.derivative
def _(F, ctx, g):
    a = ctx.inputs[0]
    dim = ctx.params['dim']
    half = a.shape[dim] // 2
    first = F.narrow(a, dim=dim, start=0, length=half)
    gate = F.sigmoid(F.narrow(a, dim=dim, start=half, length=half))
    g_first = g * gate
    g_second = g_first * first * (1 - gate)
    return F.cat([g_first, g_second], dim=dim)


def glu(input, dim=-1):
    """Gated linear unit: ``a * sigmoid(b)`` where ``a, b`` are the halves of ``input`` along ``dim``."""
    _check(input, 'glu')
    nd = input._data.ndim
    if nd == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    from ember.ops._util import wrap_dim
    d = wrap_dim(dim, nd)
    if input.shape[d] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {input.shape[d]}")
    _require_float(input, 'glu')
    return apply(_glu, (input,), {'dim': d})


_glu.samples = lambda make: [Sample(make((2, 4))), Sample(make((4, 3)), 0), Sample(make((2, 6, 3)), dim=1),
                             Sample(make((0, 4))), Sample(make((4,)))]
_glu.error_samples = lambda make: [ErrorSample(make((3,)), match='Halving dimension must be even')]


# ----------------------------------------------------------------------------- softmax family

def _softmax_dim(name, ndim, stacklevel):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an "
                  "argument.", stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``exp(x) / sum(exp(x))`` along ``dim`` (``dtype``: cast the input first)."""
    _check(input, 'softmax')
    if dim is None:
        dim = _softmax_dim('softmax', input._data.ndim, _stacklevel)
    return _rs.softmax(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``log(softmax(x))`` along ``dim``, computed stably."""
    _check(input, 'log_softmax')
    if dim is None:
        dim = _softmax_dim('log_softmax', input._data.ndim, _stacklevel)
    return _rs.log_softmax(input, dim, dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """``softmax(-x)`` along ``dim``."""
    _check(input, 'softmin')
    if dim is None:
        dim = _softmax_dim('softmin', input._data.ndim, _stacklevel)
    if dtype is not None:
        input = input.to(dtype)
    return _rs.softmax(-input, dim)


def gumbel_softmax(logits, tau=1.0, hard=False, eps=1e-10, dim=-1):
    """Samples from the Gumbel-softmax distribution; ``hard=True`` returns one-hot vectors with soft gradients."""
    import ember
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    with grad_mode.no_grad():
        gumbels = -ember.empty_like(logits).exponential_().log()
    y_soft = _rs.softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = ember.zeros_like(logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


composite('softmin', public='nn.functional.softmin', samples=lambda make: [
    Sample(make((3, 4)), 1), Sample(make((2, 3, 4)), 0), Sample(make(()), 0), Sample(make((0, 3)), 1),
    Sample(make((3, 4)), -1, dtype=_dtype.float64)])
composite('rrelu_eval', public='nn.functional.rrelu', samples=lambda make: [
    Sample(make((2, 3))), Sample(make((2, 3)), 0.1, 0.3), Sample(make(()))])
