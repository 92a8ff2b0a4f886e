"""Validation helpers: each raises qproto's own error naming the parameter,
the value and the allowed range (see :mod:`qproto._errors`)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from qproto._errors import InvalidParameter, InvalidType

__all__ = [
    "check_real",
    "check_in_range",
    "check_probability",
    "check_positive",
    "check_non_negative",
    "check_int",
    "check_one_of",
    "check_bool",
]


def check_real(name: str, value: Any) -> float:
    """Return ``value`` as a finite ``float``.

    Raises:
        InvalidType: ``value`` is not a real number (bools are rejected too).
        InvalidParameter: ``value`` is NaN or infinite.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise InvalidType(name, value, "a real number")
    v = float(value)
    if not math.isfinite(v):
        raise InvalidParameter(name, value, "a finite real number",
                               f"{name}={value!r} is not finite; expected a finite real number")
    return v


def check_in_range(name: str, value: Any, lo: float, hi: float, *,
                   lo_open: bool = False, hi_open: bool = False) -> float:
    """Return ``value`` as a float after checking ``lo <= value <= hi``.

    Args:
        name: the parameter's name, used in the error message.
        value: the value to check.
        lo, hi: the bounds; ``lo_open``/``hi_open`` make them strict.

    Raises:
        InvalidType: not a real number.
        InvalidParameter: NaN, infinite or outside the range.
    """
    v = check_real(name, value)
    bad_lo = v <= lo if lo_open else v < lo
    bad_hi = v >= hi if hi_open else v > hi
    if bad_lo or bad_hi:
        interval = f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
        raise InvalidParameter(name, value, interval,
                               f"{name}={value!r} is outside the allowed range {interval}")
    return v


def check_probability(name: str, value: Any) -> float:
    """Return ``value`` after checking it lies in [0, 1]."""
    return check_in_range(name, value, 0.0, 1.0)


def check_positive(name: str, value: Any) -> float:
    """Return ``value`` after checking it is a finite real > 0."""
    return check_in_range(name, value, 0.0, math.inf, lo_open=True, hi_open=True)


def check_non_negative(name: str, value: Any) -> float:
    """Return ``value`` after checking it is a finite real >= 0."""
    return check_in_range(name, value, 0.0, math.inf, hi_open=True)


def check_int(name: str, value: Any, *, minimum: int | None = None,
              maximum: int | None = None) -> int:
    """Return ``value`` as ``int`` after checking its type and bounds.

    Raises:
        InvalidType: not an integer (bools and floats are rejected).
        InvalidParameter: below ``minimum`` or above ``maximum``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise InvalidType(name, value, "an integer")
    v = int(value)
    if (minimum is not None and v < minimum) or (maximum is not None and v > maximum):
        lo = "-inf" if minimum is None else str(minimum)
        hi = "inf" if maximum is None else str(maximum)
        raise InvalidParameter(name, value, f"integers in [{lo}, {hi}]",
                               f"{name}={value!r} is outside the allowed range [{lo}, {hi}]")
    return v


def check_one_of(name: str, value: Any, options: Iterable[Any]) -> Any:
    """Return ``value`` after checking it is one of ``options``."""
    opts = list(options)
    if value not in opts:
        raise InvalidParameter(name, value, f"one of {opts!r}",
                               f"{name}={value!r} is not one of {opts!r}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` after checking it is a bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidType(name, value, "a bool")
    return bool(value)
