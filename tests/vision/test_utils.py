"""vision.utils (make_grid, save_image) and vision.io (read/decode/encode images)."""
import math

import numpy as np
import pytest

import ember
from ember.vision import io as vio
from ember.vision import utils as vutils


def _reference_grid(batch, nrow, padding, pad_value):
    """The grid drawn image by image, as torchvision's make_grid lays it out."""
    n, c, h, w = batch.shape
    xmaps = min(nrow, n)
    ymaps = int(math.ceil(n / xmaps))
    height, width = h + padding, w + padding
    grid = np.full((c, height * ymaps + padding, width * xmaps + padding), pad_value, dtype=batch.dtype)
    for k in range(n):
        y, x = divmod(k, xmaps)
        grid[:, y * height + padding:(y + 1) * height, x * width + padding:(x + 1) * width] = batch[k]
    return grid


@pytest.mark.parametrize('n,nrow,padding', [(5, 2, 1), (8, 8, 2), (3, 4, 0), (7, 3, 3)])
def test_make_grid_layout(n, nrow, padding):
    batch = np.random.default_rng(n).random((n, 3, 4, 5)).astype(np.float32)
    grid = vutils.make_grid(ember.from_numpy(batch), nrow=nrow, padding=padding, pad_value=0.25)
    np.testing.assert_array_equal(grid.numpy(), _reference_grid(batch, nrow, padding, 0.25))
    assert grid.dtype == ember.float32


def test_make_grid_channels_lists_and_normalize():
    gray = ember.from_numpy(np.arange(2 * 1 * 2 * 2, dtype=np.float32).reshape(2, 1, 2, 2))
    grid = vutils.make_grid(gray, padding=0)
    assert tuple(grid.shape) == (3, 2, 4) and np.array_equal(grid.numpy()[0], grid.numpy()[2])
    one = vutils.make_grid(ember.rand(1, 3, 4, 4))
    assert tuple(one.shape) == (3, 4, 4)  # a single image comes back without padding
    assert tuple(vutils.make_grid(ember.rand(4, 4)).shape) == (3, 4, 4)
    listed = vutils.make_grid([ember.rand(3, 2, 2), ember.rand(3, 2, 2)], padding=1)
    assert tuple(listed.shape) == (3, 4, 7)

    x = ember.from_numpy(np.array([[[[-1.0, 1.0]]], [[[0.0, 3.0]]]], dtype=np.float32))
    norm = vutils.make_grid(x, padding=0, normalize=True).numpy()[0]
    np.testing.assert_allclose(norm, [[0.0, 0.5, 0.25, 1.0]])
    each = vutils.make_grid(x, padding=0, normalize=True, scale_each=True).numpy()[0]
    np.testing.assert_allclose(each, [[0.0, 1.0, 0.0, 1.0]])
    ranged = vutils.make_grid(x, padding=0, normalize=True, value_range=(0.0, 2.0)).numpy()[0]
    np.testing.assert_allclose(ranged, [[0.0, 0.5, 0.0, 1.0]])
    assert x.numpy()[0, 0, 0, 0] == -1.0  # normalisation works on a copy
    with pytest.raises(TypeError, match='value_range has to be a tuple'):
        vutils.make_grid(x, normalize=True, value_range=[0, 1])
    with pytest.raises(TypeError, match='tensor should be of type'):
        vutils.make_grid(np.zeros((2, 3, 4, 4)))


def test_save_image_and_read_back(tmp_path):
    pytest.importorskip('PIL')
    from PIL import Image
    batch = np.random.default_rng(0).random((4, 3, 5, 6)).astype(np.float32)
    path = tmp_path / 'grid.png'
    vutils.save_image(ember.from_numpy(batch), str(path), nrow=2, padding=1)
    expected = np.clip(_reference_grid(batch, 2, 1, 0.0) * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    saved = Image.open(path)
    assert saved.mode == 'RGB' and np.array_equal(np.asarray(saved), expected)
    back = vio.read_image(str(path))
    assert back.dtype == ember.uint8 and np.array_equal(back.numpy(), expected.transpose(2, 0, 1))
    vutils.save_image(ember.rand(1, 4, 4), str(tmp_path / 'x.jpg'), format='JPEG')
    assert Image.open(tmp_path / 'x.jpg').format == 'JPEG'


def test_io_modes_and_encoders(tmp_path):
    pytest.importorskip('PIL')
    from PIL import Image
    rgba = np.random.default_rng(1).integers(0, 256, (4, 5, 4), dtype=np.uint8)
    path = str(tmp_path / 'a.png')
    Image.fromarray(rgba).save(path)
    unchanged = vio.read_image(path)
    assert tuple(unchanged.shape) == (4, 4, 5) and np.array_equal(unchanged.numpy(), rgba.transpose(2, 0, 1))
    rgb = vio.read_image(path, vio.ImageReadMode.RGB)
    assert np.array_equal(rgb.numpy(), np.asarray(Image.fromarray(rgba).convert('RGB')).transpose(2, 0, 1))
    gray = vio.read_image(path, vio.ImageReadMode.GRAY)
    assert tuple(gray.shape) == (1, 4, 5)
    assert np.array_equal(gray.numpy()[0], np.asarray(Image.fromarray(rgba).convert('L')))
    data = vio.read_file(path)
    assert data.dtype == ember.uint8 and data.ndim == 1
    assert np.array_equal(vio.decode_image(data, vio.ImageReadMode.RGB_ALPHA).numpy(), unchanged.numpy())

    img = ember.from_numpy(rgba[..., :3].transpose(2, 0, 1).copy())
    out = str(tmp_path / 'b.png')
    vio.write_png(img, out)
    assert np.array_equal(vio.read_image(out).numpy(), img.numpy())
    encoded = vio.encode_png(img[:1])
    assert np.array_equal(vio.decode_png(encoded).numpy(), img.numpy()[:1])
    jpeg = vio.encode_jpeg(img, quality=95)
    assert bytes(jpeg.numpy()[:2]) == b'\xff\xd8' and tuple(vio.decode_jpeg(jpeg).shape) == (3, 4, 5)
    vio.write_file(str(tmp_path / 'c.jpg'), jpeg)
    assert tuple(vio.read_image(str(tmp_path / 'c.jpg')).shape) == (3, 4, 5)

    Image.new('P', (3, 2), 1).save(tmp_path / 'p.png')
    assert tuple(vio.read_image(str(tmp_path / 'p.png')).shape) == (3, 2, 3)
    with pytest.raises(RuntimeError, match='Unsupported image file or corrupted data'):
        vio.decode_image(ember.from_numpy(np.array([1, 2, 3], np.uint8)))
    with pytest.raises(RuntimeError, match='Expected a uint8 image tensor'):
        vio.encode_png(ember.rand(3, 2, 2))


def test_vision_namespace():
    import ember.vision as vision
    assert vision.transforms.ToTensor and vision.utils.make_grid and vision.io.read_image
    assert vision.datasets.MNIST and vision.datasets.CIFAR10 and vision.datasets.ImageFolder
