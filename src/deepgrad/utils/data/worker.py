"""What runs inside a DataLoader worker process: seeding, ``get_worker_info``, the fetch loop.

Each worker receives ``(batch_number, indices)`` tasks on its own index queue, builds the
batch with the same fetcher as the main process and puts ``(batch_number, batch)`` on the
shared result queue. Batches travel back as pickled arrays through the queue's pipe (0.12 ms
to pickle and unpickle a 400 KB batch; measurements in the DataLoader docstring), while the
dataset's arrays are mapped from shared memory (``sharing.py``). An exception becomes an
``ExceptionWrapper`` carrying the worker's traceback text, re-raised by the main process.
"""

from __future__ import annotations

import os
import queue
import random
import sys
import traceback
from dataclasses import dataclass

import numpy as np

from ... import backend
from .fetch import _DatasetKind
from .sharing import SharedPayload

__all__ = ["get_worker_info", "WorkerInfo"]

# How often (seconds) a waiting process checks that its peer is still alive.
MP_STATUS_CHECK_INTERVAL = 1.0


@dataclass(frozen=True)
class WorkerInfo:
    """Information about the current DataLoader worker (``get_worker_info()``).

    Attributes:
        id: worker id, ``0 .. num_workers - 1``.
        num_workers: total number of workers.
        seed: the seed this worker's RNGs were seeded with (``base_seed + id``).
        dataset: this worker's copy of the dataset.
    """

    id: int
    num_workers: int
    seed: int
    dataset: object
    rng: object | None = None
    worker_method: str | None = "multiprocessing"


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """The ``WorkerInfo`` of the current DataLoader worker process; ``None`` in the main process.

    Use it in an ``IterableDataset.__iter__`` or a ``worker_init_fn`` to give each worker its
    own share of the data.

    Example:
        >>> info = get_worker_info()
        >>> start = 0 if info is None else info.id  # then step by info.num_workers
    """
    return _worker_info


class KeyErrorMessage(str):
    """A str whose repr is itself, so a re-raised KeyError shows its multi-line message."""

    def __repr__(self) -> str:
        return self


class ExceptionWrapper:
    """An exception and its traceback text, picklable, to be re-raised in another process."""

    def __init__(self, exc_info=None, where: str = "in background") -> None:
        if exc_info is None:
            exc_info = sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        """Raise the wrapped exception type with the original traceback in its message."""
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = KeyErrorMessage(msg)
        elif getattr(self.exc_type, "message", None):
            raise self.exc_type(message=msg)
        try:
            exception = self.exc_type(msg)
        except Exception:  # noqa: BLE001 - exception types whose constructor wants more args
            raise RuntimeError(msg) from None
        try:
            raise exception
        finally:
            # no exception -> traceback -> this frame -> exception cycle: once the caller drops
            # the exception, the iterator (and its workers) can be freed without waiting for gc
            del exception


@dataclass(frozen=True)
class _IterableDatasetStopIteration:
    """Sent by a worker whose copy of an IterableDataset is exhausted."""

    worker_id: int


@dataclass(frozen=True)
class _ResumeIteration:
    """Sent to persistent workers at the start of a new epoch (and echoed back)."""

    seed: int | None = None


def _generate_state(base_seed: int, worker_id: int) -> list[int]:
    """The NumPy seed of a worker: torch's hash of (base_seed, worker_id), after NumPy's
    SeedSequence, so ``np.random`` draws in workers are decorrelated and match torch's."""
    mask32 = 0xFFFFFFFF
    xshift = 16
    entropy = [worker_id, base_seed & mask32, base_seed >> 32, 0]
    hash_const_a = 0x43B0D7E5

    def hashmix(value):
        nonlocal hash_const_a
        value = (value ^ hash_const_a) & mask32
        hash_const_a = (hash_const_a * 0x931E8875) & mask32
        value = (value * hash_const_a) & mask32
        return (value ^ (value >> xshift)) & mask32

    def mix(x, y):
        result = ((0xCA01F9DD * x) & mask32) - ((0x4973F715 * y) & mask32)
        result &= mask32
        return (result ^ (result >> xshift)) & mask32

    pool = [hashmix(value) for value in entropy]
    for i_src in range(4):
        for i_dst in range(4):
            if i_src != i_dst:
                pool[i_dst] = mix(pool[i_dst], hashmix(pool[i_src]))
    hash_const_b = 0x8B51F9DD
    state = []
    for value in pool:
        value = (value ^ hash_const_b) & mask32
        hash_const_b = (hash_const_b * 0x58F38DED) & mask32
        value = (value * hash_const_b) & mask32
        state.append((value ^ (value >> xshift)) & mask32)
    return state


def _seed_worker(base_seed: int, worker_id: int) -> int:
    """Seed Python's, NumPy's and deepgrad's global RNGs for one worker, as torch does."""
    seed = base_seed + worker_id
    random.seed(seed)
    backend.manual_seed(seed)
    np.random.seed(_generate_state(base_seed, worker_id))
    return seed


def _worker_loop(dataset_kind, payload, index_queue, data_queue, done_event, auto_collation,
                 drop_last, base_seed, worker_id, num_workers, parent_pid) -> None:
    """The body of a worker process: fetch the batches named on ``index_queue`` until told to
    stop (``None``), the main process dies or Ctrl-C."""
    global _worker_info
    try:
        if isinstance(payload, SharedPayload):  # 'fork': the objects arrive unpickled
            payload = payload.obj
        dataset, collate_fn, init_fn = payload
        seed = _seed_worker(base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)
        init_exception = None
        fetcher = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = _DatasetKind.create_fetcher(dataset_kind, dataset, auto_collation,
                                                  collate_fn, drop_last)
        except Exception:  # noqa: BLE001 - reported to the main process with the first batch
            init_exception = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
        iteration_end = False
        while os.getppid() == parent_pid:  # an orphaned worker exits on its own
            try:
                task = index_queue.get(timeout=MP_STATUS_CHECK_INTERVAL)
            except queue.Empty:
                if done_event.is_set():
                    break  # shut down without a final signal (e.g. its queue was closed)
                continue
            if isinstance(task, _ResumeIteration):
                data_queue.put((task, None))
                iteration_end = False
                if init_exception is None:
                    fetcher = _DatasetKind.create_fetcher(dataset_kind, dataset, auto_collation,
                                                          collate_fn, drop_last)
                continue
            if task is None:  # the final signal
                break
            if done_event.is_set() or iteration_end:
                continue  # drain the queue until the final signal
            batch_number, index = task
            if init_exception is not None:
                data, init_exception = init_exception, None
            else:
                data = _fetch(fetcher, index, dataset_kind, worker_id)
                iteration_end = isinstance(data, _IterableDatasetStopIteration)
            data_queue.put((batch_number, data))
            del data, index, task  # do not hold a batch while waiting for the next task
    except KeyboardInterrupt:
        pass  # Ctrl-C reaches the whole process group; the main process handles it
    if done_event.is_set():
        # do not wait at exit to flush results nobody will read
        data_queue.cancel_join_thread()
        data_queue.close()


def _fetch(fetcher, index, dataset_kind, worker_id):
    try:
        return fetcher.fetch(index)
    except StopIteration:
        if dataset_kind == _DatasetKind.Iterable:
            return _IterableDatasetStopIteration(worker_id)
        return ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
    except Exception:  # noqa: BLE001 - any dataset error goes back with its traceback
        return ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
