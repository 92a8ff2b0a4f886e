"""GHZ conference key agreement: docs/conventions.md A7 and invariants 28-31."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from qiskit_aer import AerSimulator
from scipy import stats

from _reference import h2
from qproto import Channel, Engine, InterceptResend, InvalidParameter, InvalidType, get_protocol
from qproto.cli import main
from qproto.protocols._ghz_cka import bipartite_conference_rate, conference_key_fraction
from qproto.protocols._multiparty import tally
from qproto.testing import assert_matches_expected, assert_proportion, assert_round_trip, seeds


def _probs(protocol, channels, form, eve=None):
    """Exact outcome distributions of every configuration (the engine's distribution path)."""
    p = get_protocol("ghz-cka", parties=protocol.parties, attacked_party=protocol.attacked_party, noise_form=form)
    return Engine(mode="distribution").compile(p.build_circuits(eavesdropper=eve),
                                               p.noise_model(tuple(channels), eavesdropper=eve)).probabilities


def _marginals(probs_row, n):
    """(P(z_0 != z_i) for i >= 1, P(parity odd)) from a distribution over n clbits."""
    codes = np.arange(probs_row.size)
    bits = (codes[:, None] >> np.arange(n)) & 1
    q_ab = [(probs_row * (bits[:, 0] != bits[:, i])).sum() for i in range(1, n)]
    return np.array(q_ab), float((probs_row * (bits.sum(axis=1) % 2)).sum())


@pytest.mark.parametrize("n", [2, 3, 5, 8])
def test_28_noiseless_z_outcomes_identical_and_uniform_exact(n):
    probs = _probs(get_protocol("ghz-cka", parties=n), [Channel()] * n, "depolarising")[0]
    assert probs[0] == pytest.approx(0.5, abs=1e-9) and probs[-1] == pytest.approx(0.5, abs=1e-9)
    assert probs[1:-1].sum() == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("n", [3, 8])
def test_29_noiseless_x_parity_even_exact(n):
    probs = _probs(get_protocol("ghz-cka", parties=n), [Channel()] * n, "depolarising")[1]
    _, odd = _marginals(probs, n)
    assert odd == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("n", [50, 200])
def test_28_29_noiseless_large_n_on_stabilizer_path(n):
    p = get_protocol("ghz-cka", parties=n)
    rec = p.sample(Channel(), rounds=600, seed=n)
    key = rec.basis == 0
    kb = rec.bits[key]
    assert np.all(kb == kb[:, :1])                                  # 28: identical every shot
    assert_proportion(int(kb[:, 0].sum()), int(key.sum()), 0.5, what="P(all 1)")
    assert np.all(np.bitwise_xor.reduce(rec.bits[~key], axis=1) == 0)  # 29


@settings(max_examples=8)
@given(p=st.lists(st.floats(0.0, 0.6), min_size=2, max_size=6, unique=True))
def test_30_local_depolarising_formulas_exact(p):
    """Invariant 30, exactly: the circuits' distributions give Q_AB_i = [1-(1-p_A)(1-p_i)]/2 and
    Q_X = [1-prod_j(1-p_j)]/2 with every party's p_j different (formulas written here, docs/conventions.md A7).

    catches: Alice's channel missing or applied to a Bob, one Bob's noise applied to another."""
    n = len(p)
    chans = [Channel(depolarisation=x) for x in p]
    probs = _probs(get_protocol("ghz-cka", parties=n), chans, "depolarising")
    q_ab, _ = _marginals(probs[0], n)
    _, q_x = _marginals(probs[1], n)
    np.testing.assert_allclose(q_ab, [(1 - (1 - p[0]) * (1 - x)) / 2 for x in p[1:]], atol=1e-9)
    assert q_x == pytest.approx((1 - np.prod([1 - x for x in p])) / 2, abs=1e-9)


@settings(max_examples=6)
@given(p=st.lists(st.floats(0.0, 4 / 3), min_size=2, max_size=5, unique=True), k=st.integers(0, 4),
       p_z=st.sampled_from([0.0, 0.2, 0.85, 1.0]))
def test_readout_form_equals_depolarising_form_exact(p, k, p_z):
    """docs/conventions.md C.8(c): noise_form="readout" (Aer ReadoutError, flip p_j/2, no channel markers) gives
    exactly the distributions of noise_form="depolarising" (depolarizing_error on the markers), every
    configuration including an intercept-resend's branches, both through the engine's exact path.

    catches: a readout flip of p instead of p/2, a readout error on the wrong qubit (or on Eve's
    ancilla), readout errors ignored by the engine's distribution path, Eve placed after the channel
    in one form only."""
    n = len(p)
    chans = [Channel(depolarisation=x) for x in p]
    proto = get_protocol("ghz-cka", parties=n, attacked_party=k % n)
    eve = InterceptResend(fraction=0.6, p_z=p_z)
    for e in (None, eve):
        readout = _probs(proto, chans, "readout", e)
        depol = _probs(proto, chans, "depolarising", e)
        np.testing.assert_allclose(readout, depol, atol=1e-9)


@pytest.mark.parametrize("basis", [0, 1])
def test_readout_form_on_aer_matches_depolarising_distribution(basis):
    """Aer's ReadoutError on the stabilizer method samples the exact depolarising distribution (G-test)."""
    n = 5
    p = [0.05, 0.1, 0.2, 0.3, 0.4]
    chans = tuple(Channel(depolarisation=x) for x in p)
    exact = _probs(get_protocol("ghz-cka", parties=n), chans, "depolarising")[basis]
    ro = get_protocol("ghz-cka", parties=n, noise_form="readout")
    circuit = ro.build_circuits()[basis]
    shots = 40_000
    counts = AerSimulator(method="stabilizer", noise_model=ro.noise_model(chans)).run(
        circuit, shots=shots, seed_simulator=11).result().get_counts()
    observed = np.zeros(2**n)
    for k, v in counts.items():
        observed[int(k, 2)] = v
    keep = exact > 0
    assert observed[~keep].sum() == 0
    g = stats.power_divergence(observed[keep], exact[keep] * shots, lambda_="log-likelihood")
    assert g.pvalue > 1e-6


@settings(max_examples=5)
@given(n=st.integers(2, 6), p=st.floats(0.0, 0.4), t=st.floats(0.3, 1.0), seed=seeds())
def test_30_sampled_errors_match_formulas(n, p, t, seed):
    chans = [Channel(depolarisation=p * (j + 1) / n, transmittance=t, noise_click=1e-3) for j in range(n)]
    proto = get_protocol("ghz-cka", parties=n)
    r = proto.run(chans, rounds=20_000, seed=seed)
    x = proto.expected(chans)
    for e, q in zip(r.counts["errors_ab"], x["qber_ab"]):
        assert_proportion(e, r.c("key_rounds"), q, what="Q_AB_i")
    assert_proportion(r.c("parity_errors"), r.c("test_rounds"), x["qber_x"], what="Q_X")
    assert_proportion(r.c("key_rounds") + r.c("test_rounds"), r.rounds, x["detection_rate"], what="P_all")


def test_readout_path_large_n_matches_formulas():
    """The stabilizer path (30 parties, readout form) with every party's noise different, against the
    A7 formulas written here. catches: readout noise on the wrong parties, p vs p/2 flips."""
    n = 30
    p = [0.004 * j for j in range(n)]
    chans = [Channel(depolarisation=x) for x in p]
    proto = get_protocol("ghz-cka", parties=n)
    assert proto._form(None) == "readout"
    r = proto.run(chans, rounds=4000, seed=5)
    for i, e in enumerate(r.counts["errors_ab"], start=1):
        assert_proportion(e, r.c("key_rounds"), (1 - (1 - p[0]) * (1 - p[i])) / 2, what=f"Q_AB_{i}")
    assert_proportion(r.c("parity_errors"), r.c("test_rounds"), (1 - np.prod([1 - x for x in p])) / 2, what="Q_X")


def test_intercept_resend_on_one_party_gives_quarter():
    proto = get_protocol("ghz-cka", parties=4, attacked_party=2)
    r = proto.run(Channel(), rounds=20_000, seed=3, eavesdropper="intercept-resend")
    assert_proportion(r.counts["errors_ab"][1], r.c("key_rounds"), 0.25, what="Q_AB_k")
    assert_proportion(r.counts["errors_ab"][0], r.c("key_rounds"), 0.0, what="Q_AB_1")
    assert_proportion(r.c("parity_errors"), r.c("test_rounds"), 0.25, what="Q_X")
    assert_proportion(r.c("eve_correct"), r.c("eve_rounds"), 0.75, what="Eve's agreement")
    assert r.estimates()["key_rate"].best == 0.0


@pytest.mark.parametrize("k", [0, 2])
def test_biased_intercept_resend_on_a_chosen_party_with_asymmetric_channels(k):
    """A biased attack (f = 0.8, p_z = 0.85) on party k, every party's channel different: the hand
    formulas (docs/conventions.md A7 extended by the attack branches: Z keeps the Z correlation of pairs with
    k and kills the X parity, X the reverse) hold in the closed form and in a sampled run.

    catches: the attack's p_z and 1 - p_z swapped, the attack on a party other than k, an attack on
    Alice (k = 0) that spares the pairs (A, i), Eve's agreement without Alice's noise."""
    p = [0.02, 0.06, 0.10, 0.04]
    f, p_z = 0.8, 0.85
    v = [1 - x for x in p]
    chans = [Channel(depolarisation=x) for x in p]
    eve = InterceptResend(fraction=f, p_z=p_z)
    keep_z, keep_x = 1 - f + f * p_z, 1 - f + f * (1 - p_z)  # correlation factors on qubit k
    q_ab = [(1 - v[0] * v[i] * (keep_z if k in (0, i) else 1.0)) / 2 for i in range(1, 4)]
    q_x = (1 - np.prod(v) * keep_x) / 2
    agree = p_z * (1 + v[0]) / 2 + (1 - p_z) / 2
    proto = get_protocol("ghz-cka", parties=4, attacked_party=k)
    x = proto.expected(chans, eavesdropper=eve)
    np.testing.assert_allclose(x["qber_ab"], q_ab, atol=1e-12)
    assert x["qber_x"] == pytest.approx(q_x, abs=1e-12)
    assert x["eve_agreement"] == pytest.approx(agree, abs=1e-12)
    r = proto.run(chans, rounds=20_000, seed=11 + k, eavesdropper=eve)
    for i, e in enumerate(r.counts["errors_ab"]):
        assert_proportion(e, r.c("key_rounds"), q_ab[i], what=f"Q_AB_{i + 1}")
    assert_matches_expected(r, x, keys=["qber_x", "eve_agreement", "qber_ab_1", "qber_ab_2", "qber_ab_3",
                                        "detection_rate"])


def test_z_rotation_phases_add_coherently_in_q_x():
    """Birefringent phases phi_j (rotation about z) leave Z alone but add in the X parity:
    Q_X = [1 - cos(sum phi_j) prod_j (1-p_j)]/2, Q_AB_i = [1 - (1-p_A)(1-p_i)]/2 (hand formula),
    in expected() and in the engine's exact distributions.

    catches: an expected() built from per-qubit X error rates (prod_j cos phi_j instead of cos sum),
    a rotation dropped by the noise model, a rotation applied to Z rounds."""
    p, phi = [0.03, 0.08, 0.01], [0.3, 0.5, 0.9]
    chans = [Channel(depolarisation=a, rotation_rad=b) for a, b in zip(p, phi)]
    q_x = (1 - math.cos(sum(phi)) * np.prod([1 - a for a in p])) / 2
    q_ab = [(1 - (1 - p[0]) * (1 - a)) / 2 for a in p[1:]]
    proto = get_protocol("ghz-cka", parties=3)
    x = proto.expected(chans)
    assert x["qber_x"] == pytest.approx(q_x, abs=1e-12)
    np.testing.assert_allclose(x["qber_ab"], q_ab, atol=1e-12)
    probs = _probs(proto, chans, "depolarising")
    got_ab, _ = _marginals(probs[0], 3)
    _, got_x = _marginals(probs[1], 3)
    np.testing.assert_allclose(got_ab, q_ab, atol=1e-9)
    assert got_x == pytest.approx(q_x, abs=1e-9)


def test_31_key_fraction_formula():
    assert conference_key_fraction(0.0, [0.0, 0.0]) == 1.0
    grid = np.linspace(0, 0.2, 9)
    for qx in grid:
        rs = [conference_key_fraction(qx, [qab]) for qab in grid]
        assert all(r <= 1.0 for r in rs)
        assert all(a >= b for a, b in zip(rs, rs[1:]))
    for p, r in [(0.0, 1.0), (0.05, 0.663), (0.1, 0.427), (0.2, 0.062)]:
        assert conference_key_fraction(p / 2, [p / 2, p / 2]) == pytest.approx(r, abs=1e-3)
    assert 1.0 - 2.0 * h2(0.2201 / 2) == pytest.approx(0.0, abs=1e-3)


#: Hand-computed A7 numbers for four all-different parties, p = (0.02, 0.04, 0.10, 0.06):
#: Q_AB = ([1 - .98 x .96]/2, [1 - .98 x .90]/2, [1 - .98 x .94]/2) = (0.0296, 0.059, 0.0394),
#: Q_X = [1 - .98 x .96 x .90 x .94]/2 = 0.1020416; r = 1 - h(Q_X) - max_i h(Q_AB_i)
#: = 1 - 0.475434 - 0.323462 = 0.201103 (the mean of the h(Q_AB_i) would give 0.2728).
HAND_P = (0.02, 0.04, 0.10, 0.06)
HAND_Q_AB = (0.0296, 0.059, 0.0394)
HAND_Q_X = 0.1020416
HAND_R = 0.201103


def test_key_fraction_uses_the_worst_bob_hand_computed():
    """docs/conventions.md A7: r = 1 - h(Q_X) - max_i h(Q_AB_i), with all-different parties and hand numbers,
    in conference_key_fraction, in expected() and in a result's estimates built from given tallies.

    catches: the mean (or the first, or the last) Bob's error instead of the worst one, h(Q_X)
    dropped or doubled, the key rate without p_key or P_all."""
    assert 1 - h2(HAND_Q_X) - h2(0.059) == pytest.approx(HAND_R, abs=1e-6)
    assert conference_key_fraction(HAND_Q_X, HAND_Q_AB) == pytest.approx(HAND_R, abs=1e-6)
    proto = get_protocol("ghz-cka", parties=4, p_key=0.6)
    chans = [Channel(depolarisation=x, transmittance=t) for x, t in zip(HAND_P, (0.9, 0.8, 0.7, 0.95))]
    x = proto.expected(chans)
    np.testing.assert_allclose(x["qber_ab"], HAND_Q_AB, atol=1e-12)
    assert x["qber_x"] == pytest.approx(HAND_Q_X, abs=1e-12)
    assert x["key_fraction"] == pytest.approx(HAND_R, abs=1e-6)
    assert x["key_rate"] == pytest.approx(0.6 * 0.9 * 0.8 * 0.7 * 0.95 * HAND_R, abs=1e-6)
    # A result with these error counts (worst Bob in the middle) reports the same fraction.
    counts = tally(key_rounds=10_000, test_rounds=10_000, errors_ab=[296, 590, 394], all_equal=0,
                   alice_ones=5000, parity_errors=1020, eve_rounds=0, eve_correct=0)
    res = proto.make_result(counts, channels=tuple(chans), rounds=40_000, seed=0, eavesdropper=None)
    est = res.estimates()
    assert est["key_fraction"] == pytest.approx(1 - h2(0.102) - h2(0.059), abs=1e-12)
    assert est["qber_ab_max"].best == pytest.approx(0.059)
    assert est["key_rate"].best == pytest.approx(0.25 * (1 - h2(0.102) - h2(0.059)), abs=1e-12)


def test_key_rate_and_bipartite_comparison():
    chans = [Channel(transmittance=0.5, depolarisation=0.02)] * 4
    proto = get_protocol("ghz-cka", parties=4)
    r = proto.run(chans, rounds=50_000, seed=9)
    x = proto.expected(chans)
    assert r.estimates()["key_rate"].contains(x["key_rate"])
    # Ideal links: the GHZ source gives p_key bits per use; N-1 bipartite links p_key/(N-1).
    assert bipartite_conference_rate([Channel()] * 4, p_key=0.5) == pytest.approx(0.5 / 3)
    assert proto.expected(Channel())["key_rate"] == pytest.approx(0.5)


def test_per_bob_errors_are_proportions_that_add_and_the_max_is_not():
    """Each Bob's Q_AB_i is a proportion of the run (it adds over merged runs); the displayed worst-Bob
    rate is a max over Bobs, not a proportion, so it carries no counts (merging could change the argmax).

    catches: a merge invariant broken by reporting an argmax-selected tally as a proportion."""
    proto = get_protocol("ghz-cka", parties=3)
    a = proto.run(Channel(depolarisation=0.1), rounds=3000, seed=1)
    b = proto.run(Channel(depolarisation=0.1), rounds=3000, seed=2)
    pa, pb, pm = a.proportions(), b.proportions(), (a + b).proportions()
    assert "qber_ab_max" not in pa and {"qber_ab_1", "qber_ab_2"} <= set(pa)
    for k in pa:
        assert pm[k] == (pa[k][0] + pb[k][0], pa[k][1] + pb[k][1])
    assert pa["qber_ab_2"] == (a.counts["errors_ab"][1], a.c("key_rounds"))


def test_result_round_trip_merge_and_reproducible():
    proto = get_protocol("ghz-cka", parties=3)
    a = proto.run(Channel(depolarisation=0.1), rounds=3000, seed=1)
    b = proto.run(Channel(depolarisation=0.1), rounds=3000, seed=2)
    assert_round_trip(a)
    assert proto.run(Channel(depolarisation=0.1), rounds=3000, seed=1) == a
    s = a + b
    assert s.rounds == 6000 and s.c("key_rounds") == a.c("key_rounds") + b.c("key_rounds")


def test_cli_runs_with_parties(capsys):
    assert main(["run", "ghz-cka", "--parties", "5", "--rounds", "2000", "--seed", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["parameters"]["parties"] == 5 and len(data["channels"]) == 5
    assert data["estimates"]["qber_x"]["best"] == 0.0


@pytest.mark.parametrize("kwargs, name", [
    ({"parties": 1}, "parties"), ({"parties": 2.0}, "parties"), ({"p_key": 1.0}, "p_key"),
    ({"parties": 3, "attacked_party": 3}, "attacked_party"), ({"noise_form": "x"}, "noise_form"),
])
def test_bad_inputs_name_the_parameter(kwargs, name):
    with pytest.raises((InvalidParameter, InvalidType)) as info:
        get_protocol("ghz-cka", **kwargs)
    assert info.value.name == name and name in str(info.value)


def test_wrong_number_of_channels():
    with pytest.raises(InvalidParameter, match="channel"):
        get_protocol("ghz-cka", parties=3).run([Channel()] * 2, rounds=10)


def test_rotated_channels_refuse_the_readout_form():
    """A coherent rotation has no readout equivalent: the readout form (explicit, or "auto" above 10
    qubits) refuses rotated channels naming noise_form, rather than dropping the rotation."""
    rotated = [Channel(rotation_rad=0.3)] + [Channel()] * 2
    with pytest.raises(InvalidParameter) as info:
        get_protocol("ghz-cka", parties=3, noise_form="readout").run(rotated, rounds=10, seed=1)
    assert info.value.name == "noise_form"
    with pytest.raises(InvalidParameter) as info:
        get_protocol("ghz-cka", parties=12).run([Channel(rotation_rad=0.3)] * 12, rounds=10, seed=1)
    assert info.value.name == "noise_form"
