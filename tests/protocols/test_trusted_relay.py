"""Trusted relay (docs/conventions.md section B: 44; A12; A1 for the links).

Expected values come from the numpy reference (tests/_reference.py) or closed forms written here.
"""

import math

import numpy as np
import pytest
from _reference import click_kraus, click_probability, flip_probability, h2

from qproto import Channel
from qproto._errors import InvalidParameter
from qproto.protocols import TrustedRelay
from qproto.testing import (assert_keys_equal, assert_matches_expected, assert_proportion, assert_reproducible,
                            assert_round_trip)

# Three different links: loss, noise clicks, misalignment and one coherent rotation (E_X != E_Z).
CHANS = [Channel(depolarisation=0.02, transmittance=0.3, noise_click=0.005),
         Channel(depolarisation=0.06, misalignment=0.01, rotation_rad=0.5, rotation_axis=(0, 0, 1)),
         Channel(depolarisation=0.1, transmittance=0.2)]
P_Z = 0.7


def _ref_link(ch, p_z=P_Z, f_ec=1.16):
    """Reference link: (E_Z, E_X, sifted error rate q, Shor-Preskill secret key rate per round)."""
    kraus = click_kraus(ch)
    e_z, e_x = flip_probability(kraus, "Z"), flip_probability(kraus, "X")
    pz2, px2 = p_z**2, (1 - p_z) ** 2
    q = (pz2 * e_z + px2 * e_x) / (pz2 + px2)
    rate = click_probability(ch) * (pz2 * max(0.0, 1 - h2(e_x) - f_ec * h2(e_z))
                                    + px2 * max(0.0, 1 - h2(e_z) - f_ec * h2(e_x)))
    return e_z, e_x, q, rate


def test_invariant44_noiseless_links_recovered_key_equals_node0_key():
    """Invariant 44 [EXACT]: with lossy but noiseless links, the last node's recovered key equals
    node 0's key bit for bit, and each relay holds two keys whose XOR is its broadcast.

    catches: a broadcast that is not the XOR of the relay's two keys, a relay skipped in Bob's
    recovery, keys of different links misaligned."""
    chans = [Channel(transmittance=0.3), Channel(), Channel(transmittance=0.5)]
    record = TrustedRelay(n_links=3).sample(chans, rounds=20_000, seed=3)
    assert record.alice_key.size > 1000
    assert_keys_equal(record.alice_key, record.bob_key)
    for (k_prev, k_next), b in zip(record.relay_knowledge, record.broadcasts):
        np.testing.assert_array_equal(k_prev ^ k_next, b)
    result = TrustedRelay(n_links=3).run(chans, rounds=20_000, seed=4)
    assert result.tallies["relayed_raw_errors"] == 0 and result.tallies["relayed_raw_bits"] > 1000


def test_raw_relayed_key_errors_compound_across_links():
    """A12 [STAT]: nothing corrects the raw relayed bits, so node n disagrees with node 0 at
    [1 - prod_i (1 - 2 q_i)]/2, q_i link i's sifted error rate (reference Kraus maps, biased bases:
    q = (p_Z^2 E_Z + p_X^2 E_X)/(p_Z^2 + p_X^2)); each link's own QBERs match the reference too.

    catches: a broadcast built from the wrong end of a link (that link's errors vanish), a link's
    errors counted twice, links' channels permuted, the recovered key not using the last link."""
    relay = TrustedRelay(n_links=3, p_z=P_Z)
    result = relay.run(CHANS, rounds=60_000, seed=2)
    t = result.tallies
    qs = [_ref_link(ch)[2] for ch in CHANS]
    compound = (1 - math.prod(1 - 2 * q for q in qs)) / 2
    assert_proportion(t["relayed_raw_errors"], t["relayed_raw_bits"], compound, what="relayed raw errors")
    for i, ch in enumerate(CHANS):
        e_z, e_x, _, _ = _ref_link(ch)
        assert_proportion(t[f"link{i}.errors_z"], t[f"link{i}.sifted_z"], e_z, what=f"link {i} E_Z")
        assert_proportion(t[f"link{i}.errors_x"], t[f"link{i}.sifted_x"], e_x, what=f"link {i} E_X")
    exp = relay.expected(CHANS)
    assert exp["relayed_raw_error_rate"] == pytest.approx(compound, abs=1e-12)
    assert_matches_expected(result, exp, keys=["relayed_raw_error_rate", "broadcast_ones", "broadcast_equal_key"])


def test_secret_key_is_zero_when_one_link_is_useless():
    """A12 [EXACT]: a fully depolarising link (QBER 1/2) makes the end-to-end SECRET key 0, although
    about as many raw bits are relayed as on a clean chain and they disagree with node 0 half the time.

    catches: reporting raw relayed bits as key, an end-to-end rate that is not the minimum over links."""
    relay = TrustedRelay(n_links=2)
    result = relay.run([Channel(), Channel(depolarisation=1.0)], rounds=20_000, seed=1)
    est = result.estimates()
    assert est["relayed_raw_bits"] > 9000
    assert est["key_rate"].best == 0.0 and est["key_rate"].high == 0.0 and est["secret_key_bits"] == 0.0
    assert_proportion(result.tallies["relayed_raw_errors"], result.tallies["relayed_raw_bits"], 0.5,
                      what="raw relayed errors over a useless link")
    assert relay.expected([Channel(), Channel(depolarisation=1.0)])["key_rate"] == 0.0
    clean = relay.run([Channel(), Channel()], rounds=20_000, seed=1)
    sifted = min(clean.tallies[f"link{i}.sifted_z"] + clean.tallies[f"link{i}.sifted_x"] for i in range(2))
    assert clean.estimates()["secret_key_bits"] == pytest.approx(sifted)  # noiseless: every sifted bit is secret


def test_key_rate_is_the_minimum_of_the_links_reference_rates():
    """A12 [FORMULA + STAT]: expected key_rate = min over links of the reference Shor-Preskill rates
    (from each link's own E_Z, E_X; biased bases, a rotated link); the run's key_rate is the minimum
    of its links' measured rates and secret_key_bits = rounds x key_rate.

    catches: min replaced by a product or by the first link's rate, p_Z and p_X swapped in a link's rate."""
    relay = TrustedRelay(n_links=3, p_z=P_Z)
    rates = [_ref_link(ch)[3] for ch in CHANS]
    assert relay.expected(CHANS)["key_rate"] == pytest.approx(min(rates), rel=1e-9)
    assert relay.expected(CHANS)["worst_link_qber"] == pytest.approx(max(_ref_link(ch)[2] for ch in CHANS))
    result = relay.run(CHANS, rounds=60_000, seed=5)
    est = result.estimates()
    links = [result.link_result(i).key_rate.best for i in range(3)]
    assert est["key_rate"].best == pytest.approx(min(links))
    assert est["secret_key_bits"] == pytest.approx(min(links) * 60_000)
    assert est["relays_know_key"] == 1


def test_invariant44_broadcast_is_uniform_and_independent_of_the_key():
    """Invariant 44 [STAT]: over noisy, biased-basis links the broadcast bits are uniform and agree
    with node 0's key bit with probability 1/2 for either key value (a one-time pad).

    catches: a broadcast that carries one of the relay's keys alone (it would equal node 0's key
    up to link errors), a constant or biased sender bit on the second link."""
    record = TrustedRelay(n_links=2, p_z=P_Z).sample(CHANS[:2], rounds=60_000, seed=8)
    b, k = record.broadcasts[0], record.alice_key
    assert_proportion(int(b.sum()), b.size, 0.5, what="broadcast ones")
    for v in (0, 1):
        assert_proportion(int(b[k == v].sum()), int((k == v).sum()), 0.5, what=f"P(broadcast=1 | K={v})")


def test_round_trip_merge_and_reproducible():
    relay = TrustedRelay(n_links=3)
    result = relay.run(CHANS, rounds=6000, seed=2)
    assert_round_trip(result)
    other = relay.run(CHANS, rounds=result.rounds, seed=result.seed + 1)
    merged = result + other
    assert merged.tallies["relayed_raw_bits"] == result.tallies["relayed_raw_bits"] + other.tallies["relayed_raw_bits"]
    assert_reproducible(lambda seed: relay.run(CHANS, rounds=3000, seed=seed))


def test_bad_inputs():
    with pytest.raises(InvalidParameter) as err:
        TrustedRelay(n_links=0)
    assert err.value.name == "n_links"
    with pytest.raises(InvalidParameter) as err:
        TrustedRelay(n_links=2).run([], rounds=10)
    assert err.value.name == "channel"
    with pytest.raises(InvalidParameter) as err:
        TrustedRelay(n_links=2).run(CHANS, rounds=10)
    assert err.value.name == "channel"
    with pytest.raises(InvalidParameter) as err:
        TrustedRelay(p_z=1.2)
    assert err.value.name == "p_z"
