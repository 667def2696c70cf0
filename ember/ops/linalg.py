"""Linear algebra products: matmul and its family (mm, bmm, mv, dot, addmm, ...), cross, trace,
matrix_power, multi_dot.

``matmul`` is one GEMM call (``xp.matmul``) forward and two backward; the
1-D cases are lifted to matrices inside the derivative rule, and broadcast
batch dims are summed back by the engine.  einsum, tensordot and kron live in
``linalg_einsum``, the decompositions in ``linalg_decomp``, norms and the
functions built on decompositions in ``linalg_funcs``.
"""
import numpy as np

from ember import _dtype
from ember import backend as _backend
from ember._tensor import Tensor
from ember.ops._dispatch import apply, apply_out
from ember.ops._registry import ErrorSample, Sample, composite, defop
from ember.ops._util import wrap_dim

_EMPTY = {}

# c10's names for dtypes, as torch's matmul dtype errors print them
_C10_NAMES = {'float32': 'float', 'float64': 'double', 'float16': 'c10::Half', 'bfloat16': 'c10::BFloat16',
              'int64': 'long int', 'int32': 'int', 'int16': 'short int', 'int8': 'signed char',
              'uint8': 'unsigned char', 'bool': 'bool', 'complex64': 'c10::complex<float>',
              'complex128': 'c10::complex<double>'}


# ----------------------------------------------------------------------------- helpers for rules

def mT(F, x):
    """``x`` with its last two dims swapped (a view), on arrays or Tensors."""
    nd = x.ndim
    dims = tuple(range(nd - 2)) + (nd - 1, nd - 2)
    return F.permute(x, dims=dims)


def unsq(F, x, dim):
    """``x.unsqueeze(dim)`` for a possibly negative ``dim``."""
    return F.unsqueeze(x, dim=dim if dim >= 0 else x.ndim + 1 + dim)


def sq(F, x, dim):
    """``x.squeeze(dim)`` for a possibly negative ``dim``."""
    return F.squeeze(x, dims=(dim if dim >= 0 else x.ndim + dim,))


def eye(F, like, n, m=None, k=0):
    """A constant identity (``n`` x ``m``, diagonal ``k``) with ``like``'s dtype and device."""
    return F.linalg_eye(like, n=n, m=n if m is None else m, k=k)


def tri(F, like, n, k=0):
    """A constant lower-triangular mask of ones (``xp.tri``) with ``like``'s dtype and device."""
    return F.linalg_tri(like, n=n, k=k)


@defop('linalg_eye', public='', gradcheck=False, dtypes='all')
def _linalg_eye(xp, like, n, m, k):
    return xp.eye(n, m, k, dtype=like.dtype)


@defop('linalg_tri', public='', gradcheck=False, dtypes='all')
def _linalg_tri(xp, like, n, k):
    return xp.tri(n, n, k, dtype=like.dtype)


# ----------------------------------------------------------------------------- matmul family

_BF16 = _dtype.bfloat16.np


def _matmul_kernel(xp, a, b):
    if a.dtype == _BF16:  # ml_dtypes' bfloat16 has no fast matmul loop
        return xp.matmul(a.astype(xp.float32), b.astype(xp.float32)).astype(a.dtype)
    return xp.matmul(a, b)


def _matmul_rule(F, ctx, grad):
    a, b = ctx.inputs
    na, nb = a.ndim, b.ndim
    need_a, need_b = ctx.needs_input_grad
    if na == 1 and nb == 1:
        return (F.mul(grad, F.conj(b)) if need_a else None), (F.mul(grad, F.conj(a)) if need_b else None)
    g = grad
    if nb == 1:
        g = unsq(F, g, -1)          # (..., m, 1)
    if na == 1:
        g = unsq(F, g, -2)          # (..., 1, n)
    ga = gb = None
    if need_a:
        b_t = F.unsqueeze(b, dim=0) if nb == 1 else mT(F, b)
        ga = F.matmul(g, F.conj(b_t))
        if na == 1:
            ga = sq(F, ga, -2)
    if need_b:
        a_t = F.unsqueeze(a, dim=1) if na == 1 else mT(F, a)
        gb = F.matmul(F.conj(a_t), g)
        if nb == 1:
            gb = sq(F, gb, -1)
    return ga, gb


_matmul = defop('matmul', save='inputs', dtypes='numeric')(_matmul_kernel)
_matmul.derivative(_matmul_rule)
_mm = defop('mm', save='inputs', dtypes='numeric')(_matmul_kernel)
_mm.derivative(_matmul_rule)
_bmm = defop('bmm', save='inputs', dtypes='numeric')(_matmul_kernel)
_bmm.derivative(_matmul_rule)
_mv = defop('mv', save='inputs', dtypes='numeric')(_matmul_kernel)
_mv.derivative(_matmul_rule)
_dot = defop('dot', save='inputs', dtypes='numeric')(_matmul_kernel)
_dot.derivative(_matmul_rule)


def _check_tensor(x, fn, arg, pos):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")


def _check_same_dtype(a, b):
    if a._dtype is not b._dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_C10_NAMES[a._dtype.name]} != "
                           f"{_C10_NAMES[b._dtype.name]}")
    if a._dtype is _dtype.bool_:
        raise NotImplementedError("\"addmm_impl_cpu_\" not implemented for 'Bool'")


def _mat(shape):
    return 'x'.join(str(n) for n in shape)


def _prod(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def _broadcast_batch(sa, sb):
    """The broadcast of batch shapes ``sa`` and ``sb``, with torch's error when they do not broadcast."""
    out = []
    for i in range(1, max(len(sa), len(sb)) + 1):
        x = sa[-i] if i <= len(sa) else 1
        y = sb[-i] if i <= len(sb) else 1
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"The size of tensor a ({x}) must match the size of tensor b ({y}) at non-singleton "
                               f"dimension {max(len(sa), len(sb)) - i}")
        out.append(max(x, y) if x and y else 0)
    return tuple(reversed(out))


def _matmul_shape_error(sa, sb):
    """torch's message for operands of matmul whose shapes do not fit (None if they fit)."""
    na, nb = len(sa), len(sb)
    if na == 0 or nb == 0:
        return f"both arguments to matmul need to be at least 1D, but they are {na}D and {nb}D"
    if na == 1 and nb == 1:
        if sa[0] != sb[0]:
            return (f"inconsistent tensor size, expected tensor [{sa[0]}] and src [{sb[0]}] to have the same "
                    f"number of elements, but got {sa[0]} and {sb[0]} elements respectively")
        return None
    if nb == 1 and na >= 2:
        if sa[-1] != sb[0]:
            rows = _prod(sa[:-1])
            return f"size mismatch, got input ({rows}), mat ({rows}x{sa[-1]}), vec ({sb[0]})"
        return None
    if nb == 2:
        if na == 1:
            sa2 = (1, sa[0])
        else:
            sa2 = (_prod(sa[:-1]), sa[-1])
        if sa2[1] != sb[0]:
            return f"mat1 and mat2 shapes cannot be multiplied ({_mat(sa2)} and {_mat(sb)})"
        return None
    batch = _broadcast_batch(sa[:-2], sb[:-2])
    k = sa[-1]
    p = sb[-2]
    if k != p:
        n = _prod(batch)
        return (f"Expected size for first two dimensions of batch2 tensor to be: [{n}, {k}] but got: "
                f"[{n}, {p}].")
    return None


def matmul(input, other, *, out=None):
    """Matrix product with NumPy/torch broadcasting: 1-D operands are vectors, leading dims are batch dims."""
    _check_tensor(input, 'matmul', 'input', 1)
    _check_tensor(other, 'matmul', 'other', 2)
    sa, sb = input._data.shape, other._data.shape
    if not (len(sa) == 2 and len(sb) == 2 and sa[1] == sb[0]):
        msg = _matmul_shape_error(sa, sb)
        if msg is not None:
            raise RuntimeError(msg)
    _check_same_dtype(input, other)
    if out is not None:
        return apply_out(_matmul, (input, other), _EMPTY, out)
    return apply(_matmul, (input, other))


def mm(input, mat2, *, out=None):
    """Matrix product of two 2-D tensors."""
    _check_tensor(input, 'mm', 'input', 1)
    _check_tensor(mat2, 'mm', 'mat2', 2)
    if input._data.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2._data.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    sa, sb = input._data.shape, mat2._data.shape
    if sa[1] != sb[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_mat(sa)} and {_mat(sb)})")
    _check_same_dtype(input, mat2)
    if out is not None:
        return apply_out(_mm, (input, mat2), _EMPTY, out)
    return apply(_mm, (input, mat2))


def _check_bmm(b1, b2):
    if b1._data.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b2._data.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    s1, s2 = b1._data.shape, b2._data.shape
    if s2[0] != s1[0] or s2[1] != s1[2]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{s1[0]}, {s1[2]}] but "
                           f"got: [{s2[0]}, {s2[1]}].")
    _check_same_dtype(b1, b2)


def bmm(input, mat2, *, out=None):
    """Batched matrix product of two 3-D tensors with the same batch size."""
    _check_tensor(input, 'bmm', 'input', 1)
    _check_tensor(mat2, 'bmm', 'mat2', 2)
    _check_bmm(input, mat2)
    if out is not None:
        return apply_out(_bmm, (input, mat2), _EMPTY, out)
    return apply(_bmm, (input, mat2))


def mv(input, vec, *, out=None):
    """Matrix-vector product."""
    _check_tensor(input, 'mv', 'input', 1)
    _check_tensor(vec, 'mv', 'vec', 2)
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input._data.ndim}, {vec._data.ndim}")
    sa, sv = input._data.shape, vec._data.shape
    if sa[1] != sv[0]:
        raise RuntimeError(f"size mismatch, got input ({sa[0]}), mat ({_mat(sa)}), vec ({sv[0]})")
    _check_same_dtype(input, vec)
    if out is not None:
        return apply_out(_mv, (input, vec), _EMPTY, out)
    return apply(_mv, (input, vec))


def _check_dot(a, b, name='dot'):
    if a._data.ndim != 1 or b._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a._data.ndim}D and {b._data.ndim}D tensors")
    if a._dtype is not b._dtype:
        raise RuntimeError(f"{name} : expected both vectors to have same dtype, but found "
                           f"{a._dtype.legacy_name[:-6]} and {b._dtype.legacy_name[:-6]}")
    n, m = a._data.shape[0], b._data.shape[0]
    if n != m:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to have the same number "
                           f"of elements, but got {n} and {m} elements respectively")


def dot(input, tensor, *, out=None):
    """Dot product of two 1-D tensors."""
    _check_tensor(input, 'dot', 'input', 1)
    _check_tensor(tensor, 'dot', 'tensor', 2)
    _check_dot(input, tensor)
    if out is not None:
        return apply_out(_dot, (input, tensor), _EMPTY, out)
    return apply(_dot, (input, tensor))


def vdot(input, other, *, out=None):
    """Dot product of two 1-D tensors, conjugating the first."""
    _check_tensor(input, 'vdot', 'input', 1)
    _check_tensor(other, 'vdot', 'other', 2)
    _check_dot(input, other, 'vdot')
    if input._dtype.category == _dtype.COMPLEX:
        from ember.ops.pointwise import conj
        input = conj(input)
    if out is not None:
        return apply_out(_dot, (input, other), _EMPTY, out)
    return apply(_dot, (input, other))


def inner(input, other, *, out=None):
    """Inner product over the last dims (``input.shape[:-1] + other.shape[:-1]``)."""
    from ember.ops.pointwise import mul
    if input._data.ndim == 0 or other._data.ndim == 0:
        return mul(input, other, out=out)
    sa, sb = input._data.shape, other._data.shape
    if sa[-1] != sb[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(sa)} and {list(sb)}")
    from ember.ops.linalg_einsum import tensordot
    result = tensordot(input, other, dims=([-1], [-1]))
    return _finish_out(result, out)


def _finish_out(result, out):
    if out is None:
        return result
    from ember.ops._dispatch import write_out
    return write_out(result, out)


def outer(input, vec2, *, out=None):
    """Outer product of two 1-D tensors."""
    from ember.ops.pointwise import mul
    from ember.ops.shape import unsqueeze
    for x, name in ((input, 'self'), (vec2, 'vec2')):
        if x._data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {x._data.ndim}-D")
    return mul(unsqueeze(input, 1), unsqueeze(vec2, 0), out=out)


ger = outer


def _scaled(x, s):
    from ember.ops.pointwise import mul
    return x if s == 1 else mul(x, s)


def _add_scaled(input, prod, beta, alpha, out):
    """``beta * input + alpha * prod``, with beta == 0 ignoring ``input`` (nan and inf too), as torch does."""
    from ember.ops.pointwise import add
    if input._dtype is not prod._dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {input._dtype.legacy_name[:-6]} and "
                           f"{prod._dtype.legacy_name[:-6]}")
    prod = _scaled(prod, alpha)
    if beta == 0:
        result = add(prod, _zeros_from(input))
    else:
        result = add(_scaled(input, beta), prod)
    if tuple(result.shape) != tuple(prod.shape):
        raise RuntimeError(f"The expanded size of the tensor must match the existing size: cannot broadcast input "
                           f"of shape {list(input.shape)} to {list(prod.shape)}")
    return _finish_out(result, out)


def _zeros_from(input):
    """Zeros shaped like ``input`` that carry no dependence on its (possibly non-finite) values."""
    xp = _backend.get(input._device).xp
    return Tensor._make(xp.zeros(input._data.shape, input._data.dtype), input._device)


def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * (mat1 @ mat2)``."""
    return _add_scaled(input, mm(mat1, mat2), beta, alpha, out)


def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * (mat @ vec)``."""
    return _add_scaled(input, mv(mat, vec), beta, alpha, out)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * bmm(batch1, batch2)``."""
    return _add_scaled(input, bmm(batch1, batch2), beta, alpha, out)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * sum_b(batch1[b] @ batch2[b])``."""
    _check_tensor(batch1, 'addbmm', 'batch1', 2)
    _check_bmm(batch1, batch2)
    # one GEMM over the flattened batch: (m, b*k) @ (b*k, n)
    b, m, k = batch1._data.shape
    n = batch2._data.shape[2]
    from ember.ops.shape import permute, reshape
    left = reshape(permute(batch1, 1, 0, 2), (m, b * k))
    right = reshape(batch2, (b * k, n))
    return _add_scaled(input, apply(_mm, (left, right)), beta, alpha, out)


def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    """``beta * input + alpha * outer(vec1, vec2)``."""
    return _add_scaled(input, outer(vec1, vec2), beta, alpha, out)


def addmm_(self, mat1, mat2, *, beta=1, alpha=1):
    """In-place ``addmm``."""
    from ember.ops._dispatch import _check_inplace_target, rebase_history, _write
    _check_inplace_target(self, 'addmm')
    result = addmm(self, mat1, mat2, beta=beta, alpha=alpha)
    _write(self, result._data)
    rebase_history(self, result)
    return self


def _matmul_samples(make):
    return [Sample(make((3, 4)), make((4, 5))), Sample(make((4,)), make((4,))), Sample(make((4,)), make((4, 5))),
            Sample(make((3, 4)), make((4,))), Sample(make((2, 3, 4)), make((4, 5))),
            Sample(make((2, 1, 3, 4)), make((3, 4, 2))), Sample(make((4,)), make((2, 4, 5))),
            Sample(make((2, 3, 4)), make((4,))), Sample(make((3, 4)), make((2, 4, 5))),
            Sample(make((0, 3)), make((3, 4))), Sample(make((2, 0)), make((0, 4))),
            Sample(make((3, 4), 'int64', -3, 3), make((4, 2), 'int64', -3, 3), grad=False)]


def _matmul_errors(make):
    return [ErrorSample(make((64, 784)), make((128, 10)), match=r'mat1 and mat2 shapes cannot be multiplied '
                                                               r'\(64x784 and 128x10\)'),
            ErrorSample(make((3,)), make((4,)), match=r'inconsistent tensor size'),
            ErrorSample(make((2, 3)), make((4,)), match=r'size mismatch, got input \(2\), mat \(2x3\), vec \(4\)'),
            ErrorSample(make((3,)), make((4, 5)), match=r'\(1x3 and 4x5\)'),
            ErrorSample(make((2, 2, 3)), make((4, 5)), match=r'\(4x3 and 4x5\)'),
            ErrorSample(make((2, 2, 3)), make((3, 4, 5)), match=r'size of tensor a \(2\) must match'),
            ErrorSample(make((5,)), make((2, 4, 5)), match=r'to be: \[2, 5\] but got: \[2, 4\]'),
            ErrorSample(make(()), make((3,)), match=r'at least 1D, but they are 0D and 1D'),
            ErrorSample(make((2, 3)), make((3, 2)).astype('float64'), match=r'same dtype, but got: float != double')]


_matmul.samples = _matmul_samples
_matmul.error_samples = _matmul_errors
_matmul.grad_name = 'MmBackward0'
_mm.samples = lambda make: [Sample(make((3, 4)), make((4, 5))), Sample(make((0, 3)), make((3, 4))),
                            Sample(make((3, 0)), make((0, 4))),
                            Sample(make((3, 4), 'int32', -3, 3), make((4, 2), 'int32', -3, 3), grad=False)]
_mm.error_samples = lambda make: [
    ErrorSample(make((2, 3)), make((4, 5)), match=r'\(2x3 and 4x5\)'),
    ErrorSample(make((3,)), make((3, 5)), match='self must be a matrix')]
_bmm.samples = lambda make: [Sample(make((2, 3, 4)), make((2, 4, 5))), Sample(make((0, 3, 4)), make((0, 4, 2)))]
_bmm.error_samples = lambda make: [
    ErrorSample(make((2, 2, 3)), make((2, 4, 5)), match=r'to be: \[2, 3\] but got: \[2, 4\]'),
    ErrorSample(make((2, 3)), make((3, 5)), match='batch1 must be a 3D tensor')]
_mv.samples = lambda make: [Sample(make((3, 4)), make((4,))), Sample(make((0, 4)), make((4,)))]
_mv.error_samples = lambda make: [
    ErrorSample(make((2, 3)), make((4,)), match=r'size mismatch, got input \(2\), mat \(2x3\), vec \(4\)'),
    ErrorSample(make((2, 3)), make((4, 1)), match=r'vector \+ matrix @ vector expected, got 1, 2, 2')]
_dot.samples = lambda make: [Sample(make((5,)), make((5,))), Sample(make((0,)), make((0,))),
                             Sample(make((4,), 'int64', -3, 3), make((4,), 'int64', -3, 3), grad=False)]
_dot.error_samples = lambda make: [
    ErrorSample(make((3,)), make((4,)), match='inconsistent tensor size'),
    ErrorSample(make((3, 1)), make((3,)), match='1D tensors expected, but got 2D and 1D tensors'),
    ErrorSample(make((3,)), make((3,)).astype('float64'), match='same dtype, but found Float and Double')]

composite('vdot', samples=lambda make: [Sample(make((5,)), make((5,)))])
composite('inner', samples=lambda make: [Sample(make((2, 3)), make((4, 3))), Sample(make((3,)), make((3,))),
                                         Sample(make(()), make((2, 3))), Sample(make((2, 1, 3)), make((3,)))])
composite('outer', samples=lambda make: [Sample(make((3,)), make((4,))), Sample(make((0,)), make((4,)))])
composite('ger', samples=lambda make: [Sample(make((3,)), make((2,)))])
composite('addmm', samples=lambda make: [
    Sample(make((2, 5)), make((2, 3)), make((3, 5))), Sample(make((5,)), make((2, 3)), make((3, 5))),
    Sample(make((2, 5)), make((2, 3)), make((3, 5)), beta=0.5, alpha=2.0),
    Sample(make((2, 1)), make((2, 3)), make((3, 5)), beta=0, alpha=-1.5)])
composite('addmv', samples=lambda make: [Sample(make((2,)), make((2, 3)), make((3,))),
                                         Sample(make((1,)), make((2, 3)), make((3,)), beta=2.0, alpha=0.5)])
composite('baddbmm', samples=lambda make: [Sample(make((2, 3, 5)), make((2, 3, 4)), make((2, 4, 5))),
                                           Sample(make((3, 5)), make((2, 3, 4)), make((2, 4, 5)), beta=0.5,
                                                  alpha=-2.0)])
composite('addbmm', samples=lambda make: [Sample(make((3, 5)), make((2, 3, 4)), make((2, 4, 5))),
                                          Sample(make((5,)), make((2, 3, 4)), make((2, 4, 5)), beta=0.5,
                                                 alpha=2.0)])
composite('addr', samples=lambda make: [Sample(make((3, 4)), make((3,)), make((4,))),
                                        Sample(make((3, 4)), make((3,)), make((4,)), beta=2.0, alpha=0.5)])


# ----------------------------------------------------------------------------- cross / trace

@defop('linalg_cross', dtypes='numeric', save='inputs', public='linalg.cross')
def _linalg_cross(xp, a, b, dim):
    a, b = xp.broadcast_arrays(a, b)
    out = xp.cross(xp.moveaxis(a, dim, -1), xp.moveaxis(b, dim, -1))
    return xp.moveaxis(out, -1, dim)


@_linalg_cross.derivative
def _(F, ctx, grad):
    a, b = ctx.inputs
    dim = ctx.params['dim']
    ga = F.linalg_cross(b, grad, dim=dim) if ctx.needs_input_grad[0] else None
    gb = F.linalg_cross(grad, a, dim=dim) if ctx.needs_input_grad[1] else None
    return ga, gb


def _cross(input, other, dim, name):
    nd = max(input._data.ndim, other._data.ndim)
    sa, sb = input._data.shape, other._data.shape
    if input._data.ndim != other._data.ndim and name == 'linalg.cross':
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    d = wrap_dim(dim, nd)
    la, lb = ((1,) * (nd - len(sa)) + sa)[d], ((1,) * (nd - len(sb)) + sb)[d]
    if la != 3 or lb != 3:
        raise RuntimeError(f"{name}: inputs dimension {dim} must have length 3. Got {la} and {lb}")
    _broadcast_batch(sa, sb)
    if input._dtype is not other._dtype:
        raise RuntimeError(f"expected scalar type {input._dtype.legacy_name[:-6]} but found "
                           f"{other._dtype.legacy_name[:-6]}")
    return apply(_linalg_cross, (input, other), {'dim': d})


def linalg_cross(input, other, *, dim=-1, out=None):
    """Cross product of 3-vectors along ``dim`` (broadcasting the other dims)."""
    return _finish_out(_cross(input, other, dim, 'linalg.cross'), out)


def cross(input, other, dim=None, *, out=None):
    """Cross product along ``dim`` (default: the first dim of size 3)."""
    if dim is None:
        import warnings
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim "
                      "explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree "
                      "with that of linalg.cross in a future release.", UserWarning, stacklevel=2)
        shape = input._data.shape
        dim = next((i for i, n in enumerate(shape) if n == 3), -1)
    return _finish_out(_cross(input, other, dim, 'linalg.cross'), out)


_linalg_cross.samples = lambda make: [Sample(make((4, 3)), make((4, 3))), Sample(make((2, 3)), make((1, 3))),
                                      Sample(make((3, 2)), make((3, 2)), dim=0), Sample(make((3,)), make((3,)))]
_linalg_cross.error_samples = lambda make: [ErrorSample(make((2, 3)), make((2, 4)),
                                                        match='dimension -1 must have length 3. Got 3 and 4')]


@defop('trace', dtypes='numeric')
def _trace(xp, a):
    return xp.asarray(xp.trace(a, dtype=xp.int64 if a.dtype.kind in 'biu' else a.dtype))


@_trace.derivative
def _(F, ctx, grad):
    n, m = ctx.input_meta[0][0]
    return F.mul(eye(F, grad, n, m), grad)


def trace(input):
    """Sum of the main diagonal of a 2-D tensor."""
    if input._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input._data.ndim}")
    return apply(_trace, (input,))


_trace.samples = lambda make: [Sample(make((3, 3))), Sample(make((2, 4))), Sample(make((0, 0))),
                               Sample(make((3, 3), 'int32', -3, 3), grad=False)]
_trace.error_samples = lambda make: [ErrorSample(make((2, 3, 4)), match='expected a matrix, but got tensor with dim 3')]


# ----------------------------------------------------------------------------- chains and powers

def _square_check(A, name):
    if A._data.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor A must have at least 2 dimensions.")
    n, m = A._data.shape[-2:]
    if n != m:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are {n} by {m} matrices")


def matrix_power(input, n):
    """``input`` (a square matrix or a batch) raised to the integer power ``n`` (negative: of the inverse)."""
    _square_check(input, 'linalg.matrix_power')
    if n == 0:
        from ember.ops.creation import eye as _eye
        from ember.ops.shape import expand
        from ember.ops.pointwise import add, mul
        # torch's result still depends on input (with a zero gradient)
        return add(expand(_eye(input.shape[-1], dtype=input.dtype, device=input.device), input.shape), mul(input, 0))
    if n < 0:
        from ember.ops.linalg_decomp import linalg_inv
        input, n = linalg_inv(input), -n
    result, power = None, input
    while n:
        if n & 1:
            result = power if result is None else apply(_matmul, (result, power))
        n >>= 1
        if n:
            power = apply(_matmul, (power, power))
    return result


def multi_dot(tensors, *, out=None):
    """The product of a chain of matrices; the first and the last may be vectors."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for i, t in enumerate(tensors):
        nd = t._data.ndim
        ok = nd == 2 or (nd == 1 and i in (0, len(tensors) - 1))
        if not ok:
            where = 'first' if i == 0 else 'last' if i == len(tensors) - 1 else None
            if where:
                raise RuntimeError(f"multi_dot(): the {where} tensor must be 1D or 2D but got {nd}D")
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {nd}D")
    result = tensors[0]
    for t in tensors[1:]:
        result = matmul(result, t)
    return _finish_out(result, out)


def chain_matmul(*matrices, out=None):
    """The product of 2-D matrices (deprecated in torch: use ``linalg.multi_dot``)."""
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    if len(matrices) == 1:
        from ember.ops.shape import clone
        return clone(matrices[0])
    for m in matrices:
        if m._data.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {m._data.ndim}, expected 2 instead.")
    return multi_dot(matrices, out=out)


composite('matrix_power', samples=lambda make: [Sample(make((3, 3)), 3), Sample(make((2, 3, 3)), 2),
                                                Sample(make((3, 3)), 0), Sample(make((3, 3)), 1),
                                                Sample(make((3, 3), low=-0.3, high=0.3)
                                                       + 2 * np.eye(3, dtype='float32'), -2)])
composite('chain_matmul', samples=lambda make: [Sample(make((2, 3)), make((3, 4)), make((4, 2)))])
composite('multi_dot', public='linalg.multi_dot', samples=lambda make: [
    Sample([make((3,)), make((3, 4)), make((4, 2))]), Sample([make((2, 3)), make((3, 4)), make((4,))])])

TENSOR_METHODS = ['matmul', 'mm', 'bmm', 'mv', 'dot', 'vdot', 'inner', 'outer', 'ger', 'addmm', 'addmv', 'addbmm',
                  'baddbmm', 'addr', 'cross', 'trace', 'matrix_power', 'addmm_']

__all__ = ['matmul', 'mm', 'bmm', 'mv', 'dot', 'vdot', 'inner', 'outer', 'ger', 'addmm', 'addmv', 'addbmm', 'baddbmm',
           'addr', 'cross', 'trace', 'matrix_power', 'chain_matmul']
