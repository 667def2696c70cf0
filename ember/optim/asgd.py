"""ASGD: averaged stochastic gradient descent."""
from ember.optim import _functional as F
from ember.optim.optimizer import (Optimizer, _bump_version, _call_closure, _check_lr, _grads_of, _scalar_state,
                                   _to_scalar, _zeros_state, _xp)

__all__ = ['ASGD']


class ASGD(Optimizer):
    """Implements averaged stochastic gradient descent.

    Args:
        params: the parameters to optimize, or dicts defining parameter groups.
        lr: learning rate (default: 1e-2).
        lambd: decay term (default: 1e-4).
        alpha: power for the eta update (default: 0.75).
        t0: the step at which averaging starts (default: 1e6).
        weight_decay: L2 penalty (default: 0).
        maximize: maximize the objective instead of minimizing (default: False).
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    # group keys added by newer versions, filled in when older pickles/state_dicts load
    _setstate_defaults = dict(foreach=None, maximize=False, differentiable=False, capturable=False)

    def step(self, closure=None):
        """Performs one optimization step; ``closure`` re-evaluates the loss and returns it."""
        loss = _call_closure(closure)
        for group in self.param_groups:
            lr = _to_scalar(group['lr'])
            hyper = dict(lr=lr, lambd=group['lambd'], alpha=group['alpha'], t0=group['t0'],
                         weight_decay=group['weight_decay'], maximize=group['maximize'])
            ws = F.Workspace()
            for p, grad in _grads_of(self, group):
                state = self.state[p]
                xp = _xp(p)
                if not state:
                    state['step'] = _scalar_state(p)
                    state['eta'] = _scalar_state(p, lr)
                    state['mu'] = _scalar_state(p, 1.0)
                    state['ax'] = _zeros_state(p)
                step_t = state['step']._data
                step_t += 1
                F.asgd(xp, F.as_real(p._data), F.as_real(grad), F.as_real(state['ax']._data), state['eta']._data,
                       state['mu']._data, step=float(step_t), ws=ws, **hyper)
                _bump_version(p)
        return loss
