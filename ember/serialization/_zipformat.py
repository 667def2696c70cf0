"""The zip container of torch's checkpoints, written the way torch's stream writer (miniz) writes it.

Every record is stored uncompressed under ``<archive name>/``, its data aligned to 64
bytes from the start of the archive by a padding extra field (id ``FB``), followed by a
data descriptor; the archive always ends with a zip64 end record.  Reading goes through
``zipfile`` for the central directory and then reads a record's bytes straight into a
NumPy array (or maps them), so a storage costs one read, not a copy per layer.
"""
import struct
import zipfile
import zlib

import numpy as np

ALIGNMENT = 64
_U32_MAX = 0xFFFFFFFF
ZIP64_LIMIT = _U32_MAX      # sizes and offsets from here on need zip64 fields (tests lower it)
_LOCAL_HEADER = struct.Struct('<IHHHHHIIIHH')
_CENTRAL_HEADER = struct.Struct('<IHHHHHHIIIHHHHHII')
_FLAGS = 0x0808             # sizes in a data descriptor; UTF-8 names (as miniz writes)
_MASK64 = (1 << 64) - 1


class ZipWriteError(RuntimeError):
    pass


def _hash_combine(seed, value):
    # c10::hash_combine on 64-bit size_t
    return (seed ^ ((value + 0x9E3779B9 + (seed << 6) + (seed >> 2)) & _MASK64)) & _MASK64


def _std_string_hash(text):
    """libstdc++'s ``std::hash<std::string>`` (64-bit murmur variant), which torch uses for record names."""
    data = text.encode('utf-8')
    mul = (0xC6A4A793 << 32) + 0x5BD1E995
    h = (0xC70F6907 ^ (len(data) * mul)) & _MASK64
    whole = len(data) & ~7
    for i in range(0, whole, 8):
        k = (int.from_bytes(data[i:i + 8], 'little') * mul) & _MASK64
        h ^= ((k ^ (k >> 47)) * mul) & _MASK64
        h = (h * mul) & _MASK64
    if len(data) & 7:
        h ^= int.from_bytes(data[whole:], 'little')
        h = (h * mul) & _MASK64
    h = ((h ^ (h >> 47)) * mul) & _MASK64
    return h ^ (h >> 47)


# libstdc++'s prime bucket counts, as far as an archive's record count makes an unordered_set grow
_PRIMES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 103,
           109, 113, 127, 137, 139, 149, 157, 167, 179, 193, 199, 211, 227, 241, 257, 277, 293, 313, 337, 359, 383,
           409, 439, 467, 503, 541, 577, 619, 661, 709, 761, 823, 887, 953, 1031, 1109, 1193, 1289, 1381, 1493, 1613,
           1741, 1879, 2029, 2179, 2357, 2549, 2753, 2971, 3209, 3469, 3739, 4027, 4349, 4703, 5087, 5503, 5953,
           6427, 6949, 7517, 8123, 8783, 9497, 10273)
_FAST_BUCKETS = (2, 2, 2, 3, 5, 5, 7, 7, 11, 11, 11, 11, 13, 13)


def _unordered_set_order(names):
    """The order in which a libstdc++ ``std::unordered_set<std::string>`` filled with ``names`` iterates.

    torch combines its record-name hashes in that order; emulating it makes the serialization id, and so
    the whole file, equal to torch's.  Returns None past the bucket counts tabulated here.
    """
    head = None                     # the singly linked node list: node -> next node
    following = {}
    before = {}                     # bucket -> node before the bucket's first node (None: the list head)
    hashes = {}
    n_buckets, next_resize = 1, 0

    def link_front(node, bkt):
        nonlocal head
        if bkt in before:
            prev = before[bkt]
            if prev is None:
                following[node], head = head, node
            else:
                following[node], following[prev] = following[prev], node
        else:
            following[node], head = head, node
            if following[node] is not None:
                before[hashes[following[node]] % n_buckets] = node
            before[bkt] = None

    for count, name in enumerate(names):
        if count + 1 > next_resize:
            wanted = max(count + 1, 0 if next_resize else 11)
            if wanted >= n_buckets:
                target = max(wanted + 1, n_buckets * 2)
                if target < len(_FAST_BUCKETS):
                    new_count = _FAST_BUCKETS[target]
                else:
                    candidates = [p for p in _PRIMES[6:] if p >= target]
                    if not candidates:
                        return None
                    new_count = candidates[0]
                next_resize = new_count
                node, head = head, None
                before.clear()
                n_buckets = new_count
                while node is not None:
                    nxt = following[node]
                    link_front(node, hashes[node] % n_buckets)
                    node = nxt
            else:
                next_resize = n_buckets
        hashes[name] = _std_string_hash(name)
        link_front(name, hashes[name] % n_buckets)
    order, node = [], head
    while node is not None:
        order.append(node)
        node = following[node]
    return order


class ArchiveWriter:
    """Writes records into a zip archive on the binary file ``file``, all under ``prefix/``."""

    def __init__(self, file, prefix):
        self._file = file
        self._prefix = prefix
        self._pos = 0           # offsets are relative to the start of the archive, as in torch
        self._entries = []
        self._crc_combined = 0

    def _write(self, data):
        n = self._file.write(data)
        size = memoryview(data).nbytes
        if n is not None and n != size:
            raise ZipWriteError(f"short write: {n} of {size} bytes")
        self._pos += size

    def write_record(self, name, data):
        """Adds record ``name`` holding the bytes of ``data`` (bytes or a contiguous array), data 64-byte aligned."""
        view = memoryview(data)
        if not view.contiguous:
            raise ValueError("record data must be contiguous")
        view = view.cast('B') if view.ndim != 1 or view.format != 'B' else view
        size = view.nbytes
        crc = zlib.crc32(view)
        full_name = f'{self._prefix}/{name}'.encode('utf-8')
        offset = self._pos
        big_size, big_offset = size >= ZIP64_LIMIT, offset >= ZIP64_LIMIT
        zip64 = b''
        if big_size or big_offset:
            fields = (struct.pack('<QQ', size, size) if big_size else b'') + (
                struct.pack('<Q', offset) if big_offset else b'')
            zip64 = struct.pack('<HH', 1, len(fields)) + fields
        start = offset + _LOCAL_HEADER.size + len(full_name) + len(zip64) + 4
        pad = -start % ALIGNMENT
        extra = zip64 + b'FB' + struct.pack('<H', pad) + b'Z' * pad
        self._write(_LOCAL_HEADER.pack(0x04034B50, 45 if zip64 else 0, _FLAGS, 0, 0, 0, 0,
                                       _U32_MAX if big_size else 0, _U32_MAX if big_size else 0,
                                       len(full_name), len(extra)))
        self._write(full_name)
        self._write(extra)
        if size:
            self._write(view)
        if big_size:
            self._write(struct.pack('<IIQQ', 0x08074B50, crc, size, size))
        else:
            self._write(struct.pack('<IIII', 0x08074B50, crc, size, size))
        self._crc_combined = _hash_combine(self._crc_combined, crc)
        self._entries.append((full_name, crc, size, offset, name))

    def serialization_id(self):
        """torch's 40-digit id: a hash over the record names, then the combined CRC-32 of their data."""
        names = [entry[4] for entry in self._entries]
        names_hash = 0
        for name in _unordered_set_order(names) or sorted(names):
            names_hash = _hash_combine(names_hash, _std_string_hash(name))
        return '%020d%020d' % (names_hash, self._crc_combined)

    def finish(self):
        """Writes the central directory and the (zip64) end records."""
        cd_start = self._pos
        for full_name, crc, size, offset, _ in self._entries:
            big_size, big_offset = size >= ZIP64_LIMIT, offset >= ZIP64_LIMIT
            fields = (struct.pack('<QQ', size, size) if big_size else b'') + (
                struct.pack('<Q', offset) if big_offset else b'')
            extra = struct.pack('<HH', 1, len(fields)) + fields if fields else b''
            version = 45 if extra else 0
            shown_size = _U32_MAX if big_size else size
            self._write(_CENTRAL_HEADER.pack(0x02014B50, version, version, _FLAGS, 0, 0, 0, crc, shown_size,
                                             shown_size, len(full_name), len(extra), 0, 0, 0, 0,
                                             _U32_MAX if big_offset else offset))
            self._write(full_name)
            self._write(extra)
        cd_size = self._pos - cd_start
        count = len(self._entries)
        eocd64 = self._pos
        self._write(struct.pack('<IQHHIIQQQQ', 0x06064B50, 44, 0x031E, 45, 0, 0, count, count, cd_size, cd_start))
        self._write(struct.pack('<IIQI', 0x07064B50, 0, eocd64, 1))
        self._write(struct.pack('<IHHHHIIH', 0x06054B50, 0, 0, min(count, 0xFFFF), min(count, 0xFFFF),
                                min(cd_size, _U32_MAX), min(cd_start, _U32_MAX), 0))


class ArchiveReader:
    """Reads the records of a checkpoint archive from a seekable binary file."""

    def __init__(self, file, file_size):
        self._file = file
        self._file_size = file_size
        try:
            self._zip = zipfile.ZipFile(file)
            infos = self._zip.infolist()
        except Exception as e:  # a damaged directory trips zipfile in many ways
            raise RuntimeError(f"PytorchStreamReader failed reading zip archive: {e} (the file is truncated or "
                               "is not a checkpoint archive)") from None
        if not infos:
            raise RuntimeError("PytorchStreamReader failed reading zip archive: archive does not contain any files")
        first = infos[0].filename
        if '/' not in first:
            raise RuntimeError(f"file in archive is not in a subdirectory: {first}")
        self.prefix = first.split('/', 1)[0]
        cut = len(self.prefix) + 1
        self._records = {info.filename[cut:]: info for info in infos if info.filename.startswith(self.prefix + '/')}

    def has(self, name):
        return name in self._records

    def names(self):
        return list(self._records)

    def _info(self, name):
        try:
            return self._records[name]
        except KeyError:
            raise RuntimeError(f"PytorchStreamReader failed locating file {name}: file not found (the archive "
                               "is incomplete or corrupt)") from None

    def record_size(self, name):
        return self._info(name).file_size

    def data_offset(self, name):
        """Where the bytes of stored record ``name`` begin in the file."""
        info = self._info(name)
        if info.compress_type != zipfile.ZIP_STORED:
            raise RuntimeError(f"record {name} is compressed, so it cannot be mapped")
        if not 0 <= info.header_offset < self._file_size:
            raise RuntimeError(f"PytorchStreamReader failed reading file {name}: its header lies outside the file")
        self._file.seek(info.header_offset)
        header = self._file.read(_LOCAL_HEADER.size)
        if len(header) != _LOCAL_HEADER.size or header[:4] != b'PK\x03\x04':
            raise RuntimeError(f"PytorchStreamReader failed reading file {name}: invalid header or archive is "
                               "corrupted")
        fields = _LOCAL_HEADER.unpack(header)
        start = info.header_offset + _LOCAL_HEADER.size + fields[9] + fields[10]
        if start + info.file_size > self._file_size:
            raise RuntimeError(f"PytorchStreamReader failed reading file {name}: the file is truncated "
                               f"({info.file_size} bytes expected at offset {start}, the file has "
                               f"{self._file_size})")
        return start

    def read_bytes(self, name):
        """The whole content of a (small) record, checksum verified."""
        info = self._info(name)
        if info.compress_size > self._file_size or info.file_size > max(self._file_size, 1) * 1032:
            raise RuntimeError(f"PytorchStreamReader failed reading file {name}: its size runs past the end of the "
                               "file (truncated or corrupt archive)")
        try:
            return self._zip.read(info)
        except RuntimeError:
            raise
        except Exception as e:  # zipfile reports damage with many exception types
            raise RuntimeError(f"PytorchStreamReader failed reading file {name}: {e}") from None

    def read_array(self, name):
        """The content of record ``name`` as a new uint8 array, read straight into it."""
        info = self._info(name)
        if info.compress_type != zipfile.ZIP_STORED:
            return np.frombuffer(bytearray(self.read_bytes(name)), dtype=np.uint8)
        start = self.data_offset(name)
        out = np.empty(info.file_size, dtype=np.uint8)
        self._file.seek(start)
        got = self._file.readinto(memoryview(out)) if info.file_size else 0
        if got != info.file_size:
            raise RuntimeError(f"PytorchStreamReader failed reading file {name}: the file is truncated")
        # NOTE: like torch, the CRC of storage data is not verified: it would cost a third of the load time.
        # The structure (directory, sizes, pickle) is always checked, so damage there is still reported.
        return out
