"""Convolution kernels: ``conv1d/2d/3d``, ``conv_transpose1d/2d/3d``, and im2col/col2im (unfold/fold).

A convolution is a window view of the (padded) input times one GEMM.  The
window view (``_windows``) is a strided view of shape ``(N, C, *kernel,
*out)``; copying it gives the im2col matrix, which one batched ``matmul``
multiplies by the weight, the groups being the batch of that matmul.
Stride-1 2-D convolutions on large images copy only the kernel-width shifts
and take each kernel row as a flat shift of them (``_row_columns``).

Three kernels make convolution closed under differentiation, which is what
gives double backward (all bilinear, so each rule is written with the other
two):

- ``convolution(x, w)``: the forward;
- ``conv_transpose(g, w)``: its adjoint in ``x`` (col2im of ``w^T @ g``,
  whose scatter is a loop over the kernel positions, never over pixels);
- ``conv_weight_grad(x, g)``: its adjoint in ``w`` (one GEMM of ``g`` with
  the im2col matrix of ``x``).
"""
import math
import weakref

import numpy as np

from ember._tensor import Tensor
from ember.autograd.grad_mode import _state as _grad_state
from ember.ops._dispatch import apply
from ember.ops._registry import ErrorSample, Sample, composite, defop

__all__ = ['conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d', 'convolution']


# ----------------------------------------------------------------------------- window helpers

def out_len(size, k, s, p, d):
    """Output length of a convolution along one dim (floor mode)."""
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def pad_spatial(xp, x, before, after, value=0):
    """``x`` padded on its trailing spatial dims (``before``/``after`` per spatial dim); ``x`` itself if no pad."""
    if not any(before) and not any(after):
        return x
    lead = x.ndim - len(before)
    shape = x.shape[:lead] + tuple(n + b + a for n, b, a in zip(x.shape[lead:], before, after))
    buf = xp.full(shape, value, dtype=x.dtype) if value else xp.zeros(shape, dtype=x.dtype)
    buf[(Ellipsis,) + tuple(slice(b, b + n) for n, b in zip(x.shape[lead:], before))] = x
    return buf


def windows(xp, x, ksize, stride, dilation, out):
    """Strided view of ``x`` (N, C, *S), already padded, with shape (N, C, *ksize, *out).

    Element ``[n, c, *k, *o]`` is ``x[n, c, *(o * stride + k * dilation)]``.
    """
    lead = x.ndim - len(ksize)
    st = x.strides
    shape = x.shape[:lead] + tuple(ksize) + tuple(out)
    strides = st[:lead] + tuple(st[lead + i] * d for i, d in enumerate(dilation)) + \
        tuple(st[lead + i] * s for i, s in enumerate(stride))
    return xp.lib.stride_tricks.as_strided(x, shape, strides, writeable=False)


def kernel_slices(kpos, stride, dilation, out):
    """The slices of a padded buffer that kernel position ``kpos`` touches for every output position."""
    return tuple(slice(k * d, k * d + (o - 1) * s + 1, s) for k, s, d, o in zip(kpos, stride, dilation, out))


def im2col(xp, x, ksize, stride, padding, dilation, out=None):
    """The window view of ``x`` zero-padded by ``padding``: (N, C, *ksize, *out); ``out`` defaults to the floor size."""
    spatial = x.shape[2:]
    if out is None:
        out = tuple(out_len(n, k, s, p, d) for n, k, s, p, d in zip(spatial, ksize, stride, padding, dilation))
    xpad = pad_spatial(xp, x, padding, padding)
    return windows(xp, xpad, ksize, stride, dilation, out), tuple(out)


def col2im(xp, cols, size, ksize, stride, padding, dilation):
    """Adjoint of ``im2col``: sums ``cols`` (N, C, *ksize, *L) into an (N, C, *size) image.

    One strided add per kernel position into a padded buffer.
    """
    n = len(ksize)
    lead = cols.shape[:cols.ndim - 2 * n]
    out = cols.shape[cols.ndim - n:]
    padded = tuple(max(m + 2 * p, (o - 1) * s + d * (k - 1) + 1)
                   for m, p, o, s, d, k in zip(size, padding, out, stride, dilation, ksize))
    buf = xp.zeros(lead + padded, dtype=cols.dtype)
    if all(o > 0 for o in out):
        rest = (slice(None),) * n
        for kpos in np.ndindex(*ksize):
            buf[(Ellipsis,) + kernel_slices(kpos, stride, dilation, out)] += cols[(Ellipsis,) + kpos + rest]
    if any(padding) or padded != tuple(m + 2 * p for m, p in zip(size, padding)):
        buf = xp.ascontiguousarray(buf[(Ellipsis,) + tuple(slice(p, p + m) for p, m in zip(padding, size))])
    return buf


def _prod(seq):
    return math.prod(seq)


# ----------------------------------------------------------------------------- im2col matrices kept for backward

# The weight gradient needs the forward's im2col matrix again.  Rebuilding it costs as much as the forward's
# copy, so the forward (with grad enabled) keeps it here, keyed by the input array, until the weight gradient
# takes it or the input array is freed (a weakref drops the entry with it: the graph that saved the input is what
# keeps the matrix alive).  The op table has no slot for such extra state; this side table stands in for one.
_COLS = {}
_COLS_LIMIT = 3 << 29       # 1.5 GiB: beyond it, columns are rebuilt in backward instead
_cols_bytes = [0]


def _remember_cols(x, key, cols):
    if _cols_bytes[0] + cols.nbytes > _COLS_LIMIT:
        return
    slot = (id(x), key)

    def drop(ref, slot=slot, table=_COLS, used=_cols_bytes):     # bound now: may run at interpreter exit
        entry = table.get(slot)
        if entry is not None and entry[0] is ref:
            del table[slot]
            used[0] -= entry[1].nbytes
    try:
        ref = weakref.ref(x, drop)
    except TypeError:
        return
    old = _COLS.pop(slot, None)
    if old is not None:
        _cols_bytes[0] -= old[1].nbytes
    _COLS[slot] = (ref, cols)
    _cols_bytes[0] += cols.nbytes


def _recall_cols(x, key):
    """The kept im2col matrix of ``x`` for these conv params (handed over once), or None."""
    slot = (id(x), key)
    entry = _COLS.get(slot)
    if entry is None or entry[0]() is not x:
        return None
    del _COLS[slot]
    _cols_bytes[0] -= entry[1].nbytes
    return entry[1]


# ----------------------------------------------------------------------------- the three kernels

def _columns_into(xp, cols, view, groups):
    """Copies the window view (N, C, *k, *out) into the first rows of ``cols`` (N, G, rows, L)."""
    N, C = view.shape[:2]
    n = (view.ndim - 2) // 2
    ksize, out = view.shape[2:2 + n], view.shape[2 + n:]
    item = cols.itemsize
    L = _prod(out)
    inner = [_prod(out[j + 1:]) * item for j in range(n)]
    kstr = [_prod(ksize[i + 1:]) * L * item for i in range(n)]
    shape = (N, groups, C // groups) + tuple(ksize) + tuple(out)
    strides = cols.strides[:2] + (_prod(ksize) * L * item,) + tuple(kstr) + tuple(inner)
    dst = xp.lib.stride_tricks.as_strided(cols, shape, strides)
    dst[...] = view.reshape(shape)


# Below this many output positions per image, one GEMM over the whole batch (columns (CK, N*L), result moved back
# to the front) beats one GEMM per image: BLAS is inefficient on the narrow (CK, L) operands of small images.
_FOLD_BELOW = 400


def _row_columns(xp, x, kw, padding, dilation, out):
    """Columns over the kernel's width only, (N, C * kW, Hp * Wo): row ``kh`` of the kernel is a flat shift.

    For a stride-1 2-D convolution, the rows of the kernel need no copy: in the flattened (Hp, Wo) axis, kernel
    row ``kh`` reads the contiguous run starting at ``kh * dH * Wo``.  Only the kW shifts are copied (a third of
    the full im2col matrix for a 3x3 kernel).
    """
    N, C = x.shape[:2]
    xpad = pad_spatial(xp, x, padding, padding)
    Hp, Wo = xpad.shape[2], out[1]
    cols = xp.empty((N, C, kw, Hp, Wo), dtype=x.dtype)
    for j in range(kw):
        cols[:, :, j] = xpad[:, :, :, j * dilation[1]:j * dilation[1] + Wo]
    return cols.reshape(N, C * kw, Hp * Wo)


def _row_shift_gemms(xp, lhs, cols, kh, dh, out):
    """``sum_kh lhs[kh] @ cols[:, :, shifted by kh]``: the stride-1 2-D convolution from ``_row_columns``."""
    Ho, Wo = out
    L = Ho * Wo
    y = xp.matmul(lhs[0], cols[:, :, :L])
    tmp = xp.empty_like(y) if kh > 1 else None
    for i in range(1, kh):
        start = i * dh * Wo
        xp.matmul(lhs[i], cols[:, :, start:start + L], out=tmp)
        y += tmp
    return y


def _uses_row_shift(n, x, ksize, stride, groups, L):
    """Whether a forward takes the kernel-row-shift route (2-D, stride 1, ungrouped, large enough images)."""
    return n == 2 and groups == 1 and ksize[0] > 1 and all(s == 1 for s in stride) and L >= _FOLD_BELOW \
        and x.shape[0] > 0


def _conv_forward(xp, x, w, b, stride, padding, dilation, groups, out=None, keep_cols=False):
    n = w.ndim - 2
    N, C = x.shape[:2]
    O = w.shape[0]
    ksize = w.shape[2:]
    floor = tuple(out_len(m, k, s, p, d) for m, k, s, p, d in zip(x.shape[2:], ksize, stride, padding, dilation))
    if (out is None or tuple(out) == floor) and _uses_row_shift(n, x, ksize, stride, groups, _prod(floor)):
        cols = _row_columns(xp, x, ksize[1], padding, dilation, floor)
        lhs = xp.ascontiguousarray(w.transpose(2, 0, 1, 3)).reshape(ksize[0], O, C * ksize[1])
        y = _row_shift_gemms(xp, lhs, cols, ksize[0], dilation[0], floor).reshape((N, O) + floor)
        if b is not None:
            y += b.reshape((O,) + (1,) * n)
        if keep_cols:
            _remember_cols(x, (tuple(ksize), stride, padding, dilation, groups, floor, 'rows'), cols)
        return y
    view, out = im2col(xp, x, ksize, stride, padding, dilation, out)
    L = _prod(out)
    ckg = (C // groups) * _prod(ksize)
    wm = w.reshape(groups, O // groups, ckg)
    key = (tuple(ksize), stride, padding, dilation, groups, out) if keep_cols else None
    if L >= _FOLD_BELOW or N == 1:
        # batch-major: (N, G, CK/G, L) and one GEMM per (batch item, group), no transpose of the result
        if b is None:
            cols = xp.ascontiguousarray(view).reshape(N, groups, ckg, L)
            y = xp.matmul(wm, cols).reshape((N, O) + out)
        else:
            # the bias rides in the GEMM as a row of ones under the columns: saves a pass over the output
            cols = xp.empty((N, groups, ckg + 1, L), dtype=x.dtype)
            cols[:, :, ckg] = 1
            _columns_into(xp, cols, view, groups)
            wm = xp.concatenate([wm, b.reshape(groups, O // groups, 1)], axis=2)
            y = xp.matmul(wm, cols).reshape((N, O) + out)
            cols = cols[:, :, :ckg]
        if key is not None:
            _remember_cols(x, key, cols)
        return y
    # small images: batch folded into the GEMM's columns, (G, CK/G, N*L), then moved back to the front
    perm = (1,) + tuple(range(2, 2 + n)) + (0,) + tuple(range(2 + n, 2 + 2 * n))
    cols = xp.ascontiguousarray(view.transpose(perm)).reshape(groups, ckg, N * L)
    if key is not None:
        _remember_cols(x, key, cols)
    y = xp.matmul(wm, cols).reshape(O, N, L).transpose(1, 0, 2)
    y = xp.ascontiguousarray(y).reshape((N, O) + out)
    if b is not None:
        y += b.reshape((O,) + (1,) * n)
    return y


def _conv_transpose_forward(xp, g, w, b, stride, padding, dilation, groups, output_padding):
    n = w.ndim - 2
    ksize = w.shape[2:]
    reach = tuple(d * (k - 1) - p for k, d, p in zip(ksize, dilation, padding))
    if all(s == 1 for s in stride) and min(reach) >= 0 and g.shape[1] <= 2 * w.shape[1] * groups:
        # stride 1: the transposed convolution is a plain one with the kernel flipped and its channel axes
        # swapped, over the input padded by the kernel's reach.  Unless the input has many more channels than
        # the output, its im2col copy is cheaper than col2im's scatter of kernel-sized columns.
        G = groups
        flipped = w.reshape((G, w.shape[0] // G) + w.shape[1:]).swapaxes(1, 2)
        flipped = flipped.reshape((G * w.shape[1], w.shape[0] // G) + tuple(ksize))
        flipped = flipped[(Ellipsis,) + (slice(None, None, -1),) * n]
        padded = pad_spatial(xp, g, reach, tuple(r + op for r, op in zip(reach, output_padding)))
        return _conv_forward(xp, padded, xp.ascontiguousarray(flipped), b, stride, (0,) * n, dilation, groups)
    N, Cin = g.shape[:2]
    L = g.shape[2:]
    og = w.shape[1]
    ksize = w.shape[2:]
    K = _prod(ksize)
    wm = w.reshape(groups, Cin // groups, og * K).transpose(0, 2, 1)
    if _prod(L) >= _FOLD_BELOW or N == 1:
        gm = g.reshape(N, groups, Cin // groups, _prod(L))
        cols = xp.matmul(wm, gm).reshape((N, groups * og) + tuple(ksize) + tuple(L))
    else:
        # small images: batch folded into the GEMM's columns; col2im reads the (N, ...) layout as a strided view
        gm = xp.ascontiguousarray(g.reshape(N, Cin, _prod(L)).transpose(1, 0, 2)).reshape(groups, Cin // groups, -1)
        cols = xp.matmul(wm, gm).reshape((groups * og,) + tuple(ksize) + (N,) + tuple(L))
        cols = cols.transpose((n + 1,) + tuple(range(n + 1)) + tuple(range(n + 2, 2 * n + 2)))
    size = tuple((l - 1) * s - 2 * p + d * (k - 1) + op + 1
                 for l, s, p, d, k, op in zip(L, stride, padding, dilation, ksize, output_padding))
    y = col2im(xp, cols, size, ksize, stride, padding, dilation)
    if b is not None:
        y += b.reshape((groups * og,) + (1,) * n)
    return y


def _conv_weight_grad(xp, x, g, ksize, stride, padding, dilation, groups):
    """d(sum(g * conv(x, w)))/dw, shape (O, C/groups, *ksize)."""
    n = len(ksize)
    N, C = x.shape[:2]
    O = g.shape[1]
    out = g.shape[2:]
    L = _prod(out)
    ckg = (C // groups) * _prod(ksize)
    og = O // groups
    key = (tuple(ksize), stride, padding, dilation, groups, tuple(out))
    cols = _recall_cols(x, key + ('rows',))
    if cols is not None:
        # the forward's kW-only columns: one GEMM per kernel row against its shifted run, (O, kH, C * kW)
        gm = g.reshape(N, O, L)
        parts = [xp.matmul(gm, cols[:, :, i * dilation[0] * out[1]:][:, :, :L].transpose(0, 2, 1)).sum(axis=0)
                 for i in range(ksize[0])]
        gw = xp.stack(parts, axis=1).reshape(O, ksize[0], C, ksize[1]).transpose(0, 2, 1, 3)
        return xp.ascontiguousarray(gw)
    cols = _recall_cols(x, key)
    if cols is not None:
        # the forward's im2col matrix, in whichever layout the forward used
        if cols.ndim == 4:
            gw = xp.matmul(g.reshape(N, groups, og, L), cols.transpose(0, 1, 3, 2)).sum(axis=0)
        else:
            gm = xp.ascontiguousarray(g.reshape(N, O, L).transpose(1, 0, 2)).reshape(groups, og, N * L)
            gw = xp.matmul(gm, cols.transpose(0, 2, 1))
        return gw.reshape((O, C // groups) + tuple(ksize))
    view, _ = im2col(xp, x, ksize, stride, padding, dilation, out)
    if og <= groups * L:
        # per-batch-item GEMMs summed over the batch: the (N, O, CK/G) partials are no bigger than the columns
        cols = xp.ascontiguousarray(view).reshape(N, groups, ckg, L)
        gw = xp.matmul(g.reshape(N, groups, og, L), cols.transpose(0, 1, 3, 2)).sum(axis=0)
    else:
        perm = (1,) + tuple(range(2, 2 + n)) + (0,) + tuple(range(2 + n, 2 + 2 * n))
        cols = xp.ascontiguousarray(view.transpose(perm)).reshape(groups, ckg, N * L)
        gm = xp.ascontiguousarray(g.reshape(N, O, L).transpose(1, 0, 2)).reshape(groups, og, N * L)
        gw = xp.matmul(gm, cols.transpose(0, 2, 1))
    return gw.reshape((O, C // groups) + tuple(ksize))


def _fit_padding(in_size, out_size, ksize, stride, padding, dilation):
    """The output_padding that makes a transposed convolution of ``out_size`` come back to ``in_size``."""
    return tuple(m - ((o - 1) * s - 2 * p + d * (k - 1) + 1)
                 for m, o, k, s, p, d in zip(in_size, out_size, ksize, stride, padding, dilation))


def _bias_grad(F, grad):
    return F.sum(grad, dim=(0,) + tuple(range(2, len(grad.shape))), keepdim=False, dtype=F.dtype_of(grad))



@defop('convolution', save='inputs', grad_name='ConvolutionBackward0')
def _convolution(xp, x, w, b, stride, padding, dilation, groups, out=None, keep_cols=False):
    # keep_cols: the public function sets it when this call is recorded and the weight gradient will want
    # the im2col matrix again (rules calling F.convolution leave it off)
    return _conv_forward(xp, x, w, b, stride, padding, dilation, groups, out, keep_cols=keep_cols)


@_convolution.derivative
def _(F, ctx, grad):
    x, w, _ = ctx.inputs
    p = ctx.params
    common = dict(stride=p['stride'], padding=p['padding'], dilation=p['dilation'], groups=p['groups'])
    x_shape, w_shape = ctx.input_meta[0][0], ctx.input_meta[1][0]
    gx = gw = gb = None
    need = ctx.needs_input_grad
    if need[0]:
        fit = _fit_padding(x_shape[2:], grad.shape[2:], w_shape[2:], p['stride'], p['padding'], p['dilation'])
        gx = F.conv_transpose(grad, w, None, output_padding=fit, **common)
    if need[1]:
        gw = F.conv_weight_grad(x, grad, ksize=tuple(w_shape[2:]), **common)
    if len(need) > 2 and need[2]:
        gb = _bias_grad(F, grad)
    return gx, gw, gb


@defop('conv_transpose', save='inputs', grad_name='ConvolutionBackward0', public='conv_transpose2d')
def _conv_transpose(xp, g, w, b, stride, padding, dilation, groups, output_padding):
    return _conv_transpose_forward(xp, g, w, b, stride, padding, dilation, groups, output_padding)


@_conv_transpose.derivative
def _(F, ctx, grad):
    g, w, _ = ctx.inputs
    p = ctx.params
    common = dict(stride=p['stride'], padding=p['padding'], dilation=p['dilation'], groups=p['groups'])
    g_shape, w_shape = ctx.input_meta[0][0], ctx.input_meta[1][0]
    gg = gw = gb = None
    need = ctx.needs_input_grad
    if need[0]:
        gg = F.convolution(grad, w, None, out=tuple(g_shape[2:]), **common)
    if need[1]:
        gw = F.conv_weight_grad(grad, g, ksize=tuple(w_shape[2:]), **common)
    if len(need) > 2 and need[2]:
        gb = _bias_grad(F, grad)
    return gg, gw, gb


@defop('conv_weight_grad', save='inputs', grad_name='ConvolutionBackwardBackward0', public=None)
def _conv_wgrad(xp, x, g, ksize, stride, padding, dilation, groups):
    return _conv_weight_grad(xp, x, g, ksize, stride, padding, dilation, groups)


@_conv_wgrad.derivative
def _(F, ctx, grad):
    x, g = ctx.inputs
    p = ctx.params
    common = dict(stride=p['stride'], padding=p['padding'], dilation=p['dilation'], groups=p['groups'])
    x_shape, g_shape = ctx.input_meta[0][0], ctx.input_meta[1][0]
    gx = gg = None
    if ctx.needs_input_grad[0]:
        fit = _fit_padding(x_shape[2:], g_shape[2:], p['ksize'], p['stride'], p['padding'], p['dilation'])
        gx = F.conv_transpose(g, grad, None, output_padding=fit, **common)
    if ctx.needs_input_grad[1]:
        gg = F.convolution(x, grad, None, out=tuple(g_shape[2:]), **common)
    return gx, gg


# ----------------------------------------------------------------------------- unfold / fold

@defop('im2col', grad_name='Im2ColBackward0', public='nn.functional.unfold')
def _im2col_op(xp, x, ksize, dilation, padding, stride):
    view, out = im2col(xp, x, ksize, stride, padding, dilation)
    return xp.ascontiguousarray(view).reshape(x.shape[0], x.shape[1] * _prod(ksize), _prod(out))


@_im2col_op.derivative
def _(F, ctx, grad):
    p = ctx.params
    return F.col2im(grad, size=tuple(ctx.input_meta[0][0][2:]), **p)


@defop('col2im', grad_name='Col2ImBackward0', public='nn.functional.fold')
def _col2im_op(xp, cols, size, ksize, dilation, padding, stride):
    out = tuple(out_len(m, k, s, p, d) for m, k, s, p, d in zip(size, ksize, stride, padding, dilation))
    N, CK = cols.shape[:2]
    blocks = cols.reshape((N, CK // _prod(ksize)) + tuple(ksize) + out)
    return col2im(xp, blocks, size, ksize, stride, padding, dilation)


@_col2im_op.derivative
def _(F, ctx, grad):
    p = dict(ctx.params)
    del p['size']
    return F.im2col(grad, **p)


# ----------------------------------------------------------------------------- argument checks

def ntuple(value, n, name='kernel_size'):
    """An int or a sequence as an n-tuple of ints (torch's ``_ntuple``)."""
    if isinstance(value, (list, tuple)):
        if len(value) == 1 and n > 1:
            return tuple(int(value[0]) for _ in range(n))
        if len(value) != n:
            raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} values to match "
                               f"the convolution dimensions, but got {name}={list(value)}")
        return tuple(int(v) for v in value)
    return (int(value),) * n


def _fmt(shape):
    return '[' + ', '.join(str(s) for s in shape) + ']'


def _batchify(input, n, name):
    """(input with a batch dim, whether one was added); checks the rank like torch."""
    nd = input.ndim
    if nd == n + 1:
        return input.unsqueeze(0), True
    if nd == n + 2:
        return input, False
    raise RuntimeError(f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to {name}, but got input of "
                       f"size: {_fmt(input.shape)}")


def _check_common(input, weight, bias, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}() received an invalid combination of arguments - got ({type(input).__name__}, ...)")
    if input._dtype is not weight._dtype:
        raise RuntimeError(f"Input type ({input._dtype.name}) and weight type ({weight._dtype.name}) should be "
                           "the same")
    if bias is not None and bias._dtype is not input._dtype:
        raise RuntimeError(f"Input type ({input._dtype.name}) and bias type ({bias._dtype.name}) should be the same")
    if not input._dtype.is_floating_point:
        from ember.ops._dispatch import scalar_type_name
        raise RuntimeError(f"\"{name}\" not implemented for '{scalar_type_name(input._dtype)}'")


def _same_padding(input, n, ksize, dilation):
    """'same' padding: per-dim symmetric amount; an odd total pads the extra element on the right first."""
    total = [d * (k - 1) for k, d in zip(ksize, dilation)]
    sym = tuple(t // 2 for t in total)
    extra = [t - 2 * (t // 2) for t in total]
    if any(extra):
        from ember.ops.padding import pad
        amounts = []
        for e in reversed(extra):
            amounts += [0, e]
        input = pad(input, amounts)
    return input, sym


def _conv_nd(input, weight, bias, stride, padding, dilation, groups, n):
    name = f'conv{n}d'
    _check_common(input, weight, bias, name)
    if weight.ndim != n + 2:
        raise RuntimeError("weight should have at least three dimensions" if weight.ndim < 3 else
                           f"Expected {n + 2}-dimensional input for {n + 2}-dimensional weight {_fmt(weight.shape)}, "
                           f"but got {input.ndim}-dimensional input of size {_fmt(input.shape)} instead")
    x, unbatched = _batchify(input, n, name)
    ksize = tuple(weight.shape[2:])
    stride = ntuple(stride, n, 'stride')
    dilation = ntuple(dilation, n, 'dilation')
    groups = int(groups)
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if isinstance(padding, str):
        if padding == 'valid':
            padding = (0,) * n
        elif padding == 'same':
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            x, padding = _same_padding(x, n, ksize, dilation)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        padding = ntuple(padding, n, 'padding')
        if any(p < 0 for p in padding):
            raise RuntimeError("negative padding is not supported")
    C = x.shape[1]
    if weight.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                           f"but got weight of size {_fmt(weight.shape)} instead")
    if C != weight.shape[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {_fmt(weight.shape)}, expected input"
                           f"{_fmt(x.shape)} to have {weight.shape[1] * groups} channels, but got {C} channels "
                           "instead")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != weight.shape[0]):
        raise RuntimeError(f"Given weight of size {_fmt(weight.shape)}, expected bias to be 1-dimensional with "
                           f"{weight.shape[0]} elements, but got bias of size {_fmt(bias.shape)} instead")
    padded = tuple(m + 2 * p for m, p in zip(x.shape[2:], padding))
    eff = tuple(d * (k - 1) + 1 for k, d in zip(ksize, dilation))
    if any(a < b for a, b in zip(padded, eff)):
        raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
                           f"Kernel size: ({' x '.join(map(str, eff))}). Kernel size can't be greater than actual "
                           "input size")
    params = {'stride': stride, 'padding': padding, 'dilation': dilation, 'groups': groups}
    if _grad_state['enabled'] and weight._requires_grad:
        params['keep_cols'] = True
    y = apply(_convolution, (x, weight, bias), params)
    return y.squeeze(0) if unbatched else y


def _conv_transpose_nd(input, weight, bias, stride, padding, output_padding, groups, dilation, n, output_size=None):
    name = f'conv_transpose{n}d'
    _check_common(input, weight, bias, name)
    if weight.ndim != n + 2:
        raise RuntimeError(f"Expected {n + 2}-dimensional input for {n + 2}-dimensional weight {_fmt(weight.shape)}, "
                           f"but got {input.ndim}-dimensional input of size {_fmt(input.shape)} instead")
    x, unbatched = _batchify(input, n, name)
    stride = ntuple(stride, n, 'stride')
    dilation = ntuple(dilation, n, 'dilation')
    if isinstance(padding, str):
        raise TypeError(f"{name}(): argument 'padding' must be tuple of ints, not str")
    padding = ntuple(padding, n, 'padding')
    output_padding = ntuple(output_padding, n, 'output_padding')
    groups = int(groups)
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError("output padding must be smaller than either stride or dilation, but got output_padding: "
                           f"{', '.join(map(str, output_padding))}, stride: {', '.join(map(str, stride))}, "
                           f"dilation: {', '.join(map(str, dilation))}")
    C = x.shape[1]
    if C != weight.shape[0]:
        raise RuntimeError(f"Given transposed=1, weight of size {_fmt(weight.shape)}, expected input{_fmt(x.shape)} "
                           f"to have {weight.shape[0]} channels, but got {C} channels instead")
    if C % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                           f"but got weight of size {_fmt(weight.shape)} instead")
    cout = weight.shape[1] * groups
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != cout):
        raise RuntimeError(f"Given transposed=1, weight of size {_fmt(weight.shape)}, expected bias to be "
                           f"1-dimensional with {cout} elements, but got bias of size {_fmt(bias.shape)} instead")
    size = tuple((l - 1) * s - 2 * p + d * (k - 1) + op + 1 for l, s, p, d, k, op in
                 zip(x.shape[2:], stride, padding, dilation, weight.shape[2:], output_padding))
    if any(m <= 0 for m in size):
        raise RuntimeError(f"Given input size per channel: ({' x '.join(map(str, x.shape[2:]))}). Calculated output "
                           f"size per channel: ({' x '.join(map(str, size))}). Output size is too small")
    y = apply(_conv_transpose, (x, weight, bias), {'stride': stride, 'padding': padding, 'dilation': dilation,
                                                    'groups': groups, 'output_padding': output_padding})
    return y.squeeze(0) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution over an input of shape (N, C, L) or (C, L).

    Args:
        padding: int, tuple, 'valid' (none) or 'same' (output as long as the input; stride 1 only).
    """
    return _conv_nd(input, weight, bias, stride, padding, dilation, groups, 1)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution over an input of shape (N, C, H, W) or (C, H, W).

    Args:
        weight: (out_channels, in_channels / groups, kH, kW).
        padding: int, tuple, 'valid' (none) or 'same' (output as large as the input; stride 1 only).
    """
    return _conv_nd(input, weight, bias, stride, padding, dilation, groups, 2)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution over an input of shape (N, C, D, H, W) or (C, D, H, W)."""
    return _conv_nd(input, weight, bias, stride, padding, dilation, groups, 3)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-D transposed convolution (the gradient of conv1d with respect to its input).

    Args:
        weight: (in_channels, out_channels / groups, kL).
    """
    return _conv_transpose_nd(input, weight, bias, stride, padding, output_padding, groups, dilation, 1)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution (the gradient of conv2d with respect to its input).

    Args:
        weight: (in_channels, out_channels / groups, kH, kW).
        output_padding: extra size added to one side of each output dim (less than stride or dilation).
    """
    return _conv_transpose_nd(input, weight, bias, stride, padding, output_padding, groups, dilation, 2)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """3-D transposed convolution (the gradient of conv3d with respect to its input)."""
    return _conv_transpose_nd(input, weight, bias, stride, padding, output_padding, groups, dilation, 3)


def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
    """The general convolution entry (``torch.convolution``): dims follow ``weight``."""
    n = weight.ndim - 2
    if transposed:
        return _conv_transpose_nd(input, weight, bias, stride, padding, output_padding, groups, dilation, n)
    return _conv_nd(input, weight, bias, stride, padding, dilation, groups, n)


# ----------------------------------------------------------------------------- samples

def _conv2d_samples(make):
    return [
        Sample(make((2, 3, 7, 6)), make((4, 3, 3, 2)), make((4,))),
        Sample(make((2, 4, 9, 8)), make((6, 2, 3, 3)), None, stride=2, padding=1, groups=2),
        Sample(make((1, 2, 8, 9)), make((3, 2, 2, 3)), make((3,)), stride=(2, 1), padding=(1, 2), dilation=(2, 1)),
        Sample(make((2, 2, 5, 5)), make((2, 2, 2, 2)), make((2,)), padding='same'),
        Sample(make((2, 2, 5, 6)), make((3, 2, 3, 1)), None, padding='valid', dilation=2),
        Sample(make((3, 6, 6)), make((2, 3, 3, 3)), make((2,))),   # unbatched
        Sample(make((2, 3, 3, 3)), make((6, 1, 1, 1)), make((6,)), groups=3),   # depthwise 1x1, tiny image
        Sample(make((2, 3, 3, 3)), make((8, 3, 3, 3)), make((8,))),     # 1x1 output: batch-folded weight grad
        Sample(make((2, 2, 5, 5)), make((7, 2, 3, 3)), None, padding=1),   # many out channels: col2im input grad
        Sample(make((1, 2, 4, 4)), make((3, 2, 2, 2)), make((3,)), padding=2),   # padding beyond the kernel
        Sample(make((0, 2, 4, 4)), make((3, 2, 3, 3)), make((3,)), grad=False),
    ]


def _conv2d_errors(make):
    return [
        ErrorSample(make((2, 5, 8, 8)), make((4, 3, 3, 3)),
                    match=r'Given groups=1, weight of size \[4, 3, 3, 3\], expected input\[2, 5, 8, 8\] to have 3 '
                          r'channels, but got 5 channels instead'),
        ErrorSample(make((1, 3, 2, 2)), make((4, 3, 3, 3)),
                    match=r"Calculated padded input size per channel: \(2 x 2\). Kernel size: \(3 x 3\). Kernel "
                          r"size can't be greater than actual input size"),
        ErrorSample(make((2, 3)), make((4, 3, 3, 3)),
                    match=r'Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d, but got input of size: '
                          r'\[2, 3\]'),
        ErrorSample(make((1, 3, 5, 5)), make((4, 3, 3, 3)), None, 2, 'same',
                    match="padding='same' is not supported for strided convolutions"),
    ]


_convolution.public = 'nn.functional.conv2d'
_convolution.samples = _conv2d_samples
_convolution.error_samples = _conv2d_errors

_conv_transpose.public = 'nn.functional.conv_transpose2d'
_conv_transpose.samples = lambda make: [
    Sample(make((2, 3, 4, 5)), make((3, 4, 3, 2)), make((4,))),
    Sample(make((2, 4, 3, 4)), make((4, 3, 3, 3)), None, stride=2, padding=1, output_padding=1, groups=2),
    Sample(make((1, 2, 4, 3)), make((2, 2, 2, 3)), make((4,)), stride=(2, 3), padding=(0, 1), output_padding=(1, 2),
           groups=2, dilation=(2, 1)),
    Sample(make((3, 4, 4)), make((3, 2, 2, 2)), make((2,)), stride=2),   # unbatched
]
_conv_transpose.error_samples = lambda make: [
    ErrorSample(make((1, 3, 4, 4)), make((3, 2, 3, 3)), None, 2, 0, 2,
                match='output padding must be smaller than either stride or dilation'),
    ErrorSample(make((1, 5, 4, 4)), make((3, 2, 3, 3)),
                match=r'Given transposed=1, weight of size \[3, 2, 3, 3\], expected input\[1, 5, 4, 4\] to have 3 '
                      r'channels, but got 5 channels instead'),
]

_im2col_op.samples = lambda make: [
    Sample(make((2, 3, 6, 5)), 2), Sample(make((1, 2, 7, 8)), (2, 3), dilation=(2, 1), padding=1, stride=(2, 3)),
    Sample(make((3, 4, 4)), 3, padding=1)]
_col2im_op.samples = lambda make: [
    Sample(make((2, 12, 20)), (5, 6), 2), Sample(make((1, 12, 12)), (7, 8), (2, 3), dilation=(2, 1), padding=1,
                                                  stride=(2, 3)),
    Sample(make((36, 16)), (4, 4), 3, padding=1)]

composite('conv1d', public='nn.functional.conv1d', samples=lambda make: [
    Sample(make((2, 3, 10)), make((4, 3, 3)), make((4,)), stride=2, padding=1),
    Sample(make((2, 4, 9)), make((4, 2, 4)), None, padding='same', dilation=2, groups=2),
    Sample(make((3, 7)), make((2, 3, 2)), make((2,)), dilation=3),
])
composite('conv3d', public='nn.functional.conv3d', samples=lambda make: [
    Sample(make((2, 2, 5, 4, 6)), make((3, 2, 2, 3, 2)), make((3,)), stride=(1, 2, 2), padding=(1, 0, 1)),
    Sample(make((1, 4, 4, 4, 4)), make((4, 1, 3, 3, 3)), None, padding='same', groups=4),
])
composite('conv_transpose1d', public='nn.functional.conv_transpose1d', samples=lambda make: [
    Sample(make((2, 3, 5)), make((3, 2, 3)), make((2,)), stride=3, padding=1, output_padding=2),
    Sample(make((2, 4, 6)), make((4, 1, 2)), None, groups=2, dilation=2),
])
composite('conv_transpose3d', public='nn.functional.conv_transpose3d', samples=lambda make: [
    Sample(make((1, 2, 3, 2, 3)), make((2, 3, 2, 2, 2)), make((3,)), stride=2, padding=(0, 1, 0)),
])
