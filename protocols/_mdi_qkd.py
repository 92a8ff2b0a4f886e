"""MDI-QKD (Lo, Curty, Qi 2012): BB84 inputs, an untrusted relay doing a Bell measurement."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar

import numpy as np
from qiskit import QuantumCircuit

from qproto._attacks import Eavesdropper, InterceptResend
from qproto._channel import Channel
from qproto._engine import CompiledConfigurations
from qproto._entanglement import (Tallies, TallyResult, X, Z, bsm, check_fast_form, click_noise_model,
                                  hist_tally, sample_heralds)
from qproto._protocol import ChannelForm, Protocol, normalise_eavesdropper, register_protocol
from qproto._random import random_bits
from qproto._results import Estimate, sifted_key_rate
from qproto._validation import check_in_range, check_one_of
from qproto.noise_models._aer import channel_marker
from qproto.security._bounds import plob_bound
from qproto.security._decoy import bb84_asymptotic_fraction
from qproto.security._entropy import binary_entropy
from qproto.security._purification import click_bloch_map

__all__ = ["MDIQKD", "MDIRounds", "MDIQKDResult", "mdi_decoy_key_rate", "RELAY_MODES"]

#: ``honest``: the relay announces its Bell-measurement result; ``random``: it ignores the
#: photons and announces outcomes of its own choosing, uniformly at random (always "success"
#: with linear optics); ``z-parity``: it measures both photons in Z and announces their parity
#: as m1 with a random m0 (a dishonest relay that learns the Z-basis key bits' parity).
RELAY_MODES = ("honest", "random", "z-parity")


def mdi_decoy_key_rate(*, q11_z: float, e11_x: float, q_z: float, e_z: float, f_ec: float = 1.16) -> float:
    """The MDI-QKD decoy-state key rate of Lo, Curty, Qi 2012 (docs/conventions.md A5), in bits per pulse pair:

    ``R = Q11_Z [1 - h(e11_X)] - Q_Z f_EC h(E_Z)``, clipped at 0.

    Args:
        q11_z: gain of single-photon pairs in Z, ``mu sigma e^(-mu-sigma) Y11``.
        e11_x: phase error of single-photon pairs (the X-basis error rate).
        q_z: overall Z-basis gain of the signal intensities.
        e_z: overall Z-basis error rate.
        f_ec: error-correction inefficiency >= 1.
    """
    q11_z = check_in_range("q11_z", q11_z, 0.0, 1.0)
    q_z = check_in_range("q_z", q_z, 0.0, 1.0)
    e11_x = check_in_range("e11_x", e11_x, 0.0, 1.0)
    e_z = check_in_range("e_z", e_z, 0.0, 1.0)
    f_ec = check_in_range("f_ec", f_ec, 1.0, math.inf)
    r = q11_z * (1.0 - binary_entropy(min(e11_x, 0.5))) - q_z * f_ec * binary_entropy(min(e_z, 0.5))
    return max(float(r), 0.0)


@dataclasses.dataclass(frozen=True, eq=False)
class MDIRounds:
    """Per-round record of an MDI-QKD chunk (all arrays uint8 unless stated).

    Attributes:
        alice_basis, alice_bit, bob_basis, bob_bit: the users' BB84 inputs (0 = Z, 1 = X).
        relay_m1, relay_m0: what the relay announces (parity and phase bits, docs/conventions.md 0).
        success: bool, the relay announced a counted Bell state and both photons arrived.
        detected: bool, both photons arrived (the relay saw a coincidence).
        eve_branch, eve_bit: intercept-resend branch on Alice's input (0 = none) and Eve's record.
    """

    alice_basis: np.ndarray
    alice_bit: np.ndarray
    bob_basis: np.ndarray
    bob_bit: np.ndarray
    relay_m1: np.ndarray
    relay_m0: np.ndarray
    success: np.ndarray
    detected: np.ndarray
    eve_branch: np.ndarray
    eve_bit: np.ndarray

    @property
    def sifted(self) -> np.ndarray:
        """bool per round: announced success with matching bases."""
        return self.success & (self.alice_basis == self.bob_basis)

    @property
    def bob_key_bit(self) -> np.ndarray:
        """Bob's bit after the A5 flip rule: b xor m1 (Z) or b xor m0 (X)."""
        return self.bob_bit ^ np.where(self.bob_basis == Z, self.relay_m1, self.relay_m0)

    def sifted_keys(self, basis: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Alice's and Bob's sifted (flipped) keys, optionally of one basis."""
        m = self.sifted if basis is None else self.sifted & (self.alice_basis == basis)
        return self.alice_bit[m], self.bob_key_bit[m]


_TALLIES = ("rounds", "detected", "success", "sifted_z", "errors_z", "sifted_x", "errors_x",
            "matched_z", "matched_x", "eve_sifted", "eve_correct")


@dataclasses.dataclass(frozen=True, kw_only=True)
class MDIQKDResult(TallyResult):
    """Result of an MDI-QKD run.

    Tallies: ``rounds``; ``detected`` (both photons reached the relay); ``success``
    (counted announcements); ``matched_z/x`` (detected rounds with both inputs in Z/X);
    ``sifted_z/x``, ``errors_z/x``; ``eve_sifted``, ``eve_correct``.
    """

    TYPE: ClassVar[str] = "MDIQKDResult"
    TALLIES: ClassVar[tuple[str, ...]] = _TALLIES
    LABELS: ClassVar[dict[str, str]] = {
        "detection_rate": "coincidence rate at the relay", "success_rate": "announced success per coincidence",
        "sifted_bits": "sifted bits", "qber_z": "QBER Z", "qber_x": "QBER X",
        "key_rate": "single-photon key rate (bit/round)", "key_rate_infinite_decoy_model":
        "modelled WCP rate: simulated single-photon Y11, e11 (infinite decoys), multi-photon errors ignored "
        "(bit/pulse pair)",
        "plob_product_eta": "PLOB(eta_A eta_B) (bit/round)", "eve_agreement": "Eve agrees with Alice",
    }

    @property
    def qber_z(self) -> Estimate:
        return self._binom("errors_z", "sifted_z")

    @property
    def qber_x(self) -> Estimate:
        return self._binom("errors_x", "sifted_x")

    @property
    def key_rate(self) -> Estimate:
        """Asymptotic single-photon rate, bits per round, both bases used for key (Shor-Preskill form)."""
        t = self.tallies
        return sifted_key_rate(sifted_z=t["sifted_z"], sifted_x=t["sifted_x"], rounds=t["rounds"],
                               qber_z=self.qber_z, qber_x=self.qber_x,
                               f_ec=float(self.parameters.get("f_ec", 1.16)), confidence=self.confidence)

    @property
    def key_rate_infinite_decoy_model(self) -> float:
        """A *modelled* weak-coherent-pulse MDI-QKD rate in bits per pulse pair (key from Z), not
        a decoy-state estimate: the LCQ 2012 formula (A5, :func:`mdi_decoy_key_rate`) fed with

        * the single-photon-pair yield ``Y11`` (sifted Z bits per Z-Z round, times the share
          ``eta_A eta_B / (P_A P_B)`` of coincidences in which both photons arrived: noise-only
          clicks are not single-photon yield) and phase error
          ``e11_X`` (the X-basis QBER) measured in this single-photon simulation, i.e. the
          values infinitely many decoy intensities would pin down exactly (infinite-decoy
          assumption); ``Q11_Z = mu sigma e^(-mu - sigma) Y11`` (Poisson weight of one
          photon from each user);
        * a signal-pair gain modelled, not simulated: ``Q_Z = P_A(mu) P_B(sigma) s`` with
          ``P_A(mu) = 1 - (1 - Y0_A) e^(-mu eta_A)`` (a Poisson pulse of mean mu over Alice's
          channel, or a noise click; likewise Bob with sigma) and ``s`` the measured
          announcement probability per coincidence;
        * the signal-pair error rate taken as the single-photon ``E_Z``: the extra Z errors
          of multi-photon pairs (e.g. two photons from one user through a linear-optics
          relay) are ignored, so the rate is optimistic.

        ``R = p_z^2 [Q11_Z (1 - h(e11_X)) - Q_Z f_EC h(E_Z)]``, clipped at 0; 0 without data.
        """
        t = self.tallies
        mu, sigma = float(self.parameters.get("mu", 0.5)), float(self.parameters.get("sigma", 0.5))
        if t["matched_z"] == 0 or t["sifted_z"] == 0 or t["sifted_x"] == 0:
            return 0.0
        p_z = float(self.parameters.get("p_z", 0.5))
        zz_rounds = t["rounds"] * p_z * p_z
        ch_a, ch_b = self.channels
        # Only coincidences in which both single photons arrived are single-photon yield: a
        # noise-only click carries no photon (at transmittance 0 every coincidence is noise and
        # Y11 = 0, so the rate is 0 as PLOB says). Their share of the coincidences is
        # eta_A eta_B / (P_click,A P_click,B).
        clicks = ch_a.detection_probability * ch_b.detection_probability
        photon_share = ch_a.total_transmittance * ch_b.total_transmittance / clicks if clicks > 0 else 0.0
        y11 = photon_share * t["sifted_z"] / zz_rounds
        s = t["sifted_z"] / t["matched_z"]
        q11 = mu * sigma * math.exp(-mu - sigma) * y11
        gain_a = 1 - (1 - ch_a.noise_click) * math.exp(-mu * ch_a.total_transmittance)
        gain_b = 1 - (1 - ch_b.noise_click) * math.exp(-sigma * ch_b.total_transmittance)
        q_z = gain_a * gain_b * s
        return p_z * p_z * mdi_decoy_key_rate(q11_z=min(q11, 1.0), e11_x=self.qber_x.best, q_z=min(q_z, 1.0),
                                              e_z=self.qber_z.best, f_ec=float(self.parameters.get("f_ec", 1.16)))

    def estimates(self) -> dict[str, Estimate | float | int | None]:
        t = self.tallies
        out: dict[str, Estimate | float | int | None] = {
            "detection_rate": self._binom("detected", "rounds"),
            "success_rate": self._binom("success", "detected"),
            "sifted_bits": t["sifted_z"] + t["sifted_x"],
            "qber_z": self.qber_z,
            "qber_x": self.qber_x,
            "key_rate": self.key_rate,
            "key_rate_infinite_decoy_model": self.key_rate_infinite_decoy_model,
            "plob_product_eta": plob_bound(math.prod(ch.total_transmittance for ch in self.channels)),
        }
        if self.eavesdropper is not None:
            out["eve_agreement"] = self._binom("eve_correct", "eve_sifted")
        return out


@register_protocol
class MDIQKD(Protocol):
    """MDI-QKD: Alice and Bob send BB84 qubits to an untrusted relay's Bell measurement (docs/conventions.md A5).

    Qubit 0 is Alice's photon (``channel[0]``), qubit 1 Bob's (``channel[1]``); the relay
    applies ``cx(0, 1); h(0)`` and measures m0 (qubit 0) and m1 (qubit 1). With
    ``bsm="full"`` all four Bell states count; with ``bsm="linear"`` only Psi+ and Psi-
    (m1 = 1) do, as with a linear-optics relay (the coarse-grained POVM {Psi+, Psi-, fail}
    is exactly the full measurement with Phi+- merged into "fail"). Bob flips his bit by
    m1 in Z and by m0 in X. Rounds count when both photons arrive (loss sampled in closed
    form); a noise-only click makes that photon maximally mixed. An eavesdropper attacks
    Alice's photon. ``relay`` chooses an honest or a dishonest relay (:data:`RELAY_MODES`).

    Args:
        bsm: ``"full"`` (gate Bell measurement) or ``"linear"`` (Psi states only).
        relay: ``"honest"``, ``"random"`` or ``"z-parity"``.
        p_z: probability in (0, 1) of the Z basis for each user.
        f_ec: error-correction inefficiency in [1, 2].
        mu, sigma: signal intensities in (0, 1] of Alice and Bob for the modelled weak-coherent-pulse
            rate :attr:`MDIQKDResult.key_rate_infinite_decoy_model` (the simulation itself sends
            single photons).
    """

    name: ClassVar[str] = "mdi-qkd"
    n_channels: ClassVar[int] = 2

    def __init__(self, *, bsm: str = "full", relay: str = "honest", p_z: float = 0.5, f_ec: float = 1.16,
                 mu: float = 0.5, sigma: float = 0.5):
        self.bsm = check_one_of("bsm", bsm, ("full", "linear"))
        self.relay = check_one_of("relay", relay, RELAY_MODES)
        self.p_z = check_in_range("p_z", p_z, 0.0, 1.0, lo_open=True, hi_open=True)
        self.f_ec = check_in_range("f_ec", f_ec, 1.0, 2.0)
        self.mu = check_in_range("mu", mu, 0.0, 1.0, lo_open=True)
        self.sigma = check_in_range("sigma", sigma, 0.0, 1.0, lo_open=True)

    def __repr__(self) -> str:
        return "MDIQKD(" + ", ".join(f"{k}={v!r}" for k, v in self.parameters().items()) + ")"

    def parameters(self) -> dict[str, Any]:
        return {"bsm": self.bsm, "relay": self.relay, "p_z": self.p_z, "f_ec": self.f_ec, "mu": self.mu,
                "sigma": self.sigma}

    def build_circuits(self, *, eavesdropper: Eavesdropper | None = None,
                       form: ChannelForm = "fast") -> tuple[QuantumCircuit, ...]:
        """Configuration ``eve_branch * 16 + alice_basis * 8 + alice_bit * 4 + bob_basis * 2 + bob_bit``;
        clbits: 0 = m0, 1 = m1, 2 = Eve's record (with an eavesdropper)."""
        check_fast_form(self.name, form)
        nq = 2 if eavesdropper is None else 3
        branches = 1 if eavesdropper is None else eavesdropper.n_branches
        circuits = []
        for cfg in range(16 * branches):
            branch, a_basis, a_bit, b_basis, b_bit = cfg >> 4, (cfg >> 3) & 1, (cfg >> 2) & 1, (cfg >> 1) & 1, cfg & 1
            qc = QuantumCircuit(nq, nq, name=f"mdi_e{branch}_a{'ZX'[a_basis]}{a_bit}_b{'ZX'[b_basis]}{b_bit}")
            for q, basis, bit in ((0, a_basis, a_bit), (1, b_basis, b_bit)):
                if bit:
                    qc.x(q)
                if basis == X:
                    qc.h(q)
            if eavesdropper is not None:
                eavesdropper.apply(qc, 0, 2, branch)
            qc.append(channel_marker(), [0])
            qc.append(channel_marker(), [1])
            if self.relay == "z-parity":
                qc.cx(0, 1)  # the relay reads z_a (qubit 0) and z_a xor z_b (qubit 1)
            else:
                bsm(qc, 0, 1)
            for q in range(nq):
                qc.measure(q, q)
            circuits.append(qc)
        return tuple(circuits)

    def noise_model(self, channels: tuple[Channel, ...], *, eavesdropper: Eavesdropper | None = None,
                    form: ChannelForm = "fast"):
        return click_noise_model({0: channels[0], 1: channels[1]})

    def sample_chunk(self, compiled: CompiledConfigurations, channels: tuple[Channel, ...], rounds: int,
                     rng: np.random.Generator, *, eavesdropper: Eavesdropper | None, form: ChannelForm,
                     aer_seed: int) -> MDIRounds:
        n = rounds
        p_x = 1.0 - self.p_z
        a_basis, b_basis = random_bits(rng, n, p_x), random_bits(rng, n, p_x)
        a_bit, b_bit = random_bits(rng, n), random_bits(rng, n)
        cfg = (a_basis << 3) | (a_bit << 2) | (b_basis << 1) | b_bit
        if eavesdropper is not None:
            cfg = cfg.astype(np.uint8) | (eavesdropper.draw_branches(n, rng) << 4)
        detected = sample_heralds(channels, n, rng)
        outcome = np.zeros(n, dtype=np.uint8)
        if detected is None:
            detected = np.ones(n, dtype=bool)
            outcome = compiled.sample_trusted(cfg, rng, aer_seed=aer_seed)
        else:
            idx = np.flatnonzero(detected)
            outcome[idx] = compiled.sample_trusted(cfg[idx], rng, aer_seed=aer_seed)
        m0, m1 = outcome & 1, (outcome >> 1) & 1
        if self.relay == "random":
            m0 = random_bits(rng, n)
            m1 = np.ones(n, dtype=np.uint8) if self.bsm == "linear" else random_bits(rng, n)
        elif self.relay == "z-parity":
            m0 = random_bits(rng, n)
        success = detected & ((m1 == 1) if self.bsm == "linear" else True)
        eve_bit = (outcome >> 2) & 1 if eavesdropper is not None else np.zeros(n, dtype=np.uint8)
        return MDIRounds(alice_basis=a_basis, alice_bit=a_bit, bob_basis=b_basis, bob_bit=b_bit,
                         relay_m1=m1.astype(np.uint8), relay_m0=m0.astype(np.uint8), success=np.asarray(success),
                         detected=detected, eve_branch=(cfg >> 4).astype(np.uint8), eve_bit=eve_bit)

    def analyse(self, r: MDIRounds) -> Tallies:
        """One histogram over (bases, error, success, detected, eve branch>0, eve agrees)."""
        err = r.alice_bit ^ r.bob_key_bit
        key = ((((r.alice_basis.astype(np.int64) * 2 + r.bob_basis) * 2 + err) * 2 + r.success) * 2
               + r.detected) * 2 + (r.eve_branch > 0)
        key = key * 2 + (r.eve_bit == r.alice_bit)
        h = hist_tally(key, 128).reshape(2, 2, 2, 2, 2, 2, 2)  # a_basis, b_basis, err, success, det, eve, agree
        same = {Z: h[0, 0], X: h[1, 1]}
        t = Tallies(rounds=len(r.alice_bit), detected=int(h[:, :, :, :, 1].sum()), success=int(h[:, :, :, 1].sum()))
        for b, name in ((Z, "z"), (X, "x")):
            t[f"matched_{name}"] = int(same[b][:, :, 1].sum())
            t[f"sifted_{name}"] = int(same[b][:, 1].sum())
            t[f"errors_{name}"] = int(same[b][1, 1].sum())
        sifted_attacked = h[0, 0, :, 1, :, 1].sum(axis=(0, 1)) + h[1, 1, :, 1, :, 1].sum(axis=(0, 1))
        t["eve_sifted"] = int(sifted_attacked.sum())
        t["eve_correct"] = int(sifted_attacked[1])
        return t

    def make_result(self, tallies: Tallies, *, channels: tuple[Channel, ...], rounds: int, seed: int,
                    eavesdropper: Eavesdropper | None) -> MDIQKDResult:
        return MDIQKDResult(protocol=self.name, parameters=self.parameters(), channels=channels, rounds=rounds,
                            seed=seed, eavesdropper=None if eavesdropper is None else eavesdropper.to_dict(),
                            tallies=dict(tallies))

    def expected(self, channel: Channel | tuple[Channel, ...], *,
                 eavesdropper: Eavesdropper | str | None = None) -> dict[str, float]:
        """Closed forms (A5), for asymmetric and rotated channels; honest relay only.

        The relay's m1 is the ZZ parity and m0 the XX parity of the two photons, whose
        states are independent, so with M_A, M_B the click-conditioned Bloch maps (rotation,
        then depolarising p_eff; Eve's intercept-resend on Alice's photon first shrinks its
        Bloch vector along Z by ``1 - f (1 - p_z,Eve)`` and along X by ``1 - f p_z,Eve``):
        ``qber_z = (1 - M_A[z,z] M_B[z,z])/2`` and, full BSM, ``qber_x = (1 - M_A[x,x] M_B[x,x])/2``;
        linear optics (Psi+- only) also counts the YY correlation of X states rotated
        out of the x-z plane: ``qber_x = (1 - M_A[x,x] M_B[x,x] - M_A[y,x] M_B[y,x])/2``.
        Without rotation both are [1 - (1 - p_A)(1 - p_B)]/2. Also ``detection_rate`` =
        P_A P_B, ``success_rate`` (1 or exactly 1/2), ``key_rate`` and, with an
        eavesdropper, ``eve_agreement``.

        Raises:
            NotImplementedError: a dishonest relay or an attack other than intercept-resend.
        """
        ch_a, ch_b = self.normalise_channels(channel)
        if self.relay != "honest":
            raise NotImplementedError(f"no closed form for relay={self.relay!r}")
        f, pe_z = 0.0, 0.5
        eve = normalise_eavesdropper(eavesdropper)
        if eve is not None:
            if not isinstance(eve, InterceptResend):
                raise NotImplementedError(f"no closed form for {eve!r}")
            f, pe_z = eve.fraction, eve.p_z
        m_a = click_bloch_map(ch_a) @ np.diag([1 - f * pe_z, 1 - f, 1 - f * (1 - pe_z)])
        m_b = click_bloch_map(ch_b)
        c_x = m_a[0, 0] * m_b[0, 0] + (m_a[1, 0] * m_b[1, 0] if self.bsm == "linear" else 0.0)
        det = ch_a.detection_probability * ch_b.detection_probability
        s = 1.0 if self.bsm == "full" else 0.5
        out = {"detection_rate": det, "success_rate": s,
               "qber_z": float(1 - m_a[2, 2] * m_b[2, 2]) / 2, "qber_x": float(1 - c_x) / 2}
        pz, px = self.p_z, 1 - self.p_z
        out["key_rate"] = det * s * (pz**2 * bb84_asymptotic_fraction(out["qber_x"], out["qber_z"], f_ec=self.f_ec)
                                     + px**2 * bb84_asymptotic_fraction(out["qber_z"], out["qber_x"], f_ec=self.f_ec))
        if f > 0:
            p_match = (pz**2 * pe_z + px**2 * (1 - pe_z)) / (pz**2 + px**2)
            out["eve_agreement"] = p_match + (1 - p_match) / 2
        return out
