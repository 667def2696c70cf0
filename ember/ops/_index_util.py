"""Helpers shared by the indexing kernels and rules: positions of indexed elements, summing repeats."""
import numpy as np


def raw(F, t):
    """The backend array behind ``t`` in either rule namespace (for masks and other constants only)."""
    return t._data if F.is_tensor_mode() else t


def contiguous_strides(shape):
    """Row-major strides, in elements, of ``shape``."""
    strides = []
    step = 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def group_reduce(xp, positions, values, ufunc):
    """Reduces ``values`` that share a position: (unique positions, reduction, count per position)."""
    order = xp.argsort(positions, kind='stable')
    sorted_pos = positions[order]
    new_group = xp.empty(sorted_pos.shape, dtype=bool)
    new_group[:1] = True
    xp.not_equal(sorted_pos[1:], sorted_pos[:-1], out=new_group[1:])
    starts = xp.flatnonzero(new_group)
    reduced = ufunc.reduceat(values[order], starts)
    counts = xp.diff(xp.append(starts, sorted_pos.shape[0]))
    return sorted_pos[starts], reduced, counts


def accumulate_flat(xp, flat, positions, values):
    """``flat[positions] += values`` with repeated positions summed (no ``np.add.at``)."""
    positions = positions.reshape(-1)
    values = values.reshape(-1)
    if positions.shape[0] == 0:
        return flat
    kind = flat.dtype.kind
    if kind in 'biu':
        where, sums, _ = group_reduce(xp, positions, values.astype(flat.dtype, copy=False), xp.add)
        flat[where] += sums
    elif kind == 'c':
        accumulate_flat(xp, flat.real, positions, values.real)
        accumulate_flat(xp, flat.imag, positions, values.imag)
    elif positions.shape[0] * 8 < flat.shape[0]:
        # few updates into a big target: sum per unique position instead of a full-size bincount
        where, inverse = xp.unique(positions, return_inverse=True)
        sums = xp.bincount(inverse.reshape(-1), weights=values.astype(np.float64), minlength=where.shape[0])
        flat[where] += sums.astype(flat.dtype)
    else:
        sums = xp.bincount(positions, weights=values.astype(np.float64), minlength=flat.shape[0])
        flat += sums.astype(flat.dtype)
    return flat


def advanced_key(indices, dims, ndim):
    """The NumPy index tuple placing each index array at its dim (full slices elsewhere)."""
    key = [slice(None)] * ndim
    for idx, d in zip(indices, dims):
        key[d] = idx
    return tuple(key)


def advanced_positions(xp, shape, indices, dims):
    """Row-major positions in a tensor of ``shape`` of the elements ``x[indices at dims]`` reads."""
    strides = contiguous_strides(shape)
    batch = None
    for idx, d in zip(indices, dims):
        term = idx * strides[d]
        batch = term if batch is None else batch + term
    batch_shape = xp.broadcast_shapes(*[i.shape for i in indices]) if len(indices) > 1 else indices[0].shape
    batch = xp.broadcast_to(batch, batch_shape)
    rest = [d for d in range(len(shape)) if d not in dims]
    adjacent = list(dims) == list(range(dims[0], dims[0] + len(dims)))
    if adjacent:
        before = [d for d in rest if d < dims[0]]
        after = [d for d in rest if d > dims[0]]
    else:
        before, after = [], rest
    nb = len(batch_shape)
    out_ndim = len(before) + nb + len(after)
    lead = len(before)
    total = batch.reshape((1,) * lead + batch_shape + (1,) * len(after))
    for pos, d in enumerate(before + after):
        axis = pos if pos < lead else pos + nb
        view = [1] * out_ndim
        view[axis] = shape[d]
        total = total + (xp.arange(shape[d], dtype=np.int64) * strides[d]).reshape(view)
    return total


def dim_positions(xp, shape, index, dim):
    """Row-major positions in a tensor of ``shape`` of ``out[i][j]..[index[i][j]..]..`` (index's shape)."""
    if len(shape) == 0:
        return xp.zeros(index.shape, dtype=np.int64)
    strides = contiguous_strides(shape)
    total = index * strides[dim]
    nd = index.ndim
    for d in range(nd):
        if d == dim or index.shape[d] == 1:
            continue
        view = [1] * nd
        view[d] = index.shape[d]
        total = total + (xp.arange(index.shape[d], dtype=np.int64) * strides[d]).reshape(view)
    return xp.broadcast_to(total, index.shape)


def leading_block(a, shape):
    """``a[:shape[0], :shape[1], ...]`` (the part of ``a`` an index of ``shape`` addresses)."""
    if a.shape == tuple(shape):
        return a
    return a[tuple(slice(0, n) for n in shape)]


def pad_to(F, g, shape):
    """``g`` (the leading block) padded with zeros to ``shape``."""
    if tuple(g.shape) == tuple(shape):
        return g
    return F.basic_view_backward(g, shape=tuple(shape), key=tuple(slice(0, n, 1) for n in g.shape))
