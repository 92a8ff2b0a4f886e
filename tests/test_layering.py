"""The import rules of docs/architecture.md ("What each layer may import"), checked with ``ast``.

Layers, bottom up:

* core: every module under ``qproto/`` except the top layer below;
* ``qproto.noise_models`` (``noise_models/``) and ``qproto.protocols`` (``protocols/``);
* top: the CLI (``qproto/cli.py``, ``qproto/_cli_*.py``, ``qproto/__main__.py``),
  ``qproto.passes`` (and ``qproto._pass``), ``qproto.distill``, ``qproto.bench`` and ``qproto.network``.

Rules (each a test, each listing every offending import with its file and line):

1. The core imports neither ``qproto.protocols`` nor ``qproto.noise_models``, except a registry
   loader (a function named ``_load_*``) importing the *package* (its public names).
2. ``qproto.noise_models`` does not import ``qproto.protocols``; neither imports the top layer.
3. No module imports another module's private (``_``-prefixed) names; a package may import its own
   private submodules.
4. Figure code lives outside the library's core layers: no core, protocol or noise-model module
   imports matplotlib or is named like a figure (``*fig*``).
5. Module-level imports between library modules form no cycle (package ``__init__`` re-exports
   excluded: they import downward by construction).
"""

from __future__ import annotations

import ast
import pathlib

import networkx as nx
import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
ROOTS = {"qproto": REPO / "qproto", "qproto.protocols": REPO / "protocols",
         "qproto.noise_models": REPO / "noise_models"}
TOP_PREFIXES = ("qproto.cli", "qproto._cli_", "qproto.__main__", "qproto.passes", "qproto._pass", "qproto.distill",
                "qproto.bench", "qproto.network")


def _modules() -> dict[str, pathlib.Path]:
    out = {}
    for pkg, root in ROOTS.items():
        for path in sorted(root.rglob("*.py")):
            rel = path.relative_to(root).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            if pkg == "qproto" and parts and parts[0] in ("protocols", "noise_models"):
                continue
            if "__pycache__" in rel.parts:
                continue
            out[".".join([pkg, *parts])] = path
    return out


MODULES = _modules()


def layer(module: str) -> str:
    if module.startswith("qproto.protocols"):
        return "protocols"
    if module.startswith("qproto.noise_models"):
        return "noise_models"
    if module.startswith(TOP_PREFIXES):
        return "top"
    return "core"


def _is_package(module: str) -> bool:
    return MODULES.get(module, pathlib.Path()).name == "__init__.py"


class _Import:
    def __init__(self, module: str, names: list[str], lineno: int, function: str | None, toplevel: bool):
        self.module, self.names, self.lineno, self.function, self.toplevel = module, names, lineno, function, toplevel


def _imports(module: str, path: pathlib.Path) -> list[_Import]:
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if _is_package(module) else module.rpartition(".")[0]
    found: list[_Import] = []

    def visit(node: ast.AST, function: str | None, toplevel: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, child.name, False)
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found.append(_Import(alias.name, [], child.lineno, function, toplevel))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")
                    anchor = anchor[:len(anchor) - (child.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                found.append(_Import(base, [a.name for a in child.names], child.lineno, function, toplevel))
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                continue  # typing-only imports run never
            visit(child, function, toplevel)

    visit(tree, None, True)
    return found


def _is_type_checking(test: ast.AST) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


IMPORTS = {m: _imports(m, p) for m, p in MODULES.items()}


def _where(module: str, imp: _Import) -> str:
    path = MODULES[module]
    return f"{path.relative_to(REPO) if path.is_relative_to(REPO) else path}:{imp.lineno}"


def _targets(imp: _Import) -> list[str]:
    """The qproto modules an import statement loads (the module, and submodules named in a from-import)."""
    out = [imp.module]
    for n in imp.names:
        if f"{imp.module}.{n}" in MODULES:
            out.append(f"{imp.module}.{n}")
    return out


def _report(violations: list[str]) -> str:
    return "\n".join(["import-rule violations (docs/architecture.md):", *sorted(violations)])


def test_the_checker_sees_the_library():
    assert {"qproto", "qproto._protocol", "qproto.protocols._bb84", "qproto.noise_models._aer",
            "qproto.cli"} <= set(MODULES)
    assert layer("qproto._engine") == "core" and layer("qproto._cli_verify") == "top"
    bb84 = {i.module for i in IMPORTS["qproto.protocols._bb84"]}
    assert "qproto._declarative" in bb84


def test_rule_1_core_imports_protocols_and_noise_models_only_through_registries():
    violations = []
    for module, imports in IMPORTS.items():
        if layer(module) != "core":
            continue
        for imp in imports:
            for target in _targets(imp):
                if layer(target) not in ("protocols", "noise_models"):
                    continue
                registry = (imp.function or "").startswith("_load_") and target in (
                    "qproto.protocols", "qproto.noise_models") and not any(n.startswith("_") for n in imp.names)
                if not registry:
                    violations.append(f"{_where(module, imp)}: core module {module} imports {target}")
    assert not violations, _report(violations)


def test_rule_2_noise_models_and_protocols_import_downward():
    violations = []
    for module, imports in IMPORTS.items():
        own = layer(module)
        if own not in ("protocols", "noise_models"):
            continue
        for imp in imports:
            for target in _targets(imp):
                t = layer(target) if target.startswith("qproto") else None
                if t == "top" or (own == "noise_models" and t == "protocols"):
                    violations.append(f"{_where(module, imp)}: {own} module {module} imports {target} ({t})")
    assert not violations, _report(violations)


def test_rule_3_no_module_imports_another_modules_private_names():
    violations = []
    for module, imports in IMPORTS.items():
        for imp in imports:
            if not imp.module.startswith("qproto") or imp.module == module:
                continue
            for name in imp.names:
                if not name.startswith("_") or (name.startswith("__") and name.endswith("__")):
                    continue
                submodule = f"{imp.module}.{name}"
                own_package = module == imp.module or module.startswith(imp.module + ".")
                if submodule in MODULES and own_package:
                    continue  # a package using its own private submodule
                violations.append(f"{_where(module, imp)}: {module} imports private {name} from {imp.module}")
    assert not violations, _report(violations)


def test_rule_4_figure_code_is_outside_the_core_layers():
    violations = []
    for module, imports in IMPORTS.items():
        if layer(module) == "top":
            continue
        if "fig" in module.rpartition(".")[2]:
            violations.append(f"{MODULES[module].relative_to(REPO)}: figure module {module} in the {layer(module)} layer")
        for imp in imports:
            if imp.module.split(".")[0] == "matplotlib":
                violations.append(f"{_where(module, imp)}: {module} ({layer(module)}) imports matplotlib")
    assert not violations, _report(violations)


def test_rule_5_module_level_imports_have_no_cycles():
    graph = nx.DiGraph()
    for module, imports in IMPORTS.items():
        if _is_package(module):
            continue
        for imp in imports:
            if not imp.toplevel:
                continue
            for target in _targets(imp):
                if target in MODULES and target != module and not _is_package(target):
                    graph.add_edge(module, target)
    cycles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert not cycles, f"import cycles: {cycles}"


@pytest.mark.parametrize("source, rule", [
    ("from qproto.protocols._decoy_bb84 import DecoyBB84", 1),
    ("import qproto.noise_models._aer", 1),
    ("from qproto.security._finite_key import _tails", 3),
])
def test_the_rules_catch_planted_violations(tmp_path, source, rule):
    """catches: a checker that never fires (each planted import is found by its rule)."""
    path = tmp_path / "planted.py"
    path.write_text(source + "\n")
    MODULES["qproto._planted"] = path
    try:
        IMPORTS["qproto._planted"] = _imports("qproto._planted", path)
        check = {1: test_rule_1_core_imports_protocols_and_noise_models_only_through_registries,
                 3: test_rule_3_no_module_imports_another_modules_private_names}[rule]
        with pytest.raises(AssertionError, match="planted"):
            check()
    finally:
        del MODULES["qproto._planted"], IMPORTS["qproto._planted"]


def test_notebooks_use_only_public_names():
    """Teaching notebooks import public names from public modules only: no ``qproto._x`` module, no
    ``_private`` name (docs/architecture.md; the notebooks teach the API users may rely on)."""
    import nbformat

    violations = []
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
            for node in ast.walk(ast.parse(source)):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                for name in names:
                    if name.startswith("qproto") and any(part.startswith("_") for part in name.split(".")):
                        violations.append(f"{path.name} cell {i}: imports {name}")
    assert not violations, "\n".join(violations)
