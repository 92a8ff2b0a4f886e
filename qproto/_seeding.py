"""The seed contract.

Every qproto entry point takes ``seed``: ``None`` (fresh entropy), a non-negative
``int``, a :class:`numpy.random.SeedSequence` or a :class:`numpy.random.Generator`.
It is normalised once, by :func:`root_seed`, into a single non-negative integer
that is recorded in the result; passing that integer back replays the run.
Chunk ``i`` of a run draws from ``SeedSequence(root, spawn_key=(i,))``, so a run's
outcome depends only on the root seed, the chunk size and the library versions,
never on the executor or on the order in which chunks are computed.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np

from qproto._errors import InvalidParameter, InvalidType

__all__ = ["SeedLike", "root_seed", "chunk_generator", "chunk_aer_seed"]

SeedLike: TypeAlias = "int | np.random.SeedSequence | np.random.Generator | None"


def root_seed(seed: SeedLike) -> int:
    """Normalise a seed-like value to the non-negative integer recorded in results.

    Args:
        seed: ``None`` for fresh OS entropy; an ``int`` >= 0 (returned unchanged);
            a ``SeedSequence`` (its entropy when it has no spawn key, otherwise
            128 bits of its generated state); or a ``Generator``, from which
            63 bits are drawn (advancing it).

    Returns:
        An int that, passed back as ``seed``, reproduces the run.

    Raises:
        InvalidType: ``seed`` has another type (floats and bools included).
        InvalidParameter: ``seed`` is a negative int.
    """
    if seed is None:
        return int(np.random.SeedSequence().entropy)
    if isinstance(seed, (bool, np.bool_)):
        raise InvalidType("seed", seed, "None, a non-negative int, a SeedSequence or a Generator")
    if isinstance(seed, (int, np.integer)):
        if seed < 0:
            raise InvalidParameter("seed", seed, "integers >= 0",
                                   f"seed={seed!r} is negative; expected an integer >= 0")
        return int(seed)
    if isinstance(seed, np.random.SeedSequence):
        if not seed.spawn_key and isinstance(seed.entropy, int):
            return int(seed.entropy)
        words = seed.generate_state(4, dtype=np.uint32)
        return int(sum(int(w) << (32 * i) for i, w in enumerate(words)))
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**63, dtype=np.int64))
    raise InvalidType("seed", seed, "None, a non-negative int, a SeedSequence or a Generator")


def chunk_generator(root: int, chunk: int) -> np.random.Generator:
    """The numpy Generator for chunk number ``chunk`` of the run seeded by ``root``."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(root, spawn_key=(chunk,))))


def chunk_aer_seed(root: int, chunk: int) -> int:
    """A ``seed_simulator`` for Aer, derived from chunk ``chunk`` of ``root`` (31 bits)."""
    ss = np.random.SeedSequence(root, spawn_key=(chunk, 1))
    return int(ss.generate_state(1, dtype=np.uint32)[0] >> 1)
