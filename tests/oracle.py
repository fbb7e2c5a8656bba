"""The shared torch-oracle harness: one op case runs the same code on deepgrad and torch.

An ``OpCase`` holds ``fn(lib, *tensors)`` where ``lib`` is either the ``deepgrad`` or the
``torch`` module, so one lambda states the op for both (``lambda lib, x: lib.exp(x)``).
``check_case`` feeds identical NumPy inputs to both and compares:
  1. forward values, shapes and dtypes;
  2. gradients of ``sum(out * c)`` with a random ``c`` (a plain ``.sum()`` hides transposes);
  3. second order: gradients of ``sum(grad * c2)`` taken through ``create_graph=True``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import torch

import deepgrad

DTYPES = {"float32": (np.float32, 1e-4, 1e-5), "float64": (np.float64, 1e-9, 1e-10)}


@dataclasses.dataclass
class OpCase:
    """One op under test.

    Args:
        name: test id.
        fn: ``fn(lib, *tensors)`` -> tensor or tuple of tensors, written once for both libs.
        shapes: list of input-shape tuples, one tuple of shapes per sample
            (e.g. ``[((3, 4), (4,)), ((), ())]`` for a binary op with broadcasting and 0-d).
        domain: (low, high) for uniform inputs, or a callable ``(rng, shape, dtype) -> array``.
        grad: compare first-order gradients.
        gradgrad: compare second-order gradients.
        dtypes: float dtypes to run.
        rtol, atol: override the dtype's default tolerances.
        int_inputs: positions of inputs that are integer index arrays, as
            ``{position: high}`` (values drawn in [0, high)), never differentiated.
        no_grad_inputs: positions of float inputs that get no requires_grad.
        numeric_gradgrad: also run deepgrad's own numerical ``gradgradcheck`` (float64,
            small inputs only) besides the comparison of second derivatives with torch.
    """

    name: str
    fn: Callable
    shapes: list
    domain: object = (-2.0, 2.0)
    grad: bool = True
    gradgrad: bool = True
    dtypes: tuple = ("float32", "float64")
    rtol: float | None = None
    atol: float | None = None
    int_inputs: dict = dataclasses.field(default_factory=dict)
    no_grad_inputs: tuple = ()
    numeric_gradgrad: bool = True

    def __str__(self) -> str:
        return self.name


def make_inputs(case: OpCase, shapes, dtype, seed=0):
    rng = np.random.default_rng(seed)
    arrays = []
    for i, shape in enumerate(shapes):
        if i in case.int_inputs:
            arrays.append(rng.integers(0, case.int_inputs[i], size=shape).astype(np.int64))
        elif isinstance(shape, np.ndarray):
            arrays.append(shape.copy())
        elif callable(case.domain):
            arrays.append(np.asarray(case.domain(rng, shape, dtype), dtype=dtype))
        else:
            low, high = case.domain
            arrays.append(rng.uniform(low, high, size=shape).astype(dtype))
    return arrays


def _tensors(lib, arrays, case, differentiable):
    out = []
    for i, a in enumerate(arrays):
        t = lib.tensor(a.copy()) if lib is torch else deepgrad.tensor(a.copy())
        if differentiable and a.dtype.kind == "f" and i not in case.no_grad_inputs:
            t.requires_grad_(True)
        out.append(t)
    return out


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def to_numpy(t):
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy()
    return np.asarray(t.detach().numpy())


def assert_close(actual, expected, rtol, atol, what=""):
    """Compare a deepgrad tensor with a torch tensor: shape, dtype name, values."""
    a, e = to_numpy(actual), to_numpy(expected)
    assert tuple(actual.shape) == tuple(expected.shape), (
        f"{what}: shape {tuple(actual.shape)} != torch {tuple(expected.shape)}")
    assert actual.dtype.name == str(expected.dtype).replace("torch.", ""), (
        f"{what}: dtype {actual.dtype.name} != torch {expected.dtype}")
    np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)


def check_case(case: OpCase, shapes, dtype_name: str, seed: int = 0):
    """Run ``case`` on one set of input shapes in one dtype against torch."""
    np_dtype, rtol, atol = DTYPES[dtype_name]
    rtol = case.rtol if case.rtol is not None and dtype_name == "float32" else rtol
    atol = case.atol if case.atol is not None and dtype_name == "float32" else atol
    arrays = make_inputs(case, shapes, np_dtype, seed)
    differentiable = case.grad
    t_in = _tensors(torch, arrays, case, differentiable)
    d_in = _tensors(deepgrad, arrays, case, differentiable)
    t_out = _as_tuple(case.fn(torch, *t_in))
    d_out = _as_tuple(case.fn(deepgrad, *d_in))
    assert len(t_out) == len(d_out), f"{case.name}: {len(d_out)} outputs, torch {len(t_out)}"
    for i, (d, t) in enumerate(zip(d_out, t_out)):
        assert_close(d, t, rtol, atol, f"{case.name} output {i} {dtype_name} {shapes}")
    if not differentiable:
        return
    wanted = [i for i, t in enumerate(t_in) if t.requires_grad]
    outs = [i for i, t in enumerate(t_out) if t.requires_grad]
    if not wanted or not outs:
        return
    rng = np.random.default_rng(seed + 1)
    weights = [rng.standard_normal(t_out[i].shape).astype(to_numpy(t_out[i]).dtype)
               for i in outs]
    t_loss = sum((t_out[i] * torch.tensor(w)).sum() for i, w in zip(outs, weights))
    d_loss = sum((d_out[i] * deepgrad.tensor(w)).sum() for i, w in zip(outs, weights))
    create = case.gradgrad
    t_grads = torch.autograd.grad(t_loss, [t_in[i] for i in wanted], create_graph=create,
                                  allow_unused=True)
    # First order twice: without create_graph (the engine's array path, ``raw_backward``)
    # and with it (the differentiable Tensor-level ``backward``); both must equal torch's.
    d_first = deepgrad.autograd.grad(d_loss, [d_in[i] for i in wanted], retain_graph=True,
                                     allow_unused=True) if create else None
    d_grads = deepgrad.autograd.grad(d_loss, [d_in[i] for i in wanted], create_graph=create,
                                     allow_unused=True)
    for path, grads in (("array path", d_first), ("", d_grads)):
        if grads is None:
            continue
        for i, d, t in zip(wanted, grads, t_grads):
            if t is None:
                assert d is None or np.allclose(to_numpy(d), 0), \
                    f"{case.name}: grad {i} not None {path}"
                continue
            assert d is not None, f"{case.name}: deepgrad gave no gradient for input {i} {path}"
            assert_close(d, t, rtol * 10, atol * 10,
                         f"{case.name} grad of input {i} {dtype_name} {path}")
    if not create:
        return
    pairs = [(d, t) for d, t in zip(d_grads, t_grads)
             if t is not None and t.requires_grad and d is not None]
    if not pairs:
        return
    weights2 = [rng.standard_normal(t.shape).astype(to_numpy(t).dtype) for _, t in pairs]
    t_loss2 = sum((t * torch.tensor(w)).sum() for (_, t), w in zip(pairs, weights2))
    d_loss2 = sum((d * deepgrad.tensor(w)).sum() for (d, _), w in zip(pairs, weights2))
    if not d_loss2.requires_grad:
        raise AssertionError(f"{case.name}: first gradient is not differentiable "
                             "(backward not written with deepgrad ops?)")
    finite = all(np.isfinite(to_numpy(d)).all() for d in d_out)
    if dtype_name == "float64" and case.numeric_gradgrad and finite:
        _numeric_gradgrad(case, arrays, wanted)
    t_gg = torch.autograd.grad(t_loss2, [t_in[i] for i in wanted], allow_unused=True)
    d_gg = deepgrad.autograd.grad(d_loss2, [d_in[i] for i in wanted], allow_unused=True)
    for i, d, t in zip(wanted, d_gg, t_gg):
        if t is None:
            assert d is None or np.allclose(to_numpy(d), 0), f"{case.name}: gradgrad {i}"
            continue
        assert d is not None, f"{case.name}: no second-order gradient for input {i}"
        assert_close(d, t, rtol * 100, atol * 100,
                     f"{case.name} second-order grad of input {i} {dtype_name}")


NUMERIC_GRADGRAD_MAX_ELEMENTS = 24  # central differences cost two evaluations per element


def _numeric_gradgrad(case, arrays, wanted):
    """deepgrad's own float64 ``gradgradcheck`` on small inputs (the numerical check that
    needs no oracle); non-differentiable inputs are closed over as constants."""
    if sum(arrays[i].size for i in wanted) > NUMERIC_GRADGRAD_MAX_ELEMENTS:
        return
    if not all(np.isfinite(a).all() for a in arrays):
        return
    constants = [deepgrad.tensor(a.copy()) for a in arrays]
    variables = [deepgrad.tensor(arrays[i].copy(), requires_grad=True) for i in wanted]

    def fn(*xs):
        full = list(constants)
        for i, x in zip(wanted, xs):
            full[i] = x
        outs = _as_tuple(case.fn(deepgrad, *full))
        return tuple(o for o in outs if o.requires_grad)

    assert deepgrad.autograd.gradgradcheck(fn, variables, atol=1e-5, rtol=1e-3), case.name


def case_params(cases):
    """pytest parameters: one per (case, shapes, dtype)."""
    import pytest  # noqa: PLC0415

    params = []
    for case in cases:
        for k, shapes in enumerate(case.shapes):
            for dtype_name in case.dtypes:
                params.append(pytest.param(case, shapes, dtype_name,
                                           id=f"{case.name}-{k}-{dtype_name}"))
    return params
