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


# ---- mutation survivors of the fourth run --------------------------------------------------------
def test_links_are_bb84_results_with_the_relays_f_ec_and_confidence():
    """Each link's result is a BB84 result whose key rate uses the relay's own f_EC (1.5 here,
    not the 1.16 default) and the relay result's confidence level, and its secret key rate is the
    Shor-Preskill rate written out from the link's own sifted counts.

    catches: f_EC read under another name (the default 1.16 used instead), the link labelled as
    another protocol, the confidence level lost."""
    import dataclasses

    relay = TrustedRelay(n_links=2, p_z=P_Z, f_ec=1.5)
    result = relay.run(CHANS[:2], rounds=30_000, seed=4)
    result = dataclasses.replace(result, confidence=0.9)
    for i in range(2):
        link = result.link_result(i)
        assert link.protocol == "bb84" and link.parameters["f_ec"] == 1.5 and link.confidence == 0.9
        t = {k.split(".", 1)[1]: v for k, v in result.tallies.items() if k.startswith(f"link{i}.")}
        ez, ex = t["errors_z"] / t["sifted_z"], t["errors_x"] / t["sifted_x"]
        hand = (t["sifted_z"] * max(0.0, 1 - h2(ex) - 1.5 * h2(ez))
                + t["sifted_x"] * max(0.0, 1 - h2(ez) - 1.5 * h2(ex))) / 30_000
        assert link.key_rate.best == pytest.approx(hand, rel=1e-9)
        assert hand > 0


def test_worst_link_qber_is_the_largest_link_qber_and_a_dark_link_is_the_worst():
    """`worst_link_qber` is the link QBER with the largest value, whichever position that link
    holds; a link with no sifted bit (dark) has no QBER and counts as the worst.

    catches: the largest replaced by the first, the NaN test inverted or dropped, no value at all."""
    clean, noisy, dark = Channel(depolarisation=0.02), Channel(depolarisation=0.2), Channel(transmittance=0.0)
    relay = TrustedRelay(n_links=2)
    for chans, worst in (([clean, noisy], 1), ([noisy, clean], 0)):
        res = relay.run(chans, rounds=20_000, seed=6)
        t = res.tallies
        qbers = [(t[f"link{i}.errors_z"] + t[f"link{i}.errors_x"]) / (t[f"link{i}.sifted_z"] + t[f"link{i}.sifted_x"])
                 for i in range(2)]
        assert res.estimates()["worst_link_qber"].best == pytest.approx(qbers[worst], abs=1e-12)
        assert qbers[worst] > qbers[1 - worst] + 0.05
    for chans in ([noisy, dark], [dark, noisy]):
        est = relay.run(chans, rounds=5000, seed=6).estimates()
        assert math.isnan(est["worst_link_qber"].best)


@pytest.mark.parametrize("n_links,knows", [(1, 0), (2, 1), (3, 1)])
def test_relays_know_the_key_only_when_there_are_relays(n_links, knows):
    """One link has no relay: nobody but the two ends holds the key (0); any relay holds it (1).
    One link also has no broadcasts, so expected() gives no broadcast statistics.

    catches: the relay count compared with >= or with 2, a constant answer."""
    relay = TrustedRelay(n_links=n_links)
    chans = [Channel(depolarisation=0.05)] * n_links
    res = relay.run(chans, rounds=2000, seed=3)
    assert res.estimates()["relays_know_key"] == knows
    exp = relay.expected(chans)
    assert ("broadcast_ones" in exp) == (n_links > 1) and ("broadcast_equal_key" in exp) == (n_links > 1)
    assert ("broadcast_ones" in res.estimates()) == (n_links > 1)


def test_expected_key_rate_uses_the_relays_f_ec():
    """expected()'s key rate is the Shor-Preskill rate with the relay's f_EC, written out here for
    a depolarising link (E_Z = E_X = p/2) and biased bases.

    catches: f_EC dropped in either basis term (the 1.16 default used)."""
    p, pz = 0.06, 0.8
    e = p / 2
    for f_ec in (1.0, 1.4):
        hand = (pz**2 + (1 - pz) ** 2) * max(0.0, 1 - h2(e) - f_ec * h2(e))
        relay = TrustedRelay(n_links=1, p_z=pz, f_ec=f_ec)
        assert relay.expected(Channel(depolarisation=p))["key_rate"] == pytest.approx(hand, rel=1e-12)


def test_parameter_ranges_are_exact():
    """p_Z lies in the open interval (0, 1) and f_EC in [1, 2]; the refusals name the value.

    catches: either end of p_Z's interval closed, its upper end moved, f_EC's upper end moved."""
    for bad in (0.0, 1.0, 1.5, -0.1):
        with pytest.raises(InvalidParameter) as err:
            TrustedRelay(p_z=bad)
        assert (err.value.name, err.value.value) == ("p_z", bad)
    for bad in (0.99, 2.01, 2.5):
        with pytest.raises(InvalidParameter) as err:
            TrustedRelay(f_ec=bad)
        assert (err.value.name, err.value.value) == ("f_ec", bad)
    assert TrustedRelay(f_ec=2.0).f_ec == 2.0 and TrustedRelay(f_ec=1.0).f_ec == 1.0
    assert TrustedRelay(p_z=1e-9).p_z == 1e-9


def test_one_link_chain_from_a_list_and_refusals_carry_their_values():
    """A one-link chain given as a one-element list runs; the empty list, an eavesdropper, a
    non-fast form and a non-Engine engine are refused with the offending value and the protocol's
    name. The circuits and noise model are link BB84's.

    catches: a one-element list taken for the empty chain, values dropped from errors, the noise
    model built from two channels."""
    from qproto.protocols import BB84

    relay = TrustedRelay(n_links=1)
    assert relay.run([Channel(depolarisation=0.05)], rounds=500, seed=1).tallies["rounds"] == 500
    with pytest.raises(InvalidParameter) as err:
        TrustedRelay(n_links=3).run([], rounds=10)
    assert err.value.value == "[]" and "3 channel(s)" in err.value.allowed
    for call in (lambda: relay.build_circuits(eavesdropper="intercept"),
                 lambda: relay.prepare([Channel()], eavesdropper="intercept")):
        with pytest.raises(InvalidParameter) as err:
            call()
        assert (err.value.name, err.value.value) == ("eavesdropper", "intercept")
    for call in (lambda: relay.build_circuits(form="exact"), lambda: relay.prepare([Channel()], form="exact")):
        with pytest.raises(InvalidParameter) as err:
            call()
        assert err.value.name == "form" and "trusted-relay" in str(err.value)
    from qproto._errors import InvalidType

    with pytest.raises(InvalidType) as err:
        relay.prepare([Channel()], engine="aer")
    assert (err.value.name, err.value.value) == ("engine", "aer")
    bb84 = BB84()
    assert [c.name for c in relay.build_circuits()] == [c.name for c in bb84.build_circuits()]
    a, b = Channel(depolarisation=0.1), Channel(depolarisation=0.3)
    assert relay.noise_model((a, b)) == bb84.noise_model((a,))


def test_prepare_compiles_with_the_engine_given():
    """The engine a caller passes compiles every link (not a fresh default engine).

    catches: the engine argument ignored."""
    from qproto import Engine

    calls = []

    class Spy(Engine):
        def compile(self, *args, **kwargs):
            calls.append(1)
            return super().compile(*args, **kwargs)

    TrustedRelay(n_links=3).prepare(CHANS, engine=Spy())
    assert len(calls) == 3


def test_record_keys_and_tallies_are_the_hand_counts():
    """A sampled chunk's record satisfies its docstring, checked bit by bit: sender and receiver
    keys differ exactly where the link erred, each broadcast is the XOR of the relay's two keys,
    node n's key is node 0's XOR every link's error pattern; the tallies are the hand counts of
    that record (broadcast bits equal to node 0's key among them).

    catches: sender or receiver keys missing from the record, broadcast_equal_key counting the
    unequal bits instead."""
    relay = TrustedRelay(n_links=3, p_z=P_Z)
    record = relay.sample(CHANS, rounds=20_000, seed=9)
    n = record.alice_key.size
    assert n > 1000 and all(k.size == n for k in (*record.sender_keys, *record.receiver_keys))
    errors = [s ^ r for s, r in zip(record.sender_keys, record.receiver_keys)]
    assert all(e.any() for e in errors)  # every link is noisy
    for j, b in enumerate(record.broadcasts, start=1):
        np.testing.assert_array_equal(b, record.receiver_keys[j - 1] ^ record.sender_keys[j])
        np.testing.assert_array_equal(record.relay_knowledge[j - 1][0], record.receiver_keys[j - 1])
    np.testing.assert_array_equal(record.alice_key, record.sender_keys[0])
    np.testing.assert_array_equal(record.bob_key, record.alice_key ^ errors[0] ^ errors[1] ^ errors[2])
    t = relay.analyse(record)
    assert t["relayed_raw_errors"] == int(np.count_nonzero(errors[0] ^ errors[1] ^ errors[2]))
    assert t["broadcast_bits"] == 2 * n
    assert t["broadcast_ones"] == int(record.broadcasts[0].sum() + record.broadcasts[1].sum())
    assert t["broadcast_equal_key"] == sum(int(np.count_nonzero(b == record.alice_key)) for b in record.broadcasts)
