"""Image operations on Pillow images; Pillow's own operations do the work, as in torchvision."""
import numbers

import numpy as np

try:
    from PIL import Image, ImageEnhance, ImageOps
except ImportError:  # Pillow is optional; these functions are only reached with a PIL image
    Image = ImageEnhance = ImageOps = None


def _is_pil_image(img):
    return Image is not None and isinstance(img, Image.Image)


def _assert_pil(img):
    if not _is_pil_image(img):
        raise TypeError(f"img should be PIL Image. Got {type(img)}")


def get_dimensions(img):
    """[channels, height, width] of a PIL image."""
    _assert_pil(img)
    channels = img.layers if hasattr(img, 'layers') else len(img.getbands())
    width, height = img.size
    return [channels, height, width]


def get_image_size(img):
    _assert_pil(img)
    return list(img.size)


def get_image_num_channels(img):
    _assert_pil(img)
    return img.layers if hasattr(img, 'layers') else len(img.getbands())


def hflip(img):
    _assert_pil(img)
    return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)


def vflip(img):
    _assert_pil(img)
    return img.transpose(Image.Transpose.FLIP_TOP_BOTTOM)


def _check_factor(value, name):
    if value < 0:
        raise ValueError(f"{name} ({value}) is not non-negative.")


def adjust_brightness(img, brightness_factor):
    _assert_pil(img)
    _check_factor(brightness_factor, 'brightness_factor')
    return ImageEnhance.Brightness(img).enhance(brightness_factor)


def adjust_contrast(img, contrast_factor):
    _assert_pil(img)
    _check_factor(contrast_factor, 'contrast_factor')
    return ImageEnhance.Contrast(img).enhance(contrast_factor)


def adjust_saturation(img, saturation_factor):
    _assert_pil(img)
    _check_factor(saturation_factor, 'saturation_factor')
    return ImageEnhance.Color(img).enhance(saturation_factor)


def adjust_sharpness(img, sharpness_factor):
    _assert_pil(img)
    _check_factor(sharpness_factor, 'sharpness_factor')
    return ImageEnhance.Sharpness(img).enhance(sharpness_factor)


def adjust_hue(img, hue_factor):
    """Shifts the hue channel (in HSV) by ``hue_factor`` turns, wrapping around."""
    if not (-0.5 <= hue_factor <= 0.5):
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    _assert_pil(img)
    mode = img.mode
    if mode in {"L", "1", "I", "F"}:
        return img
    h, s, v = img.convert("HSV").split()
    # hue is stored in a byte: the shift wraps around modulo 256, truncated toward zero like a C cast
    shift = int(hue_factor * 255) % 256
    np_h = (np.asarray(h, dtype=np.uint16) + shift).astype(np.uint8)
    h = Image.fromarray(np_h, "L")
    return Image.merge("HSV", (h, s, v)).convert(mode)


def adjust_gamma(img, gamma, gain=1.0):
    """``out = 255 * gain * (in / 255) ** gamma`` through a lookup table."""
    _assert_pil(img)
    if gamma < 0:
        raise ValueError("Gamma should be a non-negative real number")
    mode = img.mode
    img = img.convert("RGB")
    table = [int((255 + 1 - 1e-3) * gain * pow(v / 255.0, gamma)) for v in range(256)] * 3
    return img.point(table).convert(mode)


def invert(img):
    _assert_pil(img)
    return ImageOps.invert(img)


def _parse_fill(fill, img, name="fillcolor"):
    """Pillow's keyword for the fill colour, with one value per band."""
    num_channels = get_image_num_channels(img)
    if fill is None:
        fill = 0
    if isinstance(fill, (int, float)) and num_channels > 1:
        fill = tuple([fill] * num_channels)
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = fill * num_channels
        elif len(fill) != num_channels:
            raise ValueError(f"The number of elements in 'fill' does not match the number of channels of the image "
                             f"({len(fill)} != {num_channels})")
        fill = tuple(fill)
    if img.mode != "F":
        fill = tuple(int(x) for x in fill) if isinstance(fill, tuple) else int(fill)
    return {name: fill}


def _ltrb(padding):
    if isinstance(padding, numbers.Number):
        return [padding] * 4
    if len(padding) == 1:
        return [padding[0]] * 4
    if len(padding) == 2:
        return [padding[0], padding[1], padding[0], padding[1]]
    return list(padding)


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pads (left, top, right, bottom); negative padding crops."""
    _assert_pil(img)
    left, top, right, bottom = _ltrb(padding)
    if min(left, top, right, bottom) < 0:
        img = img.crop((max(-left, 0), max(-top, 0), img.width - max(-right, 0), img.height - max(-bottom, 0)))
        left, top, right, bottom = (max(p, 0) for p in (left, top, right, bottom))
    if padding_mode == "constant":
        palette = img.getpalette() if img.mode == "P" else None
        out = ImageOps.expand(img, border=(left, top, right, bottom), **_parse_fill(fill, img, name="fill"))
        if palette is not None:
            out.putpalette(palette)
        return out
    np_mode = {"edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}[padding_mode]
    array = np.asarray(img)
    widths = [(top, bottom), (left, right)] + [(0, 0)] * (array.ndim - 2)
    out = Image.fromarray(np.pad(array, widths, mode=np_mode), mode=img.mode if img.mode in ("L", "RGB", "RGBA", "P")
                          else None)
    if img.mode == "P":
        out.putpalette(img.getpalette())
    return out


def crop(img, top, left, height, width):
    """The box (left, top, left + width, top + height); outside the image is black."""
    _assert_pil(img)
    return img.crop((left, top, left + width, top + height))


def resize(img, size, interpolation):
    """Resizes to ``size`` = [height, width] with Pillow's resampling filter ``interpolation``."""
    _assert_pil(img)
    return img.resize((size[1], size[0]), interpolation)


def rotate(img, angle, interpolation=0, expand=False, center=None, fill=None):
    _assert_pil(img)
    return img.rotate(angle, interpolation, expand, center, **_parse_fill(fill, img))


def affine(img, matrix, interpolation=0, fill=None):
    """Applies the inverse affine ``matrix`` (output pixel -> input pixel), as Pillow's AFFINE transform."""
    _assert_pil(img)
    return img.transform(img.size, Image.Transform.AFFINE, matrix, interpolation, **_parse_fill(fill, img))


def to_grayscale(img, num_output_channels=1):
    """Pillow's 'L' conversion (ITU-R 601-2 luma); 3 output channels repeat it."""
    _assert_pil(img)
    if num_output_channels == 1:
        return img.convert("L")
    if num_output_channels == 3:
        gray = np.asarray(img.convert("L"), dtype=np.uint8)
        return Image.fromarray(np.dstack([gray] * 3), "RGB")
    raise ValueError("num_output_channels should be either 1 or 3")
