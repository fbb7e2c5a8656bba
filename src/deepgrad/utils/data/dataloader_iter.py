"""The iterators a DataLoader returns: in the main process, or fed by worker processes.

The multi-process iterator follows torch's protocol: one index queue per worker, tasks handed
out round-robin with ``prefetch_factor`` batches in flight per worker, one shared result queue,
and results put back in sampler order by batch number (``in_order=True``). Workers stop on
exhaustion (unless persistent), on ``break`` / deletion / garbage collection of the iterator
(``__del__``), on Ctrl-C in the main process and at interpreter exit; a worker that dies is
reported instead of hanging.
"""

from __future__ import annotations

import atexit
import itertools
import multiprocessing
import queue
import sys
import threading
import warnings
import weakref

import numpy as np

from ... import backend
from . import worker as _worker
from .fetch import _DatasetKind
from .sharing import SharedPayload, share_dataset_memory

_python_exiting = False
_live_iterators: weakref.WeakSet = weakref.WeakSet()
_live_lock = threading.Lock()
# id(iterator) -> its queues. Held here so that when the garbage collector frees an iterator
# stuck in a reference cycle, the queues are still reachable: otherwise their own finalizers
# close them first and the final signal in __del__ never reaches the workers.
_live_queues: dict[int, tuple] = {}


@atexit.register
def _shutdown_at_exit() -> None:
    # registered after multiprocessing's own exit hook, so it runs first: stop workers cleanly
    global _python_exiting
    with _live_lock:
        iterators = list(_live_iterators)
    for iterator in iterators:
        iterator._shutdown_workers()
    _python_exiting = True


def default_context():
    """'fork' on Linux (workers inherit the dataset without pickling), else 'spawn'."""
    if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


class _BaseDataLoaderIter:
    def __init__(self, loader) -> None:
        self._dataset = loader.dataset
        self._dataset_kind = loader._dataset_kind
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        if loader.pin_memory and loader.pin_memory_device:
            warnings.warn("pin_memory_device is deprecated, the current accelerator will be used "
                          f"as the device,ignore pin_memory_device='{loader.pin_memory_device}'.",
                          stacklevel=3)
        if loader.pin_memory and not backend.cuda_is_available():
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", stacklevel=3)
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._sampler_iter = iter(self._index_sampler)
        # one draw per epoch from the loader's generator, as torch: workers are seeded from it
        self._base_seed = int(backend.rng(loader.generator).integers(0, 2**63, dtype=np.int64))
        self._persistent_workers = loader.persistent_workers
        self._num_yielded = 0

    def __iter__(self):
        return self

    def _reset(self, loader, first_iter: bool = False) -> None:
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called

    def _next_index(self):
        return next(self._sampler_iter)  # may raise StopIteration

    def _next_data(self):
        raise NotImplementedError

    def __next__(self):
        data = self._next_data()
        self._num_yielded += 1
        if (self._dataset_kind == _DatasetKind.Iterable
                and self._IterableDataset_len_called is not None
                and self._num_yielded > self._IterableDataset_len_called):
            message = (f"Length of IterableDataset {self._dataset} was reported to be "
                       f"{self._IterableDataset_len_called}(when accessing len(dataloader)), but "
                       f"{self._num_yielded} samples have been fetched. ")
            if self._num_workers > 0:
                message += ("For multiprocessing data-loading, this could be caused by not "
                            "properly configuring the IterableDataset replica at each worker.")
            warnings.warn(message, stacklevel=2)
        return data

    def __len__(self) -> int:
        return len(self._index_sampler)

    def __getstate__(self):
        raise NotImplementedError(f"{self.__class__.__name__} cannot be pickled")


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    """Batches built in the main process (``num_workers=0``)."""

    def __init__(self, loader) -> None:
        super().__init__(loader)
        self._dataset_fetcher = _DatasetKind.create_fetcher(
            self._dataset_kind, self._dataset, self._auto_collation, self._collate_fn,
            self._drop_last)

    def _next_data(self):
        index = self._next_index()  # may raise StopIteration
        return self._dataset_fetcher.fetch(index)  # may raise StopIteration


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """Batches built by ``num_workers`` worker processes, returned in sampler order."""

    def __init__(self, loader) -> None:
        super().__init__(loader)
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        context = loader.multiprocessing_context or default_context()
        self._shutdown = False
        self._workers = []
        self._index_queues = []
        self._workers_status = [True] * self._num_workers
        share_dataset_memory(self._dataset)
        payload = SharedPayload((self._dataset, self._collate_fn, loader.worker_init_fn))
        self._worker_result_queue = context.Queue()
        self._workers_done_event = context.Event()
        with _live_lock:
            _live_iterators.add(self)
            _live_queues[id(self)] = (self._index_queues, self._worker_result_queue)
        for worker_id in range(self._num_workers):
            index_queue = context.Queue()
            index_queue.cancel_join_thread()  # never block exit on unread tasks
            process = context.Process(
                target=_worker._worker_loop,
                args=(self._dataset_kind, payload, index_queue, self._worker_result_queue,
                      self._workers_done_event, self._auto_collation, self._drop_last,
                      self._base_seed, worker_id, self._num_workers,
                      multiprocessing.current_process().pid),
                daemon=True,  # killed at exit if a clean shutdown was not possible
            )
            process.start()
            self._index_queues.append(index_queue)
            self._workers.append(process)
        self._data_queue = self._worker_result_queue
        self._reset(loader, first_iter=True)

    def _reset(self, loader, first_iter: bool = False) -> None:
        super()._reset(loader, first_iter)
        self._send_idx = 0  # batch number of the next task to send
        self._rcvd_idx = 0  # batch number of the next batch to return
        self._task_info = {}  # batch number -> (worker_id,) or (worker_id, data)
        self._tasks_outstanding = 0
        self._workers_status = [True] * self._num_workers
        self._workers_num_tasks = [0] * self._num_workers
        self._worker_queue_idx_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:  # persistent workers: restart each worker's epoch and wait for it
            for index_queue in self._index_queues:
                index_queue.put(_worker._ResumeIteration())
            remaining = self._num_workers
            while remaining > 0:
                return_idx, _ = self._get_data()
                if isinstance(return_idx, _worker._ResumeIteration):
                    remaining -= 1
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _try_get_data(self, timeout: float = _worker.MP_STATUS_CHECK_INTERVAL):
        try:
            return True, self._data_queue.get(timeout=timeout)
        except queue.Empty:
            failed = [w for i, w in enumerate(self._workers)
                      if self._workers_status[i] and not w.is_alive()]
            if failed:
                for i, w in enumerate(self._workers):
                    if w in failed:
                        self._mark_worker_as_unavailable(i)
                pids = ", ".join(str(w.pid) for w in failed)
                raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly"
                                   ) from None
            return False, None

    def _get_data(self):
        if self._timeout > 0:
            success, data = self._try_get_data(self._timeout)
            if not success:
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
            return data
        while True:
            success, data = self._try_get_data()
            if success:
                return data

    def __next__(self):
        try:
            return super().__next__()
        except KeyboardInterrupt:
            self._shutdown_workers()  # Ctrl-C: stop the workers now, not at garbage collection
            raise

    def _next_data(self):
        while True:
            # skip batches owned by workers whose iterable dataset is exhausted
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info:
                    if len(info) == 2 or self._workers_status[info[0]]:
                        break
                    del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration
            if len(self._task_info[self._rcvd_idx]) == 2:  # arrived earlier, out of order
                worker_id, data = self._task_info.pop(self._rcvd_idx)
                self._rcvd_idx += 1
                return self._process_data(data, worker_id)
            idx, data = self._get_data()
            self._tasks_outstanding -= 1
            if isinstance(data, _worker._IterableDatasetStopIteration):
                if self._persistent_workers:
                    self._workers_status[data.worker_id] = False
                else:
                    self._mark_worker_as_unavailable(data.worker_id)
                self._try_put_index()
                continue
            if idx != self._rcvd_idx:
                if not self._in_order:
                    return self._process_data(data, self._task_info.pop(idx)[0])
                self._task_info[idx] += (data,)
            else:
                worker_id = self._task_info.pop(idx)[0]
                self._rcvd_idx += 1
                return self._process_data(data, worker_id)

    def _try_put_index(self) -> None:
        try:
            index = self._next_index()
        except StopIteration:
            return
        max_tasks = self._prefetch_factor * self._num_workers
        for _ in range(self._num_workers):  # the next active worker, if any
            worker_id = next(self._worker_queue_idx_cycle)
            if self._workers_status[worker_id] and (
                    self._in_order
                    or self._workers_num_tasks[worker_id] < max_tasks // sum(self._workers_status)):
                break
        else:
            return
        self._index_queues[worker_id].put((self._send_idx, index))
        self._task_info[self._send_idx] = (worker_id,)
        self._workers_num_tasks[worker_id] += 1
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _process_data(self, data, worker_id: int):
        self._workers_num_tasks[worker_id] -= 1
        self._try_put_index()
        if isinstance(data, _worker.ExceptionWrapper):
            data.reraise()
        return data

    def _mark_worker_as_unavailable(self, worker_id: int) -> None:
        # the final signal; the worker drains its queue and exits
        self._index_queues[worker_id].put(None)
        self._workers_status[worker_id] = False

    def _shutdown_workers(self) -> None:
        """Stop every worker: set done, send the final signal, join, terminate stragglers."""
        if _python_exiting or self._shutdown:
            return
        self._shutdown = True
        try:
            self._workers_done_event.set()
            for worker_id in range(len(self._workers)):
                if self._persistent_workers or self._workers_status[worker_id]:
                    self._mark_worker_as_unavailable(worker_id)
            for process in self._workers:
                process.join(timeout=_worker.MP_STATUS_CHECK_INTERVAL)
            for index_queue in self._index_queues:
                index_queue.cancel_join_thread()
                index_queue.close()
            self._worker_result_queue.cancel_join_thread()
            self._worker_result_queue.close()
        finally:
            for process in self._workers:
                if process.is_alive():
                    process.terminate()
                    process.join(timeout=_worker.MP_STATUS_CHECK_INTERVAL)
            with _live_lock:
                _live_iterators.discard(self)
                _live_queues.pop(id(self), None)

    def __del__(self) -> None:
        if getattr(self, "_workers", None) is not None:
            self._shutdown_workers()
