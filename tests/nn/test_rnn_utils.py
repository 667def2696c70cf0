"""nn.utils.rnn (padding, packing, PackedSequence) against torch."""
import numpy as np
import pytest

import ember
import ember.nn.utils.rnn as E
from tests.conftest import requires_torch

torch = pytest.importorskip('torch')
R = torch.nn.utils.rnn
pytestmark = requires_torch


def _seqs(lengths=(3, 5, 1, 4), feat=(2,)):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((n,) + feat).astype(np.float32) for n in lengths]
    return [ember.tensor(a) for a in arrays], [torch.tensor(a) for a in arrays]


def _eq(a, b):
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def _eq_packed(pe, pt):
    assert type(pe).__name__ == 'PackedSequence'
    _eq(pe.data, pt.data)
    _eq(pe.batch_sizes, pt.batch_sizes)
    assert pe.batch_sizes.dtype == ember.int64
    for a, b in [(pe.sorted_indices, pt.sorted_indices), (pe.unsorted_indices, pt.unsorted_indices)]:
        assert (a is None) == (b is None)
        if a is not None:
            _eq(a, b)


@pytest.mark.parametrize('batch_first', [False, True])
@pytest.mark.parametrize('side', ['right', 'left'])
@pytest.mark.parametrize('feat', [(), (2,), (2, 3)])
def test_pad_sequence(batch_first, side, feat):
    se, st = _seqs(feat=feat)
    _eq(E.pad_sequence(se, batch_first=batch_first, padding_value=-2.5, padding_side=side),
        R.pad_sequence(st, batch_first=batch_first, padding_value=-2.5, padding_side=side))


def test_pad_sequence_gradient_and_errors():
    se, _ = _seqs()
    for s in se:
        s.requires_grad_()
    out = E.pad_sequence(se)
    (out * 2).sum().backward()
    for s in se:
        np.testing.assert_array_equal(s.grad.numpy(), np.full(s.shape, 2, np.float32))
    with pytest.raises(ValueError, match='Expected padding_side to be one of left or right'):
        E.pad_sequence(se, padding_side='middle')


@pytest.mark.parametrize('batch_first', [False, True])
@pytest.mark.parametrize('lengths_as', ['list', 'tensor'])
def test_pack_padded_sequence_both_ways(batch_first, lengths_as):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 5, 3) if batch_first else (5, 4, 3)).astype(np.float32)
    for lengths, enforce in [([5, 4, 2, 1], True), ([2, 5, 1, 4], False)]:
        le = lengths if lengths_as == 'list' else ember.tensor(lengths)
        lt = lengths if lengths_as == 'list' else torch.tensor(lengths)
        pe = E.pack_padded_sequence(ember.tensor(x), le, batch_first=batch_first, enforce_sorted=enforce)
        pt = R.pack_padded_sequence(torch.tensor(x), lt, batch_first=batch_first, enforce_sorted=enforce)
        _eq_packed(pe, pt)
        for total in (None, 7):
            oe, le_out = E.pad_packed_sequence(pe, batch_first=batch_first, padding_value=9.0, total_length=total)
            ot, lt_out = R.pad_packed_sequence(pt, batch_first=batch_first, padding_value=9.0, total_length=total)
            _eq(oe, ot)
            _eq(le_out, lt_out)
            assert le_out.dtype == ember.int64


def test_pack_errors_like_torch():
    x = ember.zeros(3, 2, 4)
    with pytest.raises(RuntimeError, match='must be sorted in decreasing order'):
        E.pack_padded_sequence(x, [2, 3])
    with pytest.raises(RuntimeError, match='Length of all samples has to be greater than 0'):
        E.pack_padded_sequence(x, [0, 3], enforce_sorted=False)
    p = E.pack_padded_sequence(x, [3, 2])
    with pytest.raises(ValueError, match='Expected total_length to be at least the length of the longest'):
        E.pad_packed_sequence(p, total_length=1)


@pytest.mark.parametrize('enforce_sorted', [True, False])
def test_pack_sequence_and_unpack(enforce_sorted):
    lengths = (5, 4, 3, 1) if enforce_sorted else (3, 5, 1, 4)
    se, st = _seqs(lengths)
    pe = E.pack_sequence(se, enforce_sorted=enforce_sorted)
    pt = R.pack_sequence(st, enforce_sorted=enforce_sorted)
    _eq_packed(pe, pt)
    for a, b in zip(E.unpack_sequence(pe), R.unpack_sequence(pt)):
        _eq(a, b)


def test_unpad_sequence():
    se, st = _seqs()
    for bf in (False, True):
        pe, pt = E.pad_sequence(se, batch_first=bf), R.pad_sequence(st, batch_first=bf)
        lengths = [3, 5, 1, 4]
        for a, b in zip(E.unpad_sequence(pe, ember.tensor(lengths), batch_first=bf),
                        R.unpad_sequence(pt, torch.tensor(lengths), batch_first=bf)):
            _eq(a, b)


def test_packed_sequence_to_and_fields():
    se, _ = _seqs()
    p = E.pack_sequence(se, enforce_sorted=False)
    d = p.to(ember.float64)
    assert d.data.dtype == ember.float64 and d.batch_sizes is p.batch_sizes
    assert d.sorted_indices.dtype == ember.int64
    assert p.to(ember.float32) is p
    assert p.double().data.dtype == ember.float64
    assert not p.is_cuda
    data, batch_sizes, sorted_indices, unsorted_indices = p
    _eq(E.invert_permutation(sorted_indices), unsorted_indices)
    assert E.invert_permutation(None) is None


def test_pack_unpack_gradient_flows():
    x = ember.randn(5, 3, 2, requires_grad=True)
    p = E.pack_padded_sequence(x, [5, 3, 2])
    out, _ = E.pad_packed_sequence(p)
    out.sum().backward()
    mask = (np.arange(5)[:, None] < np.array([5, 3, 2])[None, :]).astype(np.float32)
    np.testing.assert_array_equal(x.grad.numpy(), np.broadcast_to(mask[..., None], (5, 3, 2)))
