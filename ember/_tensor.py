"""The Tensor.

A Tensor holds a backend array (``_data``), its ember dtype and device, and
autograd state: ``requires_grad``, ``grad``, ``grad_fn`` (the Node that made
it) and a version counter shared with every view of the same storage.  A
view keeps ``_base``, the tensor that owns the storage.  Operators and most
methods delegate to the ops in ``ember.ops``; those are attached to the class
when ``ember.ops`` is imported.
"""
import numpy as np

from ember import _dtype
from ember import backend as _backend
from ember._device import CPU, as_device

import ember as _ember  # resolved at call time (circular import)

_new = object.__new__
_ndarray = np.ndarray
_BY_NP = _dtype._BY_NP


class Size(tuple):
    """The shape of a tensor: a tuple of ints that prints as ``torch.Size([2, 3])``."""

    def __repr__(self):
        return f"torch.Size([{', '.join(str(int(n)) for n in self)}])"

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, item):
        r = tuple.__getitem__(self, item)
        return Size(r) if isinstance(item, slice) else r

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __reduce__(self):
        return (Size, (tuple(self),))


class _Version:
    """The version counter, shared by a tensor and its views."""

    __slots__ = ('v',)

    def __init__(self):
        self.v = 0


class Tensor:
    """A multi-dimensional array with autograd, on a device."""

    __slots__ = ('_data', '_dtype', '_device', '_requires_grad', '_grad', '_grad_fn', '_output_nr', '_vc',
                 '_base', '_view_version', '_grad_acc', '_hooks', '_post_acc_hooks', '_retains_grad',
                 '__weakref__', '__dict__')

    def __new__(cls, *args, **kwargs):
        if cls is Tensor and args and all(isinstance(a, int) for a in args):
            return _ember.empty(*args)
        if cls is Tensor and len(args) == 1 and not kwargs:
            return _ember.tensor(args[0], dtype=_dtype.float32)
        if cls is Tensor and not args and not kwargs:
            return _ember.empty(0)
        return object.__new__(cls)

    @staticmethod
    def _make(data, device=CPU):
        """Wraps backend array ``data`` (no copy) as a new tensor that does not require grad."""
        if data.__class__ is not _ndarray and isinstance(data, np.generic):
            data = np.asarray(data)
        t = _new(Tensor)
        t._data = data
        d = _BY_NP.get(data.dtype)
        t._dtype = d if d is not None else _dtype.from_numpy_dtype(data.dtype)
        t._device = device
        t._requires_grad = t._retains_grad = False
        t._grad = t._grad_fn = t._base = t._grad_acc = t._hooks = t._post_acc_hooks = None
        t._output_nr = t._view_version = 0
        vc = _new(_Version)
        vc.v = 0
        t._vc = vc
        return t

    @staticmethod
    def _wrap(data):
        """Like ``_make``, with the device of the array's backend."""
        b = _backend.of_array(data)
        return Tensor._make(data, CPU if b is _backend.cpu else b.device_of(data))

    def _adopt(self, other):
        """Takes over the data and state of ``other`` (used by subclasses such as Parameter)."""
        for name in Tensor.__slots__[:-2]:
            setattr(self, name, getattr(other, name))

    # ------------------------------------------------------------------ metadata
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        """Returns the shape, or the size of dimension ``dim``."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim, 'size')]

    @property
    def dtype(self):
        return self._dtype

    @property
    def device(self):
        return self._device

    @property
    def is_cuda(self):
        return self._device.type == 'cuda'

    @property
    def is_meta(self):
        return self._device.type == 'meta'

    @property
    def is_cpu(self):
        return self._device.type == 'cpu'

    @property
    def layout(self):
        return _ember.strided

    def dim(self):
        """Number of dimensions."""
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self):
        return self._data.ndim

    def numel(self):
        """Number of elements."""
        return int(self._data.size)

    nelement = numel

    def element_size(self):
        return self._dtype.itemsize

    @property
    def itemsize(self):
        return self._dtype.itemsize

    @property
    def nbytes(self):
        return self._dtype.itemsize * int(self._data.size)

    def stride(self, dim=None):
        """Strides in elements, as PyTorch reports them."""
        arr = self._data
        size = arr.itemsize
        strides = tuple(s // size for s in arr.strides)
        if dim is None:
            return strides
        return strides[_wrap_dim(dim, arr.ndim, 'stride')]

    def storage_offset(self):
        """Offset of the first element in the underlying storage, in elements."""
        base = self._base if self._base is not None else self
        offset = base.__dict__.get('_storage_offset', 0) if base.__dict__ else 0
        if base is self:
            return offset
        b = _backend.get(self._device)
        return offset + (b.data_ptr(self._data) - b.data_ptr(base._data)) // self._data.itemsize

    def is_contiguous(self, memory_format=None):
        """True if the elements are laid out row-major without gaps."""
        arr = self._data
        if arr.size == 0:
            return True     # like torch: an empty tensor is contiguous whatever its strides
        expected = 1
        for n, s in zip(reversed(arr.shape), reversed(self.stride())):
            if n != 1 and s != expected:
                return False
            expected *= n
        return True

    def data_ptr(self):
        return _backend.get(self._device).data_ptr(self._data)

    def is_floating_point(self):
        return self._dtype.category == _dtype.FLOAT

    def is_complex(self):
        return self._dtype.category == _dtype.COMPLEX

    def is_signed(self):
        return self._dtype.is_signed

    def get_device(self):
        return -1 if self._device.type == 'cpu' else (self._device.index or 0)

    def is_inference(self):
        return False

    @property
    def is_sparse(self):
        return False

    @property
    def is_quantized(self):
        return False

    # ------------------------------------------------------------------ autograd state
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if self._grad_fn is not None and not value:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want to use a "
                               "computed variable in a subgraph that doesn't require differentiation use "
                               "var_no_grad = var.detach().")
        if value and self._dtype.category < _dtype.FLOAT:
            raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad=True):
        """Sets ``requires_grad`` in place and returns self."""
        if requires_grad and self._dtype.category < _dtype.FLOAT:
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self.requires_grad = requires_grad
        return self

    @property
    def grad_fn(self):
        if self._base is not None and self._view_version != self._vc.v and self._base._requires_grad:
            from ember.ops._dispatch import _refresh_view
            _refresh_view(self)
        return self._grad_fn

    @property
    def is_leaf(self):
        return self._grad_fn is None

    @property
    def grad(self):
        if self._grad is None and self._grad_fn is not None and not self._retains_grad and self._requires_grad:
            import warnings
            warnings.warn("The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
                          "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
                          "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor.",
                          UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(f"attempting to assign a gradient of size '{list(value._data.shape)}' to a tensor "
                                   f"of size '{list(self._data.shape)}'. Please ensure that the gradient and the "
                                   "tensor are the same size")
            if value._dtype is not self._dtype:
                from ember.ops._registry import SCALAR_NAMES
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{_CPP_TYPE_NAMES[value._dtype.name]}' to a tensor "
                    f"with grad_dtype '{SCALAR_NAMES[self._dtype.name]}'. The gradient must match the tensor's "
                    "grad_dtype (defaults to the tensor's dtype). You can set the tensor's grad_dtype attribute with "
                    "a specific dtype, or None to allow any dtype. Set grad_dtype with caution. Diverging the dtypes "
                    "of a tensor and its gradient may break downstream systems that assume they match.")
            if value._device != self._device:
                raise RuntimeError("assigned grad has data located on a different device")
        self._grad = value

    @property
    def output_nr(self):
        return self._output_nr

    @property
    def _version(self):
        """How many times this tensor's storage was modified in place (shared with its views)."""
        return self._vc.v

    @property
    def retains_grad(self):
        return self._retains_grad

    def retain_grad(self):
        """Makes this non-leaf tensor keep its ``.grad`` after backward."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._grad_fn is None or self._retains_grad:
            return
        import weakref
        self._grad_fn._retain(self._output_nr, weakref.ref(self))
        self._retains_grad = True

    def register_hook(self, hook):
        """Registers ``hook(grad) -> Tensor or None``, run each time a gradient for this tensor is computed."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is not None:
            return self._grad_fn._add_tensor_hook(self._output_nr, hook)
        if self._hooks is None:
            self._hooks = []
        from ember.autograd.graph import RemovableHandle
        self._hooks.append(hook)
        return RemovableHandle(self._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Registers ``hook(tensor)``, run after the gradient was accumulated into this leaf's ``.grad``."""
        if self._grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if self._post_acc_hooks is None:
            self._post_acc_hooks = []
        from ember.autograd.graph import RemovableHandle
        self._post_acc_hooks.append(hook)
        return RemovableHandle(self._post_acc_hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Computes the gradient of this tensor with respect to the graph leaves."""
        from ember.autograd import backward
        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self):
        """A new tensor sharing storage (and version counter) with this one, outside the graph."""
        t = Tensor._make(self._data, self._device)
        t._vc = self._vc
        # NOTE: not a view for autograd (``_base`` is None, as in torch), so in-place ops on it never
        # rewrite this tensor's history; only its position in the shared storage is remembered.
        offset = self.storage_offset()
        if offset:
            t.__dict__['_storage_offset'] = offset
        return t

    def detach_(self):
        """Detaches this tensor from the graph in place."""
        if self._base is not None and self._base._requires_grad:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self):
        return self.detach()

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, not {type(value).__name__}")
        self._data = value._data
        self._dtype = value._dtype
        self._device = value._device

    # ------------------------------------------------------------------ conversion
    def item(self):
        """The value of a one-element tensor as a Python number."""
        arr = self._data
        if arr.size != 1:
            raise RuntimeError(f"a Tensor with {arr.size} elements cannot be converted to Scalar")
        if self._device is CPU:
            return arr.item()
        return _backend.get(self._device).to_numpy(arr).reshape(()).item()

    def tolist(self):
        """The tensor as (nested) Python lists of numbers."""
        return _backend.get(self._device).to_numpy(self._data).tolist()

    def numpy(self, *, force=False):
        """A NumPy array sharing memory with this (cpu) tensor."""
        if self._device.type != 'cpu':
            if not force:
                raise TypeError(f"can't convert {self._device.type}:{self._device.index or 0} device type tensor "
                                "to numpy. Use Tensor.cpu() to copy the tensor to host memory first.")
            return _backend.get(self._device).to_numpy(self._data)
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                               "instead.")
        if self._dtype is _dtype.bfloat16 and not force:
            raise TypeError("Got unsupported ScalarType BFloat16")
        return self._data.copy() if force else self._data

    def __array__(self, dtype=None, copy=None):
        arr = _backend.get(self._device).to_numpy(self._data)
        if dtype is not None:
            arr = arr.astype(dtype, copy=False)
        return arr

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self):
        if self._data.size != 1:
            if self._data.size == 0:
                raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def __index__(self):
        if self._dtype.category > _dtype.INT or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def _scalar(self):
        arr = self._data
        if arr.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        if self._device is CPU:
            return arr.item()
        return self.item()

    def __int__(self):
        return int(self._scalar())

    def __float__(self):
        return float(self._scalar())

    def __complex__(self):
        return complex(self._scalar())

    def __hash__(self):
        return id(self)

    def __format__(self, spec):
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __repr__(self, *, tensor_contents=None):
        from ember._printing import tensor_repr
        return tensor_repr(self, tensor_contents)

    def __reduce_ex__(self, protocol):
        from ember._tensor_pickle import reduce_tensor
        return reduce_tensor(self)

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                               "protocol at the moment.  If you were attempting to deepcopy a module, this may be "
                               "because of a torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        if id(self) in memo:
            return memo[id(self)]
        with _ember.no_grad():
            new = self.clone()
        if type(self) is not Tensor:
            new = type(self)(new, requires_grad=self._requires_grad) if hasattr(type(self), '_is_param') else new
        new._requires_grad = self._requires_grad
        if self._grad is not None:
            new._grad = self._grad.__deepcopy__(memo)
        extra = {k: v for k, v in self.__dict__.items() if k not in _STORAGE_FLAGS}
        if extra:
            import copy
            new.__dict__.update(copy.deepcopy(extra, memo))
        memo[id(self)] = new
        return new

    # ------------------------------------------------------------------ device and dtype moves
    def to(self, *args, **kwargs):
        """Returns the tensor with another dtype and/or device (self if nothing changes)."""
        dtype = kwargs.pop('dtype', None)
        device = kwargs.pop('device', None)
        copy = kwargs.pop('copy', False)
        kwargs.pop('non_blocking', None)
        kwargs.pop('memory_format', None)
        if kwargs:
            raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
        for a in args:
            if isinstance(a, _dtype.dtype):
                dtype = a
            elif isinstance(a, Tensor):
                dtype, device = a._dtype, a._device
            elif isinstance(a, (str, _ember.device, int)):
                device = a
            elif isinstance(a, bool):
                continue
            else:
                raise TypeError(f"to() received an invalid combination of arguments: {type(a).__name__}")
        result = self
        if device is not None:
            device = as_device(device)
            if device.type == 'cuda' and device.index is None:
                device = _ember.device('cuda', 0)
            if device != self._device:
                from ember.ops.creation import to_device
                result = to_device(result, device)
        if dtype is not None and dtype is not result._dtype:
            result = _ember.ops.pointwise.to_dtype(result, dtype)
        if copy and result is self:
            result = self.clone()
        return result

    def cpu(self):
        return self.to('cpu')

    def cuda(self, device=None, non_blocking=False):
        return self.to(_ember.device('cuda', device if isinstance(device, int) else 0) if not isinstance(
            device, (str, _ember.device)) else device)

    def type(self, dtype=None, non_blocking=False):
        if dtype is None:
            return 'torch.' + self._dtype.legacy_name
        if isinstance(dtype, str):
            name = dtype.rsplit('.', 1)[-1]
            dtype = next(d for d in _dtype.ALL if d.legacy_name == name)
        return self.to(dtype)

    def float(self):
        return self.to(_dtype.float32)

    def double(self):
        return self.to(_dtype.float64)

    def half(self):
        return self.to(_dtype.float16)

    def bfloat16(self):
        return self.to(_dtype.bfloat16)

    def long(self):
        return self.to(_dtype.int64)

    def int(self):
        return self.to(_dtype.int32)

    def short(self):
        return self.to(_dtype.int16)

    def char(self):
        return self.to(_dtype.int8)

    def byte(self):
        return self.to(_dtype.uint8)

    def bool(self):
        return self.to(_dtype.bool_)

    def cfloat(self):
        return self.to(_dtype.complex64)

    def cdouble(self):
        return self.to(_dtype.complex128)

    def type_as(self, other):
        return self.to(other._dtype)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        return _ember.tensor(data, dtype=dtype or self._dtype, device=device or self._device,
                             requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return _ember.zeros(*size, dtype=dtype or self._dtype, device=device or self._device,
                            requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return _ember.ones(*size, dtype=dtype or self._dtype, device=device or self._device,
                           requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return _ember.empty(*size, dtype=dtype or self._dtype, device=device or self._device,
                            requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        return _ember.full(size, fill_value, dtype=dtype or self._dtype, device=device or self._device,
                           requires_grad=requires_grad)

    # ------------------------------------------------------------------ operators
    def __add__(self, other):
        return _ember.add(self, other)

    def __radd__(self, other):
        return _ember.add(self, other)

    def __iadd__(self, other):
        return self.add_(other)

    def __sub__(self, other):
        return _ember.sub(self, other)

    def __rsub__(self, other):
        return _ember.rsub(self, other)

    def __isub__(self, other):
        return self.sub_(other)

    def __mul__(self, other):
        return _ember.mul(self, other)

    def __rmul__(self, other):
        return _ember.mul(self, other)

    def __imul__(self, other):
        return self.mul_(other)

    def __truediv__(self, other):
        return _ember.div(self, other)

    def __rtruediv__(self, other):
        return _ember.ops.pointwise.rdiv(self, other)

    def __itruediv__(self, other):
        return self.div_(other)

    def __floordiv__(self, other):
        return _ember.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _ember.floor_divide(_ember.ops.pointwise.scalar_like(other, self), self)

    def __ifloordiv__(self, other):
        return self.floor_divide_(other)

    def __mod__(self, other):
        return _ember.remainder(self, other)

    def __rmod__(self, other):
        return _ember.remainder(_ember.ops.pointwise.scalar_like(other, self), self)

    def __imod__(self, other):
        return self.remainder_(other)

    def __pow__(self, other):
        return _ember.pow(self, other)

    def __rpow__(self, other):
        return _ember.pow(_ember.ops.pointwise.scalar_like(other, self), self)

    def __ipow__(self, other):
        return self.pow_(other)

    def __matmul__(self, other):
        return _ember.matmul(self, other)

    def __rmatmul__(self, other):
        return _ember.matmul(other, self)

    def __neg__(self):
        return _ember.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ember.abs(self)

    def __invert__(self):
        return _ember.bitwise_not(self)

    def __and__(self, other):
        return _ember.bitwise_and(self, other)

    __rand__ = __and__

    def __iand__(self, other):
        return self.bitwise_and_(other)

    def __or__(self, other):
        return _ember.bitwise_or(self, other)

    __ror__ = __or__

    def __ior__(self, other):
        return self.bitwise_or_(other)

    def __xor__(self, other):
        return _ember.bitwise_xor(self, other)

    __rxor__ = __xor__

    def __ixor__(self, other):
        return self.bitwise_xor_(other)

    def __lshift__(self, other):
        return _ember.bitwise_left_shift(self, other)

    def __rshift__(self, other):
        return _ember.bitwise_right_shift(self, other)

    def __eq__(self, other):
        return _ember.eq(self, other)

    def __ne__(self, other):
        return _ember.ne(self, other)

    def __lt__(self, other):
        return _ember.lt(self, other)

    def __le__(self, other):
        return _ember.le(self, other)

    def __gt__(self, other):
        return _ember.gt(self, other)

    def __ge__(self, other):
        return _ember.ge(self, other)

    def __getitem__(self, index):
        return _ember.ops.indexing.getitem(self, index)

    def __setitem__(self, index, value):
        _ember.ops.indexing.setitem(self, index, value)

    @property
    def T(self):
        return self.permute(*range(self._data.ndim - 1, -1, -1))

    @property
    def mT(self):
        if self._data.ndim < 2:
            raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got "
                               f"{self._data.ndim}-D tensor.")
        return self.transpose(-2, -1)

    @property
    def H(self):
        return self.T.conj() if self.is_complex() else self.T

    @property
    def mH(self):
        return self.mT.conj() if self.is_complex() else self.mT

    @property
    def real(self):
        return _ember.real(self)

    @property
    def imag(self):
        return _ember.imag(self)


# per-tensor notes about its storage kept in __dict__ (not copied to a tensor with new storage):
# where a detached tensor starts in its storage; a view made under no_grad of a tensor requiring grad
_STORAGE_FLAGS = ('_storage_offset', '_no_grad_view')

# C++ element type names, as torch's messages print them
_CPP_TYPE_NAMES = {'bool': 'bool', 'uint8': 'unsigned char', 'int8': 'signed char', 'int16': 'short int',
                   'int32': 'int', 'int64': 'long int', 'float16': 'c10::Half', 'bfloat16': 'c10::BFloat16',
                   'float32': 'float', 'float64': 'double', 'complex64': 'c10::complex<float>',
                   'complex128': 'c10::complex<double>'}


def _wrap_dim(dim, ndim, name='dim'):
    """Normalises a possibly negative ``dim`` for a tensor of ``ndim`` dims, raising torch's IndexError."""
    n = ndim if ndim > 0 else 1
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim + n if dim < 0 else dim
