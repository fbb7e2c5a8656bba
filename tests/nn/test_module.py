"""Module semantics against torch: registration, naming and order, state_dict and
load_state_dict (keys, errors, strict=False), buffers, hooks, modes, conversion, repr."""

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

import deepgrad
from oracle import assert_close


def copy_weights(module, torch_module):
    """torch -> deepgrad through state_dict."""
    state = {k: deepgrad.tensor(v.detach().numpy()) for k, v in torch_module.state_dict().items()}
    return module.load_state_dict(state)


def build(lib):
    """The same nested model in either library."""
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)
            self.act = nn.ReLU()
            self.register_buffer("running", lib.zeros(3))
            self.register_buffer("scratch", lib.ones(2), persistent=False)

        def forward(self, x):
            return self.act(self.fc(x)) + self.running

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.seq = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2, bias=False))
            self.scale = nn.Parameter(lib.ones(1) * 1.5)
            self.heads = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
            self.shared = self.seq[0]  # the same module twice: listed once

        def forward(self, x):
            y = self.seq(self.block(x)) * self.scale
            for head in self.heads:
                y = head(y)
            return y

    return Net()


@pytest.fixture()
def pair():
    torch.manual_seed(0)
    t = build(torch)
    d = build(deepgrad)
    copy_weights(d, t)
    return d, t


def test_names_order_and_state_dict_keys(pair):
    d, t = pair
    assert [n for n, _ in d.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in d.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in d.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in d.named_children()] == [n for n, _ in t.named_children()]
    assert list(d.state_dict()) == list(t.state_dict())
    assert isinstance(d.state_dict(), OrderedDict)
    assert "block.scratch" not in d.state_dict()  # non-persistent buffer
    assert [n for n, _ in d.named_parameters(remove_duplicate=False)] == [
        n for n, _ in t.named_parameters(remove_duplicate=False)]
    assert [n for n, _ in d.named_modules(remove_duplicate=False)] == [
        n for n, _ in t.named_modules(remove_duplicate=False)]
    assert [n for n, _ in d.block.named_parameters(prefix="p", recurse=False)] == [
        n for n, _ in t.block.named_parameters(prefix="p", recurse=False)]
    assert len(list(d.parameters())) == len(list(t.parameters()))
    assert len(list(d.children())) == len(list(t.children()))
    assert len(list(d.modules())) == len(list(t.modules()))


def test_repr_equals_torch(pair):
    d, t = pair
    assert repr(d) == repr(t)
    many = [deepgrad.nn.Linear(2, 2) for _ in range(3)] + [deepgrad.nn.ReLU()]
    assert repr(deepgrad.nn.ModuleList(many)) == repr(
        torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(3)] + [torch.nn.ReLU()]))


def test_forward_and_gradients_match_torch(pair):
    d, t = pair
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    dx, tx = deepgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    d_out, t_out = d(dx), t(tx)
    assert_close(d_out, t_out, 1e-5, 1e-6, "output")
    c = np.random.default_rng(1).standard_normal(t_out.shape).astype(np.float32)
    (d_out * deepgrad.tensor(c)).sum().backward()
    (t_out * torch.tensor(c)).sum().backward()
    assert_close(dx.grad, tx.grad, 1e-5, 1e-6, "input grad")
    for (name, dp), (_, tp) in zip(d.named_parameters(), t.named_parameters(), strict=True):
        assert_close(dp.grad, tp.grad, 1e-5, 1e-6, name)


def test_state_dict_values_detached_and_keep_vars(pair):
    d, t = pair
    state = d.state_dict()
    assert not state["seq.0.weight"].requires_grad
    assert type(state["seq.0.weight"]) is deepgrad.Tensor
    kept = d.state_dict(keep_vars=True)
    assert kept["seq.0.weight"] is d.seq[0].weight
    prefixed = d.block.state_dict(prefix="x.")
    assert list(prefixed) == list(t.block.state_dict(prefix="x.")) == [
        "x.running", "x.fc.weight", "x.fc.bias"]


def test_load_state_dict_errors_match_torch(pair):
    d, t = pair
    bad_t = {k: v for k, v in t.state_dict().items() if k != "scale"}
    bad_t["extra.weight"] = torch.zeros(1)
    bad_t["seq.0.bias"] = torch.zeros(7)
    bad_d = {k: deepgrad.tensor(v.numpy()) for k, v in bad_t.items()}
    with pytest.raises(RuntimeError) as t_error:
        t.load_state_dict(bad_t)
    with pytest.raises(RuntimeError) as d_error:
        d.load_state_dict(bad_d)
    assert str(d_error.value) == str(t_error.value).replace("torch.Size", "deepgrad.Size")
    assert str(d_error.value).startswith("Error(s) in loading state_dict for Net:\n\t"
                                         "Missing key(s) in state_dict: \"scale\". ")
    assert ("size mismatch for seq.0.bias: copying a param with shape deepgrad.Size([7]) from "
            "checkpoint, the shape in current model is deepgrad.Size([5]).") in str(d_error.value)


def test_load_state_dict_strict_false_returns_keys(pair):
    d, t = pair
    partial_t = {k: v for k, v in t.state_dict().items() if not k.startswith("heads")}
    partial_t["unknown"] = torch.zeros(1)
    partial_d = {k: deepgrad.tensor(v.numpy()) for k, v in partial_t.items()}
    t_keys = t.load_state_dict(partial_t, strict=False)
    d_keys = d.load_state_dict(partial_d, strict=False)
    assert d_keys.missing_keys == t_keys.missing_keys
    assert d_keys.unexpected_keys == t_keys.unexpected_keys
    assert repr(d.load_state_dict(d.state_dict())) == "<All keys matched successfully>"


def test_load_state_dict_copies_in_place_and_assign(pair):
    d, _ = pair
    weight = d.seq[0].weight
    new = {k: v * 0 + 2 for k, v in d.state_dict().items()}
    d.load_state_dict(new)
    assert d.seq[0].weight is weight and np.all(weight.detach().numpy() == 2)
    assert weight.requires_grad
    d.load_state_dict({k: v + 1 for k, v in new.items()}, assign=True)
    assert d.seq[0].weight is not weight
    assert isinstance(d.seq[0].weight, deepgrad.nn.Parameter) and d.seq[0].weight.requires_grad
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        d.load_state_dict([1, 2])


def test_buffers_persistent_and_not():
    for lib in (torch, deepgrad):
        m = lib.nn.Module()
        m.register_buffer("a", lib.ones(2))
        m.register_buffer("b", lib.ones(2), persistent=False)
        m.register_buffer("c", None)
        assert list(m.state_dict()) == ["a"]
        assert [n for n, _ in m.named_buffers()] == ["a", "b"]
        m.b = lib.zeros(3)  # assigning to a buffer name keeps it a (non-persistent) buffer
        assert list(m.state_dict()) == ["a"] and m.b.shape == (3,)
    with pytest.raises(KeyError, match="attribute 'training' already exists"):
        deepgrad.nn.Module().register_buffer("training", deepgrad.ones(1))
    with pytest.raises(KeyError, match="contain"):
        deepgrad.nn.Module().register_buffer("a.b", deepgrad.ones(1))
    with pytest.raises(TypeError, match="cannot assign 'int' object to buffer 'x'"):
        deepgrad.nn.Module().register_buffer("x", 3)


def test_setattr_routing_and_errors():
    m = deepgrad.nn.Linear(2, 3)
    with pytest.raises(TypeError, match="cannot assign 'deepgrad.FloatTensor' as parameter "
                                        "'weight'"):
        m.weight = deepgrad.zeros(3, 2)
    m.bias = None
    assert "bias" in m._parameters and m.bias is None and list(m.state_dict()) == ["weight"]
    m.child = deepgrad.nn.ReLU()
    assert "child" in m._modules
    with pytest.raises(TypeError, match="as child module 'child'"):
        m.child = 3
    m.child = None
    assert m._modules["child"] is None
    m.plain = 5
    assert m.__dict__["plain"] == 5
    del m.weight
    assert "weight" not in m._parameters
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'weight'"):
        _ = m.weight
    with pytest.raises(ValueError, match="Cannot assign non-leaf Tensor"):
        m.register_parameter("w", _nonleaf_parameter())

    class Broken(deepgrad.nn.Module):
        def __init__(self):
            self.w = deepgrad.nn.Parameter(deepgrad.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Broken()


def _nonleaf_parameter():
    p = deepgrad.nn.Parameter(deepgrad.ones(1))
    q = deepgrad.nn.Parameter(deepgrad.ones(1))
    q.grad_fn = (p * 2).grad_fn
    return q


def test_add_module_and_submodule_access(pair):
    d, t = pair
    assert d.get_submodule("seq.2") is d.seq[2]
    assert d.get_parameter("seq.0.weight") is d.seq[0].weight
    assert d.get_buffer("block.running") is d.block.running
    for lib_model in (d, t):
        with pytest.raises(AttributeError, match="Sequential has no attribute `9`"):
            lib_model.get_submodule("seq.9")
        with pytest.raises(AttributeError, match="`scale` is not an nn.Module"):
            lib_model.get_submodule("scale")
        with pytest.raises(AttributeError, match="`act` is not an nn.Parameter"):
            lib_model.get_parameter("block.act")
    with pytest.raises(TypeError, match="is not a Module subclass"):
        d.add_module("x", 3)
    with pytest.raises(KeyError, match="attribute 'training' already exists"):
        d.add_module("training", deepgrad.nn.ReLU())
    with pytest.raises(KeyError, match="attribute 'seq' already exists"):
        d.register_buffer("seq", None)
    d.register_module("extra", deepgrad.nn.Identity())
    assert "extra" in dict(d.named_children())
    assert {"seq", "block", "scale", "heads", "forward"} <= set(dir(d))
    assert not any(k[0].isdigit() for k in dir(d.seq))


def test_train_eval_propagate_and_apply(pair):
    d, _ = pair
    assert d.training and d.seq[1].training
    assert d.eval() is d
    assert not any(m.training for m in d.modules())
    d.train()
    assert all(m.training for m in d.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        d.train("yes")
    visited = []
    d.apply(lambda m: visited.append(type(m).__name__))
    t_visited = []
    build(torch).apply(lambda m: t_visited.append(type(m).__name__))
    assert visited == t_visited


def test_zero_grad_and_requires_grad(pair):
    d, _ = pair
    d(deepgrad.ones(2, 4)).sum().backward()
    assert all(p.grad is not None for p in d.parameters())
    d.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.detach().numpy().any() for p in d.parameters())
    d.zero_grad()
    assert all(p.grad is None for p in d.parameters())
    d.requires_grad_(False)
    assert not any(p.requires_grad for p in d.parameters())
    assert not d(deepgrad.ones(2, 4)).requires_grad


def test_to_float64_keeps_parameters_in_place(pair):
    d, t = pair
    weight = d.seq[0].weight
    d(deepgrad.ones(2, 4)).sum().backward()
    assert d.to(deepgrad.float64) is d
    assert d.seq[0].weight is weight and weight.dtype == deepgrad.float64
    assert weight.grad.dtype == deepgrad.float64
    assert d.block.running.dtype == deepgrad.float64
    t.double()
    x = np.ones((2, 4))
    assert_close(d(deepgrad.tensor(x)), t(torch.tensor(x)), 1e-9, 1e-10, "float64 forward")
    d.float()
    assert weight.dtype == deepgrad.float32
    d.half()
    assert weight.dtype == deepgrad.float16
    d.to("cpu", dtype=deepgrad.float32)
    assert weight.dtype == deepgrad.float32 and d.cpu() is d
    with pytest.raises(TypeError, match="only accepts floating point"):
        d.to(deepgrad.int64)
    m = deepgrad.nn.Module()
    m.register_buffer("count", deepgrad.tensor(3))
    m.to(deepgrad.float64)
    assert m.count.dtype == deepgrad.int64  # integer buffers keep their dtype


def test_forward_hooks():
    for lib in (torch, deepgrad):
        layer = lib.nn.Linear(2, 2)
        calls = []
        h1 = layer.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
        h2 = layer.register_forward_hook(
            lambda m, args, out, calls=calls: calls.append("post") or out + 1)
        h3 = layer.register_forward_hook(
            lambda m, args, out, calls=calls: calls.append("first"), prepend=True)
        out = layer(lib.ones(1, 2))
        np.testing.assert_allclose(np.asarray(out.detach().numpy()),
                                   layer.bias.detach().numpy()[None] + 1, rtol=1e-6)
        assert calls == ["first", "post"]
        h1.remove()
        h2.remove()
        h3.remove()
        assert not layer._forward_hooks and not layer._forward_pre_hooks
        layer.register_forward_pre_hook(
            lambda m, args, kwargs: ((args[0] * 2,), kwargs), with_kwargs=True)
        seen = []
        layer.register_forward_hook(
            lambda m, args, kwargs, out, seen=seen: seen.append(args[0].sum()), with_kwargs=True)
        layer(lib.ones(1, 2))
        assert float(seen[0]) == 4.0


def test_full_backward_hook_matches_torch():
    results = {}
    for lib in (torch, deepgrad):
        lib.manual_seed(0)
        layer = lib.nn.Linear(3, 2)
        if lib is deepgrad:
            copy_weights(layer, results["torch_layer"])
        record = {}

        def hook(module, grad_input, grad_output, record=record):
            record["in"] = [g.detach().numpy().copy() for g in grad_input]
            record["out"] = [g.detach().numpy().copy() for g in grad_output]
            return (grad_input[0] * 2,)

        layer.register_full_backward_hook(hook)
        x = lib.tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3), requires_grad=True)
        (layer(x) * lib.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
        results[lib.__name__] = (record, x.grad.numpy().copy())
        results["torch_layer"] = layer
    (d_rec, d_grad), (t_rec, t_grad) = results["deepgrad"], results["torch"]
    for key in ("in", "out"):
        for a, b in zip(d_rec[key], t_rec[key], strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-6)
    np.testing.assert_allclose(d_grad, t_grad, rtol=1e-6)


def test_missing_forward_and_call_lean():
    with pytest.raises(NotImplementedError, match='missing the required "forward" function'):
        deepgrad.nn.Module()(1)
    layer = deepgrad.nn.Linear(2, 2)
    assert layer(deepgrad.ones(2)).shape == (2,)


def test_deepcopy_and_pickle_keep_parameters(pair):
    d, _ = pair
    clone = copy.deepcopy(d)
    assert isinstance(clone.seq[0].weight, deepgrad.nn.Parameter)
    assert clone.seq[0].weight is not d.seq[0].weight
    assert clone.shared is clone.seq[0]  # sharing survives the copy
    assert list(clone.state_dict()) == list(d.state_dict())
    nn = deepgrad.nn
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.ModuleDict({"out": nn.Linear(4, 1)}))
    model.register_buffer("count", deepgrad.zeros(2), persistent=False)
    restored = pickle.loads(pickle.dumps(model))
    assert isinstance(restored[0].weight, deepgrad.nn.Parameter)
    assert restored[0].weight.requires_grad
    assert [n for n, _ in restored.named_buffers()] == ["count"]
    assert list(restored.state_dict()) == list(model.state_dict())
    for a, b in zip(restored.state_dict().values(), model.state_dict().values(),
                    strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_state_dict_hooks_and_extra_state():
    class WithExtra(deepgrad.nn.Module):
        def __init__(self):
            super().__init__()
            self.steps = 0

        def get_extra_state(self):
            return {"steps": self.steps}

        def set_extra_state(self, state):
            self.steps = state["steps"]

    m = WithExtra()
    m.steps = 7
    state = m.state_dict()
    assert state["_extra_state"] == {"steps": 7}
    fresh = WithExtra()
    fresh.load_state_dict(state)
    assert fresh.steps == 7
    seen = []
    m.register_load_state_dict_post_hook(lambda module, keys: seen.append(keys))
    m.load_state_dict(state)
    assert seen and seen[0].missing_keys == []


def test_torch_checkpoint_loads_into_deepgrad_model(tmp_path):
    t_model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    d_model = deepgrad.nn.Sequential(deepgrad.nn.Linear(3, 4), deepgrad.nn.ReLU(),
                                     deepgrad.nn.Linear(4, 2))
    path = tmp_path / "model.pth"
    torch.save(t_model.state_dict(), path)
    assert repr(d_model.load_state_dict(deepgrad.load(path))) == "<All keys matched successfully>"
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    assert_close(d_model(deepgrad.tensor(x)), t_model(torch.tensor(x)), 1e-6, 1e-7, "loaded")
    ours = tmp_path / "model.dg"
    deepgrad.save({"state": d_model.state_dict(), "weight": d_model[0].weight}, ours)
    restored = deepgrad.load(ours)
    assert list(restored["state"]) == list(d_model.state_dict())
    assert isinstance(restored["weight"], deepgrad.nn.Parameter)
    assert restored["weight"].requires_grad


def test_parameter_and_buffer_classes():
    p = deepgrad.nn.Parameter(deepgrad.ones(2))
    assert repr(p) == repr(torch.nn.Parameter(torch.ones(2))).replace("torch", "deepgrad")
    assert type(p * 2) is deepgrad.Tensor and type(p.detach()) is deepgrad.Tensor
    assert deepgrad.nn.Parameter().shape == (0,)
    frozen = deepgrad.nn.Parameter(deepgrad.ones(2), requires_grad=False)
    assert not frozen.requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        deepgrad.nn.Parameter(deepgrad.tensor([1, 2]))
    m = deepgrad.nn.Module()
    m.total = deepgrad.nn.Buffer(deepgrad.zeros(2))
    m.scratch = deepgrad.nn.Buffer(deepgrad.zeros(2), persistent=False)
    assert [n for n, _ in m.named_buffers()] == ["total", "scratch"]
    assert list(m.state_dict()) == ["total"]
    assert isinstance(m.total, deepgrad.nn.Buffer) and not isinstance(p, deepgrad.nn.Buffer)


def test_state_dict_metadata_matches_torch(pair):
    d, t = pair
    d_meta, t_meta = d.state_dict()._metadata, t.state_dict()._metadata
    assert list(d_meta) == list(t_meta)
    assert all(d_meta[k]["version"] == t_meta[k]["version"] for k in t_meta)
    bn_d = deepgrad.nn.Sequential(deepgrad.nn.BatchNorm1d(3))
    bn_t = torch.nn.Sequential(torch.nn.BatchNorm1d(3))
    assert bn_d.state_dict()._metadata["0"] == bn_t.state_dict()._metadata["0"] == {"version": 2}
    state = bn_d.state_dict()
    del state["0.num_batches_tracked"]
    assert bn_d.load_state_dict(state, strict=False).missing_keys == ["0.num_batches_tracked"]
