"""Pieces shared by the relay and entanglement protocols (MDI-QKD, QSDC, teleportation,
swapping, trusted relay): a tally-based result type, the channel-to-circuit mapping
given a click, heralding, and small circuit fragments (Bell pairs, Bell measurements,
basis changes).

**Noise given a click.** Every protocol here sends one half of an entangled pair (or a
single qubit) through each channel and keeps a round only when every receiver clicked.
A noise-only click replaces the travelling qubit by the maximally mixed state, so the
state given a click is exactly the channel's qubit error mixed with full depolarisation:
``depolarizing_error(channel.effective_depolarisation, 1)`` (docs/conventions.md C.8(b)). The
circuits carry that error on their labelled channel markers and loss is sampled in
closed form with ``channel.detection_probability``; no bit has to be randomised after
the fact, and the exact distributions the engine computes are those of the post-selected
rounds.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from qiskit import QuantumCircuit

from qproto._channel import Channel
from qproto._errors import InvalidParameter
from qproto._random import bernoulli
from qproto._results import DEFAULT_CONFIDENCE, Estimate, ProtocolResult

__all__ = ["TallyResult", "pair_fidelity", "click_channel", "click_noise_model", "sample_heralds", "bell_pair", "bsm",
           "measure_setting", "check_fast_form", "Tallies", "hist_tally", "pauli_correlator", "Z", "X", "Y"]

Z, X, Y = 0, 1, 2  # measurement-setting codes


def click_channel(channel: Channel) -> Channel:
    """The lossless Channel whose error a clicked qubit carries: :meth:`Channel.given_click`
    (docs/conventions.md C.8(b)), the one click model of qproto."""
    return channel.given_click()


def click_noise_model(channels: Mapping[int, Channel]):
    """Aer noise model putting each channel's click-conditioned error on its qubit's marker.

    The Aer mapping lives in :mod:`qproto.noise_models` (a layer above the core); it is reached
    through the channel-mapping registry (:func:`qproto.get_channel_mapping`) when called, so
    importing this module does not import the noise models.
    """
    from qproto._declarative import get_channel_mapping

    return get_channel_mapping("aer").noise_model({q: click_channel(ch) for q, ch in channels.items()})


def sample_heralds(channels: Sequence[Channel], n: int, rng: np.random.Generator) -> np.ndarray | None:
    """Whether every channel clicked, per round (``None`` when all always click)."""
    out = None
    for ch in channels:
        p = ch.detection_probability
        if p >= 1.0:
            continue
        clicks = bernoulli(rng, n, p)
        out = clicks if out is None else out & clicks
    return out


def check_fast_form(protocol: str, form: str) -> None:
    """These protocols sample loss in closed form only."""
    if form != "fast":
        raise InvalidParameter("form", form, "'fast'",
                               f"form={form!r}: {protocol} samples loss in closed form only; use form='fast'")


def bell_pair(qc: QuantumCircuit, a: int, b: int) -> None:
    """Prepare Phi+ on (a, b)."""
    qc.h(a)
    qc.cx(a, b)


def bsm(qc: QuantumCircuit, q0: int, q1: int) -> None:
    """The Bell-measurement basis change of docs/conventions.md section 0: measuring q0 then gives
    m0 (phase bit) and q1 gives m1 (parity bit)."""
    qc.cx(q0, q1)
    qc.h(q0)


def measure_setting(qc: QuantumCircuit, qubit: int, setting: int, angles: Sequence[float] = ()) -> None:
    """Basis change before a Z measurement: 0 = Z, 1 = X, 2 = Y, 3.. = x-z plane angle ``angles[setting-3]``."""
    if setting == X:
        qc.h(qubit)
    elif setting == Y:
        qc.sdg(qubit)
        qc.h(qubit)
    elif setting >= 3:
        qc.ry(-angles[setting - 3], qubit)


@dataclasses.dataclass(frozen=True, kw_only=True)
class TallyResult(ProtocolResult):
    """A protocol result whose estimates all derive from integer tallies.

    Attributes:
        tallies: named non-negative integer tallies of the run (merged with ``+``).
        confidence: confidence level of every reported interval.

    Subclasses set ``TYPE``, ``LABELS`` and ``TALLIES`` (the tally names) and implement
    :meth:`estimates`.
    """

    TYPE: ClassVar[str] = "TallyResult"
    ADDITIVE: ClassVar[tuple[str, ...]] = ("tallies",)
    TALLIES: ClassVar[tuple[str, ...]] = ()

    tallies: dict[str, int]
    confidence: float = DEFAULT_CONFIDENCE

    def __post_init__(self) -> None:
        super().__post_init__()
        t = {k: int(v) for k, v in dict(self.tallies).items()}
        missing = [k for k in self.TALLIES if k not in t]
        if missing:
            raise InvalidParameter("tallies", sorted(t), f"the keys {list(self.TALLIES)}",
                                   f"tallies lack {missing}")
        if any(v < 0 for v in t.values()):
            raise InvalidParameter("tallies", t, "non-negative integers")
        object.__setattr__(self, "tallies", t)

    def _binom(self, k: str | int, n: str | int) -> Estimate:
        k = self.tallies[k] if isinstance(k, str) else k
        n = self.tallies[n] if isinstance(n, str) else n
        return Estimate.binomial(k, n, confidence=self.confidence)


class Tallies(dict):
    """Named integer tallies of a chunk; ``+`` adds them key by key (chunks merge)."""

    def __add__(self, other: Mapping[str, int]) -> Tallies:
        return Tallies({k: int(self.get(k, 0)) + int(other.get(k, 0)) for k in set(self) | set(other)})


def hist_tally(keys: np.ndarray, size: int) -> np.ndarray:
    """``np.bincount`` with a fixed length (one pass over a chunk)."""
    return np.bincount(np.asarray(keys, dtype=np.int64).ravel(), minlength=size)[:size]


def pauli_correlator(n_same: int, n: int) -> float:
    """E = (#agree - #disagree) / n (NaN without data)."""
    return math.nan if n == 0 else (2 * n_same - n) / n


def pair_fidelity(channel_a: Channel, channel_b: Channel) -> dict[str, float]:
    """Fidelity with Phi+ of a pair whose halves cross ``channel_a`` and ``channel_b``, given a coincidence.

    Returns ``{"fidelity": from the circuits, "closed_form": ..., "coincidence": P_A P_B}`` (the
    coincidence a probability per pair). The closed form is computed on the Bloch sphere without
    circuits: the pair's correlation matrix is ``T = M_A T0 M_B^T`` (T0 = Phi+'s; M = (1 - p_eff) R,
    each channel's coherent rotation R and click-conditioned depolarisation) and
    ``F = (1 + T_xx - T_yy + T_zz)/4``, which is ``(1 + 3V)/4`` with ``V = (1 - p_eff,A)(1 - p_eff,B)``
    for channels without rotation.
    """
    from qiskit import QuantumCircuit

    from qproto._declarative import get_channel_mapping  # the Aer marker, a layer above: reached when called
    from qproto._engine import Engine
    from qproto.security._purification import PHI_PLUS_CORRELATIONS, click_bloch_map, correlation_fidelity

    marker = get_channel_mapping("aer").marker
    circuits = []
    for s in (0, 1, 2):  # ZZ, XX, YY
        qc = QuantumCircuit(2, 2, name=f"pair_{'ZXY'[s]}")
        bell_pair(qc, 0, 1)
        qc.append(marker(), [0])
        qc.append(marker(), [1])
        measure_setting(qc, 0, s)
        measure_setting(qc, 1, s)
        qc.measure([0, 1], [0, 1])
        circuits.append(qc)
    probs = Engine(mode="distribution").compile(circuits, click_noise_model({0: channel_a, 1: channel_b})).probabilities
    e = probs[:, 0] + probs[:, 3] - probs[:, 1] - probs[:, 2]
    t = click_bloch_map(channel_a) @ PHI_PLUS_CORRELATIONS @ click_bloch_map(channel_b).T
    return {"fidelity": float((1 + e[1] - e[2] + e[0]) / 4), "closed_form": correlation_fidelity(t),
            "coincidence": channel_a.detection_probability * channel_b.detection_probability}
