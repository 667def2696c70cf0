"""The safetensors format: a flat, pickle-free file of named tensors (same API as ``safetensors.torch``).

Layout: an 8-byte little-endian header length N, N bytes of JSON (padded with spaces
to a multiple of 8) mapping each name to ``{"dtype": "F32", "shape": [...],
"data_offsets": [begin, end]}`` (plus an optional ``"__metadata__"`` of strings), then
the raw little-endian tensor bytes, back to back.  Nothing in the file is executed,
and every offset and size is checked before any byte is read.
"""
import json
import os
import sys

import numpy as np

from ember import _dtype
from ember import backend as _backend
from ember._tensor import Tensor

__all__ = ['save', 'save_file', 'load', 'load_file', 'safe_open', 'SafetensorError']

_MAX_HEADER = 100_000_000
_NAMES = {'BOOL': _dtype.bool_, 'U8': _dtype.uint8, 'I8': _dtype.int8, 'I16': _dtype.int16, 'I32': _dtype.int32,
          'I64': _dtype.int64, 'F16': _dtype.float16, 'BF16': _dtype.bfloat16, 'F32': _dtype.float32,
          'F64': _dtype.float64, 'C64': _dtype.complex64}
_CODES = {d: name for name, d in _NAMES.items()}
_RANK = {code: i for i, code in enumerate(['BOOL', 'U8', 'I8', 'I16', 'F16', 'BF16', 'I32', 'F32', 'C64', 'F64',
                                           'I64'])}


class SafetensorError(ValueError):
    """A safetensors file or buffer is malformed, or tensors cannot be written as one."""


# ---------------------------------------------------------------------------------------------- writing
def _owner(array):
    from ember.serialization._pickler import owner_of
    return owner_of(array)


def _check_tensors(tensors):
    if not isinstance(tensors, dict):
        raise ValueError(f"Expected a dict of [str, ember.Tensor] but received {type(tensors).__name__}")
    by_storage = {}
    for name, t in tensors.items():
        if not isinstance(name, str):
            raise ValueError(f"Expected a dict of [str, ember.Tensor] but the key {name!r} is not a string")
        if not isinstance(t, Tensor):
            raise ValueError(f"Key `{name}` is invalid, expected ember.Tensor but received {type(t).__name__}")
        if t.dtype not in _CODES:
            raise SafetensorError(f"safetensors cannot store tensors of dtype {t.dtype} (tensor `{name}`)")
        if t.device.type == 'cpu' and t.numel():
            by_storage.setdefault(id(_owner(t._data)), []).append(name)
    shared = [set(names) for names in by_storage.values() if len(names) > 1]
    if shared:
        raise RuntimeError(f"Some tensors share memory, this will lead to duplicate memory on disk and potential "
                           f"differences when loading them again: {shared}. A potential way to correctly save "
                           "your model is to save each tensor's own copy (`.clone()`), or only the full tensors "
                           "and reslice them at load time.")
    for name, t in tensors.items():
        if not t.is_contiguous():
            raise ValueError(f"You are trying to save a non contiguous tensor: `{name}` which is not allowed. It "
                             "either means you are trying to save tensors which are reference of each other in "
                             "which case it's recommended to save only the full tensors, and reslice at load "
                             "time, or simply call `.contiguous()` on your tensor to pack it before saving.")


def _prepare(tensors, metadata):
    """(header bytes, [(name, contiguous host array)]) in file order."""
    _check_tensors(tensors)
    if metadata is not None:
        if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                     for k, v in metadata.items()):
            raise ValueError("metadata must be a dict of str to str")
    # safetensors' own order (its dtype enum, descending, then the name): larger elements first, so every
    # tensor stays aligned, and the bytes equal the safetensors package's
    order = sorted(tensors, key=lambda name: (-_RANK[_CODES[tensors[name].dtype]], name))
    header = {}
    if metadata:
        header['__metadata__'] = dict(metadata)
    arrays, offset = [], 0
    for name in order:
        t = tensors[name]
        host = np.array(_backend.get(t.device).to_numpy(t._data), order="C", copy=None)
        if host.dtype.byteorder == '>' or (host.dtype.byteorder == '=' and sys.byteorder == 'big'):
            host = host.astype(host.dtype.newbyteorder('<'))
        header[name] = {'dtype': _CODES[t.dtype], 'shape': list(host.shape),
                        'data_offsets': [offset, offset + host.nbytes]}
        offset += host.nbytes
        arrays.append((name, host))
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-len(text) % 8)
    return len(text).to_bytes(8, 'little') + text, arrays


def save(tensors, metadata=None):
    """Serializes a ``{name: tensor}`` dict to safetensors bytes.

    Args:
        tensors: the tensors to write; they must be contiguous and must not share memory.
        metadata: optional ``{str: str}`` stored in the header as ``__metadata__``.
    """
    head, arrays = _prepare(tensors, metadata)
    return b''.join([head] + [host.tobytes() for _, host in arrays])


def save_file(tensors, filename, metadata=None):
    """Writes a ``{name: tensor}`` dict to ``filename`` in the safetensors format."""
    head, arrays = _prepare(tensors, metadata)
    with open(filename, 'wb') as f:
        f.write(head)
        for _, host in arrays:
            if host.nbytes:
                f.write(memoryview(host.reshape(-1).view(np.uint8)))


# ---------------------------------------------------------------------------------------------- reading
def _parse_header(prefix, total_size):
    """(entries sorted by offset, metadata, data start) from the first bytes of a file of ``total_size`` bytes."""
    if total_size < 8:
        raise SafetensorError("Error while deserializing header: HeaderTooSmall")
    n = int.from_bytes(prefix[:8], 'little')
    if n > _MAX_HEADER:
        raise SafetensorError("Error while deserializing header: HeaderTooLarge")
    if 8 + n > total_size:
        raise SafetensorError("Error while deserializing header: InvalidHeaderLength")
    return n


def _decode_header(raw, data_size):
    try:
        header = json.loads(raw.decode('utf-8'))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise SafetensorError(f"Error while deserializing header: InvalidHeaderDeserialization ({e})") from None
    if not isinstance(header, dict):
        raise SafetensorError("Error while deserializing header: the header is not a JSON object")
    metadata = header.pop('__metadata__', None)
    if metadata is not None and not (isinstance(metadata, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise SafetensorError("Error while deserializing header: __metadata__ must map strings to strings")
    entries = []
    for name, info in header.items():
        if not isinstance(info, dict) or set(info) != {'dtype', 'shape', 'data_offsets'}:
            raise SafetensorError(f"Error while deserializing header: invalid entry for tensor `{name}`")
        d = _NAMES.get(info['dtype'])
        if d is None or d.np is None:
            raise SafetensorError(f"Error while deserializing header: unsupported dtype {info['dtype']!r} for "
                                  f"`{name}`")
        shape, offsets = info['shape'], info['data_offsets']
        if not (isinstance(shape, list) and all(type(n) is int and n >= 0 for n in shape)):
            raise SafetensorError(f"Error while deserializing header: invalid shape {shape!r} for `{name}`")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(type(o) is int for o in offsets)):
            raise SafetensorError(f"Error while deserializing header: invalid data_offsets for `{name}`")
        numel = 1
        for n in shape:
            numel *= n
        if offsets[1] - offsets[0] != numel * d.itemsize or offsets[0] < 0:
            raise SafetensorError(f"Error while deserializing header: TensorInvalidInfo (`{name}` of shape "
                                  f"{shape} and dtype {info['dtype']} does not fit offsets {offsets})")
        entries.append((offsets[0], offsets[1], name, d, tuple(shape)))
    entries.sort(key=lambda e: (e[0], e[1]))
    end = 0
    for begin, stop, name, _, _ in entries:
        if begin != end:
            raise SafetensorError(f"Error while deserializing header: InvalidOffset(`{name}`): tensors must be "
                                  "stored back to back")
        end = stop
    if end != data_size:
        raise SafetensorError("Error while deserializing header: MetadataIncompleteBuffer (the data is "
                              f"{data_size} bytes, the header describes {end})")
    return entries, metadata


def _tensor(array, dtype, shape, device):
    t = Tensor._make(array.view(dtype.np).reshape(shape))
    return t if device in (None, 'cpu') else t.to(device)


def load(data):
    """Deserializes safetensors bytes into a ``{name: tensor}`` dict (each tensor owns its memory)."""
    data = memoryview(data).cast('B')
    n = _parse_header(data, len(data))
    entries, _ = _decode_header(bytes(data[8:8 + n]), len(data) - 8 - n)
    start = 8 + n
    out = {}
    for begin, stop, name, d, shape in entries:
        out[name] = _tensor(np.frombuffer(data[start + begin:start + stop], dtype=np.uint8).copy(), d, shape, None)
    return out


class safe_open:
    """Opens a safetensors file to list its tensors and read them one at a time (``framework`` must be "pt")."""

    def __init__(self, filename, framework='pt', device='cpu'):
        if framework not in ('pt', 'ember', 'torch', 'np', 'numpy'):
            raise ValueError(f"framework {framework!r} is not supported")
        self._file = open(filename, 'rb')
        try:
            size = os.fstat(self._file.fileno()).st_size
            n = _parse_header(self._file.read(8), size)
            self._entries, self._metadata = _decode_header(self._file.read(n), size - 8 - n)
        except BaseException:
            self._file.close()
            raise
        self._start = 8 + n
        self._by_name = {e[2]: e for e in self._entries}
        self._device = device

    def keys(self):
        """The tensor names, in file order."""
        return [e[2] for e in self._entries]

    def metadata(self):
        """The ``__metadata__`` dict, or None."""
        return self._metadata

    def get_tensor(self, name):
        """Reads tensor ``name`` from the file."""
        try:
            begin, stop, _, d, shape = self._by_name[name]
        except KeyError:
            raise SafetensorError(f"File does not contain tensor {name}") from None
        array = np.empty(stop - begin, dtype=np.uint8)
        self._file.seek(self._start + begin)
        if self._file.readinto(memoryview(array)) != array.nbytes:
            raise SafetensorError(f"the file is truncated in tensor {name}")
        return _tensor(array, d, shape, self._device)

    def close(self):
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def load_file(filename, device='cpu'):
    """Loads a safetensors file into a ``{name: tensor}`` dict on ``device``."""
    with safe_open(filename, device=device) as f:
        return {name: f.get_tensor(name) for name in f.keys()}
