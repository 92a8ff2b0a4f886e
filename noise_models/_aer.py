"""From a :class:`qproto.Channel` to a qiskit-aer ``NoiseModel``.

Protocols mark each use of a channel in their circuits with a labelled marker
instruction; the noise model attaches Aer's own error classes to that label on
that qubit. Two forms of the same channel exist (ARCHITECTURE.md principle 2):

* **fast** (:data:`CHANNEL_LABEL`, one qubit): loss and noise clicks are sampled in
  closed form outside the circuit, and the marker carries only the qubit error
  given arrival: the coherent rotation ``coherent_unitary_error(channel.unitary)``
  (omitted when ``channel.rotation_rad == 0``) then
  ``depolarizing_error(channel.qubit_depolarisation, 1)``.
* **erasure** (:data:`ERASURE_LABEL`, data qubit + flag qubit): the marker carries
  the whole channel as one Aer ``QuantumError`` with three branches: the photon
  arrives (probability eta, then the qubit error, rotation included); it is lost but a noise click
  happens (probability (1-eta) Y0, the data qubit is replaced by the maximally
  mixed state, i.e. a uniformly random bit); it is lost with no click
  (probability (1-eta)(1-Y0), data reset and the flag set to 1). Measuring the flag
  heralds whether the receiver clicked.

Both forms describe the same statistics; ``tests/noise_models/test_aer.py`` checks
that they give the same click rate and QBER.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit.library import IGate, UnitaryGate
from qiskit_aer.noise import NoiseModel, QuantumError, coherent_unitary_error, depolarizing_error

from qproto._channel import Channel
from qproto._errors import InvalidParameter, InvalidType

__all__ = [
    "CHANNEL_LABEL",
    "ERASURE_LABEL",
    "channel_marker",
    "erasure_marker",
    "qubit_error",
    "erasure_error",
    "channel_noise_model",
]

CHANNEL_LABEL = "qproto_channel"
ERASURE_LABEL = "qproto_erasure"


def channel_marker() -> IGate:
    """A one-qubit identity labelled :data:`CHANNEL_LABEL`: where the fast-form error acts."""
    return IGate(label=CHANNEL_LABEL)


def erasure_marker() -> UnitaryGate:
    """A two-qubit identity on (data, flag) labelled :data:`ERASURE_LABEL`."""
    return UnitaryGate(np.eye(4), label=ERASURE_LABEL)


def qubit_error(channel: Channel) -> QuantumError:
    """Aer error on an arriving qubit (one qubit).

    ``coherent_unitary_error(channel.unitary)`` composed with
    ``depolarizing_error(channel.qubit_depolarisation, 1)``; without rotation
    (``channel.rotation_rad == 0``) just the depolarising error, so channels
    without rotation give exactly the noise models they always did. The order
    of the two does not matter: a depolarising channel commutes with every unitary.

    Args:
        channel: the :class:`qproto.Channel`.

    Returns:
        A one-qubit Aer ``QuantumError``.

    Raises:
        InvalidType: ``channel`` is not a Channel.
    """
    _check_channel("channel", channel)
    dep = depolarizing_error(channel.qubit_depolarisation, 1)
    if channel.rotation_rad == 0.0:
        return dep
    return coherent_unitary_error(channel.unitary).compose(dep)


def erasure_error(channel: Channel) -> QuantumError:
    """The whole channel as a two-qubit Aer ``QuantumError`` on (data, flag).

    Branches (flag starts in |0>): arrival with probability eta (then the qubit
    error of :func:`qubit_error`, rotation included); noise click with
    probability (1 - eta) Y0 (data replaced by I/2); no click with probability
    (1 - eta)(1 - Y0) (data reset, flag set to 1).

    Args:
        channel: the :class:`qproto.Channel`.

    Returns:
        A two-qubit Aer ``QuantumError`` on (data, flag).

    Raises:
        InvalidType: ``channel`` is not a Channel.
    """
    _check_channel("channel", channel)
    eta = channel.total_transmittance
    y0 = channel.noise_click
    keep = QuantumCircuit(2)
    if channel.rotation_rad == 0.0:
        keep.id(0)
    else:
        # The rotation acts on the arrival branch only: a lost photon never
        # crosses the channel. Nothing is missed on the other branches: the two
        # noise-click branches together leave the data maximally mixed, I/2, which
        # every unitary leaves unchanged, and the lost branch's data (reset to
        # |0>) is discarded through the flag and must stay as it always was.
        keep.unitary(channel.unitary, [0], label="qproto_rotation")
    noise0 = QuantumCircuit(2)
    noise0.reset(0)
    noise1 = QuantumCircuit(2)
    noise1.reset(0)
    noise1.x(0)
    lost = QuantumCircuit(2)
    lost.reset(0)
    lost.x(1)
    branches = [
        (keep, eta),
        (noise0, (1.0 - eta) * y0 / 2.0),
        (noise1, (1.0 - eta) * y0 / 2.0),
        (lost, (1.0 - eta) * (1.0 - y0)),
    ]
    branches = [(c, p) for c, p in branches if p > 0.0]
    err = QuantumError(branches)
    # The depolarising error acts on every branch's data qubit; it leaves the
    # maximally mixed (noise) state unchanged and the lost branch is discarded by
    # the flag, so composing it after the erasure is exact.
    return err.compose(depolarizing_error(channel.qubit_depolarisation, 1), qargs=[0])


def channel_noise_model(channels: Mapping[int, Channel] | Channel, *,
                        qubits: tuple[int, ...] | None = None,
                        form: str = "fast",
                        flags: Mapping[int, int] | None = None) -> NoiseModel:
    """Build the Aer ``NoiseModel`` of one or several channel uses.

    Args:
        channels: a mapping from the data qubit that crosses a channel to that
            :class:`Channel`; or a single Channel, used for every qubit in ``qubits``.
        qubits: the data qubits when ``channels`` is a single Channel (default ``(0,)``).
        form: ``"fast"`` (qubit error given arrival on :data:`CHANNEL_LABEL` markers)
            or ``"erasure"`` (the whole channel on :data:`ERASURE_LABEL` markers).
        flags: for the erasure form, the flag qubit of each data qubit.

    Returns:
        A NoiseModel whose errors act on the protocols' marker instructions.

    Raises:
        InvalidParameter: unknown ``form``, or a data qubit without a flag in the erasure form.
        InvalidType: a value that is not a Channel.
    """
    if isinstance(channels, Channel):
        channels = {q: channels for q in (qubits if qubits is not None else (0,))}
    if not isinstance(channels, Mapping):
        raise InvalidType("channels", channels, "a Channel or a mapping from qubit to Channel")
    if form not in ("fast", "erasure"):
        raise InvalidParameter("form", form, "'fast' or 'erasure'",
                               f"form={form!r} is not one of ['fast', 'erasure']")
    nm = NoiseModel(basis_gates=["id", "x", "h", "cx", "ry", "rz", "sdg", "s", "z", "unitary"])
    for q, ch in channels.items():
        _check_channel(f"channels[{q}]", ch)
        if form == "fast":
            nm.add_quantum_error(qubit_error(ch), CHANNEL_LABEL, [q])
        else:
            if flags is None or q not in flags:
                raise InvalidParameter("flags", flags, f"a flag qubit for data qubit {q}",
                                       f"flags={flags!r} gives no flag qubit for data qubit {q}")
            nm.add_quantum_error(erasure_error(ch), ERASURE_LABEL, [q, flags[q]])
    return nm


def _check_channel(name: str, value: object) -> None:
    if not isinstance(value, Channel):
        raise InvalidType(name, value, "a qproto.Channel")
