"""The course's teaching methods in deepgrad.linalg against torch: the Gauss-Jordan inverse
(its steps replayed as the elementary row operations they claim to be) and the
definiteness tests (against torch's eigenvalues). The adjugate inverse is compared with
torch.linalg.inv, gradients included, in test_linalg_namespace.py."""

import re

import numpy as np
import pytest
import torch

import deepgrad


def well_conditioned(rng, shape, dtype):
    """Uniform entries plus n on the diagonal (diagonally dominant)."""
    return (rng.uniform(-1.0, 1.0, size=shape) + shape[-1] * np.eye(shape[-1])).astype(dtype)


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_gauss_jordan_inverse_matches_torch(n):
    a = well_conditioned(np.random.default_rng(n), (n, n), np.float64)
    expected = torch.linalg.inv(torch.tensor(a))
    result = deepgrad.linalg.inv_gauss_jordan(deepgrad.tensor(a))
    assert result.dtype.name == "float64"
    np.testing.assert_allclose(result.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)


def test_gauss_jordan_accepts_integer_exercises():
    a = [[2, 1, 1], [1, 3, 2], [1, 0, 0]]
    expected = torch.linalg.inv(torch.tensor(a, dtype=torch.float32))
    result = deepgrad.linalg.inv_gauss_jordan(deepgrad.tensor(a))
    assert result.dtype.name == "float32"
    np.testing.assert_allclose(result.numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)


_SWAP = re.compile(r"^R(\d+) <-> R(\d+)$")
_SCALE = re.compile(r"^R(\d+) <- R(\d+) / (\S+)$")
_ELIMINATE = re.compile(r"^R(\d+) <- R(\d+) - (\S+) \* R(\d+)$")


def _replay(operation: str, before: np.ndarray) -> np.ndarray:
    """Apply one step as its text states it (numbers are shown to 4 significant digits)."""
    after = before.copy()
    if m := _SWAP.match(operation):
        i, j = int(m[1]) - 1, int(m[2]) - 1
        after[[i, j]] = after[[j, i]]
    elif m := _SCALE.match(operation):
        assert m[1] == m[2]
        after[int(m[1]) - 1] /= float(m[3])
    elif m := _ELIMINATE.match(operation):
        assert m[1] == m[2]
        after[int(m[1]) - 1] -= float(m[3]) * after[int(m[4]) - 1]
    else:
        raise AssertionError(f"not an elementary row operation: {operation!r}")
    return after


def test_gauss_jordan_steps_are_elementary_row_operations_ending_in_the_inverse():
    a = np.array([[0.0, 2.0, 1.0], [1.0, 1.0, 0.0], [3.0, 0.0, 1.0]])  # a[0, 0] = 0: must pivot
    inverse, steps = deepgrad.linalg.inv_gauss_jordan(deepgrad.tensor(a), return_steps=True)
    assert steps[0].operation == "R1 <-> R3"  # largest |entry| of column 1 is in row 3
    state = np.concatenate([a, np.eye(3)], axis=1)
    for step in steps:
        assert step.matrix.shape == (3, 6)
        np.testing.assert_allclose(step.matrix.numpy(), _replay(step.operation, state),
                                   rtol=1e-3, atol=1e-3, err_msg=step.operation)
        state = step.matrix.numpy()
        assert step.operation in str(step) and "|" in str(step)
    np.testing.assert_allclose(state[:, :3], np.eye(3), atol=1e-12)
    expected = torch.linalg.inv(torch.tensor(a)).numpy()
    np.testing.assert_allclose(state[:, 3:], expected, atol=1e-12)
    np.testing.assert_allclose(inverse.numpy(), expected, atol=1e-12)


@pytest.mark.parametrize("fn", [deepgrad.linalg.inv_gauss_jordan, deepgrad.linalg.inv_adjugate])
def test_teaching_inverses_refuse_singular_and_non_square(fn):
    with pytest.raises(deepgrad.linalg.LinAlgError):
        fn(deepgrad.tensor([[1.0, 2.0], [2.0, 4.0]]))
    with pytest.raises(RuntimeError, match=r"\(2, 3\)"):
        fn(deepgrad.ones(2, 3))


def _matrices():
    rng = np.random.default_rng(6)
    b = rng.standard_normal((4, 4))
    low = rng.standard_normal((4, 2))
    return {
        "positive definite": b @ b.T + np.eye(4),
        "positive semidefinite": low @ low.T,
        "negative definite": -(b @ b.T + np.eye(4)),
        "negative semidefinite": -(low @ low.T),
        "indefinite": np.diag([2.0, -1.0, 3.0, 0.5]),
        "identity": np.eye(3),
        "zero": np.zeros((3, 3)),
        "asymmetric positive": np.array([[2.0, 3.0], [-3.0, 2.0]]),  # x^T A x = 2|x|^2
    }


def _expected_label(a: np.ndarray) -> str:
    """The classification from torch's eigenvalues of the symmetric part."""
    values = torch.linalg.eigvalsh(torch.tensor((a + a.T) / 2)).numpy()
    tol = len(values) * np.finfo(values.dtype).eps * np.abs(values).max(initial=0.0)
    if (values > tol).all():
        return "positive definite"
    if (values < -tol).all():
        return "negative definite"
    if (values >= -tol).all():
        return "positive semidefinite"
    if (values <= tol).all():
        return "negative semidefinite"
    return "indefinite"


@pytest.mark.parametrize("name", list(_matrices()))
def test_definiteness_matches_torch_eigenvalues(name):
    a = _matrices()[name]
    label = _expected_label(a)
    t = deepgrad.tensor(a)
    assert deepgrad.linalg.definiteness(t) == label
    assert deepgrad.linalg.is_positive_definite(t) is (label == "positive definite")
    assert deepgrad.linalg.is_negative_definite(t) is (label == "negative definite")
    assert deepgrad.linalg.is_positive_semidefinite(t) is (
        label in ("positive definite", "positive semidefinite"))
    assert deepgrad.linalg.is_negative_semidefinite(t) is (
        label in ("negative definite", "negative semidefinite") or name == "zero")


def test_definiteness_of_a_batch():
    matrices = _matrices()
    batch = np.stack([matrices["positive definite"], matrices["indefinite"]])
    assert deepgrad.linalg.definiteness(deepgrad.tensor(batch)) == [
        "positive definite", "indefinite"]
    flags = deepgrad.linalg.is_positive_definite(deepgrad.tensor(batch))
    assert flags.dtype.name == "bool" and flags.tolist() == [True, False]
