"""qproto bench runner: per-task overhead, Dask speed-up, and memory over a 10,000-task sweep.

Usage::

    .venv/bin/python benchmarks/bench_sweep.py overhead [--tasks 300] [--repeats 3]
    .venv/bin/python benchmarks/bench_sweep.py speedup  [--tasks 200] [--task-seconds 0.5] [--workers 2]
    .venv/bin/python benchmarks/bench_sweep.py memory   [--tasks 10000] [--workers 2]

* overhead: trivially small tasks (BB84, 1 round) run serially; the runner's overhead per
  task is (wall time - the tasks' own time, measured inside the worker function) / tasks:
  planning and hashing, the store's transaction, bookkeeping. Median of the repeats.
* speedup: tasks of about ``--task-seconds`` each (``--protocol``, default BB84, its rounds
  calibrated in this process),
  serial against a Dask LocalCluster with ``--workers`` single-threaded worker processes,
  both into fresh stores; the stored results must be identical. The Dask time includes
  starting the cluster. ``--scheduler tcp://HOST:PORT`` uses existing workers instead.
* memory: a ``--tasks`` sweep planned, run on a process pool and exported to CSV and
  Parquet; the runner's resident memory (VmRSS) is sampled every 500 tasks.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time

from qproto.bench import Sweep, run_sweep


def _sweep(n: int, rounds: int, name: str, protocol: str = "bb84") -> Sweep:
    return Sweep.from_dict({"name": name, "defaults": {"protocol": protocol, "rounds": rounds,
                                                       "channel.depolarisation": 0.02, "loss_db": 3.0},
                            "sweep": [{"grid": {"seed": list(range(n))}}]})


def _rss_mib() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def overhead(args) -> None:
    with tempfile.TemporaryDirectory() as tmp:  # warm-up: imports of the protocols and of Aer
        run_sweep(_sweep(5, 1, "warm-up"), os.path.join(tmp, "w.db"))
    per_task = []
    for rep in range(args.repeats):
        sweep = _sweep(args.tasks, 1, "overhead")
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            s = run_sweep(sweep, os.path.join(tmp, "s.db"))
            wall = time.perf_counter() - t0
        assert s.done == args.tasks
        per_task.append((wall - s.task_seconds) / args.tasks)
        print(f"  repeat {rep}: wall {wall:.2f} s, tasks {s.task_seconds:.2f} s, "
              f"overhead {1e3 * per_task[-1]:.2f} ms/task", flush=True)
    # resume cost: every task already stored
    with tempfile.TemporaryDirectory() as tmp:
        sweep = _sweep(args.tasks, 1, "overhead")
        run_sweep(sweep, os.path.join(tmp, "s.db"))
        t0 = time.perf_counter()
        s = run_sweep(sweep, os.path.join(tmp, "s.db"))
        skip = (time.perf_counter() - t0) / args.tasks
    print(f"overhead: {args.tasks} one-round BB84 tasks, serial, median of {args.repeats}: "
          f"{1e3 * statistics.median(per_task):.2f} ms per task (limit 5 ms); "
          f"a resumed sweep skips a stored task in {1e3 * skip:.2f} ms")


def _calibrate_rounds(target_s: float, protocol: str) -> int:
    rounds = 20_000
    for _ in range(4):
        (task,) = _sweep(1, rounds, "cal", protocol).tasks()
        t0 = time.perf_counter()
        task.run()
        dt = time.perf_counter() - t0
        rounds = max(1000, int(rounds * target_s / dt))
    return rounds


def _stored(path: str) -> dict[str, str]:
    db = sqlite3.connect(path)
    try:
        return dict(db.execute("SELECT id, result FROM tasks"))
    finally:
        db.close()


def speedup(args) -> None:
    rounds = _calibrate_rounds(args.task_seconds, args.protocol)
    sweep = _sweep(args.tasks, rounds, "speedup", args.protocol)
    with tempfile.TemporaryDirectory() as tmp:
        a, b = os.path.join(tmp, "serial.db"), os.path.join(tmp, "dask.db")
        t0 = time.perf_counter()
        s = run_sweep(sweep, a)
        serial = time.perf_counter() - t0
        print(f"  serial: {serial:.1f} s ({s.task_seconds / s.done:.3f} s per task)", flush=True)
        t0 = time.perf_counter()
        d = run_sweep(sweep, b, executor="dask", workers=None if args.scheduler else args.workers,
                      scheduler=args.scheduler)
        dask = time.perf_counter() - t0
        print(f"  dask:   {dask:.1f} s", flush=True)
        same = _stored(a) == _stored(b)
        assert s.done == d.done == args.tasks
    where = (f"Dask scheduler {args.scheduler}" if args.scheduler
             else f"Dask LocalCluster {args.workers} workers")
    print(f"speedup: {args.tasks} {args.protocol} tasks of {rounds:,} rounds (~{s.task_seconds / s.done:.2f} s each): "
          f"serial {serial:.1f} s, {where} {dask:.1f} s (cluster start included for a LocalCluster): "
          f"{serial / dask:.2f}x (target >= 1.6x); stored results identical: {same}")
    if not same:
        raise SystemExit("results differ between serial and Dask")


def memory(args) -> None:
    sweep = _sweep(args.tasks, 1, "memory")
    samples: list[tuple[int, float]] = []

    def progress(p) -> None:
        if p.finished % 500 == 0:
            samples.append((p.finished, _rss_mib()))

    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "s.db")
        rss0 = _rss_mib()
        t0 = time.perf_counter()
        n_planned = sum(1 for _ in sweep.tasks())
        plan_s = time.perf_counter() - t0
        rss_plan = _rss_mib()
        t0 = time.perf_counter()
        s = run_sweep(sweep, db, executor="processes", workers=args.workers, progress=progress)
        run_s = time.perf_counter() - t0
        from qproto.bench import export_csv, export_parquet

        t0 = time.perf_counter()
        export_csv(db, os.path.join(tmp, "rows.csv"))
        export_parquet(db, os.path.join(tmp, "rows.parquet"))
        export_s = time.perf_counter() - t0
        rss_export = _rss_mib()
        size = sum(os.path.getsize(os.path.join(tmp, f)) for f in os.listdir(tmp) if f.startswith("s.db"))
    assert s.done == args.tasks == n_planned
    first = next(r for n, r in samples if n >= 1000)
    last = samples[-1][1]
    print("  tasks  RSS (MiB)")
    for n, r in samples[1::4] + [samples[-1]]:
        print(f"  {n:>6}  {r:.1f}")
    print(f"memory: {args.tasks} tasks planned in {plan_s:.1f} s, run on {args.workers} processes in "
          f"{run_s:.1f} s, exported (CSV + Parquet) in {export_s:.1f} s; runner RSS {rss0:.1f} MiB at start, "
          f"{rss_plan:.1f} after planning, {first:.1f} at 1,000 tasks, {last:.1f} at {samples[-1][0]:,}, "
          f"{rss_export:.1f} after export (growth 1k->{samples[-1][0] // 1000}k: {last - first:+.1f} MiB); "
          f"store {size / 2**20:.1f} MiB")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="part", required=True)
    o = sub.add_parser("overhead")
    o.add_argument("--tasks", type=int, default=300)
    o.add_argument("--repeats", type=int, default=3)
    s = sub.add_parser("speedup")
    s.add_argument("--tasks", type=int, default=200)
    s.add_argument("--task-seconds", type=float, default=0.5)
    s.add_argument("--workers", type=int, default=2)
    s.add_argument("--protocol", default="bb84", help="the protocol of the tasks (default bb84)")
    s.add_argument("--scheduler", default=None, help="an existing Dask scheduler instead of a LocalCluster")
    m = sub.add_parser("memory")
    m.add_argument("--tasks", type=int, default=10_000)
    m.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    {"overhead": overhead, "speedup": speedup, "memory": memory}[args.part](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

