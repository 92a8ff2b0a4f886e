"""tools/mutate.py's staging rewrite of decorated functions (TESTING.md, "Decorated functions").

mutmut 3 skips decorated functions; the staging tree comments the decorators out and re-applies
them at the end of the module.  The rewrite must keep every line where it was (the report's line
numbers are the repository's) and leave the module's behaviour unchanged.
"""

import importlib.util
import sys
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[1] / "tools"

SOURCE = '''import functools

calls = []


class C:
    x = 2

    @property
    def double(self):
        return 2 * self.x

    @staticmethod
    def s():
        return 1


@functools.lru_cache(maxsize=1)
def table(n):
    calls.append(n)
    return n * n


def plain():
    return 3
'''


@pytest.fixture(scope="module")
def mutate():
    spec = importlib.util.spec_from_file_location("qproto_tools_mutate", TOOLS / "mutate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def test_rewrite_keeps_line_numbers_and_changes_only_decorator_lines(mutate):
    """catches: lines inserted or the line above a decorator commented out (report lines shifted)."""
    out = mutate.undecorate(SOURCE)
    before, after = SOURCE.splitlines(), out.splitlines()
    assert len(after) > len(before)  # the re-application is appended at the end
    changed = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
    assert [before[i].strip() for i in changed] == ["@property", "@functools.lru_cache(maxsize=1)"]
    assert all(after[i].lstrip().startswith("#") for i in changed)
    assert after[changed[0]].startswith("    #")  # the indentation of the decorator is kept
    assert "@staticmethod" in out  # a lone staticmethod is mutated by mutmut as it is


def test_rewritten_module_behaves_like_the_original(mutate):
    """The property and the cache are re-applied: same values, the cache still caches."""
    ns = {}
    exec(compile(mutate.undecorate(SOURCE), "rewritten", "exec"), ns)
    assert isinstance(ns["C"].__dict__["double"], property)
    assert ns["C"]().double == 4 and ns["C"].s() == 1 and ns["plain"]() == 3
    assert ns["table"](3) == 9 and ns["table"](3) == 9 and ns["calls"] == [3]
    assert mutate.undecorated_functions(mutate.undecorate(SOURCE)) == {"x\u01c1C\u01c1double", "x_table"}


def test_source_without_rewritable_decorators_is_unchanged(mutate):
    src = "def f():\n    return 1\n\n\nclass D:\n    @staticmethod\n    def g():\n        return 2\n"
    assert mutate.undecorate(src) == src
    assert mutate.undecorated_functions(src) == set()
