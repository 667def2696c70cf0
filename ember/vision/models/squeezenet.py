"""SqueezeNet 1.0 and 1.1 (Iandola et al. 2016): AlexNet accuracy from Fire modules with few parameters.

Module names follow torchvision (``features.3.squeeze``, ``classifier.1``), so its weights load.
"""
from typing import Optional

import ember
from ember import nn
from ember.vision.models._api import WeightsEnum, _imagenet_weights, _load_weights, _prepare_weights, register_model

__all__ = ['SqueezeNet', 'SqueezeNet1_0_Weights', 'SqueezeNet1_1_Weights', 'squeezenet1_0', 'squeezenet1_1']


class Fire(nn.Module):
    """A 1x1 "squeeze" conv, then 1x1 and 3x3 "expand" convs side by side, concatenated on channels."""

    def __init__(self, inplanes, squeeze_planes, expand1x1_planes, expand3x3_planes):
        super().__init__()
        self.inplanes = inplanes
        self.squeeze = nn.Conv2d(inplanes, squeeze_planes, kernel_size=1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze_planes, expand1x1_planes, kernel_size=1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze_planes, expand3x3_planes, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.squeeze_activation(self.squeeze(x))
        return ember.cat([self.expand1x1_activation(self.expand1x1(x)),
                          self.expand3x3_activation(self.expand3x3(x))], 1)


class SqueezeNet(nn.Module):
    """SqueezeNet.

    Args:
        version: ``'1_0'`` (the paper's) or ``'1_1'`` (2.4x cheaper, same accuracy).
        num_classes: output channels of the final 1x1 conv.
        dropout: dropout probability before it.
    """

    def __init__(self, version='1_0', num_classes=1000, dropout=0.5):
        super().__init__()
        self.num_classes = num_classes
        if version == '1_0':
            self.features = nn.Sequential(
                nn.Conv2d(3, 96, kernel_size=7, stride=2), nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
                Fire(96, 16, 64, 64), Fire(128, 16, 64, 64), Fire(128, 32, 128, 128),
                nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
                Fire(256, 32, 128, 128), Fire(256, 48, 192, 192), Fire(384, 48, 192, 192), Fire(384, 64, 256, 256),
                nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
                Fire(512, 64, 256, 256),
            )
        elif version == '1_1':
            self.features = nn.Sequential(
                nn.Conv2d(3, 64, kernel_size=3, stride=2), nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
                Fire(64, 16, 64, 64), Fire(128, 16, 64, 64),
                nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
                Fire(128, 32, 128, 128), Fire(256, 32, 128, 128),
                nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
                Fire(256, 48, 192, 192), Fire(384, 48, 192, 192), Fire(384, 64, 256, 256), Fire(512, 64, 256, 256),
            )
        else:
            raise ValueError(f'Unsupported SqueezeNet version {version}: 1_0 or 1_1 expected')
        # the final conv is the classifier: initialised apart, with small weights
        final_conv = nn.Conv2d(512, self.num_classes, kernel_size=1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), final_conv, nn.ReLU(inplace=True),
                                        nn.AdaptiveAvgPool2d((1, 1)))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                if m is final_conv:
                    nn.init.normal_(m.weight, mean=0.0, std=0.01)
                else:
                    nn.init.kaiming_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)

    def forward(self, x):
        return ember.flatten(self.classifier(self.features(x)), 1)


_URL = 'https://download.pytorch.org/models/'
_RECIPE = 'https://github.com/pytorch/vision/pull/49#issuecomment-277560717'
_DOCS = 'These weights reproduce closely the results of the paper using a simple training recipe.'


class SqueezeNet1_0_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet_weights(_URL + 'squeezenet1_0-b66bff10.pth', 1248424, 58.092, 80.420, recipe=_RECIPE,
                                      min_size=(21, 21), docs=_DOCS)
    DEFAULT = IMAGENET1K_V1


class SqueezeNet1_1_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet_weights(_URL + 'squeezenet1_1-b8a52dc0.pth', 1235496, 58.178, 80.624, recipe=_RECIPE,
                                      min_size=(17, 17), docs=_DOCS)
    DEFAULT = IMAGENET1K_V1


def _squeezenet(version, weights, progress, enum_cls, **kwargs):
    weights = _prepare_weights(weights, kwargs, enum_cls)
    return _load_weights(SqueezeNet(version, **kwargs), weights, progress)


@register_model()
def squeezenet1_0(*, weights: Optional[SqueezeNet1_0_Weights] = None, progress=True, **kwargs):
    """SqueezeNet 1.0 (`SqueezeNet: AlexNet-level accuracy... <https://arxiv.org/abs/1602.07360>`_).

    Args:
        weights: a :class:`SqueezeNet1_0_Weights` member or name, or the path of a state-dict file.
        progress: show download progress.
        **kwargs: passed to :class:`SqueezeNet` (``num_classes``, ``dropout``).
    """
    return _squeezenet('1_0', weights, progress, SqueezeNet1_0_Weights, **kwargs)


@register_model()
def squeezenet1_1(*, weights: Optional[SqueezeNet1_1_Weights] = None, progress=True, **kwargs):
    """SqueezeNet 1.1 (fewer channels in the stem, earlier pooling); arguments as :func:`squeezenet1_0`."""
    return _squeezenet('1_1', weights, progress, SqueezeNet1_1_Weights, **kwargs)
