"""The fit / train_one_epoch / evaluate loop against a hand-written torch loop."""

import io

import numpy as np
import pytest
import torch

import deepgrad
from deepgrad import nn, optim
from deepgrad.optim import lr_scheduler
from deepgrad.train import EpochProgress, evaluate, fit, train_one_epoch
from deepgrad.utils.data import DataLoader, TensorDataset

RNG = np.random.default_rng(0)
INPUTS = RNG.normal(size=(30, 5)).astype(np.float32)
TARGETS = (INPUTS[:, 0] + INPUTS[:, 1] > 0).astype(np.int64) + (INPUTS[:, 2] > 1)


def twins():
    """A deepgrad MLP and its torch twin with the same weights."""
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))
    twin = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    model.load_state_dict({k: deepgrad.tensor(v.detach().numpy())
                           for k, v in twin.state_dict().items()})
    return model, twin


def loader(batch_size=8, shuffle=False):
    data = TensorDataset(deepgrad.tensor(INPUTS), deepgrad.tensor(TARGETS))
    return DataLoader(data, batch_size=batch_size, shuffle=shuffle)


def torch_epoch(twin, optimizer, batch_size=8, scheduler=None):
    losses, correct = [], 0
    for start in range(0, len(INPUTS), batch_size):
        x = torch.tensor(INPUTS[start:start + batch_size])
        y = torch.tensor(TARGETS[start:start + batch_size])
        logits = twin(x)
        loss = torch.nn.functional.cross_entropy(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(loss.item() * len(y))
        correct += (logits.argmax(1) == y).sum().item()
    return sum(losses) / len(INPUTS), correct / len(INPUTS)


def assert_same_weights(model, twin):
    for name, value in twin.state_dict().items():
        np.testing.assert_allclose(model.state_dict()[name].numpy(), value.numpy(),
                                   rtol=1e-5, atol=1e-6, err_msg=name)


def test_train_one_epoch_matches_torch_loop():
    model, twin = twins()
    stats = train_one_epoch(model, loader(), nn.CrossEntropyLoss(),
                            optim.SGD(model.parameters(), lr=0.2, momentum=0.9))
    loss, accuracy = torch_epoch(twin, torch.optim.SGD(twin.parameters(), lr=0.2, momentum=0.9))
    assert stats["loss"] == pytest.approx(loss, rel=1e-5)
    assert stats["accuracy"] == pytest.approx(accuracy)
    assert stats["samples"] == 30 and model.training
    assert_same_weights(model, twin)


def test_fit_with_epoch_and_batch_schedules_matches_torch():
    for name in ("step", "onecycle"):
        model, twin = twins()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
        topt = torch.optim.SGD(twin.parameters(), lr=0.1, momentum=0.5)
        if name == "step":
            sched, tsched, mode = (lr_scheduler.StepLR(opt, 1, 0.5),
                                   torch.optim.lr_scheduler.StepLR(topt, 1, 0.5), "epoch")
        else:
            sched = lr_scheduler.OneCycleLR(opt, max_lr=0.3, total_steps=12)
            tsched, mode = torch.optim.lr_scheduler.OneCycleLR(topt, max_lr=0.3,
                                                               total_steps=12), "batch"
        history = fit(model, loader(), loader(), opt, nn.CrossEntropyLoss(), 3,
                      scheduler=sched, scheduler_step=mode, bar=False, stream=io.StringIO())
        lrs = []
        for _ in range(3):
            lrs.append(topt.param_groups[0]["lr"])
            torch_epoch(twin, topt, scheduler=tsched if mode == "batch" else None)
            if mode == "epoch":
                tsched.step()
        assert_same_weights(model, twin)
        assert [record["lr"] for record in history] == pytest.approx(lrs)
        assert [record["epoch"] for record in history] == [1, 2, 3]
        with torch.no_grad():
            logits = twin(torch.tensor(INPUTS))
            test_loss = torch.nn.functional.cross_entropy(logits, torch.tensor(TARGETS)).item()
        assert history[-1]["test_loss"] == pytest.approx(test_loss, rel=1e-5)


def test_plateau_scheduler_watches_the_test_loss():
    model, _ = twins()
    opt = optim.SGD(model.parameters(), lr=1e-3)  # slow progress: the loss plateaus
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5, threshold=0.5)
    history = fit(model, loader(), loader(batch_size=30), opt, nn.CrossEntropyLoss(), 3,
                  scheduler=sched, bar=False, stream=io.StringIO())
    # epoch 1 sets the best loss, epoch 2 does not halve it: the rate halves for epoch 3
    assert [record["lr"] for record in history] == pytest.approx([1e-3, 1e-3, 5e-4])
    assert sched.best == history[0]["test_loss"] != history[0]["train_loss"]


def test_evaluate_matches_torch_and_restores_mode():
    model, twin = twins()
    model.train()
    result = evaluate(model, loader(batch_size=7), nn.CrossEntropyLoss(), num_classes=3)
    with torch.no_grad():
        logits = twin(torch.tensor(INPUTS))
    predictions = logits.argmax(1).numpy()
    assert result["accuracy"] == pytest.approx((predictions == TARGETS).mean())
    assert result["loss"] == pytest.approx(
        torch.nn.functional.cross_entropy(logits, torch.tensor(TARGETS)).item(), rel=1e-5)
    np.testing.assert_array_equal(result["predictions"], predictions)
    expected = np.zeros((3, 3), np.int64)
    np.add.at(expected, (TARGETS, predictions), 1)
    np.testing.assert_array_equal(result["confusion"], expected)
    assert model.training  # put back as it was
    assert all(p.grad is None for p in model.parameters())  # no graph, no gradients


def test_limit_batches_and_callback():
    model, _ = twins()
    seen = []
    history = fit(model, loader(), None, optim.SGD(model.parameters(), lr=0.1),
                  nn.CrossEntropyLoss(), 2, limit_batches=2, bar=False, stream=io.StringIO(),
                  on_epoch_end=lambda epoch, records: seen.append((epoch, len(records))))
    assert seen == [(1, 1), (2, 2)]
    assert history[0]["test_accuracy"] is None
    stats = train_one_epoch(model, loader(), nn.CrossEntropyLoss(),
                            optim.SGD(model.parameters(), lr=0.1), limit_batches=2)
    assert stats["samples"] == 16


def test_fit_rejects_unknown_scheduler_step():
    model, _ = twins()
    with pytest.raises(ValueError, match="scheduler_step must be 'epoch' or 'batch'"):
        fit(model, loader(), None, optim.SGD(model.parameters(), lr=0.1),
            nn.CrossEntropyLoss(), 1, scheduler_step="step")


def test_progress_prints_plain_lines_when_not_a_terminal():
    stream = io.StringIO()
    model, _ = twins()
    fit(model, loader(), None, optim.SGD(model.parameters(), lr=0.1), nn.CrossEntropyLoss(),
        2, stream=stream)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and "\r" not in stream.getvalue()
    assert lines[0].startswith("epoch 1/2: loss ") and "img/s" in lines[0]


def test_progress_bar_shows_loss_accuracy_rate_and_eta():
    stream = io.StringIO()
    progress = EpochProgress(100, "epoch 1/3", stream=stream, bar=True)
    progress.update(40, loss=0.5, accuracy=0.75)
    progress.close()
    text = stream.getvalue()
    assert "epoch 1/3" in text and "loss=0.5000" in text and "acc=75.00%" in text
    assert "img/s" in text and "40/100" in text and "<" in text  # elapsed<remaining (ETA)
