"""Normalisation kernels: batch, layer, group, instance and RMS norm as fused ops.

Every one of them is the same computation on a different layout: statistics
(mean and biased variance) over some ``axes`` of the input (reshaped to a
``work`` shape for group norm), ``xhat = (x - mean) / sqrt(var + eps)``, then
an optional per-element affine map whose weight broadcasts as ``wshape``.
RMS norm is the same without centring.  So there is one kernel and one
derivative rule; each op only says which layout it uses.

The ops return ``(y, mean, var)``; ``mean`` and ``var`` are not differentiable
outputs for users, but the rule reads them, and under ``create_graph`` they
carry gradient back into the same node, which the rule adds, so double
backward is exact.
"""
import math

import numpy as np

from ember import _dtype
from ember._tensor import Tensor
from ember.backend import of_array
from ember.autograd import grad_mode
from ember.ops._dispatch import apply
from ember.ops._registry import ErrorSample, Sample, composite, defop

__all__ = ['layer_norm', 'group_norm', 'rms_norm', 'batch_norm', 'instance_norm']


# ----------------------------------------------------------------------------- the shared kernel and rule

def _normalize(xp, x, w, b, work, axes, wshape, eps, center):
    shape = x.shape
    out_dtype = x.dtype
    if work is not None:
        x = x.reshape(work)
    if x.dtype.itemsize < 4:        # half precision: statistics in float32, like torch's opmath
        x = x.astype(xp.float32)
    if x.size == 0:
        stat_shape = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
        nan = xp.full(stat_shape, xp.nan, dtype=x.dtype)
        return xp.empty(shape, dtype=out_dtype), nan, nan.copy()
    if center:
        mean = xp.mean(x, axis=axes, keepdims=True)
        xc = xp.subtract(x, mean)
    else:
        xc = x
    buf = xp.multiply(xc, xc)
    var = xp.mean(buf, axis=axes, keepdims=True)
    rstd = xp.sqrt(var + eps)
    xp.divide(1, rstd, out=rstd)
    if not center:
        mean = xp.zeros_like(var)
    scale = rstd
    if w is not None:
        wb = w.reshape(wshape)
        folded = np.broadcast_shapes(rstd.shape, wb.shape)
        if math.prod(folded) * 4 <= x.size:     # per-channel weights: fold them into the scale (one pass less)
            scale = rstd * wb
            wb = None
    else:
        wb = None
    y = xp.multiply(xc, scale, out=buf)
    if wb is not None:
        y *= wb
    if b is not None:
        y += b.reshape(wshape)
    return y.astype(out_dtype, copy=False).reshape(shape), mean, var


def _norm_rule(F, ctx, grads):
    x, w, _ = ctx.inputs
    _, mean, var = ctx.output
    gy, gmean, gvar = grads
    p = ctx.params
    work, axes, wshape, center = p['work'], p['axes'], p['wshape'], p['center']
    need = ctx.needs_input_grad
    shape = ctx.input_meta[0][0]
    if work is not None:
        x = F.reshape_copy(x, shape=work)
        gy = F.reshape_copy(gy, shape=work)
    rstd = F.rsqrt(var + p['eps'])
    if center and not F.is_tensor_mode() and _stats_match_weight(x.shape, axes, wshape) \
            and x.dtype == mean.dtype == gy.dtype and (w is None or w.dtype == x.dtype):
        return _batch_norm_grads(x, w, mean, rstd, gy, gmean, gvar, axes, wshape, need, ctx.input_meta)
    xhat = (x - mean) * rstd if center else x * rstd
    gx = gw = gb = None
    if len(need) > 1 and need[1]:
        gw = F.reshape_copy(F.sum_to_size(gy * xhat, shape=wshape), shape=ctx.input_meta[1][0])
    if len(need) > 2 and need[2]:
        gb = F.reshape_copy(F.sum_to_size(gy, shape=wshape), shape=ctx.input_meta[2][0])
    if need[0]:
        dt = F.dtype_of(xhat)
        g = gy * F.reshape_copy(w, shape=wshape) if w is not None else gy
        t = g - xhat * F.mean(g * xhat, dim=axes, keepdim=True, dtype=dt)
        if center:
            t = t - F.mean(g, dim=axes, keepdim=True, dtype=dt)
        gx = t * rstd
        # gradient that reached the mean/var outputs (only under higher-order differentiation)
        tensor_mode = F.is_tensor_mode()
        m = math.prod(x.shape[a] for a in axes)
        if center and (tensor_mode or gmean.any()):
            gx = gx + gmean * (1.0 / m)
        if tensor_mode or gvar.any():
            gx = gx + gvar * (2.0 / m) * ((x - mean) if center else x)
        if work is not None:
            gx = F.reshape_copy(gx, shape=shape)
    return gx, gw, gb


def _stats_match_weight(shape, axes, wshape):
    """Whether the weight is constant exactly along the statistics axes (batch norm's layout)."""
    padded = (1,) * (len(shape) - len(wshape)) + tuple(wshape)
    return len(padded) == len(shape) and \
        {i for i, n in enumerate(shape) if n != 1 and padded[i] == 1} == {i for i in axes if shape[i] != 1}


def _batch_norm_grads(x, w, mean, rstd, gy, gmean, gvar, axes, wshape, need, meta):
    """The rule on plain arrays when weight and statistics share their axes: per-channel sums, few full passes.

    With a = w * rstd, m elements per statistic and xc = x - mean:
    gx = a * gy - xc * (a * rstd**2 * sum(gy * xc) / m) - a * sum(gy) / m,
    gw = rstd * sum(gy * xc), gb = sum(gy).
    """
    m = math.prod(x.shape[a] for a in axes)
    xc = x - mean
    sum_gy = gy.sum(axis=axes, keepdims=True)
    buf = gy * xc
    sum_gyxc = buf.sum(axis=axes, keepdims=True)
    gx = gw = gb = None
    if len(need) > 1 and need[1]:
        gw = (sum_gyxc * rstd).reshape(meta[1][0])
    if len(need) > 2 and need[2]:
        gb = sum_gy.reshape(meta[2][0])
    if need[0]:
        a = rstd * w.reshape(wshape) if w is not None else rstd
        xc *= a * rstd * rstd * sum_gyxc * (1.0 / m)
        xc += a * sum_gy * (1.0 / m)
        gx = of_array(gy).xp.multiply(gy, a, out=buf)
        gx -= xc
        # gradient that reached the mean/var outputs (only under higher-order differentiation)
        if gmean.any():
            gx += gmean * (1.0 / m)
        if gvar.any():
            gx += gvar * (2.0 / m) * (x - mean)
        gx = gx.reshape(meta[0][0])
    return gx, gw, gb


def _norm_op(name, grad_name):
    op = defop(name, save='both', multi_output=True, nondiff_outputs=(1, 2), grad_name=grad_name)(_normalize)
    op.derivative(_norm_rule)
    op.saved_for = {0: (0, 1), 1: (0,), 2: ()}      # the bias is never read by the rule
    # the rule reads mean and var, never y: y may be edited in place (BatchNorm -> ReLU(inplace=True))
    op.watched_output = 1
    return op


_layer_norm = _norm_op('native_layer_norm', 'NativeLayerNormBackward0')
_batch_norm = _norm_op('native_batch_norm', 'NativeBatchNormBackward0')
_group_norm = _norm_op('native_group_norm', 'NativeGroupNormBackward0')
_instance_norm = _norm_op('native_instance_norm', 'NativeBatchNormBackward0')
_rms_norm = _norm_op('native_rms_norm', 'RmsNormBackward0')


def _run(op, x, w, b, work, axes, wshape, eps, center=True):
    return apply(op, (x, w, b), {'work': work, 'axes': axes, 'wshape': wshape, 'eps': float(eps), 'center': center})


# ----------------------------------------------------------------------------- argument checks

def _fmt(shape):
    return '[' + ', '.join(str(n) for n in shape) + ']'


def _check_float(x, kernel):
    if not isinstance(x, Tensor):
        raise TypeError(f"{kernel}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")
    if x._dtype.category != _dtype.FLOAT:
        from ember.ops._dispatch import scalar_type_name
        raise RuntimeError(f'"{kernel}" not implemented for \'{scalar_type_name(x._dtype)}\'')


_EPS = {'float16': 2.0 ** -10, 'bfloat16': 2.0 ** -7, 'float32': 2.0 ** -23, 'float64': 2.0 ** -52}


def _normalized_shape(normalized_shape, name):
    if isinstance(normalized_shape, int):
        raise TypeError(f"{name}(): argument 'normalized_shape' (position 2) must be tuple of ints, not int")
    return tuple(int(n) for n in normalized_shape)


def _check_normalized(x, shape, weight, bias, name):
    k = len(shape)
    if k == 0:
        raise RuntimeError(f"Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
                           f"element, but got normalized_shape = {_fmt(shape)}")
    for t, what in ((weight, 'weight'), (bias, 'bias')):
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(f"Expected {what} to be of same shape as normalized_shape, but got {what} of shape "
                               f"{_fmt(t.shape)} and normalized_shape = {_fmt(shape)}")
    if x.ndim < k or tuple(x.shape[x.ndim - k:]) != shape:
        raise RuntimeError(f"Given normalized_shape={_fmt(shape)}, expected input with shape [*, "
                           f"{', '.join(str(n) for n in shape)}], but got input of size{_fmt(x.shape)}")


# ----------------------------------------------------------------------------- public functions

def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5, cudnn_enable=True):
    """Layer normalisation over the trailing ``normalized_shape`` dims, then ``* weight + bias``."""
    _check_float(input, 'LayerNormKernelImpl')
    shape = _normalized_shape(normalized_shape, 'layer_norm')
    _check_normalized(input, shape, weight, bias, 'layer_norm')
    nd = input.ndim
    return _run(_layer_norm, input, weight, bias, None, tuple(range(nd - len(shape), nd)), shape, eps)[0]


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """Root-mean-square normalisation over the trailing ``normalized_shape`` dims, then ``* weight``.

    Args:
        eps: added to the mean square; None means ``torch.finfo(input.dtype).eps``.
    """
    _check_float(input, 'rms_norm')
    shape = _normalized_shape(normalized_shape, 'rms_norm')
    _check_normalized(input, shape, weight, None, 'rms_norm')
    if eps is None:
        eps = _EPS[input._dtype.name]
    nd = input.ndim
    return _run(_rms_norm, input, weight, None, None, tuple(range(nd - len(shape), nd)), shape, eps, center=False)[0]


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5, cudnn_enabled=True):
    """Group normalisation: statistics over each group of ``C / num_groups`` channels (and all spatial dims)."""
    _check_float(input, 'GroupNormKernelImpl')
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.ndim}")
    N, C = input.shape[:2]
    if num_groups <= 0 or C % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {_fmt(input.shape)} and num_groups={num_groups}")
    for t, what in ((weight, 'weight'), (bias, 'bias')):
        if t is not None and (t.ndim != 1 or t.shape[0] != C):
            raise RuntimeError(f"Expected {what} to be a vector of size equal to the number of channels in input, "
                               f"but got {what} of shape {_fmt(t.shape)} and input of shape {_fmt(input.shape)}")
    G = num_groups
    spatial = math.prod(input.shape[2:])
    return _run(_group_norm, input, weight, bias, (N, G, C // G, spatial), (2, 3), (G, C // G, 1), eps)[0]


def _update_running(running, stat, momentum):
    """``running = (1 - momentum) * running + momentum * stat``, in place and outside the graph."""
    with grad_mode.no_grad():
        running.mul_(1 - momentum).add_(stat.to(running.dtype), alpha=momentum)


def _channel_check(x, running_mean, running_var, weight, bias, kernel):
    C = x.shape[1] if x.ndim > 1 else 0
    for t, what in ((weight, 'weight'), (bias, 'bias'), (running_mean, 'running_mean'),
                    (running_var, 'running_var')):
        if t is not None and t.numel() != C:
            raise RuntimeError(f"{what} should contain {C} elements not {t.numel()}")


def _eval_affine(input, mean, var, weight, bias, eps):
    """``(x - mean) / sqrt(var + eps) * weight + bias`` with per-channel statistics: one scale and one shift."""
    from ember.ops.pointwise_math import rsqrt
    shape = (input.shape[1],) + (1,) * (input.ndim - 2)
    scale = rsqrt(var + eps)
    if weight is not None:
        scale = scale * weight
    shift = -mean * scale
    if bias is not None:
        shift = shift + bias
    return input * scale.reshape(shape) + shift.reshape(shape)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled=True):
    """Batch normalisation (``torch.batch_norm``'s argument order); see ``nn.functional.batch_norm``."""
    _check_float(input, 'batch_norm')
    if input.ndim < 2:
        raise ValueError(f"Expected 2D or higher dimensionality input (got {input.ndim}D input)")
    _channel_check(input, running_mean, running_var, weight, bias, 'batch_norm')
    if not training:
        if running_mean is None:
            raise RuntimeError("running_mean must be defined in evaluation mode")
        if running_var is None:
            raise RuntimeError("running_var must be defined in evaluation mode")
        return _eval_affine(input, running_mean, running_var, weight, bias, eps)
    nd = input.ndim
    C = input.shape[1]
    axes = (0,) + tuple(range(2, nd))
    y, mean, var = _run(_batch_norm, input, weight, bias, None, axes, (C,) + (1,) * (nd - 2), eps)
    if running_mean is not None or running_var is not None:
        m = input.numel() // C
        if running_mean is not None:
            _update_running(running_mean, mean.reshape(C), momentum)
        if running_var is not None:
            _update_running(running_var, var.reshape(C) * (m / max(m - 1, 1)), momentum)
    return y


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps,
                  cudnn_enabled=True):
    """Instance normalisation (``torch.instance_norm``'s argument order); see ``nn.functional.instance_norm``."""
    _check_float(input, 'instance_norm')
    nd = input.ndim
    C = input.shape[1]
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
        return _eval_affine(input, running_mean, running_var, weight, bias, eps)
    _channel_check(input, running_mean, running_var, weight, bias, 'instance_norm')
    y, mean, var = _run(_instance_norm, input, weight, bias, None, tuple(range(2, nd)), (C,) + (1,) * (nd - 2), eps)
    if running_mean is not None or running_var is not None:
        m = math.prod(input.shape[2:])
        N = input.shape[0]
        if running_mean is not None:
            _update_running(running_mean, mean.reshape(N, C).mean(0), momentum)
        if running_var is not None:
            _update_running(running_var, (var.reshape(N, C) * (m / max(m - 1, 1))).mean(0), momentum)
    return y


# ----------------------------------------------------------------------------- samples

_layer_norm.public = 'nn.functional.layer_norm'
_layer_norm.samples = lambda make: [
    Sample(make((4, 5)), (5,), make((5,)), make((5,))),
    Sample(make((2, 3, 4)), (3, 4), make((3, 4)), make((3, 4)), eps=1e-3),
    Sample(make((3, 6)), [6]),
    Sample(make((2, 3, 4)), (4,), make((4,)), None),
    Sample(make((0, 4)), (4,), make((4,)), make((4,)), grad=False),
]
_layer_norm.error_samples = lambda make: [
    ErrorSample(make((2, 3, 4)), (5,), match=r'Given normalized_shape=\[5\], expected input with shape \[\*, 5\], '
                                           r'but got input of size\[2, 3, 4\]'),
    ErrorSample(make((2, 4)), (4,), make((3,)), match='Expected weight to be of same shape as normalized_shape'),
]
_batch_norm.public = 'nn.functional.batch_norm'
_batch_norm.samples = lambda make: [
    Sample(make((4, 3)), None, None, make((3,)), make((3,)), training=True),
    Sample(make((2, 3, 5)), None, None, make((3,)), make((3,)), training=True, eps=1e-3),
    Sample(make((2, 3, 4, 5)), None, None, training=True),
    Sample(make((3, 2, 2, 3, 2)), None, None, make((2,)), None, training=True),
]
_batch_norm.error_samples = lambda make: [
    ErrorSample(make((1, 3)), None, None, training=True, error=ValueError,
                match=r'Expected more than 1 value per channel when training, got input size torch.Size\(\[1, 3\]\)'),
    ErrorSample(make((2, 3)), None, None, training=False, match='running_mean must be defined in evaluation mode'),
]
_group_norm.public = 'nn.functional.group_norm'
_group_norm.samples = lambda make: [
    Sample(make((2, 6, 5)), 3, make((6,)), make((6,))),
    Sample(make((2, 4, 3, 3)), 2, make((4,)), make((4,)), eps=1e-3),
    Sample(make((3, 4)), 2),
    Sample(make((2, 6, 2, 2, 2)), 1, make((6,)), None),
]
_group_norm.error_samples = lambda make: [
    ErrorSample(make((2, 6, 4)), 4, match=r'Expected number of channels in input to be divisible by num_groups, but '
                                          r'got input of shape \[2, 6, 4\] and num_groups=4'),
]
_instance_norm.public = 'nn.functional.instance_norm'
_instance_norm.samples = lambda make: [
    Sample(make((2, 3, 5))),
    Sample(make((2, 3, 4, 4)), weight=make((3,)), bias=make((3,)), eps=1e-3),
    Sample(make((2, 2, 3, 2, 3)), weight=make((2,)), bias=None),
]
_rms_norm.public = 'nn.functional.rms_norm'
_rms_norm.samples = lambda make: [
    Sample(make((4, 5)), (5,), make((5,))),
    Sample(make((2, 3, 4)), (3, 4), make((3, 4)), eps=1e-3),
    Sample(make((3, 6)), [6]),
]

composite('batch_norm_eval', public='nn.functional.batch_norm', samples=lambda make: [
    # the running statistics are not differentiable in torch: values only (gradients in tests/nn/test_norm.py)
    Sample(make((4, 3)), make((3,)), make((3,), low=0.5, high=2), make((3,)), make((3,)), grad=False),
    Sample(make((2, 3, 4, 5)), make((3,)), make((3,), low=0.5, high=2), None, make((3,)), eps=1e-3, grad=False),
])
