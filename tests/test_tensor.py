"""Tensor creation, dtype inference, attributes, conversions, seeding and repr, each checked
against torch doing the same thing."""

import numpy as np
import pytest
import torch

import deepgrad

LIBS = (deepgrad, torch)


def dtype_name(t) -> str:
    return str(t.dtype).replace("torch.", "").replace("deepgrad.", "")


def assert_same(d, t, rtol=1e-6, atol=1e-7):
    """Same shape, dtype and values (deepgrad tensor vs torch tensor)."""
    assert tuple(d.shape) == tuple(t.shape), f"shape {tuple(d.shape)} != {tuple(t.shape)}"
    assert dtype_name(d) == dtype_name(t), f"dtype {dtype_name(d)} != {dtype_name(t)}"
    np.testing.assert_allclose(d.detach().numpy().astype(np.float64),
                               t.detach().numpy().astype(np.float64), rtol=rtol, atol=atol)


def both(fn):
    return fn(deepgrad), fn(torch)


@pytest.fixture
def default_dtype_restored():
    yield
    deepgrad.set_default_dtype(deepgrad.float32)
    torch.set_default_dtype(torch.float32)


# ---------------------------------------------------------------- creation

CREATION = {
    "tensor_nested": lambda lib: lib.tensor([[1, 2], [3, 4]]),
    "tensor_float_list": lambda lib: lib.tensor([1.5, -2.0]),
    "tensor_mixed": lambda lib: lib.tensor([1, 2.5]),
    "tensor_bool": lambda lib: lib.tensor([True, False]),
    "tensor_bool_int": lambda lib: lib.tensor([True, 1]),
    "tensor_scalar_int": lambda lib: lib.tensor(3),
    "tensor_scalar_float": lambda lib: lib.tensor(3.5),
    "tensor_empty": lambda lib: lib.tensor([]),
    "tensor_dtype": lambda lib: lib.tensor([1, 2], dtype=lib.float64),
    "tensor_np_float64": lambda lib: lib.tensor(np.array([1.0, 2.0])),
    "tensor_np_int32": lambda lib: lib.tensor(np.array([1, 2], dtype=np.int32)),
    "tensor_np_uint8": lambda lib: lib.tensor(np.array([1, 255], dtype=np.uint8)),
    "tensor_np_float16": lambda lib: lib.tensor(np.array([0.5], dtype=np.float16)),
    "tensor_np_bool": lambda lib: lib.tensor(np.array([True])),
    "tensor_np_scalar": lambda lib: lib.tensor(np.float64(1.5)),
    "tensor_np_0d": lambda lib: lib.tensor(np.array(2.0)),
    "as_tensor_list": lambda lib: lib.as_tensor([1, 2, 3]),
    "as_tensor_dtype": lambda lib: lib.as_tensor([1, 2, 3], dtype=lib.float32),
    "zeros": lambda lib: lib.zeros(2, 3),
    "zeros_tuple": lambda lib: lib.zeros((2, 3), dtype=lib.int64),
    "ones": lambda lib: lib.ones(4),
    "ones_scalar_shape": lambda lib: lib.ones(()),
    "full_float": lambda lib: lib.full((2, 2), 1.5),
    "full_int": lambda lib: lib.full((2,), 7),
    "full_bool": lambda lib: lib.full((2,), True),
    "full_dtype": lambda lib: lib.full((3,), 2, dtype=lib.float64),
    "arange_int": lambda lib: lib.arange(5),
    "arange_start_end": lambda lib: lib.arange(2, 9, 3),
    "arange_negative_step": lambda lib: lib.arange(5, 0, -1),
    "arange_negative_range": lambda lib: lib.arange(-3, 3, 2),
    "arange_float": lambda lib: lib.arange(0, 1, 0.1),
    "arange_float_negative_step": lambda lib: lib.arange(1.0, 0.0, -0.25),
    "arange_float_dtype": lambda lib: lib.arange(10, dtype=lib.float32),
    "arange_empty": lambda lib: lib.arange(0),
    "linspace": lambda lib: lib.linspace(0, 1, 5),
    "linspace_one": lambda lib: lib.linspace(-1, 1, 1),
    "linspace_zero": lambda lib: lib.linspace(0, 10, 0),
    "linspace_dtype": lambda lib: lib.linspace(0, 1, 4, dtype=lib.float64),
    "eye": lambda lib: lib.eye(3),
    "eye_rect": lambda lib: lib.eye(2, 3),
    "zeros_like": lambda lib: lib.zeros_like(lib.tensor([[1, 2]])),
    "ones_like_dtype": lambda lib: lib.ones_like(lib.tensor([1, 2]), dtype=lib.float64),
    "full_like": lambda lib: lib.full_like(lib.tensor([1.0, 2.0]), 3.5),
}


@pytest.mark.parametrize("name", sorted(CREATION))
def test_creation_matches_torch(name):
    assert_same(*both(CREATION[name]))


def test_empty_has_shape_and_dtype():
    for lib in LIBS:
        x = lib.empty(2, 3, dtype=lib.float64)
        assert tuple(x.shape) == (2, 3) and dtype_name(x) == "float64"
        assert tuple(lib.empty_like(lib.ones(4)).shape) == (4,)


def test_from_numpy_shares_memory_both_ways():
    array = np.array([1.0, 2.0, 3.0])
    t = deepgrad.from_numpy(array)
    array[0] = 10.0
    assert t.tolist()[0] == 10.0
    t.mul_(2)
    assert array.tolist() == [20.0, 4.0, 6.0]
    assert dtype_name(t) == "float64"
    assert t.numpy() is array or np.shares_memory(t.numpy(), array)


def test_as_tensor_shares_numpy_memory_when_no_cast():
    array = np.array([1, 2, 3], dtype=np.int64)
    t = deepgrad.as_tensor(array)
    array[1] = 5
    assert t.tolist() == [1, 5, 3]
    u = deepgrad.tensor(array)  # tensor() always copies
    array[1] = 7
    assert u.tolist() == [1, 5, 3]


def test_like_functions_keep_dtype():
    for lib in LIBS:
        base = lib.tensor([1, 2], dtype=lib.int32)
        for fn in (lib.zeros_like, lib.ones_like, lib.empty_like):
            out = fn(base)
            assert dtype_name(out) == "int32" and tuple(out.shape) == (2,)


def test_requires_grad_at_creation():
    for lib in LIBS:
        x = lib.zeros(2, requires_grad=True)
        assert x.requires_grad and x.is_leaf and x.grad is None and x.grad_fn is None


# ---------------------------------------------------------------- dtypes

def test_default_dtype_changes_float_inference(default_dtype_restored):
    for lib in LIBS:
        lib.set_default_dtype(lib.float64)
    for make in (lambda lib: lib.tensor([1.5]), lambda lib: lib.zeros(2),
                 lambda lib: lib.arange(0.0, 1.0, 0.5), lambda lib: lib.tensor([1, 2])):
        d, t = both(make)
        assert_same(d, t)
    assert deepgrad.get_default_dtype() is deepgrad.float64
    deepgrad.set_default_dtype(deepgrad.float32)
    assert dtype_name(deepgrad.tensor([1.5])) == "float32"


def test_set_default_dtype_rejects_integer_types():
    for lib in LIBS:
        with pytest.raises(TypeError):
            lib.set_default_dtype(lib.int64)


def test_dtype_conversions():
    source = np.array([1.7, -2.2, 0.0], dtype=np.float32)
    for method in ("float", "double", "long", "int", "bool", "half"):
        d, t = both(lambda lib, m=method: getattr(lib.tensor(source.copy()), m)())
        assert_same(d, t, rtol=1e-3)


def test_to_dtype_device_and_type_as():
    def run(lib):
        x = lib.tensor([1.5, 2.5])
        return (x.to(lib.float64), x.to("cpu"), x.to("cpu", lib.int64),
                x.type_as(lib.tensor([1], dtype=lib.int32)), x.to(dtype=lib.float16))

    for d, t in zip(*both(run), strict=True):
        assert_same(d, t, rtol=1e-3)
    x = deepgrad.tensor([1.0])
    assert x.to(deepgrad.float32) is x  # no-op conversions return the tensor itself
    assert x.to("cpu") is x


def test_to_keeps_the_graph():
    def run(lib):
        x = lib.tensor([1.5, 2.5], requires_grad=True)
        (x.to(lib.float64) * 2).sum().backward()
        return x.grad

    assert_same(*both(run))


# ---------------------------------------------------------------- attributes

def test_shape_size_dim_numel():
    for lib in LIBS:
        x = lib.zeros(2, 3, 4)
        assert x.shape == (2, 3, 4) and x.size() == (2, 3, 4)
        assert x.size(1) == 3 and x.size(-1) == 4
        assert x.dim() == x.ndim == 3 and x.numel() == 24
        assert isinstance(x.shape, tuple)
        with pytest.raises(IndexError):
            x.size(3)
    assert repr(deepgrad.zeros(2, 3).shape) == "deepgrad.Size([2, 3])"


def test_device_and_is_leaf():
    for lib in LIBS:
        x = lib.ones(2, requires_grad=True)
        y = x * 2
        assert str(x.device) == "cpu" and x.device.type == "cpu"
        assert x.is_leaf and not y.is_leaf
        assert lib.ones(2).is_leaf


def test_transposes():
    array = np.arange(6.0).reshape(2, 3)
    batched = np.arange(24.0).reshape(2, 3, 4)
    for get in (lambda lib: lib.tensor(array).T, lambda lib: lib.tensor(array).mT,
                lambda lib: lib.tensor(batched).mT):
        assert_same(*both(get))


def test_item_and_tolist():
    for lib in LIBS:
        assert lib.tensor(2.5).item() == 2.5 and isinstance(lib.tensor(3).item(), int)
        assert lib.tensor([[1, 2]]).tolist() == [[1, 2]]
        assert lib.tensor([True]).tolist() == [True]
        assert lib.tensor([[4.0]]).item() == 4.0
        with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
            lib.tensor([1, 2]).item()


def test_numpy_conversion_and_requires_grad_error():
    for lib in LIBS:
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="Use tensor.detach\\(\\).numpy\\(\\)"):
            x.numpy()
        out = x.detach().numpy()
        assert isinstance(out, np.ndarray) and out.dtype == np.float32


def test_clone_detach_contiguous():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        c = x.clone()
        d = x.detach()
        d.add_(1)  # detach shares storage with x
        (c * c).sum().backward()
        k = lib.tensor(np.arange(6.0).reshape(2, 3)).T.contiguous()
        return (c.requires_grad, c.is_leaf, d.requires_grad, d.is_leaf, x.grad,
                x.detach(), k.is_contiguous(), k)

    d, t = both(run)
    for a, b in zip(d, t, strict=True):
        if isinstance(b, torch.Tensor):
            assert_same(a, b)
        else:
            assert a == b


def test_requires_grad_toggle_and_integer_error():
    for lib in LIBS:
        x = lib.zeros(2)
        assert x.requires_grad_() is x and x.requires_grad
        x.requires_grad_(False)
        assert not x.requires_grad
        with pytest.raises(RuntimeError, match="only Tensors of floating point"):
            lib.ones(2, dtype=lib.int64).requires_grad_()
        y = lib.ones(2, requires_grad=True) * 2
        with pytest.raises(RuntimeError, match="leaf variables"):
            y.requires_grad = False


# ---------------------------------------------------------------- random numbers

RANDOM = {
    "rand": lambda: deepgrad.rand(3, 4),
    "randn": lambda: deepgrad.randn(2, 5),
    "randint": lambda: deepgrad.randint(0, 10, (6,)),
    "randint_low_only": lambda: deepgrad.randint(5, (3,)),
    "randperm": lambda: deepgrad.randperm(8),
    "rand_like": lambda: deepgrad.rand_like(deepgrad.zeros(3)),
    "randn_like": lambda: deepgrad.randn_like(deepgrad.zeros(3, dtype=deepgrad.float64)),
}


@pytest.mark.parametrize("name", sorted(RANDOM))
def test_manual_seed_makes_random_functions_reproducible(name):
    deepgrad.manual_seed(123)
    first = RANDOM[name]().tolist()
    second = RANDOM[name]().tolist()
    deepgrad.manual_seed(123)
    assert RANDOM[name]().tolist() == first
    assert second != first  # the stream moves on


def test_random_shapes_dtypes_and_ranges_match_torch():
    torch.manual_seed(0)
    deepgrad.manual_seed(0)
    pairs = [(deepgrad.rand(500), torch.rand(500)), (deepgrad.randn(3, 4), torch.randn(3, 4)),
             (deepgrad.randint(2, 5, (400,)), torch.randint(2, 5, (400,))),
             (deepgrad.randperm(6), torch.randperm(6)),
             (deepgrad.rand(2, dtype=deepgrad.float64), torch.rand(2, dtype=torch.float64))]
    for d, t in pairs:
        assert tuple(d.shape) == tuple(t.shape) and dtype_name(d) == dtype_name(t)
    u = pairs[0][0].numpy()
    assert u.min() >= 0 and u.max() < 1
    assert set(pairs[2][0].tolist()) == set(pairs[2][1].tolist()) == {2, 3, 4}
    assert sorted(pairs[3][0].tolist()) == list(range(6))


def test_generator_is_independent_and_reproducible():
    gen = deepgrad.Generator().manual_seed(7)
    a = deepgrad.randn(4, generator=gen).tolist()
    deepgrad.manual_seed(0)
    gen.manual_seed(7)
    deepgrad.randn(10)  # the default stream does not disturb the generator
    assert deepgrad.randn(4, generator=gen).tolist() == a
    state = gen.get_state()
    b = deepgrad.rand(3, generator=gen).tolist()
    gen.set_state(state)
    assert deepgrad.rand(3, generator=gen).tolist() == b
    assert gen.initial_seed() == 7


# ---------------------------------------------------------------- repr

REPR_CASES = {
    "floats": np.array([1.5, 2.0, -3.25], np.float32),
    "ints": np.array([1, 20, -300]),
    "bools": np.array([True, False]),
    "scalar_float": np.array(3.14159, np.float32),
    "scalar_int": np.array(7),
    "scalar_int32": np.array(7, np.int32),
    "scalar_tiny": np.array(1e-7, np.float32),
    "scalar_nan": np.array(np.nan, np.float32),
    "empty": np.zeros((0,), np.float32),
    "empty_2d": np.zeros((2, 0), np.float32),
    "empty_int": np.zeros((0,), np.int64),
    "matrix": np.arange(6, dtype=np.float32).reshape(2, 3) / 7,
    "cube": np.arange(12, dtype=np.float32).reshape(2, 3, 2),
    "four_d": np.zeros((2, 1, 2, 2), np.float32),
    "wide_range_sci": np.array([1e-5, 1.0, 1e5], np.float32),
    "big_sci": np.array([1e10, 2.0], np.float32),
    "small_sci": np.array([1e-6, 2e-6], np.float32),
    "integer_valued_floats": np.array([1.0, 100.0, -5.0], np.float32),
    "integer_valued_1e7": np.array([1e7, 1.0], np.float32),
    "float64": np.array([1.5, 2.25]),
    "float16": np.array([1.5, 2.25], np.float16),
    "int32": np.array([1, 2], np.int32),
    "uint8": np.array([1, 2], np.uint8),
    "nonfinite": np.array([np.nan, np.inf, -np.inf, 1.5], np.float32),
    "negative_zero": np.array([-0.0, 0.0], np.float32),
    "row_wraps": np.linspace(-1, 1, 10).astype(np.float32),
    "wide_row_wraps": np.linspace(-1000, 1000, 25).astype(np.float32),
    "summarized": np.arange(2000, dtype=np.float32),
    "summarized_int": np.arange(1500),
    "summarized_matrix": np.arange(3000, dtype=np.float32).reshape(1000, 3),
    "complex": np.array([1 + 2j, 3 - 1j, 0.5 + 0j], np.complex64),
    "complex128_matrix": np.array([[1.123456 + 2j, 300 - 1j]], np.complex128),
    "complex_scalar": np.array(2 - 3.5j, np.complex64),
    "complex_sci_and_signed_zero": np.array([1e-5 + 1e6j, -0.0 - 0.0j, np.nan + 1j],
                                            np.complex64),
    "complex_summarized": (np.arange(2000) * (1 + 1j)).astype(np.complex64),
}


def torch_repr(t) -> str:
    return repr(t).replace("torch.", "deepgrad.")


@pytest.mark.parametrize("name", sorted(REPR_CASES))
def test_repr_matches_torch(name):
    array = REPR_CASES[name]
    assert repr(deepgrad.tensor(array)) == torch_repr(torch.tensor(array))
    assert str(deepgrad.tensor(array)) == torch_repr(torch.tensor(array))


@pytest.mark.parametrize("name", ["floats", "scalar_float", "empty", "matrix", "wide_row_wraps"])
def test_repr_with_requires_grad_and_dtype_suffixes(name):
    array = REPR_CASES[name]
    for dtype in ("float32", "float64"):
        d = deepgrad.tensor(array, dtype=getattr(deepgrad, dtype), requires_grad=True)
        t = torch.tensor(array, dtype=getattr(torch, dtype), requires_grad=True)
        assert repr(d) == torch_repr(t)


def test_repr_with_grad_fn_ignoring_the_node_name():
    d = deepgrad.tensor([1.0, 2.0], requires_grad=True) * 2
    t = torch.tensor([1.0, 2.0], requires_grad=True) * 2
    strip = lambda s: s.split(", grad_fn=")[0]  # noqa: E731 - names differ by design
    assert strip(repr(d)) == strip(torch_repr(t))
    assert repr(d).endswith(f"grad_fn=<{d.grad_fn.name()}>)")


def test_repr_under_default_float64(default_dtype_restored):
    deepgrad.set_default_dtype(deepgrad.float64)
    torch.set_default_dtype(torch.float64)
    for array in (np.array([1.5], np.float32), np.array([1.5]), np.zeros(0),
                  np.array([1 + 1j], np.complex64), np.array([1 + 1j])):
        assert repr(deepgrad.tensor(array)) == torch_repr(torch.tensor(array))


def test_print_options_match_torch():
    from deepgrad import _printing

    cases = [dict(precision=2), dict(threshold=5), dict(sci_mode=True), dict(edgeitems=1,
                                                                             threshold=3),
             dict(linewidth=40), dict(profile="short")]
    array = np.linspace(-3, 7, 12).astype(np.float32).reshape(3, 4)
    for options in cases:
        with _printing.printoptions(**options), torch._tensor_str.printoptions(**options):
            assert repr(deepgrad.tensor(array)) == torch_repr(torch.tensor(array)), options
    assert repr(deepgrad.tensor(array)) == torch_repr(torch.tensor(array))


def test_format_of_scalar_tensor():
    for lib in LIBS:
        assert f"{lib.tensor(2.5):.2f}" == "2.50"
