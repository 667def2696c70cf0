"""SVHN (Street View House Numbers), cropped-digits format, read from the official .mat files.

The .mat files are read by ember's own MAT-file v5 reader; scipy is used only if it is installed
and the reader meets something it does not support.
"""
import os

import numpy as np

from ember.vision.datasets import _matlab
from ember.vision.datasets.utils import check_integrity, default_cache_dir, download_url, verify_str_arg
from ember.vision.datasets.vision import VisionDataset


def _load_mat(path, names):
    try:
        arrays = _matlab.loadmat(path)
        if all(name in arrays for name in names):
            return arrays
        reason = f"variables {names} not found among its numeric arrays"
    except _matlab.MatFileError as error:
        reason = str(error)
    try:
        import scipy.io
    except ImportError:
        raise RuntimeError(f"Cannot read '{path}': {reason} (install scipy to read other MAT-file kinds)") from None
    return scipy.io.loadmat(path)


class SVHN(VisionDataset):
    """SVHN digits: 32x32 colour crops of house numbers, labels 0-9 (the files' 10 becomes 0).

    Args:
        root: the folder holding ``train_32x32.mat`` etc.; ``None`` means ember's cache folder.
        split: ``'train'``, ``'test'`` or ``'extra'``.
        transform: applied to each PIL image (mode 'RGB').
        target_transform: applied to each label.
        download: fetch the split's file if it is not in ``root``.

    ``data`` is a numpy uint8 array N x 3 x 32 x 32 and ``labels`` a numpy int64 array N.
    """

    split_list = {
        "train": ["http://ufldl.stanford.edu/housenumbers/train_32x32.mat", "train_32x32.mat",
                  "e26dedcc434d2e4c54c9b2d4a06d8373"],
        "test": ["http://ufldl.stanford.edu/housenumbers/test_32x32.mat", "test_32x32.mat",
                 "eb5a983be6a315427106f1b164d9cef3"],
        "extra": ["http://ufldl.stanford.edu/housenumbers/extra_32x32.mat", "extra_32x32.mat",
                  "a93ce644f1a588dc4d68dda5feec44a7"],
    }
    mirrors = {}  # split -> further URLs

    def __init__(self, root=None, split="train", transform=None, target_transform=None, download=False):
        super().__init__(default_cache_dir() if root is None else root,
                         transform=transform, target_transform=target_transform)
        self.split = verify_str_arg(split, "split", tuple(self.split_list.keys()))
        self.url, self.filename, self.file_md5 = self.split_list[split]
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError("Dataset not found or corrupted. You can use download=True to download it")

        loaded = _load_mat(os.path.join(self.root, self.filename), ('X', 'y'))
        self.data = np.ascontiguousarray(np.transpose(loaded["X"], (3, 2, 0, 1)))  # H x W x C x N -> N x C x H x W
        self.labels = loaded["y"].astype(np.int64).reshape(-1)
        # the files label the digit 0 as 10
        self.labels[self.labels == 10] = 0

    def __getitem__(self, index):
        """Returns ``(image, target)``: a PIL image (mode 'RGB') and the digit."""
        from PIL import Image
        img, target = self.data[index], int(self.labels[index])
        img = Image.fromarray(np.transpose(img, (1, 2, 0)))
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return len(self.data)

    def _check_integrity(self):
        return check_integrity(os.path.join(self.root, self.filename), self.file_md5)

    def download(self):
        """Downloads the split's .mat file unless a verified copy is already there."""
        download_url(self.url, self.root, self.filename, self.file_md5, mirrors=self.mirrors.get(self.split))

    def extra_repr(self):
        return "Split: {split}".format(**self.__dict__)
