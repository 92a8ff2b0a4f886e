"""The arithmetic of the Lim et al. 2014 finite key, shared by the security package.

Private module: the validated public entry points are
:func:`qproto.security.finite_key_length` (one analysis, every bound reported) and
:func:`qproto.security.optimise_decoy_parameters` (thousands of evaluations on
parameter batches). Both call :func:`key_length_core`, which does no validation and
broadcasts over a batch: intensities and probabilities may carry the batch on their
trailing axes (shape ``(3, *batch)``), so one call evaluates many parameter points.

The formulas are docs/conventions.md A2 (see :mod:`qproto.security._finite_key` for the
conventions where they leave a case open). Tail bounds, with L = ln(21/eps_sec) and
an observed count c of intensity class k:

* ``"hoeffding"`` (Lim et al. 2014): c^± = (e^{mu_k}/p_k)(c ± sqrt((n/2) L)), n the
  class-independent total of that kind of count (n_Z, n_X or m_X);
* ``"chernoff"`` (multiplicative Chernoff per class, Sidhu et al. 2022 npj Quantum
  Inf. 8 18 and its public SatQuMA code; Yin et al. 2020 Sci. Rep. 10 14312):
  c^- = (e^{mu_k}/p_k)(c - L/2 - sqrt(2 c L + L^2/4)),
  c^+ = (e^{mu_k}/p_k)(c + L + sqrt(2 c L + L^2)).
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import binom

from qproto._errors import InvalidParameter
from qproto._validation import check_array_in_range
from qproto.security._entropy import binary_entropy

Tails = Literal["chernoff", "hoeffding"]
TAILS = ("chernoff", "hoeffding")
EC_OPTIONS = ("efficiency", "finite_size")
_LN2 = math.log(2.0)
_PROB_SUM_TOL = 1e-9


def check_intensities(intensities: ArrayLike) -> np.ndarray:
    """(mu1, mu2, mu3) as an array, or InvalidParameter (mu1 > mu2 + mu3, mu2 > mu3 >= 0)."""
    mu = check_array_in_range("intensities", intensities, 0.0, math.inf)
    if mu.shape != (3,):
        raise InvalidParameter("intensities", intensities, "three values (mu1, mu2, mu3)",
                               f"intensities={intensities!r} must hold exactly three values "
                               "(mu1, mu2, mu3)")
    mu1, mu2, mu3 = mu
    if not (mu2 > mu3 >= 0.0 and mu1 > mu2 + mu3):
        raise InvalidParameter(
            "intensities", intensities, "mu1 > mu2 + mu3 and mu2 > mu3 >= 0",
            f"intensities={intensities!r} are out of order; need mu1 > mu2 + mu3 and "
            "mu2 > mu3 >= 0")
    return mu


def check_probabilities(name: str, probabilities: ArrayLike) -> np.ndarray:
    """Three probabilities in (0, 1] summing to 1, or InvalidParameter naming ``name``."""
    p = check_array_in_range(name, probabilities, 0.0, 1.0, lo_open=True)
    if p.shape != (3,):
        raise InvalidParameter(name, probabilities, "three probabilities (p1, p2, p3)",
                               f"{name}={probabilities!r} must hold exactly three values")
    if abs(float(np.sum(p)) - 1.0) > _PROB_SUM_TOL:
        raise InvalidParameter(name, probabilities, "values in (0, 1] summing to 1",
                               f"{name}={probabilities!r} sums to {float(np.sum(p))!r}; "
                               "the intensity probabilities must sum to 1")
    return p


def model_gain(mu: np.ndarray, eta: np.ndarray, y0: np.ndarray) -> np.ndarray:
    """Q = Y0 + 1 - exp(-eta mu) (docs/conventions.md A2), accurate at tiny eta mu (expm1)."""
    return y0 - np.expm1(-eta * mu)


def model_qber(mu: np.ndarray, eta: np.ndarray, y0: np.ndarray, e_d: np.ndarray, e0: float) -> np.ndarray:
    """E = (e0 Y0 + e_d (1 - exp(-eta mu))) / Q (docs/conventions.md A2); e0 where Q = 0."""
    num, den = np.broadcast_arrays(np.asarray(e0 * y0 - e_d * np.expm1(-eta * mu), float),
                                   np.asarray(model_gain(mu, eta, y0), float))
    out = np.full(num.shape, float(e0))
    np.divide(num, den, out=out, where=den != 0)
    return out


def gamma(a: float, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """gamma(a,b,c,d) of Lim et al. 2014; 0 where b = 0 (its limit) or c, d <= 0."""
    b, c, d = np.broadcast_arrays(b, c, d)
    ok = (b > 0) & (b < 1) & (c > 0) & (d > 0)
    bb, cc, dd = (np.where(ok, v, 0.5) for v in (b, c, d))  # harmless values where not ok
    pre = (cc + dd) * (1.0 - bb) * bb / (cc * dd * _LN2)
    arg = (cc + dd) * 21.0**2 / (cc * dd * (1.0 - bb) * bb * a**2)
    return np.where(ok, np.sqrt(pre * np.log2(np.maximum(arg, 1.0))), 0.0)


def finite_size_leakage(n: np.ndarray, qber: np.ndarray, eps_cor: float) -> np.ndarray:
    """Tomamichel et al. 2017 (QIP 16 280) estimate of the minimal leakage, in bits.

    n h(Q) + (n(1-Q) - F^{-1}(eps_cor; n, 1-Q) - 1) log2((1-Q)/Q) - log2(n)/2
    - log2(1/eps_cor), with F^{-1} the binomial quantile (n rounded down); 0 where
    n < 1 or Q = 0; n where Q >= 1/2.
    """
    n, qber = np.broadcast_arrays(np.asarray(n, float), np.asarray(qber, float))
    out = np.zeros(n.shape)
    ok = (n >= 1.0) & (qber > 0.0) & (qber < 0.5)
    nn = np.floor(n[ok])
    qq = qber[ok]
    quant = binom.ppf(eps_cor, nn, 1.0 - qq)
    out[ok] = (nn * np.asarray(binary_entropy(qq), dtype=float)
               + (nn * (1.0 - qq) - quant - 1.0) * np.log2((1.0 - qq) / qq)
               - 0.5 * np.log2(nn) - math.log2(1.0 / eps_cor))
    # At Q >= 1/2 no code helps: the whole block is revealed.
    return np.where((n >= 1.0) & (qber >= 0.5), n, out)


def _h(x: np.ndarray) -> np.ndarray:
    """Binary entropy without validation; h = 0 at 0, at 1 and outside [0, 1]."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = -x * np.log2(x) - (1.0 - x) * np.log2(1.0 - x)
    return np.where((x > 0.0) & (x < 1.0), v, 0.0)


def _bounds(counts: np.ndarray, scale: np.ndarray, ln: float, tails: str, fluctuations: bool
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(c^-, c^+, Hoeffding deviation of the total) for counts of shape (3, *batch)."""
    hoeff = np.sqrt(0.5 * counts.sum(axis=0) * ln)
    if not fluctuations:
        return scale * counts, scale * counts, hoeff
    if tails == "hoeffding":
        return scale * (counts - hoeff), scale * (counts + hoeff), hoeff
    root = 2.0 * counts * ln
    lo = counts - 0.5 * ln - np.sqrt(root + 0.25 * ln * ln)
    hi = counts + ln + np.sqrt(root + ln * ln)
    return scale * lo, scale * hi, hoeff


def s0_s1(mu: np.ndarray, tau0: np.ndarray, tau1: np.ndarray, n_minus: np.ndarray, n_plus: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray]:
    """(s_0 clipped at 0, s_1 unclipped) of docs/conventions.md A2; mu of shape (3, ...)."""
    mu1, mu2, mu3 = mu[0], mu[1], mu[2]
    s0 = np.maximum(tau0 * (mu2 * n_minus[2] - mu3 * n_plus[1]) / (mu2 - mu3), 0.0)
    s1 = (tau1 * mu1 * (n_minus[1] - n_plus[2] - ((mu2**2 - mu3**2) / mu1**2) * (n_plus[0] - s0 / tau0))
          / (mu1 * (mu2 - mu3) - mu2**2 + mu3**2))
    return s0, s1


def key_length_core(mu: np.ndarray, p: np.ndarray, nz: np.ndarray, nx: np.ndarray, mx: np.ndarray,
                    qz: np.ndarray, *, eps_sec: float, eps_cor: float, f_ec: float, ec_leakage: str,
                    lambda_ec: np.ndarray | None, fluctuations: bool, tails: str) -> dict[str, Any]:
    """Every quantity of the finite key, unvalidated; arrays broadcast over trailing batch axes.

    ``mu`` and ``p`` have shape (3,) or (3, *batch); counts (3, *batch); ``qz`` the batch shape.
    Returns a dict with the fields of :class:`qproto.security.FiniteKeyResult` (not yet
    converted to floats) plus ``s_z1_raw`` and ``s_x1_raw``, the single-photon bounds
    before clipping at 0.
    """
    extra = nz.ndim - mu.ndim
    if extra > 0:  # parameters (3,) against counts (3, *batch)
        mu = mu.reshape(mu.shape + (1,) * extra)
        p = p.reshape(p.shape + (1,) * extra)
    e_mu = np.exp(-mu)
    tau0 = np.sum(p * e_mu, axis=0)
    tau1 = np.sum(p * e_mu * mu, axis=0)
    scale = 1.0 / (p * e_mu)
    ln = math.log(21.0 / eps_sec)
    nzm, nzp, dz = _bounds(nz, scale, ln, tails, fluctuations)
    nxm, nxp, dx = _bounds(nx, scale, ln, tails, fluctuations)
    mxm, mxp, dm = _bounds(mx, scale, ln, tails, fluctuations)
    s_z0, s_z1_raw = s0_s1(mu, tau0, tau1, nzm, nzp)
    s_x0, s_x1_raw = s0_s1(mu, tau0, tau1, nxm, nxp)
    s_z1, s_x1 = np.maximum(s_z1_raw, 0.0), np.maximum(s_x1_raw, 0.0)
    nz_tot, mx_tot = nz.sum(axis=0), mx.sum(axis=0)
    v_x1 = np.clip(tau1 * (mxp[1] - mxm[2]) / (mu[1] - mu[2]), 0.0, mx_tot)

    usable = (s_z1 > 0) & (s_x1 > 0)
    ratio = np.minimum(np.where(usable, v_x1 / np.where(usable, s_x1, 1.0), 0.5), 0.5)
    gam = gamma(eps_sec, ratio, s_z1, s_x1) if fluctuations else np.zeros(np.shape(ratio))
    phi = np.where(usable, np.minimum(ratio + gam, 0.5), 0.5)

    if lambda_ec is not None:
        lam = np.broadcast_to(lambda_ec, np.shape(nz_tot))
    else:
        lam = f_ec * nz_tot * _h(qz)
        if ec_leakage == "finite_size":
            lam = np.maximum(lam, finite_size_leakage(nz_tot, qz, eps_cor))
    penalty = (6.0 * math.log2(21.0 / eps_sec) + math.log2(2.0 / eps_cor)) if fluctuations else 0.0
    ell_raw = s_z0 + s_z1 * (1.0 - _h(phi)) - lam - penalty
    return dict(ell=np.maximum(ell_raw, 0.0), ell_unclipped=ell_raw, n_z=nz_tot, n_x=nx.sum(axis=0),
                m_x=mx_tot, qber_z=qz, tau0=tau0, tau1=tau1, delta_z=dz, delta_x=dx, delta_m=dm,
                n_z_minus=nzm, n_z_plus=nzp, n_x_minus=nxm, n_x_plus=nxp, m_x_minus=mxm, m_x_plus=mxp,
                s_z0=s_z0, s_z1=s_z1, s_x0=s_x0, s_x1=s_x1, v_x1=v_x1, phase_error_ratio=ratio, gamma=gam,
                phi_z=phi, lambda_ec=lam, s_z1_raw=s_z1_raw, s_x1_raw=s_x1_raw)


def afterpulse_yield(y0: np.ndarray, eta: np.ndarray, mu: np.ndarray, p: np.ndarray, p_ap: float) -> np.ndarray:
    """Y0_eff = 1 - (1 - Y0)(1 - p_ap P_click), P_click = sum_k p_k (1 - (1 - Y0) exp(-eta mu_k)).

    Unvalidated; ``mu``, ``p`` of shape (3, *pbatch) broadcast against ``y0``, ``eta``
    placed on further trailing axes by the caller.
    """
    if p_ap == 0.0:
        return y0
    p_click = np.sum(p * (1.0 - (1.0 - y0) * np.exp(-eta * mu)), axis=0)
    return 1.0 - (1.0 - y0) * (1.0 - p_ap * p_click)
