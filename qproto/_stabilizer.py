"""Exact outcome sampling of large Clifford circuits from their stabilizer tableau.

A stabilizer state measured in the computational basis gives outcomes that are
uniformly distributed over an affine subspace ``x0 + V`` of GF(2)^m. Aer computes
the state of each configuration's circuit once (``method="stabilizer"``,
``save_stabilizer``), one noiseless Aer shot gives a point ``x0`` of the support,
and linear algebra over GF(2) on the tableau gives ``V``: its orthogonal
complement is spanned by the Z-type stabilizers supported on the measured
qubits. Rounds are then sampled with numpy: the free coordinates are uniform
bits and the pivot coordinates follow from the parity checks. Classical
single-qubit readout errors of the Aer noise model (``ReadoutError``, local or
all-qubit; :class:`qproto.Engine` reads them and refuses this path for any other
noise) flip each clbit afterwards, a true 0 with probability P(1|0) and a true 1
with probability P(0|1).
The cost per round is independent of the circuit's depth and grows only with the
number of measured qubits, where Aer's stabilizer method with noise re-simulates
every shot.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from qiskit import QuantumCircuit
from qiskit_aer import AerSimulator

from qproto._random import threshold31, uniform31

__all__ = ["StabilizerSampler", "stabilizer_samplers"]


@dataclasses.dataclass(frozen=True, eq=False)
class StabilizerSampler:
    """The outcome distribution of one Clifford circuit: uniform on ``x0 + V``.

    Attributes:
        x0: one outcome with non-zero probability, uint8 of length m (clbit order).
        pivots: clbit indices fixed by the parity checks (length c).
        free: clbit indices drawn uniformly (length k = m - c).
        coupling: uint8 (c, k): x[pivots] = x0[pivots] ^ ((x[free] ^ x0[free]) @ coupling.T mod 2).
        flip0, flip1: per clbit, uint32 thresholds (``threshold31``) of the readout
            error flipping a true 0 (resp. 1).
    """

    x0: np.ndarray
    pivots: np.ndarray
    free: np.ndarray
    coupling: np.ndarray
    flip0: np.ndarray
    flip1: np.ndarray

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` outcomes as a (n, m) uint8 array (column k = clbit k)."""
        m = self.x0.size
        out = np.empty((n, m), dtype=np.uint8)
        k = self.free.size
        if k:
            r = np.frombuffer(rng.bytes(n * k), dtype=np.uint8).reshape(n, k) & np.uint8(1)
            out[:, self.free] = r ^ self.x0[self.free]
            if self.pivots.size:
                # exact in float32: the sums are integers <= k < 2^24
                parity = (r.astype(np.float32) @ self.coupling.T.astype(np.float32)).astype(np.int64) & 1
                out[:, self.pivots] = parity.astype(np.uint8) ^ self.x0[self.pivots]
        else:
            out[:] = self.x0
        if np.any(self.flip0) or np.any(self.flip1):
            u = uniform31(rng, n * m).reshape(n, m)
            if np.array_equal(self.flip0, self.flip1):  # symmetric readout error: one comparison
                flip = u < self.flip0
            else:
                flip = np.where(out == 0, u < self.flip0, u < self.flip1)
            out ^= flip.view(np.uint8)
        return out


def stabilizer_samplers(circuits: tuple[QuantumCircuit, ...], measured: list[list[int]],
                        flips: list[tuple[np.ndarray, np.ndarray]]) -> tuple[StabilizerSampler, ...]:
    """One :class:`StabilizerSampler` per circuit.

    Args:
        circuits: Clifford circuits without resets, with terminal measurements, each
            qubit measured at most once; their noise is readout error only.
        measured: for each circuit, the qubit measured into each clbit.
        flips: for each circuit, per clbit, the probabilities (p0, p1) that its
            single-qubit readout error reads a true 0 as 1 and a true 1 as 0
            (the caller, :class:`qproto.Engine`, reads them from the noise model).
    """
    bodies = []
    for c in circuits:
        body = c.remove_final_measurements(inplace=False)
        body.save_stabilizer()
        bodies.append(body)
    sim = AerSimulator(method="stabilizer")
    states = sim.run(bodies, shots=1, seed_simulator=0).result()
    # One noiseless shot of each circuit: a point of the support.
    shots = sim.run(list(circuits), shots=1, seed_simulator=0).result()
    samplers = []
    for i, (c, qubits) in enumerate(zip(circuits, measured)):
        key = next(iter(shots.get_counts(i))).replace(" ", "")
        x0 = np.array([int(b) for b in reversed(key)], dtype=np.uint8)[: c.num_clbits]
        tableau = states.data(i)["stabilizer"].clifford
        checks = _z_checks(tableau.stab_x, tableau.stab_z, qubits)
        pivots, free, coupling = _solve_form(checks, len(qubits))
        p0, p1 = flips[i]
        samplers.append(StabilizerSampler(x0=x0, pivots=pivots, free=free, coupling=coupling,
                                          flip0=threshold31(p0), flip1=threshold31(p1)))
    return tuple(samplers)


def _z_checks(stab_x: np.ndarray, stab_z: np.ndarray, measured: list[int]) -> np.ndarray:
    """Rows spanning the stabilizer elements that are Z-only and supported on ``measured``
    (as bit vectors over the measured qubits, in clbit order)."""
    n = stab_x.shape[1]
    others = [q for q in range(n) if q not in set(measured)]
    a = np.concatenate([stab_x, stab_z[:, others], stab_z[:, measured]], axis=1).astype(np.uint8)
    lead = n + len(others)
    rows = a.copy()
    r = 0
    for col in range(lead):  # eliminate every X column and every Z column of unmeasured qubits
        hits = np.flatnonzero(rows[r:, col]) + r
        if hits.size == 0:
            continue
        p = hits[0]
        rows[[r, p]] = rows[[p, r]]
        below = np.flatnonzero(rows[:, col])
        below = below[below != r]
        rows[below] ^= rows[r]
        r += 1
        if r == rows.shape[0]:
            break
    rest = rows[r:, lead:]
    return rest[np.any(rest, axis=1)]


def _solve_form(checks: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reduced row-echelon form of the parity checks: pivot and free coordinates and the coupling."""
    rows = checks.copy()
    pivots = []
    r = 0
    for col in range(m):
        if r == rows.shape[0]:
            break
        hits = np.flatnonzero(rows[r:, col]) + r
        if hits.size == 0:
            continue
        p = hits[0]
        rows[[r, p]] = rows[[p, r]]
        others = np.flatnonzero(rows[:, col])
        others = others[others != r]
        rows[others] ^= rows[r]
        pivots.append(col)
        r += 1
    rows = rows[:r]
    pivots_arr = np.array(pivots, dtype=np.intp)
    free = np.array([c for c in range(m) if c not in set(pivots)], dtype=np.intp)
    coupling = rows[:, free].astype(np.uint8) if r else np.zeros((0, free.size), dtype=np.uint8)
    return pivots_arr, free, coupling
