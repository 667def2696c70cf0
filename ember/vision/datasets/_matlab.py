"""A minimal reader and writer of MATLAB level-5 MAT-files (numeric arrays only).

Enough for SVHN's ``train_32x32.mat``: a 128-byte header, then data elements, each an 8-byte tag
(type, byte count) or a 4-byte "small element" tag, padded to 8 bytes.  An ``miMATRIX`` element
holds sub-elements: array flags (the class), dimensions, name, real part (stored in any integer
or float type, converted to the class's type) and, if complex, the imaginary part.
``miCOMPRESSED`` elements are zlib streams holding one element.  Arrays are column-major.
Cells, structs, sparse and char arrays are skipped (their names are listed in ``skipped``).
"""
import struct
import zlib

import numpy as np

_MI_TYPES = {1: 'i1', 2: 'u1', 3: 'i2', 4: 'u2', 5: 'i4', 6: 'u4', 7: 'f4', 9: 'f8', 12: 'i8', 13: 'u8'}
_MI_MATRIX, _MI_COMPRESSED = 14, 15
_MX_CLASSES = {6: 'f8', 7: 'f4', 8: 'i1', 9: 'u1', 10: 'i2', 11: 'u2', 12: 'i4', 13: 'u4', 14: 'i8', 15: 'u8'}
_COMPLEX_FLAG = 0x800


class MatFileError(ValueError):
    """The file is not a level-5 MAT-file this reader understands."""


def _read_tag(buf, pos, order):
    """(type, payload, next position) of the element whose tag starts at ``pos``."""
    if pos + 8 > len(buf):
        raise MatFileError(f"truncated data element at byte {pos}")
    first, second = struct.unpack_from(order + 'II', buf, pos)
    if first >> 16:  # small data element: size and type share 4 bytes, data in the next 4
        nbytes, mtype = first >> 16, first & 0xFFFF
        return mtype, buf[pos + 4:pos + 4 + nbytes], pos + 8
    mtype, nbytes = first, second
    end = pos + 8 + nbytes
    if end > len(buf):
        raise MatFileError(f"data element at byte {pos} claims {nbytes} bytes; the file is truncated")
    padded = end if mtype == _MI_COMPRESSED else pos + 8 + (nbytes + 7) // 8 * 8
    return mtype, buf[pos + 8:end], padded


def _numeric(mtype, payload, order):
    if mtype not in _MI_TYPES:
        raise MatFileError(f"unsupported numeric data type {mtype}")
    return np.frombuffer(payload, dtype=order + _MI_TYPES[mtype])


def _read_matrix(payload, order):
    """(name, array or None) from the payload of an miMATRIX element."""
    if not payload:  # an empty matrix has no sub-elements
        return None, None
    _, flags, pos = _read_tag(payload, 0, order)
    flags = _numeric(6, flags, order)
    mx_class, is_complex = int(flags[0]) & 0xFF, bool(int(flags[0]) & _COMPLEX_FLAG)
    mtype, dims, pos = _read_tag(payload, pos, order)
    dims = tuple(int(d) for d in _numeric(mtype, dims, order))
    _, name, pos = _read_tag(payload, pos, order)
    name = bytes(name).decode('latin1')
    if mx_class not in _MX_CLASSES:
        return name, None
    mtype, real, pos = _read_tag(payload, pos, order)
    array = _numeric(mtype, real, order).astype(_MX_CLASSES[mx_class])
    if is_complex:
        mtype, imag, pos = _read_tag(payload, pos, order)
        array = array + 1j * _numeric(mtype, imag, order)
    return name, array.reshape(dims, order='F')


def loadmat(path):
    """Reads the numeric arrays of a level-5 MAT-file into a dict ``name -> numpy array``.

    The dict's ``'__skipped__'`` entry lists the names of variables of other kinds.
    """
    with open(path, 'rb') as f:
        buf = f.read()
    if len(buf) < 128:
        raise MatFileError(f"'{path}' is too short to be a MAT-file")
    if buf[:10] == b'MATLAB 7.3' or buf[512:516] == b'\x89HDF':
        raise MatFileError(f"'{path}' is a MAT-file v7.3 (HDF5), which this reader does not read")
    indicator = buf[126:128]
    if indicator == b'IM':
        order = '<'
    elif indicator == b'MI':
        order = '>'
    else:
        raise MatFileError(f"'{path}' is not a level-5 MAT-file (endian indicator {indicator!r})")
    arrays, skipped = {}, []
    pos = 128
    while pos < len(buf):
        mtype, payload, pos = _read_tag(buf, pos, order)
        if mtype == _MI_COMPRESSED:
            inner = zlib.decompress(payload)
            mtype, payload, _ = _read_tag(inner, 0, order)
        if mtype != _MI_MATRIX:
            continue
        name, array = _read_matrix(payload, order)
        if array is None:
            if name is not None:
                skipped.append(name)
        else:
            arrays[name] = array
    arrays['__skipped__'] = skipped
    return arrays


# ------------------------------------------------------------------------------------ writer
# numpy dtype -> (mi data type, mx class)
_DTYPE_CODES = {'i1': (1, 8), 'u1': (2, 9), 'i2': (3, 10), 'u2': (4, 11), 'i4': (5, 12), 'u4': (6, 13),
                'i8': (12, 14), 'u8': (13, 15), 'f4': (7, 7), 'f8': (9, 6)}


def _element(mtype, payload):
    payload = bytes(payload)
    pad = (-len(payload)) % 8
    return struct.pack('<II', mtype, len(payload)) + payload + b'\0' * pad


def savemat(path, arrays, compress=False, stored_as=None):
    """Writes numeric numpy arrays (int/uint/float, real) as a little-endian level-5 MAT-file.

    ``stored_as`` maps a name to a smaller dtype to store its values in while keeping the
    array's class, as MATLAB does (SVHN's labels are doubles stored as uint8).
    """
    header = b'MATLAB 5.0 MAT-file, written by ember'.ljust(116, b' ') + b'\0' * 8 + struct.pack('<H', 0x0100) + b'IM'
    out = [header]
    for name, array in arrays.items():
        array = np.asarray(array)
        if array.ndim < 2:
            array = array.reshape(1, -1) if array.ndim == 1 else array.reshape(1, 1)
        key = array.dtype.newbyteorder('<').str[1:]
        if key not in _DTYPE_CODES:
            raise TypeError(f"savemat: unsupported dtype {array.dtype}")
        _, mx_class = _DTYPE_CODES[key]
        storage = np.dtype((stored_as or {}).get(name, array.dtype)).newbyteorder('<')
        mtype, _ = _DTYPE_CODES[storage.str[1:]]
        body = (_element(6, struct.pack('<II', mx_class, 0))
                + _element(5, np.asarray(array.shape, '<i4').tobytes())
                + _element(1, name.encode('latin1'))
                + _element(mtype, array.astype(storage).tobytes(order='F')))
        matrix = struct.pack('<II', _MI_MATRIX, len(body)) + body
        if compress:
            packed = zlib.compress(matrix)
            out.append(struct.pack('<II', _MI_COMPRESSED, len(packed)) + packed)
        else:
            out.append(matrix)
    with open(path, 'wb') as f:
        f.write(b''.join(out))
