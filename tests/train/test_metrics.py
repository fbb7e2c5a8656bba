"""Metrics against hand-made confusion matrices and an independent counting loop."""

import math

import numpy as np
import pytest
import torch

import deepgrad
from deepgrad.train import (
    accuracy,
    confusion_matrix,
    format_confusion_matrix,
    format_per_class_accuracy,
    per_class_accuracy,
)

# 3 classes: true 0 0 1 2 2 2 / predicted 0 1 1 2 0 2
TARGETS = [0, 0, 1, 2, 2, 2]
PREDICTED = [0, 1, 1, 2, 0, 2]
HAND_MATRIX = [[1, 1, 0],
               [0, 1, 0],
               [1, 0, 2]]


def test_confusion_matrix_matches_hand_count():
    matrix = confusion_matrix(PREDICTED, TARGETS, num_classes=3)
    assert matrix.tolist() == HAND_MATRIX
    assert matrix.dtype == np.int64


def test_confusion_matrix_from_logits_tensor():
    logits = deepgrad.tensor(np.eye(3, dtype=np.float32)[PREDICTED] * 5 - 1)  # argmax = PREDICTED
    matrix = confusion_matrix(logits, deepgrad.tensor(TARGETS), num_classes=3)
    assert matrix.tolist() == HAND_MATRIX


def test_confusion_matrix_with_a_class_never_seen():
    matrix = confusion_matrix([0, 0, 3], [0, 1, 3], num_classes=4)
    assert matrix.tolist() == [[1, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]]


def test_confusion_matrix_against_counting_loop():
    rng = np.random.default_rng(0)
    targets, predicted = rng.integers(0, 7, 500), rng.integers(0, 7, 500)
    expected = np.zeros((7, 7), np.int64)
    for true, guess in zip(targets, predicted):
        expected[true, guess] += 1
    np.testing.assert_array_equal(confusion_matrix(predicted, targets, 7), expected)


def test_accuracy_from_labels_logits_and_torch_reference():
    assert accuracy(PREDICTED, TARGETS) == pytest.approx(4 / 6)
    rng = np.random.default_rng(1)
    logits, labels = rng.normal(size=(50, 4)).astype(np.float32), rng.integers(0, 4, 50)
    expected = (torch.tensor(logits).argmax(1) == torch.tensor(labels)).float().mean().item()
    assert accuracy(deepgrad.tensor(logits), deepgrad.tensor(labels)) == pytest.approx(expected)


def test_accuracy_of_empty_batch_is_nan():
    assert math.isnan(accuracy(np.zeros((0, 3)), np.zeros(0, np.int64)))


def test_per_class_accuracy_is_recall_and_nan_for_absent_classes():
    scores = per_class_accuracy(np.array(HAND_MATRIX))
    np.testing.assert_allclose(scores, [1 / 2, 1, 2 / 3])
    scores = per_class_accuracy(np.array([[2, 0], [0, 0]]))
    assert scores[0] == 1 and math.isnan(scores[1])


def test_shape_and_range_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"accuracy: .*shape \(3,\).*shape \(2,\)"):
        accuracy([0, 1, 2], [0, 1])
    with pytest.raises(ValueError, match=r"targets must be class indices in 0..2; got values "
                                         r"in 0..5"):
        confusion_matrix([0, 1], [0, 5], num_classes=3)
    with pytest.raises(ValueError, match="predictions must be class indices"):
        confusion_matrix([-1, 1], [0, 1], num_classes=3)


def test_tables_show_counts_and_percentages():
    matrix = np.array(HAND_MATRIX)
    table = format_confusion_matrix(matrix, ["zero", "one", "two"])
    lines = table.splitlines()
    assert lines[0].split()[-3:] == ["zero", "one", "two"]
    assert lines[3].split() == ["two", "1", "0", "2"]
    per_class = format_per_class_accuracy(matrix, ["zero", "one", "two"]).splitlines()
    assert per_class[1].split() == ["zero", "2", "1", "50.00%"]
    assert per_class[3].split() == ["two", "3", "2", "66.67%"]
    empty = format_per_class_accuracy(np.zeros((2, 2), np.int64), ["a", "b"]).splitlines()
    assert empty[1].split()[-1] == "-"
