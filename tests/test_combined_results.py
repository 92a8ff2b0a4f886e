"""Issue 12 item 7: results summed across different channels keep each part and pool only what
pooling means (sampled proportions and counts), instead of refusing.

Expected values: the parts' own counts summed (the pooling), and for the pooled QBER the mixture
of each part's closed form weighted by its expected sifted-Z rounds (docs/conventions.md A1)."""

from __future__ import annotations

import json

import pytest

from qproto import Channel, InvalidParameter, get_protocol, result_from_dict
from qproto.testing import assert_proportion

A = Channel(transmittance=0.2, depolarisation=0.04, rotation_rad=0.3)
B = Channel(transmittance=0.5, depolarisation=0.12, misalignment=0.02)
C = Channel(transmittance=0.05, noise_click=0.01)


def _parts():
    bb84 = get_protocol("bb84", p_z=0.8)
    return bb84, bb84.run(A, rounds=40_000, seed=1), bb84.run(B, rounds=25_000, seed=2)


def test_runs_over_different_channels_add_into_a_combined_result_keeping_each_part():
    bb84, a, b = _parts()
    both = a + b
    assert type(both).__name__ == "CombinedResult"
    assert both.parts == (a, b) and both.channels == (A, B)
    assert both.rounds == 65_000 and both.seeds == (1, 2)
    pa, pb, pooled = a.proportions(), b.proportions(), both.proportions()
    assert set(pooled) == set(pa)
    for key, (k, n) in pooled.items():
        assert (k, n) == (pa[key][0] + pb[key][0], pa[key][1] + pb[key][1]), key
    assert both.estimates()["sifted_bits"] == a.estimates()["sifted_bits"] + b.estimates()["sifted_bits"]
    # nothing model-based is pooled: the key rate and PLOB bound belong to each part's channel
    assert "key_rate" not in both.estimates() and "plob_min_eta" not in both.estimates()


def test_pooled_qber_is_the_mixture_of_the_parts_closed_forms():
    bb84, a, b = _parts()
    weights, errors = [], []
    for res, ch in ((a, A), (b, B)):
        exp = bb84.expected(ch)
        w = res.rounds * exp["detection_rate"] * 0.8 ** 2  # expected sifted Z rounds of the part
        weights.append(w)
        errors.append(w * exp["qber_z"])
    k, n = (a + b).proportions()["qber_z"]
    assert_proportion(k, n, sum(errors) / sum(weights))


def test_combined_results_round_trip_and_associate():
    bb84, a, b = _parts()
    c = bb84.run(C, rounds=30_000, seed=3)
    left, right = (a + b) + c, a + (b + c)
    assert left == right and len(left.parts) == 3
    text = json.dumps(left.to_dict(), sort_keys=True)
    back = result_from_dict(json.loads(text))
    assert back == left and json.dumps(back.to_dict(), sort_keys=True) == text
    # a run over a channel already present joins that part (ordinary merge), seeds stay distinct
    more = left + bb84.run(A, rounds=10_000, seed=4)
    assert len(more.parts) == 3 and more.parts[0].rounds == 50_000 and more.seeds == (1, 4, 2, 3)


def test_what_cannot_be_combined_is_refused_by_name():
    bb84, a, b = _parts()
    with pytest.raises(InvalidParameter, match="seeds"):
        a + bb84.run(B, rounds=1000, seed=1)
    with pytest.raises(InvalidParameter, match="parameters"):
        a + get_protocol("bb84", p_z=0.5).run(B, rounds=1000, seed=5)
    data = (a + b).to_dict()
    data.pop("parts")
    with pytest.raises(InvalidParameter):
        result_from_dict(data)


def test_a_declarative_protocol_combines_too():
    b92 = get_protocol("b92")
    x, y = b92.run(A, rounds=20_000, seed=1), b92.run(B, rounds=20_000, seed=2)
    both = x + y
    for key, (k, n) in both.proportions().items():
        assert (k, n) == (x.proportions()[key][0] + y.proportions()[key][0],
                          x.proportions()[key][1] + y.proportions()[key][1])


def test_qsdc_blocks_over_different_channels_combine_when_the_message_is_the_same():
    """QSDC's own ``+`` concatenates messages over one channel; over different channels it gives a
    CombinedResult (same message) or refuses (different messages: different parameters)."""
    dl04 = get_protocol("qsdc-dl04", message=b"hi")
    x, y = dl04.run(A, rounds=4000, seed=1), dl04.run(B, rounds=4000, seed=2)
    both = x + y
    assert type(both).__name__ == "CombinedResult" and both.parts == (x, y)
    other = get_protocol("qsdc-dl04", message=b"yo").run(B, rounds=4000, seed=3)
    with pytest.raises(InvalidParameter, match="parameters"):
        x + other
