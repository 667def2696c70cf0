"""Convolution and pooling benchmarks: forward + backward of small conv layers, ember vs torch.

Run: ``python benchmarks/bench_conv.py`` (needs torch for the reference column; TORCH_THREADS sets its threads).
The NumPy column is the forward alone written by hand (im2col copy + one batched GEMM): the floor for the
forward pass of a NumPy framework.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runner import compare, print_table  # noqa: E402

import ember  # noqa: E402

try:
    import torch
    torch.set_num_threads(int(os.environ.get('TORCH_THREADS', '2')))
except ImportError:
    torch = None


def _input(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def lenet_conv_pool(lib):
    """conv2d(1 -> 6, 5x5) + max_pool2d(2) on 64x1x28x28, forward + backward (weights only)."""
    x = lib.tensor(_input((64, 1, 28, 28)))
    conv, pool = lib.nn.Conv2d(1, 6, 5), lib.nn.MaxPool2d(2)

    def step():
        pool(conv(x)).sum().backward()
    return step


def conv3_64(lib):
    """conv2d(3 -> 64, 3x3, padding 1) on 16x3x32x32, forward + backward (input and weights)."""
    x = lib.tensor(_input((16, 3, 32, 32)), requires_grad=True)
    conv = lib.nn.Conv2d(3, 64, 3, padding=1)

    def step():
        conv(x).sum().backward()
    return step


def conv128_8x8(lib):
    """conv2d(128 -> 128, 3x3, padding 1) on 32x128x8x8, forward + backward (GEMM-bound)."""
    x = lib.tensor(_input((32, 128, 8, 8)), requires_grad=True)
    conv = lib.nn.Conv2d(128, 128, 3, padding=1)

    def step():
        conv(x).sum().backward()
    return step


def _numpy_forward(shape, out_channels, k, padding):
    from numpy.lib.stride_tricks import as_strided
    x = _input(shape)
    w = _input((out_channels, shape[1], k, k), 1).reshape(out_channels, -1)

    def step():
        xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
        n, c, h, wd = xp.shape
        oh, ow = h - k + 1, wd - k + 1
        s = xp.strides
        cols = np.ascontiguousarray(as_strided(xp, (n, c, k, k, oh, ow), s + s[2:])).reshape(n, c * k * k, -1)
        return np.matmul(w, cols)
    return step


WORKLOADS = [
    ('lenet conv(1->6,5x5)+maxpool fwd+bwd', lenet_conv_pool, None),
    ('conv(3->64,3x3) 16x3x32x32 fwd+bwd', conv3_64, None),
    ('conv(3->64,3x3) forward only', lambda lib: _no_grad(lib, conv3_64),
     lambda: _numpy_forward((16, 3, 32, 32), 64, 3, 1)),
    ('conv(128->128,3x3) 32x128x8x8 fwd+bwd', conv128_8x8, None),
]


def _no_grad(lib, make):
    x = lib.tensor(_input((16, 3, 32, 32)))
    conv = lib.nn.Conv2d(3, 64, 3, padding=1)

    def step():
        with lib.no_grad():
            conv(x)
    return step


def main():
    rows = []
    for name, make, numpy_make in WORKLOADS:
        sides = {'ember': make(ember)}
        if torch is not None:
            sides['torch'] = make(torch)
        if numpy_make is not None:
            sides['numpy'] = numpy_make()
        rows.append((name, compare(sides)))
    print_table(rows)


if __name__ == '__main__':
    main()
