"""Datasets: ``Dataset``, ``IterableDataset``, ``TensorDataset``, ``Subset``, ``ConcatDataset``,
``StackDataset``, ``ChainDataset`` and ``random_split``, as ``torch.utils.data``.

A map-style dataset may define ``__getitems__(indices) -> samples of the batch`` (torch 2.x's
protocol); the DataLoader then fetches a whole batch in one call. ``TensorDataset`` implements
it with one fancy index per tensor (``array[indices]``) instead of one index per sample
followed by a stack, which is most of a small model's data-loading time.
"""

from __future__ import annotations

import bisect
import itertools
import math
import warnings
from collections.abc import Iterable, Sequence
from typing import Generic, TypeVar

from ... import backend
from ..._tensor import Tensor
from .collate import StackedSamples

_T_co = TypeVar("_T_co", covariant=True)

__all__ = [
    "Dataset", "IterableDataset", "TensorDataset", "StackDataset", "ConcatDataset",
    "ChainDataset", "Subset", "random_split",
]


class Dataset(Generic[_T_co]):
    """A map from keys (usually ``0 .. len-1``) to samples; subclasses define ``__getitem__``.

    Subclasses usually define ``__len__`` (samplers need it) and may define
    ``__getitems__(indices)`` returning the list of samples of a batch for faster loading.
    ``dataset_a + dataset_b`` is a ``ConcatDataset``. Generic like torch's: annotations such
    as ``Dataset[tuple[Tensor, int]]`` work.

    Example:
        >>> class Squares(Dataset):
        ...     def __len__(self): return 10
        ...     def __getitem__(self, i): return i * i
        >>> (Squares() + Squares())[12]
        4
    """

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset[_T_co], Iterable[_T_co]):
    """A stream of samples; subclasses define ``__iter__``.

    With ``num_workers > 0`` each worker iterates its own copy of the dataset, so split the
    work with ``get_worker_info()`` (in ``__iter__`` or a ``worker_init_fn``) to avoid
    duplicates. ``stream_a + stream_b`` is a ``ChainDataset``.

    Example:
        >>> class Count(IterableDataset):
        ...     def __iter__(self): return iter(range(3))
        >>> list(Count() + Count())
        [0, 1, 2, 0, 1, 2]
    """

    def __add__(self, other: Dataset) -> ChainDataset:
        return ChainDataset([self, other])


def _index_array(index):
    """Unwrap a tensor index so NumPy indexing sees its array."""
    return index._data if isinstance(index, Tensor) else index


class TensorDataset(Dataset):
    """Samples are the rows of the given tensors: ``dataset[i] == (t0[i], t1[i], ...)``.

    Args:
        *tensors: tensors with the same size of the first dimension.

    Example:
        >>> ds = TensorDataset(deepgrad.randn(100, 3), deepgrad.arange(100))
        >>> x, y = ds[5]
        >>> len(ds)
        100
    """

    def __init__(self, *tensors: Tensor) -> None:
        if any(tensors[0].size(0) != tensor.size(0) for tensor in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index):
        index = _index_array(index)
        return tuple(t[index] if t._requires_grad else Tensor._make(t._data[index])
                     for t in self.tensors)

    def __getitems__(self, indices):
        """The batch at ``indices``: one fancy index per tensor, returned already stacked."""
        if any(t._requires_grad for t in self.tensors):  # keep the graph: index sample by sample
            return [self[i] for i in indices]
        indices = _index_array(indices)
        return StackedSamples(Tensor._make(t._data[indices]) for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].size(0)

    def _tensors_to_share(self):
        """The tensors a DataLoader moves into shared memory for its workers (see sharing.py)."""
        return self.tensors


class StackDataset(Dataset):
    """Zip datasets of equal length: samples are tuples (positional) or dicts (keywords).

    Args:
        *args: datasets whose samples form a tuple.
        **kwargs: datasets whose samples form a dict (not both).

    Example:
        >>> ds = StackDataset(images=TensorDataset(x), labels=TensorDataset(y))
        >>> sorted(ds[0])
        ['images', 'labels']
    """

    def __init__(self, *args: Dataset, **kwargs: Dataset) -> None:
        if args and kwargs:
            raise ValueError(
                "Supported either ``tuple``- (via ``args``) or"
                "``dict``- (via ``kwargs``) like input/output, but both types are given."
            )
        if not args and not kwargs:
            raise ValueError("At least one dataset should be passed")
        parts = list(args) if args else list(kwargs.values())
        self._length = len(parts[0])
        if any(self._length != len(dataset) for dataset in parts):
            raise ValueError("Size mismatch between datasets")
        self.datasets = args if args else kwargs

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: dataset[index] for k, dataset in self.datasets.items()}
        return tuple(dataset[index] for dataset in self.datasets)

    def __getitems__(self, indices: list):
        named = isinstance(self.datasets, dict)
        items = self.datasets.items() if named else enumerate(self.datasets)
        samples = [{} if named else [] for _ in indices]
        for key, dataset in items:
            if callable(getattr(dataset, "__getitems__", None)):
                values = dataset.__getitems__(indices)
                if len(values) != len(indices):
                    raise ValueError("Nested dataset's output size mismatch."
                                     f" Expected {len(indices)}, got {len(values)}")
            else:
                values = [dataset[i] for i in indices]
            for sample, value in zip(samples, values, strict=True):
                if named:
                    sample[key] = value
                else:
                    sample.append(value)
        return samples if named else [tuple(sample) for sample in samples]

    def __len__(self) -> int:
        return self._length


class ConcatDataset(Dataset):
    """The concatenation of map-style datasets.

    Args:
        datasets: the datasets, in order.

    Example:
        >>> ds = ConcatDataset([TensorDataset(deepgrad.zeros(3)), TensorDataset(deepgrad.ones(2))])
        >>> len(ds), ds[3][0].item()
        (5, 1.0)
    """

    @staticmethod
    def cumsum(sequence):
        return list(itertools.accumulate(len(e) for e in sequence))

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if len(self.datasets) == 0:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        dataset_idx = bisect.bisect_right(self.cumulative_sizes, idx)
        sample_idx = idx if dataset_idx == 0 else idx - self.cumulative_sizes[dataset_idx - 1]
        return self.datasets[dataset_idx][sample_idx]

    def _tensors_to_share(self):
        return [t for d in self.datasets for t in _shareable_tensors(d)]


class ChainDataset(IterableDataset):
    """Iterable datasets chained one after the other.

    Args:
        datasets: iterable datasets.

    Example:
        >>> list(ChainDataset([stream_a, stream_b]))  # stream_a's samples, then stream_b's
    """

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self) -> int:
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            total += len(d)
        return total


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    Args:
        dataset: the whole dataset.
        indices: indices into it.

    Example:
        >>> evens = Subset(TensorDataset(deepgrad.arange(10)), range(0, 10, 2))
        >>> evens[1][0].item()
        2
    """

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices
        if (type(self).__getitem__ is not Subset.__getitem__
                and type(self).__getitems__ is Subset.__getitems__):
            raise NotImplementedError(
                f"{type(self).__name__} overrides __getitem__ but not __getitems__. "
                "When subclassing Subset and overriding __getitem__, you must also override "
                "__getitems__ to ensure DataLoader works correctly with your custom logic. "
                "A simple implementation:\n\n"
                "def __getitems__(self, indices):\n"
                "    return [self.__getitem__(idx) for idx in indices]"
            )

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list[int]) -> list:
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[idx] for idx in indices])
        return [self.dataset[self.indices[idx]] for idx in indices]

    def __len__(self) -> int:
        return len(self.indices)

    def _tensors_to_share(self):
        return _shareable_tensors(self.dataset)


def _shareable_tensors(dataset) -> list:
    """Tensors an array-backed dataset indexes (its ``_tensors_to_share()``), else none."""
    hook = getattr(dataset, "_tensors_to_share", None)
    return list(hook()) if callable(hook) else []


def _split_lengths(total: int, lengths: Sequence) -> list[int]:
    """Fractions -> sizes with torch's rule: floor each, then hand out the remainder
    one by one, round-robin from the first split."""
    sizes = []
    for i, frac in enumerate(lengths):
        if frac < 0 or frac > 1:
            raise ValueError(f"Fraction at index {i} is not between 0 and 1")
        sizes.append(math.floor(total * frac))
    for i in range(total - sum(sizes)):
        sizes[i % len(sizes)] += 1
    for i, size in enumerate(sizes):
        if size == 0:
            warnings.warn(f"Length of split at index {i} is 0. "
                          "This might result in an empty dataset.", stacklevel=3)
    return sizes


def random_split(dataset: Dataset, lengths: Sequence, generator=backend.default_generator):
    """Randomly split ``dataset`` into non-overlapping ``Subset``s of the given lengths.

    Args:
        dataset: the dataset to split.
        lengths: sizes (ints summing to ``len(dataset)``) or fractions summing to 1; fractions
            become ``floor(frac * len)`` sizes and the remainder is given out one at a time,
            round-robin from the first split (torch's rule, so the sizes equal torch's).
        generator: the ``deepgrad.Generator`` drawing the permutation (default generator when
            omitted). The permutation itself differs from torch's: the RNGs differ.

    Returns:
        A list of ``Subset``s.

    Example:
        >>> train, val = random_split(range(10), [0.7, 0.3],
        ...                           generator=deepgrad.Generator().manual_seed(42))
        >>> len(train), len(val)
        (7, 3)
    """
    total = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        lengths = _split_lengths(total, lengths)
    if sum(lengths) != total:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    indices = backend.rng(generator).permutation(sum(lengths)).tolist()
    return [Subset(dataset, indices[offset - length: offset])
            for offset, length in zip(itertools.accumulate(lengths), lengths, strict=True)]
