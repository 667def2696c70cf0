"""``pad``: the kernel behind ``nn.functional.pad`` (constant, reflect, replicate, circular).

``pad`` lists amounts from the last dim backwards: ``(left, right, top,
bottom, ...)``; negative amounts crop.  Constant padding's gradient is the
gradient padded by the negated amounts (which crops what was added).  The
other modes gather each padded dim through an index map from output to input
positions; their gradient folds the padded border back onto the input (a
loop over the border positions only, which are few).
"""
import numpy as np

from ember._tensor import Tensor
from ember.ops._dispatch import apply, scalar_type_name
from ember.ops._registry import ErrorSample, Sample, defop

__all__ = ['constant_pad_nd']   # pad itself is nn.functional.pad, not torch.pad


def _pairs(pad, nd):
    """Per-dim (before, after) for all ``nd`` dims from torch's last-dim-first ``pad`` tuple."""
    pairs = [(0, 0)] * nd
    for i in range(len(pad) // 2):
        pairs[nd - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return tuple(pairs)


# ----------------------------------------------------------------------------- constant

@defop('constant_pad_nd', grad_name='ConstantPadNdBackward0', dtypes='all', public='nn.functional.pad')
def _constant_pad(xp, a, pairs, value):
    crop = tuple(slice(max(0, -b), a.shape[d] - max(0, -e)) for d, (b, e) in enumerate(pairs))
    widths = tuple((max(0, b), max(0, e)) for b, e in pairs)
    a = a[crop]
    if not any(b or e for b, e in widths):
        return a.copy()
    out = xp.pad(a, widths, mode='constant', constant_values=value)
    return out if out.flags.c_contiguous else xp.ascontiguousarray(out)   # row-major, like torch's result


@_constant_pad.derivative
def _(F, ctx, grad):
    return F.constant_pad_nd(grad, pairs=tuple((-b, -e) for b, e in ctx.params['pairs']), value=0)


# ----------------------------------------------------------------------------- reflect / replicate / circular

def _index_map(n, before, after, mode):
    """For each output position along one dim: the input position it reads."""
    if mode == 'circular':
        lo, hi = max(0, -before), n - max(0, -after)
        kept = hi - lo
        j = np.arange(kept + max(0, before) + max(0, after)) - max(0, before)
        return lo + np.mod(j, kept)
    x = np.arange(-before, n + after)
    if mode == 'replicate':
        return np.clip(x, 0, n - 1)
    if n == 1:
        return np.zeros_like(x)
    x = np.abs(x)                       # reflect about 0 ...
    return (n - 1) - np.abs((n - 1) - x)  # ... and about n-1 (pads are smaller than n, so one fold suffices)


def _gather_pad(xp, a, pairs, mode):
    for d, (b, e) in enumerate(pairs):
        if b or e:
            a = xp.take(a, xp.asarray(_index_map(a.shape[d], b, e, mode)), axis=d)
    return a


def _fold_pad(xp, grad, shape, pairs, mode):
    """The adjoint of ``_gather_pad``: sums each output position's gradient into the input position it read."""
    for d in reversed(range(len(pairs))):
        b, e = pairs[d]
        if not (b or e):
            continue
        n = shape[d]
        index = _index_map(n, b, e, mode)
        out = xp.zeros(grad.shape[:d] + (n,) + grad.shape[d + 1:], dtype=grad.dtype)
        # the straight run (index[j] == index[j0] + j - j0) is one slice; the border is a few single positions
        start = max(0, b)
        run = len(index) - start - max(0, e)
        if run > 0:
            src = int(index[start])
            lead = (slice(None),) * d
            out[lead + (slice(src, src + run),)] += grad[lead + (slice(start, start + run),)]
        for j in list(range(start)) + list(range(start + max(run, 0), len(index))):
            out[(slice(None),) * d + (int(index[j]),)] += grad[(slice(None),) * d + (j,)]
        grad = out
    return grad


def _mode_ops(mode, kind):
    def grad_name(params, meta):
        if kind is None:
            return 'CopySlices'     # torch builds circular padding from in-place copies
        return f"{kind}{params['padded_dims']}DBackward0"

    @defop(f'{mode}_pad', grad_name=grad_name, dtypes='numeric', public='nn.functional.pad')
    def forward(xp, a, pairs, padded_dims):
        return _gather_pad(xp, a, pairs, mode)

    @defop(f'{mode}_pad_backward', public=None)
    def backward(xp, grad, shape, pairs, padded_dims):
        return _fold_pad(xp, grad, shape, pairs, mode)

    @forward.derivative
    def _(F, ctx, grad):
        p = ctx.params
        return getattr(F, f'{mode}_pad_backward')(grad, shape=ctx.input_meta[0][0], pairs=p['pairs'],
                                                  padded_dims=p['padded_dims'])

    @backward.derivative
    def _(F, ctx, grad):
        return getattr(F, f'{mode}_pad')(grad, pairs=ctx.params['pairs'], padded_dims=ctx.params['padded_dims'])

    return forward


_MODE_OPS = {'reflect': _mode_ops('reflect', 'ReflectionPad'), 'replicate': _mode_ops('replicate', 'ReplicationPad'),
             'circular': _mode_ops('circular', None)}

_SUPPORTED = ("Supported combinations for non-constant padding:\n"
              "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
              "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
              "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def _check_nonconstant(input, pad, mode):
    shape = tuple(input._data.shape)
    nd, k = len(shape), len(pad) // 2
    if k not in (1, 2, 3) or nd not in (k + 1, k + 2):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {nd}D input tensor.\n{_SUPPORTED}")
    if mode in ('reflect', 'replicate') and input._dtype.name == 'bool':
        kind = 'reflection' if mode == 'reflect' else 'replication'
        raise NotImplementedError(f"\"{kind}_pad{k}d\" not implemented for '{scalar_type_name(input._dtype)}'")
    batch = 1 if nd == k + 2 else 0
    if any(n == 0 for n in shape[batch:]) and mode != 'circular':
        raise RuntimeError(f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 batch size and other "
                           f"non-zero dimensions for input, but got: [{', '.join(map(str, shape))}]")
    for i in range(k):
        d = nd - 1 - i
        b, e = pad[2 * i], pad[2 * i + 1]
        n = shape[d]
        if mode == 'reflect' and (b >= n or e >= n):
            raise RuntimeError(f"Argument #{2 * k + 2}: Padding size should be less than the corresponding input "
                               f"dimension, but got: padding ({b}, {e}) at dimension {d} of input "
                               f"[{', '.join(map(str, shape))}]")
        if mode == 'circular' and (b > n or e > n or n - max(0, -b) - max(0, -e) <= 0):
            raise RuntimeError("Padding value causes wrapping around more than once.")


def pad(input, pad, mode='constant', value=None):
    """Pads ``input``: ``pad`` gives (before, after) amounts from the last dim backwards; negative amounts crop.

    Args:
        mode: 'constant' (fill with ``value``, default 0), 'reflect' (mirror without repeating the edge),
            'replicate' (repeat the edge) or 'circular' (wrap around).
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pad(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    pad = tuple(int(p) for p in pad)
    nd = input._data.ndim
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > nd:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {nd}")
    pairs = _pairs(pad, nd)
    if mode == 'constant':
        for d, (b, e) in enumerate(pairs):
            if input._data.shape[d] + b + e < 0:
                raise RuntimeError("narrow(): length must be non-negative.")
        return apply(_constant_pad, (input,), {'pairs': pairs, 'value': 0 if value is None else value})
    if mode not in _MODE_OPS:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
    _check_nonconstant(input, pad, mode)
    return apply(_MODE_OPS[mode], (input,), {'pairs': pairs, 'padded_dims': len(pad) // 2})


def constant_pad_nd(input, pad, value=0):
    """Pads with the constant ``value`` (``pad`` as in ``nn.functional.pad``; negative amounts crop)."""
    return globals()['pad'](input, pad, 'constant', value)


_constant_pad.samples = lambda make: [
    Sample(make((2, 3)), (1, 2)), Sample(make((2, 3, 4)), (1, 0, 2, 1), value=1.5),
    Sample(make((2, 3)), (-1, 1, 1, -1)),
    Sample(make((3,)), (0, 0)), Sample(make((2, 3)), (2, 0, 0, 0), 'constant', -2.0), Sample(make((0, 3)), (1, 1))]
_constant_pad.error_samples = lambda make: [
    ErrorSample(make((2, 3)), (1,), match='Padding length must be divisible by 2'),
    ErrorSample(make((2, 3)), (1, 1, 1, 1, 1, 1), match='Padding length should be less than or equal to two times'),
    ErrorSample(make((2, 3)), (-2, -2), match=r'narrow\(\): length must be non-negative'),
    ErrorSample(make((2, 3)), (1, 1), 'foo', error=NotImplementedError, match='Unrecognised padding mode foo')]

_MODE_OPS['reflect'].samples = lambda make: [
    Sample(make((2, 5)), (2, 1), 'reflect'), Sample(make((1, 2, 3, 4)), (1, 2, 2, 0), mode='reflect'),
    Sample(make((1, 3, 4)), (-1, 2), 'reflect'), Sample(make((1, 2, 3, 3, 3)), (1, 1, 2, 0, 0, 2), 'reflect'),
    Sample(make((2, 1, 3)), (0, 0, 0, 0), 'reflect')]
_MODE_OPS['reflect'].error_samples = lambda make: [
    ErrorSample(make((1, 2, 3)), (3, 3), 'reflect', match=r'Argument #4: Padding size should be less than the '
                r'corresponding input dimension, but got: padding \(3, 3\) at dimension 2 of input \[1, 2, 3\]'),
    ErrorSample(make((3,)), (1, 1), 'reflect', error=NotImplementedError, match='Padding size 2 is not supported for '
                '1D input tensor'),
    ErrorSample(make((1, 3)), (1, 1), 'reflect', 2.0, match='Padding mode "reflect" doesn\'t take in value argument')]
_MODE_OPS['replicate'].samples = lambda make: [
    Sample(make((2, 5)), (2, 1), 'replicate'), Sample(make((1, 2, 3, 4)), (3, 2, 2, 0), mode='replicate'),
    Sample(make((1, 3, 4)), (-1, 2), 'replicate'), Sample(make((1, 1, 2, 2, 2)), (1, 1, 2, 0, 0, 2), 'replicate'),
    Sample(make((1, 1)), (3, 2), 'replicate')]
_MODE_OPS['replicate'].error_samples = lambda make: [
    ErrorSample(make((1, 1, 0)), (1, 1), 'replicate', match='Expected 2D or 3D'),
    ErrorSample(make((1, 1, 1, 1, 1, 3)), (1, 1), 'replicate', error=NotImplementedError,
                match='Padding size 2 is not supported for 6D input tensor')]
_MODE_OPS['circular'].samples = lambda make: [
    Sample(make((2, 5)), (2, 1), 'circular'), Sample(make((1, 2, 3, 4)), (3, 4, 2, 0), mode='circular'),
    Sample(make((1, 3, 4)), (-1, 2), 'circular'), Sample(make((1, 3, 4)), (2, -1), 'circular'),
    Sample(make((1, 2, 3, 3, 3)), (1, 1, 2, 0, 0, 2), 'circular')]
_MODE_OPS['circular'].error_samples = lambda make: [
    ErrorSample(make((1, 1, 3)), (4, 1), 'circular', match='Padding value causes wrapping around more than once')]

for _op in [_constant_pad] + list(_MODE_OPS.values()):
    _op.public = 'nn.functional.pad'
    _op.torch_public = 'nn.functional.pad'
