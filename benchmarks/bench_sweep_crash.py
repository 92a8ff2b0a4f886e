"""Crash safety of ``qproto bench run``: SIGKILL at random moments, resume, compare.

Runs a sweep once without interruption (the reference), then runs it again into a fresh
store as ``python -m qproto bench run`` subprocesses, killing each with SIGKILL at a
random moment while it is writing, ``--kills`` times, and finally lets one run finish.
Checks after every kill that the SQLite file passes ``PRAGMA integrity_check`` and holds
no id twice, and at the end that the store holds exactly the reference's task ids with
byte-identical results: 0 lost, 0 duplicated.

Usage::

    .venv/bin/python benchmarks/bench_sweep_crash.py [--kills 20] [--seed 2026] [--executor serial|processes]
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

SWEEP = """
name = "crash"
[defaults]
protocol = "bb84"
rounds = 60000
channel.depolarisation = 0.02
[[sweep]]
grid = {{ loss_db = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], seed = {seeds} }}
"""


def _rows(path: str) -> list[tuple[str, str, str]]:
    if not os.path.exists(path):
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        if db.execute("SELECT name FROM sqlite_master WHERE name = 'tasks'").fetchone() is None:
            return []
        if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise SystemExit(f"{path} is corrupt")
        return db.execute("SELECT id, status, result FROM tasks").fetchall()
    finally:
        db.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--seeds-per-loss", type=int, default=10, help="sweep size = 16 x this")
    p.add_argument("--executor", choices=("serial", "processes"), default="serial")
    args = p.parse_args(argv)
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        toml = os.path.join(tmp, "crash.toml")
        with open(toml, "w") as fh:
            fh.write(SWEEP.format(seeds=list(range(args.seeds_per_loss))))
        ref_db, db = os.path.join(tmp, "reference.db"), os.path.join(tmp, "killed.db")
        extra = ["--processes", "--workers", "2"] if args.executor == "processes" else []

        def start(store: str) -> subprocess.Popen:
            return subprocess.Popen([sys.executable, "-m", "qproto", "bench", "run", toml, "--store", store,
                                     "--no-progress", *extra], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

        t0 = time.perf_counter()
        ref_proc = start(ref_db)
        _, err = ref_proc.communicate()
        if ref_proc.returncode != 0:
            raise SystemExit(err.decode())
        reference = {i: (s, r) for i, s, r in _rows(ref_db)}
        print(f"reference: {len(reference)} tasks in {time.perf_counter() - t0:.1f} s", flush=True)

        kills = 0
        lost_in_flight = []
        for k in range(args.kills):
            before = len(_rows(db))
            if before == len(reference):
                break
            proc = start(db)
            while len(_rows(db)) == before and proc.poll() is None:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.5))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait()
            rows = _rows(db)
            ids = [r[0] for r in rows]
            if len(ids) != len(set(ids)):
                raise SystemExit("duplicated task id after a kill")
            if any(s != "done" for _, s, _ in rows):
                raise SystemExit("a killed run left a non-done row")
            print(f"kill {k + 1}: {len(rows)} / {len(reference)} tasks stored", flush=True)
            lost_in_flight.append(len(rows))
        final = start(db)
        _, err = final.communicate()
        if final.returncode != 0:
            raise SystemExit(err.decode())
        got = {i: (s, r) for i, s, r in _rows(db)}
    lost = len(set(reference) - set(got))
    extra_ids = len(set(got) - set(reference))
    differing = sum(1 for i in reference if i in got and got[i] != reference[i])
    print(f"crash safety: {kills} SIGKILLs at random moments ({args.executor}), then a final resume: "
          f"{len(got)} tasks stored of {len(reference)}; lost {lost}, unexpected {extra_ids}, "
          f"duplicated 0 (primary key, checked after every kill), results differing from the "
          f"uninterrupted run {differing}; integrity_check ok after every kill")
    return 0 if lost == extra_ids == differing == 0 and kills > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
