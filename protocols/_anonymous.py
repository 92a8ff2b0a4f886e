"""Anonymous transmission (docs/conventions.md A9): Christandl-Wehner over GHZ, the quantum anonymous bit,
and the classical Broadbent-Tapp parity / anonymous-bit protocol.

Every result keeps the public broadcasts of its rounds available through
``Protocol.sample`` (the per-round record), so the independence checkers of
:mod:`qproto.testing` can test that their distribution does not depend on the sender.
"""

from __future__ import annotations

import math

import dataclasses
import itertools
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import numpy as np
from qiskit import QuantumCircuit

from qproto._attacks import Eavesdropper
from qproto._channel import Channel
from qproto._engine import CompiledConfigurations
from qproto._entanglement import click_noise_model
from qproto._errors import InvalidParameter
from qproto._protocol import ChannelForm, register_protocol
from qproto._random import random_bits
from qproto._results import Estimate
from qproto._validation import check_int, check_one_of
from qproto.noise_models._aer import channel_marker
from qproto.protocols._ghz_cka import IDENTITY, ghz_expectation, party_observable
from qproto.protocols._multiparty import (
    MultipartyProtocol, MultipartyResult, ghz_prefix, party_noise_model, randomise_noise_clicks,
    sample_arrivals_all, sample_bits, tally,
)
from qproto.protocols._secret_sharing import PAULI_STATES, prepare_pauli_state, unprepare_pauli_state

__all__ = ["AnonymousTransmission", "AnonymousTransmissionResult", "AnonymousRounds", "QuantumAnonymousBit",
           "AnonymousBitResult", "BroadbentTapp", "BroadbentTappRounds", "coalition_view_distribution",
           "anonymous_pair_fidelity"]

#: Test bases of the anonymous pair: both parties measure XX, YY or ZZ; Phi+ has correlations +1, -1, +1.
PAIR_TESTS = ("XX", "YY", "ZZ")
_PAIR_SIGN = (1, -1, 1)


def anonymous_pair_fidelity(p: Sequence[float], sender: int, receiver: int) -> float:
    """F = [1 + 2 prod_j (1-p_j) + (1-p_S)(1-p_R)]/4 under local depolarising p_j (docs/conventions.md A9)."""
    v = 1.0 - np.asarray(p, dtype=float)
    return float((1.0 + 2.0 * np.prod(v) + v[sender] * v[receiver]) / 4.0)


def _basis_change(qc: QuantumCircuit, q: int, basis: str) -> None:
    if basis == "Y":
        qc.sdg(q)
    if basis in "XY":
        qc.h(q)


class _SenderProtocol(MultipartyProtocol):
    """A protocol with a designated sender (and receiver) among ``parties``."""

    def _set_roles(self, sender: int, receiver: int | None) -> None:
        self.sender = self._check_party("sender", sender)
        if receiver is not None:
            self.receiver = self._check_party("receiver", receiver)
            if self.receiver == self.sender:
                raise InvalidParameter("receiver", receiver, f"a party other than sender={self.sender}")

    def _check_form(self, eavesdropper: Eavesdropper | None, form: ChannelForm) -> None:
        if eavesdropper is not None:
            raise InvalidParameter("eavesdropper", eavesdropper, "None", f"{self.name} models no eavesdropper")
        if form != "fast":
            raise InvalidParameter("form", form, "'fast'", f"{self.name} samples loss in closed form only")


# ---- Christandl-Wehner anonymous entanglement / qubit transmission -----------------------------
@dataclasses.dataclass(frozen=True, eq=False)
class AnonymousRounds:
    """Per-round record of anonymous transmission (detected rounds only, except ``detected``).

    Attributes:
        detected: bool per round: every party clicked (``None``: all did).
        config: configuration id of each detected round.
        broadcasts: ``(n_detected, N)`` uint8, the public bit of every party (x_j for
            j not in {S, R}; the random r_S, r_R of sender and receiver). Public.
        test: index into :data:`PAIR_TESTS` (entanglement mode) or into
            :data:`~qproto.protocols._secret_sharing.PAULI_STATES` (qubit mode).
        outcome_s, outcome_r: the sender's and receiver's test outcomes (``outcome_s``
            is the teleported state's basis bit in qubit mode).
        teleport_bits: ``(n_detected, 2)`` Bell-measurement bits (m0, m1) announced
            anonymously in qubit mode, else ``None``.
    """

    detected: np.ndarray | None
    config: np.ndarray
    broadcasts: np.ndarray
    test: np.ndarray
    outcome_s: np.ndarray
    outcome_r: np.ndarray
    teleport_bits: np.ndarray | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class AnonymousTransmissionResult(MultipartyResult):
    """Result of :class:`AnonymousTransmission`.

    Tallies: ``tests`` / ``agree`` (entanglement mode: per test basis XX, YY, ZZ, detected
    rounds and rounds with equal outcomes) or ``states`` / ``success`` (qubit mode: per
    secret state, rounds and rounds where the receiver found it), ``detected``.
    """

    TYPE: ClassVar[str] = "AnonymousTransmissionResult"
    LABELS: ClassVar[dict[str, str]] = {
        "detection_rate": "P_all (per round)",
        "pair_fidelity": "anonymous pair fidelity to Phi+",
        "teleport_fidelity": "teleported-qubit fidelity",
    }

    def count_shapes(self) -> dict[str, int]:
        if self.parameters.get("mode", "entanglement") == "entanglement":
            return {"detected": 1, "tests": 3, "agree": 3}
        return {"detected": 1, "states": 6, "success": 6}

    def count_bounds(self) -> list[tuple[tuple[str, int], tuple[str, int]]]:
        pairs = ("tests", "agree") if self.parameters.get("mode", "entanglement") == "entanglement" \
            else ("states", "success")
        n = len(self.counts[pairs[0]])
        return [((pairs[1], i), (pairs[0], i)) for i in range(n)]

    @property
    def correlators(self) -> tuple[float, ...]:
        """E_XX, E_YY, E_ZZ of the anonymous pair."""
        return tuple((2 * a - n) / n if n else float("nan") for a, n in zip(self.counts["agree"], self.counts["tests"]))

    def estimates(self) -> dict[str, Estimate | float | int | None]:
        out: dict[str, Any] = {"detection_rate": self._binom(self.c("detected"), self.rounds)}
        if "tests" in self.counts:
            # F = (1 + E_XX - E_YY + E_ZZ)/4 = (1/4)(1 + sum_b sign_b (2 P_agree,b - 1)).
            ps = [self._binom(a, n) for a, n in zip(self.counts["agree"], self.counts["tests"])]

            def f(vals: Sequence[float]) -> float:
                return (1.0 + sum(s * (2 * v - 1) for s, v in zip(_PAIR_SIGN, vals))) / 4.0

            lo = [p.low if s > 0 else p.high for p, s in zip(ps, _PAIR_SIGN)]
            hi = [p.high if s > 0 else p.low for p, s in zip(ps, _PAIR_SIGN)]
            best = [p.best for p in ps]
            # A fidelity lies in [0, 1]: the correlators' intervals, taken separately, can reach past it
            # (with no test rounds they give [-0.5, 1]).
            def clip(x: float) -> float:
                return x if math.isnan(x) else min(max(x, 0.0), 1.0)

            out["pair_fidelity"] = Estimate(clip(f(lo)), clip(f(best)), clip(f(hi)), self.confidence)
        else:
            out["teleport_fidelity"] = self._binom(sum(self.counts["success"]), sum(self.counts["states"]))
        return out


@register_protocol
class AnonymousTransmission(_SenderProtocol):
    """Christandl-Wehner anonymous entanglement and anonymous qubit transmission (docs/conventions.md A9).

    A central source sends GHZ_N qubit j to party j over its own channel. Every party
    other than the sender S and receiver R measures X and broadcasts x_j; S and R
    broadcast uniformly random bits r_S, r_R. S applies Z^{r_S}; R applies Z^Q with Q the
    XOR of every broadcast but its own. S and R then share Phi+ and nobody else learns
    who they are: the N broadcasts are uniform whoever sends.

    ``mode="entanglement"``: S and R test the pair in XX, YY or ZZ (random per round),
    giving the fidelity F = (1 + E_XX - E_YY + E_ZZ)/4. ``mode="qubit"``: S teleports a
    random Pauli eigenstate (a 2-design) over the pair, the two Bell-measurement bits
    being announced anonymously (e.g. with :class:`BroadbentTapp`); R applies the
    correction and measures in the state's basis; success rate = average fidelity
    (2F+1)/3. Classically controlled corrections are written by deferred measurement
    (controlled gates from the measured qubits). A round counts when all N parties click.

    Args:
        parties: N >= 3.
        sender, receiver: distinct party indices in [0, N-1] (default 0 and 1).
        mode: ``"entanglement"`` or ``"qubit"``.
    """

    name: ClassVar[str] = "anonymous-transmission"
    RESULT = AnonymousTransmissionResult
    MIN_PARTIES: ClassVar[int] = 3
    #: Circuits grow with N (one qubit per party) and so does the transpiler's work: bounded so that a
    #: run compiles in seconds and well under 1 GiB.
    MAX_PARTIES: ClassVar[int] = 200

    def __init__(self, *, parties: int = 4, sender: int = 0, receiver: int = 1,
                 mode: Literal["entanglement", "qubit"] = "entanglement"):
        self._set_parties(parties)
        self._set_roles(sender, receiver)
        self.mode = check_one_of("mode", mode, ("entanglement", "qubit"))

    def parameters(self) -> dict[str, Any]:
        return {"parties": self.parties, "sender": self.sender, "receiver": self.receiver, "mode": self.mode}

    @property
    def _n_tests(self) -> int:
        return len(PAIR_TESTS) if self.mode == "entanglement" else len(PAULI_STATES)

    def anonymous_pair_circuit(self, r_s: int = 0, *, markers: bool = True) -> QuantumCircuit:
        """GHZ_N, the channels, the others' X measurements (deferred) and both Z corrections."""
        n, s, r = self.parties, self.sender, self.receiver
        nq = n + (self.mode == "qubit")
        qc = ghz_prefix(n, nq, nq, name="cw", markers=markers)
        if r_s:
            qc.z(s)
        for j in range(n):
            if j not in (s, r):
                qc.h(j)
                qc.cz(j, r)  # R's correction Z^{x_j}, controlled by the bit j will broadcast
        if r_s:
            qc.z(r)  # Q includes the sender's broadcast r_S
        return qc

    def build_circuits(self, *, eavesdropper: Eavesdropper | None = None,
                       form: ChannelForm = "fast") -> tuple[QuantumCircuit, ...]:
        """Configuration ``r_S * n_tests + test``; clbit j = party j (broadcast or test outcome);
        in qubit mode clbit N = m0 (the teleported qubit's Bell-measurement bit) and clbit S = m1."""
        self._check_form(eavesdropper, form)
        n, s, r = self.parties, self.sender, self.receiver
        circuits = []
        for r_s, test in itertools.product((0, 1), range(self._n_tests)):
            qc = self.anonymous_pair_circuit(r_s)
            qc.name = f"cw_{self.mode}_r{r_s}_t{test}"
            if self.mode == "entanglement":
                for q in (s, r):
                    _basis_change(qc, q, PAIR_TESTS[test][0])
            else:
                basis, bit = PAULI_STATES[test]
                psi = n
                prepare_pauli_state(qc, psi, basis, bit)
                qc.cx(psi, s)
                qc.h(psi)
                qc.cx(s, r)  # X^{m1}
                qc.cz(psi, r)  # Z^{m0}
                unprepare_pauli_state(qc, r, basis)
            qc.measure(range(qc.num_qubits), range(qc.num_qubits))
            circuits.append(qc)
        return tuple(circuits)

    def noise_model(self, channels: tuple[Channel, ...], *, eavesdropper: Eavesdropper | None = None,
                    form: ChannelForm = "fast"):
        """Each party's click-conditioned channel on its marker (docs/conventions.md C.8(b)).

        A round counts only when every party clicks, and given a click a qubit is the
        signal (rotation, then depolarising) or, on a noise-only click, maximally mixed:
        the depolarising parameter p_eff after the rotation. This must act on the qubit
        itself, not only on the broadcast bit: the receiver's correction Z^Q uses the
        bit a party broadcasts, so a party that clicked on noise alone dephases the pair
        (and a sender that did randomises the teleportation bit its correction uses).
        """
        return click_noise_model(dict(enumerate(channels)))

    def sample_chunk(self, compiled: CompiledConfigurations, channels: tuple[Channel, ...], rounds: int,
                     rng: np.random.Generator, *, eavesdropper: Eavesdropper | None, form: ChannelForm,
                     aer_seed: int) -> AnonymousRounds:
        n, s, r = self.parties, self.sender, self.receiver
        r_s = random_bits(rng, rounds).astype(np.int64)
        r_r = random_bits(rng, rounds)
        test = rng.integers(0, self._n_tests, rounds)
        cfg = r_s * self._n_tests + test
        detected, _ = sample_arrivals_all(channels, rounds, rng)  # noise-only clicks: in the noise model
        keep = slice(None) if detected is None else detected
        cfg, test, r_s, r_r = cfg[keep], test[keep], r_s[keep], r_r[keep]
        bits = sample_bits(compiled, cfg, rng, aer_seed=aer_seed)
        broadcasts = bits[:, :n].copy()
        broadcasts[:, s] = r_s
        broadcasts[:, r] = r_r
        if self.mode == "qubit":
            teleport = np.stack([bits[:, n], bits[:, s]], axis=1)
            out_s = np.array([PAULI_STATES[t][1] for t in range(len(PAULI_STATES))], dtype=np.uint8)[test]
        else:
            teleport, out_s = None, bits[:, s]
        return AnonymousRounds(detected=detected, config=cfg, broadcasts=broadcasts, test=test,
                               outcome_s=out_s, outcome_r=bits[:, r], teleport_bits=teleport)

    def analyse(self, record: AnonymousRounds):
        nt = self._n_tests
        agree = record.outcome_s == record.outcome_r
        per = np.bincount(record.test, minlength=nt)
        ok = np.bincount(record.test, weights=agree, minlength=nt).astype(np.int64)
        if self.mode == "entanglement":
            return tally(detected=len(agree), tests=per, agree=ok)
        return tally(detected=len(agree), states=per, success=ok)

    def expected(self, channel: Channel | Sequence[Channel], *,
                 eavesdropper: Eavesdropper | str | None = None) -> dict[str, float]:
        """``detection_rate`` = prod_j P_click,j and ``pair_fidelity`` F (entanglement mode) or
        ``teleport_fidelity`` = (2F + 1)/3 (qubit mode; standard teleportation over any resource
        is the Pauli channel of its Bell overlaps, Bowen & Bose 2001, and the six Pauli
        states are a 2-design).

        F = (1 + E_XX - E_YY + E_ZZ)/4 of the corrected pair, computed on GHZ_N
        independently of the circuits. The corrections Z^{r_S} at S and Z^Q at R flip X and
        Y outcomes by every broadcast bit, so E_XX = <X ... X> over all N parties and
        E_YY = <Y_S Y_R X_others>, while E_ZZ = <Z_S Z_R>; each party's measurement is
        pulled back through its own click-conditioned channel
        (:func:`~qproto.protocols._ghz_cka.party_observable`), so rotations add coherently.
        Without rotation this is docs/conventions.md A9: F = [1 + 2 prod_j (1-p_j) + (1-p_S)(1-p_R)]/4.

        Raises:
            InvalidParameter: an eavesdropper (none is modelled).
        """
        if eavesdropper is not None:
            raise InvalidParameter("eavesdropper", eavesdropper, "None", f"{self.name} models no eavesdropper")
        channels = self.normalise_channels(channel)
        n, s, r = self.parties, self.sender, self.receiver
        obs = {b: [party_observable(ch, b) for ch in channels] for b in "XYZ"}
        e_xx = ghz_expectation(obs["X"])
        e_yy = ghz_expectation([obs["Y"][j] if j in (s, r) else obs["X"][j] for j in range(n)])
        e_zz = ghz_expectation([obs["Z"][j] if j in (s, r) else IDENTITY for j in range(n)])
        f = (1.0 + e_xx - e_yy + e_zz) / 4.0
        out = {"detection_rate": float(np.prod([ch.detection_probability for ch in channels]))}
        if self.mode == "entanglement":
            out["pair_fidelity"] = f
        else:
            out["teleport_fidelity"] = (2.0 * f + 1.0) / 3.0
        return out


# ---- quantum anonymous bit ---------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, eq=False)
class AnonymousBitRounds:
    """Per-round record of an anonymous-bit chunk (detected rounds): ``message`` (the sender's
    bit d) and ``broadcasts`` ``(n_detected, N)`` (every party's public bit)."""

    detected: np.ndarray | None
    message: np.ndarray
    broadcasts: np.ndarray

    @property
    def output(self) -> np.ndarray:
        """The announced bit: parity of all broadcasts."""
        return np.bitwise_xor.reduce(self.broadcasts, axis=1)


@dataclasses.dataclass(frozen=True, kw_only=True)
class AnonymousBitResult(MultipartyResult):
    """Result of :class:`QuantumAnonymousBit` and :class:`BroadbentTapp`: ``detected`` and ``errors``
    (rounds whose output differs from the message, or from the XOR of the inputs)."""

    TYPE: ClassVar[str] = "AnonymousBitResult"
    LABELS: ClassVar[dict[str, str]] = {
        "detection_rate": "P_all (per round)",
        "error_rate": "output != message",
        "bit_rate": "anonymous bits per round",
    }

    def count_shapes(self) -> dict[str, int]:
        return {"detected": 1, "errors": 1}

    def count_bounds(self) -> list[tuple[tuple[str, int], tuple[str, int]]]:
        return [(("errors", 0), ("detected", 0))]

    def estimates(self) -> dict[str, Estimate | float | int | None]:
        det = self.c("detected")
        return {"detection_rate": self._binom(det, self.rounds),
                "error_rate": self._binom(self.c("errors"), det),
                "bit_rate": self._binom(det, self.rounds)}


@register_protocol
class QuantumAnonymousBit(_SenderProtocol):
    """Quantum anonymous bit over GHZ_N (docs/conventions.md A9).

    The sender applies Z^d to its GHZ qubit (d a random message bit per round); all N
    parties measure X and broadcast; the parity of the broadcasts is d, and their
    distribution is the same whoever sends. Error under local depolarising:
    [1 - prod_j (1-p_j)]/2. A round counts when all parties click. Above 10 parties the
    channels act as readout errors (exact here: each qubit is measured in X right after
    its channel), which cannot express a coherent rotation: rotated channels then raise
    InvalidParameter.

    Args:
        parties: N >= 3.
        sender: party index in [0, N-1].
    """

    name: ClassVar[str] = "anonymous-bit"
    RESULT = AnonymousBitResult
    MIN_PARTIES: ClassVar[int] = 3
    #: Circuits grow with N (one qubit per party) and so does the transpiler's work: bounded so that a
    #: run compiles in seconds and well under 1 GiB.
    MAX_PARTIES: ClassVar[int] = 200

    def __init__(self, *, parties: int = 4, sender: int = 0):
        self._set_parties(parties)
        self._set_roles(sender, None)

    def parameters(self) -> dict[str, Any]:
        return {"parties": self.parties, "sender": self.sender}

    def build_circuits(self, *, eavesdropper: Eavesdropper | None = None,
                       form: ChannelForm = "fast") -> tuple[QuantumCircuit, ...]:
        """Configuration d (the message bit); clbit j = party j's broadcast."""
        self._check_form(eavesdropper, form)
        circuits = []
        for d in (0, 1):
            qc = ghz_prefix(self.parties, name=f"qab_d{d}", markers=False)
            if d:
                qc.z(self.sender)
            qc.barrier()
            for j in range(self.parties):
                qc.append(channel_marker(), [j])
                qc.h(j)
            qc.measure(range(self.parties), range(self.parties))
            circuits.append(qc)
        return tuple(circuits)

    def noise_model(self, channels: tuple[Channel, ...], *, eavesdropper: Eavesdropper | None = None,
                    form: ChannelForm = "fast"):
        # Each qubit is measured once in X right after its channel: the readout form is exact.
        rotated = [j for j, ch in enumerate(channels) if ch.rotation_rad != 0.0]
        if self.parties > 10 and rotated:
            raise InvalidParameter("channel", [channels[j] for j in rotated], "no rotation above 10 parties",
                                   f"parties={self.parties} uses readout errors, which cannot express the "
                                   f"coherent rotation of parties {rotated}")
        return party_noise_model(channels, form="depolarising" if self.parties <= 10 else "readout")

    def sample_chunk(self, compiled: CompiledConfigurations, channels: tuple[Channel, ...], rounds: int,
                     rng: np.random.Generator, *, eavesdropper: Eavesdropper | None, form: ChannelForm,
                     aer_seed: int) -> AnonymousBitRounds:
        d = random_bits(rng, rounds)
        detected, noise_only = sample_arrivals_all(channels, rounds, rng)
        if detected is not None:
            d = d[detected]
        bits = sample_bits(compiled, d, rng, aer_seed=aer_seed)
        randomise_noise_clicks(bits, noise_only, rng)
        return AnonymousBitRounds(detected=detected, message=d, broadcasts=bits)

    def analyse(self, record: AnonymousBitRounds):
        return tally(detected=len(record.message), errors=int(np.sum(record.output != record.message)))

    def expected(self, channel: Channel | Sequence[Channel], *,
                 eavesdropper: Eavesdropper | str | None = None) -> dict[str, float]:
        """``detection_rate`` = ``bit_rate`` = prod_j P_click,j and ``error_rate``, computed on GHZ_N.

        With message d the state before the channels is (|0...0> + (-1)^d |1...1>)/sqrt 2
        whoever sends; the output is wrong with probability [1 - (-1)^d <A_0 ... A_{N-1}>]/2
        with each party's X measurement pulled back through its own click-conditioned channel
        (:func:`~qproto.protocols._ghz_cka.ghz_expectation`), averaged over d uniform:
        [1 - prod_j (1-p_j)]/2 without rotation.

        Raises:
            InvalidParameter: an eavesdropper (none is modelled).
        """
        if eavesdropper is not None:
            raise InvalidParameter("eavesdropper", eavesdropper, "None", f"{self.name} models no eavesdropper")
        channels = self.normalise_channels(channel)
        obs = [party_observable(ch, "X") for ch in channels]
        error = sum((1.0 - sign * ghz_expectation(obs, sign=sign)) / 4.0 for sign in (1.0, -1.0))
        p_all = float(np.prod([ch.detection_probability for ch in channels]))
        return {"detection_rate": p_all, "error_rate": error, "bit_rate": p_all}


# ---- Broadbent-Tapp (classical) ------------------------------------------------------------------
#: Share bits (rounds x N x N) Broadbent-Tapp draws at once; larger chunks are split in row blocks.
_SHARE_BLOCK_BITS = 1 << 24
@dataclasses.dataclass(frozen=True, eq=False)
class BroadbentTappRounds:
    """Per-round record of Broadbent-Tapp Parity runs.

    Attributes:
        inputs: ``(rounds, N)`` the players' input bits (anonymous bit: the message at the
            sender, 0 elsewhere).
        shares: ``(rounds, N, N)``; ``shares[:, i, j]`` = r_{i,j}, sent privately from i to j;
            ``None`` when a chunk's shares exceed ``_SHARE_BLOCK_BITS`` (they are then reduced block by block).
        broadcasts: ``(rounds, N)`` z_j = XOR_i r_{i,j}. Public.
    """

    inputs: np.ndarray
    shares: np.ndarray | None
    broadcasts: np.ndarray

    @property
    def output(self) -> np.ndarray:
        return np.bitwise_xor.reduce(self.broadcasts, axis=1)

    def view(self, coalition: Sequence[int]) -> np.ndarray:
        """A coalition's view per round as a 2-D bit array: its inputs, the shares it sends and
        receives, and every broadcast."""
        c = list(coalition)
        return np.concatenate([self.inputs[:, c], self.shares[:, c, :].reshape(len(self.inputs), -1),
                               self.shares[:, :, c].reshape(len(self.inputs), -1), self.broadcasts], axis=1)


@register_protocol
class BroadbentTapp(_SenderProtocol):
    """Broadbent-Tapp classical Parity and anonymous bit (docs/conventions.md A9).

    Each player i splits its input x_i into N random shares r_{i,j} (XOR = x_i), sends
    r_{i,j} privately to j; each j broadcasts z_j = XOR_i r_{i,j}; the output XOR_j z_j =
    XOR_i x_i. For the anonymous bit the sender inputs the message bit (random per
    round) and everyone else 0. Information-theoretically secure given private pairwise
    channels and a broadcast channel, so the Channel argument is not used. The shares'
    private randomness is drawn from a quantum coin (``h`` then ``measure``) through the
    engine, which keeps the protocol on the shared circuit machinery.

    Args:
        parties: N >= 2.
        sender: party index in [0, N-1].
    """

    name: ClassVar[str] = "broadbent-tapp"
    RESULT = AnonymousBitResult
    MIN_PARTIES: ClassVar[int] = 2
    #: N(N-1) coins per round: beyond 64 parties a run is dominated by share generation.
    MAX_PARTIES: ClassVar[int] = 64

    def __init__(self, *, parties: int = 4, sender: int = 0):
        self._set_parties(parties)
        self._set_roles(sender, None)
        self.n_channels = 1

    def parameters(self) -> dict[str, Any]:
        return {"parties": self.parties, "sender": self.sender}

    def build_circuits(self, *, eavesdropper: Eavesdropper | None = None,
                       form: ChannelForm = "fast") -> tuple[QuantumCircuit, ...]:
        """One circuit: a quantum coin."""
        self._check_form(eavesdropper, form)
        qc = QuantumCircuit(1, 1, name="coin")
        qc.h(0)
        qc.measure(0, 0)
        return (qc,)

    def noise_model(self, channels: tuple[Channel, ...], *, eavesdropper: Eavesdropper | None = None,
                    form: ChannelForm = "fast"):
        return None

    def sample_chunk(self, compiled: CompiledConfigurations, channels: tuple[Channel, ...], rounds: int,
                     rng: np.random.Generator, *, eavesdropper: Eavesdropper | None, form: ChannelForm,
                     aer_seed: int) -> BroadbentTappRounds:
        n = self.parties
        inputs = np.zeros((rounds, n), dtype=np.uint8)
        inputs[:, self.sender] = random_bits(rng, rounds)
        # The shares are rounds x N x N bits: drawn and reduced in blocks of rows so that memory stays
        # bounded (the coins are drawn in the same order, N(N-1) per row, so the blocks do not change
        # the draws); the record keeps them only when they are small (for inspection).
        per_row = n * (n - 1)
        block = max(1, _SHARE_BLOCK_BITS // (n * n))
        if rounds <= block:
            coins = compiled.sample_trusted(np.zeros(rounds * per_row, dtype=np.uint8), rng, aer_seed=aer_seed)
            return self.parity_rounds(inputs, coins.reshape(rounds, n, n - 1))
        broadcasts = np.empty((rounds, n), dtype=np.uint8)
        for start in range(0, rounds, block):
            stop = min(start + block, rounds)
            coins = compiled.sample_trusted(np.zeros((stop - start) * per_row, dtype=np.uint8), rng,
                                            aer_seed=aer_seed)
            broadcasts[start:stop] = self.parity_rounds(inputs[start:stop],
                                                        coins.reshape(stop - start, n, n - 1)).broadcasts
        return BroadbentTappRounds(inputs=inputs, shares=None, broadcasts=broadcasts)

    def parity_rounds(self, inputs: np.ndarray, free_shares: np.ndarray) -> BroadbentTappRounds:
        """One Parity run per row, given every player's input and private random shares.

        Args:
            inputs: ``(rounds, N)`` input bits x_i (0/1).
            free_shares: ``(rounds, N, N-1)`` bits: player i's shares r_{i,0} .. r_{i,N-2}; its last
                share r_{i,N-1} = x_i XOR (the others), so that XOR_j r_{i,j} = x_i.

        Returns:
            The :class:`BroadbentTappRounds`: shares r_{i,j} (sent privately from i to j) and
            broadcasts z_j = XOR_i r_{i,j}.
        """
        n = self.parties
        inputs = np.asarray(inputs, dtype=np.uint8)
        free_shares = np.asarray(free_shares, dtype=np.uint8)
        rounds = inputs.shape[0]
        if inputs.shape != (rounds, n) or free_shares.shape != (rounds, n, n - 1):
            raise InvalidParameter("free_shares", free_shares.shape, f"inputs (rounds, {n}) and free shares "
                                   f"(rounds, {n}, {n - 1}) with the same rounds")
        shares = np.zeros((rounds, n, n), dtype=np.uint8)
        shares[:, :, : n - 1] = free_shares
        shares[:, :, n - 1] = inputs ^ np.bitwise_xor.reduce(free_shares, axis=2)
        broadcasts = np.bitwise_xor.reduce(shares, axis=1)
        return BroadbentTappRounds(inputs=inputs, shares=shares, broadcasts=broadcasts)

    def analyse(self, record: BroadbentTappRounds):
        truth = np.bitwise_xor.reduce(record.inputs, axis=1)
        return tally(detected=len(truth), errors=int(np.sum(record.output != truth)))

    def expected(self, channel: Channel | Sequence[Channel], *,
                 eavesdropper: Eavesdropper | str | None = None) -> dict[str, float]:
        return {"detection_rate": 1.0, "error_rate": 0.0, "bit_rate": 1.0}


def coalition_view_distribution(parties: int, sender: int, coalition: Sequence[int], message: int
                                ) -> dict[tuple[int, ...], float]:
    """Exact distribution of a coalition's view in one Broadbent-Tapp Parity run, by enumeration.

    Runs :meth:`BroadbentTapp.parity_rounds` (the code :meth:`BroadbentTapp.sample_chunk`
    uses) on every choice of the N(N-1) free shares (use N <= 4) with the sender's
    input ``message`` and 0 elsewhere, and counts the views
    (:meth:`BroadbentTappRounds.view`: the coalition's inputs, the shares it sends
    and receives, and every broadcast).

    Raises:
        InvalidParameter: N outside [2, 4], sender or coalition members not parties.
    """
    n = check_int("parties", parties, minimum=2, maximum=4)
    s = check_int("sender", sender, minimum=0, maximum=n - 1)
    c = [check_int("coalition", i, minimum=0, maximum=n - 1) for i in coalition]
    m = check_int("message", message, minimum=0, maximum=1)
    free = n * (n - 1)
    total = 1 << free
    patterns = ((np.arange(total, dtype=np.int64)[:, None] >> np.arange(free)) & 1).astype(np.uint8)
    inputs = np.zeros((total, n), dtype=np.uint8)
    inputs[:, s] = m
    record = BroadbentTapp(parties=n, sender=s).parity_rounds(inputs, patterns.reshape(total, n, n - 1))
    views = record.view(c).astype(np.int64)
    width = views.shape[1]  # at most 4 + 2*4*4 + 4 = 40 bits for N <= 4
    codes, counts = np.unique(views @ (np.int64(1) << np.arange(width, dtype=np.int64)), return_counts=True)
    rows = (codes[:, None] >> np.arange(width, dtype=np.int64)) & 1
    return {tuple(int(b) for b in v): int(k) / total for v, k in zip(rows, counts)}
