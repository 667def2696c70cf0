"""The backward engine.

``run_backward`` walks the graph from the roots without recursion: a first
pass counts, for every reachable node, how many edges lead into it; then nodes
run once all their gradients have arrived, newest first (a heap keyed by
creation order, so the order is deterministic).  Gradients are raw backend
arrays unless ``create_graph`` is set, in which case they are Tensors and the
rules record a new graph as they run.
"""
import heapq
import warnings

from ember import backend as _backend
from ember._tensor import Tensor
from ember.autograd import anomaly_mode, grad_mode
from ember.autograd.graph import AccumulateGrad

_wrap = Tensor._wrap


def _zeros_for(meta, like, create_graph):
    shape, dtype = meta
    if create_graph:
        import ember
        return ember.zeros(shape, dtype=dtype, device=like.device)
    return _backend.of_array(like).xp.zeros(shape, dtype=dtype.np)


def _sum_to(grad, shape, create_graph):
    """Reduces a broadcast gradient back to ``shape``."""
    if create_graph:
        return grad.sum_to_size(shape)
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape) if n == 1 and grad.shape[i + lead] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if lead:
        grad = grad.reshape(shape)
    return grad


def _conform(grad, meta, create_graph):
    shape, dtype = meta
    if grad.shape != shape:
        if grad.ndim == 0 and len(shape) == 0:
            pass
        else:
            grad = _sum_to(grad, shape, create_graph)
    if create_graph:
        if grad.dtype is not dtype:
            grad = grad.to(dtype) if dtype.category >= grad.dtype.category else grad.real.to(dtype)
    elif grad.dtype != dtype.np:
        if grad.dtype.kind == 'c' and dtype.category < 3:
            grad = grad.real
        grad = grad.astype(dtype.np)
    return grad


def _run_hooks(hooks, grad, create_graph):
    for hook in hooks:
        t = grad if create_graph else _wrap(grad)
        new = hook(t)
        if new is not None:
            grad = new if create_graph else new._data
    return grad


CREATE_GRAPH_WARNING = (
    "Using backward() with create_graph=True will create a reference cycle between the parameter and its gradient "
    "which can cause a memory leak. We recommend using autograd.grad when creating the graph to avoid this. If you "
    "have to use this function, make sure to reset the .grad fields of your parameters to None after use to break "
    "the cycle and avoid the leak.")


def _accumulate(node, grad, create_graph):
    var = node.variable
    if var._hooks:
        grad = _run_hooks(var._hooks, grad, create_graph)
    if create_graph:
        warnings.warn(CREATE_GRAPH_WARNING, UserWarning, stacklevel=4)
        var._grad = grad if var._grad is None else var._grad + grad
    elif var._grad is None:
        var._grad = _wrap(grad.copy())
    else:
        # NOTE: like torch, an existing .grad is updated in place (also one made by create_graph=True).
        g = var._grad._data
        if g.shape == grad.shape and getattr(g.flags, 'writeable', True):
            g += grad
            var._grad._vc.v += 1
        else:
            var._grad = _wrap(g + grad)
    if var._post_acc_hooks:
        for hook in var._post_acc_hooks:
            hook(var)


def _has_nan(grad, create_graph):
    arr = grad._data if create_graph else grad
    xp = _backend.of_array(arr).xp
    return arr.dtype.kind in 'fcV' and bool(xp.isnan(arr).any())


def run_backward(roots, root_grads, retain_graph, create_graph, targets=None, accumulate=True):
    """Runs backward from ``roots`` (a list of ``(node, output_nr)``).

    ``targets``: optional list of ``(node, output_nr)`` whose incoming gradient
    is captured and returned (``autograd.grad``); with ``accumulate=False``
    AccumulateGrad nodes do not run.  Returns the captured gradients.
    """
    # pass 1: dependency counts over the reachable graph
    deps = {}
    order = []
    stack = list(dict.fromkeys(n for n, _ in roots))  # one node may be several roots (multi-output ops)
    seen = set(stack)
    while stack:
        node = stack.pop()
        order.append(node)
        for nxt, _ in node.next_functions:
            if nxt is None:
                continue
            deps[nxt] = deps.get(nxt, 0) + 1
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)

    captured = None
    runs = None
    target_slots = {}
    if targets is not None:
        captured = [None] * len(targets)
        for i, (node, nr) in enumerate(targets):
            target_slots.setdefault(node, []).append((nr, i))
        runs = _nodes_to_run(order, target_slots)

    buffers = {}
    for (node, nr), grad in zip(roots, root_grads):
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * len(node.output_meta)
        buf[nr] = grad if buf[nr] is None else buf[nr] + grad
    heap = []
    for node in buffers:
        if deps.get(node, 0) == 0:
            heapq.heappush(heap, (-node.seq, id(node), node))

    heappush, heappop = heapq.heappush, heapq.heappop
    with grad_mode.set_grad_enabled(create_graph):
        while heap:
            node = heappop(heap)[2]
            grads = buffers.pop(node, None)
            if grads is None:
                grads = [None] * len(node.output_meta)
            if node._tensor_pre_hooks:
                for nr, hooks in node._tensor_pre_hooks.items():
                    if grads[nr] is not None and hooks:
                        grads[nr] = _run_hooks(list(hooks), grads[nr], create_graph)
            if node._retained:
                for nr, ref in node._retained.items():
                    t = ref()
                    if t is not None and grads[nr] is not None:
                        g = grads[nr] if create_graph else _wrap(grads[nr].copy())
                        t.grad = g if t.grad is None else t.grad + g
            if target_slots and node in target_slots:
                for nr, i in target_slots[node]:
                    captured[i] = grads[nr]
            if node.__class__ is AccumulateGrad:
                if accumulate and grads[0] is not None:
                    if node._pre_hooks:
                        grads = _run_node_pre_hooks(node, grads, create_graph)
                    _accumulate(node, grads[0], create_graph)
                    if node._hooks:
                        for hook in node._hooks:
                            hook((), (_maybe_wrap(grads[0], create_graph),))
                continue
            if runs is not None and node not in runs:
                continue
            if node._pre_hooks:
                grads = _run_node_pre_hooks(node, grads, create_graph)
            if len(grads) == 1:
                present = grads[0]
            else:
                present = next((g for g in grads if g is not None), None)
                if present is not None and node.materialize_grads:
                    for i, g in enumerate(grads):
                        if g is None and node.output_meta[i][1] is not None:
                            grads[i] = _zeros_for(node.output_meta[i], present, create_graph)
            if present is None:
                in_grads = (None,) * len(node.next_functions)
            else:
                try:
                    in_grads = node.apply(grads, create_graph)
                except Exception:
                    if anomaly_mode._enabled and node.trace:
                        _warn_trace(node)
                    raise
            if node._hooks:
                for hook in node._hooks:
                    new = hook(tuple(_maybe_wrap(g, create_graph) for g in in_grads),
                               tuple(_maybe_wrap(g, create_graph) for g in grads))
                    if new is not None:
                        in_grads = tuple(_maybe_unwrap(g, create_graph) for g in new)
            if anomaly_mode._enabled and anomaly_mode._check_nan:
                for i, g in enumerate(in_grads):
                    if g is not None and _has_nan(g, create_graph):
                        if node.trace:
                            _warn_trace(node)
                        raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")
            if not retain_graph:
                node.release()
            for (nxt, nr), g, meta in zip(node.next_functions, in_grads, node.input_meta):
                if nxt is None:
                    continue
                if g is not None:
                    # sum broadcast dimensions away and cast, unless the gradient already fits
                    if create_graph or g.shape != meta[0] or g.dtype is not meta[1].np:
                        g = _conform(g, meta, create_graph)
                    buf = buffers.get(nxt)
                    if buf is None:
                        buf = buffers[nxt] = [None] * len(nxt.output_meta)
                        buf[nr] = g
                    elif buf[nr] is None:
                        buf[nr] = g
                    else:
                        buf[nr] = buf[nr] + g
                remaining = deps[nxt] - 1
                deps[nxt] = remaining
                if remaining == 0:
                    heappush(heap, (-nxt.seq, id(nxt), nxt))
    return captured


def _run_node_pre_hooks(node, grads, create_graph):
    for hook in node._pre_hooks:
        new = hook(tuple(_maybe_wrap(g, create_graph) for g in grads))
        if new is not None:
            grads = [_maybe_unwrap(g, create_graph) for g in new]
    return grads


def _warn_trace(node):
    """Anomaly mode: shows where the failing node was made in forward."""
    warnings.warn(f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n"
                  f"{node.trace}", stacklevel=3)


def _nodes_to_run(order, target_slots):
    """Nodes with a target below them: only those run for ``autograd.grad``."""
    leads = set()
    runs = set()
    for node in reversed(_topological(order)):
        for nxt, _ in node.next_functions:
            if nxt is not None and nxt in leads:
                runs.add(node)
                break
        if node in runs or node in target_slots:
            leads.add(node)
    return runs


def _topological(order):
    indeg = {n: 0 for n in order}
    for n in order:
        for nxt, _ in n.next_functions:
            if nxt is not None:
                indeg[nxt] += 1
    ready = [n for n in order if indeg[n] == 0]
    out = []
    while ready:
        n = ready.pop()
        out.append(n)
        for nxt, _ in n.next_functions:
            if nxt is not None:
                indeg[nxt] -= 1
                if indeg[nxt] == 0:
                    ready.append(nxt)
    return out


def _maybe_wrap(g, create_graph):
    if g is None or create_graph:
        return g
    return _wrap(g)


def _maybe_unwrap(g, create_graph):
    if g is None or create_graph:
        return g
    return g._data
