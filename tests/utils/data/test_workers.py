"""DataLoader worker processes: same batches as the main process, seeding as torch, errors with
the worker's traceback, clean shutdown (break, del, gc, Ctrl-C), shared-memory datasets."""

from __future__ import annotations

import gc
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch.utils.data as tdata
from torch.utils.data._utils.worker import _generate_state as torch_generate_state

import deepgrad
from deepgrad.utils import data as ddata
from deepgrad.utils.data import sharing
from deepgrad.utils.data.worker import _generate_state

X = np.random.default_rng(0).standard_normal((23, 3)).astype(np.float32)
Y = np.arange(23)


def tensor_dataset():
    return ddata.TensorDataset(deepgrad.tensor(X), deepgrad.tensor(Y))


class Records(ddata.Dataset):
    """A per-sample dataset (no __getitems__) with mixed sample types."""

    def __len__(self):
        return 17

    def __getitem__(self, i):
        return {"x": X[i].copy(), "i": i, "name": f"s{i}"}


class WorkerFacts(ddata.Dataset):
    """Reports, per sample, what the worker knows about itself."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = ddata.get_worker_info()
        return (info.id, info.num_workers, info.seed, os.getpid(), info.dataset is self,
                *_FIRST_DRAWS)


_FIRST_DRAWS: tuple = ()


def record_first_draws(worker_id):
    """worker_init_fn: the first value of each RNG right after the worker was seeded."""
    global _FIRST_DRAWS
    _FIRST_DRAWS = (worker_id, random.random(), float(np.random.random()),
                    float(deepgrad.rand(1).item()))


class Failing(ddata.Dataset):
    def __init__(self, error=ValueError):
        self.error = error

    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == 6:
            raise self.error("sample six is broken")
        return i


class Slow(ddata.Dataset):
    def __init__(self, slow_index=4, seconds=1.5):
        self.slow_index, self.seconds = slow_index, seconds

    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == self.slow_index:
            time.sleep(self.seconds)
        return i


class Dies(ddata.Dataset):
    def __len__(self):
        return 10

    def __getitem__(self, i):
        if i == 5 and ddata.get_worker_info() is not None:
            os._exit(3)
        return i


def shard_stream(lib_data):
    class _Shards(lib_data.IterableDataset):
        def __iter__(self):
            info = lib_data.get_worker_info()
            start, step = (0, 1) if info is None else (info.id, info.num_workers)
            return iter(range(start, 21, step))
    return _Shards()


def as_list(value):
    return value.numpy().tolist() if hasattr(value, "numpy") else value


def flatten(batches):
    out = []
    for batch in batches:
        if isinstance(batch, dict):
            out.append({k: v.numpy().tolist() if hasattr(v, "numpy") else v
                        for k, v in batch.items()})
        else:
            out.append([v.numpy().tolist() for v in batch])
    return out


def wait_for_no_children(seconds=5.0):
    deadline = time.monotonic() + seconds
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.02)
    return multiprocessing.active_children()


@pytest.fixture(autouse=True)
def no_leftover_workers():
    yield
    gc.collect()  # a pytest.raises traceback keeps the failed iterator in a reference cycle
    assert wait_for_no_children() == []


@pytest.mark.parametrize("shuffle,drop_last,batch_size", [
    (False, False, 5), (False, True, 5), (True, False, 5), (True, True, 4), (True, False, 1),
    (False, False, 30),
])
def test_workers_yield_the_same_batches_as_the_main_process(shuffle, drop_last, batch_size):
    def run(num_workers):
        deepgrad.manual_seed(42)
        loader = ddata.DataLoader(tensor_dataset(), batch_size=batch_size, shuffle=shuffle,
                                  drop_last=drop_last, num_workers=num_workers)
        return flatten(loader), len(loader)

    single, length = run(0)
    multi, multi_length = run(2)
    assert multi == single and multi_length == length == len(single)
    if shuffle:
        assert run(2)[0] == single  # same seed, same order
        deepgrad.manual_seed(7)
        other = flatten(ddata.DataLoader(tensor_dataset(), batch_size=batch_size, shuffle=True,
                                         drop_last=drop_last, num_workers=2))
        assert other != single  # a different seed, a different order


def test_per_sample_dataset_through_workers():
    for shuffle in (False, True):
        deepgrad.manual_seed(3)
        single = flatten(ddata.DataLoader(Records(), batch_size=4, shuffle=shuffle))
        deepgrad.manual_seed(3)
        multi = flatten(ddata.DataLoader(Records(), batch_size=4, shuffle=shuffle, num_workers=2,
                                         prefetch_factor=1))
        assert multi == single


def test_iterable_dataset_workers_match_torch():
    for batch_size in (None, 2, 4):
        ours = ddata.DataLoader(shard_stream(ddata), batch_size=batch_size, num_workers=2)
        theirs = tdata.DataLoader(shard_stream(tdata), batch_size=batch_size, num_workers=2)
        assert [as_list(b) for b in ours] == [as_list(b) for b in theirs]


def test_generate_state_matches_torch():
    for base_seed in (0, 1, 12345, 2**40 + 7, 2**63 - 1):
        for worker_id in (0, 1, 5):
            assert _generate_state(base_seed, worker_id) == \
                torch_generate_state(base_seed, worker_id)


def test_worker_info_seeds_and_init_fn():
    assert ddata.get_worker_info() is None
    loader = ddata.DataLoader(WorkerFacts(), batch_size=None, num_workers=2,
                              worker_init_fn=record_first_draws)
    facts = {}
    for worker_id, num_workers, seed, pid, same_object, init_id, py, npy, dg in loader:
        assert num_workers == 2 and init_id == worker_id
        assert same_object  # info.dataset is the dataset copy this worker indexes
        facts[worker_id] = (seed, pid, py, npy, dg)
    assert sorted(facts) == [0, 1]
    assert facts[1][0] == facts[0][0] + 1  # seed = base_seed + worker_id
    assert facts[0][1] != facts[1][1] != os.getpid()
    for worker_id, (seed, _, py, npy, dg) in facts.items():
        base_seed = seed - worker_id
        assert py == random.Random(seed).random()
        expected_np = np.random.RandomState(torch_generate_state(base_seed, worker_id))
        assert npy == expected_np.random_sample()
        assert dg == deepgrad.rand(1, generator=deepgrad.Generator().manual_seed(seed)).item()


def test_worker_info_is_frozen():
    info = ddata.worker.WorkerInfo(id=0, num_workers=1, seed=0, dataset=None)
    with pytest.raises(AttributeError):
        info.id = 3


@pytest.mark.parametrize("error", [ValueError, KeyError, IndexError])
def test_worker_exception_carries_worker_traceback(error):
    loader = ddata.DataLoader(Failing(error), batch_size=2, num_workers=2)
    with pytest.raises(error) as info:
        list(loader)
    message = str(info.value)
    assert f"Caught {error.__name__} in DataLoader worker process 1" in message
    assert "Original Traceback (most recent call last)" in message
    assert "in __getitem__" in message and "sample six is broken" in message
    assert "test_workers.py" in message


def failing_init(worker_id):
    raise RuntimeError(f"init failed in worker {worker_id}")


def test_worker_init_fn_exception_surfaces():
    loader = ddata.DataLoader(tensor_dataset(), batch_size=4, num_workers=2,
                              worker_init_fn=failing_init)
    with pytest.raises(RuntimeError, match="init failed in worker 0"):
        list(loader)


def test_break_leaves_no_children():
    loader = ddata.DataLoader(Slow(seconds=0.0), batch_size=1, num_workers=2)
    for i, _ in enumerate(loader):
        assert len(multiprocessing.active_children()) == 2
        if i == 1:
            break
    assert wait_for_no_children() == []


def test_deleting_or_collecting_the_iterator_stops_workers():
    iterator = iter(ddata.DataLoader(tensor_dataset(), batch_size=2, num_workers=2))
    next(iterator)
    del iterator
    assert wait_for_no_children() == []
    iterator = iter(ddata.DataLoader(tensor_dataset(), batch_size=2, num_workers=2))
    next(iterator)
    cycle = [iterator]
    cycle.append(cycle)  # only the garbage collector can free it
    del iterator, cycle
    gc.collect()
    assert wait_for_no_children() == []


def test_dead_worker_is_reported():
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited "
                                           "unexpectedly"):
        list(ddata.DataLoader(Dies(), batch_size=1, num_workers=2))


def test_timeout():
    loader = ddata.DataLoader(Slow(seconds=1.5), batch_size=1, num_workers=2, timeout=0.3)
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.3 seconds"):
        list(loader)


def test_prefetch_factor_tasks_in_flight():
    iterator = iter(ddata.DataLoader(tensor_dataset(), batch_size=1, num_workers=2,
                                     prefetch_factor=3))
    assert iterator._send_idx == 6 and iterator._tasks_outstanding == 6
    next(iterator)
    assert iterator._send_idx == 7  # one returned, one more sent
    assert iterator._send_idx - iterator._rcvd_idx == 6
    del iterator


def test_in_order_false_yields_every_batch():
    loader = ddata.DataLoader(Slow(slow_index=0, seconds=0.3), batch_size=1, num_workers=2,
                              in_order=False)
    values = [as_list(b)[0] for b in loader]
    assert sorted(values) == list(range(10)) and values[0] != 0  # the slow batch came later


def test_persistent_workers_are_reused_across_epochs():
    class Pids(ddata.Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            return os.getpid()

    loader = ddata.DataLoader(Pids(), batch_size=2, num_workers=2, persistent_workers=True)
    first = {p for batch in loader for p in as_list(batch)}
    second = {p for batch in loader for p in as_list(batch)}
    assert first == second and len(first) == 2
    break_early = iter(loader)
    next(break_early)  # a new epoch after a broken-off one still sees every batch
    assert len(list(loader)) == 3
    assert len(multiprocessing.active_children()) == 2
    del loader, break_early
    gc.collect()
    assert wait_for_no_children() == []
    plain = ddata.DataLoader(Pids(), batch_size=2, num_workers=2)
    assert {p for b in plain for p in as_list(b)}.isdisjoint({p for b in plain for p in as_list(b)})


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_workers_map_the_dataset_from_shared_memory(context):
    dataset = tensor_dataset()
    loader = ddata.DataLoader(dataset, batch_size=23, num_workers=2, persistent_workers=True,
                              multiprocessing_context=context)
    (x, _), = list(loader)
    np.testing.assert_array_equal(x.numpy(), X)
    assert all(sharing.is_shared(t._data) for t in dataset.tensors)
    # a write in the main process is seen by the running workers: same physical pages
    dataset.tensors[0]._data += 100.0
    (x, _), = list(loader)
    np.testing.assert_array_equal(x.numpy(), X + 100.0)
    del loader, x


def test_shared_blocks_are_released_with_the_dataset():
    if not os.path.isdir("/dev/shm"):
        pytest.skip("no /dev/shm to inspect")
    dataset = tensor_dataset()
    list(ddata.DataLoader(dataset, batch_size=5, num_workers=2))
    names = [sharing._BLOCKS[id(t._data)][1].name for t in dataset.tensors]
    assert all(os.path.exists(f"/dev/shm/{name}") for name in names)
    # one move only: a second loader reuses the blocks
    list(ddata.DataLoader(dataset, batch_size=5, num_workers=2))
    assert [sharing._BLOCKS[id(t._data)][1].name for t in dataset.tensors] == names
    del dataset
    gc.collect()
    assert not any(os.path.exists(f"/dev/shm/{name}") for name in names)


CTRL_C_SCRIPT = textwrap.dedent("""
    import multiprocessing, time
    from deepgrad.utils import data

    class Slow(data.Dataset):
        def __len__(self):
            return 10000

        def __getitem__(self, i):
            time.sleep(0.005)
            return i

    if __name__ == "__main__":
        loader = data.DataLoader(Slow(), batch_size=2, num_workers=2)
        try:
            for i, batch in enumerate(loader):
                if i == 0:
                    pids = [p.pid for p in multiprocessing.active_children()]
                    print("PIDS", *pids, flush=True)
        except KeyboardInterrupt:
            deadline = time.monotonic() + 5
            while multiprocessing.active_children() and time.monotonic() < deadline:
                time.sleep(0.02)
            print("CHILDREN", len(multiprocessing.active_children()), flush=True)
""")


def test_ctrl_c_shuts_workers_down(tmp_path):
    script = tmp_path / "ctrl_c.py"
    script.write_text(CTRL_C_SCRIPT)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(deepgrad.__file__)))
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env,
                               start_new_session=True)  # its own process group, like a terminal
    try:
        line = process.stdout.readline()
        assert line.startswith("PIDS"), process.stderr.read()
        pids = [int(p) for p in line.split()[1:]]
        assert len(pids) == 2
        time.sleep(0.2)
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches the whole group
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert "CHILDREN 0" in out, err
    assert process.returncode == 0, err
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}") or _is_zombie(pid)


def _is_zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] == "Z"
    except FileNotFoundError:
        return True
