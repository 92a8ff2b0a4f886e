"""BBM92 (Bennett, Brassard, Mermin 1992): entanglement-based QKD with a CHSH test."""

from __future__ import annotations

import math
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

__all__ = ["BBM92", "BOB_ANGLES"]

#: Bob's measurement angles (x-z plane) by setting code: Z, X, then the CHSH angles.
BOB_ANGLES = (0.0, math.pi / 2, math.pi / 4, 3 * math.pi / 4)
_BX, _BZ = 0, 2  # indices of the x and z components of a Bloch vector


@register_protocol
class BBM92(QKDProtocol):
    """BBM92 with a source of Phi+ pairs in the middle (PHYSICS.md A3, A4).

    Each round a Phi+ pair is emitted; qubit 0 crosses Alice's channel and qubit 1
    Bob's (``run(channel=(alice_channel, bob_channel))``; a single Channel is used
    for both arms). A fraction ``chsh_fraction`` of rounds are CHSH test rounds, with
    Alice measuring at angle 0 or pi/2 and Bob at pi/4 or 3pi/4 (PHYSICS.md A4,
    ``ry(-theta)`` then measure); the others are key rounds where each measures Z
    (probability ``p_z``) or X. Key rounds are sifted on equal bases; CHSH rounds
    give S = E(0,pi/4) - E(0,3pi/4) + E(pi/2,pi/4) + E(pi/2,3pi/4) = 2 sqrt(2) V for a
    Werner state of visibility V. A coincidence needs a click in both arms; a
    noise-only click gives a random bit. An eavesdropper attacks Bob's arm.

    Args:
        p_z: probability in (0, 1) of the Z basis in key rounds.
        chsh_fraction: fraction in [0, 1) of rounds used for the CHSH test.
        f_ec: error-correction inefficiency in [1, 2].
    """

    name: ClassVar[str] = "bbm92"
    n_channels: ClassVar[int] = 2

    def __init__(self, *, p_z: float = 0.5, chsh_fraction: float = 0.1, f_ec: float = 1.16):
        self.p_z = check_in_range("p_z", p_z, 0.0, 1.0, lo_open=True, hi_open=True)
        self.chsh_fraction = check_in_range("chsh_fraction", chsh_fraction, 0.0, 1.0, hi_open=True)
        self.f_ec = check_in_range("f_ec", f_ec, 1.0, 2.0)

    def __repr__(self) -> str:
        return f"BBM92(p_z={self.p_z!r}, chsh_fraction={self.chsh_fraction!r}, f_ec={self.f_ec!r})"

    def parameters(self) -> dict[str, Any]:
        return {"p_z": self.p_z, "chsh_fraction": self.chsh_fraction, "f_ec": self.f_ec}

    @staticmethod
    def _layout(eavesdropper: Eavesdropper | None, form: ChannelForm):
        """(n_qubits, eve qubit/clbit, (flag_a, flag_b)); qubits and clbits coincide."""
        n = 2
        eve = None
        if eavesdropper is not None:
            eve, n = n, n + 1
        flags = None
        if form == "erasure":
            flags, n = (n, n + 1), n + 2
        return n, eve, flags

    def build_circuits(self, *, eavesdropper: Eavesdropper | None = None,
                       form: ChannelForm = "fast") -> tuple[QuantumCircuit, ...]:
        """Configuration ``(eve_branch * 2 + alice_setting) * 4 + bob_setting``."""
        nq, eve, flags = self._layout(eavesdropper, form)
        branches = 1 if eavesdropper is None else eavesdropper.n_branches
        circuits = []
        for cfg in range(8 * branches):
            branch, a_set, b_set = cfg >> 3, (cfg >> 2) & 1, cfg & 3
            qc = QuantumCircuit(nq, nq, name=f"bbm92_e{branch}_a{a_set}_b{b_set}")
            qc.h(0)
            qc.cx(0, 1)
            if eavesdropper is not None:
                eavesdropper.apply(qc, 1, eve, branch)
            for q in (0, 1):
                if flags is None:
                    qc.append(channel_marker(), [q])
                else:
                    qc.append(erasure_marker(), [q, flags[q]])
            if a_set == X:
                qc.h(0)
            if b_set == X:
                qc.h(1)
            elif b_set >= 2:
                qc.ry(-BOB_ANGLES[b_set], 1)
            for q in range(nq):
                qc.measure(q, q)
            circuits.append(qc)
        return tuple(circuits)

    def noise_model(self, channels: tuple[Channel, ...], *, eavesdropper: Eavesdropper | None = None,
                    form: ChannelForm = "fast"):
        _, _, flags = self._layout(eavesdropper, form)
        return channel_noise_model({0: channels[0], 1: channels[1]}, form=form,
                                   flags=None if flags is None else {0: flags[0], 1: flags[1]})

    def sample_chunk(self, compiled: CompiledConfigurations, channels: tuple[Channel, ...], rounds: int,
                     rng: np.random.Generator, *, eavesdropper: Eavesdropper | None, form: ChannelForm,
                     aer_seed: int) -> QKDRounds:
        n = rounds
        p_x = 1.0 - self.p_z
        a_set = random_bits(rng, n, p_x)
        b_set = random_bits(rng, n, p_x)
        if self.chsh_fraction > 0.0:
            test = bernoulli(rng, n, self.chsh_fraction)
            a_set = np.where(test, random_bits(rng, n), a_set)
            b_set = np.where(test, np.uint8(2) + random_bits(rng, n), b_set)
        cfg = (a_set << 2) | b_set
        if eavesdropper is not None:
            cfg |= eavesdropper.draw_branches(n, rng) << 3
        _, eve, flags = self._layout(eavesdropper, form)

        if form == "erasure":
            outcome = compiled.sample_trusted(cfg, rng, aer_seed=aer_seed)
            detected = (((outcome >> flags[0]) | (outcome >> flags[1])) & 1) == 0
        else:
            sig_a, noise_a = sample_arrivals(channels[0], n, rng)
            sig_b, noise_b = sample_arrivals(channels[1], n, rng)
            if sig_a is None and sig_b is None:
                detected = None
                outcome = compiled.sample_trusted(cfg, rng, aer_seed=aer_seed)
            else:
                detected = _clicks(sig_a, noise_a, n) & _clicks(sig_b, noise_b, n)
                idx = np.flatnonzero(detected)
                outcome = np.zeros(n, dtype=np.uint8)
                outcome[idx] = compiled.sample_trusted(cfg[idx], rng, aer_seed=aer_seed)
                # A side that clicked on noise alone holds a uniformly random bit.
                for noise, bit in ((noise_a, 0), (noise_b, 1)):
                    if noise is not None:
                        noisy = np.flatnonzero(noise & detected)
                        outcome[noisy] = (outcome[noisy] & np.uint8(0xFF ^ (1 << bit))) | (
                            random_bits(rng, noisy.size) << bit)
        return QKDRounds(config=cfg, outcome=outcome, detected=detected, n_configs=len(compiled.circuits),
                         n_outcomes=compiled.n_outcomes, decode=self._decoder(eve))

    @staticmethod
    def _decoder(eve: int | None):
        def decode(cfg: np.ndarray, outcome: np.ndarray) -> tuple[np.ndarray, ...]:
            eve_bit = (outcome >> eve) & 1 if eve is not None else np.zeros_like(outcome)
            return (cfg >> 2) & 1, outcome & 1, cfg & 3, (outcome >> 1) & 1, cfg >> 3, eve_bit
        return decode

    def expected(self, channel: Channel | tuple[Channel, ...], *,
                 eavesdropper: Eavesdropper | str | None = None) -> dict[str, float]:
        """Closed-form expectations (PHYSICS.md A3, A4), per-arm channels and rotations included.

        Written from the physics, not from the circuits, with the two-qubit
        correlation matrix M_ij = <sigma_i (x) sigma_j> (i, j in x, y, z) of the
        post-selected pair. Phi+ has M = T = diag(1, -1, 1). Each arm's channel
        given a click maps a Bloch vector r to d R r, with R its coherent rotation
        (``channel.rotation_matrix``) and d = s (1 - p_q) (signal fraction times
        one minus the qubit depolarisation: noise clicks carry random bits), so
        M -> d_A d_B R_A M R_B^T with A = ``channel[0]`` (qubit 0, Alice) and
        B = ``channel[1]`` (qubit 1, Bob). Intercept-resend on Bob's qubit at the
        source (fraction f, Eve in Z with probability p_E) first replaces T by
        diag(0, 0, 1) (Eve in Z) or diag(1, 0, 0) (Eve in X). A measurement of
        Alice along the Bloch vector a and of Bob along b then has correlator
        E(a, b) = a^T M b and the bits agree with probability (1 + E)/2.

        Returns ``detection_rate`` (coincidences per pair), ``sifted_fraction``,
        ``qber_z`` = (1 - M_zz)/2, ``qber_x`` = (1 - M_xx)/2, ``qber`` (sifted-share
        weighted), ``mismatched_agreement`` = 1/2 + (M_zx + M_xz)/4, ``visibility``
        (the Werner visibility d_A d_B of the pair without Eve, rotations
        excluded), ``chsh`` (S of the PHYSICS.md A4 settings), ``key_rate`` (bits
        per pair: (1 - chsh_fraction) P_coinc [p_Z^2 (1 - h(E_X) - f_EC h(E_Z))
        + p_X^2 (1 - h(E_Z) - f_EC h(E_X))]) and, with an eavesdropper,
        ``eve_agreement`` (P(Eve's bit = Alice's) on attacked sifted rounds: Eve's
        result k in basis e leaves Alice's qubit with Bloch vector (-1)^k T e_e, so
        Alice's bit in basis m equals k with probability (1 + d_A (R_A T e_e)_m)/2).
        """
        ch_a, ch_b = self.normalise_channels(channel)
        f, pe_z = 0.0, 0.5
        eavesdropper = normalise_eavesdropper(eavesdropper)
        if eavesdropper is not None:
            if not isinstance(eavesdropper, InterceptResend):
                raise NotImplementedError(f"no closed form for {eavesdropper!r}")
            f, pe_z = eavesdropper.fraction, eavesdropper.p_z
        d_a = ch_a.signal_fraction * (1.0 - ch_a.qubit_depolarisation)
        d_b = ch_b.signal_fraction * (1.0 - ch_b.qubit_depolarisation)
        r_a, r_b = ch_a.rotation_matrix, ch_b.rotation_matrix
        phi_plus, eve_z, eve_x = np.diag([1.0, -1.0, 1.0]), np.diag([0.0, 0.0, 1.0]), np.diag([1.0, 0.0, 0.0])
        source = (1.0 - f) * phi_plus + f * (pe_z * eve_z + (1.0 - pe_z) * eve_x)
        m = d_a * d_b * (r_a @ source @ r_b.T)

        def corr(ta: float, tb: float) -> float:
            """E for measurements at angles ta (Alice), tb (Bob) in the x-z plane: cos(t) Z + sin(t) X."""
            a = np.array([math.sin(ta), 0.0, math.cos(ta)])
            b = np.array([math.sin(tb), 0.0, math.cos(tb)])
            return float(a @ m @ b)

        out: dict[str, float] = {
            "detection_rate": ch_a.detection_probability * ch_b.detection_probability,
            "visibility": d_a * d_b,
            "qber_z": (1.0 - float(m[_BZ, _BZ])) / 2.0,
            "qber_x": (1.0 - float(m[_BX, _BX])) / 2.0,
            "mismatched_agreement": 0.5 + float(m[_BZ, _BX] + m[_BX, _BZ]) / 4.0,
        }
        pz, px = self.p_z, 1.0 - self.p_z
        out["sifted_fraction"] = pz**2 + px**2
        out["qber"] = (pz**2 * out["qber_z"] + px**2 * out["qber_x"]) / (pz**2 + px**2)
        if eavesdropper is not None and f > 0.0:
            w_z = pz**2 / (pz**2 + px**2)  # share of Z among sifted rounds
            agree = 0.0
            for alice_axis, w_alice in ((_BZ, w_z), (_BX, 1.0 - w_z)):
                for eve_axis, w_eve in ((_BZ, pe_z), (_BX, 1.0 - pe_z)):
                    # T e_e = e_e for e = x, z; Alice's arm then maps it to d_A R_A e_e.
                    agree += w_alice * w_eve * (1.0 + d_a * float(r_a[alice_axis, eve_axis])) / 2.0
            out["eve_agreement"] = agree
        q = math.pi / 4
        out["chsh"] = corr(0, q) - corr(0, 3 * q) + corr(2 * q, q) + corr(2 * q, 3 * q)
        key_rounds = (1.0 - self.chsh_fraction) * out["detection_rate"]
        out["key_rate"] = key_rounds * float(
            pz**2 * bb84_asymptotic_fraction(out["qber_x"], out["qber_z"], f_ec=self.f_ec)
            + px**2 * bb84_asymptotic_fraction(out["qber_z"], out["qber_x"], f_ec=self.f_ec))
        return out


def _clicks(signal: np.ndarray | None, noise_only: np.ndarray | None, n: int) -> np.ndarray:
    click = np.ones(n, dtype=bool) if signal is None else signal
    return click if noise_only is None else click | noise_only
