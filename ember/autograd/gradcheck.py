"""Finite-difference checks of gradients: ``gradcheck`` and ``gradgradcheck``."""
import numpy as np


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytical and numerical gradients disagree."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (list, tuple)) else (x,)


def _flat_outputs(func, inputs):
    from ember._tensor import Tensor
    out = _as_tuple(func(*inputs))
    return [o for o in out if isinstance(o, Tensor) and o._dtype.category >= 2]


def _flat_values(func, inputs):
    return [np.array(o._data, dtype=np.complex128 if o.is_complex() else np.float64).reshape(-1)
            for o in _flat_outputs(func, inputs)]


def _numerical_jacobian(func, inputs, wrt, eps):
    """Columns of d(outputs)/d(input) by central differences, one per element of each checked input."""
    jac = []
    for i in wrt:  # grad stays enabled: gradgradcheck's function differentiates inside
        arr = inputs[i]._data
        cols = []
        for k in range(arr.size):
            idx = np.unravel_index(k, arr.shape)
            orig = arr[idx].copy()
            arr[idx] = orig + eps
            plus = _flat_values(func, inputs)
            arr[idx] = orig - eps
            minus = _flat_values(func, inputs)
            arr[idx] = orig
            cols.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
        jac.append(cols)
    return jac  # jac[input][element][output] -> vector over output elements


def _analytical_jacobian(func, inputs, wrt):
    import ember
    from ember.autograd import grad as autograd_grad
    outputs = _flat_outputs(func, inputs)
    targets = [inputs[i] for i in wrt]
    rows = []  # rows[output][out_element][input] -> vector over input elements
    for o in outputs:
        per_elem = []
        for k in range(o._data.size):
            go = ember.zeros_like(o)
            go._data.reshape(-1)[k] = 1
            if not o._requires_grad:
                per_elem.append([np.zeros(t._data.size) for t in targets])
                continue
            gs = autograd_grad([o], targets, [go], retain_graph=True, allow_unused=True)
            per_elem.append([np.zeros(t._data.size) if g is None else np.array(g._data, dtype=np.float64).reshape(-1)
                             for g, t in zip(gs, targets)])
        rows.append(per_elem)
    return outputs, rows


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True,
              fast_mode=False, masked=None):
    """Checks the gradients of ``func`` at ``inputs`` against central finite differences.

    Inputs that require grad should be float64.  Returns True, or raises
    ``GradcheckError`` naming the output and input whose Jacobians differ.
    """
    from ember._tensor import Tensor
    inputs = _as_tuple(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x._requires_grad]
    if not wrt:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of the them "
                         "have requires_grad=True.")
    for i in wrt:
        if inputs[i]._dtype.name not in ('float64', 'complex128'):
            import warnings
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point or complex. "
                          "This check will likely fail if all the inputs are not of double precision floating "
                          "point or complex. ")
    numerical = _numerical_jacobian(func, inputs, wrt, eps)
    outputs, analytical = _analytical_jacobian(func, inputs, wrt)
    for oi, o in enumerate(outputs):
        for ii, (i, cols) in enumerate(zip(wrt, numerical)):
            n_in = inputs[i]._data.size
            num = np.zeros((n_in, o._data.size))
            ana = np.zeros((n_in, o._data.size))
            for k in range(n_in):
                num[k] = np.real(cols[k][oi])
            for k in range(o._data.size):
                ana[:, k] = analytical[oi][k][ii]
            if not np.allclose(ana, num, rtol=rtol, atol=atol):
                if not raise_exception:
                    return False
                raise GradcheckError(f"Jacobian mismatch for output {oi} with respect to input {i},\n"
                                     f"numerical:{num}\nanalytical:{ana}\n")
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, gen_non_contig_grad_outputs=False,
                  raise_exception=True, nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
                  check_batched_grad=False, check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """Checks second-order gradients: gradcheck of the first gradient (built with ``create_graph=True``)."""
    import ember
    from ember._tensor import Tensor
    from ember.autograd import grad as autograd_grad
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        outs = _flat_outputs(func, inputs)
        rng = np.random.default_rng(0)
        grad_outputs = tuple(ember.tensor(rng.standard_normal(o._data.shape), dtype=o._dtype, requires_grad=True)
                             for o in outs)
    grad_outputs = _as_tuple(grad_outputs)
    n = len(inputs)
    wrt = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x._requires_grad]

    def first_grad(*args):
        xs, gos = args[:n], args[n:]
        outs = [o for o in _flat_outputs(func, xs) if o._requires_grad]
        gos = [g for o, g in zip(_flat_outputs(func, xs), gos) if o._requires_grad]
        if not outs:
            return tuple(ember.zeros_like(xs[i]) for i in wrt)
        gs = autograd_grad(outs, [xs[i] for i in wrt], gos, create_graph=True, allow_unused=True)
        return tuple(ember.zeros_like(xs[i]) if g is None else g for g, i in zip(gs, wrt))

    return gradcheck(first_grad, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
