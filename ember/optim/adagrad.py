"""Adagrad: per-coordinate learning rates from the sum of squared gradients."""
from ember.optim import _functional as F
from ember.optim.optimizer import (Optimizer, _bump_version, _call_closure, _check_fused, _check_lr, _grads_of,
                                   _scalar_state, _state_tensor, _to_scalar, _xp)

__all__ = ['Adagrad']


class Adagrad(Optimizer):
    """Implements the Adagrad algorithm.

    Args:
        params: the parameters to optimize, or dicts defining parameter groups.
        lr: learning rate (default: 1e-2).
        lr_decay: learning rate decay per step (default: 0).
        weight_decay: L2 penalty (default: 0).
        initial_accumulator_value: starting value of the sum of squared gradients (default: 0).
        eps: term added to the denominator for numerical stability (default: 1e-10).
        maximize: maximize the objective instead of minimizing (default: False).
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_lr(lr)
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        _check_fused(fused, foreach, differentiable)
        # NOTE: unlike the other algorithms, Adagrad creates its state eagerly (torch does too).
        for group in self.param_groups:
            for p in group['params']:
                state = self.state[p]
                state['step'] = _scalar_state(p)
                value = initial_accumulator_value
                if p._data.dtype.kind == 'c':
                    value = complex(value, value)
                state['sum'] = _state_tensor(_xp(p).full_like(p._data, value), p)

    # group keys added by newer versions, filled in when older pickles/state_dicts load
    _setstate_defaults = dict(foreach=None, maximize=False, differentiable=False, fused=None)

    def share_memory(self):
        """No-op on NumPy arrays (kept for API compatibility)."""

    def step(self, closure=None):
        """Performs one optimization step; ``closure`` re-evaluates the loss and returns it."""
        loss = _call_closure(closure)
        for group in self.param_groups:
            hyper = dict(lr=_to_scalar(group['lr']), lr_decay=group['lr_decay'], weight_decay=group['weight_decay'],
                         eps=group['eps'], maximize=group['maximize'])
            ws = F.Workspace()
            for p, grad in _grads_of(self, group):
                state = self.state[p]
                step_t = state['step']._data
                step_t += 1
                F.adagrad(_xp(p), F.as_real(p._data), F.as_real(grad), F.as_real(state['sum']._data),
                          step=float(step_t), ws=ws, **hyper)
                _bump_version(p)
        return loss
