"""sum, mean, nansum, nanmean, prod, all, any, count_nonzero, cumsum, cumprod against torch."""

import numpy as np
import pytest
import torch

import deepgrad
from oracle import OpCase, assert_close, case_params, check_case

# dim configurations for a (2, 3, 4) input: all dims, one dim (+/-), tuples, empty tuple
DIMS = [None, 0, 1, -1, (0, 2), (-1, 0), (0, 1, 2), ()]
SCALAR_DIMS = [None, 0, -1]  # a 0-d tensor accepts dim 0 and -1
EMPTY_DIMS = [0, 1, (0, 1), None]  # on a (0, 3) input


def away_from_zero(rng, shape, dtype):
    return rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def dim_cases(name, op, dims=DIMS, scalar_dims=SCALAR_DIMS, empty_dims=EMPTY_DIMS, **options):
    """One OpCase per (dim, keepdim) on a 3-d input, plus 0-d and empty inputs."""
    cases = []
    for dim in dims:
        for keepdim in (False, True):
            cases.append(OpCase(f"{name}-dim{dim}-keep{keepdim}",
                                lambda lib, x, d=dim, k=keepdim: op(lib, x, dim=d, keepdim=k),
                                [((2, 3, 4),)], **options))
    for dim in scalar_dims:
        cases.append(OpCase(f"{name}-0d-dim{dim}",
                            lambda lib, x, d=dim: op(lib, x, dim=d, keepdim=False),
                            [((),)], **options))
    for dim in empty_dims:
        cases.append(OpCase(f"{name}-empty-dim{dim}",
                            lambda lib, x, d=dim: op(lib, x, dim=d, keepdim=False),
                            [((0, 3),)], **options))
    return cases


def fixed(values):
    """A case input of fixed values, in the dtype under test: ``(shapes, domain)``."""
    array = np.array(values)
    return {"shapes": [(array.shape,)], "domain": lambda rng, shape, dtype: array.astype(dtype)}


def prod_op(lib, x, dim, keepdim):
    return lib.prod(x) if dim is None else lib.prod(x, dim, keepdim=keepdim)


CASES = [
    *dim_cases("sum", lambda lib, x, dim, keepdim: lib.sum(x, dim, keepdim=keepdim)),
    *dim_cases("sum_method", lambda lib, x, dim, keepdim: x.sum(dim=dim, keepdim=keepdim),
               dims=[1, (0, 2)], scalar_dims=[], empty_dims=[]),
    *dim_cases("mean", lambda lib, x, dim, keepdim: lib.mean(x, dim, keepdim=keepdim)),
    *dim_cases("mean_method", lambda lib, x, dim, keepdim: x.mean(dim, keepdim),
               dims=[-1, (0, 1)], scalar_dims=[], empty_dims=[]),
    *dim_cases("nansum", lambda lib, x, dim, keepdim: lib.nansum(x, dim, keepdim=keepdim),
               dims=[None, 1, (0, 2)], empty_dims=[0]),
    *dim_cases("nanmean", lambda lib, x, dim, keepdim: lib.nanmean(x, dim, keepdim=keepdim),
               dims=[None, 1, (0, 2)], empty_dims=[1]),
    *dim_cases("prod", prod_op, dims=[None, 0, 1, -1], empty_dims=[0, 1, None],
               domain=away_from_zero),
    *dim_cases("cumsum", lambda lib, x, dim, keepdim: lib.cumsum(x, dim), dims=[0, 1, -1],
               scalar_dims=[0, -1], empty_dims=[0, 1]),
    *dim_cases("cumprod", lambda lib, x, dim, keepdim: x.cumprod(dim), dims=[0, 1, -1],
               scalar_dims=[0, -1], empty_dims=[0, 1], domain=away_from_zero),
    OpCase("sum_dtype", lambda lib, x: lib.sum(x, 1, dtype=lib.float64), [((3, 4),)]),
    OpCase("mean_dtype", lambda lib, x: x.mean(dtype=lib.float64), [((3, 4),)]),
    OpCase("prod_dtype", lambda lib, x: lib.prod(x, 0, dtype=lib.float64), [((3, 4),)],
           domain=away_from_zero),
    OpCase("cumsum_dtype", lambda lib, x: lib.cumsum(x, 0, dtype=lib.float64), [((3, 4),)]),
    # exact gradients with zeros, first and second order (fixed inputs)
    OpCase("prod_one_zero", lambda lib, x: x.prod(),
           **fixed([[2.0, 0.0, 3.0], [1.5, -1.0, 0.5]])),
    OpCase("prod_two_zeros", lambda lib, x: x.prod(),
           **fixed([[2.0, 0.0, 3.0], [0.0, -1.0, 0.5]])),
    OpCase("prod_dim_zeros", lambda lib, x: x.prod(1),
           **fixed([[2.0, 0.0, 3.0], [0.0, -1.0, 0.0], [1.0, 2.0, 3.0]])),
    OpCase("prod_dim0_zeros_keepdim", lambda lib, x: x.prod(0, keepdim=True),
           **fixed([[2.0, 0.0, 3.0, 0.0], [0.0, -1.0, 2.0, 0.0]])),
    OpCase("prod_0d_zero", lambda lib, x: x.prod(), **fixed(0.0)),
    OpCase("cumprod_zeros", lambda lib, x: x.cumprod(1),
           **fixed([[2.0, 0.0, 3.0, 1.5], [0.0, -1.0, 0.0, 2.0], [1.0, 2.0, 0.0, 3.0]])),
    OpCase("nansum_nan", lambda lib, x: lib.nansum(x, 1),
           **fixed([[1.0, np.nan, 3.0], [np.nan, np.nan, 2.0]])),
    OpCase("nanmean_nan", lambda lib, x: lib.nanmean(x, 1),
           **fixed([[1.0, np.nan, 3.0], [np.nan, -1.5, 2.0]])),
]


@pytest.mark.parametrize("case,shapes,dtype", case_params(CASES))
def test_against_torch(case, shapes, dtype):
    check_case(case, shapes, dtype)


# ---------------------------------------------------------------- dtypes of integer inputs

INT_ARRAYS = {
    "int64": np.array([[1, -2, 3], [4, 0, 6]], dtype=np.int64),
    "int32": np.array([[1, -2, 3], [4, 0, 6]], dtype=np.int32),
    "uint8": np.array([[1, 2, 3], [4, 0, 6]], dtype=np.uint8),
    "bool": np.array([[True, False, True], [True, True, True]]),
}
INT_OPS = {
    "sum": lambda lib, x: lib.sum(x),
    "sum_dim": lambda lib, x: x.sum(1),
    "nansum": lambda lib, x: lib.nansum(x, 0),
    "prod": lambda lib, x: x.prod(),
    "prod_dim": lambda lib, x: x.prod(0),
    "cumsum": lambda lib, x: x.cumsum(1),
    "cumprod": lambda lib, x: lib.cumprod(x, 0),
    "all": lambda lib, x: x.all(),
    "all_dim": lambda lib, x: lib.all(x, 1, keepdim=True),
    "any": lambda lib, x: lib.any(x, (0, 1)),
    "count_nonzero": lambda lib, x: lib.count_nonzero(x, 0),
    "mean_dtype": lambda lib, x: x.mean(1, dtype=lib.float64),
}


@pytest.mark.parametrize("kind", list(INT_ARRAYS))
@pytest.mark.parametrize("name", list(INT_OPS))
def test_integer_and_bool_inputs(name, kind):
    array = INT_ARRAYS[kind]
    expected = INT_OPS[name](torch, torch.tensor(array))
    actual = INT_OPS[name](deepgrad, deepgrad.tensor(array))
    assert_close(actual, expected, 0, 0, f"{name} {kind}")


@pytest.mark.parametrize("shape", [(2, 3), (0, 3), ()])
def test_all_any_count_float(shape):
    array = np.random.default_rng(0).integers(0, 2, size=shape).astype(np.float32)
    for name in ("all", "any", "count_nonzero"):
        assert_close(getattr(deepgrad, name)(deepgrad.tensor(array)),
                     getattr(torch, name)(torch.tensor(array)), 0, 0, name)


# ---------------------------------------------------------------- errors, empty inputs

@pytest.mark.parametrize("op", ["sum", "mean", "nansum", "all", "any", "count_nonzero"])
def test_dim_out_of_range_names_op(op):
    x = deepgrad.ones(2, 3)
    with pytest.raises(IndexError, match=rf"^{op}: Dimension out of range"):
        getattr(deepgrad, op)(x, 2)
    with pytest.raises(IndexError, match=op):
        getattr(deepgrad, op)(x, (0, -3))
    with pytest.raises(IndexError, match=op):
        getattr(deepgrad, op)(deepgrad.tensor(1.0), 1)


@pytest.mark.parametrize("op", ["prod", "cumsum", "cumprod"])
def test_single_dim_out_of_range_names_op(op):
    with pytest.raises(IndexError, match=rf"^{op}: Dimension out of range"):
        getattr(deepgrad, op)(deepgrad.ones(2, 3), -3)


@pytest.mark.parametrize("dims", [(0, 0), (1, -1), (0, 1, 0)])
@pytest.mark.parametrize("op", ["sum", "mean", "any"])
def test_repeated_dims_raise(op, dims):
    with pytest.raises(RuntimeError):
        getattr(torch, op)(torch.ones(2, 3), dims)
    with pytest.raises(RuntimeError, match=rf"{op}: dim \d appears multiple times"):
        getattr(deepgrad, op)(deepgrad.ones(2, 3), dims)


def test_mean_of_integers_raises_as_torch():
    with pytest.raises(RuntimeError, match="mean"):
        torch.mean(torch.tensor([1, 2]))
    with pytest.raises(RuntimeError, match=r"mean\(\): could not infer output dtype"):
        deepgrad.mean(deepgrad.tensor([1, 2]))
    with pytest.raises(RuntimeError, match=r"nanmean\(\)"):
        deepgrad.nanmean(deepgrad.tensor([1, 2]))


def test_prod_rejects_tuple_dims_as_torch():
    with pytest.raises(TypeError):
        torch.prod(torch.ones(2, 3), (0, 1))
    with pytest.raises(TypeError, match="prod"):
        deepgrad.prod(deepgrad.ones(2, 3), (0, 1))


def test_empty_reductions_match_torch():
    pairs = [
        (lambda lib, x: lib.sum(x), "sum"), (lambda lib, x: lib.prod(x), "prod"),
        (lambda lib, x: lib.mean(x), "mean"), (lambda lib, x: lib.mean(x, 0), "mean0"),
        (lambda lib, x: lib.cumsum(x, 0), "cumsum"), (lambda lib, x: lib.all(x), "all"),
        (lambda lib, x: lib.any(x), "any"),
    ]
    for op, name in pairs:
        assert_close(op(deepgrad, deepgrad.zeros(0, 3)), op(torch, torch.zeros(0, 3)), 0, 0,
                     name)


def test_prod_zero_gradients_exact():
    # one zero: the zero gets the product of the others, exactly; two zeros: all 0
    x = deepgrad.tensor([3.0, 0.0, 7.0], requires_grad=True)
    x.prod().backward()
    assert x.grad.tolist() == [0.0, 21.0, 0.0]
    y = deepgrad.tensor([3.0, 0.0, 0.0], requires_grad=True)
    y.prod().backward()
    assert y.grad.tolist() == [0.0, 0.0, 0.0]



@pytest.mark.parametrize("name,dim", [("sum", 1), ("mean", (0, 2)), ("mean", None),
                                      ("nansum", 2), ("prod", 1), ("cumsum", 1),
                                      ("cumprod", 2)])
def test_double_backward_through_incoming_gradient(name, dim):
    # the incoming gradient v requires grad: differentiates the gradient nodes w.r.t. it
    rng = np.random.default_rng(3)
    x_array = rng.uniform(0.5, 1.5, size=(2, 3, 4))
    x_array[0, 1, 2] = 0.0  # a zero: prod and cumprod take their exact-gradient path
    w_array = rng.standard_normal((2, 3, 4))
    results = []
    for lib in (torch, deepgrad):
        x = lib.tensor(x_array, requires_grad=True)
        result = getattr(lib, name)(x) if dim is None else getattr(lib, name)(x, dim)
        v = lib.tensor(np.random.default_rng(4).standard_normal(tuple(result.shape)),
                       requires_grad=True)
        (grad_x,) = lib.autograd.grad(result, x, grad_outputs=v, create_graph=True)
        results.append((grad_x, *lib.autograd.grad((grad_x * lib.tensor(w_array)).sum(),
                                                   [v, x], allow_unused=True)))
    for expected, actual, what in zip(*results, ("grad", "d/dv", "d/dx"), strict=True):
        if expected is None:
            assert actual is None or not actual.numpy().any(), f"{name} {what}"
        else:
            assert_close(actual, expected, 1e-9, 1e-10, f"{name} {what}")
