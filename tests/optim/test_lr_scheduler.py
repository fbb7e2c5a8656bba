"""Learning-rate schedulers against torch: the lr (and momentum) sequences over 30 steps are
equal float for float; state_dict keys and round trips; validation messages; warnings."""

import copy
import re
import warnings

import pytest
import torch

import deepgrad as dg

STEPS = 30


def make_optimizer(lib, kind="SGD"):
    """Two param groups with different rates, so per-group handling is exercised."""
    a = lib.zeros(2, requires_grad=True)
    b = lib.zeros(3, requires_grad=True)
    groups = [{"params": [a]}, {"params": [b], "lr": 0.01}]
    if kind == "Adam":
        return lib.optim.Adam(groups, lr=0.1)
    return lib.optim.SGD(groups, lr=0.1, momentum=0.9)


def scheduler_configs():
    def seq(L, opt):
        return L.SequentialLR(opt, [L.LinearLR(opt, start_factor=0.2, total_iters=5),
                                    L.CosineAnnealingLR(opt, T_max=12, eta_min=1e-4)],
                              milestones=[6])

    def seq3(L, opt):
        return L.SequentialLR(opt, [L.ConstantLR(opt, factor=0.5, total_iters=3),
                                    L.ExponentialLR(opt, gamma=0.8),
                                    L.StepLR(opt, step_size=4, gamma=0.5)],
                              milestones=[5, 15])

    return {
        "StepLR": lambda L, opt: L.StepLR(opt, step_size=7, gamma=0.5),
        "StepLR-default": lambda L, opt: L.StepLR(opt, step_size=3),
        "MultiStepLR": lambda L, opt: L.MultiStepLR(opt, milestones=[5, 12, 12, 20], gamma=0.3),
        "ExponentialLR": lambda L, opt: L.ExponentialLR(opt, gamma=0.9),
        "CosineAnnealingLR": lambda L, opt: L.CosineAnnealingLR(opt, T_max=10, eta_min=1e-3),
        "CosineAnnealingLR-default": lambda L, opt: L.CosineAnnealingLR(opt, T_max=7),
        "LambdaLR": lambda L, opt: L.LambdaLR(opt, lambda epoch: 0.95**epoch),
        "LambdaLR-per-group": lambda L, opt: L.LambdaLR(
            opt, [lambda epoch: 1 / (epoch + 1), lambda epoch: 0.9**epoch]),
        "LinearLR": lambda L, opt: L.LinearLR(opt, start_factor=0.25, total_iters=8),
        "LinearLR-default": lambda L, opt: L.LinearLR(opt),
        "LinearLR-decay": lambda L, opt: L.LinearLR(opt, start_factor=1.0, end_factor=0.1,
                                                    total_iters=20),
        "ConstantLR": lambda L, opt: L.ConstantLR(opt, factor=0.5, total_iters=4),
        "SequentialLR": seq,
        "SequentialLR-3": seq3,
        "OneCycleLR-cos": lambda L, opt: L.OneCycleLR(opt, max_lr=[1.0, 0.5], total_steps=31),
        "OneCycleLR-linear": lambda L, opt: L.OneCycleLR(
            opt, max_lr=0.5, epochs=3, steps_per_epoch=11, anneal_strategy="linear",
            pct_start=0.25, div_factor=10.0, final_div_factor=100.0),
        "OneCycleLR-three-phase": lambda L, opt: L.OneCycleLR(
            opt, max_lr=1.0, total_steps=40, three_phase=True, base_momentum=0.8,
            max_momentum=0.9),
        "OneCycleLR-no-momentum": lambda L, opt: L.OneCycleLR(
            opt, max_lr=1.0, total_steps=30, cycle_momentum=False),
    }


CONFIGS = scheduler_configs()


def momentum_of(group):
    return group["betas"][0] if "betas" in group else group.get("momentum")


def trajectory(lib, build, kind="SGD", steps=STEPS):
    """Per step: (get_last_lr, each group's lr, each group's momentum/beta1)."""
    optimizer = make_optimizer(lib, kind)
    scheduler = build(lib.optim.lr_scheduler, optimizer)
    record = [(list(scheduler.get_last_lr()), [g["lr"] for g in optimizer.param_groups],
               [momentum_of(g) for g in optimizer.param_groups])]
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
        record.append((list(scheduler.get_last_lr()),
                       [g["lr"] for g in optimizer.param_groups],
                       [momentum_of(g) for g in optimizer.param_groups]))
    return record, optimizer, scheduler


@pytest.mark.parametrize("name", list(CONFIGS))
def test_lr_sequence_equals_torch(name):
    ours, _, _ = trajectory(dg, CONFIGS[name])
    theirs, _, _ = trajectory(torch, CONFIGS[name])
    assert ours == theirs  # float for float


@pytest.mark.parametrize("name", ["OneCycleLR-cos", "OneCycleLR-three-phase"])
def test_one_cycle_cycles_adam_beta1_like_torch(name):
    ours, our_opt, _ = trajectory(dg, CONFIGS[name], kind="Adam")
    theirs, their_opt, _ = trajectory(torch, CONFIGS[name], kind="Adam")
    assert ours == theirs
    assert [g["betas"] for g in our_opt.param_groups] == \
        [g["betas"] for g in their_opt.param_groups]


def comparable(state):
    """A scheduler state_dict with callables dropped, for equality against torch's."""
    return {k: v for k, v in state.items() if k != "anneal_func"}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_state_dict_keys_and_values_match_torch(name):
    _, _, ours = trajectory(dg, CONFIGS[name], steps=9)
    _, _, theirs = trajectory(torch, CONFIGS[name], steps=9)
    assert comparable(ours.state_dict()) == comparable(theirs.state_dict())


@pytest.mark.parametrize("name", list(CONFIGS))
def test_state_dict_round_trip_continues_identically(name):
    build = CONFIGS[name]
    expected, _, _ = trajectory(dg, build)
    _, optimizer, scheduler = trajectory(dg, build, steps=12)
    saved_opt = copy.deepcopy(optimizer.state_dict())
    saved_sched = copy.deepcopy(scheduler.state_dict())

    fresh_opt = make_optimizer(dg)
    fresh_sched = build(dg.optim.lr_scheduler, fresh_opt)
    fresh_opt.load_state_dict(saved_opt)
    fresh_sched.load_state_dict(saved_sched)
    rest = []
    for _ in range(STEPS - 12):
        fresh_opt.step()
        fresh_sched.step()
        rest.append((list(fresh_sched.get_last_lr()), [g["lr"] for g in fresh_opt.param_groups],
                     [momentum_of(g) for g in fresh_opt.param_groups]))
    assert rest == expected[13:]


METRICS = [1.0, 0.9, 0.95, 0.91, 0.92, 0.93, 0.94, 0.89, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5,
           0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45]

PLATEAU = {
    "default-patience": {"patience": 2},
    "max-abs": {"mode": "max", "threshold_mode": "abs", "threshold": 0.01, "patience": 1,
                "factor": 0.5},
    "min-abs-cooldown": {"threshold_mode": "abs", "patience": 1, "cooldown": 3, "factor": 0.5},
    "max-rel": {"mode": "max", "patience": 0, "factor": 0.7},
    "min-lr-per-group": {"patience": 0, "factor": 0.2, "min_lr": [1e-3, 5e-4]},
    "min-lr-eps": {"patience": 0, "factor": 0.5, "min_lr": 0.0124, "eps": 1e-3},
}


def plateau_run(lib, kwargs, metrics=METRICS):
    optimizer = make_optimizer(lib)
    scheduler = lib.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **kwargs)
    lrs = []
    for metric in metrics:
        optimizer.step()
        scheduler.step(metric)
        lrs.append((list(scheduler.get_last_lr()), [g["lr"] for g in optimizer.param_groups],
                    scheduler.num_bad_epochs, scheduler.cooldown_counter, scheduler.best))
    return lrs, optimizer, scheduler


@pytest.mark.parametrize("name", list(PLATEAU))
def test_reduce_lr_on_plateau_equals_torch(name):
    ours, _, our_sched = plateau_run(dg, PLATEAU[name])
    theirs, _, their_sched = plateau_run(torch, PLATEAU[name])
    assert ours == theirs
    assert our_sched.state_dict() == their_sched.state_dict()


def test_reduce_lr_on_plateau_round_trip():
    kwargs = PLATEAU["min-abs-cooldown"]
    expected, _, _ = plateau_run(dg, kwargs)
    _, optimizer, scheduler = plateau_run(dg, kwargs, METRICS[:10])
    fresh_opt = make_optimizer(dg)
    fresh = dg.optim.lr_scheduler.ReduceLROnPlateau(fresh_opt, mode="max")
    fresh_opt.load_state_dict(copy.deepcopy(optimizer.state_dict()))
    fresh.load_state_dict(copy.deepcopy(scheduler.state_dict()))
    assert fresh.mode == "min"
    rest, _, _ = [], None, None
    for metric in METRICS[10:]:
        fresh_opt.step()
        fresh.step(metric)
        rest.append((list(fresh.get_last_lr()), [g["lr"] for g in fresh_opt.param_groups],
                     fresh.num_bad_epochs, fresh.cooldown_counter, fresh.best))
    assert rest == expected[10:]


def test_initial_lr_and_base_lrs_like_torch():
    for lib in (dg, torch):
        optimizer = make_optimizer(lib)
        scheduler = lib.optim.lr_scheduler.StepLR(optimizer, step_size=2)
        assert [g["initial_lr"] for g in optimizer.param_groups] == [0.1, 0.01]
        assert scheduler.base_lrs == [0.1, 0.01]
        assert scheduler.last_epoch == 0
    with pytest.raises(KeyError, match="param 'initial_lr' is not specified in param_groups"):
        dg.optim.lr_scheduler.StepLR(make_optimizer(dg), step_size=2, last_epoch=3)


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
                                  "LinearLR", "ConstantLR"])
def test_step_with_epoch_uses_closed_form_like_torch(name):
    def run(lib):
        optimizer = make_optimizer(lib)
        scheduler = CONFIGS[name](lib.optim.lr_scheduler, optimizer)
        lrs = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in (3, 7, 12, 5):
                optimizer.step()
                scheduler.step(epoch)
                lrs.append(scheduler.get_last_lr())
        return lrs

    assert run(dg) == run(torch)


def test_warns_when_scheduler_steps_before_optimizer():
    optimizer = make_optimizer(dg)
    scheduler = dg.optim.lr_scheduler.StepLR(optimizer, step_size=2)
    with pytest.warns(UserWarning, match=re.escape("Detected call of `lr_scheduler.step()` "
                                                   "before `optimizer.step()`")):
        scheduler.step()
    optimizer = make_optimizer(dg)
    scheduler = dg.optim.lr_scheduler.StepLR(optimizer, step_size=2)
    optimizer.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler.step()


def torch_error(build):
    try:
        build(torch)
    except Exception as error:  # noqa: BLE001 - we want torch's exception, whatever it is
        return error
    raise AssertionError("torch accepted the arguments")


INVALID = {
    "LinearLR-start": lambda lib, o: lib.optim.lr_scheduler.LinearLR(o, start_factor=0),
    "LinearLR-end": lambda lib, o: lib.optim.lr_scheduler.LinearLR(o, end_factor=1.5),
    "ConstantLR": lambda lib, o: lib.optim.lr_scheduler.ConstantLR(o, factor=2.0),
    "LambdaLR-count": lambda lib, o: lib.optim.lr_scheduler.LambdaLR(o, [lambda e: 1.0]),
    "Plateau-factor": lambda lib, o: lib.optim.lr_scheduler.ReduceLROnPlateau(o, factor=1.0),
    "Plateau-mode": lambda lib, o: lib.optim.lr_scheduler.ReduceLROnPlateau(o, mode="up"),
    "Plateau-threshold-mode": lambda lib, o: lib.optim.lr_scheduler.ReduceLROnPlateau(
        o, threshold_mode="ratio"),
    "Plateau-min-lrs": lambda lib, o: lib.optim.lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1]),
    "OneCycle-no-steps": lambda lib, o: lib.optim.lr_scheduler.OneCycleLR(o, max_lr=1.0),
    "OneCycle-total": lambda lib, o: lib.optim.lr_scheduler.OneCycleLR(o, 1.0, total_steps=0),
    "OneCycle-pct": lambda lib, o: lib.optim.lr_scheduler.OneCycleLR(o, 1.0, 10, pct_start=1.5),
    "OneCycle-anneal": lambda lib, o: lib.optim.lr_scheduler.OneCycleLR(
        o, 1.0, 10, anneal_strategy="exp"),
    "OneCycle-max-lr-count": lambda lib, o: lib.optim.lr_scheduler.OneCycleLR(o, [1.0], 10),
    "OneCycle-overrun": lambda lib, o: [s.step() for s in [
        lib.optim.lr_scheduler.OneCycleLR(o, 1.0, 3)] for _ in range(4)],
    "Sequential-milestones": lambda lib, o: lib.optim.lr_scheduler.SequentialLR(
        o, [lib.optim.lr_scheduler.StepLR(o, 2)], milestones=[3]),
    "Sequential-plateau": lambda lib, o: lib.optim.lr_scheduler.SequentialLR(
        o, [lib.optim.lr_scheduler.StepLR(o, 2), lib.optim.lr_scheduler.ReduceLROnPlateau(o)],
        milestones=[3]),
    "not-an-optimizer": lambda lib, o: lib.optim.lr_scheduler.StepLR("sgd", 2),
}


@pytest.mark.parametrize("name", list(INVALID))
def test_validation_matches_torch(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = torch_error(lambda lib: INVALID[name](lib, make_optimizer(lib)))
        with pytest.raises(type(expected), match="^" + re.escape(str(expected)) + "$"):
            INVALID[name](dg, make_optimizer(dg))
