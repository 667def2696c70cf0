"""Sequence-model benchmarks: one Adam training step of a 2-layer LSTM and of a TransformerEncoderLayer.

Run: ``python benchmarks/bench_sequence.py [name-filter ...]`` (needs torch for the reference column;
TORCH_THREADS sets its threads, default 2).  Both sides build the same model from the same weights and
run forward, backward and ``Adam.step`` on the same batch.
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


def _same_weights(lib, model, seed=0):
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.uniform(-0.08, 0.08, tuple(p.shape)).astype(np.float32)))
    return model


def _train_step(lib, model, inputs, loss_fn):
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(*inputs))
        loss.backward()
        opt.step()
    return step


def lstm_step(lib):
    """2-layer LSTM, input 128, hidden 256, sequence 35, batch 32, loss = mean of the outputs squared."""
    model = _same_weights(lib, lib.nn.LSTM(128, 256, num_layers=2))
    x = lib.tensor(np.random.default_rng(1).standard_normal((35, 32, 128)).astype(np.float32))
    return _train_step(lib, model, (x,), lambda out: out[0].pow(2).mean())


def transformer_step(lib):
    """TransformerEncoderLayer(d_model 256, 4 heads), sequence 128, batch 16, dropout 0.1 (training mode)."""
    model = _same_weights(lib, lib.nn.TransformerEncoderLayer(256, 4, dim_feedforward=1024, batch_first=True))
    x = lib.tensor(np.random.default_rng(1).standard_normal((16, 128, 256)).astype(np.float32))
    return _train_step(lib, model, (x,), lambda out: out.pow(2).mean())


WORKLOADS = [
    ('LSTM 2x256, seq 35, batch 32: Adam step', lstm_step),
    ('TransformerEncoderLayer 256/4h, 16x128: Adam step', transformer_step),
]


def main(selected=None):
    run_workloads(WORKLOADS, {'ember': ember, 'torch': torch}, selected, rounds=5)


if __name__ == '__main__':
    main(sys.argv[1:])
