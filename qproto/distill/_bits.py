"""Packed bit strings: numpy ``packbits`` (big-endian within each byte) plus an explicit length."""

from __future__ import annotations

import numpy as np

from qproto._errors import InvalidParameter, InvalidType

__all__ = ["pack", "unpack", "as_bits"]


def pack(bits: np.ndarray) -> np.ndarray:
    """Pack a 0/1 array into bytes (``np.packbits``, 8 bits per byte, the last byte zero-padded)."""
    return np.packbits(np.asarray(bits, dtype=np.uint8))


def unpack(packed: np.ndarray, n_bits: int) -> np.ndarray:
    """The first ``n_bits`` bits of ``packed`` as a uint8 0/1 array."""
    return np.unpackbits(np.asarray(packed, dtype=np.uint8), count=int(n_bits))


def as_bits(name: str, value: object) -> np.ndarray:
    """``value`` as a 1-D uint8 array of 0/1 bits, or InvalidParameter/InvalidType naming ``name``."""
    try:
        arr = np.asarray(value)
    except Exception:  # pragma: no cover - numpy accepts almost anything
        raise InvalidType(name, value, "a 1-D array of bits") from None
    if arr.ndim != 1:
        raise InvalidParameter(name, f"array of shape {arr.shape}", "a 1-D array of bits")
    if arr.dtype == bool:
        return arr.view(np.uint8)
    if not np.issubdtype(arr.dtype, np.integer):
        raise InvalidType(name, value, "a 1-D integer or bool array of bits")
    if arr.size and (arr.min() < 0 or arr.max() > 1):
        raise InvalidParameter(name, f"values in [{arr.min()}, {arr.max()}]", "bits 0 and 1 only")
    return arr.astype(np.uint8, copy=False)
