"""Tests of qproto.noise_models._turbulence (docs/conventions.md §C.5, invariant 4)."""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from qproto._errors import InvalidParameter, InvalidType
from qproto.noise_models import _turbulence as tb

FAST = settings(max_examples=25, deadline=None)

# C.5 table: (wavelength_m, zenith_deg, r0_cm, theta0_urad, fG_hz, fG_slew_hz, rytov)
TABLE = [
    (500e-9, 0.0, 4.96, 6.89, 72, 351, 0.235),
    (810e-9, 0.0, 8.85, 12.3, 40, 196, 0.134),
    (810e-9, 60.0, 5.84, 4.06, 61, 298, 0.477),
    (1550e-9, 0.0, 19.3, 26.8, 18.5, 90, 0.063),
    (1550e-9, 60.0, 12.7, 8.84, 28, 137, 0.224),
]
LAM = np.array([row[0] for row in TABLE])
ZEN = np.array([row[1] for row in TABLE])


def _half_unit(values):
    """Half a unit of the last shown digit of each printed table entry."""
    decimals = [len(f"{v}".split(".")[1]) if "." in f"{v}" else 0 for v in values]
    return np.array([0.5 * 10.0 ** (-d) for d in decimals])


def _check_table(computed, column):
    expected = np.array([row[column] for row in TABLE], dtype=float)
    tol = _half_unit([row[column] for row in TABLE])
    assert np.all(np.abs(computed - expected) <= tol * (1 + 1e-9)), (computed, expected)


# --------------------------------------------------------------------------- C.5 table

def test_c5_fried_parameter_column():
    """C.5 table, r0 (plane wave, HV 5/7): 4.96 / 8.85 / 5.84 / 19.3 / 12.7 cm."""
    _check_table(tb.fried_parameter_m(wavelength_m=LAM, zenith_deg=ZEN) * 100, 2)


def test_c5_isoplanatic_angle_column():
    """C.5 table, theta0: 6.89 / 12.3 / 4.06 / 26.8 / 8.84 urad."""
    _check_table(tb.isoplanatic_angle_rad(wavelength_m=LAM, zenith_deg=ZEN) * 1e6, 3)


def test_c5_greenwood_columns():
    """C.5 table, f_G with Bufton v_g = 5 m/s, without and with 15.2 mrad/s slew.

    The slew pseudo-wind grows with altitude, so f_G with slew depends slightly on the top
    of the integral: docs/conventions.md's 196 Hz (810 nm) is 196.49 Hz integrating to 30 km and
    196.50 Hz to 100 km (our default). The table is checked to half a unit with a 30 km
    top, and the default top to 0.5 % (three significant figures).
    """
    _check_table(tb.greenwood_frequency_hz(wavelength_m=LAM, zenith_deg=ZEN), 4)
    _check_table(tb.greenwood_frequency_hz(wavelength_m=LAM, zenith_deg=ZEN,
                                           slew_rate_rad_s=15.2e-3, upper_altitude_m=30e3), 5)
    np.testing.assert_allclose(
        tb.greenwood_frequency_hz(wavelength_m=LAM, zenith_deg=ZEN, slew_rate_rad_s=15.2e-3),
        [row[5] for row in TABLE], rtol=5e-3)


def test_c5_rytov_column():
    """C.5 table, downlink plane-wave Rytov variance: 0.235 / 0.134 / 0.477 / 0.063 / 0.224."""
    _check_table(tb.rytov_variance(wavelength_m=LAM, zenith_deg=ZEN), 6)


def test_c5_haps_laps_row():
    """C.5: HAPS 20 km <-> LAPS 1 km, z = 40 deg: r0 23.5 / 51.1 cm, spherical sigma_R^2 0.085 / 0.040."""
    kw = dict(wavelength_m=[810e-9, 1550e-9], zenith_deg=40.0, lower_altitude_m=1e3,
              upper_altitude_m=20e3)
    np.testing.assert_allclose(tb.fried_parameter_m(**kw) * 100, [23.5, 51.1], atol=0.05)
    np.testing.assert_allclose(tb.rytov_variance(**kw, wave="spherical"), [0.085, 0.040],
                               atol=0.0005)


def test_c5_cn2_integrals():
    """C.5: int_0^30km Cn^2 = 2.24e-12 m^1/3; 15 % between 1 and 20 km; 1.4e-15 above 20 km."""
    total = tb._Path(0.0, 30e3, None).integral()
    assert total == pytest.approx(2.24e-12, abs=0.005e-12)
    assert tb._Path(1e3, 20e3, None).integral() / total == pytest.approx(0.15, abs=0.005)
    assert tb._Path(20e3, 1e6, None).integral() == pytest.approx(1.4e-15, abs=0.05e-15)


def test_grid_integration_matches_quad():
    """The log-spaced trapezoid grid agrees with scipy quad to 1e-4 (needed: 2-3 %)."""
    cn2 = tb.hufnagel_valley_profile()
    pts = [100, 1000, 5000, 10000, 20000]

    def q(f, a, b):
        edges = [a] + [p for p in pts if a < p < b] + [b]
        return sum(quad(f, lo, hi, limit=200, epsabs=0)[0] for lo, hi in zip(edges, edges[1:]))

    for h0, H in [(0.0, 100e3), (1e3, 20e3)]:
        path = tb._Path(h0, H, None)
        assert path.integral() == pytest.approx(q(cn2, h0, min(H, 100e3)), rel=1e-4)
        assert path.integral(path.x ** (5 / 6) * (1 - path.frac()) ** (5 / 6)) == pytest.approx(
            q(lambda h: cn2(h) * (h - h0) ** (5 / 6) * (1 - (h - h0) / (H - h0)) ** (5 / 6),
              h0, min(H, 100e3)), rel=1e-4)


def test_hv57_and_bufton_values():
    assert tb.hufnagel_valley_cn2(0.0) == pytest.approx(1.7e-14 + 2.7e-16)
    assert tb.bufton_wind_m_s(9400.0) == pytest.approx(35.0)
    assert tb.bufton_wind_m_s(9400.0, slew_rate_rad_s=1e-2) == pytest.approx(35.0 + 94.0)
    custom = tb.hufnagel_valley_profile(rms_wind_m_s=30.0, ground_cn2=0.0)
    h = np.array([0.0, 1e4])
    np.testing.assert_allclose(custom(h), tb.hufnagel_valley_cn2(h, rms_wind_m_s=30.0, ground_cn2=0.0))
    # A stronger profile gives a smaller r0.
    r_def = tb.fried_parameter_m(wavelength_m=810e-9, zenith_deg=0.0)
    r_strong = tb.fried_parameter_m(wavelength_m=810e-9, zenith_deg=0.0,
                                    cn2_profile=tb.hufnagel_valley_profile(ground_cn2=1e-13))
    assert r_strong < r_def


def test_greenwood_vectorised_over_slew():
    """An array of slew rates (a pass) gives the per-sample scalar results."""
    slews = np.array([0.0, 5e-3, 15.2e-3])
    zen = np.array([60.0, 30.0, 0.0])
    vec = tb.greenwood_frequency_hz(wavelength_m=810e-9, zenith_deg=zen, slew_rate_rad_s=slews)
    one = [tb.greenwood_frequency_hz(wavelength_m=810e-9, zenith_deg=z, slew_rate_rad_s=s)
           for z, s in zip(zen, slews)]
    np.testing.assert_allclose(vec, one, rtol=1e-12)


# --------------------------------------------------------------------------- invariant 4

lams = st.floats(min_value=400e-9, max_value=2e-6)
zens = st.floats(min_value=0.0, max_value=75.0)


@FAST
@given(l1=lams, l2=lams, z1=zens, z2=zens)
def test_invariant4_scaling_laws(l1, l2, z1, z2):
    """Invariant 4: r0 ~ lambda^{6/5} cos^{3/5} z; f_G ~ lambda^{-6/5}; sigma_R^2 ~ lambda^{-7/6}."""
    r = tb.fried_parameter_m(wavelength_m=[l1, l2, l1], zenith_deg=[z1, z1, z2])
    assert r[1] / r[0] == pytest.approx((l2 / l1) ** 1.2, rel=1e-9)
    c1, c2 = math.cos(math.radians(z1)), math.cos(math.radians(z2))
    assert r[2] / r[0] == pytest.approx((c2 / c1) ** 0.6, rel=1e-9)
    f = tb.greenwood_frequency_hz(wavelength_m=[l1, l2], zenith_deg=z1, slew_rate_rad_s=1e-2)
    assert f[1] / f[0] == pytest.approx((l2 / l1) ** -1.2, rel=1e-9)
    s = tb.rytov_variance(wavelength_m=[l1, l2], zenith_deg=z1)
    assert s[1] / s[0] == pytest.approx((l2 / l1) ** (-7 / 6), rel=1e-9)


def test_invariant4_hv57_500nm_anchor():
    """Invariant 4: HV5/7 at 500 nm, zenith: r0 = 4.96 cm (+-2 %), theta0 = 6.89 urad (+-3 %)."""
    assert tb.fried_parameter_m(wavelength_m=500e-9, zenith_deg=0.0) == pytest.approx(4.96e-2, rel=0.02)
    assert tb.isoplanatic_angle_rad(wavelength_m=500e-9, zenith_deg=0.0) == pytest.approx(
        6.89e-6, rel=0.03)


# --------------------------------------------------------------------------- scintillation, fading

@FAST
@given(s=st.floats(min_value=1e-6, max_value=50.0))
def test_gamma_gamma_parameters_reproduce_scintillation_index(s):
    a, b = tb.gamma_gamma_parameters(s)
    si = tb.scintillation_index(s)
    assert 1 / a + 1 / b + 1 / (a * b) == pytest.approx(si, rel=1e-9)
    assert si >= 0


def test_scintillation_index_regimes():
    assert tb.scintillation_index(0.1, regime="weak") == 0.1
    # Weak limit of the moderate-strong expression is sigma_R^2.
    assert tb.scintillation_index(1e-4) == pytest.approx(1e-4, rel=1e-3)
    # Saturation: sigma_I^2 -> 1 for very strong turbulence.
    assert tb.scintillation_index(1e4) == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize("si", [0.05, 0.3, 1.0])
def test_lognormal_sampler_mean_one_and_variance(si):
    n = 200_000
    x = tb.sample_lognormal_fading(scintillation_index=si, size=n, rng=np.random.default_rng(3))
    assert np.all(x > 0)
    assert abs(x.mean() - 1.0) <= 5 * math.sqrt(si / n)
    assert x.var() == pytest.approx(si, rel=0.1)


@pytest.mark.parametrize("rytov", [0.2, 1.0, 4.0])
def test_gamma_gamma_sampler_mean_one_and_variance(rytov):
    a, b = tb.gamma_gamma_parameters(rytov)
    n = 200_000
    x = tb.sample_gamma_gamma_fading(alpha=a, beta=b, size=n, rng=np.random.default_rng(4))
    si = 1 / a + 1 / b + 1 / (a * b)
    assert abs(x.mean() - 1.0) <= 5 * math.sqrt(si / n)
    assert x.var() == pytest.approx(si, rel=0.1)
    y = tb.sample_gamma_gamma_fading(alpha=a, beta=b, size=n, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(x, y)


# --------------------------------------------------------------------------- uplink beam

def test_uplink_beam_wander_formula_and_helpers():
    w0, H, z = 0.1, 500e3, 30.0
    rc2 = tb.uplink_beam_wander_variance_m2(waist_radius_m=w0, zenith_deg=z, upper_altitude_m=H)
    path = tb._Path(0.0, H, None)
    expected = (7.25 * H**2 / math.cos(math.radians(z)) ** 3 * w0 ** (-1 / 3)
                * path.integral((1 - path.frac()) ** 2))
    assert rc2 == pytest.approx(expected)
    # A few urad of wander at 500 km, as expected for a 10 cm uplink beam.
    assert 1e-6 < math.sqrt(rc2) / H < 2e-5
    assert tb.beam_wander_std_per_axis_m(rc2) == pytest.approx(math.sqrt(rc2 / 2))
    r0 = tb.fried_parameter_m(wavelength_m=810e-9, zenith_deg=z, upper_altitude_m=H, wave="spherical")
    f = tb.tracked_beam_wander_factor(waist_radius_m=w0, fried_parameter_m=r0)
    assert 0.0 < f < 1.0
    w_lt = tb.long_term_beam_radius_m(beam_radius_m=10.0, waist_radius_m=w0, fried_parameter_m=r0)
    assert w_lt == pytest.approx(10.0 * math.sqrt(1 + (2 * w0 / r0) ** (5 / 3)))
    term = tb.uplink_beam_wander_scintillation_term(waist_radius_m=w0, fried_parameter_m=r0,
                                                    beam_wander_variance_m2=rc2, beam_radius_m=10.0)
    L = H / math.cos(math.radians(z))
    alpha_pe = math.sqrt(rc2) / L
    assert term == pytest.approx(5.95 * H**2 / math.cos(math.radians(z)) ** 2
                                 * (2 * w0 / r0) ** (5 / 3) * (alpha_pe / 10.0) ** 2)


def test_spherical_r0_larger_than_plane_r0():
    """The spherical weighting de-emphasises turbulence near the receiver end: r0 grows."""
    kw = dict(wavelength_m=810e-9, zenith_deg=20.0, upper_altitude_m=500e3)
    assert tb.fried_parameter_m(**kw, wave="spherical") >= tb.fried_parameter_m(**kw)


# --------------------------------------------------------------------------- bad inputs

RNG = np.random.default_rng(0)
BAD_INPUTS = [
    (tb.hufnagel_valley_cn2, dict(altitude_m=-1.0), "altitude_m"),
    (tb.hufnagel_valley_cn2, dict(altitude_m=0.0, rms_wind_m_s=-1.0), "rms_wind_m_s"),
    (tb.hufnagel_valley_profile, dict(ground_cn2=-1e-14), "ground_cn2"),
    (tb.bufton_wind_m_s, dict(altitude_m=0.0, ground_wind_m_s=-5.0), "ground_wind_m_s"),
    (tb.bufton_wind_m_s, dict(altitude_m=0.0, slew_rate_rad_s=-1e-3), "slew_rate_rad_s"),
    (tb.fried_parameter_m, dict(wavelength_m=0.0, zenith_deg=0.0), "wavelength_m"),
    (tb.fried_parameter_m, dict(wavelength_m=810e-9, zenith_deg=90.0), "zenith_deg"),
    (tb.fried_parameter_m, dict(wavelength_m=810e-9, zenith_deg=[0.0, -1.0]), "zenith_deg"),
    (tb.fried_parameter_m, dict(wavelength_m=810e-9, zenith_deg=0.0, wave="gaussian"), "wave"),
    (tb.fried_parameter_m, dict(wavelength_m=810e-9, zenith_deg=0.0, lower_altitude_m=-5.0),
     "lower_altitude_m"),
    (tb.fried_parameter_m, dict(wavelength_m=810e-9, zenith_deg=0.0, lower_altitude_m=2e3,
                                upper_altitude_m=1e3), "upper_altitude_m"),
    (tb.fried_parameter_m, dict(wavelength_m=810e-9, zenith_deg=0.0, cn2_profile=1e-14),
     "cn2_profile"),
    (tb.fried_parameter_m, dict(wavelength_m=810e-9, zenith_deg=0.0,
                                cn2_profile=lambda h: -np.ones_like(h)), "cn2_profile"),
    (tb.isoplanatic_angle_rad, dict(wavelength_m=810e-9, zenith_deg=100.0), "zenith_deg"),
    (tb.greenwood_frequency_hz, dict(wavelength_m=810e-9, zenith_deg=0.0, slew_rate_rad_s=-1.0),
     "slew_rate_rad_s"),
    (tb.greenwood_frequency_hz, dict(wavelength_m=810e-9, zenith_deg=0.0, ground_wind_m_s=np.nan),
     "ground_wind_m_s"),
    (tb.greenwood_frequency_hz, dict(wavelength_m=810e-9, zenith_deg=0.0, wind_profile="bufton"),
     "wind_profile"),
    (tb.rytov_variance, dict(wavelength_m=-1.0, zenith_deg=0.0), "wavelength_m"),
    (tb.rytov_variance, dict(wavelength_m=810e-9, zenith_deg=0.0, wave="cylindrical"), "wave"),
    (tb.scintillation_index, dict(rytov_variance=-0.1), "rytov_variance"),
    (tb.scintillation_index, dict(rytov_variance=0.1, regime="extreme"), "regime"),
    (tb.gamma_gamma_parameters, dict(rytov_variance=0.0), "rytov_variance"),
    (tb.uplink_beam_wander_variance_m2, dict(waist_radius_m=0.0, zenith_deg=0.0,
                                             upper_altitude_m=5e5), "waist_radius_m"),
    (tb.uplink_beam_wander_variance_m2, dict(waist_radius_m=0.1, zenith_deg=0.0,
                                             upper_altitude_m=-5e5), "upper_altitude_m"),
    (tb.beam_wander_std_per_axis_m, dict(beam_wander_variance_m2=-1.0), "beam_wander_variance_m2"),
    (tb.tracked_beam_wander_factor, dict(waist_radius_m=0.1, fried_parameter_m=0.1,
                                         tracking_constant=10.0), "tracking_constant"),
    (tb.tracked_beam_wander_factor, dict(waist_radius_m=0.1, fried_parameter_m=0.0),
     "fried_parameter_m"),
    (tb.long_term_beam_radius_m, dict(beam_radius_m=-1.0, waist_radius_m=0.1,
                                      fried_parameter_m=0.1), "beam_radius_m"),
    (tb.uplink_beam_wander_scintillation_term, dict(waist_radius_m=0.1, fried_parameter_m=0.1,
                                                    beam_wander_variance_m2=-1.0, beam_radius_m=1.0),
     "beam_wander_variance_m2"),
    (tb.sample_lognormal_fading, dict(scintillation_index=-0.1, size=10, rng=RNG),
     "scintillation_index"),
    (tb.sample_lognormal_fading, dict(scintillation_index=0.1, size=10, rng=None), "rng"),
    (tb.sample_lognormal_fading, dict(scintillation_index=0.1, size=-3, rng=RNG), "size"),
    (tb.sample_gamma_gamma_fading, dict(alpha=0.0, beta=1.0, size=10, rng=RNG), "alpha"),
    (tb.sample_gamma_gamma_fading, dict(alpha=1.0, beta=-1.0, size=10, rng=RNG), "beta"),
    (tb.sample_gamma_gamma_fading, dict(alpha=1.0, beta=1.0, size=10,
                                        rng=np.random.RandomState(0)), "rng"),
]


@pytest.mark.parametrize(("func", "kwargs", "name"), BAD_INPUTS,
                         ids=[f"{getattr(f, '__name__', 'f')}-{n}-{i}"
                              for i, (f, _, n) in enumerate(BAD_INPUTS)])
def test_bad_inputs_raise_naming_the_parameter(func, kwargs, name):
    with pytest.raises((InvalidParameter, InvalidType)) as info:
        func(**kwargs)
    assert name in str(info.value)
    assert info.value.name == name


def test_partial_profiles_are_accepted():
    """Any vectorised callable works as a profile, e.g. a functools.partial."""
    prof = functools.partial(tb.hufnagel_valley_cn2, rms_wind_m_s=21.0)
    assert tb.fried_parameter_m(wavelength_m=500e-9, zenith_deg=0.0, cn2_profile=prof) == \
        pytest.approx(tb.fried_parameter_m(wavelength_m=500e-9, zenith_deg=0.0), rel=1e-12)
