"""einsum and tensordot (written as einsums), and kron.

``einsum``'s derivative is again an einsum: the gradient of one operand
contracts the output gradient with the other operands, an identity matrix ties
a subscript repeated within that operand (a diagonal), and a subscript found in
that operand alone is broadcast back.  So einsum is differentiable to any order.
"""
from ember._tensor import Tensor
from ember.ops._dispatch import apply
from ember.ops._registry import ErrorSample, Sample, composite, defop
from ember.ops._util import wrap_dim
from ember.ops.linalg import _check_tensor, _finish_out, eye


# ----------------------------------------------------------------------------- einsum

_LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'


@defop('einsum', save='inputs', dtypes='numeric')
def _einsum(xp, *operands, equation):
    # NumPy's BLAS-backed path (optimize=True) pays a planning cost that only large or many operands repay
    optimize = len(operands) > 2 or sum(a.size for a in operands) > 4096
    out = xp.einsum(equation, *operands, optimize=optimize)
    if len(operands) == 1 and getattr(out, 'base', None) is not None:
        out = out.copy()  # einsum returns views for transposes and diagonals; torch's result owns its data
    return out


@_einsum.derivative
def _(F, ctx, grad):
    lhs, rhs = ctx.params['equation'].split('->')
    terms = lhs.split(',')
    return tuple(_einsum_grad(F, grad, rhs, ctx.inputs, terms, i) if need else None
                 for i, need in enumerate(ctx.needs_input_grad))


def _einsum_grad(F, grad, rhs, inputs, terms, i):
    """The gradient of operand ``i``: an einsum of ``grad`` with the other operands.

    A subscript repeated in operand ``i`` (a diagonal) is renamed and tied back by an
    identity matrix; a subscript found only in operand ``i`` (summed away) is broadcast back.
    """
    term = terms[i]
    shape = inputs[i].shape
    used = set(''.join(terms) + rhs)
    fresh = iter([c for c in _LETTERS if c not in used])
    operands, subs = [grad], [rhs]
    for j, t in enumerate(terms):
        if j != i:
            operands.append(inputs[j])
            subs.append(t)
    target, seen = [], set()
    for p, c in enumerate(term):
        if c in seen:
            c2 = next(fresh)
            operands.append(eye(F, grad, shape[p]))
            subs.append(c + c2)
            c = c2
        seen.add(c)
        target.append(c)
    available = set(''.join(subs))
    kept = ''.join(c for c in target if c in available)
    r = F.einsum(*operands, equation=','.join(subs) + '->' + kept)
    if len(kept) != len(target):
        for p, c in enumerate(target):
            if c not in available:
                r = F.unsqueeze(r, dim=p)
        r = F.expand(r, shape=tuple(shape))
    return r


def _sublist_equation(args):
    """torch's sublist form ``einsum(x, [0, 1], y, [1, 2], [0, 2])`` as an equation and operands."""
    def letters(sub):
        return ''.join('...' if s is Ellipsis else _LETTERS[s] for s in sub)
    operands = list(args[0:len(args) - len(args) % 2:2])
    terms = [letters(s) for s in args[1::2]][:len(operands)]
    eq = ','.join(terms)
    if len(args) % 2:
        eq += '->' + letters(args[-1])
    return eq, operands


def _parse_einsum(equation, shapes):
    """The equation with explicit subscripts only: ellipses spelled out as fresh letters, output explicit."""
    eq = equation.replace(' ', '')
    for pos, c in enumerate(eq):
        if not (c in _LETTERS or c in '.,->'):
            raise RuntimeError(f"einsum(): invalid subscript given at index {pos} in the equation string, "
                               "subscripts must be in [a-zA-Z]")
    lhs, arrow, rhs = eq.partition('->')
    terms = lhs.split(',')
    if len(terms) > len(shapes):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    if len(terms) < len(shapes):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    free = [c for c in _LETTERS if c not in eq]
    ell_ndim = 0
    for i, (t, shape) in enumerate(zip(terms, shapes)):
        named = len(t) - 3 if '...' in t else len(t)
        if ('...' in t and named > len(shape)) or ('...' not in t and named != len(shape)):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) "
                               + ("is more than the number of dimensions" if '...' in t else
                                  "does not match the number of dimensions")
                               + f" ({len(shape)}) for operand {i}"
                               + ("" if '...' in t else " and no ellipsis was given"))
        if '...' in t:
            ell_ndim = max(ell_ndim, len(shape) - named)
    ell = ''.join(free[:ell_ndim])
    terms = [t.replace('...', ell[ell_ndim - (len(s) - len(t) + 3):]) if '...' in t else t
             for t, s in zip(terms, shapes)]
    if arrow:
        rhs = rhs.replace('...', ell)
        for c in rhs:
            if rhs.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
            if not any(c in t for t in terms):
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input "
                                   "operand")
    else:
        joined = ''.join(terms)
        rhs = ell + ''.join(sorted(c for c in set(joined) if joined.count(c) == 1 and c not in ell))
    return terms, rhs


def einsum(equation, *operands):
    """Sums products of the operands' elements over the subscripts the equation names (Einstein notation)."""
    if not isinstance(equation, str):
        equation, operands = _sublist_equation((equation,) + operands)
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    operands = list(operands)
    for i, x in enumerate(operands):
        _check_tensor(x, 'einsum', 'operands', 2)
        if x._dtype is not operands[0]._dtype:
            raise RuntimeError(f"expected scalar type {operands[0]._dtype.legacy_name[:-6]} but found "
                               f"{x._dtype.legacy_name[:-6]}")
    terms, rhs = _parse_einsum(equation, [x._data.shape for x in operands])
    sizes = {}
    for i, (t, x) in enumerate(zip(terms, operands)):
        shape = x._data.shape
        for p, c in enumerate(t):
            first = t.index(c)
            if first != p and shape[first] != shape[p]:
                raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {i} but the sizes don't "
                                   f"match, {shape[p]} != {shape[first]}")
            seen = sizes.get(c)
            if seen is not None and seen != shape[p] and seen != 1 and shape[p] != 1:
                raise RuntimeError(f"einsum(): subscript {c} has size {shape[p]} for operand {i} which does not "
                                   f"broadcast with previously seen size {seen}")
            if seen is None or seen == 1:
                sizes[c] = shape[p]
    # a size-1 dim that broadcasts against a larger one is dropped (squeezed) from its operand
    for i, (t, x) in enumerate(zip(terms, operands)):
        drop = tuple(p for p, c in enumerate(t) if x._data.shape[p] == 1 and sizes[c] != 1)
        if drop:
            from ember.ops.shape import squeeze
            operands[i] = squeeze(x, drop)
            terms[i] = ''.join(c for p, c in enumerate(t) if p not in drop)
    return apply(_einsum, tuple(operands), {'equation': ','.join(terms) + '->' + rhs})


_einsum.samples = lambda make: [
    Sample('ij,jk->ik', make((2, 3)), make((3, 4))), Sample('bij,bjk->bik', make((2, 3, 4)), make((2, 4, 2))),
    Sample('ii->i', make((3, 3))), Sample('ii', make((3, 3))), Sample('ij->', make((2, 3))),
    Sample('i,j', make((3,)), make((2,))), Sample('...ij,...jk', make((2, 1, 3, 4)), make((5, 4, 2))),
    Sample('bij,bjk->bik', make((2, 3, 4)), make((1, 4, 2))), Sample('ij,jk,kl->il', make((2, 3)), make((3, 4)),
                                                                     make((4, 2))),
    Sample('ij,j->i', make((3, 1)), make((4,))), Sample('ij->ji', make((2, 3))), Sample('iij->j', make((2, 2, 3))),
    Sample('...i,...i->...', make((2, 3)), make((3,))), Sample('ab,ab->a', make((0, 3)), make((0, 3))),
    Sample('i,i->', make((4,), 'int64', -3, 3), make((4,), 'int64', -3, 3), grad=False)]
_einsum.error_samples = lambda make: [
    ErrorSample('ij,j->i', make((3, 2)), make((4,)), match='subscript j has size 4 for operand 1 which does not '
                                                            'broadcast with previously seen size 2'),
    ErrorSample('ij,jk->ik', make((3, 2)), match='more operands were provided|fewer operands were provided'),
    ErrorSample('i,i->', make((3,)), make((3,)).astype('float64'), match='expected scalar type Float but found Double'),
    ErrorSample('ijk->i', make((3, 2)), match='number of subscripts in the equation')]


# ----------------------------------------------------------------------------- tensordot / kron

def tensordot(a, b, dims=2, out=None):
    """Contracts ``dims`` of ``a`` with ``dims`` of ``b`` (an int: the last/first ``dims`` dims; or two lists)."""
    na, nb = a._data.ndim, b._data.ndim
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(na, nb):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        dims_a, dims_b = list(range(-dims, 0)), list(range(dims))
    else:
        dims_a, dims_b = dims
        dims_a = [dims_a] if isinstance(dims_a, int) else list(dims_a)
        dims_b = [dims_b] if isinstance(dims_b, int) else list(dims_b)
    if len(dims_a) != len(dims_b):
        raise RuntimeError("both dimension lists should have same length")
    sa, sb = a._data.shape, b._data.shape
    sub_a, sub_b = list(_LETTERS[:na]), list(_LETTERS[na:na + nb])
    for da, db in zip(dims_a, dims_b):
        pa, pb = wrap_dim(da, na), wrap_dim(db, nb)
        if sa[pa] != sb[pb]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {sa[pa]} in dim {da} and "
                               f"second has size {sb[pb]} in dim {db}")
        sub_b[pb] = sub_a[pa]
    contracted = set(sub_b) & set(sub_a)
    rhs = ''.join(c for c in sub_a if c not in contracted) + ''.join(c for c in sub_b if c not in contracted)
    if a._dtype is not b._dtype:
        raise RuntimeError(f"expected scalar type {a._dtype.legacy_name[:-6]} but found {b._dtype.legacy_name[:-6]}")
    result = apply(_einsum, (a, b), {'equation': ''.join(sub_a) + ',' + ''.join(sub_b) + '->' + rhs})
    return _finish_out(result, out)


def kron(input, other, *, out=None):
    """Kronecker product: block ``(i, j)`` is ``input[i, j] * other``."""
    from ember.ops.pointwise import mul
    from ember.ops.shape import reshape
    sa, sb = input._data.shape, other._data.shape
    nd = max(len(sa), len(sb))
    sa, sb = (1,) * (nd - len(sa)) + sa, (1,) * (nd - len(sb)) + sb
    a = reshape(input, tuple(x for n in sa for x in (n, 1)))
    b = reshape(other, tuple(x for n in sb for x in (1, n)))
    return _finish_out(reshape(mul(a, b), tuple(x * y for x, y in zip(sa, sb))), out)


composite('tensordot', samples=lambda make: [
    Sample(make((2, 3, 4)), make((3, 4, 5))), Sample(make((2, 3)), make((3, 4)), dims=1),
    Sample(make((2, 3, 4)), make((4, 2, 5)), dims=([0, 2], [1, 0])), Sample(make((2, 3)), make((4,)), dims=0)])
composite('kron', samples=lambda make: [Sample(make((2, 3)), make((3, 2))), Sample(make((2, 3)), make((4,))),
                                        Sample(make((2, 1, 2)), make((2, 2)))])


__all__ = ['einsum', 'tensordot', 'kron']

TENSOR_METHODS = ['kron']
