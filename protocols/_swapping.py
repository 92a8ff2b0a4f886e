"""Entanglement swapping along a chain of elementary links, with optional purification (docs/conventions.md A11).

**Circuit layouts.** ``layout="full"`` is the literal chain: 2n qubits, link i is the
pair (2i, 2i+1), node i+1 Bell-measures (2i+1, 2i+2), and the end node's Pauli
corrections are controlled gates from the measured qubits (deferred measurement); every
qubit is measured at the end. For n > 5 links it exceeds the engine's density-matrix
size and runs on the shots path (Aer's stabilizer method: every shot is simulated).

``layout="reuse"`` (the default) runs the same chain on 4 qubits: after node i's Bell
measurement and the controlled corrections, the two measured qubits are never read
again, so they are *reset* (on a density matrix, reset = trace out and re-prepare |0>,
which is exactly discarding the measured qubits) and reused for the next link. The
circuit is the same sequence of gates and channel errors on a density matrix, so its
outcome distribution of the end pair equals the full layout's (a test checks this), and
it stays in the engine's exact distribution path for any n: the Aer job grows linearly
in n and the per-round cost does not depend on n at all.

Each link's channel acts on the far half of its pair through a marker labelled
``qproto_link{i}`` carrying the channel's coherent rotation (if any) and then
``depolarizing_error(p_eff, 1)``, p_eff the channel's click-conditioned depolarisation
(exact: a noise-only click makes the half maximally mixed). A round succeeds when every link heralds (loss sampled in closed form); rounds
are simultaneous attempts, there is no memory model.

The end pair is measured by Alice (node 0) and Bob (node n) in Z, X or Y (probabilities
``p_z``, ``1 - p_z - p_y``, ``p_y``), or, on a ``chsh_fraction`` of rounds, at the CHSH
angles of docs/conventions.md A4. Fidelity with Phi+ is (1 + E_XX - E_YY + E_ZZ)/4; the BBM92 key
is sifted from equal Z/X settings.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit.library import IGate
from qiskit_aer.noise import NoiseModel

from qproto._attacks import Eavesdropper
from qproto._channel import Channel
from qproto._engine import CompiledConfigurations
from qproto._entanglement import (Tallies, TallyResult, X, Y, Z, bell_pair, bsm, check_fast_form, click_channel,
                                  hist_tally, measure_setting, pauli_correlator, sample_heralds)
from qproto._errors import InvalidParameter
from qproto._protocol import ChannelForm, Protocol, register_protocol
from qproto._random import bernoulli, random_bits
from qproto._results import Estimate
from qproto._validation import check_in_range, check_int, check_one_of
from qproto.noise_models._aer import qubit_error
from qproto.security._chsh import chsh_value
from qproto.security._decoy import bb84_asymptotic_fraction
from qproto.security._purification import (PHI_PLUS_CORRELATIONS, click_bloch_map, correlation_chsh,
                                           correlation_fidelity, pair_density_matrix, purify_density_matrix,
                                           two_qubit_correlations)

__all__ = ["Swapping", "SwappingResult", "SwappingRecord", "link_label", "BOB_CHSH_ANGLES"]

#: Bob's CHSH angles (settings 3 and 4); Alice's CHSH settings are Z (angle 0) and X (pi/2).
BOB_CHSH_ANGLES = (math.pi / 4, 3 * math.pi / 4)
N_A, N_B = 3, 5  # Alice's settings Z, X, Y; Bob's Z, X, Y, pi/4, 3pi/4


def link_label(i: int) -> str:
    """Label of link i's channel marker."""
    return f"qproto_link{i}"


def _chain(qc: QuantumCircuit, a: int, rot: list[int], n_links: int, first_label: int, reuse: bool,
           bsm_qubits: list[int] | None = None) -> int:
    """Append an n-link chain from node qubit ``a``; returns the qubit holding the far end.

    ``rot``: 3 rotating qubits (reuse) or the 2n-1 further qubits in order (full).
    """
    if reuse:
        e, p, q = rot
        bell_pair(qc, a, e)
        qc.append(IGate(label=link_label(first_label)), [e])
        for i in range(1, n_links):
            bell_pair(qc, p, q)
            qc.append(IGate(label=link_label(first_label + i)), [q])
            bsm(qc, e, p)
            qc.cx(p, q)  # X^m1
            qc.cz(e, q)  # Z^m0
            qc.reset(e)
            qc.reset(p)
            e, p, q = q, e, p
        return e
    qubits = [a, *rot]
    for i in range(n_links):
        bell_pair(qc, qubits[2 * i], qubits[2 * i + 1])
        qc.append(IGate(label=link_label(first_label + i)), [qubits[2 * i + 1]])
    end = qubits[2 * n_links - 1]
    for i in range(n_links - 1):
        b1, b2 = qubits[2 * i + 1], qubits[2 * i + 2]
        bsm(qc, b1, b2)
        qc.cx(b2, end)
        qc.cz(b1, end)
        if bsm_qubits is not None:
            bsm_qubits += [b1, b2]
    return end


@dataclasses.dataclass(frozen=True, eq=False)
class SwappingRecord:
    """Per-round record: ``alice_setting`` (0 Z, 1 X, 2 Y), ``bob_setting`` (0 Z, 1 X, 2 Y,
    3 pi/4, 4 3pi/4), ``alice_bit``, ``bob_bit`` (end-pair outcomes), ``heralded`` (every
    link delivered), ``kept`` (heralded and, with purification, the purification succeeded),
    ``bsm`` (full layout only: the intermediate Bell outcomes as an integer code, else None)."""

    alice_setting: np.ndarray
    bob_setting: np.ndarray
    alice_bit: np.ndarray
    bob_bit: np.ndarray
    heralded: np.ndarray
    kept: np.ndarray
    bsm: np.ndarray | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class SwappingResult(TallyResult):
    """Result of a swapping run. Tallies: ``rounds``, ``heralded``, ``kept``, and per setting
    pair (a, b) ``n_a_b`` kept rounds and ``agree_a_b`` of them with equal bits."""

    TYPE: ClassVar[str] = "SwappingResult"
    TALLIES: ClassVar[tuple[str, ...]] = ("rounds", "heralded", "kept")
    LABELS: ClassVar[dict[str, str]] = {
        "herald_rate": "chain heralded per round", "purification_success": "purification success",
        "fidelity": "end-to-end fidelity (Phi+)", "chsh": "CHSH S", "qber_z": "QBER Z", "qber_x": "QBER X",
        "key_rate": "BBM92 key rate (bit/round)",
    }

    def _n(self, a: int, b: int) -> int:
        return self.tallies.get(f"n_{a}_{b}", 0)

    def _e(self, a: int, b: int) -> float:
        return pauli_correlator(self.tallies.get(f"agree_{a}_{b}", 0), self._n(a, b))

    def _var(self, a: int, b: int) -> float:
        """Variance of the correlator estimate E_ab: docs/conventions.md B's (1 - E^2)/N with E taken from the
        Laplace-smoothed agreement (k + 1)/(N + 2), so that it is never 0: a handful of rounds that
        all agree would otherwise claim E = 1 with no uncertainty at all."""
        n = self._n(a, b)
        p = (self.tallies.get(f"agree_{a}_{b}", 0) + 1) / (n + 2)
        return 4 * p * (1 - p) / n

    @property
    def fidelity(self) -> Estimate:
        """(1 + E_XX - E_YY + E_ZZ)/4 with a normal interval."""
        pairs = ((X, X), (Y, Y), (Z, Z))
        if any(self._n(a, b) == 0 for a, b in pairs):
            return Estimate(0.0, math.nan, 1.0, self.confidence)
        es = [self._e(a, b) for a, b in pairs]
        f = (1 + es[0] - es[1] + es[2]) / 4
        sigma = math.sqrt(sum(self._var(a, b) for a, b in pairs)) / 4
        return Estimate.normal(f, sigma, confidence=self.confidence)

    @property
    def chsh_sigma(self) -> float | None:
        pairs = [(a, b) for a in (Z, X) for b in (3, 4)]
        if any(self._n(a, b) == 0 for a, b in pairs):
            return None
        return math.sqrt(sum(self._var(a, b) for a, b in pairs))

    @property
    def chsh(self) -> Estimate | None:
        """S = E(0,pi/4) - E(0,3pi/4) + E(pi/2,pi/4) + E(pi/2,3pi/4) (A4), None without CHSH rounds."""
        sigma = self.chsh_sigma
        if sigma is None:
            return None
        s = chsh_value([self._e(a, b) for a in (Z, X) for b in (3, 4)])
        return Estimate.normal(s, sigma, confidence=self.confidence)

    @property
    def qber_z(self) -> Estimate:
        return self._binom(self._n(Z, Z) - self.tallies.get(f"agree_{Z}_{Z}", 0), self._n(Z, Z))

    @property
    def qber_x(self) -> Estimate:
        return self._binom(self._n(X, X) - self.tallies.get(f"agree_{X}_{X}", 0), self._n(X, X))

    @property
    def key_rate(self) -> float:
        """BBM92 asymptotic key rate in bits per round (both bases used for key)."""
        r = max(self.tallies["rounds"], 1)
        ez, ex = self.qber_z.best, self.qber_x.best
        if math.isnan(ez) or math.isnan(ex):
            return 0.0
        f_ec = float(self.parameters.get("f_ec", 1.16))
        return (self._n(Z, Z) / r * bb84_asymptotic_fraction(ex, ez, f_ec=f_ec)
                + self._n(X, X) / r * bb84_asymptotic_fraction(ez, ex, f_ec=f_ec))

    def estimates(self) -> dict[str, Estimate | float | int | None]:
        out: dict[str, Estimate | float | int | None] = {"herald_rate": self._binom("heralded", "rounds")}
        if self.parameters.get("purification") is not None:
            out["purification_success"] = self._binom("kept", "heralded")
        out.update(fidelity=self.fidelity, chsh=self.chsh, qber_z=self.qber_z, qber_x=self.qber_x,
                   key_rate=self.key_rate)
        return out


@register_protocol
class Swapping(Protocol):
    """Entanglement swapping over a chain of ``n_links`` elementary links (docs/conventions.md A11).

    ``run(channel=[ch_0, ..., ch_{n-1}])``: one :class:`Channel` per link (a single Channel
    is used for every link). See the module documentation for the circuit layouts.

    Args:
        n_links: number of elementary links, >= 1 (1 = plain distribution, no swapping).
        layout: ``"reuse"`` (4 qubits per chain, exact distribution path) or ``"full"``
            (2n qubits, one per node memory).
        purification: ``None``, ``"bbpssw"`` or ``"dejmps"``: one round on two copies of
            the end-to-end pair (reuse layout only; BBPSSW here is the bilateral CNOT
            without the re-twirl, which for Werner inputs gives the A11 fidelity).
        p_z: probability of Z for each end's key/tomography setting.
        p_y: probability of Y (for the fidelity); X takes the rest.
        chsh_fraction: fraction in [0, 1) of rounds measured at the CHSH angles.
        f_ec: error-correction inefficiency in [1, 2].
    """

    name: ClassVar[str] = "swapping"

    def __init__(self, *, n_links: int = 2, layout: str = "reuse", purification: str | None = None,
                 p_z: float = 0.4, p_y: float = 0.2, chsh_fraction: float = 0.2, f_ec: float = 1.16):
        self.n_links = check_int("n_links", n_links, minimum=1, maximum=64)
        self.n_channels = self.n_links
        self.layout = check_one_of("layout", layout, ("reuse", "full"))
        self.purification = check_one_of("purification", purification, (None, "bbpssw", "dejmps"))
        if self.purification is not None and self.layout != "reuse":
            raise InvalidParameter("purification", purification, "None with layout='full'",
                                   "purification needs layout='reuse' (two chains must fit the density matrix)")
        self.p_z = check_in_range("p_z", p_z, 0.0, 1.0)
        self.p_y = check_in_range("p_y", p_y, 0.0, 1.0)
        if self.p_z + self.p_y > 1.0:
            raise InvalidParameter("p_y", p_y, f"at most 1 - p_z = {1 - self.p_z:g}")
        self.chsh_fraction = check_in_range("chsh_fraction", chsh_fraction, 0.0, 1.0, hi_open=True)
        self.f_ec = check_in_range("f_ec", f_ec, 1.0, 2.0)
        if self.layout == "full" and self.chsh_fraction > 0 and 2 * self.n_links > 12:
            raise InvalidParameter("chsh_fraction", chsh_fraction, "0 with layout='full' and n_links > 6",
                                   "the CHSH angles are not Clifford, so a full-layout chain of more than 6 "
                                   "links cannot use Aer's stabilizer method; use chsh_fraction=0 or "
                                   "layout='reuse'")

    def __repr__(self) -> str:
        return "Swapping(" + ", ".join(f"{k}={v!r}" for k, v in self.parameters().items()) + ")"

    def parameters(self) -> dict[str, Any]:
        return {"n_links": self.n_links, "layout": self.layout, "purification": self.purification,
                "p_z": self.p_z, "p_y": self.p_y, "chsh_fraction": self.chsh_fraction, "f_ec": self.f_ec}

    def normalise_channels(self, channel: Channel | Sequence[Channel]) -> tuple[Channel, ...]:
        if isinstance(channel, (list, tuple)) and len(channel) == 0:
            raise InvalidParameter("channel", "[]", f"{self.n_links} channel(s), one per link",
                                   "channel=[] is an empty chain; give one Channel per link")
        return super().normalise_channels(channel)

    @property
    def copies(self) -> int:
        return 1 if self.purification is None else 2

    def build_circuits(self, *, eavesdropper: Eavesdropper | None = None,
                       form: ChannelForm = "fast") -> tuple[QuantumCircuit, ...]:
        """Configuration ``alice_setting * 5 + bob_setting``. Clbits: 0 = Alice, 1 = Bob, then
        (purification) 2, 3 = the target pair's Z outcomes, or (full layout) the Bell outcomes."""
        check_fast_form(self.name, form)
        if eavesdropper is not None:
            raise InvalidParameter("eavesdropper", eavesdropper, "None (no attack model for swapping)")
        n = self.n_links
        circuits = []
        for cfg in range(N_A * N_B):
            a_set, b_set = divmod(cfg, N_B)
            if self.layout == "full":
                bsm_qubits: list[int] = []
                qc = QuantumCircuit(2 * n, 2 * n, name=f"swap_full{n}_a{a_set}_b{b_set}")
                end = _chain(qc, 0, list(range(1, 2 * n)), n, 0, False, bsm_qubits)
                measure_setting(qc, 0, a_set)
                measure_setting(qc, end, b_set, BOB_CHSH_ANGLES)
                qc.measure(0, 0)
                qc.measure(end, 1)
                for k, q in enumerate(bsm_qubits):
                    qc.measure(q, 2 + k)
            else:
                nq = 4 * self.copies
                qc = QuantumCircuit(nq, 2 * self.copies, name=f"swap_reuse{n}_a{a_set}_b{b_set}")
                a1, e1 = 0, _chain(qc, 0, [1, 2, 3], n, 0, True)
                if self.purification is not None:
                    a2, e2 = 4, _chain(qc, 4, [5, 6, 7], n, n, True)
                    if self.purification == "dejmps":
                        for q in (a1, a2):
                            qc.rx(math.pi / 2, q)
                        for q in (e1, e2):
                            qc.rx(-math.pi / 2, q)
                    qc.cx(a1, a2)
                    qc.cx(e1, e2)
                    qc.measure(a2, 2)
                    qc.measure(e2, 3)
                measure_setting(qc, a1, a_set)
                measure_setting(qc, e1, b_set, BOB_CHSH_ANGLES)
                qc.measure(a1, 0)
                qc.measure(e1, 1)
            circuits.append(qc)
        return tuple(circuits)

    def noise_model(self, channels: tuple[Channel, ...], *, eavesdropper: Eavesdropper | None = None,
                    form: ChannelForm = "fast"):
        """Link i's click-conditioned error (its coherent rotation, then depolarising
        ``p_eff``; :func:`qproto._entanglement.click_channel`) on the marker of link i."""
        nm = NoiseModel(basis_gates=["id", "x", "h", "cx", "cz", "ry", "rz", "rx", "sdg", "s", "z", "reset",
                                     "unitary"])
        for copy in range(self.copies):
            for i, ch in enumerate(channels):
                nm.add_all_qubit_quantum_error(qubit_error(click_channel(ch)), link_label(copy * self.n_links + i))
        return nm

    def sample_chunk(self, compiled: CompiledConfigurations, channels: tuple[Channel, ...], rounds: int,
                     rng: np.random.Generator, *, eavesdropper: Eavesdropper | None, form: ChannelForm,
                     aer_seed: int) -> SwappingRecord:
        n = rounds
        u = rng.random((2, n))
        a_set = np.where(u[0] < self.p_z, Z, np.where(u[0] < self.p_z + self.p_y, Y, X)).astype(np.uint8)
        b_set = np.where(u[1] < self.p_z, Z, np.where(u[1] < self.p_z + self.p_y, Y, X)).astype(np.uint8)
        if self.chsh_fraction > 0:
            test = bernoulli(rng, n, self.chsh_fraction)
            a_set = np.where(test, random_bits(rng, n), a_set).astype(np.uint8)
            b_set = np.where(test, np.uint8(3) + random_bits(rng, n), b_set).astype(np.uint8)
        cfg = a_set * np.uint8(N_B) + b_set
        heralded = sample_heralds(channels * self.copies, n, rng)
        if heralded is None:
            heralded = np.ones(n, dtype=bool)
        idx = np.flatnonzero(heralded)
        codes = compiled.sample_trusted(cfg[idx], rng, aer_seed=aer_seed)
        outcome = np.zeros(n, dtype=codes.dtype)
        outcome[idx] = codes
        kept = heralded
        if self.purification is not None:
            kept = heralded & (((outcome >> 2) & 1) == ((outcome >> 3) & 1))
        return SwappingRecord(alice_setting=a_set, bob_setting=b_set, alice_bit=(outcome & 1).astype(np.uint8),
                              bob_bit=((outcome >> 1) & 1).astype(np.uint8), heralded=heralded, kept=kept,
                              bsm=(outcome >> 2) if self.layout == "full" else None)

    def analyse(self, r: SwappingRecord) -> Tallies:
        key = ((r.alice_setting.astype(np.int64) * N_B + r.bob_setting) * 2 + (r.alice_bit == r.bob_bit))[r.kept]
        h = hist_tally(key, N_A * N_B * 2).reshape(N_A, N_B, 2)
        t = Tallies(rounds=r.alice_bit.size, heralded=int(np.count_nonzero(r.heralded)),
                    kept=int(np.count_nonzero(r.kept)))
        for a in range(N_A):
            for b in range(N_B):
                t[f"n_{a}_{b}"] = int(h[a, b].sum())
                t[f"agree_{a}_{b}"] = int(h[a, b, 1])
        return t

    def make_result(self, tallies: Tallies, *, channels: tuple[Channel, ...], rounds: int, seed: int,
                    eavesdropper: Eavesdropper | None) -> SwappingResult:
        return SwappingResult(protocol=self.name, parameters=self.parameters(), channels=channels, rounds=rounds,
                              seed=seed, eavesdropper=None, tallies=dict(tallies))

    def end_pair_state(self, channel: Channel | Sequence[Channel]) -> tuple[np.ndarray, float]:
        """Closed form of the delivered pair, given that every link heralded: ``(rho, p_success)``.

        ``rho`` is the 4x4 density matrix (Alice's qubit first) of the end pair, after the
        purification round when there is one; ``p_success`` is the purification success
        probability (1 without purification).

        Computed on the Bloch sphere, independently of the circuits: link i's far half
        suffers the Bloch map ``M_i = (1 - p_eff,i) R_i`` (:func:`click_bloch_map`). A swap
        teleports the chain's end through the next link with uniformly random Bell outcomes
        and Pauli corrections, so that link acts as its Pauli twirl, whose Bloch map is
        ``diag(M_i)``. The end pair's correlation matrix is therefore
        ``T = T0 M_0^T diag(M_1) ... diag(M_{n-1})`` (T0 = Phi+'s), which for links without
        rotation is the Werner state of visibility ``prod_i (1 - p_eff,i)`` (docs/conventions.md A11).
        Purification acts on two independent copies by a 16x16 density-matrix computation
        (:func:`qproto.security._purification.purify_density_matrix`).
        """
        chans = self.normalise_channels(channel)
        t = PHI_PLUS_CORRELATIONS @ click_bloch_map(chans[0]).T
        for ch in chans[1:]:
            t = t @ np.diag(np.diag(click_bloch_map(ch)))
        rho = pair_density_matrix(t)
        if self.purification is None:
            return rho, 1.0
        return purify_density_matrix(rho, self.purification)

    def end_pair_coefficients(self, channel: Channel | Sequence[Channel]) -> tuple[tuple[float, ...], float]:
        """Bell-state weights (Phi+, Psi-, Psi+, Phi-) of the delivered pair (the diagonal of
        :meth:`end_pair_state` in the Bell basis; the whole state when no link has a
        rotation, or only links after the first) and the purification success probability."""
        rho, p_s = self.end_pair_state(channel)
        s = 1 / math.sqrt(2)
        kets = ([s, 0, 0, s], [0, s, -s, 0], [0, s, s, 0], [s, 0, 0, -s])
        coeffs = tuple(float(np.real(np.conj(k) @ rho @ np.asarray(k, dtype=complex))) for k in kets)
        return coeffs, p_s

    def expected(self, channel: Channel | Sequence[Channel], *,
                 eavesdropper: Eavesdropper | str | None = None) -> dict[str, float]:
        """Closed forms from :meth:`end_pair_state` (rotated and asymmetric links included):
        ``fidelity`` <Phi+|rho|Phi+> (Werner links: (1 + 3 prod V_i)/4, then the purification
        map), ``chsh`` with the A4 settings, ``qber_z`` = (1 - <ZZ>)/2, ``qber_x`` = (1 - <XX>)/2,
        ``herald_rate`` = prod P_i (squared with purification) and ``purification_success``."""
        chans = self.normalise_channels(channel)
        rho, p_s = self.end_pair_state(chans)
        t = two_qubit_correlations(rho)
        out = {"herald_rate": math.prod(ch.detection_probability for ch in chans) ** self.copies,
               "fidelity": correlation_fidelity(t), "chsh": correlation_chsh(t),
               "qber_z": (1 - t[2, 2]) / 2, "qber_x": (1 - t[0, 0]) / 2}
        if self.purification is not None:
            out["purification_success"] = p_s
        return out
