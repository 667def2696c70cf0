"""``ember.backends``: the switches PyTorch scripts commonly set (accepted; NumPy needs none)."""
import types

cudnn = types.SimpleNamespace(benchmark=False, deterministic=False, enabled=True, allow_tf32=True,
                              is_available=lambda: False, version=lambda: None)
mps = types.SimpleNamespace(is_available=lambda: False, is_built=lambda: False)
cuda = types.SimpleNamespace(matmul=types.SimpleNamespace(allow_tf32=False), is_built=lambda: False)
mkldnn = types.SimpleNamespace(enabled=False, is_available=lambda: False)
openmp = types.SimpleNamespace(is_available=lambda: False)
