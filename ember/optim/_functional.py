"""Pure update functions: one per algorithm, on raw backend arrays.

Each function updates one parameter array (and its state arrays) in place with
the algorithm's formula, exactly as PyTorch's single-tensor implementation
orders the arithmetic, so float32 trajectories agree with torch's to rounding.
Hyperparameters are Python floats (a float never upcasts a float32 array);
``xp`` is the array namespace (numpy or cupy).  Temporaries come from a
:class:`Workspace` shared by all parameters of one step, so an update makes no
allocation after the first parameter of each shape class.
"""
__all__ = ['Workspace', 'sgd', 'adam', 'adagrad', 'adadelta', 'rmsprop', 'adamax', 'nadam', 'radam', 'asgd']


class Workspace:
    """Scratch arrays reused across the parameters of one optimizer step."""

    __slots__ = ('_buffers',)

    def __init__(self):
        self._buffers = {}

    def get(self, xp, like, slot):
        """An uninitialised array shaped and typed like ``like``; ``slot`` tells simultaneous buffers apart."""
        key = (slot, like.dtype, type(like))
        n = like.size
        buf = self._buffers.get(key)
        if buf is None or buf.size < n:
            buf = xp.empty(n, dtype=like.dtype)
            self._buffers[key] = buf
        return buf[:n].reshape(like.shape)


def as_real(array):
    """A real view of a complex array (a trailing axis of 2), as torch's ``view_as_real``; other arrays as they are."""
    if array is None or array.dtype.kind != 'c':
        return array
    return array[..., None].view(array.real.dtype)


def from_real(array, like):
    """Undoes :func:`as_real` for an array computed on the real view of ``like``."""
    if like.dtype.kind != 'c':
        return array
    return array.view(like.dtype)[..., 0]


def _effective_grad(xp, param, grad, weight_decay, maximize, ws):
    """``(-grad if maximize else grad) + weight_decay * param``, leaving ``grad`` untouched."""
    if weight_decay != 0:
        g = ws.get(xp, param, 0)
        xp.multiply(param, weight_decay, out=g)
        if maximize:
            xp.subtract(g, grad, out=g)
        else:
            xp.add(grad, g, out=g)
        return g
    if maximize:
        g = ws.get(xp, param, 0)
        xp.negative(grad, out=g)
        return g
    return grad


def _lerp_(xp, start, end, weight, tmp):
    """``start += weight * (end - start)`` in place, with torch's two-sided lerp formula."""
    xp.subtract(end, start, out=tmp)
    if weight < 0.5:
        tmp *= weight
        start += tmp
    else:
        tmp *= 1.0 - weight
        xp.subtract(end, tmp, out=start)


def _decay_avg_sq_(xp, avg_sq, grad, beta, tmp):
    """``avg_sq = beta * avg_sq + (1 - beta) * grad * grad`` in place."""
    avg_sq *= beta
    xp.multiply(grad, grad, out=tmp)
    tmp *= 1.0 - beta
    avg_sq += tmp


def _decay_or_regularise(xp, param, grad, lr, weight_decay, decoupled, maximize, ws):
    """Applies decoupled weight decay to ``param`` in place, or folds L2 decay into the returned grad."""
    if weight_decay != 0 and decoupled:
        param *= 1.0 - lr * weight_decay
        return _effective_grad(xp, param, grad, 0, maximize, ws)
    return _effective_grad(xp, param, grad, weight_decay, maximize, ws)


def sgd(xp, param, grad, momentum_buffer, *, lr, momentum, dampening, weight_decay, nesterov, maximize, ws):
    """One SGD step; returns the momentum buffer (created from the gradient on the first step)."""
    g = _effective_grad(xp, param, grad, weight_decay, maximize, ws)
    update = g
    if momentum != 0:
        if momentum_buffer is None:
            momentum_buffer = g.copy()
        else:
            momentum_buffer *= momentum
            if dampening != 0:
                tmp = ws.get(xp, param, 1)
                xp.multiply(g, 1.0 - dampening, out=tmp)
                momentum_buffer += tmp
            else:
                momentum_buffer += g
        if nesterov:
            update = ws.get(xp, param, 1)
            xp.multiply(momentum_buffer, momentum, out=update)
            xp.add(g, update, out=update)
        else:
            update = momentum_buffer
    if update is grad or update is momentum_buffer:
        tmp = ws.get(xp, param, 1)
        xp.multiply(update, lr, out=tmp)
        update = tmp
    else:
        update *= lr
    param -= update
    return momentum_buffer


def adam(xp, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr, beta1, beta2, eps, weight_decay,
         amsgrad, maximize, decoupled_weight_decay, ws):
    """One Adam (or AdamW, with ``decoupled_weight_decay``) step; ``step`` counts from 1."""
    g = _decay_or_regularise(xp, param, grad, lr, weight_decay, decoupled_weight_decay, maximize, ws)
    tmp = ws.get(xp, param, 1)
    _lerp_(xp, exp_avg, g, 1.0 - beta1, tmp)
    _decay_avg_sq_(xp, exp_avg_sq, g, beta2, tmp)
    step_size = lr / (1.0 - beta1 ** step)
    bias_correction2_sqrt = (1.0 - beta2 ** step) ** 0.5
    if amsgrad:
        xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        xp.sqrt(max_exp_avg_sq, out=tmp)
    else:
        xp.sqrt(exp_avg_sq, out=tmp)
    tmp /= bias_correction2_sqrt
    tmp += eps
    xp.divide(exp_avg, tmp, out=tmp)
    tmp *= step_size
    param -= tmp


def adagrad(xp, param, grad, state_sum, *, step, lr, lr_decay, weight_decay, eps, maximize, ws):
    """One Adagrad step; ``step`` counts from 1."""
    g = _effective_grad(xp, param, grad, weight_decay, maximize, ws)
    tmp = ws.get(xp, param, 1)
    xp.multiply(g, g, out=tmp)
    state_sum += tmp
    clr = lr / (1 + (step - 1) * lr_decay)
    xp.sqrt(state_sum, out=tmp)
    tmp += eps
    xp.divide(g, tmp, out=tmp)
    tmp *= clr
    param -= tmp


def adadelta(xp, param, grad, square_avg, acc_delta, *, lr, rho, eps, weight_decay, maximize, ws):
    """One Adadelta step."""
    g = _effective_grad(xp, param, grad, weight_decay, maximize, ws)
    std = ws.get(xp, param, 1)
    delta = ws.get(xp, param, 2)
    _decay_avg_sq_(xp, square_avg, g, rho, std)
    xp.add(square_avg, eps, out=std)
    xp.sqrt(std, out=std)
    xp.add(acc_delta, eps, out=delta)
    xp.sqrt(delta, out=delta)
    delta /= std
    delta *= g
    _decay_avg_sq_(xp, acc_delta, delta, rho, std)
    delta *= lr
    param -= delta


def rmsprop(xp, param, grad, square_avg, grad_avg, momentum_buffer, *, lr, alpha, eps, weight_decay, momentum,
            centered, maximize, ws):
    """One RMSprop step; ``grad_avg`` is used when ``centered``, ``momentum_buffer`` when ``momentum > 0``."""
    g = _effective_grad(xp, param, grad, weight_decay, maximize, ws)
    avg = ws.get(xp, param, 1)
    _decay_avg_sq_(xp, square_avg, g, alpha, avg)
    if centered:
        _lerp_(xp, grad_avg, g, 1.0 - alpha, avg)
        xp.multiply(grad_avg, grad_avg, out=avg)
        xp.subtract(square_avg, avg, out=avg)
        xp.sqrt(avg, out=avg)
    else:
        xp.sqrt(square_avg, out=avg)
    avg += eps
    xp.divide(g, avg, out=avg)
    if momentum > 0:
        momentum_buffer *= momentum
        momentum_buffer += avg
        xp.multiply(momentum_buffer, lr, out=avg)
    else:
        avg *= lr
    param -= avg


def adamax(xp, param, grad, exp_avg, exp_inf, *, step, lr, beta1, beta2, eps, weight_decay, maximize, ws):
    """One Adamax step; ``step`` counts from 1."""
    g = _effective_grad(xp, param, grad, weight_decay, maximize, ws)
    tmp = ws.get(xp, param, 1)
    _lerp_(xp, exp_avg, g, 1.0 - beta1, tmp)
    exp_inf *= beta2
    xp.abs(g, out=tmp)
    tmp += eps
    xp.maximum(exp_inf, tmp, out=exp_inf)
    clr = lr / (1.0 - beta1 ** step)
    xp.divide(exp_avg, exp_inf, out=tmp)
    tmp *= clr
    param -= tmp


def nadam(xp, param, grad, exp_avg, exp_avg_sq, mu_product, *, step, lr, beta1, beta2, eps, weight_decay,
          momentum_decay, decoupled_weight_decay, maximize, ws):
    """One NAdam step; ``mu_product`` is the 0-dim state array, updated in place."""
    bias_correction2 = 1.0 - beta2 ** step
    g = _decay_or_regularise(xp, param, grad, lr, weight_decay, decoupled_weight_decay, maximize, ws)
    mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
    mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
    mu_product *= mu  # NOTE: kept in the state's dtype (float32), as torch does
    tmp = ws.get(xp, param, 1)
    denom = ws.get(xp, param, 2)
    _lerp_(xp, exp_avg, g, 1.0 - beta1, tmp)
    _decay_avg_sq_(xp, exp_avg_sq, g, beta2, tmp)
    xp.divide(exp_avg_sq, bias_correction2, out=denom)
    xp.sqrt(denom, out=denom)
    denom += eps
    mu_product_value = float(mu_product)
    mu_product_next = mu_product_value * mu_next
    xp.divide(g, denom, out=tmp)
    tmp *= -lr * (1.0 - mu) / (1.0 - mu_product_value)
    param += tmp
    xp.divide(exp_avg, denom, out=tmp)
    tmp *= (-lr * mu_next) / (1.0 - mu_product_next)
    param += tmp


def radam(xp, param, grad, exp_avg, exp_avg_sq, *, step, lr, beta1, beta2, eps, weight_decay,
          decoupled_weight_decay, maximize, ws):
    """One RAdam step; ``step`` counts from 1."""
    g = _decay_or_regularise(xp, param, grad, lr, weight_decay, decoupled_weight_decay, maximize, ws)
    update = ws.get(xp, param, 1)
    _lerp_(xp, exp_avg, g, 1.0 - beta1, update)
    _decay_avg_sq_(xp, exp_avg_sq, g, beta2, update)
    bias_correction1 = 1.0 - beta1 ** step
    bias_correction2 = 1.0 - beta2 ** step
    xp.divide(exp_avg, bias_correction1, out=update)
    update *= lr
    # The variance of the adaptive rate is tractable only once rho_t > 5; before, it is plain momentum SGD.
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    rho_t = rho_inf - 2.0 * step * (beta2 ** step) / bias_correction2
    if rho_t > 5.0:
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        adaptive = ws.get(xp, param, 2)
        xp.sqrt(exp_avg_sq, out=adaptive)
        adaptive += eps
        xp.divide(bias_correction2 ** 0.5, adaptive, out=adaptive)
        update *= adaptive
        update *= rect
    param -= update


def asgd(xp, param, grad, ax, eta, mu, *, step, lr, lambd, alpha, t0, weight_decay, maximize, ws):
    """One ASGD step; ``eta`` and ``mu`` are the 0-dim state arrays, updated in place."""
    g = _effective_grad(xp, param, grad, weight_decay, maximize, ws)
    eta_value = float(eta)
    param *= 1.0 - lambd * eta_value
    tmp = ws.get(xp, param, 1)
    xp.multiply(g, eta_value, out=tmp)
    param -= tmp
    if float(mu) != 1:
        xp.subtract(param, ax, out=tmp)
        tmp *= mu
        ax += tmp
    else:
        ax[...] = param
    eta[...] = lr / ((1 + lambd * lr * step) ** alpha)
    mu[...] = 1 / max(1, step - t0)

