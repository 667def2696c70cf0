"""``nn.Parameter`` and ``nn.Buffer``: tensors that modules register as their state."""
from ember._tensor import Tensor


class Parameter(Tensor):
    """A tensor that is a module parameter: assigning it to a Module attribute registers it.

    ``Parameter(data)`` shares storage with ``data`` and requires grad by default.
    """

    _is_param = True

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            import ember
            data = ember.empty(0)
        if requires_grad and not (data._dtype.is_floating_point or data._dtype.is_complex):
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        self = object.__new__(cls)
        self._data = data._data
        self._dtype = data._dtype
        self._device = data._device
        self._grad = None
        self._grad_fn = None
        self._output_nr = 0
        self._vc = data._vc
        self._base = None
        self._view_version = 0
        self._grad_acc = None
        self._hooks = None
        self._post_acc_hooks = None
        self._retains_grad = False
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True
        return self

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return 'Parameter containing:\n' + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self.detach(), self._requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.detach().clone(), self._requires_grad)
        memo[id(self)] = result
        return result


def _rebuild_parameter(data, requires_grad):
    return Parameter(data, requires_grad)


class _BufferMeta(type(Tensor)):
    """``isinstance(t, Buffer)`` is true for tensors made by ``Buffer(...)`` (they stay plain Tensors)."""

    def __instancecheck__(cls, instance):
        if cls is Buffer:
            return isinstance(instance, Tensor) and bool(instance.__dict__.get('_is_buffer', False))
        return super().__instancecheck__(instance)


class Buffer(Tensor, metaclass=_BufferMeta):
    """Marks a tensor as a buffer when assigned to a Module attribute (``persistent`` selects state_dict).

    ``Buffer(data)`` returns a detached plain Tensor sharing ``data``'s storage, flagged as a buffer.
    """

    def __new__(cls, data=None, *, persistent=True):
        import ember
        if data is None:
            data = ember.empty(0)
        t = data.detach().requires_grad_(data.requires_grad)
        t.persistent = persistent
        t._is_buffer = True
        return t


class UninitializedParameter(Parameter):
    """Placeholder of lazy modules (shape unknown until the first call)."""
