"""Functional image transforms (torchvision's ``transforms.functional``).

Each function takes a PIL image or a tensor image (..., C, H, W) and dispatches: Pillow's own
operations for PIL images, ember's for tensors.  Conversions (``to_tensor``, ``pil_to_tensor``,
``to_pil_image``) move between the two.
"""
import math
import numbers
from enum import Enum

import numpy as np

import ember
from ember.vision.transforms import _functional_pil as F_pil
from ember.vision.transforms import _functional_tensor as F_t
from ember.vision.transforms import _tensor_geometry as G_t
from ember.vision.transforms._functional_tensor import convert_image_dtype, normalize, erase  # noqa: F401


class InterpolationMode(Enum):
    """Resampling filters; tensors support NEAREST, NEAREST_EXACT, BILINEAR and BICUBIC."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


# Pillow's resampling filter numbers
pil_modes_mapping = {
    InterpolationMode.NEAREST: 0, InterpolationMode.BILINEAR: 2, InterpolationMode.BICUBIC: 3,
    InterpolationMode.NEAREST_EXACT: 0, InterpolationMode.BOX: 4, InterpolationMode.HAMMING: 5,
    InterpolationMode.LANCZOS: 1,
}
_INT_TO_MODE = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR, 3: InterpolationMode.BICUBIC,
                4: InterpolationMode.BOX, 5: InterpolationMode.HAMMING, 1: InterpolationMode.LANCZOS}


def _interpolation_modes_from_int(i):
    return _INT_TO_MODE[i]


def _as_mode(interpolation):
    if isinstance(interpolation, InterpolationMode):
        return interpolation
    if isinstance(interpolation, int):
        return _INT_TO_MODE[interpolation]
    if isinstance(interpolation, str):
        return InterpolationMode(interpolation)
    raise TypeError("Argument interpolation should be a InterpolationMode or a corresponding Pillow integer constant")


def _is_pil_image(img):
    return F_pil._is_pil_image(img)


def _is_tensor(img):
    return isinstance(img, ember.Tensor)


def _check_image(img):
    if not (_is_tensor(img) or _is_pil_image(img)):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")


def _pick(img, pil_fn, tensor_fn):
    _check_image(img)
    return tensor_fn if _is_tensor(img) else pil_fn


def get_dimensions(img):
    """[channels, height, width] of an image."""
    return _pick(img, F_pil.get_dimensions, F_t.get_dimensions)(img)


def get_image_size(img):
    """[width, height] of an image."""
    _, h, w = get_dimensions(img)
    return [w, h]


def get_image_num_channels(img):
    """The number of channels of an image."""
    return get_dimensions(img)[0]


# -------------------------------------------------------------------------------- conversion
_PIL_NP_DTYPES = {"I": np.int32, "I;16": np.uint16, "I;16B": np.uint16, "F": np.float32}


def to_tensor(pic):
    """A PIL image or numpy array (H x W x C) as a tensor C x H x W; uint8 data is scaled to float [0, 1]."""
    if isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        if pic.ndim == 2:
            pic = pic[:, :, None]
        img = ember.from_numpy(np.ascontiguousarray(pic.transpose((2, 0, 1))))
        if img.dtype == ember.uint8:
            return img.to(dtype=ember.get_default_dtype()).div(255)
        return img
    if not _is_pil_image(pic):
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    array = np.array(pic, _PIL_NP_DTYPES.get(pic.mode, np.uint8), copy=True)
    if pic.mode == "1":
        array = 255 * array
    array = array.reshape(pic.size[1], pic.size[0], F_pil.get_image_num_channels(pic))
    img = ember.from_numpy(np.ascontiguousarray(array.transpose((2, 0, 1))))
    if img.dtype == ember.uint8:
        return img.to(dtype=ember.get_default_dtype()).div(255)
    return img


def pil_to_tensor(pic):
    """A PIL image as a tensor C x H x W of its own dtype (uint8 for 'L'/'RGB'), not rescaled."""
    if not _is_pil_image(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    array = np.array(pic, copy=True)
    array = array.reshape(pic.size[1], pic.size[0], F_pil.get_image_num_channels(pic))
    return ember.from_numpy(array).permute((2, 0, 1))


def to_pil_image(pic, mode=None):
    """A tensor C x H x W or array H x W x C as a PIL image; float data is scaled by 255 and truncated."""
    from PIL import Image
    if isinstance(pic, ember.Tensor):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        if pic.ndim == 2:
            pic = pic.unsqueeze(0)
        if pic.shape[-3] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {pic.shape[-3]} channels.")
        if pic.is_floating_point() and mode != "F":
            pic = pic.mul(255).byte()
        npimg = np.transpose(pic.detach().cpu().numpy(), (1, 2, 0))
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        npimg = pic[:, :, None] if pic.ndim == 2 else pic
        if npimg.shape[-1] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {npimg.shape[-1]} channels.")
    else:
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")

    channels = npimg.shape[2]
    if channels == 1:
        npimg = npimg[:, :, 0]
        expected = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16", np.dtype(np.uint16): "I;16",
                    np.dtype(np.int32): "I", np.dtype(np.float32): "F"}.get(npimg.dtype)
        if mode is not None and mode != expected:
            raise ValueError(f"Incorrect mode ({mode}) supplied for input type {npimg.dtype}. Should be {expected}")
        mode = expected
    else:
        permitted = {2: ["LA"], 4: ["RGBA", "CMYK", "RGBX"], 3: ["RGB", "YCbCr", "HSV"]}[channels]
        if mode is not None and mode not in permitted:
            raise ValueError(f"Only modes {permitted} are supported for {channels}D inputs")
        if mode is None and npimg.dtype == np.uint8:
            mode = permitted[0]
    if mode is None:
        raise TypeError(f"Input type {npimg.dtype} is not supported")
    if mode == "I;16" and npimg.dtype == np.int16:
        npimg = npimg.astype(np.uint16)
    npimg = np.ascontiguousarray(npimg)
    natural = Image.fromarray(npimg)
    return natural if natural.mode == mode else Image.frombuffer(mode, natural.size, npimg.tobytes(), 'raw', mode, 0, 1)


# --------------------------------------------------------------------------------- geometry
def hflip(img):
    """Flips left to right."""
    return _pick(img, F_pil.hflip, G_t.hflip)(img)


def vflip(img):
    """Flips top to bottom."""
    return _pick(img, F_pil.vflip, G_t.vflip)(img)


def _compute_resized_output_size(image_size, size, max_size=None):
    """[new_h, new_w] for ``size``: an int (or [int]) matches the shorter edge, keeping the aspect ratio."""
    h, w = image_size
    short, long = (w, h) if w <= h else (h, w)
    if size is None:
        if max_size is None:
            raise ValueError("If size is None, then max_size must be a positive integer")
        new_short, new_long = int(max_size * short / long), max_size
    elif len(size) == 1:
        requested = size[0]
        new_short, new_long = requested, int(requested * long / short)
        if max_size is not None:
            if max_size <= requested:
                raise ValueError(f"max_size = {max_size} must be strictly greater than the requested size for the "
                                 f"smaller edge size = {size}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
    else:
        return [size[0], size[1]]
    return [new_short, new_long] if w > h else [new_long, new_short]


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resizes to ``size``: (h, w), or an int that the shorter edge is matched to."""
    mode = _as_mode(interpolation)
    if isinstance(size, (list, tuple)):
        if len(size) not in (1, 2):
            raise ValueError(f"Size must be an int or a 1 or 2 element tuple/list, not a {len(size)} element "
                             "tuple/list")
        if max_size is not None and len(size) != 1:
            raise ValueError("max_size should only be passed if size specifies the length of the smaller edge, "
                             "i.e. size should be an int or a sequence of length 1 in torchscript mode.")
    elif isinstance(size, int):
        size = [size]
    elif size is not None:
        raise TypeError(f"Size should be int or sequence. Got {type(size)}")
    _, h, w = get_dimensions(img)
    output_size = _compute_resized_output_size((h, w), size, max_size)
    if [h, w] == output_size:
        return img
    if _is_tensor(img):
        return G_t.resize(img, output_size, mode.value, antialias=bool(antialias))
    return F_pil.resize(img, output_size, pil_modes_mapping[mode])


def crop(img, top, left, height, width):
    """The box with corner (top, left) and size (height, width); zeros outside the image."""
    return _pick(img, F_pil.crop, G_t.crop)(img, top, left, height, width)


def _size_pair(size, name="size"):
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, (list, tuple)) and len(size) == 1:
        return size[0], size[0]
    if len(size) != 2:
        raise ValueError(f"Please provide only two dimensions (h, w) for {name}.")
    return size[0], size[1]


def center_crop(img, output_size):
    """The central (h, w) box, padding with zeros when the image is smaller."""
    crop_h, crop_w = _size_pair(output_size)
    _, h, w = get_dimensions(img)
    if crop_w > w or crop_h > h:
        padding = [(crop_w - w) // 2 if crop_w > w else 0, (crop_h - h) // 2 if crop_h > h else 0,
                   (crop_w - w + 1) // 2 if crop_w > w else 0, (crop_h - h + 1) // 2 if crop_h > h else 0]
        img = pad(img, padding, fill=0)
        _, h, w = get_dimensions(img)
        if crop_w == w and crop_h == h:
            return img
    top = int(round((h - crop_h) / 2.0))
    left = int(round((w - crop_w) / 2.0))
    return crop(img, top, left, crop_h, crop_w)


def resized_crop(img, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR, antialias=True):
    """Crops the box, then resizes it to ``size``."""
    img = crop(img, top, left, height, width)
    return resize(img, size, interpolation, antialias=antialias)


def five_crop(img, size):
    """The four corner crops and the centre crop: (tl, tr, bl, br, center)."""
    crop_h, crop_w = _size_pair(size)
    _, h, w = get_dimensions(img)
    if crop_w > w or crop_h > h:
        raise ValueError(f"Requested crop size {(crop_h, crop_w)} is bigger than input size {(h, w)}")
    tl = crop(img, 0, 0, crop_h, crop_w)
    tr = crop(img, 0, w - crop_w, crop_h, crop_w)
    bl = crop(img, h - crop_h, 0, crop_h, crop_w)
    br = crop(img, h - crop_h, w - crop_w, crop_h, crop_w)
    center = center_crop(img, [crop_h, crop_w])
    return tl, tr, bl, br, center


def ten_crop(img, size, vertical_flip=False):
    """The five crops of the image and the five of its (horizontal or vertical) flip."""
    first = five_crop(img, size)
    img = vflip(img) if vertical_flip else hflip(img)
    return first + five_crop(img, size)


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pads by ``padding`` (int, (lr, tb) or (l, t, r, b)); modes constant, edge, reflect, symmetric."""
    if not isinstance(padding, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if isinstance(padding, (tuple, list)) and len(padding) not in (1, 2, 4):
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    return _pick(img, F_pil.pad, G_t.pad)(img, padding, fill=fill, padding_mode=padding_mode)


def _get_inverse_affine_matrix(center, angle, translate, scale, shear, inverted=True):
    """The 2x3 matrix (row-major, flat) of the affine map, or of its inverse.

    The forward map is ``T(translate) . C(center) . R(angle) . Sh(shear) . S(scale) . C^-1``
    with a clockwise-positive angle and shear in degrees (image coordinates, y down).
    """
    rot = math.radians(angle)
    sx, sy = math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    # rotation-shear part without the scale
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    if inverted:
        m = [d / scale, -b / scale, 0.0, -c / scale, a / scale, 0.0]  # (RSS)^-1, as ad - bc = 1
        m[2] = m[0] * (-cx - tx) + m[1] * (-cy - ty) + cx
        m[5] = m[3] * (-cx - tx) + m[4] * (-cy - ty) + cy
        return m
    m = [a * scale, b * scale, 0.0, c * scale, d * scale, 0.0]
    m[2] = m[0] * -cx + m[1] * -cy + cx + tx
    m[5] = m[3] * -cx + m[4] * -cy + cy + ty
    return m


def _check_fill(fill):
    if fill is not None and not isinstance(fill, (numbers.Number, tuple, list)):
        raise TypeError("Argument fill should be either int, float, tuple or list")


def rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=None):
    """Rotates counter-clockwise by ``angle`` degrees about ``center`` (default: the image centre)."""
    mode = _as_mode(interpolation)
    _check_fill(fill)
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    if _is_pil_image(img):
        return F_pil.rotate(img, angle, pil_modes_mapping[mode], expand, center, fill)
    _check_image(img)
    _, h, w = get_dimensions(img)
    center_f = [0.0, 0.0] if center is None else [1.0 * (c - s * 0.5) for c, s in zip(center, [w, h])]
    matrix = _get_inverse_affine_matrix(center_f, -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    return G_t.rotate(img, matrix, mode.value, expand, fill)


def affine(img, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST, fill=None, center=None):
    """Rotation (clockwise degrees), translation (pixels), scale and shear (degrees) about the centre."""
    mode = _as_mode(interpolation)
    _check_fill(fill)
    if not isinstance(translate, (list, tuple)) or len(translate) != 2:
        raise ValueError("Argument translate should be a sequence of length 2")
    if scale <= 0.0:
        raise ValueError("Argument scale should be positive")
    if isinstance(shear, numbers.Number):
        shear = [shear, 0.0]
    elif len(shear) == 1:
        shear = [shear[0], shear[0]]
    elif len(shear) != 2:
        raise ValueError(f"Shear should be a sequence containing two values. Got {shear}")
    _, h, w = get_dimensions(img)
    if _is_pil_image(img):
        # the centre without the half-pixel offset, so that 90 degrees matches rot90
        center = [w * 0.5, h * 0.5] if center is None else center
        matrix = _get_inverse_affine_matrix(center, angle, translate, scale, shear)
        return F_pil.affine(img, matrix, pil_modes_mapping[mode], fill)
    center_f = [0.0, 0.0] if center is None else [1.0 * (c - s * 0.5) for c, s in zip(center, [w, h])]
    matrix = _get_inverse_affine_matrix(center_f, angle, [1.0 * t for t in translate], scale, shear)
    return G_t.affine(img, matrix, mode.value, fill)


def gaussian_blur(img, kernel_size, sigma=None):
    """Gaussian blur with reflect padding; ``sigma`` defaults to ``0.15 * k + 0.35`` for kernel size k."""
    if isinstance(kernel_size, int):
        kernel_size = [kernel_size, kernel_size]
    if len(kernel_size) != 2:
        raise ValueError(f"If kernel_size is a sequence its length should be 2. Got {len(kernel_size)}")
    if any(k % 2 == 0 or k < 0 for k in kernel_size):
        raise ValueError(f"kernel_size should have odd and positive integers. Got {kernel_size}")
    if sigma is None:
        sigma = [k * 0.15 + 0.35 for k in kernel_size]
    elif isinstance(sigma, numbers.Number):
        sigma = [float(sigma), float(sigma)]
    elif len(sigma) == 1:
        sigma = [sigma[0], sigma[0]]
    if len(sigma) != 2:
        raise ValueError(f"If sigma is a sequence, its length should be 2. Got {len(sigma)}")
    if any(s <= 0.0 for s in sigma):
        raise ValueError(f"sigma should have positive values. Got {sigma}")
    if _is_pil_image(img):  # torchvision blurs PIL images through the tensor path
        return to_pil_image(G_t.gaussian_blur(pil_to_tensor(img), kernel_size, sigma), mode=img.mode)
    _check_image(img)
    return G_t.gaussian_blur(img, kernel_size, sigma)


# ----------------------------------------------------------------------------------- colour
def adjust_brightness(img, brightness_factor):
    """Multiplies the intensities by ``brightness_factor`` (0 gives black)."""
    return _pick(img, F_pil.adjust_brightness, F_t.adjust_brightness)(img, brightness_factor)


def adjust_contrast(img, contrast_factor):
    """Blends with the mean gray level by ``contrast_factor`` (0 gives a flat gray image)."""
    return _pick(img, F_pil.adjust_contrast, F_t.adjust_contrast)(img, contrast_factor)


def adjust_saturation(img, saturation_factor):
    """Blends with the grayscale image by ``saturation_factor`` (0 gives gray)."""
    return _pick(img, F_pil.adjust_saturation, F_t.adjust_saturation)(img, saturation_factor)


def adjust_hue(img, hue_factor):
    """Shifts the hue by ``hue_factor`` in [-0.5, 0.5] turns."""
    return _pick(img, F_pil.adjust_hue, F_t.adjust_hue)(img, hue_factor)


def adjust_gamma(img, gamma, gain=1):
    """``gain * img ** gamma`` on the [0, 1] intensity scale."""
    return _pick(img, F_pil.adjust_gamma, F_t.adjust_gamma)(img, gamma, gain)


def invert(img):
    """``max - img``."""
    return _pick(img, F_pil.invert, F_t.invert)(img)


def rgb_to_grayscale(img, num_output_channels=1):
    """Luma ``0.2989 R + 0.587 G + 0.114 B`` (Pillow's 'L' conversion for PIL images)."""
    return _pick(img, F_pil.to_grayscale, F_t.rgb_to_grayscale)(img, num_output_channels)


def to_grayscale(img, num_output_channels=1):
    """PIL images only: like :func:`rgb_to_grayscale`."""
    if not _is_pil_image(img):
        raise TypeError("Input should be PIL Image")
    return F_pil.to_grayscale(img, num_output_channels)
