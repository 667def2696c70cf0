"""dtypes and PyTorch's type-promotion rules.

Each ``ember.dtype`` wraps the NumPy dtype that stores its values (bfloat16
comes from ``ml_dtypes``).  Promotion follows PyTorch, not NumPy: an integer
meets a float16 and gives float16, a Python scalar never upcasts a tensor of
its own category, and zero-dim tensors rank below dimensioned ones.
"""
import numpy as np

try:
    import ml_dtypes as _ml_dtypes
except ImportError:  # bfloat16 is then unavailable
    _ml_dtypes = None

BOOL, INT, FLOAT, COMPLEX = 0, 1, 2, 3


class dtype:
    """A tensor element type, e.g. ``ember.float32``."""

    __slots__ = ('name', 'np', 'itemsize', 'category', 'is_signed', '_rank', 'legacy_name')

    def __init__(self, name, np_dtype, category, rank, legacy_name):
        self.name = name
        self.np = np.dtype(np_dtype) if np_dtype is not None else None
        self.itemsize = self.np.itemsize if self.np is not None else 2
        self.category = category
        self.is_signed = name not in ('uint8', 'bool')
        self._rank = rank
        self.legacy_name = legacy_name

    @property
    def is_floating_point(self):
        return self.category == FLOAT

    @property
    def is_complex(self):
        return self.category == COMPLEX

    def to_real(self):
        return {complex64: float32, complex128: float64}.get(self, self)

    def to_complex(self):
        return {float64: complex128, complex128: complex128}.get(self, complex64)

    def __repr__(self):
        return 'torch.' + self.name

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))


def _dtype_by_name(name):
    return _BY_NAME[name]


bool_ = dtype('bool', np.bool_, BOOL, 0, 'BoolTensor')
uint8 = dtype('uint8', np.uint8, INT, 1, 'ByteTensor')
int8 = dtype('int8', np.int8, INT, 1, 'CharTensor')
int16 = dtype('int16', np.int16, INT, 2, 'ShortTensor')
int32 = dtype('int32', np.int32, INT, 3, 'IntTensor')
int64 = dtype('int64', np.int64, INT, 4, 'LongTensor')
float16 = dtype('float16', np.float16, FLOAT, 1, 'HalfTensor')
bfloat16 = dtype('bfloat16', _ml_dtypes.bfloat16 if _ml_dtypes else None, FLOAT, 1, 'BFloat16Tensor')
float32 = dtype('float32', np.float32, FLOAT, 2, 'FloatTensor')
float64 = dtype('float64', np.float64, FLOAT, 3, 'DoubleTensor')
complex64 = dtype('complex64', np.complex64, COMPLEX, 2, 'ComplexFloatTensor')
complex128 = dtype('complex128', np.complex128, COMPLEX, 3, 'ComplexDoubleTensor')

ALL = (bool_, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64, complex64, complex128)
_BY_NAME = {d.name: d for d in ALL}
_BY_NP = {d.np: d for d in ALL if d.np is not None}
_BY_NP[np.dtype(np.float64)] = float64

# aliases torch exposes
ALIASES = {'bool': bool_, 'half': float16, 'float': float32, 'double': float64, 'short': int16,
           'int': int32, 'long': int64, 'cfloat': complex64, 'cdouble': complex128,
           'complex32': None}


def from_numpy_dtype(np_dtype):
    """The ember dtype that stores values as ``np_dtype``."""
    try:
        return _BY_NP[np_dtype]
    except KeyError:
        d = np.dtype(np_dtype)
        if d in _BY_NP:
            return _BY_NP[d]
        if d == np.uint16 or d == np.uint32 or d == np.uint64:
            raise TypeError(f"can't convert np.ndarray of type numpy.{d.name}. The only supported types are: "
                            "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint8, and bool.")
        raise TypeError(f"can't convert np.ndarray of type numpy.{d}. The only supported types are: "
                        "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint8, and bool.")


_default_dtype = float32


def get_default_dtype():
    """Returns the current default floating point dtype (initially ``float32``)."""
    return _default_dtype


def set_default_dtype(d):
    """Sets the default floating point dtype to ``d`` (float16, bfloat16, float32 or float64)."""
    global _default_dtype
    if not isinstance(d, dtype) or d.category != FLOAT:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_dtype = d


def _default_complex():
    return complex128 if _default_dtype is float64 else complex64


def promote_types(type1, type2):
    """Returns the smallest dtype to which both ``type1`` and ``type2`` can be cast."""
    if type1 is type2:
        return type1
    c1, c2 = type1.category, type2.category
    if c1 < c2 or (c1 == c2 and type1._rank < type2._rank):
        type1, type2 = type2, type1
        c1, c2 = c2, c1
    # type1 is now the higher one
    if c1 == COMPLEX:
        if c2 == FLOAT and type2 is float64:
            return complex128
        return type1
    if c1 == FLOAT:
        if c2 == FLOAT and type1._rank == type2._rank:  # float16 with bfloat16
            return float32
        return type1
    if c1 == INT:
        if c2 == INT:
            if type1._rank == type2._rank:  # uint8 with int8
                return int16
            if type2 is uint8 and type1 is int8:
                return int16
            return type1
        return type1
    return type1


def _combine(higher, lower):
    # PyTorch's combine_categories: the dimensioned result keeps its width
    # unless a lower-priority operand brings a higher category.
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.category == COMPLEX:
        return higher
    if lower.category == COMPLEX:
        if higher.category == FLOAT:
            return higher.to_complex()
        return lower
    if higher.category == FLOAT:
        return higher
    if higher is bool_ or lower.category == FLOAT:
        return promote_types(higher, lower)
    return higher


def _scalar_dtype(value):
    if isinstance(value, bool):
        return bool_
    if isinstance(value, int):
        return int64
    if isinstance(value, float):
        return _default_dtype
    if isinstance(value, complex):
        return _default_complex()
    if isinstance(value, np.generic):
        return _scalar_dtype(value.item())
    raise TypeError(f"result_type(): unsupported operand of type {type(value).__name__}")


def result_type_of(operands):
    """Promotion over tensors and Python scalars, as ``torch.result_type``."""
    dim = zero = wrapped = None
    for x in operands:
        d = getattr(x, '_dtype', None)
        if d is None:
            s = _scalar_dtype(x)
            wrapped = s if wrapped is None else promote_types(wrapped, s)
        elif x._data.ndim == 0 if x._data is not None else len(x.shape) == 0:
            zero = d if zero is None else promote_types(zero, d)
        else:
            dim = d if dim is None else promote_types(dim, d)
    return _combine(dim, _combine(zero, wrapped))


def can_cast(from_, to):
    """Whether a cast from ``from_`` to ``to`` is allowed by PyTorch's casting rules."""
    if from_.category == COMPLEX and to.category != COMPLEX:
        return False
    if from_.category == FLOAT and to.category < FLOAT:
        return False
    if from_.category != BOOL and to.category == BOOL:
        return False
    return True
