"""In-place fills (zero_, fill_, copy_) and random fills (uniform_, normal_, bernoulli_,
exponential_, bernoulli): values and dtypes against torch, gradients through fill_/copy_,
the leaf-requires-grad rule, and reproducibility under manual_seed."""

import numpy as np
import pytest
import torch

import deepgrad
from oracle import assert_close


def test_zero_and_fill():
    for dtype in (np.float32, np.int64, np.bool_):
        values = np.array([[1, 0, 3], [4, 5, 6]]).astype(dtype)
        d, t = deepgrad.tensor(values), torch.tensor(values)
        assert d.zero_() is d
        t.zero_()
        assert_close(d, t, 0, 0, "zero_")
        for value in (2.5, 3, True, deepgrad.tensor(1.5)):
            d.fill_(value)
            t.fill_(torch.tensor(1.5) if isinstance(value, deepgrad.Tensor) else value)
            assert_close(d, t, 0, 0, f"fill_ {value!r}")


def test_fill_refuses_a_dimensioned_value():
    for lib in (torch, deepgrad):
        with pytest.raises(RuntimeError, match="0-dimension"):
            lib.zeros(2).fill_(lib.ones(1))


def test_copy_broadcasts_and_casts():
    for src in (np.array([1, 2, 3]), np.array([[1.5], [2.5]]), np.array(7.9),
                np.array([True, False, True])):
        for dtype in (np.float32, np.int32, np.float64):
            d, t = deepgrad.zeros(2, 3, dtype=getattr(deepgrad, np.dtype(dtype).name)), \
                torch.zeros(2, 3, dtype=getattr(torch, np.dtype(dtype).name))
            assert d.copy_(deepgrad.tensor(src)) is d
            t.copy_(torch.tensor(src))
            assert_close(d, t, 0, 0, f"copy_ {src.dtype} -> {dtype}")


def test_copy_shape_error_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"copy_.*\(2,\).*\(2, 2\)"):
        deepgrad.zeros(2).copy_(deepgrad.ones(2, 2))
    with pytest.raises(RuntimeError):
        torch.zeros(2).copy_(torch.ones(2, 2))


def test_fill_and_copy_are_differentiable_like_torch():
    grads = []
    for lib in (torch, deepgrad):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        value = lib.tensor(3.0, requires_grad=True)
        src = lib.tensor([[0.5], [1.5]], requires_grad=True)
        y = x * 2
        y.fill_(value)
        z = (lib.zeros(2, 3) + x).clone()
        z.copy_(src)
        w = x * 1
        w.zero_()
        loss = (y * lib.tensor([1.0, 2.0, 3.0])).sum() + (z * z).sum() + w.sum()
        assert y.requires_grad and z.requires_grad and w.requires_grad
        grads.append([g.detach().numpy() for g in lib.autograd.grad(loss, [x, value, src])])
    for d, t in zip(grads[1], grads[0], strict=True):
        np.testing.assert_allclose(d, t)


def test_copy_into_float64_gives_src_a_float32_gradient():
    src = deepgrad.tensor([1.0, 2.0], requires_grad=True)
    y = deepgrad.zeros(2, dtype=deepgrad.float64) * deepgrad.tensor(1.0, requires_grad=True)
    y.copy_(src)
    y.sum().backward()
    assert src.grad.dtype == deepgrad.float32 and src.grad.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("call", [
    lambda t: t.zero_(), lambda t: t.fill_(1), lambda t: t.copy_(deepgrad.ones(2)),
    lambda t: t.uniform_(), lambda t: t.normal_(), lambda t: t.bernoulli_(),
    lambda t: t.exponential_(),
])
def test_leaf_requiring_grad_refused_unless_no_grad(call):
    x = deepgrad.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        call(x)
    with deepgrad.no_grad():  # parameter initialisation: a plain write
        assert call(x) is x
    assert x.requires_grad and x.grad_fn is None


@pytest.mark.parametrize("name,args", [("uniform_", (-2.0, 3.0)), ("normal_", (1.0, 0.5)),
                                       ("bernoulli_", (0.3,)), ("exponential_", (2.0,))])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_random_fills_are_reproducible_and_keep_dtype(name, args, dtype):
    def draw(**kwargs):
        t = deepgrad.empty(2000, dtype=getattr(deepgrad, dtype))
        return getattr(t, name)(*args, **kwargs)

    deepgrad.manual_seed(3)
    first = draw()
    deepgrad.manual_seed(3)
    second = draw()
    assert first.dtype.name == dtype
    np.testing.assert_array_equal(first.numpy(), second.numpy())
    generator = deepgrad.Generator().manual_seed(3)
    third = draw(generator=generator)
    np.testing.assert_array_equal(third.numpy(),
                                  draw(generator=deepgrad.Generator().manual_seed(3)).numpy())


def test_random_fill_statistics():
    deepgrad.manual_seed(0)
    n = 200_000
    u = deepgrad.empty(n, dtype=deepgrad.float64).uniform_(-2, 3).numpy()
    assert u.min() >= -2 and u.max() < 3 and abs(u.mean() - 0.5) < 0.02
    u = deepgrad.empty(n).uniform_(**{"from": 1.0, "to": 2.0}).numpy()  # torch's keywords
    assert u.min() >= 1 and u.max() <= 2  # float32 rounding may reach the bound, as torch
    g = deepgrad.empty(n).normal_(1.0, 0.5).numpy()
    assert abs(g.mean() - 1.0) < 0.01 and abs(g.std() - 0.5) < 0.01
    e = deepgrad.empty(n).exponential_(2.0).numpy()
    assert e.min() >= 0 and abs(e.mean() - 0.5) < 0.01
    b = deepgrad.empty(n).bernoulli_(0.3).numpy()
    assert set(np.unique(b)) <= {0.0, 1.0} and abs(b.mean() - 0.3) < 0.01
    p = deepgrad.tensor([0.0, 1.0, 0.0, 1.0])
    assert deepgrad.empty(4).bernoulli_(p).tolist() == [0.0, 1.0, 0.0, 1.0]
    assert deepgrad.bernoulli(p).tolist() == [0.0, 1.0, 0.0, 1.0]
    assert deepgrad.zeros(4, dtype=deepgrad.int64).bernoulli_(1.0).tolist() == [1, 1, 1, 1]


def test_bernoulli_out_of_place_as_torch():
    probs = deepgrad.tensor([0.5, 0.5], requires_grad=True)
    sample = deepgrad.bernoulli(probs)
    assert sample.dtype == deepgrad.float32 and sample.requires_grad  # as torch
    sample.sum().backward()
    assert probs.grad.tolist() == [0.0, 0.0]
    for lib in (torch, deepgrad):
        with pytest.raises(RuntimeError):
            lib.bernoulli(lib.tensor([1.5]))
        with pytest.raises(RuntimeError):
            lib.tensor([0.5]).bernoulli_(lib.tensor([2.0]))


def test_random_fills_refuse_integer_tensors_as_torch():
    for lib in (torch, deepgrad):
        with pytest.raises(NotImplementedError):
            lib.tensor([1, 2]).uniform_()


def test_fill_bumps_the_version_counter():
    x = deepgrad.zeros(3)
    version = x._version
    x.fill_(1).zero_().uniform_()
    assert x._version == version + 3
