"""Normalisation functions of ``nn.functional`` (fused kernels in ``ember/ops/norm.py``)."""
from ember.ops import norm as _norm
from ember.ops.norm import group_norm, layer_norm, rms_norm

__all__ = ['batch_norm', 'instance_norm', 'layer_norm', 'group_norm', 'rms_norm', 'local_response_norm']


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalisation over the channel dim 1 of an (N, C, ...) input.

    In training, normalises with the batch statistics and, when given, updates ``running_mean`` and
    ``running_var`` in place (``momentum`` weighting; the variance is unbiased); otherwise uses them.
    """
    if training:
        size = input.shape
        count = size[0]
        for n in size[2:]:
            count *= n
        if count == 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")
    return _norm.batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Instance normalisation: each (sample, channel) plane normalised with its own statistics."""
    if use_input_stats:
        size = input.shape
        count = 1
        for n in size[2:]:
            count *= n
        if count == 1:
            raise ValueError(f"Expected more than 1 spatial element when training, got input size {size}")
    return _norm.instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Local response normalisation across channels: ``x / (k + alpha * mean of x^2 over size channels)^beta``."""
    dim = input.ndim
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    C = input.shape[1]
    sq = input * input
    # zero padding on the channel dim, size // 2 before and (size - 1) // 2 after, then a window sum
    before, after = size // 2, (size - 1) // 2
    from ember.ops.padding import pad
    pads = [0, 0] * (dim - 2) + [before, after]
    padded = pad(sq, pads)
    total = padded.narrow(1, 0, C)
    for j in range(1, size):
        total = total + padded.narrow(1, j, C)
    div = (total * (alpha / size) + k) ** beta
    return input / div
