"""A character-level LSTM language model, trained offline on Python's own documentation.

The corpus is built from what every Python installation ships: the docstrings of
a fixed list of standard-library modules and of their public functions and
classes.  The model (embedding, 2-layer LSTM, linear) learns to predict the next
character and prints samples as it learns.  Written as one would with PyTorch;
only the import differs.

    python examples/char_lstm.py                 # about a minute
    python examples/char_lstm.py --seconds 600 --hidden 256
"""
import argparse
import inspect
import importlib
import time

import numpy as np

import ember as torch
import ember.nn as nn
import ember.nn.functional as F

MODULES = ['collections', 'functools', 'itertools', 'textwrap', 'string', 'json', 'heapq', 'bisect',
           'fractions', 'random', 'statistics', 'contextlib', 'copy', 'pathlib', 'shutil', 'csv']


def build_corpus(modules=MODULES):
    """Docstrings of ``modules`` and their public members, in a fixed order."""
    parts = []
    for name in modules:
        mod = importlib.import_module(name)
        doc = inspect.getdoc(mod)
        if doc:
            parts.append(doc)
        for attr in sorted(getattr(mod, '__all__', None) or [a for a in dir(mod) if not a.startswith('_')]):
            obj = getattr(mod, attr, None)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and getattr(obj, '__module__', '') == name:
                d = inspect.getdoc(obj)
                if d and len(d) > 40:
                    parts.append(d)
    text = '\n\n'.join(parts)
    return ''.join(c for c in text if c.isprintable() or c == '\n')


class CharLSTM(nn.Module):
    def __init__(self, vocab, hidden=128, layers=2, dropout=0.1):
        super().__init__()
        self.embed = nn.Embedding(vocab, 64)
        self.lstm = nn.LSTM(64, hidden, num_layers=layers, batch_first=True, dropout=dropout)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        out, state = self.lstm(self.embed(x), state)
        return self.head(out), state


def sample(model, stoi, itos, prompt, length=200, temperature=0.8, rng=None):
    """Feeds ``prompt``, then draws ``length`` characters one at a time, carrying the LSTM state."""
    rng = rng or np.random.default_rng()
    model.eval()
    with torch.no_grad():
        x = torch.tensor([[stoi.get(c, 0) for c in prompt]])
        logits, state = model(x)
        out = []
        for _ in range(length):
            p = F.softmax(logits[0, -1] / temperature, dim=-1).numpy().astype(np.float64)
            idx = int(rng.choice(len(p), p=p / p.sum()))
            out.append(itos[idx])
            logits, state = model(torch.tensor([[idx]]), state)
    model.train()
    return prompt + ''.join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--seconds', type=float, default=50, help='training time budget')
    parser.add_argument('--hidden', type=int, default=128)
    parser.add_argument('--layers', type=int, default=2)
    parser.add_argument('--seq-len', type=int, default=64)
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--lr', type=float, default=3e-3)
    parser.add_argument('--sample-every', type=float, default=15, help='seconds between samples')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    text = build_corpus()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    itos = dict(enumerate(chars))
    data = np.array([stoi[c] for c in text], dtype=np.int64)
    split = int(len(data) * 0.95)
    train, valid = data[:split], data[split:]
    print(f"corpus: {len(text):,} characters from {len(MODULES)} standard-library modules, vocabulary {len(chars)}")

    model = CharLSTM(len(chars), args.hidden, args.layers)
    print(model)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()

    def batch(source):
        starts = rng.integers(0, len(source) - args.seq_len - 1, args.batch_size)
        idx = starts[:, None] + np.arange(args.seq_len + 1)[None, :]
        chunk = torch.tensor(source[idx])
        return chunk[:, :-1], chunk[:, 1:]

    start = last_sample = time.time()
    step = 0
    while time.time() - start < args.seconds:
        x, y = batch(train)
        logits, _ = model(x)
        loss = loss_fn(logits.reshape(-1, len(chars)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        if step % 20 == 0:
            print(f"step {step:5d}  {time.time() - start:6.1f}s  train loss {loss.item():.3f} "
                  f"(bits/char {loss.item() / np.log(2):.2f})")
        if time.time() - last_sample > args.sample_every:
            last_sample = time.time()
            print('--- sample ---\n' + sample(model, stoi, itos, 'Return the ', rng=rng) + '\n--------------')
    model.eval()
    with torch.no_grad():
        x, y = batch(valid)
        logits, _ = model(x)
        vloss = loss_fn(logits.reshape(-1, len(chars)), y.reshape(-1)).item()
    print(f"done: {step} steps, validation loss {vloss:.3f} (bits/char {vloss / np.log(2):.2f})")
    print('--- final sample ---\n' + sample(model, stoi, itos, 'Return the ', length=300, rng=rng))


if __name__ == '__main__':
    main()
