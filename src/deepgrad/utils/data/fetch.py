"""Fetchers: turn one index (or list of indices) from the sampler into one collated batch.

Shared by the main process (``num_workers=0``) and the worker processes, so both paths build
exactly the same batches.
"""

from __future__ import annotations

from .collate import StackedSamples, default_collate


class _MapDatasetFetcher:
    """Batches from a map-style dataset: ``__getitems__`` when the dataset has it (one call per
    batch), else one ``dataset[i]`` per index."""

    def __init__(self, dataset, auto_collation: bool, collate_fn, drop_last: bool) -> None:
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        getitems = getattr(dataset, "__getitems__", None)
        self._getitems = getitems if getitems else None

    def fetch(self, possibly_batched_index):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[possibly_batched_index])
        if self._getitems is not None:
            data = self._getitems(possibly_batched_index)
            if type(data) is StackedSamples and self.collate_fn is not default_collate:
                data = list(data)  # a custom collate_fn gets the list of samples torch gives it
        else:
            data = [self.dataset[idx] for idx in possibly_batched_index]
        return self.collate_fn(data)


class _IterableDatasetFetcher:
    """Batches from an iterable dataset: ``len(index)`` consecutive samples of its stream."""

    def __init__(self, dataset, auto_collation: bool, collate_fn, drop_last: bool) -> None:
        self.dataset_iter = iter(dataset)
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.ended = False

    def fetch(self, possibly_batched_index):
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.dataset_iter))
        data = []
        for _ in possibly_batched_index:
            try:
                data.append(next(self.dataset_iter))
            except StopIteration:
                self.ended = True
                break
        if not data or (self.drop_last and len(data) < len(possibly_batched_index)):
            raise StopIteration
        return self.collate_fn(data)


class _DatasetKind:
    Map = 0
    Iterable = 1

    @staticmethod
    def create_fetcher(kind, dataset, auto_collation, collate_fn, drop_last):
        fetcher = _MapDatasetFetcher if kind == _DatasetKind.Map else _IterableDatasetFetcher
        return fetcher(dataset, auto_collation, collate_fn, drop_last)
