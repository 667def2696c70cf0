"""Custom differentiable functions: subclass ``Function`` with static ``forward`` and ``backward``.

``Function.apply`` runs ``forward`` without recording, then makes one node
(``<Name>Backward``) for all outputs; that node is also the ``ctx`` object the
two methods share, as in PyTorch.
"""
import functools

from ember.autograd import grad_mode
from ember.autograd.graph import FREED_MESSAGE, NO_EDGE, DelayedError, Node, edge_of


class FunctionCtx:
    """The ``ctx`` API shared by Function nodes."""

    def save_for_backward(self, *tensors):
        """Keeps ``tensors`` (or None) for backward; they are checked against in-place changes."""
        from ember._tensor import Tensor
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_backward can only save variables, but argument "
                                f"{tensors.index(t)} is of type {type(t).__name__}")
        self._saved = tensors
        self._saved_versions = tuple(t._vc.v if t is not None else None for t in tensors)

    def save_for_forward(self, *tensors):
        self._saved_forward = tensors

    @property
    def saved_tensors(self):
        if self._released:
            raise RuntimeError(FREED_MESSAGE)
        saved = getattr(self, '_saved', ())
        for t, v in zip(saved, self._saved_versions if saved else ()):
            if t is not None and t._vc.v != v:
                from ember.ops._dispatch import _modified_error, _short
                nr = getattr(self, '_output_ids', {}).get(id(t))
                if nr is None:
                    raise _modified_error(t, v)
                # a saved output is named after this node, as torch does
                raise _modified_error(None, v, t._data.shape, t._dtype, t._device, t._vc.v,
                                      f", which is output {nr} of {_short(self.name())},")
        return saved

    def mark_dirty(self, *tensors):
        """Declares that forward modified these inputs in place."""
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors):
        """Declares outputs that have no gradient (e.g. indices)."""
        self._non_diff = tensors

    def set_materialize_grads(self, value):
        """Whether None output gradients reach backward as zeros (default True)."""
        self.materialize_grads = value


class BackwardFunction(FunctionCtx, Node):
    """The node (and ctx) of one call of a custom Function."""

    def __init__(self, cls):
        Node.__init__(self, (), (), ())
        self._cls = cls
        self._saved = ()
        self._saved_versions = ()
        self._dirty = ()
        self._non_diff = ()
        self._released = False
        self.materialize_grads = True
        self.needs_input_grad = ()

    def name(self):
        return self._cls.__name__ + 'Backward'

    def release(self):
        self._released = True
        self._saved = ()

    def apply(self, grads, create_graph):
        from ember._tensor import Tensor
        tgrads = [g if (create_graph or g is None) else Tensor._wrap(g) for g in grads]
        with grad_mode.set_grad_enabled(create_graph):
            result = self._cls.backward(self, *tgrads)
        if not isinstance(result, tuple):
            result = (result,)
        n = len(self.next_functions)
        if len(result) != n:
            if len(result) > n and all(r is None for r in result[n:]):
                result = result[:n]
            else:
                raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients (expected "
                                   f"{n}, got {len(result)})")
        out = []
        for i, (r, meta) in enumerate(zip(result, self.input_meta)):
            if r is None or meta is None:
                out.append(None)
                continue
            if not isinstance(r, Tensor):
                raise TypeError(f"function {self.name()} returned a gradient of type {type(r).__name__} for input "
                                f"{i}; expected a Tensor or None")
            if r._data.shape != meta[0]:
                try:
                    r = r.expand(meta[0]) if r._data.size == 1 else r.sum_to_size(meta[0])
                except RuntimeError:
                    raise RuntimeError(f"Function {self.name()} returned an invalid gradient at index {i} - got "
                                       f"{list(r.shape)} but expected shape compatible with "
                                       f"{list(meta[0])}") from None
            out.append(r if create_graph else r._data)
        return tuple(out)


class _FunctionMeta(type):
    """Gives each Function subclass its own node class, ``<Name>Backward``, as torch does."""

    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        cls._backward_cls = type(name + 'Backward', (BackwardFunction,), {'__module__': cls.__module__})


class Function(metaclass=_FunctionMeta):
    """Base class of custom autograd functions (``forward``/``backward`` static methods, called via ``apply``)."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    vjp = backward

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        from ember._tensor import Tensor
        ctx = cls._backward_cls(cls)
        tensors = [a if isinstance(a, Tensor) else None for a in args]
        record = grad_mode.is_grad_enabled() and any(t is not None and t._requires_grad for t in tensors)
        ctx.needs_input_grad = tuple(t is not None and t._requires_grad for t in tensors)
        uses_setup = cls.setup_context is not Function.setup_context
        with grad_mode.no_grad():
            if uses_setup:
                output = cls.forward(*args, **kwargs)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        if uses_setup:
            cls.setup_context(ctx, args, output)
        single = not isinstance(output, tuple)
        outputs = (output,) if single else output
        if not record:
            return output
        ctx.next_functions = tuple(edge_of(t) if t is not None else NO_EDGE for t in tensors)
        ctx.input_meta = tuple((t._data.shape, t._dtype) if t is not None else None for t in tensors)
        dirty = {id(t) for t in ctx._dirty}
        non_diff = {id(t) for t in ctx._non_diff}
        results = []
        meta = []
        for i, out in enumerate(outputs):
            if not isinstance(out, Tensor):
                results.append(out)
                meta.append(None)
                continue
            is_non_diff = id(out) in non_diff
            if any(out is t for t in tensors) and id(out) not in dirty:
                with grad_mode.no_grad():
                    out = out.view_as(out)  # an input returned unchanged becomes a view of it, as in torch
            meta.append((out._data.shape, out._dtype))
            if is_non_diff or out._dtype.category < 2:
                results.append(out)
                continue
            if out._base is not None and id(out) not in dirty:
                # in-place on this view would bypass the custom backward: torch forbids it, naming the Function
                out.__dict__['_no_grad_view'] = f'Output {i} of {cls.__name__}'
            if id(out) in dirty:
                from ember.ops._dispatch import rebase_history
                if out._requires_grad and out._grad_fn is None and out._base is None:
                    raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
                stand_in = Tensor._make(out._data, out._device)
                stand_in._requires_grad = True
                stand_in._grad_fn = ctx
                stand_in._output_nr = i
                out._vc.v += 1
                rebase_history(out, stand_in)
            else:
                out._requires_grad = True
                out._grad_fn = ctx
                out._output_nr = i
            results.append(out)
        ctx.output_meta = tuple(m if m is not None else ((), None) for m in meta)
        ctx._output_ids = {id(o): i for i, o in enumerate(results) if isinstance(o, Tensor)}
        return results[0] if single else tuple(results)


def once_differentiable(fn):
    """Decorates a ``backward`` whose result cannot be differentiated again."""
    @functools.wraps(fn)
    def wrapper(ctx, *grads):
        from ember._tensor import Tensor
        with grad_mode.no_grad():
            result = fn(ctx, *grads)
        if not grad_mode.is_grad_enabled():
            return result
        needs = [g for g in grads if isinstance(g, Tensor) and g._requires_grad]
        if not needs:
            return result
        single = not isinstance(result, tuple)
        outs = (result,) if single else result
        err = DelayedError("trying to differentiate twice a function that was marked with @once_differentiable",
                           tuple(edge_of(g) for g in needs), tuple((g._data.shape, g._dtype) for g in needs), ())
        wrapped = []
        for r in outs:
            if isinstance(r, Tensor):
                r = r.detach()
                r._requires_grad = True
                r._grad_fn = err
                err.output_meta += ((r._data.shape, r._dtype),)
                r._output_nr = len(err.output_meta) - 1
            wrapped.append(r)
        return wrapped[0] if single else tuple(wrapped)
    return wrapper


class InplaceFunction(Function):
    def __init__(self, inplace=False):
        self.inplace = inplace


class NestedIOFunction(Function):
    pass
