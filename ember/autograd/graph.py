"""Graph nodes.

Every tensor produced by a recorded op points at a ``Node`` (its ``grad_fn``).
A node knows the nodes that produced its inputs (``next_functions``), keeps
what its derivative rule needs (saved tensors, parameters), and turns the
gradients of its outputs into gradients of its inputs in ``apply``.  Leaves
that require grad end in an ``AccumulateGrad`` node that adds into ``.grad``.
"""
import itertools

from ember.autograd import anomaly_mode

_sequence = itertools.count()

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call .backward() "
    "or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time "
    "or if you need to access saved tensors after calling backward.")


class RemovableHandle:
    """Returned by ``register_*hook``; ``remove()`` unregisters the hook."""

    def __init__(self, hooks, hook):
        self._hooks = hooks
        self._hook = hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class Node:
    """A step of the backward graph."""

    __slots__ = ('next_functions', 'seq', 'input_meta', 'output_meta', '_hooks', '_pre_hooks',
                 '_tensor_pre_hooks', '_retained', 'trace', '_metadata', '__weakref__')

    materialize_grads = True  # missing output gradients reach ``apply`` as zeros (Functions may opt out)

    def __init__(self, next_functions, input_meta, output_meta):
        self.next_functions = next_functions
        self.input_meta = input_meta
        self.output_meta = output_meta
        self.seq = next(_sequence)
        self._hooks = None
        self._pre_hooks = None
        self._tensor_pre_hooks = None
        self._retained = None
        self._metadata = None
        self.trace = anomaly_mode.creation_trace() if anomaly_mode._enabled else None

    @property
    def metadata(self):
        """A dict for user data attached to this node (made on first use)."""
        if self._metadata is None:
            self._metadata = {}
        return self._metadata

    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f'<{self.name()} object at {id(self):#x}>'

    def apply(self, grads, create_graph):
        """Gradients of the inputs (one per entry of ``next_functions``) from those of the outputs."""
        raise NotImplementedError

    def release(self):
        """Frees saved values once backward no longer needs them."""

    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` runs after this node; it may return new grad_inputs."""
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(fn)
        return RemovableHandle(self._hooks, fn)

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` runs before this node; it may return new grad_outputs."""
        if self._pre_hooks is None:
            self._pre_hooks = []
        self._pre_hooks.append(fn)
        return RemovableHandle(self._pre_hooks, fn)

    def _add_tensor_hook(self, output_nr, fn):
        if self._tensor_pre_hooks is None:
            self._tensor_pre_hooks = {}
        hooks = self._tensor_pre_hooks.setdefault(output_nr, [])
        hooks.append(fn)
        return RemovableHandle(hooks, fn)

    def _retain(self, output_nr, tensor):
        if self._retained is None:
            self._retained = {}
        self._retained[output_nr] = tensor


_new = object.__new__


def new_node(cls, next_functions, input_meta, output_meta):
    """``cls(next_functions, input_meta, output_meta)`` for a Node subclass without its own ``__init__``,
    without the cost of calling one (this runs once per recorded op)."""
    node = _new(cls)
    node.next_functions = next_functions
    node.input_meta = input_meta
    node.output_meta = output_meta
    node.seq = next(_sequence)
    node._hooks = node._pre_hooks = node._tensor_pre_hooks = node._retained = node._metadata = None
    node.trace = anomaly_mode.creation_trace() if anomaly_mode._enabled else None
    return node


class AccumulateGrad(Node):
    """Adds the incoming gradient into ``variable.grad`` (run by the engine itself)."""

    __slots__ = ('variable',)

    def __init__(self, variable):
        super().__init__((), (), ((variable.shape, variable._dtype),))
        self.variable = variable


def get_accumulate_node(tensor):
    """The one AccumulateGrad node of a leaf tensor (created on first use)."""
    ref = tensor._grad_acc
    node = ref() if ref is not None else None
    if node is None:
        import weakref
        node = AccumulateGrad(tensor)
        tensor._grad_acc = weakref.ref(node)
    return node


NO_EDGE = (None, 0)


def edge_of(tensor):
    """The ``(node, output_nr)`` a gradient for ``tensor`` flows into, or ``(None, 0)``."""
    if tensor._grad_fn is not None:
        return (tensor._grad_fn, tensor._output_nr)
    if tensor.requires_grad:
        return (get_accumulate_node(tensor), 0)
    return NO_EDGE


class DelayedError(Node):
    """Stands for the gradient of a rule that cannot be differentiated again."""

    __slots__ = ('message',)

    def __init__(self, message, next_functions, input_meta, output_meta):
        super().__init__(next_functions, input_meta, output_meta)
        self.message = message

    def apply(self, grads, create_graph):
        raise RuntimeError(self.message)
