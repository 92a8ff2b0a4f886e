"""Repeaterless upper bounds on the secret-key capacity of a pure-loss channel.

Both bounds are in bits per channel use (per pulse or per emitted pair) and take
the end-to-end transmittance ``eta`` (channel x receiver optics x detector, see
docs/conventions.md §0 and §A13), or the same loss in dB through ``loss_db``.

* PLOB (Pirandola, Laurenza, Ottaviani, Banchi 2017, Nat. Commun. 8 15043):
  K(eta) = -log2(1 - eta), about 1.44 eta for small eta.
* TGW (Takeoka, Guha, Wilde 2014, Nat. Commun. 5 5235):
  log2((1 + eta) / (1 - eta)), about 2.89 eta: looser than PLOB.

This module also holds the small array-validation helpers that the other
security modules (``_decoy``, ``_finite_key``) share.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from qproto._errors import InvalidParameter
from qproto._validation import check_array_in_range, scalar_or_array

__all__ = ["plob_bound", "tgw_bound", "transmittance_from_db", "db_from_transmittance"]

_LN2 = math.log(2.0)


# ---------------------------------------------------------------------------
# Array validation shared by the security modules (private).
# ---------------------------------------------------------------------------

# Array validation lives in qproto._validation; these private names stay for _decoy and _finite_key.
_real_array = check_array_in_range
_out = scalar_or_array


def eta_from(eta: ArrayLike | None, loss_db: ArrayLike | None) -> np.ndarray:
    """Validate that exactly one of ``eta`` / ``loss_db`` is given; return eta."""
    if (eta is None) == (loss_db is None):
        raise InvalidParameter(
            "eta", eta, "exactly one of eta (transmittance) or loss_db (dB)",
            f"give exactly one of eta or loss_db (got eta={eta!r}, loss_db={loss_db!r})")
    if eta is not None:
        return _real_array("eta", eta, 0.0, 1.0)
    db = _real_array("loss_db", loss_db, 0.0, math.inf)
    return 10.0 ** (-db / 10.0)


# ---------------------------------------------------------------------------
# Public functions.
# ---------------------------------------------------------------------------

def transmittance_from_db(loss_db: ArrayLike) -> np.ndarray | float:
    """Convert a loss in dB to a transmittance, eta = 10^(-L_dB / 10).

    Args:
        loss_db: loss in dB, >= 0 (scalar or array).

    Returns:
        Transmittance eta in [0, 1] (dimensionless), shaped like ``loss_db``.

    Raises:
        InvalidParameter: ``loss_db`` negative, NaN or infinite.
    """
    return _out(10.0 ** (-_real_array("loss_db", loss_db, 0.0, math.inf) / 10.0))


def db_from_transmittance(eta: ArrayLike) -> np.ndarray | float:
    """Convert a transmittance to a loss in dB, L_dB = -10 log10(eta).

    Args:
        eta: transmittance in (0, 1] (dimensionless; scalar or array).

    Returns:
        Loss in dB (>= 0), shaped like ``eta``.

    Raises:
        InvalidParameter: ``eta`` outside (0, 1].
    """
    # + 0.0 turns the -0.0 of eta = 1 into 0.0
    return _out(-10.0 * np.log10(_real_array("eta", eta, 0.0, 1.0, lo_open=True)) + 0.0)


def plob_bound(eta: ArrayLike | None = None, *, loss_db: ArrayLike | None = None
               ) -> np.ndarray | float:
    """PLOB repeaterless bound K = -log2(1 - eta), in bits per channel use.

    Pirandola, Laurenza, Ottaviani, Banchi 2017 (Nat. Commun. 8 15043). Give the
    loss either as ``eta`` or as ``loss_db``, not both.

    Args:
        eta: end-to-end transmittance in [0, 1] (dimensionless; scalar or array).
        loss_db: the same loss in dB (>= 0), as an alternative to ``eta``.

    Returns:
        The bound in bits per channel use, shaped like the input (``inf`` at
        eta = 1).

    Raises:
        InvalidParameter: both or neither of ``eta``/``loss_db`` given, or a value
            out of range.

    Examples:
        >>> round(plob_bound(0.1), 4)
        0.152
        >>> round(plob_bound(loss_db=30.0), 7)
        0.0014434
    """
    e = eta_from(eta, loss_db)
    with np.errstate(divide="ignore"):
        # log1p keeps full relative precision at the small eta of long links.
        return _out(-np.log1p(-e) / _LN2)


def tgw_bound(eta: ArrayLike | None = None, *, loss_db: ArrayLike | None = None
              ) -> np.ndarray | float:
    """TGW bound log2((1 + eta) / (1 - eta)), in bits per channel use.

    Takeoka, Guha, Wilde 2014 (Nat. Commun. 5 5235), the squashed-entanglement
    bound for the pure-loss channel; always >= :func:`plob_bound`.

    Args:
        eta: end-to-end transmittance in [0, 1] (dimensionless; scalar or array).
        loss_db: the same loss in dB (>= 0), as an alternative to ``eta``.

    Returns:
        The bound in bits per channel use, shaped like the input (``inf`` at
        eta = 1).

    Raises:
        InvalidParameter: both or neither of ``eta``/``loss_db`` given, or a value
            out of range.

    Examples:
        >>> round(tgw_bound(0.1), 4)
        0.2895
    """
    e = eta_from(eta, loss_db)
    with np.errstate(divide="ignore"):
        return _out((np.log1p(e) - np.log1p(-e)) / _LN2)
