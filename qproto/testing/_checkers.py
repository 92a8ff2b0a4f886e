"""Invariant checkers with docs/conventions.md's statistical tolerance (section B).

A sampled proportion p_hat from N trials passes against the truth p0 iff
``|p_hat - p0| <= 5 sqrt(p0 (1 - p0) / N) + 1/N`` (about 6e-7 false failures per
assertion); p0 in {0, 1} is exact. A CHSH estimate passes iff ``|S_hat - S0| <= 5 sigma``.
Every checker raises :class:`InvariantViolation` (an ``AssertionError``) with a
message that says what was compared, so it works inside pytest and hypothesis.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from qproto._errors import InvalidParameter, InvalidType
from qproto._results import Estimate, ProtocolResult
from qproto._validation import check_int, check_probability, check_positive

__all__ = [
    "InvariantViolation",
    "SIGMAS",
    "proportion_tolerance",
    "assert_proportion",
    "assert_chsh",
    "assert_same_proportion",
    "assert_matches_expected",
    "compare_to_expected",
    "Comparison",
    "assert_reproducible",
    "assert_keys_equal",
    "assert_round_trip",
    "required_trials",
]

#: Width of the statistical acceptance band, in standard deviations.
SIGMAS = 5.0


class InvariantViolation(AssertionError):
    """A protocol broke one of its invariants."""


def proportion_tolerance(p0: float, n: int, *, sigmas: float = SIGMAS) -> float:
    """Half-width of the acceptance band: ``sigmas sqrt(p0 (1 - p0) / n) + 1/n``.

    Args:
        p0: the true probability in [0, 1].
        n: number of trials, >= 1.
        sigmas: band width in standard deviations (> 0).
    """
    p0 = check_probability("p0", p0)
    n = check_int("n", n, minimum=1)
    sigmas = check_positive("sigmas", sigmas)
    return sigmas * math.sqrt(p0 * (1.0 - p0) / n) + 1.0 / n


def required_trials(p0: float, half_width: float, *, sigmas: float = SIGMAS) -> int:
    """Trials needed for a band of half-width ``half_width``: ``sigmas^2 p0 (1-p0) / half_width^2``."""
    p0 = check_probability("p0", p0)
    half_width = check_positive("half_width", half_width)
    return max(1, math.ceil(sigmas**2 * p0 * (1.0 - p0) / half_width**2))


def assert_proportion(successes: int, trials: int, p0: float, *, what: str = "proportion",
                      sigmas: float = SIGMAS) -> None:
    """Check ``successes / trials`` against the true probability ``p0``.

    Exact when ``p0`` is 0 or 1: any deviation fails.

    Raises:
        InvariantViolation: outside the band, or no trials at all.
    """
    k = check_int("successes", successes, minimum=0)
    n = check_int("trials", trials, minimum=0)
    p0 = check_probability("p0", p0)
    if n == 0:
        raise InvariantViolation(f"{what}: no trials to check against {p0}")
    p_hat = k / n
    if p0 in (0.0, 1.0):
        if p_hat != p0:
            raise InvariantViolation(f"{what}: {k}/{n} = {p_hat:.6g}, expected exactly {p0}")
        return
    tol = proportion_tolerance(p0, n, sigmas=sigmas)
    if abs(p_hat - p0) > tol:
        raise InvariantViolation(
            f"{what}: {k}/{n} = {p_hat:.6g}, expected {p0:.6g} +- {tol:.3g} ({sigmas:g} sigma + 1/N)")


def assert_same_proportion(k1: int, n1: int, k2: int, n2: int, *, what: str = "proportions",
                           sigmas: float = SIGMAS) -> None:
    """Check that two sampled proportions estimate the same probability.

    Passes iff ``|p1 - p2| <= sigmas sqrt(p (1-p) (1/n1 + 1/n2)) + 1/n1 + 1/n2``
    with ``p`` the pooled proportion (the two-sample form of docs/conventions.md's rule).

    Raises:
        InvariantViolation: the proportions differ by more than the band.
    """
    for name, v in (("k1", k1), ("n1", n1), ("k2", k2), ("n2", n2)):
        check_int(name, v, minimum=0)
    if n1 == 0 or n2 == 0:
        raise InvariantViolation(f"{what}: no trials ({n1}, {n2})")
    p1, p2 = k1 / n1, k2 / n2
    pooled = (k1 + k2) / (n1 + n2)
    tol = sigmas * math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2)) + 1 / n1 + 1 / n2
    if abs(p1 - p2) > tol:
        raise InvariantViolation(f"{what}: {k1}/{n1} = {p1:.6g} vs {k2}/{n2} = {p2:.6g}, "
                                 f"difference beyond {tol:.3g}")


def assert_chsh(result: ProtocolResult, s0: float, *, sigmas: float = SIGMAS) -> None:
    """Check a result's CHSH estimate (``estimates()["chsh"]``) against ``s0`` within ``sigmas`` sigma.

    Raises:
        InvariantViolation: outside the band, or the run had no CHSH rounds.
    """
    chsh = _as_result(result).estimates().get("chsh")
    if not isinstance(chsh, Estimate) or chsh.sigma is None:
        raise InvariantViolation("CHSH: the run has no CHSH rounds in every setting pair")
    if abs(chsh.best - s0) > sigmas * chsh.sigma:
        raise InvariantViolation(f"CHSH: S = {chsh.best:.4f}, expected {s0:.4f} +- {sigmas * chsh.sigma:.3g}")


@dataclasses.dataclass(frozen=True)
class Comparison:
    """One quantity of a result compared with its expected value.

    Attributes:
        name: the quantity (a key of the result's ``estimates()``).
        kind: ``"proportion"`` (5 sigma + 1/N, exact at 0 and 1), ``"normal"`` (5 sigma)
            or ``"exact"`` (relative 1e-9).
        observed: the measured value.
        expected: the closed-form value.
        trials: the number of trials behind a proportion (else ``None``).
        deviation_sigmas: ``|observed - expected| / sigma`` (inf for any deviation from an
            exact value or from a probability of 0 or 1, 0 when equal).
        tolerance: the half-width of the acceptance band.
        passed: whether the deviation is within the band.
    """

    name: str
    kind: str
    observed: float
    expected: float
    trials: int | None
    deviation_sigmas: float
    tolerance: float
    passed: bool

    def message(self, what: str = "") -> str:
        """A one-line description of the comparison."""
        n = f" over {self.trials} trials" if self.trials is not None else ""
        return (f"{what}{self.name}: {self.observed:.6g}{n}, expected {self.expected:.6g} +- {self.tolerance:.3g} "
                f"({self.deviation_sigmas:.2f} sigma; {self.kind})")


def compare_to_expected(result: ProtocolResult, expected: Mapping[str, float], *,
                        keys: Sequence[str] | None = None, sigmas: float = SIGMAS) -> list[Comparison]:
    """Compare a result's quantities with closed forms, without raising on a violation.

    Works on any result through the one result interface: a proportion of
    ``result.proportions()`` is tested with docs/conventions.md's rule (5 sigma + 1/N; exact
    when the expected value is 0 or 1), a normal estimate of ``result.estimates()``
    (one with a ``sigma``, such as CHSH) with ``sigmas`` sigma, and a plain number of
    ``estimates()`` exactly (relative 1e-9).

    Args:
        result: any :class:`~qproto.ProtocolResult`.
        expected: closed-form values by name, e.g. ``protocol.expected(channel)``.
        keys: which entries to compare (default: every scalar entry of ``expected`` that is a
            proportion or normal estimate of the result with data; exact numbers only when named).
        sigmas: band width in standard deviations.

    Returns:
        One :class:`Comparison` per compared quantity.

    Raises:
        InvalidParameter: a requested key is not a quantity of the result, or has no data.
    """
    result = _as_result(result)
    if not isinstance(expected, Mapping):
        raise InvalidType("expected", expected, "a mapping from quantity name to value")
    sigmas = check_positive("sigmas", sigmas)
    props = result.proportions()
    est = result.estimates()

    def checkable(k: str) -> bool:
        if not _is_number(expected.get(k)):
            return False
        if k in props:
            return props[k][1] > 0
        v = est.get(k)
        if isinstance(v, Estimate):
            return v.sigma is not None
        return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)

    if keys is None:
        # Default: every sampled quantity with data (a tiny attack fraction may leave Eve no sifted
        # rounds). Plain numbers are often derived from samples (key lengths, counts), so they are
        # compared exactly only when asked for by name; keys asked for explicitly must have data.
        keys = [k for k in expected if checkable(k) and (k in props or isinstance(est.get(k), Estimate))]
    out = []
    for key in keys:
        if key not in expected:
            raise InvalidParameter("keys", key, f"keys of expected: {sorted(expected)}")
        if not checkable(key):
            raise InvalidParameter("keys", key, f"a quantity of the result with data: {sorted(props)} or a normal "
                                   "estimate or exact number of estimates()")
        p0 = float(expected[key])
        if key in props:
            k, n = props[key]
            p0 = check_probability(f"expected[{key!r}]", p0)
            p_hat = k / n
            if p0 in (0.0, 1.0):
                dev = 0.0 if p_hat == p0 else math.inf
                out.append(Comparison(key, "proportion", p_hat, p0, n, dev, 0.0, p_hat == p0))
                continue
            tol = proportion_tolerance(p0, n, sigmas=sigmas)
            dev = abs(p_hat - p0) / math.sqrt(p0 * (1.0 - p0) / n)
            out.append(Comparison(key, "proportion", p_hat, p0, n, dev, tol, abs(p_hat - p0) <= tol))
            continue
        v = est[key]
        if isinstance(v, Estimate):
            dev = abs(v.best - p0) / v.sigma if v.sigma > 0 else (0.0 if v.best == p0 else math.inf)
            out.append(Comparison(key, "normal", v.best, p0, None, dev, sigmas * v.sigma, dev <= sigmas))
            continue
        obs = float(v)
        tol = 1e-9 * max(1.0, abs(p0))
        ok = abs(obs - p0) <= tol
        out.append(Comparison(key, "exact", obs, p0, None, 0.0 if obs == p0 else math.inf, tol, ok))
    return out


def assert_matches_expected(result: ProtocolResult, expected: Mapping[str, float], *,
                            keys: Sequence[str] | None = None, sigmas: float = SIGMAS) -> None:
    """Check a result's sampled proportions, normal estimates and exact values against closed forms.

    Any result type works (see :func:`compare_to_expected` for what is compared how).

    Args:
        result: any :class:`~qproto.ProtocolResult`.
        expected: closed-form values, e.g. ``protocol.expected(channel)``.
        keys: which entries to check (default: every comparable entry with data).
        sigmas: band width.

    Raises:
        InvariantViolation: a quantity lies outside its band.
        InvalidParameter: a requested key is not a checkable quantity.
    """
    failed = [c for c in compare_to_expected(result, expected, keys=keys, sigmas=sigmas) if not c.passed]
    if failed:
        raise InvariantViolation("; ".join(c.message(f"{result.protocol} ") for c in failed))


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


def _as_result(result: Any) -> ProtocolResult:
    if not isinstance(result, ProtocolResult):
        raise InvalidType("result", result, "a qproto ProtocolResult")
    return result


def assert_reproducible(run: Callable[..., Any], *, seed: int = 12345) -> None:
    """Same seed, same result: call ``run(seed=seed)`` twice and compare with ``==``.

    Also checks that the recorded ``seed`` replays the run when seeded from a Generator.
    """
    a, b = run(seed=seed), run(seed=seed)
    if a != b:
        raise InvariantViolation(f"two runs with seed={seed} differ:\n{a}\n{b}")
    c = run(seed=np.random.default_rng(seed))
    if run(seed=c.seed) != c:
        raise InvariantViolation("replaying a Generator-seeded run from result.seed gave another result")


def assert_keys_equal(alice: np.ndarray, bob: np.ndarray) -> None:
    """Alice's and Bob's sifted keys are identical (and non-empty)."""
    if alice.shape != bob.shape:
        raise InvariantViolation(f"key lengths differ: {alice.shape} vs {bob.shape}")
    if alice.size == 0:
        raise InvariantViolation("no sifted bits to compare")
    bad = np.count_nonzero(alice != bob)
    if bad:
        raise InvariantViolation(f"{bad} of {alice.size} sifted bits differ")


def assert_round_trip(result: ProtocolResult) -> None:
    """``from_dict(to_dict(r)) == r``, also through JSON text."""
    import json

    from qproto._results import result_from_dict

    d = result.to_dict()
    if result_from_dict(d) != result:
        raise InvariantViolation("from_dict(to_dict(result)) != result")
    if result_from_dict(json.loads(json.dumps(d))) != result:
        raise InvariantViolation("the JSON round trip changed the result")




