"""Issue 10: bounded memory for any accepted input. Chunks are generated lazily (1e18 rounds start
at once), at most a window of chunks is in flight in an executor (and the rest is cancelled when
a run stops), --workers never starts more processes than chunks or cores, and a few extreme
accepted inputs stay under 1 GiB (peak RSS measured in a child process)."""

from __future__ import annotations

import concurrent.futures
import subprocess
import sys
import threading
import time
import tracemalloc

import pytest

from qproto import Channel, Engine, get_protocol
from qproto._protocol import CHUNKS_IN_FLIGHT_PER_WORKER

CH = Channel(transmittance=0.5, depolarisation=0.05)


class _Stop(Exception):
    pass


def _stop_after(n_calls: int, calls: list):
    def progress(done: int, total: int) -> None:
        calls.append((done, total))
        if len(calls) >= n_calls:
            raise _Stop
    return progress


@pytest.mark.parametrize("rounds, chunk_size", [(10**18, 1 << 12), (10**9, 1)])
def test_huge_runs_start_at_once_in_bounded_memory(rounds, chunk_size):
    """Before: the list of chunk sizes was built up front (23 GB after 10 minutes for 1e18 rounds)."""
    calls: list = []
    tracemalloc.start()
    start = time.monotonic()
    try:
        with pytest.raises(_Stop):
            get_protocol("bb84").run(CH, rounds=rounds, seed=1, engine=Engine(chunk_size=chunk_size),
                                     progress=_stop_after(3, calls))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.monotonic() - start < 30
    assert calls == [(chunk_size * k, rounds) for k in (1, 2, 3)]
    assert peak < 64 * 2**20


class _CountingExecutor(concurrent.futures.Executor):
    """A thread pool that records how many submitted jobs are not yet collected, at most."""

    def __init__(self, workers: int):
        self._pool = concurrent.futures.ThreadPoolExecutor(workers)
        self._max_workers = workers
        self._lock = threading.Lock()
        self.submitted = 0
        self.started = 0
        self.max_outstanding = 0
        self.collected = 0

    def submit(self, fn, /, *args, **kwargs):
        def job():
            with self._lock:
                self.started += 1
            return fn(*args, **kwargs)

        future = self._pool.submit(job)
        with self._lock:
            self.submitted += 1
            self.max_outstanding = max(self.max_outstanding, self.submitted - self.collected)
        original = future.result

        def result(timeout=None):
            value = original(timeout)
            with self._lock:
                self.collected += 1
            return value
        future.result = result
        return future

    def shutdown(self, wait=True, *, cancel_futures=False):
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def test_executor_submission_is_a_bounded_window_and_stopping_cancels_the_rest():
    """Before: all ~950,000 chunk jobs of 1e12 rounds were submitted up front (2.3 GB)."""
    ex = _CountingExecutor(2)
    calls: list = []
    with pytest.raises(_Stop):
        get_protocol("bb84").run(CH, rounds=10**12, seed=1, engine=Engine(chunk_size=2000), executor=ex,
                                 progress=_stop_after(10, calls))
    ex.shutdown(wait=True)
    window = CHUNKS_IN_FLIGHT_PER_WORKER * 2
    assert ex.max_outstanding <= window
    assert ex.submitted <= 10 + window
    assert ex.started <= 10 + window  # the pending ones were cancelled, not run


def test_workers_never_exceed_chunks_or_cores(monkeypatch, capsys):
    import os

    from qproto import cli

    chunk = Engine().chunk_size
    assert cli._effective_workers(256, 2000, chunk) == 1
    assert cli._effective_workers(256, 3 * chunk, chunk) == min(3, os.cpu_count() or 1)
    assert cli._effective_workers(2, 10**12, chunk) == min(2, os.cpu_count() or 1)

    def no_pool(*args, **kwargs):
        raise AssertionError("a process pool was started for a single chunk")

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", no_pool)
    assert cli.main(["run", "bb84", "--rounds", "2000", "--workers", "256", "--seed", "1", "--no-progress"]) == 0


CHILD = r"""
import resource, sys
from qproto import Channel, get_protocol
from qproto.protocols._qsdc import MAX_MESSAGE_BYTES
ch = Channel(transmittance=0.8, depolarisation=0.03, noise_click=1e-4)
get_protocol("ghz-cka", parties=200).run(ch, rounds=1 << 20, seed=1)                 # the largest N
get_protocol("broadbent-tapp", parties=64).run(ch, rounds=20_000, seed=1)            # blocked shares
get_protocol("qsdc-dl04", message=bytes(MAX_MESSAGE_BYTES)).run((ch, ch), seed=1)    # the largest block
get_protocol("bb84").run(ch, rounds=3 << 20, seed=1)                                # several full chunks
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def test_extreme_accepted_inputs_stay_under_1_gib():
    proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    peak = int(proc.stdout.strip().splitlines()[-1])
    assert peak < 2**30, f"peak RSS {peak / 2**20:.0f} MiB"
