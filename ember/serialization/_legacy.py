"""The pre-1.6 checkpoint format (``torch.save(..., _use_new_zipfile_serialization=False)``).

One stream of pickles: the magic number, the protocol version, a dict of system
facts, the object (storages as persistent ids ``('storage', type, key, location,
numel, view_metadata)``), the list of storage keys, then each storage in that order
as an int64 element count followed by its raw bytes.
"""
import pickle
import struct
import sys

import numpy as np

from ember._device import CPU
from ember.serialization._rebuild import LoadedStorage, storage_dtype

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001


def is_legacy(head):
    """Whether the first bytes of a file are the pickled legacy magic number."""
    return head[:3] == b'\x80\x02\x8a' and len(head) >= 13 and int.from_bytes(head[4:14], 'little') == MAGIC_NUMBER


def _no_persistent_ids(pid):
    raise pickle.UnpicklingError("unexpected persistent id")


def _header_pickle(file, what, size_limit):
    # the header pickles hold only numbers, strings and containers: always read them with the restricted
    # unpickler, whatever weights_only says
    from ember.serialization._unpickler import WeightsUnpickler
    try:
        return WeightsUnpickler(file, _no_persistent_ids, size_limit=size_limit).load()
    except Exception as e:
        raise RuntimeError(f"legacy checkpoint: cannot read the {what}: {e} (truncated or corrupt file)") from None


class LegacyLoader:
    """Reads a legacy stream from ``file`` (seekable); ``unpickle(data, persistent_load)`` loads the object."""

    def __init__(self, file, file_size):
        self._file = file
        self._file_size = file_size
        self._storages = {}     # root key -> LoadedStorage (data read after the object)
        self._locations = {}    # root key -> the location the storage was saved from
        self._views = {}

    def storages(self):
        """(storage, saved location) for each root storage read."""
        return [(storage, self._locations[key]) for key, storage in self._storages.items()]

    def load(self, unpickle):
        f = self._file
        if _header_pickle(f, 'magic number', self._file_size) != MAGIC_NUMBER:
            raise RuntimeError("Invalid magic number; corrupt file?")
        version = _header_pickle(f, 'protocol version', self._file_size)
        if version != PROTOCOL_VERSION:
            raise RuntimeError(f"Invalid protocol version: {version!r:.40}")
        sys_info = _header_pickle(f, 'system information', self._file_size)
        little = sys_info.get('little_endian', True) if isinstance(sys_info, dict) else True
        result = unpickle(f, self._persistent_load)
        keys = _header_pickle(f, 'storage keys', self._file_size)
        if not isinstance(keys, list):
            raise RuntimeError("legacy checkpoint: the storage key list is corrupt")
        for key in keys:
            self._read_storage(key, little)
        return result

    def _persistent_load(self, pid):
        if len(pid) != 6:
            raise pickle.UnpicklingError(f"legacy checkpoint: malformed storage id {pid!r:.80}")
        _, storage_type, root_key, location, numel, view_metadata = pid
        try:
            dtype = storage_dtype(storage_type)
        except RuntimeError as e:
            raise pickle.UnpicklingError(str(e)) from None
        if not isinstance(numel, int) or numel < 0 or numel * dtype.itemsize > self._file_size:
            raise pickle.UnpicklingError(f"legacy checkpoint: storage of {numel!r:.40} elements does not fit "
                                         "in the file")
        storage = self._storages.get(root_key)
        if storage is None:
            storage = LoadedStorage(np.zeros(numel, dtype=dtype.np), dtype, CPU)
            self._storages[root_key] = storage
            self._locations[root_key] = location.decode('ascii', 'replace') if isinstance(location, bytes) \
                else str(location)
        elif storage.dtype is not dtype or storage.numel != numel:
            raise pickle.UnpicklingError(f"legacy checkpoint: storage {root_key!r:.40} is used with two types")
        if view_metadata is None:
            return storage
        view_key, offset, size = view_metadata
        if not (isinstance(offset, int) and isinstance(size, int) and 0 <= offset and offset + size <= numel):
            raise pickle.UnpicklingError("legacy checkpoint: storage view out of bounds")
        if view_key not in self._views:
            self._views[view_key] = LoadedStorage(storage.array[offset:offset + size], dtype, CPU)
        return self._views[view_key]

    def _read_storage(self, key, little):
        storage = self._storages.get(key)
        if storage is None:
            raise RuntimeError(f"legacy checkpoint: storage key {key!r:.40} is not used by the object")
        head = self._file.read(8)
        if len(head) != 8:
            raise RuntimeError("legacy checkpoint: the file is truncated in the storage data")
        numel = struct.unpack('<q' if little else '>q', head)[0]
        if numel != storage.numel:
            raise RuntimeError(f"legacy checkpoint: storage {key} holds {numel} elements but the object expects "
                               f"{storage.numel}")
        target = storage.array.view(np.uint8)
        got = self._file.readinto(memoryview(target)) if target.nbytes else 0
        if got != target.nbytes:
            raise RuntimeError("legacy checkpoint: the file is truncated in the storage data")
        if little != (sys.byteorder == 'little') and storage.array.itemsize > 1:
            storage.array.byteswap(inplace=True)


def write_legacy(file, pickled_object_writer, sys_info_extra=None):
    """Writes the legacy stream; ``pickled_object_writer(file)`` pickles the object and returns its storages."""
    pickle.dump(MAGIC_NUMBER, file, protocol=2)
    pickle.dump(PROTOCOL_VERSION, file, protocol=2)
    pickle.dump({'protocol_version': PROTOCOL_VERSION, 'little_endian': sys.byteorder == 'little',
                 'type_sizes': {'short': 2, 'int': 4, 'long': 4}}, file, protocol=2)
    records = pickled_object_writer(file)
    pickle.dump([key for key, _, _ in records], file, protocol=2)
    for key, data, itemsize in records:
        file.write(struct.pack('<q', data.nbytes // itemsize))
        if data.nbytes:
            file.write(memoryview(data))
