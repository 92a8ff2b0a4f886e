"""Channel -> Aer NoiseModel: invariant 1 and the equality of the fast and erasure forms."""

import numpy as np
import pytest
from hypothesis import given, settings
from qiskit import QuantumCircuit
from qiskit_aer.noise import NoiseModel

from qproto import Channel, Engine, InvalidParameter, InvalidType
from qproto.noise_models import (
    CHANNEL_LABEL,
    ERASURE_LABEL,
    channel_noise_model,
    erasure_error,
    qubit_error,
)
from qproto.protocols import BB84, BBM92
from qproto.testing import assert_matches_expected, assert_same_proportion, noisy_channels, probabilities

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
    """Sampled: both forms match each other and the closed form (PHYSICS.md B tolerance)."""
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
