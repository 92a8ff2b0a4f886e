"""kill -9 at random moments, resume, and end with exactly the uninterrupted run's tasks and
results: 0 lost, 0 duplicated, no corruption (the short CI version of
benchmarks/bench_sweep_crash.py)."""

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from qproto.bench import Store, Sweep, run_sweep

SWEEP = """
name = "crash"
[defaults]
protocol = "bb84"
rounds = 4000000  # ~0.1 s a task: two kills within 0.4 s of a write cannot let all 24 finish
channel.depolarisation = 0.02
[[sweep]]
grid = { loss_db = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], seed = [1, 2] }
"""


def _count(path):
    if not os.path.exists(path):
        return 0
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return db.execute("SELECT COUNT(*) FROM tasks").fetchone()[0]
    except sqlite3.OperationalError:  # the table does not exist yet
        return 0
    finally:
        db.close()


def _snapshot(path):
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = db.execute("SELECT id, status, result FROM tasks").fetchall()
    finally:
        db.close()
    return rows


def _start(toml, store, hash_seed):
    env = dict(os.environ, PYTHONHASHSEED=str(hash_seed))
    return subprocess.Popen([sys.executable, "-m", "qproto", "bench", "run", str(toml), "--store", str(store),
                             "--no-progress"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_sigkill_at_random_moments_loses_nothing_and_duplicates_nothing(tmp_path):
    toml = tmp_path / "crash.toml"
    toml.write_text(SWEEP)
    sweep = Sweep.from_toml(toml)
    reference = str(tmp_path / "reference.db")
    run_sweep(sweep, reference)  # uninterrupted, in this process
    ref = {i: (s, json.loads(r)) for i, s, r in _snapshot(reference)}
    assert len(ref) == sweep.size() == 24

    store = tmp_path / "killed.db"
    rng = random.Random(14)
    kills = 0
    for attempt in range(2):
        before = _count(store)
        proc = _start(toml, store, hash_seed=attempt + 1)
        deadline = time.monotonic() + 120
        while _count(store) == before and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)  # wait until this run is writing, then kill it at a random moment
        time.sleep(rng.uniform(0.0, 0.4))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
        rows = _snapshot(store)
        assert len(rows) == len({r[0] for r in rows})  # no duplicates, whatever the moment
        assert all(s == "done" for _, s, _ in rows)
    assert kills >= 1
    assert _count(store) < 24  # the kills did interrupt the sweep
    final = _start(toml, store, hash_seed=99)
    _, err = final.communicate(timeout=300)
    assert final.returncode == 0, err.decode()
    got = {i: (s, json.loads(r)) for i, s, r in _snapshot(store)}
    assert set(got) == set(ref)  # 0 lost (and ids planned in other processes agree with ours)
    assert got == ref  # identical results
    with Store(store) as st:
        assert st.counts() == {"done": 24, "failed": 0}


def _sigint_default():
    """In the child before exec: SIGINT's default action, as in a terminal's foreground job.

    A test run launched with SIGINT ignored (a background job of a non-interactive shell, nohup)
    passes the ignored disposition on, and Python then installs no KeyboardInterrupt handler: the
    child would rightly ignore the Ctrl-C this test sends."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_to_the_whole_process_group_is_one_line_and_130(tmp_path):
    """A terminal's Ctrl-C reaches every process of the foreground group, the process pool's
    forkserver and workers included: still one line on stderr, status 130, nothing left
    running, and the tasks stored so far stay."""
    toml = tmp_path / "crash.toml"
    toml.write_text(SWEEP)
    store = tmp_path / "int.db"
    proc = subprocess.Popen([sys.executable, "-m", "qproto", "bench", "run", str(toml), "--store", str(store),
                             "--no-progress", "--processes", "--workers", "2"], start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_sigint_default)
    deadline = time.monotonic() + 120
    while _count(store) == 0 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("qproto bench: interrupted;"), err
    assert out == ""
    stored = _count(store)
    assert 1 <= stored < 24
    # no process of the group is left (the forkserver and resource tracker notice the runner's
    # exit through their pipes within moments)
    deadline = time.monotonic() + 10
    with pytest.raises(ProcessLookupError):
        while time.monotonic() < deadline:
            os.killpg(proc.pid, 0)
            time.sleep(0.1)
