"""Tensor printing (placeholder until the full PyTorch-identical formatter lands)."""
import numpy as np


def tensor_repr(t):
    body = np.array2string(np.asarray(t._data), separator=', ')
    return f'tensor({body})'
