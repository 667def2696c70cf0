"""Top-level names PyTorch has that are not ops of the table: threads, type info, and the
``nn.functional`` functions that torch also exposes as ``torch.<name>``."""
import numpy as np

from ember import _dtype


def get_num_threads():
    """Threads used for intra-op parallelism (the BLAS library's, when threadpoolctl can tell)."""
    try:
        from threadpoolctl import threadpool_info
        infos = [i for i in threadpool_info() if i.get('user_api') == 'blas']
        if infos:
            return infos[0]['num_threads']
    except ImportError:
        pass
    import os
    return os.cpu_count() or 1


def set_num_threads(n):
    """Limits BLAS threads (through threadpoolctl when installed; otherwise a no-op)."""
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(int(n), user_api='blas')
    except ImportError:
        pass


def get_num_interop_threads():
    return 1


def set_num_interop_threads(n):
    pass


class finfo:
    """Machine limits of a floating dtype (``bits, eps, max, min, tiny, resolution``)."""

    def __init__(self, type=None):
        d = type or _dtype.get_default_dtype()
        if d.category not in (_dtype.FLOAT, _dtype.COMPLEX):
            raise TypeError(f"torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                            f"'{d}'")
        real = d.to_real()
        if real is _dtype.bfloat16:
            import ml_dtypes  # NumPy's finfo does not know ml_dtypes' bfloat16
            info = ml_dtypes.finfo(real.np)
        else:
            info = np.finfo(real.np)
        self.bits = info.bits
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.tiny)
        self.resolution = 10.0 ** -int(info.precision)
        self.dtype = d.to_real().name

    def __repr__(self):
        return (f"finfo(resolution={self.resolution}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.tiny:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Machine limits of an integer dtype (``bits, max, min``)."""

    def __init__(self, type):
        if type.category > _dtype.INT:
            raise TypeError(f"torch.iinfo() requires an integer input type. Use torch.finfo to handle '{type}'")
        info = np.iinfo(type.np) if type is not _dtype.bool_ else None
        self.bits = info.bits if info else 8
        self.max = int(info.max) if info else 1
        self.min = int(info.min) if info else 0
        self.dtype = type.name

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"


def detach(input):
    """``input.detach()``."""
    return input.detach()


def is_nonzero(input):
    """True if the single-element tensor ``input`` is not zero."""
    if input.numel() != 1:
        raise RuntimeError(f"Boolean value of Tensor with {'no values' if input.numel() == 0 else 'more than one value'}"
                           " is ambiguous")
    return bool(input.item())


def is_same_size(input, other):
    return input.shape == other.shape


def typename(obj):
    from ember._tensor import Tensor
    if isinstance(obj, Tensor):
        return obj.type()
    # a class or function names itself; any other object names its class; builtins drop the module
    if hasattr(obj, '__qualname__'):
        module, name = getattr(obj, '__module__', '') or '', obj.__qualname__
    else:
        module, name = type(obj).__module__ or '', type(obj).__qualname__
    return name if module in ('', 'builtins') else f'{module}.{name}'


def compile(model=None, **kwargs):
    """Accepted for compatibility: returns ``model`` unchanged (ember runs eagerly)."""
    if model is None:
        return lambda m: m
    return model


def export_functional(namespace):
    """Adds the nn.functional functions that PyTorch also has at top level (``torch.dropout`` ...)."""
    from ember._api_names import TORCH_TOP_LEVEL
    from ember.nn import functional
    for name in functional.__all__:
        if name in TORCH_TOP_LEVEL and name not in namespace:
            namespace[name] = getattr(functional, name)
