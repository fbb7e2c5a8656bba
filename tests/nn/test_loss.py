"""Losses, functional and module, against torch with every option: values, gradients of
inputs and targets, second-order gradients (where torch has them), and errors."""

import warnings

import numpy as np
import pytest
import torch

import deepgrad
from oracle import OpCase, assert_close, case_params, check_case

REDUCTIONS = ("none", "mean", "sum")
N, C = 5, 4
TARGET = np.array([0, 3, 1, 1, 2])
IGNORED = np.array([0, 3, -100, 1, 2])
IGNORED_CLASS = np.array([0, 3, 2, 1, 2])  # with ignore_index=2


def F(lib):
    return lib.nn.functional


def probabilities(rng, shape, dtype):
    return rng.uniform(0.05, 0.95, size=shape)


def ce_cases():
    cases = []
    for reduction in REDUCTIONS:
        for smoothing in (0.0, 0.3):
            tag = f"{reduction}-ls{smoothing}"
            cases += [
                OpCase(f"ce-{tag}", lambda lib, x, t, r=reduction, s=smoothing:
                       F(lib).cross_entropy(x, t, reduction=r, label_smoothing=s),
                       [((N, C), TARGET)]),
                OpCase(f"ce-weight-{tag}", lambda lib, x, t, w, r=reduction, s=smoothing:
                       F(lib).cross_entropy(x, t, w, reduction=r, label_smoothing=s),
                       [((N, C), TARGET, (C,))], no_grad_inputs=(2,)),
                OpCase(f"ce-ignore-{tag}", lambda lib, x, t, w, r=reduction, s=smoothing:
                       F(lib).cross_entropy(x, t, w, reduction=r, label_smoothing=s),
                       [((N, C), IGNORED, (C,))], no_grad_inputs=(2,)),
                OpCase(f"ce-ignore-class-{tag}", lambda lib, x, t, r=reduction, s=smoothing:
                       F(lib).cross_entropy(x, t, ignore_index=2, reduction=r,
                                            label_smoothing=s), [((N, C), IGNORED_CLASS)]),
                OpCase(f"ce-nd-{tag}", lambda lib, x, t, w, r=reduction, s=smoothing:
                       F(lib).cross_entropy(x, t, w, reduction=r, label_smoothing=s),
                       [((2, C, 3, 2), (2, 3, 2), (C,))], int_inputs={1: C},
                       no_grad_inputs=(2,)),
                OpCase(f"ce-unbatched-{tag}", lambda lib, x, t, r=reduction, s=smoothing:
                       F(lib).cross_entropy(x, t, reduction=r, label_smoothing=s),
                       [((C,), np.array(2))]),
                OpCase(f"ce-probs-{tag}", lambda lib, x, t, r=reduction, s=smoothing:
                       F(lib).cross_entropy(x, t, reduction=r, label_smoothing=s),
                       [((N, C), (N, C)), ((2, C, 3), (2, C, 3))]),
                OpCase(f"ce-probs-weight-{tag}", lambda lib, x, t, w, r=reduction, s=smoothing:
                       F(lib).cross_entropy(x, t, w, reduction=r, label_smoothing=s),
                       [((N, C), (N, C), (C,))], no_grad_inputs=(2,)),
            ]
        cases += [
            OpCase(f"nll-{reduction}", lambda lib, x, t, r=reduction: F(lib).nll_loss(
                x, t, reduction=r), [((N, C), TARGET), ((C,), np.array(3))]),
            OpCase(f"nll-weight-ignore-{reduction}", lambda lib, x, t, w, r=reduction:
                   F(lib).nll_loss(x, t, w, reduction=r), [((N, C), IGNORED, (C,))],
                   no_grad_inputs=(2,)),
            OpCase(f"nll-nd-{reduction}", lambda lib, x, t, r=reduction: F(lib).nll_loss(
                x, t, ignore_index=1, reduction=r), [((2, C, 3), (2, 3))], int_inputs={1: C}),
        ]
    cases.append(OpCase("ce-logits-1e4", lambda lib, x, t: F(lib).cross_entropy(x, t),
                        [((N, C), TARGET)], domain=(-1e4, 1e4)))
    return cases


def regression_cases():
    cases = []
    for reduction in REDUCTIONS:
        def case(name, fn, shapes=(((3, 4), (3, 4)), ((6,), (6,))), reduction=reduction,
                 **kwargs):
            return OpCase(f"{name}-{reduction}", fn, list(shapes), **kwargs)
        cases += [
            case("mse", lambda lib, x, y, r=reduction: F(lib).mse_loss(x, y, reduction=r)),
            case("mse-weight", lambda lib, x, y, w, r=reduction: F(lib).mse_loss(
                x, y, reduction=r, weight=w), [((3, 4), (3, 4), (3, 4))], no_grad_inputs=(2,),
                domain=(0.1, 2.0)),
            # l1's second derivative is torch's ZeroTensor, which cannot be compared
            case("l1", lambda lib, x, y, r=reduction: F(lib).l1_loss(x, y, reduction=r),
                 gradgrad=False),
            case("l1-weight", lambda lib, x, y, w, r=reduction: F(lib).l1_loss(
                x, y, reduction=r, weight=w), [((3, 4), (3, 4), (3, 4))], no_grad_inputs=(2,),
                domain=(0.1, 2.0), gradgrad=False),
            case("smooth_l1", lambda lib, x, y, r=reduction: F(lib).smooth_l1_loss(
                x, y, reduction=r)),
            case("smooth_l1-beta", lambda lib, x, y, r=reduction: F(lib).smooth_l1_loss(
                x, y, reduction=r, beta=0.5)),
            case("smooth_l1-beta0", lambda lib, x, y, r=reduction: F(lib).smooth_l1_loss(
                x, y, reduction=r, beta=0.0), gradgrad=False),
            case("huber", lambda lib, x, y, r=reduction: F(lib).huber_loss(x, y, reduction=r)),
            case("huber-delta", lambda lib, x, y, r=reduction: F(lib).huber_loss(
                x, y, reduction=r, delta=0.4)),
            case("huber-weight", lambda lib, x, y, w, r=reduction: F(lib).huber_loss(
                x, y, reduction=r, delta=2.0, weight=w), [((3, 4), (3, 4), (3, 4))],
                no_grad_inputs=(2,), domain=(0.1, 2.0)),
            case("bce", lambda lib, x, y, r=reduction: F(lib).binary_cross_entropy(
                x, y, reduction=r), domain=probabilities),
            case("bce-weight", lambda lib, x, y, w, r=reduction: F(lib).binary_cross_entropy(
                x, y, w, reduction=r), [((3, 4), (3, 4), (4,))], domain=probabilities,
                no_grad_inputs=(2,)),
            case("bce_logits", lambda lib, x, y, r=reduction:
                 F(lib).binary_cross_entropy_with_logits(x, y, reduction=r)),
            case("bce_logits-weights", lambda lib, x, y, w, p, r=reduction:
                 F(lib).binary_cross_entropy_with_logits(x, y, w, reduction=r, pos_weight=p),
                 [((3, 4), (3, 4), (3, 1), (4,))], no_grad_inputs=(2, 3)),
            case("kl_div", lambda lib, x, y, r=reduction: F(lib).kl_div(x, y, reduction=r),
                 domain=probabilities),
            case("kl_div-log_target", lambda lib, x, y, r=reduction: F(lib).kl_div(
                x, y, reduction=r, log_target=True)),
            case("soft_margin", lambda lib, x, y, r=reduction: F(lib).soft_margin_loss(
                x, y, reduction=r), [((3, 4), np.sign(np.arange(12.0) - 5.5).reshape(3, 4))],
                dtypes=("float64",), no_grad_inputs=(1,)),
        ]
        for p in (1, 2):
            for margin in (1.0, 0.3):
                cases.append(OpCase(
                    f"multi_margin-p{p}-m{margin}-{reduction}",
                    lambda lib, x, t, r=reduction, p=p, m=margin: F(lib).multi_margin_loss(
                        x, t, p=p, margin=m, reduction=r),
                    [((N, C), TARGET), ((C,), np.array(1))], gradgrad=False))
            cases.append(OpCase(
                f"multi_margin-weight-p{p}-{reduction}",
                lambda lib, x, t, w, r=reduction, p=p: F(lib).multi_margin_loss(
                    x, t, p=p, weight=w, reduction=r),
                [((N, C), TARGET, (C,))], gradgrad=False, no_grad_inputs=(2,)))
    cases.append(OpCase("kl_div-batchmean", lambda lib, x, y: F(lib).kl_div(
        x, y, reduction="batchmean"), [((3, 4), (3, 4))], domain=probabilities))
    return cases


SIGNS = np.array([1.0, -1.0, 1.0, -1.0, -1.0])


def pair_cases():
    cases = []
    for reduction in REDUCTIONS:
        cases += [
            OpCase(f"margin_ranking-{reduction}", lambda lib, a, b, y, r=reduction:
                   F(lib).margin_ranking_loss(a, b, y, margin=0.2, reduction=r),
                   [((5,), (5,), SIGNS)], dtypes=("float64",)),
            OpCase(f"hinge_embedding-{reduction}", lambda lib, x, y, r=reduction:
                   F(lib).hinge_embedding_loss(x, y, margin=0.5, reduction=r),
                   [((5,), SIGNS)], dtypes=("float64",)),
            OpCase(f"cosine_embedding-{reduction}", lambda lib, a, b, y, r=reduction:
                   F(lib).cosine_embedding_loss(a, b, y.long(), margin=0.1, reduction=r),
                   [((5, 3), (5, 3), SIGNS)], dtypes=("float64",)),
        ]
    return cases


def _with_warnings_silenced(case):
    fn = case.fn

    def quiet(lib, *tensors):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(lib, *tensors)

    case.fn = quiet
    return case


CASES = [_with_warnings_silenced(c) for c in ce_cases() + regression_cases() + pair_cases()]


@pytest.mark.parametrize("case,shapes,dtype", case_params(CASES))
def test_loss_matches_torch(case, shapes, dtype):
    check_case(case, shapes, dtype)


def test_cross_entropy_all_ignored_and_empty_match_torch():
    for target, reduction in ((np.full(4, -100), "mean"), (np.full(4, -100), "sum")):
        x = np.random.default_rng(0).standard_normal((4, 3))
        x_d, x_t = deepgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        d = deepgrad.nn.functional.cross_entropy(x_d, deepgrad.tensor(target), reduction=reduction)
        t = torch.nn.functional.cross_entropy(x_t, torch.tensor(target), reduction=reduction)
        assert_close(d, t, 0, 0, "all ignored")
        d.backward()
        t.backward()
        assert_close(x_d.grad, x_t.grad, 0, 0, "all ignored grad")
    empty_d = deepgrad.nn.functional.cross_entropy(deepgrad.zeros(0, 3), deepgrad.zeros(0).long())
    assert np.isnan(empty_d.item())


def test_cross_entropy_errors():
    F_d = deepgrad.nn.functional
    x = deepgrad.zeros(4, 3)
    with pytest.raises(ValueError) as error:
        F_d.cross_entropy(x, deepgrad.tensor([0, 1, 2, 1, 0]))
    assert str(error.value) == ("cross_entropy: expected target with shape (N,) for input (N, C); "
                                "got input with shape (4, 3) and target with shape (5,)")
    with pytest.raises(RuntimeError, match=r"\(N, d1, \.\.\.\)"):
        F_d.cross_entropy(deepgrad.zeros(2, 3, 4), deepgrad.tensor([0, 1]))
    with pytest.raises(IndexError, match="Target 3 is out of bounds"):
        F_d.cross_entropy(x, deepgrad.tensor([0, 1, 2, 3]))
    with pytest.raises(IndexError, match="Target -1 is out of bounds"):
        F_d.nll_loss(x, deepgrad.tensor([0, 1, 2, -1]))
    with pytest.raises(ValueError, match="bad is not a valid value for reduction"):
        F_d.cross_entropy(x, deepgrad.tensor([0, 1, 2, 1]), reduction="bad")
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0"):
        F_d.cross_entropy(x, deepgrad.tensor([0, 1, 2, 1]), label_smoothing=1.5)
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte"):
        F_d.cross_entropy(x, deepgrad.tensor([0, 1, 2, 1], dtype=deepgrad.int32))
    with pytest.raises(RuntimeError, match="ignore_index is not supported for floating point"):
        F_d.cross_entropy(x, deepgrad.zeros(4, 3), ignore_index=1)
    with pytest.raises(RuntimeError, match="weight tensor should be defined either for all 3"):
        F_d.cross_entropy(x, deepgrad.tensor([0, 1, 2, 1]), weight=deepgrad.ones(4))


def test_other_loss_errors_match_torch():
    F_d = deepgrad.nn.functional
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F_d.binary_cross_entropy(deepgrad.tensor([1.5]), deepgrad.tensor([1.0]))
    with pytest.raises(ValueError, match="different to the input size"):
        F_d.binary_cross_entropy(deepgrad.tensor([0.5]), deepgrad.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="must be the same as input size"):
        F_d.binary_cross_entropy_with_logits(deepgrad.tensor([0.5]), deepgrad.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
        F_d.multi_margin_loss(deepgrad.zeros(2, 3), deepgrad.tensor([0, 1]), p=3)
    with pytest.raises(RuntimeError, match="target out of range"):
        F_d.multi_margin_loss(deepgrad.zeros(2, 3), deepgrad.tensor([0, 3]))
    with pytest.raises(ValueError, match="Weights and input must have the same size"):
        F_d.mse_loss(deepgrad.zeros(2), deepgrad.zeros(2), weight=deepgrad.ones(3))
    with pytest.warns(UserWarning, match="Using a target size"):
        F_d.mse_loss(deepgrad.zeros(3, 4), deepgrad.zeros(4))
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        F_d.kl_div(deepgrad.zeros(2), deepgrad.ones(2))
    with pytest.warns(UserWarning, match="reduction='sum' instead"):
        F_d.l1_loss(deepgrad.zeros(2), deepgrad.ones(2), size_average=False)


def test_bce_saturated_input_gradient_matches_torch():
    """A sigmoid saturated to exactly 0 or 1: torch's gradient is finite (clamped at 1e-12)."""
    x = np.array([0.0, 1.0, 0.5], dtype=np.float32)
    y = np.array([1.0, 0.0, 1.0], dtype=np.float32)
    x_d, x_t = deepgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    d = deepgrad.nn.functional.binary_cross_entropy(x_d, deepgrad.tensor(y))
    t = torch.nn.functional.binary_cross_entropy(x_t, torch.tensor(y))
    assert_close(d, t, 1e-6, 0, "bce at 0 and 1")
    d.backward()
    t.backward()
    assert_close(x_d.grad, x_t.grad, 1e-6, 0, "bce grad at 0 and 1")


def test_bce_with_logits_stable_for_large_logits():
    x = np.array([-200.0, -50.0, 0.0, 50.0, 200.0], dtype=np.float32)
    y = np.array([1.0, 0.0, 1.0, 0.0, 1.0], dtype=np.float32)
    d = deepgrad.nn.functional.binary_cross_entropy_with_logits(
        deepgrad.tensor(x), deepgrad.tensor(y), reduction="none")
    t = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor(x), torch.tensor(y),
                                                             reduction="none")
    assert np.all(np.isfinite(d.numpy()))
    assert_close(d, t, 1e-6, 1e-6, "bce with logits")


MODULE_CASES = [
    ("MSELoss", {}, "regression"), ("MSELoss", {"reduction": "sum"}, "regression"),
    ("L1Loss", {"reduction": "none"}, "regression"), ("SmoothL1Loss", {"beta": 0.5}, "regression"),
    ("HuberLoss", {"delta": 0.5}, "regression"), ("BCELoss", {}, "probability"),
    ("BCELoss", {"weight": np.arange(1.0, 5.0)}, "probability"),
    ("BCEWithLogitsLoss", {"pos_weight": np.arange(1.0, 5.0)}, "regression"),
    ("KLDivLoss", {"reduction": "batchmean"}, "probability"),
    ("CrossEntropyLoss", {}, "class"),
    ("CrossEntropyLoss", {"weight": np.arange(1.0, 5.0), "ignore_index": 1,
                          "label_smoothing": 0.1}, "class"),
    ("NLLLoss", {"weight": np.arange(1.0, 5.0)}, "class"),
    ("MultiMarginLoss", {"p": 2, "margin": 0.5, "weight": np.arange(1.0, 5.0)}, "class"),
]


@pytest.mark.parametrize("name,kwargs,kind", MODULE_CASES)
def test_loss_modules_match_torch(name, kwargs, kind):
    t_kwargs = {k: torch.tensor(v, dtype=torch.float32) if isinstance(v, np.ndarray) else v
                for k, v in kwargs.items()}
    d_kwargs = {k: deepgrad.tensor(v, dtype=deepgrad.float32) if isinstance(v, np.ndarray)
                else v for k, v in kwargs.items()}
    t_loss, d_loss = getattr(torch.nn, name)(**t_kwargs), getattr(deepgrad.nn, name)(**d_kwargs)
    assert repr(d_loss) == repr(t_loss)
    assert list(d_loss.state_dict()) == list(t_loss.state_dict())
    rng = np.random.default_rng(0)
    x = rng.uniform(0.05, 0.95, (N, C)).astype(np.float32)
    y = {"class": TARGET, "probability": rng.uniform(0.05, 0.95, (N, C)).astype(np.float32),
         "regression": rng.standard_normal((N, C)).astype(np.float32)}[kind]
    x_d, x_t = deepgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    d, t = d_loss(x_d, deepgrad.tensor(y)), t_loss(x_t, torch.tensor(y))
    assert_close(d, t, 1e-5, 1e-6, name)
    d.sum().backward()
    t.sum().backward()
    assert_close(x_d.grad, x_t.grad, 1e-5, 1e-6, name + " grad")


def test_weight_buffer_follows_to():
    loss = deepgrad.nn.CrossEntropyLoss(weight=deepgrad.ones(3))
    loss.to(deepgrad.float64)
    assert loss.weight.dtype == deepgrad.float64
    assert list(loss.state_dict()) == ["weight"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("spread", [1.0, 59.0, 61.0, 1e4])
def test_cross_entropy_global_and_row_shifts_match_torch(spread, dtype):
    """Logits within a small range share one stability shift (the global max), wider ones
    get each row's max (ops/loss.py); rows far below the global max must stay exact."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 5)) * 0.5
    x[0, 0] = spread  # one large logit: every other row sits about `spread` below it
    target = rng.integers(0, 5, 64)
    results = []
    for lib in (deepgrad, torch):
        logits = lib.tensor(x.astype(dtype), requires_grad=True)
        loss = lib.nn.functional.cross_entropy(logits, lib.tensor(target), reduction="none")
        loss.sum().backward()
        results.append((loss.detach().numpy(), logits.grad.numpy()))
    (d_loss, d_grad), (t_loss, t_grad) = results
    np.testing.assert_allclose(d_loss, t_loss, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(d_grad, t_grad, rtol=1e-5, atol=1e-7)
