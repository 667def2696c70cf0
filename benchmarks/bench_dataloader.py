"""DataLoader benchmark: one epoch over 60,000 MNIST-sized samples at batch 64, ember vs torch.

Workloads: a TensorDataset (ember fetches a batch with one gather through ``__getitems__``) and a
map-style Dataset returning ``(tensor, int)`` like torchvision's MNIST, each with num_workers=0 and 2
(workers are started for each epoch, as without persistent_workers).  Each side runs a few epochs,
alternating; the table shows the median epoch.

Run: ``python benchmarks/bench_dataloader.py [rounds]`` (needs torch for the reference column).
"""
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runner import print_table  # noqa: E402

import ember  # noqa: E402

try:
    import torch
    torch.set_num_threads(int(os.environ.get('TORCH_THREADS', '2')))
except ImportError:
    torch = None

N, BATCH = 60_000, 64


def make_mnist_like(lib):
    class MNISTLike(lib.utils.data.Dataset):
        def __init__(self, data, targets):
            self.data, self.targets = data, targets

        def __len__(self):
            return len(self.data)

        def __getitem__(self, index):
            return self.data[index], int(self.targets[index])
    return MNISTLike


def epoch(lib, kind, workers):
    rng = np.random.default_rng(0)
    x = lib.from_numpy(rng.standard_normal((N, 28, 28), dtype=np.float32))
    y = lib.from_numpy(rng.integers(0, 10, N))
    dataset = lib.utils.data.TensorDataset(x, y) if kind == 'TensorDataset' else make_mnist_like(lib)(x, y)
    loader = lib.utils.data.DataLoader(dataset, batch_size=BATCH, shuffle=True, num_workers=workers)

    def run():
        total = 0
        for xb, yb in loader:
            total += len(yb)
        assert total == N
    return run


def main(rounds=3):
    rows = []
    for kind in ('TensorDataset', 'Dataset -> (tensor, int)'):
        for workers in (0, 2):
            sides = {'ember': epoch(ember, kind, workers)}
            if torch is not None:
                sides['torch'] = epoch(torch, kind, workers)
            times = {name: [] for name in sides}
            for _ in range(rounds):
                for name, run in sides.items():
                    start = time.perf_counter()
                    run()
                    times[name].append(time.perf_counter() - start)
            rows.append((f'epoch 60k x 28x28, batch 64, {kind}, workers={workers}',
                         {name: statistics.median(t) for name, t in times.items()}))
    print_table(rows)


if __name__ == '__main__':
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
