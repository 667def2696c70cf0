"""Functions built on the decompositions: matrix and general norms, pinv, lstsq, matrix_rank, matrix_exp.

All are composites of table ops (svd, eigh, matmul, reductions), so their
gradients come from those ops' rules.  Cutoffs (which singular values count)
are read from the data as constants, as torch does.
"""
import math
from collections import namedtuple

import numpy as np

from ember import _dtype
from ember import backend as _backend
from ember._tensor import Tensor
from ember.ops._registry import ErrorSample, Sample, composite
from ember.ops._util import wrap_dim
from ember.ops.linalg import _finish_out, _square_check
from ember.ops.linalg_decomp import _check_float, _spd, _sym, _wellcond, linalg_eigh, linalg_svd

LinalgLstsq = namedtuple('linalg_lstsq', ['solution', 'residuals', 'rank', 'singular_values'])


def _ember():
    import ember
    return ember


def _const(like, array):
    return Tensor._make(array, like._device)


# ----------------------------------------------------------------------------- norms

def matrix_norm(A, ord='fro', dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """Matrix norm over the two dims ``dim``: 'fro', 'nuc', inf, -inf, 1, -1, 2 or -2."""
    em = _ember()
    if dtype is not None:
        A = A.to(dtype)
    if A._data.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    _check_float(A, 'linalg.matrix_norm')
    dim = tuple(dim) if isinstance(dim, (list, tuple)) else (dim,)
    if len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dim))}")
    nd = A._data.ndim
    d0, d1 = wrap_dim(dim[0], nd), wrap_dim(dim[1], nd)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    if ord == 'fro':
        return _finish_out(em.linalg.vector_norm(A, 2, (d0, d1), keepdim), out)
    if ord == 'nuc' or ord in (2, -2):
        rest = [i for i in range(nd) if i not in (d0, d1)]
        S = linalg_svd(em.permute(A, rest + [d0, d1]), full_matrices=False)[1]
        if ord == 'nuc':
            result = em.sum(S, -1)
        else:
            result = em.amax(S, -1) if ord == 2 else em.amin(S, -1)
        if keepdim:
            for d in sorted((d0, d1)):
                result = em.unsqueeze(result, d)
        return _finish_out(result, out)
    if ord in (1, -1, math.inf, -math.inf):
        if ord in (math.inf, -math.inf):
            d0, d1 = d1, d0
        sums = em.sum(em.abs(A), d0, keepdim=True)
        result = em.amax(sums, d1, keepdim=True) if ord > 0 else em.amin(sums, d1, keepdim=True)
        if not keepdim:
            result = em.squeeze(result, (d0, d1))
        return _finish_out(result, out)
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def linalg_norm(A, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):
    """A vector norm (``dim`` an int or ``A`` 1-D) or matrix norm (``dim`` a pair or ``A`` 2-D)."""
    em = _ember()
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None:
        if len(dim) == 1:
            if isinstance(ord, str):
                raise RuntimeError(f"linalg.vector_norm: Expected a numeric ord, but got '{ord}'")
            return em.linalg.vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype, out=out)
        if len(dim) == 2:
            return matrix_norm(A, 'fro' if ord is None else ord, dim, keepdim, dtype=dtype, out=out)
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dim)}")
    if ord is None:
        return em.linalg.vector_norm(A, 2, None, keepdim, dtype=dtype, out=out)
    if A._data.ndim == 1:
        return em.linalg.vector_norm(A, ord, None, keepdim, dtype=dtype, out=out)
    if A._data.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype, out=out)
    raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got "
                       f"{A._data.ndim}D.")


_matrix_norm = composite('matrix_norm', public='linalg.matrix_norm', samples=lambda make: [
    Sample(make((3, 4))), Sample(make((2, 3, 4)), 'nuc'), Sample(make((3, 4)), math.inf),
    Sample(make((3, 4)), -math.inf), Sample(make((3, 4)), 1), Sample(make((2, 3, 4)), -1, keepdim=True),
    Sample(make((3, 4)), 2), Sample(make((3, 4)), -2), Sample(make((3, 4, 2)), 'fro', (0, 2), True),
    Sample(make((3, 4, 2)), 2, (2, 0), True), Sample(make((3, 4)), dtype=_dtype.float64)], atol=1e-4)
composite('linalg_norm', public='linalg.norm', samples=lambda make: [
    Sample(make((3, 4))), Sample(make((4,)), 1), Sample(make((3, 4)), 'nuc'), Sample(make((2, 3, 4)), 2, (1, 2)),
    Sample(make((2, 3, 4)), 3, 1), Sample(make((3, 4)), math.inf)], atol=1e-4)
_matrix_norm.error_samples = lambda make: [ErrorSample(make((3, 4)), 3, match='Order 3 not supported'),
                                           ErrorSample(make((4,)), match='must have at least 2 dimensions')]


# ----------------------------------------------------------------------------- pinv / lstsq / rank

def _tolerance(S, atol, rtol, m, n):
    """Per-matrix cutoff ``max(atol, rtol * s_max)`` (torch's defaults), as a raw array with a trailing dim."""
    xp = _backend.get(S._device).xp
    s = S._data
    if rtol is None:
        rtol = 0.0 if (atol is not None and atol > 0) else np.finfo(s.dtype).eps * max(m, n)
    smax = s.max(axis=-1, keepdims=True) if s.shape[-1] else xp.zeros(s.shape[:-1] + (1,), s.dtype)
    cut = rtol * smax
    if atol is not None:
        cut = xp.maximum(cut, atol)
    return cut


def linalg_pinv(A, *, atol=None, rtol=None, hermitian=False, rcond=None, out=None):
    """Moore-Penrose pseudo-inverse, from the SVD (or eigh when ``hermitian``), cutting small singular values."""
    em = _ember()
    if A._data.ndim < 2:
        raise RuntimeError("linalg.pinv(" + A._dtype.legacy_name[:-6] + "{" + ", ".join(map(str, A.shape)) + "}): "
                           "expected a tensor with 2 or more dimensions of float, double, cfloat or cdouble types")
    _check_float(A, 'linalg.pinv')
    if rcond is not None:
        rtol = rcond
    m, n = A._data.shape[-2:]
    if hermitian:
        L, Q = linalg_eigh(A)
        absL = Tensor._make(abs(L._data), L._device)
        keep = absL._data > _tolerance(absL, atol, rtol, m, n)
        inv = em.div(_const(L, keep.astype(L._data.dtype)), em.add(L, _const(L, (~keep).astype(L._data.dtype))))
        return _finish_out(em.matmul(em.mul(Q, em.unsqueeze(inv, -2)), em.transpose(Q, -2, -1)), out)
    U, S, Vh = linalg_svd(A, full_matrices=False)
    keep = S._data > _tolerance(S, atol, rtol, m, n)
    inv = em.div(_const(S, keep.astype(S._data.dtype)), em.add(S, _const(S, (~keep).astype(S._data.dtype))))
    return _finish_out(em.matmul(em.mul(em.transpose(Vh, -2, -1), em.unsqueeze(inv, -2)), em.transpose(U, -2, -1)),
                       out)


def pinverse(input, rcond=1e-15):
    """Pseudo-inverse (``torch.pinverse``): ``linalg.pinv`` with relative cutoff ``rcond``."""
    return linalg_pinv(input, rtol=rcond)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, tol=None, out=None):
    """Number of singular values (|eigenvalues| when ``hermitian``) above the cutoff, as int64."""
    if A._data.ndim < 2:
        raise RuntimeError("linalg.matrix_rank: The input tensor A must have at least 2 dimensions.")
    _check_float(A, 'linalg.matrix_rank')
    if tol is not None:
        atol, rtol = tol, 0.0
    xp = _backend.get(A._device).xp
    a = A._data
    s = xp.abs(xp.linalg.eigvalsh(a)) if hermitian else xp.linalg.svd(a, compute_uv=False)
    S = Tensor._make(s, A._device)
    m, n = a.shape[-2:]
    rank = (s > _tolerance(S, atol, rtol, m, n)).sum(axis=-1).astype(xp.int64)
    return _finish_out(Tensor._make(xp.asarray(rank), A._device), out)


def lstsq(A, B, rcond=None, *, driver=None):
    """Least-squares solution of ``A X = B`` (minimum norm), with residuals, rank and singular values per driver."""
    em = _ember()
    if driver is None:
        driver = 'gelsy'
    if driver not in ('gels', 'gelsy', 'gelsd', 'gelss'):
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    if A._data.ndim < 2:
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    vector = B._data.ndim == A._data.ndim - 1
    if not (vector or B._data.ndim == A._data.ndim):
        raise RuntimeError("torch.linalg.lstsq: input.dim() must be greater or equal to other.dim() and "
                           "(input.dim() - other.dim()) <= 1")
    m, n = A._data.shape[-2:]
    rows = B._data.shape[-1] if vector else B._data.shape[-2]
    if rows != m:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-{1 if vector else 2})")
    _check_float(A, 'torch.linalg.lstsq')
    Bm = em.unsqueeze(B, -1) if vector else B
    X = em.matmul(linalg_pinv(A, rtol=rcond), Bm)
    empty = Tensor._make(np.zeros((0,), A._data.dtype), A._device)
    rank = matrix_rank(A, rtol=rcond) if driver != 'gels' else Tensor._make(np.zeros((0,), np.int64), A._device)
    residuals = empty
    if driver != 'gelsy' and m > n and bool((rank._data == n).all() if driver != 'gels' else True):
        r = em.sub(em.matmul(A, X), Bm)
        residuals = em.sum(em.mul(r, r), -2)
        if vector:
            residuals = em.squeeze(residuals, -1)
    sv = linalg_svd(A, full_matrices=False)[1].detach() if driver in ('gelsd', 'gelss') else empty
    return LinalgLstsq(em.squeeze(X, -1) if vector else X, residuals, rank, sv)


composite('linalg_pinv', public='linalg.pinv', samples=lambda make: [
    Sample(make((4, 3))), Sample(make((3, 4))), Sample(_wellcond(make, (2, 3, 3))),
    Sample(_spd(make, (3, 3)), hermitian=True, grad=False)], atol=1e-4)
composite('pinverse', samples=lambda make: [Sample(make((4, 3)))], atol=1e-4)
composite('matrix_rank', public='linalg.matrix_rank', samples=lambda make: [
    Sample(make((4, 3))), Sample(make((4, 1)) @ make((1, 3))), Sample(make((2, 3, 3))),
    Sample(_sym(make, (3, 3)), hermitian=True), Sample(make((4, 3)), atol=1.0), Sample(make((4, 3)), rtol=0.5)])
composite('lstsq', public='linalg.lstsq', samples=lambda make: [
    Sample(make((5, 3)), make((5, 2))), Sample(_wellcond(make, (2, 3, 3)), make((2, 3, 1))),
    Sample(make((5, 3)), make((5, 2)), driver='gelsd'), Sample(make((5, 3)), make((5, 2)), driver='gelss'),
    Sample(make((5, 3)), make((5, 2)), driver='gels')], atol=1e-4, gradcheck=False)


# ----------------------------------------------------------------------------- matrix_exp

_TAYLOR_DEGREE = 18


def matrix_exp(A):
    """Matrix exponential, by scaling and squaring a degree-18 Taylor polynomial (differentiable through it)."""
    em = _ember()
    _square_check(A, 'linalg.matrix_exp')
    _check_float(A, 'linalg.matrix_exp')
    n = A._data.shape[-1]
    if A._data.size == 0:
        return em.clone(A)
    norm1 = float(np.abs(A._data).sum(axis=-2).max()) if n else 0.0
    # scale so that the 1-norm is below 1/2: the Taylor remainder is then far below float64 precision
    squarings = max(0, int(math.ceil(math.log2(norm1 / 0.5)))) if norm1 > 0.5 else 0
    X = em.div(A, 2.0 ** squarings) if squarings else A
    I = em.eye(n, dtype=A.dtype, device=A.device)
    P = I
    for k in range(_TAYLOR_DEGREE, 0, -1):
        P = em.add(I, em.div(em.matmul(X, P), float(k)))
    for _ in range(squarings):
        P = em.matmul(P, P)
    return P


composite('matrix_exp', samples=lambda make: [Sample(make((3, 3))), Sample(make((2, 4, 4), low=-3, high=3)),
                                              Sample(make((1, 1)))], atol=1e-4)

__all__ = ['pinverse', 'matrix_exp']
TENSOR_METHODS = ['pinverse', 'matrix_exp']
