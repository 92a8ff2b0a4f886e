"""Every engine path honours every noise of the noise model, or refuses it.

Regression for the distribution path dropping the noise Aer attaches to measurements
(``ReadoutError``s and quantum errors on ``"measure"``): its exact distributions are
checked against references computed here without the engine (``Statevector`` /
``DensityMatrix`` of the measurement-free circuit, Kraus maps and confusion matrices
written out in the test), and the sampled outcomes of every path against those
references (docs/conventions.md section B: 5 sigma + 1/N per proportion, G-test p >= 1e-6).
"""

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from qiskit import QuantumCircuit
from qiskit.quantum_info import DensityMatrix, Kraus, Pauli, Statevector
from qiskit_aer.noise import (
    NoiseModel, ReadoutError, amplitude_damping_error, coherent_unitary_error, depolarizing_error, pauli_error,
)
from scipy import stats

from qproto import Channel, Engine, InvalidParameter, get_protocol
from qproto.testing import assert_proportion

MODES = ("distribution", "stabilizer", "shots")
G_TEST_ALPHA = 1e-6  # docs/conventions.md section B


def _confusion(p10, p01):
    """Row-stochastic readout matrix P[true, read]: P(read 1 | 0) = p10, P(read 0 | 1) = p01."""
    return np.array([[1.0 - p10, p10], [p01, 1.0 - p01]])


def _with_readout(probs, matrices):
    """probs[x] (bit k of x = clbit k) after independent readout errors, matrices[k] for clbit k.

    The Kronecker product puts its first factor on the most significant bit, i.e. clbit m-1.
    """
    big = np.ones((1, 1))
    for mat in reversed(matrices):  # clbit m-1 first
        big = np.kron(big, mat)
    return probs @ big


def _codes(engine_mode, circuits, nm, rounds, seed):
    compiled = Engine(mode=engine_mode).compile(circuits, nm)
    assert compiled.mode == engine_mode
    return compiled.sample(np.zeros(rounds, dtype=np.uint8), np.random.default_rng(seed), aer_seed=seed)


def _assert_g_test(codes, exact, what):
    """Sampled codes follow the exact distribution: no impossible outcome, and G-test p >= 1e-6."""
    observed = np.bincount(codes.astype(np.int64), minlength=exact.size).astype(float)
    possible = exact > 1e-12
    assert observed[~possible].sum() == 0, f"{what}: impossible outcomes {np.flatnonzero(observed * ~possible)}"
    if possible.sum() < 2:
        return
    g = stats.power_divergence(observed[possible], exact[possible] / exact[possible].sum() * codes.size,
                               lambda_="log-likelihood")
    assert g.pvalue >= G_TEST_ALPHA, f"{what}: G = {g.statistic:.1f}, p = {g.pvalue:.3g}"


# ---- one qubit, 30% readout error --------------------------------------------------------------
@pytest.mark.parametrize("local", [False, True])
def test_thirty_percent_readout_error_on_one_qubit_in_every_path(local):
    """Catches: the distribution path ignoring ReadoutError (it gave P(1) = 0)."""
    nm = NoiseModel()
    err = ReadoutError([[0.7, 0.3], [0.3, 0.7]])
    if local:
        nm.add_readout_error(err, [0])
    else:
        nm.add_all_qubit_readout_error(err)
    qc = QuantumCircuit(1, 1)
    qc.measure(0, 0)
    compiled = Engine().compile([qc], nm)
    assert compiled.mode == "distribution"
    np.testing.assert_allclose(compiled.probabilities[0], [0.7, 0.3], rtol=0, atol=1e-12)
    rounds = 20_000
    for i, mode in enumerate(MODES):
        codes = _codes(mode, [qc], nm, rounds, seed=100 + i)
        assert_proportion(int(np.count_nonzero(codes)), rounds, 0.3, what=f"P(1), {mode} path")


# ---- asymmetric, per-qubit confusion matrices ------------------------------------------------
def _asymmetric_cases():
    """(circuit body, qubit measured into each clbit, noise model, confusion matrix of each clbit)."""
    cases = []
    # Two qubits, local readout errors only (qubit 1 measured into clbit 0).
    body = QuantumCircuit(2)
    body.ry(1.1, 0)
    body.cx(0, 1)
    body.rx(0.4, 1)
    m0, m1 = _confusion(0.02, 0.21), _confusion(0.17, 0.05)
    nm = NoiseModel()
    nm.add_readout_error(ReadoutError(m0), [0])
    nm.add_readout_error(ReadoutError(m1), [1])
    cases.append((body, [1, 0], nm, [m1, m0]))
    # Three qubits: an all-qubit default, overridden on qubit 2; qubit 1 is never measured.
    body = QuantumCircuit(3)
    body.h(0)
    body.ry(0.7, 1)
    body.cx(1, 2)
    body.t(0)
    body.h(0)
    body.ry(2.2, 2)
    default, local2 = _confusion(0.08, 0.26), _confusion(0.31, 0.01)
    nm = NoiseModel()
    nm.add_all_qubit_readout_error(ReadoutError(default))
    nm.add_readout_error(ReadoutError(local2), [2])
    cases.append((body, [2, 0], nm, [local2, default]))
    # Three qubits, all measured, three different matrices, one from the default.
    body = QuantumCircuit(3)
    body.h(0)
    body.cx(0, 1)
    body.ry(0.9, 2)
    body.cz(1, 2)
    body.h(2)
    ma, mb = _confusion(0.12, 0.03), _confusion(0.0, 0.4)
    nm = NoiseModel()
    nm.add_all_qubit_readout_error(ReadoutError(_confusion(0.05, 0.15)))
    nm.add_readout_error(ReadoutError(ma), [0])
    nm.add_readout_error(ReadoutError(mb), [2])
    cases.append((body, [0, 1, 2], nm, [ma, _confusion(0.05, 0.15), mb]))
    return cases


@pytest.mark.parametrize("case", range(3))
def test_asymmetric_readout_errors_per_qubit_are_exact(case):
    """Catches: readout ignored; P(1|0) and P(0|1) swapped; the matrix of qubit k applied to clbit k
    instead of to the clbit that qubit is measured into; local errors not overriding the default;
    Qiskit's bit order reversed."""
    body, measured, nm, matrices = _asymmetric_cases()[case]
    qc = QuantumCircuit(body.num_qubits, len(measured))
    qc.compose(body, inplace=True)
    qc.measure(measured, range(len(measured)))
    exact = _with_readout(Statevector(body).probabilities(qargs=measured), matrices)
    compiled = Engine().compile([qc], nm)
    assert compiled.mode == "distribution"
    np.testing.assert_allclose(compiled.probabilities[0], exact, rtol=0, atol=1e-9)
    for i, mode in enumerate(("distribution", "shots")):
        _assert_g_test(_codes(mode, [qc], nm, 20_000, seed=7 + i), exact, f"case {case}, {mode} path")


def test_asymmetric_readout_on_clifford_circuits_agrees_in_all_three_paths():
    """Catches: the stabilizer path (or the distribution path) using P(1|0) for both flips."""
    qc = QuantumCircuit(3, 3)
    qc.h(0)
    qc.cx(0, 1)
    qc.s(2)
    qc.h(2)
    qc.measure([2, 0, 1], [0, 1, 2])
    mats = {0: _confusion(0.0, 0.35), 1: _confusion(0.2, 0.02), 2: _confusion(0.1, 0.1)}
    nm = NoiseModel()
    for q, mat in mats.items():
        nm.add_readout_error(ReadoutError(mat), [q])
    body = qc.remove_final_measurements(inplace=False)
    exact = _with_readout(Statevector(body).probabilities(qargs=[2, 0, 1]), [mats[2], mats[0], mats[1]])
    np.testing.assert_allclose(Engine().compile([qc], nm).probabilities[0], exact, rtol=0, atol=1e-9)
    for i, mode in enumerate(MODES):
        _assert_g_test(_codes(mode, [qc], nm, 30_000, seed=40 + i), exact, f"{mode} path")


# ---- quantum errors on "measure" -------------------------------------------------------------
def test_bit_flip_error_on_one_qubits_measure_is_honoured():
    """Catches: quantum errors on "measure" dropped by the distribution path, or applied to every qubit."""
    qc = QuantumCircuit(2, 2)
    qc.x(0)
    qc.measure([0, 1], [0, 1])
    nm = NoiseModel()
    nm.add_quantum_error(pauli_error([("X", 0.25), ("I", 0.75)]), "measure", [1])
    compiled = Engine().compile([qc], nm)
    assert compiled.mode == "distribution"
    # qubit 0 reads 1 for sure; qubit 1 reads 1 with probability 0.25: codes 1 (0.75) and 3 (0.25).
    np.testing.assert_allclose(compiled.probabilities[0], [0.0, 0.75, 0.0, 0.25], rtol=0, atol=1e-12)
    for i, mode in enumerate(("distribution", "shots")):
        codes = _codes(mode, [qc], nm, 20_000, seed=60 + i)
        assert set(np.unique(codes).tolist()) <= {1, 3}
        assert_proportion(int(np.count_nonzero(codes == 3)), codes.size, 0.25, what=f"P(code 3), {mode} path")
    with pytest.raises(InvalidParameter, match="quantum errors.*measure"):
        Engine(mode="stabilizer").compile([qc], nm)


def test_coherent_and_amplitude_damping_errors_on_measure_act_on_the_state():
    """Catches: an error on "measure" reduced to a classical flip of the diagonal (a unitary error
    before a Z measurement turns coherences into populations), or applied after the measurement."""
    theta = 0.9
    ry = np.array([[np.cos(theta / 2), -np.sin(theta / 2)], [np.sin(theta / 2), np.cos(theta / 2)]])
    gamma = 0.35
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.x(1)
    qc.measure([0, 1], [0, 1])
    nm = NoiseModel()
    nm.add_quantum_error(coherent_unitary_error(ry), "measure", [0])
    nm.add_quantum_error(amplitude_damping_error(gamma), "measure", [1])
    rho = DensityMatrix(qc.remove_final_measurements(inplace=False))
    rho = rho.evolve(Kraus([ry]), qargs=[0])
    rho = rho.evolve(Kraus([np.array([[1, 0], [0, np.sqrt(1 - gamma)]]), np.array([[0, np.sqrt(gamma)], [0, 0]])]),
                     qargs=[1])
    exact = rho.probabilities(qargs=[0, 1])
    compiled = Engine().compile([qc], nm)
    np.testing.assert_allclose(compiled.probabilities[0], exact, rtol=0, atol=1e-9)
    for i, mode in enumerate(("distribution", "shots")):
        _assert_g_test(_codes(mode, [qc], nm, 20_000, seed=70 + i), exact, f"{mode} path")


# ---- random circuits and random noise: every path against an independent reference ----------
_CLIFFORD_1Q = ("h", "x", "y", "z", "s", "sdg", "sx")
_OTHER_1Q = ("t", "tdg", "rx", "ry", "rz")
_CLIFFORD_2Q = ("cx", "cz", "swap")
_OTHER_2Q = ("rzz", "cp")
_ANGLE_GATES = ("rx", "ry", "rz", "rzz", "cp")
_PAULIS = {"I": np.eye(2), "X": Pauli("X").to_matrix(), "Y": Pauli("Y").to_matrix(), "Z": Pauli("Z").to_matrix()}


def _depolarising_kraus(p, n):
    """Kraus operators of rho -> (1 - p) rho + p Tr_n(rho) I / 2^n: every n-qubit Pauli with
    weight p / 4^n, the identity with 1 - p + p / 4^n (label character j acts on qubit j)."""
    ops = []
    for idx in range(4 ** n):
        label = "".join("IXYZ"[(idx >> (2 * j)) & 3] for j in range(n))
        mat = np.ones((1, 1))
        for ch in reversed(label):  # qubit n-1 is the most significant factor
            mat = np.kron(mat, _PAULIS[ch])
        w = p / 4 ** n + (1.0 - p if idx == 0 else 0.0)
        ops.append(np.sqrt(w) * mat)
    return ops


def _measure_error(kind, params):
    """(Aer QuantumError, the Kraus operators written here) of a one-qubit error on "measure"."""
    if kind == "pauli":
        px, py, pz = params
        terms = [("X", px), ("Y", py), ("Z", pz), ("I", 1.0 - px - py - pz)]
        return (pauli_error([t for t in terms if t[1] > 0]),
                [np.sqrt(p) * _PAULIS[c] for c, p in terms])
    gamma = params[0]
    return (amplitude_damping_error(gamma),
            [np.array([[1, 0], [0, np.sqrt(1 - gamma)]]), np.array([[0, np.sqrt(gamma)], [0, 0]])])


@st.composite
def noisy_cases(draw):
    n = draw(st.integers(1, 4))
    clifford = draw(st.booleans())
    gates_1q = _CLIFFORD_1Q if clifford else _CLIFFORD_1Q + _OTHER_1Q
    gates_2q = _CLIFFORD_2Q if clifford else _CLIFFORD_2Q + _OTHER_2Q
    ops = []
    for _ in range(draw(st.integers(0, 8))):
        two = n >= 2 and draw(st.booleans())
        name = draw(st.sampled_from(gates_2q if two else gates_1q))
        qubits = tuple(draw(st.permutations(range(n)))[:2 if two else 1])
        angle = draw(st.floats(-3.1, 3.1)) if name in _ANGLE_GATES else None
        ops.append((name, qubits, angle))
    measured = draw(st.permutations(range(n)))[:draw(st.integers(1, n))]
    early = draw(st.booleans())  # measure each qubit right after its last gate (others' gates follow)

    prob = st.integers(0, 40).map(lambda k: k / 100)  # a grid: no subnormal probabilities
    gate_errors = {}  # name -> (p, n_qubits) on every qubit; (name, qubits) -> p for one placement
    measure_errors = {}  # qubit or None (all-qubit) -> (kind, params)
    readout = {}  # qubit or None (all-qubit) -> confusion matrix
    quantum = draw(st.booleans())
    if quantum:
        used = sorted({name for name, _, _ in ops})
        for name in draw(st.lists(st.sampled_from(used), unique=True)) if used else []:
            gate_errors[name] = draw(prob)
        if ops and draw(st.booleans()):
            name, qubits, _ = draw(st.sampled_from(ops))
            gate_errors[(name, qubits)] = draw(prob)
        for q in [None] + list(range(n)):
            if draw(st.integers(0, 2)) == 0:
                kind = draw(st.sampled_from(["pauli", "amplitude"]))
                params = ([draw(st.integers(0, 20)) / 100 for _ in range(3)] if kind == "pauli"
                          else [draw(st.integers(0, 60)) / 100])
                measure_errors[q] = (kind, params)
    for q in [None] + list(range(n)):
        if draw(st.booleans()):
            readout[q] = _confusion(draw(prob), draw(prob))
    # Aer does not store ideal errors (so an ideal local error does not override the all-qubit one): drop them.
    gate_errors = {k: p for k, p in gate_errors.items() if p > 0}
    measure_errors = {k: v for k, v in measure_errors.items() if max(v[1]) > 0}
    readout = {k: m for k, m in readout.items() if not np.array_equal(m, np.eye(2))}
    seed = draw(st.integers(0, 2**31 - 1))
    return n, ops, measured, early, gate_errors, measure_errors, readout, seed


def _build(n, ops, measured, early):
    qc = QuantumCircuit(n, len(measured))
    last_use = {q: -1 for q in range(n)}
    for i, (_, qubits, _) in enumerate(ops):
        for q in qubits:
            last_use[q] = i
    pending = dict(zip(measured, range(len(measured))))
    for i, (name, qubits, angle) in enumerate([(None, (), None)] + ops):
        if name is not None:
            getattr(qc, name)(*(() if angle is None else (angle,)), *qubits)
        if early:
            for q, c in list(pending.items()):
                if last_use[q] <= i - 1:
                    qc.measure(q, c)
                    del pending[q]
    for q, c in pending.items():
        qc.measure(q, c)
    return qc


def _noise_model(gate_errors, measure_errors, readout):
    nm = NoiseModel()
    for key, p in gate_errors.items():
        if isinstance(key, str):
            nm.add_all_qubit_quantum_error(depolarizing_error(p, 2 if key in _CLIFFORD_2Q + _OTHER_2Q else 1), [key])
    for key, p in gate_errors.items():
        if not isinstance(key, str):
            name, qubits = key
            nm.add_quantum_error(depolarizing_error(p, len(qubits)), [name], list(qubits), warnings=False)
    for q, (kind, params) in measure_errors.items():
        err = _measure_error(kind, params)[0]
        if q is None:
            nm.add_all_qubit_quantum_error(err, ["measure"])
        else:
            nm.add_quantum_error(err, ["measure"], [q], warnings=False)
    for q, mat in readout.items():
        if q is None:
            nm.add_all_qubit_readout_error(ReadoutError(mat))
        else:
            nm.add_readout_error(ReadoutError(mat), [q], warnings=False)
    return nm


def _reference(n, ops, measured, gate_errors, measure_errors, readout):
    """The exact outcome distribution by DensityMatrix evolution, without Aer or the engine.

    Aer's rules: a gate's error follows the gate, an error given for that gate on those
    qubits replaces the all-qubit one; a "measure" error acts on the qubit just before
    its measurement (nothing touches it afterwards, so here after every gate); a
    qubit's own readout error replaces the all-qubit one.
    """
    rho = DensityMatrix.from_label("0" * n)
    for name, qubits, angle in ops:
        gate = QuantumCircuit(len(qubits))
        getattr(gate, name)(*(() if angle is None else (angle,)), *range(len(qubits)))
        rho = rho.evolve(gate, qargs=list(qubits))
        p = gate_errors.get((name, qubits), gate_errors.get(name))
        if p is not None:
            rho = rho.evolve(Kraus(_depolarising_kraus(p, len(qubits))), qargs=list(qubits))
    for q in measured:
        spec = measure_errors.get(q, measure_errors.get(None))
        if spec is not None:
            rho = rho.evolve(Kraus(_measure_error(*spec)[1]), qargs=[q])
    probs = rho.probabilities(qargs=list(measured))
    eye = np.eye(2)
    return _with_readout(probs, [readout.get(q, readout.get(None, eye)) for q in measured])


@settings(max_examples=30, deadline=None)
@given(case=noisy_cases())
def test_every_path_matches_an_independent_reference_on_random_noisy_circuits(case):
    """Random 1-4 qubit circuits (Clifford and not), random depolarising gate errors, readout
    errors (asymmetric, local and all-qubit) and errors on "measure" (local and all-qubit):
    the distribution path is exact (1e-9); the sampled distribution, stabilizer and shots
    paths pass a G-test against the reference; the stabilizer path refuses every case it
    cannot sample exactly."""
    n, ops, measured, early, gate_errors, measure_errors, readout, seed = case
    qc = _build(n, ops, measured, early)
    nm = _noise_model(gate_errors, measure_errors, readout)
    exact = _reference(n, ops, measured, gate_errors, measure_errors, readout)

    compiled = Engine().compile([qc], nm)
    assert compiled.mode == "distribution"
    np.testing.assert_allclose(compiled.probabilities[0], exact, rtol=0, atol=1e-9)

    rounds = 20_000
    _assert_g_test(_codes("distribution", [qc], nm, rounds, seed), exact, "distribution path")
    _assert_g_test(_codes("shots", [qc], nm, rounds, seed + 1), exact, "shots path")
    clifford = all(name in _CLIFFORD_1Q + _CLIFFORD_2Q for name, _, _ in ops)
    event(f"{n} qubits, {len(measured)} measured")
    event(f"errors: gates {bool(gate_errors)}, measure {bool(measure_errors)}, readout {bool(readout)}")
    if clifford and not gate_errors and not measure_errors:
        event("stabilizer path sampled")
        _assert_g_test(_codes("stabilizer", [qc], nm, rounds, seed + 2), exact, "stabilizer path")
    else:
        with pytest.raises(InvalidParameter, match="stabilizer"):
            Engine(mode="stabilizer").compile([qc], nm)


# ---- noise no path can apply, and noise a path cannot apply ----------------------------------
def _bell():
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    return qc


@pytest.mark.parametrize("mode", ["auto", *MODES])
@pytest.mark.parametrize("kind", ["readout", "measure", "all-qubit measure"])
def test_multi_qubit_measurement_errors_are_refused_by_every_path(mode, kind):
    """Aer applies a 2-qubit readout error or error on "measure" only to a 2-qubit measure
    instruction, which Qiskit circuits never have: every path would drop it silently.
    Catches: such a noise model accepted (the distribution path dropped it)."""
    nm = NoiseModel()
    if kind == "readout":
        nm.add_readout_error(ReadoutError(np.kron(_confusion(0.1, 0.2), _confusion(0.3, 0.1))), [0, 1])
    elif kind == "measure":
        nm.add_quantum_error(pauli_error([("XX", 0.3), ("II", 0.7)]), "measure", [0, 1])
    else:
        nm.add_all_qubit_quantum_error(pauli_error([("XX", 0.3), ("II", 0.7)]), "measure")
    with pytest.raises(InvalidParameter, match="no engine path") as info:
        Engine(mode=mode).compile([_bell()], nm)
    assert info.value.name == "noise_model"


def test_errors_on_barriers_are_refused_when_the_circuits_have_barriers():
    """Aer never applies a quantum error on "barrier", and the distribution path removes final barriers.
    Catches: the error silently dropped by every path."""
    nm = NoiseModel()
    nm.add_all_qubit_quantum_error(pauli_error([("X", 0.3), ("I", 0.7)]), "barrier")
    qc = QuantumCircuit(1, 1)
    qc.barrier()
    qc.measure(0, 0)
    with pytest.raises(InvalidParameter, match="barrier") as info:
        Engine().compile([qc], nm)
    assert info.value.name == "noise_model"
    plain = QuantumCircuit(1, 1)
    plain.measure(0, 0)
    assert Engine().compile([plain], nm).mode == "distribution"  # no barrier: nothing is dropped


def test_custom_noise_passes_leave_the_distribution_path_for_shots():
    """A custom noise pass may act on the measurements the distribution path removes.
    Catches: a pass that flips every measured qubit silently ignored (P(1) = 0 instead of 1)."""
    from qiskit.circuit.library import Measure
    from qiskit_aer.noise import LocalNoisePass

    def flip_before_measure(op, qubits):
        err = QuantumCircuit(1)
        err.x(0)
        return err

    nm = NoiseModel()
    nm._custom_noise_passes.append(LocalNoisePass(flip_before_measure, op_types=Measure, method="prepend"))
    qc = QuantumCircuit(1, 1)
    qc.delay(10, 0)  # Aer runs custom noise passes on circuits with delays only
    qc.measure(0, 0)
    compiled = Engine().compile([qc], nm)
    assert compiled.mode == "shots"
    codes = compiled.sample(np.zeros(200, dtype=np.uint8), np.random.default_rng(0), aer_seed=1)
    assert np.all(codes == 1)
    for mode in ("distribution", "stabilizer"):
        with pytest.raises(InvalidParameter, match="custom noise passes"):
            Engine(mode=mode).compile([qc], nm)


def test_a_qubit_measured_twice_gives_equal_bits_in_every_path_that_accepts_it():
    """Catches: the stabilizer path sampling the two clbits of one qubit independently
    (it drew 01 and 10), and the distribution path failing on duplicate qubits."""
    qc = QuantumCircuit(1, 2)
    qc.h(0)
    qc.measure(0, 0)
    qc.measure(0, 1)
    compiled = Engine().compile([qc])
    assert compiled.mode == "shots"
    codes = compiled.sample(np.zeros(2000, dtype=np.uint8), np.random.default_rng(1), aer_seed=2)
    assert set(np.unique(codes).tolist()) <= {0, 3}
    assert_proportion(int(np.count_nonzero(codes == 3)), codes.size, 0.5)
    for mode in ("distribution", "stabilizer"):
        with pytest.raises(InvalidParameter, match="mode"):
            Engine(mode=mode).compile([qc])


# ---- the protocol that found the bug ----------------------------------------------------------
def test_ghz_cka_readout_form_has_the_closed_form_x_parity_error():
    """Regression: ghz-cka with noise_form="readout" (3 parties, 3 qubits: distribution path)
    reported Q_X = 0. Closed form: Q_X = [1 - prod_j (1 - p_j)] / 2 = (1 - 0.7^3) / 2 = 0.3285."""
    p = 0.3
    result = get_protocol("ghz-cka", parties=3, noise_form="readout").run(
        Channel(depolarisation=p), rounds=20_000, seed=2024)
    assert_proportion(result.c("parity_errors"), result.c("test_rounds"), (1 - (1 - p) ** 3) / 2, what="Q_X")
    for errors in result.counts["errors_ab"]:
        assert_proportion(int(errors), result.c("key_rounds"), (1 - (1 - p) ** 2) / 2, what="Q_AB")
