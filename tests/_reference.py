"""An independent density-matrix reference for the tests: numpy only, written from docs/conventions.md.

Nothing here imports qproto or qiskit, so an expected value computed with it cannot
share a bug with the code under test (the engine, the Aer noise model, a protocol's
circuits or its ``expected()``). Conventions:

* qubit 0 is the LEFTMOST Kronecker factor (big-endian, unlike Qiskit's count strings);
* Bloch convention of docs/conventions.md section 0: |0> = H = Z-bit 0, |+> = D = X-bit 0,
  Y eigenstates |+i>, |-i>; bit b <-> eigenvalue (-1)^b;
* ``depolarise(p)`` is Aer's ``depolarizing_error(p, 1)``: (1 - p) rho + p I/2;
* ``rotation(theta, axis)`` is exp(-i theta/2 n.sigma) (a Bloch rotation by theta about n).

Channel fields are read off a ``Channel`` by attribute name only (plain numbers), and the
click-conditioned map is rebuilt here from the formulas of docs/conventions.md C.8:
eta = transmittance x detector_efficiency, click = eta + (1 - eta) Y0, signal fraction
s = eta / click, p_q = 1 - (1 - p)(1 - 2 e_d), and given a click the qubit suffers the
rotation, then depolarising with p_eff = 1 - s (1 - p_q).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

I2 = np.eye(2, dtype=complex)
X = np.array([[0, 1], [1, 0]], dtype=complex)
Y = np.array([[0, -1j], [1j, 0]], dtype=complex)
Z = np.array([[1, 0], [0, -1]], dtype=complex)
PAULI = {"I": I2, "X": X, "Y": Y, "Z": Z}

KETS = {
    "0": np.array([1, 0], dtype=complex),
    "1": np.array([0, 1], dtype=complex),
    "+": np.array([1, 1], dtype=complex) / math.sqrt(2),
    "-": np.array([1, -1], dtype=complex) / math.sqrt(2),
    "+i": np.array([1, 1j], dtype=complex) / math.sqrt(2),
    "-i": np.array([1, -1j], dtype=complex) / math.sqrt(2),
}


def basis_kets(basis: str) -> tuple[np.ndarray, np.ndarray]:
    """The kets of bit 0 and bit 1 in basis "Z", "X" or "Y"."""
    return {"Z": (KETS["0"], KETS["1"]), "X": (KETS["+"], KETS["-"]), "Y": (KETS["+i"], KETS["-i"])}[basis]


def dm(psi: np.ndarray) -> np.ndarray:
    """|psi><psi|."""
    psi = np.asarray(psi, dtype=complex).reshape(-1)
    return np.outer(psi, psi.conj())


def kron(*ops: np.ndarray) -> np.ndarray:
    """Kronecker product, first argument = qubit 0 (leftmost)."""
    out = np.array([[1.0 + 0j]])
    for op in ops:
        out = np.kron(out, op)
    return out


def bell(name: str = "phi+") -> np.ndarray:
    """A Bell-state density matrix: "phi+", "phi-", "psi+", "psi-"."""
    s = 1 / math.sqrt(2)
    v = {"phi+": [s, 0, 0, s], "phi-": [s, 0, 0, -s], "psi+": [0, s, s, 0], "psi-": [0, s, -s, 0]}[name]
    return dm(np.array(v, dtype=complex))


def ghz(n: int) -> np.ndarray:
    """GHZ_n = (|0...0> + |1...1>)/sqrt 2."""
    v = np.zeros(2**n, dtype=complex)
    v[0] = v[-1] = 1 / math.sqrt(2)
    return dm(v)


# ---- channels ---------------------------------------------------------------------------
def depolarise(p: float) -> list[np.ndarray]:
    """Kraus operators of (1 - p) rho + p I/2: I w.p. 1 - 3p/4, X, Y, Z w.p. p/4 each."""
    return [math.sqrt(max(1 - 3 * p / 4, 0.0)) * I2] + [math.sqrt(p / 4) * P for P in (X, Y, Z)]


def rotation(theta: float, axis: Sequence[float] = (0.0, 0.0, 1.0)) -> np.ndarray:
    """exp(-i theta/2 n.sigma) with n the normalised ``axis``."""
    n = np.asarray(axis, dtype=float)
    n = n / np.linalg.norm(n)
    return math.cos(theta / 2) * I2 - 1j * math.sin(theta / 2) * (n[0] * X + n[1] * Y + n[2] * Z)


def compose(*kraus_lists: list[np.ndarray]) -> list[np.ndarray]:
    """Kraus operators of applying the first list, then the second, ..."""
    out = [I2]
    for ks in kraus_lists:
        out = [k @ o for o in out for k in ks]
    return out


def click_kraus(channel) -> list[np.ndarray]:
    """The map a qubit suffers given that its receiver clicked, from the Channel's fields
    (docs/conventions.md C.8; rotation fields optional, 0 when absent)."""
    eta = channel.transmittance * channel.detector_efficiency
    click = eta + (1 - eta) * channel.noise_click
    s = eta / click if click > 0 else 0.0
    p_q = 1 - (1 - channel.depolarisation) * (1 - 2 * channel.misalignment)
    p_eff = 1 - s * (1 - p_q)
    theta = getattr(channel, "rotation_rad", 0.0)
    axis = getattr(channel, "rotation_axis", (0.0, 0.0, 1.0))
    return compose([rotation(theta, axis)], depolarise(p_eff))


def click_probability(channel) -> float:
    """eta + (1 - eta) Y0 from the Channel's fields."""
    eta = channel.transmittance * channel.detector_efficiency
    return eta + (1 - eta) * channel.noise_click


def apply(rho: np.ndarray, kraus: list[np.ndarray], qubit: int) -> np.ndarray:
    """Apply a one-qubit map (Kraus list) to ``qubit`` of an n-qubit density matrix."""
    n = int(round(math.log2(rho.shape[0])))
    out = np.zeros_like(rho)
    for k in kraus:
        full = kron(*[k if q == qubit else I2 for q in range(n)])
        out += full @ rho @ full.conj().T
    return out


def intercept_resend_map(rho: np.ndarray, qubit: int, eve) -> np.ndarray:
    """Intercept-resend on ``qubit`` with Eve's record traced out: on a fraction ``eve.fraction``
    of rounds she measures in Z (probability ``eve.p_z``) or X and resends (dephasing in that
    basis). ``eve`` is read by attribute only; ``None`` leaves ``rho`` alone."""
    if eve is None:
        return rho
    out = (1 - eve.fraction) * rho
    for basis, w in (("Z", eve.p_z), ("X", 1 - eve.p_z)):
        out = out + eve.fraction * w * apply(rho, [dm(k) for k in basis_kets(basis)], qubit)
    return out


def apply_unitary(rho: np.ndarray, u: np.ndarray) -> np.ndarray:
    """U rho U^dagger for a full-size unitary."""
    return u @ rho @ u.conj().T


# ---- measurement ------------------------------------------------------------------------
def outcome_probabilities(rho: np.ndarray, bases: Sequence[str]) -> dict[tuple[int, ...], float]:
    """P(bits) when qubit j is measured in ``bases[j]`` ("Z", "X", "Y"); keys are bit tuples
    (qubit 0 first)."""
    n = len(bases)
    out = {}
    for bits in itertools.product((0, 1), repeat=n):
        proj = kron(*[dm(basis_kets(b)[bit]) for b, bit in zip(bases, bits)])
        out[bits] = float(np.real(np.trace(proj @ rho)))
    return out


def probability(rho: np.ndarray, bases: Sequence[str], event) -> float:
    """P(event(bits)) for a predicate on the outcome tuple."""
    return sum(p for bits, p in outcome_probabilities(rho, bases).items() if event(bits))


def flip_probability(channel_kraus: list[np.ndarray], basis: str) -> float:
    """Prepare each state of ``basis`` (equally likely), apply the map, measure in ``basis``:
    the probability that the bit flips."""
    total = 0.0
    for bit, ket in enumerate(basis_kets(basis)):
        rho = sum(k @ dm(ket) @ k.conj().T for k in channel_kraus)
        other = basis_kets(basis)[1 - bit]
        total += float(np.real(other.conj() @ rho @ other)) / 2
    return total


def h2(p: float) -> float:
    """Binary entropy in bits (0 at 0 and 1)."""
    if p <= 0.0 or p >= 1.0:
        return 0.0
    return -p * math.log2(p) - (1 - p) * math.log2(1 - p)


def fidelity_phi_plus(rho: np.ndarray) -> float:
    """<Phi+| rho |Phi+> of a two-qubit state."""
    return float(np.real(np.trace(bell("phi+") @ rho)))
