"""Vision model benchmarks: ResNet-18 inference (batch 8, 3x224x224) and one SGD training step (batch 16).

Run: ``python benchmarks/bench_vision.py [filter ...]`` (needs torch for the reference column;
TORCH_THREADS sets its threads, default 2).  The torch side uses torchvision's resnet18 when
installed, else the same architecture written out below; both sides get the same weights.
Target: ember/torch <= 1.5x.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runner import compare, print_table  # noqa: E402

import ember  # noqa: E402
from ember.vision import models  # noqa: E402

try:
    import torch
    torch.set_num_threads(int(os.environ.get('TORCH_THREADS', '2')))
except ImportError:
    torch = None


def _torch_resnet18():
    try:
        import torchvision
        return torchvision.models.resnet18()
    except ImportError:
        pass
    tnn = torch.nn

    class Block(tnn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = tnn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(cout)
            self.relu = tnn.ReLU(inplace=True)
            self.conv2 = tnn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(cout)
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = tnn.Sequential(tnn.Conv2d(cin, cout, 1, stride, bias=False), tnn.BatchNorm2d(cout))

        def forward(self, x):
            out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
            out += x if self.downsample is None else self.downsample(x)
            return self.relu(out)

    class ResNet18(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = tnn.BatchNorm2d(64)
            self.relu = tnn.ReLU(inplace=True)
            self.maxpool = tnn.MaxPool2d(3, 2, 1)
            cin = 64
            for i, cout in enumerate((64, 128, 256, 512)):
                stride = 1 if i == 0 else 2
                setattr(self, f'layer{i + 1}', tnn.Sequential(Block(cin, cout, stride), Block(cout, cout, 1)))
                cin = cout
            self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
            self.fc = tnn.Linear(512, 1000)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return ResNet18()


_STATE = {}


def _resnet18(lib):
    """A ResNet-18 of ``lib``; both libraries get the same (ember-initialised) weights."""
    if 'state' not in _STATE:
        ember.manual_seed(0)
        _STATE['state'] = {k: v.detach().numpy().copy() for k, v in models.resnet18().state_dict().items()}
    state = _STATE['state']
    model = models.resnet18() if lib is ember else _torch_resnet18()
    model.load_state_dict({k: lib.tensor(v) for k, v in state.items()})
    return model


def _batch(lib, n):
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((n, 3, 224, 224), dtype=np.float32))
    y = lib.tensor(rng.integers(0, 1000, n))
    return x, y


def resnet18_inference(lib):
    model = _resnet18(lib).eval()
    x, _ = _batch(lib, 8)

    def run():
        with lib.no_grad():
            model(x)
    return run


def resnet18_train_step(lib):
    model = _resnet18(lib).train()
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = lib.nn.CrossEntropyLoss()
    x, y = _batch(lib, 16)

    def run():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return run


WORKLOADS = [
    ('ResNet-18 inference, batch 8, 224x224', resnet18_inference),
    ('ResNet-18 SGD train step, batch 16, 224x224', resnet18_train_step),
]


def main(selected=None, rounds=3):
    rows = []
    for name, make in WORKLOADS:
        if selected and not any(s in name for s in selected):
            continue
        sides = {'ember': make(ember)}
        if torch is not None:
            sides['torch'] = make(torch)
        # seconds per call: a few rounds are enough to see the ratio
        rows.append((name, compare(sides, rounds=rounds, warmup=1)))
    print_table(rows)


if __name__ == '__main__':
    main(sys.argv[1:])
