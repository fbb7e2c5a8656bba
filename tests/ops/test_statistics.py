"""var, std, var_mean and std_mean against torch (values, gradients, second order)."""

import numpy as np
import pytest
import torch

import deepgrad
from oracle import OpCase, assert_close, case_params, check_case

# torch's gradient for dim=() is inf (its backward counts no reduced dims), so the empty
# tuple is checked forward-only below
DIMS = [None, 0, 1, -1, (0, 2), (-1, 0), (0, 1, 2)]


def fixed(values):
    """A case input of fixed values, in the dtype under test: ``(shapes, domain)``."""
    array = np.array(values)
    return {"shapes": [(array.shape,)], "domain": lambda rng, shape, dtype: array.astype(dtype)}


def dim_cases(name, op, dims=DIMS, scalar=True, empty=(1,), **options):
    cases = [OpCase(f"{name}-dim{d}-keep{k}", lambda lib, x, d=d, k=k: op(lib, x, d, k),
                    [((2, 3, 4),)], **options) for d in dims for k in (False, True)]
    if scalar:
        cases += [OpCase(f"{name}-0d-dim{d}", lambda lib, x, d=d: op(lib, x, d, False),
                         [((),)], **options) for d in (None, 0, -1)]
    cases += [OpCase(f"{name}-empty-dim{d}", lambda lib, x, d=d: op(lib, x, d, False),
                     [((0, 3),)], **options) for d in empty]
    return cases


CASES = [
    *dim_cases("var", lambda lib, x, d, k: lib.var(x, d, keepdim=k), empty=(0, 1, None)),
    *dim_cases("std", lambda lib, x, d, k: x.std(d, keepdim=k), empty=(0, 1, None)),
    *dim_cases("var_biased", lambda lib, x, d, k: lib.var(x, d, unbiased=False, keepdim=k),
               dims=[None, 1, (0, 2)]),
    *dim_cases("std_correction0", lambda lib, x, d, k: lib.std(x, d, correction=0, keepdim=k),
               dims=[None, -1, (0, 1)]),
    *dim_cases("var_correction2.5", lambda lib, x, d, k: x.var(d, correction=2.5, keepdim=k),
               dims=[None, 2], scalar=False, empty=()),
    *dim_cases("var_mean", lambda lib, x, d, k: lib.var_mean(x, d, keepdim=k),
               dims=[None, 1, (0, 2)]),
    *dim_cases("std_mean", lambda lib, x, d, k: lib.std_mean(x, d, correction=0, keepdim=k),
               dims=[None, -1, (1, 2)]),
    OpCase("var_empty_tuple", lambda lib, x: lib.var(x, ()), [((2, 3),)], grad=False),
    OpCase("std_empty_tuple", lambda lib, x: x.std((), keepdim=True), [((2, 3),)], grad=False),
    OpCase("var_unbiased_positional", lambda lib, x: lib.var(x, 1, False, True), [((3, 4),)]),
    OpCase("std_unbiased_only", lambda lib, x: lib.std(x, False), [((3, 4),)]),
    OpCase("var_correction_ge_n", lambda lib, x: x.var(1, correction=4), [((3, 4),)]),
    # one element with correction 1: nan as torch (forward and gradient)
    OpCase("var_single", lambda lib, x: x.var(), [((1,),)]),
    OpCase("std_single_dim", lambda lib, x: x.std(0), [((1, 3),)]),
    # a constant slice: std is 0 and its gradient 0 (torch's subgradient)
    # std of a constant row sits on a kink: compare with torch, no numerical gradgradcheck.
    OpCase("std_zero", lambda lib, x: x.std(1), **fixed([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]]),
           numeric_gradgrad=False),
]


@pytest.mark.parametrize("case,shapes,dtype", case_params(CASES))
def test_against_torch(case, shapes, dtype):
    check_case(case, shapes, dtype)


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("op", ["var", "std", "var_mean", "std_mean"])
def test_integer_input_raises(op):
    with pytest.raises(RuntimeError):
        getattr(torch, op)(torch.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="floating point"):
        getattr(deepgrad, op)(deepgrad.tensor([1, 2]))


@pytest.mark.parametrize("op", ["var", "std", "var_mean"])
def test_dims_errors(op):
    with pytest.raises(IndexError, match=r"Dimension out of range"):
        getattr(deepgrad, op)(deepgrad.ones(2, 3), dim=2)
    with pytest.raises(RuntimeError, match="appears multiple times"):
        getattr(deepgrad, op)(deepgrad.ones(2, 3), dim=(0, -2))


def test_var_dim_error_names_op():
    with pytest.raises(IndexError, match=r"^var: Dimension out of range"):
        deepgrad.var(deepgrad.ones(2, 3), (0, 5))


def test_std_gradient_at_constant_is_zero():
    x = deepgrad.tensor([2.0, 2.0, 2.0], requires_grad=True)
    x.std().backward()
    expected = torch.tensor([2.0, 2.0, 2.0], requires_grad=True)
    expected.std().backward()
    assert_close(x.grad, expected.grad, 0, 0, "std grad at a constant")
