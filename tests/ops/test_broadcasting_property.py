"""Property test: for random broadcastable shape pairs, add/mul/maximum/where give torch's
values and gradients; for random non-broadcastable pairs they raise a RuntimeError that names
the op and both shapes."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import deepgrad

OPS = {
    "add": lambda lib, a, b: a + b,
    "mul": lambda lib, a, b: a * b,
    "maximum": lambda lib, a, b: lib.maximum(a, b),
    "where": lambda lib, a, b: lib.where(a > 0, a, b),
}


@st.composite
def broadcastable_pair(draw):
    """Two shapes that broadcast: drop leading dims of a common shape and set some to 1."""
    shape = draw(st.lists(st.integers(0, 4), min_size=0, max_size=4))
    pair = []
    for _ in range(2):
        lead = draw(st.integers(0, len(shape)))
        pair.append(tuple(1 if draw(st.booleans()) else s for s in shape[lead:]))
    return tuple(pair)


@st.composite
def clashing_pair(draw):
    """Two shapes with one aligned dim whose sizes differ and are both > 1."""
    a, b = draw(broadcastable_pair())
    a, b = list(a) or [2], list(b) or [3]
    position = draw(st.integers(1, min(len(a), len(b))))
    size = draw(st.integers(2, 5))
    a[-position] = size
    b[-position] = size + draw(st.integers(1, 3))
    return tuple(a), tuple(b)


def _run(lib, op, arrays, weights):
    tensors = [lib.tensor(a.copy(), requires_grad=True) for a in arrays]
    out = OPS[op](lib, *tensors)
    grads = lib.autograd.grad((out * lib.tensor(weights)).sum(), tensors, allow_unused=True)
    return out.detach().numpy(), [g.detach().numpy() for g in grads]


@pytest.mark.parametrize("op", list(OPS))
@settings(max_examples=40, deadline=None)
@given(shapes=broadcastable_pair(), seed=st.integers(0, 2**16))
def test_broadcastable_shapes_match_torch(op, shapes, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in shapes]
    out_shape = np.broadcast_shapes(*shapes)
    weights = rng.standard_normal(out_shape)
    expected, expected_grads = _run(torch, op, arrays, weights)
    actual, actual_grads = _run(deepgrad, op, arrays, weights)
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=1e-12)
    for a, e, array in zip(actual_grads, expected_grads, arrays, strict=True):
        assert a.shape == array.shape
        np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("op", list(OPS))
@settings(max_examples=25, deadline=None)
@given(shapes=clashing_pair(), grad=st.booleans())
def test_clashing_shapes_raise_naming_op_and_shapes(op, shapes, grad):
    a, b = (deepgrad.ones(s, requires_grad=grad) for s in shapes)
    with pytest.raises(RuntimeError) as info:
        OPS[op](deepgrad, a, b)
    message = str(info.value)
    name = "where" if op == "where" else op
    assert message.startswith(name), message
    for shape in shapes:
        assert str(tuple(shape)) in message, message
    with pytest.raises(RuntimeError):
        OPS[op](torch, *(torch.ones(s) for s in shapes))
