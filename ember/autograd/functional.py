"""Higher-level derivatives built on ``autograd.grad``: jacobian, hessian, vjp, jvp, hvp, vhp."""


def _tuple(x):
    return (tuple(x), True) if isinstance(x, (list, tuple)) else ((x,), False)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """Returns ``(func(inputs), v^T J)``."""
    from ember.autograd import grad
    inputs, is_tuple = _tuple(inputs)
    inputs = tuple(x.detach().requires_grad_(True) for x in inputs)
    out = func(*inputs)
    outs, out_tuple = _tuple(out)
    vs = _tuple(v)[0] if v is not None else None
    gs = grad(outs, inputs, vs, create_graph=create_graph, allow_unused=True, materialize_grads=True)
    gs = tuple(g if create_graph else g.detach() for g in gs)
    return (out if create_graph else (tuple(o.detach() for o in outs) if out_tuple else outs[0].detach()),
            gs if is_tuple else gs[0])


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy='reverse-mode'):
    """The Jacobian of ``func`` at ``inputs``: shape ``output.shape + input.shape``."""
    import ember
    from ember.autograd import grad
    inputs, is_tuple = _tuple(inputs)
    inputs = tuple(x.detach().requires_grad_(True) for x in inputs)
    out = func(*inputs)
    outs, out_tuple = _tuple(out)
    result = []
    for o in outs:
        rows = [[] for _ in inputs]
        flat = o.reshape(-1)
        for k in range(flat.numel()):
            if o.requires_grad:
                gs = grad(flat[k], inputs, retain_graph=True, create_graph=create_graph, allow_unused=True,
                          materialize_grads=True)
            else:
                gs = [ember.zeros_like(x) for x in inputs]
            for r, g in zip(rows, gs):
                r.append(g)
        per_input = []
        for x, r in zip(inputs, rows):
            j = ember.stack(r).reshape(tuple(o.shape) + tuple(x.shape)) if r else ember.zeros(
                tuple(o.shape) + tuple(x.shape), dtype=x.dtype)
            per_input.append(j)
        result.append(tuple(per_input) if is_tuple else per_input[0])
    return tuple(result) if out_tuple else result[0]


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy='reverse-mode'):
    """The Hessian of scalar function ``func`` at ``inputs``."""
    inputs_t, is_tuple = _tuple(inputs)
    from ember.autograd import grad

    def grads(*xs):
        out = func(*xs)
        gs = grad(out, xs, create_graph=True, allow_unused=True, materialize_grads=True)
        return gs if is_tuple else gs[0]
    return jacobian(grads, inputs, create_graph=create_graph)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """Returns ``(func(inputs), J v)``, computed with the double-vjp trick."""
    import ember
    from ember.autograd import grad
    inputs, is_tuple = _tuple(inputs)
    inputs = tuple(x.detach().requires_grad_(True) for x in inputs)
    vs = _tuple(v)[0] if v is not None else tuple(ember.ones_like(x) for x in inputs)
    out = func(*inputs)
    outs, out_tuple = _tuple(out)
    us = tuple(ember.zeros_like(o).requires_grad_(True) for o in outs)
    gs = grad(outs, inputs, us, create_graph=True, allow_unused=True, materialize_grads=True)
    jv = grad(gs, us, vs, create_graph=create_graph, allow_unused=True, materialize_grads=True)
    jv = tuple(j if create_graph else j.detach() for j in jv)
    outs = tuple(o.detach() for o in outs)
    return (outs if out_tuple else outs[0]), (jv if out_tuple else jv[0])


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """Returns ``(func(inputs), H v)`` for scalar ``func``."""
    from ember.autograd import grad
    inputs, is_tuple = _tuple(inputs)
    inputs = tuple(x.detach().requires_grad_(True) for x in inputs)
    vs = _tuple(v)[0]
    out = func(*inputs)
    gs = grad(out, inputs, create_graph=True, allow_unused=True, materialize_grads=True)
    hv = grad(gs, inputs, vs, create_graph=create_graph, allow_unused=True, materialize_grads=True)
    return out.detach(), (hv if is_tuple else hv[0])


vhp = hvp
