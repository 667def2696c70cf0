"""AlexNet (Krizhevsky et al. 2012), in the single-tower form of "One weird trick" (Krizhevsky 2014).

Layer indices follow torchvision (``features.0/3/6/8/10``, ``classifier.1/4/6``), so its weights load.
"""
from typing import Optional

import ember
from ember import nn
from ember.vision.models._api import WeightsEnum, _imagenet_weights, _load_weights, _prepare_weights, register_model

__all__ = ['AlexNet', 'AlexNet_Weights', 'alexnet']


class AlexNet(nn.Module):
    """Five convolutions with max-pools, an adaptive 6x6 average pool and three linear layers.

    Args:
        num_classes: outputs of the last linear layer.
        dropout: dropout probability before the first two linear layers.
    """

    def __init__(self, num_classes=1000, dropout=0.5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(p=dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(ember.flatten(x, 1))


class AlexNet_Weights(WeightsEnum):
    IMAGENET1K_V1 = _imagenet_weights(
        'https://download.pytorch.org/models/alexnet-owt-7be5be79.pth', 61100840, 56.522, 79.066,
        recipe='https://github.com/pytorch/vision/tree/main/references/classification#alexnet-and-vgg',
        min_size=(63, 63),
        docs='These weights reproduce closely the results of the paper using a simplified training recipe.')
    DEFAULT = IMAGENET1K_V1


@register_model()
def alexnet(*, weights: Optional[AlexNet_Weights] = None, progress=True, **kwargs):
    """AlexNet (`One weird trick... <https://arxiv.org/abs/1404.5997>`_ variant).

    Args:
        weights: an :class:`AlexNet_Weights` member or name, or the path of a state-dict file.
        progress: show download progress.
        **kwargs: passed to :class:`AlexNet` (``num_classes``, ``dropout``).
    """
    weights = _prepare_weights(weights, kwargs, AlexNet_Weights)
    return _load_weights(AlexNet(**kwargs), weights, progress)
