"""Finite-key length of the BB84-type chain (single photons or entangled pairs).

Tomamichel, Lim, Gisin & Renner, "Tight finite-key analysis for quantum cryptography",
Nat. Commun. 3, 634 (2012), Eqs. (2)-(3): with n key bits, k test bits of the other basis
whose observed error rate is e_x, and the measured error-correction leakage leak_EC,

    ell = n [1 - h(e_x + mu)] - leak_EC - log2(2 / (eps_sec**2 eps_cor)),
    mu  = sqrt( (n + k)/(n k) * (k + 1)/k * ln(2 / eps_sec) ),

and ell = 0 when e_x + mu >= 1/2. The verification tag's log2(1/eps_cor) bits are part of
the last term. Decoy-state BB84 uses :func:`qproto.security.finite_key_length` instead
(docs/conventions.md A2) with ``lambda_ec`` set to the measured leakage.
"""

from __future__ import annotations

import math

from qproto._validation import check_in_range, check_int
from qproto.security import binary_entropy

__all__ = ["bb84_finite_key_length", "phase_error_deviation"]


def phase_error_deviation(n: int, k: int, eps_sec: float) -> float:
    """mu = sqrt((n + k)/(n k) (k + 1)/k ln(2/eps_sec)) (dimensionless); inf when n or k is 0."""
    n = check_int("n", n, minimum=0)
    k = check_int("k", k, minimum=0)
    e = check_in_range("eps_sec", eps_sec, 0.0, 1.0, lo_open=True, hi_open=True)
    if n == 0 or k == 0:
        return math.inf
    return math.sqrt((n + k) / (n * k) * (k + 1) / k * math.log(2.0 / e))


def bb84_finite_key_length(*, n: int, k: int, e_x: float, leak_ec: float, eps_sec: float,
                           eps_cor: float) -> float:
    """Secret-key length in bits (module docs; not rounded, may be negative: no key).

    Args:
        n: key bits after removing the test subset, >= 0.
        k: test-basis bits used to estimate the phase error, >= 0.
        e_x: their observed error rate, in [0, 1].
        leak_ec: bits disclosed by error correction, >= 0.
        eps_sec: secrecy parameter in (0, 1).
        eps_cor: correctness parameter in (0, 1).
    """
    n = check_int("n", n, minimum=0)
    k = check_int("k", k, minimum=0)
    e_x = check_in_range("e_x", e_x, 0.0, 1.0)
    leak = check_in_range("leak_ec", leak_ec, 0.0, math.inf)
    es = check_in_range("eps_sec", eps_sec, 0.0, 1.0, lo_open=True, hi_open=True)
    ec = check_in_range("eps_cor", eps_cor, 0.0, 1.0, lo_open=True, hi_open=True)
    mu = phase_error_deviation(n, k, es)
    penalty = math.log2(2.0 / (es**2 * ec))
    if e_x + mu >= 0.5:
        return -leak - penalty
    return n * (1.0 - float(binary_entropy(e_x + mu))) - leak - penalty
