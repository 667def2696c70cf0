"""``ember.utils.data``: datasets, samplers and the DataLoader."""
from ember.utils.data.dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset,  # noqa
                                      Subset, TensorDataset, random_split)
