"""ember.optim.lr_scheduler against torch.optim.lr_scheduler: learning-rate (and momentum) sequences, state_dict."""
import math
import warnings

import numpy as np
import pytest

import ember
from conftest import requires_torch

try:
    import torch
except ImportError:
    torch = None

pytestmark = requires_torch


def _optimizer(lib, name='SGD', groups=1, **kwargs):
    params = [lib.tensor([1.0, -2.0], requires_grad=True) for _ in range(groups)]
    spec = [{'params': [p], 'lr': 0.1 * (i + 1)} for i, p in enumerate(params)]
    kwargs.setdefault('lr', 0.1)
    if name == 'SGD':
        kwargs.setdefault('momentum', 0.9)
    return getattr(lib.optim, name)(spec, **kwargs)


def _schedule(lib, build, steps, name='SGD', groups=1, metrics=None, epochs=None, opt_kwargs=None):
    """Builds a scheduler and records (lrs, momentum or beta1) after construction and after every step."""
    opt = _optimizer(lib, name, groups, **(opt_kwargs or {}))
    sched = build(lib.optim.lr_scheduler, opt)
    momentum_key = 'betas' if 'betas' in opt.defaults else 'momentum'

    def record():
        lrs = [g['lr'] for g in opt.param_groups]
        moms = [g[momentum_key][0] if momentum_key == 'betas' else g[momentum_key] for g in opt.param_groups]
        return lrs, moms, list(sched.get_last_lr())
    out = [record()]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for i in range(steps):
            opt.step()
            if metrics is not None:
                sched.step(metrics[i])
            elif epochs is not None:
                sched.step(epochs[i])
            else:
                sched.step()
            out.append(record())
    return out, sched


def _assert_same_schedule(build, steps=60, exact=True, **kwargs):
    ours, _ = _schedule(ember, build, steps, **kwargs)
    ref, _ = _schedule(torch, build, steps, **kwargs)
    assert len(ours) == len(ref)
    for i, (a, b) in enumerate(zip(ours, ref)):
        if exact:
            assert a == b, f"step {i}: {a} != {b}"
        else:
            np.testing.assert_allclose(np.array(a, dtype=float), np.array(b, dtype=float), rtol=1e-12, atol=0,
                                       err_msg=f"step {i}")


SCHEDULES = {
    'StepLR': lambda L, o: L.StepLR(o, step_size=7, gamma=0.5),
    'MultiStepLR': lambda L, o: L.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.3),
    'ExponentialLR': lambda L, o: L.ExponentialLR(o, gamma=0.93),
    'CosineAnnealingLR': lambda L, o: L.CosineAnnealingLR(o, T_max=17),
    'CosineAnnealingLR-eta_min': lambda L, o: L.CosineAnnealingLR(o, T_max=10, eta_min=0.01),
    'CosineAnnealingWarmRestarts': lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=7),
    'CosineAnnealingWarmRestarts-Tmult': lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2,
                                                                                    eta_min=0.001),
    'LinearLR': lambda L, o: L.LinearLR(o, start_factor=0.25, end_factor=0.9, total_iters=13),
    'LinearLR-default': lambda L, o: L.LinearLR(o),
    'ConstantLR': lambda L, o: L.ConstantLR(o, factor=0.4, total_iters=9),
    'LambdaLR': lambda L, o: L.LambdaLR(o, lambda e: 0.95 ** e + 0.1 * (e % 3)),
    'MultiplicativeLR': lambda L, o: L.MultiplicativeLR(o, lambda e: 0.97 if e % 2 else 1.01),
    'PolynomialLR': lambda L, o: L.PolynomialLR(o, total_iters=25, power=2.0),
    'PolynomialLR-default': lambda L, o: L.PolynomialLR(o),
    'OneCycleLR-cos': lambda L, o: L.OneCycleLR(o, max_lr=1.0, total_steps=60),
    'OneCycleLR-linear-3phase': lambda L, o: L.OneCycleLR(o, max_lr=[0.5, 0.8], epochs=6, steps_per_epoch=10,
                                                          anneal_strategy='linear', three_phase=True, pct_start=0.25),
    'OneCycleLR-no-momentum': lambda L, o: L.OneCycleLR(o, max_lr=0.3, total_steps=70, cycle_momentum=False,
                                                        div_factor=10.0, final_div_factor=100.0),
    'CyclicLR-triangular': lambda L, o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=7),
    'CyclicLR-triangular2': lambda L, o: L.CyclicLR(o, base_lr=0.01, max_lr=[0.1, 0.2], step_size_up=5,
                                                    step_size_down=9, mode='triangular2'),
    'CyclicLR-exp_range': lambda L, o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4, mode='exp_range',
                                                  gamma=0.97, base_momentum=0.7, max_momentum=0.95),
    'CyclicLR-scale_fn': lambda L, o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4,
                                                 scale_fn=lambda x: 1 / (1 + x), scale_mode='iterations'),
    'SequentialLR': lambda L, o: L.SequentialLR(o, [L.LinearLR(o, start_factor=0.1, total_iters=5),
                                                    L.ExponentialLR(o, gamma=0.9),
                                                    L.StepLR(o, step_size=4, gamma=0.5)], milestones=[5, 20]),
    'ChainedScheduler': lambda L, o: L.ChainedScheduler([L.ConstantLR(o, factor=0.5, total_iters=4),
                                                         L.ExponentialLR(o, gamma=0.95),
                                                         L.MultiStepLR(o, milestones=[10, 30])]),
}

EXACT = {'CosineAnnealingWarmRestarts', 'CosineAnnealingWarmRestarts-Tmult'}


@pytest.mark.parametrize('key', list(SCHEDULES))
def test_schedule_matches_torch(key):
    groups = 2 if key in ('OneCycleLR-linear-3phase', 'CyclicLR-triangular2') else 1
    _assert_same_schedule(SCHEDULES[key], steps=60, groups=groups)


@pytest.mark.parametrize('key', ['OneCycleLR-cos', 'CyclicLR-triangular', 'CyclicLR-exp_range'])
def test_momentum_cycles_beta1_of_adam(key):
    _assert_same_schedule(SCHEDULES[key], steps=60, name='Adam')


def test_two_param_groups_with_different_lrs():
    for key in ('StepLR', 'CosineAnnealingLR', 'LambdaLR', 'SequentialLR', 'PolynomialLR'):
        _assert_same_schedule(SCHEDULES[key], steps=40, groups=2)


def test_cosine_warm_restarts_fractional_epochs():
    epochs = [i / 4 for i in range(1, 90)] + [3.5, 0.25, 40.75]
    build = SCHEDULES['CosineAnnealingWarmRestarts-Tmult']
    _assert_same_schedule(build, steps=len(epochs), epochs=epochs)
    _assert_same_schedule(SCHEDULES['CosineAnnealingWarmRestarts'], steps=len(epochs), epochs=epochs)


def test_closed_form_when_epoch_is_given():
    epochs = [3, 4, 10, 2, 15, 15, 30]
    for key in ('StepLR', 'MultiStepLR', 'ExponentialLR', 'CosineAnnealingLR', 'LinearLR', 'ConstantLR',
                'PolynomialLR', 'LambdaLR'):
        _assert_same_schedule(SCHEDULES[key], steps=len(epochs), epochs=epochs)


@pytest.mark.parametrize('kwargs', [dict(), dict(mode='max', factor=0.5, patience=2, threshold=0.1),
                                    dict(threshold_mode='abs', threshold=0.05, cooldown=3, patience=1,
                                         min_lr=[0.01, 0.05]),
                                    dict(factor=0.2, patience=0, min_lr=0.0009, eps=1e-3)])
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    rng = np.random.default_rng(1)
    metrics = list(np.round(1.0 / np.arange(1, 101) + rng.uniform(0, 0.2, 100), 3))
    metrics = [float(m) for m in metrics[:30]] + [0.3] * 30 + [float(m) for m in metrics[60:]]
    build = lambda L, o: L.ReduceLROnPlateau(o, **kwargs)  # noqa: E731
    _assert_same_schedule(build, steps=100, metrics=metrics, groups=2)


def _comparable(state):
    """A scheduler state_dict with callables dropped (partials and bound methods differ per library)."""
    out = {}
    for k, v in state.items():
        if k == '_schedulers':
            out[k] = [_comparable(s) for s in v]
        elif not callable(v):
            out[k] = dict(v) if k == 'milestones' else v
    return out


@pytest.mark.parametrize('key', list(SCHEDULES))
def test_state_dict_matches_torch(key):
    groups = 2 if key in ('OneCycleLR-linear-3phase', 'CyclicLR-triangular2') else 1
    _, ours = _schedule(ember, SCHEDULES[key], 13, groups=groups)
    _, ref = _schedule(torch, SCHEDULES[key], 13, groups=groups)
    a, b = _comparable(ours.state_dict()), _comparable(ref.state_dict())
    assert list(a) == list(b)
    assert a == b


def test_reduce_lr_on_plateau_state_dict_matches_torch():
    metrics = [1.0, 0.9, 0.95, 0.95, 0.96, 0.97]
    build = lambda L, o: L.ReduceLROnPlateau(o, patience=1)  # noqa: E731
    _, ours = _schedule(ember, build, len(metrics), metrics=metrics)
    _, ref = _schedule(torch, build, len(metrics), metrics=metrics)
    assert ours.state_dict() == ref.state_dict()


@pytest.mark.parametrize('key', ['StepLR', 'CosineAnnealingLR', 'OneCycleLR-cos', 'CyclicLR-exp_range',
                                 'SequentialLR', 'ChainedScheduler', 'CosineAnnealingWarmRestarts-Tmult',
                                 'LambdaLR'])
def test_state_dict_round_trip(key):
    """A scheduler rebuilt from a state_dict continues exactly where the saved one was."""
    opt = _optimizer(ember)
    sched = SCHEDULES[key](ember.optim.lr_scheduler, opt)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for _ in range(11):
            opt.step()
            sched.step()
        saved_sched, saved_opt = sched.state_dict(), opt.state_dict()
        expected = []
        for _ in range(15):
            opt.step()
            sched.step()
            expected.append(sched.get_last_lr())
        opt2 = _optimizer(ember)
        sched2 = SCHEDULES[key](ember.optim.lr_scheduler, opt2)
        sched2.load_state_dict(saved_sched)
        opt2.load_state_dict(saved_opt)
        got = []
        for _ in range(15):
            opt2.step()
            sched2.step()
            got.append(sched2.get_last_lr())
    assert got == expected


def test_warning_when_scheduler_steps_before_optimizer():
    opt = _optimizer(ember)
    sched = ember.optim.lr_scheduler.StepLR(opt, 3)
    with pytest.warns(UserWarning, match=r"lr_scheduler.step\(\)` before `optimizer.step\(\)"):
        sched.step()


def test_get_lr_outside_step_warns():
    opt = _optimizer(ember)
    sched = ember.optim.lr_scheduler.StepLR(opt, 3)
    with pytest.warns(UserWarning, match='get_last_lr'):
        sched.get_lr()


def test_errors_match_torch():
    cases = [
        (lambda L, o: L.ConstantLR(o, factor=1.5), ValueError, 'between 0 and 1'),
        (lambda L, o: L.LinearLR(o, start_factor=0), ValueError, 'Starting multiplicative factor'),
        (lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, 'Expected positive integer T_0'),
        (lambda L, o: L.OneCycleLR(o, max_lr=0.1), ValueError, 'You must define either total_steps'),
        (lambda L, o: L.OneCycleLR(o, max_lr=0.1, total_steps=10, pct_start=1), ValueError, 'pct_start'),
        (lambda L, o: L.ReduceLROnPlateau(o, factor=1.0), ValueError, 'Factor should be < 1.0.'),
        (lambda L, o: L.ReduceLROnPlateau(o, mode='avg'), ValueError, 'mode avg is unknown!'),
        (lambda L, o: L.StepLR(o, 3, last_epoch=4), KeyError, "param 'initial_lr' is not specified"),
        (lambda L, o: L.LambdaLR(o, [lambda e: 1, lambda e: 2]), ValueError, 'Expected 1 lr_lambdas, but got 2'),
        (lambda L, o: L.StepLR(object(), 3), TypeError, 'object is not an Optimizer'),
        (lambda L, o: L.SequentialLR(o, [L.StepLR(o, 2)], milestones=[3]), ValueError,
         'one more than the number of milestone points'),
    ]
    for build, error, match in cases:
        for lib in (ember, torch):
            with pytest.raises(error, match=match):
                build(lib.optim.lr_scheduler, _optimizer(lib))


def test_one_cycle_raises_past_total_steps():
    for lib in (ember, torch):
        opt = _optimizer(lib)
        sched = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=3)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            for _ in range(3):
                opt.step()
                sched.step()
            with pytest.raises(ValueError, match='Tried to step 4 times'):
                opt.step()
                sched.step()


def test_scheduler_drives_an_optimizer():
    """An end-to-end run: SGD + OneCycleLR on a quadratic, parameters equal torch's."""
    results = []
    for lib in (ember, torch):
        p = lib.tensor(np.array([2.0, -1.0, 0.5], np.float32), requires_grad=True)
        opt = lib.optim.SGD([p], lr=0.1, momentum=0.9)
        sched = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.2, total_steps=30)
        for _ in range(30):
            opt.zero_grad()
            (p * p).sum().backward()
            opt.step()
            sched.step()
        results.append(p.detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5, atol=1e-7)
    assert math.isfinite(float(results[0][0]))
