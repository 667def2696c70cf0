"""Padding layers: ConstantPad, ZeroPad, ReflectionPad, ReplicationPad, CircularPad (1d/2d/3d)."""
from ember.nn import functional as F
from ember.nn.modules.module import Module

__all__ = ['ConstantPad1d', 'ConstantPad2d', 'ConstantPad3d', 'ZeroPad1d', 'ZeroPad2d', 'ZeroPad3d',
           'ReflectionPad1d', 'ReflectionPad2d', 'ReflectionPad3d', 'ReplicationPad1d', 'ReplicationPad2d',
           'ReplicationPad3d', 'CircularPad1d', 'CircularPad2d', 'CircularPad3d']


def _ntuple(padding, n):
    if isinstance(padding, int):
        return (padding,) * (2 * n)
    padding = tuple(padding)
    if len(padding) != 2 * n:
        raise ValueError(f"padding must be an int or a {2 * n}-tuple, got {padding}")
    return padding


class _PadNd(Module):
    mode = 'constant'
    dims = 1

    def __init__(self, padding, value=None):
        super().__init__()
        self.padding = _ntuple(padding, self.dims)
        if value is not None:
            self.value = value

    def forward(self, input):
        if self.mode == 'constant':
            return F.pad(input, self.padding, 'constant', self.value)
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self):
        if self.mode == 'constant':
            return f'padding={self.padding}, value={self.value}'
        return f'{self.padding}'


def _make(name, mode, dims, constant=None):
    if mode == 'constant' and constant is None:
        def __init__(self, padding, value):
            _PadNd.__init__(self, padding, value)
    elif mode == 'constant':
        def __init__(self, padding):
            _PadNd.__init__(self, padding, constant)
    else:
        def __init__(self, padding):
            _PadNd.__init__(self, padding)
    doc = f"Pads the last {dims} dimension(s) ({mode}{', with zeros' if constant == 0.0 else ''})."
    cls = type(name, (_PadNd,), {'mode': mode, 'dims': dims, '__init__': __init__, '__doc__': doc,
                                 '__module__': __name__})
    if constant is not None:
        cls.extra_repr = lambda self: f'{self.padding}'
    return cls


for _d in (1, 2, 3):
    globals()[f'ConstantPad{_d}d'] = _make(f'ConstantPad{_d}d', 'constant', _d)
    globals()[f'ZeroPad{_d}d'] = _make(f'ZeroPad{_d}d', 'constant', _d, constant=0.0)
    globals()[f'ReflectionPad{_d}d'] = _make(f'ReflectionPad{_d}d', 'reflect', _d)
    globals()[f'ReplicationPad{_d}d'] = _make(f'ReplicationPad{_d}d', 'replicate', _d)
    globals()[f'CircularPad{_d}d'] = _make(f'CircularPad{_d}d', 'circular', _d)
