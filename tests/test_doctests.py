"""Every ``>>>`` example in qproto's docstrings runs and prints what it says."""

import doctest
import importlib
import pkgutil

import pytest

import qproto

import qproto.noise_models  # noqa: E402  (installed from noise_models/, walked separately)
import qproto.protocols  # noqa: E402  (installed from protocols/)

MODULES = sorted(
    m.name
    for package in (qproto, qproto.protocols, qproto.noise_models)
    for m in pkgutil.walk_packages(package.__path__, prefix=package.__name__ + ".")
    if m.name not in ("qproto.cli", "qproto.__main__")
) + ["qproto", "qproto.protocols", "qproto.noise_models"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples failed in {name}"


def test_the_public_api_carries_examples():
    """Guard against the test above passing vacuously: the core types document examples."""
    finder = doctest.DocTestFinder(exclude_empty=True)
    attempted = sum(len(t.examples) for name in ("qproto._channel", "qproto.protocols._bb84",
                                                 "qproto.security._decoy")
                    for t in finder.find(importlib.import_module(name)))
    assert attempted >= 6
