"""deepgrad.save / deepgrad.load: round trips, atomic writes, damaged files, files written by
torch.save (read without torch), and malicious pickles that must never run."""

from __future__ import annotations

import io
import os
import pickle
import re
import subprocess
import sys
import textwrap
import warnings
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch

import deepgrad
from deepgrad import serialization

DTYPES = ["float16", "float32", "float64", "int8", "uint8", "int16", "int32", "int64", "bool"]
SRC = Path(deepgrad.__file__).parent


def roundtrip(obj, **load_kwargs):
    buffer = io.BytesIO()
    deepgrad.save(obj, buffer)
    return deepgrad.load(io.BytesIO(buffer.getvalue()), **load_kwargs)


def torch_roundtrip(obj, legacy=False, **load_kwargs):
    buffer = io.BytesIO()
    torch.save(obj, buffer, _use_new_zipfile_serialization=not legacy)
    return deepgrad.load(io.BytesIO(buffer.getvalue()), **load_kwargs)


def assert_same(loaded, expected):
    """``loaded`` (deepgrad) equals ``expected`` (torch tensor or NumPy array) exactly."""
    assert isinstance(loaded, deepgrad.Tensor)
    if isinstance(expected, torch.Tensor):
        assert str(loaded.dtype).split(".")[1] == str(expected.dtype).split(".")[1]
        assert loaded.requires_grad == expected.requires_grad
        expected = expected.detach().numpy()
    assert tuple(loaded.shape) == expected.shape
    assert loaded._data.dtype == expected.dtype
    np.testing.assert_array_equal(loaded.detach().numpy(), expected)


def sample(dtype: str, shape) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.asarray((rng.standard_normal(shape) * 50).astype(dtype))


# ---------------------------------------------------------------- deepgrad's own format

@pytest.mark.parametrize("shape", [(3, 4), (), (0, 5), (2, 1, 3)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_roundtrip_every_dtype(dtype, shape):
    array = sample(dtype, shape)
    loaded = roundtrip(deepgrad.tensor(array))
    assert_same(loaded, array)
    assert loaded._data.flags.writeable


def test_roundtrip_non_contiguous_and_requires_grad():
    array = sample("float64", (4, 6))
    base = deepgrad.tensor(array, requires_grad=True)
    views = {"T": base.detach().transpose(0, 1), "strided": deepgrad.from_numpy(array[1:, ::2])}
    assert not any(view.is_contiguous() for view in views.values())
    loaded = roundtrip({"leaf": base, **views, "computed": base * 2})
    assert_same(loaded["leaf"], array)
    assert loaded["leaf"].requires_grad and loaded["leaf"].is_leaf
    assert_same(loaded["T"], array.T)
    assert_same(loaded["strided"], array[1:, ::2])
    assert loaded["computed"].requires_grad and loaded["computed"].grad_fn is None
    np.testing.assert_array_equal(loaded["computed"].detach().numpy(),
                                  base.detach().numpy() * 2)


def test_nested_structure_keeps_types_keys_and_values():
    obj = {
        "int": 3, "big": 2**80, "neg": -7, "float": 0.1, "nan": float("nan"),
        "inf": float("-inf"), "bool": True, "none": None, "str": "h\u00e9llo\u2603",
        "bytes": b"\x00\xff", "complex": 1 - 2j, "tuple": (1, (2, [3, (4,)])),
        "list": [1, [2, (3,)]], "big_endian": np.arange(4, dtype=">f8"),
        "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        0: "int key", 7: {"nested": {1: 2, (1, 2): "tuple key"}}, (3, "a"): None,
        "dtype": deepgrad.int16, "device": deepgrad.device("cpu"), "size": deepgrad.Size([2, 3]),
        "set": {1, 2}, "frozenset": frozenset({"a"}), "ndarray": np.arange(6).reshape(2, 3),
        "np_scalar": np.float32(1.5), "empty": {}, "empty_list": [], "empty_tuple": (),
    }
    loaded = roundtrip(obj)
    assert list(loaded) == list(obj)
    for key, value in obj.items():
        if key == "nan":
            assert np.isnan(loaded[key])
        elif isinstance(value, np.ndarray):
            np.testing.assert_array_equal(loaded[key], value)
            assert loaded[key].dtype == value.dtype
        else:
            assert loaded[key] == value, key
        assert type(loaded[key]) is type(value), key
    assert type(loaded["tuple"][1][1]) is list and type(loaded["tuple"][1][1][1]) is tuple


def test_ordered_dict_state_dict_with_metadata():
    state = OrderedDict(
        (name, deepgrad.tensor(sample("float32", shape)))
        for name, shape in [("0.weight", (3, 2)), ("0.bias", (3,)), ("1.running_mean", (3,))])
    state["1.num_batches_tracked"] = deepgrad.tensor(5)
    state._metadata = OrderedDict([("", {"version": 1}), ("1", {"version": 2})])
    loaded = roundtrip(state)
    assert type(loaded) is OrderedDict and list(loaded) == list(state)
    assert loaded._metadata == state._metadata
    for name, value in state.items():
        assert_same(loaded[name], value.numpy())
    assert loaded["1.num_batches_tracked"].dtype == deepgrad.int64


def test_optimizer_like_state_dict_with_int_keys():
    state = {
        "state": {0: {"momentum_buffer": deepgrad.ones(3, 2), "step": deepgrad.tensor(4.0)},
                  1: {"momentum_buffer": None}},
        "param_groups": [{"lr": 0.1, "momentum": 0.9, "nesterov": False, "foreach": None,
                          "betas": (0.9, 0.999), "params": [0, 1]}],
    }
    loaded = roundtrip(state)
    assert list(loaded["state"]) == [0, 1]
    assert_same(loaded["state"][0]["momentum_buffer"], np.ones((3, 2), np.float32))
    assert loaded["state"][1] == {"momentum_buffer": None}
    assert loaded["param_groups"] == state["param_groups"]
    assert type(loaded["param_groups"][0]["betas"]) is tuple


def test_shared_tensors_are_stored_once_and_load_as_one_object():
    shared = deepgrad.tensor(sample("float32", (50, 50)))
    other = deepgrad.tensor(sample("float32", (50, 50)))
    buffer = io.BytesIO()
    deepgrad.save({"a": shared, "b": [shared, (shared, other)]}, buffer)
    names = zipfile.ZipFile(io.BytesIO(buffer.getvalue())).namelist()
    assert sum(name.endswith(".npy") for name in names) == 2
    loaded = deepgrad.load(io.BytesIO(buffer.getvalue()))
    assert loaded["a"] is loaded["b"][0] is loaded["b"][1][0]
    assert loaded["b"][1][1] is not loaded["a"]


def test_path_pathlike_and_file_object(tmp_path):
    obj = {"w": deepgrad.arange(6).reshape(2, 3)}
    for target in (str(tmp_path / "a.pt"), tmp_path / "b.pt"):
        deepgrad.save(obj, target)
        assert_same(deepgrad.load(target)["w"], np.arange(6).reshape(2, 3))
    with open(tmp_path / "c.pt", "wb") as f:
        deepgrad.save(obj, f)
    with open(tmp_path / "c.pt", "rb") as f:
        assert_same(deepgrad.load(f)["w"], np.arange(6).reshape(2, 3))
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "c.pt").read_bytes()  # deterministic


def test_the_file_holds_npy_and_json_only():
    buffer = io.BytesIO()
    deepgrad.save({"w": deepgrad.ones(2)}, buffer)
    archive = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    assert sorted(archive.namelist()) == ["arrays/0.npy", "structure.json"]
    assert b"pickle" not in archive.read("structure.json")
    np.testing.assert_array_equal(np.load(io.BytesIO(archive.read("arrays/0.npy")),
                                          allow_pickle=False), np.ones(2, np.float32))


def test_save_refuses_unsupported_objects_with_their_path():
    with pytest.raises(TypeError, match=r"obj\['model'\]\['fn'\]"):
        roundtrip({"model": {"fn": lambda: 1}})
    with pytest.raises(TypeError, match="dtype object"):
        roundtrip(np.array([None, 1], dtype=object))
    cyclic = []
    cyclic.append(cyclic)
    with pytest.raises(ValueError, match="contains itself"):
        roundtrip(cyclic)


def test_save_to_a_missing_directory_is_refused(tmp_path):
    with pytest.raises(RuntimeError, match="Parent directory .* does not exist"):
        deepgrad.save(1, tmp_path / "missing" / "x.pt")


# ---------------------------------------------------------------- atomic writes

def test_a_failure_mid_write_leaves_the_old_file_intact(tmp_path, monkeypatch):
    target = tmp_path / "checkpoint.pt"
    deepgrad.save({"epoch": 1, "w": deepgrad.zeros(1000)}, target)
    before = target.read_bytes()
    calls = []

    def failing_write(member, array):  # writes part of an array, then the disk "fills up"
        calls.append(array.shape)
        member.write(array.tobytes()[:100])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(serialization, "_write_array", failing_write)
    with pytest.raises(OSError, match="No space left"):
        deepgrad.save({"epoch": 2, "w": deepgrad.ones(1000)}, target)
    assert calls, "the failure was not injected mid-write"
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["checkpoint.pt"]  # no temporary file left behind
    assert deepgrad.load(target)["epoch"] == 1


def test_an_unsupported_object_never_touches_the_old_file(tmp_path):
    target = tmp_path / "checkpoint.pt"
    deepgrad.save({"epoch": 1}, target)
    before = target.read_bytes()
    with pytest.raises(TypeError):
        deepgrad.save({"epoch": 2, "bad": object()}, target)
    assert target.read_bytes() == before and os.listdir(tmp_path) == ["checkpoint.pt"]


def test_overwrite_replaces_the_file_and_keeps_its_permissions(tmp_path):
    target = tmp_path / "checkpoint.pt"
    deepgrad.save({"epoch": 1}, target)
    os.chmod(target, 0o640)
    deepgrad.save({"epoch": 2}, target)
    assert deepgrad.load(target)["epoch"] == 2
    assert (os.stat(target).st_mode & 0o777) == 0o640
    assert os.listdir(tmp_path) == ["checkpoint.pt"]


# ---------------------------------------------------------------- damaged files

def saved_bytes():
    buffer = io.BytesIO()
    deepgrad.save({"w": deepgrad.tensor(sample("float32", (64, 64))), "step": 3}, buffer)
    return buffer.getvalue()


def torch_saved_bytes():
    buffer = io.BytesIO()
    torch.save({"w": torch.arange(4096.0)}, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("payload, reason", [
    (b"\x00garbage that is not a checkpoint" * 10, "neither a deepgrad nor a PyTorch"),
    (b"PK\x03\x04" + b"\x00" * 200, "corrupt or truncated"),
    (b"", "is empty"),
])
def test_garbage_is_refused_with_the_reason(tmp_path, payload, reason):
    path = tmp_path / "bad.pt"
    path.write_bytes(payload)
    with pytest.raises(RuntimeError, match=reason):
        deepgrad.load(path)


@pytest.mark.parametrize("make", [saved_bytes, torch_saved_bytes])
@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.99])
def test_truncated_files_are_refused(make, fraction):
    data = make()
    with pytest.raises(RuntimeError, match="corrupt or truncated"):
        deepgrad.load(io.BytesIO(data[: int(len(data) * fraction)]))


@pytest.mark.parametrize("make", [saved_bytes, torch_saved_bytes])
def test_flipped_array_bytes_are_detected(make):
    data = bytearray(make())
    middle = len(data) // 2  # inside the big array's bytes
    data[middle] ^= 0xFF
    with pytest.raises(RuntimeError, match="corrupt"):
        deepgrad.load(io.BytesIO(bytes(data)))


def test_inconsistent_structure_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("structure.json", '{"format": "deepgrad", "version": 1, '
                         '"object": {"$": "tensor", "id": 3}, "arrays": []}')
    with pytest.raises(RuntimeError, match="inconsistent"):
        deepgrad.load(io.BytesIO(buffer.getvalue()))


def test_a_zip_that_is_not_a_checkpoint_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(RuntimeError, match="not a checkpoint"):
        deepgrad.load(io.BytesIO(buffer.getvalue()))


# ---------------------------------------------------------------- files written by torch.save

TORCH_DTYPES = [torch.float16, torch.float32, torch.float64, torch.int8, torch.uint8,
                torch.int16, torch.int32, torch.int64, torch.bool]


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
@pytest.mark.parametrize("dtype", TORCH_DTYPES, ids=str)
def test_torch_tensors_of_every_dtype(dtype, legacy):
    values = [torch.tensor(sample("float64", (3, 4))).to(dtype),
              torch.tensor(7).to(dtype), torch.zeros(0, 3, dtype=dtype)]
    loaded = torch_roundtrip(values, legacy=legacy)
    for got, expected in zip(loaded, values, strict=True):
        assert_same(got, expected)


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_torch_views_with_strides_and_offsets(legacy):
    base = torch.arange(60.0).reshape(5, 12)
    views = {"slice": base[1:, ::2], "T": base.T, "row": base[3], "expand":
             torch.arange(3.0).expand(4, 3), "narrow": base[2:4, 5:9], "base": base,
             "perm": torch.arange(24).reshape(2, 3, 4).permute(2, 0, 1)}
    loaded = torch_roundtrip(views, legacy=legacy)
    for name, view in views.items():
        assert_same(loaded[name], view)
    assert not loaded["T"].is_contiguous()  # a transpose keeps its layout, as in torch
    loaded["slice"].numpy()[0, 0] = -1.0  # views are independent copies in deepgrad
    assert loaded["base"].numpy()[1, 0] == 12.0


def trained_torch_model():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8),
                                torch.nn.ReLU(), torch.nn.Linear(8, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(3):
        optimizer.zero_grad()
        model(torch.randn(16, 4)).pow(2).mean().backward()
        optimizer.step()
    return model, optimizer


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_torch_module_state_dict(legacy):
    model, _ = trained_torch_model()
    state = model.state_dict()
    loaded = torch_roundtrip(state, legacy=legacy)
    assert type(loaded) is OrderedDict and list(loaded) == list(state)
    assert "1.num_batches_tracked" in loaded and loaded["1.num_batches_tracked"].item() == 3
    for name, value in state.items():
        assert_same(loaded[name], value)
    assert loaded._metadata == state._metadata


def test_torch_optimizer_state_dict():
    model, optimizer = trained_torch_model()
    state = optimizer.state_dict()
    loaded = torch_roundtrip(state)
    assert list(loaded["state"]) == list(state["state"]) == list(range(6))
    for index, buffers in state["state"].items():
        assert_same(loaded["state"][index]["momentum_buffer"], buffers["momentum_buffer"])
    assert loaded["param_groups"] == state["param_groups"]


def test_torch_checkpoint_with_parameters_and_python_values():
    model, optimizer = trained_torch_model()
    tagged = torch.ones(2)
    tagged.note = "kept"
    checkpoint = {
        "model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 7,
        "weight": model[0].weight, "grad_leaf": torch.ones(2, requires_grad=True),
        "tagged": tagged, "size": torch.Size([2, 3]), "device": torch.device("cpu"),
        "dtype": torch.float64, "bytes": b"\x00\x01", "bytearray": bytearray(b"ab"),
        "set": {1, 2}, "complex": 1 + 2j, "tuple": (1, "a"), "nested": {0: [1.5, None]},
    }
    loaded = torch_roundtrip(checkpoint)
    assert loaded["epoch"] == 7
    assert_same(loaded["weight"], model[0].weight)  # a Parameter: requires_grad restored
    assert loaded["weight"].requires_grad and loaded["grad_leaf"].requires_grad
    assert loaded["tagged"].note == "kept"
    assert loaded["size"] == deepgrad.Size([2, 3]) and type(loaded["size"]) is deepgrad.Size
    assert loaded["device"] == deepgrad.device("cpu") and loaded["dtype"] is deepgrad.float64
    for key in ("bytes", "bytearray", "set", "complex", "tuple", "nested"):
        assert loaded[key] == checkpoint[key] and type(loaded[key]) is type(checkpoint[key])


def test_torch_shared_tensor_loads_as_one_object():
    shared = torch.randn(3)
    loaded = torch_roundtrip({"a": shared, "b": [shared]})
    assert loaded["a"] is loaded["b"][0]


def test_torch_bfloat16_is_widened_to_float32_with_a_warning():
    value = torch.tensor([1.5, -3.25, 1e30, 0.0]).to(torch.bfloat16)
    with pytest.warns(UserWarning, match="bfloat16"):
        loaded = torch_roundtrip(value)
    assert_same(loaded, value.float())


def test_torch_unsupported_dtype_is_refused_clearly():
    with pytest.raises(RuntimeError, match="Complex|complex"):
        torch_roundtrip(torch.zeros(2, dtype=torch.complex64))
    with pytest.raises(RuntimeError, match="uint16"):
        torch_roundtrip(torch.zeros(2, dtype=torch.uint16))


def test_torch_big_endian_file():
    buffer = io.BytesIO()
    values = {"f": torch.tensor(sample("float64", (3, 2))), "i": torch.arange(5, dtype=torch.int32)}
    torch.save(values, buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    swapped = io.BytesIO()
    with zipfile.ZipFile(swapped, "w") as archive:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith("byteorder"):
                data = b"big"
            elif "/data/" in info.filename:
                itemsize = 4 if len(data) == 5 * 4 else 8  # "i" is int32, "f" float64
                data = np.frombuffer(data, f"u{itemsize}").byteswap().tobytes()
            archive.writestr(info.filename, data)
    loaded = deepgrad.load(io.BytesIO(swapped.getvalue()))
    for name, value in values.items():
        assert_same(loaded[name], value)


def test_map_location_forms():
    value = torch.arange(6.0).reshape(2, 3)
    seen = []

    def to_cpu(storage, location):
        seen.append(location)
        return storage

    for location in ("cpu", deepgrad.device("cpu"), {"cpu": "cpu"}, to_cpu,
                     lambda storage, location: None):
        assert_same(torch_roundtrip(value, map_location=location), value)
        assert_same(roundtrip(deepgrad.tensor(value.numpy()), map_location=location), value)
    assert seen == ["cpu", "cpu"]


@pytest.mark.skipif(deepgrad.backend.cuda_is_available(), reason="needs a machine without CuPy")
def test_map_location_cuda_without_cupy_names_the_extra():
    with pytest.raises(RuntimeError, match="CuPy"):
        torch_roundtrip(torch.ones(2), map_location="cuda")


def test_mmap_loads_copy_on_write_views(tmp_path):
    path = tmp_path / "mapped.pt"
    array = sample("float32", (16, 8))
    for save in (deepgrad.save, torch.save):
        value = deepgrad.tensor(array) if save is deepgrad.save else torch.tensor(array)
        save({"w": value, "T": value.transpose(0, 1)}, path)
        before = path.read_bytes()
        loaded = deepgrad.load(path, mmap=True)
        assert_same(loaded["w"], array)
        assert_same(loaded["T"], array.T)
        loaded["w"].numpy()[0, 0] = 123.0  # copy-on-write: the file is never modified
        assert path.read_bytes() == before
    with pytest.raises(ValueError, match="file path"):
        deepgrad.load(io.BytesIO(before), mmap=True)


# ---------------------------------------------------------------- malicious pickles

class Exploit:
    """Unpickling this runs ``func(*args)``: the classic malicious ``__reduce__``."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def malicious_payloads(marker: Path):
    command = f"touch {marker}"
    code = f"open({str(marker)!r}, 'w').close()"
    return {
        "os.system": Exploit(os.system, command),
        "builtins.eval": Exploit(eval, code),
        "builtins.exec": Exploit(exec, code),
        "subprocess.call": Exploit(subprocess.call, ["touch", str(marker)]),
        "nested in a state_dict": OrderedDict(w=[1, {"x": Exploit(os.system, command)}]),
        "builtins.__import__": Exploit(__import__, "os"),
    }


def as_torch_zip(pickled: bytes) -> bytes:
    """A genuine torch.save archive whose data.pkl is replaced by ``pickled``."""
    source = zipfile.ZipFile(io.BytesIO(torch_saved_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for info in source.infolist():
            data = pickled if info.filename.endswith("data.pkl") else source.read(info)
            archive.writestr(info.filename, data)
    return out.getvalue()


@pytest.mark.parametrize("protocol", [2, 4])
@pytest.mark.parametrize("container", ["raw pickle", "torch zip"])
@pytest.mark.parametrize("name", list(malicious_payloads(Path("x"))))
def test_malicious_pickle_is_refused_and_never_runs(tmp_path, name, container, protocol):
    marker = tmp_path / "pwned"
    pickled = pickle.dumps(malicious_payloads(marker)[name], protocol=protocol)
    path = tmp_path / "evil.pt"
    path.write_bytes(pickled if container == "raw pickle" else as_torch_zip(pickled))
    with pytest.raises(pickle.UnpicklingError, match="refusing the global '[a-z_.]+'"):
        deepgrad.load(path)
    assert not marker.exists()


def test_the_malicious_payload_is_real(tmp_path):
    """Guards the test above: plain pickle does run the payload."""
    marker = tmp_path / "pwned"
    pickled = pickle.dumps(malicious_payloads(marker)["os.system"], protocol=2)
    subprocess.run([sys.executable, "-c", f"import pickle; pickle.loads({pickled!r})"],
                   check=True)
    assert marker.exists()


def test_refusal_names_the_forbidden_global(tmp_path):
    pickled = pickle.dumps(Exploit(os.system, "true"), protocol=2)
    with pytest.raises(pickle.UnpicklingError, match=rf"'{os.system.__module__}\.system'"):
        deepgrad.load(io.BytesIO(pickled))


def test_arbitrary_classes_are_refused():
    pickled = pickle.dumps({"cfg": Path("/tmp")}, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="pathlib"):
        deepgrad.load(io.BytesIO(as_torch_zip(pickled)))


# ---------------------------------------------------------------- no torch at runtime

def test_serialization_never_imports_torch():
    for name in ("serialization.py", "_torch_pickle.py"):
        source = (SRC / name).read_text()
        assert not re.search(r"^\s*(import torch|from torch\b)|import_module\(", source, re.M)


def test_load_works_with_torch_absent(tmp_path):
    torch.save({"w": torch.arange(6.0).reshape(2, 3)[:, 1:], "n": 2}, tmp_path / "t.pth")
    script = textwrap.dedent(f"""
        import sys

        class BlockTorch:
            def find_spec(self, name, path=None, target=None):
                if name == "torch" or name.startswith("torch."):
                    raise ImportError("torch is blocked")

        sys.meta_path.insert(0, BlockTorch())
        import numpy as np
        import deepgrad

        deepgrad.save({{"w": deepgrad.ones(2, 2), 3: (1, "x")}}, {str(tmp_path / "d.pt")!r})
        mine = deepgrad.load({str(tmp_path / "d.pt")!r})
        assert mine[3] == (1, "x") and mine["w"].sum().item() == 4
        theirs = deepgrad.load({str(tmp_path / "t.pth")!r})
        assert theirs["n"] == 2
        np.testing.assert_array_equal(theirs["w"].numpy(), [[1.0, 2.0], [4.0, 5.0]])
        assert not any(m == "torch" or m.startswith("torch.") for m in sys.modules)
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(SRC.parent)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_pickle_module_and_unknown_arguments():
    data = saved_bytes()
    assert deepgrad.load(io.BytesIO(data), pickle_module=pickle, weights_only=False)["step"] == 3
    with pytest.raises(ValueError, match="pickle_module"):
        deepgrad.load(io.BytesIO(data), pickle_module=object())
    with pytest.raises(TypeError, match="unexpected keyword"):
        deepgrad.load(io.BytesIO(data), bogus=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        deepgrad.load(io.BytesIO(data))
