"""Atmospheric extinction, Beer-Lambert (docs/conventions.md §C.4).

Conventions:

* Wavelengths are passed in **metres** (``wavelength_m``) like everywhere else in
  ``noise_models``; the shipped table ``data/zenith_transmittance.csv`` is indexed by
  nanometres and a wavelength must match a table row to within 0.5 nm (no interpolation:
  810-825 nm sits on a water-vapour band, so interpolating between rows is not safe).
* Zenith angles are in degrees (``zenith_deg``), altitudes in metres.

Table (sea level to space, clear sky): 785 nm 0.876, 800 nm 0.860, 810 nm 0.814,
850 nm 0.895 (MODTRAN, from the public SatQuMA code [V]); 1550 nm 0.93 is a *typical*
value (docs/conventions.md gives 0.9-0.97 [U]) and is flagged ``U`` in the table.
"""

from __future__ import annotations

import csv
import functools
import io
import math
from importlib import resources
from types import MappingProxyType
from typing import Literal, Mapping

import numpy as np
from numpy.typing import ArrayLike

from qproto._errors import InvalidParameter
from qproto._validation import check_one_of, check_positive

from qproto._validation import check_array_in_range as _check_array_in_range, check_array_non_negative as _check_array_non_negative, scalar_or_array as _out

__all__ = [
    "EXTINCTION_FREE_ALTITUDE_M",
    "DEFAULT_AEROSOL_SCALE_HEIGHT_M",
    "AirmassModel",
    "zenith_transmittance_table",
    "zenith_transmittance_status",
    "zenith_transmittance",
    "airmass",
    "atmospheric_transmittance",
    "transmittance_between_altitudes",
]

#: Above this altitude the path is taken as extinction-free, T = 1 [m] (docs/conventions.md §C.4).
EXTINCTION_FREE_ALTITUDE_M = 20_000.0
#: Default extinction scale height [m]; aerosol-dominated H_s ~ 1-2 km [U].
DEFAULT_AEROSOL_SCALE_HEIGHT_M = 1_500.0
#: Tolerance when matching a wavelength to a table row [nm].
_WAVELENGTH_MATCH_NM = 0.5

AirmassModel = Literal["plane_parallel", "kasten_young"]
_AIRMASS_MODELS = ("plane_parallel", "kasten_young")


@functools.lru_cache(maxsize=1)
def _load_table() -> tuple[tuple[float, float, str], ...]:
    text = resources.files(__package__).joinpath("data/zenith_transmittance.csv").read_text(
        encoding="utf-8")
    rows = csv.DictReader(io.StringIO("".join(
        line for line in text.splitlines(keepends=True) if not line.startswith("#"))))
    return tuple((float(r["wavelength_nm"]), float(r["zenith_transmittance"]), r["status"])
                 for r in rows)


def zenith_transmittance_table() -> Mapping[float, float]:
    """The shipped zenith-transmittance table, ``{wavelength_nm: T_zen}`` (read-only).

    Returns:
        Mapping from wavelength [nm] to sea-level-to-space zenith transmittance.
    """
    return MappingProxyType({nm: t for nm, t, _ in _load_table()})


def zenith_transmittance_status() -> Mapping[float, str]:
    """Provenance flag of each table row, ``{wavelength_nm: "V" | "U"}`` (read-only).

    ``V``: checked against the SatQuMA MODTRAN table; ``U``: typical value, unverified.

    Returns:
        Mapping from wavelength [nm] to status flag.
    """
    return MappingProxyType({nm: s for nm, _, s in _load_table()})


def zenith_transmittance(wavelength_m: float) -> float:
    """Sea-level-to-space zenith transmittance at a tabulated wavelength.

    Args:
        wavelength_m: wavelength [m]; must be within 0.5 nm of a table row
            (785, 800, 810, 850, 1550 nm).

    Returns:
        T_zen in (0, 1].

    Raises:
        InvalidParameter: wavelength not in the table (the message lists the rows).
    """
    lam = check_positive("wavelength_m", wavelength_m)
    table = _load_table()
    nm = lam * 1e9
    for row_nm, t, _status in table:
        if abs(row_nm - nm) <= _WAVELENGTH_MATCH_NM:
            return t
    allowed = ", ".join(f"{r:g}e-9" for r, _, _ in table)
    raise InvalidParameter(
        "wavelength_m", wavelength_m, f"one of {allowed} (m)",
        f"wavelength_m={wavelength_m!r} ({nm:g} nm) is not in the zenith-transmittance "
        f"table; allowed: {allowed} m (add a row to data/zenith_transmittance.csv)")


def airmass(zenith_deg: ArrayLike, *, model: AirmassModel = "plane_parallel") -> np.ndarray | float:
    """Relative air mass along a slant path.

    ``plane_parallel``: ``sec z`` (adequate to z ~ 60-70 deg; z must be < 90).
    ``kasten_young``: ``1 / [cos z + 0.50572 (96.07995 - z_deg)^-1.6364]``
    (Kasten & Young 1989, Appl. Opt. 28 4735), finite up to z = 90 deg; held at its value at
    z* ~ 0.016 deg for z < z* (the fit dips by ~1e-8 there), so it never decreases with z.

    Args:
        zenith_deg: zenith angle [deg], in [0, 90] (``[0, 90)`` for plane-parallel).
        model: ``"plane_parallel"`` or ``"kasten_young"``.

    Returns:
        Air mass (1 at zenith), shape of ``zenith_deg``.

    Raises:
        InvalidParameter: zenith angle out of range or unknown model.
    """
    check_one_of("model", model, _AIRMASS_MODELS)
    if model == "plane_parallel":
        z = _check_array_in_range("zenith_deg", zenith_deg, 0.0, 90.0, hi_open=True)
        return _out(1.0 / np.cos(np.radians(z)))
    z = _check_array_in_range("zenith_deg", zenith_deg, 0.0, 90.0)
    # The fit's denominator peaks at z* ~ 0.016 deg, not at 0: its air mass dips ~1e-8 below the
    # zenith value there. Holding it at z* on [0, z*] keeps it non-decreasing (invariant 2).
    z = np.maximum(z, _kasten_young_peak_deg())
    return _out(1.0 / (np.cos(np.radians(z)) + 0.50572 * (96.07995 - z) ** -1.6364))


@functools.cache
def _kasten_young_peak_deg() -> float:
    """Zenith angle [deg] where Kasten-Young's denominator cos z + 0.50572 (96.07995 - z)^-1.6364
    is largest (its derivative vanishes): about 0.016 deg."""
    from scipy.optimize import brentq

    def slope(z: float) -> float:
        return -math.sin(math.radians(z)) * math.pi / 180.0 + 0.50572 * 1.6364 * (96.07995 - z) ** -2.6364

    return float(brentq(slope, 0.0, 1.0, xtol=1e-15))


def atmospheric_transmittance(*, wavelength_m: float, zenith_deg: ArrayLike,
                              airmass_model: AirmassModel = "plane_parallel") -> np.ndarray | float:
    """Ground-to-space (or space-to-ground) extinction ``T_zen ** airmass``.

    810 nm with the plane-parallel law: 0.814 at zenith, 0.725 at 40 deg elevation.

    Args:
        wavelength_m: wavelength [m], a row of the shipped table.
        zenith_deg: zenith angle at the ground end [deg].
        airmass_model: ``"plane_parallel"`` or ``"kasten_young"``.

    Returns:
        eta_atm in (0, 1], shape of ``zenith_deg``.

    Raises:
        InvalidParameter: wavelength not tabulated, zenith out of range, unknown model.
    """
    t_zen = zenith_transmittance(wavelength_m)
    return _out(t_zen ** np.asarray(airmass(zenith_deg, model=airmass_model)))


def transmittance_between_altitudes(*, wavelength_m: float, zenith_deg: ArrayLike,
                                    lower_altitude_m: ArrayLike, upper_altitude_m: ArrayLike,
                                    scale_height_m: float = DEFAULT_AEROSOL_SCALE_HEIGHT_M,
                                    airmass_model: AirmassModel = "plane_parallel",
                                    ) -> np.ndarray | float:
    """Extinction between two altitudes with an exponential extinction profile.

    ``beta(h) = beta0 exp(-h / H_s)`` gives
    ``T = T_zen ** (AM(z) * (exp(-h1/H_s) - exp(-h2/H_s)))`` with T_zen the ground-to-space
    value (docs/conventions.md §C.4). Paths whose lower end is at or above
    :data:`EXTINCTION_FREE_ALTITUDE_M` (20 km) get T = 1 exactly (LEO-HAPS links).

    Args:
        wavelength_m: wavelength [m], a row of the shipped table.
        zenith_deg: zenith angle seen from the lower end [deg].
        lower_altitude_m: lower end altitude ``h1`` [m], >= 0.
        upper_altitude_m: upper end altitude ``h2`` [m], >= ``lower_altitude_m``.
        scale_height_m: extinction scale height ``H_s`` [m], > 0 (default 1.5 km; an
            assumption [U], aerosol-dominated 1-2 km).
        airmass_model: ``"plane_parallel"`` or ``"kasten_young"``.

    Returns:
        Transmittance in (0, 1], broadcast shape of the array arguments.

    Raises:
        InvalidParameter: wavelength not tabulated, negative altitudes, upper below lower,
            non-positive scale height, zenith out of range.
    """
    t_zen = zenith_transmittance(wavelength_m)
    h1 = _check_array_non_negative("lower_altitude_m", lower_altitude_m)
    h2 = _check_array_non_negative("upper_altitude_m", upper_altitude_m)
    if np.any(h2 < h1):
        raise InvalidParameter("upper_altitude_m", upper_altitude_m, ">= lower_altitude_m",
                               f"upper_altitude_m={upper_altitude_m!r} is below "
                               f"lower_altitude_m={lower_altitude_m!r}")
    hs = check_positive("scale_height_m", scale_height_m)
    am = np.asarray(airmass(zenith_deg, model=airmass_model))
    frac = np.exp(-h1 / hs) - np.exp(-h2 / hs)
    t = t_zen ** (am * frac)
    return _out(np.where(h1 >= EXTINCTION_FREE_ALTITUDE_M, 1.0, t))
