"""Decoy-state BB84 with weak coherent pulses, biased bases and finite-key security.

docs/conventions.md A2. Alice sends phase-randomised weak coherent pulses with three
intensities mu1 (signal) > mu2 + mu3, mu2 (decoy) > mu3 >= 0 (mu3 = 0: vacuum),
drawn with probabilities (p1, p2, p3); she encodes a bit in Z (probability
``p_z``) or X; Bob measures in Z with probability ``p_z``. The key comes from
sifted Z rounds, the phase error is estimated from X rounds (efficient BB84, Lim,
Curty, Walenta, Xu, Zbinden 2014 PRA 89 022307).

**What is sampled, and how.** Per pulse: the intensity class, Alice's basis and
bit, Bob's basis (numpy, vectorised), the photon number n ~ Poisson(mu_k), then
whether the receiver clicks in closed form from the channel: the signal is
detected with probability 1 - (1 - eta)^n (eta the end-to-end transmittance);
otherwise a noise click (dark count, background, optional afterpulse) occurs
with probability Y0 and carries a uniformly random bit (squashing, docs/conventions.md
section 0). So Y_n = 1 - (1 - Y0)(1 - eta)^n. The bits of signal clicks come from
the Aer circuits of the pulse's configuration (Alice's basis and bit, Bob's
basis) under the channel's noise model.

**Multi-photon pulses.** An n-photon pulse carries n identical copies of the
polarisation state. The channel's qubit noise (depolarisation and misalignment,
both Pauli channels) acts on the *mode*: one Pauli P, drawn once per pulse, maps
all n photons to P|psi>. A Pauli maps a BB84 state to a state of the same basis,
so when Bob measures in Alice's basis every photon that arrives gives the same
outcome (the one the single-qubit circuit gives after P); no double click can
occur and the squashed bit has exactly the single-qubit circuit's distribution.
When the bases differ each photon's outcome is uniform and independent, so the
squashed bit (double clicks -> random bit) is uniform, as is the single-qubit
circuit's. Hence, for every configuration and every n >= 1, the bit of a
signal click is distributed exactly as the one-qubit circuit's outcome, and the
circuits need no copies. ``tests/protocols/test_decoy_bb84.py`` checks this
exactly against n-copy circuits with a correlated Pauli channel and squashing.
(A channel acting *independently* on each photon would differ for n >= 3; that
is not the Lo-Ma-Chen model, whose e_n = e_d for every n this reproduces.)

**Coherent rotations** (``Channel.rotation_rad``, which make E_X != E_Z) are not
Pauli channels: a rotation U maps the n copies to (U|psi>)^n, whose photons give
independent outcomes, so n >= 3 arriving photons would give a squashed error
different from the single-photon one. qproto keeps the Lo-Ma-Chen model here
too: the bit of a signal click is distributed as the one-qubit circuit's
outcome (rotation, then depolarising) whatever the photon number, i.e. each
basis m has its own e_d,m = (1 - (1 - p_q) R_mm)/2 for every n (R the rotation's
Bloch matrix, p_q the qubit depolarisation). That is exact for single photons
(and for two), a model for larger photon numbers, and the standard way of
writing basis-dependent misalignment in decoy-state analyses.

**Two samplers, one distribution.** :meth:`DecoyBB84.sample` /
``run(..., sampler="pulses")`` draw every pulse as above (memory and time grow
with the number of pulses). ``run(..., sampler="counts")`` (the default) and
:meth:`DecoyBB84.sample_counts` draw the same tallies *counts first*: the
pulses of a chunk fall into the 24 (intensity, basis, bit, basis) cells with a
multinomial draw; in cell k the number of signal clicks is Binomial(N_c,
1 - exp(-eta mu_k)) (the Poisson mixture of 1 - (1 - eta)^n), the number of
noise-only clicks among the rest Binomial(N_c - S_c, Y0); only the S_c signal
clicks get outcomes from the compiled circuits, and noise-only clicks get
Binomial(M_c, 1/2) ones. When the engine compiled the circuits to their exact
outcome distribution (Aer density matrix, the ``"distribution"`` path), the 1s
among a cell's S_c signal clicks are one Binomial(S_c, P(1 | configuration))
draw, the law of S_c independent outcomes; otherwise (shots or stabilizer path)
one outcome per click is sampled, in blocks of at most the engine's chunk size. Pulses are i.i.d., so this is exactly the distribution
of the per-pulse sampler's tallies, at a cost independent of the number of
pulses (a test compares the two statistically). Photon numbers of individual
pulses are not drawn in that path, since no tally depends on them.

**Afterpulsing** (optional, ``afterpulse_probability`` p_ap): modelled as an
extra noise click, with a random bit, of probability p_ap x P_click per
window, where P_click = sum_k p_k Q_k is the mean click probability of the
previous window. This mean-field form keeps pulses i.i.d. (it neglects the
O(P_click) correlation between neighbouring windows) and enters as
Y0_eff = 1 - (1 - Y0)(1 - p_ap P_click).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import math
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import numpy as np
from qiskit import QuantumCircuit

from qproto._attacks import Eavesdropper
from qproto._channel import Channel
from qproto._engine import CompiledConfigurations, Engine
from qproto._errors import InvalidParameter, InvalidType
from qproto._protocol import ChannelForm, ProgressCallback, Protocol, bounded_map, register_protocol
from qproto._random import random_bits, threshold31, uniform31
from qproto._results import DEFAULT_CONFIDENCE, Estimate, ProtocolResult
from qproto._seeding import SeedLike, chunk_aer_seed, chunk_generator, root_seed
from qproto._validation import check_in_range, check_int, check_one_of
from qproto.noise_models._aer import channel_marker, channel_noise_model
from qproto.security import (
    E0_NOISE,
    F_EC_DEFAULT,
    DecoyParameters,
    EcLeakage,
    FiniteKeyResult,
    Tails,
    afterpulse_noise_yield,
    decoy_key_rate_infinite,
    finite_key_length,
    gllp_key_rate,
    plob_bound,
    vacuum_weak_decoy_bounds,
)

__all__ = ["DecoyBB84", "DecoyTallies", "DecoyBB84Result", "DecoyRounds", "Sampler"]

Sampler = Literal["counts", "pulses"]
_N_CELLS = 24  # intensity (3) x Alice basis (2) x Alice bit (2) x Bob basis (2)
_TALLY_FIELDS = ("sent", "detected", "n_z", "m_z", "n_x", "m_x", "mismatched", "mismatched_agree")


# ---- tallies and results ---------------------------------------------------------------
@dataclasses.dataclass(frozen=True, kw_only=True)
class DecoyTallies:
    """Counts of a decoy-state BB84 run per intensity (each field: 3 ints, ordered mu1, mu2, mu3).

    Attributes:
        sent: pulses Alice sent.
        detected: pulses Bob detected (any bases).
        n_z, n_x: sifted detections with both in Z (X).
        m_z, m_x: of those, bit errors.
        mismatched: detections with different bases (discarded).
        mismatched_agree: of those, rounds whose bits agree anyway.
    """

    sent: tuple[int, int, int] = (0, 0, 0)
    detected: tuple[int, int, int] = (0, 0, 0)
    n_z: tuple[int, int, int] = (0, 0, 0)
    m_z: tuple[int, int, int] = (0, 0, 0)
    n_x: tuple[int, int, int] = (0, 0, 0)
    m_x: tuple[int, int, int] = (0, 0, 0)
    mismatched: tuple[int, int, int] = (0, 0, 0)
    mismatched_agree: tuple[int, int, int] = (0, 0, 0)

    def __post_init__(self) -> None:
        for name in _TALLY_FIELDS:
            v = getattr(self, name)
            if not isinstance(v, (tuple, list, np.ndarray)) or len(v) != 3:
                raise InvalidType(name, v, "a sequence of 3 ints (one per intensity)")
            object.__setattr__(self, name, tuple(check_int(f"{name}[{i}]", int(x) if isinstance(x, np.integer)
                                                           else x, minimum=0) for i, x in enumerate(v)))
        for k in range(3):
            if self.m_z[k] > self.n_z[k] or self.m_x[k] > self.n_x[k]:
                raise InvalidParameter("m_z/m_x", (self.m_z, self.m_x), "at most n_z/n_x per intensity")
            if self.n_z[k] + self.n_x[k] + self.mismatched[k] > self.detected[k] \
                    or self.detected[k] > self.sent[k]:
                raise InvalidParameter("detected", self.detected, "between the sifted counts and sent")
            if self.mismatched_agree[k] > self.mismatched[k]:
                raise InvalidParameter("mismatched_agree", self.mismatched_agree, "at most mismatched per intensity")

    @classmethod
    def from_matrix(cls, m: np.ndarray) -> DecoyTallies:
        """From an int array of shape (8, 3) in the order of the fields."""
        return cls(**{name: tuple(int(x) for x in row) for name, row in zip(_TALLY_FIELDS, m)})

    def to_matrix(self) -> np.ndarray:
        """The tallies as an int64 array of shape (8, 3): fields x intensities."""
        return np.array([getattr(self, f) for f in _TALLY_FIELDS], dtype=np.int64)

    def __add__(self, other: DecoyTallies) -> DecoyTallies:
        if not isinstance(other, DecoyTallies):
            return NotImplemented
        return DecoyTallies.from_matrix(self.to_matrix() + other.to_matrix())

    @classmethod
    def from_cells(cls, sent: np.ndarray, detected: np.ndarray, ones: np.ndarray) -> DecoyTallies:
        """Tallies from per-cell totals (arrays of 24, cell = k*8 + (a_basis<<2 | a_bit<<1 | b_basis)):
        pulses sent, clicks, and clicks whose bit (Bob's) is 1."""
        sent, detected, ones = (np.asarray(a, dtype=np.int64).reshape(3, 2, 2, 2) for a in (sent, detected, ones))
        # errors: Bob's bit differs from Alice's: ones where a_bit = 0, zeros where a_bit = 1
        errors = np.stack([ones[:, :, 0, :], detected[:, :, 1, :] - ones[:, :, 1, :]], axis=2)
        agree = detected - errors
        sifted = detected[:, 0, :, 0].sum(axis=1), detected[:, 1, :, 1].sum(axis=1)
        errs = errors[:, 0, :, 0].sum(axis=1), errors[:, 1, :, 1].sum(axis=1)
        mism = detected[:, 0, :, 1].sum(axis=1) + detected[:, 1, :, 0].sum(axis=1)
        mism_agree = agree[:, 0, :, 1].sum(axis=1) + agree[:, 1, :, 0].sum(axis=1)
        return cls(sent=tuple(sent.sum(axis=(1, 2, 3))), detected=tuple(detected.sum(axis=(1, 2, 3))),
                   n_z=tuple(sifted[0]), m_z=tuple(errs[0]), n_x=tuple(sifted[1]), m_x=tuple(errs[1]),
                   mismatched=tuple(mism), mismatched_agree=tuple(mism_agree))

    def to_dict(self) -> dict[str, list[int]]:
        """JSON-ready dict."""
        return {f: list(getattr(self, f)) for f in _TALLY_FIELDS}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DecoyTallies:
        """Inverse of :meth:`to_dict`."""
        return cls(**{k: tuple(v) for k, v in data.items()})


@dataclasses.dataclass(frozen=True, kw_only=True)
class DecoyBB84Result(ProtocolResult):
    """Result of a decoy-state BB84 run (or of a window of a pass).

    Attributes:
        counts: the tallies per intensity (:class:`DecoyTallies`).
        confidence: confidence level of the reported intervals.

    ``channels`` holds one channel per equal-length slot of the run (one for a
    plain :meth:`DecoyBB84.run`); model references (infinite-decoy rate, PLOB)
    average over them. Everything else is derived from the tallies:

    * gains and QBERs per intensity (Clopper-Pearson intervals);
    * ``key_rate_vacuum_weak``: asymptotic GLLP rate (bits per pulse) with the
      vacuum + weak decoy bounds (Ma et al. 2005) evaluated on the *measured*
      gains and QBERs (mu = mu1, nu = mu2, Y0 = measured vacuum gain; needs mu3 = 0),
      key from Z (sifting p_Z^2), e_1 bounded from the X-basis decoy QBER;
    * ``key_rate_infinite_decoy``: the same GLLP rate with Y_1, e_1 known (the
      model's, from the channels), the reference every decoy bound stays below;
    * ``finite_key_length``: Lim et al. 2014 secret-key length in bits from the
      counts (:func:`qproto.security.finite_key_length` with the protocol's
      eps_sec, eps_cor, f_EC and EC-leakage option).
    """

    TYPE: ClassVar[str] = "DecoyBB84Result"
    ADDITIVE: ClassVar[tuple[str, ...]] = ("counts",)
    #: Merging runs (or windows of a pass) concatenates their slots' channels.
    CONCATENATED: ClassVar[tuple[str, ...]] = ("channels",)

    counts: DecoyTallies
    confidence: float = DEFAULT_CONFIDENCE

    # ---- parameters -------------------------------------------------------------
    @property
    def intensities(self) -> tuple[float, float, float]:
        return tuple(self.parameters["intensities"])  # type: ignore[return-value]

    @property
    def probabilities(self) -> tuple[float, float, float]:
        return tuple(self.parameters["probabilities"])  # type: ignore[return-value]

    def _binom(self, k: int, n: int) -> Estimate:
        return Estimate.binomial(k, n, confidence=self.confidence)

    # ---- estimates ----------------------------------------------------------------
    def gain(self, k: int) -> Estimate:
        """Clicks per pulse of intensity class ``k`` (0 signal, 1 decoy, 2 vacuum)."""
        return self._binom(self.counts.detected[k], self.counts.sent[k])

    def qber_z_of(self, k: int) -> Estimate:
        """Z-basis QBER of intensity class ``k``."""
        return self._binom(self.counts.m_z[k], self.counts.n_z[k])

    def qber_x_of(self, k: int) -> Estimate:
        """X-basis QBER of intensity class ``k``."""
        return self._binom(self.counts.m_x[k], self.counts.n_x[k])

    @property
    def qber_z(self) -> Estimate:
        """Z-basis QBER over all intensities."""
        return self._binom(sum(self.counts.m_z), sum(self.counts.n_z))

    @property
    def qber_x(self) -> Estimate:
        """X-basis QBER over all intensities."""
        return self._binom(sum(self.counts.m_x), sum(self.counts.n_x))

    @property
    def sifted_z(self) -> int:
        """Sifted Z-basis (key) detections, all intensities."""
        return sum(self.counts.n_z)

    @property
    def finite_key(self) -> FiniteKeyResult:
        """Lim et al. 2014 analysis of the counts (every intermediate bound)."""
        p = self.parameters
        c = self.counts
        qz = self.qber_z.best
        return finite_key_length(intensities=p["intensities"], probabilities=p["probabilities"],
                                 n_z=np.array(c.n_z, float), n_x=np.array(c.n_x, float),
                                 m_x=np.array(c.m_x, float), qber_z=0.0 if math.isnan(qz) else qz,
                                 eps_sec=p["eps_sec"], eps_cor=p["eps_cor"], f_ec=p["f_ec"],
                                 ec_leakage=p["ec_leakage"], tails=p.get("tails", "hoeffding"))

    @property
    def finite_key_length(self) -> float:
        """Secret-key length in bits (Lim et al. 2014), 0 when none can be extracted."""
        return float(self.finite_key.ell)

    @property
    def key_rate_vacuum_weak(self) -> float | None:
        """Asymptotic GLLP rate (bits per pulse) from the measured data, vacuum + weak decoy bounds.

        ``None`` when the bound does not apply: mu3 > 0 (no vacuum state) or an intensity
        class was never sent. ``0.0`` when no key can be certified: no signal detection in Z
        (nothing to distil) or no decoy detection in X (e_1 cannot be bounded below 1/2);
        this is the limit at zero transmittance, as the PLOB bound is 0 there.
        """
        mu1, mu2, mu3 = self.intensities
        c = self.counts
        if mu3 != 0.0 or min(c.sent) == 0:
            return None
        if c.n_z[0] == 0 or c.n_x[1] == 0:
            return 0.0
        q_mu, q_nu, y0 = (c.detected[k] / c.sent[k] for k in range(3))
        e_mu, e_nu = c.m_z[0] / c.n_z[0], c.m_x[1] / c.n_x[1]
        b = vacuum_weak_decoy_bounds(mu=mu1, nu=mu2, gain_mu=q_mu, qber_mu=e_mu, gain_nu=q_nu, qber_nu=e_nu, y0=y0)
        p_z = float(self.parameters["p_z"])
        e1 = 0.5 if math.isnan(b.e1_upper) else min(max(b.e1_upper, 0.0), 0.5)
        rate = gllp_key_rate(q1=b.y1_lower * mu1 * math.exp(-mu1), e1=e1, gain_mu=q_mu, qber_mu=e_mu,
                             q=p_z**2, f_ec=float(self.parameters["f_ec"]))
        return float(rate) * self.probabilities[0]

    @property
    def key_rate_infinite_decoy(self) -> float:
        """GLLP rate (bits per pulse) with Y_1, e_1 known from the channels (infinite decoys), averaged over slots.

        Key from Z: the signal QBER E_mu uses the Z-basis misalignment of each slot's
        channel, the single-photon phase error e_1 the X-basis one (they differ under a
        coherent rotation; module docs).
        """
        mu1 = self.intensities[0]
        p_z = float(self.parameters["p_z"])
        eta = np.array([ch.total_transmittance for ch in self.channels])
        y0 = np.array([_noise_yield(ch, self.parameters) for ch in self.channels])
        # Misalignment of each basis given arrival (module docs): Z for error correction, X for the phase error.
        e_d_z, e_d_x = (np.array([(1.0 - (1.0 - ch.qubit_depolarisation) * ch.rotation_matrix[a, a]) / 2.0
                                  for ch in self.channels]) for a in (2, 0))
        r = decoy_key_rate_infinite(mu=mu1, eta=eta, y0=y0, e_d=np.clip(e_d_z, 0.0, 0.5), q=p_z**2,
                                    f_ec=float(self.parameters["f_ec"]), e_d_x=np.clip(e_d_x, 0.0, 0.5))
        return float(np.mean(r)) * self.probabilities[0]

    @property
    def plob_slot_average(self) -> float:
        """PLOB bound -log2(1 - eta_i) in bits per pulse of each slot's channel, averaged over
        the slots (equal-length slots: the bound on the whole run's key per pulse)."""
        return float(np.mean([plob_bound(ch.total_transmittance) for ch in self.channels]))

    LABELS: ClassVar[dict[str, str]] = {
        "gain_signal": "gain, signal mu1 (click/pulse)",
        "gain_decoy": "gain, decoy mu2 (click/pulse)",
        "gain_vacuum": "gain, vacuum mu3 (click/pulse)",
        "qber_z": "QBER Z",
        "qber_x": "QBER X",
        "qber_z_signal": "QBER Z, signal",
        "qber_x_decoy": "QBER X, decoy",
        "sifted_z": "sifted Z bits",
        "key_rate_vacuum_weak": "GLLP vac+weak (bit/pulse)",
        "key_rate_infinite_decoy": "GLLP inf. decoy (bit/pulse)",
        "finite_key_length": "finite key length (bit)",
        "finite_key_rate": "finite key rate (bit/pulse)",
        "plob_slot_average": "PLOB(eta), slot average (bit/pulse)",
    }

    def estimates(self) -> dict[str, Estimate | float | int | None]:
        """Gains, QBERs, asymptotic and finite key (see the class docs)."""
        ell = self.finite_key_length
        return {
            "gain_signal": self.gain(0), "gain_decoy": self.gain(1), "gain_vacuum": self.gain(2),
            "qber_z": self.qber_z, "qber_x": self.qber_x,
            "qber_z_signal": self.qber_z_of(0), "qber_x_decoy": self.qber_x_of(1),
            "sifted_z": self.sifted_z,
            "key_rate_vacuum_weak": self.key_rate_vacuum_weak,
            "key_rate_infinite_decoy": self.key_rate_infinite_decoy,
            "finite_key_length": ell,
            "finite_key_rate": ell / self.rounds if self.rounds else 0.0,
            "plob_slot_average": self.plob_slot_average,
        }


def _counts_chunk(job: tuple) -> DecoyTallies:
    """Chunk ``i`` of the counts-first sampler (module level, so it pickles for process pools)."""
    protocol, compiled, channel, n, root, i, block = job
    return protocol.sample_counts(compiled, channel, n, chunk_generator(root, i), block=block,
                                  aer_seed=chunk_aer_seed(root, i))


# ---- per-pulse record -------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, eq=False)
class DecoyRounds:
    """Per-pulse record of the per-pulse sampler (for inspection and tests).

    Attributes:
        cell: (intensity k) * 8 + (Alice basis << 2 | Alice bit << 1 | Bob basis), uint8.
        photons: photon number of each pulse.
        detected: whether Bob clicked.
        noise_only: whether the click was a noise click (no signal photon detected).
        bob_bit: Bob's bit (0 where no click).
    """

    cell: np.ndarray
    photons: np.ndarray
    detected: np.ndarray
    noise_only: np.ndarray
    bob_bit: np.ndarray

    def __len__(self) -> int:
        return int(self.cell.size)

    @property
    def intensity(self) -> np.ndarray:
        return self.cell >> 3

    def tallies(self) -> DecoyTallies:
        """Tally the record (one histogram over (cell, detected, bit))."""
        key = (self.cell.astype(np.int64) * 2 + self.detected) * 2 + self.bob_bit
        h = np.bincount(key, minlength=_N_CELLS * 4).reshape(_N_CELLS, 2, 2)
        return DecoyTallies.from_cells(h.sum(axis=(1, 2)), h[:, 1, :].sum(axis=1), h[:, 1, 1])


def _noise_yield(channel: Channel, params: dict[str, Any]) -> float:
    """Y0_eff = 1 - (1 - Y0)(1 - p_ap P_click) with the mean-field afterpulse term (module docs)."""
    if float(params.get("afterpulse_probability", 0.0)) == 0.0:
        return channel.noise_click
    return float(afterpulse_noise_yield(
        y0=channel.noise_click, eta=channel.total_transmittance, intensities=params["intensities"],
        probabilities=params["probabilities"], afterpulse_probability=float(params.get("afterpulse_probability",
                                                                                       0.0))))


# ---- the protocol -----------------------------------------------------------------------
@register_protocol
class DecoyBB84(Protocol):
    """Decoy-state efficient BB84 with weak coherent pulses and finite-key security (docs/conventions.md A2).

    See the module documentation for the sampling model, the treatment of
    multi-photon pulses and the two (equivalent) samplers.

    Args:
        intensities: (mu1, mu2, mu3) mean photon numbers, mu1 > mu2 + mu3, mu2 > mu3 >= 0.
        probabilities: (p1, p2, p3) probabilities of the intensities, each in (0, 1], summing to 1.
        p_z: probability in (0, 1) that Alice prepares (and Bob measures) in Z.
        f_ec: error-correction inefficiency f_EC >= 1 (default 1.16).
        eps_sec: secrecy parameter in (0, 1) (default 1e-10).
        eps_cor: correctness parameter in (0, 1) (default 1e-15).
        ec_leakage: ``"efficiency"`` (f_EC n_Z h(Q_Z)) or ``"finite_size"`` (the larger of that and
            a finite-block-length bound), see :func:`qproto.security.finite_key_length`.
        afterpulse_probability: detector afterpulse probability in [0, 1) (default 0); see the
            module docs (a Channel carries no detector, so a link's
            ``Detector.afterpulse_probability`` reaches the protocol through
            :func:`qproto.passes.link_pass` or this argument).
        tails: tail bound of the finite key, ``"hoeffding"`` (default; Lim et al. 2014) or
            ``"chernoff"`` (per intensity class, Sidhu et al. 2022; the default of
            :mod:`qproto.passes`), see :func:`qproto.security.finite_key_length`.

    Examples:
        >>> from qproto import Channel
        >>> from qproto.protocols import DecoyBB84
        >>> r = DecoyBB84().run(Channel(transmittance=10**-2.5, misalignment=0.01, noise_click=1e-6),
        ...                     rounds=10**11, seed=1)
        >>> r.finite_key_length > 0
        True
    """

    name: ClassVar[str] = "decoy-bb84"
    n_channels: ClassVar[int] = 1

    def __init__(self, *, intensities: tuple[float, float, float] = (0.5, 0.1, 0.0),
                 probabilities: tuple[float, float, float] = (0.7, 0.2, 0.1), p_z: float = 0.9,
                 f_ec: float = F_EC_DEFAULT, eps_sec: float = 1e-10, eps_cor: float = 1e-15,
                 ec_leakage: EcLeakage = "efficiency", afterpulse_probability: float = 0.0,
                 tails: Tails = "hoeffding"):
        checked = DecoyParameters(intensities, probabilities, p_z)  # validates all three
        self.intensities = checked.intensities
        self.probabilities = checked.probabilities
        self.p_z = checked.p_z
        self.f_ec = check_in_range("f_ec", f_ec, 1.0, math.inf, hi_open=True)
        self.eps_sec = check_in_range("eps_sec", eps_sec, 0.0, 1.0, lo_open=True, hi_open=True)
        self.eps_cor = check_in_range("eps_cor", eps_cor, 0.0, 1.0, lo_open=True, hi_open=True)
        self.ec_leakage = check_one_of("ec_leakage", ec_leakage, ("efficiency", "finite_size"))
        self.afterpulse_probability = check_in_range("afterpulse_probability", afterpulse_probability, 0.0, 1.0,
                                                     hi_open=True)
        self.tails = check_one_of("tails", tails, ("chernoff", "hoeffding"))

    def __repr__(self) -> str:
        return "DecoyBB84(" + ", ".join(f"{k}={v!r}" for k, v in self.parameters().items()) + ")"

    def parameters(self) -> dict[str, Any]:
        return {"intensities": self.intensities, "probabilities": self.probabilities, "p_z": self.p_z,
                "f_ec": self.f_ec, "eps_sec": self.eps_sec, "eps_cor": self.eps_cor,
                "ec_leakage": self.ec_leakage, "afterpulse_probability": self.afterpulse_probability,
                "tails": self.tails}

    def replace(self, **changes: Any) -> DecoyBB84:
        """A copy with some parameters changed (validated again)."""
        return DecoyBB84(**{**self.parameters(), **changes})

    # ---- circuits -----------------------------------------------------------------------
    def build_circuits(self, *, eavesdropper: Eavesdropper | None = None,
                       form: ChannelForm = "fast") -> tuple[QuantumCircuit, ...]:
        """Eight one-qubit circuits, configuration ``a_basis << 2 | a_bit << 1 | b_basis``.

        The intensity does not change the polarisation state, so pulses of every
        intensity (and every photon number, see the module docs) share them.
        """
        _check_supported(eavesdropper, form)
        circuits = []
        for cfg in range(8):
            a_basis, a_bit, b_basis = (cfg >> 2) & 1, (cfg >> 1) & 1, cfg & 1
            qc = QuantumCircuit(1, 1, name=f"decoy_bb84_a{'ZX'[a_basis]}{a_bit}_b{'ZX'[b_basis]}")
            if a_bit:
                qc.x(0)
            if a_basis:
                qc.h(0)
            qc.append(channel_marker(), [0])
            if b_basis:
                qc.h(0)
            qc.measure(0, 0)
            circuits.append(qc)
        return tuple(circuits)

    def noise_model(self, channels: tuple[Channel, ...], *, eavesdropper: Eavesdropper | None = None,
                    form: ChannelForm = "fast"):
        _check_supported(eavesdropper, form)
        return channel_noise_model({0: channels[0]}, form="fast")

    # ---- closed forms -----------------------------------------------------------------
    def cell_probabilities(self) -> np.ndarray:
        """Probability of each of the 24 (intensity, Alice basis, bit, Bob basis) cells."""
        pb = np.array([self.p_z, 1.0 - self.p_z])
        p = (np.asarray(self.probabilities)[:, None, None, None] * pb[None, :, None, None]
             * np.full(2, 0.5)[None, None, :, None] * pb[None, None, None, :])
        return p.reshape(-1)

    def detection_probabilities(self, channel: Channel) -> tuple[np.ndarray, float]:
        """(signal-click probability 1 - exp(-eta mu_k) per intensity, noise-click probability Y0_eff)."""
        eta = channel.total_transmittance
        return -np.expm1(-eta * np.asarray(self.intensities)), self.noise_yield(channel)

    def noise_yield(self, channel: Channel) -> float:
        """Noise-click probability per pulse Y0_eff with these parameters' afterpulsing (module docs).

        Y0_eff = 1 - (1 - Y0)(1 - p_ap P_click), P_click = sum_k p_k (1 - (1 - Y0) exp(-eta mu_k)),
        Y0 the channel's ``noise_click`` and eta its end-to-end transmittance; Y0 when p_ap = 0.
        """
        return _noise_yield(channel, self.parameters())

    # ---- per-pulse sampler ----------------------------------------------------------------
    def sample_chunk(self, compiled: CompiledConfigurations, channels: tuple[Channel, ...], rounds: int,
                     rng: np.random.Generator, *, eavesdropper: Eavesdropper | None, form: ChannelForm,
                     aer_seed: int) -> DecoyRounds:
        """Per-pulse sampling (reference path): every pulse's choices and photon number are drawn."""
        n = rounds
        ch = channels[0]
        cut = threshold31(np.cumsum(self.probabilities)[:2])
        u = uniform31(rng, n)
        k = (u >= cut[0]).view(np.uint8) + (u >= cut[1]).view(np.uint8)
        t_x = threshold31(1.0 - self.p_z)
        a_basis = (uniform31(rng, n) < t_x).view(np.uint8)
        a_bit = random_bits(rng, n)
        b_basis = (uniform31(rng, n) < t_x).view(np.uint8)
        cfg = (a_basis << 2) | (a_bit << 1) | b_basis
        cell = (k << 3) | cfg
        photons = rng.poisson(np.asarray(self.intensities)[k])
        eta = ch.total_transmittance
        signal = uniform31(rng, n) < threshold31(-np.expm1(photons * np.log1p(-eta)) if eta < 1.0
                                                 else (photons > 0).astype(float))
        noise_only = ~signal & (uniform31(rng, n) < threshold31(_noise_yield(ch, self.parameters())))
        bob_bit = np.zeros(n, dtype=np.uint8)
        idx = np.flatnonzero(signal)
        bob_bit[idx] = compiled.sample_trusted(cfg[idx], rng, aer_seed=aer_seed) & np.uint8(1)
        noisy = np.flatnonzero(noise_only)
        bob_bit[noisy] = random_bits(rng, noisy.size)
        return DecoyRounds(cell=cell, photons=photons, detected=(signal | noise_only).view(np.uint8),
                           noise_only=noise_only, bob_bit=bob_bit)

    def analyse(self, record: DecoyRounds) -> DecoyTallies:
        return record.tallies()

    # ---- counts-first sampler -------------------------------------------------------------
    def sample_counts(self, compiled: CompiledConfigurations, channel: Channel, pulses: int,
                      rng: np.random.Generator, *, block: int = 1 << 20, aer_seed: int = 0) -> DecoyTallies:
        """Tallies of ``pulses`` pulses drawn counts first (exactly the per-pulse distribution).

        Memory is O(``block``) and time O(1) in the distribution path, O(clicks) otherwise,
        whatever ``pulses`` is (module docs).

        Args:
            compiled: this protocol's circuits compiled under ``channel``'s noise model.
            channel: the channel of these pulses.
            pulses: number of pulses, >= 0.
            rng: the Generator to draw from.
            block: largest number of clicks whose outcomes are sampled at once.
            aer_seed: ``seed_simulator`` base for the engine's shots path.
        """
        return DecoyTallies.from_cells(*self.sample_cell_counts(compiled, channel, pulses, rng, block=block,
                                                                aer_seed=aer_seed))

    def sample_cell_counts(self, compiled: CompiledConfigurations, channel: Channel, pulses: int,
                           rng: np.random.Generator, *, block: int = 1 << 20,
                           aer_seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-cell counts behind :meth:`sample_counts` (same arguments, same draws).

        Returns:
            ``(sent, clicked, ones)``: int64 arrays of length 24 indexed by the cell
            ``k * 8 + (a_basis << 2 | a_bit << 1 | b_basis)`` (k the intensity class):
            pulses sent, pulses that clicked, and clicks whose bit (Bob's) is 1.
            :meth:`DecoyTallies.from_cells` turns them into the tallies.
        """
        q_sig, y0 = self.detection_probabilities(channel)
        sent = rng.multinomial(pulses, self.cell_probabilities())
        signal = rng.binomial(sent, np.repeat(q_sig, 8))
        noise = rng.binomial(sent - signal, y0)
        ones = rng.binomial(noise, 0.5)
        if compiled.mode == "distribution":
            # The circuits' exact outcome distribution is known: the number of 1s among the S_c
            # signal clicks of a cell is Binomial(S_c, P(bit 1 | configuration)), which is the
            # distribution of drawing one outcome per click (done below otherwise) at O(1) cost.
            p_one = compiled.probabilities[:, 1::2].sum(axis=1)
            ones += rng.binomial(signal, np.clip(np.tile(p_one, 3), 0.0, 1.0))
            return sent, signal + noise, ones
        for cell in np.flatnonzero(signal):
            cfg = np.uint8(cell & 7)
            left = int(signal[cell])
            while left:
                m = min(left, block)
                codes = compiled.sample_trusted(np.full(m, cfg, dtype=np.uint8), rng, aer_seed=aer_seed)
                ones[cell] += int(np.count_nonzero(codes & np.uint8(1)))
                left -= m
        return sent, signal + noise, ones

    def sample_slot_cells(self, compiled: Sequence[CompiledConfigurations], channels: Sequence[Channel],
                          pulses: int, rng: np.random.Generator, *, block: int = 1 << 20,
                          aer_seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-cell counts of many slots of ``pulses`` pulses each (a satellite pass), in one draw.

        The same law as :meth:`sample_cell_counts` slot by slot; when every slot's circuits are
        compiled to their exact distribution the draws are vectorised over slots (one
        multinomial and four binomial calls for the whole pass), otherwise the slots are
        drawn one after the other from ``rng``.

        Args:
            compiled: the compiled circuits of each slot (this protocol's, under its channel's noise).
            channels: the channel of each slot.
            pulses: pulses per slot, >= 0.
            rng: the Generator to draw from.
            block, aer_seed: as :meth:`sample_cell_counts` (used only off the distribution path).

        Returns:
            ``(sent, clicked, ones)``: int64 arrays of shape (slots, 24), cells as in
            :meth:`sample_cell_counts`.
        """
        chans = tuple(channels)
        if len(compiled) != len(chans):
            raise InvalidParameter("compiled", len(compiled), f"one per channel ({len(chans)})")
        if not all(c.mode == "distribution" for c in compiled):
            rows = [self.sample_cell_counts(c, ch, pulses, rng, block=block, aer_seed=aer_seed)
                    for c, ch in zip(compiled, chans)]
            return tuple(np.array([r[j] for r in rows], dtype=np.int64).reshape(len(chans), _N_CELLS)
                         for j in range(3))
        eta = np.array([ch.total_transmittance for ch in chans])
        y0 = np.array([ch.noise_click for ch in chans])
        if self.afterpulse_probability > 0.0:
            y0 = np.asarray(afterpulse_noise_yield(y0=y0, eta=eta, intensities=self.intensities,
                                                   probabilities=self.probabilities,
                                                   afterpulse_probability=self.afterpulse_probability))
        q_sig = -np.expm1(-eta[:, None] * np.asarray(self.intensities)[None, :])          # (S, 3)
        p_one = {id(c): np.clip(np.tile(c.probabilities[:, 1::2].sum(axis=1), 3), 0.0, 1.0) for c in compiled}
        p_one_slot = np.array([p_one[id(c)] for c in compiled])                             # (S, 24)
        sent = rng.multinomial(pulses, self.cell_probabilities(), size=len(chans))
        signal = rng.binomial(sent, np.repeat(q_sig, 8, axis=1))
        noise = rng.binomial(sent - signal, y0[:, None])
        ones = rng.binomial(noise, 0.5) + rng.binomial(signal, p_one_slot)
        return sent, signal + noise, ones

    # ---- running ----------------------------------------------------------------------
    def run(self, channel: Channel | tuple[Channel, ...], *, rounds: int, seed: SeedLike = None,
            eavesdropper: Eavesdropper | str | None = None, engine: Engine | None = None,
            form: ChannelForm = "fast", progress: ProgressCallback | None = None,
            executor: concurrent.futures.Executor | None = None, sampler: Sampler = "counts") -> DecoyBB84Result:
        """Send ``rounds`` pulses over ``channel``.

        Args:
            channel: the :class:`~qproto.Channel` (transmittance, qubit noise, noise clicks).
            rounds: number of pulses, >= 1.
            seed: root seed (see :func:`qproto.run`).
            eavesdropper: not supported (must be ``None``).
            engine: execution settings; its ``chunk_size`` is the pulses per chunk of the
                per-pulse sampler and the click block of the counts-first one.
            form: only ``"fast"``.
            progress: ``progress(pulses_done, pulses_total)`` after each chunk.
            executor: a ``concurrent.futures.Executor`` that simulates the chunks (see
                :meth:`qproto.Protocol.run`); the result does not depend on it.
            sampler: ``"counts"`` (default; counts first, cost independent of ``rounds``) or
                ``"pulses"`` (every pulse drawn; the reference). Same distribution, different draws.

        Reproducibility: same seed, rounds, sampler, chunk size and library versions give the same
        result; the counts sampler draws chunk ``i`` of ``2**40`` pulses from chunk generator ``i``.
        """
        check_one_of("sampler", sampler, ("counts", "pulses"))
        if sampler == "pulses":
            return super().run(channel, rounds=rounds, seed=seed, eavesdropper=eavesdropper, engine=engine,
                               form=form, progress=progress, executor=executor)
        rounds = check_int("rounds", rounds, minimum=1)
        if executor is not None and not isinstance(executor, concurrent.futures.Executor):
            raise InvalidType("executor", executor, "a concurrent.futures.Executor or None")
        root = root_seed(seed)
        engine = Engine() if engine is None else engine
        channels, eve, compiled = self.prepare(channel, eavesdropper=eavesdropper, engine=engine, form=form)
        tallies = DecoyTallies()
        chunk = 1 << 40  # far above any real run; only keeps multinomial arguments in int64
        # Lazy jobs and a bounded window in flight (as Protocol.run): 1e18 pulses are ~9e5 jobs.
        jobs = ((self, compiled, channels[0], min(chunk, rounds - i * chunk), root, i, engine.chunk_size)
                for i in range(-(-rounds // chunk)))
        parts = map(_counts_chunk, jobs) if executor is None else bounded_map(executor, _counts_chunk, jobs)
        done = 0
        try:
            for i, part in enumerate(parts):
                tallies = tallies + part
                done += min(chunk, rounds - i * chunk)
                if progress is not None:
                    progress(done, rounds)
        finally:
            close = getattr(parts, "close", None)
            if close is not None:  # an interrupted run cancels the chunks not yet started
                close()
        return self.make_result(tallies, channels=channels, rounds=rounds, seed=root, eavesdropper=eve)

    def make_result(self, tallies: DecoyTallies, *, channels: tuple[Channel, ...], rounds: int, seed: int,
                    eavesdropper: Eavesdropper | None) -> DecoyBB84Result:
        return DecoyBB84Result(protocol=self.name, parameters=self.parameters(), channels=tuple(channels),
                               rounds=rounds, seed=seed, eavesdropper=None, counts=tallies)

    def expected(self, channel: Channel | tuple[Channel, ...], *,
                 eavesdropper: Eavesdropper | str | None = None) -> dict[str, Any]:
        """Closed-form expectations per intensity class (docs/conventions.md A2, exact click model; module docs).

        Written from the model, not from the sampler. With eta the end-to-end
        transmittance, Y0 the noise-click probability and, with afterpulsing
        (probability p_ap), Y0_eff = 1 - (1 - Y0)(1 - p_ap P_click) where
        P_click = sum_k p_k (1 - (1 - Y0) exp(-eta mu_k)):

        * signal click probability S_k = 1 - exp(-eta mu_k); gain
          Q_k = S_k + (1 - S_k) Y0_eff;
        * error of a signal click in basis m: e_m = (1 - (1 - p_q) R_mm)/2 (R the
          channel's rotation matrix, p_q its qubit depolarisation); a noise click
          errs with probability 1/2; so E_{m,k} = (S_k e_m + (1 - S_k) Y0_eff / 2) / Q_k.

        Returns:
            The closed forms of the result's sampled estimates (same names as
            :meth:`DecoyBB84Result.estimates`, floats): ``gain_signal``, ``gain_decoy``,
            ``gain_vacuum`` (Q_k), ``qber_z``, ``qber_x`` (over all classes: classes weighted
            by p_k Q_k, the share of their sifted bits), ``qber_z_signal`` and
            ``qber_x_decoy``. Per class, arrays of 3 values (mu1, mu2, mu3): ``gain``,
            ``qber_z_by_class``, ``qber_x_by_class``, ``qber`` (over both bases' sifted
            rounds of the class, weights p_Z^2 and p_X^2) and ``mismatched_agreement_by_class``
            (P(a = b) on discarded rounds: 1/2 + (S_k/Q_k)(1 - p_q)(R_xz + R_zx)/4). Also
            ``cell_probabilities`` (24 values).
        """
        _check_supported(eavesdropper, "fast")
        ch = self.normalise_channels(channel)[0]
        eta = ch.total_transmittance
        mu, p = np.asarray(self.intensities), np.asarray(self.probabilities)
        y0 = ch.noise_click
        if self.afterpulse_probability > 0.0:
            p_click = float(np.sum(p * (1.0 - (1.0 - y0) * np.exp(-eta * mu))))
            y0 = 1.0 - (1.0 - y0) * (1.0 - self.afterpulse_probability * p_click)
        signal = -np.expm1(-eta * mu)
        gain = signal + (1.0 - signal) * y0
        safe = np.where(gain > 0, gain, 1.0)
        keep = 1.0 - ch.qubit_depolarisation  # Bloch length kept by an arriving qubit
        rot = ch.rotation_matrix
        out: dict[str, Any] = {"gain": gain}
        errors = {}  # expected errors per pulse of each class, per basis: S_k e_m + (1 - S_k) Y0 / 2
        for basis, axis in (("z", 2), ("x", 0)):
            e_arrival = (1.0 - keep * rot[axis, axis]) / 2.0
            errors[basis] = signal * e_arrival + (1.0 - signal) * y0 * E0_NOISE
            out[f"qber_{basis}_by_class"] = np.where(gain > 0, errors[basis] / safe, E0_NOISE)
        wz, wx = self.p_z**2, (1.0 - self.p_z) ** 2
        out["qber"] = (wz * out["qber_z_by_class"] + wx * out["qber_x_by_class"]) / (wz + wx)
        signal_share = np.where(gain > 0, signal / safe, 0.0)
        out["mismatched_agreement_by_class"] = 0.5 + signal_share * keep * (rot[0, 2] + rot[2, 0]) / 4.0
        out["cell_probabilities"] = self.cell_probabilities()
        # The estimates of a run: sifted bits of class k are a share p_k Q_k / sum_j p_j Q_j of each basis's.
        clicks = float(np.sum(p * gain))
        for k, name in enumerate(("signal", "decoy", "vacuum")):
            out[f"gain_{name}"] = float(gain[k])
        for basis in ("z", "x"):
            out[f"qber_{basis}"] = float(np.sum(p * errors[basis]) / clicks) if clicks > 0 else E0_NOISE
        out["qber_z_signal"] = float(out["qber_z_by_class"][0])
        out["qber_x_decoy"] = float(out["qber_x_by_class"][1])
        return out


def _check_supported(eavesdropper: Any, form: str) -> None:
    if eavesdropper is not None:
        raise InvalidParameter("eavesdropper", eavesdropper, "None",
                               f"eavesdropper={eavesdropper!r}: decoy-bb84 has no eavesdropper model "
                               "(photon-number splitting is what the decoy bounds account for)")
    if form != "fast":
        raise InvalidParameter("form", form, "'fast'",
                               f"form={form!r}: decoy-bb84 samples loss in closed form only (form='fast')")
