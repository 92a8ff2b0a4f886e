"""B92 (Bennett 1992): two non-orthogonal states, unambiguous discrimination by Bob."""

from __future__ import annotations

from typing import ClassVar

from qiskit import QuantumCircuit

from qproto._channel import Channel
from qproto._declarative import Configuration, DeclarativeProtocol, Parameter, RoundView
from qproto._protocol import normalise_eavesdropper, register_protocol

__all__ = ["B92"]

_X, _Z = 0, 2  # Bloch-vector indices


@register_protocol
class B92(DeclarativeProtocol):
    """B92: two non-orthogonal states, Bob keeps his conclusive outcomes (docs/conventions.md A14).

    Alice encodes bit 0 as |0> (Bloch +z) and bit 1 as |+> (Bloch +x). Bob measures Z
    (probability ``p_bob_z``) or X. Only the outcome 1 is conclusive: |1> in Z rules out
    |0>, so Bob reads bit 1; |-> in X rules out |+>, so he reads bit 0. Inconclusive rounds
    are discarded publicly; the conclusive ones form the sifted key.

    Estimates: ``detection_rate`` (clicks per round), ``conclusive_rate`` (conclusive per
    click), ``qber`` (errors per conclusive round) and the same two per Bob basis
    (``conclusive_rate_z``, ``qber_z``: Bob measured Z; ``_x``: X), ``sifted_rate``
    (conclusive rounds per channel use). No key rate is reported: B92's secure rate depends
    on the loss, the source and the attack model (Tamaki & Lütkenhaus 2004), which this
    single-photon toy does not settle.

    Args:
        p_bob_z: probability in (0, 1) that Bob measures in Z.
    """

    name: ClassVar[str] = "b92"
    CHOICES: ClassVar[dict[str, int]] = {"bit": 2, "bob_basis": 2}
    QUBITS: ClassVar[int] = 1
    CHANNELS: ClassVar[tuple[int, ...]] = (0,)
    PARAMETERS: ClassVar[dict[str, Parameter]] = {
        "p_bob_z": Parameter(0.5, 0.0, 1.0, lo_open=True, hi_open=True, doc="probability Bob measures Z"),
    }
    LABELS: ClassVar[dict[str, str]] = {
        "detection_rate": "detection rate (per round)", "conclusive_rate": "conclusive (per click)",
        "qber": "QBER (conclusive bits)", "sifted_rate": "sifted bits per round",
        "conclusive_rate_z": "conclusive, Bob Z", "conclusive_rate_x": "conclusive, Bob X",
        "qber_z": "QBER, Bob Z", "qber_x": "QBER, Bob X",
    }

    def probabilities(self) -> dict[str, tuple[float, float]]:
        return {"bob_basis": (self.p_bob_z, 1.0 - self.p_bob_z)}

    def circuit(self, qc: QuantumCircuit, c: Configuration) -> None:
        if c.bit:
            qc.h(0)  # |+>
        c.send(qc)
        if c.bob_basis:
            qc.h(0)  # measure X

    def tally(self, r: RoundView) -> dict[str, int]:
        conclusive = r.clicked & (r.measured(0) == 1)
        bob_bit = 1 - r.bob_basis  # Z and |1> -> 1; X and |-> -> 0
        wrong = conclusive & (bob_bit != r.bit)
        out = {"clicked": r.count(r.clicked)}
        for name, basis in (("z", 0), ("x", 1)):
            in_basis = r.bob_basis == basis
            out[f"clicked_{name}"] = r.count(r.clicked & in_basis)
            out[f"conclusive_{name}"] = r.count(conclusive & in_basis)
            out[f"errors_{name}"] = r.count(wrong & in_basis)
        return out

    def estimates(self, result):
        t = result.tallies
        conclusive, errors = t["conclusive_z"] + t["conclusive_x"], t["errors_z"] + t["errors_x"]
        return {
            "detection_rate": result.binomial("clicked", "rounds"),
            "conclusive_rate": result.binomial(conclusive, "clicked"),
            "sifted_rate": result.binomial(conclusive, "rounds"),
            "qber": result.binomial(errors, conclusive),
            "conclusive_rate_z": result.binomial("conclusive_z", "clicked_z"),
            "conclusive_rate_x": result.binomial("conclusive_x", "clicked_x"),
            "qber_z": result.binomial("errors_z", "conclusive_z"),
            "qber_x": result.binomial("errors_x", "conclusive_x"),
        }

    def expected(self, channel: Channel | tuple[Channel, ...], *, eavesdropper=None) -> dict[str, float]:
        """Closed forms (docs/conventions.md A14), rotated channels included.

        Given a click the qubit's Bloch vector r becomes v R r (v = s (1 - p_q): signal
        fraction times one minus the qubit depolarisation; noise clicks carry random bits),
        and a measurement along e_m reads 1 with probability (1 - v (R r)_m) / 2. Alice's
        states are r = e_z (bit 0) and e_x (bit 1), each with probability 1/2. Bob measuring
        Z is conclusive with probability c_Z = [(1 - v R_zx) + (1 - v R_zz)] / 4 (right
        from |+>, wrong from |0>) and wrong with probability w_Z = (1 - v R_zz) / 4 = E_Z / 2;
        measuring X: c_X = [(1 - v R_xz) + (1 - v R_xx)] / 4, w_X = E_X / 2. With q = p_bob_z:
        conclusive_rate = q c_Z + (1 - q) c_X and qber = (q w_Z + (1 - q) w_X) / conclusive_rate.
        On an ideal channel: conclusive_rate 1/4, qber 0.
        """
        if normalise_eavesdropper(eavesdropper) is not None:
            raise NotImplementedError("B92 has no closed form with an eavesdropper")
        ch = self.normalise_channels(channel)[0]
        v = ch.signal_fraction * (1.0 - ch.qubit_depolarisation)
        rot = ch.rotation_matrix
        c_z = ((1.0 - v * rot[_Z, _X]) + (1.0 - v * rot[_Z, _Z])) / 4.0
        w_z = (1.0 - v * rot[_Z, _Z]) / 4.0
        c_x = ((1.0 - v * rot[_X, _Z]) + (1.0 - v * rot[_X, _X])) / 4.0
        w_x = (1.0 - v * rot[_X, _X]) / 4.0
        q = self.p_bob_z
        conclusive = q * c_z + (1.0 - q) * c_x
        p_click = ch.detection_probability
        return {
            "detection_rate": p_click,
            "conclusive_rate": conclusive,
            "sifted_rate": p_click * conclusive,
            "qber": (q * w_z + (1.0 - q) * w_x) / conclusive,
            "conclusive_rate_z": c_z,
            "conclusive_rate_x": c_x,
            "qber_z": w_z / c_z,
            "qber_x": w_x / c_x,
        }
