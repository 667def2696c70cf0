"""Pooling kernels: max, average, adaptive average/max pooling, and max_unpool.

All kernels take a batched input (N, C, *spatial) with 1 to 3 spatial dims
and work through the window view of ``ember/ops/conv.py``: a loop over the
kernel positions, each a strided slice over all windows at once.

Max pooling keeps, for each window, the flat index (into the spatial dims) of
its maximum, as torch's ``return_indices`` gives it.  Its gradient scatters
the output gradient to those indices (``max_unpool``, one ``bincount``), and
the gradient of that scatter is the gather at the same indices, so double
backward works.  Average pooling and adaptive average pooling are linear:
each one's backward is an op whose own backward is the forward again.
"""
import math

import numpy as np

from ember.ops._registry import Sample, composite, defop
from ember.ops.conv import kernel_slices, pad_spatial

__all__ = []    # the public functions are in ember/nn/_functional/pooling.py


def pool_out_len(size, k, s, p, d, ceil_mode):
    """Output length of a pooling window along one dim; with ``ceil_mode`` the last window may start in the pad."""
    span = size + 2 * p - d * (k - 1) - 1
    if ceil_mode:
        n = -(-span // s) + 1
        if (n - 1) * s >= size + p:     # the last window must start inside the input or the left pad
            n -= 1
        return n
    return span // s + 1


def _padded_input(xp, x, ksize, stride, padding, dilation, out, value):
    """``x`` padded by ``padding`` on the left and enough on the right for ``out`` windows."""
    spatial = x.shape[2:]
    after = tuple(max(0, (o - 1) * s + d * (k - 1) + 1 - p - m)
                  for m, k, s, p, d, o in zip(spatial, ksize, stride, padding, dilation, out))
    return pad_spatial(xp, x, padding, after, value)


# ----------------------------------------------------------------------------- max pooling

def _max_pool(xp, x, ksize, stride, padding, dilation, ceil_mode, with_indices=True):
    spatial = x.shape[2:]
    n = len(ksize)
    out = tuple(pool_out_len(m, k, s, p, d, ceil_mode)
                for m, k, s, p, d in zip(spatial, ksize, stride, padding, dilation))
    xpad = _padded_input(xp, x, ksize, stride, padding, dilation, out, -math.inf)
    mult = [math.prod(spatial[i + 1:]) for i in range(n)]
    positions = list(np.ndindex(*ksize))
    views = _window_views(xp, xpad, positions, stride, dilation, out)
    best = views[0].copy()
    for v in views[1:]:
        xp.maximum(best, v, out=best)       # NaN propagates, as in torch
    if not with_indices:
        return best, xp.zeros((0,), dtype=xp.int64)
    # the first window position holding the maximum (torch keeps the first of equal values)
    # NOTE: masked writes (copyto/where) are slow in NumPy; arg += (j - arg) * hit is the same select done with
    # three plain passes, exact also in uint8's wrap-around arithmetic since the result is in [0, K)
    small = len(positions) <= 256
    arg = xp.zeros(best.shape, dtype=xp.uint8 if small else xp.int32)
    step = xp.empty(best.shape, dtype=arg.dtype)
    hit = xp.empty(best.shape, dtype=bool)
    for j in range(len(views) - 1, -1, -1):
        xp.equal(views[j], best, out=hit)
        xp.subtract(arg.dtype.type(j), arg, out=step)
        xp.multiply(step, hit.view(xp.uint8), out=step)
        xp.add(arg, step, out=arg)
    nan = best != best
    if nan.any():       # torch's comparison lets each later NaN take over: the last NaN of the window wins
        for j in range(1, len(views)):
            xp.copyto(arg, j, where=nan & (views[j] != views[j]))
    # flat index into the input's spatial dims of each window's maximum
    flat = np.zeros(out, dtype=np.int64)
    for i in range(n):
        start = np.arange(out[i], dtype=np.int64) * stride[i] - padding[i]
        flat = flat + (start * mult[i]).reshape((-1,) + (1,) * (n - 1 - i))
    offsets = np.array([sum(kp[i] * dilation[i] * mult[i] for i in range(n)) for kp in positions], dtype=np.int64)
    indices = xp.take(xp.asarray(offsets), arg)
    indices += xp.asarray(flat)
    return best, indices


def _window_views(xp, xpad, positions, stride, dilation, out):
    """One strided view of ``xpad`` per kernel position, covering every window.

    A stride along the last dim makes every view step over memory, which NumPy's loops handle several
    times slower than unit steps; so the last dim is first split into its ``stride`` phases (one copy
    of the input), after which each view is a unit-stride slice of one phase.
    """
    s, d, o = stride[-1], dilation[-1], out[-1]
    if s == 1 or o <= 1:
        return [xpad[(Ellipsis,) + kernel_slices(kpos, stride, dilation, out)] for kpos in positions]
    phases = {}
    views = []
    for kpos in positions:
        offset = kpos[-1] * d
        phase = offset % s
        if phase not in phases:
            phases[phase] = xp.ascontiguousarray(xpad[..., phase::s])
        lead = kernel_slices(kpos[:-1], stride[:-1], dilation[:-1], out[:-1])
        views.append(phases[phase][(Ellipsis,) + lead + (slice(offset // s, offset // s + o),)])
    return views


def _pool_grad_name(kind):
    return lambda params, meta: f"{kind}{len(meta[0][0]) - 2}D{'WithIndices' if kind == 'MaxPool' else ''}Backward0"


@defop('max_pool', save='output', multi_output=True, nondiff_outputs=(1,), grad_name=_pool_grad_name('MaxPool'),
       public='nn.functional.max_pool2d')
def _max_pool_op(xp, x, ksize, stride, padding, dilation, ceil_mode, with_indices=True):
    return _max_pool(xp, x, ksize, stride, padding, dilation, ceil_mode, with_indices)


@_max_pool_op.derivative
def _(F, ctx, grads):
    indices = ctx.output[1]
    return F.max_unpool(grads[0], indices, size=tuple(ctx.input_meta[0][0][2:]))


@defop('max_unpool', save='inputs', grad_name=_pool_grad_name('MaxUnpool'), public=None)
def _max_unpool(xp, g, indices, size):
    """Scatters ``g`` (N, C, *L) into zeros (N, C, *size) at the flat spatial ``indices``, summing repeats."""
    N, C = g.shape[:2]
    total = math.prod(size)
    base = (xp.arange(N * C, dtype=xp.int64) * total).reshape((N, C) + (1,) * (g.ndim - 2))
    flat = (indices + base).reshape(-1)
    weights = g.reshape(-1)
    if weights.dtype.kind != 'f' or weights.dtype.itemsize < 4:
        weights = weights.astype(xp.float64)
    out = xp.bincount(flat, weights=weights, minlength=N * C * total)
    return out.astype(g.dtype, copy=False).reshape((N, C) + tuple(size))


@_max_unpool.derivative
def _(F, ctx, grad):
    _, indices = ctx.inputs
    return F.pool_gather(grad, indices), None


@defop('pool_gather', save='inputs', grad_name='GatherBackward0', public=None)
def _pool_gather(xp, x, indices):
    """``x[n, c, indices[n, c, ...]]`` over the flattened spatial dims of ``x``."""
    N, C = x.shape[:2]
    picked = xp.take_along_axis(x.reshape(N, C, -1), indices.reshape(N, C, -1), axis=2)
    return picked.reshape(indices.shape)


@_pool_gather.derivative
def _(F, ctx, grad):
    _, indices = ctx.inputs
    return F.max_unpool(grad, indices, size=tuple(ctx.input_meta[0][0][2:])), None


# ----------------------------------------------------------------------------- average pooling

def _avg_divisor(xp, spatial, ksize, stride, padding, out, count_include_pad, divisor_override, dtype):
    """Per-window divisor, broadcastable to (*out): window sizes clipped as torch clips them."""
    if divisor_override:
        return divisor_override
    div = None
    for i, (m, k, s, p, o) in enumerate(zip(spatial, ksize, stride, padding, out)):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, m + p)
        if count_include_pad:
            size = end - start
        else:
            size = np.minimum(end, m) - np.maximum(start, 0)
        size = size.reshape((-1,) + (1,) * (len(out) - 1 - i))
        div = size if div is None else div * size
    return xp.asarray(div.astype(dtype))


def _avg_pool_sizes(spatial, ksize, stride, padding, ceil_mode):
    return tuple(pool_out_len(m, k, s, p, 1, ceil_mode) for m, k, s, p in zip(spatial, ksize, stride, padding))


def _avg_pool(xp, x, ksize, stride, padding, ceil_mode, count_include_pad, divisor_override):
    spatial = x.shape[2:]
    out = _avg_pool_sizes(spatial, ksize, stride, padding, ceil_mode)
    ones = (1,) * len(ksize)
    xpad = _padded_input(xp, x, ksize, stride, padding, ones, out, 0)
    total = None
    for kpos in np.ndindex(*ksize):
        v = xpad[(Ellipsis,) + kernel_slices(kpos, stride, ones, out)]
        if total is None:
            total = v.copy()
        else:
            total += v
    if total is None:       # an empty kernel cannot happen (kernel_size > 0); keeps the shape right regardless
        total = xp.zeros(x.shape[:2] + out, dtype=x.dtype)
    div = _avg_divisor(xp, spatial, ksize, stride, padding, out, count_include_pad, divisor_override, x.dtype)
    total /= div
    return total


def _avg_pool_backward(xp, g, size, ksize, stride, padding, ceil_mode, count_include_pad, divisor_override):
    out = g.shape[2:]
    ones = (1,) * len(ksize)
    div = _avg_divisor(xp, size, ksize, stride, padding, out, count_include_pad, divisor_override, g.dtype)
    g = g / div
    padded = tuple(max(m + 2 * p, (o - 1) * s + k) for m, p, o, s, k in zip(size, padding, out, stride, ksize))
    buf = xp.zeros(g.shape[:2] + padded, dtype=g.dtype)
    if all(o > 0 for o in out):
        for kpos in np.ndindex(*ksize):
            buf[(Ellipsis,) + kernel_slices(kpos, stride, ones, out)] += g
    crop = (Ellipsis,) + tuple(slice(p, p + m) for p, m in zip(padding, size))
    return xp.ascontiguousarray(buf[crop])


@defop('avg_pool', grad_name=_pool_grad_name('AvgPool'), public='nn.functional.avg_pool2d')
def _avg_pool_op(xp, x, ksize, stride, padding, ceil_mode, count_include_pad, divisor_override):
    return _avg_pool(xp, x, ksize, stride, padding, ceil_mode, count_include_pad, divisor_override)


@_avg_pool_op.derivative
def _(F, ctx, grad):
    return F.avg_pool_backward(grad, size=tuple(ctx.input_meta[0][0][2:]), **ctx.params)


@defop('avg_pool_backward', grad_name=_pool_grad_name('AvgPoolBackward'), public=None)
def _avg_pool_backward_op(xp, g, size, ksize, stride, padding, ceil_mode, count_include_pad, divisor_override):
    return _avg_pool_backward(xp, g, size, ksize, stride, padding, ceil_mode, count_include_pad, divisor_override)


@_avg_pool_backward_op.derivative
def _(F, ctx, grad):
    params = dict(ctx.params)
    del params['size']
    return F.avg_pool(grad, **params)


# ----------------------------------------------------------------------------- adaptive pooling

def adaptive_bounds(size, out):
    """Start and end (exclusive) of each of ``out`` adaptive windows over ``size`` positions."""
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def _averaging_matrix(size, out, dtype):
    """(out, size) matrix whose rows average each adaptive window."""
    start, end = adaptive_bounds(size, out)
    pos = np.arange(size)
    inside = (pos >= start[:, None]) & (pos < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def _apply_per_dim(xp, x, sizes_from, sizes_to, transpose):
    """Applies each spatial dim's averaging matrix (or its transpose) along that dim."""
    n = len(sizes_from)
    lead = x.shape[:x.ndim - n]
    for i in range(n):
        m_from, m_to = sizes_from[i], sizes_to[i]
        if m_from == m_to:
            continue
        P = _averaging_matrix(m_to, m_from, x.dtype).T if transpose else _averaging_matrix(m_from, m_to, x.dtype)
        P = xp.asarray(P)                           # (m_to, m_from)
        dim = len(lead) + i
        pre, post = x.shape[:dim], x.shape[dim + 1:]
        if not post:
            x = xp.matmul(x, P.T)
        else:
            x = xp.matmul(P, x.reshape(pre + (m_from, math.prod(post)))).reshape(pre + (m_to,) + post)
    return xp.ascontiguousarray(x) if x.base is not None else x


@defop('adaptive_avg_pool', grad_name=_pool_grad_name('AdaptiveAvgPool'), public='nn.functional.adaptive_avg_pool2d')
def _adaptive_avg_pool(xp, x, out):
    y = _apply_per_dim(xp, x, x.shape[2:], out, False)
    return y.copy() if y is x else y


@_adaptive_avg_pool.derivative
def _(F, ctx, grad):
    return F.adaptive_avg_pool_backward(grad, size=tuple(ctx.input_meta[0][0][2:]))


@defop('adaptive_avg_pool_backward', grad_name=_pool_grad_name('AdaptiveAvgPoolBackward'), public=None)
def _adaptive_avg_pool_backward(xp, g, size):
    y = _apply_per_dim(xp, g, g.shape[2:], size, True)
    return y.copy() if y is g else y


@_adaptive_avg_pool_backward.derivative
def _(F, ctx, grad):
    return F.adaptive_avg_pool(grad, out=tuple(ctx.input_meta[0][0][2:]))


def _adaptive_max_pool(xp, x, out):
    spatial = x.shape[2:]
    n = len(out)
    bounds = [adaptive_bounds(m, o) for m, o in zip(spatial, out)]
    kmax = tuple(int((e - s).max()) if len(s) else 1 for s, e in bounds)
    mult = [math.prod(spatial[i + 1:]) for i in range(n)]
    best = best_flat = None
    for kpos in np.ndindex(*kmax):
        v = x
        flat = np.zeros(out, dtype=np.int64)
        for i, (s, e) in enumerate(bounds):
            pos = np.minimum(s + kpos[i], e - 1)         # short windows repeat their last element
            v = xp.take(v, xp.asarray(pos), axis=2 + i)
            flat = flat + (pos * mult[i]).reshape((-1,) + (1,) * (n - 1 - i))
        flat = xp.asarray(flat)
        if best is None:
            best = v
            best_flat = xp.broadcast_to(flat, v.shape).copy()
            continue
        better = v > best
        better |= v != v
        xp.copyto(best, v, where=better)
        xp.copyto(best_flat, flat, where=better)
    return best, best_flat


@defop('adaptive_max_pool', save='output', multi_output=True, nondiff_outputs=(1,),
       grad_name=_pool_grad_name('AdaptiveMaxPool'), public='nn.functional.adaptive_max_pool2d')
def _adaptive_max_pool_op(xp, x, out):
    return _adaptive_max_pool(xp, x, out)


@_adaptive_max_pool_op.derivative
def _(F, ctx, grads):
    return F.max_unpool(grads[0], ctx.output[1], size=tuple(ctx.input_meta[0][0][2:]))


# ----------------------------------------------------------------------------- samples

_max_pool_op.samples = lambda make: [
    Sample(make((2, 3, 8, 7)), 2),
    Sample(make((2, 2, 9, 9)), 3, stride=2, padding=1),
    Sample(make((1, 2, 10, 9)), (3, 2), stride=(2, 3), padding=(1, 1), dilation=(2, 1), ceil_mode=True),
    Sample(make((2, 2, 7, 7)), 2, ceil_mode=True, return_indices=True),
    Sample(make((3, 6, 5)), 2, 1),      # unbatched
]
_avg_pool_op.samples = lambda make: [
    Sample(make((2, 3, 8, 7)), 2),
    Sample(make((2, 2, 9, 9)), 3, stride=2, padding=1),
    Sample(make((1, 2, 10, 9)), (3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=True),
    Sample(make((1, 2, 10, 9)), (3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=True, count_include_pad=False),
    Sample(make((2, 2, 7, 7)), 3, 2, 1, divisor_override=4),
    Sample(make((3, 6, 5)), 2, 1),
]
_adaptive_avg_pool.samples = lambda make: [
    Sample(make((2, 3, 8, 7)), (3, 4)), Sample(make((2, 3, 5, 5)), 1), Sample(make((2, 3, 5, 7)), (None, 3)),
    Sample(make((3, 4, 4)), (5, 2)),
]
_adaptive_max_pool_op.samples = lambda make: [
    Sample(make((2, 3, 8, 7)), (3, 4)), Sample(make((2, 3, 5, 5)), 1),
    Sample(make((2, 3, 5, 7)), (None, 3), return_indices=True), Sample(make((3, 4, 4)), (5, 2)),
]

composite('max_pool1d', public='nn.functional.max_pool1d', samples=lambda make: [
    Sample(make((2, 3, 9)), 3, 2, 1), Sample(make((3, 10)), 2, ceil_mode=True, dilation=2),
    Sample(make((2, 3, 9)), 2, return_indices=True)])
composite('max_pool3d', public='nn.functional.max_pool3d', samples=lambda make: [
    Sample(make((1, 2, 5, 4, 6)), 2, ceil_mode=True), Sample(make((2, 3, 4, 4)), (2, 1, 2), padding=(1, 0, 1))])
composite('avg_pool1d', public='nn.functional.avg_pool1d', samples=lambda make: [
    Sample(make((2, 3, 9)), 3, 2, 1), Sample(make((3, 10)), 3, ceil_mode=True, count_include_pad=False)])
composite('avg_pool3d', public='nn.functional.avg_pool3d', samples=lambda make: [
    Sample(make((1, 2, 5, 4, 6)), 2, ceil_mode=True), Sample(make((2, 3, 4, 4)), (2, 1, 2), padding=(1, 0, 1))])
composite('adaptive_avg_pool1d', public='nn.functional.adaptive_avg_pool1d', samples=lambda make: [
    Sample(make((2, 3, 9)), 4), Sample(make((3, 5)), 7)])
composite('adaptive_avg_pool3d', public='nn.functional.adaptive_avg_pool3d', samples=lambda make: [
    Sample(make((1, 2, 5, 4, 6)), (2, 3, 4))])
composite('adaptive_max_pool1d', public='nn.functional.adaptive_max_pool1d', samples=lambda make: [
    Sample(make((2, 3, 9)), 4), Sample(make((3, 5)), 3, return_indices=True)])


def _unpool_indices(h, w, k):
    """Valid max_pool2d indices for an (h, w) output of a k x k pool: one position inside each window."""
    i, j = np.meshgrid(np.arange(h), np.arange(w), indexing='ij')
    return (k * i + (i + j) % k) * (k * w) + k * j + i % k


composite('max_unpool2d', public='nn.functional.max_unpool2d', samples=lambda make: [
    Sample(make((2, 3, 4, 3)), np.broadcast_to(_unpool_indices(4, 3, 2), (2, 3, 4, 3)).copy(), 2),
    Sample(make((3, 2, 2)), np.broadcast_to(_unpool_indices(2, 2, 3), (3, 2, 2)).copy(), 3, output_size=(7, 8))])
