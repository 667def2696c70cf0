"""``DistributedSampler``: each of ``num_replicas`` processes visits its own share of a dataset."""
import math

import ember
from ember.utils.data.sampler import _Resumable

__all__ = ['DistributedSampler']


def _world():
    """``(world_size, rank)`` of the initialised ember.distributed process group."""
    try:
        import ember.distributed as dist
    except ImportError:
        raise RuntimeError("Requires distributed package to be available") from None
    if not dist.is_available():
        raise RuntimeError("Requires distributed package to be available")
    return dist.get_world_size(), dist.get_rank()


class DistributedSampler(_Resumable):
    """Restricts loading to the ``rank``-th of ``num_replicas`` equal shares of the dataset.

    The order is a permutation seeded by ``seed + epoch`` (the same on every replica; call
    ``set_epoch`` each epoch to reshuffle), padded by repeating indices so that every replica gets
    the same number of samples, or cut with ``drop_last``.  With ``num_replicas`` and ``rank``
    given, no process group is needed.

    Args:
        dataset: the dataset (only its length is used).
        num_replicas: number of processes (default: the world size).
        rank: this process's rank (default: from the process group).
        shuffle: permute the indices (default True).
        seed: the shuffle seed; must be the same on all replicas.
        drop_last: drop the tail instead of padding to a multiple of ``num_replicas``.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:
            world_size, world_rank = _world()
            num_replicas = world_size if num_replicas is None else num_replicas
            rank = world_rank if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        if self.drop_last and len(self.dataset) % self.num_replicas != 0:
            self.num_samples = math.ceil((len(self.dataset) - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(len(self.dataset) / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed
        self._reset_position()

    def __iter__(self):
        pending = self._take_pending()
        if pending.get('epoch') is not None:
            self.epoch = pending['epoch']
        n = len(self.dataset)
        if self.shuffle:
            generator = ember.Generator().manual_seed(self.seed + self.epoch)
            indices = ember.randperm(n, generator=generator).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            if padding <= len(indices):
                indices += indices[:padding]
            else:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[:self.total_size]
        indices = indices[self.rank:self.total_size:self.num_replicas]
        self._epoch_record = {'epoch': self.epoch}
        return self._count(indices, pending.get('num_yielded', 0))

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Sets the epoch, which seeds the shuffle of the next iteration (together with ``seed``)."""
        self.epoch = epoch
