"""Convolutions: ``conv1d/2d/3d`` and ``conv_transpose1d/2d/3d`` (kernels in ``ember/ops/conv.py``)."""
from ember.ops.conv import conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d

__all__ = ['conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d']
