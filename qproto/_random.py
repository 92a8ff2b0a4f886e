"""Fast, exact-at-the-ends random draws shared by the engine and the protocols.

Uniforms are 31-bit integers taken from the generator's raw 64-bit output (two
per raw word), so a probability ``p`` becomes the integer threshold
``round(p * 2^31)``: probabilities 0 and 1 stay exact, others are rounded to a
multiple of 2^-31 (below 5e-10).
"""

from __future__ import annotations

import numpy as np

__all__ = ["ONE", "uniform31", "threshold31", "bernoulli", "random_bits"]

#: 2^31: the threshold of probability 1.
ONE = 1 << 31


def uniform31(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` independent uniform integers on [0, 2^31) (uint32)."""
    raw = rng.bit_generator.random_raw((n + 1) // 2)
    u = raw.view(np.uint32)[:n]
    u >>= np.uint32(1)
    return u


def threshold31(p: float | np.ndarray) -> np.ndarray:
    """Thresholds ``round(p * 2^31)`` (uint32) so that ``uniform31(...) < threshold31(p)`` has probability p."""
    return np.rint(np.clip(np.asarray(p, dtype=float), 0.0, 1.0) * float(ONE)).astype(np.uint32)


def bernoulli(rng: np.random.Generator, n: int, p: float) -> np.ndarray:
    """``n`` independent booleans, True with probability ``p`` (exact for 0 and 1)."""
    if p <= 0.0:
        return np.zeros(n, dtype=bool)
    if p >= 1.0:
        return np.ones(n, dtype=bool)
    return uniform31(rng, n) < threshold31(p)


def random_bits(rng: np.random.Generator, n: int, p_one: float = 0.5) -> np.ndarray:
    """``n`` independent bits (uint8) equal to 1 with probability ``p_one``."""
    if p_one == 0.5:
        return np.frombuffer(rng.bytes(n), dtype=np.uint8) & np.uint8(1)
    return bernoulli(rng, n, p_one).view(np.uint8)
