"""GHZ conference key agreement: PHYSICS.md A7 and invariants 28-31."""

import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from qiskit_aer import AerSimulator
from scipy import stats

from qproto import Channel, Engine, InvalidParameter, InvalidType, get_protocol
from qproto.cli import main
from qproto.protocols._ghz_cka import (
    bipartite_conference_rate, conference_key_fraction, ghz_local_depolarising_errors,
)
from qproto.security import binary_entropy
from qproto.testing import assert_proportion, assert_round_trip, seeds


def _probs(protocol, channels, form):
    p = get_protocol("ghz-cka", parties=protocol.parties, noise_form=form)
    return Engine().compile(p.build_circuits(), p.noise_model(tuple(channels))).probabilities


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
@given(p=st.lists(st.floats(0.0, 0.6), min_size=2, max_size=6))
def test_30_local_depolarising_formulas_exact(p):
    """The circuits' exact distributions give Q_AB_i = [1-(1-p_A)(1-p_i)]/2 and Q_X = [1-prod(1-p_j)]/2."""
    n = len(p)
    chans = [Channel(depolarisation=x) for x in p]
    probs = _probs(get_protocol("ghz-cka", parties=n), chans, "depolarising")
    q_ab_formula, q_x_formula = ghz_local_depolarising_errors(p)
    q_ab, _ = _marginals(probs[0], n)
    _, q_x = _marginals(probs[1], n)
    np.testing.assert_allclose(q_ab, q_ab_formula, atol=1e-9)
    assert q_x == pytest.approx(q_x_formula, abs=1e-9)


@settings(max_examples=6)
@given(p=st.lists(st.floats(0.0, 1.0), min_size=2, max_size=6))
def test_readout_form_equals_local_depolarising_exact(p):
    """PHYSICS.md C.8(c): depolarising p before a Pauli measurement = symmetric flip p/2 (exact distributions)."""
    n = len(p)
    chans = [Channel(depolarisation=x) for x in p]
    depol = _probs(get_protocol("ghz-cka", parties=n), chans, "depolarising")
    ideal = _probs(get_protocol("ghz-cka", parties=n), [Channel()] * n, "depolarising")
    for cfg in range(2):
        t = ideal[cfg].reshape([2] * n)  # axis a = qubit n-1-a
        for q in range(n):
            e = p[q] / 2.0
            t = np.moveaxis(np.tensordot(np.array([[1 - e, e], [e, 1 - e]]), t, axes=([1], [n - 1 - q])), 0, n - 1 - q)
        np.testing.assert_allclose(t.ravel(), depol[cfg], atol=1e-9)


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
    n = 30
    chans = [Channel(depolarisation=0.002 * (j % 4)) for j in range(n)]
    proto = get_protocol("ghz-cka", parties=n)
    assert proto._form(None) == "readout"
    r = proto.run(chans, rounds=4000, seed=5)
    x = proto.expected(chans)
    for e, q in zip(r.counts["errors_ab"], x["qber_ab"]):
        assert_proportion(e, r.c("key_rounds"), q, what="Q_AB_i")
    assert_proportion(r.c("parity_errors"), r.c("test_rounds"), x["qber_x"], what="Q_X")


def test_intercept_resend_on_one_party_gives_quarter():
    proto = get_protocol("ghz-cka", parties=4, attacked_party=2)
    r = proto.run(Channel(), rounds=20_000, seed=3, eavesdropper="intercept-resend")
    assert_proportion(r.counts["errors_ab"][1], r.c("key_rounds"), 0.25, what="Q_AB_k")
    assert_proportion(r.counts["errors_ab"][0], r.c("key_rounds"), 0.0, what="Q_AB_1")
    assert_proportion(r.c("parity_errors"), r.c("test_rounds"), 0.25, what="Q_X")
    assert_proportion(r.c("eve_correct"), r.c("eve_rounds"), 0.75, what="Eve's agreement")
    assert r.estimates()["key_rate"].best == 0.0


def test_31_key_fraction_formula():
    assert conference_key_fraction(0.0, [0.0, 0.0]) == 1.0
    grid = np.linspace(0, 0.2, 9)
    for qx in grid:
        rs = [conference_key_fraction(qx, [qab]) for qab in grid]
        assert all(r <= 1.0 for r in rs)
        assert all(a >= b for a, b in zip(rs, rs[1:]))
    for p, r in [(0.0, 1.0), (0.05, 0.663), (0.1, 0.427), (0.2, 0.062)]:
        assert conference_key_fraction(p / 2, [p / 2, p / 2]) == pytest.approx(r, abs=1e-3)
    assert 1.0 - 2.0 * binary_entropy(0.2201 / 2) == pytest.approx(0.0, abs=1e-3)


def test_key_rate_and_bipartite_comparison():
    chans = [Channel(transmittance=0.5, depolarisation=0.02)] * 4
    proto = get_protocol("ghz-cka", parties=4)
    r = proto.run(chans, rounds=50_000, seed=9)
    x = proto.expected(chans)
    assert r.estimates()["key_rate"].contains(x["key_rate"])
    # Ideal links: the GHZ source gives p_key bits per use; N-1 bipartite links p_key/(N-1).
    assert bipartite_conference_rate([Channel()] * 4, p_key=0.5) == pytest.approx(0.5 / 3)
    assert proto.expected(Channel())["key_rate"] == pytest.approx(0.5)


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
