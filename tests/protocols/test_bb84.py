"""BB84 invariants (docs/conventions.md section B: 6-13), as properties over hypothesis-drawn inputs."""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from qproto import Channel, InterceptResend, get_protocol
from qproto.protocols import BB84
from qproto.testing import (
    assert_keys_equal,
    assert_matches_expected,
    assert_proportion,
    assert_reproducible,
    bb84_params,
    channels,
    noisy_channels,
    probabilities,
    seeds,
)

ROUNDS = 20_000


@given(params=bb84_params(), seed=seeds())
def test_invariant8_noiseless_lossless_keys_are_identical(params, seed):
    """Invariant 8 [EXACT]: Alice's sifted key == Bob's, QBER exactly 0, every run."""
    bb84 = BB84(**params)
    record = bb84.sample(Channel(), rounds=2000, seed=seed)
    alice, bob = record.sifted_keys()
    assert_keys_equal(alice, bob)
    r = bb84.run(Channel(), rounds=2000, seed=seed)
    assert r.counts.errors_z == r.counts.errors_x == 0
    assert r.qber.best == 0.0


@given(p_z=st.sampled_from([0.5, 0.7, 0.9]) | probabilities(min_value=0.05, max_value=0.95), seed=seeds())
@settings(max_examples=10)
def test_invariant9_sifted_fraction(p_z, seed):
    """Invariant 9 [STAT]: sifted fraction -> p_z^2 + p_x^2 (1/2 when symmetric)."""
    r = BB84(p_z=p_z).run(Channel(transmittance=0.5, noise_click=0.01), rounds=ROUNDS, seed=seed)
    c = r.counts
    assert_proportion(c.sifted_z + c.sifted_x, c.sifted_z + c.sifted_x + c.mismatched, p_z**2 + (1 - p_z)**2,
                      what="sifted fraction")


@given(p=probabilities(max_value=1.0), seed=seeds())
@settings(max_examples=10)
def test_invariant10_qber_is_half_the_depolarisation_in_both_bases(p, seed):
    """Invariant 10 [STAT]: depolarising p -> QBER_Z, QBER_X -> p/2."""
    r = BB84().run(Channel(depolarisation=p), rounds=ROUNDS, seed=seed)
    assert_proportion(r.counts.errors_z, r.counts.sifted_z, p / 2, what="QBER Z")
    assert_proportion(r.counts.errors_x, r.counts.sifted_x, p / 2, what="QBER X")


@given(f=probabilities(), seed=seeds())
@settings(max_examples=10)
def test_invariant11_intercept_resend_gives_f_over_4_and_eve_knows_three_quarters(f, seed):
    """Invariant 11 [STAT]: intercept-resend on a fraction f: QBER -> f/4; Eve = Alice on 3/4."""
    r = BB84().run(Channel(), rounds=ROUNDS, seed=seed, eavesdropper=InterceptResend(fraction=f))
    c = r.counts
    assert_proportion(c.errors_z + c.errors_x, c.sifted_z + c.sifted_x, f / 4, what="QBER")
    if f > 0.05:
        assert_proportion(c.eve_correct, c.eve_sifted, 0.75, what="Eve's agreement with Alice")
    else:
        assert c.eve_sifted <= c.sifted_z + c.sifted_x


def test_invariant11_full_attack_reaches_25_percent():
    r = BB84().run(Channel(), rounds=200_000, seed=1, eavesdropper="intercept-resend")
    assert_proportion(r.counts.errors_z, r.counts.sifted_z, 0.25, what="QBER Z")
    assert_proportion(r.counts.errors_x, r.counts.sifted_x, 0.25, what="QBER X")
    assert r.counts.eve_sifted == r.sifted_bits
    assert_proportion(r.counts.eve_correct, r.counts.eve_sifted, 0.75)
    assert r.key_rate.best == 0.0


@given(ch=noisy_channels(), eve=st.none() | st.builds(InterceptResend, fraction=probabilities(),
                                                          p_z=probabilities()), seed=seeds())
@settings(max_examples=10)
def test_invariant12_mismatched_bases_agree_half_the_time(ch, eve, seed):
    """Invariant 12 [STAT]: on discarded (mismatched-basis) rounds P(a = b) -> 1/2."""
    r = BB84().run(ch, rounds=ROUNDS, seed=seed, eavesdropper=eve)
    assert_proportion(r.counts.mismatched_agree, r.counts.mismatched, 0.5, what="P(a=b) mismatched")


@given(params=bb84_params(), ch=noisy_channels(), eve=st.none() | st.builds(InterceptResend,
       fraction=probabilities(), p_z=probabilities()), seed=seeds())
@settings(max_examples=12)
def test_simulation_matches_the_closed_forms_of_loss_noise_and_attack(params, ch, eve, seed):
    """Detection rate, per-basis QBER and Eve's agreement match docs/conventions.md A1/C.8."""
    bb84 = BB84(**params)
    r = bb84.run(ch, rounds=ROUNDS, seed=seed, eavesdropper=eve)
    assert_matches_expected(r, bb84.expected(ch, eavesdropper=eve))


@given(params=bb84_params(), ch=channels(max_depolarisation=1.0))
def test_invariant6_key_rate_is_non_negative_and_below_plob(params, ch):
    """Invariant 6 [FORMULA]: 0 <= R <= -log2(1 - eta)."""
    rate = BB84(**params).expected(ch)["key_rate"]
    eta = ch.total_transmittance
    plob = math.inf if eta >= 1 else -math.log2(1 - eta)
    assert 0.0 <= rate <= plob


@given(params=bb84_params(), ch=channels(max_depolarisation=0.3, max_noise_click=0.01), eta=probabilities())
def test_invariant7_key_rate_non_decreasing_in_transmittance(params, ch, eta):
    """Invariant 7 [FORMULA]: max(R, 0) is non-decreasing in eta."""
    bb84 = BB84(**params)
    lo, hi = sorted([ch.transmittance, eta])
    assert bb84.expected(ch.replace(transmittance=lo))["key_rate"] <= \
        bb84.expected(ch.replace(transmittance=hi))["key_rate"] + 1e-15


@given(qber=probabilities(max_value=0.5))
def test_invariant13_single_photon_rate_positive_iff_qber_below_11_percent(qber):
    """Invariant 13 [FORMULA]: with f_EC = 1, R > 0 iff E < 0.1100."""
    rate = BB84(f_ec=1.0).expected(Channel.from_qber(qber))["key_rate"]
    if abs(qber - 0.110028) > 1e-5:
        assert (rate > 0) == (qber < 0.110028)


def test_invariant13_thresholds_for_both_f_ec():
    assert BB84(f_ec=1.0).expected(Channel.from_qber(0.1099))["key_rate"] > 0
    assert BB84(f_ec=1.0).expected(Channel.from_qber(0.1101))["key_rate"] == 0
    assert BB84(f_ec=1.16).expected(Channel.from_qber(0.0980))["key_rate"] > 0
    assert BB84(f_ec=1.16).expected(Channel.from_qber(0.0982))["key_rate"] == 0


def test_measured_key_rate_interval_contains_the_closed_form_and_respects_plob():
    ch = Channel(transmittance=0.1, depolarisation=0.04, noise_click=1e-4)
    bb84 = BB84()
    r = bb84.run(ch, rounds=400_000, seed=8)
    assert r.key_rate.contains(bb84.expected(ch)["key_rate"])
    assert 0 < r.key_rate.best < r.plob_min_eta


def test_same_seed_same_result():
    ch = Channel(transmittance=0.3, depolarisation=0.05, noise_click=0.01)
    assert_reproducible(lambda seed: BB84(p_z=0.8).run(ch, rounds=5000, seed=seed,
                                                         eavesdropper="intercept-resend:0.3"))
    a = BB84().sample(ch, rounds=3000, seed=5)
    b = BB84().sample(ch, rounds=3000, seed=5)
    assert all(np.array_equal(getattr(a, f), getattr(b, f)) for f in
               ("alice_bit", "bob_bit", "alice_setting", "bob_setting", "detected"))
    assert BB84().run(ch, rounds=5000, seed=1) != BB84().run(ch, rounds=5000, seed=2)


def test_registered_and_biased_bases_keep_key_mostly_in_z():
    r = get_protocol("bb84", p_z=0.9).run(Channel(depolarisation=0.02), rounds=20_000, seed=3)
    assert r.counts.sifted_z > 8 * r.counts.sifted_x
    assert r.parameters == {"p_z": 0.9, "f_ec": 1.16}


def test_lost_rounds_never_reach_the_circuits():
    record = BB84().sample(Channel(transmittance=0.0), rounds=1000, seed=1)
    assert not record.detected.any()
    r = BB84().run(Channel(transmittance=0.0), rounds=1000, seed=1)
    assert r.counts.detected == 0 and r.key_rate.best == 0.0 and r.plob_min_eta == 0.0


def test_eve_agreement_is_only_stated_when_eve_attacks_some_rounds():
    """``eve_agreement`` is a probability on attacked sifted rounds: with an intercept-resend
    eavesdropper of fraction 0 there are none, so expected() has no such entry (and the rest is
    the no-eavesdropper closed form); with fraction 0.3 and her own basis bias p_E = 0.8 on BB84
    with p_Z = 0.7 it is p + (1 - p)/2, p = (0.49 * 0.8 + 0.09 * 0.2) / 0.58 (kills the condition
    ``eavesdropper is not None and f > 0`` turned into ``or`` or ``f >= 0``)."""
    ch = Channel(transmittance=0.6, depolarisation=0.04)
    proto = BB84(p_z=0.7)
    none = proto.expected(ch, eavesdropper=InterceptResend(fraction=0.0, p_z=0.8))
    assert "eve_agreement" not in none
    assert none == proto.expected(ch)
    some = proto.expected(ch, eavesdropper=InterceptResend(fraction=0.3, p_z=0.8))
    p = (0.49 * 0.8 + 0.09 * 0.2) / 0.58
    assert math.isclose(some["eve_agreement"], p + (1 - p) / 2, rel_tol=1e-12)
