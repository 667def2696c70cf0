"""The op families.  Importing this package fills the op table and attaches Tensor methods.

Each family module lists in ``TENSOR_METHODS`` the public functions that are
also Tensor methods (``x.sum()`` is ``ember.sum(x)``).
"""
import importlib

from ember._tensor import Tensor
from ember.ops._registry import TABLE, ErrorSample, OpDef, Sample, composite, defop  # noqa: F401

FAMILIES = ['pointwise', 'reduction', 'shape', 'creation']
_OPTIONAL = ['pointwise_math', 'activation', 'comparison', 'shape_extra', 'shape_views', 'shape_copy', 'padding',
             'indexing', 'scatter_gather', 'index_ops', 'linalg', 'linalg_einsum', 'linalg_decomp', 'linalg_funcs',
             'sorting', 'random', 'conv', 'pool', 'norm', 'resample', 'reduction_stats',
             'reduction_cumulative', 'counting', 'rnn_kernels']


def _load():
    modules = []
    for name in FAMILIES + _OPTIONAL:
        try:
            modules.append(importlib.import_module(f'ember.ops.{name}'))
        except ModuleNotFoundError as e:
            if e.name != f'ember.ops.{name}':
                raise
    for module in modules:
        for method in getattr(module, 'TENSOR_METHODS', ()):
            setattr(Tensor, method, getattr(module, method))
    return modules


MODULES = _load()
