"""Checkpoints: round trip, RNG states, resume equality, unreadable files, torch weights."""

import json
import random
import sys

import numpy as np
import pytest
import torch

import deepgrad
from deepgrad import nn, optim
from deepgrad.optim import lr_scheduler
from deepgrad.train import (
    CheckpointError,
    fit,
    load_checkpoint,
    load_weights,
    restore_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from deepgrad.utils.data import DataLoader, TensorDataset


def tiny_model():
    return nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))


def tiny_data():
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(40, 6)).astype(np.float32)
    targets = (inputs[:, 0] > 0).astype(np.int64) + (inputs[:, 1] > 0.5)
    return TensorDataset(deepgrad.tensor(inputs), deepgrad.tensor(targets))


def build():
    model = tiny_model()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.8)
    return model, optimizer, scheduler


def run(model, optimizer, scheduler, epochs, start_epoch=0, history=None, on_epoch_end=None):
    loader = DataLoader(tiny_data(), batch_size=8, shuffle=True)
    return fit(model, loader, None, optimizer, nn.CrossEntropyLoss(), epochs,
               scheduler=scheduler, start_epoch=start_epoch, history=history,
               on_epoch_end=on_epoch_end, bar=False, stream=_Sink())


class _Sink:
    def write(self, text):
        pass

    def flush(self):
        pass


def test_round_trip_restores_every_state(tmp_path):
    deepgrad.manual_seed(0)
    model, optimizer, scheduler = build()
    history = run(model, optimizer, scheduler, 2)
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, model=model, optimizer=optimizer, scheduler=scheduler, epoch=2,
                    history=history, config={"model": "tiny", "lr": 0.1, "classes": [1, 2]})
    checkpoint = load_checkpoint(tmp_path)  # a run folder works too
    assert checkpoint["epoch"] == 2 and checkpoint["config"]["classes"] == [1, 2]
    deepgrad.manual_seed(123)
    fresh, fresh_optimizer, fresh_scheduler = build()
    epoch, restored_history = restore_checkpoint(checkpoint, fresh, fresh_optimizer,
                                                 fresh_scheduler)
    assert epoch == 2 and restored_history == history
    for (name, value), (_, restored) in zip(model.state_dict().items(),
                                            fresh.state_dict().items()):
        np.testing.assert_array_equal(value.numpy(), restored.numpy(), err_msg=name)
    momentum = optimizer.state_dict()["state"][0]["momentum_buffer"].numpy()
    restored = fresh_optimizer.state_dict()["state"][0]["momentum_buffer"].numpy()
    np.testing.assert_array_equal(momentum, restored)
    assert fresh_scheduler.last_epoch == 2
    assert fresh_optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.8**2)


def test_rng_state_round_trip_covers_deepgrad_numpy_and_python():
    deepgrad.manual_seed(5)
    np.random.seed(5)
    random.seed(5)
    state = rng_state()
    first = (deepgrad.rand(3).numpy(), np.random.rand(3), [random.random() for _ in range(3)])
    set_rng_state(state)
    again = (deepgrad.rand(3).numpy(), np.random.rand(3), [random.random() for _ in range(3)])
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert first[2] == again[2]


def test_resumed_run_ends_with_the_same_weights_as_an_uninterrupted_one(tmp_path):
    deepgrad.manual_seed(0)
    model, optimizer, scheduler = build()
    run(model, optimizer, scheduler, 4)
    uninterrupted = {k: v.numpy().copy() for k, v in model.state_dict().items()}

    path = tmp_path / "checkpoint.pt"
    deepgrad.manual_seed(0)
    model, optimizer, scheduler = build()

    def stop_after_two(epoch, history):
        save_checkpoint(path, model=model, optimizer=optimizer, scheduler=scheduler,
                        epoch=epoch, history=history)

    run(model, optimizer, scheduler, 2, on_epoch_end=stop_after_two)
    deepgrad.rand(100)  # the interrupted process did more random work before it stopped

    deepgrad.manual_seed(99)  # a new process: different seed, fresh objects
    model, optimizer, scheduler = build()
    start, history = restore_checkpoint(load_checkpoint(path), model, optimizer, scheduler)
    history = run(model, optimizer, scheduler, 4, start_epoch=start, history=history)
    assert [record["epoch"] for record in history] == [1, 2, 3, 4]
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), uninterrupted[name], err_msg=name)


def test_resume_without_rng_restore_differs(tmp_path):
    """The check above can fail: skipping the RNG restore changes the shuffles and masks."""
    deepgrad.manual_seed(0)
    model, optimizer, scheduler = build()
    run(model, optimizer, scheduler, 4)
    uninterrupted = model.state_dict()["3.weight"].numpy().copy()
    deepgrad.manual_seed(0)
    model, optimizer, scheduler = build()
    path = tmp_path / "c.pt"
    run(model, optimizer, scheduler, 2, on_epoch_end=lambda epoch, history: save_checkpoint(
        path, model=model, optimizer=optimizer, scheduler=scheduler, epoch=epoch))
    deepgrad.manual_seed(99)
    model, optimizer, scheduler = build()
    start, _ = restore_checkpoint(load_checkpoint(path), model, optimizer, scheduler,
                                  restore_rng=False)
    run(model, optimizer, scheduler, 4, start_epoch=start)
    assert not np.array_equal(model.state_dict()["3.weight"].numpy(), uninterrupted)


def test_unreadable_and_foreign_files_are_refused_with_the_reason(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="cannot read checkpoint .*garbage.pt"):
        load_checkpoint(garbage)
    bare = tmp_path / "bare.pt"
    deepgrad.save(tiny_model().state_dict(), bare)
    with pytest.raises(CheckpointError, match="not a deepgrad training checkpoint"):
        load_checkpoint(bare)
    truncated = tmp_path / "truncated.pt"
    save_checkpoint(truncated, model=tiny_model())
    truncated.write_bytes(truncated.read_bytes()[:200])
    with pytest.raises(CheckpointError, match="cannot read checkpoint"):
        load_checkpoint(truncated)


def test_state_that_does_not_fit_is_refused(tmp_path):
    path = tmp_path / "c.pt"
    save_checkpoint(path, model=tiny_model())
    other = nn.Sequential(nn.Linear(6, 5))
    with pytest.raises(CheckpointError, match="saved model state does not fit"):
        restore_checkpoint(load_checkpoint(path), other)
    with pytest.raises(CheckpointError, match="no optimizer state"):
        model, optimizer, _ = build()
        restore_checkpoint(load_checkpoint(path), model, optimizer)


def test_failed_save_leaves_the_previous_checkpoint_intact(tmp_path):
    path = tmp_path / "c.pt"
    save_checkpoint(path, model=tiny_model(), epoch=1)
    before = path.read_bytes()
    with pytest.raises(TypeError):
        save_checkpoint(path, model=tiny_model(), epoch=2, config={"bad": object()})
    assert path.read_bytes() == before
    assert load_checkpoint(path)["epoch"] == 1


def test_load_weights_reads_torch_state_dicts_and_training_checkpoints(tmp_path):
    twin = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Dropout(0.3),
                               torch.nn.Linear(16, 3))
    torch.save(twin.state_dict(), tmp_path / "twin.pth")
    torch.save({"model_state_dict": twin.state_dict(), "epoch": 3}, tmp_path / "wrapped.pth")
    for name in ("twin.pth", "wrapped.pth"):
        state, config = load_weights(tmp_path / name)
        assert config is None
        model = tiny_model()
        model.load_state_dict(state)
        x = np.random.default_rng(0).normal(size=(2, 6)).astype(np.float32)
        expected = twin.eval()(torch.tensor(x)).detach().numpy()
        np.testing.assert_allclose(model.eval()(deepgrad.tensor(x)).detach().numpy(), expected,
                                   rtol=1e-5, atol=1e-6)
    save_checkpoint(tmp_path / "run.pt", model=tiny_model(), config={"model": "tiny"})
    state, config = load_weights(tmp_path / "run.pt")
    assert config == {"model": "tiny"} and "0.weight" in state
    deepgrad.save({"epoch": 3}, tmp_path / "nothing.pt")
    with pytest.raises(CheckpointError, match="holds no model weights"):
        load_weights(tmp_path / "nothing.pt")


def test_run_folder_metrics_files_and_refusal(tmp_path):
    from deepgrad.train import RunFolder, RunFolderError, default_run_dir

    run = RunFolder.create(tmp_path / "run")
    history = [{"epoch": 1, "train_loss": 0.5, "train_accuracy": 0.75, "test_loss": float("nan"),
                "test_accuracy": None, "lr": 0.1, "seconds": 1.5}]
    run.write_metrics(history, config={"model": "tiny"}, final={"test_accuracy": 0.5})
    document = json.loads(run.metrics_json.read_text())
    assert document["history"][0]["test_loss"] is None  # NaN is not JSON
    assert document["config"] == {"model": "tiny"} and document["final"]["test_accuracy"] == 0.5
    assert run.metrics_csv.read_text().splitlines() == [
        "epoch,train_loss,train_accuracy,test_loss,test_accuracy,lr,seconds",
        "1,0.5,0.75,,,0.1,1.5"]
    with pytest.raises(RunFolderError, match="already holds files"):
        RunFolder.create(tmp_path / "run")
    save_checkpoint(run.checkpoint, model=tiny_model())
    with pytest.raises(RunFolderError, match="already holds a run.*--resume"):
        RunFolder.check_new(run.path)
    (tmp_path / "empty").mkdir()
    RunFolder.check_new(tmp_path / "empty")  # an empty folder is free
    first = default_run_dir("lenet", "digits", root=tmp_path, now=0)
    first.mkdir()
    second = default_run_dir("lenet", "digits", root=tmp_path, now=0)
    assert first.name.endswith("-lenet-digits") and second.name == first.name + "-2"


def test_plot_without_matplotlib_writes_nothing(tmp_path, monkeypatch):
    from deepgrad.train import matplotlib_available, plot_history

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    assert not matplotlib_available()
    history = [{"epoch": 1, "train_loss": 1.0, "train_accuracy": 0.5}]
    assert plot_history(history, tmp_path / "plot.png") is None
    assert not (tmp_path / "plot.png").exists()
