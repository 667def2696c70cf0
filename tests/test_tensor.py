"""The basic Tensor API against PyTorch: conversions, metadata, memory sharing with NumPy, dtype moves."""
import numpy as np
import pytest

import ember
from tests.conftest import requires_torch, torch
from tests.test_autograd import same

pytestmark = requires_torch


def test_item_and_tolist():
    same(lambda m: (m.tensor(2.5).item(), m.tensor([7]).item(), m.tensor([[True]]).item(),
                    m.tensor([[1, 2], [3, 4]]).tolist(), m.tensor(3.).tolist(), m.zeros(0, 2).tolist(),
                    type(m.tensor([1.5], dtype=m.float16).item()).__name__, type(m.tensor(1).item()).__name__))
    same(lambda m: m.tensor([1., 2.]).item())
    same(lambda m: m.zeros(0).item())


def test_numpy_shares_memory():
    t = ember.tensor([1., 2., 3.])
    a = t.numpy()
    a[0] = 10.
    assert t.tolist() == [10., 2., 3.]
    t.add_(1)
    assert a.tolist() == [11., 3., 4.]
    assert a.dtype == np.float32
    with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires grad"):
        ember.ones(2, requires_grad=True).numpy()
    assert ember.ones(2, requires_grad=True).detach().numpy().tolist() == [1., 1.]
    v = ember.arange(6.).view(2, 3).t()
    assert v.numpy().strides == (8 // 2, 12)  # float32: stride (1, 3) elements


def test_from_numpy_shares_memory():
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    t = ember.from_numpy(a)
    assert t.dtype is ember.int32 and t.shape == (2, 3)
    a[0, 0] = 100
    assert t[0, 0].item() == 100 if hasattr(ember.ops, 'indexing') else t.tolist()[0][0] == 100
    t.mul_(2)
    assert a[1, 2] == 10
    f = ember.from_numpy(np.zeros(3))
    assert f.dtype is ember.float64


def test_array_protocol():
    def fn(m):
        t = m.tensor([[1., 2.], [3., 4.]])
        return (np.asarray(t).tolist(), np.asarray(t).dtype.name, np.asarray(t, dtype=np.float64).dtype.name,
                np.array(m.tensor([1, 2])).dtype.name)
    same(fn)


def test_len_and_iteration():
    same(lambda m: (len(m.ones(3, 2)), [r.tolist() for r in m.tensor([[1, 2], [3, 4]])], list(m.zeros(0, 2))))
    same(lambda m: len(m.tensor(1.)))
    same(lambda m: iter(m.tensor(1.)))


def test_python_number_conversions():
    same(lambda m: (int(m.tensor([3.7])), float(m.tensor(2)), bool(m.tensor([0.])), bool(m.tensor(2)),
                    complex(m.tensor(1.5)), [10, 20, 30][m.tensor(1)], f'{m.tensor(2.5):.2f}'))
    same(lambda m: bool(m.tensor([1., 2.])))
    same(lambda m: bool(m.zeros(0)))
    same(lambda m: [1, 2][m.tensor(1.)])
    same(lambda m: [1, 2][m.tensor([0, 1])])
    same(lambda m: int(m.tensor([1, 2])))
    same(lambda m: float(m.tensor([1., 2.])))


@pytest.mark.parametrize('method', ['float', 'double', 'half', 'bfloat16', 'long', 'int', 'short', 'char',
                                    'byte', 'bool', 'cfloat', 'cdouble'])
def test_dtype_methods(method):
    def fn(m):
        t = m.tensor([1.5, -2.0, 0.0])
        r = getattr(t, method)()
        return str(r.dtype), r.float().tolist() if not r.is_complex() else r.real.tolist()
    same(fn)


def test_to():
    def fn(m):
        t = m.tensor([1., 2.])
        i = m.tensor([1, 2])
        return (t.to(m.float64).dtype, t.to(m.float32) is t, t.to('cpu') is t, t.to(i).dtype,
                t.to(dtype=m.int32).dtype, t.to('cpu', m.float16).dtype, t.to(m.float32, copy=True) is t,
                t.to(device='cpu', dtype=m.float64).dtype, t.type(), t.type(m.float64).dtype,
                t.type('torch.IntTensor').dtype, t.type_as(i).dtype, t.cpu() is t)
    same(fn)


def test_to_is_differentiable():
    def fn(m):
        x = m.tensor([1., 2.], requires_grad=True)
        y = x.to(m.float64) * 3
        y.sum().backward()
        return x.grad, type(y.grad_fn.next_functions[0][0]).__name__
    same(fn)


def test_clone():
    def fn(m):
        x = m.tensor([1., 2.], requires_grad=True)
        c = x.clone()
        c2 = x.detach().clone()
        c2.add_(1)
        (c * 2).sum().backward()
        return c, x, x.grad, c.is_leaf, type(c.grad_fn).__name__, c.data_ptr() != x.data_ptr()
    same(fn)
    same(lambda m: m.arange(6.).view(2, 3).t().clone().stride())


def test_identity_hashing():
    a, b = ember.ones(2), ember.ones(2)
    assert hash(a) != hash(b) and hash(a) == hash(a)
    assert len({a, b, a}) == 2
    d = {a: 1, b: 2}
    assert d[a] == 1 and d[b] == 2


def test_requires_grad_only_for_float_and_complex():
    same(lambda m: m.tensor([1, 2], requires_grad=True))
    same(lambda m: m.ones(2, dtype=m.bool, requires_grad=True))
    same(lambda m: [m.ones(1, dtype=d, requires_grad=True).requires_grad
                    for d in (m.float16, m.float32, m.float64, m.complex64, m.bfloat16)])

    def setter(m):
        t = m.ones(2, dtype=m.int32)
        t.requires_grad = True
    same(setter)


def test_metadata():
    def fn(m):
        t = m.zeros(2, 3, 4)
        p = t.permute(2, 0, 1)
        return (t.size(), t.shape, t.size(1), t.size(-1), t.stride(), p.stride(), p.stride(0), t.dim(), t.ndim,
                t.numel(), m.numel(t), t.nelement(), t.element_size(), p.is_contiguous(), t.is_contiguous(),
                repr(t.shape), t.shape == (2, 3, 4), t.is_floating_point(), t.is_complex(), t.is_leaf,
                t.storage_offset(), t.device.type, str(t.device), t.dtype, t.layout, t.get_device(), t.itemsize,
                t.nbytes, m.tensor(1.).dim(), m.tensor(1.).size(), m.tensor(1.).stride())
    same(fn)
    same(lambda m: m.zeros(2, 3).size(2))
    same(lambda m: m.zeros(2, 3).stride(-3))


def test_grad_setter_checks():
    def fn(m):
        x = m.ones(2, requires_grad=True)
        x.grad = m.ones(3)
    same(fn)

    def dtype(m):
        x = m.ones(2, requires_grad=True)
        x.grad = m.ones(2, dtype=m.float64)
    same(dtype)

    def ok(m):
        x = m.ones(2, requires_grad=True)
        x.grad = m.full((2,), 3.)
        (x * 2).sum().backward()
        return x.grad
    same(ok)


def test_data_attribute():
    def fn(m):
        x = m.ones(2, requires_grad=True)
        d = x.data
        d.mul_(3)
        y = x * 2
        x.data = m.tensor([5., 6.])
        return x, d, d.requires_grad, y, x.requires_grad, x.is_leaf
    same(fn)


def test_tensor_constructor_and_is_tensor():
    same(lambda m: (m.Tensor([1, 2]).dtype, m.Tensor(2, 3).shape, m.is_tensor(m.ones(1)), m.is_tensor(1.0),
                    isinstance(m.ones(1), m.Tensor)))
