"""BB84 (Bennett & Brassard 1984), prepare-and-measure, symmetric or biased bases."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from qiskit import QuantumCircuit

from qproto._attacks import Eavesdropper, InterceptResend
from qproto._channel import Channel
from qproto._engine import CompiledConfigurations
from qproto._protocol import ChannelForm, normalise_eavesdropper, register_protocol
from qproto._qkd import QKDProtocol, QKDRounds, X, bernoulli, random_bits, sample_arrivals
from qproto._validation import check_in_range
from qproto.noise_models._aer import channel_marker, channel_noise_model, erasure_marker
from qproto.security._decoy import bb84_asymptotic_fraction

__all__ = ["BB84"]


@register_protocol
class BB84(QKDProtocol):
    """BB84 with single photons over one :class:`~qproto.Channel` (PHYSICS.md A1).

    Each round Alice draws a basis (Z with probability ``p_z``) and a bit and
    prepares the qubit (``x`` then ``h`` for X); the channel acts; Bob draws his
    basis (Z with probability ``p_z``) and measures. Rounds with equal bases are
    sifted; the QBER is estimated per basis; the asymptotic key rate is
    Shor-Preskill's, with key bits from both bases. ``p_z = 0.5`` is the original
    protocol; ``p_z -> 1`` is efficient BB84 (Lo, Chau, Ardehali 2005).

    Circuits: qubit 0 is the photon; with an eavesdropper qubit 1 is her ancilla;
    in the erasure form the last qubit is the loss flag. Clbit 0 is Bob's
    outcome, then Eve's record, then the flag.

    Args:
        p_z: probability in (0, 1) that Alice (and Bob) choose the Z basis.
        f_ec: error-correction inefficiency f_EC in [1, 2] (default 1.16).

    Examples:
        >>> from qproto import Channel
        >>> from qproto.protocols import BB84
        >>> r = BB84().run(Channel(depolarisation=0.1), rounds=20_000, seed=1)
        >>> r.qber.contains(0.05)
        True
    """

    name: ClassVar[str] = "bb84"
    n_channels: ClassVar[int] = 1

    def __init__(self, *, p_z: float = 0.5, f_ec: float = 1.16):
        self.p_z = check_in_range("p_z", p_z, 0.0, 1.0, lo_open=True, hi_open=True)
        self.f_ec = check_in_range("f_ec", f_ec, 1.0, 2.0)

    def __repr__(self) -> str:
        return f"BB84(p_z={self.p_z!r}, f_ec={self.f_ec!r})"

    def parameters(self) -> dict[str, Any]:
        return {"p_z": self.p_z, "f_ec": self.f_ec}

    # ---- circuits -----------------------------------------------------------------
    @staticmethod
    def _layout(eavesdropper: Eavesdropper | None, form: ChannelForm) -> tuple[int, int, int | None, int | None]:
        """(n_qubits, n_clbits, eve qubit/clbit, flag qubit/clbit)."""
        n = 1
        eve = None
        if eavesdropper is not None:
            eve, n = n, n + 1
        flag = None
        if form == "erasure":
            flag, n = n, n + 1
        return n, n, eve, flag

    def build_circuits(self, *, eavesdropper: Eavesdropper | None = None,
                       form: ChannelForm = "fast") -> tuple[QuantumCircuit, ...]:
        """Configuration ``((eve_branch * 2 + alice_basis) * 2 + alice_bit) * 2 + bob_basis``."""
        nq, nc, eve, flag = self._layout(eavesdropper, form)
        branches = 1 if eavesdropper is None else eavesdropper.n_branches
        circuits = []
        for cfg in range(8 * branches):
            branch, a_basis, a_bit, b_basis = cfg >> 3, (cfg >> 2) & 1, (cfg >> 1) & 1, cfg & 1
            qc = QuantumCircuit(nq, nc, name=f"bb84_e{branch}_a{'ZX'[a_basis]}{a_bit}_b{'ZX'[b_basis]}")
            if a_bit:
                qc.x(0)
            if a_basis == X:
                qc.h(0)
            if eavesdropper is not None:
                eavesdropper.apply(qc, 0, eve, branch)
            if form == "fast":
                qc.append(channel_marker(), [0])
            else:
                qc.append(erasure_marker(), [0, flag])
            if b_basis == X:
                qc.h(0)
            qc.measure(0, 0)
            if eve is not None:
                qc.measure(eve, eve)
            if flag is not None:
                qc.measure(flag, flag)
            circuits.append(qc)
        return tuple(circuits)

    def noise_model(self, channels: tuple[Channel, ...], *, eavesdropper: Eavesdropper | None = None,
                    form: ChannelForm = "fast"):
        _, _, _, flag = self._layout(eavesdropper, form)
        return channel_noise_model({0: channels[0]}, form=form, flags={0: flag} if flag is not None else None)

    # ---- sampling ------------------------------------------------------------------
    def sample_chunk(self, compiled: CompiledConfigurations, channels: tuple[Channel, ...], rounds: int,
                     rng: np.random.Generator, *, eavesdropper: Eavesdropper | None, form: ChannelForm,
                     aer_seed: int) -> QKDRounds:
        n = rounds
        if self.p_z == 0.5:
            # One random byte per round: bit 2 Alice's basis, bit 1 her bit, bit 0 Bob's basis.
            cfg = np.frombuffer(rng.bytes(n), dtype=np.uint8) & np.uint8(7)
        else:
            p_x = 1.0 - self.p_z
            cfg = (bernoulli(rng, n, p_x).view(np.uint8) << 2) | (random_bits(rng, n) << 1) \
                | bernoulli(rng, n, p_x).view(np.uint8)
        if eavesdropper is not None:
            cfg |= eavesdropper.draw_branches(n, rng) << 3
        _, _, eve, flag = self._layout(eavesdropper, form)

        if form == "erasure":
            outcome = compiled.sample_trusted(cfg, rng, aer_seed=aer_seed)
            detected = ((outcome >> flag) & 1) == 0
        else:
            signal, noise_only = sample_arrivals(channels[0], n, rng)
            if signal is None:  # lossless: every round reaches the circuits
                detected = None
                outcome = compiled.sample_trusted(cfg, rng, aer_seed=aer_seed)
            else:
                detected = signal if noise_only is None else signal | noise_only
                idx = np.flatnonzero(detected)
                outcome = np.zeros(n, dtype=np.uint8)
                outcome[idx] = compiled.sample_trusted(cfg[idx], rng, aer_seed=aer_seed)
                if noise_only is not None:  # a noise click gives Bob a uniformly random bit
                    noisy = np.flatnonzero(noise_only)
                    outcome[noisy] = (outcome[noisy] & np.uint8(0xFE)) | random_bits(rng, noisy.size)
        return QKDRounds(config=cfg, outcome=outcome, detected=detected, n_configs=len(compiled.circuits),
                         n_outcomes=compiled.n_outcomes, decode=self._decoder(eve))

    @staticmethod
    def _decoder(eve: int | None):
        def decode(cfg: np.ndarray, outcome: np.ndarray) -> tuple[np.ndarray, ...]:
            eve_bit = (outcome >> eve) & 1 if eve is not None else np.zeros_like(outcome)
            return (cfg >> 2) & 1, (cfg >> 1) & 1, cfg & 1, outcome & 1, cfg >> 3, eve_bit
        return decode

    # ---- closed forms --------------------------------------------------------------
    def expected(self, channel: Channel | tuple[Channel, ...], *,
                 eavesdropper: Eavesdropper | str | None = None) -> dict[str, float]:
        """Closed-form expectations of a run (PHYSICS.md A1, C.8), rotated channels included.

        Written from the physics, not from the circuits. Given a click, the qubit
        is the signal (fraction s = ``channel.signal_fraction``: the coherent
        rotation R, then depolarising p_q = ``channel.qubit_depolarisation``) or
        noise (a uniformly random bit). A state of basis m therefore keeps the
        Bloch component ``v R_mm`` along e_m, with v = s (1 - p_q), and its bit
        flips with probability E_m = (1 - v R_mm)/2 (``channel.basis_error``).
        Intercept-resend (fraction f, Eve in Z with probability p_E) acts before
        the channel: when Eve's basis differs from Alice's (probability 1 - p_E for
        Z states, p_E for X states) her resent state is an eigenstate of the other
        basis with a uniformly random sign, so Bob's sifted bit is uniformly random;
        otherwise she resends Alice's state. Hence
        ``qber_z = (1 - f (1 - p_E)) E_Z + f (1 - p_E) / 2`` and
        ``qber_x = (1 - f p_E) E_X + f p_E / 2``.

        Returns a dict with ``detection_rate`` (clicks per round), ``sifted_fraction``,
        ``qber_z``, ``qber_x``, ``qber`` (both bases, weighted by their sifted shares
        p_Z^2 and p_X^2), ``mismatched_agreement`` (P(a = b) on discarded rounds:
        1/2 + v [(1 - f (1 - p_E)) R_xz + (1 - f p_E) R_zx] / 4, 1/2 unless the
        rotation axis mixes Z and X), ``key_rate`` (bits per round: Shor-Preskill
        with key from both bases, R = P_click [p_Z^2 (1 - h(E_X) - f_EC h(E_Z))
        + p_X^2 (1 - h(E_Z) - f_EC h(E_X))], each term clipped at 0) and, for an
        intercept-resend eavesdropper, ``eve_agreement`` (P(Eve's bit = Alice's) on
        attacked sifted rounds: right when her basis is the sifted one, else a guess).
        """
        ch = self.normalise_channels(channel)[0]
        f, pe_z = 0.0, 0.5
        eavesdropper = normalise_eavesdropper(eavesdropper)
        if eavesdropper is not None:
            if not isinstance(eavesdropper, InterceptResend):
                raise NotImplementedError(f"no closed form for {eavesdropper!r}")
            f, pe_z = eavesdropper.fraction, eavesdropper.p_z
        v = ch.signal_fraction * (1.0 - ch.qubit_depolarisation)
        rot = [[float(x) for x in row] for row in ch.rotation_matrix]  # Bloch rotation; index 0 = x, 2 = z
        # Probability that Eve's basis differs from Alice's, for Z (X) states.
        wrong = {"z": f * (1.0 - pe_z), "x": f * pe_z}
        out: dict[str, float] = {}
        for basis, axis in (("z", 2), ("x", 0)):
            e_channel = (1.0 - v * rot[axis][axis]) / 2.0
            out[f"qber_{basis}"] = (1.0 - wrong[basis]) * e_channel + wrong[basis] / 2.0
        p_det = ch.detection_probability
        pz, px = self.p_z, 1.0 - self.p_z
        out["detection_rate"] = p_det
        out["sifted_fraction"] = pz**2 + px**2
        out["qber"] = (pz**2 * out["qber_z"] + px**2 * out["qber_x"]) / (pz**2 + px**2)
        # Mismatched rounds: (Alice Z, Bob X) and (Alice X, Bob Z) are equally likely (p_Z p_X each);
        # Bob's bit agrees with Alice's with probability (1 + v R[bob axis, alice axis]) / 2 unless
        # Eve measured in the other basis (then 1/2).
        out["mismatched_agreement"] = 0.5 + v * ((1.0 - wrong["z"]) * rot[0][2]
                                                 + (1.0 - wrong["x"]) * rot[2][0]) / 4.0
        out["key_rate"] = p_det * float(
            pz**2 * bb84_asymptotic_fraction(out["qber_x"], out["qber_z"], f_ec=self.f_ec)
            + px**2 * bb84_asymptotic_fraction(out["qber_z"], out["qber_x"], f_ec=self.f_ec))
        if eavesdropper is not None and f > 0.0:
            # On attacked sifted rounds, Eve is right when her basis matches Alice's, else guesses.
            p_match = (pz**2 * pe_z + px**2 * (1.0 - pe_z)) / (pz**2 + px**2)
            out["eve_agreement"] = p_match + (1.0 - p_match) / 2.0
        return out
