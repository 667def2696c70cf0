"""Resampling functions of ``nn.functional``: interpolate/upsample, grid_sample, affine_grid.

``interpolate`` runs the separable kernels of ``ember/ops/resample.py`` ('area'
is adaptive average pooling).  ``grid_sample`` is composed of ember ops: the
sampling positions become per-dim taps (index, weight), one ``gather`` reads
every tap and a weighted sum combines them, so its gradients (input and grid,
any order) come from the ops it is made of.
"""
import itertools
import math
import warnings

import numpy as np

import ember
from ember._tensor import Tensor
from ember.ops._dispatch import apply
from ember.ops.resample import _upsample_op

__all__ = ['interpolate', 'upsample', 'upsample_nearest', 'upsample_bilinear', 'grid_sample', 'affine_grid']

_LINEAR_DIMS = {'linear': 3, 'bilinear': 4, 'bicubic': 4, 'trilinear': 5}


def _output_geometry(input, size, scale_factor, mode, recompute_scale_factor):
    dim = input.ndim - 2
    spatial = list(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError("Input and output must have the same number of spatial dimensions, but got input "
                                 f"with spatial dimensions of {spatial} and output size of {size}. Please provide "
                                 "input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) "
                                 "format.")
            output_size = [int(s) for s in size]
        else:
            output_size = [int(size)] * dim
        scales = None
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError("Input and scale_factor must have the same number of spatial dimensions, but got "
                                 f"input with spatial dimensions of {spatial} and scale_factor of shape "
                                 f"{scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                                 "scale_factor in (s1, s2, ...,sK) format.")
            scales = [float(s) for s in scale_factor]
        else:
            scales = [float(scale_factor)] * dim
        output_size = None
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == 'area' and output_size is None:
        recompute_scale_factor = True
    if output_size is None:
        output_size = [int(math.floor(float(n) * s)) for n, s in zip(spatial, scales)]
        if recompute_scale_factor:
            scales = None
    return output_size, scales or [None] * dim


def interpolate(input, size=None, scale_factor=None, mode='nearest', align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resizes an (N, C, *spatial) input to ``size`` or by ``scale_factor``.

    Args:
        mode: 'nearest', 'nearest-exact', 'linear' (3-D), 'bilinear'/'bicubic' (4-D), 'trilinear' (5-D), 'area'.
        align_corners: for the linear and cubic modes, align the corner pixels' centres (default False).
        recompute_scale_factor: compute the sampling scale from the output size instead of ``scale_factor``.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate(): argument 'input' must be Tensor, not {type(input).__name__}")
    if mode in ('nearest', 'area', 'nearest-exact'):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    output_size, scales = _output_geometry(input, size, scale_factor, mode, recompute_scale_factor)
    if antialias:
        if not (mode in ('bilinear', 'bicubic') and input.ndim == 4):
            raise ValueError("Anti-alias option is restricted to bilinear and bicubic modes and requires a 4-D "
                             "tensor as input")
        raise NotImplementedError("interpolate(): antialias=True is not supported by ember")
    nd = input.ndim
    if mode == 'area':
        if nd not in (3, 4, 5):
            _unsupported(nd, mode)
        from ember.ops.pool import _adaptive_avg_pool
        return apply(_adaptive_avg_pool, (input,), {'out': tuple(output_size)})
    if mode in ('nearest', 'nearest-exact'):
        if nd not in (3, 4, 5):
            _unsupported(nd, mode)
    elif mode in _LINEAR_DIMS:
        want = _LINEAR_DIMS[mode]
        if nd != want:
            if nd in (3, 4, 5) and mode != 'bicubic':
                raise NotImplementedError(f"Got {nd}D input, but {mode} mode needs {want}D input")
            _unsupported(nd, mode)
    else:
        _unsupported(nd, mode)
    if any(s <= 0 for s in output_size) or any(s <= 0 for s in input.shape[2:]):
        names = 'DHW'[3 - len(output_size):]
        ins = ', '.join(f'{c}: {n}' for c, n in zip(names, input.shape[2:]))
        outs = ', '.join(f'{c}: {n}' for c, n in zip(names, output_size))
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input ({ins}) output ({outs})")
    return apply(_upsample_op, (input,), {'size': tuple(output_size), 'mode': mode,
                                          'align_corners': bool(align_corners), 'scales': tuple(scales)})


def _unsupported(nd, mode):
    raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {nd}D) for the modes: "
                              f"nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact (got {mode})")


def upsample(input, size=None, scale_factor=None, mode='nearest', align_corners=None):
    """Deprecated alias of :func:`interpolate`."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='nearest')``."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode='nearest')


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)``."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode='bilinear', align_corners=True)


# ----------------------------------------------------------------------------- grid_sample

_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
                  "Please specify align_corners=True if the old behavior is desired. See the documentation of "
                  "grid_sample for details.")


def _unnormalize(c, size, align_corners):
    """Grid coordinate in [-1, 1] to a pixel coordinate."""
    if align_corners:
        return (c + 1) * ((size - 1) / 2)
    return ((c + 1) * size - 1) / 2


def _reflect(c, twice_low, twice_high):
    """Reflects ``c`` into [twice_low / 2, twice_high / 2] as often as needed."""
    if twice_low == twice_high:
        return c * 0
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    a = (c - low).abs()
    flips = (a.detach() / span).floor()
    extra = a - flips * span
    even = (flips % 2) == 0
    return ember.where(even, extra + low, (span + low) - extra)


def _pad_coordinate(c, size, padding_mode, align_corners):
    if padding_mode == 'border':
        return c.clamp(0, size - 1)
    if padding_mode == 'reflection':
        c = _reflect(c, 0, 2 * (size - 1)) if align_corners else _reflect(c, -1, 2 * size - 1)
        return c.clamp(0, size - 1)
    return c


def _cubic_coefficients(t):
    a = -0.75

    def near(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _taps(c, size, mode, padding_mode, align_corners):
    """Per-dim sampling taps: a list of (integer position, weight or None)."""
    if mode == 'nearest':
        c = _pad_coordinate(c, size, padding_mode, align_corners)
        return [(c.detach().round().long(), None)]     # round half to even, like torch's nearbyint
    if mode == 'bilinear':
        c = _pad_coordinate(c, size, padding_mode, align_corners)
        f = c.detach().floor()
        t = c - f
        i = f.long()
        return [(i, 1 - t), (i + 1, t)]
    f = c.detach().floor()          # bicubic: the padding applies to each tap's position
    t = c - f
    weights = _cubic_coefficients(t)
    return [(_pad_coordinate(f + (j - 1), size, padding_mode, align_corners).long(), weights[j]) for j in range(4)]


def grid_sample(input, grid, mode='bilinear', padding_mode='zeros', align_corners=None):
    """Samples ``input`` (N, C, H, W) / (N, C, D, H, W) at the normalised positions in ``grid`` (N, H', W', 2/3).

    Args:
        mode: 'bilinear', 'nearest' or 'bicubic' (4-D only).
        padding_mode: values outside the input: 'zeros', 'border' (nearest edge value) or 'reflection'.
        align_corners: -1 and 1 are the centres (True) or the outer edges (False) of the corner pixels.
    """
    if mode not in ('bilinear', 'nearest', 'bicubic'):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but "
                         f"got: '{mode}'")
    if padding_mode not in ('zeros', 'border', 'reflection'):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
    align_corners = bool(align_corners)
    nd = input.ndim
    if nd not in (4, 5) or grid.ndim != nd:
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, but "
                           f"got input with sizes {_fmt(input.shape)} and grid with sizes {_fmt(grid.shape)}")
    n = nd - 2
    if grid.shape[0] != input.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got input with "
                           f"sizes {_fmt(input.shape)} and grid with sizes {_fmt(grid.shape)}")
    if grid.shape[-1] != n:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {n} in last dimension, but got grid with "
                           f"sizes {_fmt(grid.shape)}")
    if mode == 'bicubic' and nd != 4:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have the same dtype, but input has "
                           f"{input.dtype} and grid has {grid.dtype}")
    N, C = input.shape[:2]
    spatial = tuple(input.shape[2:])
    out_spatial = tuple(grid.shape[1:-1])
    L = math.prod(out_spatial)
    g = grid.reshape(N, L, n)
    per_dim = []
    for k, size in enumerate(spatial):
        c = _unnormalize(g[:, :, n - 1 - k], size, align_corners)     # grid's last entry indexes the first dim
        per_dim.append(_taps(c, size, mode, padding_mode, align_corners))
    strides = [math.prod(spatial[k + 1:]) for k in range(n)]
    indices, weights = [], []
    for combo in itertools.product(*per_dim):
        flat = valid = w = None
        for k, (i, wk) in enumerate(combo):
            inside = (i >= 0) & (i < spatial[k])
            term = i.clamp(0, spatial[k] - 1) * strides[k]
            flat = term if flat is None else flat + term
            valid = inside if valid is None else valid & inside
            if wk is not None:
                w = wk if w is None else w * wk
        mask = valid.to(input.dtype)
        indices.append(flat)
        weights.append(mask if w is None else w * mask)
    K = len(indices)
    index = ember.stack(indices, 1).reshape(N, 1, K * L).expand(N, C, K * L)
    values = ember.gather(input.reshape(N, C, -1), 2, index).reshape(N, C, K, L)
    w = ember.stack(weights, 1).unsqueeze(1)
    return (values * w).sum(2).reshape((N, C) + out_spatial)


def _fmt(shape):
    return '[' + ', '.join(str(s) for s in shape) + ']'


# ----------------------------------------------------------------------------- affine_grid

def _base_coordinates(steps, align_corners):
    if steps <= 1:
        return np.zeros(max(steps, 1))
    r = np.linspace(-1.0, 1.0, steps)
    return r if align_corners else r * (steps - 1) / steps


def affine_grid(theta, size, align_corners=None):
    """The sampling grid (N, H, W, 2) / (N, D, H, W, 3) of the affine maps ``theta`` (N, 2, 3) / (N, 3, 4)."""
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
    align_corners = bool(align_corners)
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    shown = size
    if len(size) == 4:
        if theta.ndim != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {shown}. Got "
                             f"{theta.shape}.")
    elif len(size) == 5:
        if theta.ndim != 3 or theta.shape[-2] != 3 or theta.shape[-1] != 4:
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {shown}. Got "
                             f"{theta.shape}.")
    else:
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {shown}.")
    if align_corners and min(size[2:]) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                      "align_corners=True. This is not an intended use case of affine_grid. See the documentation of "
                      "affine_grid for details.", stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {shown}")
    size = [int(s) for s in size]
    N = size[0]
    if theta.shape[0] != N:
        raise RuntimeError(f"affine_grid(): expected theta of batch size {N}, but got {theta.shape[0]}")
    spatial = size[2:]
    n = len(spatial)
    axes = [_base_coordinates(s, align_corners) for s in spatial]
    mesh = np.meshgrid(*axes, indexing='ij')                  # (D,) H, W
    # homogeneous coordinates (x, y[, z], 1): x runs along the last spatial dim
    base = np.stack([m for m in reversed(mesh)] + [np.ones(mesh[0].shape)], axis=-1).reshape(-1, n + 1)
    base = ember.tensor(base, dtype=theta.dtype, device=theta.device)
    grid = ember.matmul(base, theta.transpose(1, 2))          # (N, prod(spatial), n)
    return grid.reshape([N] + list(spatial) + [n])
