"""Network nodes (ground stations, LAPS, HAPS, satellites) and their positions over time.

Every position is Earth-centred, Earth-fixed (ECEF) Cartesian [m] on the spherical Earth of
docs/conventions.md §C.1 (radius :data:`~qproto.noise_models.EARTH_RADIUS_M`), for all time steps at
once: :func:`node_positions` returns an array of shape ``(n_nodes, n_steps, 3)``.

* Ground stations and HAPS are fixed (HAPS quasi-stationary at ~20 km).
* LAPS are fixed or fly a piecewise-linear trajectory of waypoints (time, latitude,
  longitude, altitude), and exist only inside their flight window.
* Walker-delta satellites are circular Keplerian orbits propagated with numpy, vectorised
  over satellites and times (Earth rotation included, J2 and drag ignored). Synthetic
  elements do not need SGP4: a circular two-body orbit *is* what a Walker description
  states, and building fake TLEs only to feed SGP4 would add its near-Earth perturbations
  to elements that never had them.
* TLE satellites are propagated with SGP4 via skyfield (offline timescale), vectorised over
  times; their ITRS positions are used as ECEF.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from typing import Any, ClassVar

import numpy as np

from qproto._errors import InvalidParameter, InvalidType
from qproto._validation import (
    check_bool,
    check_in_range,
    check_int,
    check_positive,
)
from qproto.noise_models import EARTH_RADIUS_M, GM_EARTH_M3_S2

__all__ = [
    "GroundStation", "LAPS", "HAPS", "Satellite", "WalkerConstellation", "LAYERS", "node_positions",
    "geodetic_to_ecef", "EARTH_ROTATION_RAD_S", "sun_direction_ecef",
]

#: Layers from bottom to top.
LAYERS = ("ground", "laps", "haps", "sat")
#: Sidereal rotation rate of the Earth [rad/s].
EARTH_ROTATION_RAD_S = 7.2921159e-5


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidType("name", value, "a non-empty str")
    return value


def geodetic_to_ecef(latitude_deg: Any, longitude_deg: Any, altitude_m: Any) -> np.ndarray:
    """ECEF position [m] of a point on the spherical Earth, shape ``broadcast + (3,)``.

    Args:
        latitude_deg: latitude [deg], in [-90, 90].
        longitude_deg: longitude [deg], east positive.
        altitude_m: altitude above the sphere [m].
    """
    lat = np.radians(np.asarray(latitude_deg, dtype=float))
    lon = np.radians(np.asarray(longitude_deg, dtype=float))
    r = EARTH_RADIUS_M + np.asarray(altitude_m, dtype=float)
    return np.stack(np.broadcast_arrays(r * np.cos(lat) * np.cos(lon), r * np.cos(lat) * np.sin(lon),
                                        r * np.sin(lat)), axis=-1)


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Fixed:
    name: str
    latitude_deg: float
    longitude_deg: float
    altitude_m: float
    min_elevation_deg: float = 0.0
    cloud_probability: float = 0.0
    cloud_mean_duration_s: float = 3600.0
    trusted: bool = True
    pair_source: bool = False
    mdi_relay: bool = False
    rx_aperture_m: float | None = None
    detector: Any = None

    layer: ClassVar[str] = "ground"
    max_altitude_m: ClassVar[float] = 100e3

    def __post_init__(self) -> None:
        put = lambda n, v: object.__setattr__(self, n, v)  # noqa: E731
        _name(self.name)
        put("latitude_deg", check_in_range("latitude_deg", self.latitude_deg, -90.0, 90.0))
        put("longitude_deg", check_in_range("longitude_deg", self.longitude_deg, -180.0, 360.0))
        put("altitude_m", check_in_range("altitude_m", self.altitude_m, 0.0, self.max_altitude_m))
        put("min_elevation_deg", check_in_range("min_elevation_deg", self.min_elevation_deg, -90.0, 90.0))
        put("cloud_probability", check_in_range("cloud_probability", self.cloud_probability, 0.0, 1.0,
                                                hi_open=True))
        put("cloud_mean_duration_s", check_positive("cloud_mean_duration_s", self.cloud_mean_duration_s))
        for flag in ("trusted", "pair_source", "mdi_relay"):
            put(flag, check_bool(flag, getattr(self, flag)))
        if self.rx_aperture_m is not None:
            put("rx_aperture_m", check_positive("rx_aperture_m", self.rx_aperture_m))
        if self.detector is not None:
            from qproto.noise_models import DETECTOR_PRESETS, Detector, get_detector
            if isinstance(self.detector, str):
                if self.detector not in DETECTOR_PRESETS:
                    raise InvalidParameter("detector", self.detector, f"one of {sorted(DETECTOR_PRESETS)}, "
                                           "a Detector, or None")
                det = get_detector(self.detector)
            else:
                det = self.detector
            if not isinstance(det, Detector):
                raise InvalidType("detector", self.detector, "a qproto.noise_models.Detector, a preset name or None")
            put("detector", det)


@dataclasses.dataclass(frozen=True, kw_only=True)
class GroundStation(_Fixed):
    """A ground station (fixed).

    Attributes:
        name: unique node name.
        latitude_deg, longitude_deg: position [deg].
        altitude_m: altitude [m], in [0, 10 km] (default 0).
        min_elevation_deg: elevation mask for links to higher nodes [deg] (default 10).
        cloud_probability: long-run fraction of time the site is under cloud, in [0, 1).
        cloud_mean_duration_s: mean length of a cloudy spell [s], > 0.
        trusted: the station may act as a trusted relay.
        pair_source, mdi_relay: the station hosts an entangled-pair source / an MDI Bell
            measurement (default False).
        rx_aperture_m: receiver aperture [m] overriding the link table's, or None.
        detector: receiving detector (a ``qproto.noise_models.Detector`` or preset name such as
            ``"si_spad"``) overriding the link table's, or None.
    """

    altitude_m: float = 0.0
    min_elevation_deg: float = 10.0
    layer: ClassVar[str] = "ground"
    max_altitude_m: ClassVar[float] = 10e3


@dataclasses.dataclass(frozen=True, kw_only=True)
class HAPS(_Fixed):
    """A high-altitude platform, quasi-stationary (default 20 km, no cloud above it).

    Attributes: as :class:`GroundStation`; ``altitude_m`` in [10, 50] km, ``pair_source`` and
    ``mdi_relay`` default True, ``min_elevation_deg`` default -90 (a HAPS looks down and
    sideways; the link table's lowest ray altitude limits its links instead).
    """

    altitude_m: float = 20e3
    min_elevation_deg: float = -90.0
    pair_source: bool = True
    mdi_relay: bool = True
    layer: ClassVar[str] = "haps"
    max_altitude_m: ClassVar[float] = 50e3

    def __post_init__(self) -> None:
        super().__post_init__()
        check_in_range("altitude_m", self.altitude_m, 10e3, 50e3)


@dataclasses.dataclass(frozen=True, kw_only=True)
class LAPS(_Fixed):
    """A low-altitude platform (drone): fixed or on waypoints, inside a flight window.

    Attributes: as :class:`GroundStation` (``altitude_m`` in [0, 10] km, default 1 km;
    ``min_elevation_deg`` default 0), plus:
        waypoints: ``((time_s, latitude_deg, longitude_deg, altitude_m), ...)`` with increasing
            times; the position is interpolated linearly (held before the first and after the
            last). Empty: fixed at (latitude, longitude, altitude).
        flight_window_s: ``(start_s, end_s)``: the drone is airborne (has links) only then;
            None: always.
    """

    altitude_m: float = 1e3
    waypoints: tuple[tuple[float, float, float, float], ...] = ()
    flight_window_s: tuple[float, float] | None = None
    layer: ClassVar[str] = "laps"
    max_altitude_m: ClassVar[float] = 10e3

    def __post_init__(self) -> None:
        super().__post_init__()
        wps = tuple(tuple(float(x) for x in w) for w in self.waypoints)
        if any(len(w) != 4 for w in wps):
            raise InvalidParameter("waypoints", self.waypoints,
                                   "(time_s, latitude_deg, longitude_deg, altitude_m) rows")
        for w in wps:
            check_in_range("waypoints latitude_deg", w[1], -90.0, 90.0)
            check_in_range("waypoints altitude_m", w[3], 0.0, 10e3)
        if any(b[0] <= a[0] for a, b in zip(wps, wps[1:])):
            raise InvalidParameter("waypoints", self.waypoints, "strictly increasing times")
        object.__setattr__(self, "waypoints", wps)
        if self.flight_window_s is not None:
            lo, hi = (float(x) for x in self.flight_window_s)
            if not hi > lo:
                raise InvalidParameter("flight_window_s", self.flight_window_s, "(start_s, end_s) with end > start")
            object.__setattr__(self, "flight_window_s", (lo, hi))


@dataclasses.dataclass(frozen=True, kw_only=True)
class _SatelliteNode:
    """What every satellite node shares: its roles (trusted relay, pair source, MDI relay, all
    True by default) and the class facts of the space layer (no elevation mask, no clouds, the
    link table's terminals)."""

    trusted: bool = True
    pair_source: bool = True
    mdi_relay: bool = True
    layer: ClassVar[str] = "sat"
    min_elevation_deg: ClassVar[float] = -90.0
    cloud_probability: ClassVar[float] = 0.0
    cloud_mean_duration_s: ClassVar[float] = 1.0
    rx_aperture_m: ClassVar[None] = None
    detector: ClassVar[None] = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Satellite(_SatelliteNode):
    """A satellite from a TLE (SGP4 via skyfield).

    Attributes:
        name: unique node name.
        tle_line1, tle_line2: the two TLE lines.
        trusted, pair_source, mdi_relay: roles (default True).
    """

    name: str
    tle_line1: str
    tle_line2: str

    def __post_init__(self) -> None:
        _name(self.name)
        for n, first in (("tle_line1", "1"), ("tle_line2", "2")):
            line = getattr(self, n)
            if not isinstance(line, str) or not line.startswith(first + " ") or len(line.rstrip()) < 69:
                raise InvalidParameter(n, line, f"a 69-character TLE line starting with '{first} '")


@dataclasses.dataclass(frozen=True, kw_only=True)
class WalkerSatellite(_SatelliteNode):
    """One satellite of a :class:`WalkerConstellation` (circular orbit)."""

    name: str
    altitude_m: float
    inclination_deg: float
    raan_deg: float
    mean_anomaly_deg: float


@dataclasses.dataclass(frozen=True, kw_only=True)
class WalkerConstellation:
    """A Walker-delta constellation i: T/P/F of circular orbits.

    Attributes:
        name: prefix of the satellites' names (``f"{name}-{plane}-{index}"``).
        planes: number of orbital planes P, >= 1.
        sats_per_plane: satellites per plane, >= 1 (T = P x sats_per_plane).
        phasing: Walker phasing F, in [0, P - 1].
        altitude_m: orbit altitude [m], in [150, 40000] km.
        inclination_deg: inclination [deg], in [0, 180].
        raan_offset_deg: right ascension of the first plane at t = 0 [deg] (Earth-fixed
            longitude of its ascending node at t = 0).
        raan_spread_deg: spread of the ascending nodes [deg], 360 for Walker delta, 180 for star.
        trusted, pair_source, mdi_relay: roles of every satellite.
    """

    name: str = "walker"
    planes: int
    sats_per_plane: int
    phasing: int = 0
    altitude_m: float = 535e3
    inclination_deg: float = 53.0
    raan_offset_deg: float = 0.0
    raan_spread_deg: float = 360.0
    trusted: bool = True
    pair_source: bool = True
    mdi_relay: bool = True

    def __post_init__(self) -> None:
        put = lambda n, v: object.__setattr__(self, n, v)  # noqa: E731
        _name(self.name)
        put("planes", check_int("planes", self.planes, minimum=1, maximum=1000))
        put("sats_per_plane", check_int("sats_per_plane", self.sats_per_plane, minimum=1, maximum=1000))
        put("phasing", check_int("phasing", self.phasing, minimum=0, maximum=max(self.planes - 1, 0)))
        put("altitude_m", check_in_range("altitude_m", self.altitude_m, 150e3, 40_000e3))
        put("inclination_deg", check_in_range("inclination_deg", self.inclination_deg, 0.0, 180.0))
        put("raan_offset_deg", check_in_range("raan_offset_deg", self.raan_offset_deg, -360.0, 360.0))
        put("raan_spread_deg", check_in_range("raan_spread_deg", self.raan_spread_deg, 0.0, 360.0, lo_open=True))

    def satellites(self) -> list[WalkerSatellite]:
        """The constellation's satellites, plane by plane."""
        total = self.planes * self.sats_per_plane
        out = []
        for p in range(self.planes):
            for s in range(self.sats_per_plane):
                out.append(WalkerSatellite(
                    name=f"{self.name}-{p}-{s}", altitude_m=self.altitude_m, inclination_deg=self.inclination_deg,
                    raan_deg=self.raan_offset_deg + self.raan_spread_deg * p / self.planes,
                    mean_anomaly_deg=360.0 * s / self.sats_per_plane + 360.0 * self.phasing * p / total,
                    trusted=self.trusted, pair_source=self.pair_source, mdi_relay=self.mdi_relay))
        return out


def _walker_positions(sats: list[WalkerSatellite], t: np.ndarray) -> np.ndarray:
    """ECEF positions (n_sats, n_steps, 3) of circular orbits, vectorised."""
    r = EARTH_RADIUS_M + np.array([s.altitude_m for s in sats])[:, None]
    n = np.sqrt(GM_EARTH_M3_S2 / r**3)
    inc = np.radians([s.inclination_deg for s in sats])[:, None]
    # Ascending node fixed in inertial space; the Earth turns under it.
    raan = np.radians([s.raan_deg for s in sats])[:, None] - EARTH_ROTATION_RAD_S * t[None, :]
    u = np.radians([s.mean_anomaly_deg for s in sats])[:, None] + n * t[None, :]
    cu, su, co, so, ci, si = np.cos(u), np.sin(u), np.cos(raan), np.sin(raan), np.cos(inc), np.sin(inc)
    return np.stack([r * (cu * co - su * ci * so), r * (cu * so + su * ci * co), r * su * si * np.ones_like(co)],
                    axis=-1)


def _tle_positions(sats: list[Satellite], t: np.ndarray, epoch: _dt.datetime) -> np.ndarray:
    from skyfield.api import EarthSatellite, load
    from skyfield.framelib import itrs

    ts = load.timescale(builtin=True)
    times = ts.from_datetime(epoch) + t / 86400.0
    out = np.empty((len(sats), t.size, 3))
    for k, s in enumerate(sats):  # vectorised over times; TLE sets are small
        try:
            sat = EarthSatellite(s.tle_line1, s.tle_line2, s.name, ts)
        except ValueError as exc:
            raise InvalidParameter("tle_line1", s.tle_line1, "a valid two-line element set", str(exc)) from exc
        out[k] = sat.at(times).frame_xyz(itrs).m.T
    return out


def node_positions(nodes: list[Any], times_s: np.ndarray, *,
                   epoch: _dt.datetime | None = None) -> tuple[np.ndarray, np.ndarray]:
    """ECEF positions and availability of every node at every time step.

    Args:
        nodes: node objects (:class:`GroundStation`, :class:`LAPS`, :class:`HAPS`,
            :class:`Satellite`, :class:`WalkerSatellite`).
        times_s: times since ``epoch`` [s], 1-D.
        epoch: timezone-aware UTC start (needed for TLE satellites only).

    Returns:
        ``(positions, available)``: positions [m] of shape ``(n_nodes, n_steps, 3)`` and a
        bool array ``(n_nodes, n_steps)`` (False outside a LAPS flight window).

    Raises:
        InvalidParameter: TLE satellites without an epoch, or a bad TLE.
    """
    t = np.asarray(times_s, dtype=float)
    pos = np.empty((len(nodes), t.size, 3))
    avail = np.ones((len(nodes), t.size), dtype=bool)
    walker = [i for i, n in enumerate(nodes) if isinstance(n, WalkerSatellite)]
    tle = [i for i, n in enumerate(nodes) if isinstance(n, Satellite)]
    if walker:
        pos[walker] = _walker_positions([nodes[i] for i in walker], t)
    if tle:
        if epoch is None or not isinstance(epoch, _dt.datetime) or epoch.tzinfo is None:
            raise InvalidParameter("epoch", epoch, "a timezone-aware datetime (TLE satellites need one)")
        pos[tle] = _tle_positions([nodes[i] for i in tle], t, epoch.astimezone(_dt.timezone.utc))
    for i, n in enumerate(nodes):
        if isinstance(n, (WalkerSatellite, Satellite)):
            continue
        if isinstance(n, LAPS) and n.waypoints:
            w = np.array(n.waypoints)
            lat, lon, alt = (np.interp(t, w[:, 0], w[:, k]) for k in (1, 2, 3))
            pos[i] = geodetic_to_ecef(lat, lon, alt)
        else:
            pos[i] = geodetic_to_ecef(n.latitude_deg, n.longitude_deg, n.altitude_m)[None, :]
        if isinstance(n, LAPS) and n.flight_window_s is not None:
            avail[i] = (t >= n.flight_window_s[0]) & (t <= n.flight_window_s[1])
    return pos, avail


def sample_clouds(nodes: list[Any], n_steps: int, step_s: float, rng: np.random.Generator) -> np.ndarray:
    """Cloud cover per node and step as a two-state Markov chain (bool, shape (n_nodes, n_steps)).

    A site with long-run cloudy fraction p and mean cloudy spell tau leaves a cloudy state
    with probability b = min(1, dt/tau) per step and enters it with a = min(1, b p/(1 - p))
    (stationary fraction a/(a + b) = p when a < 1); the first step is drawn from the
    stationary law. Spells are drawn as geometric lengths (vectorised, same law as stepping
    the chain). Nodes with p = 0 are never cloudy. Independent between sites (site diversity).
    """
    out = np.zeros((len(nodes), n_steps), dtype=bool)
    for i, n in enumerate(nodes):
        p = float(getattr(n, "cloud_probability", 0.0))
        if p <= 0.0:
            continue
        b = min(1.0, step_s / float(n.cloud_mean_duration_s))
        a = min(1.0, b * p / (1.0 - p))
        cloudy = bool(rng.random() < p)
        row = out[i]
        pos = 0
        while pos < n_steps:
            k = 64 + int(2 * (n_steps - pos) * a * b / (a + b))
            lengths = np.empty(2 * k, dtype=np.int64)
            first, second = (b, a) if cloudy else (a, b)
            lengths[0::2] = rng.geometric(first, size=k)
            lengths[1::2] = rng.geometric(second, size=k)
            edges = pos + np.concatenate([[0], np.cumsum(lengths)])
            for j in range(0 if cloudy else 1, 2 * k, 2):  # the cloudy spells of this batch
                lo, hi = edges[j], edges[j + 1]
                if lo >= n_steps:
                    break
                row[lo:min(hi, n_steps)] = True
            pos = int(edges[-1])
    return out


def sun_direction_ecef(epoch: _dt.datetime, times_s: np.ndarray) -> np.ndarray:
    """Unit vector to the Sun in Earth-fixed coordinates at each time, shape (n, 3).

    The low-precision solar coordinates of the Astronomical Almanac (about 0.01 deg, 1950-2050):
    mean longitude L = 280.460 + 0.9856474 n, anomaly g = 357.528 + 0.9856003 n, ecliptic longitude
    L + 1.915 sin g + 0.020 sin 2g, obliquity 23.439 - 4e-7 n (n days from J2000), turned into
    Earth-fixed axes with the Greenwich mean sidereal angle 280.46061837 + 360.98564736629 n.

    Args:
        epoch: timezone-aware UTC datetime of ``times_s = 0``.
        times_s: seconds after ``epoch``.
    """
    if not isinstance(epoch, _dt.datetime) or epoch.tzinfo is None:
        raise InvalidParameter("epoch", epoch, "a timezone-aware datetime")
    j2000 = _dt.datetime(2000, 1, 1, 12, tzinfo=_dt.timezone.utc)
    n = (epoch - j2000).total_seconds() / 86400.0 + np.asarray(times_s, dtype=float) / 86400.0
    L = np.radians(280.460 + 0.9856474 * n)
    g = np.radians(357.528 + 0.9856003 * n)
    lam = L + np.radians(1.915) * np.sin(g) + np.radians(0.020) * np.sin(2 * g)
    eps = np.radians(23.439 - 4e-7 * n)
    ra = np.arctan2(np.cos(eps) * np.sin(lam), np.cos(lam))
    dec = np.arcsin(np.sin(eps) * np.sin(lam))
    gmst = np.radians(280.46061837 + 360.98564736629 * n)
    h = ra - gmst
    return np.stack([np.cos(dec) * np.cos(h), np.cos(dec) * np.sin(h), np.sin(dec)], axis=-1)
