"""The optimizer base class: parameter groups, per-parameter state, hooks and ``state_dict``.

An algorithm subclasses :class:`Optimizer`, validates its hyperparameters in
``__init__``, and implements ``step`` as a loop over the groups that hands the
raw arrays of each parameter with a gradient to its pure update function in
``ember.optim._functional``.  The base class wraps every subclass's ``step`` so
that it runs under ``no_grad`` and calls the step hooks, as PyTorch does.
"""
import copy
import functools
import itertools
import warnings
from collections import OrderedDict, defaultdict

from ember import _dtype
from ember import backend as _backend
from ember._tensor import Tensor
from ember.autograd.grad_mode import enable_grad, no_grad

__all__ = ['Optimizer', 'required', 'register_optimizer_step_pre_hook', 'register_optimizer_step_post_hook']


class _RequiredParameter:
    """Marks a hyperparameter that every parameter group must give (SGD's ``lr`` in old torch)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()

_global_step_pre_hooks = OrderedDict()
_global_step_post_hooks = OrderedDict()


class _HookHandle:
    """Returned by ``register_*_hook``; ``remove()`` unregisters the hook."""

    _next_id = itertools.count()

    def __init__(self, hooks):
        self.hooks = hooks
        self.id = next(_HookHandle._next_id)

    def remove(self):
        self.hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _add_hook(hooks, hook, prepend=False):
    handle = _HookHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def register_optimizer_step_pre_hook(hook):
    """Registers ``hook(optimizer, args, kwargs)``, run before the ``step`` of every optimizer."""
    return _add_hook(_global_step_pre_hooks, hook)


def register_optimizer_step_post_hook(hook):
    """Registers ``hook(optimizer, args, kwargs)``, run after the ``step`` of every optimizer."""
    return _add_hook(_global_step_post_hooks, hook)


def _with_step_hooks(step):
    """Wraps a subclass's ``step``: no_grad, step hooks, and the flag that LR schedulers check."""
    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        if self.__dict__.get('_in_step', False):  # a subclass's step calling super().step()
            return step(self, *args, **kwargs)
        for hook in itertools.chain(_global_step_pre_hooks.values(), self._optimizer_step_pre_hooks.values()):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"{step} must return None or a tuple of (new_args, new_kwargs), but got "
                                       f"{result}.")
                args, kwargs = result
        self._opt_called = True
        self._in_step = True
        try:
            with no_grad():
                out = step(self, *args, **kwargs)
        finally:
            self._in_step = False
        for hook in itertools.chain(self._optimizer_step_post_hooks.values(), _global_step_post_hooks.values()):
            hook(self, args, kwargs)
        return out
    wrapper._ember_hooked = True
    return wrapper


def _call_closure(closure):
    """Runs ``closure`` with gradients enabled (``step`` itself runs under no_grad); None if there is none."""
    if closure is None:
        return None
    with enable_grad():
        return closure()


def _to_scalar(value):
    """A Python number for a hyperparameter that may be given as a one-element tensor."""
    return value.item() if isinstance(value, Tensor) else value


def _bump_version(tensor):
    """Records an in-place update of ``tensor``'s storage made on its raw array."""
    tensor._vc.v += 1


def _state_tensor(array, like):
    """Wraps a state array as an ember tensor on ``like``'s device."""
    return Tensor._make(array, like._device)


def _zeros_state(param):
    """A zero state tensor shaped like ``param`` (momentum buffers, running averages)."""
    return Tensor._make(_xp(param).zeros_like(param._data), param._device)


def _xp(tensor):
    """The array namespace of ``tensor``'s device."""
    return _backend.get(tensor._device).xp


def _scalar_state(param, value=0.0):
    """A 0-dim ``step``-like state tensor: float32 (float64 under a float64 default dtype), as torch's."""
    dtype = _dtype.float64 if _dtype.get_default_dtype() is _dtype.float64 else _dtype.float32
    array = _xp(param).asarray(value, dtype=dtype.np).reshape(())
    return Tensor._make(array, param._device)


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: an iterable of tensors, of ``(name, tensor)`` pairs, or of dicts that define parameter groups.
        defaults: the default hyperparameters, used by groups that do not set them.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get('step')
        if step is not None and not getattr(step, '_ember_hooked', False):
            cls.step = _with_step_hooks(step)

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        self._optimizer_state_dict_pre_hooks = OrderedDict()
        self._optimizer_state_dict_post_hooks = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks = OrderedDict()
        self._optimizer_load_state_dict_post_hooks = OrderedDict()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got {_typename(params)}")
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{'params': param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ pickling and printing
    def __getstate__(self):
        return {'defaults': self.defaults, 'state': self.state, 'param_groups': self.param_groups}

    _setstate_defaults = {}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in ('_optimizer_step_pre_hooks', '_optimizer_step_post_hooks', '_optimizer_state_dict_pre_hooks',
                     '_optimizer_state_dict_post_hooks', '_optimizer_load_state_dict_pre_hooks',
                     '_optimizer_load_state_dict_post_hooks'):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        self.defaults.setdefault('differentiable', False)
        for group in self.param_groups:
            for key, value in self._setstate_defaults.items():
                group.setdefault(key, value)

    def __repr__(self):
        text = self.__class__.__name__ + ' ('
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            text += ''.join(f"    {key}: {group[key]}\n" for key in sorted(group) if key != 'params')
        return text + ')'

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group):
        """Adds a group of parameters (a dict with ``'params'`` and optional hyperparameters)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group['params']
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                            "tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        tensors = [p[1] if isinstance(p, tuple) else p for p in params]
        param_group['params'] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group['param_names'] = names
        for param in tensors:
            if not isinstance(param, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {_typename(param)}")
            if not self.defaults.get('differentiable', None) and not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)
        if len({id(p) for p in tensors}) != len(tensors):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        seen = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group['params'])
            if ('param_names' in param_group) != ('param_names' in group):
                which = "with names" if 'param_names' in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if any(id(p) in seen for p in tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        """Resets the gradients of all parameters: to None (default), or to zeros in place."""
        for group in self.param_groups:
            for p in group['params']:
                grad = p.grad
                if grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                if grad.grad_fn is not None:
                    grad.detach_()
                else:
                    grad.requires_grad_(False)
                grad._data.fill(0)
                _bump_version(grad)

    def step(self, closure=None):
        """Performs one optimization step; ``closure`` re-evaluates the loss and returns it."""
        raise NotImplementedError

    # ------------------------------------------------------------------ hooks
    def register_step_pre_hook(self, hook):
        """Registers ``hook(optimizer, args, kwargs) -> None or (new_args, new_kwargs)``, run before ``step``."""
        return _add_hook(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """Registers ``hook(optimizer, args, kwargs)``, run after ``step``."""
        return _add_hook(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        """Registers ``hook(optimizer)``, run before ``state_dict`` builds the dict."""
        return _add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        """Registers ``hook(optimizer, state_dict) -> state_dict or None``, run on the built dict."""
        return _add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        """Registers ``hook(optimizer, state_dict) -> state_dict or None``, run before loading."""
        return _add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        """Registers ``hook(optimizer)``, run after loading."""
        return _add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # ------------------------------------------------------------------ state_dict
    def state_dict(self):
        """The optimizer's state: ``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}``.

        Parameters are replaced by their position across all groups; the state tensors are not copied.
        """
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        index_of = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != 'params'}
            for p in group['params']:
                index_of.setdefault(id(p), len(index_of))
            packed['params'] = [index_of[id(p)] for p in group['params']]
            groups.append(packed)
        state = {(index_of[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        state_dict = {'state': state, 'param_groups': groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict):
        """Loads a state from :meth:`state_dict`: hyperparameters per group, state tensors copied per parameter."""
        state_dict = state_dict.copy()
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict['param_groups'])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g['params']) != len(s['params']) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        param_of = dict(zip(itertools.chain.from_iterable(g['params'] for g in saved_groups),
                            itertools.chain.from_iterable(g['params'] for g in groups)))
        flags_of = {}
        for g in state_dict['param_groups']:
            for i in g['params']:
                flags_of[i] = bool(g.get('fused', False)) or bool(g.get('capturable', False))
        state = defaultdict(dict)
        for key, value in state_dict['state'].items():
            if key in param_of:
                param = param_of[key]
                state[param] = _copy_state_value(param, value, flags_of.get(key, False))
            else:
                state[key] = value
        new_groups = []
        for group, saved in zip(groups, saved_groups):
            saved['params'] = group['params']
            if 'param_names' in group and 'param_names' not in saved:
                saved['param_names'] = group['param_names']
            new_groups.append(saved)
        self.__setstate__({'state': state, 'param_groups': new_groups})
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)


def _copy_state_value(param, value, fused_or_capturable, key=None):
    """A copy of one saved state value, its tensors moved to ``param``'s device (and dtype, except ``step``)."""
    if isinstance(value, Tensor):
        if key == 'step':
            out = value.to(dtype=_dtype.float32, device=param.device) if fused_or_capturable else value
        elif param.is_floating_point():
            out = value.to(dtype=param.dtype, device=param.device)
        else:
            out = value.to(device=param.device)
        return out.clone() if out is value else out
    if isinstance(value, dict):
        return {k: _copy_state_value(param, v, fused_or_capturable, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_copy_state_value(param, v, fused_or_capturable) for v in value)
    return value


def _typename(obj):
    if isinstance(obj, Tensor):
        return 'ember.Tensor'
    module = type(obj).__module__
    name = type(obj).__qualname__
    return name if module in ('builtins', None) else f"{module}.{name}"


def _check_lr(lr):
    """Raises torch's errors for an invalid learning rate (a float or a one-element tensor)."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= _to_scalar(lr):
        raise ValueError(f"Invalid learning rate: {lr}")


def _check_fused(fused, foreach, differentiable):
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def _grads_of(optimizer, group):
    """The group's ``(param, grad array)`` pairs for parameters that have a gradient."""
    if group.get('differentiable', False):
        raise RuntimeError(f"{type(optimizer).__name__}: differentiable=True is not supported by ember")
    out = []
    for p in group['params']:
        grad = p.grad
        if grad is not None:
            out.append((p, grad._data))
    return out
