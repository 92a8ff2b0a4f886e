"""``qproto verify``: run the invariant suite against any registered protocol.

For a protocol (built-in, a plugin, or an instance a user made) this checks the
invariants it declares in ``Protocol.INVARIANTS``:

* ``closed-form``: its runs agree with its own ``expected()`` on hypothesis-drawn
  channels (pairwise different per leg/party, with coherent rotations so that
  E_X != E_Z when the protocol's closed forms cover them), every sampled
  proportion within docs/conventions.md's 5 sigma + 1/N band and every normal estimate
  within 5 sigma;
* ``reproducible``: the same seed gives the same result, and ``result.seed``
  replays a Generator-seeded run;
* ``executor``: a thread pool gives exactly the serial result (several chunks);
* ``round-trip``: ``result_from_dict(to_dict(r)) == r``, also through JSON;
* ``merge``: two runs with different seeds add their proportions and record both seeds;

plus any protocol-specific checks from ``Protocol.extra_invariants()`` (for example
independence tests). Each invariant reports the examples tried, the largest
deviation in sigmas and a verdict. Needs the ``testing`` extra (hypothesis).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import math
from collections.abc import Callable
from typing import Any

from qproto._engine import Engine
from qproto._errors import InvalidParameter, InvalidType, QprotoError
from qproto._protocol import Protocol, get_protocol
from qproto._results import ProtocolResult, result_from_dict
from qproto._validation import check_int
from qproto.testing._checkers import InvariantViolation, compare_to_expected

__all__ = ["InvariantReport", "VerificationReport", "verify_protocol", "STANDARD_INVARIANTS"]

#: The invariants every protocol can declare (``Protocol.INVARIANTS``), with their descriptions.
STANDARD_INVARIANTS: dict[str, str] = {
    "closed-form": "runs agree with expected() on drawn channels (5 sigma + 1/N)",
    "reproducible": "same seed, same result; result.seed replays the run",
    "executor": "a thread pool gives the serial result exactly",
    "round-trip": "from_dict(to_dict(r)) == r, also through JSON",
    "merge": "r1 + r2 adds proportions and records both seeds",
}

#: progress(invariants_done, invariants_total, name_of_the_next_or_last)
VerifyProgress = Callable[[int, int, str], None]


@dataclasses.dataclass(frozen=True)
class InvariantReport:
    """The outcome of one invariant.

    Attributes:
        name: the invariant's name.
        description: what it checks.
        examples: examples (runs or drawn channels) tried.
        max_deviation_sigmas: the largest deviation of a compared quantity from its
            expected value, in standard deviations (``nan`` when nothing statistical
            was compared; ``inf`` for a deviation from an exact value).
        passed: the verdict.
        detail: for a violation, what failed (with the counterexample); else ``""``.
    """

    name: str
    description: str
    examples: int
    max_deviation_sigmas: float
    passed: bool
    detail: str = ""


@dataclasses.dataclass(frozen=True)
class VerificationReport:
    """The invariant reports of one protocol.

    Attributes:
        protocol: the protocol's registry name.
        reports: one :class:`InvariantReport` per invariant, in the order checked.
        seed: the root seed of the verification.
    """

    protocol: str
    reports: tuple[InvariantReport, ...]
    seed: int

    @property
    def passed(self) -> bool:
        """Whether every invariant held."""
        return all(r.passed for r in self.reports)

    def table(self) -> str:
        """A plain-text table: invariant, examples, largest deviation, verdict (and failures)."""
        rows = [("invariant", "examples", "max dev (sigma)", "verdict")]
        for r in self.reports:
            dev = "-" if math.isnan(r.max_deviation_sigmas) else f"{r.max_deviation_sigmas:.2f}"
            rows.append((r.name, str(r.examples), dev, "pass" if r.passed else "FAIL"))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = [f"qproto verify {self.protocol} (seed {self.seed})"]
        lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
        for r in self.reports:
            if not r.passed:
                lines.append(f"{r.name}: {r.detail}")
        lines.append("all invariants hold" if self.passed else
                     f"{sum(not r.passed for r in self.reports)} invariant(s) violated")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (non-finite deviations as ``None``)."""
        return {"protocol": self.protocol, "seed": self.seed, "passed": self.passed,
                "invariants": [{**dataclasses.asdict(r), "max_deviation_sigmas":
                                r.max_deviation_sigmas if math.isfinite(r.max_deviation_sigmas) else None}
                               for r in self.reports]}


def verify_protocol(protocol: str | Protocol, *, examples: int = 8, rounds: int | None = None, seed: int = 0,
                    progress: VerifyProgress | None = None) -> VerificationReport:
    """Check a protocol's declared invariants and report each one.

    Args:
        protocol: a registered protocol's name (default parameters) or a :class:`Protocol` instance.
        examples: hypothesis examples (drawn channels) for the ``closed-form`` invariant, >= 1.
        rounds: rounds per run, >= 1 (default: the protocol's ``VERIFY_ROUNDS``).
        seed: root seed (int >= 0) of the runs and of hypothesis; the same seed gives the same report.
        progress: called as ``progress(done, total, name)`` before each invariant and at the end.

    Returns:
        A :class:`VerificationReport`; ``report.passed`` is False when an invariant is violated.

    Raises:
        InvalidParameter: unknown protocol, bad ``examples``/``rounds``/``seed``, or an
            invariant name that is neither standard nor one of the protocol's extras.
        InvalidType: ``protocol`` is neither a name nor a Protocol.
    """
    if isinstance(protocol, str):
        proto = get_protocol(protocol)
    elif isinstance(protocol, Protocol):
        proto = protocol
    else:
        raise InvalidType("protocol", protocol, "a registered protocol name or a qproto.Protocol")
    examples = check_int("examples", examples, minimum=1, maximum=10_000)
    rounds = check_int("rounds", proto.VERIFY_ROUNDS if rounds is None else rounds, minimum=1)
    seed = check_int("seed", seed, minimum=0, maximum=2**63 - 1)
    if progress is not None and not callable(progress):
        raise InvalidType("progress", progress, "a callable(done, total, name) or None")
    extras = dict(proto.extra_invariants())
    names = list(proto.INVARIANTS) + [n for n in extras if n not in proto.INVARIANTS]
    unknown = [n for n in names if n not in STANDARD_INVARIANTS and n not in extras]
    if unknown:
        raise InvalidParameter("INVARIANTS", unknown, f"names among {sorted(STANDARD_INVARIANTS)} or the "
                               f"protocol's extra_invariants() {sorted(extras)}")
    checks: dict[str, Callable[[], InvariantReport]] = {
        "closed-form": lambda: _closed_form(proto, examples, rounds, seed),
        "reproducible": lambda: _simple("reproducible", lambda: _reproducible(proto, rounds, seed)),
        "executor": lambda: _simple("executor", lambda: _executor(proto, rounds, seed)),
        "round-trip": lambda: _simple("round-trip", lambda: _round_trip(proto, rounds, seed)),
        "merge": lambda: _simple("merge", lambda: _merge(proto, rounds, seed)),
    }
    reports = []
    for i, name in enumerate(names):
        if progress is not None:
            progress(i, len(names), name)
        if name in extras:
            check = extras[name]
            reports.append(_simple(name, lambda check=check: check(seed), description=getattr(
                check, "__doc__", None) or name))
        else:
            reports.append(checks[name]())
    if progress is not None:
        progress(len(names), len(names), "")
    return VerificationReport(protocol=proto.name, reports=tuple(reports), seed=seed)


# ---- the standard invariants ----------------------------------------------------------------
def _channel_argument(proto: Protocol, channels: tuple) -> Any:
    return channels[0] if proto.n_channels == 1 else channels


def _closed_form(proto: Protocol, examples: int, rounds: int, seed: int) -> InvariantReport:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st

    description = STANDARD_INVARIANTS["closed-form"]
    tried = [0]
    worst = [math.nan]
    not_covered = [0]

    @hypothesis_seed(seed)
    # Every setting is explicit, so the report does not depend on the caller's hypothesis profile.
    @settings(max_examples=examples, deadline=None, database=None, derandomize=False,
              phases=[Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck))
    @given(channels=proto.verification_channels(), run_seed=st.integers(0, 2**32 - 1))
    def check(channels: tuple, run_seed: int) -> None:
        arg = _channel_argument(proto, channels)
        try:
            expected = proto.expected(arg)
        except QprotoError:  # a channel this closed form does not cover
            not_covered[0] += 1
            return
        result = proto.run(arg, rounds=rounds, seed=run_seed)
        tried[0] += 1
        comparisons = compare_to_expected(result, expected)
        for c in comparisons:
            if math.isnan(worst[0]) or c.deviation_sigmas > worst[0]:
                worst[0] = c.deviation_sigmas
        failed = [c for c in comparisons if not c.passed]
        if failed:
            raise InvariantViolation("; ".join(c.message() for c in failed)
                                     + f" [channels={channels!r}, seed={run_seed}]")

    if not _overrides(proto, "expected"):
        return InvariantReport("closed-form", description, 0, math.nan, False,
                               "the protocol declares 'closed-form' but implements no expected()")
    try:
        check()
    except InvariantViolation as exc:
        return InvariantReport("closed-form", description, tried[0], worst[0], False, str(exc))
    except ExceptionGroup as group:  # hypothesis found several distinct failures: report each
        detail = " | ".join(f"{type(e).__name__}: {e}" if not isinstance(e, InvariantViolation) else str(e)
                            for e in group.exceptions)
        return InvariantReport("closed-form", description, tried[0], worst[0], False, detail)
    except Exception as exc:  # a crash in the protocol under test is a violation, reported, not raised
        return InvariantReport("closed-form", description, tried[0], worst[0], False,
                               f"{type(exc).__name__}: {exc}")
    if tried[0] == 0:
        return InvariantReport("closed-form", description, 0, math.nan, False,
                               f"expected() covered none of the {not_covered[0]} drawn channels")
    return InvariantReport("closed-form", description, tried[0], worst[0], True)


def _simple(name: str, body: Callable[[], int], *, description: str | None = None) -> InvariantReport:
    """Run a deterministic invariant; ``body`` returns the number of runs it made."""
    desc = description or STANDARD_INVARIANTS.get(name, name)
    try:
        n = body()
    except InvariantViolation as exc:
        return InvariantReport(name, desc, 1, math.nan, False, str(exc))
    except Exception as exc:  # a crash in the protocol under test is a violation, reported, not raised
        return InvariantReport(name, desc, 1, math.nan, False, f"{type(exc).__name__}: {exc}")
    return InvariantReport(name, desc, int(n or 1), math.nan, True)


def _default_channels(proto: Protocol) -> Any:
    from qproto._channel import Channel

    chans = tuple(Channel(transmittance=0.9 - 0.1 * i, depolarisation=0.04 + 0.03 * i, noise_click=1e-3)
                  for i in range(proto.n_channels))
    return _channel_argument(proto, chans)


def _reproducible(proto: Protocol, rounds: int, seed: int) -> int:
    import numpy as np

    ch = _default_channels(proto)
    a, b = proto.run(ch, rounds=rounds, seed=seed), proto.run(ch, rounds=rounds, seed=seed)
    if a != b:
        raise InvariantViolation(f"two runs with seed={seed} differ")
    c = proto.run(ch, rounds=rounds, seed=np.random.default_rng(seed))
    if proto.run(ch, rounds=rounds, seed=c.seed) != c:
        raise InvariantViolation("replaying a Generator-seeded run from result.seed gave another result")
    return 4


def _executor(proto: Protocol, rounds: int, seed: int) -> int:
    ch = _default_channels(proto)
    engine = Engine(chunk_size=max(1, rounds // 3))
    serial = proto.run(ch, rounds=rounds, seed=seed, engine=engine)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        pooled = proto.run(ch, rounds=rounds, seed=seed, engine=engine, executor=pool)
    if pooled != serial:
        raise InvariantViolation("a thread pool gave another result than the serial run with the same seed")
    return 2


def _round_trip(proto: Protocol, rounds: int, seed: int) -> int:
    r = proto.run(_default_channels(proto), rounds=rounds, seed=seed)
    d = r.to_dict()
    if result_from_dict(d) != r:
        raise InvariantViolation("from_dict(to_dict(result)) != result")
    if result_from_dict(json.loads(json.dumps(d))) != r:
        raise InvariantViolation("the JSON round trip changed the result")
    return 1


def _merge(proto: Protocol, rounds: int, seed: int) -> int:
    ch = _default_channels(proto)
    a, b = proto.run(ch, rounds=rounds, seed=seed), proto.run(ch, rounds=rounds, seed=seed + 1)
    try:
        merged: ProtocolResult = a + b
    except QprotoError as exc:
        raise InvariantViolation(f"r1 + r2 failed: {exc}") from None
    if merged.seeds != a.seeds + b.seeds:
        raise InvariantViolation(f"merged seeds {merged.seeds} != {a.seeds + b.seeds}")
    pa, pb, pm = a.proportions(), b.proportions(), merged.proportions()
    for k in pa:
        want = (pa[k][0] + pb[k][0], pa[k][1] + pb[k][1])
        if pm.get(k) != want:
            raise InvariantViolation(f"merged proportion {k} = {pm.get(k)}, expected the sum {want}")
    return 2


def _overrides(proto: Protocol, method: str) -> bool:
    return getattr(type(proto), method, None) is not getattr(Protocol, method, None)
