"""PLOB / TGW repeaterless bounds (docs/conventions.md §A13) and dB conversions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qproto._errors import InvalidParameter, InvalidType
from qproto.security._bounds import (
    db_from_transmittance,
    plob_bound,
    tgw_bound,
    transmittance_from_db,
)

ETAS = st.floats(min_value=0.0, max_value=1.0 - 1e-12, allow_nan=False)


@pytest.mark.parametrize(
    ("loss_db", "plob"),
    # docs/conventions.md §A2 test-vector table, PLOB column.
    [(10.0, 0.152), (20.0, 1.45e-2), (30.0, 1.443e-3), (40.0, 1.443e-4)],
)
def test_plob_matches_physics_table(loss_db, plob):
    assert plob_bound(loss_db=loss_db) == pytest.approx(plob, rel=5e-4)
    assert plob_bound(10 ** (-loss_db / 10)) == pytest.approx(plob, rel=5e-4)


def test_known_values_and_edges():
    assert plob_bound(0.5) == pytest.approx(1.0)
    assert tgw_bound(0.5) == pytest.approx(math.log2(3.0))
    assert plob_bound(0.0) == 0.0
    assert tgw_bound(0.0) == 0.0
    assert plob_bound(1.0) == math.inf
    assert tgw_bound(1.0) == math.inf
    # small-eta slopes 1/ln2 and 2/ln2
    assert plob_bound(1e-9) == pytest.approx(1e-9 / math.log(2), rel=1e-6)
    assert tgw_bound(1e-9) == pytest.approx(2e-9 / math.log(2), rel=1e-6)


def test_vectorised_and_scalar_types():
    eta = np.array([[0.1, 0.01], [1e-3, 1e-4]])
    out = plob_bound(eta)
    assert isinstance(out, np.ndarray) and out.shape == (2, 2)
    np.testing.assert_allclose(out, [[plob_bound(float(e)) for e in row] for row in eta])
    assert isinstance(plob_bound(0.1), float)
    assert isinstance(tgw_bound(loss_db=3.0), float)
    np.testing.assert_allclose(plob_bound(loss_db=[10.0, 20.0]), plob_bound([0.1, 0.01]))


@settings(deadline=None, max_examples=60)
@given(eta=ETAS, other=ETAS)
def test_tgw_looser_than_plob_and_monotone(eta, other):
    p, t = plob_bound(eta), tgw_bound(eta)
    assert 0.0 <= p <= t
    lo, hi = sorted((eta, other))
    assert plob_bound(lo) <= plob_bound(hi)
    assert tgw_bound(lo) <= tgw_bound(hi)


@settings(deadline=None, max_examples=40)
@given(loss_db=st.floats(min_value=0.0, max_value=150.0))
def test_db_round_trip(loss_db):
    eta = transmittance_from_db(loss_db)
    assert 0.0 < eta <= 1.0
    assert db_from_transmittance(eta) == pytest.approx(loss_db, abs=1e-9)


BAD = [
    (plob_bound, dict(eta=1.5), InvalidParameter, "eta"),
    (plob_bound, dict(eta=-0.1), InvalidParameter, "eta"),
    (plob_bound, dict(eta=float("nan")), InvalidParameter, "eta"),
    (plob_bound, dict(eta=[0.1, 2.0]), InvalidParameter, "eta"),
    (plob_bound, dict(eta="0.1"), InvalidType, "eta"),
    (plob_bound, dict(eta=True), InvalidType, "eta"),
    (plob_bound, dict(), InvalidParameter, "eta"),
    (plob_bound, dict(eta=0.1, loss_db=10.0), InvalidParameter, "eta"),
    (plob_bound, dict(loss_db=-1.0), InvalidParameter, "loss_db"),
    (tgw_bound, dict(eta=1.01), InvalidParameter, "eta"),
    (tgw_bound, dict(loss_db=float("inf")), InvalidParameter, "loss_db"),
    (transmittance_from_db, dict(loss_db=-3.0), InvalidParameter, "loss_db"),
    (db_from_transmittance, dict(eta=0.0), InvalidParameter, "eta"),
    (db_from_transmittance, dict(eta=[0.5, None]), InvalidType, "eta"),
]


@pytest.mark.parametrize(("func", "kwargs", "exc", "name"), BAD)
def test_rejects_bad_inputs(func, kwargs, exc, name):
    with pytest.raises(exc) as info:
        func(**kwargs)
    assert info.value.name == name
    assert name in str(info.value)
