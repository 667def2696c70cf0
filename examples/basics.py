"""Tensors and autograd in a few lines: the same code runs with ``import torch``."""
import ember as torch

x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
w = torch.tensor([[0.5], [-1.0]], requires_grad=True)
y = (x.sum(0, keepdim=True) * w.t()).sum()
print('y =', y.item())
y.backward()
print('dy/dx =', x.grad)
print('dy/dw =', w.grad)

# higher-order gradients: d/dz of d/dz z**3 = 6z
z = torch.tensor([2.0], requires_grad=True)
(dz,) = torch.autograd.grad((z * z * z).sum(), z, create_graph=True)
(d2z,) = torch.autograd.grad(dz.sum(), z)
print('d(z^3)/dz =', dz.item(), ' d2(z^3)/dz2 =', d2z.item())
