"""RMSprop, plain or centered, with optional momentum."""
from ember.optim import _functional as F
from ember.optim.optimizer import (Optimizer, _bump_version, _call_closure, _check_lr, _grads_of, _scalar_state,
                                   _to_scalar, _zeros_state, _xp)

__all__ = ['RMSprop']


class RMSprop(Optimizer):
    """Implements the RMSprop algorithm.

    Args:
        params: the parameters to optimize, or dicts defining parameter groups.
        lr: learning rate (default: 1e-2).
        alpha: smoothing constant of the squared-gradient average (default: 0.99).
        eps: term added to the denominator for numerical stability (default: 1e-8).
        weight_decay: L2 penalty (default: 0).
        momentum: momentum factor (default: 0).
        centered: normalize by the estimated variance of the gradient instead of its second moment (default: False).
        maximize: maximize the objective instead of minimizing (default: False).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered, weight_decay=weight_decay,
                        capturable=capturable, foreach=foreach, maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    # group keys added by newer versions, filled in when older pickles/state_dicts load
    _setstate_defaults = dict(momentum=0, centered=False, foreach=None, maximize=False, differentiable=False, capturable=False)

    def step(self, closure=None):
        """Performs one optimization step; ``closure`` re-evaluates the loss and returns it."""
        loss = _call_closure(closure)
        for group in self.param_groups:
            momentum, centered = group['momentum'], group['centered']
            hyper = dict(lr=_to_scalar(group['lr']), alpha=group['alpha'], eps=group['eps'],
                         weight_decay=group['weight_decay'], momentum=momentum, centered=centered,
                         maximize=group['maximize'])
            ws = F.Workspace()
            for p, grad in _grads_of(self, group):
                state = self.state[p]
                xp = _xp(p)
                if not state:
                    state['step'] = _scalar_state(p)
                    state['square_avg'] = _zeros_state(p)
                    if momentum > 0:
                        state['momentum_buffer'] = _zeros_state(p)
                    if centered:
                        state['grad_avg'] = _zeros_state(p)
                state['step']._data += 1
                grad_avg = state['grad_avg']._data if centered else None
                buf = state['momentum_buffer']._data if momentum > 0 else None
                F.rmsprop(xp, F.as_real(p._data), F.as_real(grad), F.as_real(state['square_avg']._data),
                          F.as_real(grad_avg), F.as_real(buf), ws=ws, **hyper)
                _bump_version(p)
        return loss
