"""GHZ conference key: tests for mutation survivors of the fifth run (TESTING.md). Expected values
are written here from docs/conventions.md A7 by other routes (enumeration, hand formulas)."""

import dataclasses
import itertools

import numpy as np
import pytest
from _reference import h2

from qproto import Channel, get_protocol
from qproto.protocols._ghz_cka import dephase, ghz_local_depolarising_errors


def test_local_depolarising_errors_by_enumerating_the_flips():
    """Q_AB_i and Q_X of GHZ_4 under local depolarising p_j (asymmetric): each party's Z (and X)
    outcome flips independently with probability p_j/2; Q_AB_i = P(Alice's and party i's flips
    differ), Q_X = P(odd number of X flips), by enumerating the 16 flip patterns.
    catches: any term of either closed form changed, or the function never tested."""
    p = [0.1, 0.25, 0.04, 0.4]
    a = [x / 2 for x in p]
    q_ab = [0.0, 0.0, 0.0]
    q_x = 0.0
    for flips in itertools.product((0, 1), repeat=4):
        w = float(np.prod([a[j] if f else 1 - a[j] for j, f in enumerate(flips)]))
        for i in range(1, 4):
            q_ab[i - 1] += w * (flips[0] != flips[i])
        q_x += w * (sum(flips) % 2)
    got_ab, got_x = ghz_local_depolarising_errors(p)
    np.testing.assert_allclose(got_ab, q_ab, atol=1e-15)
    assert got_x == pytest.approx(q_x, abs=1e-15)


def test_dephase_keeps_the_identity_part_and_projects_the_bloch_part():
    """m -> (m . e_b) e_b on the Bloch part, the identity component unchanged (its docstring).
    catches: the identity component written into the Bloch part's slot (and lost)."""
    obs = np.array([0.7, 0.1, 0.2, 0.3])
    np.testing.assert_allclose(dephase(obs, "Z"), [0.7, 0.0, 0.0, 0.3])
    np.testing.assert_allclose(dephase(obs, "X"), [0.7, 0.1, 0.0, 0.0])


def test_no_key_round_means_no_key_even_with_test_rounds():
    """With test rounds but no key round the Alice-Bob error rates are unknown: the key rate is 0
    (not NaN, not the test rounds' number). A result of zero rounds has key rate 0 too.
    catches: the unknown-QBER guard needing both to be unknown (`and`), the zero-round guard."""
    proto = get_protocol("ghz-cka", parties=3, p_key=0.02)
    res = proto.run([Channel(depolarisation=0.05)] * 3, rounds=40, seed=3)  # a seed with no key round
    assert res.c("key_rounds") == 0 and res.c("test_rounds") > 0
    est = res.key_rate_estimate()
    assert (est.low, est.best, est.high) == (0.0, 0.0, 0.0)
    empty = dataclasses.replace(res, rounds=0, counts={k: tuple(0 for _ in v) for k, v in res.counts.items()})
    assert empty.key_rate_estimate().best == 0.0


def test_expected_bipartite_rate_uses_the_protocols_key_round_probability():
    """`bipartite_rate` for p_key = 0.8 over unrotated depolarising channels: min over Bobs of
    p_key P_A P_i [1 - 2 h(Q_i)], Q_i = [1 - (1 - p_A)(1 - p_i)]/2, divided by N - 1 (conventions A3,
    A7), written out. catches: p_key dropped (the default 1 used)."""
    p = [0.02, 0.05, 0.08]
    chans = [Channel(depolarisation=x) for x in p]
    rates = [0.8 * (1 - 2 * h2((1 - (1 - p[0]) * (1 - p[i])) / 2)) for i in (1, 2)]
    exp = get_protocol("ghz-cka", parties=3, p_key=0.8).expected(chans)
    assert exp["bipartite_rate"] == pytest.approx(min(rates) / 2, rel=1e-12)


def test_the_key_rate_interval_has_the_results_confidence_level():
    """catches: the confidence level dropped from the key-rate estimate (both the no-key and the
    normal branch)."""
    proto = get_protocol("ghz-cka", parties=3, p_key=0.02)
    chans = [Channel(depolarisation=0.05)] * 3
    none = dataclasses.replace(proto.run(chans, rounds=40, seed=3), confidence=0.9)
    some = dataclasses.replace(get_protocol("ghz-cka", parties=3).run(chans, rounds=2000, seed=3), confidence=0.9)
    assert none.key_rate_estimate().confidence == 0.9 and some.key_rate_estimate().confidence == 0.9
    assert some.key_rate_estimate().best > 0
