"""Asymptotic decoy-state BB84 with weak coherent pulses (docs/conventions.md §A1, §A2).

Channel/detector model (Lo, Ma, Chen 2005 PRL 94 230504; Ma, Qi, Zhao, Lo 2005
PRA 72 012326), with end-to-end transmittance eta, vacuum (noise) yield Y0,
intrinsic misalignment error e_d and noise-click error e0 = 1/2:

* n-photon yield and error  Y_n = Y0 + 1 - (1 - eta)^n,
  e_n Y_n = e0 Y0 + e_d (1 - (1 - eta)^n);
* gain and QBER of a phase-randomised coherent pulse of mean photon number mu
  Q_mu = Y0 + 1 - exp(-eta mu),  E_mu Q_mu = e0 Y0 + e_d (1 - exp(-eta mu)).

These are the forms docs/conventions.md §A2 writes. They average exactly: Q_mu is the
Poisson mixture of the Y_n above, so the decoy bounds below are true bounds
within the model. (The "exact" click probability 1 - (1 - Y0) exp(-eta mu) differs
by Y0 (1 - exp(-eta mu)) <= Y0 eta mu; both reproduce the §A2 test vector to 4
significant figures.)

Key rates are GLLP (Gottesman, Lo, Lütkenhaus, Preskill 2004 QIC 4 325) on the
signal state, in bits per pulse:
R = q { Q_1 [1 - h(e_1)] - f_EC Q_mu h(E_mu) },  Q_1 = Y_1 mu exp(-mu),
with either the vacuum + one-weak-decoy bounds Y_1^L, e_1^U (Ma et al. 2005) or
the infinite-decoy values Y_1, e_1 of the model.

Every loss-dependent function takes the loss either as ``eta`` (transmittance)
or as ``loss_db`` (dB), exactly one of them. All functions broadcast over array
arguments and return a Python float for scalar input.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from qproto._errors import InvalidParameter
from qproto._validation import check_bool
from qproto._validation import check_array_in_range as _real_array
from qproto._validation import scalar_or_array as _out
from qproto.security._bounds import eta_from as _eta_from
from qproto.security._entropy import binary_entropy

__all__ = [
    "E0_NOISE",
    "F_EC_DEFAULT",
    "VacuumWeakBounds",
    "bb84_asymptotic_fraction",
    "decoy_key_rate_infinite",
    "decoy_key_rate_vacuum_weak",
    "gllp_key_rate",
    "n_photon_error",
    "n_photon_yield",
    "vacuum_weak_decoy_bounds",
    "wcp_gain",
    "wcp_qber",
]

#: Error probability of a noise-only click (random bit; docs/conventions.md §0 squashing).
E0_NOISE = 0.5
#: Default error-correction inefficiency f_EC (docs/conventions.md §A1).
F_EC_DEFAULT = 1.16


# ---------------------------------------------------------------------------
# Validation helpers for the common parameters.
# ---------------------------------------------------------------------------

def _y0(y0: ArrayLike) -> np.ndarray:
    return _real_array("y0", y0, 0.0, 1.0)


def _e_d(e_d: ArrayLike) -> np.ndarray:
    return _real_array("e_d", e_d, 0.0, 0.5)


def _f_ec(f_ec: ArrayLike) -> np.ndarray:
    return _real_array("f_ec", f_ec, 1.0, math.inf)


def _q(q: ArrayLike) -> np.ndarray:
    return _real_array("q", q, 0.0, 1.0, lo_open=True)


def _mu(name: str, mu: ArrayLike) -> np.ndarray:
    return _real_array(name, mu, 0.0, math.inf, lo_open=True)


def _check_nu_below_mu(mu: np.ndarray, nu: np.ndarray, nu_raw: ArrayLike) -> None:
    if np.any(nu >= mu):
        raise InvalidParameter(
            "nu", nu_raw, "0 < nu < mu",
            f"nu={nu_raw!r} must be smaller than the signal intensity mu; need 0 < nu < mu")


def _safe_div(num: np.ndarray, den: np.ndarray, fill: float) -> np.ndarray:
    """num/den, with ``fill`` where den == 0."""
    num, den = np.broadcast_arrays(np.asarray(num, float), np.asarray(den, float))
    out = np.full(num.shape, fill, dtype=float)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _one_minus_h(e: np.ndarray) -> np.ndarray:
    """1 - h(e), with e clipped to [0, 1/2] (an error bound >= 1/2 leaves no key)."""
    return 1.0 - np.asarray(binary_entropy(np.clip(e, 0.0, 0.5)), dtype=float)


# ---------------------------------------------------------------------------
# Channel model.
# ---------------------------------------------------------------------------

def n_photon_yield(n: ArrayLike, *, eta: ArrayLike | None = None,
                   loss_db: ArrayLike | None = None, y0: ArrayLike) -> np.ndarray | float:
    """Yield Y_n = Y0 + 1 - (1 - eta)^n of an n-photon state (docs/conventions.md §A2).

    Args:
        n: photon number(s), integers >= 0.
        eta: end-to-end transmittance in [0, 1] (dimensionless).
        loss_db: the same loss in dB (>= 0), as an alternative to ``eta``.
        y0: vacuum (noise-only) yield per pulse, in [0, 1].

    Returns:
        Y_n, the probability of a click given n photons were sent (per pulse),
        broadcast over the inputs. This is the additive Lo–Ma–Chen form; it can
        exceed 1 by at most Y0 (1 - (1-eta)^n).

    Raises:
        InvalidParameter: an argument out of range, or both/neither of
            ``eta``/``loss_db``.
        InvalidType: ``n`` not integer-valued.
    """
    nn = _photon_number(n)
    e = _eta_from(eta, loss_db)
    y = _y0(y0)
    return _out(y + _one_minus_pow(e, nn))


def n_photon_error(n: ArrayLike, *, eta: ArrayLike | None = None,
                   loss_db: ArrayLike | None = None, y0: ArrayLike, e_d: ArrayLike,
                   e0: float = E0_NOISE) -> np.ndarray | float:
    """Error rate e_n = (e0 Y0 + e_d (1 - (1-eta)^n)) / Y_n of n-photon states.

    Args:
        n: photon number(s), integers >= 0.
        eta: end-to-end transmittance in [0, 1] (dimensionless).
        loss_db: the same loss in dB (>= 0), as an alternative to ``eta``.
        y0: vacuum (noise-only) yield per pulse, in [0, 1].
        e_d: intrinsic misalignment error probability, in [0, 0.5].
        e0: error probability of a noise click, in [0, 1] (default 1/2).

    Returns:
        e_n (dimensionless probability), broadcast over the inputs; e0 where
        Y_n = 0.

    Raises:
        InvalidParameter: an argument out of range, or both/neither of
            ``eta``/``loss_db``.
        InvalidType: ``n`` not integer-valued.
    """
    nn = _photon_number(n)
    e = _eta_from(eta, loss_db)
    y = _y0(y0)
    ed = _e_d(e_d)
    e0a = _real_array("e0", e0, 0.0, 1.0)
    det = _one_minus_pow(e, nn)
    return _out(_safe_div(e0a * y + ed * det, y + det, float(e0a.ravel()[0])))


def _one_minus_pow(eta: np.ndarray, n: np.ndarray) -> np.ndarray:
    """1 - (1 - eta)^n, accurate for tiny eta (expm1/log1p) and exact at eta = 1."""
    eta, n = np.broadcast_arrays(eta, n)
    full = eta >= 1.0
    safe = np.where(full, 0.0, eta)
    return np.where(full, (n > 0).astype(float), -np.expm1(n * np.log1p(-safe)))


def _photon_number(n: ArrayLike) -> np.ndarray:
    arr = _real_array("n", n, 0.0, math.inf)
    if np.any(arr != np.round(arr)):
        raise InvalidParameter("n", n, "integers >= 0",
                               f"n={n!r} is not integer-valued; expected photon numbers >= 0")
    return arr


def wcp_gain(*, mu: ArrayLike, eta: ArrayLike | None = None, loss_db: ArrayLike | None = None,
             y0: ArrayLike) -> np.ndarray | float:
    """Gain Q_mu = Y0 + 1 - exp(-eta mu) of a phase-randomised coherent pulse.

    Args:
        mu: mean photon number per pulse, > 0.
        eta: end-to-end transmittance in [0, 1] (dimensionless).
        loss_db: the same loss in dB (>= 0), as an alternative to ``eta``.
        y0: vacuum (noise-only) yield per pulse, in [0, 1].

    Returns:
        Q_mu, clicks per pulse of intensity mu, broadcast over the inputs.

    Raises:
        InvalidParameter: an argument out of range, or both/neither of
            ``eta``/``loss_db``.

    Examples:
        >>> round(wcp_gain(mu=0.5, loss_db=10.0, y0=1e-6), 6)
        0.048772
    """
    m = _mu("mu", mu)
    e = _eta_from(eta, loss_db)
    return _out(_gain(m, e, _y0(y0)))


def wcp_qber(*, mu: ArrayLike, eta: ArrayLike | None = None, loss_db: ArrayLike | None = None,
             y0: ArrayLike, e_d: ArrayLike, e0: float = E0_NOISE) -> np.ndarray | float:
    """QBER E_mu = (e0 Y0 + e_d (1 - exp(-eta mu))) / Q_mu of a coherent pulse.

    Args:
        mu: mean photon number per pulse, > 0.
        eta: end-to-end transmittance in [0, 1] (dimensionless).
        loss_db: the same loss in dB (>= 0), as an alternative to ``eta``.
        y0: vacuum (noise-only) yield per pulse, in [0, 1].
        e_d: intrinsic misalignment error probability, in [0, 0.5].
        e0: error probability of a noise click, in [0, 1] (default 1/2).

    Returns:
        E_mu (dimensionless), broadcast over the inputs; e0 where Q_mu = 0.

    Raises:
        InvalidParameter: an argument out of range, or both/neither of
            ``eta``/``loss_db``.

    Examples:
        >>> round(wcp_qber(mu=0.5, loss_db=40.0, y0=1e-6, e_d=0.01), 5)
        0.01961
    """
    m = _mu("mu", mu)
    e = _eta_from(eta, loss_db)
    e0a = _real_array("e0", e0, 0.0, 1.0)
    y = _y0(y0)
    return _out(_qber(m, e, y, _e_d(e_d), e0a))


def _gain(mu: np.ndarray, eta: np.ndarray, y0: np.ndarray) -> np.ndarray:
    # -expm1 keeps 1 - exp(-x) accurate at the tiny eta*mu of long links; the
    # decoy bounds subtract gains of similar size and would otherwise lose digits.
    return y0 - np.expm1(-eta * mu)


def _qber(mu: np.ndarray, eta: np.ndarray, y0: np.ndarray, e_d: np.ndarray,
          e0: np.ndarray) -> np.ndarray:
    q = _gain(mu, eta, y0)
    return _safe_div(e0 * y0 - e_d * np.expm1(-eta * mu), q, float(np.ravel(e0)[0]))


# ---------------------------------------------------------------------------
# Decoy bounds and key rates.
# ---------------------------------------------------------------------------

class VacuumWeakBounds(NamedTuple):
    """Single-photon bounds from the vacuum + one weak decoy method.

    Attributes:
        y1_lower: lower bound Y_1^L on the single-photon yield (per pulse; may
            be <= 0 when the data carry no information).
        e1_upper: upper bound e_1^U on the single-photon error rate
            (dimensionless; may exceed 1/2 or be NaN where Y_1^L <= 0).
    """

    y1_lower: np.ndarray | float
    e1_upper: np.ndarray | float


def vacuum_weak_decoy_bounds(*, mu: ArrayLike, nu: ArrayLike, gain_mu: ArrayLike,
                             qber_mu: ArrayLike, gain_nu: ArrayLike, qber_nu: ArrayLike,
                             y0: ArrayLike, e0: float = E0_NOISE) -> VacuumWeakBounds:
    """Vacuum + weak decoy bounds Y_1^L, e_1^U (Ma, Qi, Zhao, Lo 2005, PRA 72 012326).

    Y_1^L = mu/(mu nu - nu^2) [Q_nu e^nu - Q_mu e^mu nu^2/mu^2 - (mu^2 - nu^2)/mu^2 Y0],
    e_1^U = (E_nu Q_nu e^nu - e0 Y0) / (Y_1^L nu), valid for any 0 < nu < mu.
    Works on measured (or modelled) gains and QBERs, so it can be fed with
    simulation output.

    Args:
        mu: signal mean photon number, > 0.
        nu: weak-decoy mean photon number, 0 < nu < mu.
        gain_mu: measured signal gain Q_mu (clicks per pulse), in [0, 1].
        qber_mu: measured signal QBER E_mu, in [0, 1].
        gain_nu: measured decoy gain Q_nu (clicks per pulse), in [0, 1].
        qber_nu: measured decoy QBER E_nu, in [0, 1].
        y0: measured vacuum yield (clicks per empty pulse), in [0, 1].
        e0: error probability of a noise click, in [0, 1] (default 1/2).

    Returns:
        :class:`VacuumWeakBounds` ``(y1_lower, e1_upper)``, broadcast over the
        inputs. ``e1_upper`` is NaN where ``y1_lower <= 0``. ``qber_mu`` is
        validated but only enters the key rate, not the bounds.

    Raises:
        InvalidParameter: an argument out of range, including nu >= mu.
    """
    m = _mu("mu", mu)
    n = _mu("nu", nu)
    _check_nu_below_mu(m, n, nu)
    qm = _real_array("gain_mu", gain_mu, 0.0, 1.0)
    _real_array("qber_mu", qber_mu, 0.0, 1.0)
    qn = _real_array("gain_nu", gain_nu, 0.0, 1.0)
    en = _real_array("qber_nu", qber_nu, 0.0, 1.0)
    y = _y0(y0)
    e0a = _real_array("e0", e0, 0.0, 1.0)
    y1l, e1u = _vw_bounds(m, n, qm, qn, en, y, e0a)
    return VacuumWeakBounds(_out(y1l), _out(e1u))


def _vw_bounds(mu, nu, q_mu, q_nu, e_nu, y0, e0):
    y1l = (mu / (mu * nu - nu**2)) * (
        q_nu * np.exp(nu) - q_mu * np.exp(mu) * nu**2 / mu**2 - ((mu**2 - nu**2) / mu**2) * y0)
    num = e_nu * q_nu * np.exp(nu) - e0 * y0
    y1l_b, num_b = np.broadcast_arrays(y1l, num)
    e1u = np.full(y1l_b.shape, np.nan)
    ok = y1l_b > 0
    e1u[ok] = (num_b[ok] / (y1l_b[ok] * np.broadcast_to(nu, y1l_b.shape)[ok]))
    return y1l, e1u


def gllp_key_rate(*, q1: ArrayLike, e1: ArrayLike, gain_mu: ArrayLike, qber_mu: ArrayLike,
                  q: ArrayLike = 0.5, f_ec: ArrayLike = F_EC_DEFAULT,
                  clip: bool = True) -> np.ndarray | float:
    """GLLP key rate R = q { Q_1 [1 - h(e_1)] - f_EC Q_mu h(E_mu) }, bits per pulse.

    Gottesman, Lo, Lütkenhaus, Preskill 2004 (QIC 4 325). e_1 is clipped to
    [0, 1/2] before the entropy (a phase-error bound >= 1/2 gives no key) and a
    non-positive Q_1 contributes nothing.

    Args:
        q1: single-photon gain Q_1 = Y_1 mu e^{-mu} (clicks per pulse), real.
        e1: single-photon error rate (or its upper bound), real; NaN counts as 1/2.
        gain_mu: signal gain Q_mu (clicks per pulse), in [0, 1].
        qber_mu: signal QBER E_mu, in [0, 1].
        q: sifting factor in (0, 1] (1/2 for symmetric BB84, p_Z^2 + p_X^2 biased).
        f_ec: error-correction inefficiency f_EC >= 1 (default 1.16).
        clip: if True (default) return max(R, 0).

    Returns:
        Secret-key rate in bits per pulse, broadcast over the inputs.

    Raises:
        InvalidParameter: an argument out of range.
    """
    q1a = _real_array("q1", q1)
    e1a = _real_array("e1", e1, allow_nan=True)
    e1a = np.where(np.isnan(e1a), 0.5, e1a)
    qm = _real_array("gain_mu", gain_mu, 0.0, 1.0)
    em = _real_array("qber_mu", qber_mu, 0.0, 1.0)
    r = _gllp(q1a, e1a, qm, em, _q(q), _f_ec(f_ec))
    return _out(np.maximum(r, 0.0) if _clip(clip) else r)


def _clip(clip: bool) -> bool:
    return check_bool("clip", clip)


def _gllp(q1, e1, q_mu, e_mu, q, f_ec):
    single = np.maximum(q1, 0.0) * _one_minus_h(e1)
    ec = f_ec * q_mu * np.asarray(binary_entropy(e_mu), dtype=float)
    return q * (single - ec)


def decoy_key_rate_vacuum_weak(*, mu: ArrayLike, nu: ArrayLike, eta: ArrayLike | None = None,
                               loss_db: ArrayLike | None = None, y0: ArrayLike,
                               e_d: ArrayLike, q: ArrayLike = 0.5,
                               f_ec: ArrayLike = F_EC_DEFAULT,
                               clip: bool = True) -> np.ndarray | float:
    """GLLP rate with vacuum + one weak decoy bounds, from channel parameters.

    Models Q_mu, E_mu, Q_nu, E_nu with :func:`wcp_gain` / :func:`wcp_qber`,
    bounds Y_1 and e_1 with :func:`vacuum_weak_decoy_bounds` and applies
    :func:`gllp_key_rate` with Q_1 = Y_1^L mu e^{-mu}.

    Args:
        mu: signal mean photon number, > 0.
        nu: weak-decoy mean photon number, 0 < nu < mu.
        eta: end-to-end transmittance in [0, 1] (dimensionless).
        loss_db: the same loss in dB (>= 0), as an alternative to ``eta``.
        y0: vacuum (noise-only) yield per pulse, in [0, 1].
        e_d: intrinsic misalignment error probability, in [0, 0.5].
        q: sifting factor in (0, 1] (default 1/2).
        f_ec: error-correction inefficiency f_EC >= 1 (default 1.16).
        clip: if True (default) return max(R, 0).

    Returns:
        Secret-key rate in bits per pulse, broadcast over the inputs.

    Raises:
        InvalidParameter: an argument out of range (including nu >= mu), or
            both/neither of ``eta``/``loss_db``.

    Examples:
        >>> f"{decoy_key_rate_vacuum_weak(mu=0.5, nu=0.1, loss_db=30.0, y0=1e-6, e_d=0.01):.4g}"
        '0.0001081'
    """
    m = _mu("mu", mu)
    n = _mu("nu", nu)
    _check_nu_below_mu(m, n, nu)
    e = _eta_from(eta, loss_db)
    y = _y0(y0)
    ed = _e_d(e_d)
    qa, fa, c = _q(q), _f_ec(f_ec), _clip(clip)
    e0 = np.asarray(E0_NOISE)
    q_mu, e_mu = _gain(m, e, y), _qber(m, e, y, ed, e0)
    q_nu, e_nu = _gain(n, e, y), _qber(n, e, y, ed, e0)
    y1l, e1u = _vw_bounds(m, n, q_mu, q_nu, e_nu, y, e0)
    e1u = np.where(np.isnan(e1u), 0.5, e1u)
    r = _gllp(y1l * m * np.exp(-m), e1u, q_mu, e_mu, qa, fa)
    return _out(np.maximum(r, 0.0) if c else r)


def decoy_key_rate_infinite(*, mu: ArrayLike, eta: ArrayLike | None = None,
                            loss_db: ArrayLike | None = None, y0: ArrayLike, e_d: ArrayLike,
                            q: ArrayLike = 0.5, f_ec: ArrayLike = F_EC_DEFAULT,
                            clip: bool = True, e_d_x: ArrayLike | None = None) -> np.ndarray | float:
    """GLLP rate with infinitely many decoys (Y_1, e_1 known exactly).

    Uses Y_1 = Y0 + eta and e_1 = (e0 Y0 + e_d eta) / Y_1 (docs/conventions.md §A2), the
    reference that every finite-decoy rate stays below (invariant 14).

    The key comes from the Z basis: error correction pays f_EC h(E_mu) with the
    Z-basis signal QBER E_mu Q_mu = e0 Y0 + e_d (1 - exp(-eta mu)), and privacy
    amplification pays h(e_1) with the single-photon *phase* error, estimated in
    X. When the two bases have different misalignment errors (a coherent
    polarisation rotation, see :class:`qproto.Channel`), give the X-basis one as
    ``e_d_x``: then e_1 = (e0 Y0 + e_d_x eta) / Y_1 while E_mu keeps ``e_d``.

    Args:
        mu: signal mean photon number, > 0.
        eta: end-to-end transmittance in [0, 1] (dimensionless).
        loss_db: the same loss in dB (>= 0), as an alternative to ``eta``.
        y0: vacuum (noise-only) yield per pulse, in [0, 1].
        e_d: intrinsic misalignment error probability of the Z (key) basis, in [0, 0.5].
        q: sifting factor in (0, 1] (default 1/2).
        f_ec: error-correction inefficiency f_EC >= 1 (default 1.16).
        clip: if True (default) return max(R, 0).
        e_d_x: misalignment error probability of the X (phase-estimation) basis,
            in [0, 0.5]; default ``e_d`` (basis-independent errors).

    Returns:
        Secret-key rate in bits per pulse, broadcast over the inputs.

    Raises:
        InvalidParameter: an argument out of range, or both/neither of
            ``eta``/``loss_db``.

    Examples:
        >>> f"{decoy_key_rate_infinite(mu=0.5, loss_db=30.0, y0=1e-6, e_d=0.01):.4g}"
        '0.0001137'
    """
    m = _mu("mu", mu)
    e = _eta_from(eta, loss_db)
    y = _y0(y0)
    ed = _e_d(e_d)
    ed_x = ed if e_d_x is None else _real_array("e_d_x", e_d_x, 0.0, 0.5)
    qa, fa, c = _q(q), _f_ec(f_ec), _clip(clip)
    e0 = np.asarray(E0_NOISE)
    q_mu, e_mu = _gain(m, e, y), _qber(m, e, y, ed, e0)
    y1 = y + e
    e1 = _safe_div(e0 * y + ed_x * e, y1, E0_NOISE)
    r = _gllp(y1 * m * np.exp(-m), e1, q_mu, e_mu, qa, fa)
    return _out(np.maximum(r, 0.0) if c else r)


def bb84_asymptotic_fraction(e_x: ArrayLike, e_z: ArrayLike, *,
                             f_ec: ArrayLike = F_EC_DEFAULT) -> np.ndarray | float:
    """Shor–Preskill secret fraction max(0, 1 - h(e_x) - f_EC h(e_z)), bits per sifted bit.

    Key from the Z basis: e_x (phase error, estimated in X) sets privacy
    amplification, e_z sets error correction. Multiply by q P_click for bits per
    pulse (docs/conventions.md §A1). Positive iff E < 11.00 % for f_EC = 1 and
    E < 9.81 % for f_EC = 1.16 when e_x = e_z = E (invariant 13). Both errors
    are clipped to [0, 1/2] inside their entropies, so an error rate of 1/2 or
    more in either basis leaves no key (the convention of
    :attr:`qproto.QKDResult.key_rate`, which this must agree with).

    Args:
        e_x: phase (X-basis) error rate, in [0, 1].
        e_z: bit (Z-basis) error rate, in [0, 1].
        f_ec: error-correction inefficiency f_EC >= 1 (default 1.16).

    Returns:
        The secret fraction in bits per sifted bit, broadcast over the inputs.

    Raises:
        InvalidParameter: an argument out of range.

    Examples:
        >>> bb84_asymptotic_fraction(0.0, 0.0)
        1.0
        >>> bb84_asymptotic_fraction(0.111, 0.111, f_ec=1.0)
        0.0
    """
    ex = _real_array("e_x", e_x, 0.0, 1.0)
    ez = _real_array("e_z", e_z, 0.0, 1.0)
    fa = _f_ec(f_ec)
    r = _one_minus_h(ex) - fa * np.asarray(binary_entropy(np.clip(ez, 0.0, 0.5)), dtype=float)
    return _out(np.maximum(r, 0.0))
