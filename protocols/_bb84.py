"""BB84 (Bennett & Brassard 1984), prepare-and-measure, symmetric or biased bases."""

from __future__ import annotations

from typing import ClassVar

from qiskit import QuantumCircuit

from qproto._attacks import Eavesdropper, InterceptResend
from qproto._channel import Channel
from qproto._declarative import Configuration, Parameter
from qproto._protocol import normalise_eavesdropper, register_protocol
from qproto._qkd import DeclarativeQKD, X
from qproto.security import bb84_asymptotic_fraction

__all__ = ["BB84"]


@register_protocol
class BB84(DeclarativeQKD):
    """BB84 with single photons, symmetric or biased bases, Shor-Preskill key rate (docs/conventions.md A1).

    Each round Alice draws a basis (Z with probability ``p_z``) and a bit and
    prepares the qubit (``x`` then ``h`` for X); the channel acts; Bob draws his
    basis (Z with probability ``p_z``) and measures. Rounds with equal bases are
    sifted; the QBER is estimated per basis; the asymptotic key rate is
    Shor-Preskill's, with key bits from both bases. ``p_z = 0.5`` is the original
    protocol; ``p_z -> 1`` is efficient BB84 (Lo, Chau, Ardehali 2005).

    Written with the declarative API (:class:`qproto.DeclarativeProtocol`): the choices,
    the circuit of one configuration and how a round reads as a QKD round; the base runs it.
    Circuits: qubit 0 is the photon; with an eavesdropper qubit 1 is her ancilla;
    in the erasure form the last qubit is the loss flag. Clbit k is qubit k's outcome.
    Configuration ``((eve_branch * 2 + alice_basis) * 2 + alice_bit) * 2 + bob_basis``.

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
    CHOICES: ClassVar[dict[str, int]] = {"alice_basis": 2, "alice_bit": 2, "bob_basis": 2}
    QUBITS: ClassVar[int] = 1
    CHANNELS: ClassVar[tuple[int, ...]] = (0,)
    PARAMETERS: ClassVar[dict[str, Parameter]] = {
        "p_z": Parameter(0.5, 0.0, 1.0, lo_open=True, hi_open=True, doc="probability of the Z basis"),
        "f_ec": Parameter(1.16, 1.0, 2.0, doc="error-correction inefficiency"),
    }

    def probabilities(self) -> dict[str, tuple[float, float]]:
        bases = (self.p_z, 1.0 - self.p_z)
        return {"alice_basis": bases, "bob_basis": bases}

    def circuit(self, qc: QuantumCircuit, c: Configuration) -> None:
        if c.alice_bit:
            qc.x(0)
        if c.alice_basis == X:
            qc.h(0)
        c.send(qc)
        if c.bob_basis == X:
            qc.h(0)

    @staticmethod
    def key_fields(choices, bit):
        return choices["alice_basis"], choices["alice_bit"], choices["bob_basis"], bit(0)

    # ---- closed forms --------------------------------------------------------------
    def expected(self, channel: Channel | tuple[Channel, ...], *,
                 eavesdropper: Eavesdropper | str | None = None) -> dict[str, float]:
        """Closed-form expectations of a run (docs/conventions.md A1, C.8), rotated channels included.

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
