"""max/min, amax/amin, argmax/argmin, median, mode, sort, argsort, topk, kthvalue against
torch: generic cases on tie-free inputs, then hand-written tie, nan and error conventions."""

import re

import numpy as np
import pytest
import torch

import deepgrad
from oracle import OpCase, assert_close, case_params, check_case

DIMS = [None, 0, 1, -1, (0, 2), (-1, 0), (0, 1, 2), ()]
ONE_DIMS = [0, 1, -1, -3]


def fixed(values):
    """A case input of fixed values, in the dtype under test: ``(shapes, domain)``."""
    array = np.array(values)
    return {"shapes": [(array.shape,)], "domain": lambda rng, shape, dtype: array.astype(dtype)}


def small_integers(rng, shape, dtype):  # many ties: for mode
    return rng.integers(0, 3, size=shape)


def multi_dim_cases(name, op):
    cases = [OpCase(f"{name}-dim{d}-keep{k}", lambda lib, x, d=d, k=k: op(lib, x, d, k),
                    [((2, 3, 4),)]) for d in DIMS for k in (False, True)]
    cases += [OpCase(f"{name}-0d-dim{d}", lambda lib, x, d=d: op(lib, x, d, False), [((),)])
              for d in (None, 0, -1)]
    cases.append(OpCase(f"{name}-empty-dim1", lambda lib, x: op(lib, x, 1, False),
                        [((0, 3),)]))
    return cases


def one_dim_cases(name, op, dims=ONE_DIMS, empty=True, **options):
    cases = [OpCase(f"{name}-dim{d}-keep{k}", lambda lib, x, d=d, k=k: op(lib, x, d, k),
                    [((2, 3, 4),)], **options) for d in dims for k in (False, True)]
    cases += [OpCase(f"{name}-0d-dim{d}-keep{k}", lambda lib, x, d=d, k=k: op(lib, x, d, k),
                     [((),)], **options) for d in (0, -1) for k in (False, True)]
    if empty:
        cases.append(OpCase(f"{name}-empty-dim1", lambda lib, x: op(lib, x, 1, False),
                            [((0, 3),)], **options))
    return cases


CASES = [
    OpCase("max_all", lambda lib, x: lib.max(x), [((2, 3, 4),), ((),), ((5,),)]),
    OpCase("min_all", lambda lib, x: x.min(), [((2, 3, 4),), ((),)]),
    *one_dim_cases("max_dim", lambda lib, x, d, k: lib.max(x, d, keepdim=k)),
    *one_dim_cases("min_dim", lambda lib, x, d, k: x.min(dim=d, keepdim=k)),
    *multi_dim_cases("amax", lambda lib, x, d, k: lib.amax(x, () if d is None else d, k)),
    *multi_dim_cases("amin", lambda lib, x, d, k: x.amin(() if d is None else d, keepdim=k)),
    OpCase("median_all", lambda lib, x: lib.median(x), [((2, 3, 4),), ((),), ((5,),)]),
    *one_dim_cases("median_dim", lambda lib, x, d, k: lib.median(x, d, keepdim=k)),
    *one_dim_cases("kthvalue", lambda lib, x, d, k: lib.kthvalue(x, 1, d, keepdim=k)),
    OpCase("kthvalue_k2", lambda lib, x: x.kthvalue(2, 1), [((2, 3, 4),)]),
    *one_dim_cases("mode", lambda lib, x, d, k: lib.mode(x, d, keepdim=k), dims=[0, -1],
                   empty=False, domain=small_integers),
    *[OpCase(f"sort-dim{d}-desc{desc}",
             lambda lib, x, d=d, desc=desc: lib.sort(x, d, descending=desc),
             [((2, 3, 4),), ((),)] if d in (0, -1) else [((2, 3, 4),)])
      for d in ONE_DIMS for desc in (False, True)],
    OpCase("sort_empty", lambda lib, x: x.sort(0), [((0, 3),)]),
    OpCase("sort_method", lambda lib, x: x.sort(descending=True), [((3, 5),)]),
    *[OpCase(f"topk-k{k}-dim{d}-largest{largest}",
             lambda lib, x, k=k, d=d, largest=largest: lib.topk(x, k, d, largest=largest),
             [((2, 3, 4),)]) for k in (1, 2) for d in (0, 1, -1) for largest in (True, False)],
    OpCase("topk_0d", lambda lib, x: lib.topk(x, 1), [((),)]),
    OpCase("topk_method", lambda lib, x: x.topk(3, dim=1, largest=False, sorted=True),
           [((4, 5),)]),
    # ties: amax/amin and the full max/min/median share the gradient evenly
    OpCase("amax_ties", lambda lib, x: lib.amax(x, 1),
           **fixed([[1.0, 3.0, 3.0, 0.5], [2.0, 2.0, 2.0, 2.0], [-1.0, -3.0, -1.0, -2.0]])),
    OpCase("amin_ties_tuple", lambda lib, x: lib.amin(x, (0, 1), keepdim=True),
           **fixed([[1.0, 0.5, 3.0], [0.5, 2.0, 0.5]])),
    OpCase("max_all_ties", lambda lib, x: x.max(), **fixed([[1.0, 3.0], [3.0, 3.0]])),
    OpCase("min_all_ties", lambda lib, x: x.min(), **fixed([[1.0, 3.0], [1.0, 3.0]])),
    OpCase("median_all_ties", lambda lib, x: x.median(), **fixed([2.0, 1.0, 2.0, 5.0, 2.0])),
    # max(dim) with ties: values and indices (and so the gradient) as torch picks them
    OpCase("max_dim_ties", lambda lib, x: x.max(1),
           **fixed([[1.0, 3.0, 3.0, 0.5], [2.0, 2.0, 2.0, 2.0], [-1.0, -3.0, -1.0, -2.0]])),
    OpCase("min_dim_ties", lambda lib, x: x.min(0),
           **fixed([[1.0, 3.0, 3.0, 0.5], [1.0, 2.0, 3.0, 0.5], [-1.0, 2.0, -1.0, 0.5]])),
    OpCase("sort_stable_ties", lambda lib, x: x.sort(dim=1, stable=True),
           **fixed([[1.0, 3.0, 3.0, 0.5, 3.0], [2.0, 2.0, 2.0, 2.0, 1.0]])),
    OpCase("sort_stable_ties_desc", lambda lib, x: x.sort(dim=1, descending=True, stable=True),
           **fixed([[1.0, 3.0, 3.0, 0.5, 3.0], [2.0, 2.0, 2.0, 2.0, 1.0]])),
    # nan: max/min propagate it and point at the first nan
    OpCase("max_all_nan", lambda lib, x: x.max(), **fixed([1.0, np.nan, 3.0, np.nan])),
    OpCase("max_dim_nan", lambda lib, x: x.max(1),
           **fixed([[1.0, np.nan, 3.0, np.nan], [1.0, 2.0, 3.0, 0.0]])),
    OpCase("min_dim_nan", lambda lib, x: x.min(1),
           **fixed([[1.0, np.nan, 3.0, np.nan], [1.0, 2.0, 3.0, 0.0]])),
    OpCase("median_dim_nan", lambda lib, x: x.median(1),
           **fixed([[1.0, np.nan, 3.0, np.nan], [1.0, 2.0, 3.0, 0.0]])),
    OpCase("sort_nan", lambda lib, x: x.sort(1),
           **fixed([[1.0, np.nan, 3.0, -1.0], [1.0, 2.0, np.nan, 0.0]])),
    OpCase("sort_nan_desc", lambda lib, x: x.sort(1, descending=True),
           **fixed([[1.0, np.nan, 3.0, -1.0], [1.0, 2.0, np.nan, 0.0]])),
]


@pytest.mark.parametrize("case,shapes,dtype", case_params(CASES))
def test_against_torch(case, shapes, dtype):
    check_case(case, shapes, dtype)


# ---------------------------------------------------------------- indices-only ops

ARG_ARRAY = np.array([[[1.0, 5.0, 5.0], [0.0, -2.0, 7.0]], [[3.0, 3.0, 3.0], [9.0, 1.0, 9.0]]])
ARG_CALLS = [
    lambda lib, x: lib.argmax(x), lambda lib, x: x.argmin(),
    lambda lib, x: lib.argmax(x, keepdim=True), lambda lib, x: lib.argmax(x, 1),
    lambda lib, x: x.argmax(-1, keepdim=True), lambda lib, x: lib.argmin(x, 0, True),
    lambda lib, x: lib.argsort(x), lambda lib, x: x.argsort(0, descending=True),
    lambda lib, x: lib.argsort(x, dim=1, stable=True),
    lambda lib, x: lib.argmax(x.sum()), lambda lib, x: lib.argmax(x.sum(), 0),
    lambda lib, x: lib.argsort(x.sum()), lambda lib, x: x.sum().argmin(keepdim=True),
    lambda lib, x: lib.argmax(lib.zeros(0, 3), 1),
]


@pytest.mark.parametrize("k", range(len(ARG_CALLS)))
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_arg_ops_match_torch(k, dtype):
    array = ARG_ARRAY.astype(dtype)
    results = _both(ARG_CALLS[k], array)
    if results is not None:
        assert_close(results[1], results[0], 0, 0, f"arg call {k} {dtype}")


def _both(call, array):
    """(torch result, deepgrad result), or None when torch refuses the input (as torch's
    argmax and topk refuse bool), after checking that deepgrad refuses it too."""
    try:
        expected = call(torch, torch.tensor(array))
    except RuntimeError as error:
        with pytest.raises(RuntimeError, match=re.escape(str(error).split()[0])):
            call(deepgrad, deepgrad.tensor(array))
        return None
    return expected, call(deepgrad, deepgrad.tensor(array))


@pytest.mark.parametrize("dtype", ["int64", "bool", "uint8"])
def test_integer_values_keep_dtype(dtype):
    array = ARG_ARRAY.astype(dtype)
    calls = [lambda lib, x: x.max(), lambda lib, x: x.max(1), lambda lib, x: lib.amin(x, 0),
             lambda lib, x: x.sort(-1), lambda lib, x: x.topk(2, 1)]
    for call in calls:
        results = _both(call, array)
        if results is None:
            assert dtype == "bool"  # only torch's topk refuses, and only bool
            continue
        expected, actual = results
        for a, e in zip(actual if isinstance(actual, tuple) else (actual,),
                        expected if isinstance(expected, tuple) else (expected,), strict=True):
            assert_close(a, e, 0, 0, dtype)


def test_namedtuple_fields():
    x = deepgrad.tensor([[1.0, 5.0], [3.0, 2.0]])
    result = x.max(1)
    values, indices = result
    assert result.values is values and result.indices is indices
    assert indices.dtype == deepgrad.int64
    assert not indices.requires_grad
    for name in ("min", "median", "sort", "mode"):
        assert getattr(x, name)(1).indices.dtype == deepgrad.int64


def test_max_two_tensors_is_maximum():
    a, b = np.array([1.0, 5.0, 3.0]), np.array([2.0, 4.0, 3.0])
    assert_close(deepgrad.max(deepgrad.tensor(a), deepgrad.tensor(b)),
                 torch.max(torch.tensor(a), torch.tensor(b)), 0, 0, "max(a, b)")
    assert_close(deepgrad.tensor(a).min(deepgrad.tensor(b)),
                 torch.tensor(a).min(torch.tensor(b)), 0, 0, "a.min(b)")
    assert_close(deepgrad.max(deepgrad.tensor(a), other=deepgrad.tensor(b)),
                 torch.max(torch.tensor(a), other=torch.tensor(b)), 0, 0, "max(a, other=b)")


def test_tie_gradients_spelled_out():
    # amax: equal maxima share; max(dim): all to the first maximum (torch's index)
    x = deepgrad.tensor([[1.0, 3.0, 3.0]], requires_grad=True)
    deepgrad.amax(x, 1).sum().backward()
    assert x.grad.tolist() == [[0.0, 0.5, 0.5]]
    x.grad = None
    x.max(1).values.sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 0.0]]


# ---------------------------------------------------------------- errors, empty inputs

@pytest.mark.parametrize("op", ["max", "min", "amax", "amin", "argmax", "argmin"])
def test_empty_input_errors_as_torch(op):
    with pytest.raises((RuntimeError, IndexError)) as expected:
        getattr(torch, op)(torch.zeros(0, 3))
    with pytest.raises(expected.type, match=op):
        getattr(deepgrad, op)(deepgrad.zeros(0, 3))
    with pytest.raises(IndexError):
        getattr(torch, op)(torch.zeros(0, 3), 0)
    with pytest.raises(IndexError, match=rf"{op}\(\): Expected reduction dim 0"):
        getattr(deepgrad, op)(deepgrad.zeros(0, 3), 0)


@pytest.mark.parametrize("op", ["max", "min", "argmax", "argmin", "sort", "argsort", "median",
                                "mode", "amax", "amin"])
def test_dim_out_of_range_names_op(op):
    with pytest.raises(IndexError, match=rf"^{op}: Dimension out of range"):
        getattr(deepgrad, op)(deepgrad.ones(2, 3), 2)
    with pytest.raises(IndexError, match=op):
        getattr(deepgrad, op)(deepgrad.tensor(1.0), -2)


def test_topk_and_kthvalue_k_out_of_range():
    with pytest.raises(RuntimeError):
        torch.topk(torch.ones(2, 3), 4)
    with pytest.raises(RuntimeError, match="topk: selected index k out of range"):
        deepgrad.topk(deepgrad.ones(2, 3), 4)
    with pytest.raises(RuntimeError, match="kthvalue"):
        deepgrad.kthvalue(deepgrad.ones(2, 3), 0)


def test_repeated_and_tuple_dims():
    with pytest.raises(RuntimeError, match="amax: dim 1 appears multiple times"):
        deepgrad.amax(deepgrad.ones(2, 3), (1, -1))
    with pytest.raises(TypeError):
        torch.max(torch.ones(2, 3), dim=(0,))
    with pytest.raises(TypeError, match="max"):
        deepgrad.max(deepgrad.ones(2, 3), dim=(0,))


@pytest.mark.parametrize("call", [lambda lib, x: x.max(1).values, lambda lib, x: x.amax(1),
                                  lambda lib, x: x.sort(1, descending=True).values,
                                  lambda lib, x: x.topk(2, 0).values, lambda lib, x: x.max()])
def test_double_backward_through_incoming_gradient(call):
    rng = np.random.default_rng(3)
    x_array = rng.standard_normal((3, 4))
    w_array = rng.standard_normal((3, 4))
    results = []
    for lib in (torch, deepgrad):
        x = lib.tensor(x_array, requires_grad=True)
        result = call(lib, x)
        v = lib.tensor(np.random.default_rng(4).standard_normal(tuple(result.shape)),
                       requires_grad=True)
        (grad_x,) = lib.autograd.grad(result, x, grad_outputs=v, create_graph=True)
        (grad_v,) = lib.autograd.grad((grad_x * lib.tensor(w_array)).sum(), v)
        results.append((grad_x, grad_v))
    for expected, actual in zip(*results, strict=True):
        assert_close(actual, expected, 1e-12, 1e-12, "double backward")
