"""Transform classes (torchvision's ``transforms``): composition, conversion, resizing, cropping, padding.

The random augmentations live in ``_augment.py`` and are re-exported here.  As in torchvision,
most transforms are ``nn.Module`` s (so they fit in ``nn.Sequential``); Compose, the conversions,
Lambda and the random containers are plain callables.
"""
import numbers
import warnings

import ember
from ember import nn
from ember.vision.transforms import functional as F
from ember.vision.transforms.functional import InterpolationMode, _interpolation_modes_from_int


def _setup_size(size, error_msg):
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, (list, tuple)) and len(size) == 1:
        return size[0], size[0]
    if len(size) != 2:
        raise ValueError(error_msg)
    return size


def _check_interpolation(interpolation):
    if isinstance(interpolation, int):
        return _interpolation_modes_from_int(interpolation)
    if isinstance(interpolation, str):
        return InterpolationMode(interpolation)
    return interpolation


def _list_repr(obj, transforms):
    lines = obj.__class__.__name__ + "("
    for t in transforms:
        lines += f"\n    {t}"
    return lines + "\n)"


class Compose:
    """Applies the transforms one after another."""

    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        return _list_repr(self, self.transforms)


class ToTensor:
    """PIL image or ndarray (H x W x C) -> tensor C x H x W; uint8 is scaled to float [0, 1]."""

    def __call__(self, pic):
        return F.to_tensor(pic)

    def __repr__(self):
        return f"{self.__class__.__name__}()"


class PILToTensor:
    """PIL image -> tensor C x H x W of the same dtype, not rescaled."""

    def __call__(self, pic):
        return F.pil_to_tensor(pic)

    def __repr__(self):
        return f"{self.__class__.__name__}()"


class ToPILImage:
    """Tensor C x H x W or ndarray H x W x C -> PIL image (see ``functional.to_pil_image``)."""

    def __init__(self, mode=None):
        self.mode = mode

    def __call__(self, pic):
        return F.to_pil_image(pic, self.mode)

    def __repr__(self):
        return self.__class__.__name__ + "(" + (f"mode={self.mode}" if self.mode is not None else "") + ")"


class ConvertImageDtype(nn.Module):
    """Converts a tensor image to ``dtype``, rescaling the values."""

    def __init__(self, dtype):
        super().__init__()
        self.dtype = dtype

    def forward(self, image):
        return F.convert_image_dtype(image, self.dtype)


class Normalize(nn.Module):
    """``(input[c] - mean[c]) / std[c]`` for each channel of a float tensor image."""

    def __init__(self, mean, std, inplace=False):
        super().__init__()
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def forward(self, tensor):
        return F.normalize(tensor, self.mean, self.std, self.inplace)

    def __repr__(self):
        return f"{self.__class__.__name__}(mean={self.mean}, std={self.std})"


class Resize(nn.Module):
    """Resizes to ``size``: (h, w), or an int that the shorter edge is matched to.

    Args:
        size: (h, w) or int.
        interpolation: an ``InterpolationMode`` (or Pillow's integer constant).
        max_size: the longest edge allowed when ``size`` is an int.
        antialias: low-pass filter when downscaling tensors (PIL images always are).
    """

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
        super().__init__()
        if not isinstance(size, (int, list, tuple)) and size is not None:
            raise TypeError(f"Size should be int or sequence. Got {type(size)}")
        if isinstance(size, (list, tuple)) and len(size) not in (1, 2):
            raise ValueError("If size is a sequence, it should have 1 or 2 values")
        self.size = size
        self.max_size = max_size
        self.interpolation = _check_interpolation(interpolation)
        self.antialias = antialias

    def forward(self, img):
        return F.resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def __repr__(self):
        return (f"{self.__class__.__name__}(size={self.size}, interpolation={self.interpolation.value}, "
                f"max_size={self.max_size}, antialias={self.antialias})")


class CenterCrop(nn.Module):
    """Crops the centre (h, w) box (zero padding if the image is smaller)."""

    def __init__(self, size):
        super().__init__()
        self.size = _setup_size(size, error_msg="Please provide only two dimensions (h, w) for size.")

    def forward(self, img):
        return F.center_crop(img, self.size)

    def __repr__(self):
        return f"{self.__class__.__name__}(size={self.size})"


class Pad(nn.Module):
    """Pads the borders (see ``functional.pad``)."""

    def __init__(self, padding, fill=0, padding_mode="constant"):
        super().__init__()
        if not isinstance(padding, (numbers.Number, tuple, list)):
            raise TypeError("Got inappropriate padding arg")
        if not isinstance(fill, (numbers.Number, tuple, list)):
            raise TypeError("Got inappropriate fill arg")
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
        if isinstance(padding, (tuple, list)) and len(padding) not in (1, 2, 4):
            raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element "
                             f"tuple")
        self.padding = padding
        self.fill = fill
        self.padding_mode = padding_mode

    def forward(self, img):
        return F.pad(img, self.padding, self.fill, self.padding_mode)

    def __repr__(self):
        return f"{self.__class__.__name__}(padding={self.padding}, fill={self.fill}, padding_mode={self.padding_mode})"


class Lambda:
    """Applies a user function."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {repr(type(lambd).__name__)}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self):
        return f"{self.__class__.__name__}()"


class RandomCrop(nn.Module):
    """Crops a random (h, w) box, after optional padding.

    Args:
        size: (h, w) or int.
        padding: padding applied first (see ``Pad``).
        pad_if_needed: pad when the image is smaller than ``size``.
        fill, padding_mode: as for ``Pad``.
    """

    @staticmethod
    def get_params(img, output_size):
        """(top, left, h, w) of a random crop of size ``output_size``."""
        _, h, w = F.get_dimensions(img)
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size {(h, w)}")
        if w == tw and h == th:
            return 0, 0, h, w
        i = int(ember.randint(0, h - th + 1, size=(1,)).item())
        j = int(ember.randint(0, w - tw + 1, size=(1,)).item())
        return i, j, th, tw

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        super().__init__()
        self.size = tuple(_setup_size(size, error_msg="Please provide only two dimensions (h, w) for size."))
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    def forward(self, img):
        if self.padding is not None:
            img = F.pad(img, self.padding, self.fill, self.padding_mode)
        _, height, width = F.get_dimensions(img)
        if self.pad_if_needed and width < self.size[1]:
            img = F.pad(img, [self.size[1] - width, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and height < self.size[0]:
            img = F.pad(img, [0, self.size[0] - height], self.fill, self.padding_mode)
        i, j, h, w = self.get_params(img, self.size)
        return F.crop(img, i, j, h, w)

    def __repr__(self):
        return f"{self.__class__.__name__}(size={self.size}, padding={self.padding})"


class RandomResizedCrop(nn.Module):
    """Crops a random box of random area (``scale``) and aspect ratio (``ratio``), resized to ``size``."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
        super().__init__()
        self.size = _setup_size(size, error_msg="Please provide only two dimensions (h, w) for size.")
        if not isinstance(scale, (list, tuple)):
            raise TypeError("Scale should be a sequence")
        if not isinstance(ratio, (list, tuple)):
            raise TypeError("Ratio should be a sequence")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn("Scale and ratio should be of kind (min, max)")
        self.interpolation = _check_interpolation(interpolation)
        self.antialias = antialias
        self.scale = scale
        self.ratio = ratio

    @staticmethod
    def get_params(img, scale, ratio):
        """(top, left, h, w): ten tries at a random box, else the largest central box within ``ratio``."""
        _, height, width = F.get_dimensions(img)
        area = height * width
        log_ratio = ember.log(ember.tensor(ratio))
        for _ in range(10):
            target_area = area * ember.empty(1).uniform_(scale[0], scale[1]).item()
            aspect_ratio = ember.exp(ember.empty(1).uniform_(log_ratio[0].item(), log_ratio[1].item())).item()
            w = int(round((target_area * aspect_ratio) ** 0.5))
            h = int(round((target_area / aspect_ratio) ** 0.5))
            if 0 < w <= width and 0 < h <= height:
                i = int(ember.randint(0, height - h + 1, size=(1,)).item())
                j = int(ember.randint(0, width - w + 1, size=(1,)).item())
                return i, j, h, w
        in_ratio = float(width) / float(height)
        if in_ratio < min(ratio):
            w = width
            h = int(round(w / min(ratio)))
        elif in_ratio > max(ratio):
            h = height
            w = int(round(h * max(ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def forward(self, img):
        i, j, h, w = self.get_params(img, self.scale, self.ratio)
        return F.resized_crop(img, i, j, h, w, self.size, self.interpolation, antialias=self.antialias)

    def __repr__(self):
        return (f"{self.__class__.__name__}(size={self.size}, scale={tuple(round(s, 4) for s in self.scale)}, "
                f"ratio={tuple(round(r, 4) for r in self.ratio)}, interpolation={self.interpolation.value}, "
                f"antialias={self.antialias})")


class FiveCrop(nn.Module):
    """The four corner crops and the centre crop, as a tuple."""

    def __init__(self, size):
        super().__init__()
        self.size = _setup_size(size, error_msg="Please provide only two dimensions (h, w) for size.")

    def forward(self, img):
        return F.five_crop(img, self.size)

    def __repr__(self):
        return f"{self.__class__.__name__}(size={self.size})"


class TenCrop(nn.Module):
    """FiveCrop of the image and of its flip (horizontal, or vertical if ``vertical_flip``)."""

    def __init__(self, size, vertical_flip=False):
        super().__init__()
        self.size = _setup_size(size, error_msg="Please provide only two dimensions (h, w) for size.")
        self.vertical_flip = vertical_flip

    def forward(self, img):
        return F.ten_crop(img, self.size, self.vertical_flip)

    def __repr__(self):
        return f"{self.__class__.__name__}(size={self.size}, vertical_flip={self.vertical_flip})"


class RandomApply(nn.Module):
    """Applies the list of transforms with probability ``p``."""

    def __init__(self, transforms, p=0.5):
        super().__init__()
        self.transforms = transforms
        self.p = p

    def forward(self, img):
        if self.p < ember.rand(1).item():
            return img
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        lines = self.__class__.__name__ + "(" + f"\n    p={self.p}"
        for t in self.transforms:
            lines += f"\n    {t}"
        return lines + "\n)"


class RandomTransforms:
    """Base class of the containers that pick or order transforms at random."""

    def __init__(self, transforms):
        if not isinstance(transforms, (list, tuple)):
            raise TypeError("Argument transforms should be a sequence")
        self.transforms = transforms

    def __call__(self, *args, **kwargs):
        raise NotImplementedError()

    def __repr__(self):
        return _list_repr(self, self.transforms)


class RandomOrder(RandomTransforms):
    """Applies the transforms in a random order (drawn from ember's generator)."""

    def __call__(self, img):
        for i in ember.randperm(len(self.transforms)).tolist():
            img = self.transforms[i](img)
        return img


class RandomChoice(RandomTransforms):
    """Applies one transform picked at random (weights ``p``; drawn from ember's generator)."""

    def __init__(self, transforms, p=None):
        super().__init__(transforms)
        if p is not None and not isinstance(p, (list, tuple)):
            raise TypeError("Argument p should be a sequence")
        self.p = p

    def __call__(self, *args):
        weights = [1.0] * len(self.transforms) if self.p is None else [float(w) for w in self.p]
        u = ember.rand(1).item() * sum(weights)
        index, acc = len(weights) - 1, 0.0
        for k, w in enumerate(weights):
            acc += w
            if u < acc:
                index = k
                break
        return self.transforms[index](*args)

    def __repr__(self):
        return f"{super().__repr__()}(p={self.p})"


from ember.vision.transforms._augment import (ColorJitter, GaussianBlur, Grayscale, RandomAffine,  # noqa: E402,F401
                                              RandomErasing, RandomGrayscale, RandomHorizontalFlip,
                                              RandomRotation, RandomVerticalFlip)
