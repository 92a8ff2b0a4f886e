"""Frozen result types: estimates with intervals, per-run tallies and protocol results.

A result holds the raw tallies of a run plus everything needed to replay it
(protocol name, parameters, channels, rounds, root seed, eavesdropper). All
estimates (QBER, key rate, CHSH value, ...) are derived from the tallies, so
``from_dict(to_dict(r)) == r`` and results of chunks merge with ``+``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar

import numpy as np
from scipy import stats

from qproto._channel import Channel
from qproto._errors import InvalidParameter, InvalidType
from qproto._validation import check_in_range, check_int
from qproto.security._chsh import chsh_value
from qproto.security._bounds import plob_bound
from qproto.security._decoy import bb84_asymptotic_fraction

__all__ = ["Estimate", "QKDCounts", "ProtocolResult", "QKDResult", "result_from_dict", "DEFAULT_CONFIDENCE"]

DEFAULT_CONFIDENCE = 0.95


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A point estimate with a two-sided confidence interval ``low <= best <= high``.

    Attributes:
        low: lower end of the interval.
        best: the point estimate (NaN when there was no data).
        high: upper end of the interval.
        confidence: the interval's confidence level in (0, 1).
    """

    low: float
    best: float
    high: float
    confidence: float = DEFAULT_CONFIDENCE

    @classmethod
    def binomial(cls, successes: int, trials: int, *, confidence: float = DEFAULT_CONFIDENCE) -> Estimate:
        """Proportion ``successes / trials`` with its exact Clopper-Pearson interval.

        With ``trials == 0`` the estimate is NaN and the interval [0, 1].
        """
        k = check_int("successes", successes, minimum=0)
        n = check_int("trials", trials, minimum=0)
        if k > n:
            raise InvalidParameter("successes", k, f"integers in [0, trials={n}]")
        c = check_in_range("confidence", confidence, 0.0, 1.0, lo_open=True, hi_open=True)
        if n == 0:
            return cls(0.0, math.nan, 1.0, c)
        alpha = 1.0 - c
        low = 0.0 if k == 0 else float(stats.beta.ppf(alpha / 2, k, n - k + 1))
        high = 1.0 if k == n else float(stats.beta.ppf(1 - alpha / 2, k + 1, n - k))
        return cls(low, k / n, high, c)

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in [low, high]."""
        return self.low <= value <= self.high

    def to_dict(self) -> dict[str, float | None]:
        """JSON-ready dict (NaN and infinities become ``None``)."""
        return {k: _json_float(v) for k, v in dataclasses.asdict(self).items()}


_SCALAR_COUNT_FIELDS = ("rounds", "detected", "sifted_z", "sifted_x", "errors_z", "errors_x", "mismatched",
                        "mismatched_agree", "eve_sifted", "eve_correct")


@dataclasses.dataclass(frozen=True, kw_only=True)
class QKDCounts:
    """Tallies of a QKD run (or of one chunk of it); ``+`` merges tallies.

    Attributes:
        rounds: channel uses (pulses, or emitted pairs).
        detected: rounds with a click (a coincidence for entanglement-based protocols).
        sifted_z, sifted_x: detected rounds kept because both measured in Z (X).
        errors_z, errors_x: sifted rounds whose bits disagree, per basis.
        mismatched: detected key rounds discarded because the bases differ.
        mismatched_agree: mismatched rounds whose bits agree anyway.
        eve_sifted: sifted rounds the eavesdropper attacked.
        eve_correct: of those, rounds where her bit equals Alice's.
        chsh_n: detected CHSH-test rounds per setting pair (a0b0, a0b1, a1b0, a1b1).
        chsh_sum: per setting pair, the sum of (-1)^(a xor b).
    """

    rounds: int = 0
    detected: int = 0
    sifted_z: int = 0
    sifted_x: int = 0
    errors_z: int = 0
    errors_x: int = 0
    mismatched: int = 0
    mismatched_agree: int = 0
    eve_sifted: int = 0
    eve_correct: int = 0
    chsh_n: tuple[int, int, int, int] = (0, 0, 0, 0)
    chsh_sum: tuple[int, int, int, int] = (0, 0, 0, 0)

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name.startswith("chsh"):
                if not isinstance(v, (tuple, list)) or len(v) != 4:
                    raise InvalidType(f.name, v, "a tuple of 4 ints")
                ints = tuple(check_int(f"{f.name}[{i}]", x) for i, x in enumerate(v))
                object.__setattr__(self, f.name, ints)
            else:
                object.__setattr__(self, f.name, check_int(f.name, v, minimum=0))
        if self.errors_z > self.sifted_z or self.errors_x > self.sifted_x:
            raise InvalidParameter("errors_z/errors_x", (self.errors_z, self.errors_x),
                                   "at most sifted_z/sifted_x")

    @classmethod
    def from_vector(cls, vector: np.ndarray) -> QKDCounts:
        """Build from the flat integer vector of :meth:`to_vector` (order of the fields, CHSH last)."""
        v = [int(x) for x in vector]
        return cls(**dict(zip(_SCALAR_COUNT_FIELDS, v[:10])), chsh_n=tuple(v[10:14]), chsh_sum=tuple(v[14:18]))

    def to_vector(self) -> np.ndarray:
        """The tallies as one int64 vector (the 10 scalar fields, then chsh_n, then chsh_sum)."""
        return np.array([getattr(self, f) for f in _SCALAR_COUNT_FIELDS] + list(self.chsh_n)
                        + list(self.chsh_sum), dtype=np.int64)

    def __add__(self, other: QKDCounts) -> QKDCounts:
        if not isinstance(other, QKDCounts):
            return NotImplemented
        return QKDCounts.from_vector(self.to_vector() + other.to_vector())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the tallies."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QKDCounts:
        """Inverse of :meth:`to_dict`."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


@dataclasses.dataclass(frozen=True, kw_only=True)
class ProtocolResult:
    """What every protocol run returns: enough to identify and replay the run.

    Attributes:
        protocol: registry name of the protocol (e.g. ``"bb84"``).
        parameters: the protocol's parameters (JSON-ready values).
        channels: the channel(s) used, in the protocol's order.
        rounds: number of rounds (channel uses) simulated.
        seed: root seed; ``run(..., seed=result.seed)`` reproduces the result.
        eavesdropper: the eavesdropper's description (``to_dict``), or None.
    """

    TYPE: ClassVar[str] = "ProtocolResult"
    _TYPES: ClassVar[dict[str, type[ProtocolResult]]] = {}

    protocol: str
    parameters: dict[str, Any]
    channels: tuple[Channel, ...]
    rounds: int
    seed: int
    eavesdropper: dict[str, Any] | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        ProtocolResult._TYPES[cls.TYPE] = cls

    def _base_dict(self) -> dict[str, Any]:
        return {
            "type": self.TYPE,
            "protocol": self.protocol,
            "parameters": dict(self.parameters),
            "channels": [c.to_dict() for c in self.channels],
            "rounds": self.rounds,
            "seed": self.seed,
            "eavesdropper": None if self.eavesdropper is None else dict(self.eavesdropper),
        }

    @staticmethod
    def _base_kwargs(data: dict[str, Any]) -> dict[str, Any]:
        return {
            "protocol": data["protocol"],
            "parameters": dict(data["parameters"]),
            "channels": tuple(Channel.from_dict(c) for c in data["channels"]),
            "rounds": data["rounds"],
            "seed": data["seed"],
            "eavesdropper": data.get("eavesdropper"),
        }

    #: Human-readable labels of the keys of :meth:`estimates` (the CLI's table uses them).
    LABELS: ClassVar[dict[str, str]] = {}

    def estimates(self) -> dict[str, Estimate | float | int | None]:
        """Every derived quantity by name: an :class:`Estimate` where it is sampled,
        a plain number where it is exact or a bound. Subclasses override this."""
        return {}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; :func:`result_from_dict` inverts it (``estimates`` are derived, not read back)."""
        d = self._base_dict()
        d["estimates"] = {k: _json_value(v) for k, v in self.estimates().items()}
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProtocolResult:
        """Rebuild a result from :meth:`to_dict` output (dispatching on ``data["type"]``)."""
        return result_from_dict(data)


@dataclasses.dataclass(frozen=True, kw_only=True)
class QKDResult(ProtocolResult):
    """Result of a QKD protocol (BB84, BBM92, ...).

    Attributes:
        counts: the run's tallies (:class:`QKDCounts`).
        confidence: confidence level of every reported interval.

    All rates are in bits per round (channel use). ``key_rate`` is the asymptotic
    one-way rate summed over the bases used for key, each basis's key bits
    paying f_EC h(E_basis) for error correction and h(E_other basis) for privacy
    amplification (Shor-Preskill; PHYSICS.md A1/A3).
    """

    TYPE: ClassVar[str] = "QKDResult"

    counts: QKDCounts
    confidence: float = DEFAULT_CONFIDENCE

    def __add__(self, other: QKDResult) -> QKDResult:
        """Merge two runs of the same protocol, parameters and channels (seeds must differ)."""
        if not isinstance(other, QKDResult):
            return NotImplemented
        for name in ("protocol", "parameters", "channels", "eavesdropper", "confidence"):
            if getattr(self, name) != getattr(other, name):
                raise InvalidParameter(name, getattr(other, name), f"equal to {getattr(self, name)!r}",
                                       f"cannot add results with different {name}")
        return dataclasses.replace(self, rounds=self.rounds + other.rounds,
                                   counts=self.counts + other.counts)

    # ---- estimates -----------------------------------------------------------------
    def _binom(self, k: int, n: int) -> Estimate:
        return Estimate.binomial(k, n, confidence=self.confidence)

    @property
    def f_ec(self) -> float:
        """Error-correction inefficiency used in the key rate."""
        return float(self.parameters.get("f_ec", 1.16))

    @property
    def sifted_bits(self) -> int:
        """Number of sifted key bits (both bases)."""
        return self.counts.sifted_z + self.counts.sifted_x

    @property
    def detection_rate(self) -> Estimate:
        """Clicks (coincidences) per round."""
        return self._binom(self.counts.detected, self.counts.rounds)

    @property
    def sifted_fraction(self) -> Estimate:
        """Sifted bits per detected key round (1/2 for symmetric BB84)."""
        c = self.counts
        return self._binom(c.sifted_z + c.sifted_x, c.sifted_z + c.sifted_x + c.mismatched)

    @property
    def qber_z(self) -> Estimate:
        """Error rate of Z-basis sifted bits."""
        return self._binom(self.counts.errors_z, self.counts.sifted_z)

    @property
    def qber_x(self) -> Estimate:
        """Error rate of X-basis sifted bits."""
        return self._binom(self.counts.errors_x, self.counts.sifted_x)

    @property
    def qber(self) -> Estimate:
        """Error rate of all sifted bits."""
        c = self.counts
        return self._binom(c.errors_z + c.errors_x, c.sifted_z + c.sifted_x)

    @property
    def mismatched_agreement(self) -> Estimate:
        """P(a = b) on discarded, mismatched-basis rounds (1/2 when sifting is sound)."""
        return self._binom(self.counts.mismatched_agree, self.counts.mismatched)

    @property
    def eve_agreement(self) -> Estimate:
        """P(Eve's bit = Alice's) on sifted rounds she attacked (NaN if none)."""
        return self._binom(self.counts.eve_correct, self.counts.eve_sifted)

    @property
    def key_rate(self) -> Estimate:
        """Asymptotic secret-key rate in bits per round, with the interval from the QBER intervals."""
        c = self.counts
        return sifted_key_rate(sifted_z=c.sifted_z, sifted_x=c.sifted_x, rounds=c.rounds, qber_z=self.qber_z,
                               qber_x=self.qber_x, f_ec=self.f_ec, confidence=self.confidence)

    @property
    def plob(self) -> float:
        """PLOB bound -log2(1 - eta) in bits per round for the weakest channel (inf at eta = 1)."""
        return plob_bound(min(ch.total_transmittance for ch in self.channels))

    @property
    def chsh(self) -> Estimate | None:
        """CHSH value S = E00 - E01 + E10 + E11 (PHYSICS.md A4 settings) with a normal interval.

        ``None`` when the run had no CHSH rounds; the interval is ``best +- z sigma``
        with sigma^2 = sum (1 - E_xy^2) / N_xy.
        """
        n = np.array(self.counts.chsh_n, dtype=float)
        if np.any(n == 0):
            return None
        e = np.array(self.counts.chsh_sum, dtype=float) / n
        s = chsh_value(e)
        sigma = float(np.sqrt(np.sum((1.0 - e**2) / n)))
        z = float(stats.norm.ppf(0.5 + self.confidence / 2))
        return Estimate(s - z * sigma, s, s + z * sigma, self.confidence)

    @property
    def chsh_sigma(self) -> float | None:
        """Standard deviation of the CHSH estimate (``None`` without CHSH rounds)."""
        n = np.array(self.counts.chsh_n, dtype=float)
        if np.any(n == 0):
            return None
        e = np.array(self.counts.chsh_sum, dtype=float) / n
        return float(np.sqrt(np.sum((1.0 - e**2) / n)))

    LABELS: ClassVar[dict[str, str]] = {
        "detection_rate": "detection rate (per round)",
        "sifted_bits": "sifted bits",
        "sifted_fraction": "sifted fraction",
        "qber_z": "QBER Z",
        "qber_x": "QBER X",
        "qber": "QBER (both bases)",
        "key_rate": "key rate (bit/round)",
        "plob": "PLOB bound (bit/round)",
        "chsh": "CHSH S",
        "eve_agreement": "Eve agrees with Alice",
    }

    def estimates(self) -> dict[str, Estimate | float | int | None]:
        """QBERs, rates, PLOB bound, CHSH value (if measured) and Eve's agreement (if attacked)."""
        out: dict[str, Estimate | float | int | None] = {
            "detection_rate": self.detection_rate,
            "sifted_bits": self.sifted_bits,
            "sifted_fraction": self.sifted_fraction,
            "qber_z": self.qber_z,
            "qber_x": self.qber_x,
            "qber": self.qber,
            "key_rate": self.key_rate,
            "plob": self.plob,
            "chsh": self.chsh,
        }
        if self.eavesdropper is not None:
            out["eve_agreement"] = self.eve_agreement
        return out

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        d["counts"] = self.counts.to_dict()
        d["confidence"] = self.confidence
        return d

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> QKDResult:
        return cls(**cls._base_kwargs(data), counts=QKDCounts.from_dict(data["counts"]),
                   confidence=data.get("confidence", DEFAULT_CONFIDENCE))


def sifted_key_rate(*, sifted_z: int, sifted_x: int, rounds: int, qber_z: Estimate, qber_x: Estimate,
                    f_ec: float, confidence: float = DEFAULT_CONFIDENCE) -> Estimate:
    """Asymptotic key rate (bits per round) from per-basis sifted counts and QBER intervals.

    Each basis's sifted bits pay f_EC h(E_basis) for error correction and h(E_other) for
    privacy amplification (Shor-Preskill; PHYSICS.md A1). Error rates are capped at 1/2;
    the interval takes the QBER interval's ends (high QBER -> low rate).
    """
    if rounds == 0:
        return Estimate(0.0, 0.0, 0.0, confidence)
    fz, fx = sifted_z / rounds, sifted_x / rounds

    def rate(ez: float, ex: float) -> float:
        total = 0.0
        for frac, e_bit, e_ph in ((fz, ez, ex), (fx, ex, ez)):
            if frac > 0 and not (math.isnan(e_bit) or math.isnan(e_ph)):
                total += frac * bb84_asymptotic_fraction(min(e_ph, 0.5), min(e_bit, 0.5), f_ec=f_ec)
        return total

    return Estimate(rate(qber_z.high, qber_x.high), rate(qber_z.best, qber_x.best), rate(qber_z.low, qber_x.low),
                    confidence)


def result_from_dict(data: dict[str, Any]) -> ProtocolResult:
    """Rebuild any qproto result from its ``to_dict()`` output.

    Raises:
        InvalidType: ``data`` is not a dict.
        InvalidParameter: ``data["type"]`` names no known result type.
    """
    if not isinstance(data, dict):
        raise InvalidType("data", data, "a dict produced by a result's to_dict()")
    kind = data.get("type")
    cls = ProtocolResult._TYPES.get(kind)  # type: ignore[arg-type]
    if cls is None or not hasattr(cls, "_from_dict"):
        raise InvalidParameter("data['type']", kind, f"one of {sorted(ProtocolResult._TYPES)}")
    return cls._from_dict(data)  # type: ignore[attr-defined]


def _json_float(v: float) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


def _json_value(v: Any) -> Any:
    """Estimates as dicts, non-finite floats as None, numpy scalars as Python numbers."""
    if isinstance(v, Estimate):
        return v.to_dict()
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return _json_float(float(v))
    return v
