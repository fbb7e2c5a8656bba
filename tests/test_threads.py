"""deepgrad.set_num_threads / get_num_threads behave as torch's and reach BLAS and the
kernels; kernel halves run with single-threaded BLAS and restore it."""

import numpy as np
import pytest
import torch

import deepgrad
from deepgrad.ops import kernel_memory


@pytest.mark.parametrize("value", [0, -1, 2.5, "2"])
def test_bad_values_raise_like_torch(value):
    with pytest.raises(RuntimeError) as expected:
        torch.set_num_threads(value)
    with pytest.raises(RuntimeError) as got:
        deepgrad.set_num_threads(value)
    assert str(got.value) == str(expected.value)


def test_set_reaches_blas_not_the_kernel_split():
    before, blas_before = deepgrad.get_num_threads(), kernel_memory.blas_threads()
    kernels_before = kernel_memory._THREADS
    try:
        for n in (1, 2):
            deepgrad.set_num_threads(n)
            assert deepgrad.get_num_threads() == n
            assert kernel_memory._THREADS == kernels_before  # DEEPGRAD_KERNEL_THREADS's
            if blas_before is not None:  # NumPy bundles OpenBLAS: it reports what it was told
                assert kernel_memory.blas_threads() == n
    finally:
        deepgrad.set_num_threads(before)
        if blas_before is not None:
            kernel_memory.set_blas_threads(blas_before)


def test_halves_run_with_single_threaded_blas_and_restore_it(monkeypatch):
    if kernel_memory.blas_threads() is None:
        pytest.skip("NumPy's BLAS is not OpenBLAS")
    monkeypatch.setattr(kernel_memory, "_THREADS", 2)
    before = kernel_memory.blas_threads()
    kernel_memory.set_blas_threads(2)
    seen, out = [], np.zeros(8)
    try:
        def work(start, stop):
            seen.append(kernel_memory.blas_threads())
            out[start:stop] = np.arange(start, stop)

        kernel_memory.in_halves(work, 8, 1 << 22)
        assert seen == [1, 1] and kernel_memory.blas_threads() == 2
        np.testing.assert_array_equal(out, np.arange(8))
    finally:
        kernel_memory.set_blas_threads(before)
