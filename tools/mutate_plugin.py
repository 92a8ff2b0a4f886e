"""pytest plugin for the mutation runs of tools/mutate.py (loaded there with ``-p mutate_plugin``).

Hypothesis adds the literals it finds in "local" source files (qproto's modules) to the
values it tries.  mutmut's files under ``mutants/`` hold every mutant of a function side by
side, so their literals are not the project's: ``0.11`` sits next to ``1.11``, and the
examples a property test draws differ from those of ``make test``.  A property test could
then fail on the unmutated code (it did: a clean run stopped on an exact boundary value) or
pass or fail for a reason that has nothing to do with the mutant under test.

This plugin makes Hypothesis read those literals from the original staged source
(``build/mutate/qproto/...``) instead of the mutated copy, so each mutant is tested with the
examples the real test suite uses.

It also drops Hypothesis's shrink (and explain) phases from whatever profile the tests load.
Once a property test fails the mutant is killed; minimising the failing example is only for a
person reading the failure, and it took 20-30 s per mutant here, enough to turn a killed mutant
into a timeout.  Which examples are tried, and so every verdict, is unchanged.  Outside a
mutation run the plugin is never loaded.
"""

from __future__ import annotations

from pathlib import Path

MUTANTS = Path(__file__).resolve().parent  # build/mutate/mutants (mutmut copies this file there)
ORIGINALS = MUTANTS.parent  # build/mutate, the unmutated staging tree


def _install() -> None:
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import _constants_from_source
    except ImportError:  # a Hypothesis without local-constant mining: nothing to do
        return
    original = getattr(providers, "constants_from_module", None)
    if original is None or getattr(original, "_qproto_mutate", False):
        return
    cache: dict[Path, object] = {}

    def constants_from_module(module, *, limit: bool = True):
        path = getattr(module, "__file__", None)
        if path:
            resolved = Path(path).resolve()
            if resolved.is_relative_to(MUTANTS):
                source = ORIGINALS / resolved.relative_to(MUTANTS)
                if source.is_file():
                    if source not in cache:
                        try:
                            cache[source] = _constants_from_source(source.read_bytes(), limit=limit)
                        except Exception:  # unparsable: Hypothesis itself would skip it
                            cache[source] = original(module, limit=limit)
                    return cache[source]
        return original(module, limit=limit)

    constants_from_module._qproto_mutate = True
    providers.constants_from_module = constants_from_module


def _no_shrinking() -> None:
    try:
        from hypothesis import Phase, settings
    except ImportError:
        return
    if getattr(settings.load_profile, "_qproto_mutate", False):
        return
    load = settings.load_profile
    skip = {Phase.shrink, getattr(Phase, "explain", Phase.shrink)}

    def load_profile(name: str) -> None:
        load(name)
        base = settings.get_profile(name)
        settings.register_profile(f"{name}-mutate", parent=base,
                                  phases=tuple(p for p in base.phases if p not in skip))
        load(f"{name}-mutate")

    load_profile._qproto_mutate = True
    type.__setattr__(settings, "load_profile", staticmethod(load_profile))  # the class refuses plain assignment
    load_profile("default")  # until the tests' conftest loads its own profile


_install()
_no_shrinking()
