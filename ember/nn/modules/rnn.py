"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their single-step cells.

Parameters, their names, shapes, order and initialisation are torch's, so
state_dicts interchange.  Each layer and direction runs as one op
(``ember/ops/rnn_kernels.py``) on the time-major, padded form of the input; a
``PackedSequence`` is unpacked to that form once, its ``batch_sizes`` telling
the op which rows are still running at each step.
"""
import math
import numbers
import warnings

import numpy as np

import ember
from ember.nn import functional as F
from ember.nn import init
from ember.nn.modules.module import Module
from ember.nn.parameter import Parameter
from ember.nn.utils.rnn import PackedSequence
from ember.ops.rnn_kernels import GATES, _gru_cell_step, _lstm_cell_step, _rnn_cell_step, _run_layer

__all__ = ['RNNBase', 'RNN', 'LSTM', 'GRU', 'RNNCellBase', 'RNNCell', 'LSTMCell', 'GRUCell']


def _apply_permutation(tensor, permutation, dim=1):
    return tensor.index_select(dim, permutation)


def _packed_to_padded(data, batch_sizes):
    """Packed rows ``(N, *)`` to a zero-padded time-major ``(T, B, *)`` (one gather)."""
    T, B = len(batch_sizes), batch_sizes[0]
    running = np.arange(B)[None, :] < np.asarray(batch_sizes)[:, None]
    rows = np.flatnonzero(running.reshape(-1))
    source = np.full(T * B, data.shape[0], dtype=np.int64)
    source[rows] = np.arange(rows.size)
    pad = ember.zeros((1,) + tuple(data.shape[1:]), dtype=data.dtype, device=data.device)
    padded = ember.cat([data, pad], 0).index_select(0, ember.tensor(source).to(data.device))
    return padded.reshape((T, B) + tuple(data.shape[1:])), rows


class RNNBase(Module):
    """Base class of ``RNN``, ``LSTM`` and ``GRU``: parameters and the multi-layer loop."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        if (not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or isinstance(dropout, bool)):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode not in GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        if proj_size and mode != 'LSTM':
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        gate_size = GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        factory = {'device': device, 'dtype': dtype}
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input = input_size if layer == 0 else real_hidden * num_directions
                suffix = f'_l{layer}' + ('_reverse' if direction == 1 else '')
                shapes = [('weight_ih', (gate_size, layer_input)), ('weight_hh', (gate_size, real_hidden))]
                if bias:
                    shapes += [('bias_ih', (gate_size,)), ('bias_hh', (gate_size,))]
                if proj_size > 0:
                    shapes.append(('weight_hr', (proj_size, hidden_size)))
                names = []
                for base, shape in shapes:
                    name = base + suffix
                    setattr(self, name, Parameter(ember.empty(shape, **factory)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self):
        """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as torch."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self):
        """Accepted for compatibility (cuDNN weight compaction); nothing to do here."""

    @property
    def _flat_weights(self):
        return [getattr(self, name, None) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def extra_repr(self):
        s = f'{self.input_size}, {self.hidden_size}'
        if self.proj_size != 0:
            s += f', proj_size={self.proj_size}'
        if self.num_layers != 1:
            s += f', num_layers={self.num_layers}'
        if self.bias is not True:
            s += f', bias={self.bias}'
        if self.batch_first is not False:
            s += f', batch_first={self.batch_first}'
        if self.dropout != 0:
            s += f', dropout={self.dropout}'
        if self.bidirectional is not False:
            s += f', bidirectional={self.bidirectional}'
        return s

    def __setstate__(self, state):
        self.__dict__.update(state)

    # ------------------------------------------------------------------ checks
    def _expected_hidden_size(self, batch, cell=False):
        size = self.hidden_size if cell or self.proj_size == 0 else self.proj_size
        return (self.num_layers * (2 if self.bidirectional else 1), batch, size)

    @staticmethod
    def _check_hidden(hx, expected, msg='Expected hidden size {}, got {}'):
        if tuple(hx.shape) != expected:
            raise RuntimeError(msg.format(expected, list(hx.shape)))

    def _check_input(self, input, batch_sizes):
        weight = self.weight_ih_l0
        if input.dtype != weight.dtype:
            raise ValueError(f"{self.mode if self.mode in ('LSTM', 'GRU') else 'RNN'} input dtype ({input.dtype}) "
                             f"does not match weight dtype ({weight.dtype}). Convert input: "
                             f"input.to({weight.dtype}), or convert model: model.to({input.dtype})")
        expected_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_dim:
            raise RuntimeError(f"input must have {expected_dim} dimensions, got {input.dim()}")
        if self.input_size != input.shape[-1]:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {input.shape[-1]}")

    # ------------------------------------------------------------------ forward
    def _name(self):
        return type(self).__name__ if self.mode in ('LSTM', 'GRU') else 'RNN'

    def _prepare(self, input, hx):
        """Normalises input/hx: returns (x time-major padded, hx tuple, batch_sizes, packed info, unbatched)."""
        is_lstm = self.mode == 'LSTM'
        if isinstance(input, PackedSequence):
            data, batch_sizes_t, sorted_indices, unsorted_indices = input
            batch_sizes = tuple(int(v) for v in batch_sizes_t.tolist())
            self._check_input(data, batch_sizes)
            x, rows = _packed_to_padded(data, batch_sizes)
            batch = batch_sizes[0]
            if hx is not None and sorted_indices is not None:
                hx = tuple(_apply_permutation(h, sorted_indices) for h in hx) if is_lstm else \
                    _apply_permutation(hx, sorted_indices)
            packed = (rows, data.shape[0], batch_sizes_t, sorted_indices, unsorted_indices)
            unbatched = False
        else:
            if input.dim() not in (2, 3):
                raise ValueError(f"{self._name()}: Expected input to be 2D or 3D, got {input.dim()}D instead")
            unbatched = input.dim() == 2
            if unbatched:
                input = input.unsqueeze(0 if self.batch_first else 1)
                if hx is not None:
                    if is_lstm:
                        if hx[0].dim() != 2 or hx[1].dim() != 2:
                            raise RuntimeError("For unbatched 2-D input, hx and cx should also be 2-D but got "
                                               f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
                        hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1))
                    else:
                        if hx.dim() != 2:
                            raise RuntimeError("For unbatched 2-D input, hx should also be 2-D but got "
                                               f"{hx.dim()}-D tensor")
                        hx = hx.unsqueeze(1)
            elif hx is not None:
                if is_lstm:
                    if hx[0].dim() != 3 or hx[1].dim() != 3:
                        raise RuntimeError("For batched 3-D input, hx and cx should also be 3-D but got "
                                           f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
                elif hx.dim() != 3:
                    raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor")
            self._check_input(input, None)
            x = input.transpose(0, 1) if self.batch_first else input
            batch_sizes, packed = None, None
            batch = x.shape[1]
        if hx is None:
            dt, dev = x.dtype, x.device
            h0 = ember.zeros(self._expected_hidden_size(batch), dtype=dt, device=dev)
            hx = (h0, ember.zeros(self._expected_hidden_size(batch, cell=True), dtype=dt, device=dev)) \
                if is_lstm else (h0,)
        elif is_lstm:
            self._check_hidden(hx[0], self._expected_hidden_size(batch), 'Expected hidden[0] size {}, got {}')
            self._check_hidden(hx[1], self._expected_hidden_size(batch, cell=True),
                               'Expected hidden[1] size {}, got {}')
            hx = tuple(hx)
        else:
            self._check_hidden(hx, self._expected_hidden_size(batch))
            hx = (hx,)
        return x, hx, batch_sizes, packed, unbatched

    def _run(self, x, hx, batch_sizes):
        """All layers and directions on time-major x; returns (output, h_n, c_n or None)."""
        D = 2 if self.bidirectional else 1
        is_lstm = self.mode == 'LSTM'
        h_list, c_list = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(D):
                k = layer * D + d
                weights = [getattr(self, name) for name in self._all_weights[k]]
                w_ih, w_hh = weights[0], weights[1]
                b_ih = b_hh = w_hr = None
                if self.bias:
                    b_ih, b_hh = weights[2], weights[3]
                if self.proj_size > 0:
                    w_hr = weights[-1]
                out, h, c = _run_layer(self.mode, x, hx[0][k], hx[1][k] if is_lstm else None, w_ih, w_hh,
                                       b_ih, b_hh, w_hr, reverse=d == 1, batch_sizes=batch_sizes)
                outs.append(out)
                h_list.append(h)
                c_list.append(c)
            x = outs[0] if D == 1 else ember.cat(outs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, p=self.dropout, training=True)
        h_n = ember.stack(h_list, 0)
        c_n = ember.stack(c_list, 0) if is_lstm else None
        return x, h_n, c_n

    def forward(self, input, hx=None):
        x, hx, batch_sizes, packed, unbatched = self._prepare(input, hx)
        out, h_n, c_n = self._run(x, hx, batch_sizes)
        hidden = (h_n, c_n) if self.mode == 'LSTM' else h_n
        if packed is not None:
            rows, _, batch_sizes_t, sorted_indices, unsorted_indices = packed
            flat = out.reshape((out.shape[0] * out.shape[1],) + tuple(out.shape[2:]))
            data = flat.index_select(0, ember.tensor(rows).to(out.device))
            output = PackedSequence(data, batch_sizes_t, sorted_indices, unsorted_indices)
            if unsorted_indices is not None:
                hidden = tuple(_apply_permutation(h, unsorted_indices) for h in hidden) \
                    if self.mode == 'LSTM' else _apply_permutation(hidden, unsorted_indices)
            return output, hidden
        output = out.transpose(0, 1) if self.batch_first else out
        if unbatched:
            output = output.squeeze(0 if self.batch_first else 1)
            hidden = (h_n.squeeze(1), c_n.squeeze(1)) if self.mode == 'LSTM' else h_n.squeeze(1)
        return output, hidden


class RNN(RNNBase):
    """Elman RNN, ``h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh)`` (or ReLU), stacked and optionally bidirectional.

    Args:
        input_size, hidden_size: feature sizes of ``x`` and ``h``.
        num_layers, nonlinearity ('tanh' or 'relu'), bias, batch_first, dropout, bidirectional: as torch.
    """

    def __init__(self, *args, **kwargs):
        if 'proj_size' in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop('nonlinearity', 'tanh')
        if self.nonlinearity == 'tanh':
            mode = 'RNN_TANH'
        elif self.nonlinearity == 'relu':
            mode = 'RNN_RELU'
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory, stacked and optionally bidirectional, with optional projections (``proj_size``).

    ``forward(input, (h_0, c_0))`` returns ``output, (h_n, c_n)``; gate order i, f, g, o as torch.
    """

    def __init__(self, *args, **kwargs):
        super().__init__('LSTM', *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit, stacked and optionally bidirectional; gate order r, z, n as torch."""

    def __init__(self, *args, **kwargs):
        if 'proj_size' in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__('GRU', *args, **kwargs)


# ----------------------------------------------------------------------------- cells

class RNNCellBase(Module):
    """Base class of the single-step cells: ``weight_ih``, ``weight_hh`` and optional biases."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        factory = {'device': device, 'dtype': dtype}
        self.weight_ih = Parameter(ember.empty((num_chunks * hidden_size, input_size), **factory))
        self.weight_hh = Parameter(ember.empty((num_chunks * hidden_size, hidden_size), **factory))
        if bias:
            self.bias_ih = Parameter(ember.empty(num_chunks * hidden_size, **factory))
            self.bias_hh = Parameter(ember.empty(num_chunks * hidden_size, **factory))
        else:
            self.register_parameter('bias_ih', None)
            self.register_parameter('bias_hh', None)
        self.reset_parameters()

    def extra_repr(self):
        s = f'{self.input_size}, {self.hidden_size}'
        if self.bias is not True:
            s += f', bias={self.bias}'
        if getattr(self, 'nonlinearity', 'tanh') != 'tanh':
            s += f', nonlinearity={self.nonlinearity}'
        return s

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _prepare(self, input, hx, cell=False):
        if input.dim() not in (1, 2):
            raise ValueError(f"{type(self).__name__}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[-1]} expected "
                               f"{self.input_size}")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        states = []
        for i, h in enumerate(hx if cell and hx is not None else (hx,) if hx is not None else ()):
            if h.dim() != input.dim() - (0 if batched else 1):
                raise RuntimeError(f"{type(self).__name__}: Expected hidden to be "
                                   f"{'2D' if batched else '1D'}, got {h.dim()}D instead")
            h = h if batched else h.unsqueeze(0)
            if h.shape[0] != input.shape[0]:
                raise RuntimeError(f"Input batch size {input.shape[0]} doesn't match hidden{i} batch size "
                                   f"{h.shape[0]}")
            if h.shape[1] != self.hidden_size:
                raise RuntimeError(f"hidden{i} has inconsistent hidden_size: got {h.shape[1]}, expected "
                                   f"{self.hidden_size}")
            states.append(h)
        if not states:
            zeros = ember.zeros((input.shape[0], self.hidden_size), dtype=input.dtype, device=input.device)
            states = [zeros, zeros] if cell else [zeros]
        return input, states, batched


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: ``h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`` (or ReLU)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity='tanh', device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        if self.nonlinearity not in ('tanh', 'relu'):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        x, (h,), batched = self._prepare(input, hx)
        out = _rnn_cell_step(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh,
                             self.nonlinearity == 'tanh')
        return out if batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: ``forward(input, (h, c))`` returns ``(h', c')``."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        x, (h, c), batched = self._prepare(input, hx, cell=True)
        h, c = _lstm_cell_step(x, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: ``h' = (1 - z) * n + z * h``."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, hx)
        out = _gru_cell_step(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return out if batched else out.squeeze(0)

