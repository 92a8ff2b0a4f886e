"""The Aer channel errors as quantum channels, against the docstrings' maps written out with numpy
(docs/conventions.md A0, the erasure and fast forms); mutation survivors of the fifth run."""

import math

import numpy as np
import pytest
from qiskit.quantum_info import DensityMatrix, SuperOp

from qproto import Channel
from qproto.noise_models import channel_noise_model, erasure_error, qubit_error

I2 = np.eye(2)
X = np.array([[0, 1], [1, 0]], dtype=complex)


def _rz(theta):
    """exp(-i theta Z / 2): the channel's coherent rotation about z (docs/conventions.md)."""
    return np.diag([np.exp(-0.5j * theta), np.exp(0.5j * theta)])


def _depolarise(rho, p):
    return (1 - p) * rho + p * np.trace(rho) * I2 / 2


def _random_state(dim, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(dim, dim)) + 1j * rng.normal(size=(dim, dim))
    rho = a @ a.conj().T
    return rho / np.trace(rho)


@pytest.mark.parametrize("theta", [1.0, 0.4])
def test_qubit_error_applies_the_rotation_then_depolarises(theta):
    """qubit_error(ch): rho -> D_p(U rho U^dag), U = Rz(theta), p = the qubit depolarisation, for a
    rotation of exactly 1 rad too. catches: the rotation skipped for one particular angle."""
    ch = Channel(depolarisation=0.1, misalignment=0.02, rotation_rad=theta, rotation_axis=(0, 0, 1))
    np.testing.assert_allclose(ch.unitary, _rz(theta), atol=1e-12)  # the convention used below
    p = 1 - (1 - 0.1) * (1 - 2 * 0.02)
    op = SuperOp(qubit_error(ch))
    for seed in range(3):
        rho = _random_state(2, seed)
        want = _depolarise(_rz(theta) @ rho @ _rz(theta).conj().T, p)
        got = DensityMatrix(rho).evolve(op).data
        np.testing.assert_allclose(got, want, atol=1e-12)


def _erasure_reference(rho, eta, y0, p, u):
    """The erasure docstring on (data = qubit 0, flag = qubit 1), Qiskit order kron(flag, data):
    arrival (eta): data -> D_p(U . U^dag); noise click ((1 - eta) Y0): data -> I/2; no click
    ((1 - eta)(1 - Y0)): data reset to |0> then depolarised, flag flipped."""
    r = rho.reshape(2, 2, 2, 2)  # [flag, data, flag', data']
    out = np.zeros((4, 4), dtype=complex)
    for f in range(2):
        for g in range(2):
            block = r[f, :, g, :]  # data operator for flag element |f><g|
            keep = _depolarise(u @ block @ u.conj().T, p)
            noise = np.trace(block) * I2 / 2
            out[2 * f:2 * f + 2, 2 * g:2 * g + 2] += eta * keep + (1 - eta) * y0 * noise
            lost = _depolarise(np.trace(block) * np.diag([1.0, 0.0]), p)
            out[2 * (1 - f):2 * (1 - f) + 2, 2 * (1 - g):2 * (1 - g) + 2] += (1 - eta) * (1 - y0) * lost
    return out


@pytest.mark.parametrize("theta", [0.0, 1.0])
def test_erasure_error_is_the_channel_of_its_docstring(theta):
    """erasure_error(ch) acts on (data, flag) states, coherences included, as its docstring's three
    branches written out here. catches: the lost branch resetting the flag instead of the data
    (the data of a lost photon left as it was), the depolarisation composed on other qubits."""
    ch = Channel(transmittance=0.6, noise_click=0.1, depolarisation=0.2, rotation_rad=theta,
                 rotation_axis=(0, 0, 1))
    op = SuperOp(erasure_error(ch))
    for seed in range(3):
        rho = _random_state(4, seed)
        want = _erasure_reference(rho, ch.total_transmittance, 0.1, ch.qubit_depolarisation, _rz(theta))
        np.testing.assert_allclose(DensityMatrix(rho).evolve(op).data, want, atol=1e-12)


def test_one_channel_for_several_given_qubits():
    """channel_noise_model(channel, qubits=(2, 5)) puts the channel's error on qubits 2 and 5, not
    on the default qubit 0. catches: `qubits` ignored for a single Channel."""
    nm = channel_noise_model(Channel(depolarisation=0.3), qubits=(2, 5))
    assert sorted(q for q in nm.noise_qubits) == [2, 5]
    assert math.isclose(len(nm.to_dict()["errors"]), 2)


def test_an_unknown_form_is_refused_with_the_allowed_forms():
    """catches: the allowed forms replaced by the message text."""
    from qproto import InvalidParameter

    with pytest.raises(InvalidParameter) as err:
        channel_noise_model(Channel(), form="slow")
    assert (err.value.name, err.value.value, err.value.allowed) == ("form", "slow", "'fast' or 'erasure'")


def test_a_data_qubit_without_a_flag_is_refused_naming_the_qubit():
    """catches: the allowed text replaced by the message."""
    from qproto import InvalidParameter

    with pytest.raises(InvalidParameter) as err:
        channel_noise_model({3: Channel()}, form="erasure", flags={0: 1})
    assert (err.value.name, err.value.value, err.value.allowed) == ("flags", {0: 1}, "a flag qubit for data qubit 3")
