"""Shared machinery of the multipartite protocols (GHZ conference key, secret sharing, anonymity).

* :class:`MultipartyProtocol`: a :class:`~qproto.Protocol` whose number of parties
  (and so of channels, one per party) is a constructor argument.
* :func:`ghz_prefix`: the GHZ_N preparation of docs/conventions.md section 0 with one
  channel marker per party qubit.
* :func:`party_noise_model`: the channels as Aer noise, either as
  ``depolarizing_error`` on the markers (the default) or, for circuits whose party
  qubits are each measured once in a Pauli basis right after the channel, as
  Aer's symmetric ``ReadoutError`` with flip probability p/2 (docs/conventions.md C.8(c));
  the two are exactly equivalent there and the readout form keeps Aer's
  measurement sampling for large Clifford circuits.
* :func:`sample_arrivals_all`: closed-form loss for rounds that need every
  party's photon (P_all = prod_j P_click,j), with noise-only clicks flagged.
* :func:`sample_bits`: one row of clbits per round (works for any number of
  clbits, unlike integer outcome codes, which stop at 64).
* :class:`Tally` and :class:`MultipartyResult`: named integer tallies that merge
  with ``+`` and a frozen result holding them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import numpy as np
from qiskit import QuantumCircuit
from qiskit_aer.noise import NoiseModel, ReadoutError

from qproto._attacks import Eavesdropper
from qproto._channel import Channel
from qproto._engine import CompiledConfigurations
from qproto._errors import InvalidParameter, InvalidType
from qproto._protocol import Protocol
from qproto._random import bernoulli, random_bits
from qproto._results import DEFAULT_CONFIDENCE, Estimate, ProtocolResult
from qproto._validation import check_int
from qproto.noise_models._aer import channel_marker, channel_noise_model

__all__ = [
    "MultipartyProtocol", "MultipartyResult", "Tally", "NoiseForm", "ghz_prefix", "party_noise_model",
    "sample_arrivals_all", "sample_bits", "effective_depolarisations",
]

NoiseForm = Literal["auto", "depolarising", "readout"]


class Tally(dict):
    """Named integer tallies (each a tuple of ints); ``+`` adds them element-wise."""

    def __add__(self, other: Tally) -> Tally:
        if not isinstance(other, dict):
            return NotImplemented
        out = Tally(self)
        for k, v in other.items():
            out[k] = tuple(int(a) + int(b) for a, b in zip(out[k], v)) if k in out else tuple(v)
        return out


def tally(**values: Any) -> Tally:
    """A :class:`Tally` from ints or integer sequences."""
    return Tally({k: tuple(int(x) for x in np.atleast_1d(np.asarray(v)).ravel()) for k, v in values.items()})


@dataclasses.dataclass(frozen=True, kw_only=True)
class MultipartyResult(ProtocolResult):
    """Result of a multipartite protocol: the run's named tallies; estimates derive from them.

    Attributes:
        counts: name -> tuple of ints (see each protocol's result type for the names).
        confidence: confidence level of every reported interval.
    """

    TYPE: ClassVar[str] = "MultipartyResult"
    ADDITIVE: ClassVar[tuple[str, ...]] = ("counts",)

    counts: dict[str, tuple[int, ...]]
    confidence: float = DEFAULT_CONFIDENCE

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.counts, dict):
            raise InvalidType("counts", self.counts, "a dict of tuples of non-negative ints")
        counts = {}
        for k, v in self.counts.items():
            if not isinstance(v, (tuple, list)):
                raise InvalidType(f"counts[{k!r}]", v, "a tuple of non-negative ints")
            counts[k] = tuple(check_int(f"counts[{k!r}][{i}]", x, minimum=0) for i, x in enumerate(v))
        object.__setattr__(self, "counts", counts)
        shapes = self.count_shapes()
        if shapes is not None:
            # A tally with a key missing, an unknown key or the wrong length describes no run (truncated data).
            if set(counts) != set(shapes):
                raise InvalidParameter("counts", sorted(counts), f"the keys {sorted(shapes)}",
                                       f"counts has keys {sorted(counts)}; a {self.protocol} result has "
                                       f"{sorted(shapes)}")
            for k, n in shapes.items():
                if len(counts[k]) != n:
                    raise InvalidParameter(f"counts[{k!r}]", counts[k], f"{n} value(s)",
                                           f"counts[{k!r}] has {len(counts[k])} value(s); expected {n} "
                                           f"for these parameters")
        if "detected" in counts and counts["detected"] and counts["detected"][0] > self.rounds:
            raise InvalidParameter("counts['detected'][0]", counts["detected"][0], f"at most rounds={self.rounds}")
        for part, whole in self.count_bounds():
            a, b = counts[part[0]][part[1]], counts[whole[0]][whole[1]]
            if a > b:
                raise InvalidParameter(f"counts[{part[0]!r}][{part[1]}]", a, f"at most counts[{whole[0]!r}]"
                                       f"[{whole[1]}]={b}", f"counts[{part[0]!r}][{part[1]}]={a} exceeds "
                                       f"counts[{whole[0]!r}][{whole[1]}]={b}")

    def count_shapes(self) -> dict[str, int] | None:
        """Every tally name and its length for this result's parameters (``None``: not checked)."""
        return None

    def count_bounds(self) -> list[tuple[tuple[str, int], tuple[str, int]]]:
        """Pairs ``(part, whole)`` of tally entries ``(name, index)`` with ``part <= whole``."""
        return []

    def c(self, name: str, i: int = 0) -> int:
        """Tally ``name`` (element ``i``)."""
        return self.counts[name][i]

    def _binom(self, k: int, n: int) -> Estimate:
        return Estimate.binomial(int(k), int(n), confidence=self.confidence)


class MultipartyProtocol(Protocol):
    """A protocol among ``parties`` parties, each receiving its qubit over its own Channel.

    ``run(channel=...)`` takes one Channel (used for every party) or one per party,
    party 0 first. Subclasses set ``name``, ``RESULT``, ``MIN_PARTIES``, ``MAX_PARTIES``.
    """

    RESULT: ClassVar[type[MultipartyResult]] = MultipartyResult
    MIN_PARTIES: ClassVar[int] = 2
    MAX_PARTIES: ClassVar[int | None] = None

    def _set_parties(self, parties: int) -> None:
        self.parties = check_int("parties", parties, minimum=self.MIN_PARTIES, maximum=self.MAX_PARTIES)
        self.n_channels = self.parties

    def _check_party(self, name: str, value: Any, *, lo: int = 0) -> int:
        """``value`` as a party index in [lo, parties - 1] (InvalidParameter naming ``name`` otherwise)."""
        return check_int(name, value, minimum=lo, maximum=self.parties - 1)

    def make_result(self, tallies: Tally, *, channels: tuple[Channel, ...], rounds: int, seed: int,
                    eavesdropper: Eavesdropper | None) -> MultipartyResult:
        return self.RESULT(protocol=self.name, parameters=self.parameters(), channels=channels, rounds=rounds,
                           seed=seed, eavesdropper=None if eavesdropper is None else eavesdropper.to_dict(),
                           counts=dict(tallies))

    def expected(self, channel: Channel | Sequence[Channel], *,
                 eavesdropper: Eavesdropper | str | None = None) -> dict[str, float]:
        """Closed-form expectations of the run's estimates (see subclasses)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.parameters().items())
        return f"{type(self).__name__}({args})"


# ---- circuits and noise ------------------------------------------------------------------
def ghz_prefix(n_parties: int, n_qubits: int | None = None, n_clbits: int | None = None, *,
               name: str = "ghz", markers: bool = True) -> QuantumCircuit:
    """GHZ_N on qubits 0..N-1 (``h(0); cx(0, i)``) followed by a channel marker on each."""
    qc = QuantumCircuit(n_qubits or n_parties, n_parties if n_clbits is None else n_clbits, name=name)
    qc.h(0)
    for i in range(1, n_parties):
        qc.cx(0, i)
    if markers:
        for i in range(n_parties):
            qc.append(channel_marker(), [i])
    return qc


def effective_depolarisations(channels: Sequence[Channel]) -> np.ndarray:
    """Per-party depolarising parameter given a click (noise-only clicks count as fully depolarised)."""
    return np.array([ch.effective_depolarisation for ch in channels], dtype=float)


def party_noise_model(channels: Sequence[Channel], *, form: Literal["depolarising", "readout"],
                      qubits: Sequence[int] | None = None) -> NoiseModel:
    """The parties' channels (given arrival) as an Aer noise model.

    ``"depolarising"``: ``depolarizing_error(p_j, 1)`` on party j's channel marker
    (:func:`qproto.noise_models.channel_noise_model`). ``"readout"``: Aer's
    ``ReadoutError`` flipping party j's outcome with probability p_j / 2, exactly
    equivalent when each party qubit is measured once in a Pauli basis right
    after its channel (a depolarising channel followed by a Pauli measurement
    flips the outcome with probability p/2 whatever the state).

    A channel's coherent rotation (``rotation_rad > 0``) is part of the
    ``"depolarising"`` form (an Aer unitary error on the marker) but has no
    readout equivalent: it changes the state coherently, so its effect on an
    outcome depends on the state and the measured basis.

    Args:
        channels: one :class:`Channel` per party.
        form: ``"depolarising"`` or ``"readout"``.
        qubits: the party qubits (default ``0 .. len(channels) - 1``).

    Raises:
        InvalidParameter: ``form="readout"`` with a channel whose ``rotation_rad`` is
            not 0 (use ``form="depolarising"``).
    """
    qubits = list(range(len(channels))) if qubits is None else list(qubits)
    if form == "depolarising":
        return channel_noise_model(dict(zip(qubits, channels)))
    for j, ch in enumerate(channels):
        if ch.rotation_rad != 0.0:
            raise InvalidParameter(
                f"channels[{j}].rotation_rad", ch.rotation_rad, "0 with form='readout'",
                f"channels[{j}].rotation_rad={ch.rotation_rad!r}: a coherent rotation is not a readout "
                "error; use form='depolarising'")
    nm = NoiseModel(basis_gates=["id", "x", "h", "cx", "cz", "s", "sdg", "z"])
    for q, ch in zip(qubits, channels):
        e = ch.qubit_depolarisation / 2.0
        if e > 0.0:
            nm.add_readout_error(ReadoutError([[1.0 - e, e], [e, 1.0 - e]]), [q])
    return nm


# ---- sampling ----------------------------------------------------------------------------
def sample_arrivals_all(channels: Sequence[Channel], n: int, rng: np.random.Generator
                        ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Closed-form loss for rounds that need a click at every party.

    Returns ``(detected, noise_only)``: ``detected`` (bool, shape ``(n,)``, or
    ``None`` when every round is detected) with probability prod_j P_click,j;
    ``noise_only`` (bool, shape ``(n_detected, parties)``, or ``None``) flags the
    parties of detected rounds that clicked on noise alone (probability
    (1 - eta_j) Y0_j / P_click,j each, independently).
    """
    p_click = np.array([ch.detection_probability for ch in channels])
    p_noise = np.array([(1.0 - ch.total_transmittance) * ch.noise_click for ch in channels])
    p_all = float(np.prod(p_click))
    detected = None if p_all >= 1.0 else bernoulli(rng, n, p_all)
    n_det = n if detected is None else int(detected.sum())
    noise_only = None
    if np.any(p_noise > 0.0):
        frac = np.divide(p_noise, p_click, out=np.zeros_like(p_noise), where=p_click > 0)
        noise_only = rng.random((n_det, len(channels))) < frac
    return detected, noise_only


def sample_bits(compiled: CompiledConfigurations, config_ids: np.ndarray, rng: np.random.Generator, *,
                aer_seed: int = 0) -> np.ndarray:
    """Outcomes as a ``(rounds, n_clbits)`` uint8 array (column k = clbit k), any number of clbits.

    Delegates to :meth:`qproto.Engine`'s compiled configurations: exact
    distributions (small circuits), exact stabilizer sampling (large Clifford
    circuits with readout noise) or one Aer run per configuration (otherwise).
    """
    return compiled.sample_bits(config_ids, rng, aer_seed=aer_seed)


def randomise_noise_clicks(bits: np.ndarray, noise_only: np.ndarray | None, rng: np.random.Generator,
                           columns: Sequence[int] | None = None) -> None:
    """In place: a party that clicked on noise alone reads a uniformly random bit."""
    if noise_only is None:
        return
    cols = list(range(noise_only.shape[1])) if columns is None else list(columns)
    sub = bits[:, cols]
    rnd = random_bits(rng, sub.size).reshape(sub.shape)
    bits[:, cols] = np.where(noise_only, rnd, sub)
