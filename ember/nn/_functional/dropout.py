"""Dropout: ``dropout``, ``dropout1d/2d/3d``, ``alpha_dropout`` and ``feature_alpha_dropout``.

The keep decision comes from uniform numbers drawn with ``ember.rand`` (the
default generator of the input's device), so ``ember.manual_seed`` reproduces
the masks.  One op does all variants: ``where(u >= p, x * scale + shift, fill)``
with ``u`` the uniform draw, shaped like the input (element dropout) or like
its first two dims (channel dropout); the gradient is ``where(u >= p, g * scale, 0)``.
"""
import math
import warnings

from ember._tensor import Tensor
from ember.autograd import grad_mode
from ember.ops._dispatch import apply, apply_inplace
from ember.ops._registry import defop

__all__ = ['dropout', 'dropout1d', 'dropout2d', 'dropout3d', 'alpha_dropout', 'feature_alpha_dropout']

# SELU's negative saturation value, -scale * alpha
_ALPHA = 1.7580993408473766


def _dropout_grad_name(params, meta):
    # torch's CPU dropout multiplies by the scaled mask (alpha dropout then adds the shift)
    return 'AddBackward0' if params['shift'] or params['fill'] else 'MulBackward0'


@defop('dropout', save='inputs', public='', grad_name=_dropout_grad_name)
def _dropout(xp, a, u, p, scale, shift, fill, feature):
    kept = a * scale
    if shift:
        kept += shift
    return xp.where(u >= p, kept, fill).astype(a.dtype, copy=False)


@_dropout.derivative
def _(F, ctx, grad):
    u = ctx.inputs[1]
    p = ctx.params
    return F.where(F.ge(u, p['p']), grad * p['scale'], 0.0), None


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _apply_dropout(input, p, training, inplace, feature, alpha):
    if not isinstance(input, Tensor):
        raise TypeError(f"dropout(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if p == 0 or not training or input.numel() == 0:
        return input
    nd = input._data.ndim
    if feature and nd < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if p == 1:
        return input.mul_(0.0) if inplace else input * 0.0
    import ember
    shape = tuple(input.shape[:2]) + (1,) * (nd - 2) if feature else tuple(input.shape)
    with grad_mode.no_grad():
        u = ember.rand(shape, device=input.device)
    if alpha:
        a = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
        params = {'p': p, 'scale': a, 'shift': _ALPHA * a * p, 'fill': _ALPHA * a * (p - 1), 'feature': feature}
    else:
        params = {'p': p, 'scale': 1.0 / (1.0 - p), 'shift': 0.0, 'fill': 0.0, 'feature': feature}
    if inplace:
        return apply_inplace(_dropout, input, (u,), params)
    return apply(_dropout, (input, u), params)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zeroes each element with probability ``p`` and scales the rest by ``1 / (1 - p)`` (training only)."""
    _check_p(p)
    return _apply_dropout(input, p, training, inplace, feature=False, alpha=False)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps SELU's self-normalising mean and variance (training only)."""
    _check_p(p)
    return _apply_dropout(input, p, training, inplace, feature=False, alpha=True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels (dim 1)."""
    _check_p(p)
    return _apply_dropout(input, p, training, inplace, feature=True, alpha=True)


def _batched_feature_dropout(input, p, training, inplace, batched):
    if batched:
        return _apply_dropout(input, p, training, inplace, feature=True, alpha=False)
    x = input.unsqueeze_(0) if inplace else input.unsqueeze(0)
    result = _apply_dropout(x, p, training, inplace, feature=True, alpha=False)
    return result.squeeze_(0) if inplace else result.squeeze(0)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of an ``(N, C, L)`` or ``(C, L)`` input with probability ``p``."""
    _check_p(p)
    nd = input.ndim
    if nd not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {nd}D input. Note that dropout1d "
                           "exists to provide channel-wise dropout on inputs with 1 spatial dimension, a channel "
                           "dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return _batched_feature_dropout(input, p, training, inplace, nd == 3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of an ``(N, C, H, W)`` input with probability ``p``."""
    _check_p(p)
    nd = input.ndim
    if nd not in (3, 4):
        warnings.warn(f"dropout2d: Received a {nd}-D input to dropout2d, which is deprecated and will result in an "
                      "error in a future release. To retain the behavior and silence this warning, please use "
                      "dropout instead. Note that dropout2d exists to provide channel-wise dropout on inputs with 2 "
                      "spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 3D or 4D "
                      "inputs).", stacklevel=2)
    if nd == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior "
                      "is desired - input is interpreted as shape (N, C, L), where C is the channel dim. This "
                      "behavior will change in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please "
                      "switch to using dropout1d instead.", stacklevel=2)
    return _apply_dropout(input, p, training, inplace, feature=True, alpha=False)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of an ``(N, C, D, H, W)`` or ``(C, D, H, W)`` input with probability ``p``."""
    _check_p(p)
    nd = input.ndim
    if nd not in (4, 5):
        warnings.warn(f"dropout3d: Received a {nd}-D input to dropout3d, which is deprecated and will result in an "
                      "error in a future release. To retain the behavior and silence this warning, please use "
                      "dropout instead. Note that dropout3d exists to provide channel-wise dropout on inputs with 3 "
                      "spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 4D or 5D "
                      "inputs).", stacklevel=2)
    return _batched_feature_dropout(input, p, training, inplace, nd == 5)
