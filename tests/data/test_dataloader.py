"""DataLoader: batching as torch, lengths, argument errors, worker processes (seeds, errors, deaths,
shutdown, shared memory), persistent workers, timeouts and resuming from a state_dict."""
import gc
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import ember
from ember.utils.data import (BatchSampler, DataLoader, Dataset, IterableDataset, RandomSampler, SequentialSampler,
                              TensorDataset, get_worker_info)
from tests.conftest import requires_torch, torch

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# ---------------------------------------------------------------------------------------------- datasets
class Pairs(Dataset):
    """Map-style: ``(float32 tensor of shape (3,), int label)``, as a typical image dataset returns."""

    def __init__(self, n=10, lib=ember):
        self.x = lib.from_numpy(np.arange(n * 3, dtype=np.float32).reshape(n, 3))
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return self.x[i], i % 4


class Range(IterableDataset):
    """Iterable: ``start..stop``, split between workers by ``get_worker_info``."""

    def __init__(self, start, stop):
        self.start, self.stop = start, stop

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            return iter(range(self.start, self.stop))
        per = -(-(self.stop - self.start) // info.num_workers)
        lo = self.start + info.id * per
        return iter(range(lo, min(lo + per, self.stop)))

    def __len__(self):
        return self.stop - self.start


class WhoAmI(Dataset):
    """Each sample says which worker made it, with what seed and what each RNG drew."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        return {'worker': -1 if info is None else info.id, 'seed': -1 if info is None else info.seed,
                'pid': os.getpid(), 'ember': ember.rand(1).item(), 'numpy': float(np.random.rand()),
                'random': random.random(), 'init': getattr(info.dataset, 'initialised_by', -1) if info else -1}


class Failing(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 5:
            raise ValueError(f"bad sample {i}")
        return i


class KillWorkerZero(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        if get_worker_info().id == 0:
            os.kill(os.getpid(), signal.SIGKILL)
        return i


class Slow(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        time.sleep(1.5)
        return i


def mark_worker(worker_id):
    get_worker_info().dataset.initialised_by = worker_id


def flat(batches, key=None):
    return [v for b in batches for v in (b[key] if key else b).tolist()]


def shm_leftovers():
    return [n for n in os.listdir('/dev/shm') if n.startswith(f'emb{os.getpid()}_')] if os.path.isdir('/dev/shm') \
        else []


@pytest.fixture(autouse=True)
def _no_leaks():
    yield
    if multiprocessing.active_children():   # an iterator kept alive by a reference cycle: collect it
        gc.collect()
    assert multiprocessing.active_children() == []
    assert shm_leftovers() == []


# ---------------------------------------------------------------------------------------------- batching
@requires_torch
@pytest.mark.parametrize('workers', [0, 2])
@pytest.mark.parametrize('batch_size,drop_last', [(4, False), (4, True), (1, False), (None, False)])
def test_batches_match_torch(workers, batch_size, drop_last):
    ours = list(DataLoader(Pairs(10), batch_size=batch_size, drop_last=drop_last, num_workers=workers))
    theirs = list(torch.utils.data.DataLoader(Pairs(10, torch), batch_size=batch_size, drop_last=drop_last))
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            if isinstance(y, torch.Tensor):
                assert tuple(x.shape) == tuple(y.shape) and str(x.dtype) == str(y.dtype)
                np.testing.assert_array_equal(np.asarray(x), y.numpy())
            else:
                assert x == y


@pytest.mark.parametrize('workers', [0, 2])
def test_tensor_dataset_big_batches(workers):
    x = ember.randn(300, 8, 8)
    y = ember.randint(0, 10, (300,))
    batches = list(DataLoader(TensorDataset(x, y), batch_size=64, num_workers=workers))
    assert [len(b[0]) for b in batches] == [64, 64, 64, 64, 44]
    assert ember.equal(ember.cat([b[0] for b in batches]), x) and ember.equal(ember.cat([b[1] for b in batches]), y)
    assert batches[0][0].dtype == ember.float32 and batches[0][1].dtype == ember.int64
    batches[0][0][0, 0, 0] = 100.0   # batches are ordinary writable tensors
    assert batches[0][0][0, 0, 0].item() == 100.0


@requires_torch
def test_len_rules_match_torch():
    def both(dataset, torch_dataset, **kw):
        return len(DataLoader(dataset, **kw)), len(torch.utils.data.DataLoader(torch_dataset, **kw))

    p, tp = Pairs(10), Pairs(10, torch)
    for kw in [{}, {'batch_size': 3}, {'batch_size': 3, 'drop_last': True}, {'batch_size': None},
               {'batch_size': 20}, {'batch_size': 20, 'drop_last': True}]:
        a, b = both(p, tp, **kw)
        assert a == b, kw
    r = Range(0, 10)
    for kw in [{'batch_size': 3}, {'batch_size': 3, 'drop_last': True}, {'batch_size': None}]:
        a, b = both(r, r, **kw)
        assert a == b, kw
    sampler = [[0, 1], [2], [3, 4, 5]]
    assert len(DataLoader(p, batch_sampler=sampler)) == 3


@requires_torch
@pytest.mark.parametrize('kwargs', [
    {'sampler': [0, 1], 'shuffle': True},
    {'batch_sampler': [[0]], 'batch_size': 2},
    {'batch_sampler': [[0]], 'drop_last': True},
    {'batch_size': None, 'drop_last': True},
    {'num_workers': -1},
    {'timeout': -1},
    {'prefetch_factor': 2},
    {'persistent_workers': True},
    {'multiprocessing_context': 'spawn'},
    {'num_workers': 1, 'multiprocessing_context': 'nonsense'},
    {'num_workers': 1, 'prefetch_factor': -1},
], ids=lambda kw: '-'.join(kw))
def test_argument_errors_match_torch(kwargs):
    with pytest.raises(Exception) as theirs:
        torch.utils.data.DataLoader(Pairs(4, torch), **kwargs)
    with pytest.raises(type(theirs.value)) as ours:
        DataLoader(Pairs(4), **kwargs)
    assert str(ours.value) == str(theirs.value)


@requires_torch
def test_iterable_dataset_argument_errors_match_torch():
    class TorchRange(torch.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(4))

    for kw in [{'shuffle': True}, {'sampler': [0]}, {'batch_sampler': [[0]]}]:
        with pytest.raises(ValueError) as theirs:
            torch.utils.data.DataLoader(TorchRange(), **kw)
        with pytest.raises(ValueError, match='expected unspecified') as ours:
            DataLoader(Range(0, 4), **kw)
        assert str(ours.value).split(', but')[0] == str(theirs.value).split(', but')[0]


def test_attributes_frozen_after_init():
    loader = DataLoader(Pairs(4))
    with pytest.raises(ValueError, match="batch_size attribute should not be set after DataLoader is initialized"):
        loader.batch_size = 2


def test_batch_size_none_converts_samples():
    class Arrays(Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return np.full(2, i), i
    out = list(DataLoader(Arrays(), batch_size=None))
    assert isinstance(out[1], list) and out[1][0].tolist() == [1, 1] and out[1][1] == 1


def test_custom_collate_and_batch_sampler():
    loader = DataLoader(Pairs(6), batch_sampler=BatchSampler(SequentialSampler(range(6)), 4, False),
                        collate_fn=lambda samples: [label for _, label in samples])
    assert list(loader) == [[0, 1, 2, 3], [0, 1]]


def test_pin_memory_is_accepted():
    with pytest.warns(UserWarning, match="'pin_memory' argument is set as true but no accelerator is found"):
        out = list(DataLoader(Pairs(4), batch_size=2, pin_memory=True))
    assert len(out) == 2


# ---------------------------------------------------------------------------------------------- order
def test_shuffle_is_reproducible_with_a_generator():
    def order(seed, workers=0):
        loader = DataLoader(Pairs(12), batch_size=5, shuffle=True, num_workers=workers,
                            generator=ember.Generator().manual_seed(seed))
        return flat([b[0][:, 0] for b in loader])

    first = order(1)
    assert sorted(first) == [3.0 * i for i in range(12)]
    assert order(1) == first and order(2) != first
    assert order(1, workers=2) == first   # workers deliver the same batches in the same order


def test_shuffle_follows_manual_seed_and_changes_per_epoch():
    loader = DataLoader(Pairs(12), batch_size=12, shuffle=True)
    ember.manual_seed(3)
    a = flat([b[1] for b in loader])
    b = flat([b[1] for b in loader])
    ember.manual_seed(3)
    assert flat([b[1] for b in loader]) == a and a != b


def test_in_order_false_delivers_everything():
    loader = DataLoader(Pairs(20), batch_size=2, num_workers=2, in_order=False)
    assert sorted(flat([b[1] for b in loader])) == sorted(i % 4 for i in range(20))


def test_prefetch_bound():
    loader = DataLoader(Pairs(40), batch_size=2, num_workers=2, prefetch_factor=3)
    it = iter(loader)
    for _ in range(5):
        next(it)
        assert it._outstanding <= 6 and it._send_idx - it._rcvd_idx <= 6
    del it


# ---------------------------------------------------------------------------------------------- workers
def test_worker_info_init_fn_and_seeds():
    loader = DataLoader(WhoAmI(), batch_size=2, num_workers=2, worker_init_fn=mark_worker)
    ember.manual_seed(11)
    epoch1 = list(loader)
    workers = flat(epoch1, 'worker')
    assert workers == [0, 0, 1, 1, 0, 0, 1, 1]   # round robin, in order
    assert flat(epoch1, 'init') == workers   # worker_init_fn ran in each worker, on its copy of the dataset
    seeds = {w: s for w, s in zip(workers, flat(epoch1, 'seed'))}
    assert seeds[1] == seeds[0] + 1
    for lib in ('ember', 'numpy', 'random'):
        draws = flat(epoch1, lib)
        assert draws[0] != draws[2], lib   # first draw of worker 0 != first draw of worker 1
    assert get_worker_info() is None
    ember.manual_seed(11)
    again = list(loader)
    for lib in ('ember', 'numpy', 'random', 'seed'):
        assert flat(again, lib) == flat(epoch1, lib)   # reproducible under ember.manual_seed
    epoch3 = list(loader)
    assert flat(epoch3, 'ember') != flat(epoch1, 'ember')   # a new base seed each epoch


def test_iterable_dataset_sharding():
    loader = DataLoader(Range(0, 10), batch_size=2, num_workers=2)
    values = flat(list(loader))
    assert sorted(values) == list(range(10))
    batches = list(DataLoader(Range(0, 10), batch_size=None, num_workers=2))
    assert sorted(int(v) for v in batches) == list(range(10))


def test_worker_error_carries_its_traceback():
    loader = DataLoader(Failing(), batch_size=2, num_workers=2)
    with pytest.raises(ValueError) as err:
        list(loader)
    message = str(err.value)
    assert message.startswith("Caught ValueError in DataLoader worker process 0.\nOriginal Traceback (most recent "
                              "call last):")
    assert "bad sample 5" in message and "__getitem__" in message


def test_iteration_continues_after_a_worker_error():
    it = iter(DataLoader(Failing(), batch_size=2, num_workers=2))
    got = []
    for _ in range(4):
        try:
            got.append(next(it).tolist())
        except ValueError:
            got.append('error')
    assert got == [[0, 1], [2, 3], 'error', [6, 7]]
    del it


def test_killed_worker_raises_instead_of_hanging():
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid \d+\) is killed by signal: Killed\."):
        list(DataLoader(KillWorkerZero(), batch_size=2, num_workers=2))
    assert time.monotonic() - start < 10


def test_timeout():
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.5 seconds"):
        next(iter(DataLoader(Slow(), batch_size=1, num_workers=1, timeout=0.5)))
    with pytest.raises(AssertionError):
        iter(DataLoader(Pairs(2), timeout=1))


def test_break_shuts_workers_down():
    loader = DataLoader(Pairs(40), batch_size=2, num_workers=2)
    for i, _ in enumerate(loader):
        if i == 2:
            break
    gc.collect()
    assert multiprocessing.active_children() == []


def test_persistent_workers_keep_their_processes():
    loader = DataLoader(WhoAmI(), batch_size=2, num_workers=2, persistent_workers=True)
    pids1 = set(flat(list(loader), 'pid'))
    first = loader._iterator
    half = iter(loader)
    next(half)   # leave an epoch early: the next one must not see its leftovers
    pids2 = set(flat(list(loader), 'pid'))
    assert pids1 == pids2 and len(pids1) == 2 and os.getpid() not in pids1 and loader._iterator is first
    it_values = flat(list(DataLoader(Range(0, 6), batch_size=2, num_workers=2, persistent_workers=True)))
    assert sorted(it_values) == list(range(6))
    del loader, first, half


def test_spawn_context():
    x = ember.randn(40, 128)   # large enough that spawned workers map it from shared memory
    loader = DataLoader(TensorDataset(x, ember.arange(40)), batch_size=16, num_workers=2,
                        multiprocessing_context='spawn')
    batches = list(loader)
    assert ember.equal(ember.cat([b[0] for b in batches]), x) and flat([b[1] for b in batches]) == list(range(40))


def test_shared_memory_is_released():
    x = ember.randn(256, 64)   # 64 KiB batches: they travel through shared memory
    loader = DataLoader(TensorDataset(x), batch_size=64, num_workers=2)
    for i, (batch,) in enumerate(loader):
        assert ember.equal(batch, x[64 * i:64 * (i + 1)])
    it = iter(loader)
    next(it)
    del it
    assert shm_leftovers() == []


SCRIPT = """
import os, sys
sys.path.insert(0, {repo!r})
from ember.utils.data import DataLoader, Dataset

class Pids(Dataset):
    def __len__(self):
        return 4000

    def __getitem__(self, i):
        return os.getpid()

loader = DataLoader(Pids(), batch_size=16, num_workers=2{extra})
for i, batch in enumerate(loader):
    print(batch[0].item(), flush=True)
    if i == 3:
        {action}
"""


def running(pid):
    """True if ``pid`` is a live (not zombie) process."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] not in ('Z', 'X')
    except OSError:
        return False


@pytest.mark.skipif(not os.path.isdir('/proc'), reason="needs /proc to inspect processes")
@pytest.mark.parametrize('action,extra', [('break', ''), ('break', ', persistent_workers=True'),
                                          ('sys.exit(0)', ''), ("raise SystemExit('bye')", '')])
def test_interpreter_exit_leaves_no_process_behind(action, extra):
    code = textwrap.dedent(SCRIPT).format(repo=REPO, action=action, extra=extra)
    start = time.monotonic()
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=60)
    assert time.monotonic() - start < 30   # no hang at exit
    assert proc.returncode in (0, 1), proc.stderr
    assert 'Traceback' not in proc.stderr and 'Exception ignored' not in proc.stderr, proc.stderr
    pids = {int(line) for line in proc.stdout.split()}
    assert len(pids) == 2
    time.sleep(0.2)
    assert not any(running(pid) for pid in pids)


# ---------------------------------------------------------------------------------------------- resuming
@pytest.mark.parametrize('workers', [0, 2])
@pytest.mark.parametrize('shuffle', [False, True])
def test_resume_from_state_dict(workers, shuffle):
    def make():
        return DataLoader(Pairs(23), batch_size=4, shuffle=shuffle, num_workers=workers,
                          generator=ember.Generator().manual_seed(5) if shuffle else None)

    loader = make()
    it = iter(loader)
    head = [next(it)[0][:, 0].tolist() for _ in range(3)]
    state = loader.state_dict()
    rest = [b[0][:, 0].tolist() for b in it]
    next_epoch = [b[0][:, 0].tolist() for b in loader]
    del it

    resumed = make()
    resumed.load_state_dict(state)
    assert [b[0][:, 0].tolist() for b in resumed] == rest
    assert [b[0][:, 0].tolist() for b in resumed] == next_epoch
    assert len(head) == 3


def test_resume_without_generator_and_between_epochs():
    loader = DataLoader(Pairs(9), batch_size=2, shuffle=True)
    it = iter(loader)
    next(it)
    state = loader.state_dict()
    rest = [b[1].tolist() for b in it]
    other = DataLoader(Pairs(9), batch_size=2, shuffle=True)
    other.load_state_dict(state)
    assert [b[1].tolist() for b in other] == rest
    assert other.state_dict()['num_yielded'] == 0


def test_resume_iterable_dataset():
    loader = DataLoader(Range(0, 10), batch_size=3)
    it = iter(loader)
    next(it)
    state = loader.state_dict()
    rest = [b.tolist() for b in it]
    other = DataLoader(Range(0, 10), batch_size=3)
    other.load_state_dict(state)
    assert [b.tolist() for b in other] == rest


def test_state_dict_is_saveable_with_plain_types():
    loader = DataLoader(Pairs(8), batch_size=2, sampler=RandomSampler(range(8), generator=ember.Generator()))
    it = iter(loader)
    next(it)
    state = loader.state_dict()
    assert state['num_yielded'] == 1 and state['sampler']['num_yielded'] == 0
    assert isinstance(state['sampler']['sampler']['generator_state'], ember.Tensor)
    del it
