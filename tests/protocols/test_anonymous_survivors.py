"""protocols/_anonymous.py's own machinery, written against its mutmut survivors (issue 9).

Expected values are written here: the A9 pair-fidelity formula F = (1 + E_XX - E_YY + E_ZZ)/4 from
given tallies with scipy's exact (Clopper-Pearson) binomial intervals, the per-round record layout
(configuration r_S * n_tests + test, state bit = test % 2, teleportation bits uniform), the
quantum anonymous bit's error 1/2 when a party clicks on noise only and (1 - cos theta)/2 under a
Z rotation, the readout-error flip p_q/2 above 10 parties, the Z_S Z_R relation between the r_S = 0
and r_S = 1 configurations, a hand-worked Broadbent-Tapp parity round, and the refusals' exact
(name, value, allowed). Record dtypes, circuit names and the Aer seeds of the share blocks are
pinned too (conventions that Protocol.sample() makes public).
"""

import math

import numpy as np
import pytest
from scipy import stats

from qproto import Channel, Engine, InterceptResend, InvalidParameter
from qproto.protocols._anonymous import (
    AnonymousTransmission, AnonymousTransmissionResult, BroadbentTapp, QuantumAnonymousBit,
    anonymous_pair_fidelity, coalition_view_distribution,
)
from qproto.noise_models._aer import channel_marker
from qproto.testing import assert_proportion


def _cp(k, n, confidence):
    """Exact Clopper-Pearson interval, from scipy's binomtest (independent of qproto's Estimate)."""
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="exact")
    return ci.low, ci.high


def _at_result(counts, *, parameters=None, confidence=0.95, rounds=1000):
    params = {"parties": 4, "sender": 0, "receiver": 1, "mode": "entanglement"} if parameters is None \
        else parameters
    return AnonymousTransmissionResult(protocol="anonymous-transmission", parameters=params,
                                       channels=(Channel(),) * 4, rounds=rounds, seed=1, counts=counts,
                                       confidence=confidence)


# ---- anonymous_pair_fidelity ------------------------------------------------------------------------
def test_pair_fidelity_formula_in_double_precision_for_float32_input():
    """F = [1 + 2 prod_j (1-p_j) + (1-p_S)(1-p_R)]/4 (formula written here) evaluated in double
    precision on the given values, even when they come as a float32 array.

    catches: np.asarray(p) without dtype=float (the whole formula then runs in float32, ~1e-8 off)."""
    p32 = np.array([0.1, 0.2, 0.3, 0.05], dtype=np.float32)
    p = [float(x) for x in p32]  # the exact values the caller passed
    v = [1.0 - x for x in p]
    want = (1.0 + 2.0 * v[0] * v[1] * v[2] * v[3] + v[2] * v[0]) / 4.0
    assert anonymous_pair_fidelity(p32, 2, 0) == pytest.approx(want, rel=0, abs=1e-14)


# ---- AnonymousTransmissionResult ----------------------------------------------------------------------
def test_pair_fidelity_estimate_from_tallies_with_exact_intervals():
    """pair_fidelity = (1 + E_XX - E_YY + E_ZZ)/4 with E_b = 2 P_agree,b - 1 (best at the observed
    proportions); its interval takes the low end of XX and ZZ and the HIGH end of YY (sign -1) for
    the low fidelity, the opposite for the high one (Clopper-Pearson ends from scipy), at the
    result's confidence.

    catches: /4 -> *4, 1 -> 2, sign * -> /, 2v-1 -> 2v+1 or 3v-1, the YY sign ignored in the
    interval, the fidelity clipped from below at 1, the confidence dropped or replaced by 0.95."""
    tests, agree = (200, 150, 250), (170, 45, 230)
    r = _at_result({"detected": (600,), "tests": tests, "agree": agree}, confidence=0.9)
    est = r.estimates()["pair_fidelity"]
    p = [a / n for a, n in zip(agree, tests)]
    assert est.best == pytest.approx((1 + (2 * p[0] - 1) - (2 * p[1] - 1) + (2 * p[2] - 1)) / 4, abs=1e-12)
    assert est.best == pytest.approx(0.735, abs=1e-12)
    ci = [_cp(a, n, 0.9) for a, n in zip(agree, tests)]
    low = (1 + (2 * ci[0][0] - 1) - (2 * ci[1][1] - 1) + (2 * ci[2][0] - 1)) / 4
    high = (1 + (2 * ci[0][1] - 1) - (2 * ci[1][0] - 1) + (2 * ci[2][1] - 1)) / 4
    assert est.low == pytest.approx(low, abs=1e-9)
    assert est.high == pytest.approx(high, abs=1e-9)
    assert est.low < est.best < est.high
    assert est.confidence == 0.9
    assert r.estimates()["detection_rate"].best == 0.6


def test_pair_fidelity_interval_clipped_to_zero_one_without_test_rounds():
    """No test round at all: each P_agree is unknown in [0, 1], so the unclipped bounds are
    f(0, 1, 0) = -1/2 and f(1, 0, 1) = 1; a fidelity lies in [0, 1], so the interval is [0, 1]
    and the point estimate NaN.

    catches: the clip skipped (low -0.5 returned)."""
    est = _at_result({"detected": (0,), "tests": (0, 0, 0), "agree": (0, 0, 0)}).estimates()["pair_fidelity"]
    assert (est.low, est.high) == (0.0, 1.0)
    assert math.isnan(est.best)


def test_agreements_above_the_test_rounds_are_refused_in_both_modes():
    """A tally with more agreeing rounds than test rounds in one basis (or more successes than
    teleported states) describes no run: refused, naming the entry.

    catches: the bound comparing a tally with itself."""
    with pytest.raises(InvalidParameter) as err:
        _at_result({"detected": (30,), "tests": (10, 10, 10), "agree": (5, 11, 5)})
    assert (err.value.name, err.value.value) == ("counts['agree'][1]", 11)
    qubit = {"parties": 4, "sender": 0, "receiver": 1, "mode": "qubit"}
    with pytest.raises(InvalidParameter) as err:
        _at_result({"detected": (12,), "states": (2,) * 6, "success": (1, 1, 1, 3, 1, 1)}, parameters=qubit)
    assert (err.value.name, err.value.value) == ("counts['success'][3]", 3)


def test_result_without_a_mode_parameter_reads_as_entanglement_mode():
    """``mode`` defaults to "entanglement" (the protocol's default): a result whose parameters omit it
    (e.g. written by hand or before the qubit mode existed) has the XX/YY/ZZ tallies and a pair
    fidelity, and its count bounds are those of the test bases.

    catches: the default mode of count_shapes / count_bounds changed (the tallies refused or looked
    up under "states")."""
    params = {"parties": 4, "sender": 0, "receiver": 1}
    r = _at_result({"detected": (30,), "tests": (10, 10, 10), "agree": (10, 0, 10)}, parameters=params)
    assert r.estimates()["pair_fidelity"].best == 1.0
    with pytest.raises(InvalidParameter) as err:
        _at_result({"detected": (30,), "tests": (10, 10, 10), "agree": (10, 0, 12)}, parameters=params)
    assert err.value.name == "counts['agree'][2]"


# ---- AnonymousTransmission's per-round record ---------------------------------------------------------
LOSSY = (Channel(transmittance=0.9), Channel(transmittance=0.8), Channel(transmittance=0.95), Channel())


def test_qubit_mode_record_layout():
    """Qubit mode, lossy noiseless channels (S = 2, R = 0): ``detected`` is the bool per round with
    P_all = 0.9 * 0.8 * 0.95; ``config`` = r_S * 6 + test with r_S = S's broadcast; the sender's
    outcome is the secret state's bit (test % 2, uint8 like the receiver's, who finds it every
    round); the two teleportation bits per detected round are uniform on {0,1}^2 (Bennett et al.)
    whatever the state.

    catches: detected, config or teleport_bits recorded as None, the teleportation bits stacked
    the wrong way round ((2, n) instead of (n, 2)), the state bits recorded as int64."""
    rounds = 4000
    rec = AnonymousTransmission(parties=4, sender=2, receiver=0, mode="qubit").sample(LOSSY, rounds=rounds,
                                                                                       seed=11)
    n_det = len(rec.test)
    assert rec.detected.dtype == bool and rec.detected.shape == (rounds,)
    assert int(rec.detected.sum()) == n_det
    assert_proportion(n_det, rounds, 0.9 * 0.8 * 0.95, what="P_all")
    assert np.array_equal(rec.config, rec.broadcasts[:, 2].astype(np.int64) * 6 + rec.test)
    assert np.array_equal(rec.outcome_s, rec.test % 2)
    assert rec.outcome_s.dtype == np.uint8 and rec.outcome_r.dtype == np.uint8
    assert np.array_equal(rec.outcome_r, rec.test % 2)  # noiseless pair: teleportation always succeeds
    assert rec.teleport_bits.shape == (n_det, 2)
    codes = rec.teleport_bits[:, 0].astype(np.int64) * 2 + rec.teleport_bits[:, 1]
    counts = np.bincount(codes, minlength=4)
    for k in range(4):
        assert_proportion(int(counts[k]), n_det, 0.25, what=f"teleport bits {k:02b}")


def test_entanglement_mode_record_has_no_teleport_bits_and_records_detection():
    rec = AnonymousTransmission(parties=4, sender=1, receiver=3).sample(LOSSY, rounds=500, seed=2)
    assert rec.teleport_bits is None
    assert rec.detected.shape == (500,) and int(rec.detected.sum()) == len(rec.test)
    assert np.array_equal(rec.config, rec.broadcasts[:, 1].astype(np.int64) * 3 + rec.test)


# ---- QuantumAnonymousBit -----------------------------------------------------------------------------
def test_anonymous_bit_circuits_refusals_and_names():
    """build_circuits refuses an eavesdropper itself (name, value, allowed), and its two circuits
    are named by the message bit.

    catches: the eavesdropper not passed to the check, the message loop over (0, 2), the names dropped."""
    proto = QuantumAnonymousBit(parties=3, sender=1)
    eve = InterceptResend()
    with pytest.raises(InvalidParameter) as err:
        proto.build_circuits(eavesdropper=eve)
    assert (err.value.name, err.value.value, err.value.allowed) == ("eavesdropper", eve, "None")
    assert [c.name for c in proto.build_circuits()] == ["qab_d0", "qab_d1"]


def test_anonymous_bit_expected_refuses_an_eavesdropper_with_name_value_allowed():
    eve = InterceptResend()
    with pytest.raises(InvalidParameter) as err:
        QuantumAnonymousBit().expected(Channel(), eavesdropper=eve)
    assert (err.value.name, err.value.value, err.value.allowed) == ("eavesdropper", eve, "None")


def test_anonymous_bit_noise_only_party_randomises_the_output():
    """A party whose clicks are all noise (transmittance 0, Y0 = 0.5) broadcasts a uniformly random bit,
    so the broadcast parity is wrong half the time (error 1/2), and only rounds where all clicked
    count (P_all = 0.5). The record keeps the detection flag of every round.

    catches: noise-only clicks not randomised (error 0 with these otherwise perfect channels), the
    detection flags recorded as None."""
    chans = [Channel(), Channel(transmittance=0.0, noise_click=0.5), Channel(), Channel()]
    proto = QuantumAnonymousBit(parties=4, sender=2)
    r = proto.run(chans, rounds=3000, seed=6)
    assert_proportion(r.c("errors"), r.c("detected"), 0.5, what="error rate")
    assert_proportion(r.c("detected"), 3000, 0.5, what="P_all")
    assert proto.expected(chans)["error_rate"] == pytest.approx(0.5)
    rec = proto.sample(chans, rounds=400, seed=6)
    assert rec.detected.shape == (400,) and int(rec.detected.sum()) == len(rec.message)


# ---- BroadbentTapp -----------------------------------------------------------------------------------
def test_broadbent_tapp_coin_circuit_and_refusals():
    """The default call builds the one coin circuit (1 qubit, 1 clbit, named "coin", a fair coin);
    an eavesdropper is refused by build_circuits itself.

    catches: the default form changed (default call refused), the eavesdropper not passed to the
    check, a second qubit or another name."""
    proto = BroadbentTapp(parties=3, sender=1)
    (qc,) = proto.build_circuits()
    assert (qc.name, qc.num_qubits, qc.num_clbits) == ("coin", 1, 1)
    np.testing.assert_allclose(Engine().compile((qc,), None).probabilities, [[0.5, 0.5]], atol=1e-12)
    eve = InterceptResend()
    with pytest.raises(InvalidParameter) as err:
        proto.build_circuits(eavesdropper=eve)
    assert (err.value.name, err.value.value, err.value.allowed) == ("eavesdropper", eve, "None")


# ---- coalition_view_distribution ---------------------------------------------------------------------
def test_coalition_view_two_parties_reveal_the_message():
    """N = 2 is allowed (Broadbent-Tapp's minimum): with one honest player the coalition's view
    (its input, shares, both broadcasts) fixes the parity, i.e. the message: the two messages give
    disjoint view distributions, 4 equally likely views each (2 free shares)."""
    d0 = coalition_view_distribution(2, 0, [1], 0)
    d1 = coalition_view_distribution(2, 0, [1], 1)
    assert sum(d0.values()) == 1.0 and sum(d1.values()) == 1.0
    assert set(d0.values()) == {0.25} and set(d1.values()) == {0.25}
    assert not set(d0) & set(d1)


@pytest.mark.parametrize("args, name, value, allowed", [
    ((1, 0, [], 0), "parties", 1, "integers in [2, 4]"),
    ((5, 0, [1], 0), "parties", 5, "integers in [2, 4]"),
    ((3, 3, [1], 0), "sender", 3, "integers in [0, 2]"),
    ((3, -1, [7], 5), "sender", -1, "integers in [0, 2]"),  # checked first, before coalition and message
    ((3, 0, [-1], 0), "coalition", -1, "integers in [0, 2]"),
    ((3, 0, [3], 0), "coalition", 3, "integers in [0, 2]"),
    ((3, 0, [1], -1), "message", -1, "integers in [0, 1]"),
    ((3, 0, [1], 2), "message", 2, "integers in [0, 1]"),
])
def test_coalition_view_distribution_refusals(args, name, value, allowed):
    """Every argument is checked on entry, in order, against its own range (N in [2, 4] for the
    enumeration, parties indices in [0, N-1], a bit for the message).

    catches: a bound dropped or widened (then numpy indexing errors, negative indices silently
    accepted, a 2^20-row enumeration, or Broadbent-Tapp's own [2, 64] range reported)."""
    with pytest.raises(InvalidParameter) as err:
        coalition_view_distribution(*args)
    assert (err.value.name, err.value.value, err.value.allowed) == (name, value, allowed)


def test_coalition_view_distribution_accepts_the_last_party_as_sender():
    """Sender N-1 is a valid party (the range is [0, N-1], inclusive). Every view includes all the
    broadcasts, whose parity is the message, so the two messages' view distributions have disjoint
    supports, with or without the sender in the coalition; each sums to 1.

    catches: the sender's upper bound lowered to N-2."""
    for coalition in ([0], [2]):
        d0 = coalition_view_distribution(3, 2, coalition, 0)
        d1 = coalition_view_distribution(3, 2, coalition, 1)
        assert sum(d0.values()) == 1.0 and sum(d1.values()) == 1.0
        assert not set(d0) & set(d1)


# ---- QuantumAnonymousBit's noise model: depolarising up to 10 parties, readout errors above ----------
def test_anonymous_bit_ten_parties_keep_a_coherent_rotation_exactly():
    """N = 10 is still the depolarising form, so a rotation is allowed: one party rotated by theta
    about Z turns GHZ into (|0..0> + e^{i theta} |1..1>)/sqrt 2, whose X...X parity is wrong with
    probability (1 - cos theta)/2 for both messages (closed form written here; exact probabilities).

    catches: the rotation refusal starting at 10 parties (>= 10), the readout form used at 10 (< 10)."""
    theta = 0.6
    chans = (Channel(),) * 3 + (Channel(rotation_rad=theta, rotation_axis=(0.0, 0.0, 1.0)),) + (Channel(),) * 6
    proto = QuantumAnonymousBit(parties=10, sender=7)
    probs = Engine().compile(proto.build_circuits(), proto.noise_model(chans)).probabilities
    parity = ((np.arange(probs.shape[1])[:, None] >> np.arange(10)) & 1).sum(axis=1) % 2
    for d in (0, 1):
        assert probs[d][parity != d].sum() == pytest.approx((1 - math.cos(theta)) / 2, abs=1e-9)
    kinds = {e["type"] for e in proto.noise_model(chans).to_dict()["errors"]}
    assert kinds == {"qerror"}


def test_anonymous_bit_above_ten_parties_uses_readout_errors():
    """Above 10 parties (docstring) each party's channel is a readout error flipping its X outcome with
    probability p_q/2, p_q = 1 - (1 - p)(1 - 2 e_d) (hand formula), on its own qubit; no gate error.

    catches: the depolarising form kept above 10 parties (<= 11, or the condition forced true)."""
    chans = tuple(Channel(depolarisation=0.01 * j, misalignment=0.002 * (j % 3)) for j in range(11))
    errors = QuantumAnonymousBit(parties=11).noise_model(chans).to_dict()["errors"]
    assert {e["type"] for e in errors} == {"roerror"}
    flips = {e["gate_qubits"][0][0]: e["probabilities"] for e in errors}
    assert sorted(flips) == list(range(1, 11))  # party 0 is noiseless
    for j, m in flips.items():
        pq = 1 - (1 - 0.01 * j) * (1 - 2 * 0.002 * (j % 3))
        np.testing.assert_allclose(m, [[1 - pq / 2, pq / 2], [pq / 2, 1 - pq / 2]], atol=1e-15)


def test_anonymous_bit_rotation_above_ten_parties_refused_with_the_rotated_channels():
    """A rotation cannot be a readout error: refused, the value being the list of rotated channels.

    catches: the value or the allowed text dropped or replaced."""
    rot = Channel(rotation_rad=0.2)
    chans = (Channel(),) * 4 + (rot,) + (Channel(),) * 5 + (rot,)
    with pytest.raises(InvalidParameter) as err:
        QuantumAnonymousBit(parties=11).noise_model(chans)
    assert (err.value.name, err.value.value, err.value.allowed) == \
        ("channel", [rot, rot], "no rotation above 10 parties")


# ---- constructors, roles and the refusals shared by the three protocols -----------------------------
def test_defaults_of_the_three_protocols():
    """Defaults (class signatures): anonymous transmission N = 4, S = 0, R = 1, entanglement mode;
    anonymous bit N = 4, S = 0; Broadbent-Tapp N = 4, S = 0, taking ONE channel (it does not use
    it), kept in its result.

    catches: a default changed, Broadbent-Tapp asking for another number of channels."""
    assert AnonymousTransmission().parameters() == {"parties": 4, "sender": 0, "receiver": 1,
                                                    "mode": "entanglement"}
    assert QuantumAnonymousBit().parameters() == {"parties": 4, "sender": 0}
    bt = BroadbentTapp()
    assert bt.parameters() == {"parties": 4, "sender": 0}
    assert bt.n_channels == 1
    assert bt.run(Channel(depolarisation=0.1), rounds=20, seed=1).channels == (Channel(depolarisation=0.1),)


def test_receiver_equal_to_sender_refused_with_name_value_allowed():
    with pytest.raises(InvalidParameter) as err:
        AnonymousTransmission(parties=5, sender=3, receiver=3)
    assert (err.value.name, err.value.value, err.value.allowed) == ("receiver", 3, "a party other than sender=3")
    with pytest.raises(InvalidParameter) as err:
        AnonymousTransmission(parties=5, sender=2, receiver=5)
    assert (err.value.name, err.value.value, err.value.allowed) == ("receiver", 5, "integers in [0, 4]")
    with pytest.raises(InvalidParameter) as err:
        QuantumAnonymousBit(parties=3, sender=3)
    assert (err.value.name, err.value.value, err.value.allowed) == ("sender", 3, "integers in [0, 2]")


@pytest.mark.parametrize("proto", [AnonymousTransmission(parties=3, sender=2, receiver=0, mode="qubit"),
                                   QuantumAnonymousBit(parties=3, sender=1), BroadbentTapp(parties=3, sender=1)],
                         ids=lambda p: p.name)
def test_build_circuits_refuses_other_forms_and_eavesdroppers(proto):
    """Only the closed-form loss ("fast") is modelled and no eavesdropper: both refused by build_circuits
    with (name, value, allowed).

    catches: the form check inverted or comparing with another string, the refusal's fields dropped."""
    with pytest.raises(InvalidParameter) as err:
        proto.build_circuits(form="erasure")
    assert (err.value.name, err.value.value, err.value.allowed) == ("form", "erasure", "'fast'")
    eve = InterceptResend()
    with pytest.raises(InvalidParameter) as err:
        proto.build_circuits(eavesdropper=eve)
    assert (err.value.name, err.value.value, err.value.allowed) == ("eavesdropper", eve, "None")
    assert len(proto.build_circuits()) == len(proto.build_circuits(form="fast")) > 0


def test_anonymous_transmission_expected_refuses_an_eavesdropper():
    eve = InterceptResend()
    with pytest.raises(InvalidParameter) as err:
        AnonymousTransmission().expected(Channel(), eavesdropper=eve)
    assert (err.value.name, err.value.value, err.value.allowed) == ("eavesdropper", eve, "None")


# ---- AnonymousTransmission circuits -----------------------------------------------------------------
@pytest.mark.parametrize("mode, n_tests", [("entanglement", 3), ("qubit", 6)])
def test_circuits_one_per_sender_bit_and_test_named_accordingly(mode, n_tests):
    """Configuration r_S * n_tests + test (build_circuits docstring): 2 x 3 circuits in entanglement
    mode, 2 x 6 in qubit mode, named cw_<mode>_r<r_S>_t<test>; one clbit per qubit (N + 1 in qubit mode).

    catches: the r_S loop over (1, 1) or (0, 2), the names dropped, the extra qubit in the wrong mode."""
    circuits = AnonymousTransmission(parties=4, sender=3, receiver=1, mode=mode).build_circuits()
    assert [c.name for c in circuits] == [f"cw_{mode}_r{r}_t{t}" for r in (0, 1) for t in range(n_tests)]
    nq = 4 + (mode == "qubit")
    assert all((c.num_qubits, c.num_clbits) == (nq, nq) for c in circuits)


def test_anonymous_pair_circuit_defaults():
    """anonymous_pair_circuit() defaults: r_S = 0 (no Z correction: the circuit has no z gate, while
    r_S = 1 adds Z at S and at R), channel markers on (one per party), name "cw".

    catches: the default r_S = 1, markers off by default, another name."""
    proto = AnonymousTransmission(parties=4, sender=2, receiver=0)
    qc = proto.anonymous_pair_circuit()
    ops = qc.count_ops()
    assert qc.name == "cw"
    assert "z" not in ops
    assert proto.anonymous_pair_circuit(1).count_ops()["z"] == 2
    marker = channel_marker().name
    assert ops[marker] == 4
    assert marker not in proto.anonymous_pair_circuit(markers=False).count_ops()


# ---- Broadbent-Tapp parity rounds and share blocks ------------------------------------------------------
def test_parity_rounds_refuses_either_bad_shape_with_name_value_allowed():
    """Inputs must be (rounds, N) and free shares (rounds, N, N-1) with the same rounds: either wrong
    alone is refused (the value is the free shares' shape).

    catches: `or` -> `and` (one bad array passing), the fields of the refusal dropped or altered."""
    bt = BroadbentTapp(parties=3, sender=0)
    allowed = "inputs (rounds, 3) and free shares (rounds, 3, 2) with the same rounds"
    with pytest.raises(InvalidParameter) as err:
        bt.parity_rounds(np.zeros((5, 4), dtype=np.uint8), np.zeros((5, 3, 2), dtype=np.uint8))
    assert (err.value.name, err.value.value, err.value.allowed) == ("free_shares", (5, 3, 2), allowed)
    with pytest.raises(InvalidParameter) as err:
        bt.parity_rounds(np.zeros((5, 3), dtype=np.uint8), np.zeros((5, 3, 3), dtype=np.uint8))
    assert (err.value.name, err.value.value, err.value.allowed) == ("free_shares", (5, 3, 3), allowed)


def test_parity_rounds_takes_bits_of_any_numeric_type_and_records_uint8():
    """parity_rounds takes 0/1 bits as lists, bools or floats and records uint8 arrays, the same
    values as for uint8 input; hand-checked example (N = 3): player i's last share completes its input.

    catches: the inputs or free shares not converted to uint8 (int64 record, or a TypeError on floats)."""
    bt = BroadbentTapp(parties=3, sender=1)
    inputs = [[0, 1, 0]]
    free = [[[1, 0], [1, 1], [0, 1]]]
    # shares r_{i,j}: row i = free shares then x_i ^ XOR(free): [1,0,1], [1,1,1], [0,1,1]
    want_shares = np.array([[[1, 0, 1], [1, 1, 1], [0, 1, 1]]], dtype=np.uint8)
    want_broadcasts = np.array([[0, 0, 1]], dtype=np.uint8)  # z_j = XOR_i r_{i,j}
    for x, f in ((inputs, free), (np.array(inputs, dtype=bool), np.array(free, dtype=bool)),
                 (np.array(inputs, dtype=float), np.array(free, dtype=float))):
        rec = bt.parity_rounds(x, f)
        assert rec.inputs.dtype == rec.shares.dtype == rec.broadcasts.dtype == np.uint8
        assert np.array_equal(rec.shares, want_shares)
        assert np.array_equal(rec.broadcasts, want_broadcasts)
        assert rec.output.tolist() == [1]


def test_share_blocks_boundary_and_blocked_records(monkeypatch):
    """The shares are kept exactly when a chunk's rounds x N x N bits do not exceed _SHARE_BLOCK_BITS
    (docstring): with the limit at 7 rows of N = 5, 7 rounds keep them and 8 rounds do not. A blocked
    record keeps uint8 inputs and broadcasts, and a blocked run analyses to zero errors.

    catches: `<=` -> `<` at the boundary, float inputs or broadcasts in the blocked path."""
    import qproto.protocols._anonymous as anon

    monkeypatch.setattr(anon, "_SHARE_BLOCK_BITS", 25 * 7)
    bt = BroadbentTapp(parties=5, sender=4)
    assert bt.sample(Channel(), rounds=7, seed=3).shares is not None
    rec = bt.sample(Channel(), rounds=8, seed=3)
    assert rec.shares is None
    assert rec.inputs.dtype == rec.broadcasts.dtype == np.uint8
    assert np.array_equal(rec.output, rec.inputs[:, 4])
    result = bt.run(Channel(), rounds=30, seed=3)
    assert (result.c("detected"), result.c("errors")) == (30, 0)


def test_broadbent_tapp_coins_follow_the_run_seed_on_the_aer_path(monkeypatch):
    """With the engine's Aer shot sampler, the coins come from Aer seeded by the run: a run is
    reproducible, different seeds give different coins (the number of heads among the 60 x 12 free
    shares differs, which a fixed Aer seed could not do: Aer's counts would be the same and only their
    order would change), and the output is still the sender's bit. The blocked path (shares not kept)
    is reproducible and correct too.

    catches: aer_seed dropped (fixed) on the one-block path, or None on either path (Aer refuses it)."""
    import qproto.protocols._anonymous as anon

    bt = BroadbentTapp(parties=4, sender=3)
    engine = Engine(mode="shots")
    heads = set()
    for seed in (1, 2, 3):
        rec = bt.sample(Channel(), rounds=60, seed=seed, engine=engine)
        again = bt.sample(Channel(), rounds=60, seed=seed, engine=engine)
        assert np.array_equal(rec.shares, again.shares)
        assert np.array_equal(rec.output, rec.inputs[:, 3])
        heads.add(int(rec.shares[:, :, :3].sum()))
    assert len(heads) == 3
    monkeypatch.setattr(anon, "_SHARE_BLOCK_BITS", 16 * 25)
    blocked = set()
    for seed in (1, 2, 3):
        rec = bt.sample(Channel(), rounds=60, seed=seed, engine=engine)
        assert rec.shares is None and np.array_equal(rec.output, rec.inputs[:, 3])
        assert np.array_equal(rec.broadcasts, bt.sample(Channel(), rounds=60, seed=seed, engine=engine).broadcasts)
        blocked.add(tuple(rec.broadcasts[:, 0]))
    assert len(blocked) == 3


def test_broadbent_tapp_every_share_block_gets_the_chunks_aer_seed(monkeypatch):
    """Blocked path (more rounds than one block): every coin draw receives the chunk's Aer seed,
    derived from the run seed (an int, not the default 0, other seeds for another run seed).
    tests/protocols/test_aer_seed_plumbing.py checks this for the one-block path only.

    catches: aer_seed left out (default 0) of the blocked draws."""
    import qproto.protocols._anonymous as anon
    from qproto._engine import CompiledConfigurations

    seen = []
    original = CompiledConfigurations.sample_trusted

    def spy(self, config_ids, rng, *, aer_seed=0):
        seen.append(aer_seed)
        return original(self, config_ids, rng, aer_seed=aer_seed)

    monkeypatch.setattr(CompiledConfigurations, "sample_trusted", spy)
    monkeypatch.setattr(anon, "_SHARE_BLOCK_BITS", 16 * 10)
    by_seed = {}
    for seed in (1, 2):
        seen.clear()
        rec = BroadbentTapp(parties=4, sender=0).sample(Channel(), rounds=35, seed=seed)
        assert rec.shares is None and len(seen) == 4  # blocks of 10, 10, 10, 5 rows
        assert all(isinstance(s, int) and s != 0 for s in seen), seen
        by_seed[seed] = set(seen)
    assert by_seed[1].isdisjoint(by_seed[2])


def test_sender_bit_one_flips_both_pair_outcomes_in_x_and_y_only():
    """S applies Z^{r_S} and R's Z^Q includes r_S: configuration r_S = 1 is configuration r_S = 0 followed
    by Z_S Z_R, which flips both S's and R's X (and Y) outcomes and leaves Z outcomes and the others'
    broadcasts alone. So P_{r_S=1, b}(bits) = P_{r_S=0, b}(bits with S and R flipped) for b = XX, YY and
    P_{r_S=1, ZZ} = P_{r_S=0, ZZ}. With rotated channels (S and party 3 about axes at or near Y) the XX
    distribution is not symmetric under that flip, so the relation is not empty (checked here).

    catches: the r_S = 1 circuits built without the two Z corrections."""
    n, s, r = 4, 2, 0
    chans = (Channel(rotation_rad=0.9, rotation_axis=(0.0, 1.0, 0.0)),
             Channel(rotation_rad=0.5, rotation_axis=(1.0, 0.0, 0.3), depolarisation=0.05),
             Channel(rotation_rad=0.7, rotation_axis=(0.0, 1.0, 0.0)),
             Channel(rotation_rad=1.1, rotation_axis=(0.0, 1.0, 0.2), depolarisation=0.1))
    proto = AnonymousTransmission(parties=n, sender=s, receiver=r)
    probs = Engine().compile(proto.build_circuits(), proto.noise_model(chans)).probabilities
    codes = np.arange(probs.shape[1])
    flip = codes ^ ((1 << s) | (1 << r))
    for t, flipped in ((0, True), (1, True), (2, False)):
        want = probs[t][flip] if flipped else probs[t]
        np.testing.assert_allclose(probs[3 + t], want, atol=1e-12)
    assert np.abs(probs[0] - probs[0][flip]).max() > 0.05
