"""Top-level names outside the op table (finfo/iinfo, threads, cuda/backends stubs) and the
``python -m ember.run`` runner for unmodified PyTorch scripts."""
import os
import subprocess
import sys
import textwrap

import pytest

import ember
from tests.conftest import requires_torch, torch


@requires_torch
@pytest.mark.parametrize('name', ['float16', 'bfloat16', 'float32', 'float64'])
def test_finfo_matches_torch(name):
    ours, ref = ember.finfo(getattr(ember, name)), torch.finfo(getattr(torch, name))
    for attr in ('bits', 'eps', 'max', 'min', 'tiny', 'resolution'):
        assert getattr(ours, attr) == pytest.approx(getattr(ref, attr)), attr
    assert repr(ours) == repr(ref)


@requires_torch
@pytest.mark.parametrize('name', ['uint8', 'int8', 'int16', 'int32', 'int64'])
def test_iinfo_matches_torch(name):
    ours, ref = ember.iinfo(getattr(ember, name)), torch.iinfo(getattr(torch, name))
    assert (ours.bits, ours.min, ours.max) == (ref.bits, ref.min, ref.max)
    with pytest.raises(TypeError):
        ember.iinfo(ember.float32)


def test_is_nonzero_and_friends():
    assert ember.is_nonzero(ember.tensor([2.0])) and not ember.is_nonzero(ember.tensor(0))
    with pytest.raises(RuntimeError, match='more than one value'):
        ember.is_nonzero(ember.tensor([1, 2]))
    assert ember.is_same_size(ember.zeros(2, 3), ember.ones(2, 3))
    assert ember.typename(ember.zeros(2)) == 'torch.FloatTensor'
    model = ember.nn.Linear(2, 2)
    assert ember.compile(model) is model
    assert ember.get_num_threads() >= 1


def test_cuda_and_backends_answer_like_a_cpu_build():
    if ember.cuda.is_available():
        pytest.skip('a GPU is present')
    assert ember.cuda.device_count() == 0
    ember.cuda.manual_seed_all(0)
    ember.cuda.synchronize()
    with pytest.raises(RuntimeError, match='CUDA'):
        ember.cuda.current_device()
    ember.backends.cudnn.benchmark = True
    assert ember.backends.mps.is_available() is False


def test_ember_run_executes_an_unmodified_torch_script(tmp_path):
    script = tmp_path / 'train.py'
    script.write_text(textwrap.dedent('''
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        from torch.utils.data import DataLoader, TensorDataset
        torch.manual_seed(0)
        x = torch.randn(64, 4)
        y = (x.sum(1) > 0).long()
        model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
        opt = torch.optim.SGD(model.parameters(), lr=0.5)
        for _ in range(20):
            for xb, yb in DataLoader(TensorDataset(x, y), batch_size=16):
                opt.zero_grad()
                loss = F.cross_entropy(model(xb), yb)
                loss.backward()
                opt.step()
        print(torch.__name__, loss.item() < 0.3)
    '''))
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run([sys.executable, '-m', 'ember.run', str(script)], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ['ember', 'True']
