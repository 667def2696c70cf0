"""Image transforms (torchvision's ``transforms``) on PIL images and tensors."""
from ember.vision.transforms import functional  # noqa: F401
from ember.vision.transforms.functional import InterpolationMode  # noqa: F401
from ember.vision.transforms.transforms import (  # noqa: F401
    CenterCrop, ColorJitter, Compose, ConvertImageDtype, FiveCrop, GaussianBlur, Grayscale, Lambda, Normalize, Pad,
    PILToTensor, RandomAffine, RandomApply, RandomChoice, RandomCrop, RandomErasing, RandomGrayscale,
    RandomHorizontalFlip, RandomOrder, RandomResizedCrop, RandomRotation, RandomTransforms, RandomVerticalFlip, Resize,
    TenCrop, ToPILImage, ToTensor)
