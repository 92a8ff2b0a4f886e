"""Fixtures of the qproto.bench tests: small sweeps whose tasks take milliseconds."""

import pytest

from bench.bench_helpers import small_sweep


@pytest.fixture
def sweep():
    return small_sweep()


@pytest.fixture
def store_path(tmp_path):
    return str(tmp_path / "store.db")
