"""Training benchmarks (issue: training): MLP, LeNet-5 and CIFAR-10 CNN steps, ember vs torch.

Beside torch, the MLP step is also written by hand in plain NumPy: the floor for a NumPy framework.
Run: ``python benchmarks/bench_training.py [name-filter ...]``.
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


def _copy_params(src_model, dst_model, lib):
    for (_, ps), (_, pd) in zip(src_model.named_parameters(), dst_model.named_parameters()):
        with lib.no_grad():
            pd.copy_(lib.tensor(ps.detach().numpy()))


def mlp_step(lib, batch):
    nn = lib.nn
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = lib.optim.SGD(model.parameters(), lr=0.01)
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((batch, 784)).astype(np.float32))
    y = lib.tensor(rng.integers(0, 10, batch))

    def run():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    return run


def mlp_step_numpy(batch):
    rng = np.random.default_rng(0)
    w1 = (rng.standard_normal((128, 784)) * 0.03).astype(np.float32)
    b1 = np.zeros(128, np.float32)
    w2 = (rng.standard_normal((10, 128)) * 0.08).astype(np.float32)
    b2 = np.zeros(10, np.float32)
    x = rng.standard_normal((batch, 784)).astype(np.float32)
    y = rng.integers(0, 10, batch)
    lr = np.float32(0.01)

    def run():
        h = x @ w1.T
        h += b1
        a = np.maximum(h, 0)
        z = a @ w2.T
        z += b2
        z -= z.max(1, keepdims=True)
        e = np.exp(z)
        p = e / e.sum(1, keepdims=True)
        p[np.arange(batch), y] -= 1
        p /= batch
        gw2 = p.T @ a
        gb2 = p.sum(0)
        ga = p @ w2
        ga *= h > 0
        gw1 = ga.T @ x
        gb1 = ga.sum(0)
        for param, grad in ((w1, gw1), (b1, gb1), (w2, gw2), (b2, gb2)):
            grad *= lr
            param -= grad
    return run


class _LeNet:
    @staticmethod
    def build(lib):
        nn = lib.nn

        class LeNet5(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
                self.conv2 = nn.Conv2d(6, 16, 5)
                self.fc1 = nn.Linear(16 * 5 * 5, 120)
                self.fc2 = nn.Linear(120, 84)
                self.fc3 = nn.Linear(84, 10)

            def forward(self, x):
                F = nn.functional
                x = F.max_pool2d(F.relu(self.conv1(x)), 2)
                x = F.max_pool2d(F.relu(self.conv2(x)), 2)
                x = lib.flatten(x, 1)
                return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))
        return LeNet5()


class _CifarNet:
    @staticmethod
    def build(lib):
        nn = lib.nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(3, 6, 5)
                self.pool = nn.MaxPool2d(2, 2)
                self.conv2 = nn.Conv2d(6, 16, 5)
                self.fc1 = nn.Linear(16 * 5 * 5, 120)
                self.fc2 = nn.Linear(120, 84)
                self.fc3 = nn.Linear(84, 10)

            def forward(self, x):
                F = nn.functional
                x = self.pool(F.relu(self.conv1(x)))
                x = self.pool(F.relu(self.conv2(x)))
                x = lib.flatten(x, 1)
                return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))
        return Net()


def cnn_step(lib, net, shape, batch, momentum):
    model = net.build(lib)
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=momentum)
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((batch,) + shape).astype(np.float32))
    y = lib.tensor(rng.integers(0, 10, batch))

    def run():
        opt.zero_grad()
        loss = lib.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    return run


def adam_step(lib, n_tensors=10, size=1_000_000):
    rng = np.random.default_rng(0)
    params = [lib.tensor(rng.standard_normal(size).astype(np.float32), requires_grad=True) for _ in range(n_tensors)]
    for p in params:
        p.grad = lib.tensor(rng.standard_normal(size).astype(np.float32))
    opt = lib.optim.Adam(params, lr=1e-3)
    return opt.step


def loader_epoch(lib, workers, n=60_000):
    data = lib.utils.data
    rng = np.random.default_rng(0)
    ds = data.TensorDataset(lib.tensor(rng.standard_normal((n, 1, 28, 28)).astype(np.float32)),
                            lib.tensor(rng.integers(0, 10, n)))
    loader = data.DataLoader(ds, batch_size=64, shuffle=True, num_workers=workers,
                             persistent_workers=workers > 0)

    def run():
        for _ in loader:
            pass
    return run


WORKLOADS = [
    ('MLP 784-128-10 step, batch 64 (SGD)', lambda lib: mlp_step(lib, 64), lambda: mlp_step_numpy(64)),
    ('MLP 784-128-10 step, batch 1024 (SGD)', lambda lib: mlp_step(lib, 1024), lambda: mlp_step_numpy(1024)),
    ('LeNet-5 step, 1x28x28, batch 64 (SGD momentum)', lambda lib: cnn_step(lib, _LeNet, (1, 28, 28), 64, 0.9), None),
    ('CIFAR-10 CNN step, batch 100 (SGD momentum)', lambda lib: cnn_step(lib, _CifarNet, (3, 32, 32), 100, 0.9), None),
    ('Adam step, 10M parameters', adam_step, None),
    ('DataLoader epoch 60k 28x28, batch 64, 0 workers', lambda lib: loader_epoch(lib, 0), None),
    ('DataLoader epoch 60k 28x28, batch 64, 2 workers', lambda lib: loader_epoch(lib, 2), None),
]


def main(selected=None):
    run_workloads(WORKLOADS, {'ember': ember, 'torch': torch}, selected)


if __name__ == '__main__':
    main(sys.argv[1:])
