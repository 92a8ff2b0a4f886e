"""Trusted-relay key distribution: BB84 links chained through relays that publish the XOR of keys (A12)."""

from __future__ import annotations

import dataclasses
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

__all__ = ["TrustedRelay", "TrustedRelayResult", "TrustedRelayRecord"]


@dataclasses.dataclass(frozen=True, eq=False)
class TrustedRelayRecord:
    """One chunk of a trusted-relay chain.

    Attributes:
        link_keys: per link i (node i -> node i+1), the error-corrected sifted key both
            ends of that link hold (uint8 bits), truncated to the shortest link's length.
        broadcasts: per relay j = 1..n-1 (node j), the public message K_{j-1} xor K_j.
        alice_key: node 0's end-to-end key (= link_keys[0]).
        bob_key: what node n recovers: K_{n-1} xor all broadcasts.
        relay_knowledge: per relay, the keys it holds (K_{j-1}, K_j): from them it computes
            ``alice_key`` itself; a trusted relay knows the end-to-end key.
        link_rounds: per link, the BB84 record of the chunk.
    """

    link_keys: tuple[np.ndarray, ...]
    broadcasts: tuple[np.ndarray, ...]
    alice_key: np.ndarray
    bob_key: np.ndarray
    relay_knowledge: tuple[tuple[np.ndarray, np.ndarray], ...]
    link_rounds: tuple[Any, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrustedRelayResult(TallyResult):
    """Result of a trusted-relay run. Tallies: ``rounds``; ``key_bits`` (end-to-end key bits
    delivered); ``key_errors`` (bits where node n's recovered key differs from node 0's);
    ``broadcast_bits``, ``broadcast_ones`` and ``broadcast_equal_key`` (broadcast bits equal to
    the key bit under them); and each link's BB84 tallies as ``link{i}.{field}``."""

    TYPE: ClassVar[str] = "TrustedRelayResult"
    TALLIES: ClassVar[tuple[str, ...]] = ("rounds", "key_bits", "key_errors", "broadcast_bits", "broadcast_ones",
                                          "broadcast_equal_key")
    LABELS: ClassVar[dict[str, str]] = {
        "key_bits": "end-to-end key bits", "key_errors": "recovered key errors", "key_rate": "end-to-end key rate "
        "(bit/round) = min link rate", "worst_link_qber": "worst link QBER", "broadcast_ones": "broadcast P(1)",
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

    def estimates(self) -> dict[str, Estimate | float | int | None]:
        links = [self.link_result(i) for i in range(len(self.channels))]
        rates = [lk.key_rate for lk in links]
        worst = max(links, key=lambda lk: lk.qber.best if lk.qber.best == lk.qber.best else 1.0).qber
        eta = float(np.prod([ch.total_transmittance for ch in self.channels]))
        out: dict[str, Estimate | float | int | None] = {
            "key_bits": self.tallies["key_bits"], "key_errors": self.tallies["key_errors"],
            "key_rate": Estimate(min(r.low for r in rates), min(r.best for r in rates), min(r.high for r in rates),
                                 self.confidence),
            "worst_link_qber": worst,
            "relays_know_key": 1 if len(self.channels) > 1 else 0,
            "plob_product_eta": plob_bound(eta),
            "plob_min_eta": plob_bound(min(ch.total_transmittance for ch in self.channels)),
        }
        if self.tallies["broadcast_bits"]:
            out["broadcast_ones"] = self._binom("broadcast_ones", "broadcast_bits")
            out["broadcast_equal_key"] = self._binom("broadcast_equal_key", "broadcast_bits")
        return out


@register_protocol
class TrustedRelay(Protocol):
    """Key distribution over ``n_links`` BB84 links through n-1 trusted relays (PHYSICS.md A12).

    Node i and node i+1 run BB84 over ``channel[i]`` and keep the sifted key K_i of node i
    (after error correction, assumed ideal, both ends hold it; each link's QBER and
    asymptotic rate are reported). Relay j publishes K_{j-1} xor K_j; the last node
    recovers K_0 = K_{n-1} xor (all broadcasts). The broadcasts are one-time-pad
    ciphertexts (uniform, independent of K_0), but every relay can compute K_0: the
    relays must be trusted. The end-to-end rate is the minimum link rate.

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
        keys = [r.sifted_keys()[0] for r in records]  # node i's bits = the corrected link key
        length = min(k.size for k in keys)
        keys = [k[:length] for k in keys]
        broadcasts = tuple(keys[j - 1] ^ keys[j] for j in range(1, len(keys)))
        bob = keys[-1].copy()
        for b in broadcasts:
            bob ^= b
        knowledge = tuple((keys[j - 1], keys[j]) for j in range(1, len(keys)))
        return TrustedRelayRecord(link_keys=tuple(keys), broadcasts=broadcasts, alice_key=keys[0], bob_key=bob,
                                  relay_knowledge=knowledge, link_rounds=records)

    def analyse(self, r: TrustedRelayRecord) -> Tallies:
        t = Tallies(rounds=len(r.link_rounds[0]), key_bits=int(r.alice_key.size),
                    key_errors=int(np.count_nonzero(r.alice_key != r.bob_key)),
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
        """``key_rate`` = min over links of the BB84 closed-form rate; ``key_errors`` = 0;
        ``broadcast_ones`` = ``broadcast_equal_key`` = 1/2."""
        chans = self.normalise_channels(channel)
        rates = [self._bb84.expected(ch)["key_rate"] for ch in chans]
        out = {"key_rate": min(rates), "key_errors": 0,
               "worst_link_qber": max(self._bb84.expected(ch)["qber"] for ch in chans)}
        if len(chans) > 1:
            out.update(broadcast_ones=0.5, broadcast_equal_key=0.5)
        return out
