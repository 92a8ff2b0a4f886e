"""Binary entropy and related information-theoretic helpers."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["binary_entropy"]


def binary_entropy(p: ArrayLike) -> np.ndarray | float:
    """Binary entropy h(p) = -p log2 p - (1-p) log2(1-p), in bits.

    Args:
        p: probability or array of probabilities (any real numbers: Python, numpy or
            ``fractions.Fraction``); h(0) = h(1) = 0, and a value outside [0, 1] gives 0
            as if clipped to the nearer end.

    Returns:
        h(p) with the shape of ``p`` (a Python float for scalar input).
    """
    x = np.asarray(p, dtype=float)
    # log2 of 0 or of a value outside [0, 1] is -inf or NaN; those entries are replaced by 0 below.
    with np.errstate(divide="ignore", invalid="ignore"):
        out = -(x * np.log2(x) + (1.0 - x) * np.log2(1.0 - x))
    out = np.where((x <= 0.0) | (x >= 1.0), 0.0, out)
    return float(out) if out.ndim == 0 else out
