"""Distances, normalisation and rearrangements of ``nn.functional``: normalize, cosine_similarity,
pairwise_distance, pdist, cdist, pixel_shuffle, pixel_unshuffle, channel_shuffle, and ``pad``
(the padding op of ``ember/ops/padding.py``).

All are compositions of table ops except ``cdist`` for ``p=2``, which has its
own rule so that the matrix-product form of the forward (used for more than 25
rows, as torch does) still gets torch's gradient (zero where a distance is 0).
"""
import math

import numpy as np

from ember import _dtype
from ember._tensor import Tensor
from ember.autograd import grad_mode
from ember.ops._dispatch import apply
from ember.ops._registry import ErrorSample, Sample, composite, defop
from ember.ops.padding import pad
from ember.ops.pointwise_math import quiet

__all__ = ['normalize', 'cosine_similarity', 'pairwise_distance', 'pdist', 'cdist', 'pixel_shuffle',
           'pixel_unshuffle', 'channel_shuffle', 'native_channel_shuffle', 'pad']


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """``input / max(||input||_p, eps)`` along ``dim``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"normalize(): argument 'input' must be Tensor, not {type(input).__name__}")
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    if out is None:
        return input / denom
    import ember
    return ember.div(input, denom, out=out)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """``x1 . x2 / (max(||x1||, eps) * max(||x2||, eps))`` along ``dim`` (inputs broadcast)."""
    import ember
    common = ember.result_type(x1, x2)
    if common.category != _dtype.FLOAT:
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is {common.legacy_name}")
    x1, x2 = ember.broadcast_tensors(x1.to(common), x2.to(common))
    # NOTE: like torch, dividing each input by its (clamped) norm first keeps the result in [-1, 1]; the clamp
    # is applied under no_grad to a copy, so the gradient flows as if the norm were not clamped.
    n1 = ember.linalg.vector_norm(x1, 2, dim=dim, keepdim=True).clone()
    n2 = ember.linalg.vector_norm(x2, 2, dim=dim, keepdim=True).clone()
    with grad_mode.no_grad():
        n1.clamp_min_(eps)
        n2.clamp_min_(eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """``||x1 - x2 + eps||_p`` over the last dim."""
    import ember
    dim = max(x1.ndim, x2.ndim) - 1
    diff = x1 - x2 + eps
    if dim < 0:
        return ember.linalg.vector_norm(diff, p)
    return ember.linalg.vector_norm(diff, p, dim=dim, keepdim=keepdim)


def pdist(input, p=2):
    """The ``p``-norm distances between all pairs of rows ``i < j`` of a 2-D ``input`` (row-major order)."""
    import ember
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if input.dtype.category != _dtype.FLOAT:
        raise RuntimeError("pdist only supports floating-point dtypes")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    n = input.shape[0]
    i, j = ember.triu_indices(n, n, 1, device=input.device)
    return ember.linalg.vector_norm(input[i] - input[j], p, dim=1)


# ----------------------------------------------------------------------------- cdist

def _use_mm(rows1, rows2, compute_mode):
    if compute_mode == 'use_mm_for_euclid_dist':
        return True
    if compute_mode == 'donot_use_mm_for_euclid_dist':
        return False
    return rows1 > 25 or rows2 > 25


@defop('cdist', save='both', public='nn.functional.cdist', torch_public='cdist')
@quiet
def _cdist(xp, x1, x2, use_mm):
    if use_mm:
        sq1 = xp.sum(x1 * x1, axis=-1)[..., :, None]
        sq2 = xp.sum(x2 * x2, axis=-1)[..., None, :]
        d2 = xp.matmul(x1, xp.swapaxes(x2, -1, -2))
        d2 *= -2
        d2 += sq1
        d2 += sq2
        return xp.sqrt(xp.maximum(d2, 0))
    diff = x1[..., :, None, :] - x2[..., None, :, :]
    return xp.sqrt(xp.sum(diff * diff, axis=-1))


@_cdist.derivative
def _(F, ctx, grad):
    x1, x2 = ctx.inputs
    d = ctx.output
    zero = F.eq(d, 0)
    scaled = F.where(zero, 0.0, grad / F.where(zero, 1.0, d))        # g / d, 0 where d == 0
    g1 = g2 = None
    if ctx.needs_input_grad[0]:
        g1 = x1 * F.unsqueeze(F.sum(scaled, dim=(scaled.ndim - 1,), keepdim=False, dtype=F.dtype_of(d)),
                              dim=scaled.ndim - 1) - F.matmul(scaled, x2)
    if ctx.needs_input_grad[1]:
        scaled_t = F.permute(scaled, dims=tuple(range(scaled.ndim - 2)) + (scaled.ndim - 1, scaled.ndim - 2))
        g2 = x2 * F.unsqueeze(F.sum(scaled, dim=(scaled.ndim - 2,), keepdim=False, dtype=F.dtype_of(d)),
                              dim=scaled.ndim - 1) - F.matmul(scaled_t, x1)
    return g1, g2


def cdist(x1, x2, p=2.0, compute_mode='use_mm_for_euclid_dist_if_necessary'):
    """The ``p``-norm distance between each row of ``x1`` and each row of ``x2`` (batch dims broadcast)."""
    import ember
    if x1.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D")
    if x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X2 got: {x2.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if x1.dtype.category != _dtype.FLOAT or x2.dtype.category != _dtype.FLOAT:
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {x1.dtype.legacy_name}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if compute_mode not in ('use_mm_for_euclid_dist_if_necessary', 'use_mm_for_euclid_dist',
                            'donot_use_mm_for_euclid_dist'):
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    if p == 2:
        return apply(_cdist, (x1, x2), {'use_mm': _use_mm(x1.shape[-2], x2.shape[-2], compute_mode)})
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return ember.linalg.vector_norm(diff, p, dim=-1)


_cdist.samples = lambda make: [
    Sample(make((4, 3)), make((5, 3))), Sample(make((2, 4, 3)), make((2, 5, 3))), Sample(make((2, 4, 3)), make((5, 3))),
    Sample(make((30, 3)), make((6, 3))), Sample(make((4, 3)), make((5, 3)), 1.0),
    Sample(make((4, 3)), make((5, 3)), 3.0), Sample(make((4, 3)), make((5, 3)), math.inf),
    Sample(make((0, 3)), make((5, 3)))]
_cdist.error_samples = lambda make: [
    ErrorSample(make((4, 3)), make((5, 2)), match='X1 and X2 must have the same number of columns')]


# ----------------------------------------------------------------------------- rearrangements

def _check_int(value, name):
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name}(): argument must be int, not {type(value).__name__}")


def pixel_shuffle(input, upscale_factor):
    """``(*, C * r**2, H, W)`` to ``(*, C, H * r, W * r)``."""
    _check_int(upscale_factor, 'pixel_shuffle')
    nd = input.ndim
    if nd < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with {nd} "
                           "dimension(s)")
    if upscale_factor <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {upscale_factor}")
    r = upscale_factor
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    lead = tuple(lead)
    k = len(lead)
    x = input.reshape(lead + (c // (r * r), r, r, h, w))
    x = x.permute(tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))
    return x.reshape(lead + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    """``(*, C, H * r, W * r)`` to ``(*, C * r**2, H, W)``."""
    _check_int(downscale_factor, 'pixel_unshuffle')
    nd = input.ndim
    if nd < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with {nd} "
                           "dimension(s)")
    if downscale_factor <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {downscale_factor}")
    r = downscale_factor
    *lead, c, h, w = input.shape
    if h % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by downscale_factor, but input.size(-2)="
                           f"{h} is not divisible by {r}")
    if w % r:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by downscale_factor, but input.size(-1)="
                           f"{w} is not divisible by {r}")
    lead = tuple(lead)
    k = len(lead)
    x = input.reshape(lead + (c, h // r, r, w // r, r))
    x = x.permute(tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))
    return x.reshape(lead + (c * r * r, h // r, w // r))


def channel_shuffle(input, groups):
    """Splits the channels (dim 1) into ``groups`` and interleaves them: ``(N, g, C/g, *)`` transposed."""
    if not isinstance(input, Tensor):
        raise TypeError(f"channel_shuffle(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    if input.ndim <= 2:
        raise RuntimeError(f"channel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.ndim} dimension(s)")
    n, c, *rest = input.shape
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {groups} groups.")
    rest = tuple(rest)
    x = input.reshape((n, groups, c // groups) + rest).transpose(1, 2)
    return x.reshape((n, c) + rest)


native_channel_shuffle = channel_shuffle

composite('normalize', public='nn.functional.normalize', samples=lambda make: [
    Sample(make((3, 4))), Sample(make((3, 4)), 1.0, 0), Sample(make((2, 3, 4)), dim=-1),
    Sample(make((3, 4)), p=3.0, eps=1e-3), Sample(make((0, 4)))])
composite('cosine_similarity', public='nn.functional.cosine_similarity', samples=lambda make: [
    Sample(make((3, 4)), make((3, 4))), Sample(make((3, 4)), make((1, 4)), dim=1),
    Sample(make((2, 3, 4)), make((2, 3, 4)), 2), Sample(make((5,)), make((5,)), 0),
    Sample(np.zeros((2, 3), np.float32), make((2, 3)), grad=False)])
composite('pairwise_distance', public='nn.functional.pairwise_distance', samples=lambda make: [
    Sample(make((3, 4)), make((3, 4))), Sample(make((3, 4)), make((4,)), 1.0),
    Sample(make((3, 4)), make((3, 4)), 3.0, keepdim=True), Sample(make((5,)), make((5,)))])
composite('pdist', public='nn.functional.pdist', samples=lambda make: [
    Sample(make((5, 3))), Sample(make((4, 3)), 1.0), Sample(make((4, 3)), 3.0), Sample(make((1, 3)))])
composite('pixel_shuffle', public='nn.functional.pixel_shuffle', samples=lambda make: [
    Sample(make((2, 8, 3, 2)), 2), Sample(make((9, 2, 2)), 3), Sample(make((2, 1, 4, 2, 2)), 2)])
composite('pixel_unshuffle', public='nn.functional.pixel_unshuffle', samples=lambda make: [
    Sample(make((2, 2, 4, 6)), 2), Sample(make((1, 6, 3)), 3), Sample(make((2, 1, 1, 4, 2)), 2)])
composite('channel_shuffle', public='nn.functional.channel_shuffle', samples=lambda make: [
    Sample(make((2, 6, 3)), 3), Sample(make((1, 4, 2, 2)), 2)], gradcheck=True)
