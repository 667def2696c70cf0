"""Geometric operations on image tensors (..., C, H, W): crop, pad, resize, affine, rotate, blur.

Resizing builds one (out x in) weight matrix per axis and applies it with two matrix products:
the same weights as ``torch.nn.functional.interpolate`` (half-pixel centres; with antialias the
filter widens by the downscale factor and each row is renormalised, as Pillow does).  Affine
transforms sample the input at the inverse-mapped pixel centres as ``grid_sample`` does with
``align_corners=False``, in float32, so that ties fall the same way.
"""
import numbers

import numpy as np

from ember.vision.transforms._functional_tensor import (_assert_image_tensor, _cast_in, _cast_out, _from_numpy,
                                                        _to_numpy)


def hflip(img):
    _assert_image_tensor(img)
    return img.flip(-1)


def vflip(img):
    _assert_image_tensor(img)
    return img.flip(-2)


def _ltrb(padding):
    if isinstance(padding, numbers.Number):
        return [int(padding)] * 4
    padding = [int(p) for p in padding]
    if len(padding) == 1:
        return padding * 4
    if len(padding) == 2:
        return [padding[0], padding[1], padding[0], padding[1]]
    if len(padding) == 4:
        return padding
    raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pads the last two dims by (left, top, right, bottom); negative padding crops."""
    _assert_image_tensor(img)
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    left, top, right, bottom = _ltrb(padding)
    x = _to_numpy(img)
    h, w = x.shape[-2:]
    x = x[..., max(-top, 0):h - max(-bottom, 0), max(-left, 0):w - max(-right, 0)]
    left, top, right, bottom = (max(p, 0) for p in (left, top, right, bottom))
    h, w = x.shape[-2:]
    widths = [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)]
    if padding_mode == "constant":
        if isinstance(fill, (list, tuple)) and len(fill) > 1:
            fill_values = np.asarray(fill, dtype=x.dtype).reshape(-1, 1, 1)
            out = np.empty(x.shape[:-2] + (h + top + bottom, w + left + right), dtype=x.dtype)
            out[...] = fill_values
            out[..., top:top + x.shape[-2], left:left + x.shape[-1]] = x
        else:
            value = fill[0] if isinstance(fill, (list, tuple)) else (0 if fill is None else fill)
            out = np.pad(x, widths, mode="constant", constant_values=np.asarray(value).astype(x.dtype))
    else:
        out = np.pad(x, widths, mode=padding_mode)
    return _from_numpy(out, img)


def crop(img, top, left, height, width):
    """``img[..., top:top+height, left:left+width]`` (a view); zero padding where the box leaves the image."""
    _assert_image_tensor(img)
    h, w = img.shape[-2:]
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        padding = [max(-left + min(0, right), 0), max(-top + min(0, bottom), 0),
                   max(right - max(w, left), 0), max(bottom - max(h, top), 0)]
        return pad(img[..., max(top, 0):bottom, max(left, 0):right], padding, fill=0)
    return img[..., top:bottom, left:right]


# ------------------------------------------------------------------------------------ resize
def _triangle(x):
    x = np.abs(x)
    return np.where(x < 1.0, 1.0 - x, 0.0)


def _cubic(a):
    def kernel(x):
        x = np.abs(x)
        near = ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
        far = (((x - 5.0) * x + 8.0) * x - 4.0) * a
        return np.where(x < 1.0, near, np.where(x < 2.0, far, 0.0))
    return kernel


def _antialias_weights(in_size, out_size, kernel, support):
    """Pillow's (and torch's antialiased) resampling weights, one renormalised row per output pixel."""
    scale = in_size / out_size
    stretch = max(scale, 1.0)
    reach = support * stretch
    centers = (np.arange(out_size) + 0.5) * scale
    lo = np.maximum((centers - reach + 0.5).astype(np.int64), 0)
    hi = np.minimum((centers + reach + 0.5).astype(np.int64), in_size)
    j = np.arange(in_size)
    weights = kernel((j[None, :] - centers[:, None] + 0.5) / stretch)
    weights = np.where((j[None, :] >= lo[:, None]) & (j[None, :] < hi[:, None]), weights, 0.0)
    total = weights.sum(axis=1, keepdims=True)
    return weights / np.where(total == 0, 1.0, total)


def _interp_weights(in_size, out_size, mode):
    """torch's non-antialiased bilinear / bicubic (a = -0.75, clamped taps) weights."""
    scale = in_size / out_size
    rows = np.arange(out_size)
    src = (rows + 0.5) * scale - 0.5
    weights = np.zeros((out_size, in_size))
    if mode == "bilinear":
        src = np.maximum(src, 0.0)
        i0 = np.minimum(src.astype(np.int64), in_size - 1)
        lam = src - i0
        i1 = np.minimum(i0 + 1, in_size - 1)
        weights[rows, i0] += 1.0 - lam
        weights[rows, i1] += lam
        return weights
    i = np.floor(src).astype(np.int64)
    t = src - i
    coeffs = _cubic(-0.75)(np.stack([t + 1.0, t, 1.0 - t, 2.0 - t]))
    for k in range(4):
        weights[rows, np.clip(i - 1 + k, 0, in_size - 1)] += coeffs[k]
    return weights


def _nearest_index(in_size, out_size, exact):
    # torch computes these in float32; so do we, so that boundaries round alike
    scale = np.float32(in_size) / np.float32(out_size)
    rows = np.arange(out_size, dtype=np.float32)
    src = np.floor(((rows + np.float32(0.5)) if exact else rows) * scale).astype(np.int64)
    return np.minimum(src, in_size - 1)


def resize(img, size, interpolation="bilinear", antialias=True):
    """Resizes the last two dims to ``size`` = [height, width]."""
    _assert_image_tensor(img)
    if interpolation not in ("nearest", "nearest-exact", "bilinear", "bicubic"):
        raise ValueError("Interpolation mode should be either nearest, nearest-exact, bilinear or bicubic "
                         f"for tensors; got {interpolation}")
    x = _to_numpy(img)
    in_h, in_w = x.shape[-2:]
    out_h, out_w = int(size[0]), int(size[1])
    if interpolation.startswith("nearest"):
        exact = interpolation == "nearest-exact"
        out = x[..., _nearest_index(in_h, out_h, exact), :][..., _nearest_index(in_w, out_w, exact)]
        return _from_numpy(out, img)
    xf, dtype = _cast_in(x)
    if antialias:
        kernel, support = (_triangle, 1.0) if interpolation == "bilinear" else (_cubic(-0.5), 2.0)
        wh = _antialias_weights(in_h, out_h, kernel, support)
        ww = _antialias_weights(in_w, out_w, kernel, support)
    else:
        wh, ww = _interp_weights(in_h, out_h, interpolation), _interp_weights(in_w, out_w, interpolation)
    out = np.matmul(np.matmul(wh.astype(xf.dtype), xf), ww.T.astype(xf.dtype))
    if interpolation == "bicubic" and dtype == np.uint8:
        out = np.clip(out, 0, 255)
    return _from_numpy(_cast_out(out, dtype), img)


# ------------------------------------------------------------------------------------ affine
def _affine_output_size(matrix, w, h):
    """(width, height) that holds the whole transformed image (rotate with expand=True)."""
    corners = np.array([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0],
                        [0.5 * w, 0.5 * h, 1.0], [0.5 * w, -0.5 * h, 1.0]], dtype=np.float32)
    theta = np.asarray(matrix, dtype=np.float32).reshape(2, 3)
    moved = corners @ theta.T
    lo = moved.min(axis=0) + np.array([w * 0.5, h * 0.5], dtype=np.float32)
    hi = moved.max(axis=0) + np.array([w * 0.5, h * 0.5], dtype=np.float32)
    # round to 1e-4 first so that 1e-15 above an integer does not ceil to the next one
    tol = 1e-4
    size = np.ceil(np.trunc(hi / tol) * tol) - np.floor(np.trunc(lo / tol) * tol)
    return int(size[0]), int(size[1])


def _sample_points(xf, matrix, out_w, out_h):
    """Input coordinates (ix, iy) of each output pixel centre, as grid_sample unnormalises them."""
    h, w = xf.shape[-2:]
    dt = xf.dtype
    theta = np.asarray(matrix, dtype=dt).reshape(2, 3) / np.array([[0.5 * w], [0.5 * h]], dtype=dt)
    xs = np.arange(out_w, dtype=dt) - dt.type((out_w - 1) * 0.5)
    ys = np.arange(out_h, dtype=dt) - dt.type((out_h - 1) * 0.5)
    gx = theta[0, 0] * xs[None, :] + theta[0, 1] * ys[:, None] + theta[0, 2]
    gy = theta[1, 0] * xs[None, :] + theta[1, 1] * ys[:, None] + theta[1, 2]
    ix = ((gx + 1) * w - 1) / 2
    iy = ((gy + 1) * h - 1) / 2
    return ix, iy


def _grid_sample(xf, ix, iy, mode):
    """Samples channels-first ``xf`` (..., C, H, W) at (iy, ix) with zeros outside."""
    h, w = xf.shape[-2:]
    if mode == "nearest":
        xi, yi = np.rint(ix).astype(np.int64), np.rint(iy).astype(np.int64)
        inside = (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
        out = xf[..., np.clip(yi, 0, h - 1), np.clip(xi, 0, w - 1)]
        return np.where(inside, out, 0).astype(xf.dtype)
    x0, y0 = np.floor(ix), np.floor(iy)
    out = np.zeros(xf.shape[:-2] + ix.shape, dtype=xf.dtype)
    for dx in (0, 1):
        for dy in (0, 1):
            xc, yc = x0 + dx, y0 + dy
            weight = (1 - np.abs(ix - xc)) * (1 - np.abs(iy - yc))
            inside = (xc >= 0) & (xc < w) & (yc >= 0) & (yc < h)
            xi = np.clip(xc, 0, w - 1).astype(np.int64)
            yi = np.clip(yc, 0, h - 1).astype(np.int64)
            out += np.where(inside, weight, 0).astype(xf.dtype) * xf[..., yi, xi]
    return out


def _apply_affine(img, matrix, interpolation, fill, out_w=None, out_h=None):
    _assert_image_tensor(img)
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"Interpolation mode should be either nearest or bilinear for tensors; got {interpolation}")
    x = _to_numpy(img)
    xf, dtype = _cast_in(x)
    h, w = x.shape[-2:]
    out_w, out_h = out_w or w, out_h or h
    ix, iy = _sample_points(xf, matrix, out_w, out_h)
    out = _grid_sample(xf, ix, iy, interpolation)
    if fill is not None:
        # torchvision samples a mask of ones alongside the image and blends the fill in by it
        mask = _grid_sample(np.ones((1, h, w), dtype=xf.dtype), ix, iy, interpolation)
        values = np.asarray(fill if isinstance(fill, (list, tuple)) else [fill], dtype=xf.dtype).reshape(-1, 1, 1)
        if interpolation == "nearest":
            out = np.where(mask < 0.5, values, out)
        else:
            out = out * mask + (1.0 - mask) * values
    return _from_numpy(_cast_out(out, dtype), img)


def affine(img, matrix, interpolation="nearest", fill=None):
    """Applies the inverse affine ``matrix`` (centred output coordinates -> centred input coordinates)."""
    return _apply_affine(img, matrix, interpolation, fill)


def rotate(img, matrix, interpolation="nearest", expand=False, fill=None):
    h, w = img.shape[-2:]
    out_w, out_h = _affine_output_size(matrix, w, h) if expand else (w, h)
    return _apply_affine(img, matrix, interpolation, fill, out_w, out_h)


# -------------------------------------------------------------------------------------- blur
def _gaussian_kernel1d(size, sigma):
    half = (size - 1) * 0.5
    x = np.linspace(-half, half, size)
    pdf = np.exp(-0.5 * (x / sigma) ** 2)
    return pdf / pdf.sum()


def gaussian_blur(img, kernel_size, sigma):
    """Separable Gaussian blur with reflect padding; ``kernel_size`` = [kx, ky], ``sigma`` = [sx, sy]."""
    _assert_image_tensor(img)
    x = _to_numpy(img)
    xf, dtype = _cast_in(x)
    kx = _gaussian_kernel1d(kernel_size[0], sigma[0]).astype(xf.dtype)
    ky = _gaussian_kernel1d(kernel_size[1], sigma[1]).astype(xf.dtype)
    px, py = kernel_size[0] // 2, kernel_size[1] // 2
    padded = np.pad(xf, [(0, 0)] * (xf.ndim - 2) + [(py, py), (px, px)], mode="reflect")
    h, w = xf.shape[-2:]
    rows = sum(kx[k] * padded[..., :, k:k + w] for k in range(len(kx)))
    out = sum(ky[k] * rows[..., k:k + h, :] for k in range(len(ky)))
    return _from_numpy(_cast_out(out, dtype), img)
