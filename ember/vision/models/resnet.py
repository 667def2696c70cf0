"""ResNet, ResNeXt and Wide ResNet (He et al. 2015; Xie et al. 2016; Zagoruyko & Komodakis 2016).

Module names, registration order and initialisation follow torchvision's ``resnet.py``, so its
weight files load unchanged: the stride of a Bottleneck block sits in its 3x3 conv (ResNet v1.5).
"""
from typing import Optional

import ember
from ember import nn
from ember.vision.models._api import (WeightsEnum, _imagenet_weights, _load_weights, _ovewrite_named_param,
                                      _prepare_weights, register_model)

__all__ = ['ResNet', 'BasicBlock', 'Bottleneck', 'ResNet18_Weights', 'ResNet34_Weights', 'ResNet50_Weights',
           'ResNet101_Weights', 'ResNet152_Weights', 'ResNeXt50_32X4D_Weights', 'ResNeXt101_32X8D_Weights',
           'Wide_ResNet50_2_Weights', 'Wide_ResNet101_2_Weights', 'resnet18', 'resnet34', 'resnet50', 'resnet101',
           'resnet152', 'resnext50_32x4d', 'resnext101_32x8d', 'wide_resnet50_2', 'wide_resnet101_2']


def conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1):
    """3x3 convolution with padding (padding = dilation keeps the size at stride 1)."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation, groups=groups,
                     bias=False, dilation=dilation)


def conv1x1(in_planes, out_planes, stride=1):
    """1x1 convolution."""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection (ResNet-18/34)."""
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1,
                 norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError('BasicBlock only supports groups=1 and base_width=64')
        if dilation > 1:
            raise NotImplementedError('Dilation > 1 not supported in BasicBlock')
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3 (strided, grouped, dilated), 1x1 expand by 4, with a residual connection."""
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1,
                 norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class ResNet(nn.Module):
    """A residual network: a 7x7/2 stem and max-pool, four stages of blocks, global average pool, ``fc``.

    Args:
        block: :class:`BasicBlock` or :class:`Bottleneck`.
        layers: number of blocks in each of the four stages.
        num_classes: outputs of the final ``fc`` layer.
        zero_init_residual: start the last BN of each block at weight 0, so blocks begin as identities.
        groups, width_per_group: grouped (ResNeXt) and widened (Wide ResNet) bottlenecks.
        replace_stride_with_dilation: three flags; a True replaces the stride 2 of stages 2-4 by dilation.
        norm_layer: the normalisation class (default ``nn.BatchNorm2d``).
    """

    def __init__(self, block, layers, num_classes=1000, zero_init_residual=False, groups=1, width_per_group=64,
                 replace_stride_with_dilation=None, norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        self._norm_layer = norm_layer
        self.inplanes = 64
        self.dilation = 1
        if replace_stride_with_dilation is None:
            replace_stride_with_dilation = [False, False, False]
        if len(replace_stride_with_dilation) != 3:
            raise ValueError('replace_stride_with_dilation should be None or a 3-element tuple, got '
                             f'{replace_stride_with_dilation}')
        self.groups = groups
        self.base_width = width_per_group
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2, dilate=replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2, dilate=replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2, dilate=replace_stride_with_dilation[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck) and m.bn3.weight is not None:
                    nn.init.constant_(m.bn3.weight, 0)
                elif isinstance(m, BasicBlock) and m.bn2.weight is not None:
                    nn.init.constant_(m.bn2.weight, 0)

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        norm_layer = self._norm_layer
        downsample = None
        previous_dilation = self.dilation
        if dilate:
            self.dilation *= stride
            stride = 1
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                       norm_layer(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample, self.groups, self.base_width, previous_dilation,
                        norm_layer)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes, groups=self.groups, base_width=self.base_width,
                                dilation=self.dilation, norm_layer=norm_layer))
        return nn.Sequential(*layers)

    def _forward_impl(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = ember.flatten(self.avgpool(x), 1)
        return self.fc(x)

    def forward(self, x):
        return self._forward_impl(x)


def _resnet(block, layers, weights, progress, enum_cls, **kwargs):
    weights = _prepare_weights(weights, kwargs, enum_cls)
    model = ResNet(block, layers, **kwargs)
    return _load_weights(model, weights, progress)


# ----------------------------------------------------------------------------- published weights

_URL = 'https://download.pytorch.org/models/'
_V1 = 'https://github.com/pytorch/vision/tree/main/references/classification#resnet'
_V1_NEXT = 'https://github.com/pytorch/vision/tree/main/references/classification#resnext'
_V2 = 'https://github.com/pytorch/vision/issues/3995#issuecomment-1013906621'
_V2_NEXT = 'https://github.com/pytorch/vision/issues/3995#new-recipe'
_V1_DOCS = 'These weights reproduce closely the results of the paper using a simple training recipe.'
_V2_DOCS = ('These weights improve upon the results of the original paper by using TorchVision\'s `new training '
            'recipe <https://pytorch.org/blog/how-to-train-state-of-the-art-models-using-torchvision-latest-'
            'primitives/>`_.')


def _v1(file, num_params, acc1, acc5, recipe=_V1):
    return _imagenet_weights(_URL + file, num_params, acc1, acc5, recipe=recipe, docs=_V1_DOCS)


def _v2(file, num_params, acc1, acc5, recipe=_V2):
    return _imagenet_weights(_URL + file, num_params, acc1, acc5, recipe=recipe, resize_size=232, docs=_V2_DOCS)


class ResNet18_Weights(WeightsEnum):
    IMAGENET1K_V1 = _v1('resnet18-f37072fd.pth', 11689512, 69.758, 89.078)
    DEFAULT = IMAGENET1K_V1


class ResNet34_Weights(WeightsEnum):
    IMAGENET1K_V1 = _v1('resnet34-b627a593.pth', 21797672, 73.314, 91.420)
    DEFAULT = IMAGENET1K_V1


class ResNet50_Weights(WeightsEnum):
    IMAGENET1K_V1 = _v1('resnet50-0676ba61.pth', 25557032, 76.130, 92.862)
    IMAGENET1K_V2 = _v2('resnet50-11ad3fa6.pth', 25557032, 80.858, 95.434,
                        recipe='https://github.com/pytorch/vision/issues/3995#issuecomment-1013906621')
    DEFAULT = IMAGENET1K_V2


class ResNet101_Weights(WeightsEnum):
    IMAGENET1K_V1 = _v1('resnet101-63fe2227.pth', 44549160, 77.374, 93.546)
    IMAGENET1K_V2 = _v2('resnet101-cd907fc2.pth', 44549160, 81.886, 95.780, recipe=_V2_NEXT)
    DEFAULT = IMAGENET1K_V2


class ResNet152_Weights(WeightsEnum):
    IMAGENET1K_V1 = _v1('resnet152-394f9c45.pth', 60192808, 78.312, 94.046)
    IMAGENET1K_V2 = _v2('resnet152-f82ba261.pth', 60192808, 82.284, 96.002, recipe=_V2_NEXT)
    DEFAULT = IMAGENET1K_V2


class ResNeXt50_32X4D_Weights(WeightsEnum):
    IMAGENET1K_V1 = _v1('resnext50_32x4d-7cdf4587.pth', 25028904, 77.618, 93.698, recipe=_V1_NEXT)
    IMAGENET1K_V2 = _v2('resnext50_32x4d-1a0047aa.pth', 25028904, 81.198, 95.340, recipe=_V2_NEXT)
    DEFAULT = IMAGENET1K_V2


class ResNeXt101_32X8D_Weights(WeightsEnum):
    IMAGENET1K_V1 = _v1('resnext101_32x8d-8ba56ff5.pth', 88791336, 79.312, 94.526, recipe=_V1_NEXT)
    IMAGENET1K_V2 = _v2('resnext101_32x8d-110c445d.pth', 88791336, 82.834, 96.228, recipe=_V2_NEXT)
    DEFAULT = IMAGENET1K_V2


class Wide_ResNet50_2_Weights(WeightsEnum):
    IMAGENET1K_V1 = _v1('wide_resnet50_2-95faca4d.pth', 68883240, 78.468, 94.086,
                        recipe='https://github.com/pytorch/vision/pull/912#issue-445437439')
    IMAGENET1K_V2 = _v2('wide_resnet50_2-9ba9bcbe.pth', 68883240, 81.602, 95.758, recipe=_V2_NEXT)
    DEFAULT = IMAGENET1K_V2


class Wide_ResNet101_2_Weights(WeightsEnum):
    IMAGENET1K_V1 = _v1('wide_resnet101_2-32ee1156.pth', 126886696, 78.848, 94.284,
                        recipe='https://github.com/pytorch/vision/pull/912#issue-445437439')
    IMAGENET1K_V2 = _v2('wide_resnet101_2-d733dc28.pth', 126886696, 82.510, 96.020, recipe=_V2_NEXT)
    DEFAULT = IMAGENET1K_V2


# ----------------------------------------------------------------------------- builders

@register_model()
def resnet18(*, weights: Optional[ResNet18_Weights] = None, progress=True, **kwargs):
    """ResNet-18 (`Deep Residual Learning for Image Recognition <https://arxiv.org/abs/1512.03385>`_).

    Args:
        weights: a :class:`ResNet18_Weights` member or name, or the path of a state-dict file.
        progress: show download progress.
        **kwargs: passed to :class:`ResNet` (``num_classes``, ``zero_init_residual``, ``norm_layer``...).
    """
    return _resnet(BasicBlock, [2, 2, 2, 2], weights, progress, ResNet18_Weights, **kwargs)


@register_model()
def resnet34(*, weights: Optional[ResNet34_Weights] = None, progress=True, **kwargs):
    """ResNet-34; arguments as :func:`resnet18`."""
    return _resnet(BasicBlock, [3, 4, 6, 3], weights, progress, ResNet34_Weights, **kwargs)


@register_model()
def resnet50(*, weights: Optional[ResNet50_Weights] = None, progress=True, **kwargs):
    """ResNet-50 (v1.5: the stride in the 3x3 conv of each bottleneck); arguments as :func:`resnet18`."""
    return _resnet(Bottleneck, [3, 4, 6, 3], weights, progress, ResNet50_Weights, **kwargs)


@register_model()
def resnet101(*, weights: Optional[ResNet101_Weights] = None, progress=True, **kwargs):
    """ResNet-101; arguments as :func:`resnet18`."""
    return _resnet(Bottleneck, [3, 4, 23, 3], weights, progress, ResNet101_Weights, **kwargs)


@register_model()
def resnet152(*, weights: Optional[ResNet152_Weights] = None, progress=True, **kwargs):
    """ResNet-152; arguments as :func:`resnet18`."""
    return _resnet(Bottleneck, [3, 8, 36, 3], weights, progress, ResNet152_Weights, **kwargs)


@register_model()
def resnext50_32x4d(*, weights: Optional[ResNeXt50_32X4D_Weights] = None, progress=True, **kwargs):
    """ResNeXt-50 32x4d (`Aggregated Residual Transformations <https://arxiv.org/abs/1611.05431>`_)."""
    _ovewrite_named_param(kwargs, 'groups', 32)
    _ovewrite_named_param(kwargs, 'width_per_group', 4)
    return _resnet(Bottleneck, [3, 4, 6, 3], weights, progress, ResNeXt50_32X4D_Weights, **kwargs)


@register_model()
def resnext101_32x8d(*, weights: Optional[ResNeXt101_32X8D_Weights] = None, progress=True, **kwargs):
    """ResNeXt-101 32x8d."""
    _ovewrite_named_param(kwargs, 'groups', 32)
    _ovewrite_named_param(kwargs, 'width_per_group', 8)
    return _resnet(Bottleneck, [3, 4, 23, 3], weights, progress, ResNeXt101_32X8D_Weights, **kwargs)


@register_model()
def wide_resnet50_2(*, weights: Optional[Wide_ResNet50_2_Weights] = None, progress=True, **kwargs):
    """Wide ResNet-50-2 (`Wide Residual Networks <https://arxiv.org/abs/1605.07146>`_): bottlenecks twice as wide."""
    kwargs['width_per_group'] = 64 * 2
    return _resnet(Bottleneck, [3, 4, 6, 3], weights, progress, Wide_ResNet50_2_Weights, **kwargs)


@register_model()
def wide_resnet101_2(*, weights: Optional[Wide_ResNet101_2_Weights] = None, progress=True, **kwargs):
    """Wide ResNet-101-2."""
    kwargs['width_per_group'] = 64 * 2
    return _resnet(Bottleneck, [3, 4, 23, 3], weights, progress, Wide_ResNet101_2_Weights, **kwargs)
