"""Channel -> Aer NoiseModel: invariant 1, the equality of the fast and erasure forms, and the
coherent rotation (an Aer unitary error) checked against an independent numpy computation."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from qiskit import QuantumCircuit
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel

from qproto import Channel, Engine, InvalidParameter, InvalidType
from qproto.noise_models import (
    CHANNEL_LABEL,
    ERASURE_LABEL,
    channel_marker,
    channel_noise_model,
    erasure_error,
    erasure_marker,
    qubit_error,
)
from qproto.protocols import BB84, BBM92
from qproto.testing import (
    assert_matches_expected,
    assert_same_proportion,
    channels,
    noisy_channels,
    probabilities,
    rotated_channels,
)

DIST = Engine(mode="distribution")


def _bb84_probabilities(channel, form):
    bb84 = BB84()
    compiled = DIST.compile(bb84.build_circuits(form=form), bb84.noise_model((channel,), form=form))
    return compiled.probabilities  # rows: config ((a_basis*2 + a_bit)*2 + b_basis)


@given(p=probabilities())
def test_invariant1_bb84_state_through_depolarizing_error_flips_with_p_over_2(p):
    """Invariant 1 [EXACT]: depolarizing_error(p, 1) on a BB84 state: error probability p/2, both bases."""
    probs = _bb84_probabilities(Channel(depolarisation=p), "fast")
    for cfg in range(8):
        a_basis, a_bit, b_basis = (cfg >> 2) & 1, (cfg >> 1) & 1, cfg & 1
        if a_basis == b_basis:
            assert probs[cfg, 1 - a_bit] == pytest.approx(p / 2, abs=1e-9)
        else:
            assert probs[cfg, 1] == pytest.approx(0.5, abs=1e-9)


@given(ch=noisy_channels())
def test_erasure_form_distributions_equal_the_fast_closed_form_exactly(ch):
    """The flag-qubit erasure error reproduces click probability and QBER exactly."""
    probs = _bb84_probabilities(ch, "erasure")  # clbit 0 = Bob, clbit 1 = flag (1 = no click)
    for cfg in range(8):
        a_basis, a_bit, b_basis = (cfg >> 2) & 1, (cfg >> 1) & 1, cfg & 1
        clicked = probs[cfg, 0] + probs[cfg, 1]
        assert clicked == pytest.approx(ch.detection_probability, abs=1e-9)
        if a_basis == b_basis and clicked > 1e-12:
            wrong = probs[cfg, 1 - a_bit]
            assert wrong / clicked == pytest.approx(ch.qber, abs=1e-9)


@settings(max_examples=6)
@given(ch=noisy_channels())
def test_fast_and_erasure_forms_give_the_same_click_rate_and_qber(ch):
    """Sampled: both forms match each other and the closed form (docs/conventions.md B tolerance)."""
    bb84 = BB84()
    fast = bb84.run(ch, rounds=40_000, seed=11, form="fast")
    erasure = bb84.run(ch, rounds=40_000, seed=12, form="erasure")
    for r in (fast, erasure):
        assert_matches_expected(r, bb84.expected(ch), keys=["detection_rate", "qber_z", "qber_x"])
    c1, c2 = fast.counts, erasure.counts
    assert_same_proportion(c1.detected, c1.rounds, c2.detected, c2.rounds, what="click rate")
    assert_same_proportion(c1.errors_z + c1.errors_x, c1.sifted_z + c1.sifted_x,
                           c2.errors_z + c2.errors_x, c2.sifted_z + c2.sifted_x, what="QBER")


def test_fast_and_erasure_forms_agree_for_bbm92_with_noise_clicks():
    ch_a = Channel(transmittance=0.4, depolarisation=0.05, noise_click=0.05)
    ch_b = Channel(transmittance=0.6, misalignment=0.02, noise_click=0.02)
    bbm92 = BBM92()
    fast = bbm92.run((ch_a, ch_b), rounds=60_000, seed=3, form="fast")
    erasure = bbm92.run((ch_a, ch_b), rounds=60_000, seed=4, form="erasure")
    for r in (fast, erasure):
        assert_matches_expected(r, bbm92.expected((ch_a, ch_b)), keys=["detection_rate", "qber_z", "qber_x"])


def test_noise_model_attaches_errors_to_marker_labels_on_the_right_qubits():
    nm = channel_noise_model({0: Channel(depolarisation=0.1), 3: Channel(depolarisation=0.2)})
    assert isinstance(nm, NoiseModel)
    assert CHANNEL_LABEL in nm.noise_instructions
    assert sorted(nm.noise_qubits) == [0, 3]
    nm2 = channel_noise_model(Channel(transmittance=0.5), form="erasure", flags={0: 1})
    assert ERASURE_LABEL in nm2.noise_instructions


def test_qubit_error_is_aers_depolarizing_error():
    from qiskit_aer.noise import depolarizing_error
    ch = Channel(depolarisation=0.1, misalignment=0.05)
    assert qubit_error(ch) == depolarizing_error(1 - 0.9 * 0.9, 1)
    assert erasure_error(Channel(transmittance=0.3)).num_qubits == 2


@pytest.mark.parametrize("call, exc, name", [
    (lambda: channel_noise_model({0: Channel()}, form="kraus"), InvalidParameter, "form"),
    (lambda: channel_noise_model({0: Channel()}, form="erasure"), InvalidParameter, "flags"),
    (lambda: channel_noise_model({0: 0.5}), InvalidType, "channels[0]"),
    (lambda: channel_noise_model(0.5), InvalidType, "channels"),
    (lambda: qubit_error("ideal"), InvalidType, "channel"),
])
def test_bad_noise_model_inputs(call, exc, name):
    with pytest.raises(exc) as info:
        call()
    assert info.value.name == name


def test_marker_survives_in_a_user_circuit():
    """The markers are plain labelled identities a user can place in their own circuits."""
    from qiskit_aer import AerSimulator

    from qproto.noise_models import channel_marker
    qc = QuantumCircuit(1)
    qc.append(channel_marker(), [0])
    qc.save_probabilities([0])
    probs = AerSimulator(method="density_matrix",
                         noise_model=channel_noise_model(Channel(depolarisation=0.5))).run(qc).result().data(0)
    assert np.allclose(probs["probabilities"], [0.75, 0.25])


# ---- coherent rotation: Aer against numpy ----------------------------------------------------

_PAULI = (np.array([[0, 1], [1, 0]], dtype=complex), np.array([[0, -1j], [1j, 0]]),
          np.array([[1, 0], [0, -1]], dtype=complex))
_R = 1 / math.sqrt(2)
# The six BB84/Y states written out (docs/conventions.md section 0): (basis, bit) -> state vector.
_STATES = {("Z", 0): np.array([1, 0]), ("Z", 1): np.array([0, 1]),
           ("X", 0): np.array([_R, _R]), ("X", 1): np.array([_R, -_R]),
           ("Y", 0): np.array([_R, 1j * _R]), ("Y", 1): np.array([_R, -1j * _R])}


def _numpy_flip_probability(ch, basis, bit, *, given_click):
    """rho -> U rho U^dagger -> (1 - p) rho + p I/2 [-> s rho + (1 - s) I/2], all in numpy;
    U = exp(-i theta/2 n.sigma) by diagonalising n.sigma (independent of Channel.unitary)."""
    n = np.asarray(ch.rotation_axis) / np.linalg.norm(ch.rotation_axis)
    w, v = np.linalg.eigh(sum(n[k] * _PAULI[k] for k in range(3)))
    u = v @ np.diag(np.exp(-0.5j * ch.rotation_rad * w)) @ v.conj().T
    p = 1 - (1 - ch.depolarisation) * (1 - 2 * ch.misalignment)
    psi = _STATES[(basis, bit)]
    rho = u @ np.outer(psi, psi.conj()) @ u.conj().T
    rho = (1 - p) * rho + p * np.eye(2) / 2
    if given_click:
        eta = ch.transmittance * ch.detector_efficiency
        s = eta / (eta + (1 - eta) * ch.noise_click)
        rho = s * rho + (1 - s) * np.eye(2) / 2
    wrong = _STATES[(basis, 1 - bit)]
    return float(np.real(wrong.conj() @ rho @ wrong))


def _prepare_and_measure(qc, basis, bit, marker, qargs):
    """Prepare (basis, bit) on qubit 0 as docs/conventions.md section 0 says, cross the marker, rotate back to Z."""
    if bit:
        qc.x(0)
    if basis == "X":
        qc.h(0)
    elif basis == "Y":
        qc.h(0)
        qc.s(0)
    qc.append(marker, qargs)
    if basis == "X":
        qc.h(0)
    elif basis == "Y":
        qc.sdg(0)
        qc.h(0)


def _fast_flip_probability(ch, basis, bit):
    qc = QuantumCircuit(1)
    _prepare_and_measure(qc, basis, bit, channel_marker(), [0])
    qc.save_probabilities([0])
    sim = AerSimulator(method="density_matrix", noise_model=channel_noise_model(ch))
    return float(sim.run(qc).result().data(0)["probabilities"][1 - bit])  # no transpile: the marker is matched


ROTATED = [
    Channel(rotation_rad=math.pi / 3, depolarisation=0.1),                        # z: H/V retardance
    Channel(rotation_rad=math.pi / 3, rotation_axis=(0, 1, 0), misalignment=0.03),  # y: rotated frame
    Channel(rotation_rad=math.pi / 2, rotation_axis=(1, 0, 0), depolarisation=0.2),  # x
    Channel(rotation_rad=2.0, rotation_axis=(1, 2, 2), depolarisation=0.05),       # tilted
    Channel(rotation_rad=0.7, rotation_axis=(-0.3, 0.5, -0.8), depolarisation=1.2),
]


@pytest.mark.parametrize("ch", ROTATED, ids=["z", "y", "x", "tilted", "tilted-negative"])
def test_fast_form_rotation_gives_the_numpy_error_probability_in_every_basis(ch):
    """[EXACT] Catches a wrong axis, a wrong sign, theta instead of theta/2, a missing unitary error."""
    for basis in "ZXY":
        for bit in (0, 1):
            expected = _numpy_flip_probability(ch, basis, bit, given_click=False)
            assert _fast_flip_probability(ch, basis, bit) == pytest.approx(expected, abs=1e-10), (basis, bit)


@settings(max_examples=8)
@given(ch=rotated_channels() | channels(max_rotation_rad=math.pi))
def test_fast_form_rotation_matches_numpy_for_drawn_channels(ch):
    for basis in "ZXY":
        assert _fast_flip_probability(ch, basis, 0) == pytest.approx(
            _numpy_flip_probability(ch, basis, 0, given_click=False), abs=1e-10)


def test_a_sign_error_in_the_rotation_would_be_seen():
    """The test harness itself can tell U from U^dagger: about x by pi/2, |+i> goes to |0> or to |1>."""
    ch = Channel(rotation_rad=math.pi / 2, rotation_axis=(1, 0, 0))
    qc = QuantumCircuit(1)
    qc.h(0)
    qc.s(0)  # |+i>
    qc.append(channel_marker(), [0])
    qc.save_probabilities([0])
    probs = AerSimulator(method="density_matrix", noise_model=channel_noise_model(ch)).run(qc).result().data(0)
    # exp(-i pi/4 X) rotates the Bloch vector +y about +x to +z (right-handed): |+i> -> |0> up to phase.
    assert np.allclose(probs["probabilities"], [1.0, 0.0], atol=1e-12)


@pytest.mark.parametrize("ch", [
    Channel(rotation_rad=math.pi / 3, depolarisation=0.1, transmittance=0.5, noise_click=0.1),
    Channel(rotation_rad=2.0, rotation_axis=(1, 2, 2), misalignment=0.02, transmittance=0.3,
            detector_efficiency=0.8, noise_click=0.05),
    Channel(rotation_rad=1.0, rotation_axis=(0, 1, 0), transmittance=0.7),
], ids=["z-noise-clicks", "tilted-efficiency", "y-no-noise"])
def test_erasure_form_rotation_gives_the_numpy_error_probability_given_a_click(ch):
    """[EXACT] The erasure form's arrival branch carries the rotation; noise clicks stay random."""
    eta = ch.transmittance * ch.detector_efficiency
    p_click = eta + (1 - eta) * ch.noise_click
    for basis in "ZXY":
        for bit in (0, 1):
            qc = QuantumCircuit(2)
            _prepare_and_measure(qc, basis, bit, erasure_marker(), [0, 1])
            qc.save_probabilities([0, 1])
            nm = channel_noise_model(ch, form="erasure", flags={0: 1})
            sim = AerSimulator(method="density_matrix", noise_model=nm)
            probs = sim.run(qc).result().data(0)["probabilities"]  # index = data + 2 flag
            clicked = probs[0] + probs[1]
            assert clicked == pytest.approx(p_click, abs=1e-10)
            assert probs[1 - bit] / clicked == pytest.approx(
                _numpy_flip_probability(ch, basis, bit, given_click=True), abs=1e-10), (basis, bit)


@settings(max_examples=6)
@given(ch=rotated_channels())
def test_bb84_circuits_see_the_rotation_per_basis(ch):
    """[EXACT] BB84's own circuits (fast form): E_Z and E_X given arrival differ as numpy says."""
    probs = _bb84_probabilities(ch, "fast")
    for cfg in range(8):
        a_basis, a_bit, b_basis = (cfg >> 2) & 1, (cfg >> 1) & 1, cfg & 1
        if a_basis == b_basis:
            basis = "ZX"[a_basis]
            assert probs[cfg, 1 - a_bit] == pytest.approx(
                _numpy_flip_probability(ch, basis, a_bit, given_click=False), abs=1e-9)


def test_qubit_error_without_rotation_is_unchanged_and_with_rotation_is_not_pauli():
    from qiskit_aer.noise import depolarizing_error
    assert qubit_error(Channel(depolarisation=0.1, rotation_axis=(1, 0, 0))) == depolarizing_error(0.1, 1)
    rotated = qubit_error(Channel(depolarisation=0.1, rotation_rad=0.4))
    assert rotated != depolarizing_error(0.1, 1) and rotated.num_qubits == 1
    assert erasure_error(Channel(transmittance=0.3, rotation_rad=0.4)).num_qubits == 2


def test_readout_form_refuses_a_rotated_channel():
    """A coherent rotation has no readout-error equivalent."""
    from qproto.protocols._multiparty import party_noise_model
    chans = [Channel(depolarisation=0.1), Channel(rotation_rad=0.3)]
    with pytest.raises(InvalidParameter, match="rotation") as info:
        party_noise_model(chans, form="readout")
    assert info.value.name == "channels[1].rotation_rad" and info.value.value == 0.3
    assert CHANNEL_LABEL in party_noise_model(chans, form="depolarising").noise_instructions
    party_noise_model([Channel(depolarisation=0.1)] * 2, form="readout")  # unrotated still fine


@given(ch=noisy_channels())
def test_unrotated_noise_models_are_those_of_depolarisation_alone(ch):
    """Channels drawn as before rotations existed give the very same qubit error."""
    from qiskit_aer.noise import depolarizing_error
    assert qubit_error(ch) == depolarizing_error(ch.qubit_depolarisation, 1)


def test_noise_model_errors_carry_the_value_given():
    """The error of a bad ``channels``, ``form``, ``flags`` or channel value names it and carries the
    value itself (kills the mutants that replace the value by None)."""
    bad_channels, bad_flags, bad_value = [Channel()], {5: 6}, 0.5
    cases = [
        (lambda: channel_noise_model(bad_channels), InvalidType, "channels", bad_channels),
        (lambda: channel_noise_model({0: Channel()}, form="kraus"), InvalidParameter, "form", "kraus"),
        (lambda: channel_noise_model({0: Channel()}, form="erasure", flags=bad_flags), InvalidParameter, "flags",
         bad_flags),
        (lambda: channel_noise_model({0: bad_value}), InvalidType, "channels[0]", bad_value),
    ]
    for call, exc, name, value in cases:
        with pytest.raises(exc) as info:
            call()
        assert info.value.name == name and info.value.value is value
