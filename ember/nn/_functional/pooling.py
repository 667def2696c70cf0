"""Pooling: max, average, adaptive, LP pooling and max_unpool (kernels in ``ember/ops/pool.py``).

The kernels take a batched input; an unbatched (C, *spatial) input gets a
batch dim here and loses it again on the way out.
"""
from ember._tensor import Tensor
from ember.autograd.grad_mode import is_grad_enabled
from ember.ops._dispatch import apply
from ember.ops.conv import ntuple
from ember.ops.pool import _adaptive_avg_pool, _adaptive_max_pool_op, _avg_pool_op, _max_pool_op, pool_out_len
from ember.ops.pool import _max_unpool as _max_unpool_op

__all__ = ['max_pool1d', 'max_pool2d', 'max_pool3d', 'max_pool1d_with_indices', 'max_pool2d_with_indices',
           'max_pool3d_with_indices', 'avg_pool1d', 'avg_pool2d', 'avg_pool3d', 'adaptive_avg_pool1d',
           'adaptive_avg_pool2d', 'adaptive_avg_pool3d', 'adaptive_max_pool1d', 'adaptive_max_pool2d',
           'adaptive_max_pool3d', 'adaptive_max_pool1d_with_indices', 'adaptive_max_pool2d_with_indices',
           'adaptive_max_pool3d_with_indices', 'max_unpool1d', 'max_unpool2d', 'max_unpool3d', 'lp_pool1d',
           'lp_pool2d', 'lp_pool3d']


def _fmt(shape):
    return '[' + ', '.join(str(s) for s in shape) + ']'


def _batched(input, n, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    nd = input.ndim
    if nd not in (n + 1, n + 2) or any(s == 0 for s in input.shape[nd - n - 1:]):
        raise RuntimeError(f"{name}: Expected {n + 1}D or {n + 2}D (batch mode) tensor with optional 0 dim batch "
                           f"size for input, but got:{_fmt(input.shape)}")
    if not input.dtype.is_floating_point:
        from ember.ops._dispatch import scalar_type_name
        raise NotImplementedError(f"\"{name}\" not implemented for '{scalar_type_name(input._dtype)}'")
    return (input.unsqueeze(0), True) if nd == n + 1 else (input, False)


def _window_args(n, kernel_size, stride, padding, dilation):
    ksize = ntuple(kernel_size, n, 'kernel_size')
    stride = ksize if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) \
        else ntuple(stride, n, 'stride')
    padding = ntuple(padding, n, 'padding')
    dilation = ntuple(dilation, n, 'dilation')
    if any(k <= 0 for k in ksize):
        raise RuntimeError(f"kernel size should be greater than zero, but got "
                           + ' '.join(f'k{a}: {k}' for a, k in zip('DHW'[3 - n:], ksize)))
    if any(s <= 0 for s in stride):
        raise RuntimeError("stride should not be zero")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero, but got "
                           + ' '.join(f'dilation{a}: {d}' for a, d in zip('DHW'[3 - n:], dilation)))
    for k, p, d in zip(ksize, padding, dilation):
        if p < 0 or p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p}, "
                               f"kernel_size={k} and dilation={d}")
    return ksize, stride, padding, dilation


def _check_out(x, out):
    if any(o <= 0 for o in out):
        size = 'x'.join(str(s) for s in x.shape[1:])
        calc = 'x'.join(str(s) for s in (x.shape[1],) + tuple(out))
        raise RuntimeError(f"Given input size: ({size}). Calculated output size: ({calc}). Output size is too small")


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, n):
    name = f'max_pool{n}d'
    x, unbatched = _batched(input, n, name)
    ksize, stride, padding, dilation = _window_args(n, kernel_size, stride, padding, dilation)
    out = tuple(pool_out_len(m, k, s, p, d, ceil_mode)
                for m, k, s, p, d in zip(x.shape[2:], ksize, stride, padding, dilation))
    _check_out(x, out)
    # the indices cost a few passes: skip them when neither the caller nor autograd will read them
    with_indices = bool(return_indices) or (x.requires_grad and is_grad_enabled())
    values, indices = apply(_max_pool_op, (x,), {'ksize': ksize, 'stride': stride, 'padding': padding,
                                                  'dilation': dilation, 'ceil_mode': bool(ceil_mode),
                                                  'with_indices': with_indices})
    if unbatched:
        values, indices = values.squeeze(0), indices.squeeze(0)
    return (values, indices) if return_indices else values


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-D max pooling over (N, C, L) or (C, L); ``return_indices`` also gives each maximum's position."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-D max pooling over (N, C, H, W) or (C, H, W).

    Args:
        stride: defaults to ``kernel_size``.
        padding: implicit -inf padding on both sides, at most half the (dilated) kernel.
        ceil_mode: round the output size up, so a last partial window is kept.
        return_indices: also return the flat (h * W + w) index of each maximum, for ``max_unpool2d``.
    """
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """3-D max pooling over (N, C, D, H, W) or (C, D, H, W)."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 3)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    """``max_pool1d`` returning (values, indices)."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, True, 1)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    """``max_pool2d`` returning (values, indices)."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, True, 2)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    """``max_pool3d`` returning (values, indices)."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, True, 3)


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, n):
    name = f'avg_pool{n}d'
    x, unbatched = _batched(input, n, name)
    ksize, stride, padding, _ = _window_args(n, kernel_size, stride, padding, 1)
    if divisor_override is not None and int(divisor_override) == 0:
        raise RuntimeError("divisor must be not zero")
    out = tuple(pool_out_len(m, k, s, p, 1, ceil_mode) for m, k, s, p in zip(x.shape[2:], ksize, stride, padding))
    _check_out(x, out)
    y = apply(_avg_pool_op, (x,), {'ksize': ksize, 'stride': stride, 'padding': padding,
                                   'ceil_mode': bool(ceil_mode), 'count_include_pad': bool(count_include_pad),
                                   'divisor_override': None if divisor_override is None else int(divisor_override)})
    return y.squeeze(0) if unbatched else y


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-D average pooling over (N, C, L) or (C, L)."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-D average pooling over (N, C, H, W) or (C, H, W).

    Args:
        count_include_pad: count the zero padding in each window's divisor.
        divisor_override: divide every window sum by this instead.
    """
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 2)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """3-D average pooling over (N, C, D, H, W) or (C, D, H, W)."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, 3)


def _adaptive_args(input, output_size, n, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(f"{name}(): Expected {n + 1}D or {n + 2}D tensor, but got {_fmt(input.shape)}")
    if isinstance(output_size, (list, tuple)):
        if len(output_size) != n:
            raise RuntimeError(f"{name}: output_size must be {n}")
        sizes = output_size
    else:
        sizes = (output_size,) * n
    spatial = input.shape[input.ndim - n:]
    out = tuple(int(m) if o is None else int(o) for o, m in zip(sizes, spatial))
    if any(o < 0 for o in out):
        raise RuntimeError(f"{name}: elements of output_size must be greater than or equal to 0 but received "
                           f"{{{', '.join(map(str, out))}}}")
    if any(s == 0 for s in input.shape[input.ndim - n:]) or input.ndim == n + 2 and input.shape[1] == 0:
        raise RuntimeError(f"{name}(): Expected input to have non-zero size for non-batch dimensions, but input has "
                           f"sizes {_fmt(input.shape)} with dimension 1 being empty")
    if not input.dtype.is_floating_point:
        from ember.ops._dispatch import scalar_type_name
        raise NotImplementedError(f"\"{name}\" not implemented for '{scalar_type_name(input._dtype)}'")
    x = input.unsqueeze(0) if input.ndim == n + 1 else input
    return x, out, input.ndim == n + 1


def _adaptive_avg(input, output_size, n):
    x, out, unbatched = _adaptive_args(input, output_size, n, f'adaptive_avg_pool{n}d')
    y = apply(_adaptive_avg_pool, (x,), {'out': out})
    return y.squeeze(0) if unbatched else y


def adaptive_avg_pool1d(input, output_size):
    """Averages (N, C, L) over ``output_size`` windows that tile L as evenly as possible."""
    return _adaptive_avg(input, output_size, 1)


def adaptive_avg_pool2d(input, output_size):
    """Averages (N, C, H, W) down to ``output_size`` (an int, a pair, or None to keep a dim)."""
    return _adaptive_avg(input, output_size, 2)


def adaptive_avg_pool3d(input, output_size):
    """Averages (N, C, D, H, W) down to ``output_size``."""
    return _adaptive_avg(input, output_size, 3)


def _adaptive_max(input, output_size, return_indices, n):
    x, out, unbatched = _adaptive_args(input, output_size, n, f'adaptive_max_pool{n}d')
    values, indices = apply(_adaptive_max_pool_op, (x,), {'out': out})
    if unbatched:
        values, indices = values.squeeze(0), indices.squeeze(0)
    return (values, indices) if return_indices else values


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max over ``output_size`` windows that tile L as evenly as possible."""
    return _adaptive_max(input, output_size, return_indices, 1)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over the adaptive windows of (N, C, H, W); ``return_indices`` gives flat (h * W + w) positions."""
    return _adaptive_max(input, output_size, return_indices, 2)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max over the adaptive windows of (N, C, D, H, W)."""
    return _adaptive_max(input, output_size, return_indices, 3)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    """``adaptive_max_pool1d`` returning (values, indices)."""
    return _adaptive_max(input, output_size, True, 1)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    """``adaptive_max_pool2d`` returning (values, indices)."""
    return _adaptive_max(input, output_size, True, 2)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=True):
    """``adaptive_max_pool3d`` returning (values, indices)."""
    return _adaptive_max(input, output_size, True, 3)


def _unpool_size(x, ksize, stride, padding, output_size, n):
    default = tuple((m - 1) * s - 2 * p + k for m, s, p, k in zip(x.shape[2:], stride, padding, ksize))
    if output_size is None:
        return default
    size = tuple(int(s) for s in output_size)
    if len(size) == n + 2:
        size = size[2:]
    elif len(size) == n + 1:
        size = size[1:]
    if len(size) != n:
        raise ValueError(f"output_size should be a sequence containing {n} or {n + 2} elements, but it has a length "
                         f"of '{len(size)}'")
    for i, (d, s, st) in enumerate(zip(default, size, stride)):
        if not (d - st < s < d + st):
            raise ValueError(f'invalid output_size "{list(size)}" (dim {i} must be between {d - st} and {d + st})')
    return size


def _max_unpool(input, indices, kernel_size, stride, padding, output_size, n):
    name = f'max_unpool{n}d'
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor ({_fmt(input.shape)}) "
                           f"but got indices tensor with shape: {_fmt(indices.shape)}")
    ksize = ntuple(kernel_size, n, 'kernel_size')
    stride = ksize if stride is None else ntuple(stride, n, 'stride')
    padding = ntuple(padding, n, 'padding')
    unbatched = input.ndim == n + 1
    x = input.unsqueeze(0) if unbatched else input
    idx = indices.unsqueeze(0) if unbatched else indices
    size = _unpool_size(x, ksize, stride, padding, output_size, n)
    total = 1
    for s in size:
        total *= s
    if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= total):
        bad = int(idx.max()) if int(idx.max()) >= total else int(idx.min())
        raise RuntimeError(f"Found an invalid max index: {bad} (output volumes are of size "
                           f"{'x'.join(map(str, size))}")
    y = apply(_max_unpool_op, (x, idx), {'size': size})
    return y.squeeze(0) if unbatched else y


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool1d``: puts each value at its index, zeros elsewhere."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool2d``: puts each value at its flat (h * W + w) index, zeros elsewhere."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Partial inverse of ``max_pool3d``."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 3)


def _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, n):
    ksize = ntuple(kernel_size, n, 'kernel_size')
    pooled = _avg_pool(input.pow(norm_type), ksize, stride, 0, ceil_mode, True, None, n)
    area = 1
    for k in ksize:
        area *= k
    # NOTE: torch's formula: sign(out) * relu(|out|), so a negative mean of powers stays negative
    return (pooled.sign() * pooled.abs().relu()).mul(area).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling: (sum over the window of x^p)^(1/p)."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 1)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """2-D power-average pooling: (sum over the window of x^p)^(1/p)."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 2)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """3-D power-average pooling."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, 3)
