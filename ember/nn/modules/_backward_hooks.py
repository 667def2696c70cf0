"""Module backward hooks, built from an identity autograd Function, as in torch.

A module call with full backward hooks passes its tensor inputs through one
``BackwardHookFunction`` node and its outputs through another.  A pre-hook on
the output node sees ``grad_output`` (where ``register_full_backward_pre_hook``
hooks run and may replace it); a post-hook on the input node sees
``grad_input`` (where ``register_full_backward_hook`` hooks run and may
replace it).  Positions that hold no tensor read as None in both tuples.
"""
import sys
import warnings

from ember._tensor import Tensor
from ember.autograd import grad_mode
from ember.autograd.function import Function


class BackwardHookFunction(Function):
    """Identity on its tensors; inputs that do not require grad stay non-differentiable."""

    @staticmethod
    def forward(ctx, *args):
        ctx.mark_non_differentiable(*[a for a in args if not a.requires_grad])
        return args

    @staticmethod
    def backward(ctx, *grads):
        return grads


class BackwardHook:
    """The state of one module call: where its tensors sit in args/outputs, and the grad_output seen."""

    def __init__(self, module, user_hooks, user_pre_hooks):
        self.module = module
        self.user_hooks = list(user_hooks)
        self.user_pre_hooks = list(user_pre_hooks)
        self.grad_outputs = None
        self.n_outputs = -1
        self.output_tensors_index = None
        self.n_inputs = -1
        self.input_tensors_index = None

    @staticmethod
    def _pack_with_none(indices, values, size):
        res = [None] * size
        for idx, val in zip(indices, values):
            res[idx] = val
        return tuple(res)

    @staticmethod
    def _unpack_none(indices, values):
        return tuple(values[idx] for idx in indices)

    def _apply_on_tensors(self, attach, args):
        """Routes the tensors of ``args`` through a BackwardHookFunction and lets ``attach`` hook its node."""
        idx = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        tensors = [args[i] for i in idx]
        if not (any(t.requires_grad for t in tensors) and grad_mode.is_grad_enabled()):
            return args, None
        new = BackwardHookFunction.apply(*tensors)
        attach(next(t.grad_fn for t in new if t.grad_fn is not None))
        items = list(args)
        for i, t in zip(idx, new):
            items[i] = t
        out = tuple(items) if type(args) is tuple else type(args)(*items)
        return out, idx

    def setup_input_hook(self, args):
        res, idx = self._apply_on_tensors(lambda node: node.register_hook(self._on_grad_input), args)
        self.n_inputs = len(args)
        self.input_tensors_index = idx
        return res

    def setup_output_hook(self, result):
        single = not isinstance(result, tuple)
        outs = (result,) if single else result
        res, idx = self._apply_on_tensors(lambda node: node.register_prehook(self._on_grad_output), outs)
        self.n_outputs = len(outs)
        self.output_tensors_index = idx
        return res[0] if single else res

    def _on_grad_output(self, grad_output):
        self.grad_outputs = self._pack_with_none(self.output_tensors_index, grad_output, self.n_outputs)
        expected = len(self.grad_outputs)
        for hook in self.user_pre_hooks:
            out = hook(self.module, self.grad_outputs)
            if out is None:
                continue
            if len(out) != expected:
                raise RuntimeError("Backward pre hook returned an invalid number of grad_output, got "
                                   f"{len(out)}, but expected {expected}")
            self.grad_outputs = out
        local = self.grad_outputs
        if self.input_tensors_index is None:
            # no input requires grad: the input side never runs, so the hooks run here
            warnings.warn("Full backward hook is firing when gradients are computed with respect to module outputs "
                          "since no inputs require gradients. See https://docs.pytorch.org/docs/main/generated/"
                          "torch.nn.Module.html#torch.nn.Module.register_full_backward_hook for more details.",
                          stacklevel=_user_stacklevel())
            grad_inputs = (None,) * self.n_inputs
            for hook in self.user_hooks:
                res = hook(self.module, grad_inputs, self.grad_outputs)
                if res is not None and not (isinstance(res, tuple) and all(r is None for r in res)):
                    raise RuntimeError("Backward hook for Modules where no input requires gradient should always "
                                       "return None or None for all gradients.")
            self.grad_outputs = None
        return tuple(local[i] for i in self.output_tensors_index)

    def _on_grad_input(self, grad_input, _grad_output):
        if self.grad_outputs is None:
            # the gradient reached the inputs without passing through the outputs (e.g. double backward)
            return None
        res = self._pack_with_none(self.input_tensors_index, grad_input, self.n_inputs)
        for hook in self.user_hooks:
            out = hook(self.module, res, self.grad_outputs)
            if out is None:
                continue
            if len(out) != len(res):
                raise RuntimeError("Backward hook returned an invalid number of grad_input, got "
                                   f"{len(out)}, but expected {len(res)}")
            res = out
        self.grad_outputs = None
        return self._unpack_none(self.input_tensors_index, res)


def _user_stacklevel():
    """The warning stack level of the first caller outside ember (the user's ``backward()`` line)."""
    frame, level = sys._getframe(2), 2
    while frame is not None and frame.f_globals.get('__name__', '').startswith('ember.'):
        frame, level = frame.f_back, level + 1
    return level


def attach_non_full_hooks(module, hooks, args, result):
    """Deprecated ``register_backward_hook``: hooks on the autograd node that made the (first) output."""
    var = result
    while not isinstance(var, Tensor):
        if isinstance(var, dict):
            var = next(v for v in var.values() if isinstance(v, Tensor))
        else:
            var = var[0]
    node = var.grad_fn
    if node is None:
        return
    for hook in hooks:
        node.register_hook(lambda grad_input, grad_output, hook=hook: hook(module, grad_input, grad_output))
    _warn_non_full(args, result, node)


def _warn_non_full(inputs, result, node):
    """The deprecation warnings torch gives when a non-full hook cannot see every gradient."""
    if isinstance(result, Tensor):
        result = (result,)
    elif not (isinstance(result, tuple) and all(isinstance(r, Tensor) for r in result)):
        warnings.warn("Using non-full backward hooks on a Module that does not return a single Tensor or a tuple of "
                      "Tensors is deprecated and will be removed in future versions. This hook will be missing some "
                      "of the grad_output. Please use register_full_backward_hook to get the documented behavior.",
                      FutureWarning, stacklevel=4)
        return
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    elif not (isinstance(inputs, tuple) and all(isinstance(i, Tensor) for i in inputs)):
        warnings.warn("Using non-full backward hooks on a Module that does not take as input a single Tensor or a "
                      "tuple of Tensors is deprecated and will be removed in future versions. This hook will be "
                      "missing some of the grad_input. Please use register_full_backward_hook to get the documented "
                      "behavior.", FutureWarning, stacklevel=4)
        return
    out_nodes = {r.grad_fn for r in result if r.grad_fn is not None}
    if not out_nodes or (len(out_nodes) == 1 and node not in out_nodes):
        warnings.warn("Using a non-full backward hook when outputs are nested in python data structure is deprecated "
                      "and will be removed in future versions. This hook will be missing some grad_output.",
                      FutureWarning, stacklevel=4)
    elif len(out_nodes) > 1:
        warnings.warn("Using a non-full backward hook when outputs are generated by different autograd Nodes is "
                      "deprecated and will be removed in future versions. This hook will be missing some grad_output. "
                      "Please use register_full_backward_hook to get the documented behavior.",
                      FutureWarning, stacklevel=4)
    else:
        input_nodes = {i.grad_fn for i in inputs if i.grad_fn is not None}
        if input_nodes != {n for n, _ in node.next_functions}:
            warnings.warn("Using a non-full backward hook when the forward contains multiple autograd Nodes is "
                          "deprecated and will be removed in future versions. This hook will be missing some "
                          "grad_input. Please use register_full_backward_hook to get the documented behavior.",
                          FutureWarning, stacklevel=4)
