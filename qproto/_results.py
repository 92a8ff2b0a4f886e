"""Frozen result types: estimates with intervals, per-run tallies and protocol results.

A result holds the raw tallies of a run plus everything needed to replay it
(protocol name, parameters, channels, rounds, root seed, eavesdropper). All
estimates (QBER, key rate, CHSH value, ...) are derived from the tallies, so
``from_dict(to_dict(r)) == r`` and results of chunks merge with ``+``.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from scipy import stats

from qproto._channel import Channel
from qproto._errors import InvalidParameter, InvalidType, QprotoError
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
        successes, trials: for a sampled proportion (:meth:`binomial`), the counts
            behind it; the invariant checkers test these. ``None`` otherwise.
        sigma: for a normally distributed estimate (e.g. the CHSH value), its
            standard deviation; the checkers test ``|best - truth| <= 5 sigma``.
    """

    low: float
    best: float
    high: float
    confidence: float = DEFAULT_CONFIDENCE
    successes: int | None = None
    trials: int | None = None
    sigma: float | None = None

    def __post_init__(self) -> None:
        if (self.successes is None) != (self.trials is None):
            raise InvalidParameter("successes/trials", (self.successes, self.trials),
                                   "both None or both integers with 0 <= successes <= trials")
        if self.trials is not None:
            n = check_int("trials", self.trials, minimum=0)
            check_int("successes", self.successes, minimum=0, maximum=n)
        if self.sigma is not None:
            check_in_range("sigma", self.sigma, 0.0, math.inf)

    @property
    def is_proportion(self) -> bool:
        """Whether this estimate is a sampled proportion ``successes / trials``."""
        return self.trials is not None

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
            return cls(0.0, math.nan, 1.0, c, successes=0, trials=0)
        alpha = 1.0 - c
        low = 0.0 if k == 0 else float(stats.beta.ppf(alpha / 2, k, n - k + 1))
        high = 1.0 if k == n else float(stats.beta.ppf(1 - alpha / 2, k + 1, n - k))
        return cls(low, k / n, high, c, successes=k, trials=n)

    @classmethod
    def normal(cls, best: float, sigma: float, *, confidence: float = DEFAULT_CONFIDENCE) -> Estimate:
        """A normally distributed estimate ``best +- z sigma`` (z for the two-sided ``confidence``)."""
        sigma = check_in_range("sigma", sigma, 0.0, math.inf)
        c = check_in_range("confidence", confidence, 0.0, 1.0, lo_open=True, hi_open=True)
        z = float(stats.norm.ppf(0.5 + c / 2))
        return cls(best - z * sigma, best, best + z * sigma, c, sigma=float(sigma))

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in [low, high]."""
        return self.low <= value <= self.high

    def to_dict(self) -> dict[str, float | int | None]:
        """JSON-ready dict (NaN and infinities become ``None``); :meth:`from_dict` inverts it."""
        d: dict[str, float | int | None] = {k: _json_float(getattr(self, k)) for k in ("low", "best", "high")}
        d["confidence"] = self.confidence
        if self.trials is not None:
            d["successes"], d["trials"] = self.successes, self.trials
        if self.sigma is not None:
            d["sigma"] = self.sigma
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Estimate:
        """Inverse of :meth:`to_dict` (``None`` reads back as NaN)."""
        if not isinstance(data, dict):
            raise InvalidType("data", data, "a dict produced by Estimate.to_dict()")
        num = {k: math.nan if data.get(k) is None else float(data[k]) for k in ("low", "best", "high")}
        return cls(**num, confidence=float(data.get("confidence", DEFAULT_CONFIDENCE)),
                   successes=data.get("successes"), trials=data.get("trials"), sigma=data.get("sigma"))


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
        # Counts that contradict each other describe no run (a corrupted or hand-edited tally).
        for part, whole in (("detected", "rounds"), ("mismatched_agree", "mismatched"), ("eve_correct", "eve_sifted")):
            if getattr(self, part) > getattr(self, whole):
                raise InvalidParameter(part, getattr(self, part), f"at most {whole}={getattr(self, whole)}",
                                       f"{part}={getattr(self, part)} exceeds {whole}={getattr(self, whole)}")
        used = self.sifted_z + self.sifted_x + self.mismatched + sum(self.chsh_n)
        if used > self.detected:
            raise InvalidParameter("sifted_z", self.sifted_z, f"sifted + mismatched + CHSH rounds <= detected="
                                   f"{self.detected}", f"sifted_z + sifted_x + mismatched + CHSH rounds = {used} "
                                   f"exceeds detected={self.detected}")
        if self.eve_sifted > self.sifted_z + self.sifted_x:
            raise InvalidParameter("eve_sifted", self.eve_sifted, f"at most the sifted rounds "
                                   f"{self.sifted_z + self.sifted_x}")
        for i, (n, total) in enumerate(zip(self.chsh_n, self.chsh_sum)):
            if n < 0 or abs(total) > n or (n - total) % 2:
                raise InvalidParameter(f"chsh_sum[{i}]", total, f"a sum of chsh_n[{i}]={n} terms +-1",
                                       f"chsh_sum[{i}]={total} is not a sum of chsh_n[{i}]={n} terms +-1")

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
        """Inverse of :meth:`to_dict`.

        Raises:
            InvalidType, InvalidParameter: not a dict, a field missing, unknown or of the wrong type,
                or counts that contradict each other (the error names the field).
        """
        if not isinstance(data, dict):
            raise InvalidType("counts", data, "a dict produced by QKDCounts.to_dict()")
        names = [f.name for f in dataclasses.fields(cls)]
        for name in names:
            if name not in data:
                raise InvalidParameter(f"counts[{name!r}]", "missing", "every field of QKDCounts",
                                       f"counts[{name!r}] is missing; QKDCounts needs {names}")
        unknown = sorted(set(data) - set(names), key=str)
        if unknown:
            raise InvalidParameter(f"counts[{unknown[0]!r}]", unknown, f"the fields {names}",
                                   f"counts has unknown field(s) {unknown}; QKDCounts has {names}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


def merged_seeds(*parts: Sequence[int]) -> tuple[int, ...]:
    """The seeds of results being added, in order: the one merge check every ``+`` uses.

    Raises:
        InvalidParameter: a seed appears in two parts (runs with the same seed are the same
            sample, not independent data).
    """
    seeds = [int(s) for part in parts for s in part]
    shared = sorted({s for s in seeds if seeds.count(s) > 1})
    if shared:
        raise InvalidParameter("seeds", shared, "parts with different seeds",
                               f"cannot add results that share seeds {shared}: runs with the same seed are the "
                               "same sample, not independent data")
    return tuple(seeds)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ProtocolResult:
    """What every protocol run returns, and the one interface every result implements.

    Attributes:
        protocol: registry name of the protocol (e.g. ``"bb84"``).
        parameters: the protocol's parameters (JSON-ready values).
        channels: the channel(s) used, in the protocol's order.
        rounds: number of rounds (channel uses) simulated.
        seed: root seed; ``run(..., seed=result.seed)`` reproduces the result (for a
            merged result: the first part's seed).
        eavesdropper: the eavesdropper's description (``to_dict``), or None.
        seeds: the root seeds of every run merged into this result, in order
            (``(seed,)`` for a single run).

    The interface (what :mod:`qproto.testing` and ``qproto verify`` rely on):

    * :meth:`estimates`: every derived quantity by name, an :class:`Estimate` with
      its interval where it is sampled (a proportion carries its ``successes`` and
      ``trials``; a normal estimate its ``sigma``), a plain number where it is exact
      or a bound;
    * :meth:`proportions`: ``name -> (successes, trials)`` of every sampled proportion;
    * :meth:`to_dict` / :func:`result_from_dict`: a faithful JSON round trip of any
      registered result type, a user's subclass included;
    * ``+``: merges two runs of the same protocol, parameters and channels. The
      fields named in ``ADDITIVE`` are added (ints, tuples element-wise, dicts key by
      key, objects with ``+``), the fields in ``CONCATENATED`` are concatenated, every
      other field must be equal. The parts must have different seeds (runs with the
      same seed are the same sample, not independent data); the merged result's
      ``seeds`` lists the parts' seeds, and replaying it means replaying each part.

    A subclass declares its own fields (JSON types, or types with
    ``to_dict``/``from_dict``), ``ADDITIVE``, ``LABELS`` and :meth:`estimates`. Its
    ``TYPE`` (the key of its ``to_dict``) defaults to ``"module:QualName"``.
    """

    TYPE: ClassVar[str] = "ProtocolResult"
    _TYPES: ClassVar[dict[str, type[ProtocolResult]]] = {}
    #: Fields merged by ``+`` (added); every other non-base field must be equal.
    ADDITIVE: ClassVar[tuple[str, ...]] = ()
    #: Fields merged by ``+`` by concatenation (e.g. the channel of each slot of a pass).
    CONCATENATED: ClassVar[tuple[str, ...]] = ()
    #: Human-readable labels of the keys of :meth:`estimates` (the CLI's table uses them).
    LABELS: ClassVar[dict[str, str]] = {}

    protocol: str
    parameters: dict[str, Any]
    channels: tuple[Channel, ...]
    rounds: int
    seed: int
    eavesdropper: dict[str, Any] | None = None
    seeds: tuple[int, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "TYPE" not in cls.__dict__:
            # A subclass that does not name itself must not take over its parent's key.
            cls.TYPE = f"{cls.__module__}:{cls.__qualname__}"
        ProtocolResult._TYPES[cls.TYPE] = cls

    def __post_init__(self) -> None:
        # Parameters are values: sequences are stored as tuples, so a JSON round trip compares equal.
        if not isinstance(self.parameters, dict):
            raise InvalidType("parameters", self.parameters, "a dict of the protocol's parameters")
        object.__setattr__(self, "parameters", {k: _freeze(v) for k, v in dict(self.parameters).items()})
        check_int("rounds", self.rounds, minimum=0)
        check_int("seed", self.seed, minimum=0)
        seeds = tuple(check_int(f"seeds[{i}]", s, minimum=0) for i, s in enumerate(self.seeds))
        object.__setattr__(self, "seeds", seeds or (int(self.seed),))
        if self.seeds[0] != self.seed:
            raise InvalidParameter("seeds", self.seeds, f"a tuple starting with seed={self.seed}")
        if len(set(self.seeds)) != len(self.seeds):
            raise InvalidParameter("seeds", self.seeds, "distinct seeds (runs with the same seed are one sample)")
        if not isinstance(self.protocol, str) or not self.protocol:
            raise InvalidType("protocol", self.protocol, "a protocol's registry name (a non-empty str)")
        if not isinstance(self.parameters, dict):
            raise InvalidType("parameters", self.parameters, "a dict of the protocol's parameters")
        if self.eavesdropper is not None and not isinstance(self.eavesdropper, dict):
            raise InvalidType("eavesdropper", self.eavesdropper, "None or a dict (Eavesdropper.to_dict())")
        channels = tuple(self.channels) if isinstance(self.channels, (list, tuple)) else self.channels
        if not isinstance(channels, tuple) or not all(isinstance(c, Channel) for c in channels):
            raise InvalidType("channels", self.channels, "a tuple of qproto.Channel")
        object.__setattr__(self, "channels", channels)

    # ---- the interface ---------------------------------------------------------------
    def estimates(self) -> dict[str, Estimate | float | int | None]:
        """Every derived quantity by name: an :class:`Estimate` where it is sampled,
        a plain number where it is exact or a bound. Subclasses override this."""
        return {}

    def proportions(self) -> dict[str, tuple[int, int]]:
        """``name -> (successes, trials)`` for every sampled proportion of :meth:`estimates`.

        These are what the invariant checkers compare with closed forms (docs/conventions.md B,
        5 sigma + 1/N). Subclasses may add proportions that are not displayed.
        """
        return {k: (int(v.successes), int(v.trials)) for k, v in self.estimates().items()
                if isinstance(v, Estimate) and v.trials is not None}

    def __add__(self, other: ProtocolResult) -> ProtocolResult:
        """Merge two runs (see the class docs for what must match and what is added).

        Runs over different channels (a sweep, the slots of a pass of a protocol that does
        not concatenate its channels) give a :class:`CombinedResult` that keeps each part,
        with its own channels, and pools only the sampled proportions.
        """
        if isinstance(other, CombinedResult):
            return NotImplemented
        if type(other) is not type(self):
            return NotImplemented
        if ("channels" not in self.CONCATENATED and self.channels != other.channels
                and (self.protocol, self.parameters, self.eavesdropper)
                == (other.protocol, other.parameters, other.eavesdropper)):
            return CombinedResult.of((self, other))
        merged: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if f.name in ("rounds",):
                merged[f.name] = a + b
            elif f.name in ("seed",):
                continue
            elif f.name == "seeds":
                merged[f.name] = merged_seeds(a, b)
            elif f.name in self.ADDITIVE:
                merged[f.name] = merge_values(a, b)
            elif f.name in self.CONCATENATED:
                merged[f.name] = a + b if isinstance(a, (bytes, str, tuple)) and type(a) is type(b) \
                    else tuple(a) + tuple(b)
            elif a != b:
                raise InvalidParameter(f.name, b, f"equal to {a!r}", f"cannot add results with different {f.name}")
        return dataclasses.replace(self, **merged)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; :func:`result_from_dict` inverts it.

        Holds ``type``, every field (objects through their ``to_dict``, tuples as
        lists) and, for reading only, ``estimates`` (derived, not read back).
        """
        d: dict[str, Any] = {"type": self.TYPE}
        for f in dataclasses.fields(self):
            d[f.name] = _encode(getattr(self, f.name))
        d["estimates"] = {k: _json_value(v) for k, v in self.estimates().items()}
        return d

    def __str__(self) -> str:
        """A readable summary: protocol, rounds, seed, channels, eavesdropper and the estimates as a
        table, numbers rounded (``repr`` keeps every digit)."""
        lines = [f"{self.protocol}: {self.rounds:,} rounds, seed {self.seed}"
                 + (f" ({len(self.seeds)} runs merged)" if len(self.seeds) > 1 else "")]
        if self.parameters:
            shown = ", ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}"
                              for k, v in self.parameters.items())
            lines.append(f"parameters: {shown}")
        same = len(self.channels) > 1 and all(ch == self.channels[0] for ch in self.channels)
        shown = self.channels[:1] if same else self.channels
        for i, ch in enumerate(shown):
            label = "channel" if len(self.channels) == 1 else (f"channels (all {len(self.channels)})" if same
                                                               else f"channel {i}")
            fields = ", ".join(f"{f.name}={getattr(ch, f.name):.6g}"
                               for f in dataclasses.fields(ch)
                               if isinstance(getattr(ch, f.name), float) and getattr(ch, f.name) != f.default)
            lines.append(f"{label}: {fields or 'ideal'}")
        if self.eavesdropper:
            rest = ", ".join(f"{k} {v:.6g}" if isinstance(v, float) else f"{k} {v}"
                             for k, v in self.eavesdropper.items() if k != "name")
            lines.append(f"eavesdropper: {self.eavesdropper.get('name', '?')}" + (f" ({rest})" if rest else ""))
        lines.append(estimates_table(self))
        return "\n".join(lines)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProtocolResult:
        """Rebuild a result from :meth:`to_dict` output (dispatching on ``data["type"]``)."""
        return result_from_dict(data)

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> ProtocolResult:
        """Build ``cls`` from its dict, decoding each field by its type annotation."""
        try:
            hints = typing.get_type_hints(cls)
        except Exception:  # annotations naming local classes cannot be resolved: read values as they are
            hints = {}
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            if f.name not in data:
                continue
            if f.name == "channels":
                kwargs[f.name] = tuple(Channel.from_dict(c) for c in data[f.name])
            else:
                kwargs[f.name] = _decode(hints.get(f.name), data[f.name])
        return cls(**kwargs)


@dataclasses.dataclass(frozen=True, kw_only=True)
class CombinedResult(ProtocolResult):
    """Runs of one protocol (same parameters and eavesdropper) over different channels, summed.

    What ``a + b`` gives when the channels differ (a sweep, or the slots of a pass): every part
    is kept whole, with its own channels, rounds and seed, in :attr:`parts`; ``channels`` lists
    the parts' channels one after the other (for reading; ``parts`` says which belong together),
    ``rounds`` and ``seeds`` are the totals.

    :meth:`estimates` pools what pooling means: each sampled proportion (an :class:`Estimate`
    with ``successes`` and ``trials``) over all parts, and each count (an int) summed. Values
    that depend on the channel model (closed-form rates, bounds such as PLOB, intervals that are
    not a binomial count) are not pooled: read them per part (``result.parts[i].estimates()``).
    Adding a run to a CombinedResult appends it (or merges it with the part over the same
    channels); seeds must stay distinct.

    Attributes:
        parts: the summed results, each with its own channels (at least two).
    """

    TYPE: ClassVar[str] = "CombinedResult"

    parts: tuple[ProtocolResult, ...] = ()

    @classmethod
    def of(cls, parts: Sequence[ProtocolResult]) -> CombinedResult:
        """Combine ``parts`` (each a run of the same protocol, parameters and eavesdropper).

        Raises:
            InvalidParameter: fewer than two parts, parts of different protocols, parameters or
                eavesdroppers, or shared seeds.
            InvalidType: a part that is not a ProtocolResult.
        """
        flat: list[ProtocolResult] = []
        for i, p in enumerate(parts):
            if isinstance(p, CombinedResult):
                flat.extend(p.parts)
            elif isinstance(p, ProtocolResult):
                flat.append(p)
            else:
                raise InvalidType(f"parts[{i}]", p, "a qproto result")
        merged: list[ProtocolResult] = []
        for p in flat:  # a run over channels already present joins that part
            same = next((j for j, q in enumerate(merged) if type(q) is type(p) and q.channels == p.channels), None)
            if same is None:
                merged.append(p)
            else:
                merged[same] = merged[same] + p
        if len(merged) < 2:
            raise InvalidParameter("parts", len(merged), "at least two parts over different channels")
        first = merged[0]
        for i, p in enumerate(merged):
            for name in ("protocol", "parameters", "eavesdropper"):
                if getattr(p, name) != getattr(first, name):
                    raise InvalidParameter(f"parts[{i}].{name}", getattr(p, name), f"equal to {getattr(first, name)!r}",
                                           f"cannot add results with different {name}")
        seeds = merged_seeds(*(p.seeds for p in merged))
        return cls(protocol=first.protocol, parameters=first.parameters,
                   channels=tuple(c for p in merged for c in p.channels), rounds=sum(p.rounds for p in merged),
                   seed=first.seed, seeds=tuple(seeds), eavesdropper=first.eavesdropper, parts=tuple(merged))

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.parts, tuple) or len(self.parts) < 2 \
                or not all(isinstance(p, ProtocolResult) and not isinstance(p, CombinedResult) for p in self.parts):
            raise InvalidParameter("parts", self.parts, "a tuple of at least two results (not combined ones)")
        if sum(p.rounds for p in self.parts) != self.rounds:
            raise InvalidParameter("rounds", self.rounds, f"the parts' total, {sum(p.rounds for p in self.parts)}")
        if tuple(s for p in self.parts for s in p.seeds) != self.seeds:
            raise InvalidParameter("seeds", self.seeds, "the parts' seeds in order")
        if tuple(c for p in self.parts for c in p.channels) != self.channels:
            raise InvalidParameter("channels", self.channels, "the parts' channels in order")

    def __add__(self, other: ProtocolResult) -> CombinedResult:
        if not isinstance(other, ProtocolResult):
            return NotImplemented
        return CombinedResult.of((self, other))

    def __radd__(self, other: ProtocolResult) -> CombinedResult:
        if not isinstance(other, ProtocolResult):
            return NotImplemented
        return CombinedResult.of((other, self))

    @property
    def LABELS(self) -> dict[str, str]:  # type: ignore[override]
        return type(self.parts[0]).LABELS

    def estimates(self) -> dict[str, Estimate | float | int | None]:
        """Pooled sampled proportions and summed counts (class docs); nothing model-based."""
        per_part = [p.estimates() for p in self.parts]
        confidence = next((v.confidence for v in per_part[0].values() if isinstance(v, Estimate)),
                          DEFAULT_CONFIDENCE)
        out: dict[str, Estimate | float | int | None] = {}
        for key, value in per_part[0].items():
            values = [e.get(key) for e in per_part]
            if isinstance(value, Estimate) and value.trials is not None:
                if all(isinstance(v, Estimate) and v.trials is not None for v in values):
                    out[key] = Estimate.binomial(sum(int(v.successes) for v in values),
                                                 sum(int(v.trials) for v in values), confidence=confidence)
            elif isinstance(value, int) and not isinstance(value, bool):
                if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
                    out[key] = sum(values)
        return out

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        d["parts"] = [p.to_dict() for p in self.parts]
        return d

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> CombinedResult:
        parts = data.get("parts")
        if not isinstance(parts, list):
            raise InvalidType("parts", parts, "a list of results' to_dict() output")
        return cls.of([result_from_dict(p) for p in parts])


@dataclasses.dataclass(frozen=True, kw_only=True)
class QKDResult(ProtocolResult):
    """Result of a QKD protocol (BB84, BBM92, ...).

    Attributes:
        counts: the run's tallies (:class:`QKDCounts`).
        confidence: confidence level of every reported interval.

    All rates are in bits per round (channel use). ``key_rate`` is the asymptotic
    one-way rate summed over the bases used for key, each basis's key bits
    paying f_EC h(E_basis) for error correction and h(E_other basis) for privacy
    amplification (Shor-Preskill; docs/conventions.md A1/A3).
    """

    TYPE: ClassVar[str] = "QKDResult"
    ADDITIVE: ClassVar[tuple[str, ...]] = ("counts",)

    counts: QKDCounts
    confidence: float = DEFAULT_CONFIDENCE

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.counts, QKDCounts):
            raise InvalidType("counts", self.counts, "a QKDCounts")
        if self.counts.rounds != self.rounds:
            raise InvalidParameter("counts.rounds", self.counts.rounds, f"equal to rounds={self.rounds}",
                                   f"counts.rounds={self.counts.rounds} contradicts rounds={self.rounds}")
        check_in_range("confidence", self.confidence, 0.0, 1.0, lo_open=True, hi_open=True)

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
        """Asymptotic secret-key rate in bits per round, with the interval from the QBER intervals,
        clipped to the PLOB bound of the weakest channel (:attr:`plob_min_eta`)."""
        c = self.counts
        rate = sifted_key_rate(sifted_z=c.sifted_z, sifted_x=c.sifted_x, rounds=c.rounds, qber_z=self.qber_z,
                               qber_x=self.qber_x, f_ec=self.f_ec, confidence=self.confidence)
        # No protocol beats the PLOB bound of its weakest link: the interval (taken from the QBER
        # intervals' ends) is clipped to it, so a lossless-looking tail at transmittance 0 reads 0.
        cap = self.plob_min_eta
        return Estimate(min(rate.low, cap), min(rate.best, cap), min(rate.high, cap), rate.confidence)

    @property
    def plob_min_eta(self) -> float:
        """PLOB bound -log2(1 - eta_min) in bits per round, eta_min the weakest channel's
        end-to-end transmittance (inf at eta = 1): the bound of a point-to-point link,
        and of a central-source protocol (docs/conventions.md A13)."""
        return plob_bound(min(ch.total_transmittance for ch in self.channels))

    @property
    def chsh(self) -> Estimate | None:
        """CHSH value S = E00 - E01 + E10 + E11 (docs/conventions.md A4 settings), a normal estimate.

        ``None`` when the run had no CHSH rounds; ``sigma^2 = sum (1 - E_xy^2) / N_xy``
        and the interval is ``best +- z sigma``.
        """
        n = np.array(self.counts.chsh_n, dtype=float)
        if np.any(n == 0):
            return None
        e = np.array(self.counts.chsh_sum, dtype=float) / n
        sigma = float(np.sqrt(np.sum((1.0 - e**2) / n)))
        return Estimate.normal(chsh_value(e), sigma, confidence=self.confidence)

    @property
    def chsh_sigma(self) -> float | None:
        """Standard deviation of the CHSH estimate (``None`` without CHSH rounds)."""
        chsh = self.chsh
        return None if chsh is None else chsh.sigma

    LABELS: ClassVar[dict[str, str]] = {
        "detection_rate": "detection rate (per round)",
        "sifted_bits": "sifted bits",
        "sifted_fraction": "sifted fraction",
        "qber_z": "QBER Z",
        "qber_x": "QBER X",
        "qber": "QBER (both bases)",
        "key_rate": "key rate (bit/round)",
        "plob_min_eta": "PLOB(min eta) (bit/round)",
        "chsh": "CHSH S",
        "mismatched_agreement": "P(a = b), mismatched bases",
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
            "plob_min_eta": self.plob_min_eta,
            "chsh": self.chsh,
            "mismatched_agreement": self.mismatched_agreement,
        }
        if self.eavesdropper is not None:
            out["eve_agreement"] = self.eve_agreement
        return out


def sifted_key_rate(*, sifted_z: int, sifted_x: int, rounds: int, qber_z: Estimate, qber_x: Estimate,
                    f_ec: float, confidence: float = DEFAULT_CONFIDENCE) -> Estimate:
    """Asymptotic key rate (bits per round) from per-basis sifted counts and QBER intervals.

    Each basis's sifted bits pay f_EC h(E_basis) for error correction and h(E_other) for
    privacy amplification (Shor-Preskill; docs/conventions.md A1). Error rates are capped at 1/2;
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

    Only a faithful round trip is accepted: the rebuilt result's ``to_dict()`` must give back
    every field of ``data`` (and its ``estimates``, when present), so corrupted, truncated or
    hand-edited data raise instead of returning a result that reports nonsense.

    Raises:
        InvalidType: ``data`` is not a dict, or a field has the wrong type.
        InvalidParameter: ``data["type"]`` names no known result type, ``data["protocol"]`` no
            registered protocol, or a field is missing, ``None`` where a value is needed, out of
            range, inconsistent with the others or not read back as written (the error names it).
    """
    if not isinstance(data, dict):
        raise InvalidType("data", data, "a dict produced by a result's to_dict()")
    kind = data.get("type")
    cls = ProtocolResult._TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None or not hasattr(cls, "_from_dict"):
        raise InvalidParameter("data['type']", kind, f"one of {sorted(ProtocolResult._TYPES)}")
    for f in dataclasses.fields(cls):
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if required and f.name not in data:
            raise InvalidParameter(f"data[{f.name!r}]", "missing", f"the field {f.name!r} of {cls.TYPE}",
                                   f"data[{f.name!r}] is missing; a {cls.TYPE} needs it")
        if f.name in data and data[f.name] is None and f.name not in _NULLABLE_FIELDS:
            raise InvalidParameter(f"data[{f.name!r}]", None, f"a value for the field {f.name!r}",
                                   f"data[{f.name!r}] is None; a {cls.TYPE} needs a value")
    # qproto's own result types come from registered protocols; a user's type may come from anywhere.
    _check_protocol_name(data.get("protocol"), strict=cls.__module__.split(".")[0] == "qproto")
    _check_fields(cls, data)
    names = {f.name for f in dataclasses.fields(cls)}
    tally = cls.ADDITIVE[0] if cls.ADDITIVE else "data"
    try:
        result = cls._from_dict(data)  # type: ignore[attr-defined]
        again = result.to_dict()
        estimates = again.get("estimates", {})
    except QprotoError as exc:
        # An error naming a top-level field is that field's; any other comes from inside the tallies.
        name = str(getattr(exc, "name", ""))
        field = name if name in names else tally
        raise InvalidParameter(f"data[{field!r}]", getattr(exc, "value", None),
                               str(getattr(exc, "allowed", None) or getattr(exc, "expected", None)
                                   or "a faithful to_dict() output"),
                               f"data[{field!r}]: {exc}") from None
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, ArithmeticError) as exc:
        raise InvalidParameter(f"data[{tally!r}]", f"{type(exc).__name__}: {exc}",
                               f"a faithful {cls.TYPE}.to_dict() output",
                               f"data[{tally!r}] (or a field it derives from) cannot be read as a {cls.TYPE}: "
                               f"{type(exc).__name__}: {exc}") from None
    for key, value in data.items():
        if key == "estimates":
            continue
        if key not in again:
            raise InvalidParameter(f"data[{key!r}]", value, f"only the fields of {cls.TYPE}",
                                   f"data[{key!r}] is not a field of {cls.TYPE}")
        if not _same_json(again[key], value):
            raise InvalidParameter(f"data[{key!r}]", value, "a value that reads back as written",
                                   f"data[{key!r}] does not read back as written (corrupted or edited data?)")
    given = data.get("estimates")
    if given is not None:
        if not isinstance(given, dict):
            raise InvalidType("data['estimates']", given, "a dict (derived from the tallies)")
        for key in set(given) & set(estimates):
            if not _same_json(estimates[key], given[key], rel=1e-9):
                raise InvalidParameter(f"data['estimates'][{key!r}]", given[key],
                                       "the value derived from the tallies",
                                       f"data['estimates'][{key!r}] contradicts the tallies it derives from")
    return result


def _check_fields(cls: type[ProtocolResult], data: dict[str, Any]) -> None:
    """Check and decode each field of ``data`` on its own, so an error names the field it is in."""
    if not isinstance(data.get("parameters"), dict):
        raise InvalidType("data['parameters']", data.get("parameters"), "a dict of the protocol's parameters")
    if data.get("eavesdropper") is not None and not isinstance(data["eavesdropper"], dict):
        raise InvalidType("data['eavesdropper']", data["eavesdropper"], "None or a dict (Eavesdropper.to_dict())")
    seeds = data.get("seeds", [])
    if not isinstance(seeds, list) or not all(isinstance(x, int) and not isinstance(x, bool) for x in seeds):
        raise InvalidType("data['seeds']", seeds, "a list of non-negative ints")
    channels = data.get("channels")
    if not isinstance(channels, list) or not all(isinstance(c, dict) for c in channels):
        raise InvalidType("data['channels']", channels, "a list of Channel.to_dict() dicts")
    for i, c in enumerate(channels):
        try:
            Channel.from_dict(c)
        except (QprotoError, TypeError, ValueError, KeyError, AttributeError) as exc:
            raise InvalidParameter(f"data['channels'][{i}]", c, "a Channel.to_dict() dict",
                                   f"data['channels'][{i}]: {exc}") from None
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # annotations naming local classes: the class's own reader decides
        return
    for f in dataclasses.fields(cls):
        if f.name in data and f.name not in ("channels", "parameters", "eavesdropper", "seeds"):
            try:
                _decode(hints.get(f.name), data[f.name])
            except (QprotoError, TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
                raise InvalidParameter(f"data[{f.name!r}]", data[f.name], f"the to_dict() form of {f.name!r}",
                                       f"data[{f.name!r}] cannot be read: {type(exc).__name__}: {exc}") from None


#: Fields that may legitimately hold ``None``.
_NULLABLE_FIELDS = frozenset({"eavesdropper"})


def _check_protocol_name(name: Any, *, strict: bool) -> None:
    """``name`` must be a str and, when ``strict``, a registered protocol (built-in, plugin or the user's)."""
    from qproto._protocol import PROTOCOLS, available_protocols

    if not isinstance(name, str):
        raise InvalidType("data['protocol']", name, "a registered protocol name (str)")
    if strict and name not in PROTOCOLS and name not in available_protocols() and name not in _OTHER_PRODUCERS:
        raise InvalidParameter("data['protocol']", name, f"one of {sorted(PROTOCOLS)}",
                               f"data['protocol']={name!r} is not a registered protocol; "
                               f"available: {sorted(PROTOCOLS)}")


#: Result producers that are not registered protocols (e.g. a satellite pass); modules add theirs.
_OTHER_PRODUCERS: set[str] = set()


def _same_json(a: Any, b: Any, rel: float = 0.0) -> bool:
    """Whether two JSON values are equal (numbers within ``rel``; ints and bools kept apart)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, int) and isinstance(b, int):
            return a == b
        if isinstance(a, int) != isinstance(b, int) and not rel:
            return float(a) == float(b) and isinstance(a, float)  # an int written where a float is read
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b or abs(a - b) <= rel * max(abs(a), abs(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_json(a[k], b[k], rel) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same_json(x, y, rel) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def _json_float(v: float) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


def _json_value(v: Any) -> Any:
    """Estimates as dicts, non-finite floats as None, numpy scalars and arrays as Python numbers
    and lists, dicts and sequences element by element."""
    return json_ready(v)


def json_ready(v: Any) -> Any:
    """``v`` as data ``json.dumps(..., allow_nan=False)`` accepts: estimates as dicts, numpy scalars
    as Python numbers, arrays and tuples as lists, dicts with str keys in sorted order, NaN and
    infinities as ``None``."""
    if isinstance(v, Estimate):
        return v.to_dict()
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return _json_float(float(v))
    if isinstance(v, np.ndarray):
        return json_ready(v.tolist())
    if isinstance(v, dict):
        return {str(k): json_ready(v[k]) for k in sorted(v, key=str)}
    if isinstance(v, (list, tuple)):
        return [json_ready(x) for x in v]
    if isinstance(v, bytes):
        return v.hex()
    if hasattr(v, "to_dict") and not isinstance(v, type):
        return json_ready(v.to_dict())
    return v


def format_number(x: Any, digits: int = 4) -> str:
    """A number as the tables print it: ``digits`` decimals, scientific notation for very small or
    large values, ``-`` for missing or NaN, ``inf`` for infinities, ints with thousands separators."""
    if x is None or (isinstance(x, (float, np.floating)) and math.isnan(x)):
        return "-"
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return f"{int(x):,}"
    if not isinstance(x, (float, np.floating)):
        return str(x)
    x = float(x)
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e5):
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}f}"


def estimates_table(result: ProtocolResult, expected: dict[str, Any] | None = None) -> str:
    """A result's :meth:`~ProtocolResult.estimates` as an aligned text table: quantity, estimate,
    interval and (when given) the expected value."""
    exp = expected or {}
    rows: list[tuple[str, str, str, str]] = []
    for key, value in result.estimates().items():
        if value is None:
            continue
        label = result.LABELS.get(key, key.replace("_", " "))
        want = exp.get(key)
        want = format_number(float(want)) if isinstance(want, (int, float, np.integer, np.floating)) \
            and not isinstance(want, (bool, np.bool_)) else "-"
        if isinstance(value, Estimate):
            best = format_number(value.best)
            interval = "-" if math.isnan(value.best) and value.trials == 0 else \
                f"[{format_number(value.low)}, {format_number(value.high)}]"
            rows.append((label, best, interval, want))
        elif isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            rows.append((label, f"{int(value):,}", "", want))
        elif isinstance(value, (float, np.floating)):
            rows.append((label, format_number(value), "", want))
        else:
            rows.append((label, str(json_ready(value)), "", want))
    confidence = getattr(result, "confidence", DEFAULT_CONFIDENCE)
    head = ("quantity", "estimate", f"{confidence:.0%} interval", "expected")
    if not exp:
        head, rows = head[:3], [r[:3] for r in rows]
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip(), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


def merge_values(a: Any, b: Any) -> Any:
    """``a + b`` for merging tallies: dicts key by key, tuples element-wise, other values with ``+``."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for k, v in b.items():
            out[k] = merge_values(out[k], v) if k in out else v
        return type(a)(out) if type(a) is not dict else out
    if isinstance(a, tuple) and isinstance(b, tuple):
        if len(a) != len(b):
            raise InvalidParameter("tallies", (len(a), len(b)), "tuples of equal length")
        return tuple(merge_values(x, y) for x, y in zip(a, b))
    return a + b


def _encode(v: Any) -> Any:
    """A field value as JSON-ready data."""
    if hasattr(v, "to_dict") and not isinstance(v, type):
        return v.to_dict()
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, dict):  # sorted: the same result gives the same bytes in every process
        return {str(k): _encode(v[k]) for k in sorted(v, key=str)}
    if isinstance(v, (tuple, list)):
        return [_encode(x) for x in v]
    if isinstance(v, np.ndarray):
        return _encode(v.tolist())
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v)
    return v


def _decode(hint: Any, v: Any) -> Any:
    """Inverse of :func:`_encode` guided by a type annotation (None: the value as it is)."""
    if hint is None or v is None:
        return v
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [h for h in typing.get_args(hint) if h is not type(None)]
        return _decode(options[0], v) if len(options) == 1 else v
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], x) for x in v)
        if args and len(args) == len(v):
            return tuple(_decode(a, x) for a, x in zip(args, v))
        return tuple(v)
    if origin is dict:
        args = typing.get_args(hint)
        return {k: _decode(args[1] if args else None, x) for k, x in v.items()}
    if isinstance(hint, type) and hasattr(hint, "from_dict") and isinstance(v, dict):
        return hint.from_dict(v)
    if hint is bytes and isinstance(v, str):
        return bytes.fromhex(v)
    return v


def _freeze(v: Any) -> Any:
    """Lists (nested) as tuples."""
    return tuple(_freeze(x) for x in v) if isinstance(v, (list, tuple)) else v
