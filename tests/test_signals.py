"""Issue 10: Ctrl-C, broken pipes and full disks end ``qproto`` cleanly (subprocesses: these are
about the process). Ctrl-C prints one line and exits with 130, the worker processes of
``--workers`` end with it; a closed pipe ends quietly; /dev/full gives one line and status 1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="uses /proc and /dev/full")


def _start(argv: list[str]) -> subprocess.Popen:
    """``qproto.cli.main(argv)`` in a child that says 'ready' once qproto is imported and main starts."""
    # SIGINT's default handler is set explicitly: a child started from a background job of a
    # non-interactive shell inherits SIGINT ignored, and Python then never raises KeyboardInterrupt.
    code = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
            "import qproto.cli as c; sys.stderr.write('ready\\n'); sys.stderr.flush(); "
            f"sys.exit(c.main({argv!r}))")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr.readline().strip() == "ready"
    return proc


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(x) for x in f.read().split()]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            state = f.read().split("State:")[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie has ended


@pytest.mark.parametrize("extra", [["--json"], ["--workers", "2"]], ids=["serial-json", "workers"])
def test_ctrl_c_one_line_status_130_workers_ended(extra):
    proc = _start(["run", "bb84", "--rounds", "2000000000", "--no-progress", *extra])
    try:
        deadline = time.monotonic() + 20
        # wait until the run is under way (with --workers: until the pool has started)
        while time.monotonic() < deadline:
            time.sleep(0.3)
            if "--workers" not in extra or len(_children(proc.pid)) >= 2:
                break
        time.sleep(0.7)
        workers = _children(proc.pid)
        if "--workers" in extra:
            assert len(workers) == 2
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
        elapsed = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert err.strip() == "qproto: interrupted"
    assert out == ""
    assert elapsed < 5.0
    end = time.monotonic() + 2.0
    while any(_alive(w) for w in workers) and time.monotonic() < end:
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers), "worker processes outlived Ctrl-C by more than 2 s"


def test_workers_end_when_the_parent_is_killed():
    """kill -9 leaves the parent no chance to end its pool: the kernel must (PR_SET_PDEATHSIG).
    Without it the two workers stayed behind, blocked on a queue nobody writes to."""
    proc = _start(["run", "bb84", "--rounds", "2000000000", "--no-progress", "--workers", "2"])
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(_children(proc.pid)) < 2:
            time.sleep(0.2)
        workers = _children(proc.pid)
        assert len(workers) == 2
        proc.kill()
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    end = time.monotonic() + 3.0
    while any(_alive(w) for w in workers) and time.monotonic() < end:
        time.sleep(0.1)
    alive = [w for w in workers if _alive(w)]
    for w in alive:  # do not leave them behind if the test fails
        os.kill(w, signal.SIGKILL)
    assert not alive, "worker processes outlived their killed parent by more than 3 s"


@pytest.mark.parametrize("argv", [["run", "bb84", "--rounds", "2000", "--seed", "1", "--json"], ["--version"]],
                         ids=["run-json", "version"])
def test_full_disk_one_line_status_1(argv):
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "qproto", *argv], stdout=full, stderr=subprocess.PIPE,
                              text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip() == "qproto: error: cannot write the output: No space left on device"


def test_closed_pipe_ends_quietly():
    proc = subprocess.Popen([sys.executable, "-m", "qproto", "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.read(3)  # like `| head -c 3`
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 0
    assert err == b""
