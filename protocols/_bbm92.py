"""BBM92 (Bennett, Brassard, Mermin 1992): entanglement-based QKD with a CHSH test."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np
from qiskit import QuantumCircuit

from qproto._attacks import Eavesdropper, InterceptResend
from qproto._channel import Channel
from qproto._declarative import Configuration, Parameter
from qproto._protocol import normalise_eavesdropper, register_protocol
from qproto._qkd import DeclarativeQKD, X
from qproto._random import bernoulli, random_bits
from qproto.security import bb84_asymptotic_fraction

__all__ = ["BBM92", "BOB_ANGLES"]

#: Bob's measurement angles (x-z plane) by setting code: Z, X, then the CHSH angles.
BOB_ANGLES = (0.0, math.pi / 2, math.pi / 4, 3 * math.pi / 4)
_BX, _BZ = 0, 2  # indices of the x and z components of a Bloch vector


@register_protocol
class BBM92(DeclarativeQKD):
    """BBM92: Phi+ pairs from a source in the middle, CHSH test rounds (docs/conventions.md A3, A4).

    Each round a Phi+ pair is emitted; qubit 0 crosses Alice's channel and qubit 1
    Bob's (``run(channel=(alice_channel, bob_channel))``; a single Channel is used
    for both arms). A fraction ``chsh_fraction`` of rounds are CHSH test rounds, with
    Alice measuring at angle 0 or pi/2 and Bob at pi/4 or 3pi/4 (docs/conventions.md A4,
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
    CHOICES: ClassVar[dict[str, int]] = {"alice_setting": 2, "bob_setting": 4}
    QUBITS: ClassVar[int] = 2
    CHANNELS: ClassVar[tuple[int, ...]] = (0, 1)  # qubit 0 crosses Alice's arm, qubit 1 Bob's
    EAVESDROPPER_CHANNEL: ClassVar[int] = 1
    PARAMETERS: ClassVar[dict[str, Parameter]] = {
        "p_z": Parameter(0.5, 0.0, 1.0, lo_open=True, hi_open=True, doc="probability of Z in key rounds"),
        "chsh_fraction": Parameter(0.1, 0.0, 1.0, hi_open=True, doc="fraction of CHSH test rounds"),
        "f_ec": Parameter(1.16, 1.0, 2.0, doc="error-correction inefficiency"),
    }

    def draw(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        """Key rounds: each side Z (p_z) or X; a test round (``chsh_fraction``) overrides both
        with a uniform CHSH setting (Alice 0/1, Bob 2/3): the settings are not independent."""
        p_x = 1.0 - self.p_z
        a_set = random_bits(rng, n, p_x)
        b_set = random_bits(rng, n, p_x)
        if self.chsh_fraction > 0.0:
            test = bernoulli(rng, n, self.chsh_fraction)
            a_set = np.where(test, random_bits(rng, n), a_set)
            b_set = np.where(test, np.uint8(2) + random_bits(rng, n), b_set)
        return {"alice_setting": a_set, "bob_setting": b_set}

    def circuit(self, qc: QuantumCircuit, c: Configuration) -> None:
        qc.h(0)
        qc.cx(0, 1)
        c.send(qc)
        if c.alice_setting == X:
            qc.h(0)
        if c.bob_setting == X:
            qc.h(1)
        elif c.bob_setting >= 2:
            qc.ry(-BOB_ANGLES[c.bob_setting], 1)

    @staticmethod
    def key_fields(choices, bit):
        return choices["alice_setting"], bit(0), choices["bob_setting"], bit(1)

    def expected(self, channel: Channel | tuple[Channel, ...], *,
                 eavesdropper: Eavesdropper | str | None = None) -> dict[str, float]:
        """Closed-form expectations (docs/conventions.md A3, A4), per-arm channels and rotations included.

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
        excluded), ``chsh`` (S of the docs/conventions.md A4 settings), ``key_rate`` (bits
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

