"""Tensor printing, character for character as PyTorch prints.

``repr(t)`` is ``tensor(<values>, <suffixes>)``.  The values go through one
formatter per tensor (two for complex: real and imaginary parts) that looks at
every value that will be shown and decides:

* integer mode: every finite nonzero value is integral, printed as ``3.``;
* scientific mode: the finite nonzero magnitudes span more than 1000x, exceed
  1e8, or go below 1e-4 (``sci_mode`` forces it on or off);
* otherwise fixed point with ``precision`` digits;

and a common width (that of the widest value) to right-align every element.
Tensors with more than ``threshold`` elements are summarised: ``edgeitems``
rows/values at each end of every dimension, with ``...`` between.  Rows wrap
at ``linewidth`` characters.  The suffixes name what the values cannot show:
a non-cpu device, a dtype that is not the default for its kind, the size of an
empty tensor, ``grad_fn`` or ``requires_grad``.
"""
import contextlib
import math

import numpy as np

from ember import _dtype
from ember import backend as _backend


class _PrintOptions:
    __slots__ = ('precision', 'threshold', 'edgeitems', 'linewidth', 'sci_mode')

    def __init__(self):
        self.precision = 4
        self.threshold = 1000
        self.edgeitems = 3
        self.linewidth = 80
        self.sci_mode = None


PRINT_OPTS = _PrintOptions()

_PROFILES = {
    'default': dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    'short': dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    'full': dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """Sets the options for printing tensors.

    Args:
        precision: digits after the decimal point for floats (default 4).
        threshold: number of elements above which a tensor is summarised (default 1000).
        edgeitems: values shown at each end of each dimension when summarised (default 3).
        linewidth: characters per line before wrapping (default 80).
        profile: ``'default'``, ``'short'`` or ``'full'``: a preset for the four options above,
            which any of them given explicitly overrides.
        sci_mode: True or False forces scientific notation on or off; None (the default) lets
            the formatter choose.  Like PyTorch, every call sets it.
    """
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"Unknown print profile {profile!r}; expected one of {sorted(_PROFILES)}")
        for name, value in _PROFILES[profile].items():
            setattr(PRINT_OPTS, name, value)
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions():
    """The current print options as a dict (the keyword arguments of ``set_printoptions``)."""
    return {name: getattr(PRINT_OPTS, name) for name in _PrintOptions.__slots__}


@contextlib.contextmanager
def printoptions(**kwargs):
    """Context manager that sets print options and restores the previous ones on exit."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


# ----------------------------------------------------------------------------- the value formatter

class _Formatter:
    """Chooses the mode and width for a set of values and formats single values with them."""

    def __init__(self, values):
        values = values.reshape(-1)
        self.floating = values.dtype.kind == 'f'
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        if not self.floating:
            if values.size:
                if values.dtype.kind == 'b':
                    self.max_width = 4 if values.all() else 5
                else:
                    self.max_width = max(len(str(values.min().item())), len(str(values.max().item())))
            return
        shown = values[np.isfinite(values) & (values != 0)]
        if shown.size == 0:
            return
        magnitudes = np.abs(shown.astype(np.float64))
        smallest, largest = float(magnitudes.min()), float(magnitudes.max())
        self.int_mode = bool(np.all(shown == np.ceil(shown)))
        precision = PRINT_OPTS.precision
        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = bool(_ratio(largest, smallest) > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4)
        else:
            self.sci_mode = PRINT_OPTS.sci_mode
        candidates = _extremes(shown)
        if self.sci_mode:
            texts = [f'{v:.{precision}e}' for v in candidates]
        elif self.int_mode:
            texts = [f'{v:.0f}.' for v in candidates]
        else:
            texts = [f'{v:.{precision}f}' for v in candidates]
        self.max_width = max(len(s) for s in texts)

    def width(self):
        return self.max_width

    def format(self, value):
        """``value`` (a Python number) as text, right-aligned to the common width."""
        if self.floating:
            if self.sci_mode:
                text = f'{value:{self.max_width}.{PRINT_OPTS.precision}e}'
            elif self.int_mode:
                text = f'{value:.0f}'
                if not (math.isinf(value) or math.isnan(value)):
                    text += '.'
            else:
                text = f'{value:.{PRINT_OPTS.precision}f}'
        else:
            text = f'{value}'
        return (self.max_width - len(text)) * ' ' + text


def _ratio(a, b):
    try:
        return a / b
    except OverflowError:  # 1e300 / 1e-300: the ratio is infinite in the tensor arithmetic PyTorch uses
        return math.inf


def _extremes(values):
    """The values whose formatted text can be the longest: the largest and smallest magnitude of each sign.

    Within one sign the text length grows with the magnitude (fixed point) or with the size of the
    exponent (scientific), so the widest text is at one of these ends.
    """
    out = []
    for part in (values[values > 0], values[values < 0]):
        if part.size:
            out.extend((float(part.min()), float(part.max())))
    return out


# ----------------------------------------------------------------------------- summarising and layout

def _summarized(values):
    """The values a summarised print shows: ``edgeitems`` at each end of every dimension."""
    edge = PRINT_OPTS.edgeitems
    if values.ndim == 0:
        return values
    if not edge:
        # a 1-d tensor keeps everything (``x[:0]`` and ``x[-0:]``); higher ones show nothing
        return values if values.ndim == 1 else values[(slice(0, 0),) * values.ndim]
    for axis, n in enumerate(values.shape):
        if n > 2 * edge:
            keep = np.concatenate((np.arange(edge), np.arange(n - edge, n)))
            values = np.take(values, keep, axis=axis)
    return values


class _Layout:
    """Formats nested rows of a real (one formatter) or complex (two formatters) array."""

    def __init__(self, summarize, real, imag=None):
        self.summarize = summarize
        self.real = real
        self.imag = imag

    def value(self, v):
        if self.imag is None:
            return self.real.format(v)
        real_text = self.real.format(v.real)
        imag_text = (self.imag.format(v.imag) + 'j').lstrip()
        if imag_text[0] in '+-':
            return real_text + imag_text
        return real_text + '+' + imag_text

    def scalar(self, array):
        return self.value(array.item())

    def vector(self, array, indent):
        element_length = self.real.width() + 2
        if self.imag is not None:
            element_length += self.imag.width() + 1
        per_line = max(1, int(math.floor((PRINT_OPTS.linewidth - indent) / element_length)))
        edge = PRINT_OPTS.edgeitems
        if self.summarize and not edge:
            data = ['...']
        elif self.summarize and array.shape[0] > 2 * edge:
            data = ([self.value(v) for v in array[:edge].tolist()] + [' ...']
                    + [self.value(v) for v in array[-edge:].tolist()])
        else:
            data = [self.value(v) for v in array.tolist()]
        lines = [', '.join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
        return '[' + (',\n' + ' ' * (indent + 1)).join(lines) + ']'

    def nested(self, array, indent):
        ndim = array.ndim
        if ndim == 0:
            return self.scalar(array)
        if ndim == 1:
            return self.vector(array, indent)
        edge = PRINT_OPTS.edgeitems
        n = array.shape[0]
        if self.summarize and n > 2 * edge:
            rows = ([self.nested(array[i], indent + 1) for i in range(edge)] + ['...']
                    + [self.nested(array[i], indent + 1) for i in range(n - edge, n)])
        else:
            rows = [self.nested(array[i], indent + 1) for i in range(n)]
        return '[' + (',' + '\n' * (ndim - 1) + ' ' * (indent + 1)).join(rows) + ']'


def _host_values(t):
    """The tensor's values as a NumPy array that Python formats exactly (half types widened)."""
    array = _backend.get(t._device).to_numpy(t._data)
    if t._dtype is _dtype.float16 or t._dtype is _dtype.bfloat16:
        array = array.astype(np.float32)
    return array


def _values_str(t, indent):
    if t._data.size == 0:
        return '[]'
    values = _host_values(t)
    summarize = values.size > PRINT_OPTS.threshold
    shown = _summarized(values) if summarize else values
    if values.dtype.kind == 'c':
        layout = _Layout(summarize, _Formatter(shown.real), _Formatter(shown.imag))
    else:
        layout = _Layout(summarize, _Formatter(shown))
    return layout.nested(values, indent)


# ----------------------------------------------------------------------------- repr

def _add_suffixes(text, suffixes, indent):
    parts = [text]
    # NOTE: PyTorch measures the last line as len - rfind('\n') + 1, which over-counts by two on a
    # single line; wrapping decisions depend on it, so it is kept.
    last_line_len = len(text) - text.rfind('\n') + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(',\n' + ' ' * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(', ' + suffix)
            last_line_len += len(suffix) + 2
    parts.append(')')
    return ''.join(parts)


def _is_parameter_class(cls):
    return cls.__name__ == 'Parameter' and cls.__module__.startswith('ember')


def tensor_repr(t, tensor_contents=None):
    """``repr(t)`` as PyTorch writes it."""
    from ember._tensor import Tensor
    cls = type(t)
    plain = cls is Tensor or _is_parameter_class(cls)
    prefix = 'tensor(' if plain else f'{cls.__name__}('
    indent = len(prefix)
    suffixes = []
    device = t._device
    if device.type != 'cpu':
        suffixes.append(f"device='{device}'")
    default_float = _dtype.get_default_dtype()
    dt = t._dtype
    if device.type == 'meta':
        suffixes.append(f'size={tuple(t.shape)}')
        if dt is not default_float:
            suffixes.append(f'dtype={dt}')
        body = '...'
    elif t._data.size == 0:
        if t._data.ndim != 1:
            suffixes.append(f'size={tuple(t.shape)}')
        if dt is not default_float:
            suffixes.append(f'dtype={dt}')
        body = '[]'
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f'size={tuple(t.shape)}')
        if dt not in (default_float, _dtype._default_complex(), _dtype.int64, _dtype.bool_):
            suffixes.append(f'dtype={dt}')
        body = _values_str(t, indent) if tensor_contents is None else None
    if tensor_contents is not None:
        body = tensor_contents
    try:
        grad_fn = t.grad_fn
        grad_fn_name = grad_fn.name() if grad_fn is not None else None
    except RuntimeError:
        grad_fn_name = 'Invalid'
    if grad_fn_name is not None:
        suffixes.append(f'grad_fn=<{grad_fn_name}>')
    elif t._requires_grad:
        suffixes.append('requires_grad=True')
    text = _add_suffixes(prefix + body, suffixes, indent)
    if not plain and any(_is_parameter_class(c) for c in cls.__mro__):
        text = f'Parameter({text})'
    return text
