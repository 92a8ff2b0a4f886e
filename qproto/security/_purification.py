"""Werner states, entanglement swapping and purification maps (PHYSICS.md section 0 and A11).

Bell-diagonal states are given by their coefficients ``(A, B, C, D)`` on
``(Phi+, Psi-, Psi+, Phi-)`` (the DEJMPS ordering); a Werner state of fidelity F has
``(F, (1-F)/3, (1-F)/3, (1-F)/3)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from qproto._errors import InvalidParameter
from qproto._validation import check_in_range

__all__ = ["werner_fidelity", "werner_visibility", "werner_coefficients", "swap_fidelity", "chain_fidelity",
           "bbpssw", "dejmps", "bilateral_cnot", "bell_diagonal_correlators", "teleportation_fidelity"]


def werner_fidelity(visibility: float) -> float:
    """F = (1 + 3V)/4 of the Werner state of visibility V in [-1/3, 1]."""
    v = check_in_range("visibility", visibility, -1.0 / 3.0, 1.0)
    return (1.0 + 3.0 * v) / 4.0


def werner_visibility(fidelity: float) -> float:
    """V = (4F - 1)/3 of the Werner state of fidelity F in [0, 1]."""
    f = check_in_range("fidelity", fidelity, 0.0, 1.0)
    return (4.0 * f - 1.0) / 3.0


def werner_coefficients(fidelity: float) -> tuple[float, float, float, float]:
    """Bell-diagonal coefficients (A, B, C, D) of the Werner state of fidelity F."""
    f = check_in_range("fidelity", fidelity, 0.0, 1.0)
    r = (1.0 - f) / 3.0
    return (f, r, r, r)


def swap_fidelity(f1: float, f2: float) -> float:
    """Fidelity after swapping two Werner pairs: F1 F2 + (1 - F1)(1 - F2)/3 (V' = V1 V2)."""
    f1 = check_in_range("f1", f1, 0.0, 1.0)
    f2 = check_in_range("f2", f2, 0.0, 1.0)
    return f1 * f2 + (1.0 - f1) * (1.0 - f2) / 3.0


def chain_fidelity(fidelities: Sequence[float]) -> float:
    """End-to-end fidelity of a chain of Werner links: (1 + 3 prod V_i)/4.

    Raises:
        InvalidParameter: an empty chain.
    """
    fs = list(fidelities)
    if not fs:
        raise InvalidParameter("fidelities", fs, "at least one link")
    v = math.prod(werner_visibility(check_in_range(f"fidelities[{i}]", f, 0.0, 1.0)) for i, f in enumerate(fs))
    return (1.0 + 3.0 * v) / 4.0


def teleportation_fidelity(visibility: float) -> float:
    """Average (and, for a Werner resource, every) teleportation fidelity (1 + V)/2 (A10)."""
    v = check_in_range("visibility", visibility, -1.0 / 3.0, 1.0)
    return (1.0 + v) / 2.0


def _coeffs(name: str, coeffs: Sequence[float]) -> tuple[float, float, float, float]:
    c = tuple(float(check_in_range(f"{name}[{i}]", x, 0.0, 1.0)) for i, x in enumerate(coeffs))
    if len(c) != 4 or abs(sum(c) - 1.0) > 1e-9:
        raise InvalidParameter(name, coeffs, "four probabilities summing to 1")
    return c  # type: ignore[return-value]


def bilateral_cnot(coeffs: Sequence[float]) -> tuple[tuple[float, float, float, float], float]:
    """Two copies of a Bell-diagonal pair, bilateral CNOT (copy 1 controls), target measured in Z,
    kept when the outcomes agree: ``((A', B', C', D'), p_success)``.

    A' = (A^2 + D^2)/N, B' = 2BC/N, C' = (B^2 + C^2)/N, D' = 2AD/N, N = (A + D)^2 + (B + C)^2.
    """
    a, b, c, d = _coeffs("coeffs", coeffs)
    n = (a + d) ** 2 + (b + c) ** 2
    return ((a * a + d * d) / n, 2 * b * c / n, (b * b + c * c) / n, 2 * a * d / n), n


def bbpssw(fidelity: float) -> tuple[float, float]:
    """One BBPSSW round on two Werner pairs of fidelity F: ``(F', p_success)`` (A11).

    F' = [F^2 + ((1-F)/3)^2] / N,  N = F^2 + 2F(1-F)/3 + 5((1-F)/3)^2 = p_success.
    """
    f = check_in_range("fidelity", fidelity, 0.0, 1.0)
    r = (1.0 - f) / 3.0
    n = f * f + 2.0 * f * (1.0 - f) / 3.0 + 5.0 * r * r
    return (f * f + r * r) / n, n


def dejmps(coeffs: Sequence[float]) -> tuple[tuple[float, float, float, float], float]:
    """One DEJMPS round on two copies of a Bell-diagonal pair (A11): ``((A', B', C', D'), p_success)``.

    A' = (A^2 + B^2)/N, B' = 2CD/N, C' = (C^2 + D^2)/N, D' = 2AB/N, N = (A + B)^2 + (C + D)^2.
    """
    a, b, c, d = _coeffs("coeffs", coeffs)
    n = (a + b) ** 2 + (c + d) ** 2
    return ((a * a + b * b) / n, 2 * c * d / n, (c * c + d * d) / n, 2 * a * b / n), n


def bell_diagonal_correlators(coeffs: Sequence[float]) -> dict[str, float]:
    """<ZZ>, <XX>, <YY> of a Bell-diagonal state and its CHSH value with the A4 settings."""
    a, b, c, d = _coeffs("coeffs", coeffs)
    zz, xx, yy = a + d - b - c, a - d + c - b, -a + d + c - b
    return {"zz": zz, "xx": xx, "yy": yy, "chsh": math.sqrt(2.0) * (zz + xx), "fidelity": a}
