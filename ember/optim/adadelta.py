"""Adadelta: step sizes from running averages of squared gradients and squared updates."""
from ember.optim import _functional as F
from ember.optim.optimizer import (Optimizer, _bump_version, _call_closure, _check_lr, _grads_of, _scalar_state,
                                   _to_scalar, _xp, _zeros_state)

__all__ = ['Adadelta']


class Adadelta(Optimizer):
    """Implements the Adadelta algorithm.

    Args:
        params: the parameters to optimize, or dicts defining parameter groups.
        lr: coefficient that scales the delta before it is applied (default: 1.0).
        rho: coefficient of the running averages (default: 0.9).
        eps: term added inside the square roots for numerical stability (default: 1e-6).
        weight_decay: L2 penalty (default: 0).
        maximize: maximize the objective instead of minimizing (default: False).
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize, capturable=capturable,
                        foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    # group keys added by newer versions, filled in when older pickles/state_dicts load
    _setstate_defaults = dict(foreach=None, maximize=False, differentiable=False, capturable=False)

    def step(self, closure=None):
        """Performs one optimization step; ``closure`` re-evaluates the loss and returns it."""
        loss = _call_closure(closure)
        for group in self.param_groups:
            hyper = dict(lr=_to_scalar(group['lr']), rho=group['rho'], eps=group['eps'],
                         weight_decay=group['weight_decay'], maximize=group['maximize'])
            ws = F.Workspace()
            for p, grad in _grads_of(self, group):
                state = self.state[p]
                if not state:
                    state['step'] = _scalar_state(p)
                    state['square_avg'] = _zeros_state(p)
                    state['acc_delta'] = _zeros_state(p)
                state['step']._data += 1
                F.adadelta(_xp(p), F.as_real(p._data), F.as_real(grad), F.as_real(state['square_avg']._data),
                           F.as_real(state['acc_delta']._data), ws=ws, **hyper)
                _bump_version(p)
        return loss
