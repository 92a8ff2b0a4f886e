"""noise_models._platform_link: the preset physics evaluated on any two-platform geometry (docs/conventions.md C)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from qproto import InvalidParameter
from qproto.noise_models import Link, slant_range_m
from qproto.noise_models._platform_link import PlatformLink, platform_geometry

R = 6_371_000.0
TERMINALS = dict(wavelength_m=810e-9, divergence_half_angle_rad=16.5e-6, rx_aperture_m=0.4, tx_optics_efficiency=0.8,
                 rx_optics_efficiency=0.7, pointing_jitter_rad=3.3e-6, misalignment=0.01, sky_radiance_w_m2_sr_nm=1e-5)


def _point(lat_deg, lon_deg, alt_m):
    la, lo = math.radians(lat_deg), math.radians(lon_deg)
    r = R + alt_m
    return np.array([r * math.cos(la) * math.cos(lo), r * math.cos(la) * math.sin(lo), r * math.sin(la)])


def _above(observer_alt, elevation_deg, platform_alt):
    """Position of a platform seen at an elevation (azimuth north) from (0, 0, observer_alt): the
    Earth-central angle of PHYSICS C.1, gamma = arccos(R_o cos e / R_p) - e."""
    ro, rp = R + observer_alt, R + platform_alt
    e = math.radians(elevation_deg)
    gamma = math.acos(ro * math.cos(e) / rp) - e
    return _point(math.degrees(gamma), 0.0, platform_alt)


@pytest.mark.parametrize("lower, upper, atmosphere", [(0.0, 535e3, True), (1e3, 20e3, True), (20e3, 535e3, False)])
@pytest.mark.parametrize("elevation", [90.0, 40.0, 12.0])
def test_matches_a_link_on_the_same_geometry(lower, upper, atmosphere, elevation):
    """The same terminals as a noise_models Link (turbulence off): the Link derives the range from the
    elevation (PHYSICS C.1), the PlatformLink is given it. catches: swapped ends, a range in km, the
    atmosphere evaluated at the upper end, a missing optics factor, noise from the wrong aperture."""
    link = Link(direction="down", geometry="orbit", upper_altitude_m=upper, lower_altitude_m=lower, tx_aperture_m=0.1,
                turbulence=False, atmosphere=atmosphere, **TERMINALS)
    pl = PlatformLink(atmosphere=atmosphere, **TERMINALS)
    rng = link.range_m(elevation_deg=elevation)
    ch = pl.channel(range_m=rng, lower_altitude_m=lower, upper_altitude_m=upper, lower_elevation_deg=elevation)
    ref = link.channel(elevation_deg=elevation)
    assert ch.transmittance == pytest.approx(ref.transmittance, rel=1e-12)
    assert ch.noise_click == pytest.approx(ref.noise_click, rel=1e-12)
    assert (ch.misalignment, ch.detector_efficiency) == (ref.misalignment, ref.detector_efficiency)


@pytest.mark.parametrize("elevation", [90.0, 45.0, 10.0, 1.0])
def test_geometry_of_a_platform_at_a_known_elevation(elevation):
    """Range equals PHYSICS C.1's slant range; the elevation seen from the ground is the one the
    point was placed at; the vertical path's share below 20 km is 20/535."""
    g = _point(0.0, 0.0, 0.0)
    s = _above(0.0, elevation, 535e3)
    geo = platform_geometry(g, s)
    assert geo.range_m == pytest.approx(slant_range_m(elevation_deg=elevation, platform_altitude_m=535e3), rel=1e-9)
    assert geo.elevation_a_deg == pytest.approx(elevation, abs=1e-7)
    assert geo.min_ray_altitude_m == pytest.approx(0.0, abs=1e-3)
    if elevation == 90.0:
        assert geo.atmospheric_fraction == pytest.approx(20e3 / 535e3, rel=1e-9)
        assert geo.elevation_b_deg == pytest.approx(-90.0)


def test_earth_blocks_two_ground_points():
    """Two ground points 1000 km apart along the equator: each sees the other at -theta/2 (theta the
    central angle) and the chord dips to R cos(theta/2) - R below ground."""
    theta = 1000e3 / R
    geo = platform_geometry(_point(0, 0, 0), _point(0, math.degrees(theta), 0))
    assert geo.elevation_a_deg == pytest.approx(-math.degrees(theta) / 2, abs=1e-9)
    assert geo.min_ray_altitude_m == pytest.approx(R * math.cos(theta / 2) - R, rel=1e-9)
    assert geo.range_m == pytest.approx(2 * R * math.sin(theta / 2), rel=1e-12)
    assert geo.atmospheric_fraction == 1.0


coords = st.tuples(st.floats(-80, 80), st.floats(-180, 180), st.floats(0, 2e6))


@settings(max_examples=40)
@given(a=coords, b=coords)
def test_line_of_sight_is_symmetric(a, b):
    pa, pb = _point(*a), _point(*b)
    if np.linalg.norm(pa - pb) < 1.0:
        return
    ab, ba = platform_geometry(pa, pb), platform_geometry(pb, pa)
    assert ab.range_m == pytest.approx(ba.range_m, rel=1e-12)
    assert ab.elevation_a_deg == pytest.approx(ba.elevation_b_deg, abs=1e-9)
    assert ab.min_ray_altitude_m == pytest.approx(ba.min_ray_altitude_m, abs=1e-3)
    assert ab.atmospheric_fraction == pytest.approx(ba.atmospheric_fraction, abs=1e-9)


@settings(max_examples=30)
@given(r1=st.floats(1e3, 5e6), r2=st.floats(1e3, 5e6), elev=st.floats(0, 90), atmosphere=st.booleans())
def test_loss_increases_with_range(r1, r2, elev, atmosphere):
    """PHYSICS invariant 2: the transmittance never grows with range (same altitudes and elevation)."""
    pl = PlatformLink(atmosphere=atmosphere, **TERMINALS)
    lo, hi = sorted((r1, r2))
    eta = pl.transmittance(range_m=[lo, hi], lower_altitude_m=0.0, upper_altitude_m=535e3,
                           lower_elevation_deg=elev)["transmittance"]
    assert 0.0 <= eta[1] <= eta[0] <= 1.0


def test_dipping_path_is_two_horizontal_legs():
    """A path between two 5 km platforms that dips to 2 km is charged the 2 -> 5 km horizontal
    extinction twice (module docstring): T_zen ** (2 AM(90) (e^-2/1.5 - e^-5/1.5))."""
    from qproto.noise_models import airmass, zenith_transmittance
    pl = PlatformLink(**{**TERMINALS, "pointing_jitter_rad": 0.0})
    out = pl.transmittance(range_m=1e5, lower_altitude_m=5e3, upper_altitude_m=5e3, lower_elevation_deg=-0.4,
                           min_ray_altitude_m=2e3)
    am = airmass(90.0, model="kasten_young")
    expect = zenith_transmittance(810e-9) ** (2 * am * (math.exp(-2 / 1.5) - math.exp(-5 / 1.5)))
    assert out["atmosphere"] == pytest.approx(expect, rel=1e-12)


@pytest.mark.parametrize("kwargs, name", [
    (dict(rx_aperture_m=0.0), "rx_aperture_m"), (dict(divergence_half_angle_rad=-1.0), "divergence_half_angle_rad"),
    (dict(misalignment=0.6), "misalignment"), (dict(tx_optics_efficiency=1.5), "tx_optics_efficiency"),
    (dict(airmass_model="flat"), "airmass_model"), (dict(wavelength_m=900e-9), "wavelength_m"),
    (dict(n_detectors=0), "n_detectors"),
])
def test_bad_terminals(kwargs, name):
    with pytest.raises(InvalidParameter) as err:
        PlatformLink(**{**TERMINALS, **kwargs})
    assert err.value.name == name


def test_bad_geometry():
    pl = PlatformLink(**TERMINALS)
    with pytest.raises(InvalidParameter) as err:
        pl.transmittance(range_m=1e5, lower_altitude_m=10e3, upper_altitude_m=5e3, lower_elevation_deg=10)
    assert err.value.name == "upper_altitude_m"
    with pytest.raises(InvalidParameter) as err:
        pl.transmittance(range_m=0.0, lower_altitude_m=0, upper_altitude_m=5e3, lower_elevation_deg=10)
    assert err.value.name == "range_m"
    with pytest.raises(InvalidParameter) as err:
        platform_geometry(np.zeros(3), 1e7 * np.array([1.0, 0, 0]))
    assert err.value.name == "pos_a_m"
    with pytest.raises(InvalidParameter) as err:
        platform_geometry(_point(0, 0, 0), _point(0, 0, 0))
    assert err.value.name == "pos_b_m"
    with pytest.raises(InvalidParameter) as err:
        platform_geometry(np.ones(2), np.ones(2))
    assert err.value.name == "pos_a_m"
