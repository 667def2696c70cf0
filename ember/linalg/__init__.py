"""``ember.linalg``: torch.linalg's functions (products, decompositions, norms, solvers).

Each is an entry (or a composite of entries) of the op table in
``ember/ops/linalg.py`` (products), ``linalg_decomp.py`` (decompositions) and
``linalg_funcs.py`` (norms, pinv, lstsq, rank, exp).
"""
from ember.ops.linalg import linalg_cross as cross, matmul, matrix_power, multi_dot  # noqa: F401
from ember.ops.linalg_decomp import (LinAlgError, linalg_cholesky as cholesky, linalg_det as det,  # noqa: F401
                                     linalg_eigh as eigh, linalg_eigvalsh as eigvalsh, linalg_inv as inv,
                                     linalg_qr as qr, linalg_slogdet as slogdet, linalg_solve as solve,
                                     linalg_svd as svd, linalg_svdvals as svdvals)
from ember.ops.linalg_funcs import (linalg_norm as norm, linalg_pinv as pinv, lstsq, matrix_exp,  # noqa: F401
                                    matrix_norm, matrix_rank)
try:
    from ember.ops.reduction_stats import vector_norm  # noqa: F401
except ImportError:  # the reductions family is optional: resolve it at call time
    def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
        """The ``ord``-norm of ``x`` seen as a vector (over ``dim``, or all elements)."""
        import ember
        return ember.vector_norm(x, ord, dim, keepdim, dtype=dtype, out=out)


def vecdot(x, y, *, dim=-1):
    """Dot product of vectors along ``dim`` (conjugating ``x``), broadcasting the other dims."""
    from ember.ops.pointwise import conj, mul
    from ember.ops.reduction import sum as _sum
    return _sum(mul(conj(x), y), dim)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """Diagonals of the matrices in ``A`` (``torch.diagonal`` with matrix-friendly defaults)."""
    import ember
    return ember.diagonal(A, offset=offset, dim1=dim1, dim2=dim2)
