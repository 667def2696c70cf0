"""VGG 11/13/16/19, with and without batch norm (Simonyan & Zisserman 2014).

``features`` is one ``nn.Sequential`` of conv/(BN)/ReLU/max-pool layers and ``classifier`` the three
fully connected layers, indexed as in torchvision (``features.N.*``, ``classifier.0/3/6.*``), so its
weight files load unchanged.  An adaptive average pool to 7x7 lets inputs of any size >= 32 through.
"""
from typing import Optional

import ember
from ember import nn
from ember.vision.models._api import WeightsEnum, _imagenet_weights, _load_weights, _prepare_weights, register_model

__all__ = ['VGG', 'VGG11_Weights', 'VGG11_BN_Weights', 'VGG13_Weights', 'VGG13_BN_Weights', 'VGG16_Weights',
           'VGG16_BN_Weights', 'VGG19_Weights', 'VGG19_BN_Weights', 'vgg11', 'vgg11_bn', 'vgg13', 'vgg13_bn', 'vgg16',
           'vgg16_bn', 'vgg19', 'vgg19_bn']


class VGG(nn.Module):
    """A VGG network around a given ``features`` stack.

    Args:
        features: the convolutional part (see :func:`make_layers`), ending in 512 channels.
        num_classes: outputs of the last linear layer.
        init_weights: kaiming-normal convs, N(0, 0.01) linears, zero biases (torchvision's init).
        dropout: dropout probability in the classifier.
    """

    def __init__(self, features, num_classes=1000, init_weights=True, dropout=0.5):
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes))
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(ember.flatten(x, 1))


def make_layers(cfg, batch_norm=False):
    """The ``features`` stack: an int is a 3x3 conv (+BN) + ReLU with that many channels, ``'M'`` a 2x2 max-pool."""
    layers = []
    in_channels = 3
    for v in cfg:
        if v == 'M':
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers.append(nn.Conv2d(in_channels, v, kernel_size=3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(v))
            layers.append(nn.ReLU(inplace=True))
            in_channels = v
    return nn.Sequential(*layers)


cfgs = {
    'A': [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
    'B': [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
    'D': [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
    'E': [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'],
}


def _vgg(cfg, batch_norm, weights, progress, enum_cls, **kwargs):
    weights = _prepare_weights(weights, kwargs, enum_cls)
    if weights is not None:
        kwargs['init_weights'] = False      # the loaded weights replace the initialisation anyway
    model = VGG(make_layers(cfgs[cfg], batch_norm=batch_norm), **kwargs)
    return _load_weights(model, weights, progress)


# ----------------------------------------------------------------------------- published weights

_URL = 'https://download.pytorch.org/models/'
_RECIPE = 'https://github.com/pytorch/vision/tree/main/references/classification#alexnet-and-vgg'
_DOCS = 'These weights were trained from scratch by using a simplified training recipe.'


def _w(file, num_params, acc1, acc5):
    return _imagenet_weights(_URL + file, num_params, acc1, acc5, recipe=_RECIPE, min_size=(32, 32), docs=_DOCS)


class VGG11_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('vgg11-8a719046.pth', 132863336, 69.020, 88.628)
    DEFAULT = IMAGENET1K_V1


class VGG11_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('vgg11_bn-6002323d.pth', 132868840, 70.370, 89.810)
    DEFAULT = IMAGENET1K_V1


class VGG13_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('vgg13-19584684.pth', 133047848, 69.928, 89.246)
    DEFAULT = IMAGENET1K_V1


class VGG13_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('vgg13_bn-abd245e5.pth', 133053736, 71.586, 90.374)
    DEFAULT = IMAGENET1K_V1


class VGG16_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('vgg16-397923af.pth', 138357544, 71.592, 90.382)
    DEFAULT = IMAGENET1K_V1


class VGG16_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('vgg16_bn-6c64b313.pth', 138365992, 73.360, 91.516)
    DEFAULT = IMAGENET1K_V1


class VGG19_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('vgg19-dcbb9e9d.pth', 143667240, 72.376, 90.876)
    DEFAULT = IMAGENET1K_V1


class VGG19_BN_Weights(WeightsEnum):
    IMAGENET1K_V1 = _w('vgg19_bn-c79401a0.pth', 143678248, 74.218, 91.842)
    DEFAULT = IMAGENET1K_V1


# ----------------------------------------------------------------------------- builders

@register_model()
def vgg11(*, weights: Optional[VGG11_Weights] = None, progress=True, **kwargs):
    """VGG-11 (configuration "A" of `Very Deep Convolutional Networks <https://arxiv.org/abs/1409.1556>`_).

    Args:
        weights: a :class:`VGG11_Weights` member or name, or the path of a state-dict file.
        progress: show download progress.
        **kwargs: passed to :class:`VGG` (``num_classes``, ``dropout``, ``init_weights``).
    """
    return _vgg('A', False, weights, progress, VGG11_Weights, **kwargs)


@register_model()
def vgg11_bn(*, weights: Optional[VGG11_BN_Weights] = None, progress=True, **kwargs):
    """VGG-11 with batch normalisation; arguments as :func:`vgg11`."""
    return _vgg('A', True, weights, progress, VGG11_BN_Weights, **kwargs)


@register_model()
def vgg13(*, weights: Optional[VGG13_Weights] = None, progress=True, **kwargs):
    """VGG-13 (configuration "B"); arguments as :func:`vgg11`."""
    return _vgg('B', False, weights, progress, VGG13_Weights, **kwargs)


@register_model()
def vgg13_bn(*, weights: Optional[VGG13_BN_Weights] = None, progress=True, **kwargs):
    """VGG-13 with batch normalisation; arguments as :func:`vgg11`."""
    return _vgg('B', True, weights, progress, VGG13_BN_Weights, **kwargs)


@register_model()
def vgg16(*, weights: Optional[VGG16_Weights] = None, progress=True, **kwargs):
    """VGG-16 (configuration "D"); arguments as :func:`vgg11`."""
    return _vgg('D', False, weights, progress, VGG16_Weights, **kwargs)


@register_model()
def vgg16_bn(*, weights: Optional[VGG16_BN_Weights] = None, progress=True, **kwargs):
    """VGG-16 with batch normalisation; arguments as :func:`vgg11`."""
    return _vgg('D', True, weights, progress, VGG16_BN_Weights, **kwargs)


@register_model()
def vgg19(*, weights: Optional[VGG19_Weights] = None, progress=True, **kwargs):
    """VGG-19 (configuration "E"); arguments as :func:`vgg11`."""
    return _vgg('E', False, weights, progress, VGG19_Weights, **kwargs)


@register_model()
def vgg19_bn(*, weights: Optional[VGG19_BN_Weights] = None, progress=True, **kwargs):
    """VGG-19 with batch normalisation; arguments as :func:`vgg11`."""
    return _vgg('E', True, weights, progress, VGG19_BN_Weights, **kwargs)
