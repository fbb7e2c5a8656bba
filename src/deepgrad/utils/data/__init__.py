"""``deepgrad.utils.data``: datasets, samplers, collation and the DataLoader, as torch's.

- ``dataset.py``: Dataset, IterableDataset, TensorDataset, Subset, ConcatDataset, StackDataset,
  ChainDataset, random_split
- ``sampler.py``: Sequential/Random/SubsetRandom/WeightedRandom/Batch samplers
- ``collate.py``: default_collate, default_convert, collate
- ``dataloader.py``: DataLoader; ``dataloader_iter.py``: its iterators (main process, workers)
- ``worker.py``: the worker processes' loop, get_worker_info; ``sharing.py``: shared memory
"""

from .collate import collate, default_collate, default_convert
from .dataloader import DataLoader
from .dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from .worker import get_worker_info

__all__ = [
    "BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "IterableDataset",
    "RandomSampler", "Sampler", "SequentialSampler", "StackDataset", "Subset",
    "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler", "collate",
    "default_collate", "default_convert", "get_worker_info", "random_split",
]
