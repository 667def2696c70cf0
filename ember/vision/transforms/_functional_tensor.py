"""Image operations on tensors of shape (..., C, H, W), following torchvision's tensor path.

Colour operations (blends, grayscale, normalisation) are written with ember ops, so they keep
the device and the autograd graph.  Resampling (resize, affine, rotate, blur) and padding run
as whole-array NumPy code on the CPU copy of the image and return a new tensor: they are
data-loading operations.  Integer images are resampled in float32 and rounded back.
"""
import numpy as np

import ember

def _assert_image_tensor(img):
    if not isinstance(img, ember.Tensor) or img.ndim < 2:
        raise TypeError("Tensor is not a torch image.")


def get_dimensions(img):
    _assert_image_tensor(img)
    channels = 1 if img.ndim == 2 else img.shape[-3]
    return [channels, img.shape[-2], img.shape[-1]]


def _assert_channels(img, permitted):
    c = get_dimensions(img)[0]
    if c not in permitted:
        raise TypeError(f"Input image tensor permitted channel values are {permitted}, but found {c}")


def _max_value(dtype):
    if dtype == ember.uint8:
        return 255
    if dtype == ember.int8:
        return 127
    if dtype == ember.int16:
        return 32767
    if dtype == ember.int32:
        return 2147483647
    if dtype == ember.int64:
        return 9223372036854775807
    return 1.0  # float images lie in [0, 1]


# --------------------------------------------------------------------------- numpy round trip
def _to_numpy(img):
    return img.detach().cpu().numpy()


def _from_numpy(array, like):
    out = ember.from_numpy(np.ascontiguousarray(array))
    return out if like.device.type == 'cpu' else out.to(like.device)


def _cast_in(array):
    """(float array to compute on, original numpy dtype)."""
    if array.dtype in (np.float32, np.float64):
        return array, array.dtype
    return array.astype(np.float32), array.dtype


def _cast_out(array, dtype):
    if np.issubdtype(dtype, np.integer):
        array = np.rint(array)  # torch.round: half to even
    return array.astype(dtype)


# ------------------------------------------------------------------------------- colour (ember ops)
def convert_image_dtype(image, dtype=ember.float32):
    """Converts the image to ``dtype``, rescaling values: [0, 1] for floats, [0, max] for integers."""
    if image.dtype == dtype:
        return image
    if image.is_floating_point():
        if dtype.is_floating_point:
            return image.to(dtype)
        if (image.dtype == ember.float32 and dtype in (ember.int32, ember.int64)) or \
                (image.dtype == ember.float64 and dtype == ember.int64):
            raise RuntimeError(f"The cast from {image.dtype} to {dtype} cannot be performed safely.")
        # 1 - eps keeps 1.0 at the top value instead of overflowing; values below keep equal bins
        eps = 1e-3
        return image.mul(_max_value(dtype) + 1.0 - eps).to(dtype)
    input_max = _max_value(image.dtype)
    if dtype.is_floating_point:
        return image.to(dtype) / input_max
    output_max = _max_value(dtype)
    if input_max > output_max:
        factor = (input_max + 1) // (output_max + 1)
        return ember.div(image, factor, rounding_mode='floor').to(dtype)
    factor = (output_max + 1) // (input_max + 1)
    return image.to(dtype) * factor


def _blend(img1, img2, ratio):
    ratio = float(ratio)
    bound = _max_value(img1.dtype)
    return (ratio * img1 + (1.0 - ratio) * img2).clamp(0, bound).to(img1.dtype)


def rgb_to_grayscale(img, num_output_channels=1):
    """ITU-R 601-2 luma: ``0.2989 R + 0.587 G + 0.114 B`` (cast back to the image's dtype)."""
    if img.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found {img.ndim}")
    _assert_channels(img, [1, 3])
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    if img.shape[-3] == 3:
        r, g, b = img.unbind(dim=-3)
        gray = (0.2989 * r + 0.587 * g + 0.114 * b).to(img.dtype).unsqueeze(dim=-3)
    else:
        gray = img.clone()
    if num_output_channels == 3:
        return gray.expand(img.shape)
    return gray


def adjust_brightness(img, brightness_factor):
    if brightness_factor < 0:
        raise ValueError(f"brightness_factor ({brightness_factor}) is not non-negative.")
    _assert_image_tensor(img)
    _assert_channels(img, [1, 3])
    return _blend(img, ember.zeros_like(img), brightness_factor)


def adjust_contrast(img, contrast_factor):
    if contrast_factor < 0:
        raise ValueError(f"contrast_factor ({contrast_factor}) is not non-negative.")
    _assert_image_tensor(img)
    _assert_channels(img, [3, 1])
    dtype = img.dtype if img.is_floating_point() else ember.float32
    gray = rgb_to_grayscale(img) if get_dimensions(img)[0] == 3 else img
    mean = ember.mean(gray.to(dtype), dim=(-3, -2, -1), keepdim=True)
    return _blend(img, mean, contrast_factor)


def adjust_saturation(img, saturation_factor):
    if saturation_factor < 0:
        raise ValueError(f"saturation_factor ({saturation_factor}) is not non-negative.")
    _assert_image_tensor(img)
    _assert_channels(img, [1, 3])
    if get_dimensions(img)[0] == 1:
        return img
    return _blend(img, rgb_to_grayscale(img), saturation_factor)


def adjust_gamma(img, gamma, gain=1.0):
    """``gain * img ** gamma`` on the [0, 1] scale, clamped, in the image's dtype."""
    _assert_image_tensor(img)
    if gamma < 0:
        raise ValueError("Gamma should be a non-negative real number")
    dtype = img.dtype
    result = img if img.is_floating_point() else convert_image_dtype(img, ember.float32)
    result = (gain * result ** gamma).clamp(0, 1)
    return convert_image_dtype(result, dtype)


def invert(img):
    _assert_image_tensor(img)
    return _max_value(img.dtype) - img


def normalize(tensor, mean, std, inplace=False):
    """``(tensor - mean) / std`` per channel."""
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError("Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = "
                         f"{tensor.size()}")
    if not inplace:
        tensor = tensor.clone()
    mean = ember.as_tensor(mean, dtype=tensor.dtype, device=tensor.device)
    std = ember.as_tensor(std, dtype=tensor.dtype, device=tensor.device)
    if bool((std == 0).any()):
        raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, leading to division by zero.")
    if mean.ndim == 1:
        mean = mean.view(-1, 1, 1)
    if std.ndim == 1:
        std = std.view(-1, 1, 1)
    return tensor.sub_(mean).div_(std)


def erase(img, i, j, h, w, v, inplace=False):
    """Sets ``img[..., i:i+h, j:j+w] = v``."""
    _assert_image_tensor(img)
    if not inplace:
        img = img.clone()
    img[..., i:i + h, j:j + w] = v
    return img


# ------------------------------------------------------------------------------------ hue
def _rgb_to_hsv(rgb):
    r, g, b = rgb[..., 0, :, :], rgb[..., 1, :, :], rgb[..., 2, :, :]
    maxc, minc = rgb.max(axis=-3), rgb.min(axis=-3)
    flat = maxc == minc  # gray pixels: no hue, no saturation
    span = maxc - minc
    s = span / np.where(flat, 1, maxc)
    divisor = np.where(flat, 1, span)
    rc, gc, bc = (maxc - r) / divisor, (maxc - g) / divisor, (maxc - b) / divisor
    h = np.where(maxc == r, bc - gc, np.where(maxc == g, 2.0 + rc - bc, 4.0 + gc - rc))
    h = np.where(flat, 0.0, h)
    h = np.fmod(h / 6.0 + 1.0, 1.0).astype(rgb.dtype)
    return h, s, maxc


def _hsv_to_rgb(h, s, v):
    i = np.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.astype(np.int32) % 6
    p = np.clip(v * (1.0 - s), 0.0, 1.0)
    q = np.clip(v * (1.0 - s * f), 0.0, 1.0)
    t = np.clip(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    sector = [i == k for k in range(6)]
    r = np.select(sector, [v, q, p, p, t, v])
    g = np.select(sector, [t, v, v, q, p, p])
    b = np.select(sector, [p, p, t, v, v, q])
    return np.stack([r, g, b], axis=-3).astype(v.dtype)


def adjust_hue(img, hue_factor):
    """Rotates the hue (HSV) by ``hue_factor`` turns, in [-0.5, 0.5]."""
    if not (-0.5 <= hue_factor <= 0.5):
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    _assert_image_tensor(img)
    _assert_channels(img, [1, 3])
    if get_dimensions(img)[0] == 1:
        return img
    x = _to_numpy(img)
    dtype = x.dtype
    if dtype == np.uint8:
        x = x.astype(np.float32) / 255.0
    h, s, v = _rgb_to_hsv(x)
    h = np.mod(h + np.asarray(hue_factor, h.dtype), 1.0).astype(h.dtype)
    out = _hsv_to_rgb(h, s, v)
    if dtype == np.uint8:
        out = (out * 255.0).astype(np.uint8)
    return _from_numpy(out, img)
