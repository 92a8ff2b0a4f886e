"""QSDC invariants (PHYSICS.md section B: 24-27): two-step and DL04."""

import numpy as np
import pytest
from qiskit.quantum_info import DensityMatrix, partial_trace

from qproto import Channel, Engine, InterceptResend
from qproto._errors import InvalidParameter, InvalidType
from qproto.protocols import DL04, QSDCTwoStep
from qproto.testing import assert_proportion, assert_reproducible, assert_round_trip

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


def test_invariant25_dl04_basis_averaged_photon_is_maximally_mixed():
    """Invariant 25 [EXACT]: DL04's photon averaged over Bob's basis and bit is I/2, and so is
    the returned photon for each message bit."""
    states = []
    for basis in (0, 1):
        for bit in (0, 1):
            v = np.array([1.0, 0.0]) if bit == 0 else np.array([0.0, 1.0])
            if basis:
                v = np.array([v[0] + v[1], v[0] - v[1]]) / np.sqrt(2)
            states.append(np.outer(v, v))
    np.testing.assert_allclose(sum(states) / 4, np.eye(2) / 2, atol=1e-12)
    iy = np.array([[0, 1], [-1, 0]])
    np.testing.assert_allclose(sum(iy @ s @ iy.T for s in states) / 4, np.eye(2) / 2, atol=1e-12)


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
