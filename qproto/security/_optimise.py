"""Choosing decoy-state BB84 parameters that maximise the finite key of a pass.

The secret-key length of Lim et al. 2014 (:func:`~qproto.security.finite_key_length`,
Hoeffding or Chernoff tails) depends on the signal and decoy intensities mu1, mu2 (mu3
fixed, 0 = vacuum), their probabilities p1, p2 (p3 = 1 - p1 - p2) and the basis bias
p_Z. For a given pass, described by the pulses sent and the channel in each time slot
(transmittance, noise yield, misalignment in Z and in X, afterpulsing),
:func:`optimise_decoy_parameters` evaluates the key length on the *expected* counts
(:func:`~qproto.security.expected_decoy_counts`, summed over the slots) and maximises it.

* **Validated once, evaluated fast.** The arguments are checked once; the objective is
  a private kernel (:mod:`qproto.security._lim2014`) that evaluates a whole *batch* of
  parameter points in one numpy pass (no per-evaluation validation), so a finite-difference
  gradient (6 points) is one call.
* **A box.** The five parameters are coordinates u in [0, 1]^5 in which every point is
  valid: mu1 = lo + (hi - lo) u0, mu2 = mu3 + (mu1 - 2 mu3)(e + (1 - 2e) u1) (so
  mu1 > mu2 + mu3 and mu2 > mu3), p1 = p_min + (1 - 3 p_min) u2,
  p2 = p_min + (1 - p1 - 2 p_min) u3 (so p3 >= p_min), p_Z = lo_Z + (hi_Z - lo_Z) u4.
  The default method is bounded sequential quadratic programming
  (:func:`scipy.optimize.minimize`, ``SLSQP``); ``method="nelder-mead"`` (unconstrained, through a logistic map of
  the box) is the slower reference.
* **A smooth objective.** The clipped length is 0 on a large region (no key), which
  gives a local optimiser nothing to follow from a poor start; we maximise the
  *unclipped* length plus the negative parts of the single-photon bounds (which
  keeps decreasing the further a point is from extracting key) and report the
  clipped one.
* **Multi-start from a screened batch.** ``n_starts`` starting points: the ``initial``
  guesses (e.g. a neighbouring window's optimum: a warm start) plus the best points of a
  scrambled Sobol batch of ``screen`` points of the box, evaluated in one call (seeded,
  so the result is reproducible). The best local optimum wins.
* **Continuation** (optional, ``continuation`` > 1): a cold start first maximises the
  key of a pass that many times longer, then follows the optimum down to the real pass
  in steps of x10. Off by default: on seed 001's LEO-HAPS pass it led gradient steps
  into the no-key basin (a 20-start search with it found no key at 30 s where one of
  93 kbit exists), while screened starts find the optimum directly.
* **No key.** When the best point has no key (ell = 0), :attr:`OptimisedDecoy.has_key`
  is False: its parameters are only the least bad point of the surrogate, not a
  recommendation.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy import optimize
from scipy.stats import qmc

from qproto._errors import InvalidParameter
from qproto._validation import check_array_in_range, check_in_range, check_int, check_one_of
from qproto.security._decoy import E0_NOISE, F_EC_DEFAULT
from qproto.security._finite_key import EcLeakage, FiniteKeyResult, finite_key_length
from qproto.security._lim2014 import (
    EC_OPTIONS,
    TAILS,
    Tails,
    afterpulse_yield,
    check_intensities,
    check_probabilities,
    key_length_core,
)

__all__ = ["DecoyParameters", "OptimisedDecoy", "optimise_decoy_parameters", "pass_finite_key",
           "afterpulse_noise_yield"]

Method = Literal["sqp", "nelder-mead"]
_MU2_EDGE = 1e-4  # keep mu2 a little away from both ends (the bounds divide by mu1 - mu2 - ... and mu2 - mu3)


@dataclasses.dataclass(frozen=True)
class DecoyParameters:
    """One choice of decoy-state BB84 parameters.

    Attributes:
        intensities: (mu1, mu2, mu3) mean photon numbers per pulse, mu1 > mu2 + mu3, mu2 > mu3 >= 0.
        probabilities: (p1, p2, p3) probabilities of the intensities, in (0, 1], summing to 1.
        p_z: probability of the Z basis (Alice and Bob), in (0, 1).
    """

    intensities: tuple[float, float, float]
    probabilities: tuple[float, float, float]
    p_z: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "intensities", tuple(float(x) for x in check_intensities(self.intensities)))
        object.__setattr__(self, "probabilities",
                           tuple(float(x) for x in check_probabilities("probabilities", self.probabilities)))
        object.__setattr__(self, "p_z", check_in_range("p_z", self.p_z, 0.0, 1.0, lo_open=True, hi_open=True))

    def as_kwargs(self) -> dict[str, object]:
        """``intensities``, ``probabilities`` and ``p_z`` as keyword arguments (e.g. for ``DecoyBB84``)."""
        return {"intensities": self.intensities, "probabilities": self.probabilities, "p_z": self.p_z}


@dataclasses.dataclass(frozen=True, eq=False)
class OptimisedDecoy:
    """Outcome of :func:`optimise_decoy_parameters`.

    Attributes:
        parameters: the best parameters found (when :attr:`has_key` is False, only the least
            bad point of the smooth surrogate: no parameters give a key).
        key_length: their secret-key length in bits (expected counts; >= 0).
        finite_key: the full Lim et al. analysis at the optimum.
        n_starts: number of local optimisations run.
        n_evaluations: total objective evaluations (parameter points).
        start_values: surrogate value (bits) reached from each start, best first.
    """

    parameters: DecoyParameters
    key_length: float
    finite_key: FiniteKeyResult
    n_starts: int
    n_evaluations: int
    start_values: tuple[float, ...]

    @property
    def has_key(self) -> bool:
        """Whether the optimum extracts a key (key_length > 0)."""
        return self.key_length > 0.0


def afterpulse_noise_yield(*, y0: ArrayLike, eta: ArrayLike, intensities: ArrayLike, probabilities: ArrayLike,
                           afterpulse_probability: float) -> np.ndarray | float:
    """Noise-click probability per pulse with mean-field afterpulsing (protocols' decoy-BB84 model).

    Y0_eff = 1 - (1 - Y0)(1 - p_ap P_click) with P_click = sum_k p_k (1 - (1 - Y0) exp(-eta mu_k)),
    the mean click probability of the previous detection window (neighbouring windows'
    correlation neglected, so pulses stay i.i.d.).

    Args:
        y0: noise-click probability per window without afterpulsing, in [0, 1] (scalar or array).
        eta: end-to-end transmittance, in [0, 1] (broadcast with ``y0``).
        intensities: (mu1, mu2, mu3) mean photon numbers.
        probabilities: (p1, p2, p3) their probabilities.
        afterpulse_probability: p_ap in [0, 1).

    Returns:
        Y0_eff (a float for scalar input).
    """
    y = check_array_in_range("y0", y0, 0.0, 1.0)
    e = check_array_in_range("eta", eta, 0.0, 1.0)
    mu = check_intensities(intensities)
    p = check_probabilities("probabilities", probabilities)
    p_ap = check_in_range("afterpulse_probability", afterpulse_probability, 0.0, 1.0, hi_open=True)
    try:
        y, e = np.broadcast_arrays(y, e)
    except ValueError:
        raise InvalidParameter("eta", eta, "an array broadcastable with y0") from None
    ex = (slice(None),) + (None,) * y.ndim
    out = afterpulse_yield(y, e, mu[ex], p[ex], p_ap)
    return float(out) if np.ndim(out) == 0 else out


class _PassKernel:
    """The expected-count finite key of a pass for batches of parameters, without validation.

    Slot arrays (1-d, length S) are stored once; :meth:`evaluate` takes mu, p of shape
    (3, B) and p_Z of shape (B,).
    """

    def __init__(self, n: np.ndarray, eta: np.ndarray, y0: np.ndarray, e_d: np.ndarray, e_d_x: np.ndarray,
                 p_ap: float, *, eps_sec: float, eps_cor: float, f_ec: float, ec_leakage: str, tails: str):
        # Slots with the same channel (e.g. the two halves of a symmetric pass) add: merge them.
        chan = np.stack([np.ravel(a).astype(float) for a in (eta, y0, e_d, e_d_x)], axis=1)
        uniq, inverse = np.unique(chan, axis=0, return_inverse=True)
        self.n = np.bincount(inverse.ravel(), weights=np.ravel(n).astype(float), minlength=len(uniq))
        self.eta, self.y0, self.e_d, self.e_d_x = (np.ascontiguousarray(uniq[:, j]) for j in range(4))
        self.p_ap = p_ap
        self.kw = dict(eps_sec=eps_sec, eps_cor=eps_cor, f_ec=f_ec, ec_leakage=ec_leakage, lambda_ec=None,
                       fluctuations=True, tails=tails)

    def counts(self, mu: np.ndarray, p: np.ndarray, factor: float = 1.0
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Expected clicks, Z errors, X errors per pulse class, summed over slots: shape (3, B) each.

        Per slot, Q_k = Y0 + 1 - exp(-eta mu_k) and E_k Q_k = Y0/2 + e_d (1 - exp(-eta mu_k))
        (docs/conventions.md A2, as :func:`~qproto.security.expected_decoy_counts`), Y0 with afterpulsing.
        """
        m = mu[:, :, None]                                   # (3, B, 1)
        sig = -np.expm1(-self.eta[None, None, :] * m)        # (3, B, S)
        if self.p_ap > 0.0:                                  # Y0_eff depends on the parameters
            y0 = afterpulse_yield(self.y0[None, None, :], self.eta[None, None, :], m, p[:, :, None], self.p_ap)
        else:
            y0 = self.y0[None, None, :]
        w = self.n * factor
        noise = E0_NOISE * y0
        det = (y0 + sig) @ w
        err_z = (noise + self.e_d * sig) @ w
        err_x = (noise + self.e_d_x * sig) @ w
        return det, err_z, err_x

    def evaluate(self, mu: np.ndarray, p: np.ndarray, pz: np.ndarray, factor: float = 1.0) -> dict:
        det, err_z, err_x = self.counts(mu, p, factor)
        fz, fx = pz * pz, (1.0 - pz) ** 2
        n_z = det * p * fz
        nzt = np.sum(n_z, axis=0)
        qz = np.clip(np.sum(err_z * p, axis=0) * fz / np.where(nzt > 0, nzt, 1.0), 0.0, 1.0)
        n_x = det * p * fx
        m_x = np.minimum(err_x * p * fx, n_x)
        return key_length_core(mu, p, n_z, n_x, m_x, qz, **self.kw)


class _Box:
    """The map between the unit box [0, 1]^5 and valid parameters (module docs)."""

    def __init__(self, mu3: float, mu1_bounds: tuple[float, float], pz_bounds: tuple[float, float], p_min: float):
        self.mu3, (self.mu1_lo, self.mu1_hi) = mu3, mu1_bounds
        self.pz_lo, self.pz_hi = pz_bounds
        self.p_min = p_min

    def params(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """u of shape (B, 5) -> mu (3, B), p (3, B), p_Z (B,)."""
        u = np.clip(u, 0.0, 1.0)
        mu1 = self.mu1_lo + (self.mu1_hi - self.mu1_lo) * u[:, 0]
        mu2 = self.mu3 + (mu1 - 2.0 * self.mu3) * (_MU2_EDGE + (1.0 - 2.0 * _MU2_EDGE) * u[:, 1])
        pm = self.p_min
        p1 = pm + (1.0 - 3.0 * pm) * u[:, 2]
        p2 = pm + (1.0 - p1 - 2.0 * pm) * u[:, 3]
        p3 = 1.0 - p1 - p2
        pz = self.pz_lo + (self.pz_hi - self.pz_lo) * u[:, 4]
        return np.stack([mu1, mu2, np.full_like(mu1, self.mu3)]), np.stack([p1, p2, p3]), pz

    def decode(self, u: np.ndarray) -> DecoyParameters:
        mu, p, pz = self.params(np.asarray(u, float)[None, :])
        return DecoyParameters(tuple(mu[:, 0]), tuple(p[:, 0] / p[:, 0].sum()), float(pz[0]))

    def point(self, guess: DecoyParameters) -> np.ndarray:
        """The box coordinates of a guess (clipped into the box)."""
        mu1, mu2, _ = guess.intensities
        p1, p2, _ = guess.probabilities
        pm = self.p_min
        u = np.array([
            (mu1 - self.mu1_lo) / (self.mu1_hi - self.mu1_lo),
            ((mu2 - self.mu3) / max(mu1 - 2.0 * self.mu3, 1e-300) - _MU2_EDGE) / (1.0 - 2.0 * _MU2_EDGE),
            (p1 - pm) / (1.0 - 3.0 * pm),
            (p2 - pm) / max(1.0 - p1 - 2.0 * pm, 1e-300),
            (guess.p_z - self.pz_lo) / (self.pz_hi - self.pz_lo),
        ])
        return np.clip(u, 0.0, 1.0)


def _surrogate(kernel: _PassKernel, box: _Box, u: np.ndarray, factor: float, scale: float) -> np.ndarray:
    """Minus the smooth key surrogate (bits / scale) at each row of u (B, 5).

    Where a single-photon bound is negative, the key stops depending on it (it is clipped
    to 0); adding the negative part back keeps a slope to climb (the sum is continuous and
    equal to ell_unclipped wherever both bounds are positive).
    """
    mu, p, pz = box.params(u)
    with np.errstate(all="ignore"):
        r = kernel.evaluate(mu, p, pz, factor)
        val = r["ell_unclipped"] + np.minimum(r["s_z1_raw"], 0.0) + np.minimum(r["s_x1_raw"], 0.0)
    return np.where(np.isfinite(val), -val / (scale * factor), 1e300)


_FD_STEP = 1e-6


def _value_and_gradient(u: np.ndarray, kernel: _PassKernel, box: _Box, factor: float, scale: float
                        ) -> tuple[float, np.ndarray]:
    """Objective and forward-difference gradient (backward at the upper face), one batched call."""
    h = np.where(u + _FD_STEP <= 1.0, _FD_STEP, -_FD_STEP)
    pts = np.vstack([u, u + np.diag(h)])
    f = _surrogate(kernel, box, pts, factor, scale)
    return float(f[0]), (f[1:] - f[0]) / h


def pass_finite_key(parameters: DecoyParameters, *, n_pulses: ArrayLike, eta: ArrayLike, y0: ArrayLike,
                    e_d: ArrayLike, eps_sec: float, eps_cor: float, f_ec: float = F_EC_DEFAULT,
                    ec_leakage: EcLeakage = "efficiency", e_d_x: ArrayLike | None = None,
                    tails: Tails = "hoeffding", afterpulse_probability: float = 0.0) -> FiniteKeyResult:
    """Finite key of a whole pass from expected counts summed over its slots.

    Args:
        parameters: the protocol parameters.
        n_pulses: pulses sent in each slot (array, or a scalar for one slot), > 0.
        eta: end-to-end transmittance of each slot, in [0, 1].
        y0: noise-click probability of each slot (without afterpulsing), in [0, 1].
        e_d: misalignment (error probability of a signal click) of each slot, in [0, 0.5]; of the Z
            (key) basis when ``e_d_x`` is given.
        eps_sec, eps_cor: security parameters in (0, 1).
        f_ec: error-correction inefficiency (default 1.16).
        ec_leakage: ``"efficiency"`` or ``"finite_size"``.
        e_d_x: misalignment of the X basis (phase estimation) of each slot, in [0, 0.5]; default ``e_d``.
        tails: ``"hoeffding"`` (default) or ``"chernoff"`` (:func:`~qproto.security.finite_key_length`).
        afterpulse_probability: detector afterpulse probability in [0, 1); the noise yield of each
            slot becomes :func:`afterpulse_noise_yield` *with these parameters*.

    Returns:
        :class:`~qproto.security.FiniteKeyResult` of the pass's total counts.
    """
    from qproto.security._finite_key import expected_decoy_counts

    p_ap = check_in_range("afterpulse_probability", afterpulse_probability, 0.0, 1.0, hi_open=True)
    y0_eff = y0
    if p_ap > 0.0:
        y0_eff = afterpulse_noise_yield(y0=y0, eta=eta, intensities=parameters.intensities,
                                        probabilities=parameters.probabilities, afterpulse_probability=p_ap)
    c = expected_decoy_counts(n_pulses=n_pulses, eta=eta, y0=y0_eff, e_d=e_d, p_z=parameters.p_z,
                              intensities=parameters.intensities, probabilities=parameters.probabilities,
                              e_d_x=e_d_x)
    axes = tuple(range(1, np.ndim(c.n_z)))
    n_z, n_x, m_z, m_x = (np.sum(a, axis=axes) for a in (c.n_z, c.n_x, c.m_z, c.m_x))
    nz_tot = float(np.sum(n_z))
    return finite_key_length(intensities=parameters.intensities, probabilities=parameters.probabilities,
                             n_z=n_z, n_x=n_x, m_x=m_x, qber_z=float(np.sum(m_z)) / nz_tot if nz_tot > 0 else 0.0,
                             eps_sec=eps_sec, eps_cor=eps_cor, f_ec=f_ec, ec_leakage=ec_leakage, tails=tails)


def optimise_decoy_parameters(*, n_pulses: ArrayLike, eta: ArrayLike, y0: ArrayLike, e_d: ArrayLike,
                              eps_sec: float = 1e-10, eps_cor: float = 1e-15, f_ec: float = F_EC_DEFAULT,
                              ec_leakage: EcLeakage = "efficiency", mu3: float = 0.0,
                              mu1_bounds: tuple[float, float] = (0.05, 1.0),
                              p_z_bounds: tuple[float, float] = (0.5, 0.999), min_probability: float = 1e-3,
                              n_starts: int = 3, initial: Sequence[DecoyParameters] = (),
                              max_evaluations: int = 600, continuation: float = 1.0,
                              seed: int = 0, e_d_x: ArrayLike | None = None, tails: Tails = "hoeffding",
                              afterpulse_probability: float = 0.0, method: Method = "sqp",
                              screen: int = 256) -> OptimisedDecoy:
    """Parameters maximising the finite key of a pass (module docs for the method).

    Args:
        n_pulses: pulses sent in each slot (array over slots, or a scalar), > 0.
        eta: end-to-end transmittance of each slot, in [0, 1] (same shape).
        y0: noise-click probability of each slot (without afterpulsing), in [0, 1].
        e_d: misalignment error of each slot, in [0, 0.5] (of the Z basis when ``e_d_x`` is given).
        eps_sec, eps_cor: security parameters in (0, 1).
        f_ec: error-correction inefficiency >= 1.
        ec_leakage: ``"efficiency"`` or ``"finite_size"``.
        mu3: the fixed lowest intensity, >= 0 (0 = vacuum).
        mu1_bounds: (lo, hi) range of the signal intensity, mu3 * 2 < lo < hi.
        p_z_bounds: (lo, hi) range of p_Z within (0, 1).
        min_probability: smallest allowed intensity probability, in (0, 1/3).
        n_starts: number of local optimisations (>= 1, default 3), ``initial`` guesses first.
        initial: starting guesses (e.g. a neighbouring window's optimum), refined directly.
        max_evaluations: iterations (SLSQP) or objective evaluations (Nelder-Mead) per start
            and stage (>= 20, default 600).
        continuation: >= 1; each cold start is first optimised for a pass this many times longer
            and then for the real one, in steps of x10 (default 1: off; module docs).
        screen: size of the Sobol batch whose best points are the cold starts (0: the cold
            starts are the first Sobol points themselves; default 256).
        seed: seed of the Sobol starting points, >= 0 (default 0).
        e_d_x: misalignment error of the X basis (phase estimation) of each slot, in [0, 0.5];
            default ``e_d`` (errors equal in both bases).
        tails: ``"hoeffding"`` (default) or ``"chernoff"``.
        afterpulse_probability: detector afterpulse probability in [0, 1); the noise yield of each
            candidate is computed with the candidate's own intensities and probabilities.
        method: ``"sqp"`` (default; SciPy's bounded SLSQP with batched finite-difference
            gradients) or ``"nelder-mead"`` (derivative-free reference, slower).

    Returns:
        :class:`OptimisedDecoy` (check :attr:`OptimisedDecoy.has_key`).

    Raises:
        InvalidParameter: an argument out of range.

    Examples:
        >>> o = optimise_decoy_parameters(n_pulses=1e10, eta=10**-2.5, y0=1e-6, e_d=0.01, n_starts=3)
        >>> o.has_key and o.parameters.intensities[0] > o.parameters.intensities[1]
        True
    """
    n = check_array_in_range("n_pulses", n_pulses, 0.0, math.inf, lo_open=True)
    eta_a = check_array_in_range("eta", eta, 0.0, 1.0)
    y0_a = check_array_in_range("y0", y0, 0.0, 1.0)
    ed_a = check_array_in_range("e_d", e_d, 0.0, 0.5)
    edx_a = ed_a if e_d_x is None else check_array_in_range("e_d_x", e_d_x, 0.0, 0.5)
    slots = {"n_pulses": (n_pulses, n), "eta": (eta, eta_a), "y0": (y0, y0_a), "e_d": (e_d, ed_a),
             "e_d_x": (e_d_x, edx_a)}
    shape: tuple[int, ...] = ()
    for name, (given, arr) in slots.items():  # name the first argument that does not fit the others
        try:
            shape = np.broadcast_shapes(shape, arr.shape)
        except ValueError:
            others = [k for k in slots if k != name]
            raise InvalidParameter(name, given, "an array broadcastable with "
                                   + ", ".join(others[:-1]) + " and " + others[-1]) from None
    n, eta_a, y0_a, ed_a, edx_a = np.broadcast_arrays(n, eta_a, y0_a, ed_a, edx_a)
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
    check_one_of("ec_leakage", ec_leakage, EC_OPTIONS)  # before the optimisation, not after it
    check_one_of("tails", tails, TAILS)
    check_one_of("method", method, ("sqp", "nelder-mead"))
    screen = check_int("screen", screen, minimum=0)
    p_ap = check_in_range("afterpulse_probability", afterpulse_probability, 0.0, 1.0, hi_open=True)
    for i, g in enumerate(initial):
        if not isinstance(g, DecoyParameters):
            raise InvalidParameter(f"initial[{i}]", g, "a DecoyParameters")

    box = _Box(mu3, (lo, hi), (pz_lo, pz_hi), p_min)
    kw = dict(eps_sec=eps_sec, eps_cor=eps_cor, f_ec=f_ec, ec_leakage=ec_leakage, tails=tails)
    kernel = _PassKernel(n, eta_a, y0_a, ed_a, edx_a, p_ap, **kw)
    # bits: makes the tolerances relative to the pass's size
    scale = max(float(np.sum(n * (y0_a - np.expm1(-0.5 * eta_a)))) * 1e-2, 1.0)

    starts = [box.point(g) for g in initial][:n_starts]
    evaluations = 0
    if len(starts) < n_starts:
        n_cold = n_starts - len(starts)
        sobol = qmc.Sobol(d=5, scramble=True, seed=seed)
        pts = sobol.random_base2(max(1, math.ceil(math.log2(max(n_cold, screen)))))
        if screen > 0:  # the best points of a batch, evaluated in one call, as cold starts
            vals = _surrogate(kernel, box, pts, 1.0, scale)
            evaluations += len(pts)
            pts = pts[np.argsort(vals, kind="stable")]
        starts += list(pts[:n_cold])
    n_guesses = min(len(initial), n_starts)

    results = []
    for i, u0 in enumerate(starts):
        u = np.asarray(u0, float)
        stages = (1.0,)
        if continuation > 1.0 and i >= n_guesses:  # geometric steps of at most x10 down to 1
            n_steps = max(1, math.ceil(math.log10(continuation)))
            stages = tuple(continuation ** (1.0 - j / n_steps) for j in range(n_steps + 1))
        for factor in stages:
            u, fun, nfev = _local(kernel, box, u, factor, scale, method, max_evaluations)
            evaluations += nfev
        results.append((fun, u))
    results.sort(key=lambda t: t[0])
    best = box.decode(results[0][1])
    fk = pass_finite_key(best, n_pulses=n, eta=eta_a, y0=y0_a, e_d=ed_a, e_d_x=edx_a,
                         afterpulse_probability=p_ap, **kw)
    return OptimisedDecoy(parameters=best, key_length=float(fk.ell), finite_key=fk, n_starts=len(starts),
                          n_evaluations=evaluations, start_values=tuple(-v * scale for v, _ in results))


def _local(kernel: _PassKernel, box: _Box, u: np.ndarray, factor: float, scale: float, method: str,
           max_evaluations: int) -> tuple[np.ndarray, float, int]:
    """One local optimisation from u; (u*, objective at u*, parameter points evaluated)."""
    if method == "sqp":
        res = optimize.minimize(_value_and_gradient, u, args=(kernel, box, factor, scale), jac=True,
                                method="SLSQP", bounds=[(0.0, 1.0)] * 5,
                                options={"maxiter": max_evaluations, "ftol": 1e-10})
        return np.clip(res.x, 0.0, 1.0), float(res.fun), 6 * int(res.nfev)

    # Nelder-Mead in R^5, through u = logistic(x) (clipped so a start on a face is not flat).
    def f(x: np.ndarray) -> float:
        return float(_surrogate(kernel, box, (0.5 * (1.0 + np.tanh(0.5 * x)))[None, :], factor, scale)[0])

    uc = np.clip(u, 3.4e-4, 1.0 - 3.4e-4)
    res = optimize.minimize(f, np.log(uc / (1.0 - uc)), method="Nelder-Mead",
                            options={"maxfev": max_evaluations if factor == 1.0 else max_evaluations // 2,
                                     "xatol": 1e-3, "fatol": 1e-6, "adaptive": True})
    return 0.5 * (1.0 + np.tanh(0.5 * res.x)), float(res.fun), int(res.nfev)
