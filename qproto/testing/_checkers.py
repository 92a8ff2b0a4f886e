"""Invariant checkers with PHYSICS.md's statistical tolerance (section B).

A sampled proportion p_hat from N trials passes against the truth p0 iff
``|p_hat - p0| <= 5 sqrt(p0 (1 - p0) / N) + 1/N`` (about 6e-7 false failures per
assertion); p0 in {0, 1} is exact. A CHSH estimate passes iff ``|S_hat - S0| <= 5 sigma``.
Every checker raises :class:`InvariantViolation` (an ``AssertionError``) with a
message that says what was compared, so it works inside pytest and hypothesis.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from qproto._errors import InvalidParameter
from qproto._results import ProtocolResult, QKDResult
from qproto._validation import check_int, check_probability, check_positive

__all__ = [
    "InvariantViolation",
    "SIGMAS",
    "proportion_tolerance",
    "assert_proportion",
    "assert_chsh",
    "assert_same_proportion",
    "assert_matches_expected",
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
    with ``p`` the pooled proportion (the two-sample form of PHYSICS.md's rule).

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


def assert_chsh(result: QKDResult, s0: float, *, sigmas: float = SIGMAS) -> None:
    """Check a result's CHSH estimate against ``s0`` within ``sigmas`` standard deviations.

    Raises:
        InvariantViolation: outside the band, or the run had no CHSH rounds.
    """
    chsh = result.chsh
    if chsh is None:
        raise InvariantViolation("CHSH: the run has no CHSH rounds in every setting pair")
    sigma = result.chsh_sigma
    if abs(chsh.best - s0) > sigmas * sigma:
        raise InvariantViolation(f"CHSH: S = {chsh.best:.4f}, expected {s0:.4f} +- {sigmas * sigma:.3g}")


# result attribute -> (numerator, denominator) tallies, for QKDResult
_QKD_PROPORTIONS: dict[str, Callable[[QKDResult], tuple[int, int]]] = {
    "qber_z": lambda r: (r.counts.errors_z, r.counts.sifted_z),
    "qber_x": lambda r: (r.counts.errors_x, r.counts.sifted_x),
    "qber": lambda r: (r.counts.errors_z + r.counts.errors_x, r.sifted_bits),
    "detection_rate": lambda r: (r.counts.detected, r.counts.rounds),
    "sifted_fraction": lambda r: (r.sifted_bits, r.sifted_bits + r.counts.mismatched),
    "eve_agreement": lambda r: (r.counts.eve_correct, r.counts.eve_sifted),
    "mismatched_agreement": lambda r: (r.counts.mismatched_agree, r.counts.mismatched),
}


def assert_matches_expected(result: ProtocolResult, expected: Mapping[str, float], *,
                            keys: Sequence[str] | None = None, sigmas: float = SIGMAS) -> None:
    """Check a result's sampled proportions (and CHSH value) against closed forms.

    Args:
        result: a :class:`QKDResult`.
        expected: closed-form values, e.g. ``protocol.expected(channel)``.
        keys: which entries to check (default: every entry that is a sampled
            proportion of the result, plus ``"chsh"`` when present).
        sigmas: band width.

    Raises:
        InvariantViolation: a quantity lies outside its band.
        InvalidParameter: a requested key is not a checkable quantity.
    """
    if not isinstance(result, QKDResult):
        raise InvalidParameter("result", type(result).__name__, "a QKDResult")
    if keys is None:
        # Default: every checkable quantity that has data (a tiny attack fraction may leave
        # Eve no sifted rounds); keys asked for explicitly must have data.
        keys = [k for k in expected
                if (k in _QKD_PROPORTIONS and _QKD_PROPORTIONS[k](result)[1] > 0)
                or (k == "chsh" and result.chsh is not None)]
    for key in keys:
        if key == "chsh":
            assert_chsh(result, expected["chsh"], sigmas=sigmas)
        elif key in _QKD_PROPORTIONS:
            k, n = _QKD_PROPORTIONS[key](result)
            assert_proportion(k, n, float(expected[key]), what=f"{result.protocol} {key}", sigmas=sigmas)
        else:
            raise InvalidParameter("keys", key, f"one of {sorted(_QKD_PROPORTIONS) + ['chsh']}")


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




