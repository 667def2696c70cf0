"""Stochastic gradient descent, with momentum, Nesterov momentum, dampening and weight decay."""
from ember.optim import _functional as F
from ember.optim.optimizer import (Optimizer, _bump_version, _call_closure, _check_fused, _check_lr, _grads_of,
                                   _state_tensor, _to_scalar, _xp)

__all__ = ['SGD']


class SGD(Optimizer):
    """Implements stochastic gradient descent (optionally with momentum).

    Args:
        params: the parameters to optimize, or dicts defining parameter groups.
        lr: learning rate (default: 1e-3).
        momentum: momentum factor (default: 0).
        dampening: dampening for momentum (default: 0).
        weight_decay: L2 penalty (default: 0).
        nesterov: enables Nesterov momentum (default: False).
        maximize: maximize the objective instead of minimizing (default: False).
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        _check_lr(lr)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
                        maximize=maximize, foreach=foreach, differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        _check_fused(fused, foreach, differentiable)

    # group keys added by newer versions, filled in when older pickles/state_dicts load
    _setstate_defaults = dict(nesterov=False, maximize=False, foreach=None, differentiable=False, fused=False)

    def step(self, closure=None):
        """Performs one optimization step; ``closure`` re-evaluates the loss and returns it."""
        loss = _call_closure(closure)
        for group in self.param_groups:
            momentum = group['momentum']
            hyper = dict(lr=_to_scalar(group['lr']), momentum=momentum, dampening=group['dampening'],
                         weight_decay=_to_scalar(group['weight_decay']), nesterov=group['nesterov'],
                         maximize=group['maximize'])
            ws = F.Workspace()
            for p, grad in _grads_of(self, group):
                state = self.state[p] if momentum != 0 else None  # plain SGD keeps no state, as torch
                buf = state.get('momentum_buffer') if momentum != 0 else None
                new_buf = F.sgd(_xp(p), F.as_real(p._data), F.as_real(grad),
                                F.as_real(buf._data) if buf is not None else None, ws=ws, **hyper)
                if momentum != 0 and buf is None:
                    state['momentum_buffer'] = _state_tensor(F.from_real(new_buf, p._data), p)
                _bump_version(p)
        return loss
