"""The demo: a small CNN learns the handwritten digits that ship with ember (runs offline).

Written exactly as one would with PyTorch; only the import differs.
Prints per-epoch loss and test accuracy, and saves ``digits_loss.png`` when
matplotlib is installed.

    python examples/train_digits.py [--epochs 10] [--batch-size 32] [--workers 0]
"""
import argparse
import sys
import time

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
from ember.utils.data import DataLoader
from ember.vision.datasets import Digits


class DigitsNet(nn.Module):
    """conv-relu-conv-relu-pool-fc-fc for 1x8x8 inputs."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(32 * 4 * 4, 64)
        self.fc2 = nn.Linear(64, num_classes)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


def progress(done, total, loss, width=30):
    if not sys.stdout.isatty():
        return
    filled = int(width * done / total)
    sys.stdout.write(f"\r  [{'#' * filled}{'.' * (width - filled)}] {done}/{total} loss {loss:.4f}")
    sys.stdout.flush()


def evaluate(model, loader):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            pred = model(images).argmax(dim=1)
            correct += (pred == labels).sum().item()
            total += labels.numel()
    return correct / total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--epochs', type=int, default=10)
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--lr', type=float, default=2e-3)
    parser.add_argument('--workers', type=int, default=0)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--plot', default='digits_loss.png')
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    train_set, test_set = Digits(train=True), Digits(train=False)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, num_workers=args.workers)
    test_loader = DataLoader(test_set, batch_size=256)
    model = DigitsNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    print(f'Digits: {len(train_set)} train / {len(test_set)} test images; '
          f'{sum(p.numel() for p in model.parameters())} parameters')

    losses = []
    start = time.perf_counter()
    accuracy = 0.0
    for epoch in range(1, args.epochs + 1):
        model.train()
        running, seen = 0.0, 0
        for step, (images, labels) in enumerate(train_loader, 1):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
            running += loss.item() * labels.numel()
            seen += labels.numel()
            losses.append(loss.item())
            progress(step, len(train_loader), running / seen)
        accuracy = evaluate(model, test_loader)
        print(f"\repoch {epoch}: train loss {running / seen:.4f}  test accuracy {accuracy:.2%}"
              f"  ({time.perf_counter() - start:.1f}s)" + ' ' * 20)

    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        print('(install matplotlib to get a loss-curve plot)')
    else:
        plt.figure(figsize=(6, 3.5))
        plt.plot(losses, linewidth=0.8)
        plt.xlabel('step')
        plt.ylabel('cross-entropy loss')
        plt.title('ember: CNN on the bundled digits')
        plt.tight_layout()
        plt.savefig(args.plot, dpi=120)
        print(f'loss curve written to {args.plot}')
    return accuracy


if __name__ == '__main__':
    main()
