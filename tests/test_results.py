"""Result types: estimates, merging, serialisation."""

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qproto import Channel, Estimate, InvalidParameter, QKDCounts, QKDResult, get_protocol, result_from_dict
from qproto.testing import assert_round_trip

counts = st.builds(
    lambda a, b, c, d, e, f: QKDCounts(rounds=a + b + c + d + e + f, detected=a + b + c + d + e, sifted_z=a + b,
                                       errors_z=b, sifted_x=c + d, errors_x=d, mismatched=e, mismatched_agree=e // 2),
    *[st.integers(0, 10_000)] * 6)


@given(counts, counts, counts)
def test_counts_addition_is_associative_and_commutative(a, b, c):
    assert (a + b) + c == a + (b + c)
    assert a + b == b + a
    assert (a + b).rounds == a.rounds + b.rounds


@given(st.integers(0, 500), st.integers(0, 500))
def test_clopper_pearson_interval_brackets_the_estimate(k, extra):
    n = k + extra
    e = Estimate.binomial(k, n)
    if n == 0:
        assert math.isnan(e.best) and (e.low, e.high) == (0.0, 1.0)
    else:
        assert 0.0 <= e.low <= e.best <= e.high <= 1.0


def test_clopper_pearson_known_value():
    # Exact 95 % interval for 5 / 20 (published tables: 0.0866 - 0.4910).
    e = Estimate.binomial(5, 20)
    assert e.low == pytest.approx(0.0866, abs=1e-4)
    assert e.high == pytest.approx(0.4910, abs=1e-4)


def test_estimate_validation():
    with pytest.raises(InvalidParameter, match="successes"):
        Estimate.binomial(5, 3)
    with pytest.raises(InvalidParameter, match="confidence"):
        Estimate.binomial(1, 3, confidence=1.0)


@pytest.mark.parametrize("name, eve", [("bb84", None), ("bb84", "intercept-resend:0.5"), ("bbm92", None)])
def test_results_round_trip_through_dict_and_json(name, eve):
    r = get_protocol(name).run(Channel(transmittance=0.5, depolarisation=0.05), rounds=5000, seed=3,
                               eavesdropper=eve)
    assert_round_trip(r)
    d = json.loads(json.dumps(r.to_dict()))
    assert d["estimates"]["qber_z"]["best"] == pytest.approx(r.qber_z.best)
    assert d["seed"] == 3 and d["protocol"] == name
    assert isinstance(result_from_dict(d), QKDResult)


def test_results_of_independent_runs_merge():
    bb84 = get_protocol("bb84")
    ch = Channel(depolarisation=0.1)
    a, b = bb84.run(ch, rounds=1000, seed=1), bb84.run(ch, rounds=2000, seed=2)
    merged = a + b
    assert merged.rounds == 3000 and merged.counts == a.counts + b.counts
    # different channels combine, keeping the parts (issue 12; tests/test_combined_results.py) ...
    combined = a + bb84.run(Channel(), rounds=1000, seed=3)
    assert type(combined).__name__ == "CombinedResult" and combined.parts[0] == a
    # ... but never two runs with the same seed
    with pytest.raises(InvalidParameter, match="seeds"):
        a + bb84.run(Channel(), rounds=1000, seed=1)


def test_result_from_dict_rejects_unknown_types():
    with pytest.raises(InvalidParameter, match="type"):
        result_from_dict({"type": "Nope"})


def test_key_rate_interval_orders_and_zero_without_key():
    r = get_protocol("bb84").run(Channel(depolarisation=0.04), rounds=50_000, seed=5)
    k = r.key_rate
    assert 0 < k.low <= k.best <= k.high <= r.sifted_bits / r.rounds
    bad = get_protocol("bb84").run(Channel(depolarisation=0.5), rounds=5000, seed=5)
    assert bad.key_rate.best == bad.key_rate.high == 0.0
