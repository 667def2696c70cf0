"""A small Transformer encoder classifies the bundled 8x8 digits, reading each image as a sequence of 8 rows.

Every row (8 pixels) is a token: a linear embedding plus a learned position
embedding, two ``nn.TransformerEncoderLayer``s, mean pooling over the rows and a
linear classifier.  Runs offline in well under a minute; written as one would
with PyTorch, only the import differs.

    python examples/transformer_classifier.py [--epochs 15] [--d-model 64]
"""
import argparse
import time

import numpy as np

import ember as torch
import ember.nn as nn
from ember.vision.datasets import Digits


class RowTransformer(nn.Module):
    def __init__(self, d_model=64, nhead=4, layers=2, num_classes=10, rows=8, row_size=8):
        super().__init__()
        self.embed = nn.Linear(row_size, d_model)
        self.pos = nn.Parameter(torch.zeros(1, rows, d_model))
        nn.init.normal_(self.pos, std=0.02)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=2 * d_model, dropout=0.1,
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(d_model), enable_nested_tensor=False)
        self.head = nn.Linear(d_model, num_classes)

    def forward(self, x):                 # x: (N, 8 rows, 8 pixels)
        h = self.encoder(self.embed(x) + self.pos)
        return self.head(h.mean(dim=1))


def arrays(train):
    ds = Digits(train=train)
    x = torch.tensor(np.asarray(ds.data, dtype=np.float32).reshape(-1, 8, 8) / 16.0)
    y = torch.tensor(np.asarray(ds.targets, dtype=np.int64))
    return x, y


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--epochs', type=int, default=15)
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--d-model', type=int, default=64)
    parser.add_argument('--lr', type=float, default=2e-3)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    x_train, y_train = arrays(True)
    x_test, y_test = arrays(False)
    model = RowTransformer(args.d_model)
    print(f"{sum(p.numel() for p in model.parameters()):,} parameters; "
          f"{len(y_train)} training and {len(y_test)} test images")
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-2)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    loss_fn = nn.CrossEntropyLoss()
    start = time.time()
    for epoch in range(1, args.epochs + 1):
        model.train()
        perm = torch.randperm(len(y_train))
        total = 0.0
        for i in range(0, len(y_train), args.batch_size):
            idx = perm[i:i + args.batch_size]
            loss = loss_fn(model(x_train[idx]), y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        sched.step()
        model.eval()
        with torch.no_grad():
            acc = (model(x_test).argmax(1) == y_test).float().mean().item()
        print(f"epoch {epoch:2d}  loss {total / len(y_train):.4f}  test accuracy {acc:.3f}  "
              f"({time.time() - start:.1f}s)")


if __name__ == '__main__':
    main()
