"""Key material, streamed: Alice's and Bob's sifted bits chunk by chunk, packed.

Tallies stay the fast default of :meth:`qproto.Protocol.run`; this module is the
other path, for distillation. It replays exactly the chunks a run draws:

* protocols whose per-round record has ``sifted_keys(basis)`` (``bb84``, ``bbm92``,
  ``mdi-qkd``), ``ghz-cka`` (per-party bits) and ``trusted-relay`` (one link's BB84 record): chunk ``i`` of ``rounds`` is
  ``protocol.sample_chunk(...)`` with the generator and Aer seed that
  :meth:`~qproto.Protocol.run` gives chunk ``i`` (``SeedSequence(seed, spawn_key=(i,))``,
  chunks of ``engine.chunk_size`` rounds). So the sifted bits of ``seed=S`` are the
  very rounds that ``run(seed=S)`` tallies: their counts and errors equal its tallies.
* ``decoy-bb84`` (one channel, or one per slot of a pass): the counts-first sampler of
  :meth:`DecoyBB84.sample_cell_counts <qproto.protocols.DecoyBB84.sample_cell_counts>`
  is replayed draw for draw (same multinomial, binomials and Aer outcomes), keeping the
  outcome of every click instead of counting its ones. The tallies of the material equal
  those of ``DecoyBB84.run(seed=S)`` (one channel) or of ``simulate_pass(seed=S)`` (a
  pass, slot ``i`` = chunk ``i``). Clicks of a cell are exchangeable, so the key positions
  of a chunk are put in a uniformly random order by a generator of their own
  (``SeedSequence(seed, spawn_key=(i, KEY_ORDER_TAG))``), which draws nothing from the run's.

The key basis is Z, the test basis X (its errors bound the phase error; for GHZ
conference keys the test "bit pair" is (x_0, x_1 xor ... xor x_{N-1}), whose mismatch is
the X-parity error). Bits are packed with :func:`numpy.packbits`; the intensity class of
each decoy bit is kept (one byte per bit) because the finite key needs counts per class.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from qproto._channel import Channel
from qproto._engine import Engine
from qproto._errors import InvalidParameter, InvalidType
from qproto._protocol import Protocol, get_protocol
from qproto._seeding import SeedLike, chunk_aer_seed, chunk_generator, root_seed
from qproto._validation import check_int
from qproto.distill._bits import pack, unpack

__all__ = ["KeyChunk", "SiftedKey", "key_material", "pass_key_material", "collect", "KEY_ORDER_TAG",
           "SUPPORTED_PROTOCOLS"]

#: Second spawn-key entry of the generator that orders a chunk's decoy key bits (ASCII "key").
KEY_ORDER_TAG = 0x6B6579
#: Protocols whose key material this module can stream.
SUPPORTED_PROTOCOLS = ("bb84", "bbm92", "decoy-bb84", "mdi-qkd", "ghz-cka", "trusted-relay")
_Z, _X = 0, 1


@dataclasses.dataclass(frozen=True, eq=False)
class KeyChunk:
    """Sifted key material of one chunk (or one slot of a pass), bits packed.

    Attributes:
        index: chunk number (slot number for a pass).
        rounds: rounds (pulses) the chunk simulated.
        n_key: number of sifted key-basis (Z) bits.
        alice_key, bob_key: packed key bits (``numpy.packbits``, uint8, ceil(n_key/8) bytes).
        n_test: number of sifted test-basis (X) bits.
        alice_test, bob_test: packed test bits.
        key_class, test_class: intensity class (0 signal, 1 decoy, 2 vacuum) of each key /
            test bit, uint8 (decoy-bb84 only; ``None`` otherwise).
    """

    index: int
    rounds: int
    n_key: int
    alice_key: np.ndarray
    bob_key: np.ndarray
    n_test: int
    alice_test: np.ndarray
    bob_test: np.ndarray
    key_class: np.ndarray | None = None
    test_class: np.ndarray | None = None

    @classmethod
    def from_bits(cls, index: int, rounds: int, key: tuple[np.ndarray, np.ndarray],
                  test: tuple[np.ndarray, np.ndarray], key_class: np.ndarray | None = None,
                  test_class: np.ndarray | None = None) -> KeyChunk:
        """Pack unpacked (Alice, Bob) bit arrays of the key and test bases."""
        return cls(index=index, rounds=rounds, n_key=int(key[0].size), alice_key=pack(key[0]), bob_key=pack(key[1]),
                   n_test=int(test[0].size), alice_test=pack(test[0]), bob_test=pack(test[1]),
                   key_class=key_class, test_class=test_class)

    def key_bits(self) -> tuple[np.ndarray, np.ndarray]:
        """Alice's and Bob's key bits, unpacked (uint8 0/1)."""
        return unpack(self.alice_key, self.n_key), unpack(self.bob_key, self.n_key)

    def test_bits(self) -> tuple[np.ndarray, np.ndarray]:
        """Alice's and Bob's test-basis bits, unpacked."""
        return unpack(self.alice_test, self.n_test), unpack(self.bob_test, self.n_test)

    @property
    def key_errors(self) -> int:
        """Positions where Alice's and Bob's key bits differ (a simulation-side count)."""
        return int(np.unpackbits(self.alice_key ^ self.bob_key).sum())

    @property
    def test_errors(self) -> int:
        """Positions where the test bits differ."""
        return int(np.unpackbits(self.alice_test ^ self.bob_test).sum())

    @property
    def nbytes(self) -> int:
        """Bytes of key material held (packed bits plus the class arrays)."""
        extra = sum(a.nbytes for a in (self.key_class, self.test_class) if a is not None)
        return self.alice_key.nbytes * 2 + self.alice_test.nbytes * 2 + extra


@dataclasses.dataclass(frozen=True, eq=False)
class SiftedKey:
    """All chunks of a run, concatenated and unpacked (input of error correction).

    Attributes:
        alice, bob: key-basis bits (uint8 0/1), same length.
        alice_test, bob_test: test-basis bits.
        key_class, test_class: intensity class per bit (decoy-bb84) or ``None``.
        rounds: rounds (pulses) simulated in total.
        chunks: number of chunks.
    """

    alice: np.ndarray
    bob: np.ndarray
    alice_test: np.ndarray
    bob_test: np.ndarray
    key_class: np.ndarray | None
    test_class: np.ndarray | None
    rounds: int
    chunks: int

    @property
    def n_key(self) -> int:
        return int(self.alice.size)

    @property
    def n_test(self) -> int:
        return int(self.alice_test.size)


#: Most sifted bits (key + test) one block may hold: the chain (error correction, verification,
#: privacy amplification) works on the whole block in memory, about 300 bytes per sifted bit at
#: its peak, so this keeps a distillation under 1 GiB (a whole LEO-to-HAPS pass is ~1e6 bits).
MAX_BLOCK_BITS = 2_000_000


def collect(chunks: Iterable[KeyChunk], *, max_bits: int = MAX_BLOCK_BITS) -> SiftedKey:
    """Concatenate streamed chunks into one :class:`SiftedKey` (in chunk order).

    Args:
        chunks: the streamed material (e.g. :func:`key_material`).
        max_bits: most sifted bits (key + test) to accept, >= 1 (default
            :data:`MAX_BLOCK_BITS`); the stream stops with an error as soon as it holds more,
            so a run too long for one block fails early instead of exhausting memory.

    Raises:
        InvalidParameter: more than ``max_bits`` sifted bits; mixed chunk kinds.
        InvalidType: an element that is not a :class:`KeyChunk`.
    """
    max_bits = check_int("max_bits", max_bits, minimum=1)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("a", "b", "ta", "tb", "kc", "tc")}
    rounds = count = total = 0
    decoy = None
    for c in chunks:
        if not isinstance(c, KeyChunk):
            raise InvalidType("chunks", c, "an iterable of KeyChunk")
        a, b = c.key_bits()
        ta, tb = c.test_bits()
        total += len(a) + len(ta)
        if total > max_bits:
            raise InvalidParameter("rounds", f"{rounds + c.rounds:,} rounds so far", f"at most {max_bits:,} "
                                   "sifted bits (key + test) per block",
                                   f"the key material exceeds {max_bits:,} sifted bits (key + test) after "
                                   f"{rounds + c.rounds:,} rounds; one block is distilled in memory, so use fewer "
                                   f"rounds (this run sifts about {total / (rounds + c.rounds):.3g} bits per round) "
                                   "or distill several runs with different seeds")
        for k, v in (("a", a), ("b", b), ("ta", ta), ("tb", tb)):
            parts[k].append(v)
        has_class = c.key_class is not None
        if decoy is None:
            decoy = has_class
        elif decoy != has_class:
            raise InvalidParameter("chunks", "mixed chunks", "chunks of one protocol (all with or all without "
                                   "intensity classes)")
        if has_class:
            parts["kc"].append(c.key_class)
            parts["tc"].append(c.test_class)
        rounds += c.rounds
        count += 1

    def cat(k: str) -> np.ndarray:
        return np.concatenate(parts[k]) if parts[k] else np.zeros(0, dtype=np.uint8)

    return SiftedKey(alice=cat("a"), bob=cat("b"), alice_test=cat("ta"), bob_test=cat("tb"),
                     key_class=cat("kc") if decoy else None, test_class=cat("tc") if decoy else None,
                     rounds=rounds, chunks=count)


# ---- records -> bits ------------------------------------------------------------------------
def _record_bits(record: Any, party: int, link: int = 0
                 ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """(key pair, test pair) of one per-round record."""
    if hasattr(record, "link_rounds"):  # trusted relay: one link's BB84 record
        if not 0 <= link < len(record.link_rounds):
            raise InvalidParameter("link", link, f"integers in [0, {len(record.link_rounds) - 1}]")
        return _record_bits(record.link_rounds[link], party)
    if hasattr(record, "sifted_keys"):
        return record.sifted_keys(_Z), record.sifted_keys(_X)
    if hasattr(record, "bits") and hasattr(record, "basis"):  # GHZ conference key
        bits = np.asarray(record.bits, dtype=np.uint8)
        basis = np.asarray(record.basis)
        if not 1 <= party < bits.shape[1]:
            raise InvalidParameter("party", party, f"integers in [1, {bits.shape[1] - 1}]")
        z, x = bits[basis == _Z], bits[basis == _X]
        parity = np.bitwise_xor.reduce(x[:, 1:], axis=1) if x.shape[0] else np.zeros(0, np.uint8)
        return (z[:, 0].copy(), z[:, party].copy()), (x[:, 0].copy(), parity.astype(np.uint8))
    raise InvalidParameter("protocol", type(record).__name__, f"one of {list(SUPPORTED_PROTOCOLS)}",
                           f"the per-round record {type(record).__name__} has no sifted_keys(basis) method; "
                           f"key material is available for {list(SUPPORTED_PROTOCOLS)}")


def _protocol(protocol: str | Protocol) -> Protocol:
    p = get_protocol(protocol) if isinstance(protocol, str) else protocol
    if not isinstance(p, Protocol):
        raise InvalidType("protocol", protocol, "a protocol name or a qproto.Protocol")
    if p.name not in SUPPORTED_PROTOCOLS:
        raise InvalidParameter("protocol", p.name, f"one of {list(SUPPORTED_PROTOCOLS)}",
                               f"protocol {p.name!r} has no streamed key material; supported: "
                               f"{list(SUPPORTED_PROTOCOLS)}")
    return p


def key_material(protocol: str | Protocol, channel: Channel | Sequence[Channel], *, rounds: int,
                 seed: SeedLike = None, eavesdropper: Any = None, engine: Engine | None = None,
                 party: int = 1, link: int = 0) -> Iterator[KeyChunk]:
    """Stream the sifted key material of a run, chunk by chunk (module docs).

    Args:
        protocol: a protocol name among :data:`SUPPORTED_PROTOCOLS` or an instance.
        channel: the channel(s), as for :meth:`qproto.Protocol.run`.
        rounds: rounds (pulses for decoy-bb84), >= 1.
        seed: the run's seed; chunk ``i`` replays chunk ``i`` of ``run(seed=seed)``.
        eavesdropper: as for :meth:`~qproto.Protocol.run` (``None`` for decoy-bb84).
        engine: execution settings; its ``chunk_size`` is the chunk length in rounds
            (decoy-bb84: the click block, chunks of 2**40 pulses as in its ``run``).
        party: for ``ghz-cka``, which Bob (1 .. N-1) holds the key paired with Alice's.
        link: for ``trusted-relay``, which link (0 .. n_links-1, node i -> node i+1). A trusted-node
            chain distills every link's key on its own (each is BB84) and relays the final keys by
            one-time pad; the relayed raw key of the record mixes both bases and cannot be distilled.

    Yields:
        :class:`KeyChunk`, in chunk order; memory is bounded by one chunk.

    Raises:
        InvalidParameter: unsupported protocol, bad ``rounds`` or ``party``.
    """
    p = _protocol(protocol)
    rounds = check_int("rounds", rounds, minimum=1)
    party = check_int("party", party, minimum=1)
    link = check_int("link", link, minimum=0)
    root = root_seed(seed)
    engine = Engine() if engine is None else engine
    if not isinstance(engine, Engine):
        raise InvalidType("engine", engine, "a qproto.Engine")
    channels, eve, compiled = p.prepare(channel, eavesdropper=eavesdropper, engine=engine)
    if p.name == "decoy-bb84":
        chunk = 1 << 40  # DecoyBB84.run's counts-sampler chunk
        for i, start in enumerate(range(0, rounds, chunk)):
            yield _decoy_chunk(p, compiled, channels[0], min(chunk, rounds - start), root, i, engine.chunk_size)
        return
    chunk = engine.chunk_size
    for i, start in enumerate(range(0, rounds, chunk)):
        n = min(chunk, rounds - start)
        record = p.sample_chunk(compiled, channels, n, chunk_generator(root, i), eavesdropper=eve, form="fast",
                                aer_seed=chunk_aer_seed(root, i))
        key, test = _record_bits(record, party, link)
        yield KeyChunk.from_bits(i, n, key, test)


def _decoy_chunk(protocol: Any, compiled: Any, channel: Channel, pulses: int, root: int, i: int,
                 block: int) -> KeyChunk:
    """Chunk ``i`` of ``DecoyBB84.run(sampler="counts")``: its cell counts, then the bits."""
    cells = protocol.sample_cell_counts(compiled, channel, pulses, chunk_generator(root, i), block=block,
                                        aer_seed=chunk_aer_seed(root, i))
    return _cells_to_chunk(i, pulses, *cells, root)


def _cells_to_chunk(i: int, pulses: int, sent: np.ndarray, clicked: np.ndarray, ones: np.ndarray,
                    root: int) -> KeyChunk:
    """Bits of a chunk from its per-cell counts (cell = k * 8 + (a_basis << 2 | a_bit << 1 | b_basis)).

    Within a cell the clicks are i.i.d., so given the number of 1s among them every
    arrangement is equally likely: the 1s are placed by a uniformly random permutation
    (generator ``SeedSequence(root, spawn_key=(i, KEY_ORDER_TAG))``), which also interleaves
    the cells as the pulses of a real run would be.
    """
    del sent
    order_rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(root, spawn_key=(i, KEY_ORDER_TAG))))
    out = {}
    for basis in (_Z, _X):
        a_parts, b_parts, k_parts = [], [], []
        for k in range(3):
            for a_bit in (0, 1):
                cell = k * 8 + (basis << 2 | a_bit << 1 | basis)
                n, n1 = int(clicked[cell]), int(ones[cell])
                bob = np.zeros(n, dtype=np.uint8)
                bob[:n1] = 1
                a_parts.append(np.full(n, a_bit, dtype=np.uint8))
                b_parts.append(bob)
                k_parts.append(np.full(n, k, dtype=np.uint8))
        a, b, kc = (np.concatenate(x) for x in (a_parts, b_parts, k_parts))
        perm = order_rng.permutation(a.size)
        out[basis] = (a[perm], b[perm], kc[perm])
    (za, zb, zk), (xa, xb, xk) = out[_Z], out[_X]
    return KeyChunk.from_bits(i, pulses, (za, zb), (xa, xb), key_class=zk, test_class=xk)


def pass_key_material(protocol: Any, channels: Sequence[Channel], *, source_rate_hz: float, slot_s: float = 1.0,
                      seed: SeedLike = None, engine: Engine | None = None) -> Iterator[KeyChunk]:
    """Stream the key material of a decoy-state BB84 pass, one :class:`KeyChunk` per slot.

    Slot ``i`` replays slot ``i`` of ``qproto.passes.simulate_pass`` (``qproto._pass``) with the
    same seed, so the material's tallies equal the pass result's ``slot_counts``.

    Args:
        protocol: a :class:`~qproto.protocols.DecoyBB84`.
        channels: one Channel per slot (e.g. from ``link_pass_channels``).
        source_rate_hz: pulse rate [Hz], > 0; a slot sends ``round(source_rate_hz * slot_s)`` pulses.
        slot_s: slot duration [s], > 0.
        seed: the pass's root seed.
        engine: execution settings (``chunk_size`` = click block).
    """
    from qproto.protocols import DecoyBB84

    if not isinstance(protocol, DecoyBB84):
        raise InvalidType("protocol", protocol, "a qproto.protocols.DecoyBB84")
    if isinstance(channels, Channel) or not isinstance(channels, (list, tuple)) or not channels:
        raise InvalidType("channels", channels, "a non-empty sequence of qproto.Channel (one per slot)")
    for i, c in enumerate(channels):
        if not isinstance(c, Channel):
            raise InvalidType(f"channels[{i}]", c, "a qproto.Channel")
    from qproto._validation import check_positive

    rate = check_positive("source_rate_hz", source_rate_hz)
    slot = check_positive("slot_s", slot_s)
    pulses = int(round(rate * slot))
    if pulses < 1:
        raise InvalidParameter("source_rate_hz", source_rate_hz, f"at least one pulse per slot of {slot_s} s")
    root = root_seed(seed)
    engine = Engine() if engine is None else engine
    if not isinstance(engine, Engine):
        raise InvalidType("engine", engine, "a qproto.Engine")
    cache: dict[tuple, Any] = {}
    compiled = []
    for ch in channels:  # the circuits' noise depends only on the qubit noise and the rotation
        key = (ch.qubit_depolarisation, ch.rotation_rad, tuple(ch.rotation_axis))
        if key not in cache:
            cache[key] = engine.compile(protocol.build_circuits(), protocol.noise_model((ch,)))
        compiled.append(cache[key])
    chans = tuple(channels)
    if hasattr(protocol, "sample_slot_cells"):  # simulate_pass draws every slot from chunk generator 0
        sent, clicked, ones = protocol.sample_slot_cells(compiled, chans, pulses, chunk_generator(root, 0),
                                                         block=engine.chunk_size, aer_seed=chunk_aer_seed(root, 0))
        for i in range(len(chans)):
            yield _cells_to_chunk(i, pulses, sent[i], clicked[i], ones[i], root)
    else:  # older simulate_pass: slot i from chunk generator i
        for i, ch in enumerate(chans):
            yield _decoy_chunk(protocol, compiled[i], ch, pulses, root, i, engine.chunk_size)
