"""Automatic differentiation.

Every op records a Node (``grad_fn``) that links to the nodes of its inputs.
``backward()`` walks that graph from the output in reverse creation order,
applying each node's derivative rule to turn output gradients into input
gradients, and adds the results into the ``.grad`` of the leaves.  Rules run
on raw arrays, or on Tensors when ``create_graph=True`` so that the gradient
is itself differentiable (higher-order gradients).
"""
from ember import backend as _backend
from ember.autograd import anomaly_mode, grad_mode, graph
from ember.autograd.anomaly_mode import detect_anomaly, set_detect_anomaly
from ember.autograd.engine import run_backward
from ember.autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled,
                                      no_grad, set_grad_enabled)
from ember.autograd.graph import edge_of, get_accumulate_node


def _tensor():
    from ember._tensor import Tensor
    return Tensor


def _as_tuple(x):
    """None, one tensor, or any iterable of tensors (a list, ``model.parameters()``) as a tuple."""
    if x is None:
        return None
    if isinstance(x, _tensor()) or not hasattr(x, '__iter__'):
        return (x,)
    return tuple(x)


def _root_grads(outputs, grad_outputs, create_graph, op):
    import ember
    grads = []
    for i, out in enumerate(outputs):
        g = grad_outputs[i] if grad_outputs is not None else None
        if g is None:
            if out._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if out._dtype.category > 2:
                raise RuntimeError("grad can be implicitly created only for real scalar outputs but got "
                                   f"{out._dtype}")
            if not create_graph:
                grads.append(_backend.of_array(out._data).xp.ones_like(out._data))
                continue
            g = ember.ones_like(out)
        elif not isinstance(g, _tensor()):
            g = ember.tensor(g, dtype=out._dtype)
        if g._data.shape != out._data.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] "
                               f"has a shape of {out.shape}.")
        if g._dtype.category != out._dtype.category and not (g._dtype.category >= 2 and out._dtype.category >= 2):
            raise RuntimeError(f"For complex Tensors, both grad_output and output are required to have the same "
                               f"dtype. Mismatch in dtype: grad_output[{i}] has a dtype of {g.dtype} and "
                               f"output[{i}] has a dtype of {out.dtype}.")
        grads.append(g if create_graph else g._data)
    return grads


def _edge(t):
    """``edge_of(t)``, after refreshing the grad_fn of a view whose base was modified in place."""
    if t._base is not None:
        t.grad_fn
    return edge_of(t)


def _roots(outputs, op):
    roots = []
    for i, out in enumerate(outputs):
        if not out._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        roots.append(_edge(out))
    return roots


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None, inputs=None):
    """Accumulates into the leaves' ``.grad`` the gradient of ``tensors`` (weighted by ``grad_tensors``)."""
    outputs = _as_tuple(tensors)
    grad_tensors = _as_tuple(grad_tensors if grad_tensors is not None else grad_variables)
    if retain_graph is None:
        retain_graph = create_graph
    if grad_tensors is not None and len(grad_tensors) != len(outputs):
        raise RuntimeError(f"grad can be implicitly created only for scalar outputs")
    roots = _roots(outputs, 'backward')
    grads = _root_grads(outputs, grad_tensors, create_graph, 'backward')
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if len(inputs) == 0:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
        targets = [_edge(t) for t in inputs]
        captured = run_backward(roots, grads, retain_graph, create_graph, targets=targets, accumulate=False)
        Tensor = _tensor()
        for t, g in zip(inputs, captured):
            if g is None:
                continue
            g = g if create_graph else Tensor._wrap(g.copy())
            if t._grad_fn is None:
                from ember.autograd.engine import _accumulate
                _accumulate(get_accumulate_node(t), g if create_graph else g._data, create_graph)
            else:
                t._grad = g if t._grad is None else t._grad + g
        return
    run_backward(roots, grads, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Returns the gradients of ``outputs`` with respect to ``inputs`` (without touching ``.grad``)."""
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    grad_outputs = _as_tuple(grad_outputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    if retain_graph is None:
        retain_graph = create_graph
    for t in inputs:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    if grad_outputs is not None and len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad requires one grad_output per output: got {len(grad_outputs)} for "
                           f"{len(outputs)} outputs")
    roots = _roots(outputs, 'grad')
    grads = _root_grads(outputs, grad_outputs, create_graph, 'grad')
    targets = [_edge(t) for t in inputs]
    captured = run_backward(roots, grads, retain_graph, create_graph, targets=targets, accumulate=False)
    Tensor = _tensor()
    result = []
    import ember
    for i, (t, g) in enumerate(zip(inputs, captured)):
        if g is None:
            if materialize_grads:
                result.append(ember.zeros_like(t))
                continue
            if not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have been used in the "
                                   "graph. Set allow_unused=True if this is the desired behavior.")
            result.append(None)
            continue
        result.append(g if create_graph else Tensor._wrap(g))
    return tuple(result)


class _VariableMeta(type):
    def __instancecheck__(cls, other):
        return isinstance(other, _tensor())


class Variable(metaclass=_VariableMeta):
    """Legacy wrapper kept for old scripts: ``Variable(t, requires_grad=...)`` returns a tensor."""

    def __new__(cls, data, requires_grad=False, volatile=False):
        t = data.detach()
        if requires_grad:
            t.requires_grad_(True)
        return t


from ember.autograd.function import Function, FunctionCtx, once_differentiable  # noqa: E402
from ember.autograd.gradcheck import gradcheck, gradgradcheck  # noqa: E402
from ember.autograd import functional  # noqa: E402,F401

__all__ = ['backward', 'grad', 'Variable', 'Function', 'FunctionCtx', 'once_differentiable', 'gradcheck',
           'gradgradcheck', 'no_grad', 'enable_grad', 'set_grad_enabled', 'inference_mode', 'is_grad_enabled',
           'is_inference_mode_enabled', 'detect_anomaly', 'set_detect_anomaly', 'graph', 'anomaly_mode',
           'grad_mode']
