"""Declarative protocols: a protocol in about forty lines.

A :class:`DeclarativeProtocol` states *what* a protocol is and inherits *how* it runs:

* ``CHOICES``: the random choices of a round and how many values each takes
  (``{"bit": 2, "bob_basis": 2}``), with :meth:`~DeclarativeProtocol.probabilities`
  giving their distributions (uniform unless overridden);
* :meth:`~DeclarativeProtocol.circuit`: the Qiskit circuit of one configuration (one value
  per choice), calling ``c.send(qc)`` where the qubits cross the channels;
* ``QUBITS`` and ``CHANNELS``: how many qubits the protocol uses and which qubit crosses
  each channel (``CHANNELS = (0,)``: qubit 0 crosses the run's one channel);
* :meth:`~DeclarativeProtocol.tally` and :meth:`~DeclarativeProtocol.estimates`: the
  classical analysis, integer tallies of the rounds in, estimates with intervals out;
* optionally ``PARAMETERS`` (validated constructor arguments) and :meth:`expected`
  (closed forms for ``qproto verify``).

The base provides everything else: one circuit per configuration compiled once on Aer,
rounds drawn with numpy and batched by configuration, loss and noise clicks sampled in
closed form (``form="fast"``) or heralded by flag qubits (``form="erasure"``), an
eavesdropper at the entrance of one channel, chunking, seeds, executors, a result
(:class:`DeclaredResult`) with intervals, ``+`` and a JSON round trip, and ``qproto
verify``. ``docs/write-your-own-protocol.md`` walks through an example; the conventions
(Bloch vectors, per-basis errors, noise clicks) are those of ``docs/conventions.md``.

**What the base assumes.** The base measures every qubit at the end of the circuit,
qubit k into classical bit k. A noise-only click (a detector click without the signal
photon) gives the qubit that crossed that channel a uniformly random measured bit, which
is exact when that qubit is measured after single-qubit gates only (as in prepare-and-
measure and entanglement-based QKD); ``NOISE_CLICKS = "mixed-state"`` instead puts the
click-conditioned state on the channel (a noise click leaves the qubit maximally mixed), which is
right when the received qubit meets others (a relay's Bell measurement). A round counts as
*clicked* when every channel clicked.
"""

from __future__ import annotations

import dataclasses
import inspect
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from qiskit import QuantumCircuit

from qproto._attacks import Eavesdropper
from qproto._channel import Channel
from qproto._engine import CompiledConfigurations
from qproto._errors import InvalidParameter, InvalidType, QprotoError
from qproto._protocol import ChannelForm, Protocol, get_protocol
from qproto._random import bernoulli, random_bits, threshold31, uniform31
from qproto._results import DEFAULT_CONFIDENCE, Estimate, ProtocolResult
from qproto._validation import check_in_range, check_int

__all__ = ["DeclarativeProtocol", "DeclaredResult", "Parameter", "Configuration", "RoundView", "Rounds",
           "ChannelMapping", "CHANNEL_MAPPINGS", "register_channel_mapping", "get_channel_mapping",
           "sample_arrivals", "given_click"]


# ---- the channel -> Aer mapping, through a registry (the core does not import noise_models) ----
@dataclasses.dataclass(frozen=True)
class ChannelMapping:
    """How channels enter circuits: the marker instructions and the Aer noise model.

    Attributes:
        marker: ``marker()`` -> the one-qubit instruction a channel acts on (fast form).
        erasure_marker: ``erasure_marker()`` -> the two-qubit instruction (qubit, flag) of the
            erasure form, which flags a lost photon.
        noise_model: ``noise_model({qubit: Channel}, form=..., flags={qubit: flag} | None)`` ->
            an Aer ``NoiseModel`` attaching each channel to its qubit's marker.
    """

    marker: Callable[[], Any]
    erasure_marker: Callable[[], Any]
    noise_model: Callable[..., Any]


#: Registered channel mappings by name; ``"aer"`` (from :mod:`qproto.noise_models`) is the default.
CHANNEL_MAPPINGS: dict[str, ChannelMapping] = {}


def register_channel_mapping(name: str, mapping: ChannelMapping) -> ChannelMapping:
    """Register a :class:`ChannelMapping` under ``name`` (a later registration replaces it)."""
    if not isinstance(name, str) or not name:
        raise InvalidParameter("name", name, "a non-empty str")
    if not isinstance(mapping, ChannelMapping):
        raise InvalidType("mapping", mapping, "a qproto.ChannelMapping")
    CHANNEL_MAPPINGS[name] = mapping
    return mapping


def get_channel_mapping(name: str = "aer") -> ChannelMapping:
    """The registered channel mapping ``name``; ``"aer"`` is loaded from :mod:`qproto.noise_models`."""
    if name == "aer" and name not in CHANNEL_MAPPINGS:
        _load_channel_mappings()
    if name not in CHANNEL_MAPPINGS:
        raise InvalidParameter("channel mapping", name, f"one of {sorted(CHANNEL_MAPPINGS)}")
    return CHANNEL_MAPPINGS[name]


def _load_channel_mappings() -> None:
    """Registry loader: the built-in Aer mapping from the noise-model layer's public API."""
    import qproto.noise_models as nm

    register_channel_mapping("aer", ChannelMapping(marker=nm.channel_marker, erasure_marker=nm.erasure_marker,
                                                   noise_model=nm.channel_noise_model))


def sample_arrivals(channel: Channel, n: int, rng: np.random.Generator) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Closed-form click sampling for one channel use per round.

    Returns ``(signal, noise_only)`` boolean arrays: ``signal`` (the photon arrived and was
    detected, probability ``channel.total_transmittance``) is ``None`` when every photon
    arrives, and ``noise_only`` (no photon but a noise click, probability
    ``(1 - eta) * channel.noise_click``) is ``None`` when no noise click can happen.
    """
    eta = channel.total_transmittance
    if eta >= 1.0:
        return None, None
    signal = bernoulli(rng, n, eta)
    if channel.noise_click == 0.0:
        return signal, None
    return signal, ~signal & bernoulli(rng, n, channel.noise_click)


def given_click(channel: Channel) -> Channel:
    """The lossless channel a qubit sees given that its receiver clicked: :meth:`Channel.given_click`
    (docs/conventions.md C.8(b)), the one click model of qproto."""
    return channel.given_click()


# ---- parameters ------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Parameter:
    """A protocol parameter: its default and the allowed range (inclusive unless ``*_open``).

    Attributes:
        default: the value when the constructor does not give one.
        low, high: the allowed range.
        lo_open, hi_open: whether ``low``/``high`` are excluded.
        doc: what the parameter means (with its unit).
    """

    default: float
    low: float = -math.inf
    high: float = math.inf
    lo_open: bool = False
    hi_open: bool = False
    doc: str = ""

    def check(self, name: str, value: Any) -> float:
        """``value`` as a float, or :class:`InvalidParameter` naming ``name`` and the range."""
        return check_in_range(name, value, self.low, self.high, lo_open=self.lo_open, hi_open=self.hi_open)


# ---- what the circuit function sees ------------------------------------------------------------
class Configuration:
    """One configuration: a value per choice (as attributes), the eavesdropper's branch and
    :meth:`send`, which places the channels in the circuit."""

    def __init__(self, values: Mapping[str, int], branch: int, sender: Callable[[QuantumCircuit, Any], None]):
        self._values = dict(values)
        self.branch = branch
        self._sender = sender
        self.sent: list[int] = []

    def __getattr__(self, name: str) -> int:
        values = self.__dict__.get("_values", {})
        if name in values:
            return values[name]
        raise AttributeError(f"configuration has no choice {name!r}; choices: {sorted(values)}")

    def __getitem__(self, name: str) -> int:
        return self._values[name]

    def send(self, qc: QuantumCircuit, channels: Sequence[int] | None = None) -> None:
        """The qubits cross their channels here: every channel, or the channel indices given.

        With an eavesdropper, she acts on the attacked channel's qubit first (at the channel's
        entrance); then each channel acts on its qubit.
        """
        legs = list(range(len(self._sender.channels))) if channels is None else [int(c) for c in channels]
        self._sender(qc, legs, self.branch)
        self.sent.extend(legs)

    def __repr__(self) -> str:
        return f"Configuration({self._values}, branch={self.branch})"


# ---- what the analysis sees -------------------------------------------------------------------
class RoundView:
    """Rounds (or groups of identical rounds) for :meth:`DeclarativeProtocol.tally`.

    Every array has one entry per row: each choice by name (``view.bit``), ``branch`` (the
    eavesdropper's branch, 0 = not attacked), ``attacked``, ``clicked`` (every channel
    clicked), :meth:`measured` (the measured bit of a qubit) and ``eve_bit``. A row may stand
    for several identical rounds, so count with :meth:`count`, never with ``len`` or ``sum``.
    """

    def __init__(self, choices: dict[str, np.ndarray], branch: np.ndarray, outcome: np.ndarray,
                 clicked: np.ndarray, eve_clbit: int | None, weights: np.ndarray | None):
        self._choices = choices
        self.branch = branch
        self.attacked = branch > 0
        self.outcome = outcome
        self.clicked = clicked
        self._eve = eve_clbit
        self._weights = weights

    def __getattr__(self, name: str) -> np.ndarray:
        choices = self.__dict__.get("_choices", {})
        if name in choices:
            return choices[name]
        raise AttributeError(f"no choice {name!r}; choices: {sorted(choices)}")

    def measured(self, qubit: int) -> np.ndarray:
        """The measured bit (uint8) of ``qubit``; a random bit where its channel clicked on noise alone."""
        return ((self.outcome >> qubit) & 1).astype(np.uint8)

    @property
    def eve_bit(self) -> np.ndarray:
        """The eavesdropper's recorded bit (0 without an eavesdropper)."""
        if self._eve is None:
            return np.zeros(self.outcome.shape, dtype=np.uint8)
        return self.measured(self._eve)

    def count(self, mask: np.ndarray | None = None) -> int:
        """Number of rounds where ``mask`` holds (every round when ``None``)."""
        if mask is None:
            mask = np.ones(self.clicked.shape, dtype=bool)
        mask = np.asarray(mask, dtype=bool)
        return int(mask.sum()) if self._weights is None else int(self._weights[mask].sum())


@dataclasses.dataclass(frozen=True, eq=False)
class Rounds:
    """Per-round record of one chunk of a declarative protocol (:meth:`Protocol.sample`).

    Attributes:
        config: configuration id of each round.
        outcome: outcome code of each round (bit k = qubit k's measured bit).
        detected: whether each round clicked, or ``None`` when every round did.
        protocol: the protocol that made it (to decode configurations).
        eve_clbit: the eavesdropper's classical bit, or ``None``.
    """

    config: np.ndarray
    outcome: np.ndarray
    detected: np.ndarray | None
    protocol: DeclarativeProtocol
    eve_clbit: int | None

    def __len__(self) -> int:
        return int(self.config.shape[0])

    def view(self) -> RoundView:
        """A :class:`RoundView` with one row per round."""
        choices, branch = self.protocol.decode_config(self.config)
        clicked = np.ones(len(self), dtype=bool) if self.detected is None else self.detected
        return RoundView(choices, branch, self.outcome, clicked, self.eve_clbit, None)


# ---- the result ------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, kw_only=True)
class DeclaredResult(ProtocolResult):
    """The result of a declarative protocol: named integer tallies and the protocol's estimates.

    Attributes:
        tallies: the run's tallies by name (added by ``+``).
        confidence: confidence level of every interval.

    :meth:`estimates` asks the registered protocol (``protocol`` with ``parameters``) to
    turn the tallies into estimates, so a result read back with
    :func:`qproto.result_from_dict` gives the same estimates. Each estimate is also an
    attribute: ``result.qber`` is ``result.estimates()["qber"]``.
    """

    TYPE: ClassVar[str] = "DeclaredResult"
    ADDITIVE: ClassVar[tuple[str, ...]] = ("tallies",)

    tallies: dict[str, int]
    confidence: float = DEFAULT_CONFIDENCE

    def __post_init__(self) -> None:
        super().__post_init__()
        t = {str(k): int(v) for k, v in dict(self.tallies).items()}
        bad = {k: v for k, v in t.items() if v < 0}
        if bad:
            raise InvalidParameter("tallies", bad, "non-negative integers")
        object.__setattr__(self, "tallies", t)
        check_in_range("confidence", self.confidence, 0.0, 1.0, lo_open=True, hi_open=True)

    def binomial(self, successes: str | int, trials: str | int) -> Estimate:
        """``successes / trials`` with its exact interval; each a tally name, ``"rounds"`` or an int."""
        k, n = self.count(successes), self.count(trials)
        return Estimate.binomial(k, n, confidence=self.confidence)

    def count(self, name: str | int) -> int:
        """A tally by name (``"rounds"``: the run's rounds); an int is returned as it is."""
        if isinstance(name, str):
            if name == "rounds":
                return self.rounds
            if name not in self.tallies:
                raise InvalidParameter("tally", name, f"one of {sorted(self.tallies)} or 'rounds'",
                                       f"no tally {name!r} in this {self.protocol} result; tallies: "
                                       f"{sorted(self.tallies)} (and 'rounds')")
            return self.tallies[name]
        return check_int("count", name, minimum=0)

    @property
    def protocol_object(self) -> Protocol:
        """The protocol that made this result (kept by the run, not serialised), else the registered
        protocol ``self.protocol`` with this run's parameters (a result read back with
        :func:`qproto.result_from_dict`)."""
        made_by = self.__dict__.get("_made_by")
        if made_by is not None:
            return made_by
        return get_protocol(self.protocol, **dict(self.parameters))

    def _keep_protocol(self, protocol: Protocol) -> DeclaredResult:
        object.__setattr__(self, "_made_by", protocol)
        return self

    def __add__(self, other: ProtocolResult) -> ProtocolResult:
        merged = super().__add__(other)
        made_by = self.__dict__.get("_made_by")
        if isinstance(merged, DeclaredResult) and made_by is not None:
            merged._keep_protocol(made_by)
        return merged

    def estimates(self) -> dict[str, Estimate | float | int | None]:
        """The protocol's :meth:`DeclarativeProtocol.estimates` of these tallies."""
        return dict(self.protocol_object.estimates(self))

    @property
    def LABELS(self) -> dict[str, str]:  # noqa: N802  (the CLI reads result.LABELS)
        return dict(getattr(type(self.protocol_object), "LABELS", {}))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in ("tallies", "protocol", "parameters"):
            raise AttributeError(name)
        est = self.estimates()
        if name in est:
            return est[name]
        raise AttributeError(f"{type(self).__name__} has no attribute or estimate {name!r}; "
                             f"estimates: {sorted(est)}")


# ---- the base class --------------------------------------------------------------------------
class DeclarativeProtocol(Protocol):
    """Base of protocols defined by their choices, circuit, channel placement and analysis.

    Class attributes a subclass sets:

    * ``name``: the registry name (use ``@qproto.register_protocol``);
    * ``CHOICES``: ``{choice: number of values}``, drawn each round (in this order);
    * ``QUBITS``: qubits the circuit uses (0 .. QUBITS-1);
    * ``CHANNELS``: for each channel of a run, the qubit that crosses it (``n_channels`` follows);
    * ``EAVESDROPPER_CHANNEL``: the index of the channel an eavesdropper attacks (default 0);
    * ``PARAMETERS``: ``{name: Parameter(default, low, high)}``; the constructor takes them as
      keyword arguments, validates them and stores them as attributes;
    * ``LABELS``: optional readable names of the estimates (for the CLI's table).

    Methods a subclass writes: :meth:`circuit`, :meth:`tally`, :meth:`estimates`, and
    optionally :meth:`probabilities`, :meth:`expected` (closed forms) and :meth:`draw`
    (for choices that are not independent).
    """

    CHOICES: ClassVar[dict[str, int]] = {}
    QUBITS: ClassVar[int] = 1
    CHANNELS: ClassVar[tuple[int, ...]] = (0,)
    EAVESDROPPER_CHANNEL: ClassVar[int] = 0
    PARAMETERS: ClassVar[dict[str, Parameter]] = {}
    LABELS: ClassVar[dict[str, str]] = {}
    #: The result type of :meth:`make_result` (a :class:`DeclaredResult` subclass may add properties).
    RESULT: ClassVar[type[DeclaredResult]] = DeclaredResult
    #: The registered :class:`ChannelMapping` that turns channels into markers and Aer noise.
    CHANNEL_MAPPING: ClassVar[str] = "aer"
    #: How a noise-only click enters: ``"random-bit"`` (the qubit that crossed the channel reads a
    #: uniformly random bit; exact when it is measured after single-qubit gates only; both forms) or
    #: ``"mixed-state"`` (given a click the qubit is the signal or, for a noise click, maximally mixed:
    #: the channel's marker carries the click-conditioned depolarisation, right for qubits that meet
    #: others after the channel, e.g. in a Bell measurement; fast form only).
    NOISE_CLICKS: ClassVar[str] = "random-bit"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        choices = dict(cls.CHOICES)
        for k, v in choices.items():
            if not isinstance(k, str) or not k.isidentifier() or k.startswith("_") or k in _RESERVED:
                raise InvalidParameter(f"{cls.__name__}.CHOICES", k,
                                       f"identifiers not starting with '_' and not among {sorted(_RESERVED)}")
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise InvalidParameter(f"{cls.__name__}.CHOICES[{k!r}]", v, "an int >= 1 (the number of values)")
        chans = tuple(cls.CHANNELS)
        if len(set(chans)) != len(chans) or not all(0 <= q < cls.QUBITS for q in chans):
            raise InvalidParameter(f"{cls.__name__}.CHANNELS", chans,
                                   f"distinct qubits in [0, QUBITS={cls.QUBITS}), one per channel")
        if not 0 <= cls.EAVESDROPPER_CHANNEL < max(len(chans), 1):
            raise InvalidParameter(f"{cls.__name__}.EAVESDROPPER_CHANNEL", cls.EAVESDROPPER_CHANNEL,
                                   f"a channel index in [0, {len(chans) - 1}]")
        cls.n_channels = len(chans)
        if cls.NOISE_CLICKS not in ("random-bit", "mixed-state"):
            raise InvalidParameter(f"{cls.__name__}.NOISE_CLICKS", cls.NOISE_CLICKS, "'random-bit' or 'mixed-state'")
        if "PARAMETERS" in cls.__dict__ and "__init__" not in cls.__dict__:
            cls.__init__ = _parameter_init(cls)

    def __init__(self, **params: Any) -> None:
        unknown = sorted(set(params) - set(self.PARAMETERS))
        if unknown:
            raise InvalidParameter("params", unknown, f"parameters of {self.name!r}: {sorted(self.PARAMETERS)}")
        for name, spec in self.PARAMETERS.items():
            setattr(self, name, spec.check(name, params.get(name, spec.default)))

    def parameters(self) -> dict[str, Any]:
        """The values of ``PARAMETERS`` (what the constructor was given, validated)."""
        return {name: getattr(self, name) for name in self.PARAMETERS}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.parameters().items())
        return f"{type(self).__name__}({args})"

    # ---- what a subclass declares --------------------------------------------------------
    def probabilities(self) -> dict[str, Sequence[float]]:
        """Each choice's distribution over its values (missing choices: uniform)."""
        return {}

    def circuit(self, qc: QuantumCircuit, c: Configuration) -> None:
        """Build configuration ``c``'s circuit in ``qc`` (``QUBITS`` qubits first; do not measure).

        Call ``c.send(qc)`` where the qubits cross their channels. The base adds the
        eavesdropper's and the flags' qubits and measures every qubit at the end.
        """
        raise NotImplementedError(f"{type(self).__name__} must define circuit(qc, c)")

    def tally(self, r: RoundView) -> dict[str, int]:
        """Integer tallies of the rounds in ``r`` (use ``r.count(mask)``); chunks add them."""
        raise NotImplementedError(f"{type(self).__name__} must define tally(r)")

    def estimates(self, result: DeclaredResult) -> dict[str, Estimate | float | int | None]:
        """Estimates of a result from its tallies (``result.binomial("errors", "sifted")``)."""
        raise NotImplementedError(f"{type(self).__name__} must define estimates(result)")

    def draw(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        """Draw every choice for ``n`` rounds: ``{choice: integer array}``.

        The default draws the choices independently, in declaration order, from
        :meth:`probabilities`; override it for choices that depend on each other (the
        values must stay within ``CHOICES``).
        """
        probs = self._distributions()
        out = {}
        for name, size in self.CHOICES.items():
            p = probs[name]
            if size == 1:
                out[name] = np.zeros(n, dtype=np.uint8)
            elif size == 2:
                out[name] = random_bits(rng, n, float(p[1]))
            else:
                u = uniform31(rng, n)
                thresholds = threshold31(np.cumsum(p)[:-1])
                v = np.zeros(n, dtype=np.uint8 if size <= 256 else np.uint32)
                for t in thresholds:
                    v += u >= t
                out[name] = v
        return out

    # ---- configurations --------------------------------------------------------------------
    @property
    def n_choice_configs(self) -> int:
        """Number of configurations of the choices (the product of ``CHOICES``' sizes)."""
        return math.prod(self.CHOICES.values())

    def _distributions(self) -> dict[str, np.ndarray]:
        given = dict(self.probabilities())
        unknown = sorted(set(given) - set(self.CHOICES))
        if unknown:
            raise InvalidParameter("probabilities", unknown, f"choices among {list(self.CHOICES)}")
        out = {}
        for name, size in self.CHOICES.items():
            p = np.full(size, 1.0 / size) if name not in given else np.asarray(given[name], dtype=float)
            if p.shape != (size,) or np.any(p < 0) or not math.isclose(float(p.sum()), 1.0, abs_tol=1e-9):
                raise InvalidParameter(f"probabilities[{name!r}]", tuple(p.tolist()),
                                       f"{size} non-negative probabilities summing to 1")
            out[name] = p
        return out

    def decode_config(self, config: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Split configuration ids into each choice's value and the eavesdropper's branch.

        Configuration ``branch * n_choice_configs + mixed-radix(choices)``, the first choice
        most significant.
        """
        config = np.asarray(config)
        branch, rest = np.divmod(config, self.n_choice_configs)
        values = {}
        for name, size in reversed(list(self.CHOICES.items())):
            rest, values[name] = np.divmod(rest, size)
        return {k: values[k] for k in self.CHOICES}, branch

    def _encode(self, values: Mapping[str, np.ndarray], n: int, dtype: type) -> np.ndarray:
        """Mixed-radix configuration ids (first choice most significant), computed in place in ``dtype``."""
        total = np.zeros(n, dtype=dtype)
        for name, size in self.CHOICES.items():
            if size > 1:
                total *= dtype(size)
                total += np.asarray(values[name]).astype(dtype, copy=False)
        return total

    def _uniform_bits(self) -> int | None:
        """Total bits when every choice is uniform over a power of two values (<= 8 bits), else None."""
        if type(self).draw is not DeclarativeProtocol.draw:
            return None
        bits = 0
        given = self.probabilities()
        for name, size in self.CHOICES.items():
            if size & (size - 1) or (name in given and not np.allclose(given[name], 1.0 / size, rtol=0, atol=0)):
                return None
            bits += size.bit_length() - 1
        return bits if bits <= 8 else None

    def _draw_configs(self, rng: np.random.Generator, n: int, dtype: type) -> np.ndarray:
        bits = self._uniform_bits()
        if bits is not None:
            # One random byte per round: its low bits are the choices, first choice most significant.
            return (np.frombuffer(rng.bytes(n), dtype=np.uint8) & np.uint8((1 << bits) - 1)).astype(dtype, copy=False)
        values = self.draw(rng, n)
        missing = sorted(set(self.CHOICES) - set(values))
        if missing:
            raise InvalidParameter("draw()", sorted(values), f"a value array for every choice {list(self.CHOICES)}")
        for name, size in self.CHOICES.items():
            v = np.asarray(values[name])
            if v.shape != (n,) or (v.size and (v.min() < 0 or v.max() >= size)):
                raise InvalidParameter(f"draw()[{name!r}]", v.shape, f"{n} integers in [0, {size - 1}]")
        return self._encode(values, n, dtype)

    # ---- layout and circuits ---------------------------------------------------------------
    def _layout(self, eavesdropper: Eavesdropper | None, form: ChannelForm) -> tuple[int, int | None, tuple[int, ...]]:
        """(qubits, the eavesdropper's qubit, the flag qubit of each channel); clbit k = qubit k."""
        n = self.QUBITS
        eve = None
        if eavesdropper is not None:
            eve, n = n, n + 1
        flags: tuple[int, ...] = ()
        if form == "erasure":
            flags, n = tuple(range(n, n + self.n_channels)), n + self.n_channels
        return n, eve, flags

    def build_circuits(self, *, eavesdropper: Eavesdropper | None = None,
                       form: ChannelForm = "fast") -> tuple[QuantumCircuit, ...]:
        """One circuit per configuration (see :meth:`decode_config` for the numbering)."""
        mapping = get_channel_mapping(self.CHANNEL_MAPPING)
        nq, eve, flags = self._layout(eavesdropper, form)
        branches = 1 if eavesdropper is None else eavesdropper.n_branches
        names = list(self.CHOICES)
        chans = self.CHANNELS

        def sender(qc: QuantumCircuit, legs: list[int], branch: int) -> None:
            for leg in legs:
                if not 0 <= leg < len(chans):
                    raise InvalidParameter("channels", leg, f"channel indices in [0, {len(chans) - 1}]")
            if eavesdropper is not None and self.EAVESDROPPER_CHANNEL in legs:
                eavesdropper.apply(qc, chans[self.EAVESDROPPER_CHANNEL], eve, branch)
            for leg in legs:
                if form == "fast":
                    qc.append(mapping.marker(), [chans[leg]])
                else:
                    qc.append(mapping.erasure_marker(), [chans[leg], flags[leg]])

        sender.channels = chans  # type: ignore[attr-defined]
        circuits = []
        for branch in range(branches):
            for values in itertools.product(*(range(s) for s in self.CHOICES.values())):
                label = "_".join(f"{k}{v}" for k, v in zip(names, values))
                qc = QuantumCircuit(nq, nq, name=f"{self.name}_e{branch}_{label}")
                c = Configuration(dict(zip(names, values)), branch, sender)
                self.circuit(qc, c)
                if sorted(c.sent) != list(range(len(chans))):
                    raise QprotoError(f"{type(self).__name__}.circuit() must call c.send(qc) once for every "
                                      f"channel; it sent channels {sorted(c.sent)} of {len(chans)}")
                for q in range(nq):
                    qc.measure(q, q)
                circuits.append(qc)
        return tuple(circuits)

    def noise_model(self, channels: tuple[Channel, ...], *, eavesdropper: Eavesdropper | None = None,
                    form: ChannelForm = "fast"):
        """Each channel on the marker of the qubit that crosses it (with its flag in the erasure form)."""
        _, _, flags = self._layout(eavesdropper, form)
        mapping = get_channel_mapping(self.CHANNEL_MAPPING)
        if self.NOISE_CLICKS == "mixed-state":
            if form != "fast":
                raise InvalidParameter("form", form, "'fast'",
                                       f"form={form!r}: {self.name} models noise clicks as a mixed state given "
                                       f"the click (NOISE_CLICKS = 'mixed-state'), in the fast form only")
            channels = tuple(given_click(ch) for ch in channels)
        return mapping.noise_model({q: ch for q, ch in zip(self.CHANNELS, channels)}, form=form,
                                   flags=dict(zip(self.CHANNELS, flags)) if flags else None)

    # ---- sampling ----------------------------------------------------------------------------
    def sample_chunk(self, compiled: CompiledConfigurations, channels: tuple[Channel, ...], rounds: int,
                     rng: np.random.Generator, *, eavesdropper: Eavesdropper | None, form: ChannelForm,
                     aer_seed: int) -> Any:
        """Draw the choices, sample the clicks and the outcomes of ``rounds`` rounds."""
        n = rounds
        n_configs = len(compiled.circuits)
        cfg_dtype = _uint_dtype(n_configs)
        cfg = self._draw_configs(rng, n, cfg_dtype)
        if eavesdropper is not None:
            cfg += eavesdropper.draw_branches(n, rng).astype(cfg_dtype) * cfg_dtype(self.n_choice_configs)
        _, eve, flags = self._layout(eavesdropper, form)
        out_dtype = _uint_dtype(compiled.n_outcomes)
        if form == "erasure":
            outcome = compiled.sample_trusted(cfg, rng, aer_seed=aer_seed)
            detected = np.ones(n, dtype=bool)
            for f in flags:
                detected &= ((outcome >> f) & 1) == 0
        elif self.NOISE_CLICKS == "mixed-state":
            # The circuit already carries each channel's state given a click: sample the clicks only.
            detected = None
            for ch in channels:
                p = ch.detection_probability
                if p < 1.0:
                    clicks = bernoulli(rng, n, p)
                    detected = clicks if detected is None else detected & clicks
            if detected is None:
                outcome = compiled.sample_trusted(cfg, rng, aer_seed=aer_seed)
            else:
                outcome = np.zeros(n, dtype=out_dtype)
                idx = np.flatnonzero(detected)
                outcome[idx] = compiled.sample_trusted(cfg[idx], rng, aer_seed=aer_seed)
        else:
            arrivals = [sample_arrivals(ch, n, rng) for ch in channels]
            if all(sig is None for sig, _ in arrivals):
                detected = None
                outcome = compiled.sample_trusted(cfg, rng, aer_seed=aer_seed)
            else:
                detected = np.ones(n, dtype=bool)
                for sig, noise in arrivals:
                    if sig is not None:
                        detected &= sig if noise is None else sig | noise
                idx = np.flatnonzero(detected)
                outcome = np.zeros(n, dtype=out_dtype)
                outcome[idx] = compiled.sample_trusted(cfg[idx], rng, aer_seed=aer_seed)
                full = (1 << int(math.log2(compiled.n_outcomes))) - 1
                for (_, noise), q in zip(arrivals, self.CHANNELS):
                    if noise is not None:  # a noise-only click gives that qubit a uniformly random bit
                        noisy = np.flatnonzero(noise & detected)
                        outcome[noisy] = (outcome[noisy] & out_dtype(full ^ (1 << q))) | (
                            random_bits(rng, noisy.size).astype(out_dtype) << out_dtype(q))
        return self._record(cfg, outcome, detected, compiled, eve)

    def _record(self, cfg: np.ndarray, outcome: np.ndarray, detected: np.ndarray | None,
                compiled: CompiledConfigurations, eve: int | None) -> Any:
        return Rounds(config=cfg, outcome=outcome, detected=detected, protocol=self, eve_clbit=eve)

    # ---- analysis and result ---------------------------------------------------------------
    def analyse(self, record: Rounds) -> dict[str, int]:
        """:meth:`tally` over the chunk, grouped by (configuration, outcome, click) when that is small."""
        n_configs = int(record.config.max()) + 1 if len(record) else 1
        n_out = int(record.outcome.max()) + 1 if len(record) else 1
        cells = n_configs * n_out * 2
        if cells > (1 << 20):
            view = record.view()
        else:
            key = record.config.astype(np.int64) * n_out + record.outcome.astype(np.int64)
            det = np.ones(len(record), dtype=np.int64) if record.detected is None else record.detected.astype(np.int64)
            hist = np.bincount(key * 2 + det, minlength=cells)
            grid = np.flatnonzero(hist)
            choices, branch = self.decode_config(grid // 2 // n_out)
            view = RoundView(choices, branch, (grid // 2) % n_out, (grid % 2).astype(bool), record.eve_clbit,
                             hist[grid])
        t = self.tally(view)
        if not isinstance(t, Mapping):
            raise InvalidType("tally()", t, "a dict of integer tallies")
        return {str(k): int(v) for k, v in t.items()}

    def make_result(self, tallies: Any, *, channels: tuple[Channel, ...], rounds: int, seed: int,
                    eavesdropper: Eavesdropper | None) -> ProtocolResult:
        result = self.RESULT(protocol=self.name, parameters=self.parameters(), channels=channels, rounds=rounds,
                             seed=seed, eavesdropper=None if eavesdropper is None else eavesdropper.to_dict(),
                             tallies=dict(tallies or {}))
        return result._keep_protocol(self)


#: Attribute names of Configuration and RoundView, which choices cannot take.
_RESERVED = frozenset({"branch", "attacked", "outcome", "clicked", "measured", "eve_bit", "count", "send", "sent"})


def _uint_dtype(n_values: int) -> type:
    for dtype in (np.uint8, np.uint16, np.uint32):
        if n_values <= np.iinfo(dtype).max + 1:
            return dtype
    return np.uint64


def _parameter_init(cls: type[DeclarativeProtocol]) -> Callable[..., None]:
    """A keyword-only ``__init__`` with the signature of ``cls.PARAMETERS`` (so ``get_protocol`` and
    ``qproto run --param`` see the parameters)."""

    def __init__(self, **params: Any) -> None:  # noqa: N807
        DeclarativeProtocol.__init__(self, **params)

    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params += [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=p.default, annotation=float)
               for k, p in cls.PARAMETERS.items()]
    __init__.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    __init__.__doc__ = "Keyword arguments: " + ", ".join(
        f"{k} (default {p.default}; {p.doc or 'see the class'})" for k, p in cls.PARAMETERS.items())
    return __init__
