"""Engine benchmarks (issue: the engine): per-op overhead, large elementwise, matmul, sum, softmax.

Run: ``python benchmarks/bench_engine.py`` (needs torch for the reference column).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runner import run_workloads  # noqa: E402

import ember  # noqa: E402

try:
    import torch
    torch.set_num_threads(int(os.environ.get('TORCH_THREADS', '2')))
except ImportError:
    torch = None


def small_chain(lib):
    """100 small elementwise ops on (16,) tensors, then backward: the fixed cost per op."""
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal(16).astype(np.float32)

    def run():
        x = lib.tensor(x0, requires_grad=True)
        y = x
        for _ in range(25):
            y = y * 1.01
            y = y + x
            y = y.sigmoid()
            y = y - 0.5
        y.sum().backward()
    return run


def small_chain_numpy():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(16).astype(np.float32)

    def run():
        # forward then the hand-written backward of the same chain
        ys = []
        y = x
        for _ in range(25):
            a = y * np.float32(1.01)
            b = a + x
            s = 1 / (1 + np.exp(-b))
            ys.append(s)
            y = s - np.float32(0.5)
        g = np.ones_like(x)
        gx = np.zeros_like(x)
        for s in reversed(ys):
            g = g * s * (1 - s)
            gx += g
            g = g * np.float32(1.01)
        return gx + g
    return run


def big_elementwise(lib, n=10_000_000):
    rng = np.random.default_rng(0)
    a0 = rng.standard_normal(n).astype(np.float32)
    b0 = rng.standard_normal(n).astype(np.float32)
    a, b = lib.tensor(a0), lib.tensor(b0)

    def run():
        return ((a * b + a) * 0.5 - b).abs()
    return run


def big_elementwise_numpy(n=10_000_000):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(n).astype(np.float32)
    b = rng.standard_normal(n).astype(np.float32)

    def run():
        return np.abs((a * b + a) * np.float32(0.5) - b)
    return run


def matmul(lib, n=1024):
    rng = np.random.default_rng(0)
    a = lib.tensor(rng.standard_normal((n, n)).astype(np.float32), requires_grad=True)
    b = lib.tensor(rng.standard_normal((n, n)).astype(np.float32), requires_grad=True)
    g = lib.tensor(rng.standard_normal((n, n)).astype(np.float32))

    def run():
        a.grad = b.grad = None
        (a @ b).backward(g)
    return run


def matmul_numpy(n=1024):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(np.float32)
    b = rng.standard_normal((n, n)).astype(np.float32)
    g = rng.standard_normal((n, n)).astype(np.float32)

    def run():
        a @ b
        g @ b.T
        a.T @ g
    return run


def big_sum(lib):
    x = lib.tensor(np.random.default_rng(0).standard_normal((4096, 4096)).astype(np.float32))

    def run():
        return x.sum(), x.sum(1)
    return run


def big_sum_numpy():
    x = np.random.default_rng(0).standard_normal((4096, 4096)).astype(np.float32)

    def run():
        return x.sum(), x.sum(1)
    return run


def softmax(lib):
    x = lib.tensor(np.random.default_rng(0).standard_normal((4096, 1024)).astype(np.float32))

    def run():
        return lib.softmax(x, dim=-1)
    return run


def softmax_numpy():
    x = np.random.default_rng(0).standard_normal((4096, 1024)).astype(np.float32)

    def run():
        e = np.exp(x - x.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)
    return run


def getitem_int(lib):
    """``int(t[i])`` over a 1-D int64 tensor, as a map-style dataset's ``__getitem__`` does."""
    t = lib.tensor(np.arange(1000, dtype=np.int64))

    def run():
        for i in range(0, 1000, 10):
            int(t[i])
    return run


def erf_f32(lib):
    x = lib.tensor(np.random.default_rng(0).standard_normal(1_000_000).astype(np.float32))

    def run():
        return lib.erf(x)
    return run


WORKLOADS = [
    ('per-op overhead: 100 small ops + backward', small_chain, small_chain_numpy),
    ('elementwise chain, 10M float32', big_elementwise, big_elementwise_numpy),
    ('matmul 1024x1024 forward+backward', matmul, matmul_numpy),
    ('sum 4096x4096 (all and dim=1)', big_sum, big_sum_numpy),
    ('softmax 4096x1024 dim=-1', softmax, softmax_numpy),
    ('int(t[i]) x100 (dataset lookups)', getitem_int, None),
    ('erf 1M float32', erf_f32, None),
]


def main(selected=None):
    run_workloads(WORKLOADS, {'ember': ember, 'torch': torch}, selected)


if __name__ == '__main__':
    main(sys.argv[1:])
