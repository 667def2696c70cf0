"""``ember.cuda``: CUDA devices through CuPy.

This installation has CUDA support only when CuPy is importable and sees a
GPU; otherwise ``is_available()`` is False and the rest answers as PyTorch's
CPU-only builds do.
"""


def _cupy():
    try:
        import cupy
        return cupy
    except Exception:  # ImportError, or a broken CUDA install
        return None


def is_available():
    """True if a CUDA device can be used (CuPy installed and a GPU present)."""
    cp = _cupy()
    if cp is None:
        return False
    try:
        return cp.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def device_count():
    """Number of CUDA devices (0 without CuPy or GPU)."""
    cp = _cupy()
    if cp is None:
        return 0
    try:
        return cp.cuda.runtime.getDeviceCount()
    except Exception:
        return 0


def _require():
    if not is_available():
        raise RuntimeError("Torch not compiled with CUDA enabled (ember needs cupy and a GPU for cuda)")
    return _cupy()


def current_device():
    return _require().cuda.Device().id


def set_device(device):
    import ember
    index = ember.device(device).index if not isinstance(device, int) else device
    _require().cuda.Device(index or 0).use()


def get_device_name(device=None):
    cp = _require()
    index = 0 if device is None else (device if isinstance(device, int) else (device.index or 0))
    return cp.cuda.runtime.getDeviceProperties(index)['name'].decode()


def synchronize(device=None):
    """Waits for all work on the device to finish (no-op without CUDA)."""
    cp = _cupy()
    if cp is not None and is_available():
        cp.cuda.Stream.null.synchronize()


def manual_seed(seed):
    """Seeds the CUDA generators (a no-op without CUDA, as in PyTorch)."""


def manual_seed_all(seed):
    """Seeds all CUDA generators (a no-op without CUDA, as in PyTorch)."""


def empty_cache():
    cp = _cupy()
    if cp is not None and is_available():
        cp.get_default_memory_pool().free_all_blocks()


def memory_allocated(device=None):
    cp = _cupy()
    if cp is None or not is_available():
        return 0
    return cp.get_default_memory_pool().used_bytes()


def is_bf16_supported(including_emulation=True):
    return is_available()
