"""Pieces shared by the QKD protocols: per-round records, sifting and tallies.

A chunk's record keeps, per round, the configuration id (which circuit ran:
settings, Alice's prepared bit, the attack branch), the outcome code the circuit
produced (with noise-only clicks randomised) and whether the round clicked.
Everything else (bases, bits, Eve's record) is decoded from those two integers
by the protocol's ``decode``. Tallies come from one histogram over
(configuration, outcome, detected), so analysing a chunk is a single pass.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from qproto._attacks import Eavesdropper
from qproto._channel import Channel
from qproto._declarative import DeclarativeProtocol, sample_arrivals
from qproto._engine import CompiledConfigurations
from qproto._protocol import Protocol
from qproto._random import bernoulli, random_bits
from qproto._results import QKDCounts, QKDResult

__all__ = ["QKDRounds", "QKDProtocol", "DeclarativeQKD", "random_bits", "bernoulli", "sample_arrivals",
           "analyse_rounds", "Z", "X"]

Z, X = 0, 1  # measurement-setting codes for the two BB84 bases

#: decode(config, outcome) -> (alice_setting, alice_bit, bob_setting, bob_bit, eve_branch, eve_bit)
Decoder = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, ...]]


@dataclasses.dataclass(frozen=True, eq=False)
class QKDRounds:
    """Per-round record of a QKD chunk.

    Attributes:
        config: configuration id of each round (index of the circuit that ran).
        outcome: outcome code of each round (bit k = clbit k); noise-only clicks
            carry a random bit; meaningless where the round did not click.
        detected: whether each round clicked (a coincidence for pairs), or
            ``None`` when every round did.
        n_configs: number of configuration ids.
        n_outcomes: number of outcome codes (2**clbits).
        decode: the protocol's decoder of (config, outcome) into bases and bits.

    The decoded per-round arrays are available as attributes: ``alice_setting``
    (0 = Z, 1 = X; CHSH rounds: 0 = angle 0, 1 = pi/2), ``alice_bit``,
    ``bob_setting`` (0 = Z, 1 = X; 2, 3 = CHSH angles pi/4, 3pi/4), ``bob_bit``,
    ``eve_branch`` (0 = not attacked) and ``eve_bit``.
    """

    config: np.ndarray
    outcome: np.ndarray
    detected: np.ndarray | None
    n_configs: int
    n_outcomes: int
    decode: Decoder

    def __len__(self) -> int:
        return int(self.config.shape[0])

    @functools.cached_property
    def _fields(self) -> tuple[np.ndarray, ...]:
        return tuple(np.asarray(f, dtype=np.uint8) for f in self.decode(self.config, self.outcome))

    alice_setting = property(lambda self: self._fields[0], doc="uint8 per round: Alice's setting.")
    alice_bit = property(lambda self: self._fields[1], doc="uint8 per round: Alice's bit.")
    bob_setting = property(lambda self: self._fields[2], doc="uint8 per round: Bob's setting.")
    bob_bit = property(lambda self: self._fields[3], doc="uint8 per round: Bob's bit.")
    eve_branch = property(lambda self: self._fields[4], doc="uint8 per round: the attack branch.")
    eve_bit = property(lambda self: self._fields[5], doc="uint8 per round: Eve's record.")

    @property
    def detected_mask(self) -> np.ndarray:
        """Boolean per round: whether it clicked."""
        return np.ones(len(self), dtype=bool) if self.detected is None else self.detected

    def sifted_keys(self, basis: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Alice's and Bob's sifted keys (detected key rounds with equal bases), optionally of one basis."""
        mask = self.detected_mask & (self.bob_setting < 2) & (self.alice_setting == self.bob_setting)
        if basis is not None:
            mask &= self.alice_setting == basis
        return self.alice_bit[mask], self.bob_bit[mask]


def analyse_rounds(r: QKDRounds) -> QKDCounts:
    """Sift and tally a record (pure) with one histogram over (config, outcome, detected)."""
    cells = r.n_configs * r.n_outcomes * 2
    dtype = np.uint8 if cells <= 256 else np.uint16 if cells <= 65536 else np.int64
    key = r.config.astype(dtype, copy=False) * dtype(r.n_outcomes)
    key += r.outcome.astype(dtype, copy=False)
    if r.detected is None:
        hist = np.bincount(key, minlength=cells // 2)
        n_det = len(r)
    else:
        key *= dtype(2)
        key += r.detected.view(np.uint8)
        hist = np.bincount(key, minlength=cells)[1::2]
        n_det = int(hist.sum())
    grid = np.arange(cells // 2)
    a_set, a_bit, b_set, b_bit, branch, e_bit = (np.asarray(f) for f in r.decode(grid // r.n_outcomes,
                                                                                   grid % r.n_outcomes))
    err = a_bit != b_bit
    key_round = b_set < 2
    same = a_set == b_set
    sift = key_round & same
    z, x = sift & (a_set == Z), sift & (a_set == X)
    mism = key_round & ~same
    attacked = sift & (branch > 0)

    def tot(mask: np.ndarray) -> int:
        return int(hist[mask].sum())

    chsh_n, chsh_sum = [0] * 4, [0] * 4
    chsh = ~key_round
    if chsh.any():
        idx = a_set.astype(np.int64) * 2 + (b_set.astype(np.int64) - 2)
        for k in range(4):
            m = chsh & (idx == k)
            chsh_n[k] = tot(m)
            chsh_sum[k] = chsh_n[k] - 2 * tot(m & err)
    return QKDCounts(
        rounds=len(r), detected=n_det,
        sifted_z=tot(z), sifted_x=tot(x), errors_z=tot(z & err), errors_x=tot(x & err),
        mismatched=tot(mism), mismatched_agree=tot(mism & ~err),
        eve_sifted=tot(attacked), eve_correct=tot(attacked & (e_bit == a_bit)),
        chsh_n=tuple(chsh_n), chsh_sum=tuple(chsh_sum),
    )


class QKDProtocol(Protocol):
    """Base of QKD protocols whose rounds are recorded as :class:`QKDRounds`."""

    def analyse(self, record: QKDRounds) -> QKDCounts:
        return analyse_rounds(record)

    def make_result(self, tallies: QKDCounts, *, channels: tuple[Channel, ...], rounds: int, seed: int,
                    eavesdropper: Eavesdropper | None) -> QKDResult:
        return QKDResult(protocol=self.name, parameters=self.parameters(), channels=channels, rounds=rounds,
                         seed=seed, eavesdropper=None if eavesdropper is None else eavesdropper.to_dict(),
                         counts=tallies)

    def expected(self, channel: Channel | tuple[Channel, ...], *,
                 eavesdropper: Eavesdropper | str | None = None) -> dict[str, Any]:
        """Closed-form expectations (docs/conventions.md) for the estimates of a run; see subclasses."""
        raise NotImplementedError


class DeclarativeQKD(QKDProtocol, DeclarativeProtocol):
    """A declarative protocol (:class:`qproto.DeclarativeProtocol`) whose rounds are QKD rounds.

    Besides the declarative parts, a subclass says how each round reads as a QKD round with
    :meth:`key_fields`: Alice's setting (0 = Z, 1 = X; CHSH rounds: 0 or 1), her bit, Bob's
    setting (0 = Z, 1 = X; 2, 3 = CHSH angles) and his bit. The record is a
    :class:`QKDRounds`, the tallies :class:`~qproto.QKDCounts` and the result a
    :class:`~qproto.QKDResult` (QBER per basis, Shor-Preskill key rate, CHSH value).
    """

    @staticmethod
    def key_fields(choices: dict[str, np.ndarray], bit: Callable[[int], np.ndarray]
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(alice_setting, alice_bit, bob_setting, bob_bit) from the choices and ``bit(qubit)``."""
        raise NotImplementedError

    @classmethod
    def _decoder(cls, eve: int | None) -> Decoder:
        """The :class:`QKDRounds` decoder of (configuration, outcome) for eavesdropper clbit ``eve``."""
        sizes = dict(cls.CHOICES)
        per_branch = 1
        for s in sizes.values():
            per_branch *= s

        def decode(cfg: np.ndarray, outcome: np.ndarray) -> tuple[np.ndarray, ...]:
            branch, rest = np.divmod(cfg, per_branch)
            values = {}
            for name, size in reversed(list(sizes.items())):
                rest, values[name] = np.divmod(rest, size)

            def bit(q: int) -> np.ndarray:
                return (outcome >> q) & 1

            eve_bit = bit(eve) if eve is not None else np.zeros_like(outcome)
            return (*cls.key_fields({k: values[k] for k in sizes}, bit), branch, eve_bit)
        return decode

    def _record(self, cfg: np.ndarray, outcome: np.ndarray, detected: np.ndarray | None,
                compiled: CompiledConfigurations, eve: int | None) -> QKDRounds:
        return QKDRounds(config=cfg, outcome=outcome, detected=detected, n_configs=len(compiled.circuits),
                         n_outcomes=compiled.n_outcomes, decode=self._decoder(eve))
