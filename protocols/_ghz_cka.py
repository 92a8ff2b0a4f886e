"""GHZ conference key agreement (N-BB84; docs/conventions.md A7), with a satellite or HAPS as the source."""

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
    MultipartyProtocol, MultipartyResult, NoiseForm, ghz_prefix, party_noise_model,
    randomise_noise_clicks, sample_arrivals_all, sample_bits, tally,
)
from qproto.noise_models._aer import channel_marker
from qproto.security import binary_entropy

__all__ = ["GHZConferenceKey", "GHZConferenceResult", "GHZRounds", "conference_key_fraction",
           "ghz_local_depolarising_errors", "bipartite_conference_rate", "ghz_expectation", "party_observable",
           "dephase", "IDENTITY"]

#: Circuits above this many qubits use the readout form of the noise under ``noise_form="auto"``
#: (the engine's distribution path handles up to 10 qubits).
READOUT_ABOVE_QUBITS = 10


def conference_key_fraction(q_x: float, q_ab: Sequence[float] | float) -> float:
    """Asymptotic conference key fraction r = 1 - h(Q_X) - max_i h(Q_AB_i), clipped at 0 (docs/conventions.md A7)."""
    q_ab = np.atleast_1d(np.asarray(q_ab, dtype=float))
    r = 1.0 - float(binary_entropy(min(q_x, 0.5))) - float(np.max(binary_entropy(np.minimum(q_ab, 0.5))))
    return max(r, 0.0)


def ghz_local_depolarising_errors(p: Sequence[float]) -> tuple[np.ndarray, float]:
    """(Q_AB_i for i = 1..N-1, Q_X) of GHZ_N under local depolarising p_j (docs/conventions.md A7)."""
    p = np.asarray(p, dtype=float)
    q_ab = (1.0 - (1.0 - p[0]) * (1.0 - p[1:])) / 2.0
    q_x = (1.0 - float(np.prod(1.0 - p))) / 2.0
    return q_ab, q_x


# ---- closed forms: local observables on GHZ_N ----------------------------------------------
#: Unit Bloch vectors of the measurement bases (docs/conventions.md section 0).
_BASIS_AXIS = {"X": np.array([1.0, 0.0, 0.0]), "Y": np.array([0.0, 1.0, 0.0]), "Z": np.array([0.0, 0.0, 1.0])}

#: The identity as a Pauli vector (c, m_x, m_y, m_z) = c I + m . sigma.
IDENTITY = np.array([1.0, 0.0, 0.0, 0.0])


def _bloch_rotation(theta: float, axis: Sequence[float]) -> np.ndarray:
    """Rodrigues: the SO(3) matrix R with exp(-i theta/2 n.sigma) (r.sigma) exp(+i theta/2 n.sigma) = (R r).sigma."""
    n = np.asarray(axis, dtype=float)
    n = n / np.linalg.norm(n)
    cross = np.array([[0.0, -n[2], n[1]], [n[2], 0.0, -n[0]], [-n[1], n[0], 0.0]])
    return math.cos(theta) * np.eye(3) + math.sin(theta) * cross + (1.0 - math.cos(theta)) * np.outer(n, n)


def party_observable(channel: Channel, basis: str) -> np.ndarray:
    """The observable a party measures, pulled back through its channel given a click (Heisenberg picture).

    Measuring ``basis`` (``"X"``, ``"Y"`` or ``"Z"``, eigenvalue (-1)^bit) on a qubit
    that crossed ``channel`` and clicked is the same as measuring, on the qubit
    before the channel, the Pauli vector returned here: ``(0, v R^T e_b)`` with
    v = 1 - p_eff (:attr:`Channel.effective_depolarisation`, noise-only clicks
    included: they are maximally mixed) and R the Bloch rotation of the channel's
    coherent error (``rotation_rad`` about ``rotation_axis``), which Aer applies
    before the depolarising error (the two commute).

    Returns:
        A float array (c, m_x, m_y, m_z) with c = 0, meaning m . sigma.
    """
    check_one_of("basis", basis, ("X", "Y", "Z"))
    v = 1.0 - channel.effective_depolarisation
    r = _bloch_rotation(channel.rotation_rad, channel.rotation_axis)
    return np.concatenate([[0.0], v * (r.T @ _BASIS_AXIS[basis])])


def dephase(observable: np.ndarray, basis: str) -> np.ndarray:
    """The Heisenberg image of ``observable`` (a Pauli vector) under a measurement in ``basis``
    whose result is kept elsewhere (an intercept-resend's deferred measurement):
    the Bloch part is projected on the basis axis, m -> (m . e_b) e_b."""
    e = _BASIS_AXIS[basis]
    out = np.zeros(4)
    out[0] = observable[0]
    out[1:] = float(np.dot(observable[1:], e)) * e
    return out


def ghz_expectation(observables: Sequence[np.ndarray], *, sign: float = 1.0) -> float:
    """<GHZ| A_0 (x) ... (x) A_{N-1} |GHZ> for GHZ = (|0...0> + sign |1...1>)/sqrt 2.

    Each A_j = c_j I + m_j . sigma is given as a Pauli vector (c, m_x, m_y, m_z)
    (:data:`IDENTITY` for a party that is ignored). With <0|A|0> = c + m_z,
    <1|A|1> = c - m_z and <1|A|0> = m_x + i m_y:

        <A> = [prod_j (c_j + m_jz) + prod_j (c_j - m_jz)]/2 + sign Re prod_j (m_jx + i m_jy).

    Local depolarising shrinks each m_j and a coherent rotation turns it, so phases
    of rotations on several qubits add in the last term (docs/conventions.md A7 note).
    """
    ops = np.asarray(observables, dtype=float).reshape(-1, 4)
    c, mx, my, mz = ops.T
    diag = 0.5 * (float(np.prod(c + mz)) + float(np.prod(c - mz)))
    off = complex(np.prod(mx + 1j * my))
    return diag + sign * off.real


def attack_branches(eve: Eavesdropper | None, kinds: dict[type, tuple[str, str, str]]
                     ) -> list[tuple[float, str | None]]:
    """(weight, basis Eve measures or None) for each branch of an intercept-resend attack.

    ``kinds`` maps an eavesdropper class to (name of its first-basis probability,
    first basis, second basis), e.g. ``{InterceptResend: ("p_z", "Z", "X")}``.

    Raises:
        InvalidParameter: an eavesdropper with no closed form here.
    """
    if eve is None:
        return [(1.0, None)]
    for cls, (attr, first, second) in kinds.items():
        if type(eve) is cls:
            f, q = eve.fraction, getattr(eve, attr)
            return [(1.0 - f, None), (f * q, first), (f * (1.0 - q), second)]
    raise InvalidParameter("eavesdropper", eve, f"one of {[c.__name__ for c in kinds]}",
                           f"eavesdropper={eve!r} has no closed form; allowed: "
                           f"{[c.__name__ for c in kinds]}")


def bipartite_conference_rate(channels: Sequence[Channel], *, p_key: float = 1.0) -> float:
    """Conference key rate (bits per source use) from N-1 bipartite BBM92 links out of the same source.

    The source sends one Bell pair per use to Alice (party 0) and one Bob in turn, so
    each link gets 1/(N-1) of the uses; link i yields p_key P_A P_i [1 - h(E_X,i) - h(E_Z,i)]
    (docs/conventions.md A3) with E_b,i = (1 - <b_A b_i>)/2 the error of Phi+ = GHZ_2 measured in
    basis b after both channels (Q_i = [1 - (1 - p_A)(1 - p_i)]/2 in both bases without
    rotation, see :func:`ghz_expectation`), and Alice one-time-pads the conference key to
    every Bob, so the rate is min_i of the link rates divided by N-1.
    """
    det = np.array([ch.detection_probability for ch in channels])
    links = []
    for i in range(1, len(channels)):
        pair = (channels[0], channels[i])
        e_z = (1.0 - ghz_expectation([party_observable(ch, "Z") for ch in pair])) / 2.0
        e_x = (1.0 - ghz_expectation([party_observable(ch, "X") for ch in pair])) / 2.0
        frac = 1.0 - float(binary_entropy(min(e_x, 0.5))) - float(binary_entropy(min(e_z, 0.5)))
        links.append(p_key * det[0] * det[i] * max(frac, 0.0))
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

    Estimates include ``qber_ab_<i>`` (Bob i's error, a proportion) and ``qber_ab_max`` (the
    worst of them, for display: a max over Bobs carries no counts).

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

    def count_shapes(self) -> dict[str, int]:
        n = self.parameters.get("parties", len(self.counts.get("errors_ab", ())) + 1)
        one = ("key_rounds", "test_rounds", "all_equal", "alice_ones", "parity_errors", "eve_rounds", "eve_correct")
        return {**{k: 1 for k in one}, "errors_ab": int(n) - 1}

    def count_bounds(self) -> list[tuple[tuple[str, int], tuple[str, int]]]:
        key = ("key_rounds", 0)
        return [(("errors_ab", i), key) for i in range(len(self.counts["errors_ab"]))] + [
            (("all_equal", 0), key), (("alice_ones", 0), key), (("eve_rounds", 0), key),
            (("parity_errors", 0), ("test_rounds", 0)), (("eve_correct", 0), ("eve_rounds", 0))]

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
            # The worst Bob's rate for display: a max over Bobs is not itself a sampled proportion
            # (it is biased upwards and does not add over merged runs), so it carries no counts;
            # each Bob's Q_AB_i is a proportion, "qber_ab_<i>" below.
            "qber_ab_max": Estimate(qab[worst].low, qab[worst].best, qab[worst].high, self.confidence),
            "qber_ab_mean": self._binom(int(errs.sum()), kr * len(errs)),
            "qber_x": qx,
            "all_agree": self._binom(self.c("all_equal"), kr),
            # No key or test rounds: no key (0, the limiting value), not NaN.
            "key_fraction": (0.0 if math.isnan(qx.best) or any(math.isnan(e.best) for e in qab)
                             else conference_key_fraction(qx.best, [e.best for e in qab])),
            "key_rate": self.key_rate_estimate(),
            "bipartite_rate": bipartite_conference_rate(self.channels, p_key=self.parameters["p_key"]),
        }
        out.update({f"qber_ab_{i}": e for i, e in enumerate(qab, start=1)})
        if self.eavesdropper is not None:
            out["eve_agreement"] = self._binom(self.c("eve_correct"), self.c("eve_rounds"))
        return out


@register_protocol
class GHZConferenceKey(MultipartyProtocol):
    """GHZ conference key agreement among N parties (N-BB84; docs/conventions.md A7).

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
    outcome distributions. A coherent rotation (``Channel.rotation_rad > 0``) has no
    readout equivalent, so rotated channels need the depolarising form: with them
    ``"readout"`` (and ``"auto"`` above 10 qubits) raises InvalidParameter.

    Args:
        parties: number of parties N >= 2.
        p_key: probability in (0, 1) of a key round (else a test round).
        attacked_party: the party whose qubit an eavesdropper attacks (default N-1).
        noise_form: ``"auto"``, ``"depolarising"`` or ``"readout"``.
    """

    name: ClassVar[str] = "ghz-cka"
    RESULT = GHZConferenceResult
    MIN_PARTIES: ClassVar[int] = 2
    #: Circuits grow with N (one qubit per party) and so does the transpiler's work (500 parties took
    #: 13 s and 3.5 GiB): bounded so that a run compiles in seconds and well under 1 GiB.
    MAX_PARTIES: ClassVar[int] = 200

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
        form_ = self._form(eavesdropper)
        rotated = [j for j, ch in enumerate(channels) if ch.rotation_rad != 0.0]
        if form_ == "readout" and rotated:
            raise InvalidParameter(
                "noise_form", self.noise_form, "'depolarising' for rotated channels",
                f"noise_form={self.noise_form!r} puts the channels as readout errors here "
                f"({self._n_qubits(eavesdropper)} qubits), which cannot express the coherent rotation of "
                f"parties {rotated}; use noise_form='depolarising'")
        return party_noise_model(channels, form=form_)

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
                 eavesdropper: Eavesdropper | str | None = None) -> dict[str, Any]:
        """Closed forms (docs/conventions.md A7): ``detection_rate`` (P_all), ``qber_ab`` (per Bob, a list, and
        ``qber_ab_<i>`` for Bob i = 1..N-1), ``qber_ab_max``, ``qber_x``, ``key_fraction``, ``key_rate``, ``bipartite_rate``, and with an
        intercept-resend ``eve_agreement``.

        Computed on the GHZ state itself, independently of the circuits: each party's
        measurement is pulled back through its channel (:func:`party_observable`: the
        click-conditioned depolarising shrinks the Bloch vector, the coherent rotation
        turns it) and Eve's deferred measurement dephases the attacked qubit in her
        basis (:func:`dephase`), then Q_AB_i = (1 - <A_0 A_i>)/2 and
        Q_X = (1 - <A_0 ... A_{N-1}>)/2 come from :func:`ghz_expectation`. Without
        rotation this is Q_AB_i = [1 - (1-p_A)(1-p_i)]/2, Q_X = [1 - prod_j (1-p_j)]/2;
        rotations about z by phi_j give Q_X = [1 - cos(sum_j phi_j) prod_j (1-p_j)]/2
        (phases add coherently). An intercept-resend (fraction f, Z with probability
        p_z) on party k is averaged over its branches (untouched, Z-dephased, X-dephased).

        Raises:
            InvalidParameter: an eavesdropper other than :class:`qproto.InterceptResend`.
        """
        channels = self.normalise_channels(channel)
        n, k = self.parties, self.attacked_party
        eve = normalise_eavesdropper(eavesdropper)
        branches = attack_branches(eve, {InterceptResend: ("p_z", "Z", "X")})
        obs_z = [party_observable(ch, "Z") for ch in channels]
        obs_x = [party_observable(ch, "X") for ch in channels]
        q_ab = np.zeros(n - 1)
        q_x = 0.0
        for w, basis in branches:
            oz, ox = list(obs_z), list(obs_x)
            if basis is not None:
                oz[k], ox[k] = dephase(oz[k], basis), dephase(ox[k], basis)
            for i in range(1, n):
                ops = [IDENTITY] * n
                ops[0], ops[i] = oz[0], oz[i]
                q_ab[i - 1] += w * (1.0 - ghz_expectation(ops)) / 2.0
            q_x += w * (1.0 - ghz_expectation(ox)) / 2.0
        p_all = float(np.prod([ch.detection_probability for ch in channels]))
        r = conference_key_fraction(q_x, q_ab)
        out: dict[str, Any] = {
            "detection_rate": p_all, "qber_ab": [float(x) for x in q_ab], "qber_ab_max": float(np.max(q_ab)),
            "qber_x": q_x, "key_fraction": r, "key_rate": self.p_key * p_all * r,
            "bipartite_rate": bipartite_conference_rate(channels, p_key=self.p_key),
        }
        out.update({f"qber_ab_{i}": float(q) for i, q in enumerate(q_ab, start=1)})
        if eve is not None:
            # Attacked key rounds: Eve's record is qubit k's value in her basis before the channel;
            # Alice's bit is her Z outcome after hers. Agreement = (1 + correlation)/2.
            agree = 0.0
            for basis, w in (("Z", eve.p_z), ("X", 1.0 - eve.p_z)):
                record = np.concatenate([[0.0], _BASIS_AXIS[basis]])
                if k == 0:  # her copy and Alice's observable act on the same qubit: m_A . e_b
                    corr = float(np.dot(obs_z[0][1:], record[1:]))
                else:
                    ops = [IDENTITY] * n
                    ops[0], ops[k] = obs_z[0], record
                    corr = ghz_expectation(ops)
                agree += w * (1.0 + corr) / 2.0
            out["eve_agreement"] = agree
        return out
