"""Running a sweep: skip what the store has, run the rest on an executor, record each result.

Executors: ``"serial"`` (this process), ``"processes"`` (a forkserver-started process pool,
one worker per core by default), ``"dask"`` (a ``distributed.LocalCluster`` with one
single-threaded worker process per core, or an existing cluster via ``scheduler=
"tcp://HOST:PORT"``), or any ``concurrent.futures.Executor``. Tasks are submitted through
a bounded window (``max_in_flight``, default twice the workers), so a 10^5-task sweep never
sits in memory or in the scheduler at once. Every task carries its own seed, so its
result does not depend on the executor or on the order tasks finish in.

A task that raises is recorded as ``failed`` with ``"ExceptionType: message"`` and the
sweep goes on; a rerun retries failed tasks (``retry_failed``). An interrupt (Ctrl-C)
cancels what has not started, records nothing half-done and raises
:class:`SweepInterrupted` carrying the summary so far.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import dataclasses
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from qproto._errors import InvalidParameter, InvalidType
from qproto._validation import check_bool, check_int
from qproto._workers import worker_initializer

from ._spec import Sweep, sweep_from
from ._store import Store
from ._task import Task

__all__ = ["run_sweep", "RunProgress", "RunSummary", "SweepInterrupted", "execute_payload", "EXECUTORS"]

EXECUTORS = ("serial", "processes", "dask")


@dataclasses.dataclass(frozen=True)
class RunProgress:
    """Progress of a sweep run, passed to the ``progress`` callback after every task.

    Attributes:
        total: points of the sweep (duplicates included).
        done: tasks run and stored as done in this run.
        skipped: points whose task was already done in the store, or a duplicate of an
            earlier point (same id).
        failed: tasks that raised in this run.
        elapsed_s: seconds since the run started.
        last_id: id of the task that just finished (or was skipped).
        last_status: ``"done"``, ``"failed"`` or ``"skipped"``.
    """

    total: int
    done: int
    skipped: int
    failed: int
    elapsed_s: float
    last_id: str = ""
    last_status: str = ""

    @property
    def finished(self) -> int:
        """Points dealt with so far (done + skipped + failed)."""
        return self.done + self.skipped + self.failed


@dataclasses.dataclass(frozen=True)
class RunSummary:
    """What a run did: counts as in :class:`RunProgress`, plus ``unique`` (distinct task ids
    among the points seen), ``task_seconds`` (the tasks' own run time summed) and
    ``elapsed_s`` (wall time)."""

    total: int
    unique: int
    done: int
    skipped: int
    failed: int
    task_seconds: float
    elapsed_s: float


class SweepInterrupted(KeyboardInterrupt):
    """Raised by :func:`run_sweep` on Ctrl-C after cleaning up; ``summary`` says what was stored."""

    def __init__(self, summary: RunSummary):
        super().__init__("sweep interrupted")
        self.summary = summary


def execute_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """Run one :meth:`Task.payload` (in a worker) and return its outcome as plain data:
    ``{"id", "status", "result" (to_dict JSON text) or "error", "seconds"}``. Never raises
    for a failing task: the error is part of the outcome."""
    import json

    from ._task import run_payload

    t0 = time.perf_counter()
    try:
        result = run_payload(payload)
        text = json.dumps(result.to_dict())
    except Exception as exc:  # the task's failure is data, not the runner's
        return {"id": payload["id"], "status": "failed", "error": f"{type(exc).__name__}: {exc}",
                "seconds": time.perf_counter() - t0}
    return {"id": payload["id"], "status": "done", "result": text, "seconds": time.perf_counter() - t0}


@contextlib.contextmanager
def _sigint_ignored():
    """Ignore SIGINT in this process while child processes are started (main thread only)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _start_forkserver_without_sigint() -> None:
    """Start the forkserver with SIGINT ignored (an ignored signal stays ignored across exec).

    A Ctrl-C reaches the whole foreground process group; the forkserver only ignores SIGINT
    after importing its preload modules, so without this a Ctrl-C during that import printed
    its traceback. Its forked workers inherit the ignored disposition too.
    """
    from multiprocessing import forkserver

    with _sigint_ignored():
        forkserver.ensure_running()


class _Serial:
    """The serial executor: runs a payload when its result is asked for (in this process)."""

    def submit(self, fn, payload):
        f: cf.Future = cf.Future()
        f.set_result(fn(payload))
        return f

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        pass


def _make_executor(executor: Any, workers: int | None, scheduler: str | None):
    """``(executor, n_workers, closer)`` for an executor name or instance."""
    if isinstance(executor, cf.Executor):
        return executor, workers or os.cpu_count() or 1, lambda: None
    if executor == "serial":
        return _Serial(), 1, lambda: None
    if executor == "processes":
        import multiprocessing

        n = workers or os.cpu_count() or 1
        # forkserver: a fresh, single-threaded server process imports qproto once and forks the
        # workers from it. Cheaper than spawn (one import, not one per worker) and, unlike
        # fork, never forks a parent whose Aer/OpenMP threads are running.
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["qproto.bench._runner", "qproto.protocols", "qproto.noise_models"])
        _start_forkserver_without_sigint()
        pool = cf.ProcessPoolExecutor(n, mp_context=ctx, initializer=worker_initializer)
        return pool, n, lambda: pool.shutdown(wait=True, cancel_futures=True)
    if executor == "dask":
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise InvalidParameter("executor", "dask", "the 'bench' extra installed",
                                   "the dask executor needs dask[distributed]: pip install 'qproto[bench]'") from None
        if scheduler is not None:
            client = Client(scheduler)
            cluster = None
        else:
            import logging

            import dask

            # Dask's nanny sets MALLOC_TRIM_THRESHOLD_ in its workers, which turns off glibc's
            # dynamic mmap threshold: every large numpy array of a chunk is then mmapped and
            # page-faulted afresh, and a BB84 task ran ~1.5x slower than in a plain process.
            # Unset it (None unsets a pre-spawn variable); OMP_NUM_THREADS=1 stays.
            with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}), \
                    _sigint_ignored():
                # Worker processes started with SIGINT ignored keep it ignored: a Ctrl-C then
                # reaches only this process, which shuts the cluster down in order.
                # silence_logs=ERROR: the workers' shutdown warnings (tasks cancelled by a Ctrl-C,
                # a busy worker killed after the grace period) are not the user's concern.
                cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                                       processes=True, dashboard_address=None, silence_logs=logging.ERROR)
            client = Client(cluster)
        n = max(1, sum(client.nthreads().values()))

        def close() -> None:
            import logging

            # A worker busy in Aer can outlive the nanny's 4 s shutdown grace under load; the
            # nanny then kills it and logs a warning that is noise here (all results are in).
            nanny = logging.getLogger("distributed.nanny")
            level = nanny.level
            nanny.setLevel(logging.ERROR)
            try:
                client.close()
                if cluster is not None:
                    cluster.close()
            finally:
                nanny.setLevel(level)

        return client.get_executor(pure=False), n, close
    raise InvalidParameter("executor", executor, f"one of {list(EXECUTORS)} or a concurrent.futures.Executor")


def run_sweep(sweep: Sweep | Iterable[Task] | Any, store: Store | str | os.PathLike, *,
              executor: str | cf.Executor = "serial", workers: int | None = None, scheduler: str | None = None,
              max_in_flight: int | None = None, retry_failed: bool = True,
              progress: Callable[[RunProgress], None] | None = None) -> RunSummary:
    """Run every task of ``sweep`` that ``store`` does not hold as done, and record each result.

    Args:
        sweep: a :class:`Sweep` (or TOML path, or TOML-shaped dict), or an iterable of
            :class:`Task` s.
        store: a :class:`Store` or the path of its SQLite file (created if missing).
        executor: ``"serial"``, ``"processes"``, ``"dask"`` or a ``concurrent.futures.Executor``.
        workers: worker processes for ``"processes"``/``"dask"`` (default: one per core), >= 1.
        scheduler: with ``"dask"``: the address of an existing scheduler
            (``"tcp://HOST:PORT"``) instead of a LocalCluster.
        max_in_flight: tasks submitted but not finished at any time, >= 1 (default: 2 x workers).
        retry_failed: run tasks stored as failed again.
        progress: called with a :class:`RunProgress` after every point.

    Returns:
        A :class:`RunSummary`.

    Raises:
        SweepInterrupted: on Ctrl-C, after cancelling pending tasks (stored rows stay).
        InvalidParameter, InvalidType: a bad argument or sweep value (every point of a
            :class:`Sweep` is resolved before the first task runs).
    """
    t0 = time.perf_counter()
    if workers is not None:
        workers = check_int("workers", workers, minimum=1)
    if max_in_flight is not None:
        max_in_flight = check_int("max_in_flight", max_in_flight, minimum=1)
    retry_failed = check_bool("retry_failed", retry_failed)
    if progress is not None and not callable(progress):
        raise InvalidType("progress", progress, "a callable(RunProgress) or None")
    if scheduler is not None and executor != "dask":
        raise InvalidParameter("scheduler", scheduler, "only with executor='dask'")
    if isinstance(sweep, Sweep) or isinstance(sweep, (str, os.PathLike, dict)):
        sweep = sweep_from(sweep)
        # Resolve every point once before running anything, so a bad value in the last block
        # fails now rather than after hours of work (streamed: nothing is kept).
        for _ in sweep.tasks():
            pass
        tasks: Iterable[Task] = sweep.tasks()
        total = sweep.size()
    else:
        tasks = list(sweep)
        for i, t in enumerate(tasks):
            if not isinstance(t, Task):
                raise InvalidType(f"sweep[{i}]", t, "a qproto.bench.Task")
        total = len(tasks)
    own_store = not isinstance(store, Store)
    db = Store(store) if own_store else store
    finished = db.ids("done") if retry_failed else db.ids(None)
    seen: set[str] = set()
    counts = {"done": 0, "skipped": 0, "failed": 0}
    task_seconds = 0.0
    pool = None
    close = lambda: None  # noqa: E731
    in_flight: dict[Any, Task] = {}

    def summary() -> RunSummary:
        return RunSummary(total=total, unique=len(seen), done=counts["done"], skipped=counts["skipped"],
                          failed=counts["failed"], task_seconds=task_seconds, elapsed_s=time.perf_counter() - t0)

    def report(task_id: str, status: str) -> None:
        counts[status] += 1
        if progress is not None:
            progress(RunProgress(total=total, done=counts["done"], skipped=counts["skipped"],
                                 failed=counts["failed"], elapsed_s=time.perf_counter() - t0,
                                 last_id=task_id, last_status=status))

    def collect(future) -> None:
        nonlocal task_seconds
        task = in_flight.pop(future)
        try:
            out = future.result()
        except Exception as exc:  # the worker itself died (not the task raising)
            out = {"status": "failed", "error": f"{type(exc).__name__}: {exc}", "seconds": None}
        task_seconds += out.get("seconds") or 0.0
        db.record(task, status=out["status"], result=out.get("result"), error=out.get("error"),
                  seconds=out.get("seconds"))
        report(task.id, out["status"])

    try:
        pool, n_workers, close = _make_executor(executor, workers, scheduler)
        window = max_in_flight or 2 * n_workers
        for task in tasks:
            tid = task.id
            if tid in seen or tid in finished:
                seen.add(tid)
                report(tid, "skipped")
                continue
            seen.add(tid)
            while len(in_flight) >= window:
                ready, _ = cf.wait(list(in_flight), return_when=cf.FIRST_COMPLETED)
                for f in ready:
                    collect(f)
            in_flight[pool.submit(execute_payload, task.payload())] = task
            if isinstance(pool, _Serial):
                for f in list(in_flight):
                    collect(f)
        while in_flight:
            ready, _ = cf.wait(list(in_flight), return_when=cf.FIRST_COMPLETED)
            for f in ready:
                collect(f)
    except KeyboardInterrupt:
        for f in in_flight:
            f.cancel()
        _quiet_close(close)
        close = lambda: None  # noqa: E731
        raise SweepInterrupted(summary()) from None
    finally:
        try:
            close()
        finally:
            if own_store:
                db.close()
    return summary()


def _quiet_close(close: Callable[[], None]) -> None:
    """Shut an executor down after an interrupt without letting its noise escape."""
    import logging

    for name in ("distributed", "tornado"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        close()
    except BaseException:  # noqa: BLE001 - a second Ctrl-C or a broken pool must not hide the first
        pass
