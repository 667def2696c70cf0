"""The connectionist temporal classification loss (CTC), as one op of the table.

The forward is the log-space alpha recursion over the blank-extended label sequence
``blank, l1, blank, l2, ..., blank``; each time step updates every batch item and every label position at
once (the only Python loop is over time).  The derivative rule runs the beta recursion the same way and
returns torch's gradient for ``log_probs``::

    grad[t, n, c] = exp(lp[t, n, c]) - sum_{s: ext[s] = c} exp(alpha_t(s) + beta_t(s) + nll_n - lp[t, n, c])

(0 for ``t >= input_lengths[n]``).  Like torch's, it is the gradient with respect to the logits of a
log_softmax folded in (the ``exp(lp)`` term vanishes through log_softmax's backward), and it is only once
differentiable.
"""
import numpy as np

from ember import _dtype
from ember import backend as _backend
from ember._tensor import Tensor
from ember.ops._dispatch import apply
from ember.ops._registry import ErrorSample, Sample, defop
from ember.nn._functional.loss import check_reduction

__all__ = ['ctc_loss']

_NEG_INF = -np.inf


def _logsumexp3(xp, a, b, c):
    top = xp.maximum(xp.maximum(a, b), c)
    safe = xp.where(xp.isneginf(top), 0, top)
    with np.errstate(divide='ignore'):
        return safe + xp.log(xp.exp(a - safe) + xp.exp(b - safe) + xp.exp(c - safe))


def _shift(xp, a, k, fill=_NEG_INF):
    """``a`` moved ``k`` positions along the last axis (right for k > 0), filled with ``fill``."""
    out = xp.full_like(a, fill)
    if k > 0:
        out[..., k:] = a[..., :-k]
    else:
        out[..., :k] = a[..., -k:]
    return out


def _extended(xp, lp, targets, target_lengths, blank):
    """The blank-extended labels (N, 2S+1), their log-probs over time (T, N, 2S+1) and the masks."""
    n, s_max = targets.shape
    width = 2 * s_max + 1
    ext = xp.full((n, width), blank, dtype=np.int64)
    ext[:, 1::2] = targets
    pos = xp.arange(width)
    inside = pos[None, :] <= 2 * target_lengths[:, None]
    ext = xp.where(inside, ext, blank)
    lp_ext = xp.take_along_axis(lp, xp.broadcast_to(ext[None], (lp.shape[0], n, width)), axis=2)
    skip = xp.zeros((n, width), dtype=bool)
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    return ext, lp_ext, skip, inside


def _alphas(xp, lp_ext, skip, inside, input_lengths, target_lengths):
    """log alpha for every time step (T, N, W); frozen after each item's input length."""
    steps, n, width = lp_ext.shape
    alphas = xp.full((steps, n, width), _NEG_INF, dtype=lp_ext.dtype)
    if steps == 0:
        return alphas
    alpha = xp.full((n, width), _NEG_INF, dtype=lp_ext.dtype)
    alpha[:, 0] = lp_ext[0, :, 0]
    if width > 1:
        alpha[:, 1] = xp.where(target_lengths > 0, lp_ext[0, :, 1], _NEG_INF)
    alpha = xp.where(input_lengths[:, None] > 0, alpha, _NEG_INF)
    alphas[0] = alpha
    for t in range(1, steps):
        skipped = xp.where(skip, _shift(xp, alpha, 2), _NEG_INF)
        new = _logsumexp3(xp, alpha, _shift(xp, alpha, 1), skipped) + lp_ext[t]
        new = xp.where(inside, new, _NEG_INF)
        alpha = xp.where((t < input_lengths)[:, None], new, alpha)
        alphas[t] = alpha
    return alphas


def _betas(xp, lp_ext, skip, inside, input_lengths, target_lengths):
    """log beta for every time step (T, N, W), -inf at and after each item's input length."""
    steps, n, width = lp_ext.shape
    betas = xp.full((steps, n, width), _NEG_INF, dtype=lp_ext.dtype)
    beta = xp.full((n, width), _NEG_INF, dtype=lp_ext.dtype)
    rows = xp.arange(n)
    last = 2 * target_lengths
    has_labels = last > 0
    start = xp.full((n, width), _NEG_INF, dtype=lp_ext.dtype)
    skip_from = _shift(xp, skip, -2, False)  # s -> s + 2 allowed
    for t in range(steps - 1, -1, -1):
        lp_t = lp_ext[t]
        start[...] = _NEG_INF
        start[rows, last] = lp_t[rows, last]
        start[rows[has_labels], last[has_labels] - 1] = lp_t[rows[has_labels], last[has_labels] - 1]
        skipped = xp.where(skip_from, _shift(xp, beta, -2), _NEG_INF)
        new = _logsumexp3(xp, beta, _shift(xp, beta, -1), skipped) + lp_t
        new = xp.where(inside, new, _NEG_INF)
        is_last = (t == input_lengths - 1)[:, None]
        beta = xp.where(is_last, start, xp.where((t < input_lengths - 1)[:, None], new, _NEG_INF))
        betas[t] = beta
    return betas


def _nll(xp, alphas, input_lengths, target_lengths):
    n = alphas.shape[1]
    rows = xp.arange(n)
    final = alphas[xp.maximum(input_lengths - 1, 0), rows]  # (N, W)
    last = 2 * target_lengths
    a = final[rows, last]
    b = xp.where(last > 0, final[rows, xp.maximum(last - 1, 0)], _NEG_INF)
    top = xp.maximum(a, b)
    safe = xp.where(xp.isneginf(top), 0, top)
    with np.errstate(divide='ignore'):
        total = safe + xp.log(xp.exp(a - safe) + xp.exp(b - safe))
    return -xp.where(input_lengths > 0, total, xp.where(target_lengths == 0, 0, _NEG_INF))


def _reduce(xp, nll, target_lengths, reduction, zero_infinity, dtype):
    if zero_infinity:
        nll = xp.where(xp.isposinf(nll), 0, nll)
    if reduction == 'none':
        return nll.astype(dtype, copy=False)
    if reduction == 'sum':
        return xp.asarray(nll.sum(), dtype=dtype)
    return xp.asarray((nll / xp.maximum(target_lengths, 1)).mean(), dtype=dtype)


# NOTE: gradcheck=False: torch's gradient (matched in tests/nn/test_losses.py) carries the exp(lp) term
# of a folded log_softmax, so it is not the finite-difference gradient with respect to log_probs.
@defop('ctc_loss', save='inputs', once_differentiable=True, gradcheck=False, gradgradcheck=False,
       grad_name='CtcLossBackward0', public='nn.functional.ctc_loss')
def _ctc_loss(xp, log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity):
    _, lp_ext, skip, inside = _extended(xp, log_probs, targets, target_lengths, blank)
    alphas = _alphas(xp, lp_ext, skip, inside, input_lengths, target_lengths)
    nll = _nll(xp, alphas, input_lengths, target_lengths)
    return _reduce(xp, nll, target_lengths, reduction, zero_infinity, log_probs.dtype)


@_ctc_loss.derivative
def _(F, ctx, grad):
    lp, targets, input_lengths, target_lengths = ctx.inputs
    p = ctx.params
    xp = F.xp
    steps, n, classes = lp.shape
    ext, lp_ext, skip, inside = _extended(xp, lp, targets, target_lengths, p['blank'])
    alphas = _alphas(xp, lp_ext, skip, inside, input_lengths, target_lengths)
    betas = _betas(xp, lp_ext, skip, inside, input_lengths, target_lengths)
    nll = _nll(xp, alphas, input_lengths, target_lengths)
    # per-item factor of the incoming gradient
    if p['reduction'] == 'none':
        factor = grad
    elif p['reduction'] == 'sum':
        factor = xp.broadcast_to(grad, (n,))
    else:
        factor = grad / (xp.maximum(target_lengths, 1) * n)
    with np.errstate(invalid='ignore', over='ignore'):
        occupancy = xp.exp(alphas + betas + nll[None, :, None] - lp_ext)  # (T, N, W)
    occupancy = xp.where(xp.isnan(occupancy), 0, occupancy)
    # sum the occupancy of positions that share a class (blanks, repeated labels) with one bincount
    flat = (xp.arange(steps * n).reshape(steps, n, 1) * classes + ext[None]).reshape(-1)
    by_class = xp.bincount(flat, occupancy.reshape(-1).astype(np.float64), steps * n * classes)
    by_class = by_class.reshape(steps, n, classes).astype(lp.dtype, copy=False)
    result = (xp.exp(lp) - by_class) * xp.asarray(factor, dtype=lp.dtype).reshape(1, n, 1)
    active = xp.arange(steps)[:, None] < input_lengths[None, :]
    keep = active if not p['zero_infinity'] else active & ~xp.isposinf(nll)[None, :]
    return xp.where(keep[:, :, None], result, 0).astype(lp.dtype, copy=False), None, None, None


# ----------------------------------------------------------------------------- public function

def _lengths(value, device, name):
    if isinstance(value, Tensor):
        return value._data.astype(np.int64).reshape(-1)
    return _backend.get(device).xp.asarray(list(value) if not isinstance(value, int) else [value], dtype=np.int64)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction='mean', zero_infinity=False):
    """The CTC loss of log-probabilities ``log_probs`` (T, N, C) for label sequences ``targets``.

    Args:
        targets: padded (N, S) or all sequences concatenated (sum(target_lengths),).
        input_lengths, target_lengths: per batch item (tensors or sequences of ints).
        blank: the blank label.
        reduction: ``'none'`` | ``'mean'`` (each loss divided by its target length, then the batch mean) |
            ``'sum'``.
        zero_infinity: impossible alignments give loss 0 and gradient 0 instead of inf.
    """
    reduction = check_reduction(reduction)
    unbatched = log_probs.dim() == 2
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
        if targets.dim() == 1 and not isinstance(target_lengths, (list, tuple)) and \
                (not isinstance(target_lengths, Tensor) or target_lengths.dim() == 0):
            targets = targets.unsqueeze(0)
    if log_probs._dtype.category < _dtype.FLOAT:
        raise RuntimeError(f"\"ctc_loss_cpu\" not implemented for '{log_probs._dtype.name}'")
    steps, n, classes = log_probs.shape
    xp = _backend.get(log_probs._device).xp
    in_len = _lengths(input_lengths, log_probs._device, 'input_lengths')
    tg_len = _lengths(target_lengths, log_probs._device, 'target_lengths')
    if not 0 <= blank < classes:
        raise RuntimeError("blank must be in label range")
    if in_len.shape[0] != n:
        raise RuntimeError("input_lengths must be of size batch_size")
    if tg_len.shape[0] != n:
        raise RuntimeError("target_lengths must be of size batch_size")
    raw = targets._data.astype(np.int64)
    if targets.dim() == 1:
        # concatenated: scatter the sequences into a padded (N, S) array
        s_max = int(tg_len.max()) if n else 0
        if raw.shape[0] != int(tg_len.sum()):
            raise RuntimeError(f"Expected tensor to have size {int(tg_len.sum())} at dimension 0, but got size "
                               f"{raw.shape[0]} for argument #2 'targets' (while checking arguments for "
                               "ctc_loss_allocate_outputs)")
        offsets = xp.concatenate([xp.zeros(1, np.int64), xp.cumsum(tg_len)[:-1]])
        pos = offsets[:, None] + xp.arange(s_max)[None, :]
        valid = xp.arange(s_max)[None, :] < tg_len[:, None]
        padded = xp.where(valid, raw[xp.minimum(pos, max(raw.shape[0] - 1, 0))] if raw.size else 0, blank)
    else:
        s_max = raw.shape[1]
        if n and int(tg_len.max()) > s_max:
            raise RuntimeError(f"Expected tensor to have size at least {int(tg_len.max())} at dimension 1, but got "
                               f"size {s_max} for argument #2 'targets' (while checking arguments for "
                               "ctc_loss_allocate_outputs)")
        valid = xp.arange(s_max)[None, :] < tg_len[:, None]
        padded = xp.where(valid, raw, blank)
    if n and int(in_len.max()) > steps:
        bad = int(in_len.max())
        raise RuntimeError(f"Expected input_lengths to have value at most {steps}, but got value {bad} (while "
                           f"checking arguments for ctc_loss_cpu)")
    params = {'blank': int(blank), 'reduction': reduction, 'zero_infinity': bool(zero_infinity)}
    args = (log_probs, Tensor._make(padded.astype(np.int64), log_probs._device),
            Tensor._make(in_len, log_probs._device), Tensor._make(tg_len, log_probs._device))
    loss = apply(_ctc_loss, args, params)
    return loss.reshape(()) if unbatched and reduction == 'none' else loss


def _ctc_samples(make):
    # NOTE: concatenated 1-D targets are tested in tests/nn/test_losses.py: torch misreads non-contiguous ones.
    rng = np.random.default_rng(3)

    def lp(steps, n, classes):
        x = rng.standard_normal((steps, n, classes))
        x = x - np.log(np.exp(x).sum(-1, keepdims=True))
        return x.astype(np.float32)

    targets = rng.integers(1, 5, size=(3, 4)).astype(np.int64)
    return [Sample(lp(8, 3, 5), targets, np.array([8, 7, 5]), np.array([4, 2, 3])),
            Sample(lp(8, 3, 5), targets, np.array([8, 8, 6]), np.array([4, 0, 3]), reduction='sum'),
            Sample(lp(7, 2, 4), np.array([[1, 1, 2], [3, 3, 3]]), np.array([7, 7]), np.array([3, 3]), blank=0),
            Sample(lp(6, 2, 5), targets[:2] - 1, np.array([6, 4]), np.array([4, 2]), blank=4),
            Sample(lp(6, 3, 5), targets, np.array([6, 1, 6]), np.array([4, 2, 3]), zero_infinity=True)]


_ctc_loss.samples = _ctc_samples
_ctc_loss.error_samples = lambda make: [
    ErrorSample(make((5, 2, 4)), np.array([[1, 2], [1, 1]]), np.array([5, 5]), np.array([2, 3]),
                error=RuntimeError, match='Expected tensor to have size at least 3 at dimension 1'),
    ErrorSample(make((5, 2, 4)), np.array([[1, 2], [1, 1]]), np.array([6, 5]), np.array([2, 2]),
                error=RuntimeError, match='Expected input_lengths to have value at most 5, but got value 6')]
