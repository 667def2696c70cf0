"""The classic CIFAR-10 CNN (conv-pool-conv-pool-fc-fc-fc) of the PyTorch tutorial, trained with ember.

Written exactly as one would with PyTorch and torchvision; only the imports differ.  Needs CIFAR-10
under ``--root`` (the ``cifar-10-batches-py`` folder of the python version), or ``--download`` to fetch
it (170 MB, checksum-verified).  Without either it says what to do and exits.

    python examples/cifar10_cnn.py --root ./data [--download] [--epochs 2] [--batch-size 4] [--limit N]
"""
import argparse
import sys
import time

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
import ember.optim as optim
from ember.utils.data import DataLoader, Subset
from ember.vision import datasets, transforms

CLASSES = ('plane', 'car', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck')


class Net(nn.Module):
    """conv(3->6, 5x5) - pool - conv(6->16, 5x5) - pool - fc 400->120 - fc 120->84 - fc 84->10."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def load_data(root, download, limit):
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
    try:
        train = datasets.CIFAR10(root=root, train=True, download=download, transform=transform)
        test = datasets.CIFAR10(root=root, train=False, download=download, transform=transform)
    except RuntimeError as exc:
        hint = ('the download failed (are you online?)' if download else
                're-run with --download to fetch it (170 MB), or point --root at a folder holding '
                'cifar-10-batches-py')
        print(f'CIFAR-10 is not available under {root!r}: {exc}\n{hint}.', file=sys.stderr)
        return None
    if limit:
        train, test = Subset(train, range(min(limit, len(train)))), Subset(test, range(min(limit, len(test))))
    return train, test


def evaluate(net, loader):
    correct = total = 0
    per_class = [[0, 0] for _ in CLASSES]
    net.eval()
    with torch.no_grad():
        for images, labels in loader:
            predicted = net(images).argmax(1)
            correct += (predicted == labels).sum().item()
            total += labels.size(0)
            for label, pred in zip(labels.tolist(), predicted.tolist()):
                per_class[label][0] += int(label == pred)
                per_class[label][1] += 1
    return correct / total, per_class


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--root', default='./data', help='folder holding (or to receive) cifar-10-batches-py')
    parser.add_argument('--download', action='store_true', help='download CIFAR-10 if it is not there')
    parser.add_argument('--epochs', type=int, default=2)
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--lr', type=float, default=0.001)
    parser.add_argument('--limit', type=int, default=0, help='use only the first N training and test images')
    parser.add_argument('--workers', type=int, default=0)
    args = parser.parse_args(argv)

    data = load_data(args.root, args.download, args.limit)
    if data is None:
        return 1
    train, test = data
    torch.manual_seed(0)
    train_loader = DataLoader(train, batch_size=args.batch_size, shuffle=True, num_workers=args.workers)
    test_loader = DataLoader(test, batch_size=256, num_workers=args.workers)

    net = Net()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=args.lr, momentum=0.9)
    start = time.time()
    for epoch in range(args.epochs):
        net.train()
        running = 0.0
        for i, (inputs, labels) in enumerate(train_loader, 1):
            optimizer.zero_grad()
            loss = criterion(net(inputs), labels)
            loss.backward()
            optimizer.step()
            running += loss.item()
            if i % 2000 == 0:
                print(f'[{epoch + 1}, {i:5d}] loss: {running / 2000:.3f}')
                running = 0.0
        accuracy, _ = evaluate(net, test_loader)
        print(f'epoch {epoch + 1}: test accuracy {accuracy:.1%} ({time.time() - start:.0f}s)')

    accuracy, per_class = evaluate(net, test_loader)
    print(f'Accuracy of the network on the {len(test)} test images: {accuracy:.1%}')
    for name, (right, count) in zip(CLASSES, per_class):
        if count:
            print(f'  {name:5s}: {right / count:.1%}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
