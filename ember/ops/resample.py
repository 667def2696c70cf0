"""Resampling kernels: nearest, nearest-exact, (bi/tri)linear and bicubic interpolation.

Every mode is separable: along each spatial dim the output is a fixed linear
map of the input, an (out, in) matrix with at most four non-zeros per row.
Linear and cubic modes apply that matrix with one GEMM per dim (BLAS beats
gathering four shifted copies and weighting them); nearest modes gather with
``take``.  The backward applies the transposed matrices, and the backward of
that is the forward again, so gradients of any order come from two kernels.

The index and weight arithmetic follows torch's CPU kernels (in float32 for
float32 inputs) so that nearest indices and weights agree to the last bit.
"""
import functools
import math

import numpy as np

from ember.ops._registry import ErrorSample, Sample, composite, defop

__all__ = []    # the public functions are in ember/nn/_functional/vision.py

_KERNEL_NAMES = {'nearest': 'Nearest', 'nearest-exact': 'NearestExact', 'linear': 'Linear', 'bilinear': 'Bilinear',
                 'trilinear': 'Trilinear', 'bicubic': 'Bicubic'}
_CUBIC_A = -0.75


def _scale_value(ct, in_size, out_size, scale):
    """torch's ``compute_scales_value``: 1/scale_factor when one was given, else in/out, in type ``ct``."""
    if scale is not None and scale > 0:
        return ct(1.0 / scale)
    return ct(in_size) / ct(out_size)


def _area_scale(ct, in_size, out_size, align_corners, scale):
    if align_corners:
        return ct(in_size - 1) / ct(out_size - 1) if out_size > 1 else ct(0)
    return _scale_value(ct, in_size, out_size, scale)


def nearest_indices(in_size, out_size, scale, exact):
    """Source index of every output position for 'nearest' / 'nearest-exact' (float32 arithmetic, as torch)."""
    dst = np.arange(out_size)
    if not exact:
        if out_size == in_size:
            return dst
        if out_size == 2 * in_size:
            return dst >> 1
        s = _scale_value(np.float32, in_size, out_size, scale)
        src = np.floor(dst.astype(np.float32) * s)
    else:
        s = _scale_value(np.float32, in_size, out_size, scale)
        src = np.floor(((dst + 0.5) * np.float64(s)).astype(np.float32))
    return np.minimum(src.astype(np.int64), in_size - 1)


def _cubic_weights(t):
    a = _CUBIC_A

    def near(x):        # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):         # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    one = t.dtype.type(1)
    return [far(t + one), near(t), near(one - t), far((one - t) + one)]


@functools.lru_cache(maxsize=256)
def interp_matrix(in_size, out_size, mode, align_corners, scale, dtype_name):
    """The (out, in) matrix of one spatial dim (NumPy, cached); None when it is the identity."""
    ct = np.dtype(dtype_name).type
    rows = np.arange(out_size)
    if mode in ('nearest', 'nearest-exact'):
        idx = nearest_indices(in_size, out_size, scale, mode == 'nearest-exact')
        taps, weights = [idx], [np.ones(out_size, dtype=ct)]
    else:
        s = _area_scale(ct, in_size, out_size, align_corners, scale)
        dst = rows.astype(ct)
        cubic = mode == 'bicubic'
        if align_corners:
            src = s * dst
        else:
            src = s * (dst + ct(0.5)) - ct(0.5)
            if not cubic:
                src = np.maximum(src, ct(0))
        base = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
        lam = np.clip(src - base.astype(ct), ct(0), ct(1)).astype(ct)
        if cubic:
            taps = [np.clip(base - 1 + j, 0, in_size - 1) for j in range(4)]
            weights = _cubic_weights(lam)
        else:
            taps = [base, base + (base < in_size - 1)]
            weights = [ct(1) - lam, lam]
    flat = np.concatenate([rows * in_size + t for t in taps])
    m = np.bincount(flat, weights=np.concatenate(weights).astype(np.float64), minlength=out_size * in_size)
    m = m.reshape(out_size, in_size).astype(ct)
    if in_size == out_size and np.array_equal(m, np.eye(in_size, dtype=ct)):
        return None
    return m


def _compute_dtype(x):
    return 'float64' if x.dtype == np.float64 else 'float32'


def _apply_matrices(xp, x, mats, dims_from, dims_to):
    """Applies ``mats[i]`` ((to, from) or None) along spatial dim ``i`` of ``x`` (N, C, *S)."""
    n = len(mats)
    lead = x.ndim - n
    # cheapest first: the dims that shrink the array most
    order = sorted(range(n), key=lambda i: dims_to[i] / max(dims_from[i], 1))
    for i in order:
        m = mats[i]
        if m is None:
            continue
        m = xp.asarray(m)
        dim = lead + i
        pre, post = x.shape[:dim], x.shape[dim + 1:]
        if not post:
            x = xp.matmul(x, m.T)
        else:
            rest = math.prod(post)
            x = xp.matmul(m, x.reshape((math.prod(pre), x.shape[dim], rest))).reshape(pre + (m.shape[0],) + post)
    return x


def _upsample(xp, x, size, mode, align_corners, scales):
    n = len(size)
    spatial = x.shape[x.ndim - n:]
    out_dtype = x.dtype
    if x.size == 0 or math.prod(size) == 0:
        return xp.zeros(x.shape[:x.ndim - n] + tuple(size), dtype=out_dtype)
    if mode in ('nearest', 'nearest-exact'):
        y = x
        for i in range(n):
            if size[i] != spatial[i] or mode == 'nearest-exact':
                idx = nearest_indices(spatial[i], size[i], scales[i], mode == 'nearest-exact')
                y = xp.take(y, xp.asarray(idx), axis=x.ndim - n + i)
        return y.copy() if y is x else y
    ct = _compute_dtype(x)
    if x.dtype != np.dtype(ct):
        x = x.astype(ct)
    mats = [interp_matrix(spatial[i], size[i], mode, align_corners, scales[i], ct) for i in range(n)]
    y = _apply_matrices(xp, x, mats, spatial, size)
    y = y.copy() if y is x else y
    return xp.ascontiguousarray(y).astype(out_dtype, copy=False)


def _upsample_backward(xp, g, in_size, mode, align_corners, scales):
    n = len(in_size)
    out = g.shape[g.ndim - n:]
    out_dtype = g.dtype
    ct = _compute_dtype(g)
    if g.dtype != np.dtype(ct):
        g = g.astype(ct)
    if g.size == 0 or math.prod(in_size) == 0:
        return xp.zeros(g.shape[:g.ndim - n] + tuple(in_size), dtype=out_dtype)
    mats = []
    for i in range(n):
        m = interp_matrix(in_size[i], out[i], mode, align_corners, scales[i], ct)
        mats.append(None if m is None else m.T)
    y = _apply_matrices(xp, g, mats, out, in_size)
    y = y.copy() if y is g else y
    return xp.ascontiguousarray(y).astype(out_dtype, copy=False)


def _grad_name(suffix=''):
    def name(params, meta):
        n = len(params.get('size', params.get('in_size', ())))
        return f"Upsample{_KERNEL_NAMES[params['mode']]}{n}D{suffix}Backward0"
    return name


@defop('upsample', grad_name=_grad_name(), public='nn.functional.interpolate')
def _upsample_op(xp, x, size, mode, align_corners, scales):
    return _upsample(xp, x, size, mode, align_corners, scales)


@_upsample_op.derivative
def _(F, ctx, grad):
    p = ctx.params
    n = len(p['size'])
    return F.upsample_backward(grad, in_size=tuple(ctx.input_meta[0][0][-n:]), mode=p['mode'],
                               align_corners=p['align_corners'], scales=p['scales'])


@defop('upsample_backward', grad_name=_grad_name('Backward'), public=None)
def _upsample_backward_op(xp, g, in_size, mode, align_corners, scales):
    return _upsample_backward(xp, g, in_size, mode, align_corners, scales)


@_upsample_backward_op.derivative
def _(F, ctx, grad):
    p = ctx.params
    n = len(p['in_size'])
    return F.upsample(grad, size=tuple(ctx.input_meta[0][0][-n:]), mode=p['mode'], align_corners=p['align_corners'],
                      scales=p['scales'])


# ----------------------------------------------------------------------------- samples

_upsample_op.samples = lambda make: [
    Sample(make((2, 3, 4, 5)), size=(7, 9)),
    Sample(make((2, 3, 4, 5)), scale_factor=2),
    Sample(make((1, 2, 6, 7)), scale_factor=(0.5, 1.7), mode='nearest-exact'),
    Sample(make((2, 3, 4, 5)), size=(8, 3), mode='bilinear'),
    Sample(make((2, 3, 4, 5)), size=(7, 9), mode='bilinear', align_corners=True),
    Sample(make((1, 2, 5, 6)), scale_factor=1.5, mode='bilinear', recompute_scale_factor=True),
    Sample(make((1, 2, 5, 6)), scale_factor=(2.3, 0.6), mode='bicubic'),
    Sample(make((1, 2, 5, 4)), size=(9, 6), mode='bicubic', align_corners=True),
    Sample(make((2, 3, 7)), size=12, mode='linear'),
    Sample(make((2, 3, 7)), scale_factor=0.6, mode='nearest'),
    Sample(make((1, 2, 3, 4, 3)), size=(5, 3, 6), mode='trilinear', align_corners=False),
    Sample(make((1, 2, 3, 4, 3)), scale_factor=(2, 1, 0.5), mode='nearest'),
    Sample(make((1, 2, 6, 8)), size=(3, 5), mode='area'),
]
_upsample_op.error_samples = lambda make: [
    ErrorSample(make((1, 2, 4, 4)), size=(3, 3), scale_factor=2, error=ValueError,
                match='only one of size or scale_factor should be defined'),
    ErrorSample(make((1, 2, 4, 4)), size=3, mode='nearest', align_corners=True, error=ValueError,
                match='align_corners option can only be set with the interpolating modes'),
    ErrorSample(make((1, 2, 4, 4)), size=3, mode='linear', error=NotImplementedError,
                match='Got 4D input, but linear mode needs 3D input'),
    ErrorSample(make((1, 2, 4)), size=(3, 3), error=ValueError,
                match='Input and output must have the same number of spatial dimensions'),
]

composite('grid_sample', public='nn.functional.grid_sample', samples=lambda make: [
    Sample(make((2, 3, 4, 5)), make((2, 3, 2, 2), low=-1.2, high=1.2), align_corners=False),
    Sample(make((1, 2, 5, 4)), make((1, 4, 3, 2), low=-1.3, high=1.3), padding_mode='border', align_corners=True),
    Sample(make((1, 2, 5, 4)), make((1, 4, 3, 2), low=-1.7, high=1.7), padding_mode='reflection'),
    Sample(make((1, 2, 5, 4)), make((1, 4, 3, 2), low=-1.7, high=1.7), padding_mode='reflection', align_corners=True),
    Sample(make((2, 2, 4, 5)), make((2, 3, 3, 2), low=-1.1, high=1.1), mode='nearest', grad=False),
    Sample(make((1, 2, 3, 4, 3)), make((1, 2, 2, 3, 3), low=-1.2, high=1.2), align_corners=False),
    Sample(make((1, 2, 5, 4)), make((1, 4, 3, 2), low=-1.2, high=1.2), mode='bicubic', padding_mode='border'),
])
composite('affine_grid', public='nn.functional.affine_grid', samples=lambda make: [
    Sample(make((2, 2, 3)), (2, 3, 4, 5), align_corners=False),
    Sample(make((1, 2, 3)), (1, 1, 3, 2), align_corners=True),
    Sample(make((1, 2, 3)), [1, 1, 3, 2]),
    Sample(make((2, 3, 4)), (2, 1, 2, 3, 4), align_corners=False),
])
