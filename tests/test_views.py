"""Views against PyTorch: the same strides and storage offsets, shared storage, ``_base``, version counters.

Each case builds a view ``fn(m, x)`` of a base ``x`` in ember and in torch (``m`` is the module) and
checks the geometry of every resulting view, that writes through the view reach the base and the
reverse, and that gradients through in-place ops on views of graph tensors equal torch's.
"""
import numpy as np
import pytest

import ember
from tests.conftest import requires_torch, torch
from tests.test_autograd import leaf, same

pytestmark = requires_torch


def base(m, shape=(2, 3, 4), transposed=False):
    x = m.arange(float(np.prod(shape))).reshape(shape).clone()
    return x.transpose(0, -1) if transposed else x


def _views(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _geometry(views, root):
    return [(tuple(v.shape), v.stride(), v.storage_offset(), v.is_contiguous(), v._base is root) for v in views]


VIEW_CASES = {
    'narrow': lambda m, x: m.narrow(x, 1, 1, 2),
    'narrow_neg': lambda m, x: x.narrow(-1, -3, 2),
    'narrow_empty': lambda m, x: x.narrow(0, 2, 0),
    'select': lambda m, x: m.select(x, 1, 2),
    'select_neg': lambda m, x: x.select(-1, -1),
    'select_of_select': lambda m, x: x.select(0, 1).select(0, 2),
    'unbind': lambda m, x: m.unbind(x, 1),
    'unbind_last': lambda m, x: x.unbind(-1),
    'split_int': lambda m, x: m.split(x, 3, -1),
    'split_list': lambda m, x: x.split([1, 2], 1),
    'split_with_sizes': lambda m, x: x.split_with_sizes([2, 0, 2], 2),
    'chunk': lambda m, x: m.chunk(x, 3, 2),
    'tensor_split_sections': lambda m, x: m.tensor_split(x, 3, dim=2),
    'tensor_split_indices': lambda m, x: x.tensor_split([1, 5], dim=-1),
    'hsplit': lambda m, x: m.hsplit(x, 3),
    'vsplit': lambda m, x: m.vsplit(x, [1]),
    'dsplit': lambda m, x: m.dsplit(x, 2),
    'diagonal': lambda m, x: m.diagonal(x),
    'diagonal_offset': lambda m, x: x.diagonal(1, -1, 1),
    'diagonal_negative': lambda m, x: x.diagonal(-1, 1, 2),
    'diagonal_out_of_range': lambda m, x: x.diagonal(9, 1, 2),
    'movedim': lambda m, x: m.movedim(x, 0, -1),
    'moveaxis': lambda m, x: m.moveaxis(x, (0, 1), (2, 0)),
    'unflatten': lambda m, x: x.unflatten(2, (2, -1)),
    'unfold': lambda m, x: x.unfold(2, 2, 2),
    'unfold_step': lambda m, x: x.unfold(1, 2, 2),
    'unfold_full': lambda m, x: x.unfold(0, 2, 1),
    'ravel': lambda m, x: x.ravel() if x.is_contiguous() else x.narrow(0, 0, 1),
    'atleast_3d': lambda m, x: m.atleast_3d(x.select(0, 1).select(0, 1)),
    'atleast_2d': lambda m, x: m.atleast_2d(x.select(0, 0).select(0, 0), x.select(0, 0)),
    'squeeze_unsqueeze': lambda m, x: x.unsqueeze(1).narrow(0, 1, 1).squeeze(0),
    'T': lambda m, x: x.select(0, 0).T,
    'mT': lambda m, x: x.mT,
}

# views where several elements share one memory location: writes to them are refused (expanded) or
# undefined (overlapping windows), so only their geometry is compared
OVERLAPPING_CASES = {'unfold_overlapping': lambda m, x: x.unfold(2, 3, 1)}
EXPANDED_CASES = {
    'broadcast_tensors': lambda m, x: m.broadcast_tensors(x, x.select(0, 0).select(0, 0)),
    'meshgrid_ij': lambda m, x: m.meshgrid(x.select(0, 0).select(0, 0), x.select(0, 1).select(1, 1), indexing='ij'),
    'meshgrid_xy': lambda m, x: m.meshgrid(x.select(0, 0).select(0, 0), x.select(0, 1).select(1, 1), indexing='xy'),
}


@pytest.mark.parametrize('transposed', [False, True], ids=['contiguous', 'transposed'])
@pytest.mark.parametrize('name', list(VIEW_CASES) + list(OVERLAPPING_CASES) + list(EXPANDED_CASES))
def test_view_geometry_matches_torch(name, transposed):
    fn = {**VIEW_CASES, **OVERLAPPING_CASES, **EXPANDED_CASES}[name]

    def geometry(m):
        root = base(m)
        x = root.transpose(0, -1) if transposed else root
        views = _views(fn(m, x))
        return _geometry(views, root), [v.tolist() for v in views]
    same(geometry)


@pytest.mark.parametrize('name', list(VIEW_CASES))
def test_writes_through_view_reach_base_and_back(name):
    fn = VIEW_CASES[name]

    def writes(m):
        x = base(m)
        views = _views(fn(m, x))
        versions = [x._version]
        views[0].add_(100)                      # view -> base
        versions.append((x._version, views[0]._version))
        after_view_write = x.tolist()
        x.mul_(-1)                              # base -> every view
        versions.append((x._version, [v._version for v in views]))
        return after_view_write, [v.tolist() for v in views], versions
    same(writes)


@pytest.mark.parametrize('name', list(EXPANDED_CASES))
def test_writing_to_expanded_view_raises(name):
    fn = EXPANDED_CASES[name]
    same(lambda m: _views(fn(m, base(m)))[-1].add_(1), message=False)


def test_view_of_view_keeps_root_base_and_shares_version():
    def fn(m):
        x = base(m)
        a = x.narrow(2, 1, 3)
        b = a.diagonal(0, 0, 1)
        c = b.unfold(1, 2, 1)
        c.select(-1, 0).mul_(3)
        return (b._base is x, c._base is x, c.storage_offset(), c.stride(), x._version, a._version, x.tolist())
    same(fn)


def test_unfold_of_0d_tensor():
    same(lambda m: (lambda v: (tuple(v.shape), v.stride(), v._base is not None))(m.tensor(3.).unfold(0, 1, 1)))


def test_view_as_real_and_complex_share_storage():
    def fn(m):
        z = m.tensor([[1 + 2j, 3 - 1j], [0.5j, 2]], dtype=m.complex64)
        r = m.view_as_real(z)
        r.select(-1, 1).mul_(2)                      # doubles the imaginary parts of z
        rt = m.view_as_real(z.transpose(0, 1))
        a = m.arange(12.).reshape(3, 2, 2).clone()
        c = m.view_as_complex(a.narrow(0, 1, 2))
        c.mul_(2)
        return (r.stride(), r.storage_offset(), rt.stride(), r.dtype, c.stride(), c.storage_offset(), c.dtype,
                z.tolist(), a.tolist(), c._base is a, z._version)
    same(fn)


def test_view_as_complex_errors():
    same(lambda m: m.view_as_complex(m.ones(3, 3)))
    same(lambda m: m.view_as_complex(m.ones(2, 3).T))
    same(lambda m: m.view_as_complex(m.ones(7).narrow(0, 1, 6).view(3, 2)))
    same(lambda m: m.view_as_complex(m.ones(3, 3).narrow(1, 0, 2)))
    same(lambda m: m.view_as_complex(m.ones(3, 2, dtype=m.int64)))
    same(lambda m: m.view_as_real(m.ones(3, 2)))


def test_view_as_complex_gradient():
    def fn(m):
        a = leaf(m, [[1., 2.], [3., -1.], [0.5, 4.]])
        w = m.tensor([[1., -2.], [0.5, 3.], [2., 1.]])
        out = m.view_as_real(m.view_as_complex(a) * 2)
        (out * w).sum().backward()
        return a.grad
    same(fn)


# ----------------------------------------------------------------------------- contiguous, view errors, copies

def test_contiguous_returns_self_only_when_contiguous():
    def fn(m):
        x = base(m)
        cases = [x, x.narrow(0, 1, 1), x.select(0, 1), x.transpose(0, 1), x.narrow(2, 0, 2), x.unfold(2, 2, 2),
                 x.diagonal(0, 1, 2)]
        return [(c.contiguous() is c, c.contiguous().stride()) for c in cases]
    same(fn)


def test_view_raises_on_strides_it_cannot_express():
    same(lambda m: base(m).transpose(0, 1).view(-1))
    same(lambda m: base(m).narrow(2, 0, 2).view(12))
    same(lambda m: base(m).transpose(0, 1).view(3, 2, 2, 2).stride())


def _pad(m):
    """``nn.functional.pad``; ember's kernel lives in ``ember.ops.padding`` until nn.functional exposes it."""
    return getattr(m.nn.functional, 'pad', None) or ember.ops.padding.pad


def test_copy_ops_do_not_share_storage_and_match_torch_layout():
    def fn(m):
        x = base(m).transpose(0, 2)
        results = [x.flip(0), m.rot90(x, 1, (0, 1)), m.rot90(x, 2, (0, 1)), m.rot90(x, 3, (1, 2)), x.repeat(1, 1, 1),
                   m.cat([x, x], 1), m.stack([x, x]), m.tril(x), x.roll(1, 0), x.roll(1), m.diag_embed(x),
                   _pad(m)(x, (1, 1)), m.block_diag(x[0], x[1]), m.column_stack([x[0], x[1]]), x.tile(2),
                   m.diag(x[0]), m.diagflat(x[0]), x[0].T.triu(), m.rot90(x, 0)]
        return [(r._base is None, r.stride(), r.storage_offset()) for r in results]
    same(fn)


# ----------------------------------------------------------------------------- autograd through views

W = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)


def _graph_case(body):
    def fn(m):
        a = leaf(m, np.arange(20.).reshape(4, 5).tolist())
        b = a * 1
        body(m, b)
        (b * m.tensor(W)).sum().backward()
        return a.grad, type(b.grad_fn).__name__
    return fn


INPLACE_CASES = {
    'narrow': lambda m, b: b.narrow(0, 1, 2).mul_(2),
    'select': lambda m, b: b.select(1, 3).add_(b.select(1, 0)),
    'diagonal': lambda m, b: b.diagonal(1).mul_(-4),
    'unfold': lambda m, b: b.unfold(1, 2, 3).mul_(5),
    'view_then_narrow': lambda m, b: b.view(2, 10).narrow(1, 3, 4).mul_(b.view(2, 10).narrow(1, 0, 4)),
    'movedim': lambda m, b: m.movedim(b, 0, 1).select(0, 2).mul_(0.5),
    'getitem': lambda m, b: b[1:3].mul_(2),
    'two_writes': lambda m, b: (b.select(0, 0).mul_(2), b.diagonal().add_(b.select(0, 0).narrow(0, 0, 4))),
}


@pytest.mark.parametrize('name', list(INPLACE_CASES))
def test_inplace_through_view_gives_torch_gradients(name):
    same(_graph_case(INPLACE_CASES[name]), atol=1e-5)


def test_view_grad_fn_after_base_modified_in_place():
    def fn(m):
        a = leaf(m, np.arange(6.).reshape(2, 3).tolist())
        b = a * 2
        v = b.narrow(1, 0, 2)
        b.mul_(3)
        (v * m.tensor([[1., 2.], [3., 4.]])).sum().backward()
        return a.grad, v._version, b._version
    same(fn)


def test_saved_view_modified_in_place_raises():
    def fn(m):
        a = leaf(m, [1., 2., 3., 4.])
        b = a * 1
        v = b.narrow(0, 0, 2)
        y = v * v
        b.add_(1)
        y.sum().backward()
    same(fn, message=False)


@pytest.mark.parametrize('split', ['unbind', 'split', 'chunk', 'tensor_split'])
def test_multi_output_view_gradients(split):
    calls = {'unbind': lambda m, x: x.unbind(1), 'split': lambda m, x: x.split([1, 3, 1], 1),
             'chunk': lambda m, x: x.chunk(2, 0), 'tensor_split': lambda m, x: m.tensor_split(x, 3, 1)}

    def fn(m):
        a = leaf(m, np.arange(20.).reshape(4, 5).tolist())
        pieces = calls[split](m, a * 1)
        loss = (pieces[0] * 2).sum() + (pieces[-1] ** 2).sum()
        loss.backward()
        return a.grad, [type(p.grad_fn).__name__ for p in pieces]
    same(fn)


def test_second_order_through_views():
    def fn(m):
        a = leaf(m, np.arange(1., 13.).reshape(3, 4).tolist())
        y = (a.diagonal(1) ** 3).sum() + (a.unfold(1, 2, 1) ** 2).sum() + (a.narrow(0, 1, 2).select(1, 2) ** 3).sum()
        g, = m.autograd.grad(y, a, create_graph=True)
        gg, = m.autograd.grad((g * g).sum(), a)
        return g, gg
    same(fn, atol=1e-4)
