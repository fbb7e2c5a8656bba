"""Model summary rows: shapes and parameter counts against torch twins; formula text."""

import pytest
import torch

import deepgrad
from deepgrad import nn
from deepgrad.train import count_parameters, format_summary, summary
from deepgrad.vision import models


def torch_lenet():
    tnn = torch.nn
    return tnn.Sequential(
        tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2, 2),
        tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2, 2), tnn.Flatten(),
        tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(), tnn.Linear(84, 10))


def torch_rows(model, input_size):
    """(output shape, own parameter count) per leaf call, from torch forward hooks."""
    rows = []
    leaves = [m for m in model.modules() if not list(m.children())]
    hooks = [m.register_forward_hook(
        lambda m, i, o: rows.append((tuple(o.shape), sum(p.numel() for p in
                                                           m.parameters(recurse=False)))))
             for m in leaves]
    with torch.no_grad():
        model.eval()(torch.zeros(1, *input_size))
    for hook in hooks:
        hook.remove()
    return rows


def test_lenet_rows_match_torch_twin_and_total_is_61706():
    model = models.get_model("lenet", num_classes=10, in_channels=1)
    rows = summary(model, (1, 28, 28))
    expected = torch_rows(torch_lenet(), (1, 28, 28))
    assert [(row.output_shape, row.params) for row in rows] == expected
    assert sum(row.params for row in rows) == 61706
    assert count_parameters(model) == (61706, 61706)
    assert sum(p.numel() for p in torch_lenet().parameters()) == 61706
    first = rows[0]
    assert (first.name, first.type) == ("features.0", "Conv2d")
    assert first.param_formula == "6x1x5x5 + 6 = 156"
    assert first.size_formula == "floor((28 + 2*2 - 5 + 1) / 1) = 28"
    pool = rows[2]
    assert pool.size_formula == "floor((28 + 2*0 - 2 + 2) / 2) = 14"
    linear = rows[7]
    assert linear.param_formula == "120x400 + 120 = 48,120" and linear.size_formula == ""
    assert rows[1].param_formula == "" and rows[1].params == 0  # ReLU


def test_conv_with_padding_stride_dilation_formulas_and_torch_shapes():
    net = nn.Sequential(
        nn.Conv2d(3, 8, (3, 5), stride=(2, 1), padding=(1, 2), dilation=(1, 2)),
        nn.BatchNorm2d(8),
        nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
        nn.Conv2d(8, 4, 3, stride=2, bias=False),
        nn.AdaptiveAvgPool2d(1),
    )
    twin = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, (3, 5), stride=(2, 1), padding=(1, 2), dilation=(1, 2)),
        torch.nn.BatchNorm2d(8),
        torch.nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
        torch.nn.Conv2d(8, 4, 3, stride=2, bias=False),
        torch.nn.AdaptiveAvgPool2d(1),
    )
    rows = summary(net, (3, 17, 20))
    assert [(row.output_shape, row.params) for row in rows] == torch_rows(twin, (3, 17, 20))
    conv, norm, pool, conv2, adaptive = rows
    assert conv.size_formula == ("H: floor((17 + 2*1 - 3 + 2) / 2) = 9; "
                                 "W: floor((20 + 2*2 - (2*(5-1)+1) + 1) / 1) = 16")
    assert conv.param_formula == "8x3x3x5 + 8 = 368"
    assert norm.param_formula == "8 + 8 = 16"
    assert pool.size_formula == ("H: ceil((9 + 2*1 - 3 + 2) / 2) = 5; "
                                 "W: ceil((16 + 2*1 - 3 + 2) / 2) = 9")
    assert conv2.param_formula == "4x8x3x3 = 288"
    assert conv2.size_formula == ("H: floor((5 + 2*0 - 3 + 2) / 2) = 2; "
                                  "W: floor((9 + 2*0 - 3 + 2) / 2) = 4")
    assert adaptive.size_formula == "adaptive: output 1"


def test_frozen_parameters_and_shared_modules_are_counted_once():
    shared = nn.Linear(4, 4)
    net = nn.Sequential(shared, nn.ReLU(), shared, nn.Linear(4, 2))
    net[3].weight.requires_grad_(False)
    rows = summary(net, (4,))
    assert [row.params for row in rows] == [20, 0, 0, 10]
    assert rows[3].trainable == 2
    text = format_summary(rows, model=net)
    assert "total parameters:         30" in text
    assert "trainable parameters:     22" in text
    assert "non-trainable parameters: 8" in text


def test_wrong_input_size_names_the_failing_layer_and_restores_mode():
    model = models.get_model("lenet")
    model.train()
    with pytest.raises(ValueError, match=r"input size \(1, 32, 32\) does not fit LeNet at "
                                         r"layer classifier.1 \(Linear\)"):
        summary(model, (1, 32, 32))
    assert model.training
    # hooks were removed: a later forward does not record anything
    model(deepgrad.zeros(1, 1, 28, 28))
    assert len(summary(model, (1, 28, 28))) == 12


def test_format_summary_table():
    model = models.get_model("lenet")
    text = format_summary(summary(model, (1, 28, 28)), model=model, input_size=(1, 28, 28))
    lines = text.splitlines()
    assert lines[0] == "input: (1, 28, 28) per sample"
    assert lines[1].split()[:3] == ["layer", "type", "output"]
    assert "features.0" in lines[3] and "6x1x5x5 + 6 = 156" in lines[3]
    assert "floor((28 + 2*2 - 5 + 1) / 1) = 28" in lines[3]
    assert "total parameters:         61,706" in text
