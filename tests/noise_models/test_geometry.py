"""Tests of qproto.noise_models._geometry (docs/conventions.md §C.1, invariant 3)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qproto._errors import InvalidParameter, InvalidType
from qproto.noise_models import _geometry as geo

FAST = settings(max_examples=40, deadline=None)
KM = 1e3


# --------------------------------------------------------------------------- C.1 anchors

def test_period_500km_anchor():
    """C.1: a 500 km circular orbit has a 94.5 min period."""
    assert geo.orbital_period_s(500 * KM) / 60 == pytest.approx(94.5, abs=0.05)


def test_overhead_pass_durations_500km_anchor():
    """C.1: 500 km overhead pass above 10/20/30 deg lasts 443/296/207 s."""
    dur = geo.pass_duration_s(platform_altitude_m=500 * KM, min_elevation_deg=[10, 20, 30])
    np.testing.assert_allclose(dur, [443, 296, 207], atol=0.5)


def test_overhead_pass_535km_anchor():
    """C.1: 535 km overhead pass, t = 0..200 s from zenith: elevations and ranges.

    The t = 100 s elevation computes to 33.047 deg (range 904.5 km, matching the table's
    905 km); docs/conventions.md prints 33.1, an apparent double rounding (33.047 -> 33.05 -> 33.1),
    so that entry gets 0.06 deg instead of half a unit of the last digit.
    """
    p = geo.circular_pass(time_s=[0, 50, 100, 150, 200], platform_altitude_m=535 * KM)
    expected = np.array([90, 54.1, 33.1, 21.3, 13.7])
    assert np.all(np.abs(p.elevation_deg - expected) <= [0.05, 0.05, 0.06, 0.05, 0.05])
    np.testing.assert_allclose(p.range_m / KM, [535, 648, 905, 1217, 1552], atol=0.5)
    np.testing.assert_allclose(p.zenith_deg, 90 - p.elevation_deg)


@pytest.mark.parametrize(("platform_km", "observer_km", "expected_km"), [
    (500, 0, [1695, 1193, 909, 683, 500]),
    (535, 0, [1779, 1264, 968, 729, 535]),
    (535, 20, [1733, 1224, 935, 703, 515]),
])
def test_slant_range_table_anchor(platform_km, observer_km, expected_km):
    """C.1: slant ranges at 10/20/30/45/90 deg (ground and 20 km HAPS observers)."""
    d = geo.slant_range_m(elevation_deg=[10, 20, 30, 45, 90], platform_altitude_m=platform_km * KM,
                          observer_altitude_m=observer_km * KM)
    np.testing.assert_allclose(d / KM, expected_km, atol=0.5)


@pytest.mark.parametrize(("laps_km", "expected_km"), [(1.0, 24.78), (0.5, 25.43), (1.5, 24.13)])
def test_haps_laps_range_anchor(laps_km, expected_km):
    """C.1: HAPS 20 km, zenith 40 deg at the LAPS: 24.78 / 25.43 / 24.13 km."""
    d = geo.haps_laps_slant_range_m(zenith_deg=40.0, haps_altitude_m=20 * KM,
                                    laps_altitude_m=laps_km * KM)
    assert d / KM == pytest.approx(expected_km, abs=0.005)
    # (h_H - h_L)/cos z is the flat-Earth approximation docs/conventions.md quotes.
    assert d == pytest.approx((20 - laps_km) * KM / math.cos(math.radians(40)), rel=2e-3)


def test_slew_rate_overhead_500km():
    """C.5 uses omega_s ~ v_sat / h ~ 15.2 mrad/s overhead at 500 km."""
    p = geo.circular_pass(time_s=0.0, platform_altitude_m=500 * KM)
    v = math.sqrt(geo.GM_EARTH_M3_S2 / (geo.EARTH_RADIUS_M + 500 * KM))
    assert float(p.slew_rate_rad_s) == pytest.approx(v / (500 * KM), rel=1e-9)
    assert float(p.slew_rate_rad_s) == pytest.approx(15.2e-3, abs=0.05e-3)


# --------------------------------------------------------------------------- invariant 3

altitudes = st.floats(min_value=1e3, max_value=40_000e3)
elevations = st.floats(min_value=0.0, max_value=90.0)


@FAST
@given(h=altitudes, h_obs=st.floats(min_value=0.0, max_value=30e3))
def test_invariant3_zenith_range_equals_altitude_difference(h, h_obs):
    """Invariant 3: slant range at 90 deg elevation is the altitude difference."""
    if h <= h_obs:
        h = h_obs + 1e3
    d = geo.slant_range_m(elevation_deg=90.0, platform_altitude_m=h, observer_altitude_m=h_obs)
    assert d == pytest.approx(h - h_obs, rel=1e-9)


@FAST
@given(h=altitudes, e1=elevations, e2=elevations, h_obs=st.sampled_from([0.0, 1e3, 20e3]))
def test_invariant3_range_decreasing_in_elevation_and_at_least_altitude(h, e1, e2, h_obs):
    """Invariant 3: d decreasing in elevation and d >= h (altitude difference)."""
    h = max(h, h_obs + 1e3)
    lo, hi = sorted((e1, e2))
    d_lo, d_hi = geo.slant_range_m(elevation_deg=[lo, hi], platform_altitude_m=h,
                                   observer_altitude_m=h_obs)
    assert d_lo >= d_hi * (1 - 1e-12)
    if hi - lo > 1e-6:
        assert d_lo > d_hi
    assert d_hi >= (h - h_obs) * (1 - 1e-12)


@FAST
@given(h=st.floats(min_value=200e3, max_value=2000e3), e_max=st.floats(min_value=1.0, max_value=90.0),
       t=st.floats(min_value=-600.0, max_value=600.0))
def test_circular_pass_matches_closed_forms(h, e_max, t):
    """C.1 closed forms: cos g = cos g0 cos(w t), tan e = (cos g - R_o/R_p)/sin g, d(g)."""
    p = geo.circular_pass(time_s=t, platform_altitude_m=h, max_elevation_deg=e_max)
    r_o, r_p = geo.EARTH_RADIUS_M, geo.EARTH_RADIUS_M + h
    w = math.sqrt(geo.GM_EARTH_M3_S2 / r_p**3)
    em = math.radians(e_max)
    g0 = math.acos(r_o * math.cos(em) / r_p) - em
    g = math.acos(math.cos(g0) * math.cos(w * t))
    d = math.sqrt(r_o**2 + r_p**2 - 2 * r_o * r_p * math.cos(g))
    assert float(p.range_m) == pytest.approx(d, rel=1e-9)
    if g > 1e-9:
        elev = math.degrees(math.atan2(math.cos(g) - r_o / r_p, math.sin(g)))
        assert float(p.elevation_deg) == pytest.approx(elev, abs=1e-7)
    # The range at an elevation agrees with the slant-range formula when above the horizon.
    if float(p.elevation_deg) >= 0:
        assert float(p.range_m) == pytest.approx(
            geo.slant_range_m(elevation_deg=float(p.elevation_deg), platform_altitude_m=h), rel=1e-7)


@FAST
@given(h=st.floats(min_value=300e3, max_value=1500e3), e_max=st.floats(min_value=5.0, max_value=90.0),
       e_min=st.floats(min_value=0.0, max_value=60.0), h_obs=st.sampled_from([0.0, 20e3]))
def test_pass_duration_consistent_with_pass_elevation(h, e_max, e_min, h_obs):
    """The elevation at +-duration/2 equals the mask; no time above the mask if e_max < e_min."""
    dur = geo.pass_duration_s(platform_altitude_m=h, min_elevation_deg=e_min,
                              max_elevation_deg=e_max, observer_altitude_m=h_obs)
    if e_max < e_min:
        assert dur == 0.0
        return
    p = geo.circular_pass(time_s=[-dur / 2, dur / 2], platform_altitude_m=h,
                          max_elevation_deg=e_max, observer_altitude_m=h_obs)
    np.testing.assert_allclose(p.elevation_deg, e_min, atol=1e-6)


def test_pass_symmetry_and_peak():
    """The pass is symmetric about t = 0 and peaks at max_elevation_deg."""
    t = np.linspace(-200, 200, 41)
    p = geo.circular_pass(time_s=t, platform_altitude_m=535 * KM, max_elevation_deg=40.0,
                          observer_altitude_m=20 * KM)
    np.testing.assert_allclose(p.elevation_deg, p.elevation_deg[::-1], atol=1e-9)
    assert p.elevation_deg.max() == pytest.approx(40.0, abs=1e-9)
    assert p.range_m.min() == pytest.approx(
        geo.slant_range_m(elevation_deg=40.0, platform_altitude_m=535 * KM,
                          observer_altitude_m=20 * KM), rel=1e-9)
    assert p.visible.all()


def test_zenith_elevation_round_trip():
    e = np.array([0.0, 13.7, 45.0, 90.0])
    np.testing.assert_allclose(geo.elevation_from_zenith_deg(geo.zenith_angle_deg(e)), e)
    assert geo.zenith_angle_deg(30.0) == 60.0


# --------------------------------------------------------------------------- TLE vs circular

def _tle_checksum(line: str) -> int:
    return sum(int(c) if c.isdigit() else (c == "-") for c in line[:68]) % 10


def _near_circular_tle(altitude_m: float) -> tuple[str, str]:
    """A sun-synchronous-like TLE (i = 97.4 deg, e = 1e-4) with the circular mean motion."""
    rev_per_day = 86400.0 / geo.orbital_period_s(altitude_m)
    l1 = "1 99999U 24001A   24001.50000000  .00000000  00000-0  00000-0 0  999"
    l2 = (f"2 99999 {97.4:8.4f} {100.0:8.4f} 0001000 {90.0:8.4f} {0.0:8.4f} "
          f"{rev_per_day:11.8f}    1")
    return l1 + str(_tle_checksum(l1)), l2 + str(_tle_checksum(l2))


TOKYO = dict(latitude_deg=35.66, longitude_deg=139.68, observer_altitude_m=40.0)  # seed 001 site
START = dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone.utc)


def test_tle_pass_matches_circular_model():
    """A near-circular 500 km TLE pass agrees with the circular model of the same peak.

    Tolerances: the circular model ignores Earth rotation (observer speed ~0.38 km/s at
    35.7 deg N against ~7.6 km/s orbital speed, a few per cent in along-track rate and
    < 1 deg in elevation over +-300 s), uses a sphere instead of WGS84 and a fixed
    altitude while SGP4 adds J2 short-period radius changes of a few km. So: range at
    culmination 0.5 %, ranges over +-300 s 2 %, elevation 1 deg, slew rate 3 %,
    duration above 10 deg 3 %.
    """
    from skyfield.api import EarthSatellite, load, wgs84  # the 'orbits' extra, part of the test extras

    l1, l2 = _near_circular_tle(500 * KM)
    passes = geo.find_tle_passes(tle_line1=l1, tle_line2=l2, start_utc=START,
                                 duration_s=2 * 86400.0, min_elevation_deg=10.0, **TOKYO)
    assert len(passes) >= 3
    best = max(passes, key=lambda p: p.max_elevation_deg)
    assert best.max_elevation_deg > 30.0

    ts = load.timescale(builtin=True)
    sat = EarthSatellite(l1, l2, "x", ts)
    h_sat = wgs84.height_of(sat.at(ts.from_datetime(best.culmination_utc))).m
    assert h_sat == pytest.approx(500 * KM, rel=0.02)

    assert best.min_range_m == pytest.approx(
        geo.slant_range_m(elevation_deg=best.max_elevation_deg, platform_altitude_m=h_sat,
                          observer_altitude_m=TOKYO["observer_altitude_m"]), rel=5e-3)

    t_rel = np.arange(-300.0, 301.0, 50.0)
    t_c = (best.culmination_utc - START).total_seconds()
    real = geo.tle_pass_geometry(tle_line1=l1, tle_line2=l2, start_utc=START, time_s=t_c + t_rel,
                                 **TOKYO)
    model = geo.circular_pass(time_s=t_rel, platform_altitude_m=h_sat,
                              max_elevation_deg=best.max_elevation_deg,
                              observer_altitude_m=TOKYO["observer_altitude_m"])
    np.testing.assert_allclose(real.elevation_deg, model.elevation_deg, atol=1.0)
    np.testing.assert_allclose(real.range_m, model.range_m, rtol=0.02)
    np.testing.assert_allclose(real.slew_rate_rad_s, model.slew_rate_rad_s, rtol=0.03)
    assert real.time_s.shape == t_rel.shape
    assert best.duration_s == pytest.approx(
        geo.pass_duration_s(platform_altitude_m=h_sat, min_elevation_deg=10.0,
                            max_elevation_deg=best.max_elevation_deg), rel=0.03)


# --------------------------------------------------------------------------- bad inputs

L1, L2 = _near_circular_tle(500 * KM)

BAD_INPUTS = [
    (geo.slant_range_m, dict(elevation_deg=-1.0, platform_altitude_m=5e5), "elevation_deg"),
    (geo.slant_range_m, dict(elevation_deg=[10, 91], platform_altitude_m=5e5), "elevation_deg"),
    (geo.slant_range_m, dict(elevation_deg=np.nan, platform_altitude_m=5e5), "elevation_deg"),
    (geo.slant_range_m, dict(elevation_deg="high", platform_altitude_m=5e5), "elevation_deg"),
    (geo.slant_range_m, dict(elevation_deg=10, platform_altitude_m=-5.0), "platform_altitude_m"),
    (geo.slant_range_m, dict(elevation_deg=10, platform_altitude_m=5e5, observer_altitude_m=-1.0),
     "observer_altitude_m"),
    (geo.slant_range_m, dict(elevation_deg=10, platform_altitude_m=1e3, observer_altitude_m=2e3),
     "platform_altitude_m"),
    (geo.zenith_angle_deg, dict(elevation_deg=120.0), "elevation_deg"),
    (geo.elevation_from_zenith_deg, dict(zenith_deg=-3.0), "zenith_deg"),
    (geo.haps_laps_slant_range_m, dict(zenith_deg=95.0, haps_altitude_m=2e4, laps_altitude_m=1e3),
     "zenith_deg"),
    (geo.haps_laps_slant_range_m, dict(zenith_deg=40.0, haps_altitude_m=2e4, laps_altitude_m=-1.0),
     "laps_altitude_m"),
    (geo.haps_laps_slant_range_m, dict(zenith_deg=40.0, haps_altitude_m=500.0, laps_altitude_m=1e3),
     "haps_altitude_m"),
    (geo.orbital_period_s, dict(altitude_m=0.0), "altitude_m"),
    (geo.orbital_angular_rate_rad_s, dict(altitude_m=-1e5), "altitude_m"),
    (geo.circular_pass, dict(time_s=0, platform_altitude_m=5e5, max_elevation_deg=90.5),
     "max_elevation_deg"),
    (geo.circular_pass, dict(time_s=[0, np.inf], platform_altitude_m=5e5), "time_s"),
    (geo.circular_pass, dict(time_s=0, platform_altitude_m=-5e5), "platform_altitude_m"),
    (geo.pass_duration_s, dict(platform_altitude_m=5e5, min_elevation_deg=-10), "min_elevation_deg"),
    (geo.pass_duration_s, dict(platform_altitude_m=5e5, min_elevation_deg=10, max_elevation_deg=100),
     "max_elevation_deg"),
    (geo.tle_pass_geometry, dict(tle_line1=L1, tle_line2=L2, latitude_deg=95.0, longitude_deg=0.0,
                                 observer_altitude_m=0.0, start_utc=START, time_s=0.0),
     "latitude_deg"),
    (geo.tle_pass_geometry, dict(tle_line1="garbage", tle_line2=L2, latitude_deg=0.0,
                                 longitude_deg=0.0, observer_altitude_m=0.0, start_utc=START,
                                 time_s=0.0), "tle_line1"),
    (geo.tle_pass_geometry, dict(tle_line1=L1, tle_line2=42, latitude_deg=0.0,
                                 longitude_deg=0.0, observer_altitude_m=0.0, start_utc=START,
                                 time_s=0.0), "tle_line2"),
    (geo.tle_pass_geometry, dict(tle_line1=L1, tle_line2=L2, latitude_deg=0.0, longitude_deg=0.0,
                                 observer_altitude_m=0.0, start_utc=dt.datetime(2024, 1, 1),
                                 time_s=0.0), "start_utc"),
    (geo.tle_pass_geometry, dict(tle_line1=L1, tle_line2=L2, latitude_deg=0.0, longitude_deg=0.0,
                                 observer_altitude_m=0.0, start_utc="2024-01-01", time_s=0.0),
     "start_utc"),
    (geo.find_tle_passes, dict(tle_line1=L1, tle_line2=L2, latitude_deg=0.0, longitude_deg=0.0,
                               observer_altitude_m=0.0, start_utc=START, duration_s=0.0),
     "duration_s"),
    (geo.find_tle_passes, dict(tle_line1=L1, tle_line2=L2, latitude_deg=0.0, longitude_deg=0.0,
                               observer_altitude_m=0.0, start_utc=START, duration_s=10.0,
                               min_elevation_deg=-5.0), "min_elevation_deg"),
]


@pytest.mark.parametrize(("func", "kwargs", "name"), BAD_INPUTS,
                         ids=[f"{f.__name__}-{n}-{i}" for i, (f, _, n) in enumerate(BAD_INPUTS)])
def test_bad_inputs_raise_naming_the_parameter(func, kwargs, name):
    with pytest.raises((InvalidParameter, InvalidType)) as info:
        func(**kwargs)
    assert name in str(info.value)
    assert info.value.name == name


def test_positional_arguments_are_rejected():
    """Keyword-only API: more than two parameters must be named."""
    with pytest.raises(TypeError):
        geo.slant_range_m(10.0, 5e5)  # type: ignore[misc]
