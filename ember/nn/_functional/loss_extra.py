"""Regression, probabilistic and margin losses, composed from ember ops (their gradients come from autograd).

Each follows torch's formula for the same function, so values and gradients agree, including the edge
handling torch does (log clamped at -100 in binary_cross_entropy, the Stirling term only where target > 1
in poisson_nll_loss, var clamped without gradient in gaussian_nll_loss).
"""
import math
import warnings

import ember
from ember import _dtype
from ember.autograd import no_grad
from ember.nn._functional.misc import pairwise_distance
from ember.nn._functional.loss import (_dtype_name, check_reduction, legacy_reduction, reduce_loss,
                                       resolve_reduction)

__all__ = ['mse_loss', 'l1_loss', 'smooth_l1_loss', 'huber_loss', 'binary_cross_entropy',
           'binary_cross_entropy_with_logits', 'kl_div', 'poisson_nll_loss', 'gaussian_nll_loss',
           'cosine_embedding_loss', 'margin_ranking_loss', 'hinge_embedding_loss', 'multi_margin_loss',
           'multilabel_margin_loss', 'multilabel_soft_margin_loss', 'soft_margin_loss', 'triplet_margin_loss',
           'triplet_margin_with_distance_loss']


# ----------------------------------------------------------------------------- helpers

def _broadcast_pair(input, target):
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
                      "This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", stacklevel=3)
        return ember.broadcast_tensors(input, target)
    return input, target


def _require_float(kernel, t):
    if t._dtype.category < _dtype.FLOAT:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_dtype_name(t._dtype)}\'')


def _weighted(loss, weight, input, reduction, mean_by_weight=True):
    """torch's optional elementwise ``weight`` of mse/l1 (mean divided by the weights' sum) and huber (plain mean)."""
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    loss = loss * weight
    if reduction == 'none':
        return loss
    if reduction == 'sum':
        return loss.sum()
    if reduction == 'mean':
        return loss.sum() / weight.sum() if mean_by_weight else loss.mean()
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")


def _log_sigmoid(x):
    """``log(sigmoid(x))`` computed stably: ``-(relu(-x) + log1p(exp(-|x|)))``."""
    return -(ember.relu(-x) + ember.log1p(ember.exp(-x.abs())))


# ----------------------------------------------------------------------------- regression

def mse_loss(input, target, size_average=None, reduce=None, reduction='mean', weight=None):
    """The mean squared error ``(input - target) ** 2``, reduced.

    Args:
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.
        weight: optional elementwise weights (the input's shape); ``'mean'`` then divides by their sum.
    """
    input, target = _broadcast_pair(input, target)
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    loss = ember.square(input - target)
    _require_float('mse_cpu', loss)
    if weight is not None:
        return _weighted(loss, weight, input, reduction)
    return reduce_loss(loss, check_reduction(reduction))


def l1_loss(input, target, size_average=None, reduce=None, reduction='mean', weight=None):
    """The mean absolute error ``|input - target|``, reduced."""
    input, target = _broadcast_pair(input, target)
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    loss = (input - target).abs()
    if weight is not None:
        return _weighted(loss, weight, input, reduction)
    return reduce_loss(loss, check_reduction(reduction))


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction='mean', beta=1.0):
    """``0.5 d**2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (``d = input - target``)."""
    input, target = _broadcast_pair(input, target)
    reduction = resolve_reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    d = (input - target).abs()
    if beta == 0.0:
        return reduce_loss(d, reduction)
    loss = ember.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)
    return reduce_loss(loss, reduction)


def huber_loss(input, target, reduction='mean', delta=1.0, weight=None):
    """``0.5 d**2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``."""
    input, target = _broadcast_pair(input, target)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    d = (input - target).abs()
    loss = ember.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta))
    if weight is not None:
        return _weighted(loss, weight, input, reduction, mean_by_weight=False)
    return reduce_loss(loss, check_reduction(reduction))


# ----------------------------------------------------------------------------- probabilistic

def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction='mean'):
    """``-w (t log(x) + (1 - t) log(1 - x))`` with each log clamped at -100, as torch does."""
    reduction = resolve_reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size "
                         f"({input.shape}) is deprecated. Please ensure they have the same size.")
    _require_float('binary_cross_entropy', input)
    if input.numel():
        raw = input._data
        if bool(((raw < 0) | (raw > 1)).any()):
            raise RuntimeError("all elements of input should be between 0 and 1")
    log_x = ember.clamp(ember.log(input), min=-100)
    log_1mx = ember.clamp(ember.log(1 - input), min=-100)
    loss = -(target * log_x + (1 - target) * log_1mx)
    if weight is not None:
        loss = loss * weight
    return reduce_loss(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction='mean',
                                     pos_weight=None):
    """Binary cross entropy of ``sigmoid(input)``, computed stably from the logits.

    Args:
        weight: rescales each element's loss (broadcast to the input).
        pos_weight: weight of positive examples, broadcast along the last (class) dim.
    """
    reduction = resolve_reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    log_sig = _log_sigmoid(input)
    if pos_weight is not None:
        log_sig = log_sig * ((pos_weight - 1) * target + 1)
    loss = (1 - target) * input - log_sig
    if weight is not None:
        loss = loss * weight
    return reduce_loss(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction='mean', log_target=False):
    """The Kullback-Leibler divergence ``target * (log(target) - input)`` for log-probabilities ``input``.

    Args:
        reduction: ``'none'`` | ``'batchmean'`` (sum / batch size, the true KL) | ``'sum'`` | ``'mean'``.
        log_target: ``target`` holds log-probabilities too.
    """
    if size_average is not None or reduce is not None:
        mode = resolve_reduction(size_average, reduce, reduction)
    else:
        if reduction == 'mean':
            warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                          "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                          "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                          stacklevel=2)
        mode = 'sum' if reduction == 'batchmean' else check_reduction(reduction)
    if log_target:
        loss = ember.exp(target) * (target - input)
    else:
        loss = ember.xlogy(target, target) - target * input
    out = reduce_loss(loss, mode)
    if reduction == 'batchmean' and input.dim() != 0 and size_average is None and reduce is None:
        out = out / input.shape[0]
    return out


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction='mean'):
    """The negative log likelihood of ``target ~ Poisson(input)``.

    Args:
        log_input: ``input`` is the log of the rate (loss ``exp(input) - target * input``); otherwise the rate
            itself (loss ``input - target * log(input + eps)``).
        full: adds the Stirling approximation ``t log t - t + 0.5 log(2 pi t)`` where ``target > 1``.
    """
    reduction = resolve_reduction(size_average, reduce, reduction)
    if log_input:
        loss = ember.exp(input) - target * input
    else:
        loss = input - target * ember.log(input + eps)
    if full:
        stirling = target * ember.log(target) - target + 0.5 * ember.log(2 * math.pi * target)
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return reduce_loss(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction='mean'):
    """The negative log likelihood of ``target ~ N(input, var)``: ``0.5 (log(var) + (input - target)**2 / var)``.

    ``var`` has the input's shape, or one dim less, or a single mismatched dim of size 1, or is a float.
    It is clamped at ``eps`` (the clamp passes the gradient through, as torch's does).
    """
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * ember.ones_like(input)
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)
        elif input.dim() == var.dim() and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1:
            pass
        else:
            raise ValueError("var is of incorrect size")
    if reduction not in ('none', 'mean', 'sum'):
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (ember.log(var) + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return reduce_loss(loss, reduction)


# ----------------------------------------------------------------------------- margin and embedding losses

def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction='mean'):
    """``1 - cos(x1, x2)`` where ``target == 1``, ``max(0, cos(x1, x2) - margin)`` where ``target == -1``."""
    reduction = resolve_reduction(size_average, reduce, reduction)
    dim = target.dim()
    if dim not in (0, 1):
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if dim == 1 and not (input1.dim() == 2 and input2.dim() == 2):
        raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with sizes "
                           f"{list(input1.shape)} and {list(input2.shape)}.")
    if dim == 0 and not (input1.dim() == 1 and input2.dim() == 1):
        raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with sizes "
                           f"{list(input1.shape)} and {list(input2.shape)}.")
    tiny = 1e-12
    prod = (input1 * input2).sum(dim)
    mag1 = (input1 * input1).sum(dim) + tiny
    mag2 = (input2 * input2).sum(dim) + tiny
    cos = prod / ember.sqrt(mag1 * mag2)
    zeros = ember.zeros_like(cos)
    loss = ember.where(target == 1, 1 - cos, zeros) + ember.where(target == -1, ember.clamp_min(cos - margin, 0), zeros)
    return reduce_loss(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None, reduction='mean'):
    """``max(0, -target * (input1 - input2) + margin)``."""
    reduction = resolve_reduction(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
                           f"input1: {input1.shape}, input2: {input2.shape}, target: {target.shape} ")
    return reduce_loss(ember.clamp_min(-target * (input1 - input2) + margin, 0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction='mean'):
    """``input`` where ``target == 1``, ``max(0, margin - input)`` where ``target == -1``."""
    reduction = resolve_reduction(size_average, reduce, reduction)
    zeros = ember.zeros_like(input)
    loss = (ember.where(target != 1, ember.clamp_min(margin - input, 0), zeros)
            + ember.where(target != -1, input, zeros))
    return reduce_loss(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction='mean'):
    """``log(1 + exp(-target * input))``, reduced."""
    reduction = resolve_reduction(size_average, reduce, reduction)
    if target.requires_grad and ember.is_grad_enabled():
        raise RuntimeError("The function 'soft_margin_loss' is not differentiable with respect to argument 'target'. "
                           "This input cannot have requires_grad True.")
    return reduce_loss(ember.log1p(ember.exp(-input * target)), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction='mean'):
    """One-versus-all logistic loss per class, averaged over the classes (one value per sample)."""
    if size_average is not None or reduce is not None:
        reduction = resolve_reduction(size_average, reduce, reduction)
    loss = -(target * _log_sigmoid(input) + (1 - target) * _log_sigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(class_dim) / input.shape[class_dim]
    if reduction not in ('none', 'mean', 'sum'):
        raise ValueError(reduction + " is not valid")
    return reduce_loss(loss, reduction)


def _batch_rows(name, input, target):
    """(input as (N, C), target as (N, ...), whether the input was 1-D) for the multi-class margin losses."""
    if input.dim() > 2 or (input.dim() >= 1 and input.shape[-1] == 0):
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{list(input.shape)}")
    single = input.dim() <= 1
    rows = input.reshape(1, -1) if single else input
    return rows, single


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction='mean'):
    """Multi-class hinge loss: ``sum_{j != y} max(0, margin - x[y] + x[j])**p / C`` per sample (times ``w[y]``)."""
    reduction = resolve_reduction(size_average, reduce, reduction)
    if p != 1 and p != 2:
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    rows, single = _batch_rows('multi_margin_loss', input, target)
    n, classes = rows.shape
    if target.dim() > 1 or target.numel() != n:
        raise RuntimeError(f"inconsistent target size, expected {n} but got {list(target.shape)}")
    if weight is not None and weight.numel() != classes:
        raise RuntimeError(f"inconsistent weight size, expected {classes} but got {list(weight.shape)}")
    idx = target.reshape(n, 1)
    raw = idx._data
    if raw.size and bool(((raw < 0) | (raw >= classes)).any()):
        raise RuntimeError("target out of range")
    at_target = rows.gather(1, idx)
    z = ember.clamp_min(margin - at_target + rows, 0)
    if p == 2:
        z = z * z
    others = ember.ones_like(rows).scatter(1, idx, 0.0)
    z = z * others
    if weight is not None:
        z = z * weight.gather(0, idx.reshape(-1)).reshape(n, 1)
    loss = z.sum(1) / classes
    if single and reduction == 'none':
        loss = loss.reshape(())
    return reduce_loss(loss, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction='mean'):
    """Multi-label hinge loss: ``sum_{j in targets, k not in targets} max(0, 1 - (x[j] - x[k])) / C``.

    ``target`` holds class indices, ended by the first -1.
    """
    reduction = resolve_reduction(size_average, reduce, reduction)
    rows, single = _batch_rows('multilabel_margin_loss', input, target)
    n, classes = rows.shape
    if tuple(target.reshape(-1).shape) != (n * classes,) or (not single and tuple(target.shape) != (n, classes)):
        raise RuntimeError(f"inconsistent target size: {list(target.shape)} for input of size: {list(input.shape)}")
    xp = ember.backend.get(target.device).xp
    t = target._data.reshape(n, classes)
    # slots count until the first negative entry; is_target marks the classes those slots name
    slot = xp.cumprod(t >= 0, axis=1).astype(bool)
    if bool(((t >= classes) & slot).any()):
        raise RuntimeError("target out of range")
    safe = xp.where(slot, t, 0)
    is_target = xp.zeros((n, classes), dtype=bool)
    flat = (xp.arange(n)[:, None] * classes + safe)[slot]
    is_target.reshape(-1)[flat] = True
    pair = slot[:, :, None] & ~is_target[:, None, :]
    picked = rows.gather(1, ember.tensor(safe, device=input.device))
    z = ember.clamp_min(1 - picked.unsqueeze(2) + rows.unsqueeze(1), 0)
    mask = ember.tensor(pair.astype(rows._dtype.np), device=input.device)
    loss = (z * mask).sum((1, 2)) / classes
    if single and reduction == 'none':
        loss = loss.reshape(())
    return reduce_loss(loss, reduction)


def _check_triplet_dims(anchor, positive, negative):
    a, p, n = anchor.dim(), positive.dim(), negative.dim()
    if not (a == p and p == n):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {a}D, positive {p}D, and negative {n}D inputs")


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction='mean'):
    """``max(0, margin + d(a, p) - d(a, n))`` with ``d`` the p-norm distance (``swap``: the closer of
    ``d(a, n)`` and ``d(p, n)``)."""
    reduction = resolve_reduction(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = ember.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return reduce_loss(ember.clamp_min(margin + d_pos - d_neg, 0), reduction)


def _default_distance():
    return pairwise_distance


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0, swap=False,
                                      reduction='mean'):
    """The triplet loss with any ``distance_function(x1, x2)`` (default: the pairwise 2-norm distance)."""
    if reduction not in ('mean', 'sum', 'none'):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    _check_triplet_dims(anchor, positive, negative)
    distance = distance_function if distance_function is not None else _default_distance()
    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:
        d_neg = ember.minimum(d_neg, distance(positive, negative))
    return reduce_loss(ember.clamp_min(margin + d_pos - d_neg, 0), reduction)
