"""MobileNetV2 (Sandler et al. 2018): inverted residual blocks with linear bottlenecks and ReLU6.

Module names follow torchvision (``features.0.0`` is the stem conv, ``features.N.conv.*`` the blocks,
``classifier.1`` the linear layer), so its weight files load unchanged.
"""
from typing import Optional

import ember
from ember import nn
from ember.vision.models._api import WeightsEnum, _imagenet_weights, _load_weights, _prepare_weights, register_model

__all__ = ['MobileNetV2', 'MobileNet_V2_Weights', 'mobilenet_v2', 'Conv2dNormActivation']


def _make_divisible(v, divisor, min_value=None):
    """``v`` rounded to the nearest multiple of ``divisor``, never more than 10% below ``v``."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class Conv2dNormActivation(nn.Sequential):
    """Conv2d, then a norm layer, then an activation (each optional), as one Sequential (``.0``, ``.1``, ``.2``).

    Args:
        padding: default ``(kernel_size - 1) // 2 * dilation`` ("same" size at stride 1).
        norm_layer: default ``nn.BatchNorm2d``; None for none.
        activation_layer: default ``nn.ReLU``; None for none.
        inplace: passed to the activation (None: its default).
        bias: default True only without a norm layer.
    """

    def __init__(self, in_channels, out_channels, kernel_size=3, stride=1, padding=None, groups=1,
                 norm_layer=nn.BatchNorm2d, activation_layer=nn.ReLU, dilation=1, inplace=True, bias=None):
        if padding is None:
            padding = (kernel_size - 1) // 2 * dilation
        if bias is None:
            bias = norm_layer is None
        layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation=dilation,
                            groups=groups, bias=bias)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            params = {} if inplace is None else {'inplace': inplace}
            layers.append(activation_layer(**params))
        super().__init__(*layers)
        self.out_channels = out_channels


class InvertedResidual(nn.Module):
    """1x1 expansion (ReLU6), 3x3 depthwise (ReLU6), 1x1 linear projection; residual when shapes allow."""

    def __init__(self, inp, oup, stride, expand_ratio, norm_layer=None):
        super().__init__()
        self.stride = stride
        if stride not in (1, 2):
            raise ValueError(f'stride should be 1 or 2 instead of {stride}')
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        hidden_dim = int(round(inp * expand_ratio))
        self.use_res_connect = self.stride == 1 and inp == oup
        layers = []
        if expand_ratio != 1:
            layers.append(Conv2dNormActivation(inp, hidden_dim, kernel_size=1, norm_layer=norm_layer,
                                               activation_layer=nn.ReLU6))
        layers.extend([
            Conv2dNormActivation(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim, norm_layer=norm_layer,
                                 activation_layer=nn.ReLU6),
            nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False),
            norm_layer(oup),
        ])
        self.conv = nn.Sequential(*layers)
        self.out_channels = oup
        self._is_cn = stride > 1

    def forward(self, x):
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


class MobileNetV2(nn.Module):
    """MobileNetV2.

    Args:
        num_classes: outputs of the linear classifier.
        width_mult: scales the number of channels of every layer (rounded to ``round_nearest``).
        inverted_residual_setting: rows ``[t, c, n, s]``: expansion, channels, repeats, first stride.
        round_nearest: channel counts are multiples of this.
        block: the block class (default :class:`InvertedResidual`).
        norm_layer: the normalisation class (default ``nn.BatchNorm2d``).
        dropout: dropout probability before the classifier.
    """

    def __init__(self, num_classes=1000, width_mult=1.0, inverted_residual_setting=None, round_nearest=8,
                 block=None, norm_layer=None, dropout=0.2):
        super().__init__()
        if block is None:
            block = InvertedResidual
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        input_channel = 32
        last_channel = 1280
        if inverted_residual_setting is None:
            inverted_residual_setting = [
                [1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2],
                [6, 320, 1, 1],
            ]
        if len(inverted_residual_setting) == 0 or len(inverted_residual_setting[0]) != 4:
            raise ValueError('inverted_residual_setting should be non-empty or a 4-element list, got '
                             f'{inverted_residual_setting}')
        input_channel = _make_divisible(input_channel * width_mult, round_nearest)
        self.last_channel = _make_divisible(last_channel * max(1.0, width_mult), round_nearest)
        features = [Conv2dNormActivation(3, input_channel, stride=2, norm_layer=norm_layer,
                                         activation_layer=nn.ReLU6)]
        for t, c, n, s in inverted_residual_setting:
            output_channel = _make_divisible(c * width_mult, round_nearest)
            for i in range(n):
                features.append(block(input_channel, output_channel, s if i == 0 else 1, expand_ratio=t,
                                      norm_layer=norm_layer))
                input_channel = output_channel
        features.append(Conv2dNormActivation(input_channel, self.last_channel, kernel_size=1, norm_layer=norm_layer,
                                             activation_layer=nn.ReLU6))
        self.features = nn.Sequential(*features)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), nn.Linear(self.last_channel, num_classes))

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out')
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def _forward_impl(self, x):
        x = nn.functional.adaptive_avg_pool2d(self.features(x), (1, 1))
        return self.classifier(ember.flatten(x, 1))

    def forward(self, x):
        return self._forward_impl(x)


_URL = 'https://download.pytorch.org/models/'


class MobileNet_V2_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet_weights(
        _URL + 'mobilenet_v2-b0353104.pth', 3504872, 71.878, 90.286,
        recipe='https://github.com/pytorch/vision/tree/main/references/classification#mobilenetv2',
        docs='These weights reproduce closely the results of the paper using a simple training recipe.')
    IMAGENET1K_V2 = _imagenet_weights(
        _URL + 'mobilenet_v2-7ebf99e0.pth', 3504872, 72.154, 90.822, resize_size=232,
        recipe='https://github.com/pytorch/vision/issues/3995#new-recipe-with-reg-tuning',
        docs='These weights improve upon the results of the original paper by using a modified version of '
             'TorchVision\'s `new training recipe <https://pytorch.org/blog/how-to-train-state-of-the-art-models-'
             'using-torchvision-latest-primitives/>`_.')
    DEFAULT = IMAGENET1K_V2


@register_model()
def mobilenet_v2(*, weights: Optional[MobileNet_V2_Weights] = None, progress=True, **kwargs):
    """MobileNetV2 (`Inverted Residuals and Linear Bottlenecks <https://arxiv.org/abs/1801.04381>`_).

    Args:
        weights: a :class:`MobileNet_V2_Weights` member or name, or the path of a state-dict file.
        progress: show download progress.
        **kwargs: passed to :class:`MobileNetV2` (``num_classes``, ``width_mult``, ``dropout``...).
    """
    weights = _prepare_weights(weights, kwargs, MobileNet_V2_Weights)
    return _load_weights(MobileNetV2(**kwargs), weights, progress)
