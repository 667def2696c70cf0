"""Transforms: PIL path against Pillow's own operations, tensor path against torch / hand formulas."""
import numpy as np
import pytest
import torch

import ember
from ember.vision import transforms as T
from ember.vision.transforms import InterpolationMode
from ember.vision.transforms import functional as F

PIL = pytest.importorskip('PIL')
from PIL import Image, ImageEnhance, ImageOps  # noqa: E402


def _rgb(h=7, w=9, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _pil(h=7, w=9, seed=0):
    return Image.fromarray(_rgb(h, w, seed))


def _tensor(c=3, h=7, w=9, seed=0, dtype=np.float32):
    x = np.random.default_rng(seed).random((c, h, w)).astype(dtype)
    return ember.from_numpy(x), torch.from_numpy(x.copy())


def _same(pil_a, pil_b):
    return pil_a.mode == pil_b.mode and pil_a.size == pil_b.size and np.array_equal(np.asarray(pil_a),
                                                                                       np.asarray(pil_b))


# ----------------------------------------------------------------------------- conversion
def test_to_tensor_and_back():
    array = _rgb()
    img = Image.fromarray(array)
    t = F.to_tensor(img)
    assert t.dtype == ember.float32 and tuple(t.shape) == (3, 7, 9)
    np.testing.assert_allclose(t.numpy(), array.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    raw = F.pil_to_tensor(img)
    assert raw.dtype == ember.uint8 and np.array_equal(raw.numpy(), array.transpose(2, 0, 1))
    assert _same(F.to_pil_image(raw), img)
    assert _same(F.to_pil_image(t), img)  # float * 255 then truncation gives back the bytes
    gray = F.to_pil_image(ember.tensor([[0.5, 1.0]]))
    assert gray.mode == 'L' and np.asarray(gray).tolist() == [[127, 255]]
    assert F.to_pil_image(np.zeros((2, 2), np.float32)).mode == 'F'
    assert F.to_pil_image(np.zeros((2, 2, 4), np.uint8)).mode == 'RGBA'
    np.testing.assert_allclose(F.to_tensor(array).numpy(), t.numpy())
    assert F.to_tensor(Image.new('1', (2, 1), 1)).numpy().tolist() == [[[1.0, 1.0]]]
    assert F.to_tensor(Image.new('F', (2, 1), 0.25)).dtype == ember.float32
    with pytest.raises(ValueError, match='Incorrect mode'):
        F.to_pil_image(np.zeros((2, 2), np.uint8), mode='F')
    with pytest.raises(TypeError, match='pic should be PIL Image or ndarray'):
        F.to_tensor([1, 2])


def test_convert_image_dtype():
    u8 = ember.tensor([[[0, 128, 255]]], dtype=ember.uint8)
    f = T.ConvertImageDtype(ember.float32)(u8)
    np.testing.assert_allclose(f.numpy(), [[[0, 128 / 255, 1]]], rtol=1e-6)
    back = F.convert_image_dtype(f, ember.uint8)
    assert back.dtype == ember.uint8 and back.numpy().tolist() == [[[0, 128, 255]]]
    assert F.convert_image_dtype(ember.tensor([[[0.5]]]), ember.uint8).item() == int(0.5 * (256 - 1e-3))
    assert F.convert_image_dtype(u8, ember.int16).numpy().tolist() == [[[0, 128 * 128, 255 * 128]]]
    assert F.convert_image_dtype(ember.tensor([[[32767]]], dtype=ember.int16), ember.uint8).item() == 255
    with pytest.raises(RuntimeError, match='cannot be performed safely'):
        F.convert_image_dtype(f, ember.int32)


def test_normalize():
    x, tx = _tensor()
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    out = T.Normalize(mean, std)(x)
    expected = (tx - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6, atol=1e-6)
    assert out is not x and not np.allclose(x.numpy(), out.numpy())
    same = F.normalize(x, mean, std, inplace=True)
    assert same is x and np.allclose(x.numpy(), expected.numpy(), atol=1e-6)
    with pytest.raises(TypeError, match='should be a float tensor'):
        F.normalize(ember.zeros(3, 2, 2, dtype=ember.uint8), mean, std)
    with pytest.raises(ValueError, match='std evaluated to zero'):
        F.normalize(ember.zeros(3, 2, 2), mean, (1.0, 0.0, 1.0))
    # the graph is kept: a Normalize inside a model is differentiable
    leaf = ember.rand(3, 2, 2, requires_grad=True)
    F.normalize(leaf, mean, std).sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy()[:, 0, 0], [1 / s for s in std], rtol=1e-5)


# --------------------------------------------------------------------------------- resize
@pytest.mark.parametrize('mode', [InterpolationMode.NEAREST, InterpolationMode.BILINEAR, InterpolationMode.BICUBIC,
                                  InterpolationMode.LANCZOS, InterpolationMode.BOX])
@pytest.mark.parametrize('size', [(4, 5), (13, 20), 5])
def test_resize_pil_is_pillow(mode, size):
    img = _pil(10, 14)
    out = T.Resize(size, interpolation=mode)(img)
    if isinstance(size, int):  # shorter edge (height 10) -> 5, width int(5 * 14 / 10) = 7
        size = (5, 7)
    assert _same(out, img.resize((size[1], size[0]), F.pil_modes_mapping[mode]))


def test_resize_output_size_rules():
    img = _pil(10, 14)
    assert T.Resize(4)(img).size == (5, 4)
    assert T.Resize(20, max_size=24)(img).size == (24, 17)
    assert T.Resize([4])(_pil(14, 10)).size == (4, 5)
    assert T.Resize((10, 14))(img) is img  # already that size
    with pytest.raises(ValueError, match='max_size = 4 must be strictly greater'):
        T.Resize(4, max_size=4)(img)
    with pytest.raises(ValueError, match='should have 1 or 2 values'):
        T.Resize((1, 2, 3))


@pytest.mark.parametrize('mode', ['nearest', 'nearest-exact', 'bilinear', 'bicubic'])
@pytest.mark.parametrize('antialias', [True, False])
@pytest.mark.parametrize('out_hw', [(4, 5), (11, 23), (7, 3)])
def test_resize_tensor_matches_interpolate(mode, antialias, out_hw):
    x, tx = _tensor(3, 9, 12, seed=1)
    out = F.resize(x, list(out_hw), InterpolationMode(mode), antialias=antialias)
    kwargs = {} if mode.startswith('nearest') else {'align_corners': False, 'antialias': antialias}
    expected = torch.nn.functional.interpolate(tx[None], size=out_hw, mode=mode, **kwargs)[0]
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-5, atol=2e-6)
    # batched input and uint8 (computed in float32, rounded back)
    xb, txb = _tensor(3, 9, 12, seed=2)
    u8 = ember.from_numpy((xb.numpy() * 255).astype(np.uint8))[None].expand(2, 3, 9, 12)
    got = F.resize(u8, list(out_hw), InterpolationMode(mode), antialias=antialias)
    ref = torch.nn.functional.interpolate(torch.from_numpy(u8.numpy().astype(np.float32)), size=out_hw, mode=mode,
                                          **kwargs)
    ref = ref.clamp(0, 255).round().to(torch.uint8)
    assert got.dtype == ember.uint8 and tuple(got.shape) == (2, 3) + out_hw
    assert np.abs(got.numpy().astype(int) - ref.numpy().astype(int)).max() <= 1


def test_resize_tensor_rejects_pil_only_modes():
    with pytest.raises(ValueError, match='nearest, nearest-exact, bilinear or bicubic'):
        F.resize(ember.rand(3, 4, 4), [2, 2], InterpolationMode.LANCZOS)


# ----------------------------------------------------------------------------------- crops
def test_crops_pil_and_tensor():
    array = _rgb(7, 9)
    img, t = Image.fromarray(array), ember.from_numpy(array.transpose(2, 0, 1).copy())
    assert _same(F.crop(img, 1, 2, 3, 4), img.crop((2, 1, 6, 4)))
    assert np.array_equal(F.crop(t, 1, 2, 3, 4).numpy(), array[1:4, 2:6].transpose(2, 0, 1))
    # out of the image: zero padding on both paths
    outside = F.crop(t, -1, 7, 3, 4).numpy()
    assert np.array_equal(outside, np.asarray(F.crop(img, -1, 7, 3, 4)).transpose(2, 0, 1))
    # centre crop: top = round((7 - 3) / 2) = 2, left = round((9 - 4) / 2) = 2 (half to even)
    assert _same(T.CenterCrop((3, 4))(img), img.crop((2, 2, 6, 5)))
    assert np.array_equal(T.CenterCrop((3, 4))(t).numpy(), array[2:5, 2:6].transpose(2, 0, 1))
    big = T.CenterCrop(11)(t)
    assert tuple(big.shape) == (3, 11, 11) and np.array_equal(big.numpy()[:, 2:9, 1:10], array.transpose(2, 0, 1))
    assert _same(T.CenterCrop(11)(img), Image.fromarray(big.numpy().transpose(1, 2, 0)))


def test_five_and_ten_crop():
    array = _rgb(6, 8)
    img, t = Image.fromarray(array), ember.from_numpy(array.transpose(2, 0, 1).copy())
    tl, tr, bl, br, center = T.FiveCrop((2, 3))(img)
    assert _same(tl, img.crop((0, 0, 3, 2))) and _same(tr, img.crop((5, 0, 8, 2)))
    assert _same(bl, img.crop((0, 4, 3, 6))) and _same(br, img.crop((5, 4, 8, 6)))
    assert _same(center, img.crop((2, 2, 5, 4)))
    crops = T.TenCrop(2)(t)
    assert len(crops) == 10
    assert np.array_equal(crops[5].numpy(), array[:2, ::-1][:, :2].transpose(2, 0, 1))
    vcrops = T.TenCrop(2, vertical_flip=True)(img)
    assert _same(vcrops[5], img.transpose(Image.Transpose.FLIP_TOP_BOTTOM).crop((0, 0, 2, 2)))
    with pytest.raises(ValueError, match='bigger than input size'):
        F.five_crop(img, 7)


def test_resized_crop():
    img = _pil(10, 12)
    out = F.resized_crop(img, 1, 2, 6, 8, [3, 4])
    assert _same(out, img.crop((2, 1, 10, 7)).resize((4, 3), Image.BILINEAR))


# ------------------------------------------------------------------------------ flips, pad
def test_flips():
    array = _rgb()
    img, t = Image.fromarray(array), ember.from_numpy(array.transpose(2, 0, 1).copy())
    assert _same(F.hflip(img), img.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    assert _same(F.vflip(img), img.transpose(Image.Transpose.FLIP_TOP_BOTTOM))
    assert np.array_equal(F.hflip(t).numpy(), t.numpy()[..., ::-1])
    assert np.array_equal(F.vflip(t).numpy(), t.numpy()[..., ::-1, :])
    assert np.array_equal(T.RandomHorizontalFlip(p=1.0)(t).numpy(), t.numpy()[..., ::-1])
    assert T.RandomVerticalFlip(p=0.0)(t) is t


@pytest.mark.parametrize('padding', [2, (1, 3), (1, 2, 3, 0), (2, -1, 1, 0)])
@pytest.mark.parametrize('mode', ['constant', 'edge', 'reflect', 'symmetric'])
def test_pad(padding, mode):
    array = _rgb(5, 6)
    img, t = Image.fromarray(array), ember.from_numpy(array.transpose(2, 0, 1).copy())
    out_t = T.Pad(padding, fill=7, padding_mode=mode)(t)
    out_pil = T.Pad(padding, fill=7, padding_mode=mode)(img)
    np.testing.assert_array_equal(np.asarray(out_pil), out_t.numpy().transpose(1, 2, 0))
    if isinstance(padding, int):
        l, tp, r, b = (padding,) * 4
    elif len(padding) == 2:
        l, tp, r, b = padding * 2
    else:
        l, tp, r, b = padding
    cropped = array[max(-tp, 0):array.shape[0] - max(-b, 0), max(-l, 0):array.shape[1] - max(-r, 0)]
    widths = [(max(tp, 0), max(b, 0)), (max(l, 0), max(r, 0)), (0, 0)]
    extra = {'constant_values': 7} if mode == 'constant' else {}
    np.testing.assert_array_equal(np.asarray(out_pil), np.pad(cropped, widths, mode=mode, **extra))
    if mode == 'constant' and min(l, tp, r, b) >= 0:
        assert _same(out_pil, ImageOps.expand(img, border=(l, tp, r, b), fill=(7, 7, 7)))


def test_pad_tensor_matches_torch():
    x, tx = _tensor(3, 5, 6)
    out = F.pad(x, [1, 2, 3, 1], padding_mode='reflect')
    np.testing.assert_array_equal(out.numpy(), torch.nn.functional.pad(tx[None], (1, 3, 2, 1), mode='reflect')[0])
    out = F.pad(x, [2, 1], padding_mode='edge')
    np.testing.assert_array_equal(out.numpy(), torch.nn.functional.pad(tx[None], (2, 2, 1, 1), mode='replicate')[0])
    with pytest.raises(ValueError, match='Padding mode should be'):
        T.Pad(1, padding_mode='wrap')


# ------------------------------------------------------------------------ rotate / affine
def _torch_grid_transform(tx, matrix, mode, out_hw=None):
    """torchvision's tensor affine: the inverse matrix on centred pixel coordinates, via affine_grid."""
    _, h, w = tx.shape
    oh, ow = out_hw or (h, w)
    m = torch.tensor(matrix, dtype=torch.float64).view(2, 3)
    theta = torch.stack([torch.stack([m[0, 0] * ow / w, m[0, 1] * oh / w, m[0, 2] * 2 / w]),
                         torch.stack([m[1, 0] * ow / h, m[1, 1] * oh / h, m[1, 2] * 2 / h])])
    grid = torch.nn.functional.affine_grid(theta[None].float(), [1, 3, oh, ow], align_corners=False)
    return torch.nn.functional.grid_sample(tx[None], grid, mode=mode, padding_mode='zeros', align_corners=False)[0]


def test_rotate_tensor_right_angles():
    x, tx = _tensor(3, 7, 7)
    np.testing.assert_array_equal(F.rotate(x, 90).numpy(), torch.rot90(tx, 1, [-2, -1]).numpy())
    np.testing.assert_allclose(F.rotate(x, -90, InterpolationMode.BILINEAR).numpy(),
                               torch.rot90(tx, -1, [-2, -1]).numpy(), atol=1e-6)
    y, ty = _tensor(3, 4, 6)
    expanded = F.rotate(y, 90, expand=True)
    assert tuple(expanded.shape) == (3, 6, 4)
    np.testing.assert_array_equal(expanded.numpy(), torch.rot90(ty, 1, [-2, -1]).numpy())


@pytest.mark.parametrize('angle', [17.0, -33.5])
def test_rotate_and_affine_tensor_match_grid_sample(angle):
    x, tx = _tensor(3, 8, 11, seed=3)
    matrix = F._get_inverse_affine_matrix([0.0, 0.0], -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    out = F.rotate(x, angle, InterpolationMode.BILINEAR)
    np.testing.assert_allclose(out.numpy(), _torch_grid_transform(tx, matrix, 'bilinear').numpy(), atol=1e-5)
    matrix = F._get_inverse_affine_matrix([0.0, 0.0], angle, [2.0, -1.0], 1.2, [10.0, -5.0])
    out = F.affine(x, angle, [2, -1], 1.2, [10.0, -5.0], InterpolationMode.BILINEAR)
    np.testing.assert_allclose(out.numpy(), _torch_grid_transform(tx, matrix, 'bilinear').numpy(), atol=1e-5)
    # fill: a sampled mask of ones blends the fill colour in
    filled = F.rotate(x, angle, InterpolationMode.BILINEAR, fill=[1.0, 2.0, 3.0]).numpy()
    ones = _torch_grid_transform(torch.ones(1, 8, 11), F._get_inverse_affine_matrix(
        [0.0, 0.0], -angle, [0.0, 0.0], 1.0, [0.0, 0.0]), 'bilinear').numpy()
    plain = F.rotate(x, angle, InterpolationMode.BILINEAR).numpy()
    expected = plain * ones + (1 - ones) * np.array([1.0, 2.0, 3.0])[:, None, None]
    np.testing.assert_allclose(filled, expected, atol=1e-5)


def test_rotate_affine_pil_is_pillow():
    img = _pil(8, 10)
    assert _same(F.rotate(img, 30, InterpolationMode.BILINEAR, expand=True, fill=(1, 2, 3)),
                 img.rotate(30, Image.BILINEAR, True, None, fillcolor=(1, 2, 3)))
    assert _same(T.RandomRotation((15, 15), center=(2, 3))(img), img.rotate(15, 0, False, (2, 3), fillcolor=(0, 0, 0)))
    # affine by 90 degrees (clockwise) about the centre of an even-sized square is an exact transpose
    sq = _pil(6, 6)
    assert _same(F.affine(sq, 90, [0, 0], 1.0, 0.0), sq.transpose(Image.Transpose.ROTATE_270))
    shifted = F.affine(sq, 0, [2, 1], 1.0, 0.0)
    expected = np.zeros_like(np.asarray(sq))
    expected[1:, 2:] = np.asarray(sq)[:-1, :-2]
    np.testing.assert_array_equal(np.asarray(shifted), expected)
    matrix = F._get_inverse_affine_matrix([3.0, 3.0], 20, [1, 0], 0.9, [5.0, 0.0])
    assert _same(F.affine(sq, 20, [1, 0], 0.9, 5.0), sq.transform((6, 6), Image.Transform.AFFINE, matrix, 0,
                                                                 fillcolor=(0, 0, 0)))


def test_inverse_affine_matrix_inverts_forward():
    args = ([3.0, -2.0], 25.0, [1.5, 4.0], 1.3, [12.0, -7.0])
    inv = np.array(F._get_inverse_affine_matrix(*args) + [0, 0, 1]).reshape(3, 3)
    fwd = np.array(F._get_inverse_affine_matrix(*args, inverted=False) + [0, 0, 1]).reshape(3, 3)
    np.testing.assert_allclose(inv @ fwd, np.eye(3), atol=1e-12)


# ---------------------------------------------------------------------------------- colour
def test_grayscale():
    array = _rgb()
    img, t = Image.fromarray(array), ember.from_numpy(array.transpose(2, 0, 1).copy())
    assert _same(T.Grayscale()(img), img.convert('L'))
    three = T.Grayscale(3)(img)
    assert three.mode == 'RGB' and np.array_equal(np.asarray(three)[..., 1], np.asarray(img.convert('L')))
    g = F.rgb_to_grayscale(t)
    expected = (0.2989 * array[..., 0] + 0.587 * array[..., 1] + 0.114 * array[..., 2]).astype(np.uint8)
    assert g.dtype == ember.uint8 and np.array_equal(g.numpy()[0], expected)
    xf, _ = _tensor()
    g3 = F.rgb_to_grayscale(xf, 3).numpy()
    np.testing.assert_allclose(g3[2], 0.2989 * xf.numpy()[0] + 0.587 * xf.numpy()[1] + 0.114 * xf.numpy()[2],
                               rtol=1e-6)
    assert T.RandomGrayscale(p=1.0)(img).mode == 'RGB'


@pytest.mark.parametrize('factor', [0.0, 0.5, 1.7])
def test_adjust_pil_is_image_enhance(factor):
    img = _pil()
    assert _same(F.adjust_brightness(img, factor), ImageEnhance.Brightness(img).enhance(factor))
    assert _same(F.adjust_contrast(img, factor), ImageEnhance.Contrast(img).enhance(factor))
    assert _same(F.adjust_saturation(img, factor), ImageEnhance.Color(img).enhance(factor))


@pytest.mark.parametrize('factor', [0.0, 0.5, 1.7])
def test_adjust_tensor_blend_formulas(factor):
    x, _ = _tensor()
    a = x.numpy()
    gray = 0.2989 * a[0] + 0.587 * a[1] + 0.114 * a[2]
    np.testing.assert_allclose(F.adjust_brightness(x, factor).numpy(), np.clip(factor * a, 0, 1), atol=1e-6)
    np.testing.assert_allclose(F.adjust_contrast(x, factor).numpy(),
                               np.clip(factor * a + (1 - factor) * gray.mean(), 0, 1), atol=1e-6)
    np.testing.assert_allclose(F.adjust_saturation(x, factor).numpy(),
                               np.clip(factor * a + (1 - factor) * gray, 0, 1), atol=1e-6)
    u8 = ember.from_numpy((a * 255).astype(np.uint8))
    out = F.adjust_brightness(u8, factor)
    assert out.dtype == ember.uint8
    np.testing.assert_array_equal(out.numpy(), np.clip(np.float32(factor) * u8.numpy(), 0, 255).astype(np.uint8))
    with pytest.raises(ValueError, match='is not non-negative'):
        F.adjust_contrast(x, -1)


def test_adjust_hue():
    import colorsys
    x, _ = _tensor(3, 4, 5, seed=6)
    out = F.adjust_hue(x, 0.2).numpy()
    a = x.numpy()
    for i in range(4):
        for j in range(5):
            h, s, v = colorsys.rgb_to_hsv(*a[:, i, j])
            np.testing.assert_allclose(out[:, i, j], colorsys.hsv_to_rgb((h + 0.2) % 1.0, s, v), atol=1e-5)
    np.testing.assert_allclose(F.adjust_hue(x, 0.0).numpy(), a, atol=1e-6)
    img = _pil()
    h, s, v = img.convert('HSV').split()
    shifted = Image.fromarray(((np.asarray(h).astype(int) + int(-0.25 * 255)) % 256).astype(np.uint8), 'L')
    assert _same(F.adjust_hue(img, -0.25), Image.merge('HSV', (shifted, s, v)).convert('RGB'))
    gray = Image.new('L', (3, 3), 9)
    assert F.adjust_hue(gray, 0.3) is gray
    with pytest.raises(ValueError, match=r'is not in \[-0.5, 0.5\]'):
        F.adjust_hue(x, 0.7)


def test_adjust_gamma():
    x, _ = _tensor()
    np.testing.assert_allclose(F.adjust_gamma(x, 2.0, 0.5).numpy(), np.clip(0.5 * x.numpy() ** 2, 0, 1), rtol=1e-6)
    img = _pil()
    table = [int((255 + 1 - 1e-3) * (v / 255.0) ** 0.5) for v in range(256)]
    np.testing.assert_array_equal(np.asarray(F.adjust_gamma(img, 0.5)), np.array(table, np.uint8)[np.asarray(img)])


def test_gaussian_blur_matches_conv():
    x, tx = _tensor(3, 9, 10, seed=7)
    out = F.gaussian_blur(x, [5, 3], [1.2, 0.7])
    kernels = []
    for k, s in ((5, 1.2), (3, 0.7)):
        r = torch.linspace(-(k - 1) / 2, (k - 1) / 2, k)
        pdf = torch.exp(-0.5 * (r / s) ** 2)
        kernels.append(pdf / pdf.sum())
    kernel2d = kernels[1][:, None] * kernels[0][None, :]
    padded = torch.nn.functional.pad(tx[None], (2, 2, 1, 1), mode='reflect')
    expected = torch.nn.functional.conv2d(padded, kernel2d.expand(3, 1, 3, 5), groups=3)[0]
    np.testing.assert_allclose(out.numpy(), expected.numpy(), atol=1e-6)
    img = Image.fromarray((x.numpy().transpose(1, 2, 0) * 255).astype(np.uint8))
    blurred = F.gaussian_blur(img, [5, 3], [1.2, 0.7])
    ref = F.gaussian_blur(F.pil_to_tensor(img), [5, 3], [1.2, 0.7])
    assert blurred.mode == 'RGB' and np.array_equal(np.asarray(blurred), ref.numpy().transpose(1, 2, 0))
    with pytest.raises(ValueError, match='odd and positive'):
        T.GaussianBlur(4)


# ------------------------------------------------------------------------------- random
def _run_twice(transform, img):
    ember.manual_seed(7)
    a = transform(img)
    ember.manual_seed(7)
    b = transform(img)
    return a, b


@pytest.mark.parametrize('transform', [
    T.RandomCrop(5, padding=2), T.RandomResizedCrop(6), T.RandomRotation(40), T.RandomAffine(30, (0.2, 0.1),
                                                                                                   (0.8, 1.2), 10),
    T.ColorJitter(0.4, 0.4, 0.4, 0.1), T.GaussianBlur(3), T.RandomHorizontalFlip(), T.RandomGrayscale(0.5),
    T.RandomApply([T.ColorJitter(0.5)], p=0.5), T.RandomChoice([T.RandomCrop(3), T.CenterCrop(4)]),
    T.RandomOrder([T.RandomCrop(6), T.Resize(5)]),
])
def test_random_transforms_are_seeded(transform):
    img = _pil(9, 11)
    a, b = _run_twice(transform, img)
    assert _same(a, b)
    x = F.pil_to_tensor(img).float() / 255
    a, b = _run_twice(transform, x)
    assert np.array_equal(a.numpy(), b.numpy())


def test_random_crop_params_and_padding():
    img = _pil(9, 11)
    ember.manual_seed(3)
    i, j, h, w = T.RandomCrop.get_params(img, (4, 5))
    ember.manual_seed(3)
    assert _same(T.RandomCrop((4, 5))(img), img.crop((j, i, j + w, i + h)))
    out = T.RandomCrop((12, 14), pad_if_needed=True, fill=3)(img)
    assert out.size == (14, 12)
    with pytest.raises(ValueError, match='is larger than input image size'):
        T.RandomCrop(20)(img)


def test_random_resized_crop_params():
    img = _pil(30, 40)
    ember.manual_seed(0)
    for _ in range(20):
        i, j, h, w = T.RandomResizedCrop.get_params(img, (0.08, 1.0), (3 / 4, 4 / 3))
        assert 0 <= i and i + h <= 30 and 0 <= j and j + w <= 40 and h > 0 and w > 0
    # impossible scale: the fallback is the central crop with the ratio clamped
    assert T.RandomResizedCrop.get_params(img, (2.0, 2.0), (1.0, 1.0)) == (0, 5, 30, 30)
    assert T.RandomResizedCrop(8)(img).size == (8, 8)


def test_random_erasing():
    x = ember.ones(3, 20, 20)
    ember.manual_seed(1)
    out = T.RandomErasing(p=1.0, value=(0.1, 0.2, 0.3))(x)
    erased = out.numpy() != 1
    assert erased.any() and np.array_equal(x.numpy(), np.ones((3, 20, 20)))
    values = out.numpy()[:, erased[0]]
    np.testing.assert_allclose(values, np.broadcast_to([[0.1], [0.2], [0.3]], values.shape), rtol=1e-6)
    ember.manual_seed(1)
    ember.rand(1)  # the draw that decided p
    i, j, h, w, v = T.RandomErasing.get_params(x, (0.02, 0.33), (0.3, 3.3), [0.1, 0.2, 0.3])
    assert erased[0].sum() == h * w and erased[0][i:i + h, j:j + w].all()
    ember.manual_seed(2)
    y = ember.ones(3, 20, 20)
    assert T.RandomErasing(p=1.0, value='random', inplace=True)(y) is y
    with pytest.raises(ValueError, match="should be 'random'"):
        T.RandomErasing(value='noise')
    with pytest.raises(TypeError, match='tensor image'):
        T.RandomErasing(p=1.0)(_pil())


def test_color_jitter_checks():
    cj = T.ColorJitter(brightness=0.5, hue=(-0.1, 0.2))
    assert cj.brightness == (0.5, 1.5) and cj.contrast is None and cj.hue == (-0.1, 0.2)
    with pytest.raises(ValueError, match='hue values should be between'):
        T.ColorJitter(hue=0.6)
    with pytest.raises(ValueError, match='must be non negative'):
        T.ColorJitter(brightness=-1)


# ------------------------------------------------------------------------------ containers
def test_compose_lambda_and_reprs():
    pipeline = T.Compose([T.Resize(4), T.CenterCrop(3), T.ToTensor(), T.Lambda(lambda t: t * 2),
                          T.Normalize(mean=[0.5, 0.5, 0.5], std=[0.5, 0.5, 0.5])])
    out = pipeline(_pil(8, 8))
    assert tuple(out.shape) == (3, 3, 3)
    assert repr(pipeline) == ("Compose(\n    Resize(size=4, interpolation=bilinear, max_size=None, antialias=True)\n"
                              "    CenterCrop(size=(3, 3))\n    ToTensor()\n    Lambda()\n"
                              "    Normalize(mean=[0.5, 0.5, 0.5], std=[0.5, 0.5, 0.5])\n)")
    assert repr(T.RandomResizedCrop(224)) == ("RandomResizedCrop(size=(224, 224), scale=(0.08, 1.0), "
                                              "ratio=(0.75, 1.3333), interpolation=bilinear, antialias=True)")
    assert repr(T.RandomCrop(32, padding=4)) == "RandomCrop(size=(32, 32), padding=4)"
    assert repr(T.RandomHorizontalFlip()) == "RandomHorizontalFlip(p=0.5)"
    assert repr(T.ColorJitter(0.2)) == "ColorJitter(brightness=(0.8, 1.2), contrast=None, saturation=None, hue=None)"
    assert repr(T.RandomRotation(10)) == ("RandomRotation(degrees=[-10.0, 10.0], interpolation=nearest, expand=False, "
                                          "fill=0)")
    assert repr(T.RandomAffine(0, scale=(0.9, 1.1))) == "RandomAffine(degrees=[0.0, 0.0], scale=(0.9, 1.1))"
    assert repr(T.Pad(2)) == "Pad(padding=2, fill=0, padding_mode=constant)"
    assert repr(T.ToPILImage('RGB')) == "ToPILImage(mode=RGB)"
    assert repr(T.RandomApply([T.Grayscale()], p=0.3)) == ("RandomApply(\n    p=0.3\n"
                                                           "    Grayscale(num_output_channels=1)\n)")
    assert repr(T.RandomChoice([T.RandomGrayscale()])) == "RandomChoice(\n    RandomGrayscale(p=0.1)\n)(p=None)"
    assert repr(T.GaussianBlur(5, sigma=1.0)) == "GaussianBlur(kernel_size=(5, 5), sigma=(1.0, 1.0))"
    assert repr(T.FiveCrop(3)) == "FiveCrop(size=(3, 3))"
    assert repr(T.TenCrop(3)) == "TenCrop(size=(3, 3), vertical_flip=False)"


def test_transforms_are_modules():
    seq = ember.nn.Sequential(T.Resize((4, 4)), T.Normalize((0.5,), (0.5,)))
    out = seq(ember.rand(1, 8, 8))
    assert tuple(out.shape) == (1, 4, 4)
    assert T.InterpolationMode.BICUBIC.value == 'bicubic'
    assert T.Resize(4, interpolation=3).interpolation is InterpolationMode.BICUBIC
