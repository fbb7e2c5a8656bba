"""Property test: random shapes and random indexing keys (ints, slices with steps, None,
Ellipsis, 0-d index tensors, integer arrays as lists or tensors, bool masks) give torch's
values and gradients for ``x[key]`` and for ``y[key] = value`` inside a graph; keys torch
rejects are rejected with the same exception class."""

import warnings

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import deepgrad
from oracle import assert_close

KINDS = ["int", "slice", "none", "ellipsis", "array", "mask", "int0d"]


@st.composite
def shapes_and_keys(draw):
    """A shape and a torch-style key description valid for it (or, rarely, invalid in the
    way torch rejects: index arrays that do not broadcast together)."""
    ndim = draw(st.integers(0, 4))
    shape = tuple(draw(st.lists(st.integers(0, 4), min_size=ndim, max_size=ndim)))
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=6))
    # decide how many dims each item consumes, within the tensor's ndim
    budget, items, seen_ellipsis = ndim, [], False
    for kind in kinds:
        if kind == "ellipsis":
            if not seen_ellipsis:
                seen_ellipsis = True
                items.append([kind, 0])
            continue
        if kind == "none":
            items.append([kind, 0])
        elif kind == "mask":
            if budget:
                take = draw(st.integers(1, budget))
                budget -= take
                items.append([kind, take])
        elif budget:
            budget -= 1
            items.append([kind, 1])
    # which dim each consuming item starts at (items after ``...`` index the last dims)
    split = next((i for i, item in enumerate(items) if item[0] == "ellipsis"), len(items))
    after = sum(item[1] for item in items[split:])
    position = 0
    for i, item in enumerate(items):
        if i == split:
            position = ndim - after
        item.append(position)
        position += item[1]
    adv_length = draw(st.integers(1, 3))
    adv_rows = draw(st.sampled_from([None, 1, 2]))
    key = []
    for kind, count, dim in items:
        size = shape[dim] if count else None
        if kind in ("int", "int0d", "array") and size == 0:
            kind = "slice"
        if kind in ("int", "int0d"):
            key.append((kind, draw(st.integers(-size, size - 1))))
        elif kind == "slice":
            bound = st.one_of(st.none(), st.integers(-size - 2, size + 2))
            key.append(("slice", slice(draw(bound), draw(bound),
                                       draw(st.sampled_from([None, 1, 2, 3])))))
        elif kind == "array":
            # arrays share a broadcastable shape: (L,) or (rows, L)
            own_shape = (adv_length,) if adv_rows is None or draw(st.booleans()) else (
                adv_rows, adv_length)
            values = draw(st.lists(st.integers(-size, size - 1), min_size=int(np.prod(
                own_shape)), max_size=int(np.prod(own_shape))))
            style = draw(st.sampled_from(["tensor", "list"]))
            key.append((style, np.array(values, dtype=np.int64).reshape(own_shape)))
        elif kind == "mask":
            mask_shape = shape[dim:dim + count]
            bits = draw(st.lists(st.booleans(), min_size=int(np.prod(mask_shape)),
                                 max_size=int(np.prod(mask_shape))))
            key.append(("tensor", np.array(bits, dtype=bool).reshape(mask_shape)))
        else:
            key.append((kind, None))
    as_tuple = len(key) != 1 or draw(st.booleans())
    return shape, key, as_tuple


def build_key(lib, key, as_tuple):
    built = []
    for kind, value in key:
        if kind == "int":
            built.append(value)
        elif kind == "int0d":
            built.append(lib.tensor(value))
        elif kind == "slice":
            built.append(value)
        elif kind == "none":
            built.append(None)
        elif kind == "ellipsis":
            built.append(Ellipsis)
        elif kind == "tensor":
            built.append(lib.tensor(value))
        else:
            built.append(value.tolist())
    return tuple(built) if as_tuple else built[0]


def _run(lib, fn):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(lib), None
    except (IndexError, RuntimeError, ValueError, TypeError) as error:
        return None, error


PROPERTY_SETTINGS = settings(max_examples=250, deadline=None,
                             suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(shapes_and_keys(), st.integers(0, 2**31 - 1))
def test_getitem_matches_torch(case, seed):
    shape, key, as_tuple = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)

    def forward(lib):
        x_in = lib.tensor(x, requires_grad=True)
        return x_in, x_in[build_key(lib, key, as_tuple)]

    expected, t_error = _run(torch, forward)
    got, d_error = _run(deepgrad, forward)
    if t_error is not None:
        assert d_error is not None, f"torch raised {t_error!r}, deepgrad did not"
        assert isinstance(d_error, type(t_error)), (d_error, t_error)
        return
    assert d_error is None, f"deepgrad raised {d_error!r}, torch did not"
    (t_x, t_out), (d_x, d_out) = expected, got
    assert_close(d_out, t_out, 0, 0, f"x{shape}[{key}]")
    weights = rng.standard_normal(tuple(t_out.shape))
    (t_out * torch.tensor(weights)).sum().backward()
    (d_out * deepgrad.tensor(weights)).sum().backward()
    assert_close(d_x.grad, t_x.grad, 1e-12, 1e-12, f"grad of x{shape}[{key}]")


@PROPERTY_SETTINGS
@given(shapes_and_keys(), st.integers(0, 2**31 - 1), st.booleans())
def test_setitem_in_graph_matches_torch(case, seed, scalar):
    shape, key, as_tuple = case
    if any(kind in ("tensor", "list") and value.dtype.kind != "b" for kind, value in key):
        # torch leaves the winner of duplicate writes unspecified: keep written positions unique
        for kind, value in key:
            if kind in ("tensor", "list") and value.dtype.kind != "b" and value.size > 1:
                return
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            target_shape = tuple(torch.zeros(shape)[build_key(torch, key, as_tuple)].shape)
        except (IndexError, RuntimeError, ValueError):
            return  # invalid keys are covered by the getitem property
    value = rng.standard_normal(target_shape)

    def forward(lib):
        x_in = lib.tensor(x, requires_grad=True)
        v_in = lib.tensor(value, requires_grad=True)
        y = x_in * 2
        y[build_key(lib, key, as_tuple)] = 0.5 if scalar else v_in * 3
        return x_in, v_in, y

    (t_x, t_v, t_y), t_error = _run(torch, forward)
    got, d_error = _run(deepgrad, forward)
    assert t_error is None and d_error is None, (t_error, d_error)
    d_x, d_v, d_y = got
    assert_close(d_y, t_y, 0, 0, f"y{shape}[{key}] = v")
    weights = rng.standard_normal(shape)
    (t_y * torch.tensor(weights)).sum().backward()
    (d_y * deepgrad.tensor(weights)).sum().backward()
    assert_close(d_x.grad, t_x.grad, 1e-12, 1e-12, "grad of x")
    if not scalar:
        assert_close(d_v.grad, t_v.grad, 1e-12, 1e-12, "grad of value")
