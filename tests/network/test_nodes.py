"""qproto.network nodes: positions over time, vectorised (Walker circular orbits, TLEs via SGP4), clouds."""

import datetime as dt
import math

import numpy as np
import pytest

from qproto import InvalidParameter
from qproto.network import HAPS, LAPS, GroundStation, Satellite, WalkerConstellation, node_positions
from qproto.network._nodes import EARTH_ROTATION_RAD_S, sample_clouds

R = 6_371_000.0
GM = 3.986004418e14


def _eci(pos, t):
    """Undo the Earth's rotation (ECEF -> inertial), independently of the module."""
    c, s = np.cos(EARTH_ROTATION_RAD_S * t), np.sin(EARTH_ROTATION_RAD_S * t)
    x, y, z = pos[..., 0], pos[..., 1], pos[..., 2]
    return np.stack([c * x - s * y, s * x + c * y, z], axis=-1)


def test_walker_orbits_are_circular_keplerian():
    """Radius R + h always; inertial angular rate sqrt(GM/r^3) (PHYSICS C.1); max latitude = inclination;
    T = P x S satellites, planes' nodes 360/P apart, in-plane spacing 360/S."""
    w = WalkerConstellation(name="w", planes=4, sats_per_plane=5, phasing=1, altitude_m=550e3, inclination_deg=53.0)
    sats = w.satellites()
    assert len(sats) == 20 and len({s.name for s in sats}) == 20
    t = np.arange(0, 6000.0, 10.0)
    pos, avail = node_positions(sats, t)
    assert pos.shape == (20, t.size, 3) and avail.all()
    assert np.allclose(np.linalg.norm(pos, axis=-1), R + 550e3, rtol=1e-12)
    eci = _eci(pos, t[None, :])
    cosang = np.einsum("ntk,ntk->nt", eci[:, 1:], eci[:, :-1]) / (R + 550e3) ** 2
    rate = np.arccos(np.clip(cosang, -1, 1)) / 10.0
    assert rate == pytest.approx(math.sqrt(GM / (R + 550e3) ** 3), rel=1e-6)
    lat = np.degrees(np.arcsin(pos[..., 2] / (R + 550e3)))
    assert lat.max() == pytest.approx(53.0, abs=0.05)
    # Planes: the orbit normals (inertial) of plane p and p+1 differ by 90 deg of node longitude.
    normals = np.cross(eci[:, 0], eci[:, 1])
    node_lon = np.degrees(np.arctan2(normals[:, 0], -normals[:, 1]))
    assert (node_lon[5] - node_lon[0]) % 360 == pytest.approx(90.0, abs=1e-6)
    # In-plane spacing at t = 0: 72 deg between consecutive satellites of a plane.
    ang = np.degrees(np.arccos(np.dot(eci[0, 0], eci[1, 0]) / (R + 550e3) ** 2))
    assert ang == pytest.approx(72.0, abs=1e-6)


def test_fixed_nodes_and_laps_trajectory_and_window():
    g = GroundStation(name="g", latitude_deg=35.0, longitude_deg=139.0)
    h = HAPS(name="h", latitude_deg=35.0, longitude_deg=139.0)
    lp = LAPS(name="l", latitude_deg=0.0, longitude_deg=0.0, waypoints=((0, 0.0, 0.0, 1000.0), (100, 0.0, 1.0, 2000.0)),
              flight_window_s=(20.0, 60.0))
    t = np.array([0.0, 50.0, 100.0, 200.0])
    pos, avail = node_positions([g, h, lp], t)
    assert np.allclose(np.linalg.norm(pos[0], axis=-1), R) and np.allclose(np.linalg.norm(pos[1], axis=-1), R + 20e3)
    assert np.ptp(pos[0], axis=0) == pytest.approx(np.zeros(3))
    mid = pos[2, 1]
    assert np.linalg.norm(mid) == pytest.approx(R + 1500.0)
    assert math.degrees(math.atan2(mid[1], mid[0])) == pytest.approx(0.5)
    assert np.allclose(pos[2, 2], pos[2, 3])  # held after the last waypoint
    assert avail[2].tolist() == [False, True, False, False] and avail[:2].all()


def _geocentric_site(lat_geodetic_deg):
    """The WGS84 point at a geodetic latitude, lifted to radius R: its geocentric latitude and the
    ellipsoidal height that puts it at R (so both models hold the observer at the same place)."""
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)
    phi = math.radians(lat_geodetic_deg)
    n = a / math.sqrt(1 - e2 * math.sin(phi) ** 2)
    h = 0.0
    for _ in range(20):
        x, z = (n + h) * math.cos(phi), (n * (1 - e2) + h) * math.sin(phi)
        h += R - math.hypot(x, z)
    return math.degrees(math.atan2(z, x)), h


def test_tle_positions_agree_with_skyfield_topocentric_passes():
    """Elevation and range from the network's ECEF positions (SGP4 via skyfield, spherical Earth)
    against the noise_models TLE pass geometry (skyfield topocentric, WGS84 observer) for the same
    observer point: agree within the 0.19 deg between the ellipsoid normal and the radial vertical."""
    from qproto.noise_models import tle_pass_geometry
    from qproto.network import Network
    l1 = "1 25544U 98067A   24001.50000000  .00016717  00000-0  10270-3 0  9003"
    l2 = "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.49815324 24999"
    epoch = dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone.utc)
    lat_c, h = _geocentric_site(35.68)
    assert abs(h) < 500
    sat = Satellite(name="iss", tle_line1=l1, tle_line2=l2)
    g = GroundStation(name="g", latitude_deg=lat_c, longitude_deg=139.77, min_elevation_deg=0.0)
    net = Network(nodes=[g, sat], duration_s=86400, step_s=60, epoch=epoch, seed=1,
                  links={"sat-ground": {"max_range_m": 1e8}})
    assert len(net.edges) > 5  # a few passes in a day
    ref = tle_pass_geometry(tle_line1=l1, tle_line2=l2, latitude_deg=35.68, longitude_deg=139.77,
                            observer_altitude_m=h, start_utc=epoch, time_s=net.times_s[net.edges.step])
    assert net.edges.elevation_deg == pytest.approx(ref.elevation_deg, abs=0.25)
    assert net.edges.range_m == pytest.approx(ref.range_m, rel=2e-3)
    with pytest.raises(InvalidParameter) as err:
        node_positions([sat], np.array([0.0]))
    assert err.value.name == "epoch"


def test_clouds_iid_fraction_and_reproducible():
    """With spells one step long the process is i.i.d. Bernoulli(p): PHYSICS B's 5-sigma rule on the
    cloudy fraction; the same seed gives the same clouds; p = 0 never clouds."""
    sites = [GroundStation(name=f"g{i}", latitude_deg=0, longitude_deg=i, cloud_probability=0.3,
                           cloud_mean_duration_s=10.0) for i in range(4)]
    sites.append(GroundStation(name="clear", latitude_deg=0, longitude_deg=9))
    c = sample_clouds(sites, 20_000, 10.0, np.random.default_rng(5))
    n = c[:4].size
    assert abs(c[:4].mean() - 0.3) <= 5 * math.sqrt(0.21 / n) + 1 / n
    assert not c[4].any()
    assert np.array_equal(c, sample_clouds(sites, 20_000, 10.0, np.random.default_rng(5)))


def test_cloud_spells_have_the_mean_length():
    """Mean cloudy spell = tau (geometric with exit probability dt/tau)."""
    site = GroundStation(name="g", latitude_deg=0, longitude_deg=0, cloud_probability=0.5, cloud_mean_duration_s=100.0)
    c = sample_clouds([site], 200_000, 10.0, np.random.default_rng(2))[0].astype(int)
    starts = np.count_nonzero(np.diff(c) == 1)
    mean_len = c.sum() / starts
    # Geometric(0.1) lengths: mean 10 steps, sd ~ 9.5; about 20000 spells.
    assert abs(mean_len - 10.0) < 5 * 9.5 / math.sqrt(starts)


@pytest.mark.parametrize("make, name", [
    (lambda: GroundStation(name="g", latitude_deg=91, longitude_deg=0), "latitude_deg"),
    (lambda: GroundStation(name="g", latitude_deg=0, longitude_deg=0, cloud_probability=1.0), "cloud_probability"),
    (lambda: HAPS(name="h", latitude_deg=0, longitude_deg=0, altitude_m=5e3), "altitude_m"),
    (lambda: LAPS(name="l", latitude_deg=0, longitude_deg=0, flight_window_s=(5, 1)), "flight_window_s"),
    (lambda: LAPS(name="l", latitude_deg=0, longitude_deg=0, waypoints=((5, 0, 0, 1), (1, 0, 0, 1))), "waypoints"),
    (lambda: WalkerConstellation(planes=0, sats_per_plane=3), "planes"),
    (lambda: WalkerConstellation(planes=3, sats_per_plane=3, phasing=3), "phasing"),
    (lambda: WalkerConstellation(planes=3, sats_per_plane=3, altitude_m=50e3), "altitude_m"),
    (lambda: Satellite(name="s", tle_line1="1 bad", tle_line2="2 bad"), "tle_line1"),
])
def test_bad_nodes(make, name):
    with pytest.raises(InvalidParameter) as err:
        make()
    assert err.value.name == name


def test_sun_direction():
    """Declination 0 at the March 2026 equinox (20 Mar 14:46 UTC) and +23.44 deg at the June solstice
    (21 Jun 08:24 UTC); the subsolar longitude at 12:00 UTC is minus the equation of time (within 4 deg
    of 0: |EoT| < 17 min); unit vectors."""
    from qproto.network._nodes import sun_direction_ecef
    utc = dt.timezone.utc
    eq = sun_direction_ecef(dt.datetime(2026, 3, 20, 14, 46, tzinfo=utc), np.array([0.0]))[0]
    assert math.degrees(math.asin(eq[2])) == pytest.approx(0.0, abs=0.05)
    sol = sun_direction_ecef(dt.datetime(2026, 6, 21, 8, 24, tzinfo=utc), np.array([0.0]))[0]
    assert math.degrees(math.asin(sol[2])) == pytest.approx(23.44, abs=0.05)
    noon = sun_direction_ecef(dt.datetime(2026, 3, 20, 0, 0, tzinfo=utc), np.arange(0, 86400, 3600.0))
    assert np.allclose(np.linalg.norm(noon, axis=1), 1.0)
    assert math.degrees(math.atan2(noon[12, 1], noon[12, 0])) == pytest.approx(0.0, abs=4.0)
    # The subsolar point moves west at 15 deg per hour.
    lon = np.degrees(np.unwrap(np.arctan2(noon[:, 1], noon[:, 0])))
    assert np.diff(lon) == pytest.approx(-15.04, abs=0.1)
