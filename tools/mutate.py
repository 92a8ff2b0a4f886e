#!/usr/bin/env python3
"""Mutation testing for qproto with mutmut 3 (see TESTING.md).

Why a staging tree: pyproject.toml maps the top-level folders ``protocols/``
and ``noise_models/`` into the ``qproto`` import root (setuptools
``package-dir``, installed editable).  mutmut copies the files it mutates to
``./mutants/`` and puts that folder first on ``sys.path``; a mutated
``protocols/_bb84.py`` copied there would never be imported as
``qproto.protocols._bb84``.  So this script builds ``build/mutate/`` with the
real package layout (``qproto/``, ``qproto/protocols/``,
``qproto/noise_models/``, ``tests/``), writes a pyproject.toml holding the
mutmut and pytest configuration there, and runs mutmut in that folder with
the project's virtualenv.  The editable install cannot shadow the mutants: its
import hook is appended to ``sys.meta_path`` and so comes after the path
entry mutmut inserts; ``check`` proves it before every run.

Commands (``make mutate`` runs ``run``)::

    python tools/mutate.py run [--ref REF] [--workers N] [MODULE ...] [--tests PATH ...]
    python tools/mutate.py report [MODULE ...]     # tables from the last results
    python tools/mutate.py stage [--ref REF]       # only build the staging tree

MODULE is a repository path, a file or a folder: ``qproto/security/``,
``qproto/_engine.py``, ``noise_models/_aer.py``, ``protocols/_bb84.py``.
Without MODULE every module of DEFAULT_MODULES is run, one mutmut run per
file, each timed on its own.  ``--ref HEAD`` stages a commit (via ``git
archive``) instead of the working tree, which keeps a run stable while other
people edit files.  ``--tests`` runs the mutants against a selection of test
files or folders instead of the whole suite (the issue's "fast selection":
a module's own tests, seconds per mutant instead of minutes for a module that
every test imports, such as the engine); a new selection runs every mutant
again, and the report names the selection.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORKDIR = REPO / "build" / "mutate"

# Repository folder -> folder in the staging tree (the installed layout).
LAYOUT = {"qproto": "qproto", "protocols": "qproto/protocols", "noise_models": "qproto/noise_models"}
STAGED = (*LAYOUT, "tests")

# The modules the mutation run covers (repository paths, run in this order).
DEFAULT_MODULES = [
    "qproto/security/",
    "qproto/_engine.py",
    "qproto/_stabilizer.py",
    "noise_models/_aer.py",
    "protocols/",
]

# Tests that cannot run in the staging tree or that cannot see a mutant.
EXCLUDED_TESTS = [
    "--ignore=tests/test_notebooks.py",  # executes notebooks/ (not staged), minutes per run
    "--ignore=tests/test_doctests.py",  # doctests of the installed package, slow, duplicate the unit tests
    # runs `python -m qproto` in a subprocess: imports the editable install, never the mutant
    "--deselect=tests/test_cli.py::test_console_script_exits_2_without_traceback",
    # loads benchmarks/fig4_greenwood_fried.py by a path relative to the repository (not staged)
    "--deselect=tests/noise_models/test_fig4.py::test_script_writes_the_figure_and_states_the_conclusion",
    # whole files of subprocess tests (Ctrl-C and kill -9 timing, JSON bytes across processes):
    # the children import the editable install, never the mutant, and the timing ones can fail
    # under the load of a mutation run (mutmut's clean run then stops the module)
    "--ignore=tests/test_signals.py",
    "--ignore=tests/bench/test_bench_crash.py",
    "--ignore=tests/test_reproducible_json.py",
    # bench's process and Dask executors start a forkserver / cluster that re-imports the main
    # module (mutmut's) and never sees the mutant under test: it fails mutmut's clean run
    "--deselect=tests/bench/test_bench_runner.py::test_processes_and_dask_give_the_serial_results",
]

# Per-mutant time limit: wall = (t + TIMEOUT_CONSTANT) * TIMEOUT_MULTIPLIER seconds, where t is
# the time the mutant's covering tests took in the clean stats run (CPU limit twice that).
TIMEOUT_MULTIPLIER = 3.0
TIMEOUT_CONSTANT = 10.0

# Calls whose string arguments only end up in a message for a person.
MESSAGE_CALLS = {"warn", "warning", "error", "info", "debug", "exception", "critical"}

STATUS = {  # mutmut's exit codes (mutmut/stats.py)
    1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped",
    35: "suspicious", 36: "timeout", 37: "type check", -24: "timeout", 24: "timeout",
    152: "timeout", 255: "timeout", -11: "segfault", -9: "segfault", None: "not checked",
    2: "interrupted",
}


# ----------------------------------------------------------------------------- paths

def staged_path(repo_path: str) -> str:
    """Repository path -> path in the staging tree (``protocols/x.py`` -> ``qproto/protocols/x.py``)."""
    p = repo_path.strip().rstrip("/")
    top, _, rest = p.partition("/")
    if top not in LAYOUT:
        raise SystemExit(f"mutate: {repo_path!r} is not under {', '.join(LAYOUT)}/")
    return LAYOUT[top] + (f"/{rest}" if rest else "")


def repo_path(staged: str) -> str:
    for top, dest in sorted(LAYOUT.items(), key=lambda kv: -len(kv[1])):
        if staged == dest or staged.startswith(dest + "/"):
            return top + staged[len(dest):]
    return staged


def expand_modules(modules: list[str], root: Path) -> list[str]:
    """Repository paths (files or folders) -> the staged .py files, in the given order."""
    files: list[str] = []
    for m in modules:
        s = staged_path(m)
        target = root / s
        if target.is_dir():
            found = sorted(str(p.relative_to(root)) for p in target.glob("*.py"))
        elif target.is_file() and s.endswith(".py"):
            found = [s]
        else:
            raise SystemExit(f"mutate: no such module {m!r} (looked for {target})")
        files += [f for f in found if f not in files]
    return files


def module_name(staged_file: str) -> str:
    name = staged_file[:-3].replace("/", ".")
    return name[: -len(".__init__")] if name.endswith(".__init__") else name


# ----------------------------------------------------------------------------- staging

def _export_ref(ref: str, dest: Path) -> None:
    """Write the staged folders of commit ``ref`` into ``dest`` (git archive)."""
    proc = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", ref, *STAGED, "pyproject.toml"],
                          check=True, capture_output=True)
    with tempfile.TemporaryFile() as tmp:
        tmp.write(proc.stdout)
        tmp.seek(0)
        with tarfile.open(fileobj=tmp) as tar:
            tar.extractall(dest, filter="data")


# Decorators that mutmut 3 would make it skip a function (it mutates only undecorated functions
# and single @staticmethod/@classmethod ones), and that the staging tree re-applies instead.
UNDECORATE = ("property", "functools.lru_cache", "lru_cache", "functools.cache", "cache")


def _decorator_name(node: ast.expr) -> str:
    return ast.unparse(node.func if isinstance(node, ast.Call) else node)


def undecorate(src: str) -> str:
    """Staging-tree rewrite so that mutmut mutates properties and cached functions.

    mutmut 3 leaves every function with a decorator unmutated (apart from a lone
    ``@staticmethod``/``@classmethod``), which took the key-rate properties and the cached
    tables out of the score.  For each module-level function and each method of a module-level
    class whose decorators are all in :data:`UNDECORATE`, the decorator lines become comments
    (line numbers stay those of the repository file) and the decorators are re-applied at the
    end of the module (``f = functools.lru_cache(maxsize=1)(f)``,
    ``C.f = property(C.__dict__["f"])``), so the module behaves as before while mutmut sees a
    plain function.  Property setters and anything else are left as they are.
    """
    tree = ast.parse(src)
    lines = src.splitlines(keepends=True)
    tail: list[str] = []

    def handle(fn: ast.FunctionDef, owner: str | None) -> None:
        decs = fn.decorator_list
        if not decs or not all(_decorator_name(d) in UNDECORATE for d in decs):
            return
        for d in decs:  # every decorator on lines of its own, nothing else on them
            for i in range(d.lineno - 1, d.end_lineno):
                if i >= fn.lineno - 1:
                    return
        for d in decs:
            for i in range(d.lineno - 1, d.end_lineno):  # the "@" line is the expression's first line
                text = lines[i].rstrip("\r\n")
                indent = text[: len(text) - len(text.lstrip())]
                lines[i] = f"{indent}# (mutate.py: re-applied at the end) {text.strip()}\n"
        target = fn.name if owner is None else f'{owner}.__dict__["{fn.name}"]'
        expr = target
        for d in reversed(decs):
            expr = f"({ast.unparse(d)})({expr})"
        tail.append(f"{fn.name if owner is None else owner + '.' + fn.name} = {expr}\n")

    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            handle(node, None)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    handle(item, node.name)
    if not tail:
        return src
    out = "".join(lines)
    if not out.endswith("\n"):
        out += "\n"
    return out + "\n# decorators taken off for mutmut (tools/mutate.py undecorate), re-applied:\n" + "".join(tail)


def _in_default_modules(staged: str) -> bool:
    """Is this staged path one of the files :data:`DEFAULT_MODULES` names (folders: their *.py)?"""
    if not staged.endswith(".py"):
        return False
    for m in DEFAULT_MODULES:
        s = staged_path(m)
        if staged == s or (m.endswith("/") and staged.rpartition("/")[0] == s):
            return True
    return False


def undecorated_functions(staged_src: str) -> set[str]:
    """mutmut's mangled names (``x_f``, ``xǁCǁf``) of the functions :func:`undecorate` rewrote."""
    _, marker, tail = staged_src.partition("(tools/mutate.py undecorate), re-applied:\n")
    names = set()
    for line in tail.splitlines() if marker else ():
        target = line.split(" = ", 1)[0]
        owner, _, name = target.rpartition(".")
        names.add(f"x\u01c1{owner}\u01c1{name}" if owner else f"x_{name}")
    return names


def _sync_file(src: Path, dst: Path, transform=None) -> bool:
    """Copy when the content differs; an unchanged file keeps its mtime, which is how mutmut
    knows its mutants of that file are still current.  ``transform`` rewrites the text first."""
    data = src.read_bytes()
    if transform is not None:
        data = transform(data.decode()).encode()
    if dst.is_file() and dst.read_bytes() == data:
        return False
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(data)
    return True


def stage(ref: str | None, workdir: Path = WORKDIR) -> int:
    """Build/refresh the staging tree; return the number of files that changed."""
    workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        source_root = REPO
        if ref:
            source_root = Path(tmp)
            _export_ref(ref, source_root)
        wanted: dict[str, Path] = {}
        for top in STAGED:
            dest = LAYOUT.get(top, top)
            for src in sorted((source_root / top).rglob("*")):
                if src.is_dir() or "__pycache__" in src.parts or src.suffix in {".pyc", ".pyo"}:
                    continue
                rel = src.relative_to(source_root / top)
                wanted[f"{dest}/{rel.as_posix()}"] = src
        changed = sum(_sync_file(src, workdir / rel, undecorate if _in_default_modules(rel) else None)
                      for rel, src in wanted.items())
        for top in ("qproto", "tests"):  # drop files that no longer exist in the source
            for old in sorted((workdir / top).rglob("*"), reverse=True):
                rel = old.relative_to(workdir).as_posix()
                if old.is_file() and "__pycache__" not in old.parts and rel not in wanted:
                    old.unlink()
        _sync_file(REPO / "tools" / "mutate_plugin.py", workdir / "mutate_plugin.py")
        # the pytest configuration of the staged source (write_config copies its pytest table)
        _sync_file(source_root / "pyproject.toml", workdir / "source-pyproject.toml")
    described = ref or "working tree"
    if ref:
        described += " = " + subprocess.run(["git", "-C", str(REPO), "rev-parse", ref], check=True,
                                            capture_output=True, text=True).stdout.strip()
    (workdir / "STAGED_FROM").write_text(described + "\n")
    return changed


def _toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(v)


def extra_exclusions(workdir: Path) -> list[str]:
    """Tests found failing on the unmutated staged code (``--deselect-failing``), as pytest options."""
    f = workdir / "deselected.json"
    return json.loads(f.read_text()) if f.is_file() else []


def test_selection(workdir: Path) -> list[str]:
    """The test paths of the run (``--tests``; the whole of ``tests`` by default)."""
    f = workdir / "selection.json"
    return json.loads(f.read_text()) if f.is_file() else ["tests"]


def write_config(workdir: Path, mutate_files: list[str]) -> None:
    """pyproject.toml of the staging tree: mutmut's table plus the project's pytest table."""
    project = tomllib.loads((workdir / "source-pyproject.toml").read_text())
    pytest_cfg = project["tool"]["pytest"]["ini_options"]
    mutmut_cfg = {
        "source_paths": ["qproto"],
        "only_mutate": mutate_files,
        # mutate_plugin: Hypothesis draws the literals of the unmutated source (tools/mutate_plugin.py)
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "-p", "no:xdist", "-p", "mutate_plugin"],
        "also_copy": ["mutate_plugin.py"],
        "pytest_add_cli_args_test_selection": [*test_selection(workdir), *EXCLUDED_TESTS, *extra_exclusions(workdir)],
        "timeout_multiplier": TIMEOUT_MULTIPLIER,
        "timeout_constant": TIMEOUT_CONSTANT,
        # fork straight from mutmut's main process deadlocks: it has run tests, so library thread
        # pools (qiskit's Rust/rayon) exist there and their locks are copied held into the child.
        # The fork server only imports and collects; each mutant forks from that clean process.
        "process_isolation": "forkserver",
        "use_git_change_detection": False,  # build/ lives inside the repository's git tree
        "on_dependency_change": "ignore",
    }
    lines = ["# Written by tools/mutate.py: do not edit, it is rewritten on every run.", "",
             "[tool.mutmut]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in mutmut_cfg.items()]
    lines += ["", "[tool.pytest.ini_options]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in pytest_cfg.items()]
    text = "\n".join(lines) + "\n"
    target = workdir / "pyproject.toml"
    if not target.is_file() or target.read_text() != text:
        target.write_text(text)


def prepare_mutants_dir(workdir: Path, mutate_files: list[str]) -> None:
    """Keep mutmut's cache consistent with the set of mutated files.

    mutmut decides by mtime whether a file in mutants/ is current.  A file that an earlier run
    copied without mutating (it was not in only_mutate then) would look current and be run
    without trampolines, so such copies are removed.  The stats (which test covers which
    function) are only recorded for mutated files, so they are recollected when the set grows.
    """
    mutants = workdir / "mutants"
    if not mutants.is_dir():
        return
    # mutmut copies tests/ over the old copy and never deletes: start from a fresh copy
    shutil.rmtree(mutants / "tests", ignore_errors=True)
    for old in sorted((mutants / "qproto").rglob("*"), reverse=True):  # files gone from the source
        rel = old.relative_to(mutants).as_posix()
        for suffix in (".meta", ".spans"):
            rel = rel.removesuffix(suffix)
        if old.is_file() and "__pycache__" not in old.parts and not (workdir / rel).is_file():
            old.unlink()
    for f in mutate_files:
        m = mutants / f
        if m.is_file() and "_mutmut_mutated" not in m.read_text():
            m.unlink()
            for suffix in (".meta", ".spans"):
                (mutants / (f + suffix)).unlink(missing_ok=True)
    record = workdir / "mutated-files.json"
    before = set(json.loads(record.read_text())) if record.is_file() else set()
    if not set(mutate_files) <= before:
        (mutants / "mutmut-stats.json").unlink(missing_ok=True)
    record.write_text(json.dumps(sorted(set(mutate_files) | before)))


def mutmut_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # nothing may shadow the mutants
    env.setdefault("OMP_NUM_THREADS", "1")  # Aer's OpenMP: one thread per worker, and fork-safe
    env.setdefault("QISKIT_IN_PARALLEL", "TRUE")  # qiskit's Rust code single-threaded (as in its own workers)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["MUTMUT_HOME_TREE"] = str(REPO)
    return env


def mutmut_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("mutmut")
    return [str(exe)] if exe.exists() else [sys.executable, "-c", "from mutmut.__main__ import cli; cli()"]


def failing_tests(workdir: Path) -> list[str]:
    """Run the test selection once on the unmutated staged code; return pytest options that
    leave out what fails there (``--deselect=node`` for a failing test, ``--ignore=file`` for a
    test file that does not even import)."""
    selection = ["tests", *EXCLUDED_TESTS]
    env = mutmut_env()
    env["PYTHONPATH"] = str(workdir)  # the staged, unmutated package
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "-rfE",
                           "--tb=no", "--continue-on-collection-errors", *selection],
                          cwd=workdir, env=env, capture_output=True, text=True)
    out = []
    for line in proc.stdout.splitlines():
        kind, _, rest = line.partition(" ")
        node = rest.split(" - ")[0].strip()
        if kind == "FAILED" and node:
            out.append(f"--deselect={node}")
        elif kind == "ERROR" and node:
            out.append(f"--ignore={node}" if "::" not in node else f"--deselect={node}")
    return sorted(set(out))


# ----------------------------------------------------------------------------- layout check

GENERATE_SNIPPET = r"""
import os
from mutmut.__main__ import copy_also_copy_files, copy_src_dir, create_mutants
os.makedirs("mutants", exist_ok=True)
copy_src_dir()
copy_also_copy_files()
print(create_mutants(1))
"""

# What `mutmut run` does before it tests the first mutant: current mutants (unchanged files are
# reused), mutants/ first on sys.path, then one clean run of the test selection recording which
# test calls which function (saved in mutants/mutmut-stats.json and reused by every later run).
STATS_SNIPPET = r"""
from mutmut.__main__ import collect_or_load_stats, create_mutants, setup_source_paths
from mutmut.workers.isolation import get_mutant_runner
create_mutants(1)
setup_source_paths()
collect_or_load_stats(get_mutant_runner(1))
"""

CHECK_SNIPPET = r"""
import importlib, json, sys
from pathlib import Path
sys.path.insert(0, str(Path("mutants").resolve()))   # what mutmut does (setup_source_paths)
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(".").resolve()]
out = {}
for name in sys.argv[1:]:
    m = importlib.import_module(name)
    out[name] = {"file": m.__file__, "mutated": hasattr(m, "_mutmut_mutated")}
print(json.dumps(out))
"""


def check_layout(workdir: Path, mutate_files: list[str]) -> None:
    """Import every mutated module the way mutmut's test runs do and require the mutant copy
    (under build/mutate/mutants/, with mutmut's trampolines), never the editable install."""
    names = [module_name(f) for f in mutate_files]
    proc = subprocess.run([sys.executable, "-c", CHECK_SNIPPET, *names], cwd=workdir,
                          env=mutmut_env(), capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"mutate: layout check failed:\n{proc.stderr}")
    found = json.loads(proc.stdout)
    mutants = (workdir / "mutants").resolve()
    bad = {n: v for n, v in found.items()
           if not Path(v["file"]).resolve().is_relative_to(mutants)}
    if bad:
        raise SystemExit(f"mutate: these modules are imported from outside {mutants}: {bad}")
    plain = sorted(n for n, v in found.items() if not v["mutated"])
    print(f"layout check: {len(found)} modules import from {mutants.relative_to(REPO)}"
          f" ({len(found) - len(plain)} with mutants"
          + (f"; no mutable function in {', '.join(plain)}" if plain else "") + ")")


# ----------------------------------------------------------------------------- results

@dataclass
class Mutant:
    key: str
    status: str
    duration: float | None
    line: int | None = None
    diff: str = ""
    message_text: bool = False


@dataclass
class ModuleResult:
    file: str
    mutants: list[Mutant] = field(default_factory=list)

    def counts(self) -> Counter:
        c = Counter()
        for m in self.mutants:
            c["total"] += 1
            c["message text"] += m.message_text
            if not m.message_text:
                c[m.status] += 1
        return c


def _function_nodes(tree: ast.AST) -> dict[str, ast.AST]:
    out = {}
    for node in tree.body:  # mutmut mutates top-level functions and methods of top-level classes
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out[f"x_{node.name}"] = node
        elif isinstance(node, ast.ClassDef):
            for sub in node.body:
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    out[f"x\u01c1{node.name}\u01c1{sub.name}"] = sub
    return out


def _first_difference(a: ast.AST, b: ast.AST, parents: tuple = ()):
    """The first node of ``a`` (depth first) that differs from ``b``: (node of a, node of b,
    ancestors of the node in a), or None when the trees are equal."""
    if type(a) is not type(b):
        return a, b, parents
    for name in a._fields:
        va, vb = getattr(a, name, None), getattr(b, name, None)
        if isinstance(va, list) and isinstance(vb, list):
            if len(va) != len(vb):
                return a, b, parents
            for x, y in zip(va, vb):
                if isinstance(x, ast.AST):
                    hit = _first_difference(x, y, parents + (a,))
                    if hit:
                        return hit
                elif x != y:
                    return a, b, parents
        elif isinstance(va, ast.AST):
            hit = _first_difference(va, vb, parents + (a,))
            if hit:
                return hit
        elif va != vb:
            return a, b, parents
    return None


def _call_name(node: ast.Call) -> str:
    f = node.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def is_message_text(orig_src: str, mutant_src: str) -> bool:
    """A mutation that only changes the text of a message for a person: a string (or f-string)
    inside a ``raise`` statement, an ``assert`` message or a ``warnings.warn``/logging call --
    changed, replaced by None, or (for the last argument of the raised exception, its message)
    dropped -- or the first argument of a call that is a ``check_*`` validation helper or
    spells a parameter name of the function (the validators use it only to name the parameter
    in the error they raise).  Changing any other argument of a raised exception (its
    ``value``, say) is a real mutant."""
    try:
        a, b = ast.parse(orig_src), ast.parse(mutant_src)
    except SyntaxError:
        return False
    hit = _first_difference(a, b)
    if not hit:
        return False
    node, other, parents = hit
    chain = parents + (node,)
    in_raise = any(isinstance(p, (ast.Raise, ast.Assert)) for p in parents)
    if isinstance(node, ast.Call) and isinstance(other, ast.Call) and in_raise:
        # the exception's message (its last argument) dropped: the default message is used
        return (len(other.args) == len(node.args) - 1 and _is_text(node.args[-1])
                and ast.dump(ast.Call(node.func, node.args[:-1], node.keywords))
                == ast.dump(ast.Call(other.func, other.args, other.keywords)))
    if not _is_text(node):
        return False
    # a validator's first argument spelling the name of a parameter of this function
    # (``_real_array("eta", eta, 0.0, 1.0)``) only labels the parameter in the error message
    fn = a.body[0] if a.body and isinstance(a.body[0], (ast.FunctionDef, ast.AsyncFunctionDef)) else None
    params = {x.arg for x in ast.walk(fn.args) if isinstance(x, ast.arg)} if fn else set()
    for i, p in enumerate(chain):
        if isinstance(p, ast.Raise):
            return True
        if isinstance(p, ast.Assert) and i + 1 < len(chain) and chain[i + 1] is p.msg:
            return True
        if isinstance(p, ast.Call):
            name = _call_name(p)
            if name in MESSAGE_CALLS:
                return True
            if p.args and i + 1 < len(chain) and chain[i + 1] is p.args[0] and (
                    name.startswith(("check_", "_check"))
                    or (isinstance(node, ast.Constant) and node.value in params)):
                return True
    return False


def _dedent_function(src: str) -> str:
    import textwrap
    return textwrap.dedent(src)


def load_results(workdir: Path, files: list[str], with_diffs: bool = True) -> list[ModuleResult]:
    """Read mutmut's per-file .meta results, and for the mutants that were not killed, their
    diff, line and whether they only change message text (all mutants are classified for the
    message-text count)."""
    import difflib

    cwd = os.getcwd()
    os.chdir(workdir)
    try:
        from mutmut.mutation.diff_apply import (read_functions_from_index, read_mutants_module,
                                                read_mutant_function, read_original_function)
        import libcst as cst
        results = []
        for f in files:
            meta = Path("mutants") / (f + ".meta")
            res = ModuleResult(file=repo_path(f))
            results.append(res)
            if not meta.is_file():
                continue
            data = json.loads(meta.read_text())
            source = Path(f).read_text()
            lines = source.splitlines()
            funcs = _function_nodes(ast.parse(source))
            module_cst = None
            for key, code in data.get("exit_code_by_key", {}).items():
                m = Mutant(key=key, status=STATUS.get(code, "suspicious"),
                           duration=data.get("durations_by_key", {}).get(key))
                res.mutants.append(m)
                if not with_diffs:
                    continue
                pair = read_functions_from_index(key, f)
                if pair is None:
                    module_cst = module_cst or read_mutants_module(f)
                    pair = (read_original_function(module_cst, key), read_mutant_function(module_cst, key))
                orig_src = _dedent_function(cst.Module([]).code_for_node(pair[0]))
                mut_src = _dedent_function(cst.Module([]).code_for_node(pair[1]))
                m.message_text = is_message_text(orig_src, mut_src)
                if m.status == "killed" and not m.message_text:
                    continue
                ol, ml = orig_src.splitlines(), mut_src.splitlines()
                minus = [l for l in difflib.ndiff(ol, ml) if l.startswith("- ")]
                plus = [l for l in difflib.ndiff(ol, ml) if l.startswith("+ ")]
                m.diff = " / ".join(x[2:].strip() for x in minus) + " -> " + " / ".join(x[2:].strip() for x in plus)
                fn = funcs.get(key.rpartition(".")[2].partition("__mutmut_")[0])
                if fn is not None and minus:
                    target = minus[0][2:].rstrip()
                    for ln in range(fn.lineno, (fn.end_lineno or fn.lineno) + 1):
                        if lines[ln - 1].rstrip().endswith(target.strip()) and \
                                lines[ln - 1].strip() == target.strip():
                            m.line = ln
                            break
        return results
    finally:
        os.chdir(cwd)


def score(c: Counter) -> str:
    k, s = c["killed"], c["survived"]
    return f"{100 * k / (k + s):.1f}%" if k + s else "n/a"


def format_report(results: list[ModuleResult], times: dict[str, float]) -> str:
    out = ["| module | mutants | killed | survived | no tests | timeout | message text | not run | score "
           "| wall time |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        c = r.counts()
        t = times.get(r.file)
        out.append(f"| {r.file} | {c['total']} | {c['killed']} | {c['survived']} | {c['no tests']} | "
                   f"{c['timeout']} | {c['message text']} | {c['not checked']} | {score(c)} | "
                   f"{f'{t:.0f} s' if t is not None else '-'} |")
    out.append("")
    for r in results:
        rest = [m for m in r.mutants if m.status not in ("killed", "not checked") and not m.message_text]
        if not rest:
            continue
        out.append(f"#### {r.file}")
        for m in sorted(rest, key=lambda m: (m.line or 0, m.key)):
            out.append(f"- [{m.status}] line {m.line or '?'} `{m.key.rpartition('.')[2]}`: `{m.diff}`")
        out.append("")
    return "\n".join(out)


# ----------------------------------------------------------------------------- commands

def _stats_run(workdir: Path, env: dict, log, times: dict, times_file: Path) -> subprocess.CompletedProcess:
    """mutmut's clean run of the test selection (which test calls which function), timed."""
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", STATS_SNIPPET], cwd=workdir, env=env, stdout=log,
                          stderr=subprocess.STDOUT)
    times["_stats"] = time.monotonic() - start
    times_file.write_text(json.dumps(times, indent=1))
    print(f"stats: exit {proc.returncode}, {times['_stats']:.0f} s", flush=True)
    return proc


def _positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (for --sample)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def cmd_run(args: argparse.Namespace) -> int:
    import fcntl

    workdir = WORKDIR
    workdir.mkdir(parents=True, exist_ok=True)
    lock = open(workdir / ".lock", "w")
    try:  # two runs in one mutants/ folder would overwrite each other's results
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"mutate: another run is using {workdir}; wait for it or stop it")
        return 1
    t0 = time.monotonic()
    changed = stage(args.ref, workdir)
    print(f"staged {args.ref or 'the working tree'} into {workdir.relative_to(REPO)} ({changed} files changed)")
    if changed:  # tests left out for failing on the old source get another chance
        (workdir / "deselected.json").unlink(missing_ok=True)
        # and the stats must be collected again by the path below, which lists those failures
        # (left to itself, mutmut re-collects them with the failing tests in and stops)
        (workdir / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    selection = args.tests or ["tests"]
    for t in selection:
        if not (REPO / t).exists():
            print(f"mutate: --tests {t}: no such file or folder under {REPO}")
            return 2
    if selection != test_selection(workdir):  # other tests: which test covers what must be recorded again
        # and results found with other tests are not this selection's: every mutant runs again
        (workdir / "selection.json").write_text(json.dumps(selection))
        (workdir / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
        for meta in (workdir / "mutants").rglob("*.meta"):  # keep mutmut's list of mutants
            data = json.loads(meta.read_text())
            data["exit_code_by_key"] = dict.fromkeys(data.get("exit_code_by_key", {}))
            meta.write_text(json.dumps(data))
    default_files = expand_modules(DEFAULT_MODULES, workdir)
    targets = expand_modules(args.modules or DEFAULT_MODULES, workdir)
    mutate_files = sorted(set(default_files) | set(targets))
    write_config(workdir, mutate_files)
    prepare_mutants_dir(workdir, mutate_files)

    env = mutmut_env()
    times_file = workdir / "times.json"
    times = json.loads(times_file.read_text()) if times_file.is_file() else {}
    log = open(workdir / "mutmut.log", "a")
    # Generate the mutants first (what `mutmut run` does before it runs anything), so that the
    # layout check can import them; `mutmut run` then finds them current and reuses them.
    gen = subprocess.run([sys.executable, "-c", GENERATE_SNIPPET], cwd=workdir, env=env,
                         stdout=log, stderr=subprocess.STDOUT)
    if gen.returncode != 0:
        print("mutate: mutant generation failed, see build/mutate/mutmut.log")
        return 1
    check_layout(workdir, mutate_files)
    if not (workdir / "mutants" / "mutmut-stats.json").is_file():
        # One clean run of the whole test selection, recording which test calls which mutated
        # function; every later mutant runs only its function's tests.  Timed on its own.
        print("collecting stats (one clean run of the selected tests) ...", flush=True)
        proc = _stats_run(workdir, env, log, times, times_file)
        if proc.returncode != 0:
            print("mutate: the clean test run failed, see build/mutate/mutmut.log; "
                  "running the selection on the unmutated staged code to list the failures ...", flush=True)
            failing = failing_tests(workdir)
            print("failing on the unmutated code: " + (" ".join(failing) or "none (only under mutmut)"))
            if not (args.deselect_failing and failing):
                return 1
            (workdir / "deselected.json").write_text(json.dumps(sorted(set(failing) | set(extra_exclusions(workdir)))))
            write_config(workdir, mutate_files)
            print("left out of the mutation run (--deselect-failing); retrying the stats ...", flush=True)
            proc = _stats_run(workdir, env, log, times, times_file)
            if proc.returncode != 0:
                return 1
    for f in targets:
        name = module_name(f)
        meta = workdir / "mutants" / (f + ".meta")
        keys = json.loads(meta.read_text()).get("exit_code_by_key", {}) if meta.is_file() else {}
        # mutants that only change the text of an error message are not run (mutmut cannot be
        # told to skip them); they are counted in the report's "message text" column
        messages = {m.key for m in load_results(workdir, [f])[0].mutants if m.message_text} \
            if keys and not args.with_messages else set()
        retry = {k for k, v in keys.items() if args.retry_timeouts and STATUS.get(v) == "timeout"}
        todo = sorted(k for k, v in keys.items() if (v is None or args.rerun or k in retry) and k not in messages)
        if args.only_undecorated:  # the functions the staging rewrite took decorators off
            names = undecorated_functions((workdir / f).read_text())
            todo = [k for k in todo if k.rsplit("__mutmut_", 1)[0].rpartition(".")[2] in names]
            print(f"\n{repo_path(f)}: only the mutants of the {len(names)} functions with decorators "
                  f"taken off by the staging rewrite ({len(todo)} to test)", flush=True)
        if args.sample is not None and len(todo) > args.sample:
            # a uniform random sample of the mutants still to test (mutant sampling): an unbiased
            # estimate of the module's score when a full run does not fit; run again without
            # --sample to test the rest (the sample's results are kept)
            todo = sorted(random.Random(f"{args.sample_seed}:{repo_path(f)}").sample(todo, args.sample))
            print(f"\n{repo_path(f)}: a random sample of {len(todo)} of the mutants still to test "
                  f"(--sample {args.sample}, --sample-seed {args.sample_seed})", flush=True)
        if keys and not todo and args.only_undecorated:
            continue
        if keys and not todo:
            print(f"\n=== {repo_path(f)}: every mutant has a result (source unchanged); --rerun to test again")
            continue
        # mutmut re-tests every mutant named on its command line; naming only those without a
        # result keeps what an interrupted or earlier run found (mutmut itself clears the
        # results of a function whose source changed, and all of them when the tests change)
        selection = [f"{name}.x*"] if len(todo) == len(keys) else todo
        cmd = [*mutmut_cmd(), "run", "--max-children", str(args.workers), *selection]
        shown = " ".join(cmd[-4:]) if len(selection) == 1 else \
            f"run ... ({len(todo)} mutants to test, {len(messages)} message-text mutants left out)"
        print(f"\n=== {repo_path(f)}: {shown}", flush=True)
        log.write(f"\n=== {time.strftime('%H:%M:%S')} {repo_path(f)}\n")
        log.flush()
        start = time.monotonic()
        if meta.is_file() and not keys:
            print("no mutants (no function to mutate)")
            times[repo_path(f)] = 0.0
            continue
        proc = subprocess.run(cmd, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
        times[repo_path(f)] = times.get(repo_path(f), 0.0) * (not args.rerun) + time.monotonic() - start
        times_file.write_text(json.dumps(times, indent=1))
        res = load_results(workdir, [f], with_diffs=False)[0]
        c = res.counts()
        print(f"exit {proc.returncode}; {c['total']} mutants: {c['killed']} killed, {c['survived']} survived, "
              f"{c['no tests']} no tests, {c['timeout']} timeout, {c['not checked']} not checked; "
              f"{times[repo_path(f)]:.0f} s", flush=True)
        if proc.returncode != 0:
            print("mutate: mutmut failed, see build/mutate/mutmut.log")
            return proc.returncode
    print(f"\ntotal {time.monotonic() - t0:.0f} s; report: python tools/mutate.py report "
          + " ".join(args.modules or []))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    workdir = WORKDIR
    files = expand_modules(args.modules or DEFAULT_MODULES, workdir)
    times_file = workdir / "times.json"
    times = json.loads(times_file.read_text()) if times_file.is_file() else {}
    text = format_report(load_results(workdir, files), times)
    left_out = extra_exclusions(workdir)
    text += ("\nStaged from: " + (workdir / "STAGED_FROM").read_text().strip()
             + "\nTests: " + " ".join(test_selection(workdir))
             + ("\nLeft out for failing on the unmutated code: " + " ".join(left_out) if left_out else "")
             + (f"\nStats run (all selected tests once): {times['_stats']:.0f} s" if "_stats" in times else ""))
    if args.output:
        Path(args.output).write_text(text + "\n")
    print(text)
    return 0


def cmd_stage(args: argparse.Namespace) -> int:
    changed = stage(args.ref, WORKDIR)
    files = expand_modules(DEFAULT_MODULES, WORKDIR)
    write_config(WORKDIR, files)
    print(f"staged into {WORKDIR} ({changed} files changed)")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run", help="stage, then run mutmut one module at a time")
    run.add_argument("modules", nargs="*", help="repository paths (files or folders)")
    run.add_argument("--ref", default=None, help="stage this git commit instead of the working tree")
    run.add_argument("--workers", type=int, default=1, help="mutmut --max-children (default 1)")
    run.add_argument("--tests", nargs="+", default=None, metavar="PATH",
                     help="run the mutants against these test files or folders only (default: all of tests/)")
    run.add_argument("--rerun", action="store_true", help="test every mutant again, not only those without a result")
    run.add_argument("--retry-timeouts", action="store_true", help="test the mutants that timed out again")
    run.add_argument("--sample", type=_positive_int, default=None, metavar="N",
                     help="test only a uniform random sample of N of each module's mutants still to test "
                          "(an estimate of the score when a full run does not fit; rerun without it to finish)")
    run.add_argument("--sample-seed", type=int, default=0, metavar="S",
                     help="seed of --sample's draw (default 0; the draw also depends on the module's path)")
    run.add_argument("--only-undecorated", action="store_true",
                     help="test only the mutants of properties and cached functions (the functions whose "
                          "decorators the staging tree takes off so that mutmut mutates them)")
    run.add_argument("--with-messages", action="store_true",
                     help="also run the mutants that only change an error message's text")
    run.add_argument("--deselect-failing", action="store_true",
                     help="leave out tests that fail on the unmutated staged code (listed in the report)")
    run.set_defaults(func=cmd_run)
    rep = sub.add_parser("report", help="print the score table and the surviving mutants")
    rep.add_argument("modules", nargs="*")
    rep.add_argument("--output", help="also write the report to this file")
    rep.set_defaults(func=cmd_report)
    st = sub.add_parser("stage", help="only build the staging tree")
    st.add_argument("--ref", default=None)
    st.set_defaults(func=cmd_stage)
    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
