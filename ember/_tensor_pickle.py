"""Plain ``pickle`` / ``copy`` support for tensors: a tensor pickles as its values, dtype and ``requires_grad``.

(``ember.save`` does not come here: it writes PyTorch's checkpoint format, see ``ember.serialization``.)
"""
import numpy as np

from ember import _dtype
from ember import backend as _backend


def reduce_tensor(t):
    """``__reduce_ex__`` of a Tensor: rebuild from a contiguous copy of its bytes."""
    host = np.array(_backend.get(t._device).to_numpy(t._data), order="C", copy=None)
    return _rebuild_from_bytes, (host.tobytes(), t._dtype.name, tuple(host.shape), t._requires_grad, str(t._device))


def _rebuild_from_bytes(data, dtype_name, shape, requires_grad, device='cpu'):
    from ember._tensor import Tensor
    d = _dtype._BY_NAME[dtype_name]
    array = np.frombuffer(bytearray(data), dtype=d.np).reshape(shape)
    t = Tensor._make(array)
    if device != 'cpu':
        t = t.to(device)
    if requires_grad:
        t.requires_grad_(True)
    return t
