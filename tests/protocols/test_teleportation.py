"""Teleportation invariants (docs/conventions.md section B: 40, 41).

Expected values come from closed forms written here or from an explicit teleportation with the
numpy reference (tests/_reference.py), never from the protocol's expected().
"""

import math

import numpy as np
import pytest
from _reference import PAULI, apply, bell, click_kraus, dm, fidelity_phi_plus, kron
from hypothesis import given, settings, strategies as st

from qproto import Channel, Engine
from qproto._errors import InvalidParameter, InvalidType
from qproto.protocols import Teleportation
from qproto.protocols._teleportation import TeleportationResult
from qproto.security import teleportation_fidelity
from qproto.testing import assert_proportion, assert_reproducible, assert_round_trip, probabilities

DIST = Engine(mode="distribution")
angles = st.tuples(st.floats(0, np.pi), st.floats(-np.pi, np.pi))


def _probs(tp, ch_a=Channel(), ch_b=Channel()):
    return DIST.compile(tp.build_circuits(), tp.noise_model((ch_a, ch_b))).probabilities


@settings(max_examples=10)
@given(states=st.lists(angles, min_size=1, max_size=4))
def test_invariant40_noiseless_fidelity_one_in_every_branch_and_uniform_outcomes(states):
    """Invariant 40 [EXACT]: noiseless, fidelity 1 for random inputs and all 4 Bell outcomes,
    each outcome with probability exactly 1/4."""
    probs = _probs(Teleportation(states=states))
    for p in probs:
        branch = p.reshape(2, 4)  # [test bit, (m1, m0)]
        np.testing.assert_allclose(branch[0], 0.25, atol=1e-9)
        np.testing.assert_allclose(branch[1], 0.0, atol=1e-9)


@settings(max_examples=10)
@given(p_a=probabilities(max_value=1.0), p_b=probabilities(max_value=1.0), states=st.lists(angles, min_size=1,
                                                                                          max_size=3))
def test_invariant41_werner_resource_fidelity_exact(p_a, p_b, states):
    """Invariant 41 [EXACT]: a Werner resource V = (1-p_A)(1-p_B) teleports every state with
    fidelity (1 + V)/2 (hence also on average)."""
    probs = _probs(Teleportation(states=states), Channel(depolarisation=p_a), Channel(depolarisation=p_b))
    v = (1 - p_a) * (1 - p_b)
    np.testing.assert_allclose(probs[:, :4].sum(axis=1), teleportation_fidelity(v), atol=1e-9)


def test_invariant41_sampled_average_fidelity_with_loss_and_noise_clicks():
    """Invariant 41 [STAT]: sampled average fidelity -> (1 + V)/2 with click-conditioned V."""
    chans = (Channel(depolarisation=0.2), Channel(depolarisation=0.1, transmittance=0.3, noise_click=0.02))
    tp = Teleportation()
    result = tp.run(chans, rounds=60_000, seed=3)
    exp = tp.expected(chans)
    assert_proportion(tp_ok(result), tp_n(result), exp["fidelity"], what="teleportation fidelity")
    assert_proportion(result.tallies["detected"], result.tallies["rounds"], exp["detection_rate"])
    assert_round_trip(result)
    assert_reproducible(lambda seed: tp.run(chans, rounds=2000, seed=seed))


def tp_ok(r):
    return sum(v for k, v in r.tallies.items() if k.startswith("ok_"))


def tp_n(r):
    return sum(v for k, v in r.tallies.items() if k.startswith("n_"))


@pytest.mark.parametrize("states,exc,name", [("haar", InvalidParameter, "states"), ([], InvalidType, "states"),
                                             ([(0.1,)], InvalidType, "states[0]"),
                                             ([(0.1, float("nan"))], InvalidParameter, "states[0][1]")])
def test_bad_states_name_the_parameter(states, exc, name):
    with pytest.raises(exc) as err:
        Teleportation(states=states)
    assert err.value.name == name


# ---- asymmetric and rotated resources -----------------------------------------------------------
HALF_A = Channel(depolarisation=0.05, rotation_rad=0.8, rotation_axis=(0.2, 0.6, 0.7))
HALF_B = Channel(depolarisation=0.15, transmittance=0.5, noise_click=0.02, rotation_rad=0.6,
                 rotation_axis=(1.0, 0.0, 0.3))
STATES = [(0.3, 1.0), (1.2, -0.5), (2.5, 2.0), (0.0, 0.0), (np.pi / 2, np.pi / 2)]


def _ket(theta, phi):
    """rz(phi) ry(theta)|0>, up to a global phase."""
    return np.array([math.cos(theta / 2), np.exp(1j * phi) * math.sin(theta / 2)])


def _ref_teleport(theta, phi, ch_a=HALF_A, ch_b=HALF_B):
    """Reference: (|psi><psi| on q0) x Phi+ on (q1, q2), click_kraus(ch_a) on q1 and click_kraus(ch_b)
    on q2; Alice's Bell measurement on (q0, q1) with (m1, m0) per docs/conventions.md section 0, Bob applies
    X^m1 then Z^m0. Returns (P(m1, m0) per outcome, fidelity with psi per outcome)."""
    psi = _ket(theta, phi)
    resource = apply(apply(bell("phi+"), click_kraus(ch_a), 0), click_kraus(ch_b), 1)
    rho = kron(dm(psi), resource)
    probs, fids = {}, {}
    for name, (m1, m0) in {"phi+": (0, 0), "phi-": (0, 1), "psi+": (1, 0), "psi-": (1, 1)}.items():
        ket = np.linalg.eigh(bell(name))[1][:, -1]
        k = np.kron(ket.conj().reshape(1, 4), np.eye(2))
        out = k @ rho @ k.conj().T
        p = float(np.real(np.trace(out)))
        corr = np.linalg.matrix_power(PAULI["Z"], m0) @ np.linalg.matrix_power(PAULI["X"], m1)
        out = corr @ out @ corr.conj().T / p
        probs[m1, m0] = p
        fids[m1, m0] = float(np.real(psi.conj() @ out @ psi))
    return probs, fids


def test_invariant40_41_rotated_asymmetric_resource_exact_against_reference():
    """Invariants 40-41 [EXACT] with different rotated, noisy halves: every Bell outcome has
    probability exactly 1/4 for every input, and each (state, outcome) fidelity from the compiled
    distributions equals an explicit reference teleportation; expected()/state_fidelities equal the
    outcome-averaged reference.

    catches: the halves' channels swapped (they differ), a rotation dropped from the noise model,
    Bob's corrections in the wrong order or on the wrong outcome bits, an expected() that uses
    (1 + V)/2 for every state (wrong with rotations)."""
    tp = Teleportation(states=STATES)
    probs = _probs(tp, HALF_A, HALF_B)
    ref_avg = []
    for i, (theta, phi) in enumerate(STATES):
        p_ref, f_ref = _ref_teleport(theta, phi)
        branch = probs[i].reshape(2, 4)  # [test bit, code = 2 m1 + m0]
        for m1 in (0, 1):
            for m0 in (0, 1):
                code = 2 * m1 + m0
                assert branch[:, code].sum() == pytest.approx(0.25, abs=1e-12)
                assert p_ref[m1, m0] == pytest.approx(0.25, abs=1e-12)
                assert branch[0, code] / branch[:, code].sum() == pytest.approx(f_ref[m1, m0], abs=1e-9)
        ref_avg.append(sum(p_ref[m] * f_ref[m] for m in p_ref))
    np.testing.assert_allclose(tp.state_fidelities((HALF_A, HALF_B)), ref_avg, atol=1e-9)
    exp = tp.expected((HALF_A, HALF_B))
    assert exp["fidelity"] == pytest.approx(np.mean(ref_avg), abs=1e-9)
    assert exp["min_state_fidelity"] == pytest.approx(min(ref_avg), abs=1e-9)
    assert max(ref_avg) - min(ref_avg) > 0.01  # the rotations make the fidelity state-dependent


def test_invariant41_octahedron_average_is_the_horodecki_value_for_a_rotated_resource():
    """Invariant 41 [EXACT]: over the six Pauli eigenstates (a 2-design) the mean fidelity is the
    Haar average (2 F + 1)/3 with F the resource's fidelity with Phi+ (reference density matrix),
    for asymmetric rotated halves; without rotation it is (1 + V)/2, V = (1 - p_A)(1 - p_B).

    catches: a noise model that places both halves' noise on one qubit, or drops one half's."""
    resource = apply(apply(bell("phi+"), click_kraus(HALF_A), 0), click_kraus(HALF_B), 1)
    haar = (2 * fidelity_phi_plus(resource) + 1) / 3
    tp = Teleportation()
    assert _probs(tp, HALF_A, HALF_B)[:, :4].sum(axis=1).mean() == pytest.approx(haar, abs=1e-9)
    assert tp.expected((HALF_A, HALF_B))["fidelity"] == pytest.approx(haar, abs=1e-9)
    plain_a, plain_b = Channel(depolarisation=0.05), Channel(depolarisation=0.3)
    v = (1 - 0.05) * (1 - 0.3)
    assert _probs(tp, plain_a, plain_b)[:, :4].sum(axis=1).mean() == pytest.approx((1 + v) / 2, abs=1e-9)
    assert tp.expected((plain_a, plain_b))["fidelity"] == pytest.approx((1 + v) / 2, abs=1e-12)


# ---- sampled rounds, per state and per Bell outcome (mutation survivors of the fourth run) -------
def test_invariant40_41_sampled_rounds_per_state_and_outcome_match_the_reference():
    """Invariants 40-41 [STAT] on sampled rounds with rotated, asymmetric, lossy halves and five
    input states whose fidelities differ: every (state, Bell outcome) cell holds 1/20 of the
    delivered rounds, its pass rate is the reference teleportation's fidelity for that outcome,
    `state_fidelity(i)` and `fidelity` are the reference's per-state and mean values, and the
    detection rate is P_A P_B = (eta + (1 - eta) Y0) per half, written out here.

    catches: input states drawn from 1..n-1 (state 0 never sent), Bell bits read from the wrong
    bits of the outcome code (m0 = code & 2, m1 = code << 1 or >> 2), the tally key packed with
    other strides, `state_fidelity` summing the wrong tallies (another key field, the whole run,
    another prefix), the lossless branch's `detected` lost."""
    tp = Teleportation(states=STATES)
    rounds = 80_000
    result = tp.run((HALF_A, HALF_B), rounds=rounds, seed=11)
    t = result.tallies
    p_det = 1.0 * (0.5 + 0.5 * 0.02)  # HALF_A is lossless and noise-free; HALF_B: eta 0.5, Y0 0.02
    assert_proportion(t["detected"], rounds, p_det, what="detection rate")
    delivered = t["detected"]
    assert sum(t[f"n_{i}_{m}"] for i in range(len(STATES)) for m in range(4)) == delivered
    ref_avg = []
    for i, (theta, phi) in enumerate(STATES):
        p_ref, f_ref = _ref_teleport(theta, phi)
        for m1 in (0, 1):
            for m0 in (0, 1):
                m = 2 * m1 + m0
                assert_proportion(t[f"n_{i}_{m}"], delivered, 1 / (4 * len(STATES)), what=f"cell ({i}, {m})")
                assert_proportion(t[f"ok_{i}_{m}"], t[f"n_{i}_{m}"], f_ref[m1, m0], what=f"pass rate ({i}, {m})")
        ref_avg.append(sum(p_ref[m] * f_ref[m] for m in p_ref))
        ok_i = sum(t[f"ok_{i}_{m}"] for m in range(4))
        n_i = sum(t[f"n_{i}_{m}"] for m in range(4))
        assert result.state_fidelity(i).best == pytest.approx(ok_i / n_i, abs=1e-12)
        assert_proportion(ok_i, n_i, ref_avg[-1], what=f"state {i} fidelity")
    assert result.fidelity.best == pytest.approx(tp_ok(result) / delivered, abs=1e-12)
    est = result.estimates()
    hand = [sum(t[f"ok_{i}_{m}"] for m in range(4)) / sum(t[f"n_{i}_{m}"] for m in range(4))
            for i in range(len(STATES))]
    assert est["min_state_fidelity"] == pytest.approx(min(hand), abs=1e-12)
    assert max(hand) - min(hand) > 0.02  # the minimum is not the pooled value
    assert est["fidelity"].best == pytest.approx(result.fidelity.best, abs=1e-12)


def test_state_fidelity_reads_the_state_field_of_the_tally_key():
    """Hand tallies for 12 input states (two-digit indices): `state_fidelity(i)` sums exactly the
    `ok_i_m` and `n_i_m` of state i. catches: the key split at the outcome field, `!=` for `==`,
    a pooled sum for one state, a prefix that matches nothing."""
    states = [(0.1 * k, 0.0) for k in range(12)]
    tallies = {"rounds": 10_000, "detected": 0}
    for i in range(12):
        for m in range(4):
            tallies[f"n_{i}_{m}"] = 10 + 7 * i + 3 * m
            tallies[f"ok_{i}_{m}"] = 5 + 2 * i + m + (i == 1)  # state 1 differs from 10 and 11
            tallies["detected"] += tallies[f"n_{i}_{m}"]
    res = TeleportationResult(protocol="teleportation", parameters={"states": [list(s) for s in states]},
                              channels=(Channel(), Channel()), rounds=10_000, seed=0, eavesdropper=None,
                              tallies=tallies)
    for i in range(12):
        ok = sum(5 + 2 * i + m + (i == 1) for m in range(4))
        n = sum(10 + 7 * i + 3 * m for m in range(4))
        assert res.state_fidelity(i).best == pytest.approx(ok / n, abs=1e-15)
    all_ok = sum(v for k, v in tallies.items() if k.startswith("ok_"))
    assert res.fidelity.best == pytest.approx(all_ok / tallies["detected"], abs=1e-15)
    est = res.estimates()
    assert est["min_state_fidelity"] == pytest.approx(min(res.state_fidelity(i).best for i in range(12)))


def test_nothing_delivered_gives_no_fidelity_and_the_classical_limit_is_two_thirds():
    """With no resource pair delivered there is no fidelity to report: `min_state_fidelity` is
    None (not NaN, not a number) and the pooled fidelity has no value. The classical limit is the
    measure-and-prepare bound 2/3 (Massar and Popescu 1995) in both estimates() and expected().

    catches: the guard on an all-NaN list dropped or inverted, the limit's constant changed."""
    tp = Teleportation()
    dark = Channel(transmittance=0.0)
    res = tp.run((dark, Channel()), rounds=500, seed=1)
    assert res.tallies["detected"] == 0
    est = res.estimates()
    assert est["min_state_fidelity"] is None
    assert est["classical_limit"] == 2 / 3 and tp.expected((dark, Channel()))["classical_limit"] == 2 / 3
    lit = tp.run((Channel(), Channel()), rounds=200, seed=1)
    assert lit.tallies["detected"] == 200  # both halves lossless: every round delivered
    assert lit.estimates()["min_state_fidelity"] == 1.0 and lit.estimates()["classical_limit"] == 2 / 3


def test_circuits_are_three_qubits_named_by_state_and_errors_carry_their_values():
    """The circuits hold exactly the three qubits the docstring names and are labelled by input
    index; refusals carry the offending value (for error reports) and the limit of 64 states is
    exact. catches: a fourth qubit, names lost, `None` or a missing value in an error, the 64-state
    limit moved by one."""
    tp = Teleportation(states=STATES)
    circuits = tp.build_circuits()
    assert [c.num_qubits for c in circuits] == [3] * len(STATES)
    assert [c.name for c in circuits] == [f"teleport_{i}" for i in range(len(STATES))]
    with pytest.raises(InvalidParameter) as err:
        tp.build_circuits(form="exact")
    assert err.value.name == "form" and "teleportation" in str(err.value)
    with pytest.raises(InvalidParameter) as err:
        tp.build_circuits(eavesdropper="intercept")
    assert (err.value.name, err.value.value) == ("eavesdropper", "intercept")
    with pytest.raises(InvalidParameter) as err:
        Teleportation(states="cube")
    assert err.value.value == "cube"
    with pytest.raises(InvalidType) as err:
        Teleportation(states=[])
    assert err.value.value == []
    with pytest.raises(InvalidType) as err:
        Teleportation(states=[(0.0, 0.0), (0.1,)])
    assert (err.value.name, err.value.value) == ("states[1]", (0.1,))
    assert len(Teleportation(states=[(0.01 * k, 0.0) for k in range(64)]).states) == 64
    with pytest.raises(InvalidParameter) as err:
        Teleportation(states=[(0.01 * k, 0.0) for k in range(65)])
    assert (err.value.name, err.value.value) == ("states", "65 states") and "64" in err.value.allowed
