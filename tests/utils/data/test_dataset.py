"""Datasets and random_split against torch: samples, lengths, split sizes, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import deepgrad
from deepgrad.utils import data as ddata

X = np.arange(30, dtype=np.float32).reshape(10, 3)
Y = np.arange(10) % 3


def tensor_datasets():
    return (ddata.TensorDataset(deepgrad.tensor(X), deepgrad.tensor(Y)),
            tdata.TensorDataset(torch.tensor(X), torch.tensor(Y)))


def assert_sample_equal(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def raised(fn):
    with pytest.raises(Exception) as info:
        fn()
    return type(info.value), str(info.value)


def test_tensor_dataset_matches_torch():
    ours, theirs = tensor_datasets()
    assert len(ours) == len(theirs)
    for i in [0, 3, 9, -1]:
        assert_sample_equal(ours[i], theirs[i])
    assert_sample_equal(ours[[1, 4, 4]], theirs[[1, 4, 4]])
    assert_sample_equal(ours[2:5], theirs[2:5])
    assert_sample_equal(ours[deepgrad.tensor(2)], theirs[torch.tensor(2)])


def test_tensor_dataset_getitems_equals_per_sample():
    ours, theirs = tensor_datasets()
    indices = [7, 0, 3, 3]
    batch = ours.__getitems__(indices)
    assert len(batch) == 4
    for sample, i in zip(batch, indices, strict=True):
        assert_sample_equal(sample, theirs[i])
    fields = ddata.default_collate(batch)
    expected = tdata.default_collate([theirs[i] for i in indices])
    assert_sample_equal(fields, expected)


def test_tensor_dataset_size_mismatch_matches_torch():
    assert raised(lambda: ddata.TensorDataset(deepgrad.zeros(3), deepgrad.zeros(4))) == \
        raised(lambda: tdata.TensorDataset(torch.zeros(3), torch.zeros(4)))


@pytest.mark.skipif(not hasattr(deepgrad.Tensor, "__getitem__"),
                    reason="differentiable tensor indexing not available yet")
def test_tensor_dataset_keeps_the_graph():
    w = deepgrad.tensor(X, requires_grad=True)
    ds = ddata.TensorDataset(w)
    (x,) = ds[2]
    assert x.requires_grad
    batch = ds.__getitems__([1, 2])
    assert all(sample[0].requires_grad for sample in batch)


def test_subset_matches_torch():
    ours, theirs = tensor_datasets()
    indices = [9, 2, 5, 5, 0]
    sub_ours, sub_theirs = ddata.Subset(ours, indices), tdata.Subset(theirs, indices)
    assert len(sub_ours) == len(sub_theirs)
    for i in range(len(indices)):
        assert_sample_equal(sub_ours[i], sub_theirs[i])
    for a, b in zip(sub_ours.__getitems__([4, 1]), sub_theirs.__getitems__([4, 1]),
                    strict=True):
        assert_sample_equal(a, b)


def test_subset_subclass_overriding_only_getitem_matches_torch():
    def make(base):
        class Broken(base):
            def __getitem__(self, idx):
                return idx
        return lambda: Broken(range(3), [0, 1])

    assert raised(make(ddata.Subset)) == raised(make(tdata.Subset))


def test_concat_dataset_matches_torch():
    parts = [np.arange(3), np.arange(10, 15), np.arange(20, 22)]
    ours = ddata.ConcatDataset([ddata.TensorDataset(deepgrad.tensor(p)) for p in parts])
    theirs = tdata.ConcatDataset([tdata.TensorDataset(torch.tensor(p)) for p in parts])
    assert len(ours) == len(theirs)
    assert ours.cumulative_sizes == theirs.cumulative_sizes
    for i in list(range(len(theirs))) + [-1, -10]:
        assert_sample_equal(ours[i], theirs[i])
    assert raised(lambda: ours[-11]) == raised(lambda: theirs[-11])
    assert raised(lambda: ddata.ConcatDataset([])) == raised(lambda: tdata.ConcatDataset([]))


def test_dataset_add_concatenates():
    ours, theirs = tensor_datasets()
    both = ours + ours
    assert isinstance(both, ddata.ConcatDataset)
    assert len(both) == len(theirs + theirs)
    assert_sample_equal(both[13], (theirs + theirs)[13])


class Count:
    """An iterable dataset built on either library's base class."""

    @staticmethod
    def make(base, n):
        class _Count(base):
            def __iter__(self):
                return iter(range(n))

            def __len__(self):
                return n
        return _Count()


def test_iterable_dataset_add_chains_like_torch():
    ours = Count.make(ddata.IterableDataset, 3) + Count.make(ddata.IterableDataset, 2)
    theirs = Count.make(tdata.IterableDataset, 3) + Count.make(tdata.IterableDataset, 2)
    assert isinstance(ours, ddata.ChainDataset)
    assert list(ours) == list(theirs)
    assert len(ours) == len(theirs)
    with pytest.raises(AssertionError):
        ddata.ConcatDataset([Count.make(ddata.IterableDataset, 2)])


def test_stack_dataset_matches_torch():
    ours_a, theirs_a = tensor_datasets()
    ours = ddata.StackDataset(ours_a, list(range(10)))
    theirs = tdata.StackDataset(theirs_a, list(range(10)))
    assert len(ours) == len(theirs)
    assert ours[4][1] == theirs[4][1]
    assert_sample_equal(ours[4][0], theirs[4][0])
    for a, b in zip(ours.__getitems__([1, 8]), theirs.__getitems__([1, 8]), strict=True):
        assert_sample_equal(a[0], b[0])
        assert a[1] == b[1]
    named_ours = ddata.StackDataset(x=list("abc"), y=[1, 2, 3])
    named_theirs = tdata.StackDataset(x=list("abc"), y=[1, 2, 3])
    assert named_ours[2] == named_theirs[2]
    assert named_ours.__getitems__([0, 2]) == named_theirs.__getitems__([0, 2])
    for args, kwargs in [((), {}), (([1], [1, 2]), {}), (([1],), {"y": [1]})]:
        assert raised(lambda a=args, k=kwargs: ddata.StackDataset(*a, **k)) == \
            raised(lambda a=args, k=kwargs: tdata.StackDataset(*a, **k))


@pytest.mark.parametrize("n,lengths", [
    (10, [3, 7]), (10, [0.3, 0.7]), (10, [0.33, 0.33, 0.34]), (7, [0.5, 0.5]),
    (11, [0.25, 0.25, 0.25, 0.25]), (100, [0.1] * 10), (5, [0.2, 0.8]), (3, [0.1, 0.1, 0.8]),
    (1000, [0.7, 0.2, 0.1]), (9, [1.0]),
])
def test_random_split_sizes_match_torch(n, lengths):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = ddata.random_split(range(n), lengths)
        theirs = tdata.random_split(range(n), lengths)
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    drawn = sorted(i for s in ours for i in s.indices)
    assert drawn == list(range(n))  # disjoint and covering


def test_random_split_zero_length_warning_matches_torch():
    with pytest.warns(UserWarning) as ours:
        ddata.random_split(range(1), [0.1, 0.9])
    with pytest.warns(UserWarning) as theirs:
        tdata.random_split(range(1), [0.1, 0.9])
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]


def test_random_split_follows_generator():
    def split(seed):
        parts = ddata.random_split(range(50), [0.5, 0.5],
                                   generator=deepgrad.Generator().manual_seed(seed))
        return [list(p.indices) for p in parts]

    assert split(1) == split(1)
    assert split(1) != split(2)
    deepgrad.manual_seed(5)
    first = [list(p.indices) for p in ddata.random_split(range(50), [25, 25])]
    deepgrad.manual_seed(5)
    assert [list(p.indices) for p in ddata.random_split(range(50), [25, 25])] == first


@pytest.mark.parametrize("lengths", [[3, 3], [0.5, 0.6], [-0.5, 1.5], [0.3, 0.3]])
def test_random_split_errors_match_torch(lengths):
    assert raised(lambda: ddata.random_split(range(10), lengths)) == \
        raised(lambda: tdata.random_split(range(10), lengths))


def test_base_dataset_getitem_matches_torch():
    assert raised(lambda: ddata.Dataset()[0]) == raised(lambda: tdata.Dataset()[0])


def test_classes_are_generic_like_torch():
    for name in ("Dataset", "IterableDataset", "Sampler", "DataLoader"):
        getattr(tdata, name)[int]  # user code annotates with these
        getattr(ddata, name)[int]

    class Pairs(ddata.Dataset[tuple[deepgrad.Tensor, int]]):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return deepgrad.tensor([i]), i

    assert len(list(ddata.DataLoader(Pairs()))) == 2
