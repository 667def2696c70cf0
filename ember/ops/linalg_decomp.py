"""Matrix functions and decompositions: inv, det, slogdet, solve, cholesky, qr, svd, eigh.

Kernels call ``xp.linalg`` on whole batches (leading dims).  Derivative rules
are written with table ops (matmul, linalg_inv, linalg_solve, ...), so they are
differentiable again; the SVD and eigh rules use the usual matrix of inverse
eigenvalue gaps.  LAPACK failures become ``LinAlgError`` (a RuntimeError) with
torch's messages.  Norms, pinv, lstsq and the like are in ``linalg_funcs``.
"""
from collections import namedtuple

import numpy as np

from ember import _dtype
from ember.ops._dispatch import apply
from ember.ops._registry import ErrorSample, Sample, composite, defop
from ember.ops.linalg import _finish_out, _square_check, eye, mT, tri, unsq


class LinAlgError(RuntimeError):
    """A linear algebra routine failed (singular matrix, not positive-definite, no convergence)."""


SlogdetResult = namedtuple('slogdet', ['sign', 'logabsdet'])
QRResult = namedtuple('qr', ['Q', 'R'])
SVDResult = namedtuple('svd', ['U', 'S', 'V'])
LinalgSVD = namedtuple('linalg_svd', ['U', 'S', 'Vh'])
LinalgQR = namedtuple('linalg_qr', ['Q', 'R'])
LinalgEigh = namedtuple('linalg_eigh', ['eigenvalues', 'eigenvectors'])
LinalgSlogdet = namedtuple('linalg_slogdet', ['sign', 'logabsdet'])


def _check_float(A, name):
    if A._dtype.category < _dtype.FLOAT:
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got "
                           f"{A._dtype.legacy_name[:-6]}")
    if A._dtype in (_dtype.float16, _dtype.bfloat16):
        raise RuntimeError(f"{name}: Low precision dtypes not supported. Got {A._dtype.legacy_name[:-6]}")


def _check_square(A, name):
    _square_check(A, name)
    _check_float(A, name)


def _batch_elements(a):
    """(index, matrix) for each matrix of a batch, for error paths only."""
    flat = a.reshape((-1,) + a.shape[-2:])
    return list(enumerate(flat))


def _batch_prefix(a, i):
    return f"(Batch element {i}): " if a.ndim > 2 else ""


def _first_zero_pivot(m):
    """1-based index of the first zero pivot of LU with partial pivoting (what getrf reports), or 0."""
    m = np.array(m, dtype=np.float64)
    n = m.shape[0]
    for j in range(n):
        p = j + int(np.argmax(np.abs(m[j:, j])))
        if m[p, j] == 0:
            return j + 1
        m[[j, p]] = m[[p, j]]
        m[j + 1:, j:] -= np.outer(m[j + 1:, j] / m[j, j], m[j, j:])
    return 0


def _singular_error(a, name):
    for i, m in _batch_elements(np.asarray(a)):
        k = _first_zero_pivot(m)
        if k:
            return LinAlgError(f"{name}: {_batch_prefix(a, i)}The diagonal element {k} is zero, the inversion could "
                               "not be completed because the input matrix is singular.")
    return LinAlgError(f"{name}: The inversion could not be completed because the input matrix is singular.")


# ----------------------------------------------------------------------------- inv / det / slogdet

@defop('linalg_inv', save='output', public='linalg.inv')
def _linalg_inv(xp, a):
    try:
        return xp.linalg.inv(a)
    except xp.linalg.LinAlgError:
        raise _singular_error(a, 'linalg.inv') from None


@_linalg_inv.derivative
def _(F, ctx, grad):
    inv_t = mT(F, ctx.output)
    return F.neg(F.matmul(inv_t, F.matmul(grad, inv_t)))


def linalg_inv(A, *, out=None):
    """Inverse of a square matrix (or of each matrix of a batch)."""
    _check_square(A, 'linalg.inv')
    return _finish_out(apply(_linalg_inv, (A,)), out)


def inverse(input, *, out=None):
    """Inverse of a square matrix (``torch.inverse``, the same as ``linalg.inv``)."""
    return linalg_inv(input, out=out)


@defop('linalg_det', save='both', public='linalg.det')
def _linalg_det(xp, a):
    return xp.asarray(xp.linalg.det(a))


@_linalg_det.derivative
def _(F, ctx, grad):
    A, = ctx.inputs
    try:
        A_inv = F.linalg_inv(A)
    except LinAlgError:
        return _det_grad_singular(F, A, grad)
    return F.mul(unsq(F, unsq(F, F.mul(grad, ctx.output), -1), -1), mT(F, A_inv))


def _det_grad_singular(F, A, grad):
    """``grad * d det(A)/dA`` for singular A, from the SVD: det(U) det(V) U diag(prod_{j != i} s_j) V^T."""
    U, S, Vh = F.linalg_svd(A, full_matrices=False)
    n = S.shape[-1]
    I = eye(F, S, n)
    others = F.add(F.mul(unsq(F, S, -2), F.sub(F.ones_like(I), I)), I)  # row i: S with s_i replaced by 1
    cofactor = None
    for j in range(n):  # a product over the (small) matrix dim
        col = F.matmul(others, eye(F, S, n, 1, -j))
        cofactor = col if cofactor is None else F.mul(cofactor, col)
    scale = F.mul(grad, F.mul(F.linalg_det(U), F.linalg_det(Vh)))
    return F.mul(F.matmul(F.mul(U, mT(F, cofactor)), Vh), unsq(F, unsq(F, scale, -1), -1))


def linalg_det(A, *, out=None):
    """Determinant of a square matrix (or of each matrix of a batch)."""
    _check_square(A, 'linalg.det')
    return _finish_out(apply(_linalg_det, (A,)), out)


def det(input):
    """Determinant (``torch.det``)."""
    return linalg_det(input)


@defop('linalg_slogdet', save='inputs', multi_output=True, public='linalg.slogdet')
def _linalg_slogdet(xp, a):
    sign, logabs = xp.linalg.slogdet(a)
    return xp.asarray(sign), xp.asarray(logabs)


@_linalg_slogdet.derivative
def _(F, ctx, grads):
    A, = ctx.inputs
    return F.mul(unsq(F, unsq(F, grads[1], -1), -1), mT(F, F.linalg_inv(A)))


def linalg_slogdet(A, *, out=None):
    """Sign and log of the absolute value of the determinant."""
    _check_square(A, 'linalg.slogdet')
    return LinalgSlogdet(*apply(_linalg_slogdet, (A,)))


def slogdet(input):
    """Sign and log-absolute-determinant (``torch.slogdet``)."""
    _check_square(input, 'linalg.slogdet')
    return SlogdetResult(*apply(_linalg_slogdet, (input,)))


@defop('logdet', save='inputs')
def _logdet(xp, a):
    sign, logabs = xp.linalg.slogdet(a)
    return xp.asarray(xp.where(sign < 0, xp.nan, logabs), dtype=a.dtype)


@_logdet.derivative
def _(F, ctx, grad):
    A, = ctx.inputs
    return F.mul(unsq(F, unsq(F, grad, -1), -1), mT(F, F.linalg_inv(A)))


def logdet(input):
    """Log of the determinant (nan when it is negative)."""
    _check_square(input, 'logdet')
    return apply(_logdet, (input,))


def _wellcond(make, shape, n=None):
    n = shape[-1] if n is None else n
    return make(shape, low=-0.5, high=0.5) + n * np.eye(n, dtype='float32')


def _square_errors(name):
    def errors(make):
        return [ErrorSample(make((2, 3)), match=f'{name}: A must be batches of square matrices, but they are 2 by 3'),
                ErrorSample(make((3,)), match='must have at least 2 dimensions')]
    return errors


_linalg_inv.samples = lambda make: [Sample(_wellcond(make, (3, 3))), Sample(_wellcond(make, (2, 4, 4))),
                                    Sample(_wellcond(make, (0, 2, 2))), Sample(make((0, 0)))]
_linalg_inv.error_samples = lambda make: [
    *_square_errors('linalg.inv')(make),
    ErrorSample(np.diag(np.array([1., 0., 3.], 'float32')), match='The diagonal element 2 is zero'),
    ErrorSample(make((3, 3), 'int64'), match='Expected a floating point or complex tensor as input. Got Long')]
_linalg_det.samples = lambda make: [Sample(make((3, 3))), Sample(make((2, 4, 4))), Sample(make((1, 1))),
                                    Sample(_wellcond(make, (2, 2)))]
_linalg_det.error_samples = _square_errors('linalg.det')
_linalg_slogdet.samples = lambda make: [Sample(make((3, 3))), Sample(make((2, 4, 4)))]
_linalg_slogdet.error_samples = _square_errors('linalg.slogdet')
_logdet.samples = lambda make: [Sample(_wellcond(make, (3, 3))), Sample(_wellcond(make, (2, 4, 4))),
                                Sample(-_wellcond(make, (3, 3)), grad=False)]
composite('inverse', samples=lambda make: [Sample(_wellcond(make, (3, 3)))])
composite('det', samples=lambda make: [Sample(make((3, 3)))])
composite('slogdet', samples=lambda make: [Sample(make((2, 3, 3)))])


# ----------------------------------------------------------------------------- solve

@defop('linalg_solve', save='both', public='linalg.solve')
def _linalg_solve(xp, a, b, left, vector):
    if vector:
        return xp.linalg.solve(a if left else xp.swapaxes(a, -1, -2), b[..., None])[..., 0]
    if left:
        return xp.linalg.solve(a, b)
    return xp.swapaxes(xp.linalg.solve(xp.swapaxes(a, -1, -2), xp.swapaxes(b, -1, -2)), -1, -2)


def _solve_kernel_checked(kernel):
    def run(xp, a, b, left, vector):
        try:
            return kernel(xp, a, b, left, vector)
        except xp.linalg.LinAlgError:
            raise LinAlgError("torch.linalg.solve: The solver failed because the input matrix is singular.") from None
    return run


_linalg_solve.forward = _solve_kernel_checked(_linalg_solve.forward)


@_linalg_solve.derivative
def _(F, ctx, grad):
    A, _ = ctx.inputs
    X = ctx.output
    left, vector = ctx.params['left'], ctx.params['vector']
    gB = F.linalg_solve(mT(F, A), grad, left=left, vector=vector)
    gA = None
    if ctx.needs_input_grad[0]:
        if vector:
            gA = F.mul(unsq(F, gB, -1), unsq(F, X, -2)) if left else F.mul(unsq(F, X, -1), unsq(F, gB, -2))
        else:
            gA = F.matmul(gB, mT(F, X)) if left else F.matmul(mT(F, X), gB)
        gA = F.neg(gA)
    return gA, (gB if ctx.needs_input_grad[1] else None)


def linalg_solve(A, B, *, left=True, out=None):
    """The solution ``X`` of ``A X = B`` (``X A = B`` when ``left=False``); ``B`` may be a (batch of) vector(s)."""
    _check_square(A, 'linalg.solve')
    if A._dtype is not B._dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{A._dtype.legacy_name[:-6]} and B of type {B._dtype.legacy_name[:-6]} instead")
    sa, sb = A._data.shape, B._data.shape
    vector = len(sb) == 1 or (len(sb) == len(sa) - 1 and sb == sa[:-1])
    n = sa[-1]
    rows, shown = (sb[-1] if left else 1, f"{sb[-1]}x1") if vector else (sb[-2 if left else -1] if len(sb) >= 2 else -1,
                                                            'x'.join(map(str, sb[-2:])))
    if rows != n:
        eq = 'AX = B' if left else 'XA = B'
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation {eq} ({n}x{n} and {shown})")
    return _finish_out(apply(_linalg_solve, (A, B), {'left': left, 'vector': vector}), out)


_linalg_solve.samples = lambda make: [
    Sample(_wellcond(make, (3, 3)), make((3, 2))), Sample(_wellcond(make, (3, 3)), make((3,))),
    Sample(_wellcond(make, (2, 3, 3)), make((2, 3))), Sample(_wellcond(make, (2, 3, 3)), make((3, 4))),
    Sample(_wellcond(make, (3, 3)), make((2, 3, 1))), Sample(_wellcond(make, (3, 3)), make((2, 3)), left=False)]
_linalg_solve.error_samples = lambda make: [
    ErrorSample(np.eye(3, dtype='float32'), make((4,)), match=r'Incompatible shapes of A and B for the equation '
                                                              r'AX = B \(3x3 and 4x1\)'),
    ErrorSample(np.diag(np.array([1., 0., 3.], 'float32')), make((3,)), match='input matrix is singular'),
    ErrorSample(np.eye(3, dtype='float32'), make((3,)), left=False, match=r'XA = B \(3x3 and 3x1\)')]


# ----------------------------------------------------------------------------- cholesky

@defop('linalg_cholesky', save='output', public='linalg.cholesky')
def _linalg_cholesky(xp, a, upper):
    try:
        L = xp.linalg.cholesky(a)
    except xp.linalg.LinAlgError:
        raise _not_pd_error(xp, a) from None
    return xp.swapaxes(L, -1, -2).conj() if upper else L


def _not_pd_error(xp, a):
    for i, m in _batch_elements(np.asarray(a)):
        for k in range(1, m.shape[-1] + 1):
            try:
                np.linalg.cholesky(m[:k, :k])
            except np.linalg.LinAlgError:
                return LinAlgError(f"linalg.cholesky: {_batch_prefix(a, i)}The factorization could not be completed "
                                   f"because the input is not positive-definite (the leading minor of order {k} is "
                                   "not positive-definite).")
    return LinAlgError("linalg.cholesky: The factorization could not be completed because the input is not "
                       "positive-definite.")


@_linalg_cholesky.derivative
def _(F, ctx, grad):
    L, gL = ctx.output, grad
    if ctx.params['upper']:
        L, gL = mT(F, L), mT(F, gL)
    n = L.shape[-1]
    # phi(L^T gL): its lower triangle with the diagonal halved
    phi = F.mul(F.matmul(mT(F, L), gL), F.sub(tri(F, L, n), F.mul(eye(F, L, n), 0.5)))
    L_inv = F.linalg_inv(L)
    gA = F.matmul(mT(F, L_inv), F.matmul(phi, L_inv))
    return F.mul(F.add(gA, mT(F, gA)), 0.5)


def linalg_cholesky(A, *, upper=False, out=None):
    """Cholesky factor ``L`` (lower, ``A = L L^T``) or ``U = L^T`` (``upper=True``) of a positive-definite matrix."""
    _check_square(A, 'linalg.cholesky')
    return _finish_out(apply(_linalg_cholesky, (A,), {'upper': upper}), out)


def cholesky(input, upper=False, *, out=None):
    """Cholesky factor (``torch.cholesky``)."""
    return linalg_cholesky(input, upper=upper, out=out)


def _spd(make, shape):
    a = make(shape).astype('float64')
    n = shape[-1]
    return (a @ np.swapaxes(a, -1, -2) + n * np.eye(n)).astype('float32')


# the rule is symmetrised (torch's convention) while finite differences see only the lower triangle,
# so these samples check values here; tests/test_linalg.py checks gradients on symmetric inputs
_linalg_cholesky.samples = lambda make: [Sample(_spd(make, (3, 3)), grad=False),
                                         Sample(_spd(make, (2, 4, 4)), grad=False),
                                         Sample(_spd(make, (3, 3)), upper=True, grad=False)]
_linalg_cholesky.error_samples = lambda make: [
    ErrorSample(np.diag(np.array([1., 2., -3.], 'float32')), match='leading minor of order 3 is not positive-definite'),
    *_square_errors('linalg.cholesky')(make)]
composite('cholesky', samples=lambda make: [Sample(_spd(make, (3, 3)), grad=False),
                                            Sample(_spd(make, (3, 3)), True, grad=False)])


# ----------------------------------------------------------------------------- qr

@defop('linalg_qr', save='both', multi_output=True, public='linalg.qr')
def _linalg_qr(xp, a, mode):
    if mode == 'r':
        return xp.zeros((0,), a.dtype), xp.linalg.qr(a, mode='r')
    q, r = xp.linalg.qr(a, mode=mode)
    return q, r


@_linalg_qr.derivative
def _(F, ctx, grads):
    mode = ctx.params['mode']
    A, = ctx.inputs
    Q, R = ctx.output
    gQ, gR = grads
    m, n = A.shape[-2:]
    if mode == 'r':
        raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. Please use "
                           "linalg.qr(A, mode='reduced') if you are going to differentiate through linalg.qr.")
    if mode == 'complete' and m > n:
        raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
    if m >= n:
        return _qr_grad_tall(F, Q, R, gQ, gR)
    # wide: A = Q [U V] with X = A[:, :m] = Q U square; Y = A[:, m:] = Q V
    first, rest = eye(F, R, n, m), eye(F, R, n, n - m, -m)  # column selectors
    U, gU, gV = F.matmul(R, first), F.matmul(gR, first), F.matmul(gR, rest)
    Y = F.matmul(A, rest)
    gX = _qr_grad_tall(F, Q, U, F.add(gQ, F.matmul(Y, mT(F, gV))), gU)
    gY = F.matmul(Q, gV)
    return F.add(F.matmul(gX, mT(F, first)), F.matmul(gY, mT(F, rest)))


def _qr_grad_tall(F, Q, R, gQ, gR):
    """gA = (gQ + Q copyltu(M)) R^{-T} with M = R gR^T - gQ^T Q (A tall or square)."""
    k = R.shape[-2]
    M = F.sub(F.matmul(R, mT(F, gR)), F.matmul(mT(F, gQ), Q))
    lower = F.mul(M, tri(F, M, k))
    strict = F.mul(M, tri(F, M, k, -1))
    b = F.add(gQ, F.matmul(Q, F.add(lower, mT(F, strict))))
    return mT(F, F.linalg_solve(R, mT(F, b), left=True, vector=False))


def linalg_qr(A, mode='reduced', *, out=None):
    """QR decomposition ``A = Q R``; ``mode`` 'reduced', 'complete' or 'r' (R only, Q empty)."""
    if mode not in ('reduced', 'complete', 'r'):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', or "
                           "'complete'")
    if A._data.ndim < 2:
        raise RuntimeError("linalg.qr: The input tensor A must have at least 2 dimensions.")
    _check_float(A, 'linalg.qr')
    return LinalgQR(*apply(_linalg_qr, (A,), {'mode': mode}))


def qr(input, some=True, *, out=None):
    """QR decomposition (``torch.qr``): reduced when ``some`` else complete."""
    return QRResult(*linalg_qr(input, 'reduced' if some else 'complete'))


_linalg_qr.samples = lambda make: [Sample(make((4, 3))), Sample(make((3, 3))), Sample(make((2, 4, 3))),
                                   Sample(make((3, 5))), Sample(make((3, 3)), mode='complete'),
                                   Sample(make((4, 3)), mode='complete', grad=False),
                                   Sample(make((4, 3)), mode='r', grad=False)]
_linalg_qr.error_samples = lambda make: [ErrorSample(make((3,)), match='must have at least 2 dimensions')]
composite('qr', samples=lambda make: [Sample(make((4, 3))), Sample(make((4, 3)), False, grad=False)])


# ----------------------------------------------------------------------------- svd

@defop('linalg_svd', save='output', multi_output=True, public='linalg.svd')
def _linalg_svd(xp, a, full_matrices):
    u, s, vh = xp.linalg.svd(a, full_matrices=full_matrices)
    return u, s, vh


@_linalg_svd.derivative
def _(F, ctx, grads):
    U, S, Vh = ctx.output
    gU, gS, gVh = grads
    m, n = U.shape[-2], Vh.shape[-1]
    k = S.shape[-1]
    if ctx.params['full_matrices'] and m != n:
        # torch's convention: only the first k singular vectors carry gradient
        U, gU = F.matmul(U, eye(F, U, m, k)), F.matmul(gU, eye(F, U, m, k))
        Vh, gVh = F.matmul(eye(F, Vh, k, n), Vh), F.matmul(eye(F, Vh, k, n), gVh)
    return svd_backward(F, U, S, Vh, gU, gS, gVh)


def svd_backward(F, U, S, Vh, gU, gS, gVh):
    """gA = U [skew(U^T gU)/E S + S skew(V^T gV)/E + diag(gS)] V^T + the parts off the column spaces."""
    m, n, k = U.shape[-2], Vh.shape[-1], S.shape[-1]
    I = eye(F, S, k)
    S2 = F.mul(S, S)
    E = F.add(F.sub(unsq(F, S2, -2), unsq(F, S2, -1)), I)  # E[j, l] = s_l^2 - s_j^2, 1 on the diagonal
    UtgU = F.matmul(mT(F, U), gU)
    VtgV = F.matmul(Vh, mT(F, gVh))
    inner = F.add(F.mul(F.div(F.sub(UtgU, mT(F, UtgU)), E), unsq(F, S, -2)),
                  F.mul(unsq(F, S, -1), F.div(F.sub(VtgV, mT(F, VtgV)), E)))
    inner = F.add(inner, F.mul(I, unsq(F, gS, -1)))
    gA = F.matmul(U, F.matmul(inner, Vh))
    if m > k:
        gA = F.add(gA, F.matmul(F.div(F.sub(gU, F.matmul(U, UtgU)), unsq(F, S, -2)), Vh))
    if n > k:
        gA = F.add(gA, F.matmul(U, F.div(F.sub(gVh, F.matmul(mT(F, VtgV), Vh)), unsq(F, S, -1))))
    return gA


def linalg_svd(A, full_matrices=True, *, driver=None, out=None):
    """Singular value decomposition ``A = U diag(S) Vh`` (S descending)."""
    if A._data.ndim < 2:
        raise RuntimeError("linalg.svd: The input tensor A must have at least 2 dimensions.")
    _check_float(A, 'linalg.svd')
    return LinalgSVD(*apply(_linalg_svd, (A,), {'full_matrices': full_matrices}))


def linalg_svdvals(A, *, driver=None, out=None):
    """Singular values of ``A``, descending."""
    if A._data.ndim < 2:
        raise RuntimeError("linalg.svd: The input tensor A must have at least 2 dimensions.")
    _check_float(A, 'linalg.svd')
    return _finish_out(apply(_linalg_svd, (A,), {'full_matrices': False})[1], out)


def svd(input, some=True, compute_uv=True, *, out=None):
    """SVD in ``torch.svd``'s form: returns ``U, S, V`` (V, not Vh); reduced when ``some``."""
    if input._data.ndim < 2:
        raise RuntimeError("linalg.svd: The input tensor A must have at least 2 dimensions.")
    U, S, Vh = linalg_svd(input, full_matrices=not some)
    from ember.ops.shape import transpose
    if not compute_uv:
        from ember.ops.creation import zeros
        m, n = input.shape[-2:]
        batch = tuple(input.shape[:-2])
        return SVDResult(zeros(batch + (m, m), dtype=input.dtype), S.detach(),
                         zeros(batch + (n, n), dtype=input.dtype))
    return SVDResult(U, S, transpose(Vh, -2, -1))


# U, Vh and eigenvectors are fixed only up to signs, which differ between LAPACK builds (torch uses MKL's):
# the generic tests cannot compare them raw; tests/test_linalg.py checks sign-free functions of them against
# torch and runs gradcheck on the ops themselves
composite('linalg_svdvals', public='linalg.svdvals',
          samples=lambda make: [Sample(make((4, 3))), Sample(make((2, 3, 5)))])
composite('svd', samples=lambda make: [Sample(make((3, 4)), compute_uv=False, grad=False)])


# ----------------------------------------------------------------------------- eigh

@defop('linalg_eigh', save='output', multi_output=True, public='linalg.eigh')
def _linalg_eigh(xp, a, UPLO):
    w, v = xp.linalg.eigh(a, UPLO=UPLO)
    return w, v


@_linalg_eigh.derivative
def _(F, ctx, grads):
    L, V = ctx.output
    gL, gV = grads
    n = L.shape[-1]
    I = eye(F, L, n)
    VtgV = F.matmul(mT(F, V), gV)
    E = F.add(F.sub(unsq(F, L, -2), unsq(F, L, -1)), I)  # E[i, j] = L_j - L_i, 1 on the diagonal
    # the skew-symmetric part only: eigenvectors are defined up to a rotation within U(n)
    inner = F.div(F.mul(F.sub(VtgV, mT(F, VtgV)), 0.5), E)
    inner = F.add(F.mul(inner, F.sub(F.ones_like(I), I)), F.mul(I, unsq(F, gL, -1)))
    return F.matmul(V, F.matmul(inner, mT(F, V)))


def linalg_eigh(A, UPLO='L', *, out=None):
    """Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric matrix, from its ``UPLO`` triangle."""
    if UPLO not in ('L', 'U'):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    _check_square(A, 'linalg.eigh')
    return LinalgEigh(*apply(_linalg_eigh, (A,), {'UPLO': UPLO}))


def linalg_eigvalsh(A, UPLO='L', *, out=None):
    """Eigenvalues (ascending) of a symmetric matrix."""
    if UPLO not in ('L', 'U'):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    _check_square(A, 'linalg.eigvalsh')
    return _finish_out(apply(_linalg_eigh, (A,), {'UPLO': UPLO})[0], out)


def _sym(make, shape):
    a = make(shape)
    return (a + np.swapaxes(a, -1, -2)) / 2


# eigenvalues only: eigh reads one triangle while its (torch-convention) gradient is symmetric (see cholesky)
composite('linalg_eigvalsh', public='linalg.eigvalsh', samples=lambda make: [Sample(_sym(make, (3, 3)), grad=False),
                                                                            Sample(make((3, 3)), 'U', grad=False)])

__all__ = ['inverse', 'det', 'logdet', 'slogdet', 'cholesky', 'qr', 'svd']
TENSOR_METHODS = ['inverse', 'det', 'logdet', 'slogdet', 'cholesky', 'qr', 'svd']
