import numpy as np
import pytest

try:
    import torch
except ImportError:  # the reference is optional for running ember's own checks
    torch = None

requires_torch = pytest.mark.skipif(torch is None, reason="PyTorch (the reference) is not installed")


@pytest.fixture(autouse=True)
def _seed():
    import ember
    if hasattr(ember, 'manual_seed'):
        ember.manual_seed(0)
    np.random.seed(0)
    yield
