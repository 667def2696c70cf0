"""Adam, with AMSGrad, L2 or decoupled weight decay, and maximization."""
from ember.optim import _functional as F
from ember.optim.optimizer import (Optimizer, _bump_version, _call_closure, _check_fused, _check_lr, _grads_of,
                                   _scalar_state, _to_scalar, _xp, _zeros_state)

__all__ = ['Adam']


def _check_betas(betas):
    b1, b2 = (_to_scalar(b) for b in betas)
    if not 0.0 <= b1 < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= b2 < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")


def _check_eps_and_decay(eps, weight_decay):
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


class Adam(Optimizer):
    """Implements the Adam algorithm.

    Args:
        params: the parameters to optimize, or dicts defining parameter groups.
        lr: learning rate (default: 1e-3).
        betas: coefficients of the running averages of the gradient and its square (default: (0.9, 0.999)).
        eps: term added to the denominator for numerical stability (default: 1e-8).
        weight_decay: weight decay coefficient (default: 0).
        amsgrad: use the maximum of past squared-gradient averages (default: False).
        maximize: maximize the objective instead of minimizing (default: False).
        decoupled_weight_decay: decay the weights directly, as AdamW does (default: False).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        _check_lr(lr)
        _check_eps_and_decay(eps, 0.0)
        _check_betas(betas)
        _check_eps_and_decay(0.0, weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)
        _check_fused(fused, foreach, differentiable)

    # group keys added by newer versions, filled in when older pickles/state_dicts load
    _setstate_defaults = dict(amsgrad=False, maximize=False, foreach=None, capturable=False, differentiable=False, fused=None, decoupled_weight_decay=False)

    def step(self, closure=None):
        """Performs one optimization step; ``closure`` re-evaluates the loss and returns it."""
        loss = _call_closure(closure)
        for group in self.param_groups:
            beta1, beta2 = (_to_scalar(b) for b in group['betas'])
            amsgrad = group['amsgrad']
            hyper = dict(lr=_to_scalar(group['lr']), beta1=beta1, beta2=beta2, eps=group['eps'],
                         weight_decay=group['weight_decay'], amsgrad=amsgrad, maximize=group['maximize'],
                         decoupled_weight_decay=group['decoupled_weight_decay'])
            ws = F.Workspace()
            for p, grad in _grads_of(self, group):
                state = self.state[p]
                if not state:
                    state['step'] = _scalar_state(p)
                    state['exp_avg'] = _zeros_state(p)
                    state['exp_avg_sq'] = _zeros_state(p)
                    if amsgrad:
                        state['max_exp_avg_sq'] = _zeros_state(p)
                step_t = state['step']._data
                step_t += 1
                max_sq = state['max_exp_avg_sq']._data if amsgrad else None
                F.adam(_xp(p), F.as_real(p._data), F.as_real(grad), F.as_real(state['exp_avg']._data),
                       F.as_real(state['exp_avg_sq']._data), F.as_real(max_sq), step=float(step_t), ws=ws, **hyper)
                _bump_version(p)
        return loss
