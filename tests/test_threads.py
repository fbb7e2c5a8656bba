"""deepgrad.set_num_threads / get_num_threads behave as torch's and reach BLAS and the
kernels."""

import ctypes

import pytest
import torch

import deepgrad
from deepgrad import _threads
from deepgrad.ops import kernel_memory


@pytest.mark.parametrize("value", [0, -1, 2.5, "2"])
def test_bad_values_raise_like_torch(value):
    with pytest.raises(RuntimeError) as expected:
        torch.set_num_threads(value)
    with pytest.raises(RuntimeError) as got:
        deepgrad.set_num_threads(value)
    assert str(got.value) == str(expected.value)


def test_set_reaches_blas_and_kernels():
    before = deepgrad.get_num_threads()
    try:
        for n in (1, 2):
            deepgrad.set_num_threads(n)
            assert deepgrad.get_num_threads() == n
            assert kernel_memory._THREADS == n
            setter = _threads._find_blas_setter()
            if setter is not None:  # the bundled OpenBLAS reports what it was told
                name = setter.__name__.replace("set_num_threads", "get_num_threads")
                lib = _blas_library(setter)
                assert getattr(lib, name)() == n
    finally:
        deepgrad.set_num_threads(before)


def _blas_library(setter):
    import glob  # noqa: PLC0415
    import os  # noqa: PLC0415

    import numpy as np  # noqa: PLC0415

    folder = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    for path in glob.glob(os.path.join(folder, "*openblas*")):
        library = ctypes.CDLL(path)
        if hasattr(library, setter.__name__):
            return library
    raise AssertionError("the setter's library is gone")
