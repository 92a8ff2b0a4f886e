"""Pieces shared by the QKD protocols: per-round records, sifting and tallies."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from qproto._attacks import Eavesdropper
from qproto._channel import Channel
from qproto._protocol import Protocol
from qproto._results import QKDCounts, QKDResult

__all__ = ["QKDRounds", "QKDProtocol", "random_bits", "Z", "X"]

Z, X = 0, 1  # measurement-setting codes for the two BB84 bases


@dataclasses.dataclass(frozen=True, eq=False)
class QKDRounds:
    """Per-round record of a QKD run (all arrays have one entry per round).

    Attributes:
        alice_setting: uint8; 0 = Z, 1 = X (for CHSH rounds: 0 = angle 0, 1 = pi/2).
        alice_bit: uint8, Alice's bit (prepared, or measured for entanglement).
        bob_setting: uint8; 0 = Z, 1 = X; 2, 3 = CHSH angles pi/4, 3pi/4.
        bob_bit: uint8, Bob's measured bit (random on noise-only clicks).
        detected: bool, whether the round clicked (coincidence for pairs).
        eve_branch: uint8, the eavesdropper's branch (0 = not attacked).
        eve_bit: uint8, the eavesdropper's record (meaningless where eve_branch == 0).
    """

    alice_setting: np.ndarray
    alice_bit: np.ndarray
    bob_setting: np.ndarray
    bob_bit: np.ndarray
    detected: np.ndarray
    eve_branch: np.ndarray
    eve_bit: np.ndarray

    def __len__(self) -> int:
        return int(self.alice_bit.shape[0])

    def sifted_keys(self, basis: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Alice's and Bob's sifted keys (rounds detected with equal key bases), optionally one basis."""
        mask = self.detected & (self.bob_setting < 2) & (self.alice_setting == self.bob_setting)
        if basis is not None:
            mask &= self.alice_setting == basis
        return self.alice_bit[mask], self.bob_bit[mask]


def random_bits(rng: np.random.Generator, n: int, p_one: float = 0.5) -> np.ndarray:
    """``n`` independent bits (uint8) equal to 1 with probability ``p_one``."""
    if p_one == 0.5:
        return rng.integers(0, 2, size=n, dtype=np.uint8)
    if p_one <= 0.0:
        return np.zeros(n, dtype=np.uint8)
    if p_one >= 1.0:
        return np.ones(n, dtype=np.uint8)
    return (rng.random(n) < p_one).view(np.uint8)


def sample_arrivals(channel: Channel, n: int, rng: np.random.Generator) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Closed-form click sampling for one channel use per round.

    Returns ``(signal, noise_only)`` boolean arrays, or ``None`` for "all True" /
    "all False" so that lossless channels cost nothing.
    """
    eta = channel.total_transmittance
    signal = None if eta >= 1.0 else rng.random(n) < eta
    if signal is None or channel.noise_click == 0.0:
        return signal, None
    return signal, ~signal & (rng.random(n) < channel.noise_click)


def analyse_rounds(r: QKDRounds) -> QKDCounts:
    """Sift and tally a record (pure): see :class:`QKDCounts` for the fields."""
    n = len(r)
    err = r.alice_bit != r.bob_bit
    key = r.bob_setting < 2
    det_key = r.detected & key
    same = r.alice_setting == r.bob_setting
    sift = det_key & same
    z = sift & (r.alice_setting == Z)
    x = sift & (r.alice_setting == X)
    mism = det_key & ~same
    attacked = sift & (r.eve_branch > 0)
    chsh = r.detected & ~key
    chsh_n, chsh_sum = [], []
    if chsh.any():
        idx = r.alice_setting.astype(np.int64) * 2 + (r.bob_setting.astype(np.int64) - 2)
        for k in range(4):
            m = chsh & (idx == k)
            nk = int(np.count_nonzero(m))
            chsh_n.append(nk)
            chsh_sum.append(nk - 2 * int(np.count_nonzero(m & err)))
    else:
        chsh_n, chsh_sum = [0] * 4, [0] * 4
    return QKDCounts(
        rounds=n,
        detected=int(np.count_nonzero(r.detected)),
        sifted_z=int(np.count_nonzero(z)),
        sifted_x=int(np.count_nonzero(x)),
        errors_z=int(np.count_nonzero(z & err)),
        errors_x=int(np.count_nonzero(x & err)),
        mismatched=int(np.count_nonzero(mism)),
        mismatched_agree=int(np.count_nonzero(mism & ~err)),
        eve_sifted=int(np.count_nonzero(attacked)),
        eve_correct=int(np.count_nonzero(attacked & (r.eve_bit == r.alice_bit))),
        chsh_n=tuple(chsh_n),
        chsh_sum=tuple(chsh_sum),
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
                 eavesdropper: Eavesdropper | None = None) -> dict[str, Any]:
        """Closed-form expectations (PHYSICS.md) for the estimates of a run; see subclasses."""
        raise NotImplementedError
