"""Image grids and saving (torchvision's ``utils.make_grid`` and ``utils.save_image``)."""
import math

import numpy as np

import ember


def _normalize_(t, low, high):
    t.clamp_(min=low, max=high)
    t.sub_(low).div_(max(high - low, 1e-5))


def _normalize_range_(t, value_range):
    if value_range is not None:
        _normalize_(t, value_range[0], value_range[1])
    else:
        _normalize_(t, float(t.min()), float(t.max()))


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0):
    """Tiles a batch of images (B x C x H x W, or a list of C x H x W) into one image, ``nrow`` per row.

    Args:
        tensor: the images; one-channel images become three-channel.
        nrow: images per row.
        padding: pixels between images and around the grid.
        normalize: rescale to [0, 1] by ``value_range`` (default: the min and max).
        value_range: (min, max) for ``normalize``.
        scale_each: normalise each image by its own min and max.
        pad_value: the value of the padding.
    """
    if isinstance(tensor, (list, tuple)):
        tensor = ember.stack(list(tensor), dim=0)
    if not isinstance(tensor, ember.Tensor):
        raise TypeError(f"tensor should be of type torch.Tensor, got {type(tensor)}")
    if tensor.dim() == 2:
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 3:
        if tensor.size(0) == 1:
            tensor = ember.cat((tensor, tensor, tensor), 0)
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 4 and tensor.size(1) == 1:
        tensor = ember.cat((tensor, tensor, tensor), 1)

    if normalize:
        tensor = tensor.clone()
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")
        if scale_each:
            for t in tensor:  # one min/max per image
                _normalize_range_(t, value_range)
        else:
            _normalize_range_(tensor, value_range)

    if tensor.size(0) == 1:
        return tensor.squeeze(0)

    images = tensor.detach().cpu().numpy()
    n, channels, h, w = images.shape
    xmaps = min(nrow, n)
    ymaps = int(math.ceil(float(n) / xmaps))
    height, width = h + padding, w + padding
    tiles = np.zeros((ymaps * xmaps, channels, h, w), dtype=images.dtype)
    tiles[:n] = images
    tiles = tiles.reshape(ymaps, xmaps, channels, h, w).transpose(2, 0, 3, 1, 4)  # C, rows, H, cols, W
    cells = np.full((channels, ymaps, height, xmaps, width), pad_value, dtype=images.dtype)
    filled = (np.arange(ymaps * xmaps) < n).reshape(ymaps, xmaps)[None, :, None, :, None]
    cells[:, :, padding:, :, padding:] = np.where(filled, tiles, cells[:, :, padding:, :, padding:])
    grid = np.full((channels, ymaps * height + padding, xmaps * width + padding), pad_value, dtype=images.dtype)
    grid[:, :ymaps * height, :xmaps * width] = cells.reshape(channels, ymaps * height, xmaps * width)
    out = ember.from_numpy(grid)
    return out if tensor.device.type == 'cpu' else out.to(tensor.device)


def save_image(tensor, fp, format=None, **kwargs):
    """Saves a tensor (or a batch, as a grid; see :func:`make_grid`) of values in [0, 1] as an image file."""
    from PIL import Image
    grid = make_grid(tensor, **kwargs)
    array = grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to("cpu", ember.uint8).numpy()
    image = Image.fromarray(np.ascontiguousarray(array[:, :, 0] if array.shape[2] == 1 else array))
    image.save(fp, format=format)
