"""MNIST and its look-alikes (FashionMNIST, KMNIST, EMNIST), read from the IDX ubyte files.

Files live in ``root/<ClassName>/raw`` as torchvision keeps them; ``data`` is a uint8 tensor
N x 28 x 28 and ``targets`` an int64 tensor N.
"""
import os
import shutil
import string

import numpy as np

import ember
from ember.vision.datasets.utils import (check_integrity, default_cache_dir, download_and_extract_archive,
                                         download_url, extract_archive, verify_str_arg)
from ember.vision.datasets.vision import VisionDataset

# IDX type codes (third byte of the magic number) -> big-endian numpy dtypes
_IDX_DTYPES = {8: '>u1', 9: '>i1', 11: '>i2', 12: '>i4', 13: '>f4', 14: '>f8'}


def read_sn3_pascalvincent_array(path, strict=True):
    """Reads an IDX file (the format of MNIST's ubyte files) into a native-endian numpy array."""
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise RuntimeError(f"'{path}' is not an IDX file (bad magic number {data[:4]!r})")
    ndim = data[3]
    dims = np.frombuffer(data, dtype='>i4', count=ndim, offset=4)
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    offset = 4 + 4 * ndim
    count = int(np.prod(dims)) if ndim else 1
    if strict and len(data) - offset != count * dtype.itemsize:
        raise RuntimeError(f"'{path}' holds {len(data) - offset} bytes of data; its header "
                           f"{tuple(int(d) for d in dims)} asks for {count * dtype.itemsize}")
    array = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
    return array.astype(dtype.newbyteorder('='), copy=True).reshape(tuple(int(d) for d in dims))


def read_sn3_pascalvincent_tensor(path, strict=True):
    """Reads an IDX file into a tensor."""
    return ember.from_numpy(read_sn3_pascalvincent_array(path, strict))


def read_label_file(path):
    """Reads an IDX label file: uint8, one dimension; returns int64 labels."""
    x = read_sn3_pascalvincent_array(path, strict=False)
    if x.dtype != np.uint8 or x.ndim != 1:
        raise RuntimeError(f"'{path}': expected a 1-d uint8 label file, got {x.ndim}-d {x.dtype}")
    return ember.from_numpy(x.astype(np.int64))


def read_image_file(path):
    """Reads an IDX image file: uint8, three dimensions (N, H, W)."""
    x = read_sn3_pascalvincent_array(path, strict=False)
    if x.dtype != np.uint8 or x.ndim != 3:
        raise RuntimeError(f"'{path}': expected a 3-d uint8 image file, got {x.ndim}-d {x.dtype}")
    return ember.from_numpy(x)


class MNIST(VisionDataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28 grayscale.

    Args:
        root: the folder that holds (or will hold) ``MNIST/raw/train-images-idx3-ubyte`` and the
            other files; ``None`` means ember's cache folder.
        train: the training set if True, else the test set.
        transform: applied to each PIL image (mode 'L').
        target_transform: applied to each label.
        download: fetch the files (from each mirror in turn) if they are not in ``root``.
    """

    mirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]

    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]

    training_file = "training.pt"
    test_file = "test.pt"
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root=None, train=True, transform=None, target_transform=None, download=False):
        super().__init__(default_cache_dir() if root is None else root,
                         transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        if not self._check_exists():
            raise RuntimeError("Dataset not found. You can use download=True to download it")
        self.data, self.targets = self._load_data()

    @property
    def train_labels(self):
        return self.targets

    @property
    def test_labels(self):
        return self.targets

    @property
    def train_data(self):
        return self.data

    @property
    def test_data(self):
        return self.data

    @property
    def raw_folder(self):
        return os.path.join(self.root, self.__class__.__name__, "raw")

    @property
    def processed_folder(self):
        return os.path.join(self.root, self.__class__.__name__, "processed")

    @property
    def class_to_idx(self):
        return {name: i for i, name in enumerate(self.classes)}

    def _load_data(self):
        prefix = 'train' if self.train else 't10k'
        data = read_image_file(os.path.join(self.raw_folder, f"{prefix}-images-idx3-ubyte"))
        targets = read_label_file(os.path.join(self.raw_folder, f"{prefix}-labels-idx1-ubyte"))
        return data, targets

    def _check_exists(self):
        return all(check_integrity(os.path.join(self.raw_folder, os.path.splitext(name)[0]))
                   for name, _ in self.resources)

    def download(self):
        """Downloads the files (each from the first mirror that works) unless they are already there."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        for filename, md5 in self.resources:
            urls = [f"{mirror}{filename}" for mirror in self.mirrors]
            download_url(urls[0], self.raw_folder, filename, md5, mirrors=urls[1:])
            extract_archive(os.path.join(self.raw_folder, filename), self.raw_folder)

    def __getitem__(self, index):
        """Returns ``(image, target)``: a PIL image (mode 'L') and the class index."""
        from PIL import Image
        img, target = self.data[index], int(self.targets[index])
        img = Image.fromarray(img.numpy())
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return len(self.data)

    def extra_repr(self):
        return f"Split: {'Train' if self.train is True else 'Test'}"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 28x28 grayscale images of 10 kinds of clothing (MNIST's layout)."""

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]

    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]


class KMNIST(MNIST):
    """Kuzushiji-MNIST: 28x28 grayscale images of 10 cursive Japanese characters (MNIST's layout)."""

    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]

    resources = [
        ("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
        ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
        ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
        ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
    ]
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]


class EMNIST(MNIST):
    """Extended MNIST: handwritten letters and digits in six splits.

    Args:
        root: as for MNIST (files in ``root/EMNIST/raw``).
        split: one of ``byclass``, ``bymerge``, ``balanced``, ``letters``, ``digits``, ``mnist``.
        **kwargs: ``train``, ``transform``, ``target_transform``, ``download`` as for MNIST.

    The images are kept as the files store them (transposed), as torchvision does.
    """

    url = "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"
    mirrors = ["https://www.itl.nist.gov/iaui/vip/cs_links/EMNIST/gzip.zip"]
    md5 = "58c8d27c78d21e728a6bc7b3cc06412e"
    splits = ("byclass", "bymerge", "balanced", "letters", "digits", "mnist")
    # merged classes: letters whose upper and lower case look alike
    _merged_classes = {"c", "i", "j", "k", "l", "m", "o", "p", "s", "u", "v", "w", "x", "y", "z"}
    _all_classes = set(string.digits + string.ascii_letters)
    classes_split_dict = {
        "byclass": sorted(_all_classes),
        "bymerge": sorted(_all_classes - _merged_classes),
        "balanced": sorted(_all_classes - _merged_classes),
        "letters": ["N/A"] + list(string.ascii_lowercase),
        "digits": list(string.digits),
        "mnist": list(string.digits),
    }

    def __init__(self, root=None, split='mnist', **kwargs):
        self.split = verify_str_arg(split, "split", self.splits)
        self.training_file = f"training_{split}.pt"
        self.test_file = f"test_{split}.pt"
        super().__init__(root, **kwargs)
        self.classes = self.classes_split_dict[self.split]

    @property
    def _file_prefix(self):
        return f"emnist-{self.split}-{'train' if self.train else 'test'}"

    @property
    def images_file(self):
        return os.path.join(self.raw_folder, f"{self._file_prefix}-images-idx3-ubyte")

    @property
    def labels_file(self):
        return os.path.join(self.raw_folder, f"{self._file_prefix}-labels-idx1-ubyte")

    def _load_data(self):
        return read_image_file(self.images_file), read_label_file(self.labels_file)

    def _check_exists(self):
        return all(check_integrity(f) for f in (self.images_file, self.labels_file))

    def download(self):
        """Downloads the zip of all splits and unpacks its .gz files into the raw folder."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        download_and_extract_archive(self.url, download_root=self.raw_folder, md5=self.md5, mirrors=self.mirrors)
        gzip_folder = os.path.join(self.raw_folder, "gzip")
        for name in sorted(os.listdir(gzip_folder)):
            if name.endswith(".gz"):
                extract_archive(os.path.join(gzip_folder, name), self.raw_folder)
        shutil.rmtree(gzip_folder)

    def extra_repr(self):
        return f"Split: {'Train' if self.train is True else 'Test'}"
