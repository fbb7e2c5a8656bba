"""Samplers: index sequences and lengths against torch's; randomness follows the generator."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import deepgrad
from deepgrad.utils import data as ddata


def both(name, *args, **kwargs):
    """The same sampler built by both libraries."""
    return getattr(ddata, name)(*args, **kwargs), getattr(tdata, name)(*args, **kwargs)


def raised(fn):
    with pytest.raises(Exception) as info:
        fn()
    return type(info.value), str(info.value)


def test_sequential_sampler():
    ours, theirs = both("SequentialSampler", range(7))
    assert list(ours) == list(theirs)
    assert len(ours) == len(theirs)


@pytest.mark.parametrize("replacement,num_samples", [
    (False, None), (False, 3), (False, 25), (True, None), (True, 5), (True, 70),
])
def test_random_sampler_lengths_and_values(replacement, num_samples):
    source = range(10)
    ours, theirs = both("RandomSampler", source, replacement=replacement, num_samples=num_samples)
    assert len(ours) == len(theirs)
    assert ours.num_samples == theirs.num_samples
    drawn = list(ours)
    assert len(drawn) == len(list(theirs))
    assert all(isinstance(i, int) and 0 <= i < 10 for i in drawn)
    if not replacement:
        n = len(source)
        # full blocks are permutations; the tail has distinct indices (a permutation prefix)
        for start in range(0, len(drawn), n):
            block = drawn[start:start + n]
            assert len(set(block)) == len(block)


def test_random_sampler_with_replacement_repeats():
    deepgrad.manual_seed(0)
    drawn = list(ddata.RandomSampler(range(5), replacement=True, num_samples=200))
    assert len(set(drawn)) == 5 and len(drawn) == 200  # with replacement: repeats, all values


def test_random_sampler_follows_seed():
    source = range(50)
    deepgrad.manual_seed(3)
    first = list(ddata.RandomSampler(source))
    deepgrad.manual_seed(3)
    assert list(ddata.RandomSampler(source)) == first
    deepgrad.manual_seed(4)
    assert list(ddata.RandomSampler(source)) != first
    assert sorted(first) == list(source)
    gen = deepgrad.Generator().manual_seed(11)
    with_gen = list(ddata.RandomSampler(source, generator=gen))
    assert list(ddata.RandomSampler(source, generator=deepgrad.Generator().manual_seed(11))) \
        == with_gen
    # a sampler reshuffles each epoch
    sampler = ddata.RandomSampler(source)
    assert list(sampler) != list(sampler)


@pytest.mark.parametrize("kwargs", [
    {"replacement": 1}, {"num_samples": 0}, {"num_samples": 2.5}, {"num_samples": -1},
])
def test_random_sampler_validation_matches_torch(kwargs):
    assert raised(lambda: ddata.RandomSampler(range(4), **kwargs)) == \
        raised(lambda: tdata.RandomSampler(range(4), **kwargs))


def test_random_sampler_empty_source_matches_torch():
    assert raised(lambda: ddata.RandomSampler([])) == raised(lambda: tdata.RandomSampler([]))


def test_subset_random_sampler():
    indices = [3, 8, 1, 42, 7]
    ours, theirs = both("SubsetRandomSampler", indices)
    assert len(ours) == len(theirs)
    assert sorted(ours) == sorted(theirs) == sorted(indices)
    deepgrad.manual_seed(1)
    first = list(ours)
    deepgrad.manual_seed(1)
    assert list(ours) == first


def test_weighted_random_sampler():
    weights = [0.0, 1.0, 3.0, 0.0, 6.0]
    ours, theirs = both("WeightedRandomSampler", weights, 20000)
    assert len(ours) == len(theirs)
    assert str(ours.weights.dtype).endswith("float64") and theirs.weights.dtype == torch.float64
    drawn = np.array(list(ours))
    assert set(drawn.tolist()) == {1, 2, 4}  # zero weights are never drawn
    frequencies = np.bincount(drawn, minlength=5) / drawn.size
    np.testing.assert_allclose(frequencies, np.array(weights) / 10.0, atol=0.02)


def test_weighted_random_sampler_without_replacement():
    ours = ddata.WeightedRandomSampler([1.0, 2.0, 3.0, 4.0], 4, replacement=False)
    assert sorted(ours) == [0, 1, 2, 3]
    gen_a = deepgrad.Generator().manual_seed(5)
    gen_b = deepgrad.Generator().manual_seed(5)
    assert list(ddata.WeightedRandomSampler([1, 2, 3], 10, generator=gen_a)) == \
        list(ddata.WeightedRandomSampler([1, 2, 3], 10, generator=gen_b))


@pytest.mark.parametrize("args,kwargs", [
    (([1.0, 2.0], 0), {}), (([1.0, 2.0], True), {}), (([1.0, 2.0], 2.0), {}),
    (([1.0, 2.0], 2), {"replacement": 0}), (([[1.0, 2.0]], 2), {}),
])
def test_weighted_random_sampler_validation_matches_torch(args, kwargs):
    assert raised(lambda: ddata.WeightedRandomSampler(*args, **kwargs)) == \
        raised(lambda: tdata.WeightedRandomSampler(*args, **kwargs))


@pytest.mark.parametrize("weights,num_samples,replacement", [
    ([1.0, -1.0], 2, True), ([0.0, 0.0], 2, True), ([1.0, 2.0], 3, False),
])
def test_weighted_random_sampler_bad_weights_match_torch(weights, num_samples, replacement):
    ours = ddata.WeightedRandomSampler(weights, num_samples, replacement)
    theirs = tdata.WeightedRandomSampler(weights, num_samples, replacement)
    assert raised(lambda: list(ours)) == raised(lambda: list(theirs))


def test_weighted_without_replacement_runs_out_of_positive_weights_as_torch():
    # torch does not raise: the positive-weight indices come first, then zero-weight ones
    ours = list(ddata.WeightedRandomSampler([1.0, 0.0, 0.0], 2, replacement=False))
    theirs = list(tdata.WeightedRandomSampler([1.0, 0.0, 0.0], 2, replacement=False))
    assert ours[0] == theirs[0] == 0
    assert len(set(ours)) == len(set(theirs)) == 2


@pytest.mark.parametrize("n,batch_size,drop_last", [
    (10, 3, False), (10, 3, True), (9, 3, False), (9, 3, True), (2, 5, False), (2, 5, True),
    (0, 4, False), (1, 1, True),
])
def test_batch_sampler_matches_torch(n, batch_size, drop_last):
    ours = ddata.BatchSampler(ddata.SequentialSampler(range(n)), batch_size, drop_last)
    theirs = tdata.BatchSampler(tdata.SequentialSampler(range(n)), batch_size, drop_last)
    assert list(ours) == list(theirs)
    assert len(ours) == len(theirs)
    # a plain iterable works as the inner sampler too
    assert list(ddata.BatchSampler(range(n), batch_size, drop_last)) == list(theirs)


def test_batch_sampler_over_random_sampler_length():
    for drop_last in (False, True):
        ours = ddata.BatchSampler(ddata.RandomSampler(range(10), True, 23), 4, drop_last)
        theirs = tdata.BatchSampler(tdata.RandomSampler(range(10), True, 23), 4, drop_last)
        assert len(ours) == len(theirs) == len(list(ours))
        assert [len(b) for b in ours] == [len(b) for b in theirs]


@pytest.mark.parametrize("batch_size,drop_last", [(0, False), (-1, False), (2.0, False),
                                                  (True, False), (2, 1), (2, None)])
def test_batch_sampler_validation_matches_torch(batch_size, drop_last):
    assert raised(lambda: ddata.BatchSampler(range(4), batch_size, drop_last)) == \
        raised(lambda: tdata.BatchSampler(range(4), batch_size, drop_last))
