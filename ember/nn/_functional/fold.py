"""``unfold`` (im2col) and ``fold`` (col2im): sliding blocks of a batched image as columns and back.

The kernels (``im2col``/``col2im`` in ``ember/ops/conv.py``) are each other's gradient.
"""
from ember._tensor import Tensor
from ember.ops._dispatch import apply
from ember.ops.conv import _col2im_op, _im2col_op, ntuple, out_len

__all__ = ['unfold', 'fold']


def _fmt(shape):
    return '[' + ', '.join(str(s) for s in shape) + ']'


def _block_args(kernel_size, dilation, padding, stride):
    ksize = ntuple(kernel_size, 2, 'kernel_size')
    dilation = ntuple(dilation, 2, 'dilation')
    padding = ntuple(padding, 2, 'padding')
    stride = ntuple(stride, 2, 'stride')
    if any(k <= 0 for k in ksize):
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: {ksize[0]} "
                           f"kernel_width: {ksize[1]}")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got dilation_height: {dilation[0]} "
                           f"dilation_width: {dilation[1]}")
    if any(p < 0 for p in padding):
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {padding[0]} "
                           f"pad_width: {padding[1]}")
    if any(s <= 0 for s in stride):
        raise RuntimeError(f"stride should be greater than zero, but got stride_height: {stride[0]} "
                           f"stride_width: {stride[1]}")
    return {'ksize': ksize, 'dilation': dilation, 'padding': padding, 'stride': stride}


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extracts sliding blocks: (N, C, H, W) -> (N, C * kH * kW, L), L the number of block positions.

    Row ``c * kH * kW + i * kW + j`` holds kernel element (i, j) of channel ``c`` for every block.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"unfold(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    params = _block_args(kernel_size, dilation, padding, stride)
    if input.ndim not in (3, 4) or any(s == 0 for s in input.shape[input.ndim - 3:]):
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but "
                           f"got: {_fmt(input.shape)}")
    unbatched = input.ndim == 3
    x = input.unsqueeze(0) if unbatched else input
    out = tuple(out_len(m, k, s, p, d) for m, k, s, p, d in
                zip(x.shape[2:], params['ksize'], params['stride'], params['padding'], params['dilation']))
    if any(o < 1 for o in out):
        raise RuntimeError(f"Given input with spatial size ({x.shape[2]}, {x.shape[3]}), kernel_size="
                           f"({params['ksize'][0]}, {params['ksize'][1]}), dilation=({params['dilation'][0]}, "
                           f"{params['dilation'][1]}), padding=({params['padding'][0]}, {params['padding'][1]}), "
                           f"calculated shape of the array of sliding blocks as ({out[0]}, {out[1]}), but its "
                           "components must be at least one.")
    y = apply(_im2col_op, (x,), params)
    return y.squeeze(0) if unbatched else y


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sums sliding blocks back into an image: (N, C * kH * kW, L) -> (N, C, *output_size); the adjoint of unfold."""
    if not isinstance(input, Tensor):
        raise TypeError(f"fold(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    size = ntuple(output_size, 2, 'output_size')
    params = _block_args(kernel_size, dilation, padding, stride)
    if input.ndim not in (2, 3) or any(s == 0 for s in input.shape[input.ndim - 2:]):
        raise RuntimeError(f"Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, but "
                           f"got: {_fmt(input.shape)}")
    unbatched = input.ndim == 2
    x = input.unsqueeze(0) if unbatched else input
    ksize, dilation, padding, stride = params['ksize'], params['dilation'], params['padding'], params['stride']
    if x.shape[1] % (ksize[0] * ksize[1]):
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
                           f"got input.size(1)={x.shape[1]} and kernel_size=({ksize[0]}, {ksize[1]})")
    out = tuple(out_len(m, k, s, p, d) for m, k, s, p, d in zip(size, ksize, stride, padding, dilation))
    if any(o < 1 for o in out) or out[0] * out[1] != x.shape[2]:
        raise RuntimeError(f"Given output_size=({size[0]}, {size[1]}), kernel_size=({ksize[0]}, {ksize[1]}), "
                           f"dilation=({dilation[0]}, {dilation[1]}), padding=({padding[0]}, {padding[1]}), "
                           f"stride=({stride[0]}, {stride[1]}), expected size of input's dimension 2 to match the "
                           f"calculated number of sliding blocks {out[0]} * {out[1]} = {out[0] * out[1]}, but got "
                           f"input.size(2)={x.shape[2]}.")
    y = apply(_col2im_op, (x,), dict(params, size=size))
    return y.squeeze(0) if unbatched else y
