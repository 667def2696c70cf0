"""``linear`` and ``bilinear``.

``linear`` is one fused op: forward is a single GEMM (``x @ W.T``, the bias
added in place into the fresh result), backward two GEMMs and a column sum, all
in one graph node.  That saves the transpose view, the add node and the
broadcast reduction that ``matmul(x, W.t()) + b`` records, which is most of the
framework overhead of a small layer.
"""
from ember import _dtype
from ember._tensor import Tensor
from ember.ops._dispatch import apply
from ember.ops._registry import ErrorSample, Sample, composite, defop

__all__ = ['linear', 'bilinear']

_BFLOAT16 = _dtype.bfloat16.np   # compared by identity: ``dtype.name`` costs microseconds per call


def _prod(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def _linear_grad_name(params, meta):
    nd = len(meta[0][0])
    if nd == 2:
        return 'AddmmBackward0' if len(meta) == 3 else 'MmBackward0'
    if nd == 1 and len(meta) == 2:
        return 'SqueezeBackward4'
    return 'ViewBackward0' if len(meta) == 3 else 'UnsafeViewBackward0'


@defop('linear', save='inputs', public='nn.functional.linear', grad_name=_linear_grad_name)
def _linear(xp, x, w, *bias):
    if x.dtype == _BFLOAT16:   # ml_dtypes' bfloat16 has no fast matmul loop
        x32, w32 = x.astype(xp.float32), w.astype(xp.float32)
        out = _linear(xp, x32, w32, *(b.astype(xp.float32) for b in bias))
        return out.astype(x.dtype)
    if x.ndim > 2:
        # one GEMM over the flattened batch instead of NumPy's loop over stacked matrices
        lead = x.shape[:-1]
        out = xp.matmul(x.reshape(-1, x.shape[-1]), w.T)
        if bias:
            out += bias[0]
        return out.reshape(lead + (w.shape[0],))
    out = xp.matmul(x, w.T)
    if bias:
        out += bias[0]
    return out


@_linear.derivative
def _(F, ctx, grad):
    x, w = ctx.inputs[0], ctx.inputs[1]
    needs = ctx.needs_input_grad
    out_features, in_features = w.shape
    gx = gw = gb = None
    if needs[0]:
        gx = F.matmul(grad, w)
    if needs[1]:
        if x.ndim == 1:
            g2, x2 = F.reshape_copy(grad, shape=(out_features, 1)), F.reshape_copy(x, shape=(1, in_features))
            gw = F.matmul(g2, x2)
        else:
            g2 = grad if grad.ndim == 2 else F.reshape_copy(grad, shape=(-1, out_features))
            x2 = x if x.ndim == 2 else F.reshape_copy(x, shape=(-1, in_features))
            gw = F.matmul(F.permute(g2, dims=(1, 0)), x2)
    if len(ctx.inputs) == 2:
        return gx, gw
    if needs[2]:
        bias_shape = ctx.input_meta[2][0]
        if len(bias_shape) == 1 and grad.ndim >= 1:
            gb = F.sum(grad, dim=tuple(range(grad.ndim - 1)), keepdim=False, dtype=F.dtype_of(grad))
        else:
            gb = grad   # the engine sums the broadcast gradient back to the bias's shape
    return gx, gw, gb


def _check_tensor(t, arg, pos):
    if not isinstance(t, Tensor):
        raise TypeError(f"linear(): argument '{arg}' (position {pos}) must be Tensor, not {type(t).__name__}")


def _dtype_name(d):
    return d.legacy_name.replace('Tensor', '')


def linear(input, weight, bias=None):
    """``input @ weight.T + bias``: ``weight`` is ``(out_features, in_features)``, ``bias`` ``(out_features,)``."""
    _check_tensor(input, 'input', 1)
    _check_tensor(weight, 'weight', 2)
    xs, ws = input._data.shape, weight._data.shape
    if len(xs) == 0 or len(ws) == 0:
        raise RuntimeError(f"both arguments to linear need to be at least 1D, but they are {len(xs)}D and "
                           f"{len(ws)}D")
    if len(ws) != 2:
        import ember
        out = ember.matmul(input, weight.t())
        return out if bias is None else out + bias
    if xs[-1] != ws[1]:
        rows = _prod(xs[:-1])
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{xs[-1]} and {ws[1]}x{ws[0]})")
    if input._dtype is not weight._dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_c10(input._dtype)} != "
                           f"{_c10(weight._dtype)}")
    if bias is None:
        return apply(_linear, (input, weight))
    _check_tensor(bias, 'bias', 3)
    if bias._dtype is not input._dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {_dtype_name(bias._dtype)} and "
                           f"{_dtype_name(input._dtype)}")
    out_shape = xs[:-1] + (ws[0],)
    _check_bias(bias._data.shape, out_shape)
    return apply(_linear, (input, weight, bias))


def _c10(d):
    from ember.ops.linalg import _C10_NAMES
    return _C10_NAMES[d.name]


def _check_bias(bs, out_shape):
    """The bias must broadcast to the output without growing it (torch's expand error otherwise)."""
    target = list(out_shape[-2:]) if len(out_shape) >= 2 else list(out_shape)
    if len(bs) > len(out_shape):
        sizes, shape = ', '.join(map(str, target)), ', '.join(map(str, bs))
        raise RuntimeError(f"expand(torch.FloatTensor{{[{shape}]}}, size=[{sizes}]): the number of sizes provided "
                           f"({len(target)}) must be greater or equal to the number of dimensions in the tensor "
                           f"({len(bs)})")
    for i in range(1, len(bs) + 1):
        if bs[-i] != 1 and bs[-i] != out_shape[-i]:
            raise RuntimeError(f"The expanded size of the tensor ({out_shape[-i]}) must match the existing size "
                               f"({bs[-i]}) at non-singleton dimension {len(target) - i}.  Target sizes: "
                               f"[{', '.join(map(str, target))}].  Tensor sizes: [{', '.join(map(str, bs))}]")


_linear.samples = lambda make: [
    Sample(make((4, 3)), make((5, 3)), make((5,))), Sample(make((4, 3)), make((5, 3))),
    Sample(make((2, 4, 3)), make((5, 3)), make((5,))), Sample(make((2, 4, 3)), make((5, 3))),
    Sample(make((3,)), make((5, 3)), make((5,))), Sample(make((3,)), make((5, 3))),
    Sample(make((4, 3)), make((5, 3)), make((1,))), Sample(make((4, 3)), make((5, 3)), make((4, 5))),
    Sample(make((0, 3)), make((5, 3)), make((5,))), Sample(make((4, 0)), make((5, 0)), make((5,))),
    Sample(make((4, 3), 'float64'), make((5, 3), 'float64'), make((5,), 'float64'))]
_linear.error_samples = lambda make: [
    ErrorSample(make((4, 3)), make((5, 2)), match=r'mat1 and mat2 shapes cannot be multiplied \(4x3 and 2x5\)'),
    ErrorSample(make((4, 3)), make((5, 3), 'float64'), match='expected m1 and m2 to have the same dtype'),
    ErrorSample(make((4, 3)), make((5, 3)), make((4,)), match='The expanded size of the tensor')]


# ----------------------------------------------------------------------------- bilinear

def bilinear(input1, input2, weight, bias=None):
    """``y[..., o] = sum_ij input1[..., i] * weight[o, i, j] * input2[..., j] + bias[o]``."""
    import ember
    if weight.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must be 3D, but got {weight.ndim}D")
    out_f, in1, in2 = weight.shape
    if input1.ndim != input2.ndim:
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {input1.ndim} and {input2.ndim}")
    for d in range(input1.ndim - 1):
        if input1.shape[d] != input2.shape[d]:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {d}: got "
                               f"{input1.shape[d]} and {input2.shape[d]}")
    if input1.shape[-1] != in1:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got {input1.shape[-1]} but "
                           f"expected {in1}")
    if input2.shape[-1] != in2:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got {input2.shape[-1]} but "
                           f"expected {in2}")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != out_f):
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got {bias.shape[-1]} but "
                           f"expected {out_f}")
    lead = tuple(input1.shape[:-1])
    x1 = input1.reshape(-1, in1)
    x2 = input2.reshape(-1, in2)
    # (n, in1) @ (in1, out*in2) -> (n, out, in2), then contract in2 with x2: one GEMM and one reduction
    w = weight.permute(1, 0, 2).reshape(in1, out_f * in2)
    mixed = ember.matmul(x1, w).reshape(-1, out_f, in2)
    out = (mixed * x2.unsqueeze(1)).sum(-1)
    if bias is not None:
        out = out + bias
    return out.reshape(lead + (out_f,))


def _bilinear_samples(make):
    return [Sample(make((4, 3)), make((4, 2)), make((5, 3, 2)), make((5,))),
            Sample(make((4, 3)), make((4, 2)), make((5, 3, 2))),
            Sample(make((2, 4, 3)), make((2, 4, 2)), make((5, 3, 2)), make((5,))),
            Sample(make((3,)), make((2,)), make((5, 3, 2)), make((5,))),
            Sample(make((0, 3)), make((0, 2)), make((5, 3, 2)), make((5,)))]


_bilinear = composite('bilinear', samples=_bilinear_samples, public='nn.functional.bilinear')
_bilinear.error_samples = lambda make: [
    ErrorSample(make((4, 3)), make((4, 2)), make((5, 2, 2)), match='input1 size does not match weight size'),
    ErrorSample(make((4, 3)), make((3, 2)), make((5, 3, 2)), match='input batch dimensions do not match')]
