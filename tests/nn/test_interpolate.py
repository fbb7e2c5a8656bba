"""interpolate (nearest, nearest-exact, linear, bilinear) and Upsample against torch."""

import numpy as np
import pytest
import torch

import deepgrad
from oracle import OpCase, assert_close, case_params, check_case


def _interp(**kw):
    return lambda lib, x: lib.nn.functional.interpolate(x, **kw)


IMAGE, SIGNAL = ((2, 3, 5, 7),), ((2, 3, 6),)
CASES = []
for mode, shapes in [("nearest", [IMAGE, SIGNAL]), ("nearest-exact", [IMAGE, SIGNAL]),
                     ("bilinear", [IMAGE]), ("linear", [SIGNAL])]:
    corners = [None] if mode.startswith("nearest") else [False, True]
    for options in [{"scale_factor": 2}, {"scale_factor": 0.5}, {"scale_factor": 1.7},
                    {"scale_factor": 3, "recompute_scale_factor": True}, {"size": 9},
                    {"size": 3}, {"scale_factor": 1}]:
        for align in corners:
            name = f"{mode}-{options}-{align}"
            CASES.append(OpCase(name, _interp(mode=mode, align_corners=align, **options),
                                shapes))
CASES += [
    OpCase("bilinear_size_tuple", _interp(size=(4, 11), mode="bilinear"), [IMAGE]),
    OpCase("bilinear_scale_tuple", _interp(scale_factor=(1.5, 0.6), mode="bilinear",
                                           align_corners=True), [IMAGE]),
    OpCase("nearest_upsample_28_to_100", _interp(size=100), [((1, 1, 28, 28),)]),
    OpCase("nearest_scale_odd", _interp(scale_factor=2.3), [((1, 2, 13, 9),)]),
]


@pytest.mark.parametrize("case,shapes,dtype", case_params(CASES))
def test_against_torch(case, shapes, dtype):
    check_case(case, shapes, dtype)


def test_integer_nearest():
    x = np.arange(12, dtype=np.uint8).reshape(1, 1, 3, 4)
    assert_close(deepgrad.nn.functional.interpolate(deepgrad.tensor(x), scale_factor=2),
                 torch.nn.functional.interpolate(torch.tensor(x), scale_factor=2), 0, 0, "int")


@pytest.mark.parametrize("kwargs,kind,message", [
    ({}, ValueError, "either size or scale_factor should be defined"),
    ({"size": 4, "scale_factor": 2}, ValueError, "only one of size or scale_factor"),
    ({"size": 4, "align_corners": True}, ValueError,
     "align_corners option can only be set with the interpolating modes"),
    ({"size": 4, "mode": "linear"}, NotImplementedError, "Got 4D input, but linear mode needs "
                                                         "3D input"),
    ({"size": (4, 4, 4)}, ValueError, "Input and output must have the same number of spatial"),
    ({"size": 4, "mode": "bicubic"}, NotImplementedError, "mode 'bicubic' is not supported"),
])
def test_errors(kwargs, kind, message):
    with pytest.raises(kind, match=message):
        deepgrad.nn.functional.interpolate(deepgrad.randn(1, 2, 3, 3), **kwargs)


@pytest.mark.parametrize("kwargs", [
    {"scale_factor": 2}, {"size": (4, 5), "mode": "bilinear"},
    {"scale_factor": (2, 3), "mode": "bilinear", "align_corners": True},
])
def test_upsample_matches_torch(kwargs):
    torch_layer, layer = torch.nn.Upsample(**kwargs), deepgrad.nn.Upsample(**kwargs)
    assert repr(layer) == repr(torch_layer)
    x = np.random.default_rng(0).standard_normal((2, 3, 3, 4))
    tx, dx = torch.tensor(x, requires_grad=True), deepgrad.tensor(x, requires_grad=True)
    t_out, d_out = torch_layer(tx), layer(dx)
    assert_close(d_out, t_out, 1e-12, 1e-12, "output")
    t_out.pow(2).sum().backward()
    d_out.pow(2).sum().backward()
    assert_close(dx.grad, tx.grad, 1e-12, 1e-12, "grad")
