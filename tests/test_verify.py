"""``qproto verify`` and :func:`qproto.testing.verify_protocol`: the invariant suite run against
any registered protocol, built-in or a user's (tests/userproto_zbit.py)."""

from __future__ import annotations

import json
import math
import os
import pathlib
import subprocess
import sys

import pytest

import userproto_zbit  # noqa: F401  (registers test-zbit and test-zbit-broken)
from qproto import InvalidParameter, InvalidType, available_protocols, get_protocol
from qproto.cli import main
from qproto.testing import STANDARD_INVARIANTS, verify_protocol

TESTS = pathlib.Path(__file__).parent


def _by_name(report):
    return {r.name: r for r in report.reports}


def test_a_correct_user_protocol_passes_every_invariant():
    report = verify_protocol("test-zbit", examples=4, seed=3)
    assert report.passed, report.table()
    assert list(_by_name(report)) == list(STANDARD_INVARIANTS)
    closed = _by_name(report)["closed-form"]
    assert closed.examples >= 4 and 0 <= closed.max_deviation_sigmas < 5
    assert "all invariants hold" in report.table()


def test_a_wrong_closed_form_is_reported_with_its_counterexample():
    """catches: a protocol whose expected() swaps the basis of the error (E_X for E_Z); the
    drawn channels are rotated about z, where E_Z != E_X, so the swap is visible."""
    report = verify_protocol(get_protocol("test-zbit", variant="flip-expected"), examples=6, seed=3)
    closed = _by_name(report)["closed-form"]
    assert not report.passed and not closed.passed
    assert closed.max_deviation_sigmas > 5 and "qber_z" in closed.detail and "channels=" in closed.detail
    assert all(r.passed for r in report.reports if r.name != "closed-form")


def test_hidden_global_randomness_fails_reproducibility_and_executor_equality():
    """catches: a protocol drawing from numpy's global RNG instead of the chunk's Generator."""
    report = _by_name(verify_protocol(get_protocol("test-zbit", variant="global-rng"), examples=2, seed=1))
    assert not report["reproducible"].passed
    assert not report["executor"].passed


def test_the_same_seed_gives_the_same_report():
    a = verify_protocol("test-zbit", examples=3, seed=9).to_dict()
    b = verify_protocol("test-zbit", examples=3, seed=9).to_dict()
    assert a == b and json.loads(json.dumps(a)) == a


@pytest.mark.parametrize(("kwargs", "exc", "name"), [
    (dict(protocol="no-such-protocol"), InvalidParameter, "protocol"),
    (dict(protocol=3), InvalidType, "protocol"),
    (dict(protocol="test-zbit", examples=0), InvalidParameter, "examples"),
    (dict(protocol="test-zbit", rounds=0), InvalidParameter, "rounds"),
    (dict(protocol="test-zbit", seed=-1), InvalidParameter, "seed"),
    (dict(protocol="test-zbit", progress="yes"), InvalidType, "progress"),
])
def test_bad_arguments_name_the_parameter(kwargs, exc, name):
    with pytest.raises(exc) as info:
        verify_protocol(**kwargs)
    assert info.value.name == name


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    return subprocess.run([sys.executable, "-m", "qproto", "verify", *args, "--no-progress"],
                          capture_output=True, text=True, env=env, timeout=300)


def test_cli_verifies_a_user_protocol_and_exits_non_zero_on_a_violation(capsys):
    assert main(["verify", "test-zbit", "--import", "userproto_zbit", "--examples", "3", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "closed-form" in out and "all invariants hold" in out
    # the real command, in its own process: a violation exits with status 1 and JSON says why
    bad = _cli("test-zbit-broken", "--import", "userproto_zbit", "--examples", "3", "--json")
    assert bad.returncode == 1, bad.stderr
    (report,) = json.loads(bad.stdout)
    assert report["passed"] is False
    closed = next(r for r in report["invariants"] if r["name"] == "closed-form")
    assert closed["passed"] is False and closed["max_deviation_sigmas"] > 5


@pytest.mark.parametrize("args", [("no-such-protocol",), ("bb84", "--import", "no_such_module_xyz"),
                                  ("bb84", "--examples", "0")])
def test_cli_bad_input_is_one_line_with_status_2(args, capsys):
    assert main(["verify", *args, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("qproto: error:") and "Traceback" not in err


@pytest.mark.parametrize("name", [n for n in available_protocols() if not n.startswith("test-")])
def test_every_built_in_protocol_passes_its_invariants(name):
    """The harness we ship, run on our own protocols: closed forms on drawn asymmetric and
    rotated channels, reproducibility, executor equality, round trip and merging."""
    report = verify_protocol(name, examples=2, seed=5)
    assert report.passed, report.table()
    assert not math.isnan(_by_name(report)["closed-form"].max_deviation_sigmas) or \
        "closed-form" not in get_protocol(name).INVARIANTS


def test_console_script_imports_a_user_module_from_the_current_folder():
    """``qproto verify X --import mymod`` run from mymod's folder: the console script does not put
    the current folder on sys.path (``python -m`` does), so verify adds it for ``--import``."""
    script = pathlib.Path(sys.executable).parent / "qproto"
    if not script.exists():
        pytest.fail(f"the console script is not installed beside {sys.executable}")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([str(script), "verify", "test-zbit", "--import", "userproto_zbit", "--examples", "2",
                           "--no-progress"], capture_output=True, text=True, env=env, cwd=TESTS, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "all invariants hold" in done.stdout
