"""Image files as tensors (torchvision's ``io`` image functions), decoded and encoded through Pillow.

Decoded images are uint8 tensors C x H x W (uint16 for 16-bit grayscale PNGs in UNCHANGED mode).
"""
import io as _io
import os
from enum import Enum

import numpy as np

import ember


class ImageReadMode(Enum):
    """The channels to decode to: UNCHANGED keeps the file's own, the others convert."""

    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4
    RGBA = RGB_ALPHA


_PIL_MODES = {ImageReadMode.GRAY: "L", ImageReadMode.GRAY_ALPHA: "LA", ImageReadMode.RGB: "RGB",
              ImageReadMode.RGB_ALPHA: "RGBA"}


def read_file(path):
    """The bytes of a file as a 1-d uint8 tensor."""
    with open(os.fspath(path), "rb") as f:
        data = f.read()
    return ember.from_numpy(np.frombuffer(data, dtype=np.uint8).copy())


def write_file(filename, data):
    """Writes a 1-d uint8 tensor to a file."""
    with open(os.fspath(filename), "wb") as f:
        f.write(data.detach().cpu().numpy().astype(np.uint8, copy=False).tobytes())


def _unchanged_mode(img):
    if img.mode in ("L", "LA", "RGB", "RGBA", "I;16"):
        return img.mode
    if img.mode == "P":
        return "RGBA" if "transparency" in img.info else "RGB"
    if img.mode in ("1",):
        return "L"
    if img.mode == "PA":
        return "RGBA"
    return "RGB"


def decode_image(input, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    """Decodes an encoded image (1-d uint8 tensor, or a path) into a uint8 tensor C x H x W."""
    from PIL import Image, ImageOps
    if isinstance(mode, str):
        mode = ImageReadMode[mode.upper()]
    if not isinstance(input, ember.Tensor):
        input = read_file(input)
    if input.dtype != ember.uint8 or input.ndim != 1:
        raise RuntimeError(f"Expected a 1-d uint8 tensor of encoded bytes, got a {input.ndim}-d {input.dtype} tensor")
    try:
        img = Image.open(_io.BytesIO(input.numpy().tobytes()))
        img.load()
    except Exception as error:  # Pillow raises several types for undecodable data
        raise RuntimeError(f"Unsupported image file or corrupted data: {error}") from None
    if apply_exif_orientation:
        img = ImageOps.exif_transpose(img)
    target = _PIL_MODES.get(mode) or _unchanged_mode(img)
    if target == "I;16":
        array = np.array(img, dtype=np.uint16)
    else:
        if img.mode != target:
            img = img.convert(target)
        array = np.array(img, dtype=np.uint8)
    if array.ndim == 2:
        array = array[:, :, None]
    return ember.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))


decode_png = decode_image
decode_jpeg = decode_image


def read_image(path, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    """Reads a JPEG, PNG, GIF, BMP, WebP... file into a uint8 tensor C x H x W."""
    return decode_image(read_file(path), mode, apply_exif_orientation)


def _to_pil(input):
    from PIL import Image
    if input.dtype != ember.uint8 or input.ndim != 3 or input.shape[0] not in (1, 3):
        raise RuntimeError(f"Expected a uint8 image tensor of shape (1 or 3, H, W), got {input.dtype} "
                           f"{tuple(input.shape)}")
    array = np.ascontiguousarray(input.detach().cpu().numpy().transpose(1, 2, 0))
    return Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array)


def _encode(img, **options):
    buffer = _io.BytesIO()
    img.save(buffer, **options)
    return ember.from_numpy(np.frombuffer(buffer.getvalue(), dtype=np.uint8).copy())


def encode_png(input, compression_level=6):
    """Encodes a uint8 image tensor (1 or 3, H, W) as PNG bytes (a 1-d uint8 tensor)."""
    if not 0 <= compression_level <= 9:
        raise ValueError(f"Compression level should be between 0 and 9, got {compression_level}")
    return _encode(_to_pil(input), format="PNG", compress_level=compression_level)


def write_png(input, filename, compression_level=6):
    """Writes a uint8 image tensor (1 or 3, H, W) as a PNG file."""
    write_file(filename, encode_png(input, compression_level))


def encode_jpeg(input, quality=75):
    """Encodes a uint8 image tensor (1 or 3, H, W) as JPEG bytes (a 1-d uint8 tensor)."""
    if not 1 <= quality <= 100:
        raise ValueError(f"Image quality should be a positive number between 1 and 100, got {quality}")
    return _encode(_to_pil(input), format="JPEG", quality=quality)


def write_jpeg(input, filename, quality=75):
    """Writes a uint8 image tensor (1 or 3, H, W) as a JPEG file."""
    write_file(filename, encode_jpeg(input, quality))
