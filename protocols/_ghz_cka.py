"""GHZ conference key agreement (N-BB84; PHYSICS.md A7), with a satellite or HAPS as the source."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from qiskit import QuantumCircuit

from qproto._attacks import Eavesdropper, InterceptResend
from qproto._channel import Channel
from qproto._engine import CompiledConfigurations
from qproto._errors import InvalidParameter
from qproto._protocol import ChannelForm, normalise_eavesdropper, register_protocol
from qproto._random import bernoulli
from qproto._results import Estimate
from qproto._validation import check_in_range, check_one_of
from qproto.protocols._multiparty import (
    MultipartyProtocol, MultipartyResult, NoiseForm, effective_depolarisations, ghz_prefix, party_noise_model,
    randomise_noise_clicks, sample_arrivals_all, sample_bits, tally,
)
from qproto.noise_models._aer import channel_marker
from qproto.security import binary_entropy

__all__ = ["GHZConferenceKey", "GHZConferenceResult", "GHZRounds", "conference_key_fraction",
           "ghz_local_depolarising_errors", "bipartite_conference_rate"]

#: Circuits above this many qubits use the readout form of the noise under ``noise_form="auto"``
#: (the engine's distribution path handles up to 10 qubits).
READOUT_ABOVE_QUBITS = 10


def conference_key_fraction(q_x: float, q_ab: Sequence[float] | float) -> float:
    """Asymptotic conference key fraction r = 1 - h(Q_X) - max_i h(Q_AB_i), clipped at 0 (PHYSICS.md A7)."""
    q_ab = np.atleast_1d(np.asarray(q_ab, dtype=float))
    r = 1.0 - float(binary_entropy(min(q_x, 0.5))) - float(np.max(binary_entropy(np.minimum(q_ab, 0.5))))
    return max(r, 0.0)


def ghz_local_depolarising_errors(p: Sequence[float]) -> tuple[np.ndarray, float]:
    """(Q_AB_i for i = 1..N-1, Q_X) of GHZ_N under local depolarising p_j (PHYSICS.md A7)."""
    p = np.asarray(p, dtype=float)
    q_ab = (1.0 - (1.0 - p[0]) * (1.0 - p[1:])) / 2.0
    q_x = (1.0 - float(np.prod(1.0 - p))) / 2.0
    return q_ab, q_x


def bipartite_conference_rate(channels: Sequence[Channel], *, p_key: float = 1.0) -> float:
    """Conference key rate (bits per source use) from N-1 bipartite BBM92/BB84 links out of the same source.

    The source sends one Bell pair per use to Alice (party 0) and one Bob in turn, so
    each link gets 1/(N-1) of the uses; link i yields p_key P_A P_i (1 - 2 h(Q_i))
    with Q_i = [1 - (1 - p_A)(1 - p_i)]/2, and Alice one-time-pads the conference key
    to every Bob, so the rate is min_i of the link rates divided by N-1.
    """
    det = np.array([ch.detection_probability for ch in channels])
    p = effective_depolarisations(channels)
    q_ab, _ = ghz_local_depolarising_errors(p)
    links = p_key * det[0] * det[1:] * np.maximum(1.0 - 2.0 * binary_entropy(np.minimum(q_ab, 0.5)), 0.0)
    return float(np.min(links)) / (len(channels) - 1)


@dataclasses.dataclass(frozen=True, eq=False)
class GHZRounds:
    """Per-round record of a GHZ conference key chunk.

    Attributes:
        config: configuration id per round: ``eve_branch * 2 + basis`` (basis 0 = Z key round, 1 = X test).
        detected: bool per round: every party clicked (``None``: all did).
        bits: ``(n_detected, N)`` uint8, the parties' outcomes on detected rounds (party 0 = Alice).
        eve_bits: Eve's record on detected rounds (``None`` without an eavesdropper).
    """

    config: np.ndarray
    detected: np.ndarray | None
    bits: np.ndarray
    eve_bits: np.ndarray | None

    @property
    def detected_config(self) -> np.ndarray:
        return self.config if self.detected is None else self.config[self.detected]

    @property
    def basis(self) -> np.ndarray:
        """Basis (0 = Z, 1 = X) of each detected round."""
        return self.detected_config & 1


@dataclasses.dataclass(frozen=True, kw_only=True)
class GHZConferenceResult(MultipartyResult):
    """Result of :class:`GHZConferenceKey`.

    Tallies: ``key_rounds`` / ``test_rounds`` (detected Z / X rounds), ``errors_ab``
    (per Bob i, key rounds with z_A != z_Bi), ``all_equal`` (key rounds where every
    party agrees), ``alice_ones`` (key rounds with z_A = 1), ``parity_errors`` (test
    rounds with odd X parity), ``eve_rounds`` / ``eve_correct`` (attacked key rounds,
    and those where Eve's bit equals Alice's).
    """

    TYPE: ClassVar[str] = "GHZConferenceResult"
    LABELS: ClassVar[dict[str, str]] = {
        "detection_rate": "P_all: all parties click (per round)",
        "key_bits": "raw conference key bits",
        "qber_ab_max": "max_i Q_AB_i",
        "qber_ab_mean": "mean_i Q_AB_i",
        "qber_x": "Q_X (X-parity error)",
        "all_agree": "key rounds where all N agree",
        "key_fraction": "r_inf = 1 - h(Q_X) - max h(Q_AB_i)",
        "key_rate": "conference key rate (bit/round)",
        "bipartite_rate": "N-1 bipartite links (bit/use, closed form)",
        "eve_agreement": "Eve agrees with Alice",
    }

    @property
    def parties(self) -> int:
        return len(self.counts["errors_ab"]) + 1

    @property
    def qber_ab(self) -> tuple[Estimate, ...]:
        """Q_AB_i per Bob i = 1..N-1 (key rounds)."""
        n = self.c("key_rounds")
        return tuple(self._binom(e, n) for e in self.counts["errors_ab"])

    @property
    def qber_x(self) -> Estimate:
        return self._binom(self.c("parity_errors"), self.c("test_rounds"))

    def key_rate_estimate(self) -> Estimate:
        n = self.rounds
        frac = self.c("key_rounds") / n if n else 0.0
        qab = self.qber_ab
        qx = self.qber_x
        if any(math.isnan(e.best) for e in qab) or math.isnan(qx.best):
            return Estimate(0.0, 0.0, 0.0, self.confidence)
        worst = conference_key_fraction(min(qx.high, 0.5), [min(e.high, 0.5) for e in qab])
        best = conference_key_fraction(qx.best, [e.best for e in qab])
        top = conference_key_fraction(qx.low, [e.low for e in qab])
        return Estimate(frac * worst, frac * best, frac * top, self.confidence)

    def estimates(self) -> dict[str, Estimate | float | int | None]:
        qab = self.qber_ab
        kr, n = self.c("key_rounds"), self.c("key_rounds") + self.c("test_rounds")
        errs = np.array(self.counts["errors_ab"])
        worst = int(np.argmax(errs)) if errs.size else 0
        qx = self.qber_x
        out: dict[str, Any] = {
            "detection_rate": self._binom(n, self.rounds),
            "key_bits": kr,
            "qber_ab_max": qab[worst],
            "qber_ab_mean": self._binom(int(errs.sum()), kr * len(errs)),
            "qber_x": qx,
            "all_agree": self._binom(self.c("all_equal"), kr),
            "key_fraction": (float("nan") if math.isnan(qx.best) or math.isnan(qab[worst].best)
                             else conference_key_fraction(qx.best, [e.best for e in qab])),
            "key_rate": self.key_rate_estimate(),
            "bipartite_rate": bipartite_conference_rate(self.channels, p_key=self.parameters["p_key"]),
        }
        if self.eavesdropper is not None:
            out["eve_agreement"] = self._binom(self.c("eve_correct"), self.c("eve_rounds"))
        return out


@register_protocol
class GHZConferenceKey(MultipartyProtocol):
    """GHZ conference key agreement among N parties (N-BB84; PHYSICS.md A7).

    A central source (a satellite or HAPS) prepares GHZ_N and sends qubit j to party j
    over its own channel (party 0 is Alice, 1..N-1 the Bobs). Rounds are coordinated by a
    pre-shared random string: key rounds (probability ``p_key``) measure Z at every
    party, test rounds measure X. A round counts only if all N parties click
    (P_all = prod_j P_click,j, sampled in closed form); a noise-only click reads a
    random bit. Key bits are Alice's Z outcomes; the Bobs' errors Q_AB_i and the
    X-parity error Q_X give r = 1 - h(Q_X) - max_i h(Q_AB_i) and the rate
    q P_all r with q = p_key. An eavesdropper attacks the qubit of ``attacked_party``.

    The circuits are Clifford. ``noise_form="auto"`` puts the channels as
    ``depolarizing_error`` on the channel markers while the circuit fits the
    engine's distribution path (<= 10 qubits) and as Aer's equivalent symmetric
    ``ReadoutError`` (flip p_j / 2) above, which keeps Aer's stabilizer measurement
    sampling; ``tests/protocols/test_ghz_cka.py`` checks that both give the same
    outcome distributions.

    Args:
        parties: number of parties N >= 2.
        p_key: probability in (0, 1) of a key round (else a test round).
        attacked_party: the party whose qubit an eavesdropper attacks (default N-1).
        noise_form: ``"auto"``, ``"depolarising"`` or ``"readout"``.
    """

    name: ClassVar[str] = "ghz-cka"
    RESULT = GHZConferenceResult
    MIN_PARTIES: ClassVar[int] = 2

    def __init__(self, *, parties: int = 3, p_key: float = 0.5, attacked_party: int | None = None,
                 noise_form: NoiseForm = "auto"):
        self._set_parties(parties)
        self.p_key = check_in_range("p_key", p_key, 0.0, 1.0, lo_open=True, hi_open=True)
        self.attacked_party = (self.parties - 1 if attacked_party is None
                               else self._check_party("attacked_party", attacked_party))
        self.noise_form = check_one_of("noise_form", noise_form, ("auto", "depolarising", "readout"))

    def parameters(self) -> dict[str, Any]:
        return {"parties": self.parties, "p_key": self.p_key, "attacked_party": self.attacked_party,
                "noise_form": self.noise_form}

    def _n_qubits(self, eavesdropper: Eavesdropper | None) -> int:
        return self.parties + (eavesdropper is not None)

    def _form(self, eavesdropper: Eavesdropper | None) -> str:
        if self.noise_form != "auto":
            return self.noise_form
        return "readout" if self._n_qubits(eavesdropper) > READOUT_ABOVE_QUBITS else "depolarising"

    def build_circuits(self, *, eavesdropper: Eavesdropper | None = None,
                       form: ChannelForm = "fast") -> tuple[QuantumCircuit, ...]:
        """Configuration ``eve_branch * 2 + basis`` (0 = all Z, 1 = all X); clbit j = party j, clbit N = Eve."""
        if form != "fast":
            raise InvalidParameter("form", form, "'fast'", "ghz-cka samples loss in closed form only (form='fast')")
        n = self.parties
        nq = self._n_qubits(eavesdropper)
        markers = self._form(eavesdropper) == "depolarising"
        branches = 1 if eavesdropper is None else eavesdropper.n_branches
        circuits = []
        for cfg in range(2 * branches):
            branch, basis = cfg >> 1, cfg & 1
            qc = ghz_prefix(n, nq, nq, name=f"ghz{n}_e{branch}_{'ZX'[basis]}", markers=False)
            if eavesdropper is not None:
                eavesdropper.apply(qc, self.attacked_party, n, branch)
            if markers:
                for j in range(n):
                    qc.append(channel_marker(), [j])
            if basis:
                for j in range(n):
                    qc.h(j)
            qc.measure(range(nq), range(nq))
            circuits.append(qc)
        return tuple(circuits)

    def noise_model(self, channels: tuple[Channel, ...], *, eavesdropper: Eavesdropper | None = None,
                    form: ChannelForm = "fast"):
        return party_noise_model(channels, form=self._form(eavesdropper))

    def sample_chunk(self, compiled: CompiledConfigurations, channels: tuple[Channel, ...], rounds: int,
                     rng: np.random.Generator, *, eavesdropper: Eavesdropper | None, form: ChannelForm,
                     aer_seed: int) -> GHZRounds:
        cfg = (~bernoulli(rng, rounds, self.p_key)).view(np.uint8).astype(np.uint16)
        if eavesdropper is not None:
            cfg |= eavesdropper.draw_branches(rounds, rng).astype(np.uint16) << 1
        detected, noise_only = sample_arrivals_all(channels, rounds, rng)
        det_cfg = cfg if detected is None else cfg[detected]
        bits = sample_bits(compiled, det_cfg, rng, aer_seed=aer_seed)
        randomise_noise_clicks(bits, noise_only, rng, columns=range(self.parties))
        eve = None
        if eavesdropper is not None:
            eve, bits = bits[:, self.parties], bits[:, :self.parties]
        return GHZRounds(config=cfg, detected=detected, bits=np.ascontiguousarray(bits), eve_bits=eve)

    def analyse(self, record: GHZRounds):
        cfg = record.detected_config
        basis = cfg & 1
        key, test = basis == 0, basis == 1
        bits = record.bits
        kb = bits[key]
        alice = kb[:, 0]
        errors_ab = (kb[:, 1:] != alice[:, None]).sum(axis=0)
        all_equal = int(np.sum(np.all(kb == alice[:, None], axis=1)))
        parity = np.bitwise_xor.reduce(bits[test], axis=1) if test.any() else np.zeros(0, dtype=np.uint8)
        eve_rounds = eve_correct = 0
        if record.eve_bits is not None:
            att = (cfg >> 1)[key] > 0
            eve_rounds = int(att.sum())
            eve_correct = int(np.sum(record.eve_bits[key][att] == alice[att]))
        return tally(key_rounds=int(key.sum()), test_rounds=int(test.sum()), errors_ab=errors_ab,
                     all_equal=all_equal, alice_ones=int(alice.sum()), parity_errors=int(parity.sum()),
                     eve_rounds=eve_rounds, eve_correct=eve_correct)

    def expected(self, channel: Channel | Sequence[Channel], *,
                 eavesdropper: Eavesdropper | str | None = None) -> dict[str, float]:
        """Closed forms (PHYSICS.md A7): ``detection_rate`` (P_all), ``qber_ab`` (per Bob, a list),
        ``qber_ab_max``, ``qber_x``, ``key_fraction``, ``key_rate``, ``bipartite_rate``.

        Local depolarising p_j given a click (noise-only clicks fully depolarise):
        Q_AB_i = [1 - (1-p_A)(1-p_i)]/2, Q_X = [1 - prod_j (1-p_j)]/2. An intercept-resend
        attack on party k (fraction f, Z with probability p_z) multiplies the Z
        correlation of pair (A, k) by 1 - f(1 - p_z) and the X parity by 1 - f p_z.
        """
        channels = self.normalise_channels(channel)
        p = effective_depolarisations(channels)
        v = 1.0 - p
        eve = normalise_eavesdropper(eavesdropper)
        cz = np.ones(self.parties)
        cx = 1.0
        if eve is not None:
            if not isinstance(eve, InterceptResend):
                raise NotImplementedError(f"no closed form for {eve!r}")
            cz[self.attacked_party] = 1.0 - eve.fraction * (1.0 - eve.p_z)
            cx = 1.0 - eve.fraction * eve.p_z
        k = self.attacked_party
        corr_z = v[0] * v[1:] * cz[1:]
        if k == 0:  # Eve on Alice's qubit disturbs every pair
            corr_z = v[0] * v[1:] * cz[0]
        q_ab = (1.0 - corr_z) / 2.0
        q_x = (1.0 - float(np.prod(v)) * cx) / 2.0
        p_all = float(np.prod([ch.detection_probability for ch in channels]))
        r = conference_key_fraction(q_x, q_ab)
        out: dict[str, Any] = {
            "detection_rate": p_all, "qber_ab": [float(x) for x in q_ab], "qber_ab_max": float(np.max(q_ab)),
            "qber_x": q_x, "key_fraction": r, "key_rate": self.p_key * p_all * r,
            "bipartite_rate": bipartite_conference_rate(channels, p_key=self.p_key),
        }
        if eve is not None:
            # Eve's bit is Alice's Z bit when she measured Z (up to Alice's noise), else a guess.
            out["eve_agreement"] = eve.p_z * (1.0 + v[0]) / 2.0 + (1.0 - eve.p_z) / 2.0
        return out
