"""Finite-key decoy-state BB84 (Lim, Curty, Walenta, Xu, Zbinden 2014, PRA 89 022307).

Efficient BB84 with three intensities mu1 > mu2 + mu3, mu2 > mu3 >= 0 (one signal,
two decoys; mu3 = 0 is a true vacuum), key from the Z basis and the phase error
estimated in X. Formulas exactly as docs/conventions.md §A2 writes them:

* tau_n = sum_k p_k exp(-mu_k) mu_k^n / n!
* Hoeffding: n^±_{Z,k} = (e^{mu_k}/p_k) (n_{Z,k} ± sqrt((n_Z/2) ln(21/eps_sec))),
  likewise n^±_{X,k} (with n_X) and m^±_{X,k} (with the error total m_X)
* s_{Z,0} >= tau0 (mu2 n^-_{Z,mu3} - mu3 n^+_{Z,mu2}) / (mu2 - mu3)
* s_{Z,1} >= tau1 mu1 [n^-_{Z,mu2} - n^+_{Z,mu3}
  - ((mu2^2 - mu3^2)/mu1^2)(n^+_{Z,mu1} - s_{Z,0}/tau0)] / [mu1(mu2 - mu3) - mu2^2 + mu3^2]
  (s_{X,0}, s_{X,1} the same with X counts)
* v_{X,1} <= tau1 (m^+_{X,mu2} - m^-_{X,mu3}) / (mu2 - mu3)
* phi_Z <= v_{X,1}/s_{X,1} + gamma(eps_sec, v_{X,1}/s_{X,1}, s_{Z,1}, s_{X,1}),
  gamma(a,b,c,d) = sqrt((c+d)(1-b)b/(c d ln2) log2((c+d) 21^2 / (c d (1-b) b a^2)))
* ell = s_{Z,0} + s_{Z,1}[1 - h(phi_Z)] - lambda_EC - 6 log2(21/eps_sec) - log2(2/eps_cor),
  clipped at 0.

Tail bounds (``tails``): the Hoeffding deviation above, on the class-independent
total, as Lim et al. write it; or (``tails="chernoff"``) multiplicative Chernoff
bounds per intensity class, as Sidhu et al. 2022 (npj Quantum Inf. 8 18, seed
001's reference [8]) and their public SatQuMA code do, with L = ln(21/eps_sec):
c^- = (e^{mu_k}/p_k)(c - L/2 - sqrt(2 c L + L^2/4)),
c^+ = (e^{mu_k}/p_k)(c + L + sqrt(2 c L + L^2)) for every count c of class k
(n_{Z,k}, n_{X,k}, m_{X,k}). Everything else is the same. Chernoff is much
tighter on the small classes (vacuum, weak decoy), whose own statistics it uses.

Error-correction leakage (``ec_leakage``), with its sources:

* ``"efficiency"``: lambda_EC = f_EC n_Z h(Q_Z), the model of Lim et al. 2014
  (their f_EC = 1.16 is the usual figure for cascade/LDPC codes at these QBERs);
* ``"finite_size"``: the larger of that and the finite-block-length estimate of
  Tomamichel, Martinez-Mateo, Pacher, Elkouss 2017 (Quantum Inf. Process. 16 280),
  as in the SatQuMA code;
* ``lambda_ec=`` bits actually disclosed by an error-correction run (docs/conventions.md
  A2: measured leakage replaces the model).

Conventions where the formulas leave a case open (the same choices as the public
SatQuMA code): a negative lower bound s is replaced by 0 (the true count is
>= 0, so the bound stays valid); v_{X,1} is clipped to [0, m_X]; phi_Z is capped
at 1/2; if s_{Z,1} or s_{X,1} is 0 the single-photon term is 0 (phi_Z = 1/2).

Counts are arrays whose first axis is the intensity (length 3, ordered
mu1, mu2, mu3); trailing axes broadcast, so a sweep over N or eta is one call.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from qproto._errors import InvalidParameter
from qproto._validation import check_bool, check_in_range, check_one_of
from qproto._validation import check_array_in_range, scalar_or_array
from qproto.security._bounds import eta_from
from qproto.security._decoy import E0_NOISE, F_EC_DEFAULT
from qproto.security._lim2014 import (
    EC_OPTIONS,
    TAILS,
    Tails,
    check_intensities,
    check_probabilities,
    key_length_core,
    model_gain,
    model_qber,
)

__all__ = [
    "DecoyCounts",
    "FiniteKeyResult",
    "EcLeakage",
    "Tails",
    "expected_decoy_counts",
    "finite_key_length",
    "finite_key_length_from_channel",
]

EcLeakage = Literal["efficiency", "finite_size"]
_EC_OPTIONS = EC_OPTIONS


# ---------------------------------------------------------------------------
# Result types.
# ---------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True, eq=False)  # array fields: == would be ambiguous
class DecoyCounts:
    """Sifted detection and error counts per intensity (first axis, length 3).

    Attributes:
        n_z: sifted Z-basis detections n_{Z,k}, shape (3, ...).
        n_x: sifted X-basis detections n_{X,k}, shape (3, ...).
        m_z: Z-basis bit errors m_{Z,k}, shape (3, ...).
        m_x: X-basis bit errors m_{X,k}, shape (3, ...).
    """

    n_z: np.ndarray
    n_x: np.ndarray
    m_z: np.ndarray
    m_x: np.ndarray

    @property
    def qber_z(self) -> np.ndarray | float:
        """Z-basis QBER m_Z / n_Z over all intensities (0 where n_Z = 0)."""
        n = np.sum(self.n_z, axis=0)
        out = np.zeros(np.shape(n))
        np.divide(np.sum(self.m_z, axis=0), n, out=out, where=n > 0)
        return scalar_or_array(out)

    @property
    def qber_x(self) -> np.ndarray | float:
        """X-basis QBER m_X / n_X over all intensities (0 where n_X = 0)."""
        n = np.sum(self.n_x, axis=0)
        out = np.zeros(np.shape(n))
        np.divide(np.sum(self.m_x, axis=0), n, out=out, where=n > 0)
        return scalar_or_array(out)


@dataclasses.dataclass(frozen=True, eq=False)  # array fields: == would be ambiguous
class FiniteKeyResult:
    """Secret key length and every intermediate bound of the Lim et al. 2014 analysis.

    Scalars are Python floats for unbatched input, arrays of the batch shape
    otherwise; the per-intensity arrays have the intensity on the first axis.
    Bounds are the values used in ``ell`` (negative lower bounds replaced by 0,
    see the module docstring).

    Attributes:
        ell: secret key length in bits, max(ell_unclipped, 0) (not rounded).
        ell_unclipped: the key-length formula before clipping at 0, in bits.
        n_z, n_x, m_x: totals over intensities of the input counts.
        qber_z: Z-basis QBER used for the error-correction leakage.
        tau0, tau1: probabilities of sending 0 and 1 photons (per pulse).
        delta_z, delta_x, delta_m: Hoeffding deviations sqrt((n/2) ln(21/eps_sec))
            for n_Z, n_X and m_X (counts; reported whatever ``tails`` and
            ``fluctuations``, for comparison).
        n_z_minus, n_z_plus, n_x_minus, n_x_plus, m_x_minus, m_x_plus:
            the tail bounds (e^{mu_k}/p_k)(count -/+ deviation) of each class, shape (3, ...).
        s_z0, s_z1, s_x0, s_x1: lower bounds on vacuum and single-photon
            detections in Z and X (counts).
        v_x1: upper bound on single-photon X-basis errors (counts).
        phase_error_ratio: v_x1 / s_x1 (capped at 1/2).
        gamma: statistical correction gamma(eps_sec, v/s, s_z1, s_x1).
        phi_z: upper bound on the single-photon phase error rate (<= 1/2).
        lambda_ec: error-correction leakage in bits.
        eps_sec, eps_cor: the secrecy and correctness parameters used.
        tails: the tail bound used, ``"hoeffding"`` or ``"chernoff"``.
    """

    ell: np.ndarray | float
    ell_unclipped: np.ndarray | float
    n_z: np.ndarray | float
    n_x: np.ndarray | float
    m_x: np.ndarray | float
    qber_z: np.ndarray | float
    tau0: float
    tau1: float
    delta_z: np.ndarray | float
    delta_x: np.ndarray | float
    delta_m: np.ndarray | float
    n_z_minus: np.ndarray
    n_z_plus: np.ndarray
    n_x_minus: np.ndarray
    n_x_plus: np.ndarray
    m_x_minus: np.ndarray
    m_x_plus: np.ndarray
    s_z0: np.ndarray | float
    s_z1: np.ndarray | float
    s_x0: np.ndarray | float
    s_x1: np.ndarray | float
    v_x1: np.ndarray | float
    phase_error_ratio: np.ndarray | float
    gamma: np.ndarray | float
    phi_z: np.ndarray | float
    lambda_ec: np.ndarray | float
    eps_sec: float
    eps_cor: float
    tails: str = "hoeffding"


# ---------------------------------------------------------------------------
# Validation.
# ---------------------------------------------------------------------------

_intensities = check_intensities
_probabilities = check_probabilities


def _counts(name: str, value: ArrayLike) -> np.ndarray:
    c = check_array_in_range(name, value, 0.0, math.inf)
    if c.ndim == 0 or c.shape[0] != 3:
        raise InvalidParameter(name, value, "counts with a first axis of length 3",
                               f"{name} has shape {c.shape}; the first axis must be the "
                               "three intensities (mu1, mu2, mu3)")
    return c


def _batch_shape(named: dict[str, np.ndarray]) -> tuple[int, ...]:
    """Broadcast shape of the arrays, or InvalidParameter naming the first misfit."""
    shape: tuple[int, ...] = ()
    for name, arr in named.items():
        try:
            shape = np.broadcast_shapes(shape, arr.shape)
        except ValueError:
            raise InvalidParameter(
                name, arr, f"an array broadcastable to shape {shape}",
                f"{name} has shape {arr.shape}, which does not broadcast with {shape}"
            ) from None
    return shape


def _epsilon(name: str, value: float) -> float:
    return check_in_range(name, value, 0.0, 1.0, lo_open=True, hi_open=True)


# ---------------------------------------------------------------------------
# Expected counts.
# ---------------------------------------------------------------------------

def expected_decoy_counts(*, n_pulses: ArrayLike, eta: ArrayLike | None = None,
                          loss_db: ArrayLike | None = None, y0: ArrayLike, e_d: ArrayLike,
                          intensities: ArrayLike, probabilities: ArrayLike, p_z: float,
                          p_z_bob: float | None = None,
                          e_d_x: ArrayLike | None = None) -> DecoyCounts:
    """Expected sifted counts n_{Z,k}, n_{X,k} and errors m_{Z,k}, m_{X,k} for N pulses.

    Uses the docs/conventions.md §A2 channel model per intensity k:
    Q_k = Y0 + 1 - exp(-eta mu_k), E_k Q_k = Y0/2 + e_d (1 - exp(-eta mu_k)), and
    n_{Z,k} = N p_k p_Z^A p_Z^B Q_k, n_{X,k} = N p_k (1-p_Z^A)(1-p_Z^B) Q_k,
    m_{Z,k} = n_{Z,k} E_k and m_{X,k} = n_{X,k} E^X_k, where E^X_k uses ``e_d_x``
    (the X-basis misalignment; ``e_d`` unless given). Feeding these into
    :func:`finite_key_length` evaluates the finite key analytically (no sampling).

    Args:
        n_pulses: number N of pulses Alice sends, > 0 (scalar or array).
        eta: end-to-end transmittance in [0, 1] (dimensionless).
        loss_db: the same loss in dB (>= 0), as an alternative to ``eta``.
        y0: vacuum (noise-only) yield per pulse, in [0, 1].
        e_d: intrinsic misalignment error probability, in [0, 0.5].
        intensities: (mu1, mu2, mu3) mean photon numbers, mu1 > mu2 + mu3,
            mu2 > mu3 >= 0.
        probabilities: (p1, p2, p3) probabilities of the intensities, each in
            (0, 1], summing to 1.
        p_z: probability that Alice prepares in Z, in (0, 1).
        p_z_bob: probability that Bob measures in Z, in (0, 1); defaults to ``p_z``.
        e_d_x: misalignment error probability of the X basis, in [0, 0.5]; defaults
            to ``e_d`` (errors equal in both bases).

    Returns:
        :class:`DecoyCounts` with arrays of shape (3, *broadcast(n_pulses, eta,
        y0, e_d)) (expected, non-integer counts).

    Raises:
        InvalidParameter: an argument out of range, intensities out of order,
            probabilities not summing to 1, or both/neither of ``eta``/``loss_db``.
    """
    n = check_array_in_range("n_pulses", n_pulses, 0.0, math.inf, lo_open=True)
    e = eta_from(eta, loss_db)
    y = check_array_in_range("y0", y0, 0.0, 1.0)
    ed = check_array_in_range("e_d", e_d, 0.0, 0.5)
    ed_x = ed if e_d_x is None else check_array_in_range("e_d_x", e_d_x, 0.0, 0.5)
    mu = _intensities(intensities)
    p = _probabilities("probabilities", probabilities)
    pza = check_in_range("p_z", p_z, 0.0, 1.0, lo_open=True, hi_open=True)
    pzb = pza if p_z_bob is None else check_in_range("p_z_bob", p_z_bob, 0.0, 1.0,
                                                      lo_open=True, hi_open=True)
    batch = _batch_shape({"n_pulses": n, "eta": e, "y0": y, "e_d": ed, "e_d_x": ed_x})
    ex = (slice(None),) + (None,) * len(batch)
    mu_k, p_k = mu[ex], p[ex]
    gain = model_gain(mu_k, e, y)
    qber_z = model_qber(mu_k, e, y, ed, E0_NOISE)
    qber_x = qber_z if e_d_x is None else model_qber(mu_k, e, y, ed_x, E0_NOISE)
    base = np.broadcast_to(n * p_k * gain, (3,) + batch)
    n_z = base * (pza * pzb)
    n_x = base * ((1.0 - pza) * (1.0 - pzb))
    return DecoyCounts(n_z=n_z, n_x=n_x, m_z=n_z * qber_z, m_x=n_x * qber_x)


# ---------------------------------------------------------------------------
# Finite-key length.
# ---------------------------------------------------------------------------

def finite_key_length(*, intensities: ArrayLike, probabilities: ArrayLike, n_z: ArrayLike,
                      n_x: ArrayLike, m_x: ArrayLike, qber_z: ArrayLike, eps_sec: float,
                      eps_cor: float, f_ec: float = F_EC_DEFAULT,
                      ec_leakage: EcLeakage = "efficiency",
                      lambda_ec: ArrayLike | None = None,
                      fluctuations: bool = True, tails: Tails = "hoeffding") -> FiniteKeyResult:
    """Secret key length of Lim et al. 2014 (PRA 89 022307) from sifted counts.

    Args:
        intensities: (mu1, mu2, mu3) mean photon numbers, mu1 > mu2 + mu3,
            mu2 > mu3 >= 0.
        probabilities: (p1, p2, p3) probabilities of the intensities, each in
            (0, 1], summing to 1.
        n_z: Z-basis (key) sifted detections per intensity n_{Z,k}, shape (3, ...),
            >= 0 (counts; need not be integers).
        n_x: X-basis sifted detections per intensity n_{X,k}, shape (3, ...).
        m_x: X-basis bit errors per intensity m_{X,k}, shape (3, ...), <= n_x.
        qber_z: Z-basis QBER in [0, 1] (scalar or batch-shaped), used for the
            error-correction leakage.
        eps_sec: secrecy parameter, in (0, 1).
        eps_cor: correctness parameter, in (0, 1).
        f_ec: error-correction inefficiency f_EC >= 1 (default 1.16).
        ec_leakage: how lambda_EC is computed when ``lambda_ec`` is not given:
            ``"efficiency"`` (default) lambda_EC = f_EC n_Z h(QBER_Z), as in Lim et
            al.; ``"finite_size"`` the larger of that and the finite-block-length
            estimate of Tomamichel, Martinez-Mateo, Pacher, Elkouss 2017 (QIP 16
            280): n h(Q) + (n(1-Q) - F^{-1}(eps_cor; n, 1-Q) - 1) log2((1-Q)/Q)
            - log2(n)/2 - log2(1/eps_cor), F^{-1} the binomial quantile (the same
            choice as the SatQuMA code).
        lambda_ec: if given, the leakage in bits (>= 0) actually disclosed by
            error correction; overrides ``ec_leakage``.
        fluctuations: if False, drop the tail deviations, gamma and the
            eps-dependent terms: the N -> infinity limit of the same estimator
            (the "asymptotic" key length for these counts).
        tails: the tail bound on each observed count (module docs, docs/conventions.md A2):
            ``"hoeffding"`` (default; Lim et al. 2014, deviation of the total) or
            ``"chernoff"`` (multiplicative Chernoff per intensity class, Sidhu et al.
            2022 / SatQuMA; the default of the satellite-pass functions).

    Returns:
        :class:`FiniteKeyResult` with ``ell`` (bits, clipped at 0) and every
        intermediate bound.

    Raises:
        InvalidParameter: an argument out of range, intensities out of order,
            probabilities not summing to 1, counts of the wrong shape, m_x > n_x,
            eps outside (0, 1), or an unknown ``ec_leakage``.
        InvalidType: a non-numeric argument.
    """
    mu = _intensities(intensities)
    p = _probabilities("probabilities", probabilities)
    nz = _counts("n_z", n_z)
    nx = _counts("n_x", n_x)
    mx = _counts("m_x", m_x)
    qz = check_array_in_range("qber_z", qber_z, 0.0, 1.0)
    es = _epsilon("eps_sec", eps_sec)
    ec = _epsilon("eps_cor", eps_cor)
    fe = check_in_range("f_ec", f_ec, 1.0, math.inf, hi_open=True)
    check_one_of("ec_leakage", ec_leakage, _EC_OPTIONS)
    check_one_of("tails", tails, TAILS)
    fl = check_bool("fluctuations", fluctuations)
    lam_given = None if lambda_ec is None else check_array_in_range("lambda_ec", lambda_ec, 0.0,
                                                           math.inf)

    batch = _batch_shape({"n_z": nz[0], "n_x": nx[0], "m_x": mx[0], "qber_z": qz,
                          **({} if lam_given is None else {"lambda_ec": lam_given})})
    # the first axis is the intensity; the batch axes follow it, aligned from the right
    nz, nx, mx = (np.broadcast_to(c.reshape((3,) + (1,) * (len(batch) + 1 - c.ndim) + c.shape[1:]),
                                  (3,) + batch) for c in (nz, nx, mx))
    qz = np.broadcast_to(qz, batch)
    if np.any(mx > nx):
        raise InvalidParameter("m_x", m_x, "0 <= m_x <= n_x",
                               f"m_x={m_x!r} exceeds n_x={n_x!r}; errors cannot exceed "
                               "detections")
    r = key_length_core(mu, p, nz, nx, mx, qz, eps_sec=es, eps_cor=ec, f_ec=fe, ec_leakage=ec_leakage,
                        lambda_ec=lam_given, fluctuations=fl, tails=tails)
    arrays = ("n_z_minus", "n_z_plus", "n_x_minus", "n_x_plus", "m_x_minus", "m_x_plus")
    return FiniteKeyResult(**{k: (v if k in arrays else scalar_or_array(v)) for k, v in r.items()
                              if k not in ("s_z1_raw", "s_x1_raw", "tau0", "tau1")},
                           tau0=float(np.ravel(r["tau0"])[0]), tau1=float(np.ravel(r["tau1"])[0]), eps_sec=es, eps_cor=ec, tails=tails)


def finite_key_length_from_channel(*, n_pulses: ArrayLike, eta: ArrayLike | None = None,
                                   loss_db: ArrayLike | None = None, y0: ArrayLike,
                                   e_d: ArrayLike, intensities: ArrayLike,
                                   probabilities: ArrayLike, p_z: float,
                                   p_z_bob: float | None = None, eps_sec: float,
                                   eps_cor: float, f_ec: float = F_EC_DEFAULT,
                                   ec_leakage: EcLeakage = "efficiency",
                                   fluctuations: bool = True,
                                   e_d_x: ArrayLike | None = None,
                                   tails: Tails = "hoeffding") -> FiniteKeyResult:
    """Finite key length for N pulses over a channel, from expected counts.

    Composes :func:`expected_decoy_counts` and :func:`finite_key_length`; divide
    ``result.ell`` by ``n_pulses`` for bits per pulse.

    Args:
        n_pulses: number N of pulses Alice sends, > 0 (scalar or array).
        eta: end-to-end transmittance in [0, 1] (dimensionless).
        loss_db: the same loss in dB (>= 0), as an alternative to ``eta``.
        y0: vacuum (noise-only) yield per pulse, in [0, 1].
        e_d: intrinsic misalignment error probability, in [0, 0.5].
        intensities: (mu1, mu2, mu3), mu1 > mu2 + mu3, mu2 > mu3 >= 0.
        probabilities: (p1, p2, p3), each in (0, 1], summing to 1.
        p_z: probability that Alice prepares in Z, in (0, 1).
        p_z_bob: probability that Bob measures in Z, in (0, 1); defaults to ``p_z``.
        eps_sec: secrecy parameter, in (0, 1).
        eps_cor: correctness parameter, in (0, 1).
        f_ec: error-correction inefficiency f_EC >= 1 (default 1.16).
        ec_leakage: ``"efficiency"`` or ``"finite_size"`` (see
            :func:`finite_key_length`).
        fluctuations: if False, the N -> infinity limit of the estimator.
        e_d_x: misalignment error probability of the X basis (phase estimation),
            in [0, 0.5]; defaults to ``e_d``.
        tails: ``"hoeffding"`` (default) or ``"chernoff"`` (see :func:`finite_key_length`).

    Returns:
        :class:`FiniteKeyResult` (``ell`` in bits) with the batch shape of the
        broadcast channel arguments.

    Raises:
        InvalidParameter: an argument out of range (see the two functions above).

    Examples:
        >>> r = finite_key_length_from_channel(
        ...     n_pulses=1e12, loss_db=30.0, y0=1e-6, e_d=0.01,
        ...     intensities=(0.5, 0.1, 0.0), probabilities=(0.7, 0.2, 0.1), p_z=0.9,
        ...     eps_sec=1e-10, eps_cor=1e-15)
        >>> r.ell > 0
        True
    """
    counts = expected_decoy_counts(n_pulses=n_pulses, eta=eta, loss_db=loss_db, y0=y0,
                                   e_d=e_d, intensities=intensities,
                                   probabilities=probabilities, p_z=p_z, p_z_bob=p_z_bob,
                                   e_d_x=e_d_x)
    return finite_key_length(intensities=intensities, probabilities=probabilities,
                             n_z=counts.n_z, n_x=counts.n_x, m_x=counts.m_x,
                             qber_z=counts.qber_z, eps_sec=eps_sec, eps_cor=eps_cor,
                             f_ec=f_ec, ec_leakage=ec_leakage, fluctuations=fluctuations, tails=tails)
