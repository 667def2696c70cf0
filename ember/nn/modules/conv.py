"""Convolution layers: Conv1d/2d/3d and ConvTranspose1d/2d/3d."""
import math

import ember
from ember.nn import functional as F
from ember.nn.modules.module import Module
from ember.nn.parameter import Parameter
from ember.ops.conv import ntuple
from ember.ops.padding import pad as _pad

__all__ = ['Conv1d', 'Conv2d', 'Conv3d', 'ConvTranspose1d', 'ConvTranspose2d', 'ConvTranspose3d']

_PADDING_MODES = ('zeros', 'reflect', 'replicate', 'circular')


def _init_uniform(tensor, bound):
    with ember.no_grad():
        tensor.uniform_(-bound, bound)


class _ConvNd(Module):
    """Shared state of the convolution layers: arguments, parameters, initialisation and repr."""

    __constants__ = ['stride', 'padding', 'dilation', 'groups', 'padding_mode', 'output_padding', 'in_channels',
                     'out_channels', 'kernel_size']
    _dims = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, transposed, output_padding,
                 groups, bias, padding_mode, device=None, dtype=None):
        super().__init__()
        n = self._dims
        kernel_size, stride, dilation = ntuple(kernel_size, n), ntuple(stride, n), ntuple(dilation, n)
        if groups <= 0:
            raise ValueError('groups must be a positive integer')
        if in_channels % groups != 0:
            raise ValueError('in_channels must be divisible by groups')
        if out_channels % groups != 0:
            raise ValueError('out_channels must be divisible by groups')
        if isinstance(padding, str):
            if padding not in ('same', 'valid'):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}")
            if padding == 'same' and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        else:
            padding = ntuple(padding, n)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {{'zeros', 'reflect', 'replicate', 'circular'}}, but got "
                             f"padding_mode='{padding_mode}'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = transposed
        self.output_padding = ntuple(output_padding, n)
        self.groups = groups
        self.padding_mode = padding_mode
        # F.pad's amounts (last dim first) for the non-zeros padding modes; 'same' puts an odd extra on the right
        if isinstance(padding, str):
            amounts = [0, 0] * n
            if padding == 'same':
                for i, (k, d) in enumerate(zip(reversed(kernel_size), reversed(dilation))):
                    total = d * (k - 1)
                    amounts[2 * i], amounts[2 * i + 1] = total // 2, total - total // 2
            self._reversed_padding_repeated_twice = amounts
        else:
            self._reversed_padding_repeated_twice = [p for p in reversed(padding) for _ in range(2)]
        shape = (in_channels, out_channels // groups) if transposed else (out_channels, in_channels // groups)
        self.weight = Parameter(ember.empty(shape + kernel_size, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(ember.empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter('bias', None)
        self.reset_parameters()

    def reset_parameters(self):
        """kaiming_uniform_(a=sqrt(5)) for the weight, i.e. U(+-1/sqrt(fan_in)), and the same bound for the bias."""
        fan_in = self.weight.shape[1] * math.prod(self.weight.shape[2:])
        try:
            from ember.nn import init
            init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        except (ImportError, AttributeError):
            _init_uniform(self.weight, 1 / math.sqrt(fan_in) if fan_in else 0.0)
        if self.bias is not None and fan_in != 0:
            _init_uniform(self.bias, 1 / math.sqrt(fan_in))

    def extra_repr(self):
        s = f'{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}'
        if self.padding != (0,) * len(self.padding):
            s += f', padding={self.padding}'
        if self.dilation != (1,) * len(self.dilation):
            s += f', dilation={self.dilation}'
        if self.output_padding != (0,) * len(self.output_padding):
            s += f', output_padding={self.output_padding}'
        if self.groups != 1:
            s += f', groups={self.groups}'
        if self.bias is None:
            s += ', bias=False'
        if self.padding_mode != 'zeros':
            s += f', padding_mode={self.padding_mode}'
        return s

    def __setstate__(self, state):
        super().__setstate__(state)
        if not hasattr(self, 'padding_mode'):
            self.padding_mode = 'zeros'


class _Conv(_ConvNd):
    _conv = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode='zeros', device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, False, 0, groups, bias,
                         padding_mode, device, dtype)

    def _conv_forward(self, input, weight, bias):
        conv = type(self)._conv
        if self.padding_mode != 'zeros':
            padded = _pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return conv(padded, weight, bias, self.stride, 0, self.dilation, self.groups)
        return conv(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input):
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    """1-D convolution layer over (N, C_in, L) inputs: weight (out_channels, in_channels / groups, kernel_size).

    Args:
        padding: int, tuple, 'valid' or 'same' (output as long as the input, stride 1 only).
        padding_mode: 'zeros', 'reflect', 'replicate' or 'circular'.
    """
    _dims = 1
    _conv = staticmethod(F.conv1d)


class Conv2d(_Conv):
    """2-D convolution layer over (N, C_in, H, W) inputs: weight (out_channels, in_channels / groups, kH, kW).

    Args:
        stride, padding, dilation: ints or pairs; padding may also be 'valid' or 'same'.
        groups: splits the channels into this many independent convolutions.
        padding_mode: 'zeros', 'reflect', 'replicate' or 'circular'.
    """
    _dims = 2
    _conv = staticmethod(F.conv2d)


class Conv3d(_Conv):
    """3-D convolution layer over (N, C_in, D, H, W) inputs."""
    _dims = 3
    _conv = staticmethod(F.conv3d)


class _ConvTransposeNd(_ConvNd):
    _conv = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode='zeros', device=None, dtype=None):
        if padding_mode != 'zeros':
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, True, output_padding,
                         groups, bias, padding_mode, device, dtype)

    def _output_padding(self, input, output_size, stride, padding, kernel_size, num_spatial_dims, dilation=None):
        """The output_padding that gives ``output_size`` (the layer's own when None)."""
        if output_size is None:
            return self.output_padding
        n = num_spatial_dims
        lead = 2 if input.dim() == n + 2 else 1
        output_size = list(output_size)
        if len(output_size) == lead + n:
            output_size = output_size[lead:]
        if len(output_size) != n:
            raise ValueError(f"ConvTranspose{n}D: for {input.dim()}D input, output_size must have {n} or {lead + n} "
                             f"elements (got {len(output_size)})")
        dilation = dilation if dilation is not None else (1,) * n
        low = [(input.shape[lead + d] - 1) * stride[d] - 2 * padding[d] + dilation[d] * (kernel_size[d] - 1) + 1
               for d in range(n)]
        high = [lo + stride[d] - 1 for d, lo in enumerate(low)]
        for size, lo, hi in zip(output_size, low, high):
            if size < lo or size > hi:
                raise ValueError(f"requested an output size of {output_size}, but valid sizes range from {low} to "
                                 f"{high} (for an input of {input.shape[lead:]})")
        return tuple(int(s) - lo for s, lo in zip(output_size, low))

    def forward(self, input, output_size=None):
        output_padding = self._output_padding(input, output_size, self.stride, self.padding, self.kernel_size,
                                              self._dims, self.dilation)
        return type(self)._conv(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                                self.groups, self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution layer: weight (in_channels, out_channels / groups, kernel_size).

    ``forward(input, output_size=None)``: ``output_size`` picks among the sizes a stride allows.
    """
    _dims = 1
    _conv = staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution layer (a "deconvolution"): weight (in_channels, out_channels / groups, kH, kW).

    Args:
        output_padding: extra size on one side of each output dim (less than stride or dilation).
    ``forward(input, output_size=None)``: ``output_size`` picks among the sizes a stride allows.
    """
    _dims = 2
    _conv = staticmethod(F.conv_transpose2d)


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution layer."""
    _dims = 3
    _conv = staticmethod(F.conv_transpose3d)
