"""The CPU backend: NumPy arrays."""
import numpy as np
from numpy.lib.stride_tricks import as_strided


class NumpyBackend:
    """Kernels and array namespace for ``cpu`` tensors."""

    name = 'cpu'
    xp = np

    def asarray(self, data, dtype=None):
        return np.asarray(data, dtype=dtype)

    def to_numpy(self, array):
        return array

    def from_numpy(self, array):
        return array

    def as_strided(self, array, shape, strides_bytes):
        return as_strided(array, shape, strides_bytes)

    def data_ptr(self, array):
        return array.__array_interface__['data'][0]

    def scatter_add(self, target, index, values):
        """``target[index] += values`` with repeated indices accumulated, along the first axis."""
        if target.ndim == 1 and target.dtype.kind == 'f' and values.dtype == target.dtype:
            target += np.bincount(index, weights=values, minlength=target.shape[0]).astype(target.dtype, copy=False)
        else:
            np.add.at(target, index, values)
        return target
