"""protocols/_qsdc.py's own machinery, written against its mutmut survivors (issue 9).

Expected values are written here: closed forms of the block layout (default block 4 x carriers,
erased + received bits = message bits), detection rates per leg (a first-leg check needs the first
leg only; a two-step carrier needs both legs; a DL04 check needs the first leg and matching bases),
the numpy reference of tests/_reference.py for the per-symbol error, and the refusals' exact
(name, value, allowed).
"""

import numpy as np
import pytest
from _reference import PAULI, apply, bell, click_kraus

from qproto import Channel, Engine, InterceptResend
from qproto._errors import InvalidParameter, InvalidType
from qproto.protocols import DL04, QSDCTwoStep
from qproto.protocols._qsdc import MAX_BLOCK_ROUNDS, MAX_MESSAGE_BYTES, QSDCResult, _QSDCTallies
from qproto._entanglement import Tallies
from qproto.testing import assert_proportion

LEG1 = Channel(depolarisation=0.03, transmittance=0.7, noise_click=0.01, rotation_rad=0.5,
               rotation_axis=(0.3, 0.4, 0.9))
LEG2 = Channel(depolarisation=0.15, misalignment=0.01, transmittance=0.5, noise_click=0.02, rotation_rad=0.8,
               rotation_axis=(1.0, 0.0, 0.2))


# ---- message validation --------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [QSDCTwoStep, DL04])
def test_message_refusals_carry_the_value(cls):
    with pytest.raises(InvalidType) as err:
        cls(message="text")
    assert (err.value.name, err.value.value) == ("message", "text")
    with pytest.raises(InvalidParameter) as err:
        cls(message=b"")
    assert (err.value.name, err.value.value, err.value.allowed) == ("message", b"", "at least one byte")


def test_message_of_exactly_the_maximum_length_is_accepted():
    """MAX_MESSAGE_BYTES bytes is allowed (the bound is inclusive); one more is refused."""
    assert DL04(message=bytes(MAX_MESSAGE_BYTES)).carriers == 8 * MAX_MESSAGE_BYTES
    with pytest.raises(InvalidParameter) as err:
        DL04(message=bytes(MAX_MESSAGE_BYTES + 1))
    assert (err.value.name, err.value.value, err.value.allowed) == \
        ("message", f"<{MAX_MESSAGE_BYTES + 1} bytes>", f"1 to {MAX_MESSAGE_BYTES} bytes")


@pytest.mark.parametrize("cls", [QSDCTwoStep, DL04])
def test_defaults_and_the_threshold_range(cls):
    """Defaults: message b"qproto", second_check_fraction 0.5, qber_threshold 0.11; the abort
    threshold is a QBER, so at most 1/2 (0.5 accepted, 0.6 refused with the range)."""
    proto = cls()
    assert (proto.message, proto.second_check_fraction, proto.qber_threshold) == (b"qproto", 0.5, 0.11)
    assert cls(qber_threshold=0.5).qber_threshold == 0.5
    with pytest.raises(InvalidParameter) as err:
        cls(qber_threshold=0.6)
    assert (err.value.name, err.value.value, err.value.allowed) == ("qber_threshold", 0.6, "[0, 0.5]")


def test_repr_names_the_class():
    assert repr(QSDCTwoStep(message=b"ab", qber_threshold=0.2)) == \
        "QSDCTwoStep(message=b'ab', second_check_fraction=0.5, qber_threshold=0.2)"


# ---- rounds, engine, form, progress of run() -------------------------------------------------------
@pytest.mark.parametrize("cls", [QSDCTwoStep, DL04])
def test_rounds_equal_to_the_carriers_is_refused_with_its_value_and_range(cls):
    proto = cls(message=b"abc")
    c = proto.carriers
    assert c == 24 // cls.bits_per_carrier
    with pytest.raises(InvalidParameter) as err:
        proto.run(Channel(), rounds=c, seed=1)
    assert (err.value.name, err.value.value, err.value.allowed) == \
        ("rounds", c, f"integers in [{c + 1}, {MAX_BLOCK_ROUNDS}]")
    assert f"allowed: integers in [{c + 1}, {MAX_BLOCK_ROUNDS}]" in str(err.value)
    # sample() refuses the same block (the layout needs one check round at least)
    with pytest.raises(InvalidParameter) as err:
        proto.sample(Channel(), rounds=c, seed=1)
    assert (err.value.name, err.value.value, err.value.allowed) == \
        ("rounds", c, f"more than the {c} message carriers")
    # one more round is a valid block with one check round
    assert proto.run(Channel(), rounds=c + 1, seed=1).rounds == c + 1


def test_rounds_bounds_are_checked_before_the_channel():
    """rounds 0 and MAX_BLOCK_ROUNDS + 1 are refused by the [1, MAX_BLOCK_ROUNDS] check itself,
    before anything else (here a bad channel) is looked at."""
    proto = DL04(message=b"a")
    for bad in (0, MAX_BLOCK_ROUNDS + 1):
        with pytest.raises(InvalidParameter) as err:
            proto.run("not a channel", rounds=bad, seed=1)
        assert (err.value.name, err.value.value, err.value.allowed) == \
            ("rounds", bad, f"integers in [1, {MAX_BLOCK_ROUNDS}]")


@pytest.mark.parametrize("cls", [QSDCTwoStep, DL04])
def test_default_block_is_four_times_the_carriers(cls):
    proto = cls(message=b"xyz")
    assert proto.run(Channel(), seed=4).rounds == 4 * proto.carriers
    assert proto.sample(Channel(), seed=4).role.size == 4 * proto.carriers
    rec = proto.sample(Channel(), rounds=proto.carriers + 7, seed=4)
    assert rec.role.size == proto.carriers + 7 and rec.role.dtype == np.uint8


def test_engine_form_and_progress_are_passed_through():
    proto = QSDCTwoStep(message=b"hi")
    with pytest.raises(InvalidType) as err:
        proto.run(Channel(), seed=1, engine="fast")
    assert (err.value.name, err.value.value, err.value.expected) == ("engine", "fast", "a qproto.Engine")
    # the caller's engine is the one used: a distribution engine limited to 1 qubit refuses
    with pytest.raises(InvalidParameter) as err:
        proto.run(Channel(), seed=1, engine=Engine(mode="distribution", max_distribution_qubits=1))
    assert err.value.name == "mode"
    # a small chunk size does not split the block: one chunk, the whole message decoded
    result = proto.run(Channel(), seed=1, engine=Engine(chunk_size=3))
    assert result.decoded == b"hi" and result.rounds == 32
    with pytest.raises(InvalidParameter) as err:
        proto.run(Channel(), seed=1, form="erasure")
    assert (err.value.name, err.value.value, err.value.allowed) == ("form", "erasure", "'fast'")
    assert "qsdc-two-step" in str(err.value)
    with pytest.raises(InvalidParameter) as err:
        DL04(message=b"hi").build_circuits(form="erasure")
    assert "qsdc-dl04" in str(err.value)
    calls = []
    proto.run(Channel(), seed=1, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(32, 32)]


def test_sample_passes_the_eavesdropper_through():
    """A full intercept-resend on a noiseless channel: the sampled first-leg checks err at 1/4."""
    proto = QSDCTwoStep(message=b"q")
    rec = proto.sample(Channel(), rounds=4000, seed=5, eavesdropper=InterceptResend())
    c1 = (rec.role == 1) & rec.detected
    assert_proportion(int(np.count_nonzero(c1 & (rec.sent != rec.received))), int(np.count_nonzero(c1)), 0.25,
                      what="check QBER under IR via sample()")


# ---- results --------------------------------------------------------------------------------------
def test_result_fields_estimates_and_sums():
    proto = DL04(message=b"ok", qber_threshold=0.3)
    eve = InterceptResend(fraction=0.5, p_z=0.75)
    r = proto.run(Channel(), rounds=200, seed=8, eavesdropper=eve)
    assert r.qber_threshold == 0.3
    assert r.eavesdropper == eve.to_dict() and r.eavesdropper is not None
    assert r.tallies["message_bits"] == 16
    clean = proto.run(Channel(), rounds=100, seed=9)
    assert clean.estimates()["decoded_correctly"] == 1 and clean.eavesdropper is None
    # different messages, same channels: tallies add, messages concatenate, the parameter follows
    other = DL04(message=b"!!!", qber_threshold=0.3).run(Channel(), rounds=100, seed=10)
    merged = clean + other
    assert merged.message == b"ok!!!" and merged.decoded == b"ok!!!"
    assert merged.parameters["message"] == b"ok!!!".hex()
    assert merged.tallies["message_bits"] == 40 and merged.rounds == 200
    # different channels: a combined result of both parts
    lossy = proto.run(Channel(depolarisation=0.1), rounds=100, seed=11)
    combined = clean + lossy
    assert not isinstance(combined, QSDCResult)
    assert len(combined.parts) == 2


def test_qsdc_tallies_add_key_by_key_and_concatenate():
    a = _QSDCTallies(Tallies(rounds=3, bit_errors=1), b"ab")
    b = _QSDCTallies(Tallies(rounds=5, bit_errors=2), b"c")
    s = a + b
    assert dict(s.tallies) == {"rounds": 8, "bit_errors": 3} and s.decoded == b"abc"


# ---- erasures and the detection of each leg ----------------------------------------------------------
@pytest.mark.parametrize("cls", [QSDCTwoStep, DL04])
def test_erased_carriers_decode_as_zero_bits_and_are_counted(cls):
    """All-ones message over a lossy second leg: every zero bit decoded is an erasure, and
    erased + received bits = message bits (k bits per lost carrier)."""
    msg = b"\xff" * 16
    proto = cls(message=msg)
    r = proto.run((Channel(), Channel(transmittance=0.5)), seed=12)
    t = r.tallies
    zeros = 8 * len(msg) - sum(bin(b).count("1") for b in r.decoded)
    assert t["erased_bits"] > 0 and zeros == t["erased_bits"]
    assert t["erased_bits"] + t["received_bits"] == t["message_bits"] == 8 * len(msg)
    assert t["erased_bits"] % cls.bits_per_carrier == 0


def test_two_step_detection_per_leg_and_random_check_symbols():
    """First-leg checks need leg 1 only (rate eta1); carriers and second-leg checks need both legs
    (rate eta1 eta2); second-leg check symbols are uniform over the four symbols; the basis record
    holds both bases."""
    leg1, leg2 = Channel(transmittance=0.8), Channel(transmittance=0.3)
    rec = QSDCTwoStep(message=b"\x00" * 4, second_check_fraction=0.5).sample((leg1, leg2), rounds=20_000, seed=13)
    for role, rate in ((1, 0.8), (0, 0.24), (2, 0.24)):
        sel = rec.role == role
        assert_proportion(int(np.count_nonzero(rec.detected[sel])), int(np.count_nonzero(sel)), rate,
                          what=f"detection of role {role}")
    c2 = rec.sent[rec.role == 2]
    for s in range(4):
        assert_proportion(int(np.count_nonzero(c2 == s)), c2.size, 0.25, what=f"check symbol {s}")
    assert rec.basis.shape == rec.role.shape and set(np.unique(rec.basis)) == {0, 1}


def test_dl04_check_detection_is_first_leg_times_basis_match():
    leg1, leg2 = Channel(transmittance=0.8), Channel(transmittance=0.3)
    rec = DL04(message=b"\x00", second_check_fraction=0.0).sample((leg1, leg2), rounds=20_000, seed=14)
    sel = rec.role == 1
    assert_proportion(int(np.count_nonzero(rec.detected[sel])), int(np.count_nonzero(sel)), 0.4,
                      what="sifted first-leg checks")
    assert rec.basis.shape == rec.role.shape and set(np.unique(rec.basis)) == {0, 1}


# ---- closed forms --------------------------------------------------------------------------------
def _ref_symbol_wrong_bits(k):
    """Reference expected wrong bits of dense-coding symbol k = 2x + z over LEG1 (C) and LEG2 (M)."""
    pair = apply(bell("phi+"), click_kraus(LEG1), 0)
    x, z = k >> 1, k & 1
    u = (PAULI["Z"] if z else np.eye(2)) @ (PAULI["X"] if x else np.eye(2))
    rho = apply(apply(pair, [u], 1), click_kraus(LEG2), 1)
    decoded = {(0, 0): "phi+", (0, 1): "phi-", (1, 0): "psi+", (1, 1): "psi-"}
    return sum(float(np.real(np.trace(bell(n) @ rho))) * ((m1 != x) + (m0 != z)) for (m1, m0), n in decoded.items())


def test_two_step_expected_ber_uses_the_message_symbols():
    """0xaa = symbols (x, z) = (1, 0) only: expected BER = that symbol's wrong bits / 2, which the
    rotated legs make differ from symbol 0's and from the uniform mean."""
    ref = [_ref_symbol_wrong_bits(k) for k in range(4)]
    assert abs(ref[2] - ref[0]) > 0.01 and abs(ref[2] - np.mean(ref)) > 0.005
    exp = QSDCTwoStep(message=b"\xaa\xaa").expected((LEG1, LEG2))
    assert exp["ber"] == pytest.approx(ref[2] / 2, abs=1e-9)


def test_dl04_second_leg_depolarisation_above_one_is_not_capped_at_one():
    """Depolarisation may reach 4/3 (Aer's full range): leg 2 with p = 1.3 and no loss gives the
    bit error [1 - (1 - p1)(1 - p2)]/2 with 1 - p2 = -0.3 (beyond the fully mixed point)."""
    p1, p2 = 0.1, 1.3
    errs = DL04().bit_errors((Channel(depolarisation=p1), Channel(depolarisation=p2)))
    np.testing.assert_allclose(errs, [(1 - (1 - p1) * (1 - p2)) / 2] * 2, atol=1e-12)


# ---- circuit layout (docstrings: configuration ids, qubits, names) ------------------------------------
def _markers(qc):
    return sum(1 for inst in qc.data if inst.operation.name == "id")


def test_two_step_circuit_layout():
    plain = QSDCTwoStep().build_circuits()
    assert len(plain) == 6 and all(qc.num_qubits == 2 for qc in plain)
    assert [qc.name for qc in plain] == [f"twostep_e0_k{k}" for k in range(6)]
    eve = InterceptResend(fraction=0.5, p_z=0.75)
    attacked = QSDCTwoStep().build_circuits(eavesdropper=eve)
    assert len(attacked) == 6 * eve.n_branches and all(qc.num_qubits == 3 for qc in attacked)
    assert attacked[6 + 5].name == "twostep_e1_k5"


def test_dl04_circuit_layout_and_check_rounds_cross_one_leg():
    plain = DL04().build_circuits()
    assert len(plain) == 16 and all(qc.num_qubits == 3 for qc in plain)
    assert plain[(1 * 2 + 1) * 4 + 2].name == "dl04_e0_bX1_j2" and plain[1].name == "dl04_e0_bZ0_j1"
    for cfg, qc in enumerate(plain):
        assert _markers(qc) == (2 if cfg & 3 < 2 else 1)  # carriers cross both legs, checks the first
    eve = InterceptResend()
    attacked = DL04().build_circuits(eavesdropper=eve)
    assert len(attacked) == 16 * eve.n_branches and all(qc.num_qubits == 4 for qc in attacked)


def test_dl04_carrier_error_with_no_transmission_is_the_noise_click_limit():
    """First leg with transmittance 0: a carrier that clicks at Bob is only ever a noise click, which
    reads a random bit (error 1/2) whatever leg 2's depolarisation; the case with no noise clicks at
    all (the click itself impossible) takes that same limit rather than leg 2's p/2."""
    for nc in (0.0, 1e-6, 0.3):
        errs = DL04().bit_errors((Channel(transmittance=0.0), Channel(depolarisation=0.1, noise_click=nc)))
        np.testing.assert_allclose(errs, [0.5, 0.5], atol=1e-12)
