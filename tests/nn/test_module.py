"""nn.Module against torch: registration, traversal, state_dict, load_state_dict, modes, moves, copies, errors.

Most tests build the same structure in both libraries with ``fn(lib)`` and compare what it returns (or
raises) through ``both``; weights are copied from torch through state_dict values as NumPy arrays.
"""
import copy
import pickle
import re
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import ember
from tests.conftest import requires_torch, torch

pytestmark = requires_torch

_PREFIX = re.compile(r'^in model[\w.]* \(\w+\): ')


def norm(x):
    """A comparable form of ``x``: tensors become (kind, dtype, shape, array), errors (type, message)."""
    if isinstance(x, BaseException):
        msg = x.args[0] if x.args and isinstance(x.args[0], str) else str(x)
        msg = _PREFIX.sub('', msg).replace('ember.nn.', 'torch.nn.')
        return ('raised', type(x).__name__, msg)
    if isinstance(x, (ember.Tensor, torch.Tensor)):
        kind = 'Parameter' if isinstance(x, (ember.nn.Parameter, torch.nn.Parameter)) else 'Tensor'
        arr = x.detach().cpu().float().numpy() if str(x.dtype) == 'torch.bfloat16' else x.detach().cpu().numpy()
        return (kind, str(x.dtype), tuple(x.shape), x.requires_grad, np.array(arr))
    if isinstance(x, (ember.nn.Module, torch.nn.Module)):
        return ('module', type(x).__name__)
    if isinstance(x, (torch.Size, ember.Size)):
        return ('size', tuple(x))
    if isinstance(x, (ember.dtype, torch.dtype)):
        return str(x)
    if isinstance(x, dict):
        return ('dict', [(k, norm(v)) for k, v in x.items()])
    if isinstance(x, (list, tuple)):
        return type(x).__name__, [norm(v) for v in x]
    if isinstance(x, str):
        return x.replace('ember.nn.', 'torch.nn.')
    return x


def assert_equiv(ours, ref, rtol=1e-5, atol=1e-6, path='result'):
    """Compares two ``norm`` outputs; arrays with tolerances, everything else exactly."""
    if isinstance(ref, np.ndarray):
        assert isinstance(ours, np.ndarray), f'{path}: {ours!r} vs torch array'
        assert (ours.shape, ours.dtype) == (ref.shape, ref.dtype), \
            f'{path}: {ours.dtype}{ours.shape} vs torch {ref.dtype}{ref.shape}'
        if ref.dtype.kind in 'fc':
            np.testing.assert_allclose(ours, ref, rtol=rtol, atol=atol, err_msg=path)
        else:
            np.testing.assert_array_equal(ours, ref, err_msg=path)
    elif isinstance(ref, (list, tuple)):
        assert isinstance(ours, (list, tuple)) and len(ours) == len(ref), f'{path}: {ours!r}\n  torch: {ref!r}'
        for i, (o, r) in enumerate(zip(ours, ref)):
            assert_equiv(o, r, rtol, atol, f'{path}[{i}]')
    else:
        assert ours == ref, f'{path}: ours {ours!r}\n  torch {ref!r}'


def run(fn, lib):
    try:
        return norm(fn(lib))
    except Exception as exc:  # the error itself is the result to compare
        return norm(exc)


def both(fn, **tol):
    """Runs ``fn(torch)`` and ``fn(ember)``; their results (or errors) must agree."""
    ref = run(fn, torch)
    ours = run(fn, ember)
    assert_equiv(ours, ref, **tol)
    return ours


def copy_from_torch(ours, ref):
    """Loads torch module ``ref``'s state into ember module ``ours`` (values as NumPy arrays)."""
    return ours.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})


def deterministic(lib, m):
    """Fills every parameter with fixed values (the two libraries' random streams differ)."""
    with lib.no_grad():
        for i, p in enumerate(m.parameters()):
            values = np.sin(np.arange(p.numel(), dtype=np.float64) + i).reshape(tuple(p.shape))
            p.copy_(lib.tensor(values.astype(np.float32)))
    return m


def vgg_like(lib):
    nn = lib.nn
    return deterministic(lib, nn.Sequential(
        nn.Conv2d(3, 8, kernel_size=3, padding=1), nn.BatchNorm2d(8), nn.ReLU(inplace=True), nn.MaxPool2d(2, 2),
        nn.Conv2d(8, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16, momentum=0.2), nn.ReLU(),
        nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(),
        nn.Sequential(nn.Linear(16, 10), nn.ReLU(True), nn.Dropout(p=0.5), nn.Linear(10, 3)),
    ))


def registry_model(lib):
    nn = lib.nn

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(lib.ones(2))
            self.register_buffer('b', lib.zeros(2))
            self.register_buffer('nb', lib.zeros(1), persistent=False)
            self.buf2 = nn.Buffer(lib.ones(3))
            self.buf3 = nn.Buffer(lib.ones(3), persistent=False)
            self.register_parameter('nonep', None)
            self.lin = nn.Linear(2, 2)
            self.register_module('empty', None)
            self.x = 5
    return deterministic(lib, M())


def summary(m):
    return ([n for n, _ in m.named_parameters()], [n for n, _ in m.named_buffers()], list(m.state_dict()),
            [n for n, _ in m.named_children()], [n for n, _ in m.named_modules()],
            sorted(set(dir(m)) - set(dir(type(m)))))


# ----------------------------------------------------------------------------- registration

def test_registration_by_attribute():
    both(lambda lib: summary(registry_model(lib)))
    both(lambda lib: (type(registry_model(lib).buf2).__name__, isinstance(registry_model(lib).buf2, lib.nn.Buffer),
                      isinstance(lib.ones(1), lib.nn.Buffer), registry_model(lib).nonep, registry_model(lib).empty))


@pytest.mark.parametrize('case', [
    'param_over_buffer', 'module_over_param', 'none_to_param', 'none_to_buffer', 'none_to_module',
    'tensor_to_param', 'int_to_buffer', 'tensor_to_module', 'plain_to_param_name', 'buffer_object_over_attr',
    'delete_all', 'delete_missing', 'register_param_over_buffer', 'register_buffer_over_param',
])
def test_assignment_rules(case):
    def fn(lib):
        m = registry_model(lib)
        nn = lib.nn
        if case == 'param_over_buffer':
            m.b = nn.Parameter(lib.ones(2))
        elif case == 'module_over_param':
            m.w = nn.ReLU()
        elif case == 'none_to_param':
            m.w = None
        elif case == 'none_to_buffer':
            m.b = None
        elif case == 'none_to_module':
            m.lin = None
        elif case == 'tensor_to_param':
            m.w = lib.ones(2)
        elif case == 'int_to_buffer':
            m.b = 3
        elif case == 'tensor_to_module':
            m.lin = lib.ones(2)
        elif case == 'plain_to_param_name':
            del m.w
            m.w = 7
        elif case == 'buffer_object_over_attr':
            m.x = nn.Buffer(lib.ones(1), persistent=False)
        elif case == 'delete_all':
            del m.w, m.b, m.nb, m.lin, m.x, m.buf3
        elif case == 'delete_missing':
            del m.missing
        elif case == 'register_param_over_buffer':
            m.register_parameter('b', nn.Parameter(lib.ones(1)))
        elif case == 'register_buffer_over_param':
            m.register_buffer('w', lib.ones(1))
        return summary(m) + (getattr(m, 'w', 'gone'), getattr(m, 'b', 'gone'), getattr(m, 'lin', 'gone'))
    both(fn)


@pytest.mark.parametrize('call', [
    lambda lib, m: m.register_buffer('x', lib.ones(1)),
    lambda lib, m: m.register_buffer('q', 3),
    lambda lib, m: m.register_buffer('a.b', lib.ones(1)),
    lambda lib, m: m.register_buffer('', lib.ones(1)),
    lambda lib, m: m.register_buffer(1, lib.ones(1)),
    lambda lib, m: m.register_parameter('q', lib.ones(1)),
    lambda lib, m: m.register_parameter('q', lib.nn.Parameter(lib.ones(1)) * 2),
    lambda lib, m: m.register_parameter('a.b', None),
    lambda lib, m: m.register_parameter('', None),
    lambda lib, m: m.register_parameter(2.5, None),
    lambda lib, m: m.add_module('q', 3),
    lambda lib, m: m.add_module('a.b', lib.nn.ReLU()),
    lambda lib, m: m.add_module('', lib.nn.ReLU()),
    lambda lib, m: m.add_module('w', lib.nn.ReLU()),
    lambda lib, m: m.add_module(3, lib.nn.ReLU()),
    lambda lib, m: m.get_submodule('lin.weight'),
    lambda lib, m: m.get_submodule('foo'),
    lambda lib, m: m.get_submodule('lin.foo'),
    lambda lib, m: m.get_submodule(''),
    lambda lib, m: m.get_submodule('lin'),
    lambda lib, m: m.get_parameter('lin.weight'),
    lambda lib, m: m.get_parameter('b'),
    lambda lib, m: m.get_parameter('lin.zz'),
    lambda lib, m: m.get_parameter('zz.weight'),
    lambda lib, m: m.get_buffer('b'),
    lambda lib, m: m.get_buffer('w'),
    lambda lib, m: m.get_buffer('zz'),
    lambda lib, m: m.get_buffer('x'),
    lambda lib, m: m.nope,
    lambda lib, m: m.set_submodule('lin', lib.nn.Tanh()) or m.lin,
    lambda lib, m: m.set_submodule('lin.sub', lib.nn.Tanh(), strict=True),
    lambda lib, m: m.set_submodule('x', lib.nn.Tanh()),
])
def test_registration_errors(call):
    both(lambda lib: call(lib, registry_model(lib)))


def test_assignment_before_init():
    for attr in ('Linear', 'Parameter', 'buffer'):
        def fn(lib, attr=attr):
            class N(lib.nn.Module):
                def __init__(self):
                    if attr == 'Linear':
                        self.x = lib.nn.Linear(1, 1)
                    elif attr == 'Parameter':
                        self.x = lib.nn.Parameter(lib.ones(1))
                    else:
                        self.register_buffer('x', lib.ones(1))
            return N()
        both(fn)
    both(lambda lib: lib.nn.Module(1))
    both(lambda lib: lib.nn.Module(flag=1))
    both(lambda lib: lib.nn.Module()(1))


# ----------------------------------------------------------------------------- traversal

def shared_model(lib):
    nn = lib.nn
    lib.manual_seed(0)
    shared = nn.Linear(2, 2)
    relu = nn.ReLU()

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = shared
            self.seq = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), relu, shared, relu)
            self.b = shared
            self.p = nn.Parameter(lib.ones(1))
            self.q = self.p
            self.register_buffer('rb', lib.ones(1))
            self.register_buffer('rb2', self.rb)
    return deterministic(lib, M())


@pytest.mark.parametrize('what', [
    lambda m: m.named_parameters(),
    lambda m: m.named_parameters(remove_duplicate=False),
    lambda m: m.named_parameters(prefix='pre'),
    lambda m: m.named_parameters(recurse=False),
    lambda m: m.named_buffers(),
    lambda m: m.named_buffers(remove_duplicate=False),
    lambda m: m.named_buffers(prefix='x', recurse=False),
    lambda m: m.named_children(),
    lambda m: m.named_modules(),
    lambda m: m.named_modules(remove_duplicate=False),
    lambda m: m.named_modules(prefix='root'),
    lambda m: m.seq.named_modules(),
])
def test_named_iterators_order_and_duplicates(what):
    both(lambda lib: [name for name, _ in what(shared_model(lib))])


def test_plain_iterators():
    both(lambda lib: ([type(x).__name__ for x in shared_model(lib).children()],
                      [type(x).__name__ for x in shared_model(lib).modules()],
                      [type(x).__name__ for x in shared_model(lib).modules(remove_duplicate=False)],
                      [tuple(p.shape) for p in shared_model(lib).parameters()],
                      [tuple(p.shape) for p in shared_model(lib).parameters(recurse=False)],
                      [tuple(b.shape) for b in shared_model(lib).buffers()]))
    m = shared_model(ember)
    assert len({id(p) for p in m.parameters()}) == len(list(m.parameters()))


# ----------------------------------------------------------------------------- state_dict

def test_state_dict_keys_order_and_values():
    ref = vgg_like(torch)
    ours = vgg_like(ember)
    assert list(ours.state_dict()) == list(ref.state_dict())
    copy_from_torch(ours, ref)
    sd_e, sd_t = ours.state_dict(), ref.state_dict()
    assert_equiv(norm(sd_e), norm(sd_t), rtol=0, atol=0)
    assert type(sd_e) is OrderedDict
    assert dict(sd_e._metadata) == dict(sd_t._metadata)
    both(lambda lib: dict(shared_model(lib).state_dict()._metadata))
    both(lambda lib: list(shared_model(lib).state_dict()))
    both(lambda lib: list(shared_model(lib).state_dict(prefix='pp.')))
    both(lambda lib: list(shared_model(lib).seq.state_dict()))


def test_state_dict_keep_vars_and_detach():
    def fn(lib):
        m = shared_model(lib)
        kept = m.state_dict(keep_vars=True)
        plain = m.state_dict()
        return ([type(v).__name__ for v in kept.values()], [v.requires_grad for v in plain.values()],
                kept['p'] is m.p, plain['p'] is m.p)
    both(fn)
    m = ember.nn.Linear(2, 2)
    sd = m.state_dict()
    with ember.no_grad():
        sd['weight'].fill_(3.0)  # a detached view of the same storage, as in torch
    assert float(m.weight[0, 0]) == 3.0


def test_state_dict_positional_args_warn():
    def fn(lib):
        d = OrderedDict()
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter('always')
            out = lib.nn.Linear(1, 1).state_dict(d, 'z.')
        return out is d, list(d), [x.category.__name__ for x in w]
    both(fn)


def test_state_dict_non_persistent_and_extra_state():
    def fn(lib):
        class E(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.register_buffer('keep', lib.ones(1))
                self.register_buffer('skip', lib.ones(1), persistent=False)
                self.state = 7

            def get_extra_state(self):
                return {'state': self.state}

            def set_extra_state(self, state):
                self.state = state['state']
        m = E()
        sd = m.state_dict()
        sd['_extra_state'] = {'state': 9}
        r = m.load_state_dict(sd)
        missing = m.load_state_dict({'keep': lib.ones(1)}, strict=False)
        return list(m.state_dict()), m.state, r, missing
    both(fn)
    # a checkpoint's _extra_state is unexpected for a module that does not take one
    both(lambda lib: lib.nn.Linear(1, 1).load_state_dict(
        {'weight': lib.ones(1, 1), 'bias': lib.ones(1), '_extra_state': 1}))


# ----------------------------------------------------------------------------- load_state_dict

def _broken(lib, edit):
    m = shared_model(lib)
    sd = m.state_dict()
    edit(lib, sd)
    return m, sd


@pytest.mark.parametrize('edit', [
    lambda lib, sd: (sd.pop('p'), sd.pop('seq.1.running_var')),
    lambda lib, sd: sd.update({'extra': lib.ones(1), 'seq.1.foo': lib.ones(1), 'seq.3.bar.baz': lib.ones(1),
                               'a.weight.x': lib.ones(1), 'nonmod.w': lib.ones(1)}),
    lambda lib, sd: sd.update({'seq.0.weight': lib.ones(3, 1, 3, 3), 'a.bias': lib.ones(5)}),
    lambda lib, sd: sd.update({'seq.0.weight': 3}),
    lambda lib, sd: (sd.pop('p'), sd.update({'seq.0.weight': lib.ones(3), 'zzz': lib.ones(1)})),
    lambda lib, sd: sd.update({'seq.1.num_batches_tracked': lib.tensor([5])}),
    lambda lib, sd: sd.update({'seq.1.num_batches_tracked': lib.tensor(7.0)}),
    lambda lib, sd: sd.update({'seq.1.running_mean': lib.tensor([1.0, 2.0], dtype=lib.float64)}),
    lambda lib, sd: None,
])
@pytest.mark.parametrize('strict', [True, False])
def test_load_state_dict_messages(edit, strict):
    def fn(lib):
        m, sd = _broken(lib, edit)
        result = m.load_state_dict(sd, strict=strict)
        return repr(result), str(result), result.missing_keys, result.unexpected_keys, m.state_dict()
    both(fn)


def test_load_state_dict_errors_for_non_mapping():
    both(lambda lib: lib.nn.Linear(1, 1).load_state_dict([1]))
    both(lambda lib: lib.nn.Linear(1, 1).load_state_dict({'weight': lib.ones(2, 2)}, strict=False))


def test_load_state_dict_into_shared_parameters():
    def fn(lib):
        lin = lib.nn.Linear(2, 2)
        s = lib.nn.Sequential(lin, lib.nn.ReLU(), lin)
        sd = {k: lib.full_like(v, float(i)) for i, (k, v) in enumerate(s.state_dict().items())}
        return list(s.state_dict()), s.load_state_dict(sd), lin.weight, lin.bias
    both(fn)


def test_load_state_dict_assign():
    def fn(lib):
        lin = lib.nn.Linear(2, 3)
        w = lin.weight
        sd = {'weight': lib.ones(3, 2, dtype=lib.float64), 'bias': lib.zeros(3)}
        lin.load_state_dict(sd)
        copied = (lin.weight is w, lin.weight.dtype)
        lin.load_state_dict(sd, assign=True)
        assigned = (lin.weight is w, lin.weight.dtype, type(lin.weight).__name__, lin.weight.requires_grad,
                    lin.weight.data_ptr() == sd['weight'].data_ptr())
        frozen = lib.nn.Linear(2, 3).requires_grad_(False)
        frozen.load_state_dict({'weight': lib.nn.Parameter(lib.ones(3, 2)), 'bias': lib.zeros(3)}, assign=True)
        bn = lib.nn.BatchNorm1d(3)
        rm = bn.running_mean
        bn.load_state_dict({k: v + 1 for k, v in bn.state_dict().items()}, assign=True)
        return copied, assigned, frozen.weight.requires_grad, bn.running_mean is rm, bn.running_mean, \
            bn.num_batches_tracked
    both(fn)


def test_load_torch_weights_gives_torch_outputs():
    torch.manual_seed(0)
    ref = vgg_like(torch).eval()
    ours = vgg_like(ember).eval()
    assert repr(copy_from_torch(ours, ref)) == '<All keys matched successfully>'
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(ours(ember.tensor(x)).detach().numpy(), ref(torch.tensor(x)).detach().numpy(),
                               rtol=1e-4, atol=1e-5)


def test_load_state_dict_hooks():
    def fn(lib):
        log = []
        m = lib.nn.Sequential(lib.nn.Linear(1, 1))

        def pre(module, sd, prefix, metadata, strict, missing, unexpected, errors):
            log.append(('pre', type(module).__name__, prefix, sorted(sd), metadata.get('version')))
            if 'old.weight' in sd:
                sd[prefix + '0.weight'] = sd.pop('old.weight')

        def post(module, keys):
            log.append(('post', type(module).__name__, list(keys.missing_keys), list(keys.unexpected_keys)))
            keys.unexpected_keys.clear()
        m.register_load_state_dict_pre_hook(pre)
        m[0].register_load_state_dict_pre_hook(pre)
        h = m.register_load_state_dict_post_hook(post)
        sd = m.state_dict()
        sd['old.weight'] = sd.pop('0.weight')
        sd['junk'] = lib.ones(1)
        result = m.load_state_dict(sd)
        h.remove()
        return log, result
    both(fn)

    def returns_value(lib):
        m = lib.nn.Linear(1, 1)
        m.register_load_state_dict_post_hook(lambda mod, keys: 1)
        return m.load_state_dict(m.state_dict())
    both(returns_value)


def test_state_dict_hooks():
    def fn(lib):
        log = []
        m = deterministic(lib, lib.nn.Sequential(lib.nn.Linear(1, 1)))
        m.register_state_dict_pre_hook(lambda mod, prefix, keep: log.append(('pre', prefix, keep)))

        def post(mod, sd, prefix, metadata):
            log.append(('post', prefix, list(sd), metadata))
            sd['added'] = lib.zeros(1)
        m[0].register_state_dict_post_hook(post)
        keys = list(m.state_dict(keep_vars=True))
        return log, keys, m.state_dict()
    both(fn)

    def replaces(lib, public):
        m = deterministic(lib, lib.nn.Linear(1, 1))
        hook = lambda *a: {'only': lib.zeros(1)}  # noqa: E731
        m.register_state_dict_post_hook(hook) if public else m._register_state_dict_hook(hook)
        return m.state_dict()
    both(lambda lib: replaces(lib, True))
    both(lambda lib: replaces(lib, False))


# ----------------------------------------------------------------------------- modes, grads, moves

def test_train_eval_propagation():
    def fn(lib):
        m = vgg_like(lib)
        out = [m.training, m.eval() is m, [x.training for x in m.modules()]]
        out += [m.train() is m, [x.training for x in m.modules()]]
        m[9].eval()
        out.append([x.training for x in m.modules()])
        return out
    both(fn)
    both(lambda lib: vgg_like(lib).train('yes'))
    both(lambda lib: vgg_like(lib).train(1))


def test_requires_grad_and_zero_grad():
    def fn(lib):
        lib.manual_seed(0)
        m = vgg_like(lib).eval()
        out = [m.requires_grad_(False) is m, [p.requires_grad for p in m.parameters()]]
        m.requires_grad_()
        m[9].requires_grad_(False)
        m(lib.ones(1, 3, 4, 4)).sum().backward()
        out.append([p.grad is None for p in m.parameters()])
        m.zero_grad(set_to_none=False)
        out.append([None if p.grad is None else float(p.grad.abs().sum()) for p in m.parameters()])
        m.zero_grad()
        out.append([p.grad is None for p in m.parameters()])
        return out
    both(fn)


def test_zero_grad_keeps_grad_tensor():
    m = ember.nn.Linear(2, 2)
    m(ember.ones(1, 2)).sum().backward()
    g = m.weight.grad
    m.zero_grad(set_to_none=False)
    assert m.weight.grad is g and float(g.abs().sum()) == 0.0


@pytest.mark.parametrize('move', [
    lambda lib, m: m.to(lib.float64), lambda lib, m: m.double(), lambda lib, m: m.half(), lambda lib, m: m.float(),
    lambda lib, m: m.bfloat16(), lambda lib, m: m.to(dtype=lib.float64), lambda lib, m: m.to('cpu', lib.float64),
    lambda lib, m: m.to(lib.ones(1, dtype=lib.float64)), lambda lib, m: m.to('cpu'), lambda lib, m: m.cpu(),
    lambda lib, m: m.to(lib.int32), lambda lib, m: m.type(lib.float64), lambda lib, m: m.to('cpu', lib.float64, True),
])
def test_moves_and_casts(move):
    def fn(lib):
        m = vgg_like(lib)
        p = m[0].weight
        m[0].weight.grad = lib.ones(8, 3, 3, 3)
        out = move(lib, m)
        return (out is m, [(n, t.dtype) for n, t in m.state_dict().items()], m[0].weight is p,
                type(m[0].weight).__name__, m[0].weight.requires_grad, m[0].weight.grad.dtype)
    both(fn)


def test_apply_order():
    def fn(lib):
        seen = []
        m = vgg_like(lib)
        out = m.apply(lambda mod: seen.append(type(mod).__name__))
        return out is m, seen
    both(fn)

    def init(lib):
        m = lib.nn.Sequential(lib.nn.Linear(3, 2), lib.nn.Sequential(lib.nn.Linear(2, 2)))

        def fill(mod):
            if isinstance(mod, lib.nn.Linear):
                lib.nn.init.constant_(mod.weight, 0.5)
                lib.nn.init.zeros_(mod.bias)
        return m.apply(fill).state_dict()
    both(init)


# ----------------------------------------------------------------------------- copies and pickling

def test_deepcopy():
    def fn(lib):
        m = vgg_like(lib)
        m[0].weight.grad = lib.ones(8, 3, 3, 3)
        c = copy.deepcopy(m)
        lin = lib.nn.Linear(2, 2)
        s = copy.deepcopy(lib.nn.Sequential(lin, lin))
        return (c[0].weight is m[0].weight, c.state_dict(), type(c[0].weight).__name__, c[0].weight.grad is None,
                repr(c) == repr(m), s[0] is s[1], len(list(s.parameters())))
    both(fn)
    m = vgg_like(ember)
    c = copy.deepcopy(m)
    with ember.no_grad():
        c[0].weight.fill_(1.0)
    assert float(m[0].weight.abs().sum()) != float(c[0].weight.abs().sum())


def test_pickle_round_trip():
    pytest.importorskip('ember._tensor_pickle', reason='tensor pickling (ember/_tensor_pickle.py) is not there')
    torch.manual_seed(0)
    ref = vgg_like(torch).eval()
    m = vgg_like(ember).eval()
    copy_from_torch(m, ref)
    m.register_buffer('scratch', ember.zeros(2), persistent=False)
    back = pickle.loads(pickle.dumps(m))
    assert repr(back) == repr(m)
    assert list(back.state_dict()) == list(m.state_dict())
    assert_equiv(norm(back.state_dict()), norm(m.state_dict()), rtol=0, atol=0)
    assert isinstance(back[0].weight, ember.nn.Parameter) and back[0].weight.requires_grad
    assert back._non_persistent_buffers_set == {'scratch'}
    x = ember.ones(1, 3, 8, 8)
    np.testing.assert_array_equal(back(x).detach().numpy(), m(x).detach().numpy())


def test_dir():
    def fn(lib):
        m = registry_model(lib)
        s = lib.nn.Sequential(lib.nn.ReLU())
        return (sorted(set(dir(m)) - set(dir(type(m)))), dir(m) == sorted(dir(m)), '0' in dir(s),
                'append' in dir(s), [d for d in dir(lib.nn.Linear(1, 1)) if d in ('weight', 'bias', 'in_features')])
    both(fn)


# ----------------------------------------------------------------------------- module path in errors

class _Net(ember.nn.Module):
    def __init__(self):
        super().__init__()
        self.features = ember.nn.Linear(4, 10)
        self.classifier = ember.nn.Sequential(ember.nn.ReLU(), ember.nn.Linear(12, 3))

    def forward(self, x):
        return self.classifier(self.features(x))


def test_error_names_module_path_once():
    model = _Net()
    for _ in range(2):  # a fresh exception each call, written once
        with pytest.raises(RuntimeError) as info:
            model(ember.ones(4, 4))
        assert str(info.value) == ('in model.classifier.1 (Linear): mat1 and mat2 shapes cannot be multiplied '
                                   '(4x10 and 12x3)')
    with pytest.raises(RuntimeError, match=r'^in model \(Linear\): mat1 and mat2 shapes cannot be multiplied'):
        ember.nn.Linear(3, 2)(ember.ones(4, 4))
    # hooks on the way do not change the path
    model.classifier.register_forward_hook(lambda *a: None)
    model.classifier[1].register_forward_pre_hook(lambda *a: None)
    with pytest.raises(RuntimeError, match=r'^in model\.classifier\.1 \(Linear\): mat1'):
        model(ember.ones(4, 4))


def test_error_path_through_containers_keeps_type():
    class Bad(ember.nn.Module):
        def forward(self, x):
            raise KeyError('k')

    class Outer(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = ember.nn.ModuleList([ember.nn.ReLU(), Bad()])
            self.head = ember.nn.ModuleDict({'out': Bad()})

        def forward(self, x, which):
            return self.blocks[1](x) if which == 0 else self.head['out'](x)
    with pytest.raises(KeyError) as info:
        Outer()(1, 0)
    assert info.value.args == ('in model.blocks.1 (Bad): k',)
    with pytest.raises(KeyError) as info:
        Outer()(1, 1)
    assert info.value.args == ('in model.head.out (Bad): k',)

    class Custom(Exception):
        pass

    class Raises(ember.nn.Module):
        def forward(self, x):
            raise Custom()
    with pytest.raises(Custom) as info:
        ember.nn.Sequential(Raises())(1)
    assert info.value.args == ('in model.0 (Raises)',)


# ----------------------------------------------------------------------------- Parameter and Buffer

def test_parameter_and_buffer_like_torch():
    def fn(lib):
        nn = lib.nn
        p = nn.Parameter(lib.ones(2))
        derived = [p * 2, p.data, p.detach(), p.clone(), p[0], p.view(2), copy.deepcopy(p), p.to(lib.float64),
                   p.float(), p + 0]
        base = lib.ones(2)
        shared = nn.Parameter(base)
        with lib.no_grad():
            shared.add_(1)
        b = nn.Buffer(lib.ones(2, requires_grad=True))
        return (repr(p), repr(nn.Parameter(lib.ones(2), requires_grad=False)), repr(nn.Parameter()),
                repr(nn.Parameter(lib.ones(2, dtype=lib.int64), requires_grad=False)),
                [(type(d).__name__, d.requires_grad, d.is_leaf) for d in derived],
                base, shared._version, base._version, nn.Parameter(lib.ones(2, requires_grad=True) * 2).is_leaf,
                (b.requires_grad, b.is_leaf, type(b).__name__), type(nn.Parameter(nn.Parameter(lib.ones(1)))).__name__,
                issubclass(nn.UninitializedParameter, nn.Parameter))
    both(fn)
    both(lambda lib: lib.nn.Parameter(lib.ones(2, dtype=lib.int64)))
    both(lambda lib: lib.nn.Buffer(3))


def test_batchnorm_checkpoint_versions():
    def fn(lib):
        bn = lib.nn.BatchNorm1d(2)
        sd = {k: v for k, v in bn.state_dict().items() if k != 'num_batches_tracked'}
        plain = bn.load_state_dict(sd, strict=False)  # no _metadata: an old checkpoint, the counter is filled in
        versioned = bn.state_dict()
        del versioned['num_batches_tracked']
        return repr(plain), repr(bn.load_state_dict(versioned, strict=False))
    both(fn)
