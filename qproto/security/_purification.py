"""Werner states, entanglement swapping and purification maps (docs/conventions.md section 0 and A11).

Bell-diagonal states are given by their coefficients ``(A, B, C, D)`` on
``(Phi+, Psi-, Psi+, Phi-)`` (the DEJMPS ordering); a Werner state of fidelity F has
``(F, (1-F)/3, (1-F)/3, (1-F)/3)``.

The second half of the module describes local channels by their Bloch maps (rotation, then
depolarising) and pairs by their correlation matrices; the relay and entanglement protocols
(MDI-QKD, QSDC, teleportation, swapping, trusted relay, seed Fig. 3) compute their
``expected()`` values with these closed forms, independently of their circuits and of the
Aer noise model, for asymmetric and rotated channels alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from qproto._errors import InvalidParameter
from qproto._validation import check_in_range

__all__ = ["werner_fidelity", "werner_visibility", "werner_coefficients", "swap_fidelity", "chain_fidelity",
           "bbpssw", "dejmps", "bilateral_cnot", "bell_diagonal_correlators", "teleportation_fidelity",
           "PHI_PLUS_CORRELATIONS", "rotation_bloch_matrix", "bloch_map", "click_bloch_map", "arrival_bloch_map",
           "correlation_fidelity", "correlation_chsh", "teleportation_bloch_map", "pair_density_matrix",
           "two_qubit_correlations", "purify_density_matrix"]


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


# ---- Bloch-sphere (Pauli transfer) description of local channels and of pair states -----
#
# Every state these protocols distribute starts as Phi+ and suffers only local unital channels
# (a coherent rotation and depolarising), so each qubit's reduced state stays I/2 and a pair is
# fully described by its 3x3 correlation matrix T_ij = <sigma_i (x) sigma_j> (i, j = x, y, z):
# rho = (I + sum_ij T_ij sigma_i (x) sigma_j) / 4. A local unital channel with Bloch map M on the
# first (second) qubit maps T -> M T (T M^T). These closed forms are the protocols' independent
# route to their expected values: they never touch a circuit or an Aer noise model.

#: Correlation matrix of Phi+ in the (x, y, z) ordering: <XX> = 1, <YY> = -1, <ZZ> = 1.
PHI_PLUS_CORRELATIONS = np.diag([1.0, -1.0, 1.0])


def rotation_bloch_matrix(rotation_rad: float, rotation_axis: Sequence[float] = (0.0, 0.0, 1.0)) -> np.ndarray:
    """The 3x3 rotation of Bloch vectors by ``rotation_rad`` radians about ``rotation_axis`` (right-handed).

    Rodrigues' formula ``R = cos t I + sin t [n]_x + (1 - cos t) n n^T``: the action of
    ``exp(-i t/2 n.sigma)`` on Bloch vectors, in the (x, y, z) ordering.

    Args:
        rotation_rad: angle t in [0, pi] radians.
        rotation_axis: a non-zero 3-vector (x, y, z); normalised here.

    Raises:
        InvalidParameter: an angle outside [0, pi] or a zero / non-finite axis.
    """
    t = check_in_range("rotation_rad", rotation_rad, 0.0, math.pi)
    n = np.asarray(rotation_axis, dtype=float).reshape(-1)
    norm = float(np.linalg.norm(n)) if n.size == 3 else 0.0
    if n.size != 3 or not np.all(np.isfinite(n)) or norm == 0.0:
        raise InvalidParameter("rotation_axis", rotation_axis, "3 finite reals, not all zero")
    n = n / norm
    cross = np.array([[0.0, -n[2], n[1]], [n[2], 0.0, -n[0]], [-n[1], n[0], 0.0]])
    return math.cos(t) * np.eye(3) + math.sin(t) * cross + (1.0 - math.cos(t)) * np.outer(n, n)


def bloch_map(depolarisation: float, rotation_rad: float = 0.0,
              rotation_axis: Sequence[float] = (0.0, 0.0, 1.0)) -> np.ndarray:
    """Bloch map (3x3, unital channel) of a coherent rotation followed by depolarising ``p``: ``(1 - p) R``.

    Args:
        depolarisation: Aer's depolarising parameter p in [0, 4/3] (Bloch vectors shrink by 1 - p).
        rotation_rad: rotation angle in [0, pi] radians.
        rotation_axis: rotation axis (x, y, z), non-zero.
    """
    p = check_in_range("depolarisation", depolarisation, 0.0, 4.0 / 3.0)
    return (1.0 - p) * rotation_bloch_matrix(rotation_rad, rotation_axis)


def click_bloch_map(channel) -> np.ndarray:
    """Bloch map of the qubit a receiver sees given a click on ``channel`` (docs/conventions.md C.8(b)).

    The channel's coherent rotation, then depolarising with its click-conditioned
    parameter ``channel.effective_depolarisation`` (a noise-only click is the maximally
    mixed state, which the rotation leaves alone). Reads the Channel's fields only.
    """
    return arrival_bloch_map(channel.given_click())


def arrival_bloch_map(channel) -> np.ndarray:
    """Bloch map of a qubit that arrived through ``channel`` (rotation, then ``qubit_depolarisation``;
    noise clicks excluded)."""
    return bloch_map(channel.qubit_depolarisation, channel.rotation_rad, channel.rotation_axis)


def correlation_fidelity(correlations: np.ndarray) -> float:
    """<Phi+| rho |Phi+> = (1 + <XX> - <YY> + <ZZ>)/4 of a pair with correlation matrix T."""
    t = np.asarray(correlations, dtype=float)
    return float((1.0 + t[0, 0] - t[1, 1] + t[2, 2]) / 4.0)


def correlation_chsh(correlations: np.ndarray) -> float:
    """CHSH S with the A4 settings (Alice Z, X; Bob cos(b) Z + sin(b) X at b = pi/4, 3pi/4) for
    correlation matrix T: ``S = E(0, pi/4) - E(0, 3pi/4) + E(pi/2, pi/4) + E(pi/2, 3pi/4)``."""
    t = np.asarray(correlations, dtype=float)

    def e(alice: float, bob: float) -> float:
        a = np.array([math.sin(alice), 0.0, math.cos(alice)])
        b = np.array([math.sin(bob), 0.0, math.cos(bob)])
        return float(a @ t @ b)

    q, h = math.pi / 4, math.pi / 2
    return e(0.0, q) - e(0.0, 3 * q) + e(h, q) + e(h, 3 * q)


def teleportation_bloch_map(resource_correlations: np.ndarray) -> np.ndarray:
    """Bloch map of standard teleportation (A10) over a resource pair with correlation matrix T.

    Averaged over the four uniformly likely Bell outcomes the teleported qubit suffers the
    Pauli channel whose probabilities are the resource's Bell-state weights; its Bloch map
    is diagonal, ``diag(T0 T)`` with T0 the Phi+ correlations (a Werner resource: V I).
    """
    t = np.asarray(resource_correlations, dtype=float)
    return np.diag(np.diag(PHI_PLUS_CORRELATIONS @ t))


_PAULIS = (np.eye(2, dtype=complex), np.array([[0, 1], [1, 0]], dtype=complex),
           np.array([[0, -1j], [1j, 0]], dtype=complex), np.array([[1, 0], [0, -1]], dtype=complex))


def pair_density_matrix(correlations: np.ndarray) -> np.ndarray:
    """The 4x4 two-qubit state with maximally mixed marginals and correlation matrix T (first
    qubit = first Kronecker factor): ``(I + sum_ij T_ij sigma_i (x) sigma_j)/4``."""
    t = np.asarray(correlations, dtype=float)
    rho = np.eye(4, dtype=complex)
    for i in range(3):
        for j in range(3):
            rho = rho + t[i, j] * np.kron(_PAULIS[i + 1], _PAULIS[j + 1])
    return rho / 4.0


def two_qubit_correlations(rho: np.ndarray) -> np.ndarray:
    """The 3x3 matrix <sigma_i (x) sigma_j> of a two-qubit density matrix."""
    return np.array([[float(np.real(np.trace(rho @ np.kron(_PAULIS[i + 1], _PAULIS[j + 1]))))
                      for j in range(3)] for i in range(3)])


def purify_density_matrix(rho: np.ndarray, method: str) -> tuple[np.ndarray, float]:
    """One purification round on two copies of the pair ``rho`` (4x4; qubit order Alice, Bob).

    ``"dejmps"``: Alice applies Rx(pi/2) and Bob Rx(-pi/2) to both pairs; ``"bbpssw"``: no
    rotations (the bilateral CNOT without re-twirl, as :class:`qproto.protocols.Swapping`
    runs it). Then the bilateral CNOT (copy 1 controls copy 2), copy 2 measured in Z, kept
    when the outcomes agree. A direct density-matrix computation, valid for any input state.

    Returns:
        (the kept pair's 4x4 density matrix, the success probability).

    Raises:
        InvalidParameter: unknown ``method``.
    """
    if method not in ("dejmps", "bbpssw"):
        raise InvalidParameter("method", method, "'dejmps' or 'bbpssw'")
    i2 = _PAULIS[0]
    state = np.kron(rho, rho)  # qubits (a1, b1, a2, b2)
    if method == "dejmps":
        def rx(t: float) -> np.ndarray:
            return math.cos(t / 2) * i2 - 1j * math.sin(t / 2) * _PAULIS[1]
        u = np.kron(np.kron(rx(math.pi / 2), rx(-math.pi / 2)), np.kron(rx(math.pi / 2), rx(-math.pi / 2)))
        state = u @ state @ u.conj().T
    # bilateral CNOT a1 -> a2 and b1 -> b2, as a permutation of the basis |a1 b1 a2 b2>
    perm = np.zeros((16, 16))
    for idx in range(16):
        a1, b1, a2, b2 = (idx >> 3) & 1, (idx >> 2) & 1, (idx >> 1) & 1, idx & 1
        perm[(a1 << 3) | (b1 << 2) | ((a2 ^ a1) << 1) | (b2 ^ b1), idx] = 1.0
    state = perm @ state @ perm.T
    keep = np.diag([1.0 if ((idx >> 1) & 1) == (idx & 1) else 0.0 for idx in range(16)])
    kept = keep @ state @ keep
    p_s = float(np.real(np.trace(kept)))
    out = np.trace(kept.reshape(4, 4, 4, 4), axis1=1, axis2=3)  # trace out (a2, b2)
    return out / p_s, p_s
