"""Vision datasets (torchvision's ``datasets``) and the bundled offline Digits set."""
from ember.vision.datasets.cifar import CIFAR10, CIFAR100  # noqa: F401
from ember.vision.datasets.digits import Digits  # noqa: F401
from ember.vision.datasets.fakedata import FakeData  # noqa: F401
from ember.vision.datasets.folder import DatasetFolder, ImageFolder  # noqa: F401
from ember.vision.datasets.mnist import EMNIST, KMNIST, MNIST, FashionMNIST  # noqa: F401
from ember.vision.datasets.svhn import SVHN  # noqa: F401
from ember.vision.datasets.vision import VisionDataset  # noqa: F401

__all__ = ['CIFAR10', 'CIFAR100', 'Digits', 'FakeData', 'DatasetFolder', 'ImageFolder', 'EMNIST', 'KMNIST', 'MNIST',
           'FashionMNIST', 'SVHN', 'VisionDataset']
