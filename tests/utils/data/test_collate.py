"""default_collate / default_convert against torch's: same batches in, same structure, types,
shapes, dtypes and values out."""

from __future__ import annotations

import collections

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import deepgrad
from deepgrad.utils import data as ddata
from deepgrad.utils.data.collate import StackedSamples

Point = collections.namedtuple("Point", ["x", "y"])


def assert_same(ours, theirs, path="batch"):
    """Recursively compare a deepgrad collate result with torch's."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, deepgrad.Tensor), f"{path}: {type(ours)} is not a Tensor"
        assert tuple(ours.shape) == tuple(theirs.shape), path
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1], path
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=path)
        return
    assert type(ours).__name__ == type(theirs).__name__, f"{path}: {type(ours)} vs {type(theirs)}"
    if isinstance(theirs, dict):
        assert list(ours) == list(theirs), path
        for key in theirs:
            assert_same(ours[key], theirs[key], f"{path}[{key!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs), path
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            assert_same(a, b, f"{path}[{i}]")
    else:
        assert ours == theirs, path


def sample_sets(lib):
    """Batches of samples built the same way for deepgrad and torch."""
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((3, 2)).astype(np.float32) for _ in range(4)]
    return {
        "tensors": [lib.tensor(a) for a in arrays],
        "int_tensors": [lib.tensor([i, i + 1]) for i in range(3)],
        "scalar_tensors": [lib.tensor(float(i)) for i in range(3)],
        "numpy_float32": [a.copy() for a in arrays],
        "numpy_int64": [np.arange(4) * i for i in range(3)],
        "numpy_uint8": [np.full((2, 2), i, dtype=np.uint8) for i in range(3)],
        "numpy_bool": [np.array([True, i % 2 == 0]) for i in range(3)],
        "numpy_scalar_f32": [np.float32(i) / 2 for i in range(3)],
        "numpy_scalar_f64": [np.float64(i) / 3 for i in range(3)],
        "numpy_scalar_i32": [np.int32(i) for i in range(3)],
        "numpy_scalar_bool": [np.bool_(i % 2) for i in range(3)],
        "floats": [0.5, 1.5, -2.25],
        "ints": [1, 2, 3],
        "bools": [True, False, True],
        "ints_and_bools": [1, True, 3],
        "strings": ["a", "bb", "ccc"],
        "bytes": [b"a", b"b"],
        "tuples": [(lib.tensor(a), i, float(i), "s") for i, a in enumerate(arrays)],
        "lists": [[i, 2.0 * i] for i in range(3)],
        "dicts": [{"x": lib.tensor(a), "label": i, "name": f"n{i}"} for i, a in enumerate(arrays)],
        "ordered_dicts": [collections.OrderedDict(b=i, a=float(i)) for i in range(2)],
        "namedtuples": [Point(lib.tensor(a), i) for i, a in enumerate(arrays)],
        "nested": [{"pair": (np.float32(i), [i, i + 1]), "meta": {"id": i, "w": 0.1 * i}}
                   for i in range(3)],
    }


@pytest.mark.parametrize("name", sorted(sample_sets(torch)))
def test_default_collate_matches_torch(name):
    ours = ddata.default_collate(sample_sets(deepgrad)[name])
    theirs = tdata.default_collate(sample_sets(torch)[name])
    assert_same(ours, theirs)


@pytest.mark.parametrize("name", sorted(sample_sets(torch)))
def test_default_convert_matches_torch(name):
    for ours, theirs in zip(sample_sets(deepgrad)[name], sample_sets(torch)[name], strict=True):
        assert_same(ddata.default_convert(ours), tdata.default_convert(theirs))


def raised(fn, *args):
    with pytest.raises(Exception) as info:
        fn(*args)
    return type(info.value), str(info.value)


@pytest.mark.parametrize("make", [
    lambda lib: [[1, 2], [3]],                                   # unequal sequences
    lambda lib: [object(), object()],                            # unsupported element
    lambda lib: [np.array(["a", "b"]), np.array(["c", "d"])],    # string arrays
    lambda lib: [lib.zeros(3), lib.zeros(4)],                    # tensors of different sizes
])
def test_collate_errors_match_torch(make):
    ours = raised(ddata.default_collate, make(deepgrad))
    theirs = raised(tdata.default_collate, make(torch))
    assert ours[0] is theirs[0]
    if "object at" not in theirs[1]:
        assert ours[1] == theirs[1]


def test_stacked_samples_collate_like_the_list_of_samples():
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    y = np.arange(6)
    stacked = StackedSamples((deepgrad.tensor(x), deepgrad.tensor(y)))
    assert len(stacked) == 6
    as_list = list(stacked)
    assert isinstance(as_list[0], tuple) and len(as_list[0]) == 2
    theirs = tdata.default_collate([(torch.tensor(x[i]), torch.tensor(y[i])) for i in range(6)])
    assert_same(ddata.default_collate(stacked), theirs)
    assert_same(ddata.default_collate(as_list), theirs)
    assert_same(ddata.default_collate(stacked[2:4]), tdata.default_collate(
        [(torch.tensor(x[i]), torch.tensor(y[i])) for i in range(2, 4)]))


def test_custom_collate_map():
    def sum_ints(batch, *, collate_fn_map=None):
        return sum(batch)

    batch = [(1, {"a": 2.5}), (3, {"a": 4.0})]
    ours = ddata.collate(batch, collate_fn_map={(int, float): sum_ints})
    theirs = tdata._utils.collate.collate(batch, collate_fn_map={(int, float): sum_ints})
    assert ours == theirs
