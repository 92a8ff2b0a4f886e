"""Trusted-relay key distribution: BB84 links chained through relays that publish the XOR of keys (A12)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from qproto._attacks import Eavesdropper
from qproto._channel import Channel
from qproto._engine import Engine
from qproto._entanglement import Tallies, TallyResult, check_fast_form
from qproto._errors import InvalidParameter, InvalidType
from qproto._protocol import ChannelForm, Protocol, register_protocol
from qproto._qkd import analyse_rounds
from qproto._results import Estimate, QKDCounts, QKDResult
from qproto._validation import check_in_range, check_int
from qproto.protocols._bb84 import BB84
from qproto.security._bounds import plob_bound
from qproto.security._decoy import bb84_asymptotic_fraction
from qproto.security._purification import click_bloch_map

__all__ = ["TrustedRelay", "TrustedRelayResult", "TrustedRelayRecord"]


@dataclasses.dataclass(frozen=True, eq=False)
class TrustedRelayRecord:
    """One chunk of a trusted-relay chain (raw keys: before error correction).

    Attributes:
        sender_keys: per link i (node i -> node i+1), node i's raw sifted key on that link
            (BB84 Alice's bits, uint8), truncated to the shortest link's length.
        receiver_keys: per link i, node i+1's raw sifted key on that link (BB84 Bob's bits);
            it differs from ``sender_keys[i]`` where link i made an error.
        broadcasts: per relay j = 1..n-1 (node j), the public message
            ``receiver_keys[j-1] xor sender_keys[j]`` (the XOR of the two raw keys it holds).
        alice_key: node 0's raw key (= ``sender_keys[0]``).
        bob_key: what node n recovers: ``receiver_keys[-1]`` xor all broadcasts. It equals
            ``alice_key`` xor every link's error pattern: raw-key errors compound along the chain.
        relay_knowledge: per relay, the raw keys it holds (receiver_keys[j-1], sender_keys[j]);
            from them it computes node 0's key up to link errors: relays must be trusted.
        link_rounds: per link, the BB84 record of the chunk.
    """

    sender_keys: tuple[np.ndarray, ...]
    receiver_keys: tuple[np.ndarray, ...]
    broadcasts: tuple[np.ndarray, ...]
    alice_key: np.ndarray
    bob_key: np.ndarray
    relay_knowledge: tuple[tuple[np.ndarray, np.ndarray], ...]
    link_rounds: tuple[Any, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrustedRelayResult(TallyResult):
    """Result of a trusted-relay run.

    Tallies: ``rounds``; ``relayed_raw_bits`` (raw sifted bits relayed end to end, the
    shortest link's sifted length); ``relayed_raw_errors`` (bits where node n's recovered raw
    key differs from node 0's: the links' raw errors compound, nothing is corrected);
    ``broadcast_bits``, ``broadcast_ones`` and ``broadcast_equal_key`` (broadcast bits equal
    to node 0's key bit under them); and each link's BB84 tallies as ``link{i}.{field}``.

    The end-to-end *secret* key is ``key_rate`` (bits per round): each link is error-corrected
    and privacy-amplified on its own, so it is the minimum over links of each link's
    asymptotic Shor-Preskill rate from its own QBERs (docs/conventions.md A12), and 0 as soon as
    one link's QBER is too high. ``secret_key_bits`` = rounds x ``key_rate``.
    """

    TYPE: ClassVar[str] = "TrustedRelayResult"
    TALLIES: ClassVar[tuple[str, ...]] = ("rounds", "relayed_raw_bits", "relayed_raw_errors", "broadcast_bits",
                                          "broadcast_ones", "broadcast_equal_key")
    LABELS: ClassVar[dict[str, str]] = {
        "relayed_raw_bits": "raw sifted bits relayed end to end (not secret key)",
        "relayed_raw_error_rate": "raw relayed-key error rate (uncorrected; link errors compound)",
        "key_rate": "end-to-end secret key rate (bit/round) = min link secret key rate",
        "secret_key_bits": "end-to-end secret key bits (asymptotic) = rounds x key rate",
        "worst_link_qber": "worst link QBER", "broadcast_ones": "broadcast P(1)",
        "broadcast_equal_key": "P(broadcast bit = key bit)", "relays_know_key": "relays know the key (1 = yes)",
        "plob_product_eta": "PLOB(prod eta), direct-link bound (bit/round)",
        "plob_min_eta": "min_i PLOB(eta_i), relay-chain bound (bit/round)",
    }

    def link_result(self, i: int) -> QKDResult:
        """Link ``i``'s BB84 result (node i -> node i+1)."""
        prefix = f"link{i}."
        data = {k[len(prefix):]: v for k, v in self.tallies.items() if k.startswith(prefix)}
        chsh = {"chsh_n": (0, 0, 0, 0), "chsh_sum": (0, 0, 0, 0)}
        return QKDResult(protocol="bb84", parameters={"f_ec": self.parameters.get("f_ec", 1.16)},
                         channels=(self.channels[i],), rounds=self.tallies["rounds"], seed=self.seed,
                         counts=QKDCounts(**data, **chsh), confidence=self.confidence)

    @property
    def key_rate(self) -> Estimate:
        """End-to-end secret key rate in bits per round: the minimum over links of each link's
        asymptotic secret key rate (its own QBER intervals; ends of the interval likewise)."""
        rates = [self.link_result(i).key_rate for i in range(len(self.channels))]
        return Estimate(min(r.low for r in rates), min(r.best for r in rates), min(r.high for r in rates),
                        self.confidence)

    def estimates(self) -> dict[str, Estimate | float | int | None]:
        links = [self.link_result(i) for i in range(len(self.channels))]
        worst = max(links, key=lambda lk: lk.qber.best if lk.qber.best == lk.qber.best else 1.0).qber
        eta = float(np.prod([ch.total_transmittance for ch in self.channels]))
        rate = self.key_rate
        out: dict[str, Estimate | float | int | None] = {
            "relayed_raw_bits": self.tallies["relayed_raw_bits"],
            "key_rate": rate,
            "secret_key_bits": rate.best * self.tallies["rounds"],
            "worst_link_qber": worst,
            "relays_know_key": 1 if len(self.channels) > 1 else 0,
            "plob_product_eta": plob_bound(eta),
            "plob_min_eta": plob_bound(min(ch.total_transmittance for ch in self.channels)),
        }
        if self.tallies["relayed_raw_bits"]:
            out["relayed_raw_error_rate"] = self._binom("relayed_raw_errors", "relayed_raw_bits")
        if self.tallies["broadcast_bits"]:
            out["broadcast_ones"] = self._binom("broadcast_ones", "broadcast_bits")
            out["broadcast_equal_key"] = self._binom("broadcast_equal_key", "broadcast_bits")
        return out


@register_protocol
class TrustedRelay(Protocol):
    """Key distribution over ``n_links`` BB84 links through n-1 trusted relays (docs/conventions.md A12).

    Node i and node i+1 run BB84 over ``channel[i]``; node i keeps its raw sifted bits S_i
    and node i+1 its raw sifted bits R_i (they differ where link i erred). Relay j publishes
    R_{j-1} xor S_j; the last node computes R_{n-1} xor (all broadcasts) = S_0 xor (every
    link's error pattern). So the *raw* relayed key compounds the links' errors:
    node n disagrees with node 0 with probability [1 - prod_i (1 - 2 q_i)]/2, q_i link i's
    sifted error rate. In a real deployment each link is error-corrected and privacy-amplified
    first; the end-to-end *secret* key rate is then the minimum over links of each link's
    secret key rate (docs/conventions.md A12), reported as ``key_rate`` and 0 as soon as one link's
    QBER is too high. The broadcasts are one-time-pad ciphertexts (uniform, independent of
    S_0), but every relay can compute S_0: the relays must be trusted.

    Args:
        n_links: number of QKD links, >= 1.
        p_z: each link's BB84 Z-basis probability in (0, 1).
        f_ec: error-correction inefficiency in [1, 2].
    """

    name: ClassVar[str] = "trusted-relay"

    def __init__(self, *, n_links: int = 2, p_z: float = 0.5, f_ec: float = 1.16):
        self.n_links = check_int("n_links", n_links, minimum=1, maximum=64)
        self.n_channels = self.n_links
        self.p_z = check_in_range("p_z", p_z, 0.0, 1.0, lo_open=True, hi_open=True)
        self.f_ec = check_in_range("f_ec", f_ec, 1.0, 2.0)
        self._bb84 = BB84(p_z=self.p_z, f_ec=self.f_ec)

    def __repr__(self) -> str:
        return f"TrustedRelay(n_links={self.n_links!r}, p_z={self.p_z!r}, f_ec={self.f_ec!r})"

    def parameters(self) -> dict[str, Any]:
        return {"n_links": self.n_links, "p_z": self.p_z, "f_ec": self.f_ec}

    def normalise_channels(self, channel: Channel | Sequence[Channel]) -> tuple[Channel, ...]:
        if isinstance(channel, (list, tuple)) and len(channel) == 0:
            raise InvalidParameter("channel", "[]", f"{self.n_links} channel(s), one per link",
                                   "channel=[] is an empty chain; give one Channel per link")
        return super().normalise_channels(channel)

    def build_circuits(self, *, eavesdropper: Eavesdropper | None = None, form: ChannelForm = "fast"):
        """The BB84 circuits each link runs."""
        check_fast_form(self.name, form)
        if eavesdropper is not None:
            raise InvalidParameter("eavesdropper", eavesdropper, "None (attack a link with BB84 itself)")
        return self._bb84.build_circuits()

    def noise_model(self, channels: tuple[Channel, ...], *, eavesdropper: Eavesdropper | None = None,
                    form: ChannelForm = "fast"):
        """Not used: each link compiles its own BB84 noise model (see :meth:`prepare`)."""
        return self._bb84.noise_model(channels[:1])

    def prepare(self, channel, *, eavesdropper=None, engine: Engine | None = None, form: ChannelForm = "fast"):
        """Compile BB84 once per link (each link has its own channel)."""
        channels = self.normalise_channels(channel)
        if eavesdropper is not None:
            raise InvalidParameter("eavesdropper", eavesdropper, "None (attack a link with BB84 itself)")
        check_fast_form(self.name, form)
        engine = Engine() if engine is None else engine
        if not isinstance(engine, Engine):
            raise InvalidType("engine", engine, "a qproto.Engine")
        circuits = self._bb84.build_circuits()
        compiled = tuple(engine.compile(circuits, self._bb84.noise_model((ch,))) for ch in channels)
        return channels, None, compiled

    def sample_chunk(self, compiled, channels: tuple[Channel, ...], rounds: int, rng: np.random.Generator, *,
                     eavesdropper: Eavesdropper | None, form: ChannelForm, aer_seed: int) -> TrustedRelayRecord:
        records = tuple(self._bb84.sample_chunk(c, (ch,), rounds, rng, eavesdropper=None, form="fast",
                                                aer_seed=aer_seed + 97 * i)
                        for i, (c, ch) in enumerate(zip(compiled, channels)))
        pairs = [r.sifted_keys() for r in records]  # (node i's bits, node i+1's bits) on link i
        length = min(a.size for a, _ in pairs)
        senders = tuple(a[:length] for a, _ in pairs)
        receivers = tuple(b[:length] for _, b in pairs)
        broadcasts = tuple(receivers[j - 1] ^ senders[j] for j in range(1, len(pairs)))
        bob = receivers[-1].copy()
        for b in broadcasts:
            bob ^= b
        knowledge = tuple((receivers[j - 1], senders[j]) for j in range(1, len(pairs)))
        return TrustedRelayRecord(sender_keys=senders, receiver_keys=receivers, broadcasts=broadcasts,
                                  alice_key=senders[0], bob_key=bob, relay_knowledge=knowledge, link_rounds=records)

    def analyse(self, r: TrustedRelayRecord) -> Tallies:
        t = Tallies(rounds=len(r.link_rounds[0]), relayed_raw_bits=int(r.alice_key.size),
                    relayed_raw_errors=int(np.count_nonzero(r.alice_key != r.bob_key)),
                    broadcast_bits=sum(int(b.size) for b in r.broadcasts),
                    broadcast_ones=sum(int(np.count_nonzero(b)) for b in r.broadcasts),
                    broadcast_equal_key=sum(int(np.count_nonzero(b == r.alice_key)) for b in r.broadcasts))
        for i, rec in enumerate(r.link_rounds):
            counts = analyse_rounds(rec).to_dict()
            for k, v in counts.items():
                if not k.startswith("chsh"):
                    t[f"link{i}.{k}"] = v
        return t

    def make_result(self, tallies: Tallies, *, channels: tuple[Channel, ...], rounds: int, seed: int,
                    eavesdropper: Eavesdropper | None) -> TrustedRelayResult:
        return TrustedRelayResult(protocol=self.name, parameters=self.parameters(), channels=channels,
                                  rounds=rounds, seed=seed, eavesdropper=None, tallies=dict(tallies))

    def expected(self, channel: Channel | Sequence[Channel], *,
                 eavesdropper: Eavesdropper | str | None = None) -> dict[str, float]:
        """Closed forms from each link's channel (docs/conventions.md A1, A12), rotated channels included.

        Link i given a click has Bloch map M_i (rotation, then depolarising p_eff), so its
        QBERs are ``E_Z = (1 - M_i[z,z])/2`` and ``E_X = (1 - M_i[x,x])/2`` and its secret key
        rate ``P_click [p_Z^2 (1 - h(E_X) - f_EC h(E_Z)) + p_X^2 (1 - h(E_Z) - f_EC h(E_X))]``
        (each term clipped at 0). Returns ``key_rate`` (the minimum over links),
        ``worst_link_qber`` (the largest sifted error rate q_i = (p_Z^2 E_Z + p_X^2 E_X) /
        (p_Z^2 + p_X^2)), ``relayed_raw_error_rate`` = [1 - prod_i (1 - 2 q_i)]/2 (uncorrected
        raw keys compound, bit positions of different links being independent) and, with
        relays, ``broadcast_ones`` = ``broadcast_equal_key`` = 1/2.
        """
        chans = self.normalise_channels(channel)
        pz, px = self.p_z, 1.0 - self.p_z
        rates, qs = [], []
        for ch in chans:
            m = click_bloch_map(ch)
            e_z, e_x = (1.0 - m[2, 2]) / 2.0, (1.0 - m[0, 0]) / 2.0
            rates.append(ch.detection_probability * (
                pz**2 * bb84_asymptotic_fraction(e_x, e_z, f_ec=self.f_ec)
                + px**2 * bb84_asymptotic_fraction(e_z, e_x, f_ec=self.f_ec)))
            qs.append((pz**2 * e_z + px**2 * e_x) / (pz**2 + px**2))
        out = {"key_rate": float(min(rates)), "worst_link_qber": float(max(qs)),
               "relayed_raw_error_rate": float((1.0 - math.prod(1.0 - 2.0 * q for q in qs)) / 2.0)}
        if len(chans) > 1:
            out.update(broadcast_ones=0.5, broadcast_equal_key=0.5)
        return out
