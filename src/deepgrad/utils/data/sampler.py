"""Samplers: the order in which a DataLoader visits dataset indices, as ``torch.utils.data``.

Random samplers draw from a ``deepgrad.Generator`` (``generator=``) or from the default
generator, so ``deepgrad.manual_seed(s)`` makes every shuffle reproducible. The index
sequences differ from torch's (different RNGs); lengths, validation and the way each sampler
consumes its generator follow torch.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Generic, TypeVar

import numpy as np

from ... import backend
from ..._tensor import Tensor

_T_co = TypeVar("_T_co", covariant=True)

__all__ = [
    "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
    "WeightedRandomSampler", "BatchSampler",
]


class Sampler(Generic[_T_co]):
    """Base class: subclasses define ``__iter__`` over indices (or lists of indices) and
    usually ``__len__``.

    Example:
        >>> class Reverse(Sampler):
        ...     def __init__(self, n): self.n = n
        ...     def __iter__(self): return iter(range(self.n - 1, -1, -1))
        ...     def __len__(self): return self.n
    """

    def __init__(self, data_source: Sized | None = None) -> None:
        pass

    def __iter__(self) -> Iterator:
        raise NotImplementedError


class SequentialSampler(Sampler):
    """``0, 1, ..., len(data_source) - 1``, always in that order.

    Args:
        data_source: anything with ``__len__``.

    Example:
        >>> list(SequentialSampler(range(3)))
        [0, 1, 2]
    """

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


def _seeded_numpy_generator(generator) -> np.random.Generator:
    """The stream a RandomSampler draws from: ``generator``'s own, or (as torch) a fresh one
    seeded with one draw from the default generator, so an epoch consumes exactly one value
    of the default stream however many samples it draws."""
    if generator is not None:
        return backend.rng(generator)
    seed = int(backend.rng(None).integers(0, 2**63, dtype=np.int64))
    return np.random.default_rng(seed)


class RandomSampler(Sampler):
    """Random order: a permutation (without replacement) or independent draws (with).

    Args:
        data_source: the dataset (only its length is used).
        replacement: draw with replacement. Default: False.
        num_samples: how many indices to yield. Default: ``len(data_source)``; without
            replacement larger values chain several permutations.
        generator: a ``deepgrad.Generator``; default: derived from the default generator.

    Example:
        >>> deepgrad.manual_seed(0)
        >>> sorted(RandomSampler(range(5)))
        [0, 1, 2, 3, 4]
    """

    def __init__(self, data_source: Sized, replacement: bool = False,
                 num_samples: int | None = None, generator=None) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError("replacement should be a boolean value, but got "
                            f"replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError("num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        rng = _seeded_numpy_generator(self.generator)
        if self.replacement:
            # chunks of 32 as torch: an epoch broken off early draws little
            for _ in range(self.num_samples // 32):
                yield from rng.integers(0, n, 32, dtype=np.int64).tolist()
            yield from rng.integers(0, n, self.num_samples % 32, dtype=np.int64).tolist()
        else:
            for _ in range(self.num_samples // n):
                yield from rng.permutation(n).tolist()
            yield from rng.permutation(n).tolist()[: self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order (without replacement).

    Args:
        indices: a sequence of indices.
        generator: a ``deepgrad.Generator``; default: the default generator.

    Example:
        >>> sorted(SubsetRandomSampler([3, 5, 7]))
        [3, 5, 7]
    """

    def __init__(self, indices: Sequence[int], generator=None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        for i in backend.rng(self.generator).permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """Indices ``0 .. len(weights)-1`` drawn with probabilities proportional to ``weights``.

    Args:
        weights: a 1-d sequence of non-negative weights (need not sum to one).
        num_samples: how many indices to draw.
        replacement: draw with replacement. Default: True.
        generator: a ``deepgrad.Generator``; default: the default generator.

    Example:
        >>> list(WeightedRandomSampler([0.0, 1.0], 3))
        [1, 1, 1]
    """

    def __init__(self, weights: Sequence[float], num_samples: int, replacement: bool = True,
                 generator=None) -> None:
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError("num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError("replacement should be a boolean value, but got "
                             f"replacement={replacement}")
        if isinstance(weights, Tensor):
            weights = backend.move_array(weights._data, backend.CPU)
        array = np.asarray(weights, dtype=np.float64)
        if array.ndim != 1:
            raise ValueError("weights should be a 1d sequence but given "
                             f"weights have shape {tuple(array.shape)}")
        self.weights = Tensor._make(array)
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        yield from _multinomial(self.weights._data, self.num_samples, self.replacement,
                                backend.rng(self.generator)).tolist()

    def __len__(self) -> int:
        return self.num_samples


def _multinomial(weights: np.ndarray, num_samples: int, replacement: bool, rng):
    """``torch.multinomial`` on a 1-d weight vector, with its error messages."""
    if (weights < 0).any() or not np.isfinite(weights).all():
        raise RuntimeError("invalid multinomial distribution (encountering probability entry < 0)")
    total = weights.sum()
    if total <= 0:
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement:
        if num_samples > weights.size:
            raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                               "replacement")
        # torch's method: the largest w / Exp(1) keys are a draw without replacement; zero
        # weights come last instead of raising, as in torch
        keys = weights / rng.exponential(size=weights.size)
        return np.argsort(-keys, kind="stable")[:num_samples]
    return rng.choice(weights.size, size=num_samples, p=weights / total)


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size``.

    Args:
        sampler: a sampler or any iterable of indices.
        batch_size: size of each batch.
        drop_last: drop the last batch when it is smaller than ``batch_size``.

    Example:
        >>> list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=False))
        [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    """

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError("batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        sampler_iter = iter(self.sampler)
        if self.drop_last:
            # zip over one iterator repeated: each tuple takes batch_size consecutive indices
            yield from map(list, zip(*[sampler_iter] * self.batch_size, strict=False))
        else:
            batch = list(itertools.islice(sampler_iter, self.batch_size))
            while batch:
                yield batch
                batch = list(itertools.islice(sampler_iter, self.batch_size))

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
