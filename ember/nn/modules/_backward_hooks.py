"""Full backward hooks of modules, built from two identity autograd Functions.

The module's outputs pass through one identity node whose backward sees the
gradients w.r.t. the outputs (``grad_output``, where the pre-hooks run); its
inputs pass through another whose backward sees the gradients w.r.t. the
inputs (``grad_input``), where the hooks run and may replace them.
"""
from ember._tensor import Tensor
from ember.autograd.function import Function


class _Identity(Function):
    @staticmethod
    def forward(ctx, state, which, *tensors):
        ctx.state, ctx.which = state, which
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        if ctx.which == 'outputs':
            grads = ctx.state.on_grad_output(grads)
        else:
            grads = ctx.state.on_grad_input(grads)
        return (None, None) + tuple(grads)


class BackwardHookState:
    def __init__(self, module):
        self.module = module
        self.grad_output = None
        self.n_inputs = 0
        self.inputs_tracked = False

    def wrap_inputs(self, args):
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        self.n_inputs = len([a for a in args if isinstance(a, Tensor)])
        if not positions:
            return args
        self.inputs_tracked = True
        wrapped = _Identity.apply(self, 'inputs', *[args[i] for i in positions])
        args = list(args)
        for i, w in zip(positions, wrapped):
            args[i] = w
        return tuple(args)

    def wrap_outputs(self, output):
        single = isinstance(output, Tensor)
        outs = (output,) if single else tuple(output) if isinstance(output, (tuple, list)) else None
        if outs is None:
            return output
        positions = [i for i, o in enumerate(outs) if isinstance(o, Tensor) and o.requires_grad]
        if not positions:
            return output
        wrapped = _Identity.apply(self, 'outputs', *[outs[i] for i in positions])
        outs = list(outs)
        for i, w in zip(positions, wrapped):
            outs[i] = w
        return outs[0] if single else type(output)(outs)

    def on_grad_output(self, grads):
        for hook in self.module._backward_pre_hooks.values():
            result = hook(self.module, tuple(grads))
            if result is not None:
                grads = tuple(result) if isinstance(result, (tuple, list)) else (result,)
        self.grad_output = tuple(grads)
        if not self.inputs_tracked:
            self._run_hooks((None,) * max(self.n_inputs, 1))
        return grads

    def on_grad_input(self, grads):
        result = self._run_hooks(tuple(grads))
        return result if result is not None else grads

    def _run_hooks(self, grad_input):
        out = None
        for hook in self.module._backward_hooks.values():
            result = hook(self.module, grad_input, self.grad_output)
            if result is not None:
                grad_input = tuple(result) if isinstance(result, (tuple, list)) else (result,)
                out = grad_input
        return out
