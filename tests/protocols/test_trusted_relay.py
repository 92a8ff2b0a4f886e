"""Trusted relay (PHYSICS.md section B: 44; A12)."""

import numpy as np
import pytest

from qproto import Channel
from qproto._errors import InvalidParameter
from qproto.protocols import TrustedRelay
from qproto.testing import assert_keys_equal, assert_proportion, assert_reproducible, assert_round_trip

CHANS = [Channel(depolarisation=0.02, transmittance=0.3), Channel(depolarisation=0.06), Channel(transmittance=0.2)]


def test_invariant44_recovered_key_equals_alices_key():
    """Invariant 44 [EXACT]: the last node's recovered key == K_AT, every bit, every run."""
    record = TrustedRelay(n_links=3).sample(CHANS, rounds=20_000, seed=3)
    assert_keys_equal(record.alice_key, record.bob_key)
    for (k_prev, k_next), b in zip(record.relay_knowledge, record.broadcasts):
        np.testing.assert_array_equal(k_prev ^ k_next, b)  # each relay holds both keys: it knows K_AT
    assert TrustedRelay(n_links=3).run(CHANS, rounds=20_000, seed=4).tallies["key_errors"] == 0


def test_invariant44_broadcast_is_uniform_and_independent_of_the_key():
    """Invariant 44 [STAT]: broadcast bits are uniform, and agree with K_AT's bit with probability 1/2
    for either value of K_AT (a one-time pad)."""
    record = TrustedRelay(n_links=2).sample([Channel(), Channel()], rounds=40_000, seed=8)
    b, k = record.broadcasts[0], record.alice_key
    assert_proportion(int(b.sum()), b.size, 0.5, what="broadcast ones")
    for v in (0, 1):
        assert_proportion(int(b[k == v].sum()), int((k == v).sum()), 0.5, what=f"P(broadcast=1 | K={v})")


def test_rate_is_the_minimum_link_rate_and_relays_know_the_key():
    relay = TrustedRelay(n_links=3)
    result = relay.run(CHANS, rounds=60_000, seed=2)
    links = [result.link_result(i).key_rate.best for i in range(3)]
    est = result.estimates()
    assert est["key_rate"].best == pytest.approx(min(links))
    assert est["relays_know_key"] == 1
    assert_proportion(result.tallies["link1.errors_z"] + result.tallies["link1.errors_x"],
                      result.tallies["link1.sifted_z"] + result.tallies["link1.sifted_x"], 0.03, what="link 1 QBER")
    assert_round_trip(result)
    other = relay.run(CHANS, rounds=result.rounds, seed=result.seed + 1)
    assert (result + other).tallies["key_bits"] == result.tallies["key_bits"] + other.tallies["key_bits"]
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
