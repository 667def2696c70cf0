"""Optimizer benchmarks: one step over 10M float32 parameters, and over many small parameters.

Run: ``python benchmarks/bench_optim.py`` (needs torch for the reference column; TORCH_THREADS sets its threads).
The NumPy column is Adam written by hand with in-place ops: the floor for a NumPy framework.
"""
import math
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


def _arrays(count, size):
    rng = np.random.default_rng(0)
    return [rng.standard_normal(size, dtype=np.float32) for _ in range(count)]


def _stepper(lib, name, count, size, **kwargs):
    params = [lib.tensor(a, requires_grad=True) for a in _arrays(count, size)]
    for p, g in zip(params, _arrays(count, size)):
        p.grad = lib.tensor(g)
    opt = getattr(lib.optim, name)(params, **kwargs)
    return opt.step


def adam_big(lib):
    return _stepper(lib, 'Adam', 10, 1_000_000, lr=1e-3)


def adam_big_numpy():
    params, grads = _arrays(10, 1_000_000), _arrays(10, 1_000_000)
    exp_avgs = [np.zeros_like(p) for p in params]
    exp_avg_sqs = [np.zeros_like(p) for p in params]
    beta1, beta2, lr, eps = 0.9, 0.999, 1e-3, 1e-8
    step = [0]

    def run():
        step[0] += 1
        t = step[0]
        tmp = np.empty_like(params[0])
        for p, g, m, v in zip(params, grads, exp_avgs, exp_avg_sqs):
            np.subtract(g, m, out=tmp)
            tmp *= 1 - beta1
            m += tmp
            v *= beta2
            np.multiply(g, g, out=tmp)
            tmp *= 1 - beta2
            v += tmp
            np.sqrt(v, out=tmp)
            tmp /= math.sqrt(1 - beta2 ** t)
            tmp += eps
            np.divide(m, tmp, out=tmp)
            tmp *= lr / (1 - beta1 ** t)
            p -= tmp
    return run


def adam_small(lib):
    return _stepper(lib, 'Adam', 200, 64, lr=1e-3)


def sgd_momentum_big(lib):
    return _stepper(lib, 'SGD', 10, 1_000_000, lr=1e-3, momentum=0.9)


WORKLOADS = [
    ('Adam step, 10 x 1M float32', adam_big, adam_big_numpy),
    ('Adam step, 200 x 64 float32', adam_small, None),
    ('SGD momentum step, 10 x 1M float32', sgd_momentum_big, None),
]


def main(selected=None):
    run_workloads(WORKLOADS, {'ember': ember, 'torch': torch}, selected)


if __name__ == '__main__':
    main(sys.argv[1:])
