"""``embedding``, ``embedding_bag`` and ``one_hot``.

``embedding`` is a row gather.  Its weight gradient adds the rows of the
output gradient into the rows they came from; indices repeat, so this is a
segmented sum: sort the indices once, ``add.reduceat`` over the runs, and
write each run's total into its row (no ``add.at``).  That scatter is an op of
its own (``embedding_dense_backward``) whose derivative is again a gather, so
double backward works.
"""
from ember import _dtype
from ember._tensor import Tensor
from ember.autograd import grad_mode
from ember.ops._dispatch import apply
from ember.ops._registry import ErrorSample, Sample, defop

__all__ = ['embedding', 'embedding_bag', 'one_hot']


@defop('embedding', save='inputs', public='nn.functional.embedding')
def _embedding(xp, indices, weight, padding_idx, scale_grad_by_freq):
    return xp.take(weight, indices, axis=0)


@_embedding.derivative
def _(F, ctx, grad):
    indices, weight = ctx.inputs
    p = ctx.params
    gw = F.embedding_dense_backward(grad, indices, num_weights=weight.shape[0], padding_idx=p['padding_idx'],
                                    scale_grad_by_freq=p['scale_grad_by_freq'])
    return None, gw


def _run_starts(xp, sorted_idx):
    """Start positions of the runs of equal values in a sorted 1-D index array."""
    n = sorted_idx.shape[0]
    change = xp.empty(n, dtype=bool)
    change[0] = True
    xp.not_equal(sorted_idx[1:], sorted_idx[:-1], out=change[1:])
    return xp.flatnonzero(change)


@defop('embedding_dense_backward', save='inputs', public='')
def _embedding_dense_backward(xp, grad, indices, num_weights, padding_idx, scale_grad_by_freq):
    dim = grad.shape[-1]
    out = xp.zeros((num_weights, dim), dtype=grad.dtype)
    flat = indices.reshape(-1)
    rows = grad.reshape(-1, dim)
    if padding_idx is not None:
        keep = flat != padding_idx
        if not keep.all():
            flat, rows = flat[keep], rows[keep]
    if flat.shape[0] == 0:
        return out
    order = xp.argsort(flat, kind='stable')
    sorted_idx = flat[order]
    starts = _run_starts(xp, sorted_idx)
    sums = xp.add.reduceat(rows[order], starts, axis=0)
    if scale_grad_by_freq:
        counts = xp.diff(xp.append(starts, sorted_idx.shape[0]))
        sums /= counts[:, None].astype(sums.dtype)
    out[sorted_idx[starts]] = sums
    return out


@_embedding_dense_backward.derivative
def _(F, ctx, grad):
    _, indices = ctx.inputs
    p = ctx.params
    gathered = F.embedding(indices, grad, padding_idx=None, scale_grad_by_freq=False)
    if p['scale_grad_by_freq']:
        # each index's count: scatter ones into the rows, gather them back
        ones = F.ones_like(F.unsqueeze(F.to_dtype(indices, dtype=F.dtype_of(grad)), dim=indices.ndim))
        counts = F.embedding_dense_backward(ones, indices, num_weights=p['num_weights'], padding_idx=None,
                                            scale_grad_by_freq=False)
        gathered = gathered / F.embedding(indices, counts, padding_idx=None, scale_grad_by_freq=False)
    if p['padding_idx'] is not None:
        keep = F.unsqueeze(F.ne(indices, p['padding_idx']), dim=indices.ndim)
        gathered = F.where(keep, gathered, 0.0)
    return gathered, None


def _check_indices(input, fn):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    if input._dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {input._dtype.legacy_name} instead (while checking arguments for "
                           f"{fn})")


def _wrap_padding_idx(padding_idx, num_embeddings):
    if padding_idx is None:
        return None
    if padding_idx > 0:
        if padding_idx >= num_embeddings:
            raise AssertionError("Padding_idx must be within num_embeddings")
    elif padding_idx < 0:
        if padding_idx < -num_embeddings:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx = num_embeddings + padding_idx
    return padding_idx


def _renorm_rows(weight, input, max_norm, norm_type):
    """Rescales (in place, without grad) the rows of ``weight`` that ``input`` selects to norm <= ``max_norm``."""
    import ember
    with grad_mode.no_grad():
        rows = ember.unique(input.reshape(-1))
        selected = weight.index_select(0, rows)
        norms = ember.linalg.vector_norm(selected, norm_type, dim=1, keepdim=True)
        scale = ember.where(norms > max_norm, max_norm / (norms + 1e-7), ember.ones_like(norms))
        weight.index_copy_(0, rows, selected * scale)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Looks up rows of ``weight`` at the integer ``input`` indices.

    Args:
        padding_idx: the row at this index gets no gradient.
        max_norm: rows looked up are first rescaled in place to norm at most ``max_norm``.
        scale_grad_by_freq: divides each row's gradient by how often it occurs in ``input``.
    """
    _check_indices(input, 'embedding')
    if sparse:
        raise NotImplementedError("ember has no sparse tensors: embedding(sparse=True) is not supported")
    if weight.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    num = weight.shape[0]
    padding_idx = _wrap_padding_idx(padding_idx, num)
    if input.numel():
        lo, hi = int(input.min()), int(input.max())
        if lo < 0 or hi >= num:
            raise IndexError("index out of range in self")
    if max_norm is not None:
        _renorm_rows(weight, input, max_norm, norm_type)
    idx = input if input._dtype is _dtype.int64 else input.long()
    return apply(_embedding, (idx, weight), {'padding_idx': padding_idx, 'scale_grad_by_freq': scale_grad_by_freq})


_embedding.samples = lambda make: [
    Sample(make((5,), 'int64', 0, 4), make((4, 3))), Sample(make((2, 3), 'int64', 0, 4), make((4, 3))),
    Sample(make((6,), 'int64', 0, 4), make((4, 3)), padding_idx=1, grad=False),
    Sample(make((6,), 'int64', 0, 4), make((4, 3)), scale_grad_by_freq=True, grad=False),
    Sample(make((0,), 'int64', 0, 4), make((4, 3))), Sample(make((), 'int64', 0, 4), make((4, 3)))]
_embedding.error_samples = lambda make: [
    ErrorSample(make((3,)), make((4, 3)), match="Expected tensor for argument #1 'indices'"),
    ErrorSample(make((3,), 'int64', 5, 7), make((4, 3)), error=IndexError, match='index out of range in self')]


# ----------------------------------------------------------------------------- one_hot

def one_hot(tensor, num_classes=-1):
    """``int64`` one-hot encoding of ``tensor`` with a trailing class dim (``-1``: ``max + 1`` classes)."""
    import ember
    if not isinstance(tensor, Tensor):
        raise TypeError(f"one_hot(): argument 'input' (position 1) must be Tensor, not {type(tensor).__name__}")
    if tensor._dtype is not _dtype.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if tensor.numel() == 0:
        if num_classes == -1:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        return ember.zeros(tuple(tensor.shape) + (num_classes,), dtype=ember.int64, device=tensor.device)
    lo, hi = int(tensor.min()), int(tensor.max())
    if lo < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        num_classes = hi + 1
    elif hi >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    classes = ember.arange(num_classes, device=tensor.device)
    return (tensor.unsqueeze(-1) == classes).long()


# ----------------------------------------------------------------------------- embedding_bag

def _bag_ids(input, offsets, include_last_offset):
    """For a 1-D ``input`` split into bags at ``offsets``: the bag number of each element, and the bag count."""
    import ember
    n = input.shape[0]
    if offsets.ndim != 1:
        raise ValueError("offsets has to be a 1D Tensor")
    starts = offsets[:-1] if include_last_offset else offsets
    num_bags = starts.shape[0]
    if num_bags and int(offsets[0]) != 0:
        raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
                           "position 0. However, got {}".format(int(offsets[0])))
    if num_bags and int(starts[-1]) > n:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length ({n}), but got offsets[-1] of "
                           f"{int(starts[-1])}")
    positions = ember.arange(n, device=input.device)
    bag = ember.searchsorted(starts.long().contiguous(), positions, right=True) - 1
    return bag, num_bags


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode='mean',
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Sums, averages or maxes the embeddings of each bag of indices without building them all as a batch.

    ``input`` is 2-D (one bag per row) or 1-D with ``offsets`` giving where each bag starts.
    ``padding_idx`` entries are left out of the bag (and of the mean's count); empty bags give zeros.
    """
    import ember
    _check_indices(input, 'embedding_bag')
    if mode not in ('sum', 'mean', 'max'):
        raise ValueError("mode has to be one of sum, mean or max")
    if per_sample_weights is not None and mode != 'sum':
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                                  "the Pytorch GitHub.")
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             "fixed length sequences. However, found offsets of type {}".format(type(offsets)))
        batch, length = input.shape
        flat = input.reshape(-1)
        bag = ember.arange(batch, device=input.device).repeat_interleave(length)
        num_bags = batch
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        flat = input
        bag, num_bags = _bag_ids(input, offsets, include_last_offset)
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.ndim}")
    num = weight.shape[0]
    padding_idx = _wrap_padding_idx(padding_idx, num)
    if padding_idx is not None:
        keep = flat != padding_idx
        flat, bag = flat[keep], bag[keep]
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights[keep]
    rows = embedding(flat, weight, None, max_norm, norm_type, scale_grad_by_freq)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.unsqueeze(1)
    dim = weight.shape[1]
    zeros = ember.zeros((num_bags, dim), dtype=weight.dtype, device=weight.device)
    if mode == 'max':
        index = bag.unsqueeze(1).expand(-1, dim)
        return zeros.scatter_reduce(0, index, rows, 'amax', include_self=False)
    total = zeros.index_add(0, bag, rows)
    if mode == 'sum':
        return total
    counts = ember.bincount(bag, minlength=num_bags).to(weight.dtype).clamp_min(1)
    return total / counts.unsqueeze(1)
