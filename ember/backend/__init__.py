"""Backends: one module per array library.

A backend owns the arrays of one device type.  ``get(device)`` returns it;
ops receive its array namespace (``backend.xp``) and never import numpy or
cupy for computation themselves.  A CuPy backend registers itself under
``"cuda"`` when cupy imports; nothing above this layer changes.
"""
from ember.backend._numpy import NumpyBackend

_BACKENDS = {}


def register(device_type, backend):
    """Makes ``backend`` serve tensors on devices of ``device_type``."""
    _BACKENDS[device_type] = backend


def get(device):
    """The backend for ``device`` (an ``ember.device``)."""
    try:
        return _BACKENDS[device.type]
    except KeyError:
        if device.type == 'cuda':
            raise RuntimeError("Torch not compiled with CUDA enabled (ember needs cupy for cuda tensors)") from None
        raise RuntimeError(f"no backend for device type '{device.type}'") from None


cpu = NumpyBackend()
register('cpu', cpu)


def of_array(array):
    """The backend that owns ``array``."""
    if type(array).__module__ == 'numpy' or isinstance(array, cpu.xp.generic):
        return cpu
    for backend in _BACKENDS.values():
        if backend.owns(array):
            return backend
    return cpu
