"""Adamax: Adam with the infinity norm in place of the second moment."""
from ember.optim import _functional as F
from ember.optim.adam import _check_betas
from ember.optim.optimizer import (Optimizer, _bump_version, _call_closure, _check_lr, _grads_of, _scalar_state,
                                   _to_scalar, _zeros_state, _xp)

__all__ = ['Adamax']


class Adamax(Optimizer):
    """Implements the Adamax algorithm (a variant of Adam based on the infinity norm).

    Args:
        params: the parameters to optimize, or dicts defining parameter groups.
        lr: learning rate (default: 2e-3).
        betas: coefficients of the running average of the gradient and of the decaying infinity norm
            (default: (0.9, 0.999)).
        eps: term added to the denominator for numerical stability (default: 1e-8).
        weight_decay: L2 penalty (default: 0).
        maximize: maximize the objective instead of minimizing (default: False).
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    # group keys added by newer versions, filled in when older pickles/state_dicts load
    _setstate_defaults = dict(foreach=None, maximize=False, differentiable=False, capturable=False)

    def step(self, closure=None):
        """Performs one optimization step; ``closure`` re-evaluates the loss and returns it."""
        loss = _call_closure(closure)
        for group in self.param_groups:
            beta1, beta2 = group['betas']
            hyper = dict(lr=_to_scalar(group['lr']), beta1=beta1, beta2=beta2, eps=group['eps'],
                         weight_decay=group['weight_decay'], maximize=group['maximize'])
            ws = F.Workspace()
            for p, grad in _grads_of(self, group):
                state = self.state[p]
                xp = _xp(p)
                if not state:
                    state['step'] = _scalar_state(p)
                    state['exp_avg'] = _zeros_state(p)
                    state['exp_inf'] = _zeros_state(p)
                step_t = state['step']._data
                step_t += 1
                F.adamax(xp, F.as_real(p._data), F.as_real(grad), F.as_real(state['exp_avg']._data),
                         F.as_real(state['exp_inf']._data), step=float(step_t), ws=ws, **hyper)
                _bump_version(p)
        return loss
