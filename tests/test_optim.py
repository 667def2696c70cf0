"""ember.optim against torch.optim: trajectories, state_dict structure, param groups, errors, hooks."""
import copy
import pickle

import numpy as np
import pytest

import ember
from conftest import requires_torch

try:
    import torch
except ImportError:
    torch = None

pytestmark = requires_torch

STEPS = 20


def _arrays(seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    arrays = {
        'x': rng.uniform(-1.5, 1.5, (3, 4)).astype(np.float32),
        'y': rng.uniform(-1.0, 1.0, (3, 4)).astype(np.float32),
        'z': rng.uniform(-2.0, 2.0, (5,)).astype(np.float32),
        'w': np.float32(rng.uniform(0.5, 1.5)).reshape(()),
        'A': rng.uniform(0.5, 2.0, (5,)).astype(np.float32),
        'C': rng.uniform(-1.0, 1.0, (5,)).astype(np.float32),
    }
    return {k: v.astype(dtype) for k, v in arrays.items()}


def _params(lib, arrays):
    make = (lambda a: ember.tensor(a, requires_grad=True)) if lib is ember else \
        (lambda a: torch.tensor(a, requires_grad=True))
    return [make(arrays[k]) for k in ('x', 'y', 'z', 'w')]


def _loss(lib, params, arrays):
    """Rosenbrock in (x, y) plus a weighted quadratic-quartic in z and a scalar quadratic in w."""
    x, y, z, w = params
    const = ember.tensor if lib is ember else torch.tensor
    A, C = const(arrays['A']), const(arrays['C'])
    r1 = y - x * x
    r2 = 1.0 - x
    d = z - C
    return ((r1 * r1 * 10.0).sum() + (r2 * r2).sum() + (A * d * d).sum() + (z * z * z * z * 0.05).sum()
            + (w - 0.25) * (w - 0.25) * 3.0)


def _run(lib, name, kwargs, steps=STEPS, groups=None, closure_style=False, dtype=np.float32):
    arrays = _arrays(dtype=dtype)
    params = _params(lib, arrays)
    spec = params if groups is None else [dict(g, params=[params[i] for i in g['params']]) for g in groups]
    opt = getattr(lib.optim, name)(spec, **kwargs)
    sign = -1.0 if kwargs.get('maximize') else 1.0  # maximizing -loss follows the same (convergent) path
    history = []
    for _ in range(steps):
        def closure():
            opt.zero_grad()
            loss = _loss(lib, params, arrays) * sign
            loss.backward()
            return loss
        if closure_style:
            opt.step(closure)
        else:
            closure()
            opt.step()
        history.append([p.detach().numpy().copy() for p in params])
    return opt, params, history


def _assert_trajectories_close(name, kwargs, rtol=2e-5, atol=2e-6, **run_kw):
    _, _, ours = _run(ember, name, kwargs, **run_kw)
    _, _, ref = _run(torch, name, kwargs, **run_kw)
    for step, (a, b) in enumerate(zip(ours, ref)):
        for pa, pb in zip(a, b):
            assert pa.dtype == pb.dtype
            np.testing.assert_allclose(pa, pb, rtol=rtol, atol=atol, err_msg=f"{name}{kwargs} step {step + 1}")


CASES = [
    ('SGD', dict(lr=1e-3)),
    ('SGD', dict(lr=1e-3, momentum=0.9)),
    ('SGD', dict(lr=1e-3, momentum=0.9, dampening=0.3, weight_decay=0.1)),
    ('SGD', dict(lr=1e-3, momentum=0.9, nesterov=True, weight_decay=0.05)),
    ('SGD', dict(lr=1e-3, momentum=0.5, maximize=True)),
    ('Adam', dict(lr=1e-2)),
    ('Adam', dict(lr=1e-2, amsgrad=True, weight_decay=0.1)),
    ('Adam', dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, maximize=True)),
    ('Adam', dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True)),
    ('AdamW', dict(lr=1e-2)),
    ('AdamW', dict(lr=1e-2, amsgrad=True, weight_decay=0.3, maximize=True)),
    ('Adagrad', dict(lr=0.1)),
    ('Adagrad', dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.5, eps=1e-6, weight_decay=0.1)),
    ('Adagrad', dict(lr=0.1, maximize=True)),
    ('Adadelta', dict()),
    ('Adadelta', dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1, maximize=True)),
    ('RMSprop', dict(lr=1e-3)),
    ('RMSprop', dict(lr=1e-3, alpha=0.9, centered=True)),
    ('RMSprop', dict(lr=1e-3, momentum=0.9, centered=True, weight_decay=0.1)),
    ('RMSprop', dict(lr=1e-3, momentum=0.5, eps=1e-4, maximize=True)),
    ('Adamax', dict(lr=1e-2)),
    ('Adamax', dict(lr=1e-2, betas=(0.8, 0.95), weight_decay=0.1, maximize=True)),
    ('NAdam', dict(lr=1e-2)),
    ('NAdam', dict(lr=1e-2, momentum_decay=0.01, weight_decay=0.1)),
    ('NAdam', dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ('RAdam', dict(lr=1e-2)),
    ('RAdam', dict(lr=1e-2, betas=(0.9, 0.9), weight_decay=0.1)),
    ('RAdam', dict(lr=1e-2, betas=(0.9, 0.9), weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ('ASGD', dict(lr=1e-3)),
    ('ASGD', dict(lr=1e-3, lambd=1e-2, alpha=0.5, t0=5, weight_decay=0.1)),
]


@pytest.mark.parametrize('name,kwargs', CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_trajectory_matches_torch(name, kwargs):
    _assert_trajectories_close(name, kwargs)


@pytest.mark.parametrize('kwargs', [dict(), dict(history_size=3, max_iter=5), dict(line_search_fn='strong_wolfe'),
                                    dict(lr=0.5, line_search_fn='strong_wolfe', history_size=4, max_iter=7)])
def test_lbfgs_trajectory_matches_torch(kwargs):
    # NOTE: 20 inner iterations on a Rosenbrock valley amplify float32 rounding, so the exact check is in float64
    _assert_trajectories_close('LBFGS', kwargs, steps=4, closure_style=True, rtol=1e-9, atol=1e-11,
                               dtype=np.float64)
    _assert_trajectories_close('LBFGS', dict(kwargs, max_iter=3), steps=2, closure_style=True, rtol=1e-4,
                               atol=1e-5)


def test_closure_loss_is_returned():
    p = ember.tensor([1.0, 2.0], requires_grad=True)
    opt = ember.optim.SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss
    loss = opt.step(closure)
    assert float(loss) == 5.0
    np.testing.assert_allclose(p.detach().numpy(), [0.8, 1.6], rtol=1e-6)
    assert opt.step() is None


def _structure(state_dict):
    """state_dict with tensors replaced by (dtype name, shape, values) for comparison."""
    def conv(v):
        if isinstance(v, (ember.Tensor, torch.Tensor)):
            return ('tensor', str(v.dtype).split('.')[-1], tuple(v.shape), np.asarray(v.detach().numpy()))
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return type(v)(conv(x) for x in v)
        return v
    return conv(state_dict)


def _assert_same_structure(a, b, path=''):
    if isinstance(b, tuple) and b and b[0] == 'tensor':
        assert isinstance(a, tuple) and a[0] == 'tensor', path
        assert a[1:3] == b[1:3], f"{path}: {a[1:3]} != {b[1:3]}"
        np.testing.assert_allclose(a[3], b[3], rtol=1e-4, atol=1e-5, err_msg=path)
    elif isinstance(b, dict):
        assert list(a.keys()) == list(b.keys()), f"{path}: {list(a.keys())} != {list(b.keys())}"
        for k in b:
            _assert_same_structure(a[k], b[k], f"{path}/{k}")
    elif isinstance(b, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same_structure(x, y, f"{path}[{i}]")
    elif isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-4, abs=1e-6), path
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


STATE_CASES = [('SGD', dict(lr=1e-3)), ('SGD', dict(lr=1e-3, momentum=0.9)), ('Adam', dict(amsgrad=True)),
               ('AdamW', dict()), ('Adagrad', dict()), ('Adadelta', dict()),
               ('RMSprop', dict(momentum=0.9, centered=True)), ('RMSprop', dict()), ('Adamax', dict()),
               ('NAdam', dict()), ('RAdam', dict()), ('ASGD', dict())]


@pytest.mark.parametrize('name,kwargs', STATE_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(STATE_CASES)])
def test_state_dict_structure_matches_torch(name, kwargs):
    ours = _structure(_run(ember, name, kwargs, steps=3)[0].state_dict())
    ref = _structure(_run(torch, name, kwargs, steps=3)[0].state_dict())
    _assert_same_structure(ours, ref)


def test_lbfgs_state_dict_structure_matches_torch():
    kwargs = dict(history_size=3, max_iter=4, line_search_fn='strong_wolfe')
    ours = _run(ember, 'LBFGS', kwargs, steps=2, closure_style=True)[0].state_dict()
    ref = _run(torch, 'LBFGS', kwargs, steps=2, closure_style=True)[0].state_dict()
    assert list(ours['state'][0].keys()) == list(ref['state'][0].keys())
    assert ours['param_groups'] == ref['param_groups']
    for key in ('func_evals', 'n_iter'):
        assert ours['state'][0][key] == ref['state'][0][key]
    assert len(ours['state'][0]['old_dirs']) == len(ref['state'][0]['old_dirs'])


@pytest.mark.parametrize('name,kwargs', [('Adam', dict(lr=1e-2, amsgrad=True)), ('SGD', dict(lr=1e-3, momentum=0.9)),
                                         ('RMSprop', dict(lr=1e-3, centered=True, momentum=0.5)),
                                         ('NAdam', dict()), ('Adagrad', dict(lr=0.1))])
def test_load_state_dict_round_trip_into_fresh_optimizer(name, kwargs):
    opt, params, _ = _run(ember, name, kwargs, steps=5)
    saved = copy.deepcopy(opt.state_dict())
    arrays = _arrays()
    fresh_params = [ember.tensor(p.detach().numpy(), requires_grad=True) for p in params]
    fresh = getattr(ember.optim, name)(fresh_params, lr=0.123)
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]['lr'] == opt.param_groups[0]['lr']
    assert fresh.param_groups[0]['params'] == fresh_params or all(
        a is b for a, b in zip(fresh.param_groups[0]['params'], fresh_params))
    _assert_same_structure(_structure(fresh.state_dict()), _structure(opt.state_dict()))
    # the state was copied: stepping the fresh optimizer leaves the saved dict alone
    before = _structure(saved)
    for _ in range(3):
        for o, ps in ((opt, params), (fresh, fresh_params)):
            o.zero_grad()
            _loss(ember, ps, arrays).backward()
            o.step()
    _assert_same_structure(_structure(saved), before)
    for a, b in zip(params, fresh_params):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_load_state_dict_errors_match_torch():
    for lib in (ember, torch):
        a = lib.tensor([1.0], requires_grad=True)
        b = lib.tensor([2.0], requires_grad=True)
        sd = lib.optim.Adam([a]).state_dict()
        with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
            lib.optim.Adam([a, b]).load_state_dict(sd)
        with pytest.raises(ValueError, match="different number of parameter groups"):
            lib.optim.Adam([{'params': [a]}, {'params': [b]}]).load_state_dict(sd)


def test_param_groups_with_different_lrs():
    groups = [{'params': [0, 1], 'lr': 1e-3}, {'params': [2], 'lr': 3e-2, 'momentum': 0.5}, {'params': [3]}]
    _assert_trajectories_close('SGD', dict(lr=1e-2, momentum=0.9), groups=groups)
    groups = [{'params': [0, 1], 'lr': 1e-3, 'betas': (0.5, 0.9)}, {'params': [2, 3], 'weight_decay': 0.1}]
    _assert_trajectories_close('Adam', dict(lr=1e-2), groups=groups)
    opt = _run(ember, 'Adam', dict(lr=1e-2), steps=1, groups=groups)[0]
    ref = _run(torch, 'Adam', dict(lr=1e-2), steps=1, groups=groups)[0]
    _assert_same_structure(_structure(opt.state_dict()), _structure(ref.state_dict()))


def test_parameters_without_grad_are_skipped():
    for name in ('SGD', 'Adam', 'RMSprop', 'Adagrad', 'ASGD'):
        p = ember.tensor([1.0, 2.0], requires_grad=True)
        q = ember.tensor([3.0, 4.0], requires_grad=True)
        opt = getattr(ember.optim, name)([p, q], lr=0.1, **({'momentum': 0.9} if name == 'SGD' else {}))
        (p * p).sum().backward()
        opt.step()
        np.testing.assert_array_equal(q.detach().numpy(), [3.0, 4.0])
        assert not np.array_equal(p.detach().numpy(), [1.0, 2.0])
        if name != 'Adagrad':  # Adagrad (like torch's) creates its state up front
            assert list(opt.state_dict()['state']) == [0]


def test_step_bumps_version_and_does_not_record_graph():
    p = ember.tensor([1.0, 2.0], requires_grad=True)
    opt = ember.optim.Adam([p])
    (p * p).sum().backward()
    v = p._version
    opt.step()
    assert p._version == v + 1
    assert p.grad_fn is None and p.is_leaf and p.requires_grad


def test_float32_stays_float32_and_float64_works():
    p = ember.tensor(np.ones(3, np.float32), requires_grad=True)
    d = ember.tensor(np.ones(3, np.float64), requires_grad=True)
    for name in ('SGD', 'Adam', 'NAdam', 'RAdam', 'ASGD', 'Adamax', 'Adadelta', 'RMSprop', 'Adagrad'):
        opt = getattr(ember.optim, name)([p, d], lr=0.1)
        for _ in range(2):
            opt.zero_grad()
            ((p * p).sum() + (d * d).sum()).backward()
            opt.step()
        assert p.dtype == ember.float32 and d.dtype == ember.float64
        for state in opt.state.values():
            for key, value in state.items():
                if isinstance(value, ember.Tensor) and value.dim() > 0:
                    assert value.dtype in (ember.float32, ember.float64), (name, key)


def test_zero_grad():
    p = ember.tensor([1.0, 2.0], requires_grad=True)
    opt = ember.optim.SGD([p], lr=0.1)
    (p * p).sum().backward()
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.numpy(), [0.0, 0.0])
    opt.zero_grad()
    assert p.grad is None


def test_repr_matches_torch():
    for name, kwargs in [('Adam', {}), ('SGD', dict(lr=0.1, momentum=0.9)), ('LBFGS', {}), ('RMSprop', {})]:
        ours = getattr(ember.optim, name)([ember.tensor([1.0], requires_grad=True)], **kwargs)
        ref = getattr(torch.optim, name)([torch.tensor([1.0], requires_grad=True)], **kwargs)
        assert repr(ours) == repr(ref)
    a, b = ember.tensor([1.0], requires_grad=True), ember.tensor([1.0], requires_grad=True)
    ta, tb = torch.tensor([1.0], requires_grad=True), torch.tensor([1.0], requires_grad=True)
    ours = ember.optim.Adam([{'params': [a]}, {'params': [b], 'lr': 0.5}])
    ref = torch.optim.Adam([{'params': [ta]}, {'params': [tb], 'lr': 0.5}])
    assert repr(ours) == repr(ref)


@pytest.mark.parametrize('call,match', [
    (lambda m, p: m.optim.SGD([p], lr=-0.1), 'Invalid learning rate: -0.1'),
    (lambda m, p: m.optim.SGD([p], lr=0.1, momentum=-1), 'Invalid momentum value: -1'),
    (lambda m, p: m.optim.SGD([p], lr=0.1, nesterov=True), 'Nesterov momentum requires a momentum'),
    (lambda m, p: m.optim.Adam([p], betas=(1.0, 0.9)), 'Invalid beta parameter at index 0: 1.0'),
    (lambda m, p: m.optim.Adam([p], betas=(0.9, -0.1)), 'Invalid beta parameter at index 1: -0.1'),
    (lambda m, p: m.optim.Adam([p], eps=-1e-8), 'Invalid epsilon value: -1e-08'),
    (lambda m, p: m.optim.AdamW([p], weight_decay=-1), 'Invalid weight_decay value: -1'),
    (lambda m, p: m.optim.Adagrad([p], lr_decay=-1), 'Invalid lr_decay value: -1'),
    (lambda m, p: m.optim.Adadelta([p], rho=1.5), 'Invalid rho value: 1.5'),
    (lambda m, p: m.optim.RMSprop([p], alpha=-1), 'Invalid alpha value: -1'),
    (lambda m, p: m.optim.NAdam([p], momentum_decay=-1), 'Invalid momentum_decay value: -1'),
    (lambda m, p: m.optim.Adam([]), 'optimizer got an empty parameter list'),
    (lambda m, p: m.optim.Adam([{'params': [p]}, {'params': [p]}]),
     'some parameters appear in more than one parameter group'),
    (lambda m, p: m.optim.LBFGS([{'params': [p]}, {'params': [p * 1]}]), "can't optimize a non-leaf Tensor"),
    (lambda m, p: m.optim.Adam([p], fused=True, foreach=True), '`fused` and `foreach` cannot be `True` together'),
])
def test_errors_match_torch(call, match):
    for lib in (ember, torch):
        p = lib.tensor([1.0], requires_grad=True)
        with pytest.raises((ValueError, RuntimeError, TypeError), match=match) as info:
            call(lib, p)
        if lib is ember:
            ours = info.type
        else:
            assert ours is info.type


def test_params_given_as_a_tensor_is_a_type_error():
    with pytest.raises(TypeError, match='should be an iterable of Tensors or dicts'):
        ember.optim.SGD(ember.tensor([1.0], requires_grad=True), lr=0.1)


def test_named_parameters_are_accepted():
    p = ember.tensor([1.0], requires_grad=True)
    opt = ember.optim.SGD([('weight', p)], lr=0.1)
    assert opt.param_groups[0]['param_names'] == ['weight']
    assert opt.state_dict()['param_groups'][0]['param_names'] == ['weight']


def test_add_param_group():
    a, b = ember.tensor([1.0], requires_grad=True), ember.tensor([2.0], requires_grad=True)
    opt = ember.optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({'params': b, 'lr': 0.01})
    assert opt.param_groups[1]['lr'] == 0.01 and opt.param_groups[1]['momentum'] == 0.9
    with pytest.raises(ValueError, match='more than one parameter group'):
        opt.add_param_group({'params': [a]})


def test_step_hooks():
    p = ember.tensor([1.0], requires_grad=True)
    opt = ember.optim.Adam([p])
    calls = []
    pre = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(('pre', o is opt)))
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append(('post', o is opt)))
    handle = ember.optim.optimizer.register_optimizer_step_pre_hook(lambda o, a, k: calls.append('global'))
    try:
        opt.step()
    finally:
        handle.remove()
    assert calls == ['global', ('pre', True), ('post', True)]
    pre.remove()
    calls.clear()
    opt.step()
    assert calls == [('post', True)]


def test_state_dict_hooks():
    p = ember.tensor([1.0], requires_grad=True)
    opt = ember.optim.SGD([p], lr=0.1)
    opt.register_state_dict_post_hook(lambda o, sd: dict(sd, extra=1))
    assert opt.state_dict()['extra'] == 1
    seen = []
    opt.register_load_state_dict_post_hook(lambda o: seen.append(o))
    opt.load_state_dict(opt.state_dict())
    assert seen == [opt]


def test_pickle_round_trip():
    pytest.importorskip('ember._tensor_pickle')
    opt, params, _ = _run(ember, 'Adam', dict(lr=1e-2), steps=2)
    clone = pickle.loads(pickle.dumps(opt))
    assert clone.param_groups[0]['lr'] == 1e-2
    assert len(clone.state) == 4


def test_complex_parameters_match_torch():
    values = np.array([1 + 2j, -0.5 + 0.25j, 3 - 1j], dtype=np.complex64)
    results = []
    for lib in (ember, torch):
        p = lib.tensor(values, requires_grad=True)
        opt = lib.optim.Adam([p], lr=0.1, weight_decay=0.1)
        for _ in range(3):
            opt.zero_grad()
            p.grad = lib.tensor(values * np.complex64(0.5 - 0.5j))
            opt.step()
        results.append(p.detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5)
