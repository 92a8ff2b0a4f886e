"""The six-state protocol (Bruß 1998; Bechmann-Pasquinucci & Gisin 1999): BB84 with the Y basis too."""

from __future__ import annotations

import itertools
import math
from typing import ClassVar

import numpy as np
from qiskit import QuantumCircuit

from qproto._attacks import Eavesdropper, InterceptResend
from qproto._channel import Channel
from qproto._declarative import Configuration, DeclarativeProtocol, Parameter, RoundView
from qproto._protocol import normalise_eavesdropper, register_protocol
from qproto._results import Estimate
from qproto._validation import check_in_range, check_one_of
from qproto.security import binary_entropy, plob_bound

__all__ = ["SixState", "six_state_key_fraction", "BASES"]

#: Basis codes: 0 = Z, 1 = X, 2 = Y; with their Bloch-vector index.
BASES = ("z", "x", "y")
_AXIS = {"z": 2, "x": 0, "y": 1}


def six_state_key_fraction(e_x: float, e_y: float, e_z: float, *, key_basis: str = "z", f_ec: float = 1.0) -> float:
    """Secret bits per sifted bit of ``key_basis`` from the three error rates (one-way, asymptotic).

    The twirled state is Bell diagonal with Pauli weights (docs/conventions.md A15)
    lambda_I = 1 - (E_X + E_Y + E_Z)/2, lambda_X = (E_Z + E_Y - E_X)/2,
    lambda_Y = (E_Z + E_X - E_Y)/2, lambda_Z = (E_X + E_Y - E_Z)/2 (a Z-basis bit flips under
    X and Y errors, so E_Z = lambda_X + lambda_Y, and cyclically). Eve's Holevo information
    about a key bit of basis m is H(lambda) - h(E_m), so the Devetak-Winter rate is
    ``1 - H(lambda) + h(E_m) - f_EC h(E_m)``, clipped at 0. With f_EC = 1 and
    E_X = E_Y = E_Z = Q it is 1 - H(lambda), zero at Q = 12.62 % (Lo 2001; Renner, Gisin,
    Kraus 2005; Scarani et al., Rev. Mod. Phys. 81, 1301 (2009), section III.B).
    Negative weights (sampled rates that no Pauli channel gives) are clipped to 0 and the
    rest renormalised.

    Args:
        e_x, e_y, e_z: error rates in [0, 1] (values above 1/2 are used as given).
        key_basis: ``"z"``, ``"x"`` or ``"y"``.
        f_ec: error-correction inefficiency in [1, 2].
    """
    e = {"x": check_in_range("e_x", e_x, 0.0, 1.0), "y": check_in_range("e_y", e_y, 0.0, 1.0),
         "z": check_in_range("e_z", e_z, 0.0, 1.0)}
    check_one_of("key_basis", key_basis, BASES)
    f_ec = check_in_range("f_ec", f_ec, 1.0, 2.0)
    lam = np.array([1.0 - (e["x"] + e["y"] + e["z"]) / 2.0, (e["z"] + e["y"] - e["x"]) / 2.0,
                    (e["z"] + e["x"] - e["y"]) / 2.0, (e["x"] + e["y"] - e["z"]) / 2.0])
    lam = np.clip(lam, 0.0, None)
    lam = lam / lam.sum()
    h_lam = float(-sum(p * math.log2(p) for p in lam if p > 0.0))
    h_key = float(binary_entropy(min(e[key_basis], 1.0)))
    return max(0.0, 1.0 - h_lam + h_key - f_ec * h_key)


@register_protocol
class SixState(DeclarativeProtocol):
    """Six-state QKD: Z, X and Y bases, key rate from E_X, E_Y, E_Z (docs/conventions.md A15).

    Alice draws a basis (Z, X or Y, uniformly) and a bit and prepares the eigenstate
    (``x`` for bit 1, then ``h`` for X, ``h`` and ``s`` for Y: |+i>, |-i>); Bob draws his
    basis uniformly and measures (``h`` for X; ``sdg`` then ``h`` for Y). Equal bases are
    sifted (a third of the clicks). Unlike BB84, the Y basis lets Alice and Bob estimate all
    three error rates, which pins down the Pauli weights of the channel: the key rate is
    the six-state one (:func:`six_state_key_fraction`), with key bits from every basis.

    Estimates: ``detection_rate``, ``sifted_fraction`` (sifted per click), ``qber_z``,
    ``qber_x``, ``qber_y``, ``qber`` (all sifted bits), ``mismatched_agreement`` (P(a = b)
    when the bases differ), ``key_rate`` (bits per round; its interval from the corners of
    the three error-rate intervals) and ``plob_min_eta``.

    Args:
        f_ec: error-correction inefficiency in [1, 2].
    """

    name: ClassVar[str] = "six-state"
    CHOICES: ClassVar[dict[str, int]] = {"alice_basis": 3, "alice_bit": 2, "bob_basis": 3}
    QUBITS: ClassVar[int] = 1
    CHANNELS: ClassVar[tuple[int, ...]] = (0,)
    PARAMETERS: ClassVar[dict[str, Parameter]] = {
        "f_ec": Parameter(1.16, 1.0, 2.0, doc="error-correction inefficiency"),
    }
    LABELS: ClassVar[dict[str, str]] = {
        "detection_rate": "detection rate (per round)", "sifted_fraction": "sifted fraction",
        "qber_z": "QBER Z", "qber_x": "QBER X", "qber_y": "QBER Y", "qber": "QBER (all bases)",
        "mismatched_agreement": "P(a = b), mismatched bases", "key_rate": "key rate (bit/round)",
        "plob_min_eta": "PLOB(min eta) (bit/round)",
    }

    def circuit(self, qc: QuantumCircuit, c: Configuration) -> None:
        if c.alice_bit:
            qc.x(0)
        if c.alice_basis >= 1:
            qc.h(0)
        if c.alice_basis == 2:
            qc.s(0)
        c.send(qc)
        if c.bob_basis == 2:
            qc.sdg(0)
        if c.bob_basis >= 1:
            qc.h(0)

    def tally(self, r: RoundView) -> dict[str, int]:
        agree = r.measured(0) == r.alice_bit
        same = r.alice_basis == r.bob_basis
        out = {"clicked": r.count(r.clicked), "mismatched": r.count(r.clicked & ~same),
               "mismatched_agree": r.count(r.clicked & ~same & agree)}
        for code, b in enumerate(BASES):
            sifted = r.clicked & same & (r.alice_basis == code)
            out[f"sifted_{b}"] = r.count(sifted)
            out[f"errors_{b}"] = r.count(sifted & ~agree)
        return out

    def estimates(self, result):
        t = result.tallies
        sifted = sum(t[f"sifted_{b}"] for b in BASES)
        errors = sum(t[f"errors_{b}"] for b in BASES)
        qbers = {b: result.binomial(f"errors_{b}", f"sifted_{b}") for b in BASES}
        return {
            "detection_rate": result.binomial("clicked", "rounds"),
            "sifted_bits": sifted,
            "sifted_fraction": result.binomial(sifted, "clicked"),
            **{f"qber_{b}": qbers[b] for b in BASES},
            "qber": result.binomial(errors, sifted),
            "mismatched_agreement": result.binomial("mismatched_agree", "mismatched"),
            "key_rate": self._key_rate(result, qbers),
            "plob_min_eta": plob_bound(min(ch.total_transmittance for ch in result.channels)),
        }

    def _key_rate(self, result, qbers: dict[str, Estimate]) -> Estimate:
        """Bits per round: each basis's sifted share times its key fraction; the interval spans
        the rates at the corners of the three QBER intervals, clipped to PLOB(min eta)."""
        rounds = result.rounds
        if rounds == 0 or any(math.isnan(q.best) for q in qbers.values()):
            return Estimate(0.0, 0.0, 0.0, result.confidence)
        share = {b: result.tallies[f"sifted_{b}"] / rounds for b in BASES}

        def rate(e: dict[str, float]) -> float:
            return sum(share[b] * six_state_key_fraction(e["x"], e["y"], e["z"], key_basis=b, f_ec=self.f_ec)
                       for b in BASES)

        best = rate({b: qbers[b].best for b in BASES})
        corners = [rate(dict(zip(BASES, ends)))
                   for ends in itertools.product(*((q.low, q.high) for q in qbers.values()))]
        # No key rate exceeds the PLOB bound of the worst channel (0 at zero transmittance, where
        # noise clicks alone can make a QBER interval reach down to 0): the interval is clipped to it.
        cap = plob_bound(min(ch.total_transmittance for ch in result.channels))
        lo, hi = min(corners + [best]), max(corners + [best])
        return Estimate(min(lo, cap), min(best, cap), min(hi, cap), result.confidence)

    def expected(self, channel: Channel | tuple[Channel, ...], *,
                 eavesdropper: Eavesdropper | str | None = None) -> dict[str, float]:
        """Closed forms (docs/conventions.md A15), rotated channels and intercept-resend included.

        Given a click the Bloch vector r becomes v R r (v = s (1 - p_q); noise clicks carry
        random bits). A state of basis m and bit a has r = (-1)^a e_m; Bob measuring along
        e_n reads a with probability (1 + v R_nm)/2. So E_m = (1 - v R_mm)/2 (the Channel's
        ``basis_error``), the sifted fraction is 1/3, ``qber`` the mean of the three,
        ``mismatched_agreement`` the mean of (1 + v R_nm)/2 over the six ordered pairs
        m != n, and ``key_rate`` = P_click / 9 * sum_m key_fraction(E_X, E_Y, E_Z; m) (each
        basis is sifted on 1/3 x 1/3 of the clicks).

        Intercept-resend (fraction f, Eve in Z with probability p_E, else X) acts before the
        channel. When her basis is not Alice's (probability w_m: f (1 - p_E) for Z states,
        f p_E for X states and f for Y states, which she can never measure), her result is
        uncorrelated with Alice's bit and Bob's bit is a coin: E_m -> (1 - w_m) E_m + w_m/2 and
        each mismatched agreement -> (1 - w_m)(1 + v R_nm)/2 + w_m/2. A full attack therefore
        shows as E_Y = 1/2.
        """
        f, pe_z = 0.0, 0.5
        eavesdropper = normalise_eavesdropper(eavesdropper)
        if eavesdropper is not None:
            if not isinstance(eavesdropper, InterceptResend):
                raise NotImplementedError(f"no closed form for {eavesdropper!r}")
            f, pe_z = eavesdropper.fraction, eavesdropper.p_z
        ch = self.normalise_channels(channel)[0]
        v = ch.signal_fraction * (1.0 - ch.qubit_depolarisation)
        rot = ch.rotation_matrix
        w = {"z": f * (1.0 - pe_z), "x": f * pe_z, "y": f}
        e = {b: (1.0 - w[b]) * (1.0 - v * rot[_AXIS[b], _AXIS[b]]) / 2.0 + w[b] / 2.0 for b in BASES}
        pairs = [(m, n) for m in BASES for n in BASES if m != n]
        agree = sum((1.0 - w[m]) * (1.0 + v * rot[_AXIS[n], _AXIS[m]]) / 2.0 + w[m] / 2.0
                    for m, n in pairs) / len(pairs)
        p_click = ch.detection_probability
        key = p_click / 9.0 * sum(six_state_key_fraction(e["x"], e["y"], e["z"], key_basis=b, f_ec=self.f_ec)
                                  for b in BASES)
        return {"detection_rate": p_click, "sifted_fraction": 1.0 / 3.0, **{f"qber_{b}": e[b] for b in BASES},
                "qber": sum(e.values()) / 3.0, "mismatched_agreement": agree, "key_rate": key}
