"""The batched engine: distribution and shots paths, chunking, seeding."""

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit_aer.noise import NoiseModel, ReadoutError, depolarizing_error

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


def test_probabilities_of_a_shots_compilation_are_refused_naming_the_mode():
    """A shots-path compilation has no exact distribution: asking for it names the mode, its value
    and the path that has one.  catches: the refusal's name, value or allowed text dropped (mutants
    of the ``probabilities`` property, mutated since the staging tree takes decorators off)."""
    qc = QuantumCircuit(1, 1)
    qc.h(0)
    qc.measure(0, 0)
    compiled = Engine(mode="shots").compile([qc])
    assert compiled.mode == "shots"
    with pytest.raises(InvalidParameter) as err:
        compiled.probabilities
    assert (err.value.name, err.value.value, err.value.allowed) == ("mode", "shots", "'distribution'")


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


def _ghz(n, x_basis=False):
    qc = QuantumCircuit(n, n)
    qc.h(0)
    for i in range(1, n):
        qc.cx(0, i)
    if x_basis:
        qc.h(range(n))
    qc.measure(range(n), range(n))
    return qc


def test_large_clifford_circuits_with_readout_noise_use_the_stabilizer_path():
    n = 40
    flip = 0.03
    nm = NoiseModel()
    nm.add_all_qubit_readout_error(ReadoutError([[1 - flip, flip], [flip, 1 - flip]]))
    compiled = Engine().compile([_ghz(n), _ghz(n, x_basis=True)], nm)
    assert compiled.mode == "stabilizer"
    cfg = np.repeat(np.array([0, 1], dtype=np.uint8), 20_000)
    bits = compiled.sample_bits(cfg, np.random.default_rng(2))
    assert bits.shape == (40_000, n)
    z, x = bits[:20_000], bits[20_000:]
    assert_proportion(int(np.count_nonzero(z[:, 0] != z[:, 7])), 20_000, 2 * flip * (1 - flip))
    assert_proportion(int(np.count_nonzero(z[:, 0])), 20_000, 0.5)
    assert_proportion(int(np.count_nonzero(x.sum(axis=1) % 2)), 20_000, (1 - (1 - 2 * flip) ** n) / 2)
    noiseless = Engine().compile([_ghz(n), _ghz(n, x_basis=True)]).sample_bits(cfg, np.random.default_rng(3))
    assert np.all(noiseless[:20_000].min(axis=1) == noiseless[:20_000].max(axis=1))
    assert not np.any(noiseless[20_000:].sum(axis=1) % 2)


@pytest.mark.parametrize("seed", range(12))
def test_stabilizer_sampler_support_is_exactly_the_clifford_circuits_distribution(seed):
    """Exact: the affine subspace the sampler draws from is the support of the circuit's
    distribution, and that distribution is uniform on it (random Clifford circuits)."""
    from qiskit.quantum_info import Statevector, random_clifford

    n = 2 + seed % 4
    body = random_clifford(n, seed=seed).to_circuit()
    qc = QuantumCircuit(n, n)
    qc.compose(body, inplace=True)
    qc.measure(range(n), range(n))
    sampler = Engine(mode="stabilizer").compile([qc]).stabilizer[0]
    probs = Statevector(body).probabilities()  # index bit k = qubit k = clbit k
    support = set()
    for r in range(2 ** sampler.free.size):
        x = sampler.x0.copy()
        bits = np.array([(r >> j) & 1 for j in range(sampler.free.size)], dtype=np.uint8)
        x[sampler.free] ^= bits
        if sampler.pivots.size:
            x[sampler.pivots] ^= ((sampler.coupling.astype(int) @ bits.astype(int)) % 2).astype(np.uint8)
        support.add(int(sum(int(b) << k for k, b in enumerate(x))))
    assert support == set(np.flatnonzero(probs > 1e-12).tolist())
    assert np.allclose(probs[sorted(support)], 1 / len(support))


def test_large_clifford_circuits_with_quantum_noise_fall_back_to_shots():
    nm = NoiseModel()
    nm.add_all_qubit_quantum_error(depolarizing_error(0.1, 1), ["h"])
    compiled = Engine().compile([_ghz(16)], nm)
    assert compiled.mode == "shots"
    bits = compiled.sample_bits(np.zeros(500, dtype=np.uint8), np.random.default_rng(4), aer_seed=1)
    assert bits.shape == (500, 16)
    with pytest.raises(InvalidParameter, match="stabilizer"):
        Engine(mode="stabilizer").compile([_ghz(16)], nm)


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


def test_many_outcome_distributions_are_sampled_by_binary_search_with_the_same_law():
    """Circuits with > 16 outcomes take the binary-search sampler; frequencies match the exact law."""
    from qiskit.quantum_info import Statevector

    qc = QuantumCircuit(5, 5)
    for q, theta in enumerate([0.3, 1.1, 1.9, 0.7, 2.5]):
        qc.ry(theta, q)
    qc.cx(0, 3)
    body = qc.copy()
    qc.measure(range(5), range(5))
    compiled = Engine().compile([qc])
    assert compiled.mode == "distribution"
    codes = compiled.sample(np.zeros(200_000, dtype=np.uint8), np.random.default_rng(7))
    probs = Statevector(body).probabilities()
    counts = np.bincount(codes, minlength=32)
    for code in range(32):
        assert_proportion(int(counts[code]), codes.size, float(probs[code]), what=f"P(code={code})")


@pytest.mark.parametrize("name, params, channel", [
    ("bb84", {}, Channel(transmittance=0.3, depolarisation=0.05, noise_click=0.01)),
    ("bbm92", {}, Channel(depolarisation=0.1)),
    ("ghz-cka", {"parties": 16}, Channel(depolarisation=0.05)),
])
def test_same_seed_same_result_in_any_executor(name, params, channel):
    """ARCHITECTURE principle 4: serial, thread pool and process pool give the same result."""
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

    from qproto import get_protocol

    protocol = get_protocol(name, **params)
    engine = Engine(chunk_size=4000)
    serial = protocol.run(channel, rounds=20_000, seed=11, engine=engine, eavesdropper=None)
    with ThreadPoolExecutor(2) as pool:
        assert protocol.run(channel, rounds=20_000, seed=11, engine=engine, executor=pool) == serial
    with ProcessPoolExecutor(2) as pool:
        assert protocol.run(channel, rounds=20_000, seed=11, engine=engine, executor=pool) == serial
    with pytest.raises(InvalidType, match="executor"):
        protocol.run(channel, rounds=100, seed=1, executor="processes")


def test_stabilizer_path_applies_asymmetric_local_and_all_qubit_readout_errors():
    """Large Clifford circuit: a qubit's own ReadoutError overrides the all-qubit one, and a true 0 flips
    with P(1|0), a true 1 with P(0|1); any quantum error (here on "measure") leaves the stabilizer path."""
    from qiskit_aer.noise import pauli_error

    n = 12
    default, local = (0.04, 0.2), {3: (0.3, 0.0), 7: (0.0, 0.25)}  # (P(1|0), P(0|1))

    def matrix(p10, p01):
        return [[1 - p10, p10], [p01, 1 - p01]]

    nm = NoiseModel()
    nm.add_all_qubit_readout_error(ReadoutError(matrix(*default)))
    for q, flips in local.items():
        nm.add_readout_error(ReadoutError(matrix(*flips)), [q], warnings=False)
    compiled = Engine().compile([_ghz(n)], nm)
    assert compiled.mode == "stabilizer"
    rounds = 40_000
    bits = compiled.sample_bits(np.zeros(rounds, dtype=np.uint8), np.random.default_rng(5))
    for q in range(n):
        p10, p01 = local.get(q, default)
        # GHZ in Z: the true bit is 0 or 1 with probability 1/2 each.
        assert_proportion(int(np.count_nonzero(bits[:, q])), rounds, 0.5 * p10 + 0.5 * (1 - p01),
                          what=f"P(read 1) of qubit {q}")
    p10_3, p01_3 = local[3]
    p10_7, p01_7 = local[7]
    both_ones = 0.5 * (p10_3 * p10_7) + 0.5 * (1 - p01_3) * (1 - p01_7)
    assert_proportion(int(np.count_nonzero(bits[:, 3] & bits[:, 7])), rounds, both_ones, what="P(q3 = q7 = 1)")

    nm.add_quantum_error(pauli_error([("X", 0.1), ("I", 0.9)]), "measure", [5])
    assert Engine().compile([_ghz(n)], nm).mode == "shots"
    with pytest.raises(InvalidParameter, match="measure"):
        Engine(mode="stabilizer").compile([_ghz(n)], nm)


def test_large_clifford_circuits_with_a_rotated_channel_leave_the_stabilizer_method():
    """A coherent rotation is a unitary (non-Clifford) error: Aer's stabilizer method refuses it,
    so the shots path must not pick that method for a large Clifford circuit. 13 qubits, exact
    answer: the rotation about z by pi/2 on qubit 0 of a 13-qubit GHZ state turns X...X into
    +-Y X...X, whose expectation is 0, so the X parity is uniform; Z parities stay perfect."""
    from qproto import Channel
    from qproto.noise_models import channel_marker, channel_noise_model

    n = 13
    qc = QuantumCircuit(n, n)
    qc.h(0)
    for i in range(1, n):
        qc.cx(0, i)
    qc.append(channel_marker(), [0])
    qc.h(range(n))
    qc.measure(range(n), range(n))
    nm = channel_noise_model({0: Channel(rotation_rad=np.pi / 2)})
    compiled = Engine(mode="shots").compile([qc], nm)
    # statevector trajectories cost ~5 ms per shot at 13 qubits: a few hundred shots suffice here
    bits = compiled.sample_bits(np.zeros(300, dtype=np.int64), np.random.default_rng(1), aer_seed=3)
    parity = bits.sum(axis=1) % 2
    from qproto.testing import assert_proportion
    assert_proportion(int(parity.sum()), parity.size, 0.5, what="X parity after a pi/2 phase")


def _marked_ghz_pair(n):
    """An n-qubit GHZ state and its complement on qubits 1..n-1 (configurations 0 and 1), a
    channel marker on qubit 0, every qubit measured into its own clbit."""
    from qproto.noise_models import channel_marker

    circuits = []
    for flip in (0, 1):
        qc = QuantumCircuit(n, n)
        qc.h(0)
        for i in range(1, n):
            qc.cx(0, i)
        if flip:
            qc.x(range(1, n))
        qc.append(channel_marker(), [0])
        qc.measure(range(n), range(n))
        circuits.append(qc)
    return circuits


def test_more_than_64_clbits_in_the_shots_path_give_rows_of_bits():
    """The shots path for circuits too wide for integer outcome codes (> 64 clbits, quantum noise,
    so no exact stabilizer sampler): 70-qubit GHZ in Z with depolarising p on qubit 0's marker.
    Exact answers: bits 1..69 always equal (noise only on qubit 0), P(bit0 != bit1) = p/2, each
    row uniform otherwise. catches: clbit order reversed in the rows (the noisy column moves),
    rows not repeated by their counts (wrong length), rounds of one configuration written into
    another's positions."""
    from qproto import Channel
    from qproto.noise_models import channel_noise_model
    from qproto.testing import assert_proportion

    n, p = 70, 0.4
    circuits = _marked_ghz_pair(n)  # configuration 1 prepares the complement, so positions matter
    nm = channel_noise_model({0: Channel(depolarisation=p)})
    compiled = Engine().compile(circuits, nm)
    assert compiled.mode == "shots"
    config = np.repeat([0, 1], [1500, 1500])
    rng = np.random.default_rng(7)
    config = config[rng.permutation(config.size)]
    bits = compiled.sample_bits(config, rng, aer_seed=11)
    assert bits.shape == (3000, n) and bits.dtype == np.uint8
    rest = bits[:, 1:]
    assert np.all(rest == rest[:, :1])  # qubits 1..69 agree in every round
    differ = bits[:, 0] != bits[:, 1]
    plain, complement = differ[config == 0], differ[config == 1]
    assert_proportion(int(plain.sum()), plain.size, p / 2, what="P(bit0 != bit1), configuration 0")
    assert_proportion(int(complement.sum()), complement.size, 1 - p / 2, what="configuration 1 (complemented)")
    assert_proportion(int(bits[:, 1].sum()), 3000, 0.5, what="P(bit1 = 1)")


def test_out_of_range_configuration_ids_are_refused_with_the_range():
    qc = QuantumCircuit(1, 1)
    qc.measure(0, 0)
    compiled = Engine().compile([qc, qc])
    with pytest.raises(InvalidParameter) as info:
        compiled.sample(np.array([0, 2, 1]), np.random.default_rng(0))
    assert info.value.name == "config_ids" and info.value.value == (0, 2) and "[0, 1]" in info.value.allowed


def test_the_shots_path_uses_the_aer_seed_it_is_given():
    """catches: sample()/sample_bits() dropping aer_seed (every chunk of a run would reuse Aer
    seed 0, so chunks with the same configuration counts would repeat each other's outcomes)."""
    qc = QuantumCircuit(1, 1)
    qc.h(0)
    qc.measure(0, 0)
    compiled = Engine(mode="shots").compile([qc])
    ids = np.zeros(2000, dtype=np.int64)

    def draw(method, aer_seed):
        return getattr(compiled, method)(ids, np.random.default_rng(5), aer_seed=aer_seed)

    for method in ("sample", "sample_bits"):
        assert np.array_equal(draw(method, 17), draw(method, 17))
        assert not np.array_equal(draw(method, 17), draw(method, 18))


def test_exactly_64_clbits_still_give_outcome_codes_and_their_bits_agree():
    """64 clbits is the widest integer outcome code: ``sample`` must still work there (kills
    ``num_clbits > 64 -> >= 64``), and ``sample_bits`` is exactly the bit expansion of ``sample``
    for the same generator state (``n_cl <= 64 -> < 64`` sends 64 clbits down the row path, which
    draws the same outcomes: equivalent, TESTING.md). Exact answer: a noisy 64-qubit GHZ reads bits 1..63 equal, and
    configuration 1 (its complement on 1..63) the opposite."""
    from qproto import Channel
    from qproto.noise_models import channel_noise_model

    n = 64
    circuits = _marked_ghz_pair(n)
    compiled = Engine().compile(circuits, channel_noise_model({0: Channel(depolarisation=0.3)}))
    assert compiled.mode == "shots"
    config = np.repeat([0, 1], [400, 400])
    codes = compiled.sample(config, np.random.default_rng(3), aer_seed=5)
    bits = compiled.sample_bits(config, np.random.default_rng(3), aer_seed=5)
    assert codes.dtype == np.uint64 and bits.shape == (800, n)
    expanded = ((codes[:, None] >> np.arange(n, dtype=np.uint64)) & np.uint64(1)).astype(np.uint8)
    np.testing.assert_array_equal(bits, expanded)
    top = (codes >> np.uint64(63)) & np.uint64(1)  # bit 63 equals bit 1 (and is flipped in config 1)
    np.testing.assert_array_equal(top, (codes >> np.uint64(1)) & np.uint64(1))
    assert np.all(bits[:400, 1:].min(axis=1) == bits[:400, 1:].max(axis=1))


@pytest.mark.parametrize("where", ["local", "all-qubit"])
def test_stabilizer_refusal_names_an_error_on_measure(where):
    """An error attached to ``measure`` (one qubit's or every qubit's) is named in the refusal: the
    user learns which instruction to move it from (kills the ``on_measure`` mutants, which dropped
    'measure' from the list and left 'on )')."""
    from qiskit_aer.noise import NoiseModel, depolarizing_error

    qc = QuantumCircuit(1, 1)
    qc.h(0)
    qc.measure(0, 0)
    nm = NoiseModel()
    if where == "local":
        nm.add_quantum_error(depolarizing_error(0.1, 1), "measure", [0])
    else:
        nm.add_all_qubit_quantum_error(depolarizing_error(0.1, 1), "measure")
    with pytest.raises(InvalidParameter, match=r"quantum errors \(on measure\)"):
        Engine(mode="stabilizer").compile([qc], nm)


def _wide_ghz(n, *, x_first=False, registers=None):
    """An n-qubit GHZ state (qubit 0 flipped by an ``x`` first if asked), every qubit measured
    into its own clbit; ``registers`` splits the clbits into classical registers of those sizes."""
    from qiskit import ClassicalRegister, QuantumRegister

    cregs = [ClassicalRegister(k) for k in (registers or [n])]
    qc = QuantumCircuit(QuantumRegister(n), *cregs)
    if x_first:
        qc.x(0)
    else:
        qc.h(0)
    for i in range(1, n):
        qc.cx(0, i)
    qc.measure(range(n), range(n))
    return qc


def test_a_wide_clifford_circuit_without_noise_runs_in_the_shots_path():
    """Above 12 qubits the shots path chooses Aer's method itself; without a noise model at all
    (kills ``noise_model is None or ... -> and``, which then reads the noise of None). Exact answer:
    a 13-qubit GHZ gives all zeros or all ones, each with probability 1/2."""
    compiled = Engine(mode="shots").compile([_wide_ghz(13)])
    bits = compiled.sample_bits(np.zeros(1000, dtype=np.int64), np.random.default_rng(2), aer_seed=4)
    assert np.all(bits.min(axis=1) == bits.max(axis=1))
    assert_proportion(int(bits[:, 0].sum()), 1000, 0.5, what="P(all ones)")


def test_a_wide_clifford_circuit_with_kraus_noise_is_not_sent_to_the_stabilizer_method():
    """Amplitude damping is a Kraus error, which Aer's stabilizer method cannot simulate: a wide
    Clifford circuit with it must get another method (kills the ``"kraus"`` name mutants of the
    noise check). Exact answer: X, then damping gamma on qubit 0, then the CNOT fan-out: all ones
    with probability 1 - gamma, all zeros with gamma."""
    from qiskit_aer.noise import amplitude_damping_error

    gamma = 0.3
    nm = NoiseModel()
    nm.add_quantum_error(amplitude_damping_error(gamma), ["x"], [0])
    compiled = Engine(mode="shots").compile([_wide_ghz(13, x_first=True)], nm)
    bits = compiled.sample_bits(np.zeros(400, dtype=np.int64), np.random.default_rng(2), aer_seed=4)
    assert np.all(bits.min(axis=1) == bits.max(axis=1))
    assert_proportion(int((bits[:, 0] == 0).sum()), 400, gamma, what="P(all zeros) = gamma")


def test_rows_beyond_64_clbits_are_reproducible_and_read_several_registers():
    """The row path (> 64 clbits, quantum noise) with the clbits in two classical registers (Aer
    then writes outcome keys with a space between the registers) and a fixed Aer seed: the same
    seed gives the same rows, another seed (also one 62 apart) other rows, and 65 clbits, the
    narrowest that needs rows, do not reach the outcome codes (kills the seed of the Aer run
    dropped or reduced modulo 2 * 31, the register separator not removed, ``n_cl <= 65``). Exact
    answer as in the 70-qubit test above: bits 1..64 equal in every round, P(bit0 != bit1) = p/2."""
    from qproto.noise_models import channel_marker, channel_noise_model

    n, p = 65, 0.4  # the narrowest width that needs rows
    qc = _wide_ghz(n, registers=[30, 35])
    marked = QuantumCircuit(*qc.qregs, *qc.cregs)
    for inst in qc.data[:-n]:  # the gates, then a channel marker on qubit 0, then the measurements
        marked.append(inst)
    marked.append(channel_marker(), [0])
    marked.measure(range(n), range(n))
    compiled = Engine().compile([marked], channel_noise_model({0: Channel(depolarisation=p)}))
    assert compiled.mode == "shots"
    ids = np.zeros(1000, dtype=np.int64)
    first = compiled.sample_bits(ids, np.random.default_rng(8), aer_seed=21)
    again = compiled.sample_bits(ids, np.random.default_rng(8), aer_seed=21)
    other = compiled.sample_bits(ids, np.random.default_rng(8), aer_seed=22)
    far = compiled.sample_bits(ids, np.random.default_rng(8), aer_seed=21 + 62)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert not np.array_equal(first, far)
    assert first.shape == (1000, n)
    assert np.all(first[:, 1:] == first[:, 1:2])
    assert_proportion(int((first[:, 0] != first[:, 1]).sum()), 1000, p / 2, what="P(bit0 != bit1)")


def test_outcome_codes_from_several_registers_and_aer_seeds_far_apart():
    """The shots path's outcome codes (<= 64 clbits): clbits in two classical registers (Aer's keys
    then have a space) still give the code with bit i = clbit i (X on qubits 0 and 2: code 5),
    and Aer seeds 62 apart give different outcomes (kills the separator not removed, and the
    seed reduced modulo 2 * 31 instead of 2**31, which would repeat every 62nd chunk's seed)."""
    from qiskit import ClassicalRegister, QuantumRegister

    qc = QuantumCircuit(QuantumRegister(3), ClassicalRegister(1), ClassicalRegister(2))
    qc.x([0, 2])
    qc.measure(range(3), range(3))
    codes = Engine(mode="shots").compile([qc]).sample(np.zeros(50, dtype=np.int64), np.random.default_rng(0))
    assert np.all(codes == 5)

    coin = QuantumCircuit(1, 1)
    coin.h(0)
    coin.measure(0, 0)
    compiled = Engine(mode="shots").compile([coin])
    ids = np.zeros(2000, dtype=np.int64)
    a = compiled.sample(ids, np.random.default_rng(5), aer_seed=5)
    b = compiled.sample(ids, np.random.default_rng(5), aer_seed=5 + 62)
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("mode", ["shots", "stabilizer"])
def test_64_clbit_codes_above_two_to_the_63_keep_their_low_bits(mode):
    """Outcome codes of 64 clbits mix values below and above 2**63; built without the code dtype,
    numpy would hold [1, 2**63 + 1] as float64 and lose the low bit (kills the dtype dropped
    when Aer's keys become codes, and the stabilizer path's codes left as float64). Exact answer: X on qubit 0, H on qubit 63: codes 1 and
    2**63 + 1, each with probability 1/2."""
    qc = QuantumCircuit(64, 64)
    qc.x(0)
    qc.h(63)
    qc.measure(range(64), range(64))
    codes = Engine(mode=mode).compile([qc]).sample(np.zeros(400, dtype=np.int64), np.random.default_rng(1))
    assert codes.dtype == np.uint64
    assert set(np.unique(codes).tolist()) == {1, 2**63 + 1}
    assert_proportion(int((codes >> np.uint64(63)).sum()), 400, 0.5, what="P(bit 63 = 1)")


def test_stabilizer_refusal_names_only_the_instructions_that_carry_errors():
    """An error on ``h`` only: the refusal names h and not measure (kills the measure name added
    whatever the model)."""
    qc = QuantumCircuit(1, 1)
    qc.h(0)
    qc.measure(0, 0)
    nm = NoiseModel()
    nm.add_quantum_error(depolarizing_error(0.1, 1), "h", [0])
    with pytest.raises(InvalidParameter, match=r"quantum errors \(on h\)"):
        Engine(mode="stabilizer").compile([qc], nm)


@pytest.mark.parametrize("mode", ["distribution", "shots"])
def test_sample_bits_takes_configuration_ids_of_any_shape_as_rounds_in_c_order(mode):
    """``sample_bits`` returns one row per round, ``(rounds, n_clbits)``, whatever the shape of
    the configuration ids: a (2, 3) array is six rounds in C order (kills the ids not flattened).
    Exact answer: configuration c prepares |c> on two qubits, so row k reads the bits of id k."""
    circuits = []
    for c in range(4):
        qc = QuantumCircuit(2, 2)
        for q in range(2):
            if (c >> q) & 1:
                qc.x(q)
        qc.measure([0, 1], [0, 1])
        circuits.append(qc)
    compiled = Engine(mode=mode).compile(circuits)
    ids = np.array([[0, 3, 1], [2, 2, 3]])
    bits = compiled.sample_bits(ids, np.random.default_rng(0))
    assert bits.shape == (6, 2)
    np.testing.assert_array_equal(bits, [[(c >> q) & 1 for q in range(2)] for c in ids.ravel()])


def test_distribution_codes_at_the_integer_width_boundary_and_single_rounds():
    """The distribution path's codes: H on qubit 8 of nine gives outcomes 0 and 256, the first
    code that needs 16 bits (kills a uint8 container sized for one outcome fewer, where 256
    wraps to 0), and a single round of a certain |1> is sampled, not returned as 0 (kills the
    one-round early return). Exact answers: P(256) = 1/2; code 1 every time."""
    wide = QuantumCircuit(9, 9)
    wide.h(8)
    wide.measure(range(9), range(9))
    compiled = Engine(mode="distribution").compile([wide])
    codes = compiled.sample(np.zeros(2000, dtype=np.int64), np.random.default_rng(4))
    assert set(np.unique(codes).tolist()) == {0, 256}
    assert_proportion(int((codes == 256).sum()), 2000, 0.5, what="P(code 256)")

    one = QuantumCircuit(1, 1)
    one.x(0)
    one.measure(0, 0)
    single = Engine(mode="distribution").compile([one])
    assert single.sample(np.array([0]), np.random.default_rng(0)).tolist() == [1]


def test_many_outcome_codes_keep_the_shape_of_the_configuration_ids():
    """``sample`` returns codes shaped like the configuration ids, on the binary-search path
    (more than 15 thresholds: 32 outcomes) and on the linear path (three thresholds: four
    outcomes): kills the ids or the output not flattened on either path. Exact answer:
    configuration c prepares |c>, so code = id."""
    for n_qubits, ids in ((5, np.array([[0, 31, 17], [5, 5, 30]])), (2, np.array([[0, 3, 1], [2, 2, 3]]))):
        circuits = []
        for c in range(2**n_qubits):
            qc = QuantumCircuit(n_qubits, n_qubits)
            for q in range(n_qubits):
                if (c >> q) & 1:
                    qc.x(q)
            qc.measure(range(n_qubits), range(n_qubits))
            circuits.append(qc)
        compiled = Engine(mode="distribution").compile(circuits)
        codes = compiled.sample(ids, np.random.default_rng(0))
        assert codes.shape == (2, 3)
        np.testing.assert_array_equal(codes, ids)


@pytest.mark.parametrize("mode", ["stabilizer", "shots"])
def test_outcome_codes_are_refused_for_65_clbits_and_rows_given(mode):
    """65 clbits do not fit an integer outcome code: ``sample`` refuses by name and points to
    ``sample_bits`` (kills the limit moved to 65, where the stabilizer path's weights overflow
    and the shots path's keys do not fit), and ``sample_bits`` gives the 65 columns. Exact
    answer: X on every qubit, all ones."""
    qc = QuantumCircuit(65, 65)
    qc.x(range(65))
    qc.measure(range(65), range(65))
    compiled = Engine(mode=mode).compile([qc])
    with pytest.raises(InvalidParameter) as info:
        compiled.sample(np.zeros(5, dtype=np.int64), np.random.default_rng(0))
    assert (info.value.name, info.value.value, info.value.allowed) == ("circuits", "65 clbits", "at most 64 clbits")
    assert "sample_bits" in str(info.value)
    bits = compiled.sample_bits(np.zeros(5, dtype=np.int64), np.random.default_rng(0))
    assert bits.shape == (5, 65) and bits.all()


def test_distribution_path_refuses_circuits_with_different_clbit_counts():
    """One outcome table needs one width: circuits measuring 1 and 2 clbits are refused, naming
    `circuits` and the clbit counts. catches: the refusal's name or value lost."""
    a = QuantumCircuit(1, 1)
    a.measure(0, 0)
    b = QuantumCircuit(2, 2)
    b.measure([0, 1], [0, 1])
    with pytest.raises(InvalidParameter) as err:
        Engine(mode="distribution").compile([a, b], None)
    assert (err.value.name, err.value.value) == ("circuits", [1, 2])


@pytest.mark.parametrize("mode", ["distribution", "shots", "stabilizer"])
def test_codes_use_the_smallest_unsigned_dtype_at_the_byte_boundaries(mode):
    """`sample` returns codes in the smallest unsigned dtype that holds them: uint8 for 8 clbits
    (256 outcomes, every one possible here: H on each qubit), uint16 for 9 clbits; each path.

    catches: the dtype chosen for one outcome more (`n + 2`) or with `<` / `max - 1` at the
    boundary (a 256-outcome circuit stored in uint16)."""
    for n, dtype in ((8, np.uint8), (9, np.uint16)):
        qc = QuantumCircuit(n, n)
        qc.h(range(n))
        qc.measure(range(n), range(n))
        codes = Engine(mode=mode).compile([qc]).sample(np.zeros(4000, dtype=np.int64), np.random.default_rng(3),
                                                        aer_seed=5)
        assert codes.dtype == dtype, (mode, n, codes.dtype)
        assert int(codes.max()) >= 2 ** n - 40  # the top codes occur (uniform over 2**n outcomes)


def test_engine_settings_accept_exactly_their_documented_ranges():
    """max_distribution_qubits in [1, 14] and chunk_size >= 1, ends included; one beyond is
    refused with the parameter's name. catches: either end moved by one or dropped."""
    assert Engine(max_distribution_qubits=1).max_distribution_qubits == 1
    assert Engine(max_distribution_qubits=14).max_distribution_qubits == 14
    assert Engine(chunk_size=1).chunk_size == 1
    for kwargs in (dict(max_distribution_qubits=0), dict(max_distribution_qubits=15), dict(chunk_size=0)):
        with pytest.raises(InvalidParameter) as err:
            Engine(**kwargs)
        assert err.value.name == next(iter(kwargs))


def test_refusals_of_circuits_and_noise_models_carry_their_values():
    """Every refusal of `compile` names the parameter, carries the offending value and the
    allowed range, and its message says which error is the problem; a multi-qubit readout error
    is refused exactly when its qubits are measured (whatever other gates the circuit has).

    catches: values replaced by None or dropped, the allowed text dropped, the kind of error
    missing from the message, measured qubits collected from the other instructions, a
    2-qubit error on 'measure' let through."""
    from qiskit_aer.noise import pauli_error

    with pytest.raises(InvalidParameter) as err:
        Engine().compile([], None)
    assert (err.value.name, err.value.value) == ("circuits", ())
    with pytest.raises(InvalidType) as err:
        Engine().compile(["not a circuit"], None)
    assert (err.value.name, err.value.value) == ("circuits[0]", "not a circuit")
    idle = QuantumCircuit(1, name="idle")
    with pytest.raises(InvalidParameter) as err:
        Engine().compile([idle], None)
    assert (err.value.name, err.value.value) == ("circuits[0]", "idle") and "clbit" in err.value.allowed

    def wide():  # gates on qubits 0, 1; qubits 2, 3 measured
        qc = QuantumCircuit(4, 2)
        qc.h(0)
        qc.cx(0, 1)
        qc.x(2)
        qc.measure([2, 3], [0, 1])
        return qc

    ro = NoiseModel()
    ro.add_readout_error(ReadoutError(np.kron([[0.9, 0.1], [0.2, 0.8]], [[0.7, 0.3], [0.1, 0.9]])), [2, 3])
    with pytest.raises(InvalidParameter) as err:
        Engine().compile([wide()], ro)
    assert err.value.name == "noise_model" and err.value.value is ro
    assert err.value.allowed == "single-qubit readout errors and single-qubit quantum errors on 'measure'"
    assert "2-qubit ReadoutError on qubits [2, 3]" in str(err.value)
    on_gates = NoiseModel()  # the same error on qubits 0, 1: never measured, nothing to drop
    on_gates.add_readout_error(ReadoutError(np.kron([[0.9, 0.1], [0.2, 0.8]], [[0.7, 0.3], [0.1, 0.9]])), [0, 1])
    Engine().compile([wide()], on_gates)
    meas = NoiseModel()
    meas.add_quantum_error(pauli_error([("XX", 0.3), ("II", 0.7)]), "measure", [2, 3])
    with pytest.raises(InvalidParameter) as err:
        Engine().compile([wide()], meas)
    assert err.value.value is meas and "2-qubit quantum error on 'measure' on qubits [2, 3]" in str(err.value)
    bar = NoiseModel()
    bar.add_all_qubit_quantum_error(pauli_error([("X", 0.3), ("I", 0.7)]), "barrier")
    qc = QuantumCircuit(1, 1)
    qc.barrier()
    qc.measure(0, 0)
    with pytest.raises(InvalidParameter) as err:
        Engine().compile([qc], bar)
    assert err.value.value is bar and err.value.allowed == "no quantum errors on 'barrier'"


def test_a_circuit_of_exactly_max_distribution_qubits_takes_the_distribution_path():
    """`max_distribution_qubits` is inclusive. catches: `<` for `<=`."""
    qc = QuantumCircuit(3, 3)
    qc.h(0)
    qc.measure(range(3), range(3))
    assert Engine(max_distribution_qubits=3).compile([qc]).mode == "distribution"
    assert Engine(max_distribution_qubits=2).compile([qc]).mode != "distribution"


def test_a_forced_path_that_cannot_hold_names_the_mode_and_every_compiled_keeps_its_noise_model():
    """`mode="distribution"` for 11 qubits and `mode="stabilizer"` for a non-Clifford circuit are
    refused naming `mode` with its value and the modes that would work; on every path the
    compiled configurations keep the noise model they run under (a documented attribute).

    catches: the refusals' value or allowed text lost, the noise model dropped from the
    distribution or stabilizer result."""
    big = QuantumCircuit(11, 11)
    big.h(0)
    big.measure(range(11), range(11))
    t = QuantumCircuit(1, 1)
    t.t(0)
    t.measure(0, 0)
    for mode, qc in (("distribution", big), ("stabilizer", t)):
        with pytest.raises(InvalidParameter) as err:
            Engine(mode=mode).compile([qc])
        assert (err.value.name, err.value.value) == ("mode", mode)
        assert err.value.allowed == "'shots' or 'auto' for these circuits"
    nm = NoiseModel()
    nm.add_all_qubit_readout_error(ReadoutError([[0.9, 0.1], [0.2, 0.8]]))
    bell = QuantumCircuit(2, 2)
    bell.h(0)
    bell.cx(0, 1)
    bell.measure([0, 1], [0, 1])
    for mode in ("distribution", "stabilizer", "shots"):
        compiled = Engine(mode=mode).compile([bell], nm)
        assert compiled.mode == mode and compiled.noise_model is nm


def test_a_noise_model_whose_tables_cannot_be_read_never_takes_an_exact_path(monkeypatch):
    """If a qiskit-aer version stores its errors elsewhere, the engine cannot see which noise acts
    on measurements: it must refuse the distribution and stabilizer paths (and `auto` must fall back
    to Aer shots, which apply everything), never drop the noise. Simulated by making the engine
    look for a table this Aer does not have, with a model carrying a 30 % readout error.

    catches: such a model read as carrying no noise at all (`opaque=False`), which would sample
    P(1) = 0 instead of 0.3 on the distribution path (the issue's class-1 bug)."""
    nm = NoiseModel()
    nm.add_all_qubit_readout_error(ReadoutError([[0.7, 0.3], [0.3, 0.7]]))
    import qproto._engine as engine_module

    monkeypatch.setattr(engine_module, "_NOISE_TABLES", (*engine_module._NOISE_TABLES, "_table_of_a_future_aer"))
    qc = QuantumCircuit(1, 1)
    qc.measure(0, 0)
    for mode in ("distribution", "stabilizer"):
        with pytest.raises(InvalidParameter) as err:
            Engine(mode=mode).compile([qc], nm)
        assert err.value.name == "mode"
    compiled = Engine().compile([qc], nm)
    assert compiled.mode == "shots"
    codes = compiled.sample(np.zeros(20_000, dtype=np.int64), np.random.default_rng(1), aer_seed=2)
    assert_proportion(int(codes.sum()), codes.size, 0.3, what="P(1) through a 30 % readout error")


def test_barriers_before_or_after_the_measurements_keep_the_distribution_path():
    """A barrier is no operation: circuits with a barrier before their measurements, or after them
    on measured qubits, still have terminal measurements (distribution path, exact probabilities).

    catches: the barrier test misspelt (a barrier after a measurement read as an operation on a
    measured qubit) or `break` for `continue` (measurements after a barrier never seen)."""
    before = QuantumCircuit(2, 2)
    before.h(0)
    before.barrier()
    before.measure([0, 1], [0, 1])
    after = QuantumCircuit(2, 2)
    after.h(0)
    after.measure([0, 1], [0, 1])
    after.barrier()
    for qc in (before, after):
        compiled = Engine().compile([qc])
        assert compiled.mode == "distribution"
        np.testing.assert_allclose(compiled.probabilities[0], [0.5, 0.5, 0.0, 0.0], atol=1e-12)
