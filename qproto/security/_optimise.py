"""Choosing decoy-state BB84 parameters that maximise the finite key of a pass.

The secret-key length of Lim et al. 2014 (:func:`~qproto.security.finite_key_length`)
depends on the signal and decoy intensities mu1, mu2 (mu3 fixed, 0 = vacuum), their
probabilities p1, p2 (p3 = 1 - p1 - p2) and the basis bias p_Z. For a given pass,
described by the pulses sent and the channel in each time slot (transmittance, noise
yield, misalignment), :func:`optimise_decoy_parameters` evaluates the key length on the
*expected* counts (:func:`~qproto.security.expected_decoy_counts`, summed over the
slots) and maximises it with :func:`scipy.optimize.minimize` (Nelder-Mead):

* **Unconstrained coordinates.** The five parameters are mapped from R^5 so that every
  point is valid: mu1 = lo + (hi - lo) s(x0), mu2 = mu3 + (mu1 - 2 mu3) s(x1) (so
  mu1 > mu2 + mu3 and mu2 > mu3), (p1, p2, p3) = p_min + (1 - 3 p_min) softmax(x2, x3, 0),
  p_Z = pz_lo + (pz_hi - pz_lo) s(x4), with s the logistic function.
* **A smooth objective.** The clipped length is 0 on a large region (no key), which
  gives a local optimiser nothing to follow from a poor start; we maximise the
  *unclipped* length, which keeps decreasing the further a point is from
  extracting key, and report the clipped one.
* **Continuation.** From each start the optimiser first maximises the key of a pass
  ``continuation`` (default 1000) times longer, where finite-size terms are relatively
  small and the key is positive almost everywhere, then follows the optimum down to the
  real pass in steps of a factor 10 (a single jump can land where the phase-error bound
  saturates at 1/2 and the objective is flat). A start deep in the no-key region (tiny signal probability, p_Z at
  1/2, ...) then still reaches the optimum instead of stalling on a flat zero. Guesses
  passed as ``initial`` (e.g. a neighbouring window's optimum) are refined directly.
* **Multi-start.** ``n_starts`` starting points: the ``initial`` guesses given (for
  example the optimum of a neighbouring half-window) plus a scrambled Sobol sample
  of the box [-3, 3]^5 in the unconstrained coordinates (seeded, so the result is
  reproducible). The best local optimum wins.

The result is the optimum, its key length, and the full
:class:`~qproto.security.FiniteKeyResult` at the optimum.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize
from scipy.stats import qmc

from qproto._errors import InvalidParameter
from qproto._validation import check_in_range, check_int, check_one_of
from qproto.security._bounds import _real_array
from qproto.security._decoy import E0_NOISE, F_EC_DEFAULT, _gain, _qber
from qproto.security._finite_key import (
    _EC_OPTIONS,
    EcLeakage,
    FiniteKeyResult,
    _intensities,
    _probabilities,
    expected_decoy_counts,
    finite_key_length,
)

__all__ = ["DecoyParameters", "OptimisedDecoy", "optimise_decoy_parameters", "pass_finite_key"]


@dataclasses.dataclass(frozen=True)
class DecoyParameters:
    """One choice of decoy-state BB84 parameters.

    Attributes:
        intensities: (mu1, mu2, mu3) mean photon numbers.
        probabilities: (p1, p2, p3) probabilities of the intensities.
        p_z: probability of the Z basis (Alice and Bob).
    """

    intensities: tuple[float, float, float]
    probabilities: tuple[float, float, float]
    p_z: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "intensities", tuple(float(x) for x in _intensities(self.intensities)))
        object.__setattr__(self, "probabilities",
                           tuple(float(x) for x in _probabilities("probabilities", self.probabilities)))
        object.__setattr__(self, "p_z", check_in_range("p_z", self.p_z, 0.0, 1.0, lo_open=True, hi_open=True))

    def as_kwargs(self) -> dict[str, object]:
        """``intensities``, ``probabilities`` and ``p_z`` as keyword arguments (e.g. for ``DecoyBB84``)."""
        return {"intensities": self.intensities, "probabilities": self.probabilities, "p_z": self.p_z}


@dataclasses.dataclass(frozen=True, eq=False)
class OptimisedDecoy:
    """Outcome of :func:`optimise_decoy_parameters`.

    Attributes:
        parameters: the best parameters found.
        key_length: their secret-key length in bits (expected counts; >= 0).
        finite_key: the full Lim et al. analysis at the optimum.
        n_starts: number of local optimisations run.
        n_evaluations: total objective evaluations.
        start_values: unclipped key length (bits) reached from each start, best first.
    """

    parameters: DecoyParameters
    key_length: float
    finite_key: FiniteKeyResult
    n_starts: int
    n_evaluations: int
    start_values: tuple[float, ...]


def _sigmoid(x: float) -> float:
    return 0.5 * (1.0 + math.tanh(0.5 * x))


def _logit(p: float) -> float:
    # clipped to |x| <= 8: a start on a bound must not sit where the logistic map is flat
    p = min(max(p, 3.4e-4), 1.0 - 3.4e-4)
    return math.log(p / (1.0 - p))


class _Space:
    """The map between R^5 and valid parameters (module docs)."""

    def __init__(self, mu3: float, mu1_bounds: tuple[float, float], pz_bounds: tuple[float, float], p_min: float):
        self.mu3, self.mu1_lo, self.mu1_hi = mu3, *mu1_bounds
        self.pz_lo, self.pz_hi = pz_bounds
        self.p_min = p_min

    def params(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        mu1 = self.mu1_lo + (self.mu1_hi - self.mu1_lo) * _sigmoid(x[0])
        # keep mu2 a little away from both ends (the bounds divide by mu1 - mu2 - ... and mu2 - mu3)
        mu2 = self.mu3 + (mu1 - 2.0 * self.mu3) * min(max(_sigmoid(x[1]), 1e-4), 1.0 - 1e-4)
        z = np.array([x[2], x[3], 0.0])
        w = np.exp(z - z.max())
        p = self.p_min + (1.0 - 3.0 * self.p_min) * w / w.sum()
        pz = self.pz_lo + (self.pz_hi - self.pz_lo) * _sigmoid(x[4])
        return np.array([mu1, mu2, self.mu3]), p, pz

    def point(self, guess: DecoyParameters) -> np.ndarray:
        mu1, mu2, _ = guess.intensities
        p = np.clip((np.asarray(guess.probabilities) - self.p_min) / (1.0 - 3.0 * self.p_min), 1e-9, None)
        return np.array([
            _logit((mu1 - self.mu1_lo) / (self.mu1_hi - self.mu1_lo)),
            _logit((mu2 - self.mu3) / max(mu1 - 2.0 * self.mu3, 1e-300)),
            math.log(p[0] / p[2]), math.log(p[1] / p[2]),
            _logit((guess.p_z - self.pz_lo) / (self.pz_hi - self.pz_lo)),
        ])


def _s1_raw(mu: np.ndarray, r: FiniteKeyResult, basis: str) -> float:
    """The single-photon lower bound s_{.,1} of Lim et al. before clipping at 0 (PHYSICS.md A2)."""
    mu1, mu2, mu3 = mu
    n_minus, n_plus = getattr(r, f"n_{basis}_minus"), getattr(r, f"n_{basis}_plus")
    s0 = float(getattr(r, f"s_{basis}0"))
    return float(r.tau1 * mu1 * (n_minus[1] - n_plus[2] - ((mu2**2 - mu3**2) / mu1**2) * (n_plus[0] - s0 / r.tau0))
                 / (mu1 * (mu2 - mu3) - mu2**2 + mu3**2))


def pass_finite_key(parameters: DecoyParameters, *, n_pulses: ArrayLike, eta: ArrayLike, y0: ArrayLike,
                    e_d: ArrayLike, eps_sec: float, eps_cor: float, f_ec: float = F_EC_DEFAULT,
                    ec_leakage: EcLeakage = "efficiency", e_d_x: ArrayLike | None = None) -> FiniteKeyResult:
    """Finite key of a whole pass from expected counts summed over its slots.

    Args:
        parameters: the protocol parameters.
        n_pulses: pulses sent in each slot (array, or a scalar for one slot), > 0.
        eta: end-to-end transmittance of each slot, in [0, 1].
        y0: noise-click probability of each slot, in [0, 1].
        e_d: misalignment (error probability of a signal click) of each slot, in [0, 0.5]; of the Z
            (key) basis when ``e_d_x`` is given.
        eps_sec, eps_cor: security parameters in (0, 1).
        f_ec: error-correction inefficiency (default 1.16).
        ec_leakage: ``"efficiency"`` or ``"finite_size"``.
        e_d_x: misalignment of the X basis (phase estimation) of each slot, in [0, 0.5]; default ``e_d``.

    Returns:
        :class:`~qproto.security.FiniteKeyResult` of the pass's total counts.
    """
    c = expected_decoy_counts(n_pulses=n_pulses, eta=eta, y0=y0, e_d=e_d, p_z=parameters.p_z,
                              intensities=parameters.intensities, probabilities=parameters.probabilities,
                              e_d_x=e_d_x)
    axes = tuple(range(1, np.ndim(c.n_z)))
    n_z, n_x, m_z, m_x = (np.sum(a, axis=axes) for a in (c.n_z, c.n_x, c.m_z, c.m_x))
    nz_tot = float(np.sum(n_z))
    return finite_key_length(intensities=parameters.intensities, probabilities=parameters.probabilities,
                             n_z=n_z, n_x=n_x, m_x=m_x, qber_z=float(np.sum(m_z)) / nz_tot if nz_tot > 0 else 0.0,
                             eps_sec=eps_sec, eps_cor=eps_cor, f_ec=f_ec, ec_leakage=ec_leakage)


def optimise_decoy_parameters(*, n_pulses: ArrayLike, eta: ArrayLike, y0: ArrayLike, e_d: ArrayLike,
                              eps_sec: float = 1e-10, eps_cor: float = 1e-15, f_ec: float = F_EC_DEFAULT,
                              ec_leakage: EcLeakage = "efficiency", mu3: float = 0.0,
                              mu1_bounds: tuple[float, float] = (0.05, 1.0),
                              p_z_bounds: tuple[float, float] = (0.5, 0.999), min_probability: float = 1e-3,
                              n_starts: int = 8, initial: Sequence[DecoyParameters] = (),
                              max_evaluations: int = 600, continuation: float = 1e3,
                              seed: int = 0, e_d_x: ArrayLike | None = None) -> OptimisedDecoy:
    """Parameters maximising the finite key of a pass (module docs for the method).

    Args:
        n_pulses: pulses sent in each slot (array over slots, or a scalar), > 0.
        eta: end-to-end transmittance of each slot, in [0, 1] (same shape).
        y0: noise-click probability of each slot, in [0, 1].
        e_d: misalignment error of each slot, in [0, 0.5] (of the Z basis when ``e_d_x`` is given).
        eps_sec, eps_cor: security parameters in (0, 1).
        f_ec: error-correction inefficiency >= 1.
        ec_leakage: ``"efficiency"`` or ``"finite_size"``.
        mu3: the fixed lowest intensity, >= 0 (0 = vacuum).
        mu1_bounds: (lo, hi) range of the signal intensity, mu3 * 2 < lo < hi.
        p_z_bounds: (lo, hi) range of p_Z within (0, 1).
        min_probability: smallest allowed intensity probability, in (0, 1/3).
        n_starts: number of local optimisations (>= 1), ``initial`` guesses first.
        initial: starting guesses (e.g. a neighbouring window's optimum).
        max_evaluations: objective evaluations per start and stage (>= 20).
        continuation: >= 1; each start is first optimised for a pass this many times longer
            and then for the real one (1 disables this; module docs).
        seed: seed of the Sobol starting points.
        e_d_x: misalignment error of the X basis (phase estimation) of each slot, in [0, 0.5];
            default ``e_d`` (errors equal in both bases).

    Returns:
        :class:`OptimisedDecoy`.

    Raises:
        InvalidParameter: an argument out of range.

    Examples:
        >>> o = optimise_decoy_parameters(n_pulses=1e10, eta=10**-2.5, y0=1e-6, e_d=0.01, n_starts=3)
        >>> o.key_length > 0 and o.parameters.intensities[0] > o.parameters.intensities[1]
        True
    """
    n = _real_array("n_pulses", n_pulses, 0.0, math.inf, lo_open=True)
    eta_a = _real_array("eta", eta, 0.0, 1.0)
    y0_a = _real_array("y0", y0, 0.0, 1.0)
    ed_a = _real_array("e_d", e_d, 0.0, 0.5)
    edx_a = ed_a if e_d_x is None else _real_array("e_d_x", e_d_x, 0.0, 0.5)
    try:
        n, eta_a, y0_a, ed_a, edx_a = np.broadcast_arrays(n, eta_a, y0_a, ed_a, edx_a)
    except ValueError:
        raise InvalidParameter("eta", eta, "an array broadcastable with n_pulses, y0, e_d and e_d_x") from None
    check_in_range("eps_sec", eps_sec, 0.0, 1.0, lo_open=True, hi_open=True)
    check_in_range("eps_cor", eps_cor, 0.0, 1.0, lo_open=True, hi_open=True)
    check_in_range("f_ec", f_ec, 1.0, math.inf, hi_open=True)
    mu3 = check_in_range("mu3", mu3, 0.0, math.inf, hi_open=True)
    lo, hi = (check_in_range(f"mu1_bounds[{i}]", v, 0.0, math.inf, lo_open=True, hi_open=True)
              for i, v in enumerate(mu1_bounds))
    if not 2.0 * mu3 < lo < hi:
        raise InvalidParameter("mu1_bounds", mu1_bounds, f"2 mu3 = {2 * mu3:g} < lo < hi")
    pz_lo, pz_hi = (check_in_range(f"p_z_bounds[{i}]", v, 0.0, 1.0, lo_open=True, hi_open=True)
                    for i, v in enumerate(p_z_bounds))
    if not pz_lo < pz_hi:
        raise InvalidParameter("p_z_bounds", p_z_bounds, "lo < hi")
    p_min = check_in_range("min_probability", min_probability, 0.0, 1.0 / 3.0, lo_open=True, hi_open=True)
    n_starts = check_int("n_starts", n_starts, minimum=1)
    max_evaluations = check_int("max_evaluations", max_evaluations, minimum=20)
    continuation = check_in_range("continuation", continuation, 1.0, math.inf, hi_open=True)
    seed = check_int("seed", seed, minimum=0)
    check_one_of("ec_leakage", ec_leakage, _EC_OPTIONS)  # before the optimisation, not after it
    for i, g in enumerate(initial):
        if not isinstance(g, DecoyParameters):
            raise InvalidParameter(f"initial[{i}]", g, "a DecoyParameters")

    space = _Space(mu3, (lo, hi), (pz_lo, pz_hi), p_min)
    kw = dict(eps_sec=eps_sec, eps_cor=eps_cor, f_ec=f_ec, ec_leakage=ec_leakage)
    # Slots with the same channel could be merged; the sum over slots is cheap anyway.
    pass_kw = dict(n_pulses=n, eta=eta_a, y0=y0_a, e_d=ed_a, e_d_x=edx_a)  # for the final, validated evaluation

    def decode(x: np.ndarray) -> DecoyParameters:
        mu, p, pz = space.params(x)
        return DecoyParameters(tuple(mu), tuple(p / p.sum()), pz)

    # Expected counts of the pass per intensity: sum_t N_t Q_k(t) and sum_t N_t Q_k(t) E_k(t), E in Z and X
    # (expected_decoy_counts' model, computed here without re-validating at every evaluation).
    e0 = np.asarray(E0_NOISE)

    def counts(mu: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        m = mu[:, None]
        g = _gain(m, eta_a.ravel()[None, :], y0_a.ravel()[None, :])
        e_z = _qber(m, eta_a.ravel()[None, :], y0_a.ravel()[None, :], ed_a.ravel()[None, :], e0)
        e_x = _qber(m, eta_a.ravel()[None, :], y0_a.ravel()[None, :], edx_a.ravel()[None, :], e0)
        w = n.ravel()[None, :]
        return np.sum(w * g, axis=1), np.sum(w * g * e_z, axis=1), np.sum(w * g * e_x, axis=1)

    def key(x: np.ndarray, factor: float = 1.0) -> FiniteKeyResult:
        mu, p, pz = space.params(x)
        p = p / p.sum()
        det, err_z, err_x = (c * factor for c in counts(mu))
        fz, fx = pz * pz, (1.0 - pz) ** 2
        n_z = det * p * fz
        qz = float(np.sum(err_z * p) / np.sum(det * p)) if np.sum(det) > 0 else 0.0
        return finite_key_length(intensities=mu, probabilities=p, n_z=n_z, n_x=det * p * fx,
                                 m_x=err_x * p * fx, qber_z=min(max(qz, 0.0), 1.0), **kw)

    scale = max(float(np.sum(n * _gain(0.5, eta_a, y0_a))) * 1e-2, 1.0)  # bits: makes fatol relative

    def objective(x: np.ndarray, factor: float) -> float:
        try:
            r = key(x, factor)
        except InvalidParameter:  # a point on the edge of validity (rounding): treat as useless
            return 1e300
        # Where a single-photon bound is negative, finite_key_length clips it to 0 and the length
        # stops depending on it; adding the negative part back keeps a slope to climb (the sum is
        # continuous, and equal to ell_unclipped wherever both bounds are positive).
        mu = space.params(x)[0]
        return -(float(r.ell_unclipped) + min(_s1_raw(mu, r, "z"), 0.0)
                 + min(_s1_raw(mu, r, "x"), 0.0)) / (scale * factor)

    starts = [space.point(g) for g in initial][:n_starts]
    if len(starts) < n_starts:
        sobol = qmc.Sobol(d=5, scramble=True, seed=seed)
        m = max(1, math.ceil(math.log2(n_starts - len(starts))))
        pts = qmc.scale(sobol.random_base2(m), [-3.0] * 5, [3.0] * 5)
        starts += list(pts[: n_starts - len(starts)])

    results = []
    evaluations = 0
    n_guesses = min(len(initial), n_starts)
    for i, x0 in enumerate(starts):
        x = np.asarray(x0, float)
        # Continuation in the number of pulses: first optimise a pass `continuation` times longer
        # (finite-size terms relatively smaller, so the key is positive almost everywhere and the
        # landscape smooth), then follow that optimum down to the real pass. Guesses given in
        # `initial` are taken as already good and refined directly.
        stages = (1.0,)
        if continuation > 1.0 and i >= n_guesses:  # geometric steps of at most x10 down to 1
            n_steps = max(1, math.ceil(math.log10(continuation)))
            stages = tuple(continuation ** (1.0 - j / n_steps) for j in range(n_steps + 1))
        for factor in stages:
            res = optimize.minimize(objective, x, args=(factor,), method="Nelder-Mead",
                                    options={"maxfev": max_evaluations if factor == 1.0 else max_evaluations // 2,
                                             "xatol": 1e-3, "fatol": 1e-6,
                                             "adaptive": True})
            evaluations += int(res.nfev)
            x = res.x
        results.append((float(res.fun), res.x))
    results.sort(key=lambda t: t[0])
    best = decode(results[0][1])
    fk = pass_finite_key(best, **pass_kw, **kw)
    return OptimisedDecoy(parameters=best, key_length=float(fk.ell), finite_key=fk, n_starts=len(starts),
                          n_evaluations=evaluations, start_values=tuple(-v * scale for v, _ in results))
