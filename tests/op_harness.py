"""Helpers that run the same call in ember and in PyTorch and compare the results.

The generic op-table tests use these; other tests may too:
``compare(lambda m: m.nn.functional.relu(x(m)))`` where ``m`` is the module
(ember or torch) and the lambda builds its inputs from NumPy arrays.
"""
import numpy as np

import ember

try:
    import torch
except ImportError:
    torch = None

DTYPE_NAMES = ['bool', 'uint8', 'int8', 'int16', 'int32', 'int64', 'float16', 'bfloat16', 'float32', 'float64',
               'complex64', 'complex128']


def make_maker(seed=0):
    rng = np.random.default_rng(seed)

    def make(shape, dtype='float32', low=-2.0, high=2.0):
        """A NumPy array of ``shape`` with values drawn uniformly in [low, high)."""
        if dtype == 'bool':
            return rng.random(shape) > 0.5
        if dtype in ('int64', 'int32', 'int16', 'int8', 'uint8'):
            lo = 0 if dtype == 'uint8' else int(np.floor(low))
            hi = max(int(np.ceil(high)), lo + 1)
            return rng.integers(lo, hi, size=shape).astype(dtype)
        values = rng.uniform(low, high, size=shape)
        if dtype.startswith('complex'):
            values = values + 1j * rng.uniform(low, high, size=shape)
        return np.asarray(values).astype(dtype)
    return make


def to_module(value, module, dtype=None, requires_grad=False, noncontig=False):
    """Converts NumPy arrays (and lists/tuples of them) inside ``value`` into ``module`` tensors."""
    if isinstance(value, np.ndarray):
        arr = value
        if dtype is not None and arr.dtype.kind == 'f':
            arr = arr.astype(dtype)
        if noncontig and arr.ndim > 0 and arr.size > 0:
            wide = np.zeros(arr.shape[:-1] + (arr.shape[-1] * 2,), dtype=arr.dtype)
            wide[..., ::2] = arr
            t = module.tensor(wide)[..., ::2]
        else:
            t = module.tensor(arr)
        if requires_grad and t.dtype.is_floating_point:
            if noncontig:
                t = t.detach().requires_grad_(True)
            else:
                t.requires_grad_(True)
        return t
    if isinstance(value, list):
        return [to_module(v, module, dtype, requires_grad, noncontig) for v in value]
    if isinstance(value, tuple) and any(isinstance(v, np.ndarray) for v in value):
        return tuple(to_module(v, module, dtype, requires_grad, noncontig) for v in value)
    return value


def resolve(module, public):
    """The callable named ``public`` ('mul', 'linalg.inv', 'Tensor.view', ...) in ``module``."""
    if public.startswith('Tensor.'):
        name = public[len('Tensor.'):]
        return lambda self, *args, **kwargs: getattr(self, name)(*args, **kwargs)
    obj = module
    for part in public.split('.'):
        obj = getattr(obj, part)
    return obj


def to_numpy(x):
    if isinstance(x, (ember.Tensor,)) or (torch is not None and isinstance(x, torch.Tensor)):
        if str(x.dtype).endswith('bfloat16'):
            x = x.float()
        return np.array(x.detach().cpu().numpy() if torch is not None and isinstance(x, torch.Tensor)
                        else x.detach().numpy())
    return x


def flatten_outputs(out):
    if isinstance(out, (tuple, list)):
        res = []
        for o in out:
            res.extend(flatten_outputs(o))
        return res
    return [out]


def assert_same(ours, ref, rtol=1.3e-6, atol=1e-5, check_dtype=True, what='output'):
    ours_list, ref_list = flatten_outputs(ours), flatten_outputs(ref)
    assert len(ours_list) == len(ref_list), f"{what}: {len(ours_list)} outputs, torch has {len(ref_list)}"
    for i, (o, r) in enumerate(zip(ours_list, ref_list)):
        if r is None or o is None:
            assert o is None and r is None, f"{what}[{i}]: ours {o!r}, torch {r!r}"
            continue
        if torch is not None and isinstance(r, torch.Tensor):
            assert isinstance(o, ember.Tensor), f"{what}[{i}]: expected a Tensor, got {type(o).__name__}"
            if check_dtype:
                assert str(o.dtype) == str(r.dtype), f"{what}[{i}]: dtype {o.dtype}, torch {r.dtype}"
            assert tuple(o.shape) == tuple(r.shape), f"{what}[{i}]: shape {tuple(o.shape)}, torch {tuple(r.shape)}"
            a, b = to_numpy(o), to_numpy(r)
            if a.dtype.kind in 'fc' or b.dtype.kind in 'fc':
                np.testing.assert_allclose(a.astype(np.complex128 if a.dtype.kind == 'c' else np.float64),
                                           b.astype(np.complex128 if b.dtype.kind == 'c' else np.float64),
                                           rtol=rtol, atol=atol, equal_nan=True, err_msg=f"{what}[{i}]")
            else:
                np.testing.assert_array_equal(a, b, err_msg=f"{what}[{i}]")
        else:
            if isinstance(r, float) and isinstance(o, float):
                assert abs(o - r) <= atol + rtol * abs(r), f"{what}[{i}]: {o} vs torch {r}"
            else:
                assert o == r, f"{what}[{i}]: {o!r} vs torch {r!r}"
