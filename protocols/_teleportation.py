"""Quantum teleportation (Bennett et al. 1993) of a batch of input states over a noisy resource pair."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from qiskit import QuantumCircuit

from qproto._attacks import Eavesdropper
from qproto._channel import Channel
from qproto._engine import CompiledConfigurations
from qproto._entanglement import (Tallies, TallyResult, bell_pair, bsm, check_fast_form, click_noise_model,
                                  hist_tally, sample_heralds)
from qproto._errors import InvalidParameter, InvalidType
from qproto._protocol import ChannelForm, Protocol, register_protocol
from qproto._results import Estimate
from qproto._validation import check_real
from qproto.noise_models._aer import channel_marker
from qproto.security._purification import PHI_PLUS_CORRELATIONS, click_bloch_map, teleportation_bloch_map

__all__ = ["Teleportation", "TeleportationResult", "TeleportationRecord", "OCTAHEDRON_STATES"]

#: The six Pauli eigenstates as Bloch angles (theta, phi): |0>, |1>, |+>, |->, |+i>, |-i>.
#: They form a 2-design, so their mean fidelity is the Haar-average fidelity.
OCTAHEDRON_STATES: tuple[tuple[float, float], ...] = (
    (0.0, 0.0), (math.pi, 0.0), (math.pi / 2, 0.0), (math.pi / 2, math.pi),
    (math.pi / 2, math.pi / 2), (math.pi / 2, -math.pi / 2))


def _check_states(states: Any) -> tuple[tuple[float, float], ...]:
    if isinstance(states, str):
        if states != "octahedron":
            raise InvalidParameter("states", states, "'octahedron' or a sequence of (theta, phi) pairs")
        return OCTAHEDRON_STATES
    if not isinstance(states, Sequence) or len(states) == 0:
        raise InvalidType("states", states, "'octahedron' or a non-empty sequence of (theta, phi) pairs")
    if len(states) > 64:
        raise InvalidParameter("states", f"{len(states)} states", "at most 64 input states")
    out = []
    for i, s in enumerate(states):
        if not isinstance(s, Sequence) or len(s) != 2:
            raise InvalidType(f"states[{i}]", s, "a (theta, phi) pair of Bloch angles in radians")
        out.append((check_real(f"states[{i}][0]", s[0]), check_real(f"states[{i}][1]", s[1])))
    return tuple(out)


@dataclasses.dataclass(frozen=True, eq=False)
class TeleportationRecord:
    """Per-round record: ``state`` (input index), ``m0``, ``m1`` (Alice's Bell outcome),
    ``success`` (Bob's qubit, with the input preparation undone, reads 0), ``detected``
    (both halves of the resource arrived)."""

    state: np.ndarray
    m0: np.ndarray
    m1: np.ndarray
    success: np.ndarray
    detected: np.ndarray


@dataclasses.dataclass(frozen=True, kw_only=True)
class TeleportationResult(TallyResult):
    """Result of a teleportation run. Tallies: ``rounds``, ``detected``, and per input
    state ``i`` and Bell outcome ``m = 2 m1 + m0``: ``n_i_m`` teleported, ``ok_i_m`` of
    them with Bob's state passing the fidelity test."""

    TYPE: ClassVar[str] = "TeleportationResult"
    TALLIES: ClassVar[tuple[str, ...]] = ("rounds", "detected")
    LABELS: ClassVar[dict[str, str]] = {
        "detection_rate": "resource pairs delivered per round", "fidelity": "average fidelity",
        "min_state_fidelity": "lowest per-state fidelity", "classical_limit": "classical limit",
    }

    def _sum(self, prefix: str, state: int | None = None) -> int:
        return sum(v for k, v in self.tallies.items()
                   if k.startswith(prefix + "_") and (state is None or k.split("_")[1] == str(state)))

    @property
    def fidelity(self) -> Estimate:
        """Fidelity with the ideal state, pooled over the input states (equal weights when
        the states are drawn uniformly)."""
        return self._binom(self._sum("ok"), self._sum("n"))

    def state_fidelity(self, index: int) -> Estimate:
        """Fidelity of input state ``index``."""
        return self._binom(self._sum("ok", index), self._sum("n", index))

    def estimates(self) -> dict[str, Estimate | float | int | None]:
        n_states = len(self.parameters.get("states", OCTAHEDRON_STATES))
        per = [self.state_fidelity(i).best for i in range(n_states)]
        return {"detection_rate": self._binom("detected", "rounds"), "fidelity": self.fidelity,
                "min_state_fidelity": float(np.nanmin(per)) if per and not np.all(np.isnan(per)) else None,
                "classical_limit": 2.0 / 3.0}


@register_protocol
class Teleportation(Protocol):
    """Teleportation of arbitrary input states over a noisy Phi+ resource (docs/conventions.md A10).

    Each round one input state |psi> = rz(phi) ry(theta)|0> is drawn uniformly from
    ``states``; qubit 0 holds it, the resource pair is (1, 2) with qubit 1 crossing
    ``channel[0]`` to Alice and qubit 2 crossing ``channel[1]`` to Bob. Alice's Bell
    measurement on (0, 1) gives (m0, m1); Bob's corrections X^m1 then Z^m0 are applied as
    controlled gates (deferred measurement), then the preparation is undone on qubit 2 and
    qubit 2 is measured: P(0) is the fidelity |<psi|rho_out|psi>|. One circuit per input
    state; a round counts when both halves of the resource arrived.

    Args:
        states: ``"octahedron"`` (the six Pauli eigenstates, default) or a sequence of
            (theta, phi) Bloch angles in radians (at most 64).
    """

    name: ClassVar[str] = "teleportation"
    n_channels: ClassVar[int] = 2

    def __init__(self, *, states: str | Sequence[tuple[float, float]] = "octahedron"):
        self.states = _check_states(states)

    def __repr__(self) -> str:
        return f"Teleportation(states={self.states!r})"

    def parameters(self) -> dict[str, Any]:
        return {"states": [list(s) for s in self.states]}

    def build_circuits(self, *, eavesdropper: Eavesdropper | None = None,
                       form: ChannelForm = "fast") -> tuple[QuantumCircuit, ...]:
        """One circuit per input state; clbits 0 = m0, 1 = m1, 2 = Bob's test (0 = pass)."""
        check_fast_form(self.name, form)
        if eavesdropper is not None:
            raise InvalidParameter("eavesdropper", eavesdropper, "None (teleportation has no attack model)")
        circuits = []
        for i, (theta, phi) in enumerate(self.states):
            qc = QuantumCircuit(3, 3, name=f"teleport_{i}")
            qc.ry(theta, 0)
            qc.rz(phi, 0)
            bell_pair(qc, 1, 2)
            qc.append(channel_marker(), [1])
            qc.append(channel_marker(), [2])
            bsm(qc, 0, 1)
            qc.cx(1, 2)  # X^m1
            qc.cz(0, 2)  # Z^m0
            qc.rz(-phi, 2)
            qc.ry(-theta, 2)
            qc.measure([0, 1, 2], [0, 1, 2])
            circuits.append(qc)
        return tuple(circuits)

    def noise_model(self, channels: tuple[Channel, ...], *, eavesdropper: Eavesdropper | None = None,
                    form: ChannelForm = "fast"):
        return click_noise_model({1: channels[0], 2: channels[1]})

    def sample_chunk(self, compiled: CompiledConfigurations, channels: tuple[Channel, ...], rounds: int,
                     rng: np.random.Generator, *, eavesdropper: Eavesdropper | None, form: ChannelForm,
                     aer_seed: int) -> TeleportationRecord:
        n = rounds
        state = rng.integers(0, len(self.states), n, dtype=np.uint8)
        detected = sample_heralds(channels, n, rng)
        if detected is None:
            detected = np.ones(n, dtype=bool)
        outcome = np.zeros(n, dtype=np.uint8)
        idx = np.flatnonzero(detected)
        outcome[idx] = compiled.sample_trusted(state[idx], rng, aer_seed=aer_seed)
        return TeleportationRecord(state=state, m0=outcome & 1, m1=(outcome >> 1) & 1,
                                   success=((outcome >> 2) & 1) == 0, detected=detected)

    def analyse(self, r: TeleportationRecord) -> Tallies:
        key = ((r.state.astype(np.int64) * 4 + r.m1 * 2 + r.m0) * 2 + r.success)[r.detected]
        h = hist_tally(key, len(self.states) * 8).reshape(len(self.states), 4, 2)
        t = Tallies(rounds=r.state.size, detected=int(np.count_nonzero(r.detected)))
        for i in range(len(self.states)):
            for m in range(4):
                t[f"n_{i}_{m}"] = int(h[i, m].sum())
                t[f"ok_{i}_{m}"] = int(h[i, m, 1])
        return t

    def make_result(self, tallies: Tallies, *, channels: tuple[Channel, ...], rounds: int, seed: int,
                    eavesdropper: Eavesdropper | None) -> TeleportationResult:
        return TeleportationResult(protocol=self.name, parameters=self.parameters(), channels=channels,
                                   rounds=rounds, seed=seed, eavesdropper=None, tallies=dict(tallies))

    def state_fidelities(self, channel: Channel | tuple[Channel, ...]) -> np.ndarray:
        """Closed form: the teleportation fidelity of each input state, given that both halves arrived.

        The resource pair has correlation matrix ``T = M_A T0 M_B^T`` (T0 = Phi+'s, M the
        channels' click-conditioned Bloch maps: rotation, then depolarising p_eff). Averaged
        over Alice's four equally likely Bell outcomes, teleportation applies the Pauli
        channel of the resource's Bell weights, whose Bloch map is ``L = diag(T0 T)``; an
        input with Bloch vector r is received with fidelity ``(1 + r^T L r)/2``. For a Werner
        resource (no rotation) ``L = V I`` and every state has (1 + V)/2 (docs/conventions.md A10).
        """
        ch_a, ch_b = self.normalise_channels(channel)
        lam = teleportation_bloch_map(click_bloch_map(ch_a) @ PHI_PLUS_CORRELATIONS @ click_bloch_map(ch_b).T)
        out = []
        for theta, phi in self.states:
            r = np.array([math.sin(theta) * math.cos(phi), math.sin(theta) * math.sin(phi), math.cos(theta)])
            out.append((1.0 + r @ lam @ r) / 2.0)
        return np.array(out)

    def expected(self, channel: Channel | tuple[Channel, ...], *,
                 eavesdropper: Eavesdropper | str | None = None) -> dict[str, float]:
        """Closed forms: ``fidelity`` = the mean of :meth:`state_fidelities` (input states are
        drawn uniformly; (1 + V)/2 for a Werner resource, V = (1-p_A)(1-p_B) with the
        click-conditioned depolarisations), ``min_state_fidelity`` their minimum, and
        ``detection_rate`` = P_A P_B. Rotated channels included."""
        ch_a, ch_b = self.normalise_channels(channel)
        per_state = self.state_fidelities((ch_a, ch_b))
        return {"detection_rate": ch_a.detection_probability * ch_b.detection_probability,
                "fidelity": float(per_state.mean()), "min_state_fidelity": float(per_state.min()),
                "classical_limit": 2.0 / 3.0}
