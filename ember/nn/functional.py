"""``ember.nn.functional``: every layer and loss as a function.

The functions live in ``ember/nn/_functional/`` by family (activations,
convolution and pooling, normalisation, losses, ...); each file lists its
public names in ``__all__`` and they are all re-exported here.
"""
import importlib
import pkgutil

from ember.nn import _functional

__all__ = []

for _info in sorted(pkgutil.iter_modules(_functional.__path__), key=lambda m: m.name):
    if _info.name.startswith('_'):
        continue
    _mod = importlib.import_module(f'ember.nn._functional.{_info.name}')
    for _name in getattr(_mod, '__all__', ()):
        globals()[_name] = getattr(_mod, _name)
        __all__.append(_name)
