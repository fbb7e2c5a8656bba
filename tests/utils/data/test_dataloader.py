"""DataLoader in the main process against torch's: batches, len(), validation, shuffling."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import deepgrad
from deepgrad.utils import data as ddata

X = np.random.default_rng(0).standard_normal((23, 4)).astype(np.float32)
Y = np.arange(23)


def lib_data(lib):
    return tdata if lib is torch else ddata


def tensor_dataset(lib):
    return lib_data(lib).TensorDataset(lib.tensor(X), lib.tensor(Y))


def to_numpy(value):
    """Nested batch -> nested NumPy/Python values, for comparing the two libraries."""
    if isinstance(value, (torch.Tensor, deepgrad.Tensor)):
        return (str(value.dtype).split(".")[-1], value.numpy().copy())
    if isinstance(value, dict):
        return {k: to_numpy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value).__name__, [to_numpy(v) for v in value]
    return value


def assert_batches_equal(ours, theirs):
    ours, theirs = [to_numpy(b) for b in ours], [to_numpy(b) for b in theirs]
    assert len(ours) == len(theirs)
    np.testing.assert_equal(ours, theirs)


@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (5, False), (5, True), (23, True),
                                                  (50, False), (50, True)])
def test_tensor_dataset_batches_match_torch(batch_size, drop_last):
    ours = ddata.DataLoader(tensor_dataset(deepgrad), batch_size=batch_size, drop_last=drop_last)
    theirs = tdata.DataLoader(tensor_dataset(torch), batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert_batches_equal(list(ours), list(theirs))


class DictDataset:
    """A plain map-style dataset (no __getitems__) of dict samples with mixed types."""

    @staticmethod
    def make(lib):
        class _Dicts(lib_data(lib).Dataset):
            def __len__(self):
                return 7

            def __getitem__(self, i):
                return {"x": X[i].copy(), "label": int(Y[i]), "weight": 0.5 * i,
                        "name": f"s{i}", "pair": (lib.tensor(X[i]), i % 2 == 0)}
        return _Dicts()


@pytest.mark.parametrize("batch_size", [1, 3, None])
def test_generic_dataset_batches_match_torch(batch_size):
    ours = list(ddata.DataLoader(DictDataset.make(deepgrad), batch_size=batch_size))
    theirs = list(tdata.DataLoader(DictDataset.make(torch), batch_size=batch_size))
    assert_batches_equal(ours, theirs)


def test_subset_of_tensor_dataset_matches_torch():
    indices = [5, 1, 22, 7, 7, 3, 0]
    ours = ddata.DataLoader(ddata.Subset(tensor_dataset(deepgrad), indices), batch_size=3)
    theirs = tdata.DataLoader(tdata.Subset(tensor_dataset(torch), indices), batch_size=3)
    assert_batches_equal(list(ours), list(theirs))


def test_custom_collate_receives_what_torch_gives():
    seen = {}

    def record(lib):
        def collate(batch):
            seen[lib] = (type(batch).__name__, len(batch), type(batch[0]).__name__,
                         len(batch[0]))
            return len(batch)
        return collate

    ours = list(ddata.DataLoader(tensor_dataset(deepgrad), batch_size=4,
                                 collate_fn=record(deepgrad)))
    theirs = list(tdata.DataLoader(tensor_dataset(torch), batch_size=4, collate_fn=record(torch)))
    assert ours == theirs
    assert seen[deepgrad] == seen[torch]


def test_sampler_and_batch_sampler_arguments_match_torch():
    order = [3, 1, 4, 1, 5, 9, 2, 6]
    ours = ddata.DataLoader(tensor_dataset(deepgrad), batch_size=3, sampler=order)
    theirs = tdata.DataLoader(tensor_dataset(torch), batch_size=3, sampler=order)
    assert_batches_equal(list(ours), list(theirs))
    assert len(ours) == len(theirs)
    batches = [[0, 2], [5], [7, 8, 9]]
    ours = ddata.DataLoader(tensor_dataset(deepgrad), batch_sampler=batches)
    theirs = tdata.DataLoader(tensor_dataset(torch), batch_sampler=batches)
    assert_batches_equal(list(ours), list(theirs))
    assert len(ours) == len(theirs)


def test_batch_size_none_matches_torch():
    ours = list(ddata.DataLoader(tensor_dataset(deepgrad), batch_size=None))
    theirs = list(tdata.DataLoader(tensor_dataset(torch), batch_size=None))
    assert_batches_equal(ours, theirs)


def make_stream(lib, n=11):
    class _Stream(lib_data(lib).IterableDataset):
        def __iter__(self):
            return iter([{"v": i, "x": X[i].copy()} for i in range(n)])

        def __len__(self):
            return n
    return _Stream()


@pytest.mark.parametrize("batch_size,drop_last", [(4, False), (4, True), (None, False),
                                                  (11, True), (20, False)])
def test_iterable_dataset_matches_torch(batch_size, drop_last):
    ours = ddata.DataLoader(make_stream(deepgrad), batch_size=batch_size, drop_last=drop_last)
    theirs = tdata.DataLoader(make_stream(torch), batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert_batches_equal(list(ours), list(theirs))


def raised(fn):
    with pytest.raises(Exception) as info:
        fn()
    return type(info.value), str(info.value)


@pytest.mark.parametrize("kwargs", [
    {"num_workers": -1}, {"timeout": -1}, {"prefetch_factor": 2},
    {"num_workers": 1, "prefetch_factor": -1}, {"persistent_workers": True},
    {"sampler": [0, 1], "shuffle": True}, {"batch_sampler": [[0]], "batch_size": 2},
    {"batch_sampler": [[0]], "shuffle": True}, {"batch_sampler": [[0]], "drop_last": True},
    {"batch_sampler": [[0]], "sampler": [0]}, {"batch_size": None, "drop_last": True},
    {"multiprocessing_context": "fork"}, {"num_workers": 1, "multiprocessing_context": "nope"},
    {"num_workers": 1, "multiprocessing_context": 3}, {"batch_size": 0},
])
def test_argument_validation_matches_torch(kwargs):
    assert raised(lambda: ddata.DataLoader(tensor_dataset(deepgrad), **kwargs)) == \
        raised(lambda: tdata.DataLoader(tensor_dataset(torch), **kwargs))


@pytest.mark.parametrize("kwargs", [{"shuffle": True}, {"sampler": [0]},
                                    {"batch_sampler": [[0]]}])
def test_iterable_dataset_validation_matches_torch(kwargs):
    assert raised(lambda: ddata.DataLoader(make_stream(deepgrad), **kwargs))[0] is \
        raised(lambda: tdata.DataLoader(make_stream(torch), **kwargs))[0]
    message = raised(lambda: ddata.DataLoader(make_stream(deepgrad), **kwargs))[1]
    assert message.startswith("DataLoader with IterableDataset: expected unspecified")


def test_attributes_frozen_after_init_as_torch():
    loader = ddata.DataLoader(tensor_dataset(deepgrad))
    for attr in ("batch_size", "sampler", "drop_last", "dataset"):
        ours = raised(lambda a=attr: setattr(loader, a, None))
        theirs = raised(lambda a=attr: setattr(tdata.DataLoader(tensor_dataset(torch)), a, None))
        assert ours == theirs
    loader.num_workers = 0  # other attributes stay writable


def test_default_samplers_and_collate_match_torch():
    ours = ddata.DataLoader(tensor_dataset(deepgrad), batch_size=4, shuffle=True)
    theirs = tdata.DataLoader(tensor_dataset(torch), batch_size=4, shuffle=True)
    assert type(ours.sampler).__name__ == type(theirs.sampler).__name__ == "RandomSampler"
    assert type(ours.batch_sampler).__name__ == type(theirs.batch_sampler).__name__
    assert ours.collate_fn is ddata.default_collate
    assert ddata.DataLoader(tensor_dataset(deepgrad), batch_size=None).collate_fn \
        is ddata.default_convert
    assert ours.prefetch_factor is theirs.prefetch_factor is None


def epoch_labels(loader):
    return [int(v) for _, y in loader for v in y.numpy()]


def test_shuffle_follows_seed():
    loader = ddata.DataLoader(tensor_dataset(deepgrad), batch_size=5, shuffle=True)
    deepgrad.manual_seed(0)
    first = epoch_labels(loader)
    second = epoch_labels(loader)
    assert sorted(first) == list(Y) and first != list(Y)
    assert second != first  # a new order each epoch
    deepgrad.manual_seed(0)
    assert epoch_labels(loader) == first
    deepgrad.manual_seed(1)
    assert epoch_labels(loader) != first


def test_shuffle_follows_generator_argument():
    def run(seed):
        gen = deepgrad.Generator().manual_seed(seed)
        return epoch_labels(ddata.DataLoader(tensor_dataset(deepgrad), batch_size=4,
                                             shuffle=True, generator=gen))

    deepgrad.manual_seed(0)
    first = run(7)
    deepgrad.manual_seed(123)  # the default generator does not matter when one is given
    assert run(7) == first
    assert run(8) != first


def test_fast_path_equals_per_sample_path():
    class PerSample(ddata.Dataset):  # the same samples without __getitems__
        def __init__(self, inner):
            self.inner = inner

        def __len__(self):
            return len(self.inner)

        def __getitem__(self, i):
            return self.inner[i]

    fast = ddata.DataLoader(tensor_dataset(deepgrad), batch_size=6, drop_last=False)
    slow = ddata.DataLoader(PerSample(tensor_dataset(deepgrad)), batch_size=6)
    assert_batches_equal(list(fast), list(slow))


def test_pin_memory_warns_like_torch_without_accelerator():
    with pytest.warns(UserWarning, match="pin_memory"):
        next(iter(ddata.DataLoader(tensor_dataset(deepgrad), pin_memory=True)))
