"""The batched engine: distribution and shots paths, chunking, seeding."""

import numpy as np
import pytest
from qiskit import QuantumCircuit

from qproto import Channel, Engine, InvalidParameter, InvalidType
from qproto._engine import _terminal_measures
from qproto._seeding import chunk_generator, root_seed
from qproto.protocols import BB84
from qproto.testing import assert_matches_expected, assert_proportion, assert_same_proportion


def test_distribution_and_shots_paths_agree_statistically():
    ch = Channel(transmittance=0.5, depolarisation=0.1, noise_click=0.01)
    bb84 = BB84()
    dist = bb84.run(ch, rounds=30_000, seed=1, engine=Engine(mode="distribution"))
    shots = bb84.run(ch, rounds=30_000, seed=2, engine=Engine(mode="shots"))
    for r in (dist, shots):
        assert_matches_expected(r, bb84.expected(ch))
    assert_same_proportion(dist.counts.errors_z, dist.counts.sifted_z, shots.counts.errors_z,
                           shots.counts.sifted_z, what="QBER Z")


def test_shots_path_is_reproducible():
    run = lambda seed: BB84().run(Channel(depolarisation=0.2), rounds=3000, seed=seed,  # noqa: E731
                                  engine=Engine(mode="shots"), eavesdropper="intercept-resend:0.5")
    assert run(5) == run(5)
    assert run(5) != run(6)


def test_compiled_probabilities_are_exact_and_sampling_follows_them():
    qc = QuantumCircuit(2, 2)
    qc.ry(2 * np.arccos(np.sqrt(0.3)), 0)  # P(q0 = 0) = 0.3
    qc.x(1)
    qc.measure([0, 1], [0, 1])
    compiled = Engine().compile([qc])
    assert compiled.mode == "distribution"
    assert np.allclose(compiled.probabilities[0], [0.0, 0.0, 0.3, 0.7])
    codes = compiled.sample(np.zeros(100_000, dtype=np.uint8), np.random.default_rng(0))
    assert set(np.unique(codes)) <= {2, 3}
    assert_proportion(int(np.count_nonzero(codes == 2)), codes.size, 0.3)


def test_mid_circuit_measurement_falls_back_to_shots():
    qc = QuantumCircuit(1, 1)
    qc.h(0)
    qc.measure(0, 0)
    qc.x(0)  # a gate after the measurement: not terminal
    assert _terminal_measures(qc) is None
    with pytest.raises(InvalidParameter, match="mode"):
        Engine(mode="distribution").compile([qc])
    compiled = Engine().compile([qc])
    assert compiled.mode == "shots"
    codes = compiled.sample(np.zeros(4000, dtype=np.uint8), np.random.default_rng(1), aer_seed=3)
    assert_proportion(int(codes.sum()), codes.size, 0.5)


def test_large_clifford_circuits_run_in_the_shots_path():
    n = 16
    qc = QuantumCircuit(n, n)
    qc.h(0)
    for i in range(1, n):
        qc.cx(0, i)
    qc.measure(range(n), range(n))
    compiled = Engine().compile([qc])
    assert compiled.mode == "shots"
    codes = compiled.sample(np.zeros(2000, dtype=np.uint8), np.random.default_rng(2), aer_seed=1)
    assert set(np.unique(codes)) == {0, 2**n - 1}


def test_chunking_streams_and_reports_progress():
    calls = []
    engine = Engine(chunk_size=1000)
    r = BB84().run(Channel(depolarisation=0.1), rounds=10_500, seed=4, engine=engine,
                   progress=lambda done, total: calls.append((done, total)))
    assert r.counts.rounds == r.rounds == 10_500
    assert [c[0] for c in calls] == [1000 * i for i in range(1, 11)] + [10_500]
    assert all(t == 10_500 for _, t in calls)
    # The result is the sum of its chunks, each drawn from its own child seed.
    assert r == BB84().run(Channel(depolarisation=0.1), rounds=10_500, seed=4, engine=engine)


def test_seed_forms_normalise_and_replay():
    assert root_seed(7) == 7
    assert root_seed(np.random.SeedSequence(7)) == 7
    s = root_seed(np.random.default_rng(3))
    assert s == root_seed(np.random.default_rng(3))
    assert isinstance(root_seed(None), int)
    a = chunk_generator(9, 0).random(3)
    assert np.array_equal(a, chunk_generator(9, 0).random(3))
    assert not np.array_equal(a, chunk_generator(9, 1).random(3))
    spawned = np.random.SeedSequence(1).spawn(2)[1]
    assert root_seed(spawned) == root_seed(spawned)


@pytest.mark.parametrize("kwargs, exc, name", [
    (dict(mode="gpu"), InvalidParameter, "mode"),
    (dict(chunk_size=0), InvalidParameter, "chunk_size"),
    (dict(chunk_size=1.5), InvalidType, "chunk_size"),
    (dict(max_distribution_qubits=40), InvalidParameter, "max_distribution_qubits"),
])
def test_bad_engine_settings(kwargs, exc, name):
    with pytest.raises(exc) as info:
        Engine(**kwargs)
    assert info.value.name == name


def test_bad_compile_and_sample_inputs():
    with pytest.raises(InvalidParameter, match="circuits"):
        Engine().compile([])
    with pytest.raises(InvalidType, match="circuits"):
        Engine().compile(["not a circuit"])
    with pytest.raises(InvalidParameter, match="measures nothing"):
        Engine().compile([QuantumCircuit(1)])
    qc = QuantumCircuit(1, 1)
    qc.measure(0, 0)
    with pytest.raises(InvalidParameter, match="config_ids"):
        Engine().compile([qc]).sample(np.array([0, 1]), np.random.default_rng(0))
