"""Transfer learning: a ResNet-18 backbone, frozen, with a new classifier head fine-tuned on a small image folder.

Written as one would with PyTorch and torchvision; only the imports differ.  Runs offline: it draws a
small three-class image folder (red discs, green squares, blue triangles on grey backgrounds) into a
temporary directory and reads it back with ``ImageFolder``.

The backbone weights come from a state-dict file.  Pass torchvision's published ImageNet file
(``resnet18-f37072fd.pth``, from https://download.pytorch.org/models/) with ``--weights`` to start
from real pretrained features; without it the example saves a freshly initialised ResNet-18 to
``resnet18_init.pth`` in the temporary directory and loads that (random features separate these
colours well enough for a demo, not for real data).

    python examples/transfer_learning.py [--weights resnet18-f37072fd.pth] [--epochs 6] [--per-class 24]
"""
import argparse
import os
import tempfile
import time

import numpy as np

import ember as torch
import ember.nn as nn
from ember.utils.data import DataLoader
from ember.vision import datasets, models, transforms

CLASSES = ('disc', 'square', 'triangle')
COLOURS = {'disc': (220, 40, 40), 'square': (40, 200, 60), 'triangle': (50, 80, 230)}


def draw(kind, size, rng):
    """One RGB image: a jittered shape of its class colour on a grey background."""
    from PIL import Image, ImageDraw
    grey = int(rng.integers(70, 180))
    background = np.clip(grey + rng.integers(-12, 13, (size, size, 3)), 0, 255).astype(np.uint8)
    img = Image.fromarray(background)
    pen = ImageDraw.Draw(img)
    colour = tuple(int(np.clip(c + rng.integers(-30, 31), 0, 255)) for c in COLOURS[kind])
    r = int(rng.integers(size // 4, size // 3))
    cx, cy = (int(v) for v in rng.integers(r, size - r, 2))
    if kind == 'disc':
        pen.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
    elif kind == 'square':
        pen.rectangle([cx - r, cy - r, cx + r, cy + r], fill=colour)
    else:
        pen.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=colour)
    return img


def make_image_folder(root, per_class, size=64, seed=0):
    """Writes ``root/<class>/<i>.png`` for each class and returns ``root``."""
    rng = np.random.default_rng(seed)
    for kind in CLASSES:
        os.makedirs(os.path.join(root, kind), exist_ok=True)
        for i in range(per_class):
            draw(kind, size, rng).save(os.path.join(root, kind, f'{i:03d}.png'))
    return root


def evaluate(model, loader):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            correct += (model(images).argmax(dim=1) == labels).sum().item()
            total += labels.numel()
    return correct / total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--weights', help='a ResNet-18 state-dict file (e.g. torchvision\'s resnet18-f37072fd.pth)')
    parser.add_argument('--epochs', type=int, default=6)
    parser.add_argument('--per-class', type=int, default=24, help='training images per class')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--lr', type=float, default=3e-3)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    start = time.time()

    with tempfile.TemporaryDirectory() as tmp:
        train_root = make_image_folder(os.path.join(tmp, 'train'), args.per_class, seed=0)
        val_root = make_image_folder(os.path.join(tmp, 'val'), max(args.per_class // 2, 4), seed=1)
        preprocess = transforms.Compose([
            transforms.Resize((64, 64)),
            transforms.ToTensor(),
            transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
        ])
        train_set = datasets.ImageFolder(train_root, transform=preprocess)
        val_set = datasets.ImageFolder(val_root, transform=preprocess)
        train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
        val_loader = DataLoader(val_set, batch_size=64)
        print(f'classes {train_set.classes}: {len(train_set)} training and {len(val_set)} validation images')

        weights = args.weights
        if weights is None:
            weights = os.path.join(tmp, 'resnet18_init.pth')
            torch.save(models.resnet18().state_dict(), weights)
            print(f'no --weights given: saved a freshly initialised ResNet-18 to {os.path.basename(weights)}')
        model = models.resnet18(weights=weights)          # 1000-class head, as published
        print(f'loaded ResNet-18 weights from {weights}')

        # freeze the backbone, then replace the head: only the new fc learns
        for p in model.parameters():
            p.requires_grad = False
        model.fc = nn.Linear(model.fc.in_features, len(train_set.classes))
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        print(f'trainable parameters: {trainable} (of {sum(p.numel() for p in model.parameters())})')

        criterion = nn.CrossEntropyLoss()
        optimizer = torch.optim.Adam(model.fc.parameters(), lr=args.lr)
        print(f'before fine-tuning: validation accuracy {evaluate(model, val_loader):.1%}')
        for epoch in range(1, args.epochs + 1):
            # a frozen backbone stays in eval mode: its BatchNorm layers keep their stored statistics
            # instead of re-estimating them from each small batch
            model.eval()
            total_loss = seen = 0
            for images, labels in train_loader:
                optimizer.zero_grad()
                loss = criterion(model(images), labels)
                loss.backward()
                optimizer.step()
                total_loss += loss.item() * labels.numel()
                seen += labels.numel()
            accuracy = evaluate(model, val_loader)
            print(f'epoch {epoch}: train loss {total_loss / seen:.4f}, validation accuracy {accuracy:.1%}')
    print(f'done in {time.time() - start:.1f}s')
    return accuracy


if __name__ == '__main__':
    main()
