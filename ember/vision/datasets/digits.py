"""The bundled handwritten digits: 1,797 8x8 images, so that examples run offline.

Source: the UCI "Optical Recognition of Handwritten Digits" data set (test
part), by E. Alpaydin and C. Kaynak, licensed CC BY 4.0; converted once from
the copy scikit-learn carries into ``data/digits.npz`` (uint8 pixels 0..16 and
int64 labels).  The train/test split is fixed: a seeded permutation puts 1,437
images in train and 360 in test.
"""
import os

import numpy as np

from ember.utils.data import Dataset

_FILE = os.path.join(os.path.dirname(__file__), 'data', 'digits.npz')
_N_TEST = 360
_SPLIT_SEED = 20260101


def _load_arrays():
    with np.load(_FILE) as f:
        return f['images'], f['targets']


class Digits(Dataset):
    """8x8 grayscale digits (0-9), shipped with ember.

    Args:
        root: ignored (the data ships inside the package); kept for torchvision's signature.
        train: the 1,437-image training split if True, else the 360-image test split.
        transform: applied to each image, given as a PIL image if Pillow is installed and
            ``as_pil=True``, else as a float tensor of shape (1, 8, 8) scaled to [0, 1].
        target_transform: applied to each label.
    """

    classes = [str(i) for i in range(10)]

    def __init__(self, root=None, train=True, transform=None, target_transform=None, download=False,
                 as_pil=False):
        images, targets = _load_arrays()
        order = np.random.default_rng(_SPLIT_SEED).permutation(len(targets))
        idx = order[_N_TEST:] if train else order[:_N_TEST]
        self.data = images[idx]          # uint8, values 0..16
        self.targets = targets[idx]
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        self.as_pil = as_pil

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        import ember
        img = self.data[index]
        target = int(self.targets[index])
        if self.as_pil:
            from PIL import Image
            img = Image.fromarray((img.astype(np.float32) * (255 / 16)).astype(np.uint8), mode='L')
        else:
            img = ember.from_numpy((img.astype(np.float32) / 16.0)[None])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def tensors(self):
        """The whole split at once: images (N, 1, 8, 8) float32 in [0, 1] and labels (N,) int64."""
        import ember
        return (ember.from_numpy((self.data.astype(np.float32) / 16.0)[:, None]),
                ember.from_numpy(self.targets.copy()))

    def extra_repr(self):
        return f"Split: {'Train' if self.train else 'Test'}"

    def __repr__(self):
        return (f"Dataset Digits\n    Number of datapoints: {len(self)}\n    Root location: (bundled with ember)\n"
                f"    {self.extra_repr()}")
