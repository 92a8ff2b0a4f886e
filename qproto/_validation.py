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
    "check_array_in_range",
    "check_array_positive",
    "check_array_non_negative",
    "scalar_or_array",
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
    interval = f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise InvalidType(name, value, f"a real number in {interval}")
    v = float(value)
    if not math.isfinite(v):
        raise InvalidParameter(name, value, "a finite real number",
                               f"{name}={value!r} is not finite; allowed: finite real numbers in {interval}")
    bad_lo = v <= lo if lo_open else v < lo
    bad_hi = v >= hi if hi_open else v > hi
    if bad_lo or bad_hi:
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
    lo = "-inf" if minimum is None else str(minimum)
    hi = "inf" if maximum is None else str(maximum)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise InvalidType(name, value, "an integer" if minimum is None and maximum is None
                          else f"an integer in [{lo}, {hi}]")
    v = int(value)
    if (minimum is not None and v < minimum) or (maximum is not None and v > maximum):
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


def check_array_in_range(name: str, value: Any, lo: float = -math.inf, hi: float = math.inf, *,
                         lo_open: bool = False, hi_open: bool = False, allow_nan: bool = False) -> np.ndarray:
    """Return ``value`` as a float ndarray after checking every element lies in the range.

    Args:
        name: the parameter's name, used in the error message.
        value: a real number or array-like of real numbers.
        lo, hi: the bounds; ``lo_open``/``hi_open`` make them strict.
        allow_nan: let NaN elements through unchecked (infinities never pass).

    Raises:
        InvalidType: not a real number or array of them (strings, bools, complex, objects).
        InvalidParameter: empty, or an element is NaN, infinite or outside the range.
    """
    if value is None or isinstance(value, (bool, np.bool_, str, bytes)):
        raise InvalidType(name, value, "a real number or an array of real numbers")
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged sequences and the like
        raise InvalidType(name, value, "a real number or an array of real numbers") from exc
    if raw.dtype.kind not in "iuf":
        raise InvalidType(name, value, "a real number or an array of real numbers")
    arr = raw.astype(float)
    if arr.size == 0:
        raise InvalidParameter(name, value, "a non-empty array", f"{name} is empty; expected at least one value")
    nan = np.isnan(arr) if allow_nan else np.zeros(arr.shape, dtype=bool)
    interval = f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
    if not np.all(np.isfinite(arr) | nan):
        bad = float(arr[~(np.isfinite(arr) | nan)].flat[0])
        raise InvalidParameter(name, value, "finite real numbers",
                               f"{name} contains {bad!r}, which is not finite; allowed: finite real numbers "
                               f"in {interval}")
    with np.errstate(invalid="ignore"):
        out_of_range = (arr <= lo if lo_open else arr < lo) | (arr >= hi if hi_open else arr > hi)
    out_of_range &= ~nan
    if np.any(out_of_range):
        first = float(arr[out_of_range].flat[0])
        shown = f"{name}={value!r}" if arr.ndim == 0 else f"{name} contains {first!r}, which"
        raise InvalidParameter(name, value, interval, f"{shown} is outside the allowed range {interval}")
    return arr


def check_array_positive(name: str, value: Any) -> np.ndarray:
    """Array version of :func:`check_positive` (every element > 0 and finite)."""
    return check_array_in_range(name, value, 0.0, math.inf, lo_open=True, hi_open=True)


def check_array_non_negative(name: str, value: Any) -> np.ndarray:
    """Array version of :func:`check_non_negative` (every element >= 0 and finite)."""
    return check_array_in_range(name, value, 0.0, math.inf, hi_open=True)


def scalar_or_array(x: np.ndarray) -> np.ndarray | float:
    """A Python float for 0-d results, the float array otherwise."""
    x = np.asarray(x, dtype=float)
    return float(x) if x.ndim == 0 else x
