"""The `deepgrad` command, run in-process through `main([...])` on the bundled digits."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

import deepgrad
from deepgrad.cli import main
from deepgrad.train import load_checkpoint
from deepgrad.train.runs import RunFolder

QUICK = ["--limit-batches", "2", "--batch-size", "16", "--no-bar"]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One quick training run shared by the tests that read a run folder."""
    out = tmp_path_factory.mktemp("runs") / "lenet-digits"
    assert main(["train", "--epochs", "1", "--out", str(out), *QUICK]) == 0
    return out


def weights(run_dir) -> dict:
    return {k: v.numpy() for k, v in load_checkpoint(run_dir)["model"].items()}


def one_error_line(capsys, argv, *fragments):
    """Run argv, expect a non-zero exit with exactly one stderr line and no traceback."""
    status = main(argv)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert status != 0, captured.out
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err + captured.out
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def test_train_creates_run_folder_with_checkpoint_and_metrics(trained_run, capsys):
    files = {path.name for path in trained_run.iterdir()}
    assert {"checkpoint.pt", "metrics.json", "metrics.csv"} <= files
    document = json.loads((trained_run / "metrics.json").read_text())
    assert document["config"]["model"] == "lenet"
    assert document["config"]["dataset"] == "digits"
    assert document["config"]["image_size"] == 28
    assert [record["epoch"] for record in document["history"]] == [1]
    assert set(document["final"]) >= {"train_loss", "train_accuracy", "test_accuracy",
                                      "seconds"}
    csv_lines = (trained_run / "metrics.csv").read_text().splitlines()
    assert csv_lines[0] == "epoch,train_loss,train_accuracy,test_loss,test_accuracy,lr,seconds"
    assert csv_lines[1].startswith("1,") and len(csv_lines) == 2
    checkpoint = load_checkpoint(trained_run)
    assert checkpoint["epoch"] == 1
    assert checkpoint["model"]["classifier.5.weight"].shape == (10, 84)
    if deepgrad.train.matplotlib_available():
        assert "metrics.png" in files


def test_train_prints_progress_and_final_table(tmp_path, capsys):
    assert main(["train", "--epochs", "2", "--out", str(tmp_path / "run"), *QUICK]) == 0
    captured = capsys.readouterr()
    progress = captured.err.splitlines()
    assert progress[0].startswith("epoch 1/2: loss ") and "img/s" in progress[0]
    table = captured.out.splitlines()
    header = next(i for i, line in enumerate(table) if line.split()[:3] == ["epoch", "train",
                                                                             "loss"])
    assert [line.split()[0] for line in table[header + 1:header + 3]] == ["1", "2"]
    assert "test accuracy" in captured.out and "training time" in captured.out


def test_evaluate_prints_accuracy_per_class_and_confusion_matrix(trained_run, capsys):
    assert main(["evaluate", str(trained_run / "checkpoint.pt")]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    accuracy_line = next(line for line in lines if line.startswith("accuracy:"))
    correct, total = accuracy_line.split("(")[1].rstrip(")").split("/")
    assert int(total) == 360
    matrix_start = lines.index("confusion matrix (rows: true class, columns: predicted class)")
    rows = [line.split()[1:] for line in lines[matrix_start + 2:matrix_start + 12]]
    matrix = np.array(rows, dtype=np.int64)
    assert matrix.shape == (10, 10) and matrix.sum() == 360
    assert np.trace(matrix) == int(correct)
    per_class = lines[lines.index(next(line for line in lines if line.startswith("class"))) + 1]
    assert per_class.split()[0] == "0"


def test_summary_lenet(capsys):
    assert main(["summary", "lenet", "--input-size", "1,28,28"]) == 0
    out = capsys.readouterr().out
    assert "total parameters:         61,706" in out
    assert "6x1x5x5 + 6 = 156" in out and "floor((28 + 2*2 - 5 + 1) / 1) = 28" in out


@pytest.mark.parametrize("argv, fragments", [
    (["train", "--model", "nosuchnet"], ["unknown model 'nosuchnet'", "lenet", "resnet18"]),
    (["train", "--dataset", "imagenet"], ["unknown dataset",
                                          "digits, mnist, fashion-mnist, cifar10"]),
    (["train", "--optimizer", "lbfgs"], ["--optimizer", "invalid choice", "sgd"]),
    (["train", "--augment", "rotate"], ["unknown augmentation 'rotate'", "flip, crop, color"]),
    (["train", "--image-size", "20"], ["does not fit LeNet", "--image-size"]),
    (["train", "--classes", "3-12"], ["--classes 10 is not a label of digits"]),
    (["summary", "lenet", "--input-size", "3,32,32"], ["input size (3, 32, 32)",
                                                       "classifier.1"]),
    (["summary", "lenet", "--input-size", "a,b"], ["invalid size"]),
    (["summary", "vgg99"], ["unknown model 'vgg99'", "vgg11"]),
    (["train", "--device", "cuda"], ["not available", "cpu"]),
])
def test_bad_input_one_line_no_traceback(argv, fragments, capsys, tmp_path):
    out = tmp_path / "never"
    if argv[0] == "train":
        argv = argv + ["--out", str(out)]
    one_error_line(capsys, argv, *fragments)
    assert not out.exists()


def test_missing_data_offline_says_where_it_looked(capsys, tmp_path):
    empty, out = tmp_path / "empty", tmp_path / "run"
    empty.mkdir()
    line = one_error_line(capsys, ["train", "--dataset", "mnist", "--data-dir", str(empty),
                                   "--out", str(out)], "mnist training data not available")
    assert str(empty) in line and "--data-dir" in line
    assert not out.exists()


def test_unreadable_checkpoint(capsys, tmp_path):
    garbage = tmp_path / "broken.pt"
    garbage.write_bytes(b"\x00garbage")
    one_error_line(capsys, ["evaluate", str(garbage)], "cannot read checkpoint", "broken.pt")
    one_error_line(capsys, ["evaluate", str(tmp_path / "none.pt")], "does not exist")
    one_error_line(capsys, ["finetune", "--from", str(garbage)], "cannot read checkpoint")


def test_existing_run_is_not_overwritten(trained_run, capsys):
    before = {path.name: path.read_bytes() for path in trained_run.iterdir()}
    one_error_line(capsys, ["train", "--out", str(trained_run), *QUICK], "already holds a run",
                   "--resume")
    assert {path.name: path.read_bytes() for path in trained_run.iterdir()} == before


def test_resume_refuses_changed_settings(trained_run, capsys):
    one_error_line(capsys, ["train", "--resume", str(trained_run), "--lr", "0.3"],
                   "--lr 0.3 differs from the resumed run's", "--epochs")
    one_error_line(capsys, ["train", "--resume", str(trained_run)], "already completed 1 of 1")


def test_resumed_cli_run_equals_uninterrupted_run(tmp_path, monkeypatch, capsys):
    argv = ["train", "--epochs", "3", *QUICK]
    assert main([*argv, "--out", str(tmp_path / "straight")]) == 0

    write_metrics = RunFolder.write_metrics

    def stop_after_epoch_two(self, history, config=None, final=None):
        write_metrics(self, history, config, final)
        if len(history) == 2:  # the checkpoint of epoch 2 is on disk: simulate Ctrl-C
            raise KeyboardInterrupt

    monkeypatch.setattr(RunFolder, "write_metrics", stop_after_epoch_two)
    assert main([*argv, "--out", str(tmp_path / "stopped")]) == 130
    monkeypatch.undo()
    assert load_checkpoint(tmp_path / "stopped")["epoch"] == 2
    deepgrad.manual_seed(1234)  # the resumed process starts from unrelated RNG states
    assert main(["train", "--resume", str(tmp_path / "stopped"), "--no-bar"]) == 0
    resumed, straight = weights(tmp_path / "stopped"), weights(tmp_path / "straight")
    assert resumed.keys() == straight.keys()
    for name in straight:
        np.testing.assert_array_equal(resumed[name], straight[name], err_msg=name)
    history = json.loads((tmp_path / "stopped" / "metrics.json").read_text())["history"]
    assert [record["epoch"] for record in history] == [1, 2, 3]


def test_finetune_new_head_frozen_body_and_two_learning_rates(tmp_path, capsys):
    source = tmp_path / "source"
    assert main(["train", "--epochs", "1", "--classes", "0-4", "--out", str(source),
                 *QUICK]) == 0
    out = tmp_path / "tuned"
    assert main(["finetune", "--from", str(source), "--classes", "3-7",
                 "--samples-per-class", "4", "--freeze", "features.3", "--epochs", "1",
                 "--lr", "0.02", "--head-lr-mult", "5", "--out", str(out), *QUICK]) == 0
    before, after = weights(source), weights(out)
    checkpoint = load_checkpoint(out)
    assert checkpoint["config"]["head"] == "classifier.5"
    assert after["classifier.5.weight"].shape == (5, 84)
    for name in ("features.0.weight", "features.0.bias", "features.3.weight"):
        np.testing.assert_array_equal(after[name], before[name])  # frozen
    assert not np.array_equal(after["classifier.1.weight"], before["classifier.1.weight"])
    groups = checkpoint["optimizer"]["param_groups"]
    assert [group["lr"] for group in groups] == pytest.approx([0.02, 0.1])
    assert len(groups[1]["params"]) == 2  # head weight and bias
    assert checkpoint["config"]["reused_rows"] == 2  # labels 3 and 4 were trained on before
    assert main(["evaluate", str(out)]) == 0
    assert "class" in capsys.readouterr().out


def test_finetune_from_torch_state_dict(tmp_path, capsys):
    tnn = torch.nn
    twin = tnn.Module()
    twin.features = tnn.Sequential(tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(),
                                   tnn.MaxPool2d(2), tnn.Conv2d(6, 16, 5), tnn.ReLU(),
                                   tnn.MaxPool2d(2))
    twin.classifier = tnn.Sequential(tnn.Flatten(), tnn.Linear(400, 120), tnn.ReLU(),
                                     tnn.Linear(120, 84), tnn.ReLU(), tnn.Linear(84, 3))
    path = tmp_path / "lenet.pth"
    torch.save(twin.state_dict(), path)
    one_error_line(capsys, ["finetune", "--from", str(path)], "bare state_dict", "--model")
    one_error_line(capsys, ["finetune", "--from", str(path), "--model", "alexnet"],
                   "does not hold alexnet weights")
    out = tmp_path / "tuned"
    assert main(["finetune", "--from", str(path), "--model", "lenet", "--freeze", "body",
                 "--epochs", "1", "--out", str(out), *QUICK]) == 0
    after = weights(out)
    np.testing.assert_array_equal(after["classifier.3.weight"],
                                  twin.state_dict()["classifier.3.weight"].numpy())
    assert after["classifier.5.weight"].shape == (10, 84)
    capsys.readouterr()
    one_error_line(capsys, ["finetune", "--from", str(path), "--model", "lenet", "--freeze",
                            "features.9", "--out", str(tmp_path / "x")], "no layer 'features.9'",
                   "features, classifier")
    assert not (tmp_path / "x").exists()


def test_python_dash_m_runs_the_command(tmp_path):
    result = subprocess.run([sys.executable, "-m", "deepgrad", "summary", "vgg99"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("deepgrad summary: error: unknown model 'vgg99'")


def test_worker_processes_with_augmentation(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--epochs", "1", "--workers", "1", "--augment", "crop,flip,color",
                 "--out", str(out), *QUICK]) == 0
    assert load_checkpoint(out)["config"]["augment"] == ["crop", "flip", "color"]
