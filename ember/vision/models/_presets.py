"""The inference transforms that come with pretrained weights (``weights.transforms()``)."""
import ember
from ember import nn

__all__ = ['ImageClassification']

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


class ImageClassification(nn.Module):
    """Resize, centre-crop, scale to [0, 1] and normalise: the evaluation preprocessing of ImageNet classifiers.

    Accepts a PIL image or a uint8/float image tensor (..., C, H, W); returns a float tensor.

    Args:
        crop_size: side of the square centre crop.
        resize_size: the shorter image side is resized to this first.
        mean, std: per-channel normalisation.
        interpolation: an ``InterpolationMode`` (default bilinear).
        antialias: antialias tensor resizes (PIL resizes always antialias).
    """

    def __init__(self, *, crop_size, resize_size=256, mean=_IMAGENET_MEAN, std=_IMAGENET_STD,
                 interpolation=None, antialias=True):
        super().__init__()
        from ember.vision.transforms.functional import InterpolationMode
        self.crop_size = [crop_size]
        self.resize_size = [resize_size]
        self.mean = list(mean)
        self.std = list(std)
        self.interpolation = InterpolationMode.BILINEAR if interpolation is None else interpolation
        self.antialias = antialias

    def forward(self, img):
        from ember.vision.transforms import functional as TF
        img = TF.resize(img, self.resize_size, interpolation=self.interpolation, antialias=self.antialias)
        img = TF.center_crop(img, self.crop_size)
        if not isinstance(img, ember.Tensor):
            img = TF.pil_to_tensor(img)
        img = TF.convert_image_dtype(img, ember.float)
        return TF.normalize(img, mean=self.mean, std=self.std)

    def __repr__(self):
        lines = [f'crop_size={self.crop_size}', f'resize_size={self.resize_size}', f'mean={self.mean}',
                 f'std={self.std}', f'interpolation={self.interpolation}']
        return self.__class__.__name__ + '(\n' + ''.join(f'    {line}\n' for line in lines) + ')'

    def describe(self):
        """A sentence saying what the transform does (torchvision's docs text)."""
        return ('Accepts ``PIL.Image``, batched ``(B, C, H, W)`` and single ``(C, H, W)`` image ``torch.Tensor`` '
                f'objects. The images are resized to ``resize_size={self.resize_size}`` using '
                f'``interpolation={self.interpolation}``, followed by a central crop of ``crop_size={self.crop_size}``. '
                'Finally the values are first rescaled to ``[0.0, 1.0]`` and then normalized using '
                f'``mean={self.mean}`` and ``std={self.std}``.')
