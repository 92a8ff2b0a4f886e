#!/usr/bin/env python3
"""Check that tests kill given one-line mutants, without touching the working tree (TESTING.md).

Each line of SPEC_FILE names one mutant and the tests that should kill it::

    repo_path|line|old substring|new substring|pytest arguments

for example ``protocols/_bb84.py|120|> 0.0|>= 0.0|tests/protocols/test_bb84.py -k sifted``
(a literal ``|`` inside old/new is written ``\\|``).  For each line the package is copied
into a temporary folder with its installed layout (``qproto/``, ``qproto/protocols/``,
``qproto/noise_models/``, plus ``tests/`` and ``pyproject.toml``), the first occurrence of
``old`` on ``line`` is replaced by ``new``, and pytest runs there with that copy first on
``PYTHONPATH``.  It prints KILLED (the tests failed) or SURVIVED per mutant, and NOMATCH
when ``old`` is not on that line.  Used to verify the tests written for mutmut's survivors.

Usage: python tools/apply_mutant.py SPEC_FILE
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from mutate import LAYOUT, REPO, staged_path  # the staging layout of `make mutate` (same folder)


def _copy(dst: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__")
    for src, rel in LAYOUT.items():
        shutil.copytree(REPO / src, dst / rel, ignore=ignore, dirs_exist_ok=True)
    shutil.copytree(REPO / "tests", dst / "tests", ignore=ignore)
    shutil.copy(REPO / "pyproject.toml", dst)


def check(spec: str) -> str:
    fields = [x.replace("\0", "|") for x in spec.replace("\\|", "\0").split("|")]
    if len(fields) != 5:
        return f"BADSPEC {spec!r}: need repo_path|line|old|new|pytest args"
    path, line, old, new, tests = fields
    with tempfile.TemporaryDirectory(prefix="mutant-") as tmp:
        root = Path(tmp)
        _copy(root)
        target = root / staged_path(path)
        lines = target.read_text().split("\n")
        i = int(line) - 1
        if old not in lines[i]:
            return f"NOMATCH {path}:{line} {old!r}"
        lines[i] = lines[i].replace(old, new, 1)
        target.write_text("\n".join(lines))
        env = dict(os.environ, PYTHONPATH=str(root))
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                               "-p", "no:xdist", *tests.split()], cwd=root, env=env,
                              capture_output=True, text=True)
    verdict = "KILLED" if proc.returncode != 0 else "SURVIVED"
    tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-200:]
    return f"{verdict} {path}:{line} {old!r} -> {new!r}  [{tail}]"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    for spec in Path(argv[0]).read_text().splitlines():
        if spec.strip() and not spec.startswith("#"):
            print(check(spec), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
