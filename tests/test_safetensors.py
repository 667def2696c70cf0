"""ember.utils.safetensors: the format written and read by hand, checked against the safetensors package."""
import json
import struct

import numpy as np
import pytest

import ember
from ember.utils import safetensors as st

try:
    import safetensors.numpy as snp
except ImportError:
    snp = None

requires_safetensors = pytest.mark.skipif(snp is None, reason="the safetensors package is not installed")

DTYPES = {'bool': 'BOOL', 'uint8': 'U8', 'int8': 'I8', 'int16': 'I16', 'int32': 'I32', 'int64': 'I64',
          'float16': 'F16', 'bfloat16': 'BF16', 'float32': 'F32', 'float64': 'F64', 'complex64': 'C64'}


def _tensors():
    rng = np.random.default_rng(0)
    out = {}
    for name in DTYPES:
        values = rng.standard_normal((2, 3)) * 5
        if name == 'bool':
            values = values > 0
        elif name == 'complex64':
            values = values + 1j
        out[name] = ember.tensor(values).to(getattr(ember, name))
    out['scalar'] = ember.tensor(3.5)
    out['empty'] = ember.zeros(0, 4)
    return out


def _equal(a, b):
    return a.dtype is b.dtype and a.shape == b.shape and bool((a == b).all()) if a.numel() else a.shape == b.shape


def test_bytes_roundtrip_every_dtype():
    tensors = _tensors()
    out = st.load(st.save(tensors, metadata={'format': 'pt'}))
    assert set(out) == set(tensors)
    for name, t in tensors.items():
        assert _equal(out[name], t), name


def test_layout_of_the_file():
    data = st.save({'b': ember.ones(3, dtype=ember.int8), 'a': ember.zeros(2)}, metadata={'k': 'v'})
    n = struct.unpack('<Q', data[:8])[0]
    assert n % 8 == 0
    header = json.loads(data[8:8 + n])
    assert header['__metadata__'] == {'k': 'v'}
    assert header['a'] == {'dtype': 'F32', 'shape': [2], 'data_offsets': [0, 8]}
    assert header['b'] == {'dtype': 'I8', 'shape': [3], 'data_offsets': [8, 11]}
    assert len(data) == 8 + n + 11 and data[8:8 + n].rstrip(b' ').endswith(b'}')


def test_file_roundtrip_and_safe_open(tmp_path):
    path = tmp_path / 'model.safetensors'
    tensors = _tensors()
    st.save_file(tensors, path, metadata={'step': '3'})
    out = st.load_file(path)
    for name, t in tensors.items():
        assert _equal(out[name], t), name
    with st.safe_open(path, framework='pt') as f:
        assert f.metadata() == {'step': '3'} and set(f.keys()) == set(tensors)
        assert _equal(f.get_tensor('float32'), tensors['float32'])
    out['float32'][0, 0] = 100.0            # loaded tensors own their memory: saving them again works
    st.save_file(out, tmp_path / 'again.safetensors')


def test_shared_and_non_contiguous_tensors_are_refused():
    base = ember.arange(6.0)
    with pytest.raises(RuntimeError, match='share memory'):
        st.save({'a': base, 'b': base[2:]})
    with pytest.raises(ValueError, match='non contiguous'):
        st.save({'t': base.view(2, 3).t()})
    with pytest.raises(st.SafetensorError, match='complex128'):
        st.save({'c': ember.zeros(2, dtype=ember.complex128)})
    with pytest.raises(ValueError, match='metadata'):
        st.save({'a': base}, metadata={'k': 1})


@pytest.mark.parametrize('damage', ['short', 'huge_header', 'bad_json', 'bad_offsets', 'bad_dtype', 'truncated',
                                    'gap'])
def test_damaged_buffers_raise(damage):
    data = bytearray(st.save({'a': ember.ones(4), 'b': ember.zeros(2)}))
    n = struct.unpack('<Q', data[:8])[0]
    header = json.loads(data[8:8 + n])
    if damage == 'short':
        data = data[:5]
    elif damage == 'huge_header':
        data[:8] = struct.pack('<Q', 10 ** 12)
    elif damage == 'bad_json':
        data[9] = ord('#')
    elif damage == 'truncated':
        data = data[:-3]
    else:
        if damage == 'bad_offsets':
            header['a']['data_offsets'] = [0, 4]
        elif damage == 'bad_dtype':
            header['a']['dtype'] = 'F128'
        else:
            header['b']['data_offsets'] = [20, 28]
        text = json.dumps(header).encode()
        text += b' ' * (-len(text) % 8)
        data = struct.pack('<Q', len(text)) + text + data[8 + n:] + (b'\0' * 4 if damage == 'gap' else b'')
    with pytest.raises(st.SafetensorError):
        st.load(bytes(data))


@requires_safetensors
def test_interchange_with_the_safetensors_package(tmp_path):
    tensors = {k: v for k, v in _tensors().items() if k != 'bfloat16'}
    st.save_file(tensors, tmp_path / 'ember.safetensors', metadata={'who': 'ember'})
    loaded = snp.load_file(str(tmp_path / 'ember.safetensors'))
    for name, t in tensors.items():
        np.testing.assert_array_equal(loaded[name], t.numpy())
    arrays = {'w': np.arange(12, dtype=np.float32).reshape(3, 4), 'i': np.arange(5, dtype=np.int64),
              'h': np.ones(3, dtype=np.float16), 'm': np.array([True, False])}
    snp.save_file(arrays, str(tmp_path / 'lib.safetensors'), metadata={'who': 'lib'})
    out = st.load_file(tmp_path / 'lib.safetensors')
    for name, a in arrays.items():
        np.testing.assert_array_equal(out[name].numpy(), a)
    assert st.load(snp.save(arrays))['w'].numpy().tolist() == arrays['w'].tolist()
