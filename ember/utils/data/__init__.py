"""``ember.utils.data``: datasets, samplers, collation and the DataLoader (torch.utils.data's API)."""
from ember.utils.data.dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset,  # noqa
                                      Subset, TensorDataset, random_split)
from ember.utils.data.sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,  # noqa: F401
                                      SubsetRandomSampler, WeightedRandomSampler)
from ember.utils.data._collate import default_collate, default_convert  # noqa: F401
from ember.utils.data._worker import WorkerInfo, get_worker_info  # noqa: F401
from ember.utils.data.dataloader import DataLoader, _DatasetKind  # noqa: F401
from ember.utils.data.distributed import DistributedSampler  # noqa: F401

__all__ = ['BatchSampler', 'ChainDataset', 'ConcatDataset', 'DataLoader', 'Dataset', 'DistributedSampler',
           'IterableDataset', 'RandomSampler', 'Sampler', 'SequentialSampler', 'StackDataset', 'Subset',
           'SubsetRandomSampler', 'TensorDataset', 'WeightedRandomSampler', 'default_collate', 'default_convert',
           'get_worker_info', 'random_split']
