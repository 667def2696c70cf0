"""Vision datasets: real file formats served from a local HTTP server, checksums, errors."""
import functools
import gzip
import hashlib
import http.server
import io
import os
import pickle
import tarfile
import threading
import zipfile

import numpy as np
import pytest

import ember
from ember.vision import datasets
from ember.vision.datasets import _matlab
from ember.vision.datasets import utils as dutils

PIL = pytest.importorskip('PIL')
from PIL import Image  # noqa: E402


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture
def server(tmp_path):
    """Serves ``tmp_path/www`` on 127.0.0.1; yields (base_url, folder, log of requested paths)."""
    www = tmp_path / 'www'
    www.mkdir()
    requested = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            requested.append(self.path)
            super().do_GET()

    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Handler, directory=str(www)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f'http://127.0.0.1:{httpd.server_address[1]}/', www, requested
    finally:
        httpd.shutdown()
        httpd.server_close()


def _closed_port_url():
    import socket
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return f'http://127.0.0.1:{port}/'


def _md5(data):
    return hashlib.md5(data).hexdigest()


def _idx(array):
    codes = {np.dtype(np.uint8): 8, np.dtype(np.int32): 12}
    header = bytes([0, 0, codes[array.dtype], array.ndim]) + np.asarray(array.shape, '>i4').tobytes()
    return header + array.astype(array.dtype.newbyteorder('>')).tobytes()


def _mnist_files(n_train=6, n_test=4, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {'train-images-idx3-ubyte': rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              'train-labels-idx1-ubyte': rng.integers(0, 10, n_train).astype(np.uint8),
              't10k-images-idx3-ubyte': rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              't10k-labels-idx1-ubyte': rng.integers(0, 10, n_test).astype(np.uint8)}
    return arrays, {name + '.gz': gzip.compress(_idx(a)) for name, a in arrays.items()}


def _serve_mnist(monkeypatch, cls, base, www, corrupt=None):
    arrays, files = _mnist_files()
    for name, blob in files.items():
        (www / name).write_bytes(blob if name != corrupt else blob[:-3] + b'xyz')
    monkeypatch.setattr(cls, 'mirrors', [_closed_port_url(), base])
    monkeypatch.setattr(cls, 'resources', [(name, _md5(blob)) for name, blob in files.items()])
    return arrays


# ---------------------------------------------------------------------------------- MNIST
@pytest.mark.parametrize('cls', [datasets.MNIST, datasets.FashionMNIST, datasets.KMNIST])
def test_mnist_download_from_second_mirror_and_load(tmp_path, server, monkeypatch, cls):
    base, www, requested = server
    arrays = _serve_mnist(monkeypatch, cls, base, www)
    root = tmp_path / 'data'
    train = cls(str(root), train=True, download=True)
    assert sorted(requested) == sorted('/' + n for n, _ in cls.resources)
    assert train.data.dtype == ember.uint8 and tuple(train.data.shape) == (6, 28, 28)
    assert train.targets.dtype == ember.int64
    np.testing.assert_array_equal(train.data.numpy(), arrays['train-images-idx3-ubyte'])
    np.testing.assert_array_equal(train.targets.numpy(), arrays['train-labels-idx1-ubyte'])
    assert os.path.isfile(root / cls.__name__ / 'raw' / 'train-images-idx3-ubyte')

    img, target = train[2]
    assert isinstance(img, Image.Image) and img.mode == 'L' and img.size == (28, 28)
    np.testing.assert_array_equal(np.asarray(img), arrays['train-images-idx3-ubyte'][2])
    assert target == int(arrays['train-labels-idx1-ubyte'][2]) and isinstance(target, int)
    assert train.class_to_idx[train.classes[3]] == 3

    test = cls(str(root), train=False)  # already there: no new requests
    assert len(test) == 4 and len(requested) == 4
    np.testing.assert_array_equal(test.targets.numpy(), arrays['t10k-labels-idx1-ubyte'])
    assert repr(test) == (f"Dataset {cls.__name__}\n    Number of datapoints: 4\n    Root location: {root}\n"
                          f"    Split: Test")


def test_mnist_transforms_and_repr(tmp_path, server, monkeypatch):
    from ember.vision import transforms as T
    base, www, _ = server
    arrays = _serve_mnist(monkeypatch, datasets.MNIST, base, www)
    ds = datasets.MNIST(tmp_path, download=True, transform=T.ToTensor(), target_transform=lambda t: t + 100)
    x, y = ds[0]
    assert tuple(x.shape) == (1, 28, 28) and x.dtype == ember.float32
    np.testing.assert_allclose(x.numpy()[0], arrays['train-images-idx3-ubyte'][0] / 255.0, rtol=1e-6)
    assert y == int(arrays['train-labels-idx1-ubyte'][0]) + 100
    text = repr(ds)
    assert text.splitlines()[-3:] == ['    StandardTransform', 'Transform: ToTensor()',
                                      f'Target transform: {ds.target_transform!r}']


def test_mnist_bad_md5_fails(tmp_path, server, monkeypatch):
    base, www, _ = server
    _serve_mnist(monkeypatch, datasets.MNIST, base, www, corrupt='train-labels-idx1-ubyte.gz')
    with pytest.raises(RuntimeError, match='train-labels-idx1-ubyte.gz') as info:
        datasets.MNIST(tmp_path, download=True)
    assert 'MD5' in str(info.value) and 'corrupted' in str(info.value)
    assert not os.path.exists(tmp_path / 'MNIST' / 'raw' / 'train-labels-idx1-ubyte.gz')


def test_mnist_not_found_without_download(tmp_path):
    with pytest.raises(RuntimeError, match='Dataset not found. You can use download=True to download it'):
        datasets.MNIST(tmp_path, train=True, download=False)


def test_mnist_offline_error_names_every_url(tmp_path, monkeypatch):
    urls = [_closed_port_url(), _closed_port_url()]
    monkeypatch.setattr(datasets.MNIST, 'mirrors', urls)
    with pytest.raises(RuntimeError) as info:
        datasets.MNIST(tmp_path, download=True)
    message = str(info.value)
    assert 'Error downloading train-images-idx3-ubyte.gz' in message
    for url in urls:
        assert url + 'train-images-idx3-ubyte.gz' in message


def test_emnist_zip_download(tmp_path, server, monkeypatch):
    base, www, _ = server
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    labels = rng.integers(1, 27, 5).astype(np.uint8)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, 'w') as z:
        z.writestr('gzip/emnist-letters-train-images-idx3-ubyte.gz', gzip.compress(_idx(images)))
        z.writestr('gzip/emnist-letters-train-labels-idx1-ubyte.gz', gzip.compress(_idx(labels)))
        z.writestr('gzip/emnist-letters-mapping.txt', '1 65 97\n')
    (www / 'gzip.zip').write_bytes(buffer.getvalue())
    monkeypatch.setattr(datasets.EMNIST, 'url', base + 'gzip.zip')
    monkeypatch.setattr(datasets.EMNIST, 'mirrors', [])
    monkeypatch.setattr(datasets.EMNIST, 'md5', _md5(buffer.getvalue()))
    ds = datasets.EMNIST(tmp_path, split='letters', download=True)
    np.testing.assert_array_equal(ds.data.numpy(), images)
    np.testing.assert_array_equal(ds.targets.numpy(), labels)
    assert ds.classes[:3] == ['N/A', 'a', 'b'] and len(datasets.EMNIST.classes_split_dict['byclass']) == 62
    assert not os.path.exists(tmp_path / 'EMNIST' / 'raw' / 'gzip')
    with pytest.raises(ValueError, match="Unknown value 'nope' for argument split"):
        datasets.EMNIST(tmp_path, split='nope')


def test_idx_reader_rejects_garbage(tmp_path):
    from ember.vision.datasets.mnist import read_image_file
    path = tmp_path / 'bad'
    path.write_bytes(b'\x01\x02\x03\x04junk')
    with pytest.raises(RuntimeError, match='not an IDX file'):
        read_image_file(str(path))


# ---------------------------------------------------------------------------------- CIFAR
def _cifar_archive(folder, batches, meta_name, meta_key, label_key, classes, rng):
    contents, expected = {}, {}
    for name, n in batches:
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, len(classes), n)]
        contents[name] = pickle.dumps({'batch_label': name, label_key: labels, 'data': data}, protocol=2)
        expected[name] = (data, labels)
    contents[meta_name] = pickle.dumps({meta_key: classes}, protocol=2)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode='w:gz') as tar:
        for name, blob in contents.items():
            info = tarfile.TarInfo(f'{folder}/{name}')
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return buffer.getvalue(), {name: _md5(blob) for name, blob in contents.items()}, expected


def test_cifar10_download_extract_load(tmp_path, server, monkeypatch):
    base, www, _ = server
    classes = ['airplane', 'automobile', 'bird']
    rng = np.random.default_rng(1)
    batches = [(f'data_batch_{i}', 2) for i in range(1, 6)] + [('test_batch', 3)]
    blob, md5s, expected = _cifar_archive('cifar-10-batches-py', batches, 'batches.meta', 'label_names', 'labels',
                                          classes, rng)
    (www / 'cifar-10-python.tar.gz').write_bytes(blob)
    cls = datasets.CIFAR10
    monkeypatch.setattr(cls, 'url', base + 'cifar-10-python.tar.gz')
    monkeypatch.setattr(cls, 'tgz_md5', _md5(blob))
    monkeypatch.setattr(cls, 'train_list', [[n, md5s[n]] for n, _ in batches[:5]])
    monkeypatch.setattr(cls, 'test_list', [['test_batch', md5s['test_batch']]])
    monkeypatch.setattr(cls, 'meta', {'filename': 'batches.meta', 'key': 'label_names', 'md5': md5s['batches.meta']})

    train = cls(tmp_path, train=True, download=True)
    assert isinstance(train.data, np.ndarray) and train.data.shape == (10, 32, 32, 3) and train.data.dtype == np.uint8
    raw = np.concatenate([expected[n][0] for n, _ in batches[:5]])
    np.testing.assert_array_equal(train.data, raw.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    assert train.targets == sum((expected[n][1] for n, _ in batches[:5]), [])
    assert train.classes == classes and train.class_to_idx == {'airplane': 0, 'automobile': 1, 'bird': 2}
    img, target = train[4]
    assert img.mode == 'RGB' and img.size == (32, 32) and target == train.targets[4]
    np.testing.assert_array_equal(np.asarray(img), train.data[4])

    test = cls(tmp_path, train=False)
    assert len(test) == 3 and test.targets == expected['test_batch'][1]


def test_cifar100_fine_labels(tmp_path, server, monkeypatch):
    base, www, _ = server
    classes = [f'c{i}' for i in range(100)]
    blob, md5s, expected = _cifar_archive('cifar-100-python', [('train', 4), ('test', 2)], 'meta', 'fine_label_names',
                                          'fine_labels', classes, np.random.default_rng(2))
    (www / 'c100.tgz').write_bytes(blob)
    cls = datasets.CIFAR100
    monkeypatch.setattr(cls, 'url', base + 'c100.tgz')
    monkeypatch.setattr(cls, 'filename', 'c100.tgz')
    monkeypatch.setattr(cls, 'tgz_md5', _md5(blob))
    monkeypatch.setattr(cls, 'train_list', [['train', md5s['train']]])
    monkeypatch.setattr(cls, 'test_list', [['test', md5s['test']]])
    monkeypatch.setattr(cls, 'meta', {'filename': 'meta', 'key': 'fine_label_names', 'md5': md5s['meta']})
    ds = cls(tmp_path, train=False, download=True)
    assert ds.targets == expected['test'][1] and len(ds.classes) == 100


def test_cifar_missing_and_bad_archive(tmp_path, server, monkeypatch):
    base, www, _ = server
    with pytest.raises(RuntimeError, match='Dataset not found or corrupted. You can use download=True'):
        datasets.CIFAR10(tmp_path)
    (www / 'cifar-10-python.tar.gz').write_bytes(b'not the archive')
    monkeypatch.setattr(datasets.CIFAR10, 'url', base + 'cifar-10-python.tar.gz')
    with pytest.raises(RuntimeError, match='MD5'):
        datasets.CIFAR10(tmp_path, download=True)


def test_cifar_unpickler_refuses_code(tmp_path):
    from ember.vision.datasets.cifar import _load_batch
    path = tmp_path / 'evil'
    path.write_bytes(pickle.dumps(os.system, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match='not allowed'):
        _load_batch(str(path))


# ----------------------------------------------------------------------------------- SVHN
@pytest.mark.parametrize('compress', [False, True])
def test_svhn_mat_download_and_load(tmp_path, server, monkeypatch, compress):
    base, www, _ = server
    rng = np.random.default_rng(4)
    X = rng.integers(0, 256, (32, 32, 3, 7), dtype=np.uint8)
    y = np.array([[1], [10], [3], [10], [5], [9], [2]], dtype=np.float64)
    path = www / 'test_32x32.mat'
    _matlab.savemat(str(path), {'X': X, 'y': y}, compress=compress, stored_as={'y': np.uint8})
    blob = path.read_bytes()
    monkeypatch.setattr(datasets.SVHN, 'split_list', {'test': [base + 'test_32x32.mat', 'test_32x32.mat', _md5(blob)]})
    ds = datasets.SVHN(tmp_path, split='test', download=True)
    assert ds.data.shape == (7, 3, 32, 32) and ds.data.dtype == np.uint8
    np.testing.assert_array_equal(ds.data, X.transpose(3, 2, 0, 1))
    np.testing.assert_array_equal(ds.labels, [1, 0, 3, 0, 5, 9, 2])
    img, target = ds[1]
    assert img.mode == 'RGB' and target == 0
    np.testing.assert_array_equal(np.asarray(img), X[:, :, :, 1])
    assert 'Split: test' in repr(ds)


def test_svhn_not_found(tmp_path):
    with pytest.raises(RuntimeError, match='Dataset not found or corrupted'):
        datasets.SVHN(tmp_path, split='train')


def test_matlab_reader_matches_scipy(tmp_path):
    sio = pytest.importorskip('scipy.io')
    rng = np.random.default_rng(5)
    arrays = {'X': rng.integers(0, 256, (4, 5, 3, 2), dtype=np.uint8), 'y': rng.random((3, 1)),
              'z': rng.integers(-5, 5, (2, 3)).astype(np.int16)}
    for compress in (False, True):
        path = str(tmp_path / f'a{compress}.mat')
        sio.savemat(path, {**arrays, 'name': 'text'}, do_compression=compress)
        got = _matlab.loadmat(path)
        for key, value in arrays.items():
            np.testing.assert_array_equal(got[key], value)
            assert got[key].dtype == value.dtype
        assert got['__skipped__'] == ['name']
        _matlab.savemat(path, arrays, compress=compress)
        back = sio.loadmat(path)
        for key, value in arrays.items():
            np.testing.assert_array_equal(back[key], value)


# ------------------------------------------------------------------------- folder / fake
def _make_tree(root):
    colours = {'cat': [(255, 0, 0), (0, 255, 0)], 'dog': [(0, 0, 255)]}
    for cls, cols in colours.items():
        os.makedirs(root / cls / 'sub')
        for k, c in enumerate(cols):
            Image.new('RGB', (5, 4), c).save(root / cls / f'{k}.png')
        (root / cls / 'notes.txt').write_text('skip me')
    Image.new('L', (5, 4), 7).save(root / 'dog' / 'sub' / 'gray.bmp')


def test_image_folder(tmp_path):
    from ember.vision.datasets.folder import IMG_EXTENSIONS, find_classes, make_dataset
    _make_tree(tmp_path)
    ds = datasets.ImageFolder(str(tmp_path))
    assert ds.classes == ['cat', 'dog'] and ds.class_to_idx == {'cat': 0, 'dog': 1}
    names = [os.path.relpath(p, tmp_path) for p, _ in ds.samples]
    assert names == ['cat/0.png', 'cat/1.png', 'dog/0.png', 'dog/sub/gray.bmp']
    assert ds.targets == [0, 0, 1, 1] and ds.imgs == ds.samples
    img, target = ds[3]
    assert img.mode == 'RGB' and target == 1 and np.asarray(img)[0, 0].tolist() == [7, 7, 7]
    assert '.png' in IMG_EXTENSIONS
    assert find_classes(str(tmp_path))[0] == ['cat', 'dog']
    txt = make_dataset(str(tmp_path), extensions='.txt')
    assert [t for _, t in txt] == [0, 1]
    only_png = datasets.ImageFolder(str(tmp_path), is_valid_file=lambda p: p.endswith('.png'))
    assert len(only_png) == 3
    with pytest.raises(ValueError, match='Both extensions and is_valid_file'):
        make_dataset(str(tmp_path), extensions='.png', is_valid_file=lambda p: True)
    with pytest.raises(FileNotFoundError, match='Found no valid file for the classes dog'):
        make_dataset(str(tmp_path), is_valid_file=lambda p: 'cat' in p)
    assert len(make_dataset(str(tmp_path), is_valid_file=lambda p: 'cat' in p, allow_empty=True)) == 3
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder"):
        datasets.ImageFolder(str(tmp_path / 'cat' / 'sub'))


def test_fake_data_is_reproducible_and_keeps_rng_state():
    ds = datasets.FakeData(size=3, image_size=(3, 6, 5), num_classes=4)
    ember.manual_seed(123)
    before = ember.rand(1).item()
    ember.manual_seed(123)
    a, ta = ds[1]
    after = ember.rand(1).item()
    assert before == after  # the global stream is untouched
    b, tb = ds[1]
    assert a.mode == 'RGB' and a.size == (5, 6) and 0 <= ta < 4 and isinstance(ta, int)
    assert np.array_equal(np.asarray(a), np.asarray(b)) and ta == tb
    with pytest.raises(IndexError, match='FakeData index out of range'):
        ds[3]
    assert repr(ds).startswith('Dataset FakeData\n    Number of datapoints: 3')


def test_digits_still_works():
    ds = datasets.Digits(train=False)
    x, y = ds[0]
    assert tuple(x.shape) == (1, 8, 8) and len(ds) == 360 and 0 <= y <= 9


# ------------------------------------------------------------------------------ utils
def test_extract_archive_kinds(tmp_path):
    payload = b'hello ember'
    (tmp_path / 'a.txt.gz').write_bytes(gzip.compress(payload))
    assert open(dutils.extract_archive(str(tmp_path / 'a.txt.gz')), 'rb').read() == payload
    for name, mode in [('b.tar', 'w'), ('c.tar.gz', 'w:gz'), ('d.tgz', 'w:gz')]:
        with tarfile.open(tmp_path / name, mode) as tar:
            info = tarfile.TarInfo('inner/file.txt')
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
        out = tmp_path / ('out_' + name)
        assert dutils.extract_archive(str(tmp_path / name), str(out)) == str(out)
        assert (out / 'inner' / 'file.txt').read_bytes() == payload
    with zipfile.ZipFile(tmp_path / 'e.zip', 'w') as z:
        z.writestr('z/file.txt', payload)
    dutils.extract_archive(str(tmp_path / 'e.zip'), str(tmp_path / 'zout'), remove_finished=True)
    assert (tmp_path / 'zout' / 'z' / 'file.txt').read_bytes() == payload and not (tmp_path / 'e.zip').exists()
    with zipfile.ZipFile(tmp_path / 'evil.zip', 'w') as z:
        z.writestr('../escape.txt', payload)
    with pytest.raises(RuntimeError, match='unsafe'):
        dutils.extract_archive(str(tmp_path / 'evil.zip'), str(tmp_path / 'eout'))
    with pytest.raises(RuntimeError, match='Unknown compression or archive type'):
        dutils.extract_archive(str(tmp_path / 'a.rar'))


def test_check_integrity_and_download_url(tmp_path, server):
    base, www, requested = server
    (www / 'f.bin').write_bytes(b'abc')
    good = _md5(b'abc')
    path = dutils.download_url(base + 'f.bin', str(tmp_path), md5=good)
    assert dutils.check_integrity(path, good) and dutils.check_md5(path, good)
    assert not dutils.check_integrity(path, '0' * 32) and not dutils.check_integrity(str(tmp_path / 'missing'))
    dutils.download_url(base + 'f.bin', str(tmp_path), md5=good)  # verified copy: not fetched again
    assert requested == ['/f.bin']
    path = dutils.download_url(_closed_port_url() + 'f.bin', str(tmp_path / 'm'), mirrors=[base + 'f.bin'])
    assert open(path, 'rb').read() == b'abc'
    with pytest.raises(RuntimeError, match='missing.bin'):
        dutils.download_url(base + 'missing.bin', str(tmp_path))


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv('EMBER_HOME', str(tmp_path))
    assert dutils.default_cache_dir() == os.path.join(str(tmp_path), 'datasets')
