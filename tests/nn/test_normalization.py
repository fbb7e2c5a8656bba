"""layer_norm, group_norm, local_response_norm and their layers against torch."""

import numpy as np
import pytest
import torch

import deepgrad
from oracle import OpCase, assert_close, case_params, check_case

CASES = [
    OpCase("layer_norm", lambda lib, x: lib.nn.functional.layer_norm(x, (4,)),
           [((3, 4),), ((2, 3, 4),)]),
    OpCase("layer_norm_affine", lambda lib, x, w, b: lib.nn.functional.layer_norm(
        x, (3, 4), w, b, eps=1e-3), [((2, 3, 4), (3, 4), (3, 4))]),
    OpCase("layer_norm_weight_only", lambda lib, x, w: lib.nn.functional.layer_norm(
        x, [5], w), [((2, 3, 5), (5,))]),
    OpCase("group_norm", lambda lib, x: lib.nn.functional.group_norm(x, 3),
           [((2, 6, 5),), ((2, 6, 3, 4),), ((2, 6),)]),
    OpCase("group_norm_affine", lambda lib, x, w, b: lib.nn.functional.group_norm(
        x, 2, w, b, 1e-3), [((2, 4, 3, 3), (4,), (4,))]),
    OpCase("local_response_norm", lambda lib, x: lib.nn.functional.local_response_norm(x, 3),
           [((2, 5, 3, 4),), ((2, 5, 6),)], domain=(0.5, 3.0)),
    OpCase("local_response_norm_even", lambda lib, x: lib.nn.functional.local_response_norm(
        x, 2, alpha=0.1, beta=0.5, k=2.0), [((2, 4, 3, 3),), ((1, 3, 2, 2, 2),)]),
]


@pytest.mark.parametrize("case,shapes,dtype", case_params(CASES))
def test_against_torch(case, shapes, dtype):
    check_case(case, shapes, dtype)


@pytest.mark.parametrize("call,kind,message", [
    (lambda F: F.layer_norm(deepgrad.randn(2, 3, 4), [5]), RuntimeError,
     r"Given normalized_shape=\[5\], expected input with shape \[\*, 5\], but got input of "
     r"size\[2, 3, 4\]"),
    (lambda F: F.layer_norm(deepgrad.randn(2, 3, 4), [4], deepgrad.ones(3)), RuntimeError,
     r"Expected weight to be of same shape as normalized_shape, but got weight of shape \[3\]"),
    (lambda F: F.group_norm(deepgrad.randn(2, 6, 4), 4), RuntimeError,
     r"Expected number of channels in input to be divisible by num_groups, but got input of "
     r"shape \[2, 6, 4\] and num_groups=4"),
    (lambda F: F.local_response_norm(deepgrad.randn(2, 3), 2), ValueError,
     r"Expected 3D or higher dimensionality\s+input \(got 2 dimensions\)"),
])
def test_errors_match_torch(call, kind, message):
    with pytest.raises(kind, match=message):
        call(deepgrad.nn.functional)
    with pytest.raises(kind, match=message.replace("deepgrad", "torch")):
        call(_TorchFunctional())


class _TorchFunctional:
    """torch.nn.functional with deepgrad tensors converted, to run the same error calls."""

    def __getattr__(self, name):
        function = getattr(torch.nn.functional, name)

        def call(*args, **kwargs):
            convert = lambda a: torch.tensor(a.numpy()) if isinstance(a, deepgrad.Tensor) else a  # noqa: E731
            return function(*map(convert, args), **{k: convert(v) for k, v in kwargs.items()})

        return call


@pytest.mark.parametrize("name,args,kwargs,shape", [
    ("LayerNorm", (5,), {}, (2, 3, 5)),
    ("LayerNorm", ((3, 5),), {"eps": 1e-3, "bias": False}, (2, 3, 5)),
    ("LayerNorm", (5,), {"elementwise_affine": False}, (2, 3, 5)),
    ("GroupNorm", (2, 6), {}, (2, 6, 3, 3)),
    ("GroupNorm", (3, 6), {"affine": False}, (2, 6, 4)),
    ("GroupNorm", (3, 6), {"bias": False, "eps": 1e-3}, (2, 6, 4)),
    ("LocalResponseNorm", (3,), {"alpha": 0.01, "beta": 0.5, "k": 2.0}, (2, 6, 3, 3)),
])
def test_layers_match_torch(name, args, kwargs, shape):
    torch_layer = getattr(torch.nn, name)(*args, **kwargs).double()
    layer = getattr(deepgrad.nn, name)(*args, **kwargs).double()
    assert repr(layer) == repr(torch_layer)
    with torch.no_grad():
        for p in torch_layer.parameters():
            p.uniform_(-1, 1)
    layer.load_state_dict({k: deepgrad.tensor(v.numpy())
                           for k, v in torch_layer.state_dict().items()})
    assert list(layer.state_dict()) == list(torch_layer.state_dict())
    x = np.random.default_rng(0).standard_normal(shape)
    tx, dx = torch.tensor(x, requires_grad=True), deepgrad.tensor(x, requires_grad=True)
    t_out, d_out = torch_layer(tx), layer(dx)
    assert_close(d_out, t_out, 1e-10, 1e-10, "output")
    weights = np.random.default_rng(1).standard_normal(shape)
    (t_out * torch.tensor(weights)).sum().backward()
    (d_out * deepgrad.tensor(weights)).sum().backward()
    assert_close(dx.grad, tx.grad, 1e-9, 1e-9, "input grad")
    for (n, p), (_, tp) in zip(layer.named_parameters(), torch_layer.named_parameters()):
        assert_close(p.grad, tp.grad, 1e-9, 1e-9, n)


def test_default_parameters():
    layer = deepgrad.nn.GroupNorm(2, 4)
    np.testing.assert_array_equal(layer.weight.detach().numpy(), np.ones(4, np.float32))
    np.testing.assert_array_equal(layer.bias.detach().numpy(), np.zeros(4, np.float32))
    assert deepgrad.nn.LayerNorm([2, 3]).normalized_shape == (2, 3)
    with pytest.raises(ValueError, match=r"num_channels \(5\) must be divisible by num_groups"):
        deepgrad.nn.GroupNorm(2, 5)
