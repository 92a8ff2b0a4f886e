"""Every README command and snippet, run exactly as written.

Python blocks run in-process in the order of the README (each in its own namespace; a block
whose first line is ``# NAME.py`` is saved as that module and imported, as a user would;
functions named ``test_*`` a block defines are called). Shell blocks: each ``qproto ...``
line (after ``$ `` in a transcript, continuation lines joined, comments dropped) and each
``python -m qproto ...`` line runs through ``qproto.cli.main`` in a temporary folder that is on
``sys.path`` (as ``python -m`` makes the current folder) and must exit with status 0; ``.venv/bin/python
SCRIPT`` lines run the script. Set-up lines (``make ...``, ``source ...``) are what ``make
test`` itself does. Every command runs (``SLOW`` would list any that took minutes: parsed
always, run only with ``QPROTO_README_SLOW=1``; none does since the pass got fast).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import pathlib
import re
import runpy
import shlex
import sys

import pytest

from qproto.cli import main

REPO = pathlib.Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()
SETUP = ("make ", "source ", "git clone")
#: Commands that take minutes: parsed always, run with QPROTO_README_SLOW=1. None now: the full
#: pass figure (`qproto pass leo-haps --plot fig2.png`) takes a few seconds since issue 11.
SLOW: set[str] = set()


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", README, flags=re.S | re.M)


def _commands() -> list[str]:
    out = []
    for block in _blocks("sh"):
        text = block.replace("\\\n", " ")
        lines = text.splitlines()
        if any(line.startswith("$ ") for line in lines):
            lines = [line[2:] for line in lines if line.startswith("$ ")]
        for line in lines:
            cmd = line.split("  #")[0].split(" # ")[0].strip()
            if cmd and not cmd.startswith(SETUP):
                out.append(" ".join(cmd.split()))
    # the seed-figure table's commands, in backticks
    for cmd in re.findall(r"\| `((?:qproto|\.venv/bin/python) [^`]+)` ", README):
        out.append(cmd)
    return out


COMMANDS = _commands()


def test_the_readme_has_what_this_test_runs():
    assert len(_blocks("python")) >= 4 and len(COMMANDS) >= 15
    assert "python -m qproto verify my-zy-key --import my_protocols --examples 3" in COMMANDS
    assert any(c.startswith(".venv/bin/python benchmarks/") for c in COMMANDS)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    path = tmp_path_factory.mktemp("readme")
    old = os.getcwd()
    os.chdir(path)
    sys.path.insert(0, str(path))
    for code in _blocks("python"):  # the README's module files (`# name.py` blocks), for every test here
        module = re.fullmatch(r"# (\w+)\.py", code.splitlines()[0])
        if module:
            (path / f"{module.group(1)}.py").write_text(code)
    yield path
    sys.path.remove(str(path))
    os.chdir(old)


def test_python_snippets_run_as_written(workdir):
    for i, code in enumerate(_blocks("python")):
        first = code.splitlines()[0]
        module = re.fullmatch(r"# (\w+)\.py", first)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            if module:
                (workdir / f"{module.group(1)}.py").write_text(code)
                importlib.import_module(module.group(1))
                continue
            namespace: dict = {"__name__": f"readme_snippet_{i}"}
            exec(compile(code, f"README.md python block {i}", "exec"), namespace)
            for name, fn in list(namespace.items()):
                if name.startswith("test_") and callable(fn):
                    fn()


@pytest.mark.parametrize("command", COMMANDS)
def test_commands_run_as_written(command, workdir, capsys):
    if command.startswith(".venv/bin/python "):
        argv = shlex.split(command)[1:]
        old = sys.argv
        sys.argv = [str(REPO / argv[0]), *[a if not a.endswith(".png") else str(workdir / a) for a in argv[1:]]]
        try:
            runpy.run_path(str(REPO / argv[0]), run_name="__main__")
        except SystemExit as exc:
            assert exc.code in (0, None), command
        finally:
            sys.argv = old
        return
    argv = shlex.split(command)
    # `python -m qproto` runs the CLI with the current folder importable (the fixture's folder is on sys.path)
    argv = argv[3:] if argv[:3] == ["python", "-m", "qproto"] else argv[1:]
    assert command.startswith(("qproto", "python -m qproto")), command
    if "my_protocols" in command:
        importlib.import_module("my_protocols")  # written into the folder by the workdir fixture
    if command in SLOW and not os.environ.get("QPROTO_README_SLOW"):
        from qproto.cli import _build_parser
        _build_parser().parse_args(argv)
        return
    assert main(argv) == 0, capsys.readouterr().err
