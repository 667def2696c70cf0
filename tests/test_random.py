"""Random numbers: generators, seeding and state, sampling functions, their dtypes, errors and distributions."""
import pickle

import numpy as np
import pytest

import ember
from tests.conftest import requires_torch, torch

N = 200_000  # samples for the distribution checks: standard errors ~ 0.2% of the spread


def arr(t):
    return np.asarray(t).astype(np.float64)


def close(value, expected, spread, n=N, z=6.0):
    """``value`` (a sample mean) is within ``z`` standard errors of ``expected``."""
    assert abs(value - expected) <= z * spread / np.sqrt(n), (value, expected)


# ----------------------------------------------------------------------------- generators and seeding

def test_conftest_seeds_the_default_generator():
    assert ember.initial_seed() == 0


def test_same_seed_same_numbers():
    ember.manual_seed(123)
    first = [ember.rand(5), ember.randn(3, 2), ember.randint(0, 100, (7,)), ember.randperm(9),
             ember.normal(0., 1., (4,)), ember.bernoulli(ember.full((6,), 0.5)),
             ember.multinomial(ember.ones(10), 4), ember.poisson(ember.full((5,), 3.)), ember.empty(4).uniform_()]
    ember.manual_seed(123)
    second = [ember.rand(5), ember.randn(3, 2), ember.randint(0, 100, (7,)), ember.randperm(9),
              ember.normal(0., 1., (4,)), ember.bernoulli(ember.full((6,), 0.5)),
              ember.multinomial(ember.ones(10), 4), ember.poisson(ember.full((5,), 3.)), ember.empty(4).uniform_()]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert not np.array_equal(np.asarray(first[0]), np.asarray(ember.rand(5)))


def test_manual_seed_returns_the_generator_and_sets_initial_seed():
    g = ember.manual_seed(7)
    assert g is ember.default_generator
    assert ember.initial_seed() == 7 and ember.random.initial_seed() == 7
    assert ember.Generator().initial_seed() == 67280421310721
    assert ember.manual_seed(-1).initial_seed() == 2 ** 64 - 1
    assert ember.manual_seed(2.7).initial_seed() == 2
    with pytest.raises(RuntimeError, match='manual_seed expected a long, but got float'):
        ember.Generator().manual_seed(1.5)
    with pytest.raises(ValueError, match='Overflow'):
        ember.manual_seed(2 ** 64)


def test_seed_is_nondeterministic_and_recorded():
    s1 = ember.seed()
    assert ember.initial_seed() == s1
    s2 = ember.random.seed()
    assert s1 != s2 and 0 <= s1 < 2 ** 63
    g = ember.Generator()
    assert g.seed() == g.initial_seed()


def test_generators_are_independent():
    g1 = ember.Generator().manual_seed(5)
    g2 = ember.Generator().manual_seed(5)
    ember.manual_seed(5)
    a = ember.rand(10, generator=g1)
    ember.rand(100)  # the default stream moves; g2 does not
    b = ember.rand(10, generator=g2)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # drawing from a private generator leaves the default one untouched
    state = ember.get_rng_state()
    ember.randn(50, generator=g1)
    ember.empty(5).normal_(generator=g1)
    assert np.array_equal(np.asarray(state), np.asarray(ember.get_rng_state()))
    assert g1.device == ember.device('cpu')


def test_rng_state_round_trip():
    ember.manual_seed(3)
    ember.rand(17)
    state = ember.get_rng_state()
    assert state.dtype is ember.uint8 and state.ndim == 1
    expected = [np.asarray(ember.rand(5)), np.asarray(ember.randn(4)), np.asarray(ember.randint(10, (6,)))]
    ember.rand(1000)
    ember.set_rng_state(state)
    got = [np.asarray(ember.rand(5)), np.asarray(ember.randn(4)), np.asarray(ember.randint(10, (6,)))]
    for a, b in zip(expected, got):
        np.testing.assert_array_equal(a, b)
    assert ember.initial_seed() == 3


def test_generator_state_round_trip_and_clone():
    g = ember.Generator().manual_seed(11)
    ember.rand(3, generator=g)
    state = g.get_state()
    a = np.asarray(ember.randn(8, generator=g))
    g2 = ember.Generator().set_state(state)
    np.testing.assert_array_equal(a, np.asarray(ember.randn(8, generator=g2)))
    g.set_state(state)
    clone = g.clone_state()
    np.testing.assert_array_equal(np.asarray(ember.rand(4, generator=g)), np.asarray(ember.rand(4, generator=clone)))
    restored = pickle.loads(pickle.dumps(g))
    np.testing.assert_array_equal(np.asarray(ember.rand(4, generator=g)),
                                  np.asarray(ember.rand(4, generator=restored)))


def test_set_state_errors():
    with pytest.raises(TypeError, match='RNG state must be a torch.ByteTensor'):
        ember.set_rng_state(ember.zeros(3))
    with pytest.raises(RuntimeError, match='size to be 3'):
        ember.set_rng_state(ember.zeros(3, dtype=ember.uint8))


def test_fork_rng():
    ember.manual_seed(0)
    before = ember.get_rng_state()
    with ember.random.fork_rng():
        ember.rand(100)
        ember.manual_seed(99)
    assert np.array_equal(np.asarray(before), np.asarray(ember.get_rng_state()))
    with ember.random.fork_rng(enabled=False):
        ember.rand(1)
    assert not np.array_equal(np.asarray(before), np.asarray(ember.get_rng_state()))


# ----------------------------------------------------------------------------- dtypes, shapes and signatures

@pytest.mark.parametrize('dtype', ['float16', 'bfloat16', 'float32', 'float64'])
def test_float_dtypes_are_kept(dtype):
    dt = getattr(ember, dtype)
    assert ember.rand(3, dtype=dt).dtype is dt
    assert ember.randn(3, dtype=dt).dtype is dt
    assert ember.normal(0., 1., (3,), dtype=dt).dtype is dt
    x = ember.zeros(4, dtype=dt)
    for method, args in [('uniform_', (-1, 1)), ('normal_', (0, 2)), ('bernoulli_', (0.3,)), ('exponential_', ()),
                         ('geometric_', (0.4,)), ('log_normal_', ()), ('cauchy_', ()), ('random_', (10,))]:
        assert getattr(x, method)(*args) is x
        assert x.dtype is dt
    u = ember.rand(10_000, dtype=dt)
    assert float(u.max()) < 1.0 and float(u.min()) >= 0.0
    assert ember.rand_like(x).dtype is dt and ember.randn_like(x).dtype is dt


def test_default_dtype_and_shapes():
    assert ember.rand(2, 3).shape == (2, 3) and ember.rand(2, 3).dtype is ember.float32
    assert ember.rand((2, 3)).shape == (2, 3) and ember.randn([4]).shape == (4,)
    assert ember.rand(size=(5,)).shape == (5,)
    assert ember.rand(()).shape == () and ember.randn(0, 3).shape == (0, 3)
    assert ember.randint(5, (3,)).dtype is ember.int64
    assert ember.randint(high=5, size=(3,)).shape == (3,)
    assert ember.randint(1, 5, (3,), dtype=ember.float32).dtype is ember.float32
    assert ember.randint_like(ember.zeros(2, dtype=ember.int32), 1, 5).dtype is ember.int32
    assert ember.randint_like(ember.zeros(2), 5).dtype is ember.float32
    assert ember.randperm(4).dtype is ember.int64 and ember.randperm(4, dtype=ember.float32).dtype is ember.float32
    assert ember.normal(ember.zeros(2, dtype=ember.float64), 1.).dtype is ember.float64
    assert ember.normal(0., ember.ones(2, 3)).shape == (2, 3)
    assert ember.normal(ember.zeros(2, 3), ember.ones(3)).shape == (2, 3)
    assert ember.normal(2, 3, (2,)).dtype is ember.float32
    assert ember.bernoulli(ember.full((3,), 0.5, dtype=ember.float64)).dtype is ember.float64
    assert ember.bernoulli(ember.zeros(3), 0.5).shape == (3,)
    assert ember.poisson(ember.ones(3, dtype=ember.float16)).dtype is ember.float16
    assert ember.multinomial(ember.ones(2, 5), 3).shape == (2, 3)
    assert ember.rand(3, requires_grad=True).requires_grad
    assert ember.randn(2, dtype=ember.complex64).dtype is ember.complex64


def test_out_argument():
    out = ember.zeros(1)
    result = ember.rand(2, 3, out=out)
    assert result is out and out.shape == (2, 3)
    out = ember.zeros(4, dtype=ember.int64)
    ember.randint(0, 3, (4,), out=out)
    assert out.dtype is ember.int64 and int(out.max()) < 3


def test_tensor_methods():
    p = ember.tensor([0.2, 0.8])
    assert p.bernoulli().shape == (2,)
    assert p.multinomial(1).shape == (1,)


def test_zero_dim_int_random_for_samplers():
    # the pattern torch's samplers use to derive seeds
    value = ember.empty((), dtype=ember.int64).random_().item()
    assert isinstance(value, int) and 0 <= value < 2 ** 63


# ----------------------------------------------------------------------------- in-place semantics

def test_inplace_bumps_version_and_writes_views():
    x = ember.zeros(3, 4)
    v0 = x._version
    x.normal_()
    assert x._version == v0 + 1
    col = x[:, 1]
    col.uniform_(5, 6)
    values = np.asarray(x)
    assert ((values[:, 1] >= 5) & (values[:, 1] < 6)).all()
    assert not ((values[:, 0] >= 5) & (values[:, 0] < 6)).any()
    xt = ember.zeros(3, 4).t()
    xt.exponential_()
    assert (np.asarray(xt) > 0).all()


def test_inplace_on_leaf_requiring_grad():
    w = ember.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match='leaf Variable that requires grad'):
        w.normal_()
    with ember.no_grad():
        w.uniform_(-1, 1)
    assert w.requires_grad and w.grad_fn is None


@requires_torch
def test_zero_gradients_and_grad_fn_names_match_torch():
    for m in (ember, torch):
        mean = m.zeros(3, requires_grad=True)
        std = m.ones(3, requires_grad=True)
        names = []
        y = m.normal(mean, 1.)
        names.append(y.grad_fn.name())
        y2 = m.normal(0., std)
        names.append(y2.grad_fn.name())
        y3 = m.normal(mean, std)
        names.append(y3.grad_fn.name())
        (y + y2 + y3).sum().backward()
        assert np.array_equal(arr(mean.grad), np.zeros(3)) and np.array_equal(arr(std.grad), np.zeros(3))
        b = m.bernoulli(m.full((3,), 0.5, requires_grad=True))
        p = m.poisson(m.full((3,), 2., requires_grad=True))
        z = m.zeros(3, requires_grad=True).clone()
        z.normal_()
        names += [b.grad_fn.name(), p.grad_fn.name(), z.grad_fn.name()]
        if m is ember:
            ember_names = names
        else:
            assert ember_names == names


# ----------------------------------------------------------------------------- errors, as torch raises them

ERROR_CASES = [
    lambda m: m.rand(2, dtype=m.int64),
    lambda m: m.randn(2, dtype=m.int64),
    lambda m: m.rand(-1),
    lambda m: m.randint(5, 5, (2,)),
    lambda m: m.randint(5, (2,), dtype=m.bool),
    lambda m: m.randint(-3, 3, (5,), dtype=m.uint8),
    lambda m: m.randperm(-1),
    lambda m: m.randperm(3, dtype=m.bool),
    lambda m: m.zeros(2, dtype=m.int64).uniform_(),
    lambda m: m.zeros(2, dtype=m.int64).normal_(),
    lambda m: m.zeros(2, dtype=m.int64).exponential_(),
    lambda m: m.zeros(2, dtype=m.int64).log_normal_(),
    lambda m: m.zeros(2, dtype=m.int64).cauchy_(),
    lambda m: m.zeros(2).exponential_(-1),
    lambda m: m.zeros(2).geometric_(0),
    lambda m: m.zeros(2).geometric_(1.5),
    lambda m: m.zeros(2).normal_(0, -1),
    lambda m: m.zeros(2).uniform_(2, 1),
    lambda m: m.zeros(2).uniform_(0, float('inf')),
    lambda m: m.zeros(2).log_normal_(0, -1),
    lambda m: m.zeros(2).cauchy_(0, -1),
    lambda m: m.zeros(2).random_(5, 5),
    lambda m: m.zeros(2, dtype=m.int8).random_(0, 300),
    lambda m: m.zeros(2, dtype=m.int8).random_(-300, 3),
    lambda m: m.zeros(2, dtype=m.uint8).random_(0, 300),
    lambda m: m.zeros(2, dtype=m.int16).random_(0, 2 ** 16),
    lambda m: m.zeros(2, dtype=m.int32).random_(0, 2 ** 33),
    lambda m: m.zeros(2, dtype=m.bool).random_(0, 3),
    lambda m: m.zeros(2, dtype=m.complex64).random_(),
    lambda m: m.zeros(2).bernoulli_(1.5),
    lambda m: m.zeros(2).bernoulli_(m.tensor([0, 1])),
    lambda m: m.zeros(2).bernoulli_(m.tensor([0.5, 2.])),
    lambda m: m.bernoulli(m.tensor([1.5])),
    lambda m: m.bernoulli(m.tensor([1, 0])),
    lambda m: m.multinomial(m.ones(3), 4),
    lambda m: m.multinomial(m.ones(3, 3, 3), 2),
    lambda m: m.multinomial(m.tensor([1., -1]), 1),
    lambda m: m.multinomial(m.tensor([1., float('nan')]), 1),
    lambda m: m.multinomial(m.tensor([1., float('inf')]), 1),
    lambda m: m.multinomial(m.tensor([0., 0]), 1),
    lambda m: m.multinomial(m.tensor([[0., 1.], [0., 0.]]), 1, True),
    lambda m: m.multinomial(m.ones(3), 0),
    lambda m: m.multinomial(m.ones(3, dtype=m.int64), 1),
    lambda m: m.multinomial(m.ones(0), 1),
    lambda m: m.normal(m.zeros(2), -m.ones(2)),
    lambda m: m.normal(0., -1., (2,)),
    lambda m: m.normal(m.zeros(2), m.ones(3)),
    lambda m: m.normal(m.zeros(2, dtype=m.int64), 1.),
    lambda m: m.poisson(m.tensor([-1.])),
    lambda m: m.poisson(m.tensor([1])),
]


@requires_torch
@pytest.mark.parametrize('case', range(len(ERROR_CASES)))
def test_errors_match_torch(case):
    fn = ERROR_CASES[case]
    with pytest.raises(Exception) as expected:
        fn(torch)
    with pytest.raises(Exception) as got:
        fn(ember)
    assert type(got.value) is type(expected.value)
    assert str(got.value) == str(expected.value)


# ----------------------------------------------------------------------------- distributions

def test_rand_and_uniform():
    u = arr(ember.rand(N))
    close(u.mean(), 0.5, np.sqrt(1 / 12))
    close(u.var(), 1 / 12, 0.075)
    x = arr(ember.empty(N).uniform_(-2, 6))
    assert x.min() >= -2 and x.max() < 6
    close(x.mean(), 2.0, 8 / np.sqrt(12))
    hist = np.bincount(np.floor(u * 10).astype(int), minlength=10) / N
    assert np.abs(hist - 0.1).max() < 0.005


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_normal_family(dtype):
    dt = getattr(ember, dtype)
    z = arr(ember.randn(N, dtype=dt))
    close(z.mean(), 0.0, 1.0)
    close(z.var(), 1.0, np.sqrt(2))
    close((z ** 4).mean(), 3.0, np.sqrt(96))  # kurtosis of a normal
    for bound, mass in ((1.0, 0.682689), (2.0, 0.954500), (3.0, 0.997300)):
        close((np.abs(z) < bound).mean(), mass, np.sqrt(mass * (1 - mass)))
    assert np.abs(z).max() > 3.5
    y = arr(ember.empty(N, dtype=dt).normal_(3, 0.5))
    close(y.mean(), 3.0, 0.5)
    close(y.std(), 0.5, 0.5 / np.sqrt(2))
    y = arr(ember.normal(ember.full((N,), -1.0, dtype=dt), ember.full((N,), 2.0, dtype=dt)))
    close(y.mean(), -1.0, 2.0)
    close(y.std(), 2.0, 2.0 / np.sqrt(2))
    y = arr(ember.normal(4.0, 0.1, (N,), dtype=dt))
    close(y.mean(), 4.0, 0.1)
    c = np.asarray(ember.randn(N, dtype=ember.complex64))
    close(c.real.var(), 0.5, 0.5 * np.sqrt(2))
    close(np.mean(np.abs(c) ** 2), 1.0, 1.0)


def test_exponential_geometric_lognormal_cauchy():
    e = arr(ember.empty(N).exponential_(2.0))
    assert e.min() >= 0
    close(e.mean(), 0.5, 0.5)
    g = arr(ember.empty(N).geometric_(0.25))
    assert g.min() >= 1 and np.all(g == np.round(g))
    close(g.mean(), 4.0, np.sqrt(0.75) / 0.25)
    gi = ember.zeros(10, dtype=ember.int64).geometric_(0.5)
    assert gi.dtype is ember.int64 and int(gi.min()) >= 1
    ln = arr(ember.empty(N).log_normal_(1.0, 0.5))
    assert ln.min() > 0
    close(np.log(ln).mean(), 1.0, 0.5)
    c = arr(ember.empty(N).cauchy_(2.0, 3.0))
    # the median and quartiles of Cauchy(2, 3) are 2 and 2 -/+ 3
    assert abs(np.median(c) - 2.0) < 0.06
    assert abs(np.percentile(c, 75) - 5.0) < 0.12


def test_bernoulli():
    b = arr(ember.bernoulli(ember.full((N,), 0.3)))
    assert set(np.unique(b)) <= {0.0, 1.0}
    close(b.mean(), 0.3, np.sqrt(0.21))
    p = ember.tensor([0.0, 1.0, 0.5]).expand(N // 3, 3)
    s = arr(ember.bernoulli(p.contiguous()))
    assert (s[:, 0] == 0).all() and (s[:, 1] == 1).all()
    close(s[:, 2].mean(), 0.5, 0.5, n=N // 3)
    x = ember.zeros(N, dtype=ember.int32).bernoulli_(0.8)
    assert x.dtype is ember.int32
    close(arr(x).mean(), 0.8, 0.4)
    m = ember.zeros(N // 2, 2).bernoulli_(ember.tensor([0.1, 0.9]))
    close(arr(m)[:, 0].mean(), 0.1, 0.3, n=N // 2)
    close(arr(m)[:, 1].mean(), 0.9, 0.3, n=N // 2)
    bools = ember.zeros(100, dtype=ember.bool).bernoulli_(0.5)
    assert bools.dtype is ember.bool


def test_poisson():
    rates = ember.full((N,), 3.5)
    k = arr(ember.poisson(rates))
    assert np.all(k == np.round(k)) and k.min() >= 0
    close(k.mean(), 3.5, np.sqrt(3.5))
    close(k.var(), 3.5, 7)
    assert float(ember.poisson(ember.zeros(10)).sum()) == 0


def test_randint_bounds_and_coverage():
    r = np.asarray(ember.randint(-3, 7, (N,)))
    assert r.min() == -3 and r.max() == 6
    counts = np.bincount(r + 3, minlength=10) / N
    assert np.abs(counts - 0.1).max() < 0.005
    r = np.asarray(ember.randint(4, (1000,), dtype=ember.uint8))
    assert set(np.unique(r)) == {0, 1, 2, 3}
    big = np.asarray(ember.randint(2 ** 62, 2 ** 63 - 1, (100,)))
    assert (big >= 2 ** 62).all()
    x = np.asarray(ember.zeros(N, dtype=ember.int8).random_())
    assert x.min() >= 0 and x.max() == 127
    f = np.asarray(ember.zeros(1000).random_(3, 6))
    assert set(np.unique(f)) == {3.0, 4.0, 5.0}
    f = np.asarray(ember.zeros(1000).random_())
    assert f.min() >= 0 and f.max() <= 2 ** 24 and np.all(f == np.round(f))
    b = np.asarray(ember.zeros(1000, dtype=ember.bool).random_())
    assert set(np.unique(b)) == {False, True}


def test_randperm_is_a_permutation():
    for n in (0, 1, 2, 10, 1000):
        p = np.asarray(ember.randperm(n))
        np.testing.assert_array_equal(np.sort(p), np.arange(n))
    first = np.array([int(ember.randperm(4)[0]) for _ in range(4000)])
    assert np.abs(np.bincount(first, minlength=4) / 4000 - 0.25).max() < 0.04
    g = ember.Generator().manual_seed(1)
    a = np.asarray(ember.randperm(50, generator=g))
    g.manual_seed(1)
    np.testing.assert_array_equal(a, np.asarray(ember.randperm(50, generator=g)))


def test_multinomial_with_replacement_frequencies():
    weights = ember.tensor([[1., 2., 0., 7.], [0., 0., 5., 5.]])
    draws = np.asarray(ember.multinomial(weights, N // 2, replacement=True))
    assert draws.shape == (2, N // 2) and draws.dtype == np.int64
    f0 = np.bincount(draws[0], minlength=4) / (N // 2)
    f1 = np.bincount(draws[1], minlength=4) / (N // 2)
    np.testing.assert_allclose(f0, [0.1, 0.2, 0.0, 0.7], atol=0.006)
    np.testing.assert_allclose(f1, [0.0, 0.0, 0.5, 0.5], atol=0.006)
    assert f0[2] == 0 and f1[0] == 0 and f1[1] == 0


def test_multinomial_without_replacement():
    weights = ember.tensor([1., 2., 3., 4.])
    rows = ember.ones(5000, 1) * weights  # 5000 independent rows
    draws = np.asarray(ember.multinomial(rows, 4))
    assert (np.sort(draws, axis=1) == np.arange(4)).all()  # distinct indices in each row
    first = np.bincount(draws[:, 0], minlength=4) / 5000
    np.testing.assert_allclose(first, [0.1, 0.2, 0.3, 0.4], atol=0.03)
    # a zero-weight category comes only after every positive one
    d = np.asarray(ember.multinomial(ember.tensor([0., 1., 0., 1.]), 3))
    assert sorted(d[:2]) == [1, 3] and d[2] in (0, 2)
    single = np.asarray(ember.multinomial(ember.tensor([0., 0., 1.]), 1))
    assert single.tolist() == [2]
