"""Layer classes; each module file holds one family and lists its classes in ``__all__``.

Every file in this folder is imported here and its ``__all__`` re-exported, so
adding a family means adding a file.
"""
import importlib
import pkgutil

from ember.nn.modules.module import Module  # noqa: F401
from ember.nn.modules.container import (ModuleDict, ModuleList, ParameterDict, ParameterList,  # noqa: F401
                                        Sequential)

__all__ = ['Module', 'Sequential', 'ModuleList', 'ModuleDict', 'ParameterList', 'ParameterDict']

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.name.startswith('_') or _info.name in ('module', 'container'):
        continue
    _mod = importlib.import_module(f'{__name__}.{_info.name}')
    for _name in getattr(_mod, '__all__', ()):
        globals()[_name] = getattr(_mod, _name)
        __all__.append(_name)
