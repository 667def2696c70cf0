"""ember.linalg and the matmul family beyond the generic op-table tests.

SVD and eigh outputs are compared with torch only through sign-free quantities
(torch's LAPACK is MKL, NumPy's is OpenBLAS: singular vectors may differ in
sign); symmetric-input ops (cholesky, eigh) are gradient-checked through a
symmetrising wrapper because their torch-convention gradients are symmetric.
"""
import math

import numpy as np
import pytest

import ember
from tests.conftest import requires_torch, torch

rng = np.random.default_rng(0)


def arr(*shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


def both(a, requires_grad=False):
    e = ember.tensor(a, requires_grad=requires_grad)
    t = torch.tensor(a, requires_grad=requires_grad) if torch is not None else None
    return e, t


def close(e, t, atol=1e-6, rtol=1e-5):
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), atol=atol, rtol=rtol)


def gradcheck(fn, *arrays):
    inputs = [ember.tensor(a, requires_grad=True) for a in arrays]
    assert ember.autograd.gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3)
    assert ember.autograd.gradgradcheck(fn, inputs, eps=1e-6, atol=1e-4, rtol=1e-3)


# ----------------------------------------------------------------------------- matmul

@requires_torch
@pytest.mark.parametrize('sa,sb', [((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 4)),
                                   ((5, 2, 3), (3, 4)), ((2, 1, 2, 3), (4, 3, 2)), ((3,), (2, 3, 4)),
                                   ((2, 4, 3), (3,)), ((0, 3), (3, 4)), ((2, 3), (1, 3, 4))])
def test_matmul_broadcasting_values_and_grads(sa, sb):
    a, b = arr(*sa), arr(*sb)
    ea, ta = both(a, True)
    eb, tb = both(b, True)
    eo, to = ea @ eb, ta @ tb
    close(eo, to)
    g = arr(*to.shape)
    eo.backward(ember.tensor(g))
    to.backward(torch.tensor(g))
    close(ea.grad, ta.grad)
    close(eb.grad, tb.grad)


def test_matmul_keeps_dtypes():
    a = ember.ones(2, 3)
    assert (a @ ember.ones(3, 4)).dtype == ember.float32
    i = ember.tensor([[1, 2], [3, 4]])
    out = i @ i
    assert out.dtype == ember.int64 and out.tolist() == [[7, 10], [15, 22]]
    with pytest.raises(RuntimeError, match=r'mat1 and mat2 shapes cannot be multiplied \(64x784 and 128x10\)'):
        ember.zeros(64, 784) @ ember.zeros(128, 10)


def test_matmul_double_backward():
    gradcheck(ember.matmul, arr(3), arr(2, 3, 4))
    gradcheck(ember.matmul, arr(2, 3), arr(3))


def test_addmm_beta_zero_ignores_nan():
    inp = ember.full((2, 2), float('nan'))
    out = ember.addmm(inp, ember.eye(2), ember.eye(2), beta=0)
    assert out.tolist() == [[1.0, 0.0], [0.0, 1.0]]


# ----------------------------------------------------------------------------- einsum

@requires_torch
@pytest.mark.parametrize('eq,shapes', [('ii->i', [(3, 3)]), ('ii', [(3, 3)]), ('iij->j', [(2, 2, 3)]),
                                       ('bij,bjk->bik', [(2, 3, 4), (1, 4, 2)]), ('i,j->ij', [(2,), (3,)]),
                                       ('...ij,...jk', [(2, 1, 3, 4), (5, 4, 2)]), ('ij->', [(2, 3)]),
                                       ('ij,jk,kl->il', [(2, 3), (3, 4), (4, 2)]), ('ijk,ikl->jl', [(2, 3, 4),
                                                                                                 (2, 4, 5)])])
def test_einsum_against_torch_and_gradgradcheck(eq, shapes):
    arrays = [arr(*s) for s in shapes]
    es = [ember.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    eo, to = ember.einsum(eq, *es), torch.einsum(eq, *ts)
    close(eo, to)
    g = arr(*to.shape)
    for x, y in zip(ember.autograd.grad(eo, es, ember.tensor(g)), torch.autograd.grad(to, ts, torch.tensor(g))):
        close(x, y)
    gradcheck(lambda *xs: ember.einsum(eq, *xs), *arrays)


@requires_torch
def test_einsum_sublist_form_and_list_operands():
    a, b = arr(2, 3), arr(3, 4)
    ea, ta = both(a)
    eb, tb = both(b)
    close(ember.einsum(ea, [0, 1], eb, [1, 2], [0, 2]), torch.einsum(ta, [0, 1], tb, [1, 2], [0, 2]))
    close(ember.einsum('ij,jk', [ea, eb]), torch.einsum('ij,jk', [ta, tb]))


@requires_torch
def test_tensordot_kron_cross_trace():
    a, b = arr(2, 3, 4), arr(4, 3, 5)
    ea, ta = both(a)
    eb, tb = both(b)
    close(ember.tensordot(ea, eb, dims=([1, 2], [1, 0])), torch.tensordot(ta, tb, dims=([1, 2], [1, 0])))
    close(ember.kron(ea, eb), torch.kron(ta, tb))
    x, y = arr(4, 3), arr(4, 3)
    close(ember.linalg.cross(ember.tensor(x), ember.tensor(y)), torch.linalg.cross(torch.tensor(x), torch.tensor(y)))
    gradcheck(lambda p, q: ember.linalg.cross(p, q), x, y)
    gradcheck(ember.trace, arr(3, 4))


# ----------------------------------------------------------------------------- decompositions

def _align_columns(e, t):
    """``e`` with each column's sign flipped to agree with ``t`` (signs are LAPACK's choice)."""
    signs = np.sign(np.sum(e * t, axis=-2, keepdims=True))
    return e * signs


@requires_torch
@pytest.mark.parametrize('shape,full', [((4, 3), False), ((3, 4), False), ((3, 3), False), ((2, 4, 3), True),
                                        ((3, 5), True)])
def test_svd_against_torch(shape, full):
    a = arr(*shape)
    ea, ta = both(a, True)
    eU, eS, eVh = ember.linalg.svd(ea, full_matrices=full)
    tU, tS, tVh = torch.linalg.svd(ta, full_matrices=full)
    close(eS, tS)
    k = min(shape[-2:])
    np.testing.assert_allclose(_align_columns(eU.detach().numpy()[..., :k], tU.detach().numpy()[..., :k]),
                               tU.detach().numpy()[..., :k], atol=1e-6)
    np.testing.assert_allclose((eU[..., :k] * eS.unsqueeze(-2) @ eVh[..., :k, :]).detach().numpy(), a, atol=1e-6)
    # a sign-free loss that uses every output
    wU, wS, wV = arr(*tU.shape), arr(*tS.shape), arr(*tVh.shape)
    ((eU * eU * ember.tensor(wU)).sum() + (eS * ember.tensor(wS)).sum() + (eVh * eVh * ember.tensor(wV)).sum()
     ).backward()
    ((tU * tU * torch.tensor(wU)).sum() + (tS * torch.tensor(wS)).sum() + (tVh * tVh * torch.tensor(wV)).sum()
     ).backward()
    close(ea.grad, ta.grad, atol=1e-5)


@pytest.mark.parametrize('shape', [(4, 3), (3, 4), (2, 3, 3)])
def test_svd_gradcheck(shape):
    gradcheck(lambda x: tuple(ember.linalg.svd(x, full_matrices=False)), arr(*shape))
    gradcheck(ember.linalg.svdvals, arr(*shape))


@requires_torch
def test_torch_svd_returns_v():
    a = arr(4, 3)
    U, S, V = ember.svd(ember.tensor(a))
    assert tuple(V.shape) == (3, 3)
    np.testing.assert_allclose((U * S.unsqueeze(-2) @ V.mT).numpy(), a, atol=1e-6)


@requires_torch
@pytest.mark.parametrize('uplo', ['L', 'U'])
def test_eigh_against_torch(uplo):
    a = arr(2, 4, 4)
    a = a + np.swapaxes(a, -1, -2)
    ea, ta = both(a, True)
    eL, eQ = ember.linalg.eigh(ea, UPLO=uplo)
    tL, tQ = torch.linalg.eigh(ta, UPLO=uplo)
    close(eL, tL)
    np.testing.assert_allclose(_align_columns(eQ.detach().numpy(), tQ.detach().numpy()), tQ.detach().numpy(),
                               atol=1e-6)
    wL, wQ = arr(*tL.shape), arr(*tQ.shape)
    ((eL * ember.tensor(wL)).sum() + (eQ * eQ * ember.tensor(wQ)).sum()).backward()
    ((tL * torch.tensor(wL)).sum() + (tQ * tQ * torch.tensor(wQ)).sum()).backward()
    close(ea.grad, ta.grad, atol=1e-5)
    close(ember.linalg.eigvalsh(ea), torch.linalg.eigvalsh(ta))


def test_eigh_gradcheck():
    gradcheck(lambda x: tuple(ember.linalg.eigh(x + x.mT)), arr(3, 3))
    gradcheck(lambda x: ember.linalg.eigvalsh(x + x.mT), arr(2, 3, 3))


@requires_torch
@pytest.mark.parametrize('upper', [False, True])
def test_cholesky_against_torch(upper):
    x = arr(2, 3, 3)
    spd = x @ np.swapaxes(x, -1, -2) + 3 * np.eye(3)
    ea, ta = both(spd, True)
    eL, tL = ember.linalg.cholesky(ea, upper=upper), torch.linalg.cholesky(ta, upper=upper)
    close(eL, tL)
    w = arr(2, 3, 3)
    (eL * ember.tensor(w)).sum().backward()
    (tL * torch.tensor(w)).sum().backward()
    close(ea.grad, ta.grad)
    gradcheck(lambda x: ember.linalg.cholesky(x @ x.mT + 3 * ember.eye(3, dtype=ember.float64), upper=upper), x)


def test_cholesky_error_names_the_minor_and_batch():
    a = np.stack([np.eye(3), np.diag([1.0, -1.0, 1.0])])
    with pytest.raises(RuntimeError, match=r'\(Batch element 1\): The factorization could not be completed because '
                                           r'the input is not positive-definite \(the leading minor of order 2'):
        ember.linalg.cholesky(ember.tensor(a))
    assert issubclass(ember.linalg.LinAlgError, RuntimeError)


@requires_torch
@pytest.mark.parametrize('shape,mode', [((4, 3), 'reduced'), ((3, 5), 'reduced'), ((3, 3), 'complete'),
                                        ((2, 5, 3), 'reduced')])
def test_qr_gradients(shape, mode):
    a = arr(*shape)
    ea, ta = both(a, True)
    eQ, eR = ember.linalg.qr(ea, mode=mode)
    tQ, tR = torch.linalg.qr(ta, mode=mode)
    close(eQ, tQ)
    close(eR, tR)
    w1, w2 = arr(*tQ.shape), arr(*tR.shape)
    ((eQ * ember.tensor(w1)).sum() + (eR * ember.tensor(w2)).sum()).backward()
    ((tQ * torch.tensor(w1)).sum() + (tR * torch.tensor(w2)).sum()).backward()
    close(ea.grad, ta.grad)
    gradcheck(lambda x: tuple(ember.linalg.qr(x, mode=mode)), a)


def test_qr_gradient_errors_like_torch():
    x = ember.tensor(arr(4, 3), requires_grad=True)
    with pytest.raises(RuntimeError, match="not differentiable when mode='complete' and nrows > ncols"):
        ember.linalg.qr(x, mode='complete').Q.sum().backward()
    Q, R = ember.linalg.qr(x, mode='r')
    assert tuple(Q.shape) == (0,)
    with pytest.raises(RuntimeError, match="mode='r'"):
        R.sum().backward()


@requires_torch
def test_det_gradient_of_singular_matrices():
    # numerically singular (LU succeeds): torch's and ours both give the adjugate
    a = arr(3, 2) @ arr(2, 3)
    ea, ta = both(a, True)
    ember.linalg.det(ea).backward()
    torch.linalg.det(ta).backward()
    close(ea.grad, ta.grad)
    # exactly singular (a zero pivot): ours is still the adjugate (the true derivative);
    # NOTE: torch 2.13 returns zeros here
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    ea = ember.tensor(a, requires_grad=True)
    ember.linalg.det(ea).backward()
    cofactors = np.array([[4.0, 4.0, -4.0], [-2.0, -2.0, 2.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(ea.grad.numpy(), cofactors, atol=1e-10)


def test_inverse_family_gradgrad():
    a = arr(2, 3, 3) + 3 * np.eye(3)
    gradcheck(ember.linalg.inv, a)
    gradcheck(ember.linalg.det, a)
    gradcheck(lambda x: ember.linalg.slogdet(x).logabsdet, a)
    gradcheck(ember.linalg.solve, a, arr(2, 3, 2))
    gradcheck(lambda x, y: ember.linalg.solve(x, y, left=False), a, arr(4, 3))


def test_float32_stays_float32():
    a = ember.tensor(arr(3, 3, dtype=np.float32) + 3 * np.eye(3, dtype=np.float32))
    for out in [ember.linalg.inv(a), ember.linalg.det(a), *ember.linalg.svd(a), *ember.linalg.eigh(a + a.mT),
                *ember.linalg.qr(a), ember.linalg.solve(a, a), ember.linalg.pinv(a), ember.linalg.matrix_norm(a, 2),
                ember.matrix_exp(a)]:
        assert out.dtype == ember.float32


@requires_torch
def test_norms_pinv_lstsq_rank_exp():
    a = arr(4, 3)
    ea, ta = both(a)
    for ord in ['fro', 'nuc', 1, -1, 2, -2, math.inf, -math.inf]:
        close(ember.linalg.matrix_norm(ea, ord), torch.linalg.matrix_norm(ta, ord))
        close(ember.linalg.norm(ea, ord), torch.linalg.norm(ta, ord))
    close(ember.linalg.vector_norm(ea, 3, dim=1), torch.linalg.vector_norm(ta, 3, dim=1))
    close(ember.linalg.pinv(ea), torch.linalg.pinv(ta))
    b = arr(4, 2)
    close(ember.linalg.lstsq(ea, ember.tensor(b)).solution, torch.linalg.lstsq(ta, torch.tensor(b)).solution)
    assert int(ember.linalg.matrix_rank(ember.tensor(np.outer(arr(4), arr(3))))) == 1
    m = arr(2, 3, 3)
    close(ember.linalg.matrix_exp(ember.tensor(m)), torch.linalg.matrix_exp(torch.tensor(m)), atol=1e-10)
    close(ember.linalg.multi_dot([ea.mT, ember.tensor(b), ember.tensor(b.T)]),
          torch.linalg.multi_dot([ta.mT, torch.tensor(b), torch.tensor(b.T)]))


def test_matrix_exp_gradcheck():
    gradcheck(ember.matrix_exp, arr(3, 3))


def test_linalg_errors():
    with pytest.raises(RuntimeError, match='linalg.svd: The input tensor A must have at least 2 dimensions'):
        ember.linalg.svd(ember.zeros(3))
    with pytest.raises(RuntimeError, match='linalg.eigh: A must be batches of square matrices, but they are 2 by 3'):
        ember.linalg.eigh(ember.zeros(2, 3))
    with pytest.raises(RuntimeError, match='The diagonal element 2 is zero'):
        ember.linalg.inv(ember.tensor(np.diag([1.0, 0.0, 2.0])))
