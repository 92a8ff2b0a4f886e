"""Quantum secret sharing (docs/conventions.md A8): HBB99 over GHZ_N and ((3,5)) threshold state sharing."""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit.library import UnitaryGate
from qiskit.quantum_info import DensityMatrix, Pauli, Statevector, partial_trace

from qproto._attacks import Eavesdropper, InterceptResend
from qproto._channel import Channel
from qproto._engine import CompiledConfigurations
from qproto._entanglement import click_noise_model
from qproto._errors import InvalidParameter
from qproto._protocol import ChannelForm, normalise_eavesdropper, register_protocol
from qproto._results import Estimate
from qproto._validation import check_int, check_probability
from qproto.noise_models._aer import channel_marker
from qproto.protocols._ghz_cka import IDENTITY, attack_branches, dephase, ghz_expectation, party_observable
from qproto.protocols._multiparty import (
    MultipartyProtocol, MultipartyResult, ghz_prefix, party_noise_model, randomise_noise_clicks,
    sample_arrivals_all, sample_bits, tally,
)

__all__ = ["HBBSecretSharing", "HBBResult", "HBBRounds", "XYInterceptResend", "ThresholdSharing",
           "ThresholdResult", "five_qubit_code_states", "threshold_recovery_bloch", "PAULI_STATES"]


# ---- HBB99 --------------------------------------------------------------------------------
def _uncounted(e: Estimate) -> Estimate:
    """``e`` without its counts: displayed, but not a proportion the checkers test or merges add."""
    return Estimate(e.low, e.best, e.high, e.confidence)


@dataclasses.dataclass(frozen=True, kw_only=True)
class XYInterceptResend(Eavesdropper):
    """A dishonest player's intercept-resend in the HBB bases: measure X or Y at random and resend.

    Written with deferred measurement, like :class:`qproto.InterceptResend`: the qubit's
    value in the chosen basis is copied onto the attacker's ancilla.

    Attributes:
        fraction: probability in [0, 1] that a round is attacked.
        p_x: probability in [0, 1] of measuring X (else Y).
    """

    name: ClassVar[str] = "intercept-resend-xy"
    n_branches: ClassVar[int] = 3

    fraction: float = 1.0
    p_x: float = 0.5

    def __post_init__(self) -> None:
        object.__setattr__(self, "fraction", check_probability("fraction", self.fraction))
        object.__setattr__(self, "p_x", check_probability("p_x", self.p_x))

    def draw_branches(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Branch 0: not attacked; 1: measured in X; 2: measured in Y."""
        u = rng.random(n)
        attacked = u < self.fraction
        in_y = u >= self.fraction * self.p_x
        return attacked.astype(np.uint8) + (attacked & in_y).astype(np.uint8)

    def apply(self, circuit: QuantumCircuit, qubit: int, ancilla: int, branch: int) -> None:
        if branch == 0:
            return
        if branch == 2:
            circuit.sdg(qubit)
        circuit.h(qubit)
        circuit.cx(qubit, ancilla)
        circuit.h(qubit)
        if branch == 2:
            circuit.s(qubit)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "fraction": self.fraction, "p_x": self.p_x}


@dataclasses.dataclass(frozen=True, eq=False)
class HBBRounds:
    """Per-round record of an HBB chunk.

    Attributes:
        config: configuration id per round: ``eve_branch << N | y_mask`` (bit j of
            ``y_mask`` set: party j measured Y, else X).
        detected: bool per round, every party clicked (``None``: all did).
        bases: ``(n_detected, N)`` uint8, 0 = X, 1 = Y (party 0 is the dealer); public.
        bits: ``(n_detected, N)`` uint8 outcomes; column 0 is the dealer's bit a.
        eve_bits: the attacker's record on detected rounds, or ``None``.
    """

    config: np.ndarray
    detected: np.ndarray | None
    bases: np.ndarray
    bits: np.ndarray
    eve_bits: np.ndarray | None

    @property
    def valid(self) -> np.ndarray:
        """Detected rounds with an even number of Y's."""
        return (self.bases.sum(axis=1) % 2) == 0

    @property
    def dealer_bit(self) -> np.ndarray:
        return self.bits[:, 0]

    @property
    def reconstructed(self) -> np.ndarray:
        """The players' joint reconstruction a' = XOR of their bits XOR (#Y/2 mod 2) (meaningful on valid rounds)."""
        return np.bitwise_xor.reduce(self.bits[:, 1:], axis=1) ^ ((self.bases.sum(axis=1) // 2) & 1).astype(np.uint8)


@dataclasses.dataclass(frozen=True, kw_only=True)
class HBBResult(MultipartyResult):
    """Result of :class:`HBBSecretSharing`.

    Tallies: ``detected``, ``valid``, ``valid_errors`` (valid rounds where the players'
    reconstruction differs from the dealer's bit), ``invalid``, ``invalid_agree``
    (invalid rounds with a = XOR of the others), ``single_agree`` (per player i,
    detected rounds with b_i = a), ``eve_valid`` / ``eve_correct`` (attacked valid
    rounds; those where the attacker's bit XOR the other players' bits gives a).

    Estimates include ``single_player_agreement_<i>`` (P(b_i = a) for player i, a proportion) and
    ``single_player_agreement`` (their max, for display: a max over players carries no counts).
    """

    TYPE: ClassVar[str] = "HBBResult"
    LABELS: ClassVar[dict[str, str]] = {
        "detection_rate": "P_all (per round)",
        "valid_fraction": "valid basis combinations",
        "error_rate": "reconstruction error (valid rounds)",
        "invalid_agreement": "P(a = XOR others), invalid rounds",
        "single_player_agreement": "max_i P(b_i = a)",
        "shared_bit_rate": "shared bits per round",
    }

    def count_shapes(self) -> dict[str, int]:
        n = self.parameters.get("parties", len(self.counts.get("single_agree", ())) + 1)
        one = ("detected", "valid", "valid_errors", "invalid", "invalid_agree", "eve_valid", "eve_correct")
        return {**{k: 1 for k in one}, "single_agree": int(n) - 1}

    def count_bounds(self) -> list[tuple[tuple[str, int], tuple[str, int]]]:
        det = ("detected", 0)
        return [(("single_agree", i), det) for i in range(len(self.counts["single_agree"]))] + [
            (("valid", 0), det), (("invalid", 0), det), (("valid_errors", 0), ("valid", 0)),
            (("invalid_agree", 0), ("invalid", 0)), (("eve_valid", 0), ("valid", 0)),
            (("eve_correct", 0), ("eve_valid", 0))]

    @property
    def error_rate(self) -> Estimate:
        return self._binom(self.c("valid_errors"), self.c("valid"))

    def estimates(self) -> dict[str, Estimate | float | int | None]:
        det = self.c("detected")
        agree = np.array(self.counts["single_agree"])
        return {
            "detection_rate": self._binom(det, self.rounds),
            "valid_fraction": self._binom(self.c("valid"), det),
            "error_rate": self.error_rate,
            "invalid_agreement": self._binom(self.c("invalid_agree"), self.c("invalid")),
            # A max over players is not a sampled proportion (biased upwards, not additive over
            # merged runs): displayed without counts; each player's is "single_player_agreement_<i>".
            "single_player_agreement": _uncounted(self._binom(int(agree.max()) if agree.size else 0, det)),
            "shared_bit_rate": self._binom(self.c("valid"), self.rounds),
            **{f"single_player_agreement_{i}": self._binom(int(a), det) for i, a in enumerate(agree, start=1)},
        }


@register_protocol
class HBBSecretSharing(MultipartyProtocol):
    """HBB99 quantum secret sharing over GHZ_N (docs/conventions.md A8).

    A central source sends GHZ_N qubit j to party j over its own channel; party 0 is the
    dealer, parties 1..N-1 the players. Each measures X or Y at random. The players
    announce bases first, then the dealer; a round is valid when the number of Y's is
    even, and then the players together reconstruct the dealer's bit as
    a = XOR_i b_i XOR (#Y/2 mod 2); no strict subset of them learns anything about it.
    An eavesdropper (e.g. a dishonest player's :class:`XYInterceptResend`, or
    :class:`qproto.InterceptResend`) attacks the qubit of ``attacked_party`` on its way,
    which raises the error rate on valid rounds.

    All 2^N basis combinations are compiled (distribution path), so N is limited to 8.

    Args:
        parties: N in [3, 8] (dealer plus N-1 players).
        attacked_party: the party whose qubit an eavesdropper attacks, in [1, N-1] (default N-1).
    """

    name: ClassVar[str] = "hbb-secret-sharing"
    RESULT = HBBResult
    MIN_PARTIES: ClassVar[int] = 3
    MAX_PARTIES: ClassVar[int] = 8

    def __init__(self, *, parties: int = 3, attacked_party: int | None = None):
        self._set_parties(parties)
        self.attacked_party = (self.parties - 1 if attacked_party is None
                               else self._check_party("attacked_party", attacked_party, lo=1))

    def parameters(self) -> dict[str, Any]:
        return {"parties": self.parties, "attacked_party": self.attacked_party}

    def build_circuits(self, *, eavesdropper: Eavesdropper | None = None,
                       form: ChannelForm = "fast") -> tuple[QuantumCircuit, ...]:
        """Configuration ``eve_branch << N | y_mask``; clbit j = party j, clbit N = attacker."""
        if form != "fast":
            raise InvalidParameter("form", form, "'fast'", f"{self.name} samples loss in closed form only")
        n = self.parties
        nq = n + (eavesdropper is not None)
        branches = 1 if eavesdropper is None else eavesdropper.n_branches
        circuits = []
        for cfg in range(branches << n):
            branch, ymask = cfg >> n, cfg & ((1 << n) - 1)
            qc = ghz_prefix(n, nq, nq, name=f"hbb{n}_e{branch}_y{ymask}", markers=False)
            if eavesdropper is not None:
                eavesdropper.apply(qc, self.attacked_party, n, branch)
            for j in range(n):
                qc.append(channel_marker(), [j])
                if (ymask >> j) & 1:
                    qc.sdg(j)
                qc.h(j)
            qc.measure(range(nq), range(nq))
            circuits.append(qc)
        return tuple(circuits)

    def noise_model(self, channels: tuple[Channel, ...], *, eavesdropper: Eavesdropper | None = None,
                    form: ChannelForm = "fast"):
        return party_noise_model(channels, form="depolarising")

    def sample_chunk(self, compiled: CompiledConfigurations, channels: tuple[Channel, ...], rounds: int,
                     rng: np.random.Generator, *, eavesdropper: Eavesdropper | None, form: ChannelForm,
                     aer_seed: int) -> HBBRounds:
        n = self.parties
        ymask = np.frombuffer(rng.bytes(rounds * 2), dtype=np.uint16) & np.uint16((1 << n) - 1)
        cfg = ymask.astype(np.uint16)
        if eavesdropper is not None:
            cfg = cfg | (eavesdropper.draw_branches(rounds, rng).astype(np.uint16) << n)
        detected, noise_only = sample_arrivals_all(channels, rounds, rng)
        det_cfg = cfg if detected is None else cfg[detected]
        bits = sample_bits(compiled, det_cfg, rng, aer_seed=aer_seed)
        randomise_noise_clicks(bits, noise_only, rng, columns=range(n))
        bases = ((det_cfg[:, None] >> np.arange(n, dtype=np.uint16)) & 1).astype(np.uint8)
        eve = None
        if eavesdropper is not None:
            eve, bits = bits[:, n], bits[:, :n]
        return HBBRounds(config=cfg, detected=detected, bases=bases, bits=np.ascontiguousarray(bits), eve_bits=eve)

    def analyse(self, record: HBBRounds):
        valid = record.valid
        a = record.dealer_bit
        err = record.reconstructed != a
        others = np.bitwise_xor.reduce(record.bits[:, 1:], axis=1)
        single = (record.bits[:, 1:] == a[:, None]).sum(axis=0)
        eve_valid = eve_correct = 0
        if record.eve_bits is not None:
            det_cfg = record.config if record.detected is None else record.config[record.detected]
            att = valid & ((det_cfg >> self.parties) > 0)
            k = self.attacked_party
            # The attacker replaces party k's bit by her own record in the reconstruction.
            guess = record.reconstructed ^ record.bits[:, k] ^ record.eve_bits
            eve_valid, eve_correct = int(att.sum()), int(np.sum(guess[att] == a[att]))
        return tally(detected=len(a), valid=int(valid.sum()), valid_errors=int(np.sum(err & valid)),
                     invalid=int(np.sum(~valid)), invalid_agree=int(np.sum(~valid & (others == a))),
                     single_agree=single, eve_valid=eve_valid, eve_correct=eve_correct)

    def expected(self, channel: Channel | Sequence[Channel], *,
                 eavesdropper: Eavesdropper | str | None = None) -> dict[str, float]:
        """Closed forms (docs/conventions.md A8), computed on GHZ_N independently of the circuits.

        Every basis combination (bit j of the mask: party j measures Y, else X) is
        equally likely; each party's measurement is pulled back through its own channel
        (:func:`~qproto.protocols._ghz_cka.party_observable`; a coherent rotation turns
        X and Y, and rotations on several qubits add coherently) and an attacker's
        deferred measurement dephases the attacked qubit in her basis. With
        E = <A_0 ... A_{N-1}> (:func:`~qproto.protocols._ghz_cka.ghz_expectation`):

        * ``error_rate``: mean over valid masks (even #Y) of [1 - (-1)^{#Y/2} E]/2, which
          is [1 - prod_j (1-p_j)]/2 without rotation or attack (dealer included);
        * ``invalid_agreement``: mean over odd masks of P(a = XOR others) = (1 + E)/2
          (1/2 without rotation);
        * ``single_player_agreement_<i>``: the mean over all masks of (1 + <A_0 A_i>)/2 for
          player i (1/2 unless a rotation tilts X or Y towards Z), and ``single_player_agreement``
          their max;
        * ``valid_fraction`` 1/2, ``detection_rate`` prod_j P_click,j, ``shared_bit_rate`` half of it.

        An :class:`XYInterceptResend` (fraction f, X with probability p_x) or a
        :class:`qproto.InterceptResend` (Z with probability p_z) is averaged over its branches;
        without rotation the error becomes [1 - V c]/2, c = 1 - f/2 (X/Y) or
        1 - f + f(1-p_z)/2 (Z/X), V = prod_j (1-p_j).

        Raises:
            InvalidParameter: another eavesdropper.
        """
        channels = self.normalise_channels(channel)
        n, k = self.parties, self.attacked_party
        eve = normalise_eavesdropper(eavesdropper)
        branches = attack_branches(eve, {XYInterceptResend: ("p_x", "X", "Y"), InterceptResend: ("p_z", "Z", "X")})
        obs = {b: [party_observable(ch, b) for ch in channels] for b in "XY"}
        error = invalid_agree = 0.0
        single = np.zeros(n - 1)
        for mask in range(1 << n):
            n_y = bin(mask).count("1")
            base = [obs["Y" if (mask >> j) & 1 else "X"][j] for j in range(n)]
            for w, basis in branches:
                ops = list(base)
                if basis is not None:
                    ops[k] = dephase(ops[k], basis)
                e = ghz_expectation(ops)
                if n_y % 2 == 0:
                    error += w * (1.0 - (-1) ** (n_y // 2) * e) / 2.0
                else:
                    invalid_agree += w * (1.0 + e) / 2.0
                for i in range(1, n):
                    pair = [IDENTITY] * n
                    pair[0], pair[i] = ops[0], ops[i]
                    single[i - 1] += w * (1.0 + ghz_expectation(pair)) / 2.0
        half = float(1 << (n - 1))
        single = single / (2 * half)
        p_all = float(np.prod([ch.detection_probability for ch in channels]))
        out = {"detection_rate": p_all, "valid_fraction": 0.5, "error_rate": error / half,
               "invalid_agreement": invalid_agree / half, "single_player_agreement": float(np.max(single)),
               "shared_bit_rate": p_all / 2.0}
        out.update({f"single_player_agreement_{i}": float(a) for i, a in enumerate(single, start=1)})
        return out


# ---- ((3,5)) threshold quantum state sharing ----------------------------------------------------
#: The six Pauli eigenstates used as secrets: (basis, bit) with basis 0 = Z, 1 = X, 2 = Y.
PAULI_STATES: tuple[tuple[int, int], ...] = tuple((b, v) for b in range(3) for v in range(2))


@functools.lru_cache(maxsize=1)
def five_qubit_code_states() -> tuple[np.ndarray, np.ndarray]:
    """|0_L>, |1_L> of the [[5,1,3]] code (stabilisers XZZXI and cyclic shifts; X_L = XXXXX)."""
    gens = ["XZZXI", "IXZZX", "XIXZZ", "ZXIXZ"]
    proj = np.eye(32, dtype=complex)
    for g in gens:
        proj = proj @ (np.eye(32) + Pauli(g).to_matrix()) / 2.0
    zero = proj[:, 0] / np.linalg.norm(proj[:, 0])
    one = Pauli("XXXXX").to_matrix() @ zero
    return zero, one


@functools.lru_cache(maxsize=1)
def _encoder() -> np.ndarray:
    """A 5-qubit unitary with U|s>|0000> = |s_L> (secret on qubit 0)."""
    zero, one = five_qubit_code_states()
    cols = np.zeros((32, 32), dtype=complex)
    cols[:, 0], cols[:, 1] = zero, one
    # Complete to a unitary: Gram-Schmidt on the identity.
    basis = [zero, one]
    for e in np.eye(32):
        v = e - sum(np.vdot(b, e) * b for b in basis)
        if np.linalg.norm(v) > 1e-9:
            basis.append(v / np.linalg.norm(v))
    u = np.array(basis[:32]).T
    return u


def _axes_matrix(state: np.ndarray, keep: Sequence[int], n: int = 5) -> np.ndarray:
    """``state`` as a matrix (index over ``keep``, index over the rest), little-endian in each."""
    rest = [q for q in range(n) if q not in keep]
    t = state.reshape([2] * n)  # axis a holds qubit n-1-a
    order = [n - 1 - q for q in reversed(keep)] + [n - 1 - q for q in reversed(rest)]
    return t.transpose(order).reshape(2 ** len(keep), 2 ** len(rest))


@functools.lru_cache(maxsize=None)
def _decoder(shares: tuple[int, int, int]) -> np.ndarray:
    """Unitary on 3 shares moving the secret onto the first of them (docs/conventions.md A8, Cleve-Gottesman-Lo)."""
    zero, one = five_qubit_code_states()
    m0, m1 = _axes_matrix(zero, shares), _axes_matrix(one, shares)
    w = np.zeros((8, 8), dtype=complex)
    for k in range(4):
        w[:, 0 + 2 * k] = 2.0 * m0[:, k]
        w[:, 1 + 2 * k] = 2.0 * m1[:, k]
    return w.conj().T


def prepare_pauli_state(qc: QuantumCircuit, qubit: int, basis: int, bit: int) -> None:
    """Append to ``qc`` the gates preparing ``qubit`` (from |0>) in the eigenstate of Z, X or Y
    (``basis`` 0, 1, 2) with eigenvalue (-1)^``bit``: X^bit, then H for X and Y, then S for Y."""
    if bit:
        qc.x(qubit)
    if basis >= 1:
        qc.h(qubit)
    if basis == 2:
        qc.s(qubit)


def unprepare_pauli_state(qc: QuantumCircuit, qubit: int, basis: int) -> None:
    """Append the inverse basis change of :func:`prepare_pauli_state` (S^dagger for Y, then H for
    X and Y), so a Z measurement of ``qubit`` reads the ``basis`` (0 Z, 1 X, 2 Y) eigenvalue's bit."""
    if basis == 2:
        qc.sdg(qubit)
    if basis >= 1:
        qc.h(qubit)


# Closed form of the ((3,5)) recovery, by Pauli algebra on the stabiliser group (independent of the
# encoder, decoder and code-state vectors used by the circuits). A Pauli string is a tuple of codes
# 0 = I, 1 = X, 2 = Y, 3 = Z, position j = share (qubit) j.
#: [[5,1,3]] stabiliser generators (docs/conventions.md A8; the code is cyclic and reversal-symmetric).
_STABILISER_GENERATORS = ("XZZXI", "IXZZX", "XIXZZ", "ZXIXZ")
_LOGICAL = {1: "XXXXX", 2: "YYYYY", 3: "ZZZZZ"}  # X_L, Y_L = i X_L Z_L, Z_L


def _pauli_code(label: str) -> tuple[int, ...]:
    return tuple("IXYZ".index(c) for c in label)


def _pauli_product(a: tuple[complex, tuple[int, ...]], b: tuple[complex, tuple[int, ...]]
                   ) -> tuple[complex, tuple[int, ...]]:
    """(phase, string) of the product of two phased Pauli strings (sigma_a sigma_b = i eps_abc sigma_c)."""
    phase = a[0] * b[0]
    out = []
    for x, y in zip(a[1], b[1]):
        if x and y and x != y:
            phase *= 1j if (y - x) % 3 == 1 else -1j
        out.append(x ^ y)
    return phase, tuple(out)


@functools.lru_cache(maxsize=1)
def _normaliser_table() -> dict[tuple[int, ...], tuple[int, complex]]:
    """string -> (P, lam) with string = lam L_P s for some stabiliser s (P = 0 for the stabiliser itself),
    so <psi_L| string |psi_L> = lam <psi| P |psi>; strings absent from the table have expectation 0."""
    group = [(1.0 + 0j, (0,) * 5)]
    for g in _STABILISER_GENERATORS:
        group += [_pauli_product(e, (1.0 + 0j, _pauli_code(g))) for e in group]
    table: dict[tuple[int, ...], tuple[int, complex]] = {}
    for p in range(4):
        logical = (1.0 + 0j, _pauli_code(_LOGICAL[p]) if p else (0,) * 5)
        for st in group:
            phase, string = _pauli_product(logical, st)
            table[string] = (p, 1.0 / phase)
    return table


def threshold_recovery_bloch(channels: Sequence[Channel], shares: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The recovered secret's Bloch vector r = T n + t for a secret with Bloch vector n (closed form).

    The decoder maps a logical operator supported on the pooled ``shares`` to the
    same Pauli on the recovered qubit (and identity on the rest), so r_P = Tr[N(rho_L) L_P]
    for a representative L_P = lam X_L.. s of the logical Pauli on the shares (one
    exists by the cleaning lemma, since the other two shares carry nothing). Each
    share's channel is pulled back onto L_P in the Heisenberg picture
    (:func:`~qproto.protocols._ghz_cka.party_observable`: click-conditioned
    depolarising and coherent rotation) and the Pauli strings that appear are
    evaluated on the code state through the stabiliser group. Channels of shares
    not pooled do not matter.

    Args:
        channels: one :class:`Channel` per share (5).
        shares: the 3 pooled shares.

    Returns:
        (T, t): the 3x3 matrix and 3-vector, in the order X, Y, Z.
    """
    table = _normaliser_table()
    by_logical = {}
    for string, (p, lam) in table.items():
        if p and all(string[j] == 0 for j in range(5) if j not in shares):
            by_logical.setdefault(p, (string, 1.0 / lam))  # L_P on the code = (1/lam) string
    t_mat, t_vec = np.zeros((3, 3)), np.zeros(3)
    for p in (1, 2, 3):
        rep, coeff = by_logical[p]
        support = [j for j in range(5) if rep[j]]
        rows = [party_observable(channels[j], "XYZ"[rep[j] - 1])[1:] for j in support]
        for choice in itertools.product(range(3), repeat=len(support)):
            string = list(rep)
            c = coeff
            for j, row, b in zip(support, rows, choice):
                string[j] = b + 1
                c = c * row[b]
            hit = table.get(tuple(string))
            if hit is None or c == 0:
                continue
            q, lam = hit
            value = c * lam
            if q == 0:
                t_vec[p - 1] += value.real
            else:
                t_mat[p - 1, q - 1] += value.real
    return t_mat, t_vec


@dataclasses.dataclass(frozen=True, kw_only=True)
class ThresholdResult(MultipartyResult):
    """Result of :class:`ThresholdSharing`. Tallies: ``recovered`` / ``success`` (rounds where
    k shares were collected, and those where the secret was recovered), per secret state."""

    TYPE: ClassVar[str] = "ThresholdResult"
    LABELS: ClassVar[dict[str, str]] = {
        "detection_rate": "k shares arrive (per round)",
        "fidelity": "recovered-secret fidelity (6-state average)",
    }

    def count_shapes(self) -> dict[str, int]:
        return {"recovered": 6, "success": 6}

    def count_bounds(self) -> list[tuple[tuple[str, int], tuple[str, int]]]:
        return [(("success", i), ("recovered", i)) for i in range(6)]

    def estimates(self) -> dict[str, Estimate | float | int | None]:
        n = sum(self.counts["recovered"])
        return {"detection_rate": self._binom(n, self.rounds),
                "fidelity": self._binom(sum(self.counts["success"]), n)}


@register_protocol
class ThresholdSharing(MultipartyProtocol):
    """((k, n)) threshold quantum state sharing (Cleve, Gottesman, Lo 1999; docs/conventions.md A8).

    The dealer encodes a secret qubit into n shares with the [[5,1,3]] code (the ((3,5))
    scheme) and sends share j to party j over its own channel. Each round a random set
    of k parties pools its shares and runs the decoding unitary, which moves the secret
    onto one qubit; that qubit is measured in the basis of the secret (one of the six
    Pauli eigenstates, a 2-design, so the success rate is the average fidelity). A round
    counts when the k chosen shares arrive (sampled in closed form); a lost share among
    the other n-k does not matter. Any k-1 shares hold a state independent of the
    secret (:meth:`share_state`).

    A threshold scheme exists iff k <= n < 2k; only ((3,5)) is implemented.

    Args:
        k: shares needed to recover the secret.
        n: number of shares (parties).
    """

    name: ClassVar[str] = "threshold-sharing"
    RESULT = ThresholdResult

    def __init__(self, *, k: int = 3, n: int | None = None, parties: int | None = None):
        if n is not None and parties is not None and n != parties:
            raise InvalidParameter("parties", parties, f"equal to n={n}")
        if parties is not None:  # the number of parties is n: check it under the name the caller used
            check_int("parties", parties, minimum=5, maximum=5)
        n = parties if n is None else n
        n = 5 if n is None else n
        self.k = check_int("k", k, minimum=1)
        self.n = check_int("n", n, minimum=1)
        if self.k > self.n:
            raise InvalidParameter("k", k, f"k <= n = {self.n}", f"k={k} > n={self.n}: a ((k, n)) threshold "
                                   "scheme needs k <= n < 2k")
        if self.n >= 2 * self.k:
            raise InvalidParameter("n", n, f"n < 2k = {2 * self.k}", f"n={n} >= 2k={2 * self.k}: two disjoint sets "
                                   "of k shares would clone the secret (no-cloning); need k <= n < 2k")
        if (self.k, self.n) != (3, 5):
            raise InvalidParameter("k", (self.k, self.n), "(k, n) = (3, 5)",
                                   f"((k, n)) = (({self.k}, {self.n})) is allowed in principle but only "
                                   "the ((3, 5)) five-qubit-code scheme is implemented")
        self.parties = self.n
        self.n_channels = self.n
        self.subsets = tuple(itertools.combinations(range(self.n), self.k))

    def parameters(self) -> dict[str, Any]:
        return {"k": self.k, "n": self.n}

    def encoding_circuit(self, basis: int = 0, bit: int = 0) -> QuantumCircuit:
        """Preparation of a Pauli-eigenstate secret on qubit 0 and its encoding into 5 shares."""
        qc = QuantumCircuit(self.n)
        prepare_pauli_state(qc, 0, basis, bit)
        qc.append(UnitaryGate(_encoder(), label="encode_5_1_3"), range(5))
        return qc

    def share_state(self, secret: Statevector | np.ndarray, shares: Sequence[int]) -> DensityMatrix:
        """Exact reduced state of ``shares`` for an arbitrary secret qubit (noiseless encoding).

        Args:
            secret: a one-qubit state (Statevector or 2-vector).
            shares: distinct party indices in [0, n-1].
        """
        shares = [check_int("shares", s, minimum=0, maximum=self.n - 1) for s in shares]
        if len(set(shares)) != len(shares):
            raise InvalidParameter("shares", shares, "distinct party indices")
        psi = np.asarray(Statevector(secret).data)
        zero, one = five_qubit_code_states()
        logical = Statevector(psi[0] * zero + psi[1] * one)
        return partial_trace(logical, [q for q in range(self.n) if q not in shares])

    def recovery_fidelity(self, secret: Statevector | np.ndarray, shares: Sequence[int]) -> float:
        """Exact fidelity of the secret recovered from ``shares`` (k of them) by the decoding circuit."""
        shares = tuple(sorted(shares))
        if shares not in self.subsets:
            raise InvalidParameter("shares", shares, f"{self.k} distinct indices in [0, {self.n - 1}]")
        psi = Statevector(secret)
        zero, one = five_qubit_code_states()
        qc = QuantumCircuit(self.n)
        qc.append(UnitaryGate(_decoder(shares)), list(shares))
        out = Statevector(psi.data[0] * zero + psi.data[1] * one).evolve(qc)
        rho = partial_trace(out, [q for q in range(self.n) if q != shares[0]])
        return float(np.real(np.vdot(psi.data, rho.data @ psi.data)))

    def build_circuits(self, *, eavesdropper: Eavesdropper | None = None,
                       form: ChannelForm = "fast") -> tuple[QuantumCircuit, ...]:
        """Configuration ``secret * len(subsets) + subset``; one clbit (0 = secret recovered)."""
        if eavesdropper is not None:
            raise InvalidParameter("eavesdropper", eavesdropper, "None", f"{self.name} models no eavesdropper")
        if form != "fast":
            raise InvalidParameter("form", form, "'fast'", f"{self.name} samples loss in closed form only")
        circuits = []
        for (basis, bit), shares in itertools.product(PAULI_STATES, self.subsets):
            qc = QuantumCircuit(self.n, 1, name=f"share_b{basis}{bit}_{''.join(map(str, shares))}")
            qc.compose(self.encoding_circuit(basis, bit), inplace=True)
            for j in range(self.n):
                qc.append(channel_marker(), [j])
            qc.append(UnitaryGate(_decoder(shares), label="decode"), list(shares))
            unprepare_pauli_state(qc, shares[0], basis)
            if bit:
                qc.x(shares[0])
            qc.measure(shares[0], 0)
            circuits.append(qc)
        return tuple(circuits)

    def noise_model(self, channels: tuple[Channel, ...], *, eavesdropper: Eavesdropper | None = None,
                    form: ChannelForm = "fast"):
        """Each share's click-conditioned channel on its marker (docs/conventions.md C.8(b)).

        A round counts when the pooled shares click; given a click a share is the signal
        (rotation, then depolarising) or, on a noise-only click, maximally mixed, and
        the mixture is the depolarising parameter p_eff after the rotation
        (:func:`qproto._entanglement.click_channel`). Shares not pooled are traced out,
        so their channels do not matter.
        """
        return click_noise_model(dict(enumerate(channels)))

    def sample_chunk(self, compiled: CompiledConfigurations, channels: tuple[Channel, ...], rounds: int,
                     rng: np.random.Generator, *, eavesdropper: Eavesdropper | None, form: ChannelForm,
                     aer_seed: int):
        n_sub = len(self.subsets)
        secret = rng.integers(0, len(PAULI_STATES), rounds)
        subset = rng.integers(0, n_sub, rounds)
        cfg = secret * n_sub + subset
        # The k pooled shares must click; what a noise-only click hands over is in the noise model.
        members = np.array(self.subsets)[subset]
        p_click = np.array([ch.detection_probability for ch in channels])
        arrived = np.all(rng.random((rounds, self.k)) < p_click[members], axis=1)
        outcome = sample_bits(compiled, cfg[arrived], rng, aer_seed=aer_seed)[:, 0]
        return cfg, arrived, outcome

    def analyse(self, record):
        cfg, arrived, outcome = record
        secret = (cfg[arrived] // len(self.subsets)).astype(np.int64)
        m = len(PAULI_STATES)
        return tally(recovered=np.bincount(secret, minlength=m),
                     success=np.bincount(secret, weights=(outcome == 0), minlength=m).astype(np.int64))

    def expected(self, channel: Channel | Sequence[Channel], *,
                 eavesdropper: Eavesdropper | str | None = None) -> dict[str, float]:
        """``detection_rate`` (mean over the pooled subsets of prod_j P_click,j) and ``fidelity``.

        The fidelity is a closed form independent of the circuits
        (:func:`threshold_recovery_bloch`): for each subset, the recovered Bloch vector
        r = T n + t gives F = (1 + n . r)/2 for each of the six Pauli-eigenstate
        secrets n = +-e_b (a 2-design: their mean is 1/2 + tr(T)/6); subsets are weighted
        by the probability that their shares click (a round counts only then), and a
        noise-only click is a maximally mixed share (the click-conditioned channel).

        Raises:
            InvalidParameter: an eavesdropper (none is modelled).
        """
        if eavesdropper is not None:
            raise InvalidParameter("eavesdropper", eavesdropper, "None", f"{self.name} models no eavesdropper")
        channels = self.normalise_channels(channel)
        p_click = np.array([ch.detection_probability for ch in channels])
        det = np.array([float(np.prod(p_click[list(sub)])) for sub in self.subsets])
        out = {"detection_rate": float(np.mean(det))}
        fid = []
        for sub in self.subsets:
            t_mat, t_vec = threshold_recovery_bloch(channels, sub)
            f = 0.0
            for basis, bit in PAULI_STATES:
                n_vec = np.zeros(3)
                n_vec[(2, 0, 1)[basis]] = -1.0 if bit else 1.0  # basis 0 = Z, 1 = X, 2 = Y
                f += (1.0 + n_vec @ (t_mat @ n_vec + t_vec)) / 2.0
            fid.append(f / len(PAULI_STATES))
        if det.sum() > 0:
            out["fidelity"] = float(np.dot(det, fid) / det.sum())
        return out
