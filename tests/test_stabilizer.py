"""The stabilizer sampler (qproto/_stabilizer.py) on its own: readout errors that flip only one
way, and reproducible support points (mutation survivors of the third run, TESTING.md).

Expected values are written from the circuits: a qubit prepared in |0> (|1>) and read with
P(1|0) = p0 (P(0|1) = p1) reads 1 with probability p0 (1 - p1)."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit

from qproto._stabilizer import stabilizer_samplers
from qproto.testing import assert_proportion


def _zero_and_one() -> QuantumCircuit:
    qc = QuantumCircuit(2, 2)
    qc.x(1)
    qc.measure([0, 1], [0, 1])
    return qc


@pytest.mark.parametrize(("p0", "p1"), [(0.3, 0.0), (0.0, 0.2), (0.1, 0.25)])
def test_one_way_readout_errors_flip_exactly_the_bits_they_should(p0, p1):
    """A readout error that only flips true 0s (or only true 1s) must still be applied.

    Kills ``np.any(flip0) or np.any(flip1) -> and`` and either operand replaced (one-way errors
    were dropped)."""
    (sampler,) = stabilizer_samplers((_zero_and_one(),), [[0, 1]],
                                     [(np.array([p0, p0]), np.array([p1, p1]))])
    n = 200_000
    out = sampler.sample(n, np.random.default_rng(5))
    assert_proportion(int(out[:, 0].sum()), n, p0)        # true 0 read as 1
    assert_proportion(int(out[:, 1].sum()), n, 1.0 - p1)  # true 1 kept as 1


def test_the_support_point_and_so_the_samples_are_reproducible():
    """Twenty qubits in |+>: every outcome is in the support, so the point Aer's one shot returns
    must come from a fixed seed, or the same rng gives different samples in another process.

    Kills ``seed_simulator=0 -> None`` in the one-shot run that gives the support point."""
    qc = QuantumCircuit(20, 20)
    qc.h(range(20))
    qc.measure(range(20), range(20))
    zeros = (np.zeros(20), np.zeros(20))
    a = [stabilizer_samplers((qc,), [list(range(20))], [zeros])[0] for _ in range(3)]
    assert all(np.array_equal(s.x0, a[0].x0) for s in a)
    samples = [s.sample(1000, np.random.default_rng(9)) for s in a]
    assert all(np.array_equal(x, samples[0]) for x in samples)
    # and the samples are uniform over all 2^20 outcomes: each bit a fair coin
    for col in samples[0].T:
        assert_proportion(int(col.sum()), 1000, 0.5)


def test_circuits_with_several_classical_registers_read_their_support_point():
    """Aer writes a multi-register outcome as 'r1 r0' with a space: the support point must be
    read without it (kills the mutants of ``key.replace(" ", "")``, which crash on int(' ') or
    shift every bit). Exact answer: qubit 0 in |1>, qubit 1 in |0>, qubit 2 in |1>, each in its
    own register: every sample reads (1, 0, 1)."""
    from qiskit import ClassicalRegister, QuantumRegister

    q = QuantumRegister(3)
    regs = [ClassicalRegister(1, f"c{i}") for i in range(3)]
    qc = QuantumCircuit(q, *regs)
    qc.x(0)
    qc.x(2)
    for i in range(3):
        qc.measure(q[i], regs[i][0])
    (sampler,) = stabilizer_samplers((qc,), [[0, 1, 2]], [(np.zeros(3), np.zeros(3))])
    out = sampler.sample(50, np.random.default_rng(1))
    assert np.array_equal(sampler.x0, [1, 0, 1])
    assert np.all(out == [1, 0, 1])
