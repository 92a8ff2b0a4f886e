"""GHZ conference key: tests for mutation survivors of the fifth run (TESTING.md). Expected values
are written here from docs/conventions.md A7 by other routes (enumeration, hand formulas)."""

import dataclasses
import itertools

import numpy as np
import pytest
from _reference import h2

from qproto import Channel, get_protocol
from qproto.protocols._ghz_cka import dephase, ghz_local_depolarising_errors


def _link_rates_by_hand(p, p_key, det=None):
    """Bipartite link rates p_key P_A P_i [1 - 2 h(Q_i)], Q_i = [1 - (1 - p_A)(1 - p_i)]/2, for Bobs
    i >= 1 over unrotated depolarising channels (conventions A3, A7); det the click probabilities."""
    det = [1.0] * len(p) if det is None else det
    return [p_key * det[0] * det[i] * (1 - 2 * h2((1 - (1 - p[0]) * (1 - p[i])) / 2)) for i in range(1, len(p))]


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
    rates = _link_rates_by_hand(p, 0.8)
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


def test_conference_key_fraction_counts_error_rates_above_half_as_half():
    """An error rate above 1/2 leaves no key (its entropy is capped at h(1/2) = 1), in Q_X and in any
    Q_AB. catches: the caps moved above 1/2 (h(0.7) = 0.88 would leave key)."""
    from qproto.protocols._ghz_cka import conference_key_fraction

    assert conference_key_fraction(0.7, [0.0]) == 0.0
    assert conference_key_fraction(0.0, [0.0, 0.7]) == 0.0
    assert conference_key_fraction(0.05, [0.02]) == pytest.approx(1 - h2(0.05) - h2(0.02), abs=1e-12)


def test_bipartite_rate_by_hand_with_a_noisier_alice():
    """bipartite_conference_rate over unrotated depolarising channels, Alice the noisiest party:
    min over Bobs i >= 1 of p_key P_A P_i [1 - 2 h(Q_i)], Q_i = [1 - (1 - p_A)(1 - p_i)]/2, over
    N - 1; p_key defaults to 1. catches: Alice paired with herself or Bob 1 with each Bob, the error
    rates scaled, the default p_key changed."""
    from qproto.protocols._ghz_cka import bipartite_conference_rate

    p = [0.08, 0.02, 0.03]
    chans = [Channel(depolarisation=x, transmittance=t) for x, t in zip(p, (0.9, 0.8, 0.7))]
    links = _link_rates_by_hand(p, 1.0, det=(0.9, 0.8, 0.7))
    assert bipartite_conference_rate(chans) == pytest.approx(min(links) / 2, rel=1e-12)
    assert bipartite_conference_rate(chans, p_key=0.3) == pytest.approx(0.3 * min(links) / 2, rel=1e-12)


def test_result_estimates_keep_confidence_p_key_and_the_no_key_rule():
    """estimates(): the worst Bob's QBER interval with its own ends and the result's confidence;
    `bipartite_rate` with the run's p_key; `key_fraction` 0 when no key round happened; all Bobs
    agree with Alice in every key round over noiseless channels. catches: confidence or an end
    dropped, p_key dropped, the no-key guard needing both rates unknown, all_equal counting
    disagreements."""
    p = [0.02, 0.05, 0.08]
    chans = [Channel(depolarisation=x) for x in p]
    res = dataclasses.replace(get_protocol("ghz-cka", parties=3, p_key=0.8).run(chans, rounds=3000, seed=5),
                              confidence=0.9)
    est = res.estimates()
    assert res.counts["errors_ab"][1] > res.counts["errors_ab"][0]  # Bob 2 (p = 0.08) is the worst
    worst = est["qber_ab_2"]
    assert (est["qber_ab_max"].low, est["qber_ab_max"].high, est["qber_ab_max"].confidence) == (
        worst.low, worst.high, 0.9)
    rates = _link_rates_by_hand(p, 0.8)
    assert est["bipartite_rate"] == pytest.approx(min(rates) / 2, rel=1e-12)
    none = get_protocol("ghz-cka", parties=3, p_key=0.02).run([Channel(depolarisation=0.05)] * 3, rounds=40, seed=3)
    assert none.estimates()["key_fraction"] == 0.0
    clean = get_protocol("ghz-cka", parties=4).run([Channel()] * 4, rounds=400, seed=1)
    assert clean.c("all_equal") == clean.c("key_rounds") > 100


def test_count_shapes_follow_the_recorded_parties_or_else_the_counts():
    """A result's Alice-Bob error tally has one entry per Bob: refused when it disagrees with the
    recorded number of parties; inferred from the tally when no party count is recorded.
    catches: the recorded parties not read (every length accepted), the inference off by one."""
    from qproto import InvalidParameter

    res = get_protocol("ghz-cka", parties=3).run([Channel(depolarisation=0.05)] * 3, rounds=300, seed=1)
    wrong = {**res.counts, "errors_ab": (*res.counts["errors_ab"], 0)}
    with pytest.raises(InvalidParameter):
        dataclasses.replace(res, counts=wrong)
    params = {k: v for k, v in res.parameters.items() if k != "parties"}
    inferred = dataclasses.replace(res, parameters=params)
    assert inferred.count_shapes()["errors_ab"] == 2


@pytest.mark.parametrize("axis", [(0, 0, 1), (1, 0, 0)])
def test_a_link_with_one_basis_fully_flipped_has_no_bipartite_key(axis):
    """A pi rotation about z flips every X outcome (E_X = 1, E_Z = 0), one about x every Z outcome:
    either error rate counts as 1/2 (h = 1) and the link, so the conference, has no key.
    catches: a cap above 1/2 in either basis (h(1) = 0 would give a full bit)."""
    from qproto.protocols._ghz_cka import bipartite_conference_rate

    flipped = Channel(rotation_rad=np.pi, rotation_axis=axis)
    assert bipartite_conference_rate([Channel(), flipped]) == pytest.approx(0.0, abs=1e-12)
    assert bipartite_conference_rate([Channel(), Channel()]) == pytest.approx(1.0, abs=1e-12)


def test_key_rounds_happen_with_probability_p_key():
    """A round is a key round with probability p_key (0.8 here, not 1/2 where both readings agree).
    catches: the key/test choice inverted (key rounds with probability 1 - p_key)."""
    from qproto.testing import assert_proportion

    res = get_protocol("ghz-cka", parties=3, p_key=0.8).run([Channel()] * 3, rounds=4000, seed=2)
    assert_proportion(res.c("key_rounds"), 4000, 0.8, what="key rounds")


def test_noise_clicks_read_random_bits_so_the_error_rates_match_the_closed_forms():
    """With lossy channels and dark counts, a party whose click came from noise alone reads a random
    bit (docs/conventions.md A0): the Alice-Bob and parity error rates then match expected()'s closed
    forms within 5 sigma; asymmetric parties. catches: noise-only clicks left with the circuit's bits
    (error rates far below the closed forms)."""
    from qproto.testing import assert_proportion

    chans = [Channel(transmittance=0.3, noise_click=0.1, depolarisation=0.02),
             Channel(transmittance=0.5, noise_click=0.05), Channel(depolarisation=0.05)]
    proto = get_protocol("ghz-cka", parties=3)
    res = proto.run(chans, rounds=60_000, seed=4)
    exp = proto.expected(chans)
    for i in (1, 2):
        assert_proportion(res.counts["errors_ab"][i - 1], res.c("key_rounds"), exp[f"qber_ab_{i}"], what=f"Q_AB_{i}")
    assert_proportion(res.c("parity_errors"), res.c("test_rounds"), exp["qber_x"], what="Q_X")
    assert exp["qber_ab_1"] > 0.1  # the noise clicks matter here


def test_an_eavesdropper_without_a_closed_form_and_a_non_fast_form_are_refused_with_their_values():
    """catches: the refused eavesdropper or form missing from the error, or the allowed text lost."""
    from qproto import InterceptResend, InvalidParameter

    class Tailored(InterceptResend):
        """A subclass: not the attack the closed forms describe."""

    eve = Tailored(fraction=0.5)
    proto = get_protocol("ghz-cka", parties=3)
    with pytest.raises(InvalidParameter) as err:
        proto.expected([Channel()] * 3, eavesdropper=eve)
    assert (err.value.name, err.value.value, err.value.allowed) == ("eavesdropper", eve, "one of ['InterceptResend']")
    with pytest.raises(InvalidParameter) as err:
        proto.build_circuits(form="erasure")
    assert (err.value.name, err.value.value, err.value.allowed) == ("form", "erasure", "'fast'")


def test_party_observable_is_the_heisenberg_image_through_a_general_rotation():
    """A party's measured Pauli, pulled back through its channel, is (1 - p_eff) U^dag sigma_b U
    for the channel's unitary U, computed here with matrices (axis with three nonzero components).
    catches: a wrong entry of the Rodrigues cross-product matrix."""
    from qproto.protocols._ghz_cka import party_observable

    sig = {"X": np.array([[0, 1], [1, 0]]), "Y": np.array([[0, -1j], [1j, 0]]), "Z": np.diag([1.0, -1.0])}
    ch = Channel(depolarisation=0.1, rotation_rad=0.9, rotation_axis=(0.3, -0.5, 0.8))
    u = ch.unitary
    v = 1 - ch.effective_depolarisation
    for b in "XYZ":
        pulled = u.conj().T @ sig[b] @ u
        want = [0.0] + [v * float(np.real(np.trace(pulled @ sig[k]))) / 2 for k in "XYZ"]
        np.testing.assert_allclose(party_observable(ch, b), want, atol=1e-12)


def test_constructor_ranges_defaults_circuits_and_the_readout_refusal():
    """p_key lies in the open interval (0, 1); the attacked party defaults to the last; without an
    eavesdropper there are two circuits (Z and X rounds) named by size, branch and basis; the
    readout form refuses a rotated channel naming noise_form, its value and the alternative.
    catches: p_key = 0 accepted, another default party, circuits for a second (unused) branch,
    names lost, values dropped from the refusal."""
    from qproto import InvalidParameter

    for bad in (0.0, 1.0):
        with pytest.raises(InvalidParameter) as err:
            get_protocol("ghz-cka", p_key=bad)
        assert (err.value.name, err.value.value) == ("p_key", bad)
    assert get_protocol("ghz-cka", parties=5).attacked_party == 4
    circuits = get_protocol("ghz-cka", parties=3).build_circuits()
    assert [c.name for c in circuits] == ["ghz3_e0_Z", "ghz3_e0_X"]
    proto = get_protocol("ghz-cka", parties=3, noise_form="readout")
    rotated = [Channel(rotation_rad=0.3)] * 3
    with pytest.raises(InvalidParameter) as err:
        proto.noise_model(tuple(rotated))
    assert (err.value.name, err.value.value, err.value.allowed) == (
        "noise_form", "readout", "'depolarising' for rotated channels")
