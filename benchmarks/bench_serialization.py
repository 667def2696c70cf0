"""Checkpoint benchmarks: save and load of a ~100 MB state_dict (25 x 1M float32), ember vs torch.

Run: ``python benchmarks/bench_serialization.py``.  Files go to a temporary directory.
ember's save also fsyncs (atomic write); torch's does not.
"""
import os
import sys
import tempfile
from collections import OrderedDict

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runner import compare, print_table  # noqa: E402

import ember  # noqa: E402

try:
    import torch
except ImportError:
    torch = None


def _state(lib):
    rng = np.random.default_rng(0)
    return OrderedDict((f'layer{i}.weight', lib.tensor(rng.standard_normal(1_000_000).astype(np.float32)))
                       for i in range(25))


def main():
    tmp = tempfile.mkdtemp()
    rows = []
    sides_save, sides_load = {}, {}
    libs = [('ember', ember)] + ([('torch', torch)] if torch is not None else [])
    for name, lib in libs:
        state = _state(lib)
        path = os.path.join(tmp, f'{name}.pt')
        sides_save[name] = (lambda lib=lib, state=state, path=path: lib.save(state, path))
        sides_save[name]()
        sides_load[name] = (lambda lib=lib, path=path: lib.load(path))
    rows.append(('save 100 MB state_dict', compare(sides_save, rounds=5)))
    rows.append(('load 100 MB state_dict', compare(sides_load, rounds=5)))
    print_table(rows)
    for f in os.listdir(tmp):
        os.remove(os.path.join(tmp, f))
    os.rmdir(tmp)


if __name__ == '__main__':
    main()
