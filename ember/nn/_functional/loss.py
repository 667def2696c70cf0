"""Classification losses: cross_entropy and nll_loss (fused kernels), and the reduction helpers of every loss.

cross_entropy with class indices is the hottest path of training, so it is one op of the table: the kernel
does log-softmax and the gather of the target in one pass, and its derivative rule writes
``softmax(x) * A - onehot * a`` with differentiable ops (a softmax, a scatter of one value per row and
broadcast products), so that second derivatives come from the same rule.  Weights, ``ignore_index`` and
label smoothing fold into per-position constants that the rule recomputes from the saved target.
"""
import warnings

import numpy as np

from ember import _dtype
from ember import backend as _backend
from ember.autograd.grad_mode import is_grad_enabled
from ember.ops._dispatch import apply
from ember.ops._registry import ErrorSample, Sample, defop

__all__ = ['cross_entropy', 'nll_loss']

_REDUCTIONS = ('none', 'mean', 'sum')


# ----------------------------------------------------------------------------- reductions

def legacy_reduction(size_average, reduce, emit_warning=True):
    """The reduction string for the deprecated ``size_average``/``reduce`` pair, as torch maps it."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        result = 'mean'
    elif reduce:
        result = 'sum'
    else:
        result = 'none'
    if emit_warning:
        warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{result}' instead.",
                      stacklevel=3)
    return result


def resolve_reduction(size_average, reduce, reduction):
    """``reduction`` checked, or the legacy pair mapped (with torch's deprecation warning)."""
    if size_average is not None or reduce is not None:
        return legacy_reduction(size_average, reduce)
    return check_reduction(reduction)


def check_reduction(reduction):
    if reduction == 'elementwise_mean':
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.",
                      stacklevel=3)
        return 'mean'
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def reduce_loss(loss, reduction):
    """Applies ``'none'``, ``'mean'`` or ``'sum'`` to an elementwise loss."""
    if reduction == 'mean':
        return loss.mean()
    if reduction == 'sum':
        return loss.sum()
    return loss


# ----------------------------------------------------------------------------- shared by both kernels

def _target_terms(xp, target, weight, ignore_index, dtype):
    """Per position: the target with ignored entries set to 0, the not-ignored mask, and its class weight."""
    valid = target != ignore_index
    safe = xp.where(valid, target, 0).astype(np.int64, copy=False)
    if weight is None:
        w_t = valid.astype(dtype)
    else:
        w_t = weight.astype(dtype, copy=False)[safe]
        w_t *= valid
    return safe, valid, w_t


def _at_target(xp, x, safe):
    """``x[n, target[n, ...], ...]`` along the class axis 1."""
    return xp.take_along_axis(x, xp.expand_dims(safe, 1), axis=1).squeeze(1)


def _reduce_weighted(xp, loss, w_t, reduction, dtype):
    if reduction == 'none':
        return loss.astype(dtype, copy=False)
    total = loss.sum(dtype=dtype)
    if reduction == 'sum':
        return xp.asarray(total, dtype=dtype)
    with np.errstate(divide='ignore', invalid='ignore'):
        return xp.asarray(total / w_t.sum(dtype=dtype), dtype=dtype)


def _rule_xp(F, x):
    return _backend.get(x._device).xp if F.is_tensor_mode() else F.xp


def _raw(F, t):
    return t._data if F.is_tensor_mode() else t


def _mean_scaled(xp, w_t, reduction, dtype, *coefs):
    """Per-position coefficients divided by the weight total for ``'mean'``.

    Ignored positions keep an exact 0 (not 0 * inf) when every target is ignored, as in torch.
    """
    if reduction != 'mean':
        return coefs
    with np.errstate(divide='ignore', invalid='ignore'):
        inv = np.float64(1.0) / np.float64(w_t.sum(dtype=dtype))
        return tuple(c if c is None else xp.where(c != 0, c * inv, 0).astype(dtype, copy=False) for c in coefs)


# ----------------------------------------------------------------------------- cross_entropy (class indices)

@defop('cross_entropy', save='inputs', grad_name='NllLossBackward0', public='nn.functional.cross_entropy')
def _cross_entropy(xp, x, target, weight, ignore_index, label_smoothing, reduction):
    dtype = x.dtype
    safe, valid, w_t = _target_terms(xp, target, weight, ignore_index, dtype)
    top = xp.max(x, axis=1, keepdims=True) if x.size else xp.zeros(x.shape[:1] + (1,) + x.shape[2:], dtype)
    # NOTE: one (N, C) temporary: exp is taken in place (fresh large arrays cost page faults).
    e = xp.subtract(x, top)
    xp.exp(e, out=e)
    lse = xp.log(xp.sum(e, axis=1)) + top.squeeze(1)
    nll = lse - _at_target(xp, x, safe)
    eps = label_smoothing
    if not eps:
        return _reduce_weighted(xp, nll * w_t, w_t, reduction, dtype)
    classes = x.shape[1]
    # smooth_i = sum_c w_c * (lse_i - x_ic): uniform-target cross entropy, weighted per class
    if weight is None:
        smooth = lse * classes - xp.sum(x, axis=1)
    else:
        w = weight.astype(dtype, copy=False)
        smooth = lse * w.sum() - xp.sum(x * w.reshape((classes,) + (1,) * (x.ndim - 2)), axis=1)
    loss = nll * w_t * (1 - eps) + smooth * valid * (eps / classes)
    return _reduce_weighted(xp, loss, w_t, reduction, dtype)


def _ce_grad_arrays(xp, x, g, scale, hit, safe, per_class):
    """The cross_entropy gradient on raw arrays, with one (N, C) temporary."""
    top = xp.max(x, axis=1, keepdims=True)
    out = xp.subtract(x, top)
    xp.exp(out, out=out)
    coef = (g * scale).astype(x.dtype, copy=False) / xp.sum(out, axis=1)
    out *= xp.expand_dims(coef, 1)
    picked = xp.take_along_axis(out, xp.expand_dims(safe, 1), axis=1)
    picked -= xp.expand_dims((g * hit).astype(x.dtype, copy=False), 1)
    xp.put_along_axis(out, xp.expand_dims(safe, 1), picked, axis=1)
    if per_class is not None:
        out -= per_class
    return out


@_cross_entropy.derivative
def _(F, ctx, grad):
    x, target, weight = ctx.inputs
    if not ctx.needs_input_grad[0]:
        return None, None, None
    p = ctx.params
    xp = _rule_xp(F, x)
    dtype = F.dtype_of(x)
    raw_w = None if weight is None else _raw(F, weight)
    safe, valid, w_t = _target_terms(xp, _raw(F, target), raw_w, p['ignore_index'], dtype.np)
    g = grad
    eps = p['label_smoothing']
    classes = x.shape[1]
    # d loss_i / d x_ic = A_i * softmax_ic - a_ic with a_ic = (1 - eps) w_t onehot + eps / C * valid * w_c
    # and A_i = sum_c a_ic.
    hit = w_t * (1 - eps) if eps else w_t
    scale = hit
    spread = None
    if eps:
        wsum = classes if raw_w is None else raw_w.astype(dtype.np).sum()
        spread = valid.astype(dtype.np) * (eps / classes)
        scale = hit + spread * wsum
    hit, scale, spread = _mean_scaled(xp, w_t, p['reduction'], dtype.np, hit, scale, spread)
    w_b = None if raw_w is None else raw_w.astype(dtype.np).reshape((classes,) + (1,) * (x.ndim - 2))
    if not F.is_tensor_mode():
        per_class = None
        if eps:
            per_class = xp.expand_dims((g * spread).astype(dtype.np, copy=False), 1)
            if w_b is not None:
                per_class = per_class * w_b
        if x.size == 0:
            return xp.zeros_like(x), None, None
        return _ce_grad_arrays(xp, x, g, scale, hit, safe, per_class), None, None
    probs = F.softmax(x, dim=1, dtype=dtype)
    result = F.mul(probs, F.unsqueeze(F.mul(g, F.const(x, scale)), dim=1))
    onehot = F.scatter_along(F.mul(g, F.const(x, hit)), F.const(x, safe), dim=1, keepdim=False,
                             shape=tuple(x.shape), unique=True)
    result = F.sub(result, onehot)
    if eps:
        per_class = F.unsqueeze(F.mul(g, F.const(x, spread)), dim=1)
        if w_b is not None:
            per_class = F.mul(per_class, F.const(x, w_b))
        result = F.sub(result, per_class)
    return result, None, None


# ----------------------------------------------------------------------------- nll_loss

@defop('nll_loss', save='inputs', grad_name='NllLossBackward0', public='nn.functional.nll_loss')
def _nll_loss(xp, x, target, weight, ignore_index, reduction):
    safe, _, w_t = _target_terms(xp, target, weight, ignore_index, x.dtype)
    return _reduce_weighted(xp, -_at_target(xp, x, safe) * w_t, w_t, reduction, x.dtype)


@_nll_loss.derivative
def _(F, ctx, grad):
    x, target, weight = ctx.inputs
    if not ctx.needs_input_grad[0]:
        return None, None, None
    p = ctx.params
    xp = _rule_xp(F, x)
    dtype = F.dtype_of(x)
    raw_w = None if weight is None else _raw(F, weight)
    safe, _, w_t = _target_terms(xp, _raw(F, target), raw_w, p['ignore_index'], dtype.np)
    neg_w, = _mean_scaled(xp, w_t, p['reduction'], dtype.np, -w_t)
    src = F.mul(grad, F.const(x, neg_w))
    return F.scatter_along(src, F.const(x, safe), dim=1, keepdim=False, shape=tuple(x.shape), unique=True), None, None


# ----------------------------------------------------------------------------- argument checks

def _check_index_target(name, input, target, weight, ignore_index):
    """torch's checks for class-index targets; returns (input, target) with a batch axis added if missing."""
    if input.dim() < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.dim()})")
    if input.dim() != 1:
        batch = target.shape[0] if target.dim() else 0
        if input.shape[0] != batch:
            raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size ({batch}).")
    if input.dim() == 1:
        if target.dim() == 1 and target.shape[0] != 1:
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {target.shape[0]}")
        if target.dim() > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        input, target = input.unsqueeze(0), target.reshape(1)
    elif input.dim() == 2:
        if target.dim() != 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    else:
        expected = (input.shape[0],) + tuple(input.shape[2:])
        if tuple(target.shape) != expected:
            raise RuntimeError(f"Expected target size {list(expected)}, got {list(target.shape)}")
    if target._dtype not in (_dtype.int64, _dtype.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{_dtype_name(target._dtype)}")
    classes = input.shape[1]
    if weight is not None:
        if weight.dim() != 1 or weight.shape[0] != classes:
            raise RuntimeError(f"weight tensor should be defined either for all {classes} classes or no classes "
                               f"but got weight tensor of shape: {list(weight.shape)}")
        if weight.requires_grad and is_grad_enabled():
            raise RuntimeError("The function 'nll_loss_forward' is not differentiable with respect to argument "
                               "'weight'. This input cannot have requires_grad True.")
        if weight._dtype is not input._dtype:
            raise RuntimeError(f"expected scalar type {_dtype_name(input._dtype)} but found "
                               f"{_dtype_name(weight._dtype)}")
    t = target._data
    if t.size:
        xp = _backend.get(target._device).xp
        bad = (t != ignore_index) & ((t < 0) | (t >= classes))
        if bad.any():
            first = t.reshape(-1)[int(xp.argmax(bad.reshape(-1)))]
            raise IndexError(f"Target {int(first)} is out of bounds.")
    return input, target


def _dtype_name(d):
    from ember.ops._registry import SCALAR_NAMES
    return SCALAR_NAMES[d.name]


def _check_float_input(name, input):
    if input._dtype.category < _dtype.FLOAT:
        raise NotImplementedError(f'"{name}" not implemented for \'{_dtype_name(input._dtype)}\'')


def _unbatched_result(loss, squeeze, reduction):
    return loss.reshape(()) if squeeze and reduction == 'none' else loss


# ----------------------------------------------------------------------------- public functions

def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction='mean'):
    """The negative log likelihood loss of log-probabilities ``input`` (N, C, d1, ...) at class indices ``target``.

    Args:
        weight: a rescaling weight per class (C,).
        ignore_index: a target value that contributes neither to the loss nor to the mean's denominator.
        reduction: ``'none'`` | ``'mean'`` (weighted mean over non-ignored targets) | ``'sum'``.
    """
    reduction = resolve_reduction(size_average, reduce, reduction)
    squeeze = input.dim() == 1 and target.dim() == 0
    input, target = _check_index_target('nll_loss', input, target, weight, ignore_index)
    params = {'ignore_index': int(ignore_index), 'reduction': reduction}
    loss = apply(_nll_loss, (input, target, weight), params)
    return _unbatched_result(loss, squeeze, reduction)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction='mean', label_smoothing=0.0):
    """The cross entropy between ``softmax(input)`` over dim 1 and ``target``.

    ``target`` holds class indices (shape of ``input`` without the class dim, int64) or class probabilities
    (the shape of ``input``, floating point).

    Args:
        weight: a rescaling weight per class (C,).
        ignore_index: a class-index target value that is skipped (not in the mean's denominator).
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.
        label_smoothing: in [0, 1]: mixes the target with the uniform distribution.
    """
    reduction = resolve_reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    _check_float_input('log_softmax_lastdim_kernel_impl', input)
    if tuple(input.shape) == tuple(target.shape):
        return _cross_entropy_probs(input, target, weight, reduction, label_smoothing)
    squeeze = input.dim() == 1 and target.dim() == 0
    input, target = _check_index_target('cross_entropy', input, target, weight, ignore_index)
    params = {'ignore_index': int(ignore_index), 'label_smoothing': float(label_smoothing), 'reduction': reduction}
    loss = apply(_cross_entropy, (input, target, weight), params)
    return _unbatched_result(loss, squeeze, reduction)


def _cross_entropy_probs(input, target, weight, reduction, label_smoothing):
    """Cross entropy against class probabilities (soft labels): a composition of log_softmax and sums."""
    if target._dtype.category < _dtype.FLOAT:
        raise RuntimeError(f"Expected floating point type for target with class probabilities, got "
                           f"{_dtype_name(target._dtype)}")
    class_dim = 0 if input.dim() == 1 else 1
    classes = input.shape[class_dim]
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / classes
    logp = input.log_softmax(class_dim)
    prod = logp * target
    if weight is not None:
        if weight.dim() != 1 or weight.shape[0] != classes:
            raise RuntimeError(f"weight tensor should be defined either for all {classes} classes or no classes "
                               f"but got weight tensor of shape: {list(weight.shape)}")
        prod = prod * weight.reshape((classes,) + (1,) * (input.dim() - class_dim - 1))
    loss = -prod.sum(class_dim)
    if reduction == 'mean':
        n = input.numel() // classes if classes else 0
        return loss.sum() / n if n else loss.sum() / 0.0
    return reduce_loss(loss, reduction)


# ----------------------------------------------------------------------------- samples for the op table

def _index_samples(make, smoothing):
    rng = np.random.default_rng(7)

    def idx(shape, classes, ignore=False):
        t = rng.integers(0, classes, size=shape).astype(np.int64)
        if ignore and t.size > 1:
            t.reshape(-1)[::3] = -100
        return t

    w = make((5,), low=0.2, high=2.0)
    out = [Sample(make((4, 5)), idx((4,), 5)),
           Sample(make((4, 5)), idx((4,), 5, True), reduction='sum'),
           Sample(make((4, 5)), idx((4,), 5), w, reduction='none', grad=False),
           Sample(make((6, 5)), idx((6,), 5, True), w, grad=False),
           Sample(make((2, 5, 3, 2)), idx((2, 3, 2), 5, True), w, grad=False),
           Sample(make((2, 5, 3)), idx((2, 3), 5), reduction='none'),
           Sample(make((5,)), np.array(2, dtype=np.int64)),
           Sample(make((5,)), np.array(2, dtype=np.int64), reduction='none'),
           Sample(make((0, 5)), idx((0,), 5), reduction='sum'),
           Sample(make((4, 5)), idx((4,), 5), ignore_index=1)]
    if smoothing:
        out += [Sample(make((4, 5)), idx((4,), 5, True), label_smoothing=0.3),
                Sample(make((6, 5)), idx((6,), 5, True), w, label_smoothing=0.2, grad=False),
                Sample(make((2, 5, 3)), idx((2, 3), 5, True), w, reduction='none', label_smoothing=0.1, grad=False),
                Sample(make((2, 5, 3)), idx((2, 3), 5, True), w, reduction='sum', label_smoothing=0.4, grad=False)]
    return out


def _index_errors(make):
    return [ErrorSample(make((4, 5)), np.array([0, 1, 2, 12]), error=IndexError, match='Target 12 is out of bounds.'),
            ErrorSample(make((4, 5)), np.array([0, 1, 2]), error=ValueError,
                        match=r'Expected input batch_size \(4\) to match target batch_size \(3\).'),
            ErrorSample(make((4, 5)), np.array([0, 1, 2, 3], dtype=np.int32), error=RuntimeError,
                        match='expected target dtype to be Long or Byte, but got Int'),
            ErrorSample(make((2, 5, 3)), np.zeros((2, 4), dtype=np.int64), error=RuntimeError,
                        match=r'Expected target size \[2, 3\], got \[2, 4\]'),
            ErrorSample(make((4, 5)), np.array([0, 1, 2, 3]), make((4,)), error=RuntimeError,
                        match='weight tensor should be defined either for all 5 classes')]


_cross_entropy.samples = lambda make: _index_samples(make, True)
_cross_entropy.error_samples = _index_errors
_nll_loss.samples = lambda make: _index_samples(make, False)
_nll_loss.error_samples = _index_errors
