"""Variable-length sequences: padding, packing, and ``PackedSequence``.

A packed batch stores the sequences time step by time step, longest first:
``data`` holds, for each step ``t``, the rows of the ``batch_sizes[t]``
sequences still running.  Every conversion here is one gather
(``index_select``) with an index map computed in NumPy from the lengths, so it
is differentiable and costs one graph node, whatever the batch size.
"""
from collections import namedtuple

import numpy as np

import ember
from ember._tensor import Tensor

__all__ = ['PackedSequence', 'invert_permutation', 'pack_padded_sequence', 'pad_packed_sequence', 'pad_sequence',
           'unpad_sequence', 'pack_sequence', 'unpack_sequence']

_PackedSequenceBase = namedtuple('PackedSequence_', ['data', 'batch_sizes', 'sorted_indices', 'unsorted_indices'])


def invert_permutation(permutation):
    """The permutation that undoes ``permutation`` (None stays None)."""
    if permutation is None:
        return None
    perm = permutation.numpy() if isinstance(permutation, Tensor) else np.asarray(permutation)
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(perm.shape[0], dtype=perm.dtype)
    out = ember.tensor(inverse)
    return out.to(permutation.device) if isinstance(permutation, Tensor) else out


class PackedSequence(_PackedSequenceBase):
    """Holds the data and ``batch_sizes`` of a packed batch of sequences (see ``pack_padded_sequence``).

    Attributes:
        data (Tensor): the packed rows, ``(sum(batch_sizes), *)``.
        batch_sizes (Tensor): int64 count of sequences running at each time step.
        sorted_indices (Tensor, optional): the order the sequences were sorted into (longest first).
        unsorted_indices (Tensor, optional): its inverse, to restore the original order.
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            # torch's internal form PackedSequence((data, batch_sizes))
            data, batch_sizes = data
        if not isinstance(batch_sizes, Tensor):
            batch_sizes = ember.tensor(np.asarray(batch_sizes, dtype=np.int64))
        elif batch_sizes.device.type != 'cpu':
            raise ValueError("batch_sizes should always be on CPU. Instances of PackedSequence should never be "
                             "created manually. They should be instantiated by functions like pack_sequence and "
                             "pack_padded_sequences in nn.utils.rnn. "
                             "https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence")
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """Moves/casts ``data`` like ``Tensor.to``; the index tensors follow the device only."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        device = data.device
        sorted_indices = None if self.sorted_indices is None else self.sorted_indices.to(device)
        unsorted_indices = None if self.unsorted_indices is None else self.unsorted_indices.to(device)
        return type(self)(data, self.batch_sizes, sorted_indices, unsorted_indices)

    def cuda(self, *args, **kwargs):
        return self.to('cuda', *args, **kwargs)

    def cpu(self, *args, **kwargs):
        return self.to('cpu', *args, **kwargs)

    def double(self):
        return self.to(dtype=ember.float64)

    def float(self):
        return self.to(dtype=ember.float32)

    def half(self):
        return self.to(dtype=ember.float16)

    def long(self):
        return self.to(dtype=ember.int64)

    def int(self):
        return self.to(dtype=ember.int32)

    def short(self):
        return self.to(dtype=ember.int16)

    def char(self):
        return self.to(dtype=ember.int8)

    def byte(self):
        return self.to(dtype=ember.uint8)

    def pin_memory(self):
        return self

    def is_pinned(self):
        return False

    @property
    def is_cuda(self):
        return self.data.device.type == 'cuda'


def _lengths_array(lengths):
    if isinstance(lengths, Tensor):
        return lengths.detach().cpu().numpy().astype(np.int64).reshape(-1)
    return np.asarray(lengths, dtype=np.int64).reshape(-1)


def _packed_rows(sorted_lengths, batch):
    """Flat positions ``t * batch + b`` of the packed rows, in packed order (step-major)."""
    steps = int(sorted_lengths[0]) if sorted_lengths.size else 0
    running = np.arange(steps)[:, None] < sorted_lengths[None, :]
    return np.flatnonzero(running.reshape(-1)), running.sum(1).astype(np.int64)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Packs a padded batch ``(T, B, *)`` (or ``(B, T, *)``) of sequences of the given lengths."""
    lens = _lengths_array(lengths)
    if enforce_sorted:
        if lens.size > 1 and np.any(lens[:-1] < lens[1:]):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                               "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence "
                               "to sidestep this requirement if you do not need ONNX exportability.")
        sorted_indices = None
        order = None
    else:
        order = np.argsort(-lens, kind='stable')
        sorted_indices = ember.tensor(order).to(input.device)
        lens = lens[order]
    if lens.size and lens[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0")
    batch_dim = 0 if batch_first else 1
    if order is not None:
        input = input.index_select(batch_dim, sorted_indices)
    if batch_first:
        input = input.transpose(0, 1)
    T, B = input.shape[0], input.shape[1]
    if lens.size != B:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {lens.size} "
                           f"(batch_size={B})")
    if lens.size and lens[0] > T:
        raise RuntimeError(f"Expected sequence length to be at most {T}, but got a sequence of length {lens[0]}")
    rows, batch_sizes = _packed_rows(lens, B)
    flat = input.reshape((T * B,) + tuple(input.shape[2:]))
    data = flat.index_select(0, ember.tensor(rows).to(input.device))
    return PackedSequence(data, ember.tensor(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Unpacks a ``PackedSequence`` into a padded batch; returns ``(padded, lengths)``."""
    data, batch_sizes = sequence.data, _lengths_array(sequence.batch_sizes)
    steps = batch_sizes.size
    B = int(batch_sizes[0]) if steps else 0
    if total_length is not None:
        if total_length < steps:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {steps}")
        steps_out = int(total_length)
    else:
        steps_out = steps
    sorted_lengths = (batch_sizes[None, :] > np.arange(B)[:, None]).sum(1).astype(np.int64)
    rows, _ = _packed_rows(sorted_lengths, B)
    # every padded position reads its packed row, or the padding row appended at the end
    source = np.full(steps_out * B, data.shape[0], dtype=np.int64)
    source[rows] = np.arange(rows.size)
    pad = ember.full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype, device=data.device)
    padded = ember.cat([data, pad], 0).index_select(0, ember.tensor(source).to(data.device))
    padded = padded.reshape((steps_out, B) + tuple(data.shape[1:]))
    lengths = sorted_lengths
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths = sorted_lengths[_lengths_array(sequence.unsorted_indices)]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, ember.tensor(lengths)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side='right'):
    """Stacks tensors of shape ``(L_i, *)`` into ``(L_max, B, *)`` (or ``(B, L_max, *)``), padding the ends."""
    if padding_side not in ('left', 'right'):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    lens = np.array([s.shape[0] for s in sequences], dtype=np.int64)
    trailing = tuple(sequences[0].shape[1:])
    for s in sequences:
        if tuple(s.shape[1:]) != trailing:
            raise RuntimeError(f"The size of tensor a ({s.shape[1:]}) must match the size of tensor b "
                               f"({trailing}) at non-singleton dimension 1")
    L = int(lens.max())
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    total = int(lens.sum())
    steps = np.arange(L)[None, :]
    offset = (L - lens)[:, None] if padding_side == 'left' else 0
    pos = steps - offset                                  # position inside each sequence, (B, L)
    valid = (pos >= 0) & (pos < lens[:, None])
    source = np.where(valid, starts[:, None] + pos, total)  # index `total` is the padding row
    if not batch_first:
        source = source.T
    dtype = sequences[0].dtype
    pad = ember.full((1,) + trailing, padding_value, dtype=dtype, device=sequences[0].device)
    flat = ember.cat([s.to(dtype) for s in sequences] + [pad], 0)
    out = flat.index_select(0, ember.tensor(np.ascontiguousarray(source).reshape(-1)).to(flat.device))
    return out.reshape(source.shape + trailing)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of unpadded sequences of a padded batch (the inverse of ``pad_sequence``)."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, :int(n)] for i, n in enumerate(_lengths_array(lengths))]


def pack_sequence(sequences, enforce_sorted=True):
    """Packs a list of tensors ``(L_i, *)`` (sorted by decreasing length unless ``enforce_sorted=False``)."""
    lengths = ember.tensor([s.shape[0] for s in sequences])
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of sequences in a ``PackedSequence``, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
