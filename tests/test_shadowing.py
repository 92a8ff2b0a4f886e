"""Python run from the folder that contains a clone named ``qproto`` imports the installed package,
not the clone's top level as an empty namespace package (the repository's ``__init__.py``)."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

import qproto

REPO = pathlib.Path(__file__).resolve().parent.parent
CHECK = ("from qproto import Channel, get_protocol; import qproto, qproto.protocols, qproto.noise_models; "
         "print(qproto.__file__); print(get_protocol('bb84').run(Channel(), rounds=10, seed=1).rounds)")


@pytest.mark.parametrize("how", ["symlink and python -c", "copy and a script"])
def test_importing_from_the_clones_parent_gives_the_package(tmp_path, how):
    clone = tmp_path / "qproto"
    if how.startswith("symlink"):
        clone.symlink_to(REPO, target_is_directory=True)
        argv = [sys.executable, "-c", CHECK]
    else:
        shutil.copytree(REPO, clone, symlinks=True, ignore=shutil.ignore_patterns(
            ".venv", ".git", "build", "*.egg-info", "__pycache__", ".hypothesis", "notebooks", "benchmarks"))
        script = tmp_path / "use_qproto.py"
        script.write_text(CHECK.replace("; ", "\n"))
        argv = [sys.executable, str(script)]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.split()
    assert pathlib.Path(first).resolve() == pathlib.Path(qproto.__file__).resolve()  # the installed package
    assert second == "10"


def test_the_shadow_module_is_never_part_of_the_package():
    """The file only acts when imported under the name ``qproto``; setuptools does not ship it."""
    import tomllib
    packages = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    assert "" not in packages and all(p.startswith("qproto") for p in packages)
    assert pathlib.Path(qproto.__file__).resolve() == (REPO / "qproto" / "__init__.py").resolve()
