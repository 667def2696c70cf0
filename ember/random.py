"""Random number generators: ``ember.Generator``, the default generator and its seeding (``torch.random``).

A ``Generator`` wraps a NumPy ``PCG64`` bit generator.  Every sampling function
takes ``generator=``; without one it draws from ``default_generator``, which
``ember.manual_seed`` seeds.  The streams are ember's own (PyTorch's Mersenne
Twister streams are not reproduced): the same seed gives the same numbers in
ember, and a generator's state saved with ``get_state()`` (a uint8 tensor, so
it can be saved with the model) and restored with ``set_state()`` continues the
same stream.  Tensors on other devices are sampled on the host with the same
generators and then moved.
"""
import contextlib
import os

import numpy as np

from ember._device import as_device

DEFAULT_SEED = 67280421310721  # PyTorch's initial seed of a fresh generator
_UINT64 = 1 << 64
_STATE_BYTES = 48  # seed (8) + PCG64 state (16) + increment (16) + has_uint32 (4) + uinteger (4)


def _check_seed(seed, strict):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        if strict:
            raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        seed = int(seed)
    seed = int(seed)
    if not -(1 << 63) <= seed < _UINT64:
        raise ValueError("Overflow when unpacking long long")
    return seed % _UINT64  # negative seeds wrap like a C++ uint64_t


class Generator:
    """A source of random numbers: ``ember.Generator(device='cpu')``.

    Pass it as ``generator=`` to the sampling functions to draw from a stream
    independent of the default generator.
    """

    def __init__(self, device='cpu'):
        device = as_device(device)
        if device.type == 'meta':
            raise RuntimeError("META device type not an accelerator.")
        self._device = device
        self._reseed(DEFAULT_SEED)

    def _reseed(self, seed):
        self._seed = seed
        self._bits = np.random.PCG64(seed)
        self._np = np.random.Generator(self._bits)

    @property
    def device(self):
        """The device this generator's samples go to."""
        return self._device

    def manual_seed(self, seed):
        """Seeds the generator with the integer ``seed`` and returns it."""
        self._reseed(_check_seed(seed, strict=True))
        return self

    def seed(self):
        """Seeds the generator from the operating system's entropy and returns the seed used."""
        value = int.from_bytes(os.urandom(8), 'little') >> 1  # fits an int64 tensor
        self._reseed(value)
        return value

    def initial_seed(self):
        """The seed this generator was last seeded with."""
        return self._seed

    def get_state(self):
        """The generator's state as a uint8 tensor (see ``set_state``)."""
        import ember
        raw = self._bits.state
        inner = raw['state']
        blob = b''.join((self._seed.to_bytes(8, 'little'), inner['state'].to_bytes(16, 'little'),
                         inner['inc'].to_bytes(16, 'little'), int(raw['has_uint32']).to_bytes(4, 'little'),
                         int(raw['uinteger']).to_bytes(4, 'little')))
        return ember.tensor(np.frombuffer(blob, dtype=np.uint8).copy())

    def set_state(self, new_state):
        """Restores a state returned by ``get_state``; the stream continues from where it was saved."""
        import ember
        if not isinstance(new_state, ember.Tensor) or new_state.dtype is not ember.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        blob = np.asarray(new_state).reshape(-1).tobytes()
        if len(blob) != _STATE_BYTES:
            raise RuntimeError(f"Expected a PCG64 generator state of size {_STATE_BYTES} but found the input RNG "
                               f"state size to be {len(blob)}")
        seed = int.from_bytes(blob[0:8], 'little')
        bits = np.random.PCG64()
        bits.state = {'bit_generator': 'PCG64',
                      'state': {'state': int.from_bytes(blob[8:24], 'little'),
                                'inc': int.from_bytes(blob[24:40], 'little')},
                      'has_uint32': int.from_bytes(blob[40:44], 'little'),
                      'uinteger': int.from_bytes(blob[44:48], 'little')}
        self._seed = seed
        self._bits = bits
        self._np = np.random.Generator(bits)
        return self

    def clone_state(self):
        """A new generator on the same device in this generator's state."""
        other = Generator(self._device)
        other.set_state(self.get_state())
        return other

    def __getstate__(self):
        return {'device': str(self._device), 'state': np.asarray(self.get_state()).tobytes()}

    def __setstate__(self, saved):
        import ember
        self._device = as_device(saved['device'])
        self._reseed(DEFAULT_SEED)
        self.set_state(ember.tensor(np.frombuffer(saved['state'], dtype=np.uint8).copy()))

    def __repr__(self):
        return f'<ember.Generator object on {self._device}>'


default_generator = Generator()
_device_generators = {}  # default generators of non-cpu devices, made on first use
_last_seed = [None]


def generator_for(device):
    """The default generator for tensors on ``device``."""
    if device.type == 'cpu':
        return default_generator
    key = (device.type, device.index or 0)
    gen = _device_generators.get(key)
    if gen is None:
        gen = _device_generators[key] = Generator(device)
        if _last_seed[0] is not None:
            gen.manual_seed(_last_seed[0])
    return gen


def manual_seed(seed):
    """Seeds the default generators (cpu and every device) and returns the cpu one."""
    seed = _check_seed(seed, strict=False)
    _last_seed[0] = seed
    for gen in _device_generators.values():
        gen.manual_seed(seed)
    return default_generator.manual_seed(seed)


def seed():
    """Seeds the default generators non-deterministically and returns the seed."""
    value = default_generator.seed()
    _last_seed[0] = value
    for gen in _device_generators.values():
        gen.manual_seed(value)
    return value


def initial_seed():
    """The initial seed of the default (cpu) generator."""
    return default_generator.initial_seed()


def get_rng_state():
    """The default generator's state as a uint8 tensor."""
    return default_generator.get_state()


def set_rng_state(new_state):
    """Restores the default generator's state from ``get_rng_state()``."""
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller='fork_rng', _devices_kw='devices', device_type='cuda'):
    """Context manager: random draws inside it leave the default generators' states as they were.

    Args:
        devices: device indices whose generators are also forked (default: all in use).
        enabled: if False, the context manager does nothing.
    """
    if not enabled:
        yield
        return
    saved_cpu = default_generator.get_state()
    saved_devices = {key: gen.get_state() for key, gen in _device_generators.items()
                     if devices is None or key[1] in devices}
    try:
        yield
    finally:
        default_generator.set_state(saved_cpu)
        for key, state in saved_devices.items():
            _device_generators[key].set_state(state)
