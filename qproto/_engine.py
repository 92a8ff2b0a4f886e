"""The batched Aer engine shared by every protocol.

A protocol draws each round's random choices with numpy and reduces them to an
integer *configuration* per round (bases, bits, attack branch, ...). Rounds that
share a configuration run the same circuit, so the engine never simulates a
round on its own. It turns ``(circuits, config_ids)`` into one integer outcome
code per round, where bit ``k`` of the code is the value of classical bit ``k``
(Qiskit's little-endian convention), in one of two ways:

* ``"distribution"``: each configuration's circuit runs once on Aer's
  density-matrix method (statevector when the noise model has no quantum error)
  with its final measurements replaced by ``save_probabilities``; the exact
  outcome distribution is then sampled for every round with numpy. Aer's cost is
  independent of the number of rounds. Needs terminal measurements, each qubit
  measured at most once, and at most :attr:`Engine.max_distribution_qubits`
  qubits. The noise Aer attaches to a measurement is applied exactly in its
  place: a quantum error on ``"measure"`` of a measured qubit is inserted as a
  channel on that qubit before the probabilities are saved (Aer applies it just
  before the measurement, and nothing acts on the qubit afterwards), and each
  clbit's single-qubit ``ReadoutError`` (local, else all-qubit) multiplies the
  distribution by its confusion matrix.
* ``"stabilizer"``: for Clifford circuits too large for a density matrix, whose
  noise is classical single-qubit readout error only: Aer computes each
  configuration's stabilizer state once and its exact outcome distribution
  (uniform on an affine subspace) is sampled with numpy (:mod:`qproto._stabilizer`).
* ``"shots"``: each configuration's circuit runs once with ``shots`` equal to the
  number of rounds in that configuration (``seed_simulator`` derived from the
  chunk's seed); the counts are expanded and shuffled into the rounds, which
  is exact because rounds in one configuration are independent and identically
  distributed. Aer picks its method, except that Clifford circuits use the
  ``stabilizer`` method.

``"auto"`` (the default) uses the distribution path when it can, then the
stabilizer path, then shots. A path that cannot honour every error of the noise
model is refused (``"auto"`` moves on; an explicit mode raises
:class:`~qproto.InvalidParameter` saying why): the distribution path refuses
custom noise passes, the stabilizer path any quantum error. Errors that Aer
itself never applies to these circuits (so that every path, Aer's shots
included, would drop them silently) make :meth:`Engine.compile` raise: a
multi-qubit ``ReadoutError`` or quantum error on ``"measure"`` that involves a
measured qubit (Qiskit measurements are one-qubit instructions), and quantum
errors on ``"barrier"`` when a circuit has a barrier.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Literal

import numpy as np
from qiskit import QuantumCircuit
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel, QuantumError

from qproto._errors import InvalidParameter, InvalidType
from qproto._random import ONE, threshold31, uniform31
from qproto._stabilizer import StabilizerSampler, stabilizer_samplers
from qproto._validation import check_int, check_one_of

__all__ = ["Engine", "CompiledConfigurations", "EngineMode"]

EngineMode = Literal["auto", "distribution", "stabilizer", "shots"]

_CLIFFORD_GATES = frozenset({"id", "x", "y", "z", "h", "s", "sdg", "sx", "sxdg", "cx", "cy", "cz",
                             "swap", "measure", "barrier", "reset", "delay"})
# Gates whose circuit has a single stabilizer state before its terminal measurements (no reset).
_UNITARY_CLIFFORD_GATES = _CLIFFORD_GATES - {"reset"}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Engine:
    """How protocols execute their circuits on qiskit-aer.

    Attributes:
        mode: ``"auto"``, ``"distribution"``, ``"stabilizer"`` or ``"shots"`` (see the module docs).
        max_distribution_qubits: the largest circuit (in qubits) the
            distribution path simulates as a density matrix (4^n complex entries).
        chunk_size: rounds simulated at once; memory grows linearly with it
            (about 40 bytes per round for BB84). Results depend on it, so it is
            part of the reproducibility contract.
    """

    mode: EngineMode = "auto"
    max_distribution_qubits: int = 10
    chunk_size: int = 1 << 20

    def __post_init__(self) -> None:
        check_one_of("mode", self.mode, ("auto", "distribution", "stabilizer", "shots"))
        check_int("max_distribution_qubits", self.max_distribution_qubits, minimum=1, maximum=14)
        check_int("chunk_size", self.chunk_size, minimum=1)

    def compile(self, circuits: Sequence[QuantumCircuit],
                noise_model: NoiseModel | None = None) -> CompiledConfigurations:
        """Prepare a tuple of configuration circuits for sampling (compile once, sample many).

        In the distribution path this runs all circuits in one Aer job and keeps
        their outcome distributions; in the shots path it only records them.

        Args:
            circuits: one circuit per configuration id (index = id). Every clbit
                must be measured.
            noise_model: the Aer noise model (for example from
                :func:`qproto.noise_models.channel_noise_model`), or ``None``.

        Raises:
            InvalidParameter: ``mode="distribution"`` or ``mode="stabilizer"`` was
                requested for circuits or a noise model that path cannot handle
                exactly (the message says why); the noise model carries an error
                that Aer never applies to these circuits (see the module docs);
                or a circuit measures no clbits.
        """
        circuits = tuple(circuits)
        if not circuits:
            raise InvalidParameter("circuits", circuits, "at least one circuit")
        for i, c in enumerate(circuits):
            if not isinstance(c, QuantumCircuit):
                raise InvalidType(f"circuits[{i}]", c, "a qiskit QuantumCircuit")
            if c.num_clbits == 0:
                raise InvalidParameter(f"circuits[{i}]", c.name, "circuits with measured clbits",
                                       f"circuits[{i}] ({c.name!r}) measures nothing")
        measured = [_terminal_measures(c) for c in circuits]
        noise = _NoiseTerms.of(noise_model)
        if noise is not None:
            noise.check_applied(circuits, noise_model)
        mode = self.mode
        dist_refusal = None
        if not all(c.num_qubits <= self.max_distribution_qubits and m is not None
                   for c, m in zip(circuits, measured)):
            dist_refusal = (f"needs terminal measurements (each qubit measured once) and at most "
                            f"{self.max_distribution_qubits} qubits")
        elif noise is not None:
            dist_refusal = noise.distribution_refusal()
        if mode == "distribution" and dist_refusal is not None:
            raise InvalidParameter("mode", mode, "'shots' or 'auto' for these circuits",
                                   f"mode='distribution' {dist_refusal}; use mode='shots' or 'auto'")
        if mode == "auto" and dist_refusal is None:
            mode = "distribution"
        if mode == "distribution":
            return CompiledConfigurations(circuits=circuits, noise_model=noise_model,
                                          cdf=_distributions_cdf(circuits, measured, noise_model, noise))
        if mode in ("auto", "stabilizer"):
            samplers = _stabilizer_path(circuits, measured, noise)
            if not isinstance(samplers, str):
                return CompiledConfigurations(circuits=circuits, noise_model=noise_model, cdf=None,
                                              stabilizer=samplers)
            if mode == "stabilizer":
                raise InvalidParameter("mode", mode, "'shots' or 'auto' for these circuits",
                                       f"mode='stabilizer' needs Clifford circuits without resets, terminal "
                                       f"measurements and a noise model of single-qubit readout errors only: "
                                       f"{samplers}; use mode='shots' or 'auto'")
        return CompiledConfigurations(circuits=circuits, noise_model=noise_model, cdf=None)


@dataclasses.dataclass(frozen=True, eq=False)
class CompiledConfigurations:
    """Configuration circuits ready to be sampled round by round.

    Attributes:
        circuits: one circuit per configuration id.
        noise_model: the Aer noise model they run under.
        cdf: in the distribution path, an array of shape ``(n_configs, 2**n_clbits)``
            holding each configuration's cumulative outcome distribution; else ``None``.
        stabilizer: in the stabilizer path, one exact sampler per configuration; else ``None``.
    """

    circuits: tuple[QuantumCircuit, ...]
    noise_model: NoiseModel | None
    cdf: np.ndarray | None
    stabilizer: tuple[StabilizerSampler, ...] | None = None

    def __post_init__(self) -> None:
        if self.cdf is not None:
            object.__setattr__(self, "_thresholds", _cdf_thresholds(self.cdf))

    @property
    def n_outcomes(self) -> int:
        """Number of possible outcome codes, 2**n_clbits."""
        return 2 ** self.circuits[0].num_clbits

    @property
    def mode(self) -> str:
        """``"distribution"``, ``"stabilizer"`` or ``"shots"``."""
        if self.cdf is not None:
            return "distribution"
        return "shots" if self.stabilizer is None else "stabilizer"

    @property
    def probabilities(self) -> np.ndarray:
        """Exact outcome distributions, shape ``(n_configs, 2**n_clbits)`` (distribution path only).

        Entry ``[c, x]`` is the probability that configuration ``c`` reads outcome code ``x``
        (bit k = clbit k), after every error of the noise model, readout errors included.
        """
        if self.cdf is None:
            raise InvalidParameter("mode", "shots", "'distribution'",
                                   "outcome probabilities exist only in the distribution path")
        return np.diff(self.cdf, axis=1, prepend=0.0)

    def sample(self, config_ids: np.ndarray, rng: np.random.Generator, *, aer_seed: int = 0) -> np.ndarray:
        """Sample one outcome code per round.

        Args:
            config_ids: integer array, the configuration of each round.
            rng: numpy Generator for this chunk.
            aer_seed: ``seed_simulator`` base for the shots path (configuration
                ``c`` uses ``aer_seed + c``).

        Returns:
            Outcome codes (bit k = clbit k), same shape as ``config_ids``, in the smallest
            unsigned dtype that holds them (``uint8`` up to 8 clbits). In the distribution
            path each round compares one uniform 31-bit integer with the configuration's
            cumulative distribution rounded to multiples of 2^-31; probabilities 0 and 1 are
            exact.
        """
        config_ids = np.asarray(config_ids)
        n_cfg = len(self.circuits)
        if config_ids.size and (config_ids.min() < 0 or config_ids.max() >= n_cfg):
            raise InvalidParameter("config_ids", (int(config_ids.min()), int(config_ids.max())),
                                   f"integers in [0, {n_cfg - 1}]")
        return self.sample_trusted(config_ids, rng, aer_seed=aer_seed)

    def sample_trusted(self, config_ids: np.ndarray, rng: np.random.Generator, *, aer_seed: int = 0) -> np.ndarray:
        """:meth:`sample` without the range check of ``config_ids`` (for protocols' own ids)."""
        if self.cdf is not None:
            return _sample_thresholds(self._thresholds, config_ids, rng)
        if self.circuits[0].num_clbits > 64:
            raise InvalidParameter("circuits", f"{self.circuits[0].num_clbits} clbits", "at most 64 clbits",
                                   "outcome codes hold at most 64 clbits; use sample_bits()")
        if self.stabilizer is not None:
            bits = self.sample_bits(config_ids, rng, aer_seed=aer_seed)
            weights = (np.uint64(1) << np.arange(bits.shape[-1], dtype=np.uint64))
            return (bits.astype(np.uint64) @ weights).astype(_code_dtype(self.n_outcomes))
        return self._sample_shots(config_ids, rng, aer_seed)

    def sample_bits(self, config_ids: np.ndarray, rng: np.random.Generator, *, aer_seed: int = 0) -> np.ndarray:
        """Sample one outcome per round as bits: a ``(rounds, n_clbits)`` uint8 array (column k = clbit k).

        Unlike :meth:`sample`, works for any number of clbits.
        """
        config_ids = np.asarray(config_ids).reshape(-1)
        n_cl = self.circuits[0].num_clbits
        if self.stabilizer is None and n_cl <= 64:
            codes = self.sample_trusted(config_ids, rng, aer_seed=aer_seed).astype(np.uint64)
            return ((codes[:, None] >> np.arange(n_cl, dtype=np.uint64)) & np.uint64(1)).astype(np.uint8)
        out = np.zeros((config_ids.size, n_cl), dtype=np.uint8)
        counts_per_cfg = np.bincount(config_ids, minlength=len(self.circuits))
        for cfg in np.flatnonzero(counts_per_cfg):
            shots = int(counts_per_cfg[cfg])
            if self.stabilizer is not None:
                rows = self.stabilizer[cfg].sample(shots, rng)
            else:
                rows = _shot_rows(self.circuits[cfg], self.noise_model, shots, (aer_seed + int(cfg)) % (2**31), rng)
            out[config_ids == cfg] = rows
        return out

    def _sample_shots(self, config_ids: np.ndarray, rng: np.random.Generator, aer_seed: int) -> np.ndarray:
        out = np.zeros(config_ids.shape, dtype=_code_dtype(self.n_outcomes))
        counts_per_cfg = np.bincount(config_ids.ravel(), minlength=len(self.circuits))
        for cfg in np.flatnonzero(counts_per_cfg):
            shots = int(counts_per_cfg[cfg])
            counts = _run_shots(self.circuits[cfg], self.noise_model, shots, (aer_seed + int(cfg)) % (2**31))
            codes = np.repeat(np.array([int(k.replace(" ", ""), 2) for k in counts], dtype=out.dtype),
                              np.array(list(counts.values()), dtype=np.int64))
            out[config_ids == cfg] = rng.permutation(codes)
        return out


def _run_shots(circuit: QuantumCircuit, noise_model: NoiseModel | None, shots: int, seed: int) -> dict[str, int]:
    """One Aer run of ``circuit`` with ``shots`` shots; its counts."""
    # Aer's density-matrix method is the fastest for small noisy circuits; large
    # Clifford circuits with Pauli noise need the stabilizer method.
    # Aer's stabilizer method accepts Pauli (Clifford) noise only; a coherent rotation on a
    # channel (a unitary error) sends such a circuit to Aer's own choice of method.
    # Above 12 qubits a density matrix (4^n entries) is too costly: statevector trajectories instead.
    big = circuit.num_qubits > 12
    method = "automatic"
    if big:
        method = "stabilizer" if _is_clifford(circuit) and _clifford_noise(noise_model) else "statevector"
    sim = AerSimulator(method=method, noise_model=noise_model)
    return sim.run(circuit, shots=shots, seed_simulator=seed).result().get_counts()


def _clifford_noise(noise_model: NoiseModel | None) -> bool:
    """Whether Aer's stabilizer method can simulate every error of ``noise_model`` (no unitary,
    Kraus or superoperator branch)."""
    if noise_model is None or noise_model.is_ideal():
        return True
    ops = {op["name"] for err in noise_model.to_dict()["errors"] for circ in err.get("instructions", [])
           for op in circ}
    return not ops & {"unitary", "kraus", "superop"}


_BLOCK = 1 << 15  # rounds per sampling block: keeps the temporaries in the CPU cache
_MAX_LINEAR_COLUMNS = 15  # above this many thresholds per round, sample by binary search


def _shot_rows(circuit: QuantumCircuit, noise_model: NoiseModel | None, shots: int, seed: int,
               rng: np.random.Generator) -> np.ndarray:
    """Run one circuit with ``shots`` shots and return its outcomes as shuffled bit rows."""
    counts = _run_shots(circuit, noise_model, shots, seed)
    n_cl = circuit.num_clbits
    keys = "".join(k.replace(" ", "") for k in counts)
    rows = (np.frombuffer(keys.encode(), dtype=np.uint8) - ord("0")).reshape(len(counts), n_cl)[:, ::-1]
    rows = np.repeat(rows, np.fromiter(counts.values(), dtype=np.int64, count=len(counts)), axis=0)
    return rows[rng.permutation(shots)]


def _stabilizer_path(circuits: tuple[QuantumCircuit, ...], measured: list[list[int] | None],
                     noise: _NoiseTerms | None) -> tuple[StabilizerSampler, ...] | str:
    """Exact stabilizer samplers when every circuit and the noise qualify, else the reason they don't."""
    if any(m is None for m in measured):
        return "a circuit has a non-terminal or repeated measurement"
    if not all({inst.operation.name for inst in c.data} <= _UNITARY_CLIFFORD_GATES for c in circuits):
        return "a circuit has a non-Clifford instruction or a reset"
    if noise is None:
        flips = [(np.zeros(len(m)), np.zeros(len(m))) for m in measured]
    else:
        reason = noise.stabilizer_refusal()
        if reason is not None:
            return reason
        flips = [noise.readout_flips(m) for m in measured]
    return stabilizer_samplers(circuits, measured, flips)


def _sample_thresholds(thresholds: np.ndarray, config_ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Inverse-CDF sampling: code = #{j : u >= T[cfg, j]} with u uniform on [0, 2^31).

    Works through the rounds in cache-sized blocks; the Generator's stream is
    consumed in order, so the result does not depend on the block size.
    """
    n_cols = thresholds.shape[1]
    out = np.zeros(config_ids.shape, dtype=_code_dtype(n_cols + 1))
    if config_ids.size == 0 or n_cols == 0:
        return out
    if n_cols > _MAX_LINEAR_COLUMNS:
        # Many outcomes: a binary search per round (per configuration) beats comparing with every threshold.
        flat_cfg, flat_out = config_ids.reshape(-1), out.reshape(-1)
        u = uniform31(rng, flat_cfg.size)
        for cfg in np.flatnonzero(np.bincount(flat_cfg, minlength=thresholds.shape[0])):
            mask = flat_cfg == cfg
            flat_out[mask] = np.searchsorted(thresholds[cfg], u[mask], side="right")
        return out
    columns = [np.ascontiguousarray(thresholds[:, j]) for j in range(n_cols)]
    flat_cfg, flat_out = config_ids.reshape(-1), out.reshape(-1)
    for start in range(0, flat_cfg.size, _BLOCK):
        cfg = flat_cfg[start:start + _BLOCK]
        u = uniform31(rng, cfg.size)
        block = flat_out[start:start + _BLOCK]
        for col in columns:
            block += u >= col[cfg]
    return out


def _code_dtype(n_outcomes: int) -> type:
    for dtype in (np.uint8, np.uint16, np.uint32):
        if n_outcomes <= np.iinfo(dtype).max + 1:
            return dtype
    return np.uint64


def _cdf_thresholds(cdf: np.ndarray) -> np.ndarray:
    """Thresholds round(cdf * 2^31) (uint32), dropping trailing columns no round can pass.

    Probabilities 0 and 1 map to thresholds 2^31 and 0 exactly, so deterministic
    outcomes stay deterministic; others are rounded to a multiple of 2^-31.
    """
    t = threshold31(cdf[:, :-1])
    keep = t.shape[1]
    while keep > 0 and np.all(t[:, keep - 1] == ONE):
        keep -= 1
    return np.ascontiguousarray(t[:, :keep])


def _terminal_measures(circuit: QuantumCircuit) -> list[int] | None:
    """Qubit measured into each clbit, if every clbit is measured once at the end and no qubit
    is measured twice; else None."""
    qubit_of_clbit: dict[int, int] = {}
    measured: set[int] = set()
    for inst in circuit.data:
        qs = [circuit.find_bit(q).index for q in inst.qubits]
        if inst.operation.name == "measure":
            c = circuit.find_bit(inst.clbits[0]).index
            if c in qubit_of_clbit or qs[0] in measured:
                return None
            qubit_of_clbit[c] = qs[0]
            measured.add(qs[0])
        elif inst.operation.name == "barrier":
            continue
        elif measured.intersection(qs) or inst.clbits:
            return None
    if sorted(qubit_of_clbit) != list(range(circuit.num_clbits)):
        return None
    return [qubit_of_clbit[c] for c in range(circuit.num_clbits)]


def _distributions_cdf(circuits: tuple[QuantumCircuit, ...], measured: list[list[int]],
                       noise_model: NoiseModel | None, noise: _NoiseTerms | None) -> np.ndarray:
    """Cumulative outcome distributions, shape ``(n_configs, 2**n_clbits)``, measurement noise included."""
    width = 2 ** circuits[0].num_clbits
    if any(2 ** c.num_clbits != width for c in circuits):
        raise InvalidParameter("circuits", [c.num_clbits for c in circuits], "the same number of clbits")
    prepared = []
    for c, qubits in zip(circuits, measured):
        qc = c.remove_final_measurements(inplace=False)
        if noise is not None:
            # Aer applies a quantum error on "measure" just before the measurement; nothing acts on a
            # measured qubit afterwards, so applying it last is the same channel.
            for q in qubits:
                err = noise.measure_error(q)
                if err is not None:
                    qc.append(err.to_instruction(), [q])
        qc.save_probabilities(qubits)
        prepared.append(qc)
    # noise is None exactly when the model is None or ideal (_NoiseTerms.of): a pure state then
    method = "density_matrix" if noise is not None and noise.has_quantum_errors else "statevector"
    sim = AerSimulator(method=method, noise_model=noise_model)
    result = sim.run(prepared, shots=1).result()
    probs = np.array([np.asarray(result.data(i)["probabilities"], dtype=float) for i in range(len(prepared))])
    if noise is not None and noise.has_readout_errors:
        for i, qubits in enumerate(measured):
            probs[i] = _apply_confusion(probs[i], [noise.readout_matrix(q) for q in qubits])
    probs = np.clip(probs, 0.0, None)
    probs /= probs.sum(axis=1, keepdims=True)
    cdf = np.cumsum(probs, axis=1)
    cdf[:, -1] = 1.0
    return cdf


def _apply_confusion(probs: np.ndarray, matrices: list[np.ndarray | None]) -> np.ndarray:
    """Outcome distribution after independent readout errors.

    ``probs[x]`` is the probability of outcome code x (bit k = clbit k); ``matrices[k]``
    is clbit k's row-stochastic confusion matrix ``P[true, read]`` (``None``: no error).
    Returns ``sum_x probs[x] prod_k P_k[x_k, y_k]`` for every code y.
    """
    m = len(matrices)
    t = probs.reshape((2,) * m)  # C order: axis a holds bit m - 1 - a of the code
    for k, mat in enumerate(matrices):
        if mat is None:
            continue
        axis = m - 1 - k
        t = np.moveaxis(np.tensordot(t, mat, axes=([axis], [0])), -1, axis)
    return t.reshape(-1)


@dataclasses.dataclass(frozen=True, eq=False)
class _NoiseTerms:
    """What an Aer noise model does to measurements, read from its error tables.

    Aer's ``NoiseModel`` has no public accessor for its errors' objects, so this reads
    its ``_default_readout_error``, ``_local_readout_errors``, ``_default_quantum_errors``,
    ``_local_quantum_errors`` and ``_custom_noise_passes`` (qiskit-aer 0.17 and 0.18);
    when they are missing the model is ``opaque`` and only the shots path takes it.
    A local error on a qubit tuple overrides the all-qubit error for that tuple (Aer's rule).
    """

    default_readout: np.ndarray | None = None
    local_readout: dict[tuple[int, ...], np.ndarray] = dataclasses.field(default_factory=dict)
    default_measure: QuantumError | None = None
    local_measure: dict[tuple[int, ...], QuantumError] = dataclasses.field(default_factory=dict)
    other_quantum: frozenset[str] = frozenset()  # instructions other than measure with a quantum error
    custom_passes: bool = False
    opaque: bool = False

    @classmethod
    def of(cls, noise_model: NoiseModel | None) -> _NoiseTerms | None:
        """The terms of ``noise_model``; ``None`` when it is ``None`` or ideal."""
        if noise_model is None or noise_model.is_ideal():
            return None
        if not all(hasattr(noise_model, a) for a in _NOISE_TABLES):
            return cls(opaque=True)
        default_q = dict(noise_model._default_quantum_errors)
        local_q = {name: dict(errs) for name, errs in noise_model._local_quantum_errors.items() if errs}
        default_ro = noise_model._default_readout_error
        return cls(
            default_readout=None if default_ro is None else np.asarray(default_ro.probabilities, dtype=float),
            local_readout={tuple(qs): np.asarray(e.probabilities, dtype=float)
                           for qs, e in noise_model._local_readout_errors.items()},
            default_measure=default_q.pop("measure", None),
            local_measure={tuple(qs): e for qs, e in local_q.pop("measure", {}).items()},
            other_quantum=frozenset(default_q) | frozenset(local_q),
            custom_passes=bool(noise_model._custom_noise_passes),
        )

    @property
    def has_quantum_errors(self) -> bool:
        return bool(self.other_quantum or self.default_measure is not None or self.local_measure or self.opaque)

    @property
    def has_readout_errors(self) -> bool:
        return self.default_readout is not None or bool(self.local_readout)

    def readout_matrix(self, qubit: int) -> np.ndarray | None:
        """The 2x2 confusion matrix ``P[true, read]`` of a measurement of ``qubit`` (None: exact readout)."""
        return self.local_readout.get((qubit,), self.default_readout)

    def readout_flips(self, qubits: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """Per measured qubit, the probabilities that readout turns a 0 into 1 and a 1 into 0."""
        p0, p1 = np.zeros(len(qubits)), np.zeros(len(qubits))
        for i, q in enumerate(qubits):
            mat = self.readout_matrix(q)
            if mat is not None:
                p0[i], p1[i] = mat[0, 1], mat[1, 0]
        return p0, p1

    def measure_error(self, qubit: int) -> QuantumError | None:
        """The quantum error Aer applies to ``qubit`` just before measuring it."""
        return self.local_measure.get((qubit,), self.default_measure)

    def check_applied(self, circuits: tuple[QuantumCircuit, ...], noise_model: NoiseModel) -> None:
        """Raise when ``noise_model`` carries an error Aer would silently never apply to ``circuits``."""
        if self.opaque:
            return
        multi = [("ReadoutError", qs) for qs in self.local_readout if len(qs) > 1]
        multi += [("quantum error on 'measure'", qs) for qs in self.local_measure if len(qs) > 1]
        reasons = []
        if multi:
            measured = {c.find_bit(inst.qubits[0]).index for c in circuits for inst in c.data
                        if inst.operation.name == "measure"}
            reasons = [f"a {len(qs)}-qubit {what} on qubits {list(qs)}" for what, qs in multi
                       if measured.intersection(qs)]
        if self.default_measure is not None and self.default_measure.num_qubits != 1:
            reasons.append(f"an all-qubit {self.default_measure.num_qubits}-qubit quantum error on 'measure'")
        if reasons:
            raise InvalidParameter("noise_model", noise_model,
                                   "single-qubit readout errors and single-qubit quantum errors on 'measure'",
                                   f"noise_model carries {'; '.join(reasons)}: Aer applies such an error only "
                                   f"to one measurement of all its qubits at once, and Qiskit measurements "
                                   f"are one-qubit instructions, so no engine path would apply it")
        if "barrier" in self.other_quantum and any(inst.operation.name == "barrier"
                                                   for c in circuits for inst in c.data):
            raise InvalidParameter("noise_model", noise_model, "no quantum errors on 'barrier'",
                                   "noise_model carries a quantum error on 'barrier', which Aer never "
                                   "applies (so no engine path would); attach it to an identity gate instead")

    def distribution_refusal(self) -> str | None:
        """Why the distribution path cannot honour this noise exactly (None: it can)."""
        if self.opaque:
            return "cannot read this NoiseModel's error tables (unknown qiskit-aer version)"
        if self.custom_passes:
            return "cannot apply a NoiseModel's custom noise passes (they may act on the measurements)"
        return None

    def stabilizer_refusal(self) -> str | None:
        """Why the stabilizer path cannot honour this noise exactly (None: it can)."""
        if self.opaque:
            return "cannot read this NoiseModel's error tables (unknown qiskit-aer version)"
        if self.custom_passes:
            return "the noise model has custom noise passes"
        if self.has_quantum_errors:
            on_measure = self.default_measure is not None or bool(self.local_measure)
            names = sorted(self.other_quantum | ({"measure"} if on_measure else set()))
            return f"the noise model has quantum errors (on {', '.join(names)})"
        return None


_NOISE_TABLES = ("_default_readout_error", "_local_readout_errors", "_default_quantum_errors",
                 "_local_quantum_errors", "_custom_noise_passes")


def _is_clifford(circuit: QuantumCircuit) -> bool:
    """True when every instruction is a Clifford gate, measurement or reset."""
    return {inst.operation.name for inst in circuit.data} <= _CLIFFORD_GATES
