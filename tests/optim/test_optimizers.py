"""Optimizers against torch: same parameters + same gradient sequence -> same trajectory,
defaults and signatures, state_dict layout and round trips, validation messages."""

import copy
import inspect
import re

import numpy as np
import pytest
import torch

import deepgrad as dg

NAMES = ["SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW"]
SHAPES = [(3, 4), (5,), (), (2, 3, 2)]
STEPS = 20

CONFIGS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.5}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.8, "weight_decay": 0.05, "nesterov": True,
             "maximize": True}),
    ("SGD", {"lr": 0.1, "maximize": True}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-3}),
    ("Adagrad", {"lr": 0.1, "maximize": True, "lr_decay": 0.05}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.7, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "maximize": True, "eps": 1e-4}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.5}),
    ("Adadelta", {"weight_decay": 0.1, "eps": 1e-3}),
    ("Adadelta", {"maximize": True}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.99)}),
    ("Adam", {"lr": 0.01, "betas": (0.3, 0.9)}),  # 1 - beta1 >= 0.5: lerp's other branch
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1, "maximize": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("Adam", {"lr": 0.01, "eps": 1e-3}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.01, "amsgrad": True, "maximize": True}),
]


def config_id(config):
    name, kwargs = config
    return name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


def make_params(lib, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [lib.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
            for shape in SHAPES]


def gradient_sequence(dtype, steps=STEPS, seed=1):
    """Fixed gradients, one list per step; the third parameter gets none on odd steps (an
    optimizer skips a parameter whose grad is None)."""
    rng = np.random.default_rng(seed)
    sequence = []
    for step in range(steps):
        grads = [rng.standard_normal(shape).astype(dtype) for shape in SHAPES]
        if step % 2 == 1:
            grads[2] = None
        sequence.append(grads)
    return sequence


def make_optimizer(lib, name, params, kwargs):
    """Two groups: the first two parameters with the config, the rest at half the lr."""
    cls = getattr(lib.optim, name)
    lr = kwargs.get("lr", inspect.signature(cls).parameters["lr"].default)
    groups = [{"params": params[:2]}, {"params": params[2:], "lr": lr / 2}]
    return cls(groups, **kwargs)


def apply_grads(lib, params, grads):
    for p, g in zip(params, grads, strict=True):
        p.grad = None if g is None else lib.tensor(g)


def run(lib, name, kwargs, dtype, sequence, optimizer=None, params=None):
    params = params if params is not None else make_params(lib, dtype)
    optimizer = optimizer or make_optimizer(lib, name, params, kwargs)
    for grads in sequence:
        apply_grads(lib, params, grads)
        optimizer.step()
    return params, optimizer


def to_numpy(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t.detach().numpy())


def assert_close(actual, expected, dtype):
    actual, expected = to_numpy(actual), to_numpy(expected)
    assert actual.dtype == expected.dtype
    assert actual.shape == expected.shape
    scale = max(1.0, float(np.abs(expected).max(initial=0)))
    tol = 1e-13 if dtype == np.float64 else 2e-6
    np.testing.assert_allclose(actual, expected, rtol=0, atol=tol * scale)


def assert_state_close(ours, theirs, dtype):
    """Compare two state_dicts: same structure, keys, types and values."""
    assert ours.keys() == theirs.keys() == {"state", "param_groups"}
    assert ours["state"].keys() == theirs["state"].keys()
    for index, state in theirs["state"].items():
        assert list(ours["state"][index].keys()) == list(state.keys())
        for key, value in state.items():
            mine = ours["state"][index][key]
            assert isinstance(mine, dg.Tensor) == isinstance(value, torch.Tensor)
            assert str(mine.dtype).split(".")[-1] == str(value.dtype).split(".")[-1]
            assert_close(mine, value, dtype)
    assert len(ours["param_groups"]) == len(theirs["param_groups"])
    for mine, group in zip(ours["param_groups"], theirs["param_groups"], strict=True):
        assert list(mine.keys()) == list(group.keys())
        assert mine == group


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_trajectory_matches_torch(config, dtype):
    name, kwargs = config
    sequence = gradient_sequence(dtype)
    ours, our_opt = run(dg, name, kwargs, dtype, sequence)
    theirs, their_opt = run(torch, name, kwargs, dtype, sequence)
    for mine, expected in zip(ours, theirs, strict=True):
        assert_close(mine, expected, dtype)
    assert_state_close(our_opt.state_dict(), their_opt.state_dict(), dtype)


@pytest.mark.parametrize("name", NAMES)
def test_defaults_and_signature_match_torch(name):
    ours = getattr(dg.optim, name)([dg.zeros(2, requires_grad=True)])
    theirs = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)])
    assert ours.defaults == theirs.defaults
    our_sig = inspect.signature(getattr(dg.optim, name))
    their_sig = inspect.signature(getattr(torch.optim, name))
    assert [(p.name, p.kind, p.default) for p in our_sig.parameters.values()] == \
        [(p.name, p.kind, p.default) for p in their_sig.parameters.values()]
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip_continues_identically(name):
    """Stop after 10 steps, save, rebuild optimizer + params, load, run 10 more: the result
    equals an uninterrupted 20-step run (which equals torch's)."""
    dtype = np.float64
    kwargs = {"lr": 0.05} | ({"momentum": 0.9} if name in ("SGD", "RMSprop") else {})
    sequence = gradient_sequence(dtype)
    uninterrupted, _ = run(dg, name, kwargs, dtype, sequence)

    params, optimizer = run(dg, name, kwargs, dtype, sequence[:10])
    saved = copy.deepcopy(optimizer.state_dict())
    saved_params = [p.detach().numpy().copy() for p in params]
    resumed = [dg.tensor(a, requires_grad=True) for a in saved_params]
    fresh = make_optimizer(dg, name, resumed, kwargs)
    fresh.load_state_dict(saved)
    run(dg, name, kwargs, dtype, sequence[10:], optimizer=fresh, params=resumed)
    for mine, expected in zip(resumed, uninterrupted, strict=True):
        assert_close(mine, expected, dtype)


@pytest.mark.parametrize("name", NAMES)
def test_load_torch_state_dict_continues_like_torch(name):
    """A state_dict written by torch (tensors converted) resumes to torch's trajectory."""
    dtype = np.float32
    kwargs = {"lr": 0.05}
    sequence = gradient_sequence(dtype)
    theirs, _ = run(torch, name, kwargs, dtype, sequence)
    half, their_opt = run(torch, name, kwargs, dtype, sequence[:10])
    saved = their_opt.state_dict()
    converted = {
        "state": {i: {k: dg.tensor(v.numpy().copy()) for k, v in s.items()}
                  for i, s in saved["state"].items()},
        "param_groups": copy.deepcopy(saved["param_groups"]),
    }
    params = [dg.tensor(p.detach().numpy().copy(), requires_grad=True) for p in half]
    optimizer = make_optimizer(dg, name, params, kwargs)
    optimizer.load_state_dict(converted)
    run(dg, name, kwargs, dtype, sequence[10:], optimizer=optimizer, params=params)
    for mine, expected in zip(params, theirs, strict=True):
        assert_close(mine, expected, dtype)


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_checkpoint_through_save_and_load_files(name, tmp_path):
    """Optimizer state written by deepgrad.save, and by torch.save (.pth), loads back through
    deepgrad.load and resumes to the uninterrupted trajectory."""
    dtype = np.float32
    kwargs = {"lr": 0.05} | ({"momentum": 0.9} if name == "SGD" else {"amsgrad": True})
    sequence = gradient_sequence(dtype)
    expected, _ = run(torch, name, kwargs, dtype, sequence)

    half, their_opt = run(torch, name, kwargs, dtype, sequence[:10])
    torch.save(their_opt.state_dict(), tmp_path / "torch.pth")
    ours, our_opt = run(dg, name, kwargs, dtype, sequence[:10])
    dg.save(our_opt.state_dict(), tmp_path / "deepgrad.pt")
    for path in ("torch.pth", "deepgrad.pt"):
        params = [dg.tensor(p.detach().numpy().copy(), requires_grad=True) for p in half]
        optimizer = make_optimizer(dg, name, params, kwargs)
        optimizer.load_state_dict(dg.load(tmp_path / path))
        run(dg, name, kwargs, dtype, sequence[10:], optimizer=optimizer, params=params)
        for mine, theirs in zip(params, expected, strict=True):
            assert_close(mine, theirs, dtype)


def test_load_state_dict_casts_buffers_to_param_dtype_and_keeps_step():
    p = dg.zeros(3, dtype=dg.float32, requires_grad=True)
    optimizer = dg.optim.Adam([p])
    state = {"state": {0: {"step": dg.tensor(4.0, dtype=dg.float32),
                           "exp_avg": dg.ones(3, dtype=dg.float64),
                           "exp_avg_sq": dg.ones(3, dtype=dg.float64)}},
             "param_groups": [dict(optimizer.state_dict()["param_groups"][0])]}
    optimizer.load_state_dict(state)
    assert optimizer.state[p]["exp_avg"].dtype == dg.float32
    assert optimizer.state[p]["step"] is state["state"][0]["step"]


def test_load_state_dict_group_mismatch_errors():
    a, b = dg.zeros(2, requires_grad=True), dg.zeros(2, requires_grad=True)
    saved = dg.optim.SGD([a, b]).state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        dg.optim.SGD([{"params": [a]}, {"params": [b]}]).load_state_dict(saved)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        dg.optim.SGD([a]).load_state_dict(saved)


def test_end_to_end_training_with_autograd_matches_torch():
    """Gradients from backward drive the optimizers: a linear least-squares fit."""
    rng = np.random.default_rng(3)
    x_np = rng.standard_normal((32, 5))
    y_np = x_np @ rng.standard_normal((5, 1)) + 0.1 * rng.standard_normal((32, 1))
    w_np = rng.standard_normal((5, 1))

    def train(lib):
        x, y = lib.tensor(x_np), lib.tensor(y_np)
        w = lib.tensor(w_np.copy(), requires_grad=True)
        sgd_w = lib.tensor(w_np.copy(), requires_grad=True)
        adam = lib.optim.Adam([w], lr=0.05)
        sgd = lib.optim.SGD([sgd_w], lr=0.05, momentum=0.9)
        losses = []
        for _ in range(30):
            for weight, optimizer in ((w, adam), (sgd_w, sgd)):
                optimizer.zero_grad()
                diff = x @ weight - y
                loss = (diff * diff).sum() / len(x_np)  # the mean squared error
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
        return losses, w, sgd_w

    our_losses, our_w, our_sgd = train(dg)
    their_losses, their_w, their_sgd = train(torch)
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-10)
    assert our_losses[-1] < 0.1 * our_losses[0]
    assert_close(our_w, their_w, np.float64)
    assert_close(our_sgd, their_sgd, np.float64)


def test_closure_is_evaluated_with_grad_enabled_and_returned():
    w = dg.tensor([1.0, -2.0], requires_grad=True)
    optimizer = dg.optim.SGD([w], lr=0.1)

    def closure():
        optimizer.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with dg.no_grad():
        loss = optimizer.step(closure)
    assert loss.item() == 5.0
    np.testing.assert_allclose(w.detach().numpy(), [0.8, -1.6])


def test_step_bumps_version_and_skips_params_without_grad():
    a, b = dg.ones(3, requires_grad=True), dg.ones(3, requires_grad=True)
    optimizer = dg.optim.Adam([a, b])
    a.grad = dg.ones(3)
    version = a._version
    optimizer.step()
    assert a._version == version + 1
    assert b._version == 0 and len(optimizer.state[b]) == 0
    np.testing.assert_array_equal(b.detach().numpy(), np.ones(3))


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    w = dg.ones(3, requires_grad=True)
    w.grad = dg.ones(3)
    grad = w.grad
    dg.optim.SGD([w]).zero_grad(set_to_none=set_to_none)
    if set_to_none:
        assert w.grad is None
    else:
        assert w.grad is grad
        np.testing.assert_array_equal(grad.numpy(), np.zeros(3))


def test_param_groups_and_add_param_group():
    a, b, c = (dg.zeros(2, requires_grad=True) for _ in range(3))
    optimizer = dg.optim.SGD((p for p in [a, b]), lr=0.1, momentum=0.5)
    optimizer.add_param_group({"params": c, "lr": 0.01})
    assert [g["lr"] for g in optimizer.param_groups] == [0.1, 0.01]
    assert optimizer.param_groups[1]["momentum"] == 0.5
    assert len(optimizer.param_groups[1]["params"]) == 1
    assert optimizer.param_groups[1]["params"][0] is c
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        optimizer.add_param_group({"params": [a]})
    named = dg.optim.SGD([("w", a), ("b", b)])
    assert named.state_dict()["param_groups"][0]["param_names"] == ["w", "b"]


def torch_error(build):
    try:
        build(torch)
    except Exception as error:  # noqa: BLE001 - we want torch's exception, whatever it is
        return error
    raise AssertionError("torch accepted the arguments")


INVALID = [
    ("SGD", {"lr": -0.1}), ("SGD", {"momentum": -0.5}), ("SGD", {"weight_decay": -1.0}),
    ("SGD", {"nesterov": True}), ("SGD", {"nesterov": True, "momentum": 0.9, "dampening": 0.1}),
    ("Adagrad", {"lr": -1.0}), ("Adagrad", {"lr_decay": -1.0}),
    ("Adagrad", {"weight_decay": -1.0}), ("Adagrad", {"initial_accumulator_value": -1.0}),
    ("Adagrad", {"eps": -1.0}),
    ("RMSprop", {"lr": -1.0}), ("RMSprop", {"eps": -1.0}), ("RMSprop", {"momentum": -1.0}),
    ("RMSprop", {"weight_decay": -1.0}), ("RMSprop", {"alpha": -1.0}),
    ("Adadelta", {"lr": -1.0}), ("Adadelta", {"rho": 1.5}), ("Adadelta", {"eps": -1.0}),
    ("Adadelta", {"weight_decay": -1.0}),
    ("Adam", {"lr": -1.0}), ("Adam", {"eps": -1.0}), ("Adam", {"betas": (1.0, 0.999)}),
    ("Adam", {"betas": (0.9, -0.1)}), ("Adam", {"weight_decay": -1.0}),
    ("Adam", {"betas": (0, 0.9)}),
    ("AdamW", {"lr": -1.0}), ("AdamW", {"betas": (0.9, 1.0)}),
]


@pytest.mark.parametrize("config", INVALID, ids=config_id)
def test_hyperparameter_validation_matches_torch(config):
    name, kwargs = config
    expected = torch_error(lambda lib: getattr(lib.optim, name)(
        [lib.zeros(2, requires_grad=True)], **kwargs))
    with pytest.raises(type(expected), match="^" + re.escape(str(expected)) + "$"):
        getattr(dg.optim, name)([dg.zeros(2, requires_grad=True)], **kwargs)


BAD_PARAMS = [
    ("a tensor", lambda lib: lib.optim.SGD(lib.zeros(2, requires_grad=True))),
    ("empty", lambda lib: lib.optim.SGD([])),
    ("not a tensor", lambda lib: lib.optim.SGD([1.0])),
    ("a set", lambda lib: lib.optim.SGD([lib.zeros(2, requires_grad=True)])
     .add_param_group({"params": {lib.zeros(2, requires_grad=True)}})),
    ("non-leaf", lambda lib: lib.optim.SGD([lib.zeros(2, requires_grad=True) * 2])),
    ("group not dict", lambda lib: lib.optim.SGD([lib.zeros(2, requires_grad=True)])
     .add_param_group([lib.zeros(2)])),
    ("shared param", lambda lib: (lambda p: lib.optim.SGD([{"params": [p]},
                                                           {"params": [p]}]))(
        lib.zeros(2, requires_grad=True))),
]


@pytest.mark.parametrize("build", [b for _, b in BAD_PARAMS], ids=[n for n, _ in BAD_PARAMS])
def test_params_validation_matches_torch(build):
    expected = torch_error(build)
    message = str(expected).replace("torch.FloatTensor", "deepgrad.FloatTensor")
    with pytest.raises(type(expected), match="^" + re.escape(message) + "$"):
        build(dg)
