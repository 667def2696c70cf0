"""LeNet-5 (LeCun et al. 1998) as it is commonly written today.

torchvision has no LeNet; this one follows the definition used across PyTorch tutorials:
``conv1`` 1->6 (5x5), pool, ``conv2`` 6->16 (5x5), pool, ``fc1`` 400->120, ``fc2`` 120->84,
``fc3`` 84->num_classes, for a 32x32 input (pad 28x28 MNIST digits by 2, e.g. ``transforms.Pad(2)``,
or pass ``padding=2``, which pads inside ``conv1`` instead).

The choices, and why: ReLU and 2x2 max-pooling by default (what "LeNet-5" means in almost all modern
code; they train faster than the original); ``activation='tanh'`` with ``pool='avg'`` gives the
1998 flavour (tanh units, average subsampling; the original's trainable subsampling coefficients,
sparse C3 connections and RBF output layer are not reproduced).  ``in_channels=3`` makes the classic
CIFAR-10 network of the PyTorch tutorial.
"""
import ember
from ember import nn

__all__ = ['LeNet', 'lenet5']


class LeNet(nn.Module):
    """LeNet-5: conv(5x5, 6) - pool - conv(5x5, 16) - pool - fc 120 - fc 84 - fc num_classes.

    Args:
        num_classes: outputs of ``fc3``.
        in_channels: input image channels (1 for MNIST, 3 for CIFAR).
        activation: ``'relu'`` (default) or ``'tanh'``.
        pool: ``'max'`` (default) or ``'avg'``, both 2x2 with stride 2.
        padding: zero padding of ``conv1`` (2 lets 28x28 inputs through).
    """

    def __init__(self, num_classes=10, in_channels=1, activation='relu', pool='max', padding=0):
        super().__init__()
        if activation not in ('relu', 'tanh'):
            raise ValueError(f"LeNet: activation must be 'relu' or 'tanh', got {activation!r}")
        if pool not in ('max', 'avg'):
            raise ValueError(f"LeNet: pool must be 'max' or 'avg', got {pool!r}")
        self.activation = activation
        self.pool = pool
        self.conv1 = nn.Conv2d(in_channels, 6, kernel_size=5, padding=padding)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x):
        F = nn.functional
        act = F.relu if self.activation == 'relu' else ember.tanh
        pool = F.max_pool2d if self.pool == 'max' else F.avg_pool2d
        x = pool(act(self.conv1(x)), 2)
        x = pool(act(self.conv2(x)), 2)
        x = ember.flatten(x, 1)
        x = act(self.fc1(x))
        x = act(self.fc2(x))
        return self.fc3(x)


def lenet5(**kwargs):
    """LeNet-5 (`Gradient-based learning applied to document recognition`, LeCun et al. 1998).

    Args:
        **kwargs: passed to :class:`LeNet` (``num_classes``, ``in_channels``, ``activation``, ``pool``, ``padding``).
    """
    return LeNet(**kwargs)
