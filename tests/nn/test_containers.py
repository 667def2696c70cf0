"""Containers against torch: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict, and reprs."""
from collections import OrderedDict

import numpy as np
import pytest

import ember
from tests.conftest import requires_torch, torch
from tests.nn.test_module import both, copy_from_torch, deterministic, vgg_like

pytestmark = requires_torch


def names(container):
    return [type(m).__name__ + (str(m.out_features) if hasattr(m, 'out_features') else '') for m in container]


def lin(lib, n):
    return lib.nn.Linear(1, n)


# ----------------------------------------------------------------------------- repr

def test_repr_vgg_like_matches_torch():
    assert repr(vgg_like(ember)) == repr(vgg_like(torch))


@pytest.mark.parametrize('build', [
    lambda lib: lib.nn.Sequential(),
    lambda lib: lib.nn.Sequential(OrderedDict([('conv', lib.nn.Conv2d(1, 2, 3)), ('act', lib.nn.ReLU())])),
    lambda lib: lib.nn.ModuleList([lib.nn.Linear(2, 2) for _ in range(3)] + [lib.nn.ReLU(), lib.nn.Linear(2, 3),
                                   lib.nn.Linear(2, 3), lib.nn.ReLU()]),
    lambda lib: lib.nn.ModuleList([lib.nn.Sequential(lib.nn.Linear(1, 1), lib.nn.ReLU()) for _ in range(2)]),
    lambda lib: lib.nn.ModuleList(),
    lambda lib: lib.nn.ModuleDict({'b': lib.nn.Linear(1, 1), 'a': lib.nn.ReLU()}),
    lambda lib: lib.nn.ModuleDict(),
    lambda lib: lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2, 3)), lib.zeros(4), 'text', None,
                                      lib.nn.Parameter(lib.ones(1, dtype=lib.float64))]),
    lambda lib: lib.nn.ParameterList([lib.ones(1)]),
    lambda lib: lib.nn.ParameterList(),
    lambda lib: lib.nn.ParameterDict({'w': lib.nn.Parameter(lib.ones(2, 3)), 'b': lib.zeros(4),
                                      'd': lib.ones(1, dtype=lib.float64)}),
    lambda lib: lib.nn.ParameterDict(),
])
def test_container_repr(build):
    both(lambda lib: repr(build(lib)))


def test_nested_repr_with_extra_repr():
    def fn(lib):
        nn = lib.nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.features = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU())
                self.heads = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
                self.d = nn.ModuleDict({'x': nn.Identity()})
                self.pl = nn.ParameterList([nn.Parameter(lib.ones(1))])
                self.pd = nn.ParameterDict({'a': nn.Parameter(lib.ones(1)), 'b': nn.Parameter(lib.ones(2))})
                self.register_module('missing', None)

            def extra_repr(self):
                return 'custom=1'

        class Two(nn.Module):
            def __init__(self, child):
                super().__init__()
                if child:
                    self.x = nn.ReLU()

            def extra_repr(self):
                return 'a=1\nb=2'
        return repr(Net()), repr(Two(False)), repr(Two(True))
    both(fn)


# ----------------------------------------------------------------------------- Sequential

def test_sequential_indexing_and_editing():
    def fn(lib):
        out = []
        s = lib.nn.Sequential(lin(lib, 1), lib.nn.ReLU(), lin(lib, 2), lib.nn.Tanh(), lin(lib, 3))
        out += [names(s), type(s[1:3]).__name__, names(s[1:3]), list(s[::2]._modules), names(s[-1:]),
                type(s[-1]).__name__, s[-5] is s[0]]
        s[1] = lib.nn.Sigmoid()
        s[-1] = lin(lib, 9)
        out.append(names(s))
        del s[1]
        out.append((list(s._modules), names(s)))
        del s[::2]
        out.append((list(s._modules), names(s)))
        s.append(lin(lib, 4)).insert(0, lin(lib, 5)).insert(-1, lib.nn.ReLU())
        out.append((list(s._modules), names(s)))
        s.extend([lib.nn.Tanh(), lin(lib, 6)])
        out.append(names(s))
        out.append((names([s.pop(1)]), names(s), list(s._modules)))
        out.append(names(s + lib.nn.Sequential(lin(lib, 7))))
        s += lib.nn.Sequential(lin(lib, 8))
        out.append((names(s), len(s)))
        s3 = lib.nn.Sequential(lin(lib, 1), lib.nn.ReLU()) * 2
        out.append((names(s3), s3[0] is s3[2], names(2 * lib.nn.Sequential(lib.nn.ReLU()))))
        s4 = lib.nn.Sequential(lin(lib, 1))
        s4 *= 3
        out.append((list(s4._modules), s4[0] is s4[2]))
        od = lib.nn.Sequential(OrderedDict([('a', lin(lib, 1)), ('b', lib.nn.ReLU())]))
        out.append((od.a.out_features, list(od._modules), type(od[1]).__name__, list(od[0:1]._modules)))
        out.append([k for k in dir(s) if k.isdigit()])
        return out
    both(fn)


@pytest.mark.parametrize('call', [
    lambda lib, s: s[5], lambda lib, s: s[-6], lambda lib, s: s['a'], lambda lib, s: s.__setitem__(1, 3),
    lambda lib, s: s.insert(10, lib.nn.ReLU()), lambda lib, s: s.insert(0, 3), lambda lib, s: s + lib.nn.ReLU(),
    lambda lib, s: s * 0, lambda lib, s: s * 1.5, lambda lib, s: s.__iadd__(3), lambda lib, s: s.pop(9),
    lambda lib, s: lib.nn.Sequential({'a': lib.nn.ReLU()}), lambda lib, s: lib.nn.Sequential(3),
    lambda lib, s: s.append(3),
])
def test_sequential_errors(call):
    both(lambda lib: call(lib, lib.nn.Sequential(lin(lib, 1), lib.nn.ReLU(), lin(lib, 2), lib.nn.Tanh(), lin(lib, 3))))


def test_sequential_forward_and_gradients_match_torch():
    torch.manual_seed(0)
    ref = vgg_like(torch).train()
    ours = vgg_like(ember).train()
    copy_from_torch(ours, ref)
    for m in (ref, ours):  # dropout draws differ between the libraries
        m[9][2].eval()
    x = np.random.default_rng(0).standard_normal((4, 3, 8, 8)).astype(np.float32)
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ye, yt = ours(xe), ref(xt)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    (ye ** 2).sum().backward()
    (yt ** 2).sum().backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    for (name, p), (_, q) in zip(ours.named_parameters(), ref.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-4, atol=1e-4, err_msg=name)
    for (name, b), (_, c) in zip(ours.named_buffers(), ref.named_buffers()):
        np.testing.assert_allclose(b.numpy(), c.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)
    assert ember.nn.Sequential()(xe) is xe


# ----------------------------------------------------------------------------- ModuleList / ModuleDict

def test_module_list_operations():
    def fn(lib):
        out = []
        ml = lib.nn.ModuleList([lin(lib, 1), lin(lib, 2), lin(lib, 3)])
        out += [names(ml), names(ml[1:]), type(ml[1:]).__name__, ml[-1].out_features, len(ml)]
        ml[0] = lin(lib, 9)
        out.append(names(ml))
        del ml[0]
        out.append((list(ml._modules), names(ml)))
        ml.insert(1, lin(lib, 8))
        ml.insert(2, lin(lib, 7))
        out.append((list(ml._modules), names(ml)))
        ml.append(lin(lib, 6)).extend([lin(lib, 5)])
        ml += [lin(lib, 4)]
        out.append(names(ml))
        out.append((names(ml + lib.nn.ModuleList([lin(lib, 3)])), type(ml + [lin(lib, 3)]).__name__))
        out.append((ml.pop(0).out_features, names(ml)))
        del ml[1:3]
        out.append((names(ml), list(ml._modules)))
        out.append([n for n, _ in lib.nn.ModuleList([lin(lib, 1), lib.nn.ReLU()]).named_parameters()])
        return out
    both(fn)


@pytest.mark.parametrize('call', [
    lambda lib, ml: ml[3], lambda lib, ml: ml[-4], lambda lib, ml: ml.extend(3), lambda lib, ml: ml(1),
    lambda lib, ml: ml.append(3), lambda lib, ml: ml.__setitem__(0, 'x'), lambda lib, ml: ml.pop(5),
])
def test_module_list_errors(call):
    both(lambda lib: call(lib, lib.nn.ModuleList([lin(lib, 1), lin(lib, 2), lin(lib, 3)])))


def test_module_dict_operations():
    def fn(lib):
        out = []
        md = lib.nn.ModuleDict({'z': lin(lib, 1), 'a': lin(lib, 2)})
        out += [list(md), list(md.keys()), names(md.values()), [k for k, _ in md.items()]]
        md['b'] = lin(lib, 3)
        md.update([('c', lin(lib, 4))])
        md.update(OrderedDict(d=lin(lib, 5)))
        md.update(lib.nn.ModuleDict({'e': lib.nn.ReLU()}))
        out.append((list(md), 'c' in md, 'q' in md, len(md)))
        out.append((md.pop('z').out_features, list(md)))
        del md['a']
        out.append((list(md), [n for n, _ in md.named_parameters()], list(md.state_dict())))
        md.clear()
        out.append(len(md))
        return out
    both(fn)


@pytest.mark.parametrize('call', [
    lambda lib, md: md['zz'], lambda lib, md: md.update(3), lambda lib, md: md.update([('a', lin(lib, 1), 3)]),
    lambda lib, md: md.update([3]), lambda lib, md: md(1), lambda lib, md: lib.nn.ModuleDict({'a.b': lin(lib, 1)}),
    lambda lib, md: md.__setitem__('k', 3),
])
def test_module_dict_errors(call):
    both(lambda lib: call(lib, lib.nn.ModuleDict({'z': lin(lib, 1)})))


# ----------------------------------------------------------------------------- ParameterList / ParameterDict

def test_parameter_list_operations():
    def fn(lib):
        out = []
        pl = deterministic(lib, lib.nn.ParameterList([lib.ones(1), lib.nn.Parameter(lib.zeros(2)), 'str', None]))
        out += [len(pl), [type(p).__name__ for p in pl], [n for n, _ in pl.named_parameters()]]
        pl.append(lib.ones(3))
        pl[0] = lib.zeros(5)
        pl += [lib.ones(2, 2)]
        out += [pl[0], type(pl[0]).__name__, pl[-1].shape, len(pl[1:]), type(pl[1:]).__name__,
                list(pl.state_dict()), [p.requires_grad for p in pl.parameters()]]
        return out
    both(fn)


@pytest.mark.parametrize('call', [
    lambda lib, pl: pl.extend(lib.ones(2)), lambda lib, pl: pl[10], lambda lib, pl: pl(1), lambda lib, pl: pl.extend(3),
    lambda lib, pl: pl['a'],
])
def test_parameter_list_errors(call):
    both(lambda lib: call(lib, lib.nn.ParameterList([lib.ones(1)])))


def test_parameter_dict_operations():
    def fn(lib):
        out = []
        pd = lib.nn.ParameterDict({'w': lib.ones(2), 'a': lib.nn.Parameter(lib.zeros(1))})
        out += [list(pd), list(pd.keys()), [type(v).__name__ for v in pd.values()]]
        pd['x'] = lib.ones(3)
        pd.update([('y', lib.ones(1))])
        out.append((list(pd), list(pd.state_dict()), [n for n, _ in pd.named_parameters()]))
        out.append((pd.get('nope'), pd.setdefault('z', lib.ones(2)).shape, pd.pop('x').shape, pd.popitem()[0],
                    list(pd)))
        pd2 = pd | lib.nn.ParameterDict({'q': lib.ones(1)})
        pd |= lib.nn.ParameterDict({'r': lib.ones(1)})
        out.append((list(pd2), list(reversed(pd2)), list(pd.copy()), list(pd)))
        pd['obj'] = 'hello'
        out.append((repr(pd), list(pd.fromkeys(['m', 'n'], lib.ones(1))), 'obj' in pd))
        pd.clear()
        out.append((len(pd), list(pd.named_parameters())))
        return out
    both(fn)


@pytest.mark.parametrize('call', [
    lambda lib, pd: pd[3], lambda lib, pd: pd['missing'], lambda lib, pd: pd(1), lambda lib, pd: pd.update(3),
    lambda lib, pd: pd.update([('a', lib.ones(1), 1)]),
])
def test_parameter_dict_errors(call):
    both(lambda lib: call(lib, lib.nn.ParameterDict({'w': lib.ones(2)})))


def test_containers_in_a_model_state_dict():
    def fn(lib):
        nn = lib.nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.blocks = nn.ModuleList([nn.Linear(2, 2), nn.BatchNorm1d(2)])
                self.heads = nn.ModuleDict({'b': nn.Linear(2, 1), 'a': nn.Linear(2, 3)})
                self.scales = nn.ParameterList([lib.ones(2), lib.ones(2)])
                self.extra = nn.ParameterDict({'k': lib.ones(1)})
        return deterministic(lib, Net()).state_dict()
    both(fn)
