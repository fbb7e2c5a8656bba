"""Containers and reshape layers against torch: names after every operation, indexing,
slicing, errors, repr; Identity, Flatten and Unflatten."""

from collections import OrderedDict

import numpy as np
import pytest
import torch

import deepgrad
from oracle import assert_close


def names(module):
    return [n for n, _ in module.named_modules()], list(module.state_dict())


def same(d, t):
    assert names(d) == names(t)
    assert repr(d) == repr(t)


def layers(lib, sizes=(2, 3, 4, 5)):
    return [lib.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]


def both(build):
    """(deepgrad object, torch object) from one builder taking lib."""
    return build(deepgrad), build(torch)


def test_sequential_indexing_and_slicing():
    d, t = both(lambda lib: lib.nn.Sequential(*layers(lib), lib.nn.ReLU()))
    same(d, t)
    assert len(d) == len(t) == 4
    assert repr(d[-1]) == repr(t[-1]) and repr(d[1]) == repr(t[1])
    same(d[1:3], t[1:3])  # slicing keeps the names "1" and "2"
    same(d[::-1], t[::-1])
    assert type(d[1:]) is deepgrad.nn.Sequential
    with pytest.raises(IndexError, match="index 4 is out of range"):
        d[4]
    with pytest.raises(IndexError, match="index -5 is out of range"):
        d[-5]
    assert [type(m).__name__ for m in d] == [type(m).__name__ for m in t]


def test_sequential_mutation_keeps_torch_names():
    d, t = both(lambda lib: lib.nn.Sequential(*layers(lib)))
    for seq, lib in ((d, deepgrad), (t, torch)):
        seq.append(lib.nn.ReLU())
        seq.insert(1, lib.nn.Tanh())
        seq.insert(-1, lib.nn.Sigmoid())
        seq.extend([lib.nn.Identity(), lib.nn.ELU()])
        del seq[2]
        seq[0] = lib.nn.Linear(2, 3, bias=False)
        seq.pop(1)
        del seq[1:3]
    same(d, t)
    with pytest.raises(IndexError, match="Index out of range: 10"):
        d.insert(10, deepgrad.nn.ReLU())
    with pytest.raises(AssertionError, match="module should be of type"):
        d.insert(0, 3)


def test_sequential_ordered_dict_add_mul_forward():
    d, t = both(lambda lib: lib.nn.Sequential(OrderedDict(
        [("fc1", lib.nn.Linear(3, 4)), ("act", lib.nn.ReLU()), ("fc2", lib.nn.Linear(4, 2))])))
    same(d, t)
    same(d + d, t + t)
    same(d * 2, t * 2)
    d.load_state_dict({k: deepgrad.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    assert_close(d(deepgrad.tensor(x)), t(torch.tensor(x)), 1e-5, 1e-6, "sequential forward")
    assert "fc1" in dir(d) and "0" not in dir(deepgrad.nn.Sequential(deepgrad.nn.ReLU()))
    with pytest.raises(ValueError, match="add operator supports only objects of Sequential"):
        d + 1


def test_module_list():
    d, t = both(lambda lib: lib.nn.ModuleList(layers(lib)))
    same(d, t)
    for ml, lib in ((d, deepgrad), (t, torch)):
        ml.append(lib.nn.ReLU())
        ml.extend([lib.nn.Tanh(), lib.nn.Tanh()])
        ml.insert(0, lib.nn.Sigmoid())
        ml += [lib.nn.ELU()]
        del ml[1]
        ml[0] = lib.nn.Linear(2, 2)
        ml.pop(-1)
    same(d, t)
    same(d[1:3], t[1:3])
    assert len(d) == len(t)
    same(d + d, t + t)
    with pytest.raises(IndexError, match="index 10 is out of range"):
        d[10]
    with pytest.raises(TypeError, match="ModuleList.extend should be called with an iterable"):
        d.extend(3)
    with pytest.raises(NotImplementedError):
        d(1)


def test_module_dict():
    def build(lib):
        return lib.nn.ModuleDict({"b": lib.nn.Linear(2, 3), "a": lib.nn.ReLU()})

    d, t = both(build)
    same(d, t)
    for md, lib in ((d, deepgrad), (t, torch)):
        md["c"] = lib.nn.Tanh()
        md.update([("d", lib.nn.Linear(3, 1))])
        del md["a"]
        md.pop("c")
    same(d, t)
    assert list(d.keys()) == list(t.keys()) and len(d) == len(t) and "b" in d
    assert [k for k, _ in d.items()] == [k for k, _ in t.items()]
    with pytest.raises(ValueError, match="has length 3; 2 is required"):
        d.update([("x", deepgrad.nn.ReLU(), 1)])
    d.clear()
    assert len(d) == 0


def test_parameter_list_and_dict():
    def build_list(lib):
        return lib.nn.ParameterList([lib.nn.Parameter(lib.zeros(2, 3)), lib.ones(4)])

    d, t = both(build_list)
    assert repr(d) == repr(t).replace("torch.float32", "deepgrad.float32")
    assert list(d.state_dict()) == list(t.state_dict())
    assert all(isinstance(p, deepgrad.nn.Parameter) for p in d)  # tensors are wrapped
    d.append(deepgrad.ones(1))
    d.extend([deepgrad.ones(2)])
    assert len(d) == 4 and [n for n, _ in d.named_parameters()] == ["0", "1", "2", "3"]
    assert len(d[1:3]) == 2
    with pytest.raises(RuntimeError, match="ParameterList should not be called"):
        d()

    def build_dict(lib):
        return lib.nn.ParameterDict({"w": lib.nn.Parameter(lib.zeros(2)), "b": lib.ones(3)})

    d, t = both(build_dict)
    assert repr(d) == repr(t).replace("torch.", "deepgrad.")
    assert list(d.state_dict()) == list(t.state_dict()) == ["b", "w"]  # plain dicts: sorted
    assert isinstance(d["b"], deepgrad.nn.Parameter)
    d["z"] = deepgrad.ones(1)
    assert list(d.keys()) == ["b", "w", "z"] and d.get("missing") is None
    assert d.pop("w").shape == (2,) and "w" not in d
    with pytest.raises(TypeError, match="not a string"):
        d[3] = deepgrad.ones(1)


def test_identity_flatten_unflatten():
    for name, args, shape in (("Identity", (3, "x"), (2, 3)), ("Flatten", (), (2, 3, 4, 5)),
                              ("Flatten", (0, 2), (2, 3, 4, 5)), ("Unflatten", (1, (2, 5)),
                                                                  (3, 10, 4))):
        d_layer, t_layer = getattr(deepgrad.nn, name)(*args), getattr(torch.nn, name)(*args)
        assert repr(d_layer) == repr(t_layer)
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        x_d, x_t = deepgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out_d, out_t = d_layer(x_d), t_layer(x_t)
        assert_close(out_d, out_t, 0, 0, name)
        if out_d.requires_grad:
            (out_d * deepgrad.tensor(np.arange(out_d.numel(), dtype=np.float32).reshape(
                out_d.shape))).sum().backward()
            (out_t * torch.arange(out_t.numel(), dtype=torch.float32).reshape(
                out_t.shape)).sum().backward()
            assert_close(x_d.grad, x_t.grad, 0, 0, name + " grad")
    with pytest.raises(TypeError, match="unflattened_size must be a tuple of ints"):
        deepgrad.nn.Unflatten(1, 3)
