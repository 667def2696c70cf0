"""Random sampling: rand, randn, randint, randperm, normal, bernoulli, multinomial, poisson and the
in-place samplers (``uniform_``, ``normal_``, ``bernoulli_``, ...).

Every function takes ``generator=`` (an ``ember.Generator``); without it the
default generator of the tensor's device is used.  Values are drawn on the
host with NumPy in the target precision (float32 stays float32; half types
are drawn on their own grid or in float32 and cast) and moved to the device.

Sampling is not differentiable, but like PyTorch a sample drawn from inputs
that require grad (``normal(mean, std)``, ``bernoulli(p)``, ``x.normal_()`` on
a non-leaf) gets a ``grad_fn`` whose gradient is zero.  Those nodes come from
the small ops at the end of this file, which have no samples in the table.
"""
import numpy as np

from ember import _dtype
from ember import backend as _backend
from ember._device import as_device
from ember._tensor import Tensor
from ember.autograd import grad_mode
from ember.ops._dispatch import apply, apply_inplace, scalar_type_name, write_out
from ember.ops._registry import defop
from ember.ops._util import as_shape
from ember.random import generator_for

_grad_state = grad_mode._state

# C++ names PyTorch uses for element types in bound errors
_CPP_NAMES = {'bool': 'bool', 'uint8': 'unsigned char', 'int8': 'signed char', 'int16': 'short int',
              'int32': 'int', 'int64': 'long int', 'float16': 'c10::Half', 'bfloat16': 'c10::BFloat16',
              'float32': 'float', 'float64': 'double'}
# random_() without bounds on floats: integers up to 2**digits, all exactly representable
_FLOAT_DIGITS = {'float16': 11, 'bfloat16': 8, 'float32': 24, 'float64': 53}


def _num(x):
    """A number as PyTorch's C++ messages print it (``2`` for 2.0)."""
    return f'{x:g}' if isinstance(x, float) else str(x)


def _rng(generator, device):
    return (generator if generator is not None else generator_for(device))._np


def _host_to(array, device):
    return array if device.type == 'cpu' else _backend.get(device).from_numpy(array)


def _contiguous(array):
    # np.ascontiguousarray would turn a 0-d result into shape (1,)
    array = np.asarray(array)
    return array if array.flags.c_contiguous else array.copy()


def _new(array, device, requires_grad=False):
    t = Tensor._make(_host_to(_contiguous(array), device), device)
    if requires_grad:
        t.requires_grad = True
    return t


def _check_shape(shape):
    for n in shape:
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{', '.join(map(str, shape))}]")
    return shape


def _size_args(args, kwargs, name):
    size = kwargs.pop('size', None)
    if kwargs:
        raise TypeError(f"{name}() got an unexpected keyword argument '{next(iter(kwargs))}'")
    if size is not None:
        if args:
            raise TypeError("received an invalid combination of arguments: both positional sizes and size=")
        return _check_shape(as_shape((size,)))
    return _check_shape(as_shape(args))


def _not_implemented(kernel, dtype):
    return NotImplementedError(f'"{kernel}" not implemented for \'{scalar_type_name(dtype)}\'')


# ----------------------------------------------------------------------------- raw draws (NumPy arrays)

def _uniform01(rng, shape, dtype):
    """Uniform values in [0, 1) of ``dtype`` (a real float dtype)."""
    if dtype is _dtype.float64:
        return rng.random(shape)
    if dtype is _dtype.float32:
        return rng.random(shape, dtype=np.float32)
    # half types: a multiple of 2**-digits, so that rounding can never reach 1
    digits = _FLOAT_DIGITS[dtype.name]
    return (rng.integers(0, 1 << digits, size=shape) * (1.0 / (1 << digits))).astype(dtype.np)


def _work_dtype(dtype):
    """The NumPy float type arithmetic on samples of ``dtype`` runs in (half types: float32)."""
    return np.float64 if dtype in (_dtype.float64, _dtype.complex128) else np.float32


def _normal_draw(rng, shape, work):
    """Standard normal values of NumPy type ``work``.

    float32 uses the Box-Muller transform on float32 uniforms: vectorised logs and sines beat NumPy's
    ziggurat several times over.  The 24-bit uniforms bound the samples at about 5.8 standard
    deviations, as in PyTorch's own float32 sampler.
    """
    if work is np.float64:
        return rng.standard_normal(shape)
    n = int(np.prod(shape, dtype=np.int64))
    half = (n + 1) // 2
    u = rng.random((2, half), dtype=np.float32)
    radius = np.float32(1) - u[0]  # in (0, 1], so the log is finite
    np.log(radius, out=radius)
    radius *= np.float32(-2)
    np.sqrt(radius, out=radius)
    angle = u[1]
    angle *= np.float32(2 * np.pi)
    out = np.empty(2 * half, np.float32)
    np.cos(angle, out=out[:half])
    np.sin(angle, out=out[half:])
    out[:half] *= radius
    out[half:] *= radius
    return out[:n].reshape(shape)


def _scaled_normal(rng, shape, dtype, mean=0.0, std=1.0):
    """``mean + std * N(0, 1)`` as ``dtype``; complex dtypes get variance ``std**2 / 2`` in each part."""
    work = _work_dtype(dtype)
    if dtype.category == _dtype.COMPLEX:
        parts = _normal_draw(rng, (2,) + tuple(shape), work) * work(np.sqrt(0.5) * std)
        return (parts[0] + 1j * parts[1] + mean).astype(dtype.np)
    values = _normal_draw(rng, shape, work)
    if std != 1.0:
        values *= work(std)
    if mean != 0.0:
        values += work(mean)
    return values.astype(dtype.np, copy=False)


def _standard_normal(rng, shape, dtype):
    return _scaled_normal(rng, shape, dtype)


def _uniform(rng, shape, dtype, low=0.0, high=1.0):
    """Uniform values in [low, high) as ``dtype`` (complex: real and imaginary parts each uniform)."""
    if dtype.category == _dtype.COMPLEX:
        parts = _uniform(rng, (2,) + tuple(shape), dtype.to_real(), low, high)
        return (parts[0] + 1j * parts[1]).astype(dtype.np)
    u = _uniform01(rng, shape, dtype)
    if low == 0.0 and high == 1.0:
        return u
    work = _work_dtype(dtype)
    u = u.astype(work, copy=False)
    u *= work(high - low)
    u += work(low)
    return u.astype(dtype.np, copy=False)


def _float_result_dtype(dtype, kernel):
    dtype = _dtype.get_default_dtype() if dtype is None else dtype
    if dtype.category < _dtype.FLOAT:
        raise _not_implemented(kernel, dtype)
    return dtype


# ----------------------------------------------------------------------------- factories

def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False, **kwargs):
    """Uniform random numbers in [0, 1) of the given size (``rand(2, 3)`` or ``rand(size=(2, 3))``)."""
    shape = _size_args(size, kwargs, 'rand')
    dtype = _float_result_dtype(dtype if dtype is not None or out is None else out.dtype, 'check_uniform_bounds')
    device = as_device(device if device is not None or out is None else out.device)
    values = _uniform(_rng(generator, device), shape, dtype)
    result = _new(values, device, requires_grad)
    return write_out(result, out) if out is not None else result


def rand_like(input, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    """Uniform random numbers in [0, 1) with the shape (and by default dtype and device) of ``input``."""
    return rand(input.shape, generator=generator, dtype=input.dtype if dtype is None else dtype,
                device=input.device if device is None else device, requires_grad=requires_grad)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, **kwargs):
    """Standard normal random numbers of the given size."""
    shape = _size_args(size, kwargs, 'randn')
    dtype = _float_result_dtype(dtype if dtype is not None or out is None else out.dtype, 'normal_kernel_cpu')
    device = as_device(device if device is not None or out is None else out.device)
    result = _new(_standard_normal(_rng(generator, device), shape, dtype), device, requires_grad)
    return write_out(result, out) if out is not None else result


def randn_like(input, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    """Standard normal random numbers with the shape (and by default dtype and device) of ``input``."""
    return randn(input.shape, generator=generator, dtype=input.dtype if dtype is None else dtype,
                 device=input.device if device is None else device, requires_grad=requires_grad)


def _dtype_bounds(dtype):
    """The smallest and largest integers ``dtype`` holds (floats: their largest finite value)."""
    if dtype is _dtype.bool_:
        return 0, 1
    if dtype.category == _dtype.INT:
        info = np.iinfo(dtype.np)
        return int(info.min), int(info.max)
    big = float(np.finfo(np.float32 if dtype is _dtype.bfloat16 else dtype.np).max)
    return -big, big


def _check_range(low, high, dtype):
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    lo, hi = _dtype_bounds(dtype)
    if not lo <= low <= hi:
        raise RuntimeError(f"from is out of bounds for {_CPP_NAMES[dtype.name]}")
    if not lo <= high - 1 <= hi:
        raise RuntimeError(f"to - 1 is out of bounds for {_CPP_NAMES[dtype.name]}")


def _integers(rng, shape, low, high, dtype):
    if dtype.category == _dtype.COMPLEX:
        raise _not_implemented('random_kernel_cpu', dtype)
    _check_range(low, high, dtype)
    return rng.integers(low, high, size=shape, dtype=np.int64).astype(dtype.np)


def randint(*args, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
            pin_memory=False, **kwargs):
    """Random integers in [low, high): ``randint(high, size)`` or ``randint(low, high, size)`` (int64)."""
    size = kwargs.pop('size', None)
    if size is None:
        if not args:
            raise TypeError("randint() missing required argument 'size'")
        size, args = args[-1], args[:-1]
    high = kwargs.pop('high', None)
    low = kwargs.pop('low', None)
    if kwargs:
        raise TypeError(f"randint() got an unexpected keyword argument '{next(iter(kwargs))}'")
    if len(args) == 2:
        low, high = args
    elif len(args) == 1:
        high = args[0]
    if high is None:
        raise TypeError("randint() missing required argument 'high'")
    low = 0 if low is None else low
    for name, v in (('low', low), ('high', high)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"randint(): argument '{name}' must be int, not {type(v).__name__}")
    shape = _check_shape(as_shape((size,)))
    dtype = (_dtype.int64 if out is None else out.dtype) if dtype is None else dtype
    device = as_device(device if device is not None or out is None else out.device)
    values = _integers(_rng(generator, device), shape, int(low), int(high), dtype)
    result = _new(values, device, requires_grad)
    return write_out(result, out) if out is not None else result


def randint_like(input, low=0, high=None, *, generator=None, dtype=None, layout=None, device=None,
                 requires_grad=False, memory_format=None):
    """Random integers in [low, high) with the shape (and by default dtype and device) of ``input``."""
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, generator=generator, dtype=input.dtype if dtype is None else dtype,
                   device=input.device if device is None else device, requires_grad=requires_grad)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False):
    """A random permutation of the integers 0 to n - 1."""
    n = int(n)
    _check_shape((n,))
    dtype = (_dtype.int64 if out is None else out.dtype) if dtype is None else dtype
    if dtype is _dtype.bool_ or dtype.category == _dtype.COMPLEX:
        raise _not_implemented('randperm', dtype)
    device = as_device(device if device is not None or out is None else out.device)
    values = _rng(generator, device).permutation(n).astype(dtype.np)
    result = _new(values, device, requires_grad)
    return write_out(result, out) if out is not None else result


# ----------------------------------------------------------------------------- sampling from tensors

def _needs_graph(tensors):
    return _grad_state['enabled'] and any(t._requires_grad for t in tensors)


def _sampled(values, inputs, op, device):
    """``values`` as a tensor; with a zero-gradient ``grad_fn`` when an input requires grad."""
    values = _host_to(_contiguous(values), device)
    if _needs_graph(inputs):
        return apply(op, tuple(inputs), {'values': values})
    return Tensor._make(values, device)


def _broadcast_shape(a, b):
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        for i in range(1, max(len(a), len(b)) + 1):
            x = a[-i] if i <= len(a) else 1
            y = b[-i] if i <= len(b) else 1
            if x != y and x != 1 and y != 1:
                raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                                   f"non-singleton dimension {max(len(a), len(b)) - i}") from None
        raise


def _host(t):
    return _backend.get(t.device).to_numpy(t._data)


def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None, device=None,
           requires_grad=False, pin_memory=False):
    """Normal random numbers with the given mean and standard deviation.

    ``mean`` and ``std`` may each be a tensor (the result has their broadcast shape and the
    floating dtype of ``mean``, else of ``std``) or a number; with two numbers, ``size`` gives
    the shape.
    """
    mean_t, std_t = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not mean_t and not std_t:
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments: (float mean, float std) "
                            "needs size")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {_num(std)}")
        shape = _check_shape(as_shape((size,)))
        dtype = _float_result_dtype(dtype if dtype is not None or out is None else out.dtype, 'normal_kernel_cpu')
        device = as_device(device if device is not None or out is None else out.device)
        result = _new(_scaled_normal(_rng(generator, device), shape, dtype, mean, std), device, requires_grad)
        return write_out(result, out) if out is not None else result
    ref = mean if mean_t else std
    dtype = ref.dtype
    if dtype.category < _dtype.FLOAT:
        raise _not_implemented('normal_kernel_cpu', dtype)
    work = dtype.np if dtype.category == _dtype.COMPLEX else _work_dtype(dtype)
    mean_v = _host(mean).astype(work, copy=False) if mean_t else mean
    std_v = _host(std).astype(_work_dtype(dtype), copy=False) if std_t else std
    if std_t:
        if std_v.size and not (std_v >= 0).all():
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_num(std)}")
    shape = _broadcast_shape(np.shape(mean_v), np.shape(std_v)) if mean_t and std_t else np.shape(ref._data)
    noise = _standard_normal(_rng(generator, ref.device), shape, dtype).astype(work, copy=False)
    values = (noise * std_v + mean_v).astype(dtype.np, copy=False)
    inputs = [t for t in (mean, std) if isinstance(t, Tensor)]
    op = _normal_tt if mean_t and std_t else (_normal_tf if mean_t else _normal_ft)
    result = _sampled(values, inputs, op, ref.device)
    return write_out(result, out) if out is not None else result


def _check_probabilities(p):
    if p.size and not ((p >= 0) & (p <= 1)).all():
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error message "
                           "be improved?  If so, please report an enhancement request to PyTorch.)")


def bernoulli(input, p=None, *, generator=None, out=None):
    """0/1 samples: each element is 1 with probability ``input`` (or ``p``, with ``input``'s shape)."""
    dtype = input.dtype
    if p is None:
        if dtype.category != _dtype.FLOAT:
            raise _not_implemented('bernoulli_tensor_cpu_p_', dtype)
        probs = _host(input)
        _check_probabilities(probs)
    else:
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={_num(p)}")
        probs = p
    u = _uniform01(_rng(generator, input.device), input.shape, _dtype.float64)
    values = (u < probs).astype(dtype.np)
    result = _sampled(values, [input], _bernoulli_op, input.device)
    return write_out(result, out) if out is not None else result


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Indices drawn from the categories of each row of ``input`` (non-negative weights), int64.

    Without replacement every row's indices are distinct.
    """
    if input.dtype.category != _dtype.FLOAT:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{scalar_type_name(input.dtype)}")
    if input.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    n = input.shape[-1]
    if not replacement and num_samples > n:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if n > (1 << 24):
        raise RuntimeError("number of categories cannot exceed 2^24")
    weights = _host(input).astype(np.float64).reshape(-1, n)
    if not (np.isfinite(weights) & (weights >= 0)).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if not (weights.sum(axis=1) > 0).all():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rng = _rng(generator, input.device)
    rows = weights.shape[0]
    if replacement:
        indices = _with_replacement(rng, weights, num_samples)
    else:
        # Sequential draws without replacement order the categories by E / w with E ~ Exp(1)
        with np.errstate(divide='ignore', invalid='ignore'):
            keys = rng.standard_exponential((rows, n)) / weights
        keys[np.isnan(keys)] = np.inf
        if num_samples < n:  # only the smallest keys matter: partition first, then order those
            part = np.argpartition(keys, num_samples - 1, axis=1)[:, :num_samples]
            order = np.argsort(np.take_along_axis(keys, part, axis=1), axis=1, kind='stable')
            indices = np.take_along_axis(part, order, axis=1)
        else:
            indices = np.argsort(keys, axis=1, kind='stable')
    indices = indices.astype(np.int64).reshape(tuple(input.shape[:-1]) + (num_samples,))
    result = Tensor._make(_host_to(indices, input.device), input.device)
    return write_out(result, out) if out is not None else result


def _with_replacement(rng, weights, num_samples):
    rows, n = weights.shape
    cdf = np.cumsum(weights, axis=1)
    cdf /= cdf[:, -1:]
    # one searchsorted over all rows: row r's cdf is shifted into [2r, 2r + 1]
    offsets = 2.0 * np.arange(rows)[:, None]
    flat = (cdf + offsets).reshape(-1)
    u = rng.random((rows, num_samples)) + offsets
    picked = np.searchsorted(flat, u.reshape(-1), side='right').reshape(rows, num_samples)
    picked -= (np.arange(rows) * n)[:, None]
    # rounding can push u past the row's end; fall back to its last category with weight
    last = n - 1 - np.argmax(weights[:, ::-1] > 0, axis=1)
    return np.minimum(picked, last[:, None])


def poisson(input, generator=None):
    """Poisson samples with rates ``input`` (the result has ``input``'s dtype)."""
    if input.dtype.category != _dtype.FLOAT:
        raise _not_implemented('poisson_cpu', input.dtype)
    rates = _host(input).astype(np.float64)
    if rates.size and not (rates >= 0).all():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    values = _rng(generator, input.device).poisson(rates).astype(input.dtype.np)
    return _sampled(values, [input], _poisson_op, input.device)


# ----------------------------------------------------------------------------- in-place samplers

def _fill(self, values, op):
    """Writes sampled host ``values`` into ``self`` (bumping its version; zero-gradient history)."""
    return apply_inplace(op, self, (), {'values': _host_to(np.asarray(values, dtype=self.dtype.np), self.device)})


def _require_float(self, what):
    if self.dtype.category != _dtype.FLOAT:
        name = scalar_type_name(self.dtype)
        if what == 'Cauchy' and self.dtype.category < _dtype.FLOAT:
            name = _CPP_NAMES[self.dtype.name]
        raise RuntimeError(f"{what} distribution is a continuous probability distribution. dtype must be a "
                           f"floating point but you specified {name}")


def uniform_(self, from_=0.0, to=1.0, *, generator=None, **kwargs):
    """Fills ``self`` with uniform random numbers in [from, to) (``from`` may be passed by keyword)."""
    from_ = kwargs.pop('from', from_)
    if kwargs:
        raise TypeError(f"uniform_() got an unexpected keyword argument '{next(iter(kwargs))}'")
    if self.dtype.category < _dtype.FLOAT:
        raise _not_implemented('check_uniform_bounds', self.dtype)
    if self.dtype.category == _dtype.FLOAT:
        lo, hi = _dtype_bounds(self.dtype)
        if not lo <= from_ <= hi:
            raise RuntimeError(f"from is out of bounds for {_CPP_NAMES[self.dtype.name]}")
        if not lo <= to <= hi:
            raise RuntimeError(f"to is out of bounds for {_CPP_NAMES[self.dtype.name]}")
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={_num(from_)} > "
                           f"to={_num(to)}")
    values = _uniform(_rng(generator, self.device), self.shape, self.dtype, from_, to)
    return _fill(self, values, _uniform_op)


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fills ``self`` with normal random numbers of the given mean and standard deviation."""
    if self.dtype.category < _dtype.FLOAT:
        raise _not_implemented('normal_kernel_cpu', self.dtype)
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_num(std)}")
    return _fill(self, _scaled_normal(_rng(generator, self.device), self.shape, self.dtype, mean, std), _normal_op)


def bernoulli_(self, p=0.5, *, generator=None):
    """Fills ``self`` with 0/1 samples that are 1 with probability ``p`` (a number or a tensor)."""
    if self.dtype.category == _dtype.COMPLEX:
        raise _not_implemented('bernoulli_scalar_cpu_', self.dtype)
    if isinstance(p, Tensor):
        if p.dtype.category != _dtype.FLOAT:
            raise _not_implemented('bernoulli_tensor_cpu_p_', p.dtype)
        probs = _host(p)
        _check_probabilities(probs)
        try:
            probs = np.broadcast_to(probs, self.shape)
        except ValueError:
            raise RuntimeError(f"The expanded size of the tensor ({self.shape[-1] if self.ndim else 1}) must match "
                               f"the existing size ({probs.shape[-1] if probs.ndim else 1}) at non-singleton "
                               f"dimension {self.ndim - 1}.  Target sizes: {list(self.shape)}.  Tensor sizes: "
                               f"{list(probs.shape)}") from None
    else:
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={_num(p)}")
        probs = p
    u = _uniform01(_rng(generator, self.device), self.shape, _dtype.float64)
    return _fill(self, u < probs, _bernoulli_inplace_op)


def exponential_(self, lambd=1.0, *, generator=None):
    """Fills ``self`` with exponential random numbers of rate ``lambd``."""
    _require_float(self, 'Exponential')
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={_num(lambd)}")
    rng = _rng(generator, self.device)
    if self.dtype is _dtype.float64:
        values = rng.standard_exponential(self.shape) / lambd
    else:
        values = rng.standard_exponential(self.shape, dtype=np.float32) / np.float32(lambd)
    return _fill(self, values, _exponential_op)


def geometric_(self, p, *, generator=None):
    """Fills ``self`` with geometric random numbers: trials until the first success (1, 2, ...)."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={_num(p)}")
    if self.dtype.category == _dtype.COMPLEX:
        raise _not_implemented('geometric_cpu', self.dtype)
    return _fill(self, _rng(generator, self.device).geometric(p, size=self.shape), _geometric_op)


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fills ``self`` with ``exp(N(mean, std))`` random numbers."""
    if self.dtype.category != _dtype.FLOAT:
        raise _not_implemented('log_normal_cpu', self.dtype)
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={_num(std)}")
    noise = _standard_normal(_rng(generator, self.device), self.shape, _dtype.float64)
    return _fill(self, np.exp(noise * std + mean), _log_normal_op)


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fills ``self`` with Cauchy random numbers of the given median and scale."""
    _require_float(self, 'Cauchy')
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={_num(sigma)}")
    u = _uniform01(_rng(generator, self.device), self.shape, _dtype.float64)
    return _fill(self, median + sigma * np.tan(np.pi * (u - 0.5)), _cauchy_op)


def random_(self, *args, generator=None, **kwargs):
    """Fills ``self`` with random integers.

    ``random_()`` covers the dtype's range (floats: [0, 2**mantissa digits]), ``random_(to)``
    gives [0, to) and ``random_(from, to)`` gives [from, to) (``to=None``: up to the dtype's maximum).
    """
    if 'from' in kwargs:
        args = (kwargs.pop('from'),) + args
    if 'to' in kwargs:
        args = (args[0] if args else 0, kwargs.pop('to'))
    if kwargs or len(args) > 2:
        raise TypeError("random_() received an invalid combination of arguments")
    low, high = (0, None) if not args else ((0, args[0]) if len(args) == 1 else args)
    dtype = self.dtype
    if dtype.category == _dtype.COMPLEX:
        raise _not_implemented('random_kernel_cpu', dtype)
    if high is None:
        if dtype.category == _dtype.FLOAT:
            high = (1 << _FLOAT_DIGITS[dtype.name]) + 1
        else:
            high = _dtype_bounds(dtype)[1] + 1
    values = _integers(_rng(generator, self.device), self.shape, int(low), int(high), dtype)
    return _fill(self, values, _random_op)


# ----------------------------------------------------------------------------- zero-gradient history

def _sample_op(name, grad_name):
    """A table op whose forward returns the already drawn ``values`` and whose gradient is zero."""
    def forward(xp, *inputs, values):
        return values

    op = defop(name, grad_name=grad_name, public='')(forward)

    @op.derivative
    def _(F, ctx, grad):
        return tuple(F.zeros_like(grad) if need else None for need in ctx.needs_input_grad)
    return op


_normal_tf = _sample_op('sample_normal_tensor_float', 'NormalBackward1')
_normal_ft = _sample_op('sample_normal_float_tensor', 'NormalBackward2')
_normal_tt = _sample_op('sample_normal_tensor_tensor', 'NormalBackward3')
_bernoulli_op = _sample_op('sample_bernoulli', 'BernoulliBackward0')
_poisson_op = _sample_op('sample_poisson', 'PoissonBackward0')
_normal_op = _sample_op('sample_normal_', 'NormalBackward0')
_uniform_op = _sample_op('sample_uniform_', 'UniformBackward0')
_bernoulli_inplace_op = _sample_op('sample_bernoulli_', 'BernoulliBackward1')
_exponential_op = _sample_op('sample_exponential_', 'ExponentialBackward0')
_geometric_op = _sample_op('sample_geometric_', 'GeometricBackward0')
_log_normal_op = _sample_op('sample_log_normal_', 'LogNormalBackward0')
_cauchy_op = _sample_op('sample_cauchy_', 'CauchyBackward0')
_random_op = _sample_op('sample_random_', 'RandomBackward0')

TENSOR_METHODS = ['uniform_', 'normal_', 'bernoulli_', 'exponential_', 'geometric_', 'log_normal_', 'cauchy_',
                  'random_', 'bernoulli', 'multinomial']

# the in-place samplers are Tensor methods only, as in torch
__all__ = ['rand', 'rand_like', 'randn', 'randn_like', 'randint', 'randint_like', 'randperm', 'normal', 'bernoulli',
           'multinomial', 'poisson']
