"""QSDC invariants (docs/conventions.md section B: 24-27): two-step and DL04.

Expected values come from closed forms written here (docs/conventions.md A6) or from the numpy reference
(tests/_reference.py), never from the protocols' own expected().
"""

import numpy as np
import pytest
from _reference import PAULI, apply, intercept_resend_map, basis_kets, bell, click_kraus, compose, depolarise, dm, rotation
from qiskit.quantum_info import DensityMatrix, partial_trace

from qproto import Channel, Engine, InterceptResend
from qproto._errors import InvalidParameter, InvalidType
from qproto.protocols import DL04, QSDCTwoStep
from qproto.testing import assert_matches_expected, assert_proportion, assert_reproducible, assert_round_trip

# Two different legs, each with its own rotation, loss and noise clicks.
LEG1 = Channel(depolarisation=0.03, transmittance=0.7, noise_click=0.01, rotation_rad=0.5,
               rotation_axis=(0.3, 0.4, 0.9))
LEG2 = Channel(depolarisation=0.15, misalignment=0.01, transmittance=0.5, noise_click=0.02, rotation_rad=0.8,
               rotation_axis=(1.0, 0.0, 0.2))
BIASED_IR = InterceptResend(fraction=0.5, p_z=0.75)

DIST = Engine(mode="distribution")
TEXT = "Hello from the sky: qproto QSDC!".encode()


@pytest.mark.parametrize("cls", [QSDCTwoStep, DL04])
def test_invariant24_noiseless_message_decoded_exactly(cls):
    """Invariant 24 [EXACT]: noiseless, the decoded message equals the sent one; the exact
    distributions decode every carrier symbol deterministically."""
    proto = cls(message=TEXT)
    result = proto.run(Channel(), seed=1)
    assert result.decoded == TEXT and result.ber.best == 0.0 and not result.aborted
    probs = DIST.compile(proto.build_circuits(), proto.noise_model((Channel(), Channel()))).probabilities
    codes = np.arange(probs.shape[1])
    if cls is QSDCTwoStep:
        for k in range(4):  # symbol (x, z) = (k >> 1, k & 1) read as (m1, m0)
            decoded = ((codes >> 1) & 1) * 2 + (codes & 1)
            assert probs[k][decoded == k].sum() == pytest.approx(1.0, abs=1e-9)
    else:
        for cfg in range(16):
            prep, j = cfg >> 2, cfg & 3
            if j < 2:  # carrier of bit j: Bob's bit xor his prepared bit == j
                bob = ((codes >> 1) & 1) ^ (prep & 1)
                assert probs[cfg][bob == j].sum() == pytest.approx(1.0, abs=1e-9)


def test_invariant25_two_step_travelling_qubit_is_maximally_mixed():
    """Invariant 25 [EXACT]: after encoding, M's reduced state is I/2 for every symbol."""
    for qc in QSDCTwoStep().build_circuits()[:4]:
        body = qc.remove_final_measurements(inplace=False)
        # state just before Bob's Bell measurement: drop the last two gates (cx, h)
        trimmed = body.copy_empty_like()
        for inst in body.data[:-2]:
            if inst.operation.name != "id":
                trimmed.append(inst)
        rho_m = partial_trace(DensityMatrix(trimmed), [0])
        np.testing.assert_allclose(rho_m.data, np.eye(2) / 2, atol=1e-12)


def _dl04_photon_states(cfgs, upto, qubit):
    """States of DL04's travelling photon read off the protocol's own circuits: the circuit of each
    configuration cut after its first ``upto`` instructions (markers dropped), ``qubit``'s reduced
    state (the photon is qubit 0 on the first leg, qubit 1 after the swap)."""
    out = []
    circuits = DL04().build_circuits()
    for cfg in cfgs:
        qc = circuits[cfg].remove_final_measurements(inplace=False)
        trimmed = qc.copy_empty_like()
        for inst in qc.data[:upto(qc)]:
            if inst.operation.name != "id":
                trimmed.append(inst)
        rho = DensityMatrix(trimmed)
        out.append(partial_trace(rho, [q for q in range(trimmed.num_qubits) if q != qubit]).data)
    return out


def test_invariant25_dl04_basis_averaged_photon_is_maximally_mixed():
    """Invariant 25 [EXACT]: DL04's outgoing photon (built by the protocol's circuits) averaged over
    Bob's four preparations is I/2, and so is the returned photon for each message bit m.
    Configuration (Bob's basis, bit, carrier of bit m) = (basis * 2 + bit) * 4 + m.

    catches: Bob's preparation not covering both bases or both bits (e.g. a constant bit or basis),
    an encoding that is not a unitary applied to every state alike."""
    def before_encoding(qc):  # preparation (and marker) only: up to the first encoding / swap gate
        names = [inst.operation.name for inst in qc.data]
        return names.index("swap") - (2 if "z" in names else 0)

    def after_encoding(qc):  # through the swap, before Bob's measurement basis change
        return [inst.operation.name for inst in qc.data].index("swap") + 1

    for m in (0, 1):
        cfgs = [prep * 4 + m for prep in range(4)]
        sent = _dl04_photon_states(cfgs, before_encoding, 0)
        returned = _dl04_photon_states(cfgs, after_encoding, 1)
        np.testing.assert_allclose(sum(sent) / 4, np.eye(2) / 2, atol=1e-12)
        np.testing.assert_allclose(sum(returned) / 4, np.eye(2) / 2, atol=1e-12)
        # and each prepared state is pure and distinct: the average is not I/2 by accident
        assert all(abs(np.trace(r @ r) - 1) < 1e-12 for r in sent)


@pytest.mark.parametrize("cls,ber", [(QSDCTwoStep, lambda p: p - p * p / 2), (DL04, lambda p: (1 - (1 - p) ** 2) / 2)])
def test_invariant26_ber_and_check_qber(cls, ber):
    """Invariant 26 [STAT]: two-step BER -> p - p^2/2; DL04 BER -> [1-(1-p)^2]/2; check QBER -> p/2."""
    p = 0.12
    proto = cls(message=bytes(range(256)) * 4, second_check_fraction=0.5)
    result = proto.run(Channel(depolarisation=p), rounds=60_000, seed=7)
    t = result.tallies
    bits_ber = ber(p)
    assert proto.expected(Channel(depolarisation=p))["ber"] == pytest.approx(bits_ber)
    assert_proportion(t["bit_errors"], t["received_bits"], bits_ber, what="message BER")
    assert_proportion(t["check2_errors"], t["check2_bits"], bits_ber, what="second-leg check")
    assert_proportion(t["check1_errors"], t["check1_rounds"], p / 2, what="check QBER")
    assert not result.aborted


@pytest.mark.parametrize("cls", [QSDCTwoStep, DL04])
def test_invariant27_intercept_resend_on_first_leg_is_detected(cls):
    """Invariant 27 [STAT]: random-basis intercept-resend on the first leg: check QBER -> 0.25; abort."""
    result = cls(message=TEXT).run(Channel(), rounds=12_000, seed=3, eavesdropper=InterceptResend())
    t = result.tallies
    assert_proportion(t["check1_errors"], t["check1_rounds"], 0.25, what="check QBER under IR")
    assert result.aborted


def test_loss_erases_carriers_and_round_trip():
    proto = QSDCTwoStep(message=TEXT)
    result = proto.run((Channel(transmittance=0.5), Channel()), rounds=4000, seed=2)
    assert result.tallies["erased_bits"] > 0 and result.ber.best == 0.0
    assert len(result.decoded) == len(TEXT)
    assert_round_trip(result)
    other = proto.run((Channel(transmittance=0.5), Channel()), rounds=4000, seed=3)
    merged = result + other
    assert merged.message == TEXT + TEXT and merged.decoded == result.decoded + other.decoded
    assert merged.seeds == (2, 3)
    assert_round_trip(merged)
    assert_reproducible(lambda seed: proto.run(Channel(depolarisation=0.1), rounds=2000, seed=seed))


@pytest.mark.parametrize("cls", [QSDCTwoStep, DL04])
def test_bad_inputs_name_the_parameter(cls):
    with pytest.raises(InvalidType) as err:
        cls(message="text, not bytes")
    assert err.value.name == "message"
    with pytest.raises(InvalidParameter) as err:
        cls(message=b"")
    assert err.value.name == "message"
    with pytest.raises(InvalidParameter) as err:
        cls(second_check_fraction=1.5)
    assert err.value.name == "second_check_fraction"
    with pytest.raises(InvalidParameter) as err:
        cls(message=b"abc").run(Channel(), rounds=5)
    assert err.value.name == "rounds"


# ---- asymmetric and rotated legs: exact distributions against the reference --------------------
def _ref_two_step(eve=None):
    """Reference per-symbol expected wrong bits and per-basis check error of the two-step protocol:
    Phi+ on (C, M), Eve then leg 1 (click-conditioned) on C; carriers: Z^z X^x then leg 2 on M and a
    Bell measurement; checks: both measured in one basis, M at home."""
    pair = intercept_resend_map(bell("phi+"), 0, eve)
    pair = apply(pair, click_kraus(LEG1), 0)
    decoded = {(0, 0): "phi+", (0, 1): "phi-", (1, 0): "psi+", (1, 1): "psi-"}  # (m1, m0) = (x, z)
    wrong_bits = []
    for k in range(4):
        x, z = k >> 1, k & 1
        u = (PAULI["Z"] if z else np.eye(2)) @ (PAULI["X"] if x else np.eye(2))
        rho = apply(apply(pair, [u], 1), click_kraus(LEG2), 1)
        wrong_bits.append(sum(float(np.real(np.trace(bell(name) @ rho))) * ((m1 != x) + (m0 != z))
                              for (m1, m0), name in decoded.items()))
    check = {}
    for basis in ("Z", "X"):
        p_dis = 0.0
        for bc in (0, 1):
            for bm in (0, 1):
                if bc != bm:
                    proj = np.kron(dm(basis_kets(basis)[bc]), dm(basis_kets(basis)[bm]))
                    p_dis += float(np.real(np.trace(proj @ pair)))
        check[basis] = p_dis
    return np.array(wrong_bits), check


def _round_trip_kraus():
    """Reference DL04 carrier maps: leg 1 given arrival (rotation, depolarising p_q1), leg 2 given
    Bob's click on the round trip (rotation, depolarising 1 - w (1 - p_q2), w = eta1 eta2 / P_click)."""
    def p_q(ch):
        return 1 - (1 - ch.depolarisation) * (1 - 2 * ch.misalignment)
    eta = LEG1.transmittance * LEG1.detector_efficiency * LEG2.transmittance * LEG2.detector_efficiency
    w = eta / (eta + (1 - eta) * LEG2.noise_click)
    first = compose([rotation(LEG1.rotation_rad, LEG1.rotation_axis)], depolarise(p_q(LEG1)))
    second = compose([rotation(LEG2.rotation_rad, LEG2.rotation_axis)], depolarise(1 - w * (1 - p_q(LEG2))))
    return first, second


def _ref_dl04(eve=None):
    """Reference DL04 carrier error per message bit (Bob's basis uniform) and check error per basis."""
    first, second = _round_trip_kraus()
    iy = PAULI["Z"] @ PAULI["X"]
    errors = []
    for m in (0, 1):
        e = 0.0
        for basis in ("Z", "X"):
            for bit in (0, 1):
                rho = intercept_resend_map(dm(basis_kets(basis)[bit]), 0, eve)
                rho = apply(rho, first, 0)
                if m:
                    rho = iy @ rho @ iy.conj().T
                rho = apply(rho, second, 0)
                wrong = basis_kets(basis)[1 - (bit ^ m)]
                e += float(np.real(wrong.conj() @ rho @ wrong)) / 4
        errors.append(e)
    check = {}
    for basis in ("Z", "X"):
        check[basis] = sum(float(np.real(basis_kets(basis)[1 - bit].conj()
                                         @ apply(intercept_resend_map(dm(basis_kets(basis)[bit]), 0, eve),
                                                 click_kraus(LEG1), 0)
                                         @ basis_kets(basis)[1 - bit])) / 2 for bit in (0, 1))
    return np.array(errors), check


def _weights(eve):
    return [1.0] if eve is None else [1 - eve.fraction, eve.fraction * eve.p_z, eve.fraction * (1 - eve.p_z)]


@pytest.mark.parametrize("eve", [None, BIASED_IR], ids=["no-eve", "biased-ir"])
def test_invariant26_two_step_legs_exact_against_reference(eve):
    """Invariant 26 [EXACT], asymmetric rotated legs and a biased intercept-resend on C: from the
    compiled distributions, each symbol's wrong bits and each basis's first-leg check error equal
    the reference; ``symbol_bit_errors``/``expected`` too.

    catches: the two legs swapped (the check error would see leg 2), leg 2's noise put on C or on
    M during check rounds, Eve on M, the encoding applied after leg 2, (m1, m0) read as (z, x),
    an expected() that ignores rotations (every symbol would have the same error)."""
    proto = QSDCTwoStep()
    probs = DIST.compile(proto.build_circuits(eavesdropper=eve),
                         proto.noise_model((LEG1, LEG2), eavesdropper=eve)).probabilities
    codes = np.arange(probs.shape[1])
    c_bit, m_bit = codes & 1, (codes >> 1) & 1
    ref_bits, ref_check = _ref_two_step(eve)
    w = _weights(eve)
    for k in range(4):
        p = sum(wb * probs[b * 6 + k] for b, wb in enumerate(w))
        diff = ((m_bit << 1) | c_bit) ^ k
        assert (p * (((diff >> 1) & 1) + (diff & 1))).sum() == pytest.approx(ref_bits[k], abs=1e-9)
    for basis, name in ((0, "Z"), (1, "X")):
        p = sum(wb * probs[b * 6 + 4 + basis] for b, wb in enumerate(w))
        assert p[c_bit != m_bit].sum() == pytest.approx(ref_check[name], abs=1e-9)
    np.testing.assert_allclose(proto.symbol_bit_errors((LEG1, LEG2), eavesdropper=eve), ref_bits, atol=1e-9)
    exp = proto.expected((LEG1, LEG2), eavesdropper=eve)
    assert exp["check_qber"] == pytest.approx((ref_check["Z"] + ref_check["X"]) / 2, abs=1e-9)
    assert exp["second_check_error"] == pytest.approx(ref_bits.mean() / 2, abs=1e-9)
    assert max(ref_bits) - min(ref_bits) > 0.01  # the rotation makes the error symbol-dependent


@pytest.mark.parametrize("eve", [None, BIASED_IR], ids=["no-eve", "biased-ir"])
def test_invariant26_dl04_legs_exact_against_reference(eve):
    """Invariant 26 [EXACT] for DL04 with different rotated legs and a biased attack: each message
    bit's error (Bob's basis uniform) and the first-leg check error per basis equal the reference.

    catches: a leg's rotation dropped (the carriers' legs once carried depolarising only), legs
    swapped, Bob's noise clicks charged to the first leg, I and iY exchanged, Eve on the second leg."""
    proto = DL04()
    probs = DIST.compile(proto.build_circuits(eavesdropper=eve),
                         proto.noise_model((LEG1, LEG2), eavesdropper=eve)).probabilities
    codes = np.arange(probs.shape[1])
    ref_bits, ref_check = _ref_dl04(eve)
    w = _weights(eve)
    errs, check = [0.0, 0.0], {"Z": 0.0, "X": 0.0}
    for prep in range(4):
        b_basis, b_bit = prep >> 1, prep & 1
        for j in range(4):
            p = sum(wb * probs[b * 16 + prep * 4 + j] for b, wb in enumerate(w))
            if j < 2:
                errs[j] += p[(((codes >> 1) & 1) ^ b_bit) != j].sum() / 4
            elif j - 2 == b_basis:
                check["ZX"[b_basis]] += p[((codes >> 2) & 1) != b_bit].sum() / 2
    np.testing.assert_allclose(errs, ref_bits, atol=1e-9)
    assert check["Z"] == pytest.approx(ref_check["Z"], abs=1e-9)
    assert check["X"] == pytest.approx(ref_check["X"], abs=1e-9)
    np.testing.assert_allclose(proto.bit_errors((LEG1, LEG2), eavesdropper=eve), ref_bits, atol=1e-9)
    exp = proto.expected((LEG1, LEG2), eavesdropper=eve)
    assert exp["check_qber"] == pytest.approx((ref_check["Z"] + ref_check["X"]) / 2, abs=1e-9)


@pytest.mark.parametrize("cls", [QSDCTwoStep, DL04])
def test_invariant26_first_leg_check_sees_only_the_first_leg_sampled(cls):
    """Invariant 26 [STAT] with different depolarising legs (p1 = 0.04, p2 = 0.3, no rotation):
    check QBER -> p1_eff/2 (first leg only), BER and second-leg check -> the A6 two-leg forms
    written here: two-step [1 - (1-p1)(1-p2)]/2, DL04 [1 - (1-p_q1)(1-p2')]/2 (p2' with Bob's
    noise clicks on the round trip).

    catches: legs swapped, the check charged with both legs, the BER with one leg only."""
    leg1 = Channel(depolarisation=0.04, transmittance=0.8, noise_click=0.01)
    leg2 = Channel(depolarisation=0.3, transmittance=0.6)
    s1 = 0.8 / (0.8 + 0.2 * 0.01)
    p1_eff = 1 - s1 * (1 - 0.04)
    if cls is QSDCTwoStep:
        ber = (1 - (1 - p1_eff) * (1 - 0.3)) / 2
    else:
        ber = (1 - (1 - 0.04) * (1 - 0.3)) / 2  # leg 2 has no noise clicks: w = 1
    proto = cls(message=bytes(range(256)) * 2, second_check_fraction=0.5)
    result = proto.run((leg1, leg2), rounds=30_000, seed=19)
    t = result.tallies
    assert_proportion(t["check1_errors"], t["check1_rounds"], p1_eff / 2, what="first-leg check")
    assert_proportion(t["bit_errors"], t["received_bits"], ber, what="message BER")
    assert_proportion(t["check2_errors"], t["check2_bits"], ber, what="second-leg check")
    assert result.aborted is False


@pytest.mark.parametrize("cls", [QSDCTwoStep, DL04])
def test_sampled_rotated_legs_and_biased_attack_match_expected(cls):
    """[STAT]: a run over the rotated legs with a biased intercept-resend matches expected()
    (itself equal to the reference above): BER of the actual message, second-leg check, check QBER."""
    proto = cls(message=TEXT * 8, second_check_fraction=0.5)
    result = proto.run((LEG1, LEG2), rounds=20_000, seed=23, eavesdropper=BIASED_IR)
    assert_matches_expected(result, proto.expected((LEG1, LEG2), eavesdropper=BIASED_IR),
                            keys=["ber", "check_qber", "second_check_error"])
