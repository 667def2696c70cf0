"""ember: PyTorch's API on NumPy.

``import ember as torch`` and write PyTorch.
"""
from ember._dtype import (bfloat16, bool_ as bool, complex64, complex128, dtype, float16, float32, float64,  # noqa
                          get_default_dtype, int8, int16, int32, int64, promote_types, set_default_dtype, uint8,
                          can_cast)
from ember._device import device  # noqa: F401
from ember._tensor import Size, Tensor  # noqa: F401
from ember import autograd  # noqa: F401
from ember.autograd import enable_grad, inference_mode, no_grad, set_grad_enabled  # noqa: F401
from ember.autograd.grad_mode import is_grad_enabled, is_inference_mode_enabled  # noqa: F401
from ember import ops  # noqa: F401
from ember.ops import MODULES as _OP_MODULES

half, float, double = float16, float32, float64
cfloat, cdouble = complex64, complex128
short, int, long = int16, int32, int64


class layout:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return 'torch.' + self.name


strided = layout('strided')


def _export_public():
    # An op family's public functions become ember.<name> where PyTorch has that name;
    # the families' own helpers stay in their modules.
    from ember._api_names import TORCH_TOP_LEVEL
    aliases = {'range_': 'range'}
    g = globals()
    for module in _OP_MODULES:
        for name in getattr(module, '__all__', None) or [n for n in dir(module) if not n.startswith('_')]:
            obj = getattr(module, name)
            public = aliases.get(name, name)
            if (callable(obj) and getattr(obj, '__module__', '').startswith('ember.ops') and public not in g
                    and public in TORCH_TOP_LEVEL):
                g[public] = obj


_export_public()


def is_tensor(obj):
    """True if ``obj`` is an ember Tensor."""
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return input.is_floating_point()


def is_complex(input):
    return input.is_complex()


def numel(input):
    return input.numel()


def result_type(tensor1, tensor2):
    """The dtype PyTorch's promotion gives for an op on the two operands."""
    from ember._dtype import result_type_of
    return result_type_of([tensor1, tensor2])


__version__ = '2.13.0+ember.0.1.0'  # the PyTorch API version it follows, then ember's own

from ember import nn  # noqa: E402,F401
from ember import utils  # noqa: E402,F401
import ember.utils.data  # noqa: E402,F401

from ember import linalg  # noqa: E402,F401

from ember import random  # noqa: E402,F401
from ember.random import (Generator, default_generator, get_rng_state, initial_seed, manual_seed,  # noqa: E402,F401
                          seed, set_rng_state)
from ember._printing import get_printoptions, set_printoptions  # noqa: E402,F401
from ember import optim  # noqa: E402,F401
from ember import serialization  # noqa: E402,F401
from ember.serialization import load, save  # noqa: E402,F401
from ember._extras import (compile, detach, finfo, get_num_interop_threads, get_num_threads, iinfo,  # noqa: E402,F401
                           is_nonzero, is_same_size, set_num_interop_threads, set_num_threads, typename)
from ember._extras import export_functional as _export_functional  # noqa: E402

_export_functional(globals())
from ember import backends, cuda  # noqa: E402,F401
