"""Quantum secure direct communication: the two-step protocol and DL04 (docs/conventions.md A6).

A run sends one message (``bytes``) in one block of ``rounds`` channel uses: the
message carriers (one per 2-bit symbol for two-step, one per bit for DL04) and
``rounds - carriers`` check rounds at random positions. Because the block is one
message, a QSDC run is a single chunk (memory grows with ``rounds``). Lost carriers
are erasures: their bits decode as 0 and are counted in ``erased_bits``; the BER is
over received bits. The run aborts (``aborted``) when the first-leg check QBER exceeds
``qber_threshold`` (or there was no check data), which is what catches an
intercept-resend on the first leg.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np
from qiskit import QuantumCircuit

from qproto._attacks import Eavesdropper, InterceptResend
from qproto._channel import Channel
from qproto._engine import CompiledConfigurations, Engine
from qproto._entanglement import (Tallies, TallyResult, X, bell_pair, bsm, check_fast_form, click_channel,
                                  sample_heralds)
from qproto._errors import InvalidParameter, InvalidType
from qproto._protocol import ChannelForm, Protocol, normalise_eavesdropper, register_protocol
from qproto._random import bernoulli, random_bits
from qproto._results import CombinedResult, Estimate, ProtocolResult
from qproto._validation import check_in_range, check_int
from qproto.noise_models._aer import channel_marker, channel_noise_model
from qproto.security._purification import PHI_PLUS_CORRELATIONS, arrival_bloch_map, bloch_map, click_bloch_map

__all__ = ["QSDCTwoStep", "DL04", "QSDCResult", "QSDCRecord"]

MESSAGE, CHECK_1, CHECK_2 = 0, 1, 2  # round roles: message carrier, first-leg check, second-leg check


#: Largest block (rounds) of one QSDC run: the block is one chunk, held in memory at once
#: (about 70 bytes per round), so it is bounded to keep a run well under 1 GiB.
MAX_BLOCK_ROUNDS = 1 << 22
#: Largest message in bytes: its default block (4 x carriers, DL04) fits in MAX_BLOCK_ROUNDS.
MAX_MESSAGE_BYTES = MAX_BLOCK_ROUNDS // 32


def _check_message(message: Any) -> bytes:
    if not isinstance(message, (bytes, bytearray)):
        raise InvalidType("message", message, "bytes (encode text first, e.g. 'hi'.encode())")
    if len(message) == 0:
        raise InvalidParameter("message", message, "at least one byte")
    if len(message) > MAX_MESSAGE_BYTES:
        raise InvalidParameter("message", f"<{len(message)} bytes>", f"1 to {MAX_MESSAGE_BYTES} bytes",
                               f"message of {len(message)} bytes is too long; allowed: 1 to {MAX_MESSAGE_BYTES} "
                               f"bytes per QSDC block (split longer messages into several runs)")
    return bytes(message)


def _intercept_resend_map(eavesdropper: Eavesdropper | str | None) -> np.ndarray:
    """Bloch map of an intercept-resend attack averaged over Eve's record: on a fraction f she
    measures in Z (probability p_z) or X and resends, which keeps only that axis.

    Raises:
        NotImplementedError: an attack other than intercept-resend (no closed form).
    """
    eve = normalise_eavesdropper(eavesdropper)
    if eve is None:
        return np.eye(3)
    if not isinstance(eve, InterceptResend):
        raise NotImplementedError(f"no closed form for {eve!r}")
    f, pz = eve.fraction, eve.p_z
    return np.diag([1 - f * pz, 1 - f, 1 - f * (1 - pz)])


@dataclasses.dataclass(frozen=True, eq=False)
class QSDCRecord:
    """Per-round record of a QSDC block.

    Attributes:
        role: uint8 per round: 0 message carrier, 1 first-leg check, 2 second-leg check.
        detected: bool per round: the round's qubits were detected where needed (and, for
            DL04 first-leg checks, the bases matched).
        sent: uint8 per round, the encoded value (2-bit symbol ``2x + z`` for two-step,
            a bit for DL04); for first-leg checks the sender's check bit.
        received: uint8 per round, what the receiver decodes (symbol or bit); for
            first-leg checks the checker's bit.
        basis: uint8 per round, the first-leg check basis (0 = Z, 1 = X).
        decoded: the decoded message (lost carriers decode as 0 bits).
        erased_bits: message bits lost in transit.
    """

    role: np.ndarray
    detected: np.ndarray
    sent: np.ndarray
    received: np.ndarray
    basis: np.ndarray
    decoded: bytes
    erased_bits: int


@dataclasses.dataclass(frozen=True)
class _QSDCTallies:
    tallies: Tallies
    decoded: bytes

    def __add__(self, other: _QSDCTallies) -> _QSDCTallies:
        return _QSDCTallies(self.tallies + other.tallies, self.decoded + other.decoded)


_TALLIES = ("rounds", "message_bits", "received_bits", "bit_errors", "erased_bits", "check1_rounds",
            "check1_errors", "check2_bits", "check2_errors")


@dataclasses.dataclass(frozen=True, kw_only=True)
class QSDCResult(TallyResult):
    """Result of a QSDC run: the message sent and decoded, BER, check QBERs, abort decision.

    Attributes:
        message: the message sent.
        decoded: the message Bob decoded (erased bits as 0).
        qber_threshold: the abort threshold on the first-leg check QBER.
    """

    TYPE: ClassVar[str] = "QSDCResult"
    CONCATENATED: ClassVar[tuple[str, ...]] = ("message", "decoded")
    TALLIES: ClassVar[tuple[str, ...]] = _TALLIES
    LABELS: ClassVar[dict[str, str]] = {
        "ber": "message bit error rate", "check_qber": "first-leg check QBER",
        "second_check_error": "second-leg check error rate", "erased_bits": "erased message bits",
        "aborted": "aborted (1 = yes)", "decoded_correctly": "decoded == sent (1 = yes)",
    }

    message: bytes
    decoded: bytes
    qber_threshold: float = 0.11

    @property
    def ber(self) -> Estimate:
        """Bit error rate over received message bits."""
        return self._binom("bit_errors", "received_bits")

    @property
    def check_qber(self) -> Estimate:
        """Error rate of first-leg check rounds (matching bases)."""
        return self._binom("check1_errors", "check1_rounds")

    @property
    def aborted(self) -> bool:
        """Abort when the check QBER exceeds the threshold or no check round was detected."""
        q = self.check_qber.best
        return not (q == q) or q > self.qber_threshold

    def estimates(self) -> dict[str, Estimate | float | int | None]:
        return {"ber": self.ber, "check_qber": self.check_qber,
                "second_check_error": self._binom("check2_errors", "check2_bits"),
                "erased_bits": self.tallies["erased_bits"], "aborted": int(self.aborted),
                "decoded_correctly": int(self.decoded == self.message)}

    def __add__(self, other: QSDCResult) -> QSDCResult:
        """Two blocks: tallies add, messages concatenate (so the message parameter may differ)."""
        if type(other) is not type(self):
            return NotImplemented
        if self.channels != other.channels:  # different channels: a CombinedResult (same message needed)
            return CombinedResult.of((self, other))
        same_message = {**other.parameters, "message": self.parameters.get("message")}
        merged = ProtocolResult.__add__(self, dataclasses.replace(other, parameters=same_message))
        return dataclasses.replace(merged, parameters={**self.parameters, "message": merged.message.hex()})


class _QSDC(Protocol):
    """Shared parameters, block layout and result of the QSDC protocols."""

    n_channels: ClassVar[int] = 2
    bits_per_carrier: ClassVar[int]

    def __init__(self, *, message: bytes = b"qproto", second_check_fraction: float = 0.5,
                 qber_threshold: float = 0.11):
        self.message = _check_message(message)
        self.second_check_fraction = check_in_range("second_check_fraction", second_check_fraction, 0.0, 1.0)
        self.qber_threshold = check_in_range("qber_threshold", qber_threshold, 0.0, 0.5)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(message={self.message!r}, " \
               f"second_check_fraction={self.second_check_fraction!r}, qber_threshold={self.qber_threshold!r})"

    def parameters(self) -> dict[str, Any]:
        return {"message": self.message.hex(), "second_check_fraction": self.second_check_fraction,
                "qber_threshold": self.qber_threshold}

    @property
    def message_bits(self) -> np.ndarray:
        """The message as bits (most significant bit of each byte first)."""
        return np.unpackbits(np.frombuffer(self.message, dtype=np.uint8))

    @property
    def carriers(self) -> int:
        """Channel uses that carry the message."""
        return self.message_bits.size // self.bits_per_carrier

    def run(self, channel: Channel | tuple[Channel, ...], *, rounds: int | None = None, seed=None,
            eavesdropper=None, engine: Engine | None = None, form: ChannelForm = "fast", progress=None,
            executor=None):
        """Send the message once in a block of ``rounds`` channel uses (default: 4 x carriers).

        See :meth:`qproto.Protocol.run` (same arguments); the block is one chunk whatever the
        engine's chunk size, so an ``executor`` runs it as one job.

        Raises:
            InvalidParameter: ``rounds`` leaves no room for check rounds (``rounds <= carriers``) or
                exceeds :data:`MAX_BLOCK_ROUNDS` (the block is held in memory at once).
        """
        rounds = 4 * self.carriers if rounds is None else check_int("rounds", rounds, minimum=1,
                                                                    maximum=MAX_BLOCK_ROUNDS)
        if rounds <= self.carriers:
            raise InvalidParameter("rounds", rounds, f"integers in [{self.carriers + 1}, {MAX_BLOCK_ROUNDS}]",
                                   f"rounds={rounds} leaves no check rounds: the message needs {self.carriers} "
                                   f"carriers; allowed: integers in [{self.carriers + 1}, {MAX_BLOCK_ROUNDS}]")
        engine = Engine() if engine is None else engine
        if not isinstance(engine, Engine):
            raise InvalidType("engine", engine, "a qproto.Engine")
        engine = dataclasses.replace(engine, chunk_size=max(engine.chunk_size, rounds))
        return super().run(channel, rounds=rounds, seed=seed, eavesdropper=eavesdropper, engine=engine, form=form,
                           progress=progress, executor=executor)

    def sample(self, channel, *, rounds: int | None = None, **kwargs) -> QSDCRecord:
        rounds = 4 * self.carriers if rounds is None else rounds
        return super().sample(channel, rounds=rounds, **kwargs)

    def _layout_roles(self, n: int, rng: np.random.Generator) -> np.ndarray:
        if n <= self.carriers:
            raise InvalidParameter("rounds", n, f"more than the {self.carriers} message carriers")
        role = np.full(n, CHECK_1, dtype=np.uint8)
        role[: self.carriers] = MESSAGE
        role[self.carriers:] = np.where(bernoulli(rng, n - self.carriers, self.second_check_fraction),
                                        CHECK_2, CHECK_1)
        return rng.permutation(role)

    def _decode(self, role: np.ndarray, detected: np.ndarray, received: np.ndarray) -> tuple[bytes, int]:
        msg = role == MESSAGE
        values = np.where(detected[msg], received[msg], 0).astype(np.uint8)
        k = self.bits_per_carrier
        bits = np.stack([(values >> (k - 1 - j)) & 1 for j in range(k)], axis=1).reshape(-1)
        erased = int(np.count_nonzero(~detected[msg])) * k
        return np.packbits(bits).tobytes(), erased

    def analyse(self, r: QSDCRecord) -> _QSDCTallies:
        k = self.bits_per_carrier
        diff = r.sent ^ r.received
        bit_err = sum(((diff >> j) & 1).astype(np.int64) for j in range(k))
        msg, c1, c2 = (r.role == MESSAGE) & r.detected, (r.role == CHECK_1) & r.detected, (r.role == CHECK_2) & r.detected
        t = Tallies(rounds=len(r.role), message_bits=int(np.count_nonzero(r.role == MESSAGE)) * k,
                    received_bits=int(np.count_nonzero(msg)) * k, bit_errors=int(bit_err[msg].sum()),
                    erased_bits=r.erased_bits, check1_rounds=int(np.count_nonzero(c1)),
                    check1_errors=int(np.count_nonzero(c1 & (diff != 0))),
                    check2_bits=int(np.count_nonzero(c2)) * k, check2_errors=int(bit_err[c2].sum()))
        return _QSDCTallies(t, r.decoded)

    def make_result(self, tallies: _QSDCTallies, *, channels: tuple[Channel, ...], rounds: int, seed: int,
                    eavesdropper: Eavesdropper | None) -> QSDCResult:
        return QSDCResult(protocol=self.name, parameters=self.parameters(), channels=channels, rounds=rounds,
                          seed=seed, eavesdropper=None if eavesdropper is None else eavesdropper.to_dict(),
                          tallies=dict(tallies.tallies), message=self.message, decoded=tallies.decoded,
                          qber_threshold=self.qber_threshold)

    def _sample(self, compiled, cfg, detected, rng, aer_seed):
        outcome = np.zeros(cfg.size, dtype=np.uint8)
        idx = np.flatnonzero(detected)
        outcome[idx] = compiled.sample_trusted(cfg[idx], rng, aer_seed=aer_seed)
        return outcome


@register_protocol
class QSDCTwoStep(_QSDC):
    """Two-step QSDC (Deng, Long, Liu 2003): Phi+ pairs, checked C sequence, dense-coded M sequence.

    Per round a Phi+ pair (C = qubit 0, M = qubit 1) is made by Alice. C crosses
    ``channel[0]`` to Bob (first leg). First-leg check rounds: Bob measures C in a random
    basis and Alice measures M in the same basis (M stays home); their bits must agree.
    Carrier rounds: Alice encodes the symbol (x, z) as ``Z^z X^x`` on M, which crosses
    ``channel[1]``; Bob's Bell measurement on (C, M) reads (m1, m0) = (x, z) (A6). Second-leg
    check rounds are carriers of a random symbol revealed afterwards. An eavesdropper attacks
    C on the first leg.

    Args:
        message: the bytes to send (two bits per carrier pair).
        second_check_fraction: fraction in [0, 1] of the non-carrier rounds used as second-leg checks.
        qber_threshold: abort threshold in [0, 0.5] on the first-leg check QBER.
    """

    name: ClassVar[str] = "qsdc-two-step"
    bits_per_carrier: ClassVar[int] = 2

    def build_circuits(self, *, eavesdropper: Eavesdropper | None = None,
                       form: ChannelForm = "fast") -> tuple[QuantumCircuit, ...]:
        """Configuration ``eve_branch * 6 + k``: k = 2x + z for a carrier of symbol (x, z),
        4 + basis for a first-leg check. Clbits: 0 = C, 1 = M, 2 = Eve."""
        check_fast_form(self.name, form)
        nq = 2 if eavesdropper is None else 3
        branches = 1 if eavesdropper is None else eavesdropper.n_branches
        circuits = []
        for cfg in range(6 * branches):
            branch, k = divmod(cfg, 6)
            qc = QuantumCircuit(nq, nq, name=f"twostep_e{branch}_k{k}")
            bell_pair(qc, 0, 1)
            if eavesdropper is not None:
                eavesdropper.apply(qc, 0, 2, branch)
            qc.append(channel_marker(), [0])
            if k < 4:
                x, z = k >> 1, k & 1
                if x:
                    qc.x(1)
                if z:
                    qc.z(1)
                qc.append(channel_marker(), [1])
                bsm(qc, 0, 1)
            elif k == 5:
                qc.h(0)
                qc.h(1)
            for q in range(nq):
                qc.measure(q, q)
            circuits.append(qc)
        return tuple(circuits)

    def noise_model(self, channels: tuple[Channel, ...], *, eavesdropper: Eavesdropper | None = None,
                    form: ChannelForm = "fast"):
        return channel_noise_model({0: click_channel(channels[0]), 1: click_channel(channels[1])})

    def sample_chunk(self, compiled: CompiledConfigurations, channels: tuple[Channel, ...], rounds: int,
                     rng: np.random.Generator, *, eavesdropper: Eavesdropper | None, form: ChannelForm,
                     aer_seed: int) -> QSDCRecord:
        n = rounds
        role = self._layout_roles(n, rng)
        msg_pos = np.flatnonzero(role == MESSAGE)
        bits = self.message_bits
        sent = (random_bits(rng, n) << 1) | random_bits(rng, n)
        sent[msg_pos] = (bits[0::2] << 1) | bits[1::2]
        basis = random_bits(rng, n)
        check1 = role == CHECK_1
        sent = np.where(check1, 0, sent).astype(np.uint8)
        k = np.where(check1, 4 + basis, sent).astype(np.uint8)
        cfg = k if eavesdropper is None else (eavesdropper.draw_branches(n, rng).astype(np.uint16) * 6 + k)
        leg1 = sample_heralds(channels[:1], n, rng)
        leg2 = sample_heralds(channels[1:], n, rng)
        detected = np.ones(n, dtype=bool) if leg1 is None else leg1
        if leg2 is not None:
            detected = detected & (check1 | leg2)
        outcome = self._sample(compiled, cfg, detected, rng, aer_seed)
        c_bit, m_bit = outcome & 1, (outcome >> 1) & 1
        # carriers: (m1, m0) = (x, z) -> symbol 2 m1 + m0; checks: Alice's M bit vs Bob's C bit
        received = np.where(check1, c_bit, (m_bit << 1) | c_bit).astype(np.uint8)
        sent = np.where(check1, m_bit, sent).astype(np.uint8)
        decoded, erased = self._decode(role, detected, received)
        return QSDCRecord(role=role, detected=detected, sent=sent, received=received, basis=basis,
                          decoded=decoded, erased_bits=erased)

    def symbol_bit_errors(self, channel: Channel | tuple[Channel, ...], *,
                          eavesdropper: Eavesdropper | str | None = None) -> np.ndarray:
        """Closed form: per dense-coding symbol k = 2x + z, the expected number of wrong bits
        (0 to 2) Bob decodes from a carrier, given that it arrived.

        Bloch-sphere computation (no circuits): the pair's correlation matrix before Bob's
        Bell measurement is ``T = M_1 W T0 S_k M_2^T`` with T0 = Phi+'s, W Eve's
        intercept-resend on C (shrinks C's Bloch vector along Z by ``1 - f (1 - p_z,Eve)``,
        along X by ``1 - f p_z,Eve``, along Y by ``1 - f``), M_1, M_2 the legs'
        click-conditioned Bloch maps (rotation, then depolarising p_eff) and S_k the Bloch
        action of ``Z^z X^x``. The parity bit m1 reads ZZ and the phase bit m0 reads XX, so
        ``P(m1 != x) = (1 - (-1)^x T_zz)/2`` and ``P(m0 != z) = (1 - (-1)^z T_xx)/2``. Without
        rotation every symbol has the bit error [1 - (1-p1)(1-p2)]/2; a rotation makes the
        error depend on the symbol (the encoding does not commute with it).
        """
        ch1, ch2 = self.normalise_channels(channel)
        m1 = click_bloch_map(ch1) @ _intercept_resend_map(eavesdropper)
        m2 = click_bloch_map(ch2)
        out = []
        for k in range(4):
            x, z = k >> 1, k & 1
            t = m1 @ PHI_PLUS_CORRELATIONS @ np.diag([(-1.0) ** z, (-1.0) ** (x + z), (-1.0) ** x]) @ m2.T
            out.append((1 - (-1) ** x * t[2, 2]) / 2 + (1 - (-1) ** z * t[0, 0]) / 2)
        return np.array(out)

    def expected(self, channel: Channel | tuple[Channel, ...], *,
                 eavesdropper: Eavesdropper | str | None = None) -> dict[str, float]:
        """Closed forms (A6), for asymmetric and rotated legs. ``ber``: the message's symbols'
        mean of :meth:`symbol_bit_errors` / 2 (without rotation [1 - (1-p1)(1-p2)]/2, p the
        legs' click-conditioned depolarisations); ``second_check_error``: the same for
        uniformly random symbols; ``check_qber`` (first leg only, Z and X checks equally
        likely): ``(1 - (M_1 W)_zz)/4 + (1 - (M_1 W)_xx)/4``, i.e. p1/2 without rotation
        (f/4 more under intercept-resend on a fraction f)."""
        ch1, ch2 = self.normalise_channels(channel)
        per_symbol = self.symbol_bit_errors((ch1, ch2), eavesdropper=eavesdropper) / 2
        bits = self.message_bits
        symbols = (bits[0::2].astype(int) << 1) | bits[1::2]
        check = click_bloch_map(ch1) @ _intercept_resend_map(eavesdropper)
        return {"ber": float(per_symbol[symbols].mean()), "second_check_error": float(per_symbol.mean()),
                "check_qber": float((1 - check[2, 2]) / 4 + (1 - check[0, 0]) / 4)}


@register_protocol
class DL04(_QSDC):
    """DL04 (Deng, Long 2004): single photons crossing twice, I / iY encoding.

    Bob sends a random BB84 state over ``channel[0]`` (first leg). First-leg check
    rounds: Alice measures in a random basis; rounds with matching bases give the
    check QBER. Carrier rounds: Alice applies I (bit 0) or iY = ZX (bit 1, flipping
    every BB84 state) and returns the photon over ``channel[1]``; Bob measures in his
    preparation basis, and his result xor his prepared bit is the message bit.
    Second-leg check rounds carry a random bit revealed afterwards. An eavesdropper
    attacks the first leg.

    Circuit qubits: 0 = the carrier photon on the first leg, 1 = the same photon on the
    second leg (moved there by a noiseless swap, so each leg has its own channel marker),
    2 = the photon of a first-leg check round, 3 = Eve's ancilla.

    Args:
        message: the bytes to send (one bit per carrier photon).
        second_check_fraction: fraction in [0, 1] of the non-carrier rounds used as second-leg checks.
        qber_threshold: abort threshold in [0, 0.5] on the first-leg check QBER.
    """

    name: ClassVar[str] = "qsdc-dl04"
    bits_per_carrier: ClassVar[int] = 1

    def build_circuits(self, *, eavesdropper: Eavesdropper | None = None,
                       form: ChannelForm = "fast") -> tuple[QuantumCircuit, ...]:
        """Configuration ``eve_branch * 16 + (bob_basis * 2 + bob_bit) * 4 + j``: j = m for a
        carrier of bit m, 2 + alice_basis for a first-leg check. Clbit k = qubit k."""
        check_fast_form(self.name, form)
        nq = 3 if eavesdropper is None else 4
        branches = 1 if eavesdropper is None else eavesdropper.n_branches
        circuits = []
        for cfg in range(16 * branches):
            branch, prep, j = cfg >> 4, (cfg >> 2) & 3, cfg & 3
            b_basis, b_bit = prep >> 1, prep & 1
            qc = QuantumCircuit(nq, nq, name=f"dl04_e{branch}_b{'ZX'[b_basis]}{b_bit}_j{j}")
            q = 0 if j < 2 else 2
            if b_bit:
                qc.x(q)
            if b_basis == X:
                qc.h(q)
            if eavesdropper is not None:
                eavesdropper.apply(qc, q, 3, branch)
            qc.append(channel_marker(), [q])
            if j < 2:
                if j == 1:
                    qc.x(0)
                    qc.z(0)
                qc.swap(0, 1)
                qc.append(channel_marker(), [1])
                if b_basis == X:
                    qc.h(1)
            elif j == 3:
                qc.h(2)
            for k in range(nq):
                qc.measure(k, k)
            circuits.append(qc)
        return tuple(circuits)

    @staticmethod
    def _round_trip(ch1: Channel, ch2: Channel) -> tuple[float, float]:
        """(click probability, second-leg depolarisation given a click) of a carrier photon:
        it must cross both legs; only Bob's final detector can fire on noise."""
        eta = ch1.total_transmittance * ch2.total_transmittance
        p_det = eta + (1 - eta) * ch2.noise_click
        w = 0.0 if p_det == 0 else eta / p_det
        return p_det, min(1.0 - w * (1.0 - ch2.qubit_depolarisation), 4.0 / 3.0)

    def noise_model(self, channels: tuple[Channel, ...], *, eavesdropper: Eavesdropper | None = None,
                    form: ChannelForm = "fast"):
        """Qubit 0: the first leg given arrival (rotation, then ``qubit_depolarisation``: Alice
        does not detect carriers); qubit 1: the second leg's rotation, then the depolarisation
        of :meth:`_round_trip` (noise clicks at Bob's detector); qubit 2: the first leg given
        Alice's click (check rounds)."""
        ch1, ch2 = channels
        _, p2 = self._round_trip(ch1, ch2)
        return channel_noise_model({
            0: Channel(depolarisation=ch1.qubit_depolarisation, rotation_rad=ch1.rotation_rad,
                       rotation_axis=ch1.rotation_axis),
            1: Channel(depolarisation=p2, rotation_rad=ch2.rotation_rad, rotation_axis=ch2.rotation_axis),
            2: click_channel(ch1)})

    def sample_chunk(self, compiled: CompiledConfigurations, channels: tuple[Channel, ...], rounds: int,
                     rng: np.random.Generator, *, eavesdropper: Eavesdropper | None, form: ChannelForm,
                     aer_seed: int) -> QSDCRecord:
        n = rounds
        role = self._layout_roles(n, rng)
        check1 = role == CHECK_1
        b_basis, b_bit, a_basis = random_bits(rng, n), random_bits(rng, n), random_bits(rng, n)
        sent = random_bits(rng, n)
        sent[role == MESSAGE] = self.message_bits
        j = np.where(check1, 2 + a_basis, sent).astype(np.uint8)
        cfg = ((b_basis << 3) | (b_bit << 2) | j).astype(np.uint8)
        if eavesdropper is not None:
            cfg = cfg | (eavesdropper.draw_branches(n, rng) << 4)
        p_trip, _ = self._round_trip(*channels)
        p_check = channels[0].detection_probability
        detected = np.where(check1, bernoulli(rng, n, p_check), bernoulli(rng, n, p_trip))
        outcome = self._sample(compiled, cfg, detected, rng, aer_seed)
        # carriers: Bob's bit xor his prepared bit; checks (matching bases only count): Alice's bit vs Bob's
        received = np.where(check1, (outcome >> 2) & 1, ((outcome >> 1) & 1) ^ b_bit).astype(np.uint8)
        sent = np.where(check1, b_bit, sent).astype(np.uint8)
        detected = detected & ~(check1 & (a_basis != b_basis))  # sifting of the check rounds
        decoded, erased = self._decode(role, detected, received)
        return QSDCRecord(role=role, detected=detected, sent=sent, received=received, basis=a_basis,
                          decoded=decoded, erased_bits=erased)

    def bit_errors(self, channel: Channel | tuple[Channel, ...], *,
                   eavesdropper: Eavesdropper | str | None = None) -> np.ndarray:
        """Closed form: the error probability of a carrier of message bit m = 0, 1 that
        reached Bob, averaged over his two equally likely bases.

        Bloch-sphere computation (no circuits): Bob's state ``(-1)^b e_beta`` suffers Eve's
        intercept-resend W (first leg), the first leg given arrival ``A_1`` (rotation, then
        ``qubit_depolarisation``), Alice's encoding ``S_m`` (I, or iY = diag(-1, 1, -1) on the
        Bloch sphere), then the second leg ``M_2`` (rotation, then the round trip's
        depolarisation including Bob's noise clicks). Bob errs in basis beta with probability
        ``(1 - S_m[beta, beta] (M_2 S_m A_1 W)[beta, beta])/2``; without rotation and attack
        this is p_eff/2 with 1 - p_eff = (1 - p_q1)(1 - p2) (docs/conventions.md A6).
        """
        ch1, ch2 = self.normalise_channels(channel)
        _, p2 = self._round_trip(ch1, ch2)
        first = arrival_bloch_map(ch1) @ _intercept_resend_map(eavesdropper)
        second = bloch_map(p2, ch2.rotation_rad, ch2.rotation_axis)
        out = []
        for m in (0, 1):
            s_m = np.diag([-1.0, 1.0, -1.0]) if m else np.eye(3)
            total = second @ s_m @ first
            out.append(sum((1 - s_m[b, b] * total[b, b]) / 2 for b in (2, 0)) / 2)
        return np.array(out)

    def expected(self, channel: Channel | tuple[Channel, ...], *,
                 eavesdropper: Eavesdropper | str | None = None) -> dict[str, float]:
        """Closed forms (A6), for asymmetric and rotated legs: ``ber`` = the message bits' mean
        of :meth:`bit_errors` (p_eff/2 without rotation, 1 - p_eff the round trip's surviving
        polarisation), ``second_check_error`` = the mean for uniformly random bits,
        ``check_qber`` = first leg only, given Alice's click, Z and X equally likely:
        ``(1 - (M_1 W)_zz)/4 + (1 - (M_1 W)_xx)/4`` (p1/2 without rotation, + f/4 under
        intercept-resend on a fraction f)."""
        ch1, ch2 = self.normalise_channels(channel)
        per_bit = self.bit_errors((ch1, ch2), eavesdropper=eavesdropper)
        check = click_bloch_map(ch1) @ _intercept_resend_map(eavesdropper)
        return {"ber": float(per_bit[self.message_bits].mean()), "second_check_error": float(per_bit.mean()),
                "check_qber": float((1 - check[2, 2]) / 4 + (1 - check[0, 0]) / 4)}
