"""Quantum secret sharing: HBB99 and ((3,5)) threshold sharing (docs/conventions.md A8, invariants 32-35)."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from qiskit.quantum_info import Statevector, partial_trace, random_statevector

from qproto import Channel, Engine, InvalidParameter, InvalidType, get_protocol
from qproto.protocols._multiparty import ghz_prefix
from qproto.protocols._secret_sharing import XYInterceptResend, five_qubit_code_states
from qproto.testing import assert_matches_expected, assert_proportion, assert_round_trip, seeds


def _hbb_probs(n, channel=Channel()):
    p = get_protocol("hbb-secret-sharing", parties=n)
    return p, Engine().compile(p.build_circuits(), p.noise_model((channel,) * n)).probabilities


@pytest.mark.parametrize("n", [3, 4, 5])
def test_32_half_valid_and_exact_reconstruction(n):
    _, probs = _hbb_probs(n)
    codes = np.arange(2**n)
    bits = (codes[:, None] >> np.arange(n)) & 1
    valid = [m for m in range(2**n) if bin(m).count("1") % 2 == 0]
    assert len(valid) * 2 == 2**n
    for m in valid:
        y = bin(m).count("1")
        recon = np.bitwise_xor.reduce(bits[:, 1:], axis=1) ^ ((y // 2) & 1)
        assert probs[m][recon != bits[:, 0]].sum() == pytest.approx(0.0, abs=1e-9)


def test_32_sampled_noiseless_valid_rounds_never_err():
    r = get_protocol("hbb-secret-sharing", parties=5).run(Channel(), rounds=20_000, seed=4)
    assert r.c("valid_errors") == 0 and r.c("valid") > 9000
    assert_proportion(r.c("valid"), r.c("detected"), 0.5, what="valid fraction")


@pytest.mark.parametrize("n", [3, 4, 6])
def test_33_single_player_learns_nothing_exact(n):
    ghz = Statevector(ghz_prefix(n, markers=False).remove_final_measurements(inplace=False))
    for j in range(n):
        rho = partial_trace(ghz, [q for q in range(n) if q != j])
        np.testing.assert_allclose(rho.data, np.eye(2) / 2, atol=1e-12)
    _, probs = _hbb_probs(n)
    bits = (np.arange(2**n)[:, None] >> np.arange(n)) & 1
    for m in range(2**n):
        for i in range(1, n):
            assert probs[m][bits[:, i] == bits[:, 0]].sum() == pytest.approx(0.5, abs=1e-9)


def test_34_invalid_combinations_agree_half_the_time():
    r = get_protocol("hbb-secret-sharing", parties=3).run(Channel(), rounds=20_000, seed=8)
    assert_proportion(r.c("invalid_agree"), r.c("invalid"), 0.5, what="P(a = b xor c), invalid rounds")


@settings(max_examples=5)
@given(n=st.integers(3, 5), p=st.floats(0.01, 0.3), seed=seeds(), data=st.data())
def test_noisy_error_rate_matches_formula(n, p, seed, data):
    """docs/conventions.md A8: error on valid rounds [1 - prod_j (1-p_j)]/2 with each party's own p_j, the
    dealer's included (formula written here), every party's channel different and noise clicks on.

    catches: the dealer's channel left out (of the circuits or of the formula), one party's noise
    used for another, noise-only clicks not randomising the bit."""
    order = data.draw(st.permutations(range(n)))  # the dealer is not always the quietest
    chans = [Channel(depolarisation=p * (order[j] + 1) / n, transmittance=0.7 + 0.05 * j, noise_click=0.01)
             for j in range(n)]
    v = np.prod([1 - c.effective_depolarisation for c in chans])
    proto = get_protocol("hbb-secret-sharing", parties=n)
    r = proto.run(chans, rounds=20_000, seed=seed)
    x = proto.expected(chans)
    assert x["error_rate"] == pytest.approx((1 - v) / 2, abs=1e-12)
    assert_proportion(r.c("valid_errors"), r.c("valid"), (1 - v) / 2, what="HBB error")
    assert_proportion(r.c("detected"), r.rounds, np.prod([c.detection_probability for c in chans]), what="P_all")


def test_dealer_noise_enters_the_error_exactly():
    """Exact distributions, dealer noisy and every party different, p = (0.3, 0.05, 0.1): the error on
    every valid basis combination is [1 - 0.7 x 0.95 x 0.9]/2 = 0.20075 (hand number); with only the
    dealer noisy (p_0 = 0.3) it is 0.15 = p_0/2.

    catches: the dealer's channel marker missing (0.0725 instead of 0.20075; 0 instead of 0.15), the
    dealer's p_0 left out of expected() (invariant 32 with noise)."""
    for p, want in (((0.3, 0.05, 0.1), 0.20075), ((0.3, 0.0, 0.0), 0.15)):
        chans = [Channel(depolarisation=x) for x in p]
        proto = get_protocol("hbb-secret-sharing", parties=3)
        probs = proto.prepare(chans)[2].probabilities
        bits = (np.arange(8)[:, None] >> np.arange(3)) & 1
        for ymask in (0b000, 0b011, 0b101, 0b110):
            n_y = bin(ymask).count("1")
            recon = bits[:, 1] ^ bits[:, 2] ^ ((n_y // 2) & 1)
            assert probs[ymask][recon != bits[:, 0]].sum() == pytest.approx(want, abs=1e-9), (p, ymask)
        assert proto.expected(chans)["error_rate"] == pytest.approx(want, abs=1e-12)


def test_hbb_rotated_channels_sampled_run_matches_expected():
    """A sampled run with rotated, asymmetric channels (dealer included) and an X/Y attack matches
    expected() (itself checked against the density-matrix reference in test_multiparty_reference.py).

    catches: Y measured as -Y (s instead of sdg), an attack applied after the channel, the
    run's bookkeeping of valid/invalid rounds or of the (-1)^{#Y/2} sign."""
    chans = [Channel(depolarisation=0.05, rotation_rad=0.6, rotation_axis=(0, 1, 1)),
             Channel(depolarisation=0.1, transmittance=0.8, rotation_rad=0.3),
             Channel(depolarisation=0.02, transmittance=0.9, noise_click=0.02, rotation_rad=1.1,
                     rotation_axis=(1, 0, 0))]
    eve = XYInterceptResend(fraction=0.3, p_x=0.75)
    proto = get_protocol("hbb-secret-sharing", parties=3, attacked_party=1)
    r = proto.run(chans, rounds=30_000, seed=21, eavesdropper=eve)
    assert_matches_expected(r, proto.expected(chans, eavesdropper=eve),
                            keys=["error_rate", "invalid_agreement", "valid_fraction", "detection_rate"])


@pytest.mark.parametrize("eve, expected", [(XYInterceptResend(), 0.25), ("intercept-resend", 0.375),
                                           (XYInterceptResend(fraction=0.4), 0.1)])
def test_dishonest_player_intercept_resend_raises_error(eve, expected):
    proto = get_protocol("hbb-secret-sharing", parties=3)
    r = proto.run(Channel(), rounds=20_000, seed=2, eavesdropper=eve)
    assert proto.expected(Channel(), eavesdropper=eve)["error_rate"] == pytest.approx(expected)
    assert_proportion(r.c("valid_errors"), r.c("valid"), expected, what="error under attack")


def test_hbb_per_player_agreements_are_proportions_that_add():
    """Invariant 33 per player: P(b_i = a) is a proportion for every player i and adds over merged
    runs; the displayed max over players carries no counts (the argmax can move between runs).

    catches: the merge invariant broken by an argmax-selected tally reported as a proportion."""
    proto = get_protocol("hbb-secret-sharing", parties=4)
    a = proto.run(Channel(depolarisation=0.1), rounds=4000, seed=1)
    b = proto.run(Channel(depolarisation=0.1), rounds=4000, seed=2)
    pa, pb, pm = a.proportions(), b.proportions(), (a + b).proportions()
    assert "single_player_agreement" not in pa
    assert {f"single_player_agreement_{i}" for i in (1, 2, 3)} <= set(pa)
    for k in pa:
        assert pm[k] == (pa[k][0] + pb[k][0], pa[k][1] + pb[k][1])
    assert_matches_expected(a + b, proto.expected(Channel(depolarisation=0.1)))


def test_hbb_round_trip():
    r = get_protocol("hbb-secret-sharing", parties=4).run(Channel(depolarisation=0.1), rounds=2000, seed=1)
    assert_round_trip(r)


# ---- ((3,5)) ------------------------------------------------------------------------
@settings(max_examples=10)
@given(seed=st.integers(0, 2**31))
def test_35_two_shares_are_maximally_mixed_for_any_secret(seed):
    t = get_protocol("threshold-sharing")
    secret = random_statevector(2, seed=seed)
    for pair in itertools.combinations(range(5), 2):
        np.testing.assert_allclose(t.share_state(secret, pair).data, np.eye(4) / 4, atol=1e-12)


def test_35_three_shares_distinguish_logical_states():
    t = get_protocol("threshold-sharing")
    for trio in itertools.combinations(range(5), 3):
        r0 = t.share_state(np.array([1, 0]), trio).data
        r1 = t.share_state(np.array([0, 1]), trio).data
        trace_distance = 0.5 * np.abs(np.linalg.eigvalsh(r0 - r1)).sum()
        assert trace_distance == pytest.approx(1.0, abs=1e-9)


@settings(max_examples=10)
@given(seed=st.integers(0, 2**31))
def test_any_three_shares_recover_an_arbitrary_secret(seed):
    t = get_protocol("threshold-sharing")
    secret = random_statevector(2, seed=seed)
    for trio in t.subsets:
        assert t.recovery_fidelity(secret, trio) == pytest.approx(1.0, abs=1e-9)


def test_five_qubit_code_is_a_code():
    zero, one = five_qubit_code_states()
    assert abs(np.vdot(zero, one)) < 1e-12 and np.linalg.norm(zero) == pytest.approx(1.0)


def test_threshold_run_noiseless_and_noisy():
    t = get_protocol("threshold-sharing")
    r = t.run(Channel(), rounds=5000, seed=1)
    assert sum(r.counts["success"]) == sum(r.counts["recovered"]) == 5000
    ch = Channel(depolarisation=0.1, transmittance=0.6)
    r = t.run(ch, rounds=20_000, seed=2)
    x = t.expected(ch)
    assert_proportion(sum(r.counts["success"]), sum(r.counts["recovered"]), x["fidelity"], what="fidelity")
    assert_proportion(sum(r.counts["recovered"]), r.rounds, x["detection_rate"], what="k shares arrive")
    assert_round_trip(r)


def test_threshold_asymmetric_rotated_run_matches_expected():
    """A sampled run with five different shares' channels (rotations, noise clicks, losses) matches
    the closed form, whose per-configuration values the reference checks exactly
    (test_multiparty_reference.py).

    catches: rounds counted when a pooled share is lost, subsets drawn non-uniformly, noise-only
    clicks ignored, the success tally reading the wrong outcome."""
    chans = [Channel(depolarisation=0.02 * (j + 1), transmittance=0.5 + 0.1 * j, noise_click=0.005 * j,
                     rotation_rad=0.25 * j, rotation_axis=(j % 2, 1, 0.5)) for j in range(5)]
    t = get_protocol("threshold-sharing")
    r = t.run(chans, rounds=20_000, seed=7)
    assert_matches_expected(r, t.expected(chans), keys=["fidelity", "detection_rate"])


def test_threshold_expected_is_a_closed_form_with_hand_values():
    """Local depolarising p on every share: the recovered qubit's fidelity is a polynomial in
    v = 1 - p that the closed form must reproduce at the ends (1 for v = 1; 1/2 for v = 0, every share
    maximally mixed) and it falls monotonically in between.

    catches: an expected() that ignores noise or weights configurations wrongly."""
    t = get_protocol("threshold-sharing")
    assert t.expected(Channel())["fidelity"] == pytest.approx(1.0, abs=1e-12)
    assert t.expected(Channel(depolarisation=1.0))["fidelity"] == pytest.approx(0.5, abs=1e-12)
    fs = [t.expected(Channel(depolarisation=p))["fidelity"] for p in np.linspace(0, 1, 6)]
    assert all(a > b for a, b in zip(fs, fs[1:]))


@pytest.mark.parametrize("kwargs, name", [
    ({"k": 4, "n": 3}, "k"), ({"k": 2, "n": 4}, "n"), ({"k": 3, "n": 6}, "n"), ({"k": 2, "n": 3}, "k"),
    ({"k": 0, "n": 5}, "k"), ({"k": 3, "n": 2.5}, "n"),
])
def test_threshold_bad_k_n(kwargs, name):
    with pytest.raises((InvalidParameter, InvalidType)) as info:
        get_protocol("threshold-sharing", **kwargs)
    assert info.value.name == name


@pytest.mark.parametrize("kwargs, name", [
    ({"parties": 2}, "parties"), ({"parties": 9}, "parties"), ({"parties": 3, "attacked_party": 0}, "attacked_party"),
])
def test_hbb_bad_inputs(kwargs, name):
    with pytest.raises(InvalidParameter) as info:
        get_protocol("hbb-secret-sharing", **kwargs)
    assert info.value.name == name
