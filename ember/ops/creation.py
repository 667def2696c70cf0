"""Factory functions: tensor, zeros, ones, full, empty, arange, linspace, eye, ... and device moves."""
import math

import numpy as np

from ember import _dtype
from ember import backend as _backend
from ember._device import as_device
from ember._tensor import Tensor
from ember.ops._util import as_shape


def _finish(array, device, requires_grad):
    t = Tensor._make(array, device)
    if requires_grad:
        if t._dtype.category < _dtype.FLOAT:
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        t.requires_grad = True
    return t


def _place(array, device):
    """Moves a NumPy array onto ``device`` (a no-op for cpu)."""
    if device.type == 'cpu':
        return array
    return _backend.get(device).from_numpy(array)


def _infer_dtype(data):
    """PyTorch's dtype for nested Python data."""
    kinds = set()

    def walk(x):
        if isinstance(x, Tensor):
            kinds.add(x._dtype)
            return
        if isinstance(x, (list, tuple)):
            for y in x:
                walk(y)
            return
        if isinstance(x, bool) or isinstance(x, np.bool_):
            kinds.add('bool')
        elif isinstance(x, (int, np.integer)):
            kinds.add('int')
        elif isinstance(x, (float, np.floating)):
            kinds.add('float')
        elif isinstance(x, (complex, np.complexfloating)):
            kinds.add('complex')
        else:
            raise TypeError(f"Could not infer dtype of {type(x).__name__}")
    walk(data)
    if 'complex' in kinds:
        return _dtype._default_complex()
    if 'float' in kinds:
        return _dtype.get_default_dtype()
    tensor_dtypes = [k for k in kinds if isinstance(k, _dtype.dtype)]
    if tensor_dtypes:
        d = tensor_dtypes[0]
        for k in tensor_dtypes[1:]:
            d = _dtype.promote_types(d, k)
        return d
    if 'int' in kinds:
        return _dtype.int64
    if 'bool' in kinds:
        return _dtype.bool_
    return _dtype.get_default_dtype()


def _to_numpy_nested(data):
    if isinstance(data, Tensor):
        return np.asarray(data)
    if isinstance(data, (list, tuple)):
        if any(isinstance(x, Tensor) for x in data):
            return np.stack([_to_numpy_nested(x) for x in data]) if data else np.zeros((0,))
        return data
    return data


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """Constructs a tensor by copying ``data`` (a number, nested sequence, array or tensor)."""
    device = as_device(device)
    if isinstance(data, Tensor):
        arr = np.array(data, copy=True)
        dt = dtype or data._dtype
    elif isinstance(data, (np.ndarray, np.generic)):  # a NumPy scalar keeps its dtype, as in torch
        dt = dtype or _dtype.from_numpy_dtype(data.dtype)
        arr = np.array(data, copy=True)
    else:
        if isinstance(data, str):
            raise TypeError(f"new(): invalid data type 'str'")
        dt = dtype or _infer_dtype(data)
        try:
            arr = np.array(_to_numpy_nested(data), dtype=None if dt.np is None else None)
        except ValueError as e:
            raise ValueError(f"expected sequence of equal length lists: {e}") from None
        if arr.dtype == object:
            raise ValueError("too many dimensions 'str'" if any(isinstance(x, str) for x in np.ravel(arr))
                             else "expected sequence of equal length lists")
    if dt.np is None:
        raise RuntimeError(f"dtype {dt} is not available (install ml_dtypes)")
    if arr.dtype != dt.np:
        if arr.dtype.kind in 'fc' and dt.category <= _dtype.INT and dt.category != _dtype.BOOL:
            arr = np.trunc(arr.real if arr.dtype.kind == 'c' else arr)
        arr = arr.astype(dt.np)
    if not arr.flags.c_contiguous:
        arr = arr.copy(order='C')
    return _finish(_place(arr, device), device, requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Converts ``data`` to a tensor, sharing memory with it where possible."""
    device = as_device(device)
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype) if (dtype or device != data._device) else data
    if isinstance(data, np.ndarray) and device.type == 'cpu':
        t = from_numpy(data)
        return t.to(dtype) if dtype is not None and dtype is not t._dtype else t
    return tensor(data, dtype=dtype, device=device)


asarray = as_tensor


def from_numpy(ndarray):
    """A tensor that shares memory with NumPy array ``ndarray``."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    if any(s < 0 for s in ndarray.strides):
        raise ValueError("At least one stride in the given numpy array is negative, and tensors with negative "
                         "strides are not currently supported. (You can probably work around this by making a "
                         "copy of your array  with array.copy().) ")
    dt = _dtype.from_numpy_dtype(ndarray.dtype)
    arr = ndarray if ndarray.dtype.isnative else ndarray.astype(ndarray.dtype.newbyteorder('='))
    del dt
    return Tensor._make(arr)


def _factory_dtype(dtype):
    return _dtype.get_default_dtype() if dtype is None else dtype


def _filled(size, value, dtype, device, requires_grad, name):
    shape = as_shape(size, 'size')
    for n in shape:
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{', '.join(map(str, shape))}]")
    device = as_device(device)
    xp = _backend.get(device).xp
    arr = xp.full(shape, value, dtype=dtype.np) if value is not None else xp.empty(shape, dtype=dtype.np)
    return _finish(arr, device, requires_grad)


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """A tensor of zeros of the given size."""
    return _filled(size, 0, _factory_dtype(dtype), device, requires_grad, 'zeros')


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """A tensor of ones of the given size."""
    return _filled(size, 1, _factory_dtype(dtype), device, requires_grad, 'ones')


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
          memory_format=None):
    """An uninitialised tensor of the given size."""
    return _filled(size, None, _factory_dtype(dtype), device, requires_grad, 'empty')


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A tensor of the given size filled with ``fill_value`` (dtype inferred from it)."""
    if dtype is None:
        dtype = _infer_dtype(fill_value) if not isinstance(fill_value, Tensor) else fill_value._dtype
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _filled(size, fill_value, dtype, device, requires_grad, 'full')


def _like(input, dtype, device):
    return (input._dtype if dtype is None else dtype), (input._device if device is None else device)


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """Zeros with the shape of ``input``."""
    dt, dev = _like(input, dtype, device)
    return _filled(input._data.shape, 0, dt, dev, requires_grad, 'zeros_like')


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """Ones with the shape of ``input``."""
    dt, dev = _like(input, dtype, device)
    return _filled(input._data.shape, 1, dt, dev, requires_grad, 'ones_like')


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """An uninitialised tensor with the shape of ``input``."""
    dt, dev = _like(input, dtype, device)
    return _filled(input._data.shape, None, dt, dev, requires_grad, 'empty_like')


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """``fill_value`` with the shape of ``input``."""
    dt, dev = _like(input, dtype, device)
    return _filled(input._data.shape, fill_value, dt, dev, requires_grad, 'full_like')


def _num(x):
    return x.item() if isinstance(x, Tensor) else x


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Values from ``start`` to ``end`` (exclusive) in steps of ``step``."""
    start, end, step = _num(start), _num(end), _num(step)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0 and end != start:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        dtype = _dtype.int64 if all(isinstance(v, int) for v in (start, end, step)) else _dtype.get_default_dtype()
    n = max(0, math.ceil((end - start) / step))
    if dtype.category <= _dtype.INT:
        arr = (start + step * np.arange(n, dtype=np.float64 if not all(isinstance(v, int) for v in (start, step))
                                        else np.int64)).astype(dtype.np)
    else:
        arr = (start + step * np.arange(n, dtype=np.float64)).astype(dtype.np)
    device = as_device(device)
    return _finish(_place(arr, device), device, requires_grad)


def range_(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Deprecated inclusive arange (``torch.range``)."""
    if end is None:
        start, end = 0, start
    n = int(math.floor((end - start) / step)) + 1
    dtype = dtype or _dtype.get_default_dtype()
    arr = (start + step * np.arange(n, dtype=np.float64)).astype(dtype.np)
    return _finish(_place(arr, as_device(device)), as_device(device), requires_grad)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    start, end = _num(start), _num(end)
    if steps < 0:
        raise RuntimeError("linspace(): number of steps must be non-negative")
    dtype = dtype or _dtype.get_default_dtype()
    if steps == 1:
        arr = np.array([start], dtype=np.float64)
    else:
        # PyTorch fills the first half from start and the second half from end
        i = np.arange(steps, dtype=np.float64)
        step = (end - start) / (steps - 1) if steps > 1 else 0.0
        half = steps // 2
        arr = np.where(i < half, start + step * i, end - step * (steps - 1 - i))
    if dtype.category <= _dtype.INT:
        arr = np.trunc(arr)
    arr = arr.astype(dtype.np)
    device = as_device(device)
    return _finish(_place(arr, device), device, requires_grad)


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """``steps`` values from ``base**start`` to ``base**end`` spaced evenly on a log scale."""
    dtype = dtype or _dtype.get_default_dtype()
    exps = np.asarray(linspace(start, end, steps, dtype=_dtype.float64))
    arr = np.power(float(base), exps).astype(dtype.np)
    device = as_device(device)
    return _finish(_place(arr, device), device, requires_grad)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """A 2-D tensor with ones on the diagonal."""
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    dtype = dtype or _dtype.get_default_dtype()
    device = as_device(device)
    arr = _backend.get(device).xp.eye(n, n if m is None else m, dtype=dtype.np)
    return _finish(arr, device, requires_grad)


def to_device(input, device):
    """Copies ``input`` to ``device`` (differentiable)."""
    from ember.autograd.function import Function
    target = _backend.get(device)  # raises a clear error when the device has no backend

    class ToCopy(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.source = x._device
            host = _backend.get(x._device).to_numpy(x._data)
            return Tensor._make(target.from_numpy(host), device)

        @staticmethod
        def backward(ctx, grad):
            return to_device(grad, ctx.source)

    return ToCopy.apply(input)


TENSOR_METHODS = []
