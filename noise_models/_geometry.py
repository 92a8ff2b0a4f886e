"""Link geometry: slant ranges, circular-orbit passes and real passes from a TLE.

Conventions (docs/conventions.md §C.1):

* Angles at the public API are in **degrees** (``elevation_deg``, ``zenith_deg``,
  ``latitude_deg``); angular *rates* are in rad/s (``slew_rate_rad_s``).
* Altitudes and ranges are in metres above a spherical Earth of radius
  :data:`EARTH_RADIUS_M` (the TLE functions use WGS84 through skyfield).
* Earth rotation is ignored by the circular-orbit model.

This module also holds the private array-validation helpers shared by the other
``noise_models`` physics modules (``_as_array``, ``_check_array_in_range``, ``_out``).
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from qproto._errors import InvalidParameter, InvalidType
from qproto._validation import (
    check_array_in_range,
    check_array_non_negative,
    check_array_positive,
    check_in_range,
    check_non_negative,
    check_positive,
    scalar_or_array,
)

__all__ = [
    "EARTH_RADIUS_M",
    "GM_EARTH_M3_S2",
    "PassGeometry",
    "TlePass",
    "slant_range_m",
    "zenith_angle_deg",
    "elevation_from_zenith_deg",
    "haps_laps_slant_range_m",
    "orbital_period_s",
    "orbital_angular_rate_rad_s",
    "circular_pass",
    "pass_duration_s",
    "tle_pass_geometry",
    "find_tle_passes",
]

#: Mean Earth radius used by every spherical-Earth formula [m] (docs/conventions.md §C.1).
EARTH_RADIUS_M = 6_371_000.0
#: Earth's gravitational parameter GM [m^3 s^-2].
GM_EARTH_M3_S2 = 3.986004418e14


# --------------------------------------------------------------------------- helpers
# Shared by the other physics modules. A candidate for qproto/_validation.py.

# Array validation lives in qproto._validation; these private names stay for the other modules.
def _as_array(name: str, value: Any) -> np.ndarray:
    """Return ``value`` as a finite float array, raising qproto errors otherwise."""
    return check_array_in_range(name, value)


_check_array_in_range = check_array_in_range
_check_array_positive = check_array_positive
_check_array_non_negative = check_array_non_negative
_out = scalar_or_array


def _slant_range(elev_rad: np.ndarray, r_obs: float | np.ndarray, r_plat: float | np.ndarray):
    return np.sqrt(r_plat**2 - (r_obs * np.cos(elev_rad)) ** 2) - r_obs * np.sin(elev_rad)


def slant_range_m(*, elevation_deg: ArrayLike, platform_altitude_m: float,
                  observer_altitude_m: float = 0.0) -> np.ndarray | float:
    """Slant range between an observer and a higher platform, spherical Earth.

    ``d = sqrt(R_p^2 - R_o^2 cos^2 e) - R_o sin e`` with ``R = EARTH_RADIUS_M + altitude``
    (docs/conventions.md §C.1). Works for ground, LAPS, HAPS and satellite observers alike.

    Args:
        elevation_deg: elevation of the platform seen from the observer [deg], in [0, 90];
            scalar or array.
        platform_altitude_m: altitude of the upper platform [m], > ``observer_altitude_m``.
        observer_altitude_m: altitude of the lower end (observer) [m], >= 0.

    Returns:
        Slant range [m], same shape as ``elevation_deg`` (float for scalar input).

    Raises:
        InvalidParameter: elevation outside [0, 90] deg, negative observer altitude, or a
            platform not above the observer.

    Examples:
        >>> round(slant_range_m(elevation_deg=90.0, platform_altitude_m=500e3))
        500000
    """
    elev = _check_array_in_range("elevation_deg", elevation_deg, 0.0, 90.0)
    h_o = check_non_negative("observer_altitude_m", observer_altitude_m)
    h_p = check_in_range("platform_altitude_m", platform_altitude_m, h_o, math.inf,
                         lo_open=True, hi_open=True)
    return _out(_slant_range(np.radians(elev), EARTH_RADIUS_M + h_o, EARTH_RADIUS_M + h_p))


def zenith_angle_deg(elevation_deg: ArrayLike) -> np.ndarray | float:
    """Zenith angle ``90 - elevation`` [deg].

    Args:
        elevation_deg: elevation [deg] in [0, 90], scalar or array.

    Returns:
        Zenith angle [deg] in [0, 90].

    Raises:
        InvalidParameter: elevation outside [0, 90] deg.
    """
    elev = _check_array_in_range("elevation_deg", elevation_deg, 0.0, 90.0)
    return _out(90.0 - elev)


def elevation_from_zenith_deg(zenith_deg: ArrayLike) -> np.ndarray | float:
    """Elevation ``90 - zenith`` [deg].

    Args:
        zenith_deg: zenith angle [deg] in [0, 90], scalar or array.

    Returns:
        Elevation [deg] in [0, 90].

    Raises:
        InvalidParameter: zenith angle outside [0, 90] deg.
    """
    zen = _check_array_in_range("zenith_deg", zenith_deg, 0.0, 90.0)
    return _out(90.0 - zen)


def haps_laps_slant_range_m(*, zenith_deg: ArrayLike, haps_altitude_m: float,
                            laps_altitude_m: float) -> np.ndarray | float:
    """HAPS-to-LAPS slant range from the zenith angle seen at the (lower) LAPS.

    ``L = sqrt((R+h_H)^2 - (R+h_L)^2 sin^2 z) - (R+h_L) cos z`` (docs/conventions.md §C.1), which is
    :func:`slant_range_m` with elevation ``90 - z``. HAPS 20 km, LAPS 1 km, z = 40 deg
    gives 24.78 km.

    Args:
        zenith_deg: zenith angle of the HAPS seen from the LAPS [deg], in [0, 90].
        haps_altitude_m: HAPS altitude [m], > ``laps_altitude_m``.
        laps_altitude_m: LAPS altitude [m], >= 0.

    Returns:
        Slant range [m], same shape as ``zenith_deg``.

    Raises:
        InvalidParameter: zenith angle outside [0, 90] deg, negative LAPS altitude, or the
            HAPS not above the LAPS.
    """
    zen = _check_array_in_range("zenith_deg", zenith_deg, 0.0, 90.0)
    h_l = check_non_negative("laps_altitude_m", laps_altitude_m)
    h_h = check_in_range("haps_altitude_m", haps_altitude_m, h_l, math.inf,
                         lo_open=True, hi_open=True)
    return _out(_slant_range(np.radians(90.0 - zen), EARTH_RADIUS_M + h_l,
                             EARTH_RADIUS_M + h_h))


# --------------------------------------------------------------------------- circular orbit

def orbital_angular_rate_rad_s(altitude_m: float) -> float:
    """Angular rate ``omega = sqrt(GM / R_p^3)`` of a circular orbit [rad/s].

    Args:
        altitude_m: orbit altitude above the spherical Earth [m], > 0.

    Returns:
        Orbital angular rate [rad/s].

    Raises:
        InvalidParameter: altitude not > 0.
    """
    h = check_positive("altitude_m", altitude_m)
    return math.sqrt(GM_EARTH_M3_S2 / (EARTH_RADIUS_M + h) ** 3)


def orbital_period_s(altitude_m: float) -> float:
    """Period of a circular orbit ``2 pi / omega`` [s] (500 km: 94.5 min).

    Args:
        altitude_m: orbit altitude above the spherical Earth [m], > 0.

    Returns:
        Orbital period [s].

    Raises:
        InvalidParameter: altitude not > 0.
    """
    return 2.0 * math.pi / orbital_angular_rate_rad_s(altitude_m)


@dataclass(frozen=True, eq=False)
class PassGeometry:
    """Geometry of a pass sampled on a time grid (arrays of equal shape).

    Attributes:
        time_s: sample times [s]; from culmination for :func:`circular_pass`, from
            ``start_utc`` for :func:`tle_pass_geometry`.
        elevation_deg: elevation of the platform [deg]; negative below the horizon.
        zenith_deg: zenith angle ``90 - elevation_deg`` [deg] (> 90 below the horizon).
        range_m: slant range [m].
        slew_rate_rad_s: angular rate of the line of sight seen from the observer [rad/s]
            (the tracking slew rate used for the turbulence pseudo-wind).
    """

    time_s: np.ndarray
    elevation_deg: np.ndarray
    zenith_deg: np.ndarray
    range_m: np.ndarray
    slew_rate_rad_s: np.ndarray

    @property
    def visible(self) -> np.ndarray:
        """Boolean mask of samples with elevation >= 0."""
        return self.elevation_deg >= 0.0


def _gamma_at_elevation(elev_rad, r_obs, r_plat):
    """Earth-central angle between observer and platform seen at elevation ``elev_rad``."""
    return np.arccos(np.clip(r_obs * np.cos(elev_rad) / r_plat, -1.0, 1.0)) - elev_rad


def circular_pass(*, time_s: ArrayLike, platform_altitude_m: float,
                  max_elevation_deg: float = 90.0,
                  observer_altitude_m: float = 0.0) -> PassGeometry:
    """Elevation, zenith angle, range and slew rate of a circular-orbit pass.

    Earth rotation is ignored. The pass has peak elevation ``max_elevation_deg`` at
    ``time_s = 0`` (docs/conventions.md §C.1): ``gamma0 = arccos(R_o cos e_max / R_p) - e_max``,
    ``phi = omega t``, ``cos gamma = cos gamma0 cos phi``. The geometry is evaluated with
    3-D vectors, which reproduces the closed forms for elevation and range and gives the
    line-of-sight slew rate ``|d x v| / |d|^2`` (15.2 mrad/s overhead at 500 km).

    Args:
        time_s: times from culmination [s], scalar or array (any sign).
        platform_altitude_m: orbit altitude [m], > ``observer_altitude_m``.
        max_elevation_deg: peak elevation of the pass [deg], in [0, 90].
        observer_altitude_m: observer altitude [m], >= 0 (e.g. 20e3 for a HAPS).

    Returns:
        A :class:`PassGeometry` whose arrays have the shape of ``time_s`` (0-d arrays for
        scalar input). Elevations below 0 mean the platform is below the horizon.

    Raises:
        InvalidParameter: a parameter outside its range.
    """
    t = _as_array("time_s", time_s)
    h_o = check_non_negative("observer_altitude_m", observer_altitude_m)
    h_p = check_in_range("platform_altitude_m", platform_altitude_m, h_o, math.inf,
                         lo_open=True, hi_open=True)
    e_max = math.radians(check_in_range("max_elevation_deg", max_elevation_deg, 0.0, 90.0))
    r_o, r_p = EARTH_RADIUS_M + h_o, EARTH_RADIUS_M + h_p
    omega = math.sqrt(GM_EARTH_M3_S2 / r_p**3)
    gamma0 = float(_gamma_at_elevation(e_max, r_o, r_p))

    phi = omega * t
    # Orbit in the x-y plane; observer offset by gamma0 out of the plane.
    sat = np.stack([r_p * np.cos(phi), r_p * np.sin(phi), np.zeros_like(phi)], axis=-1)
    vel = np.stack([-r_p * omega * np.sin(phi), r_p * omega * np.cos(phi),
                    np.zeros_like(phi)], axis=-1)
    obs_hat = np.array([math.cos(gamma0), 0.0, math.sin(gamma0)])
    los = sat - r_o * obs_hat
    rng = np.linalg.norm(los, axis=-1)
    elev = np.degrees(np.arcsin(np.clip(los @ obs_hat / rng, -1.0, 1.0)))
    slew = np.linalg.norm(np.cross(los, vel), axis=-1) / rng**2
    return PassGeometry(time_s=t, elevation_deg=elev, zenith_deg=90.0 - elev,
                        range_m=rng, slew_rate_rad_s=slew)


def pass_duration_s(*, platform_altitude_m: float, min_elevation_deg: ArrayLike,
                    max_elevation_deg: ArrayLike = 90.0,
                    observer_altitude_m: float = 0.0) -> np.ndarray | float:
    """Time a circular-orbit pass spends above ``min_elevation_deg`` [s].

    ``duration = 2 arccos(cos gamma_max / cos gamma0) / omega`` (docs/conventions.md §C.1); 0 when
    the pass never rises above ``min_elevation_deg``. 500 km overhead: 443/296/207 s above
    10/20/30 deg.

    Args:
        platform_altitude_m: orbit altitude [m], > ``observer_altitude_m``.
        min_elevation_deg: elevation mask [deg], in [0, 90]; scalar or array.
        max_elevation_deg: peak elevation of the pass [deg], in [0, 90]; broadcast against
            ``min_elevation_deg``.
        observer_altitude_m: observer altitude [m], >= 0.

    Returns:
        Duration [s], broadcast shape of the elevation arguments.

    Raises:
        InvalidParameter: a parameter outside its range.
    """
    e_min = np.radians(_check_array_in_range("min_elevation_deg", min_elevation_deg, 0.0, 90.0))
    e_max = np.radians(_check_array_in_range("max_elevation_deg", max_elevation_deg, 0.0, 90.0))
    h_o = check_non_negative("observer_altitude_m", observer_altitude_m)
    h_p = check_in_range("platform_altitude_m", platform_altitude_m, h_o, math.inf,
                         lo_open=True, hi_open=True)
    r_o, r_p = EARTH_RADIUS_M + h_o, EARTH_RADIUS_M + h_p
    omega = math.sqrt(GM_EARTH_M3_S2 / r_p**3)
    gamma0 = _gamma_at_elevation(e_max, r_o, r_p)
    gamma_max = _gamma_at_elevation(e_min, r_o, r_p)
    ratio = np.clip(np.cos(gamma_max) / np.cos(gamma0), -1.0, 1.0)
    dur = np.where(e_max >= e_min, 2.0 * np.arccos(ratio) / omega, 0.0)
    return _out(dur)


# --------------------------------------------------------------------------- TLE (skyfield)

@dataclass(frozen=True)
class TlePass:
    """One complete pass above an elevation mask, found from a TLE.

    Attributes:
        rise_utc: time the platform rises above the mask (UTC, timezone-aware).
        culmination_utc: time of peak elevation (UTC).
        set_utc: time it sets below the mask (UTC).
        max_elevation_deg: peak elevation [deg].
        min_range_m: slant range at culmination [m].
    """

    rise_utc: _dt.datetime
    culmination_utc: _dt.datetime
    set_utc: _dt.datetime
    max_elevation_deg: float
    min_range_m: float

    @property
    def duration_s(self) -> float:
        """Time above the mask [s]."""
        return (self.set_utc - self.rise_utc).total_seconds()


def _skyfield_objects(tle_line1: str, tle_line2: str, latitude_deg: float,
                      longitude_deg: float, observer_altitude_m: float):
    try:
        from skyfield.api import EarthSatellite, load, wgs84
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("TLE passes need skyfield: pip install skyfield") from exc
    for name, line, first in (("tle_line1", tle_line1, "1"), ("tle_line2", tle_line2, "2")):
        if not isinstance(line, str):
            raise InvalidType(name, line, "a str holding one TLE line")
        if not line.startswith(first + " ") or len(line.rstrip()) < 69:
            raise InvalidParameter(name, line, f"a 69-character TLE line starting with '{first} '")
    lat = check_in_range("latitude_deg", latitude_deg, -90.0, 90.0)
    lon = check_in_range("longitude_deg", longitude_deg, -180.0, 360.0)
    alt = check_in_range("observer_altitude_m", observer_altitude_m, -500.0, 100e3)
    # builtin=True: leap-second and Delta-T tables shipped with skyfield, no download.
    ts = load.timescale(builtin=True)
    try:
        sat = EarthSatellite(tle_line1, tle_line2, "qproto", ts)
    except ValueError as exc:
        raise InvalidParameter("tle_line1", tle_line1, "a valid two-line element set",
                               f"tle_line1/tle_line2 do not parse as a TLE: {exc}") from exc
    topos = wgs84.latlon(lat, lon, elevation_m=alt)
    return ts, sat, topos


def _check_utc(name: str, value: Any) -> _dt.datetime:
    if not isinstance(value, _dt.datetime):
        raise InvalidType(name, value, "a timezone-aware datetime.datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidParameter(name, value, "a timezone-aware datetime (e.g. tzinfo=UTC)",
                               f"{name}={value!r} is naive; pass tzinfo=datetime.timezone.utc")
    return value.astimezone(_dt.timezone.utc)


def tle_pass_geometry(*, tle_line1: str, tle_line2: str, latitude_deg: float,
                      longitude_deg: float, observer_altitude_m: float,
                      start_utc: _dt.datetime, time_s: ArrayLike) -> PassGeometry:
    """Real pass geometry from a TLE (SGP4 via skyfield, WGS84 observer, Earth rotating).

    Works offline: skyfield's built-in timescale is used, no files are downloaded.
    Topocentric position and velocity give the elevation, range and line-of-sight slew
    rate ``|r x v| / |r|^2`` (velocity relative to the rotating observer).

    Args:
        tle_line1: first TLE line (69 characters, starts with ``"1 "``).
        tle_line2: second TLE line (starts with ``"2 "``).
        latitude_deg: observer geodetic latitude [deg], in [-90, 90].
        longitude_deg: observer longitude [deg], east positive, in [-180, 360].
        observer_altitude_m: observer height above the WGS84 ellipsoid [m], in [-500, 1e5].
        start_utc: timezone-aware reference time; ``time_s`` counts from it.
        time_s: sample times after ``start_utc`` [s], scalar or array.

    Returns:
        A :class:`PassGeometry` with ``time_s`` from ``start_utc``.

    Raises:
        InvalidParameter: malformed TLE, naive ``start_utc`` or an out-of-range observer.
        InvalidType: ``start_utc`` not a datetime, TLE lines not strings.
        ImportError: skyfield is not installed.
    """
    ts, sat, topos = _skyfield_objects(tle_line1, tle_line2, latitude_deg, longitude_deg,
                                       observer_altitude_m)
    start = _check_utc("start_utc", start_utc)
    t_arr = _as_array("time_s", time_s)
    flat = np.atleast_1d(t_arr).ravel()
    times = ts.from_datetime(start) + flat / 86400.0
    topo = (sat - topos).at(times)
    alt, _az, dist = topo.altaz()
    r = topo.position.m.T
    v = topo.velocity.m_per_s.T
    rng = np.linalg.norm(r, axis=-1)
    slew = np.linalg.norm(np.cross(r, v), axis=-1) / rng**2
    elev = np.asarray(alt.degrees, dtype=float)

    def shape(a):
        return np.asarray(a, dtype=float).reshape(t_arr.shape)

    return PassGeometry(time_s=t_arr, elevation_deg=shape(elev), zenith_deg=shape(90.0 - elev),
                        range_m=shape(dist.m), slew_rate_rad_s=shape(slew))


def find_tle_passes(*, tle_line1: str, tle_line2: str, latitude_deg: float,
                    longitude_deg: float, observer_altitude_m: float,
                    start_utc: _dt.datetime, duration_s: float,
                    min_elevation_deg: float = 10.0) -> list[TlePass]:
    """Complete passes above ``min_elevation_deg`` within a time window, from a TLE.

    Uses skyfield's ``find_events`` (offline, built-in timescale). Passes cut by the
    window edges are dropped.

    Args:
        tle_line1: first TLE line.
        tle_line2: second TLE line.
        latitude_deg: observer geodetic latitude [deg], in [-90, 90].
        longitude_deg: observer longitude [deg], in [-180, 360].
        observer_altitude_m: observer height above WGS84 [m], in [-500, 1e5].
        start_utc: timezone-aware start of the search window.
        duration_s: window length [s], > 0.
        min_elevation_deg: elevation mask [deg], in [0, 90].

    Returns:
        The passes in time order (possibly empty).

    Raises:
        InvalidParameter: a parameter outside its range.
        InvalidType: wrongly typed TLE lines or ``start_utc``.
        ImportError: skyfield is not installed.
    """
    ts, sat, topos = _skyfield_objects(tle_line1, tle_line2, latitude_deg, longitude_deg,
                                       observer_altitude_m)
    start = _check_utc("start_utc", start_utc)
    dur = check_positive("duration_s", duration_s)
    e_min = check_in_range("min_elevation_deg", min_elevation_deg, 0.0, 90.0)
    t0 = ts.from_datetime(start)
    t1 = t0 + dur / 86400.0
    times, events = sat.find_events(topos, t0, t1, altitude_degrees=e_min)
    passes: list[TlePass] = []
    rise = None
    culms: list = []
    for t, ev in zip(times, events):
        if ev == 0:
            rise, culms = t, []
        elif ev == 1 and rise is not None:
            culms.append(t)
        elif ev == 2 and rise is not None and culms:
            topo_c = [(sat - topos).at(c).altaz() for c in culms]
            best = int(np.argmax([a.degrees for a, _, _ in topo_c]))
            alt, _az, dist = topo_c[best]
            passes.append(TlePass(rise_utc=rise.utc_datetime(),
                                  culmination_utc=culms[best].utc_datetime(),
                                  set_utc=t.utc_datetime(),
                                  max_elevation_deg=float(alt.degrees),
                                  min_range_m=float(dist.m)))
            rise, culms = None, []
    return passes
