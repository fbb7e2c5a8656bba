"""deepgrad.vision.datasets on small files written here in the official formats (IDX gz, the
CIFAR-10 python tar.gz of pickled batches), their corrupt variants, the download logic with the
network replaced by local copies, the bundled Digits and ImageFolder."""

import gzip
import hashlib
import io
import os
import pickle
import struct
import sys
import tarfile
import urllib.error
from pathlib import Path

import numpy as np
import pytest

import deepgrad
from deepgrad.utils.data import DataLoader
from deepgrad.vision import datasets, transforms
from deepgrad.vision.datasets import download

SUBSET = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mnist-subset"


# ---------------------------------------------------------------- writers of the real formats

def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write(path: Path, raw: bytes, gz: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        path = path.with_name(path.name + ".gz")
        raw = gzip.compress(raw)
    path.write_bytes(raw)
    return path


def make_mnist(folder: Path, gz: bool = True, seed: int = 0, counts=(5, 3)):
    rng = np.random.default_rng(seed)
    arrays = {}
    for prefix, count in zip(("train", "t10k"), counts, strict=True):
        images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, count, dtype=np.uint8)
        write(folder / f"{prefix}-images-idx3-ubyte", idx_bytes(images), gz)
        write(folder / f"{prefix}-labels-idx1-ubyte", idx_bytes(labels), gz)
        arrays[prefix] = (images, labels)
    return arrays


def cifar_batch(count: int, rng, byte_keys: bool = False) -> dict:
    batch = {"batch_label": "training batch", "data": rng.integers(0, 256, (count, 3072),
                                                                    dtype=np.uint8),
             "labels": [int(v) for v in rng.integers(0, 10, count)],
             "filenames": [f"img_{i}.png" for i in range(count)]}
    return {k.encode(): v for k, v in batch.items()} if byte_keys else batch


def make_cifar_tar(path: Path, batches: dict, meta: dict | None = None, protocol: int = 2):
    path.parent.mkdir(parents=True, exist_ok=True)
    members = dict(batches)
    if meta is not None:
        members["batches.meta"] = meta
    with tarfile.open(path, "w:gz") as archive:
        for name, content in members.items():
            raw = content if isinstance(content, bytes) else pickle.dumps(content, protocol)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(raw)
            archive.addfile(info, io.BytesIO(raw))
    return path


def cifar_files(rng, byte_keys=False):
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    return {name: cifar_batch(2 if name != "test_batch" else 3, rng, byte_keys)
            for name in names}


def expected_hwc(batches, names):
    # rows hold the R, G, B 32x32 planes one after the other
    rows = np.concatenate([batches[name][b"data" if b"data" in batches[name] else "data"]
                           for name in names])
    expected = np.empty((len(rows), 32, 32, 3), np.uint8)
    for c in range(3):
        expected[..., c] = rows[:, c * 1024:(c + 1) * 1024].reshape(-1, 32, 32)
    return expected


# ---------------------------------------------------------------- MNIST

@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("layout", ["root", "torchvision"])
def test_mnist_reads_idx_files(tmp_path, gz, layout):
    folder = tmp_path if layout == "root" else tmp_path / "MNIST" / "raw"
    arrays = make_mnist(folder, gz)
    for train, prefix in ((True, "train"), (False, "t10k")):
        dataset = datasets.MNIST(tmp_path, train=train)
        images, labels = arrays[prefix]
        assert dataset.data.dtype == np.uint8 and dataset.data.shape == images.shape
        np.testing.assert_array_equal(dataset.data, images)
        np.testing.assert_array_equal(dataset.targets, labels.astype(np.int64))
        assert len(dataset) == len(images)
        image, target = dataset[1]
        assert isinstance(image, np.ndarray) and image.dtype == np.uint8
        np.testing.assert_array_equal(image, images[1])
        assert type(target) is int and target == labels[1]
        image[:] = 0  # samples are copies: the dataset is not modified through them
        np.testing.assert_array_equal(dataset.data[1], images[1])


def test_mnist_transforms_classes_and_repr(tmp_path):
    arrays = make_mnist(tmp_path)
    dataset = datasets.MNIST(str(tmp_path), transform=transforms.ToTensor(),
                             target_transform=lambda y: y + 100)
    image, target = dataset[0]
    expected = arrays["train"][0][0].astype(np.float32)[None] / np.float32(255)
    np.testing.assert_array_equal(image.numpy(), expected)
    assert target == arrays["train"][1][0] + 100
    assert dataset.classes[3] == "3 - three" and dataset.class_to_idx["9 - nine"] == 9
    assert "Number of datapoints: 5" in repr(dataset) and "Split: Train" in repr(dataset)
    dataset.target_transform = None
    clone = pickle.loads(pickle.dumps(dataset))  # DataLoader workers pickle the dataset
    np.testing.assert_array_equal(clone[0][0].numpy(), expected)


def test_fashion_mnist_layout_and_classes(tmp_path):
    make_mnist(tmp_path / "FashionMNIST" / "raw", gz=False)
    dataset = datasets.FashionMNIST(tmp_path, train=False)
    assert len(dataset) == 3 and dataset.classes[9] == "Ankle boot"
    with pytest.raises(RuntimeError, match="Dataset not found"):
        datasets.MNIST(tmp_path)  # MNIST looks in MNIST/raw, not FashionMNIST/raw


def test_mnist_missing_names_paths_and_remedies(tmp_path):
    with pytest.raises(RuntimeError) as info:
        datasets.MNIST(tmp_path / "nowhere")
    message = str(info.value)
    assert message.startswith("Dataset not found. You can use download=True to download it")
    assert str(tmp_path / "nowhere" / "MNIST" / "raw") in message
    assert str(tmp_path / "nowhere") in message
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/" in message and "--data-dir" in message


def test_mnist_only_one_file_present_is_missing(tmp_path):
    make_mnist(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(RuntimeError, match="Dataset not found"):
        datasets.MNIST(tmp_path)
    assert len(datasets.MNIST(tmp_path, train=False)) == 3


def corrupt_cases():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (4, 28, 28), dtype=np.uint8)
    labels = np.array([1, 2, 3, 4], np.uint8)
    good_images, good_labels = idx_bytes(images), idx_bytes(labels)
    gz_images = gzip.compress(good_images)
    bad_crc = bytearray(gz_images)
    bad_crc[-6] ^= 0xFF  # the CRC32 in the gzip trailer
    return {
        "bad magic": (b"\x00\x01\x08\x03" + good_images[4:], good_labels, "bad magic number"),
        "bad type code": (b"\x00\x00\x07\x03" + good_images[4:], good_labels, "magic number"),
        "empty file": (b"", good_labels, "bad magic number"),
        "truncated header": (good_images[:10], good_labels, "truncated IDX header"),
        "wrong dims": (idx_bytes(images.reshape(4, 784)), good_labels, "wrong dims"),
        "wrong image size": (idx_bytes(images[:, :27]), good_labels, "wrong dims"),
        "not uint8": (idx_bytes(images.astype(">i4"), 0x0C), good_labels, "wrong dims"),
        "labels 2-d": (good_images, idx_bytes(labels.reshape(2, 2)), "wrong dims"),
        "payload truncated": (good_images[:-5], good_labels, "size mismatch"),
        "payload too long": (good_images + b"\x00", good_labels, "size mismatch"),
        "count mismatch": (good_images, idx_bytes(labels[:3]), "count mismatch"),
        "label out of range": (good_images, idx_bytes(np.array([1, 2, 3, 12], np.uint8)),
                               "label 12 is not a class"),
        "truncated gzip": (gz_images[:len(gz_images) // 2], good_labels, "truncated or damaged"),
        "bad gzip crc": (bytes(bad_crc), good_labels, "truncated or damaged"),
    }


@pytest.mark.parametrize("case", list(corrupt_cases()))
def test_mnist_refuses_corrupt_files_with_reason(tmp_path, case):
    images, labels, reason = corrupt_cases()[case]
    write(tmp_path / "train-images-idx3-ubyte", images, gz=False)
    write(tmp_path / "train-labels-idx1-ubyte", labels, gz=False)
    with pytest.raises(RuntimeError, match=reason) as info:
        datasets.MNIST(tmp_path)
    assert "MNIST" in str(info.value)


def test_read_idx_other_types_big_endian(tmp_path):
    values = np.arange(-6, 6, dtype=np.int32).reshape(3, 4)
    path = write(tmp_path / "x-idx2-int", idx_bytes(values, 0x0C))
    result = datasets.mnist.read_idx(path)
    np.testing.assert_array_equal(result, values)
    assert result.dtype == np.int32 and result.flags.writeable


@pytest.mark.skipif(not SUBSET.is_dir(), reason="shared MNIST subset not present")
def test_real_mnist_subset():
    train, test = datasets.MNIST(SUBSET), datasets.MNIST(SUBSET, train=False)
    assert train.data.shape == (7000, 28, 28) and test.data.shape == (1500, 28, 28)
    assert set(np.unique(train.targets)) == set(range(10))
    assert 20 < train.data.mean() < 50  # ink covers a small part of each digit


# ---------------------------------------------------------------- downloads

def serve_from(sources: dict, calls: list):
    """A replacement for download._fetch: URLs in ``sources`` copy bytes, others are offline."""
    def fetch(url, destination, timeout=60.0):
        calls.append(url)
        if url not in sources:
            raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")
        content = sources[url]
        if isinstance(content, Exception):
            destination.write(b"partial")
            raise content
        destination.write(content)
    return fetch


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def test_download_verifies_md5_and_writes_atomically(tmp_path, monkeypatch):
    content = b"the real file" * 100
    md5 = hashlib.md5(content).hexdigest()
    calls = []
    monkeypatch.setattr(download, "_fetch", serve_from({"https://b/f.bin": content}, calls))
    target = download.download_url(["https://a/f.bin", "https://b/f.bin"], tmp_path / "d",
                                   md5=md5)
    assert target == tmp_path / "d" / "f.bin" and target.read_bytes() == content
    assert calls == ["https://a/f.bin", "https://b/f.bin"]  # first mirror offline, second ok
    assert leftovers(tmp_path / "d") == []
    download.download_url(["https://a/f.bin"], tmp_path / "d", md5=md5)
    assert len(calls) == 2  # a verified file is not fetched again


def test_download_checksum_mismatch_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(download, "_fetch", serve_from({"https://a/f.bin": b"tampered"}, []))
    with pytest.raises(RuntimeError, match="MD5 checksum mismatch") as info:
        download.download_url("https://a/f.bin", tmp_path, md5="0" * 32)
    assert str(tmp_path / "f.bin") in str(info.value)
    assert not (tmp_path / "f.bin").exists() and leftovers(tmp_path) == []


def test_interrupted_download_leaves_no_partial_file(tmp_path, monkeypatch):
    sources = {"https://a/f.bin": ConnectionResetError("connection reset")}
    monkeypatch.setattr(download, "_fetch", serve_from(sources, []))
    with pytest.raises(RuntimeError, match="connection reset"):
        download.download_url("https://a/f.bin", tmp_path, md5=None)
    assert list(tmp_path.iterdir()) == []


def test_mnist_download_true_fetches_verified_files(tmp_path, monkeypatch):
    source = tmp_path / "source"
    arrays = make_mnist(source)
    files = {f"https://mirror/{p.name}": p.read_bytes() for p in source.iterdir()}
    resources = [(name.rsplit("/", 1)[1], hashlib.md5(raw).hexdigest())
                 for name, raw in files.items()]
    monkeypatch.setattr(datasets.MNIST, "mirrors", ["https://offline/", "https://mirror/"])
    monkeypatch.setattr(datasets.MNIST, "resources", resources)
    monkeypatch.setattr(download, "_fetch", serve_from(files, []))
    dataset = datasets.MNIST(tmp_path / "cache", download=True)
    np.testing.assert_array_equal(dataset.data, arrays["train"][0])
    raw = tmp_path / "cache" / "MNIST" / "raw"
    assert sorted(p.name for p in raw.iterdir()) == sorted(name for name, _ in resources)


def test_mnist_download_offline_error_names_paths_urls_and_remedies(tmp_path, monkeypatch):
    monkeypatch.setattr(download, "_fetch", serve_from({}, []))
    with pytest.raises(RuntimeError) as info:
        datasets.MNIST(tmp_path / "data", download=True)
    message = str(info.value)
    assert str(tmp_path / "data" / "MNIST" / "raw") in message
    assert str(tmp_path / "data") + "," in message or str(tmp_path / "data") + " " in message
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz" in message
    assert "http://yann.lecun.com/exdb/mnist/train-images-idx3-ubyte.gz" in message
    assert "Temporary failure in name resolution" in message and "--data-dir" in message


def test_cifar_download_offline_error(tmp_path, monkeypatch):
    monkeypatch.setattr(download, "_fetch", serve_from({}, []))
    with pytest.raises(RuntimeError) as info:
        datasets.CIFAR10(tmp_path, download=True)
    message = str(info.value)
    assert str(tmp_path / "cifar-10-python.tar.gz") in message
    assert str(tmp_path / "cifar-10-batches-py") in message
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz" in message


def test_default_data_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPGRAD_DATA", str(tmp_path))
    assert download.default_data_dir() == tmp_path
    make_mnist(tmp_path / "MNIST" / "raw")
    assert len(datasets.MNIST(train=False)) == 3
    monkeypatch.delenv("DEEPGRAD_DATA")
    assert download.default_data_dir() == Path.home() / ".cache" / "deepgrad"


def test_official_checksums_are_torchvisions():
    assert datasets.CIFAR10.tgz_md5 == "c58f30108f718f92721af3b95e74349a"
    assert dict(datasets.MNIST.resources)["t10k-images-idx3-ubyte.gz"] == \
        "9fb629c4189551a2d022fa330f9573f3"
    assert dict(datasets.FashionMNIST.resources)["train-images-idx3-ubyte.gz"] == \
        "8d4fb7e6c68d591d4c3dfef9ec88bf0d"


# ---------------------------------------------------------------- CIFAR-10

@pytest.mark.parametrize("byte_keys", [False, True])
@pytest.mark.parametrize("protocol", [2, 5])
def test_cifar_reads_official_archive(tmp_path, byte_keys, protocol):
    rng = np.random.default_rng(2)
    batches = cifar_files(rng, byte_keys)
    names = ["plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    make_cifar_tar(tmp_path / "cifar-10-python.tar.gz", batches,
                   {"label_names": names, "num_cases_per_batch": 2}, protocol)
    train = datasets.CIFAR10(tmp_path)
    train_names = [f"data_batch_{i}" for i in range(1, 6)]
    assert train.data.shape == (10, 32, 32, 3) and train.data.dtype == np.uint8
    np.testing.assert_array_equal(train.data, expected_hwc(batches, train_names))
    key = b"labels" if byte_keys else "labels"
    assert train.targets == [y for n in train_names for y in batches[n][key]]
    assert train.classes == names and train.class_to_idx["truck"] == 9
    test = datasets.CIFAR10(tmp_path, train=False, transform=transforms.ToTensor())
    image, target = test[2]
    expected = expected_hwc(batches, ["test_batch"])[2]
    np.testing.assert_array_equal(image.numpy(),
                                  expected.transpose(2, 0, 1).astype(np.float32) / 255)
    assert target == batches["test_batch"][key][2] and len(test) == 3


def test_cifar_reads_extracted_folder_without_meta(tmp_path):
    rng = np.random.default_rng(3)
    batches = cifar_files(rng)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name, batch in batches.items():
        (folder / name).write_bytes(pickle.dumps(batch, 2))
    test = datasets.CIFAR10(tmp_path, train=False)
    np.testing.assert_array_equal(test.data, expected_hwc(batches, ["test_batch"]))
    assert test.classes[0] == "airplane"
    image, target = test[0]
    assert image.shape == (32, 32, 3) and type(target) is int


def test_cifar_missing(tmp_path):
    with pytest.raises(RuntimeError, match="Dataset not found. You can use download=True"):
        datasets.CIFAR10(tmp_path)


class Exploit:
    def __reduce__(self):
        return (os.system, (f"touch {Path.cwd() / 'pwned'}",))


def cifar_corruptions(rng):
    good = cifar_files(rng)
    wrong_shape = dict(good, data_batch_2=dict(good["data_batch_2"],
                                               data=np.zeros((2, 3072 - 1), np.uint8)))
    return {
        "missing batch": ({k: v for k, v in good.items() if k != "data_batch_3"},
                          "missing batch data_batch_3"),
        "wrong keys": (dict(good, data_batch_1={"images": good["data_batch_1"]["data"],
                                                "labels": [0, 1]}), "wrong keys"),
        "wrong data shape": (wrong_shape, r"uint8 array \(N, 3072\)"),
        "label count": (dict(good, data_batch_4=dict(good["data_batch_4"], labels=[1])),
                        "2 images but 1 labels"),
        "label range": (dict(good, data_batch_5=dict(good["data_batch_5"], labels=[1, 10])),
                        "labels must be ints in 0..9"),
        "not a dict": (dict(good, data_batch_1=[1, 2, 3]), "expected a pickled dict"),
        "not a pickle": (dict(good, data_batch_1=b"garbage bytes"), "corrupt or unsafe"),
        "code in pickle": (dict(good, data_batch_1=pickle.dumps(Exploit(), 2)),
                           "refusing the global '(posix|nt).system'"),
        "object array": (dict(good, data_batch_1=dict(good["data_batch_1"],
                                                      data=np.array([[1]], dtype=object))),
                         "refusing NumPy dtype object"),
    }


@pytest.mark.parametrize("case", list(cifar_corruptions(np.random.default_rng(0))))
def test_cifar_refuses_corrupt_batches(tmp_path, case, monkeypatch):
    monkeypatch.chdir(tmp_path)
    batches, reason = cifar_corruptions(np.random.default_rng(0))[case]
    make_cifar_tar(tmp_path / "cifar-10-python.tar.gz", batches)
    with pytest.raises(RuntimeError, match=reason):
        datasets.CIFAR10(tmp_path)
    assert not (tmp_path / "pwned").exists()


def test_cifar_refuses_bad_or_truncated_archive(tmp_path):
    batches = cifar_files(np.random.default_rng(4))
    path = make_cifar_tar(tmp_path / "cifar-10-python.tar.gz", batches)
    raw = path.read_bytes()
    path.write_bytes(raw[:len(raw) * 2 // 3])
    with pytest.raises(RuntimeError, match="not a valid tar.gz archive"):
        datasets.CIFAR10(tmp_path)
    path.write_bytes(b"this is not an archive at all")
    with pytest.raises(RuntimeError, match="not a valid tar.gz archive"):
        datasets.CIFAR10(tmp_path)


# ---------------------------------------------------------------- Digits

def packaged_digits() -> np.ndarray:
    path = Path(datasets.__file__).parent / "data" / "digits.csv.gz"
    lines = gzip.decompress(path.read_bytes()).decode().split()
    return np.array([[int(v) for v in line.split(",")] for line in lines])


def test_digits_split_shapes_and_classes():
    train, test = datasets.Digits(), datasets.Digits(train=False)
    assert len(train) == 1437 and len(test) == 360
    assert train.data.shape == (1437, 8, 8) and train.data.dtype == np.uint8
    assert train.classes == [str(d) for d in range(10)] and train.class_to_idx["7"] == 7
    assert train.data.max() == 255 and train.data.min() == 0
    everything = datasets.Digits(split="all")
    assert len(everything) == 1797
    def rows(d):
        return sorted(img.tobytes() + bytes([y]) for img, y in zip(d.data, d.targets, strict=True))

    assert sorted(rows(train) + rows(test)) == rows(everything)  # a partition
    assert set(np.unique(test.targets)) == set(range(10))


def test_digits_values_and_file_order_split():
    table = packaged_digits()
    assert table.shape == (1797, 65)
    scaled = np.floor(table[:, :64] * 255 / 16 + 0.5).reshape(-1, 8, 8)
    train = datasets.Digits(seed=None)
    np.testing.assert_array_equal(train.data, scaled[:1437])
    np.testing.assert_array_equal(train.targets, table[:1437, 64])
    test = datasets.Digits(train=False, seed=None)
    np.testing.assert_array_equal(test.targets, table[1437:, 64])


def test_digits_split_is_deterministic_and_seeded():
    a, b = datasets.Digits(train=False), datasets.Digits(train=False)
    np.testing.assert_array_equal(a.data, b.data)
    other = datasets.Digits(train=False, seed=1)
    assert not np.array_equal(a.targets, other.targets)
    with pytest.raises(ValueError, match="split must be"):
        datasets.Digits(split="validation")


def test_digits_through_dataloader():
    dataset = datasets.Digits(transform=transforms.ToTensor())
    images, labels = next(iter(DataLoader(dataset, batch_size=32, shuffle=True)))
    assert tuple(images.shape) == (32, 1, 8, 8) and images.dtype == deepgrad.float32
    assert labels.dtype == deepgrad.int64
    assert 0.0 <= images.min().item() and images.max().item() <= 1.0


# ---------------------------------------------------------------- ImageFolder

def test_image_folder_without_pillow_says_how_to_install(tmp_path, monkeypatch):
    (tmp_path / "cat").mkdir()
    monkeypatch.setitem(sys.modules, "PIL", None)  # import PIL now raises ImportError
    with pytest.raises(ImportError, match="pip install pillow"):
        datasets.ImageFolder(tmp_path)


def test_dataset_folder_with_custom_loader(tmp_path):
    for name, count in (("b_dog", 2), ("a_cat", 3)):
        (tmp_path / name / "sub").mkdir(parents=True)
        for i in range(count):
            np.save(tmp_path / name / "sub" / f"{i}.npy", np.full((2, 2), i, np.uint8))
        (tmp_path / name / "notes.txt").write_text("not a sample")
    data = datasets.DatasetFolder(tmp_path, loader=np.load, extensions=(".npy",))
    assert data.classes == ["a_cat", "b_dog"] and data.targets == [0, 0, 0, 1, 1]
    image, target = data[4]
    assert target == 1 and image[0, 0] == 1
    (tmp_path / "c_empty").mkdir()
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes c_empty"):
        datasets.DatasetFolder(tmp_path, loader=np.load, extensions=(".npy",))


def test_image_folder_with_pillow(tmp_path):
    image_module = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(5)
    arrays = {}
    for cls in ("zebra", "ant"):
        (tmp_path / cls).mkdir()
        for i in range(2):
            array = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
            image_module.fromarray(array).save(tmp_path / cls / f"{i}.PNG")
            arrays[(cls, i)] = array
    data = datasets.ImageFolder(tmp_path, transform=transforms.ToTensor())
    assert data.classes == ["ant", "zebra"] and data.class_to_idx == {"ant": 0, "zebra": 1}
    assert [Path(p).parent.name for p, _ in data.imgs] == ["ant", "ant", "zebra", "zebra"]
    image, target = data[3]
    assert target == 1
    np.testing.assert_array_equal(image.numpy(),
                                  arrays[("zebra", 1)].transpose(2, 0, 1).astype(np.float32) / 255)
    raw = datasets.ImageFolder(tmp_path)[0][0]
    assert raw.mode == "RGB" and raw.size == (7, 5)


def test_random_transforms_in_workers_reproducible_under_manual_seed():
    dataset = datasets.Digits(transform=transforms.Compose(
        [transforms.RandomCrop(8, padding=2), transforms.ToTensor()]))

    def batches(seed=123):
        deepgrad.manual_seed(seed)
        loader = DataLoader(dataset, batch_size=64, shuffle=True, num_workers=2)
        return [images.numpy() for images, _ in loader][:4]

    first, second = batches(), batches()
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], batches(seed=124)[0])
