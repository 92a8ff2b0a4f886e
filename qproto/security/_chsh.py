"""The CHSH value with docs/conventions.md A4's settings."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from qproto._errors import InvalidParameter, InvalidType

__all__ = ["CHSH_ALICE_ANGLES", "CHSH_BOB_ANGLES", "chsh_value", "TSIRELSON_BOUND"]

#: Alice's and Bob's measurement angles (rad, x-z plane: cos(t) Z + sin(t) X).
CHSH_ALICE_ANGLES = (0.0, math.pi / 2)
CHSH_BOB_ANGLES = (math.pi / 4, 3 * math.pi / 4)
#: |S| <= 2 sqrt(2) for every quantum state (Cirel'son 1980).
TSIRELSON_BOUND = 2.0 * math.sqrt(2.0)


def chsh_value(correlators: ArrayLike) -> float:
    """S = E00 - E01 + E10 + E11 from the four correlators E_xy = <A_x B_y>.

    Args:
        correlators: array-like of shape (2, 2) or (4,), ordered (a0b0, a0b1, a1b0, a1b1),
            with a_x = ``CHSH_ALICE_ANGLES[x]`` and b_y = ``CHSH_BOB_ANGLES[y]``; each in [-1, 1].

    Returns:
        S; equal to 2 sqrt(2) V for a Werner state of visibility V.

    Raises:
        InvalidParameter: not four correlators, or one outside [-1, 1] (NaN included).
        InvalidType: a value that is not a real number.
    """
    try:
        e = np.asarray(correlators, dtype=float)
    except (TypeError, ValueError):
        raise InvalidType("correlators", correlators, "four real correlators in [-1, 1]") from None
    if e.size != 4 or e.shape not in ((4,), (2, 2)):
        raise InvalidParameter("correlators", correlators, "four correlators, shape (4,) or (2, 2)")
    e = e.reshape(4)
    if not np.all((e >= -1.0) & (e <= 1.0)):
        raise InvalidParameter("correlators", correlators, "each correlator in [-1, 1]")
    return float(e[0] - e[1] + e[2] + e[3])
