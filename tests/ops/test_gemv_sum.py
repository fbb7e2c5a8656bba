"""Sums over leading/trailing dims take a BLAS matrix-vector path (ops/gemv_sum.py); their
values, shapes and gradients must still be torch's, including nan/inf and non-contiguous
inputs (which take NumPy's path)."""

import numpy as np
import pytest
import torch

import deepgrad

CASES = [
    ((300, 3), 0), ((300, 100), 0), ((7, 5), 1), ((4, 5, 6), (0, 1)), ((4, 5, 6), (1, 2)),
    ((4, 5, 6), 2), ((4, 5, 6), 1), ((2, 3, 4, 5), (0, 1, 2)), ((1, 1), 0), ((5,), 0),
]


@pytest.mark.parametrize("op", ["sum", "mean"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize(("shape", "dim"), CASES)
def test_leading_and_trailing_sums_match_torch(shape, dim, keepdim, dtype, op):
    data = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    results = []
    for lib in (deepgrad, torch):
        x = lib.tensor(data, requires_grad=True)
        out = getattr(x, op)(dim, keepdim=keepdim)
        (out * lib.tensor(np.arange(out.numel(), dtype=dtype).reshape(out.shape))).sum().backward()
        results.append((out.detach().numpy(), x.grad.numpy()))
    (got, got_grad), (want, want_grad) = results
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got_grad, want_grad, rtol=1e-6)


def test_nan_and_inf_propagate_like_torch():
    data = np.array([[1.0, np.inf, np.nan], [2.0, -np.inf, 0.0], [3.0, 1.0, 1.0]], np.float32)
    for dim in (0, 1):
        got = deepgrad.tensor(data).sum(dim).numpy()
        want = torch.tensor(data).sum(dim).numpy()
        np.testing.assert_array_equal(got, want)


def test_non_contiguous_input_is_summed_correctly():
    data = np.random.default_rng(1).standard_normal((6, 8)).astype(np.float32)
    got = deepgrad.tensor(data).t().sum(0).numpy()
    want = torch.tensor(data).t().sum(0).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6)
