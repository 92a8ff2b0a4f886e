"""The qproto command line: tables, JSON, and one-line errors with exit status 2."""

import json
import subprocess
import sys

import pytest

from qproto.cli import main


def test_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "bb84" in out and "bbm92" in out and "intercept-resend" in out


def test_run_table(capsys):
    assert main(["run", "bb84", "--rounds", "20000", "--transmittance", "0.5", "--depolarisation", "0.1",
                 "--seed", "1", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "QBER Z" in out and "key rate" in out and "PLOB" in out and "expected" in out


def test_run_json_has_intervals_and_replays(capsys):
    args = ["run", "bbm92", "--rounds", "20000", "--depolarisation", "0.05", "--eavesdropper",
            "intercept-resend:0.5", "--seed", "7", "--json"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    est = data["estimates"]
    for key in ("qber_z", "qber_x", "key_rate", "chsh"):
        assert est[key]["low"] <= est[key]["best"] <= est[key]["high"]
    assert est["sifted_bits"] > 0 and data["seed"] == 7
    assert data["eavesdropper"]["fraction"] == 0.5
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out) == data


def test_workers_give_the_same_result(capsys):
    args = ["run", "bb84", "--rounds", "30000", "--seed", "5", "--json", "--param", "p_z=0.7"]
    assert main(args) == 0
    serial = json.loads(capsys.readouterr().out)
    assert main(args + ["--workers", "2"]) == 0
    assert json.loads(capsys.readouterr().out) == serial


def test_run_accepts_protocol_parameters(capsys):
    assert main(["run", "bb84", "--rounds", "5000", "--param", "p_z=0.9", "--json", "--seed", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["parameters"]["p_z"] == 0.9


BAD_ARGS = [
    (["run", "bb84", "--transmittance", "1.5"], "--transmittance=1.5 is outside the allowed range [0, 1]"),
    (["run", "bb84", "--transmittance", "nan"], "--transmittance=nan is not finite; allowed: real numbers in [0, 1]"),
    (["run", "bb84", "--depolarisation", "-0.1"], "--depolarisation=-0.1 is outside the allowed range [0, 1.33333]"),
    (["run", "bb84", "--misalignment", "0.7"], "--misalignment=0.7 is outside the allowed range [0, 0.5]"),
    (["run", "bb84", "--noise-click", "2"], "--noise-click=2 is outside the allowed range [0, 1]"),
    (["run", "bb84", "--rounds", "0"], "--rounds=0 is outside the allowed range: integers in [1, 1e18]"),
    (["run", "bb84", "--rounds", "-5"], "--rounds=-5 is outside the allowed range: integers in [1, 1e18]"),
    (["run", "bb84", "--rounds", "ten"], "--rounds='ten' is not an integer; allowed: integers in [1, 1e18]"),
    (["run", "bb84", "--seed", "-1"], "--seed=-1 is outside the allowed range: integers in [0, 2^128 - 1]"),
    (["run", "e91"], "unknown protocol 'e91'"),
    (["run", "bb84", "--eavesdropper", "beam-splitter"], "unknown eavesdropper 'beam-splitter'"),
    (["run", "bb84", "--eavesdropper", "intercept-resend:1.5"], "--eavesdropper=intercept-resend:1.5: fraction=1.5 is outside the allowed range [0, 1]"),
    (["run", "bb84", "--eavesdropper", "intercept-resend:half"], "fraction 'half'"),
    (["run", "bb84", "--param", "p_z=1"], "--param p_z=1 is outside the allowed range (0, 1)"),
    (["run", "bb84", "--param", "colour=red"], "unknown parameter(s) ['colour']"),
    (["run", "bb84", "--param", "p_z"], "NAME=VALUE"),
    (["run", "bb84", "--workers", "0"], "--workers=0 is outside the allowed range: integers in [1, 256]"),
    (["frobnicate"], "invalid choice"),
    ([], "required"),
]


@pytest.mark.parametrize("argv, fragment", BAD_ARGS)
def test_bad_arguments_give_one_line_and_status_2(argv, fragment, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("qproto: error:")
    assert fragment in err
    assert len(err.splitlines()) == 1
    assert "Traceback" not in captured.err + captured.out


def test_console_script_exits_2_without_traceback():
    proc = subprocess.run([sys.executable, "-m", "qproto", "run", "bb84", "--depolarisation", "5"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "qproto: error: --depolarisation=5 is outside the allowed range [0, 1.33333]"


def test_demo_runs_small(capsys):
    assert main(["demo", "--rounds", "20000", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert out.count("bb84") >= 2 and out.count("bbm92") >= 2 and "intercept-resend" in out


def _top_level_imports(path):
    """Modules imported at module level (not inside functions, not under ``if TYPE_CHECKING``)."""
    import ast

    tree = ast.parse(open(path).read())
    names = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names.append(node.module)
    return names


@pytest.mark.parametrize("module", ["cli", "_cli_verify"])
def test_cli_modules_import_nothing_heavy_at_top_level(module):
    """`qproto --help` must not load qiskit (issue 12): the CLI and the `verify` subcommand import
    only the standard library and qproto._errors at module level; commands import the rest when
    they run. (Parsing the file, since `import qproto` itself still loads everything.)"""
    import pathlib

    import qproto

    path = pathlib.Path(qproto.__file__).parent / f"{module}.py"
    heavy = [m for m in _top_level_imports(path)
             if m.split(".")[0] in ("qiskit", "qiskit_aer", "numpy", "scipy", "tqdm", "matplotlib")
             or (m.startswith("qproto") and m not in ("qproto._errors",))]
    assert heavy == []


def test_verify_add_parser_imports_nothing_heavy():
    import ast
    import pathlib

    import qproto

    tree = ast.parse((pathlib.Path(qproto.__file__).parent / "_cli_verify.py").read_text())
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "add_parser")
    imported = [n.module for n in ast.walk(fn) if isinstance(n, ast.ImportFrom)]
    assert imported == ["qproto.cli"]  # the shared parsers of counts, themselves light (see above)
