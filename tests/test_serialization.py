"""ember.save / ember.load: PyTorch's checkpoint format, both ways, safe loading, damaged files, atomic writes."""
import collections
import copy
import io
import os
import pathlib
import pickle
import signal
import struct
import subprocess
import sys
import textwrap
import time
import zipfile

import numpy as np
import pytest

import ember
from ember.serialization import _zipformat
from tests.conftest import requires_torch, torch

DTYPES = ['bool', 'uint8', 'int8', 'int16', 'int32', 'int64', 'float16', 'bfloat16', 'float32', 'float64',
          'complex64', 'complex128']


def _values(dtype_name, shape=(3, 4), seed=0):
    rng = np.random.default_rng(seed)
    base = rng.standard_normal(shape) * 10
    if dtype_name == 'bool':
        return base > 0
    if dtype_name.startswith('complex'):
        return (base + 1j * rng.standard_normal(shape)).astype(dtype_name)
    if dtype_name == 'bfloat16':
        return base.astype(np.float32)
    return base.astype(dtype_name)


def _ember_tensor(dtype_name, shape=(3, 4), seed=0):
    return ember.tensor(_values(dtype_name, shape, seed)).to(getattr(ember, dtype_name))


def _torch_tensor(dtype_name, shape=(3, 4), seed=0):
    return torch.from_numpy(np.ascontiguousarray(_values(dtype_name, shape, seed))).to(getattr(torch, dtype_name))


def _as_numpy(t):
    """float64/complex128/bool view of an ember or torch tensor, for comparisons (bfloat16 included)."""
    if t.dtype.is_complex:
        return np.asarray(t.to(ember.complex128 if isinstance(t, ember.Tensor) else torch.complex128).numpy())
    if isinstance(t, ember.Tensor):
        return np.asarray(t.detach().to(ember.float64 if t.dtype is not ember.bool else ember.bool).numpy())
    return t.detach().to(torch.float64 if t.dtype is not torch.bool else torch.bool).numpy()


def _roundtrip(obj, **load_kwargs):
    buffer = io.BytesIO()
    ember.save(obj, buffer)
    buffer.seek(0)
    return ember.load(buffer, **load_kwargs)


def _shares_memory(a, b):
    return np.shares_memory(a._data, b._data)


# ---------------------------------------------------------------------------------------------- ember <-> ember
@pytest.mark.parametrize('dtype_name', DTYPES)
def test_roundtrip_every_dtype(dtype_name):
    t = _ember_tensor(dtype_name)
    out = _roundtrip({'t': t, 'scalar': t[0, 0], 'empty': t[:0]})
    assert out['t'].dtype is t.dtype and out['t'].shape == t.shape
    np.testing.assert_array_equal(_as_numpy(out['t']), _as_numpy(t))
    assert out['scalar'].shape == () and out['empty'].shape == (0, 4)


def test_roundtrip_containers_and_values():
    obj = collections.OrderedDict(
        nested={'list': [1, 2.5, 'three', None, True, False], 'tuple': (ember.ones(2), (ember.zeros(1),))},
        size=ember.Size([2, 3]), dtype=ember.float16, device=ember.device('cpu'), bytes=b'\x00\xffabc',
        big=2 ** 70, neg=-5, complex=1 + 2j, set={1, 2}, text='ünïcode')
    out = _roundtrip(obj)
    assert type(out) is collections.OrderedDict and list(out) == list(obj)
    assert out['nested']['list'] == [1, 2.5, 'three', None, True, False]
    assert isinstance(out['size'], ember.Size) and out['size'] == (2, 3)
    assert out['dtype'] is ember.float16 and out['device'] == ember.device('cpu')
    assert out['bytes'] == b'\x00\xffabc' and out['big'] == 2 ** 70 and out['complex'] == 1 + 2j
    assert out['set'] == {1, 2} and out['text'] == 'ünïcode'
    assert out['nested']['tuple'][1][0].equal(ember.zeros(1))


def test_views_share_one_storage_after_load():
    base = ember.arange(24, dtype=ember.float32)
    views = {'base': base, 'slice': base[4:16].view(3, 4), 'transposed': base.view(4, 6).t(),
             'strided': base[1::3], 'alias': base.detach()}
    buffer = io.BytesIO()
    ember.save(views, buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as z:
        assert [n for n in z.namelist() if '/data/' in n] == ['archive/data/0']     # stored once
    buffer.seek(0)
    out = ember.load(buffer)
    for name, t in views.items():
        np.testing.assert_array_equal(out[name].numpy(), t.numpy())
        assert out[name].stride() == t.stride() and out[name].storage_offset() == t.storage_offset()
    out['base'][5] = -1.0
    assert out['slice'][0, 1].item() == -1.0 and _shares_memory(out['base'], out['transposed'])


def test_parameter_and_requires_grad():
    p = ember.nn.Parameter(ember.randn(3, 2))
    frozen = ember.nn.Parameter(ember.randn(2), requires_grad=False)
    leaf = ember.randn(4).requires_grad_()
    out = _roundtrip({'p': p, 'frozen': frozen, 'leaf': leaf})
    assert isinstance(out['p'], ember.nn.Parameter) and out['p'].requires_grad
    assert isinstance(out['frozen'], ember.nn.Parameter) and not out['frozen'].requires_grad
    assert type(out['leaf']) is ember.Tensor and out['leaf'].requires_grad and out['leaf'].is_leaf
    np.testing.assert_array_equal(out['p'].detach().numpy(), p.detach().numpy())


class _TwoLayer(ember.nn.Module):
    def __init__(self):
        super().__init__()
        self.w1 = ember.nn.Parameter(ember.randn(4, 3))
        self.w2 = ember.nn.Parameter(ember.randn(2, 4))
        self.register_buffer('steps', ember.tensor(7))

    def forward(self, x):
        return (x @ self.w1.t()).relu() @ self.w2.t()


def test_module_and_optimizer_state_dicts():
    model = _TwoLayer()
    opt = ember.optim.Adam(model.parameters(), lr=0.01)
    sgd = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for optimizer in (opt, sgd):
        optimizer.zero_grad()
        model(ember.randn(5, 3)).sum().backward()
        optimizer.step()
    out = _roundtrip({'model': model.state_dict(), 'adam': opt.state_dict(), 'sgd': sgd.state_dict()})
    assert list(out['model']) == list(model.state_dict())
    restored = _TwoLayer()
    restored.load_state_dict(out['model'])
    for (_, a), (_, b) in zip(restored.state_dict().items(), model.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    opt2 = ember.optim.Adam(restored.parameters(), lr=0.5)
    opt2.load_state_dict(out['adam'])
    assert opt2.param_groups[0]['lr'] == 0.01
    np.testing.assert_array_equal(opt2.state_dict()['state'][0]['exp_avg'].numpy(),
                                  opt.state_dict()['state'][0]['exp_avg'].numpy())
    assert out['sgd']['param_groups'][0]['momentum'] == 0.9


@pytest.mark.skipif(not hasattr(ember.nn, 'Linear'), reason="ember.nn.Linear not available yet")
def test_linear_state_dict_roundtrip():
    layer = ember.nn.Linear(3, 2)
    out = _roundtrip(layer.state_dict())
    fresh = ember.nn.Linear(3, 2)
    fresh.load_state_dict(out)
    np.testing.assert_array_equal(fresh.weight.detach().numpy(), layer.weight.detach().numpy())


def test_plain_pickle_and_copy_of_tensors():
    t = _ember_tensor('bfloat16')
    g = ember.randn(3).requires_grad_()
    for clone in (pickle.loads(pickle.dumps(t)), copy.copy(t)):
        assert clone.dtype is ember.bfloat16 and not _shares_memory(clone, t)
        np.testing.assert_array_equal(_as_numpy(clone), _as_numpy(t))
    assert pickle.loads(pickle.dumps(g)).requires_grad


# ---------------------------------------------------------------------------------------------- files and streams
def test_paths_file_objects_and_archive_name(tmp_path):
    data = {'x': ember.arange(5)}
    target = tmp_path / 'my.ckpt.pt'
    ember.save(data, str(target))
    ember.save(data, tmp_path / 'other.pt')
    with open(tmp_path / 'handle.pt', 'wb') as f:
        ember.save(data, f)
    with zipfile.ZipFile(target) as z:
        assert z.namelist()[0] == 'my.ckpt/data.pkl'
        assert z.read('my.ckpt/version') == b'3\n' and z.read('my.ckpt/byteorder') == b'little'
        assert z.read('my.ckpt/.format_version') == b'1' and z.read('my.ckpt/.storage_alignment') == b'64'
        assert len(z.read('my.ckpt/.data/serialization_id')) == 40
    with zipfile.ZipFile(tmp_path / 'handle.pt') as z:
        assert z.namelist()[0] == 'archive/data.pkl'
    for source in (str(target), pathlib.Path(tmp_path / 'other.pt'), open(tmp_path / 'handle.pt', 'rb')):
        assert ember.load(source)['x'].equal(ember.arange(5))

    class ReadOnlyStream:       # no seek, no readinto
        def __init__(self, raw):
            self._raw = io.BytesIO(raw)

        def read(self, n=-1):
            return self._raw.read(n)

    assert ember.load(ReadOnlyStream(target.read_bytes()))['x'].equal(ember.arange(5))


def test_records_are_64_byte_aligned():
    buffer = io.BytesIO()
    ember.save({'a': ember.ones(3), 'b': ember.ones(7, dtype=ember.float64), 'c': ember.ones(1, dtype=ember.int8)},
               buffer)
    raw = buffer.getvalue()
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        for info in z.infolist():
            name_len, extra_len = struct.unpack('<HH', raw[info.header_offset + 26:info.header_offset + 30])
            assert (info.header_offset + 30 + name_len + extra_len) % 64 == 0, info.filename


def test_mmap_loads_without_reading_and_is_copy_on_write(tmp_path):
    path = tmp_path / 'm.pt'
    original = ember.arange(1000, dtype=ember.float32)
    ember.save({'w': original, 'half': original[500:]}, path)
    before = path.read_bytes()
    out = ember.load(path, mmap=True)
    assert out['w'].equal(original) and _shares_memory(out['w'], out['half'])
    owner = out['w']._data
    while isinstance(owner.base, np.ndarray):
        owner = owner.base
    assert not isinstance(owner.base, (bytes, bytearray)) and owner.base is not None   # an mmap, not a copy
    out['w'][0] = 123.0
    assert path.read_bytes() == before
    with pytest.raises(ValueError, match='file path'):
        ember.load(io.BytesIO(before), mmap=True)


def test_map_location_forms(tmp_path):
    path = tmp_path / 'm.pt'
    ember.save({'w': ember.ones(3)}, path)
    seen = []

    def keep(storage, location):
        seen.append(location)
        return storage

    for location in ('cpu', ember.device('cpu'), {'cuda:0': 'cpu'}, keep, lambda s, loc: None):
        assert ember.load(path, map_location=location)['w'].equal(ember.ones(3))
    assert seen == ['cpu']
    if not ember.backend._BACKENDS.get('cuda'):
        with pytest.raises(RuntimeError, match='CUDA'):
            ember.load(path, map_location={'cpu': 'cuda:0'})
    with pytest.raises(ValueError, match='map_location'):
        ember.load(path, map_location=3.5)


def test_legacy_format_written_and_read(tmp_path):
    base = ember.arange(6, dtype=ember.int16)
    obj = {'a': base, 'v': base[2:5]}
    path = tmp_path / 'old.pt'
    ember.save(obj, path, _use_new_zipfile_serialization=False)
    out = ember.load(path)
    assert out['v'].equal(obj['v']) and _shares_memory(out['a'], out['v'])
    with pytest.raises(RuntimeError, match='mmap'):
        ember.load(path, mmap=True)


def test_zip64_records_are_readable(monkeypatch):
    monkeypatch.setattr(_zipformat, 'ZIP64_LIMIT', 16)
    obj = {'big': ember.arange(100, dtype=ember.float32), 'small': ember.ones(2)}
    buffer = io.BytesIO()
    ember.save(obj, buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as z:
        assert z.testzip() is None
    buffer.seek(0)
    assert ember.load(buffer)['big'].equal(obj['big'])
    if torch is not None:
        buffer.seek(0)
        assert torch.load(buffer)['big'].tolist() == obj['big'].tolist()


# ---------------------------------------------------------------------------------------------- safety
def _pickle_bytes_archive(pickle_data):
    buffer = io.BytesIO()
    writer = _zipformat.ArchiveWriter(buffer, 'archive')
    writer.write_record('data.pkl', pickle_data)
    writer.write_record('version', b'3\n')
    writer.finish()
    buffer.seek(0)
    return buffer


def test_weights_only_refuses_code_and_names_the_global(tmp_path):
    marker = tmp_path / 'pwned'
    payload = f"cos\nsystem\n(S'touch {marker}'\ntR.".encode()
    with pytest.raises(pickle.UnpicklingError, match=r'(?s)Weights only load failed.*GLOBAL os\.system'):
        ember.load(_pickle_bytes_archive(payload))
    assert not marker.exists()


class _Custom:
    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        return isinstance(other, _Custom) and other.value == self.value


def test_safe_globals_allowlist():
    data = {'cfg': _Custom(3), 't': ember.ones(2)}
    buffer = io.BytesIO()
    ember.save(data, buffer)
    with pytest.raises(pickle.UnpicklingError, match='_Custom'):
        ember.load(io.BytesIO(buffer.getvalue()))
    assert ember.load(io.BytesIO(buffer.getvalue()), weights_only=False)['cfg'] == _Custom(3)
    assert ember.serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(buffer.getvalue())) == [
        f'{__name__}._Custom']
    with ember.serialization.safe_globals([_Custom]):
        assert ember.load(io.BytesIO(buffer.getvalue()))['cfg'] == _Custom(3)
        assert _Custom in ember.serialization.get_safe_globals()
    assert _Custom not in ember.serialization.get_safe_globals()
    ember.serialization.add_safe_globals([_Custom])
    try:
        assert ember.load(io.BytesIO(buffer.getvalue()))['cfg'] == _Custom(3)
    finally:
        ember.serialization.clear_safe_globals()
    assert ember.serialization.get_safe_globals() == []


def _data_pkl(obj):
    from ember.serialization import _pickle_object
    return _pickle_object(obj, 2)


def test_out_of_bounds_tensor_is_refused():
    # a tensor whose size asks for more elements than its storage holds must not become a wild view
    data, records = _data_pkl({'t': ember.ones(4)})
    hacked = data.replace(b'K\x04\x85', b'K\x40\x85', 1)    # size (4,) -> (64,)
    assert hacked != data
    buffer = io.BytesIO()
    writer = _zipformat.ArchiveWriter(buffer, 'archive')
    writer.write_record('data.pkl', hacked)
    for key, raw in records:
        writer.write_record(f'data/{key}', raw)
    writer.write_record('version', b'3\n')
    writer.finish()
    buffer.seek(0)
    with pytest.raises(RuntimeError, match='needs 64 elements but its storage holds 4'):
        ember.load(buffer)


def test_storage_size_mismatch_is_reported():
    data, records = _data_pkl({'t': ember.ones(4)})
    buffer = io.BytesIO()
    writer = _zipformat.ArchiveWriter(buffer, 'archive')
    writer.write_record('data.pkl', data)
    writer.write_record('data/0', records[0][1][:8])
    writer.finish()
    buffer.seek(0)
    with pytest.raises(RuntimeError, match='storage size mismatch'):
        ember.load(buffer)


@pytest.mark.parametrize('raw, error, match', [
    (b'', RuntimeError, 'empty'),
    (b'hello world, not a checkpoint', pickle.UnpicklingError, 'invalid load key'),
    (b'PK\x03\x04' + b'\x00' * 60, RuntimeError, 'zip archive'),
])
def test_damaged_files_give_clear_errors(raw, error, match):
    with pytest.raises(error, match=match):
        ember.load(io.BytesIO(raw))


def test_truncated_and_corrupted_archives():
    buffer = io.BytesIO()
    ember.save({'w': ember.arange(100, dtype=ember.float32)}, buffer)
    raw = buffer.getvalue()
    for cut in (10, len(raw) // 2, len(raw) - 30):
        with pytest.raises((RuntimeError, pickle.UnpicklingError)):
            ember.load(io.BytesIO(raw[:cut]))
    damaged_directory = raw.replace(b'PK\x01\x02', b'PK\x01\x03', 1)
    with pytest.raises(RuntimeError, match='zip archive'):
        ember.load(io.BytesIO(damaged_directory))
    damaged_pickle = bytearray(raw)
    damaged_pickle[64 + 3] ^= 0xFF          # data.pkl starts at 64; zipfile's CRC check catches it
    with pytest.raises(RuntimeError, match='data.pkl'):
        ember.load(io.BytesIO(bytes(damaged_pickle)))


# ---------------------------------------------------------------------------------------------- atomic writes
def test_failed_save_keeps_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / 'ckpt.pt'
    ember.save({'v': 1}, target)
    good = target.read_bytes()

    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError('boom')

    with pytest.raises(RuntimeError, match='boom'):
        ember.save({'v': Unpicklable()}, target)
    assert target.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ['ckpt.pt']


def test_stale_temp_files_are_removed(tmp_path):
    target = tmp_path / 'ckpt.pt'
    dead = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'], capture_output=True, text=True)
    stale = tmp_path / f'.ckpt.pt.{int(dead.stdout)}.abcd1234.ember-tmp'
    stale.write_bytes(b'partial')
    live = tmp_path / f'.ckpt.pt.{os.getpid()}.beef0000.ember-tmp'
    live.write_bytes(b'in progress')
    ember.save({'v': 2}, target)
    assert not stale.exists() and live.exists()
    assert ember.load(target) == {'v': 2}


def test_kill_during_save_never_leaves_a_broken_checkpoint(tmp_path):
    target = tmp_path / 'ckpt.pt'
    ember.save({'step': -1}, target)
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {os.getcwd()!r})
        import ember
        big = {{f'w{{i}}': ember.ones(200_000) for i in range(8)}}
        step = 0
        print('ready', flush=True)
        while True:
            big['step'] = step
            ember.save(big, {str(target)!r})
            step += 1
    """)
    for delay in (0.05, 0.2, 0.35):
        child = subprocess.Popen([sys.executable, '-c', script], stdout=subprocess.PIPE)
        child.stdout.readline()
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait()
        out = ember.load(target)            # always a complete checkpoint: the old one or a new one
        assert isinstance(out, dict) and 'step' in out
        if out['step'] >= 0:
            assert out['w7'].shape == (200_000,) and out['w7'][-1].item() == 1.0
    ember.save({'step': 'final'}, target)   # the next save clears what the killed writers left
    assert sorted(p.name for p in tmp_path.iterdir()) == ['ckpt.pt']


# ---------------------------------------------------------------------------------------------- interchange with torch
@requires_torch
@pytest.mark.parametrize('weights_only', [True, False])
@pytest.mark.parametrize('legacy', [False, True])
def test_torch_loads_ember_files(weights_only, legacy):
    obj = {name: _ember_tensor(name, seed=i) for i, name in enumerate(DTYPES)}
    base = ember.arange(12, dtype=ember.float32)
    obj.update(view=base[2:10].view(2, 4), base=base, param=ember.nn.Parameter(ember.ones(2)),
               size=ember.Size([4, 5]), dtype=ember.bfloat16, device=ember.device('cpu'),
               nested=collections.OrderedDict(x=[1, (2.0, 'three')], y=None))
    buffer = io.BytesIO()
    ember.save(obj, buffer, _use_new_zipfile_serialization=not legacy)
    buffer.seek(0)
    out = torch.load(buffer, weights_only=weights_only)
    for name in DTYPES:
        assert out[name].dtype == getattr(torch, name)
        np.testing.assert_array_equal(_as_numpy(out[name]), _as_numpy(obj[name]))
    assert out['view'].untyped_storage().data_ptr() == out['base'].untyped_storage().data_ptr()
    assert out['view'].storage_offset() == 2 and out['view'].stride() == (4, 1)
    assert isinstance(out['param'], torch.nn.Parameter) and out['param'].requires_grad
    assert out['size'] == torch.Size([4, 5]) and isinstance(out['size'], torch.Size)
    assert out['dtype'] is torch.bfloat16 and out['device'] == torch.device('cpu')
    assert out['nested'] == collections.OrderedDict(x=[1, (2.0, 'three')], y=None)


@requires_torch
@pytest.mark.parametrize('legacy', [False, True])
def test_ember_loads_torch_files(legacy):
    obj = {name: _torch_tensor(name, seed=i) for i, name in enumerate(DTYPES)}
    base = torch.arange(12.)
    obj.update(view=base[2:10].view(2, 4), t=base.view(3, 4).t(), base=base, size=torch.Size([1, 2]),
               param=torch.nn.Parameter(torch.ones(2)), dtype=torch.float64, device=torch.device('cpu'))
    buffer = io.BytesIO()
    torch.save(obj, buffer, _use_new_zipfile_serialization=not legacy)
    buffer.seek(0)
    out = ember.load(buffer)
    for name in DTYPES:
        assert out[name].dtype is getattr(ember, name)
        np.testing.assert_array_equal(_as_numpy(out[name]), _as_numpy(obj[name]))
    assert _shares_memory(out['view'], out['base']) and _shares_memory(out['t'], out['base'])
    assert out['t'].stride() == (1, 4) and out['view'].storage_offset() == 2
    assert isinstance(out['param'], ember.nn.Parameter) and out['param'].requires_grad
    assert isinstance(out['size'], ember.Size) and out['dtype'] is ember.float64


@requires_torch
def test_files_are_byte_identical_to_torch(tmp_path):
    def make(lib, parameter):
        base = lib.arange(10, dtype=lib.float32)
        return collections.OrderedDict(
            a=base, v=base[2:8].view(2, 3), p=parameter(lib.ones(2, 2)), s=lib.Size([2, 3]), dt=lib.float16,
            dev=lib.device('cpu'), b=lib.tensor([True, False]), n=[1, 2.5, 'x', None, (True,)], by=b'abc',
            many=[lib.full((3,), float(i)) for i in range(20)])
    (tmp_path / 't').mkdir()
    (tmp_path / 'e').mkdir()
    torch.save(make(torch, torch.nn.Parameter), tmp_path / 't' / 'model.pt')
    ember.save(make(ember, ember.nn.Parameter), tmp_path / 'e' / 'model.pt')
    assert (tmp_path / 't' / 'model.pt').read_bytes() == (tmp_path / 'e' / 'model.pt').read_bytes()


@requires_torch
def test_torch_optimizer_state_dict_loads_in_ember():
    model = torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(model.parameters())
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    buffer = io.BytesIO()
    torch.save({'model': model.state_dict(), 'opt': opt.state_dict()}, buffer)
    buffer.seek(0)
    out = ember.load(buffer)
    assert list(out['model']) == ['weight', 'bias']
    np.testing.assert_array_equal(out['model']['weight'].numpy(), model.weight.detach().numpy())
    assert out['opt']['state'][0]['step'].item() == 1.0
    assert out['opt']['param_groups'][0]['betas'] == (0.9, 0.999)
