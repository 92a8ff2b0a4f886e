"""Tests of qproto.noise_models._background (docs/conventions.md §C.6)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qproto._errors import InvalidParameter, InvalidType
from qproto.noise_models import _background as bg

FAST = settings(max_examples=40, deadline=None)
EXAMPLE = dict(fov_full_angle_rad=100e-6, aperture_diameter_m=0.3, filter_width_nm=1.0, gate_s=1e-9)


@pytest.mark.parametrize(("radiance", "wavelength_m", "expected", "half_unit"), [
    (1e-2, 810e-9, 2.3e-2, 0.05e-2),
    (2e-3, 1550e-9, 8.7e-3, 0.05e-3),
    (1e-6, 810e-9, 2.3e-6, 0.05e-6),
])
def test_c6_examples(radiance, wavelength_m, expected, half_unit):
    """C.6: D = 0.3 m, FOV 100 urad, 1 nm, 1 ns: N_b = 2.3e-2 / 8.7e-3 / 2.3e-6."""
    nb = bg.background_photons_per_window(sky_radiance_w_m2_sr_nm=radiance,
                                          wavelength_m=wavelength_m, **EXAMPLE)
    assert nb == pytest.approx(expected, abs=half_unit)


def test_c6_examples_with_presets():
    """The day/night presets reproduce the C.6 examples."""
    day = bg.background_photons_per_window(
        sky_radiance_w_m2_sr_nm=bg.sky_radiance_w_m2_sr_nm("day_810nm"), wavelength_m=810e-9,
        **EXAMPLE)
    night = bg.background_photons_per_window(
        sky_radiance_w_m2_sr_nm=bg.sky_radiance_w_m2_sr_nm("full_moon_night"),
        wavelength_m=810e-9, **EXAMPLE)
    assert day == pytest.approx(2.3e-2, rel=0.03)
    assert night == pytest.approx(2.3e-6, rel=0.03)
    assert bg.SKY_RADIANCE_PRESETS_W_M2_SR_NM["moonless_night"] < \
        bg.SKY_RADIANCE_PRESETS_W_M2_SR_NM["full_moon_night"] < \
        bg.SKY_RADIANCE_PRESETS_W_M2_SR_NM["day_1550nm"] < bg.SKY_RADIANCE_PRESETS_W_M2_SR_NM["day_810nm"]


def test_formula_and_scalings():
    """N_b = H Omega A dl dt eta / (hc/lambda), linear in radiance, gate, filter, eta; ~ FOV^2 D^2."""
    kw = dict(sky_radiance_w_m2_sr_nm=1e-3, fov_full_angle_rad=50e-6, aperture_diameter_m=0.2,
              filter_width_nm=0.5, gate_s=2e-9, wavelength_m=850e-9, rx_efficiency=0.6)
    nb = bg.background_photons_per_window(**kw)
    e = 6.62607015e-34 * 299792458.0 / 850e-9
    assert nb == pytest.approx(1e-3 * math.pi * (50e-6) ** 2 / 4 * math.pi * 0.04 / 4 * 0.5 * 2e-9
                               * 0.6 / e)
    assert bg.photon_energy_j(850e-9) == pytest.approx(e)
    assert bg.background_photons_per_window(**{**kw, "fov_full_angle_rad": 100e-6}) == \
        pytest.approx(4 * nb)
    assert bg.background_photons_per_window(**{**kw, "aperture_diameter_m": 0.4}) == \
        pytest.approx(4 * nb)
    vec = bg.background_photons_per_window(**{**kw, "gate_s": np.array([1e-9, 2e-9, 4e-9])})
    np.testing.assert_allclose(vec, [nb / 2, nb, 2 * nb])


def test_fov_and_earth_radiance_helpers():
    assert bg.diffraction_limited_fov_rad(wavelength_m=810e-9, aperture_diameter_m=0.3) == \
        pytest.approx(2.44 * 810e-9 / 0.3)
    assert bg.lit_earth_radiance_w_m2_sr_nm(albedo=0.3, solar_spectral_irradiance_w_m2_nm=1.1) == \
        pytest.approx(0.3 * 1.1 / math.pi)


@FAST
@given(h=st.floats(min_value=0, max_value=1), eta=st.floats(min_value=0, max_value=1),
       g1=st.floats(min_value=1e-12, max_value=1e-6), g2=st.floats(min_value=1e-12, max_value=1e-6))
def test_background_non_negative_and_monotone_in_gate(h, eta, g1, g2):
    lo, hi = sorted((g1, g2))
    kw = dict(sky_radiance_w_m2_sr_nm=h, fov_full_angle_rad=1e-4, aperture_diameter_m=0.3,
              filter_width_nm=1.0, wavelength_m=810e-9, rx_efficiency=eta)
    a = bg.background_photons_per_window(gate_s=lo, **kw)
    b = bg.background_photons_per_window(gate_s=hi, **kw)
    assert 0 <= a <= b


BASE = dict(sky_radiance_w_m2_sr_nm=1e-2, fov_full_angle_rad=1e-4, aperture_diameter_m=0.3,
            filter_width_nm=1.0, gate_s=1e-9, wavelength_m=810e-9)
BAD_INPUTS = [
    (bg.sky_radiance_w_m2_sr_nm, dict(preset="dusk"), "preset"),
    (bg.photon_energy_j, dict(wavelength_m=0.0), "wavelength_m"),
    (bg.background_photons_per_window, {**BASE, "sky_radiance_w_m2_sr_nm": -1.0},
     "sky_radiance_w_m2_sr_nm"),
    (bg.background_photons_per_window, {**BASE, "fov_full_angle_rad": 0.0}, "fov_full_angle_rad"),
    (bg.background_photons_per_window, {**BASE, "aperture_diameter_m": -0.3}, "aperture_diameter_m"),
    (bg.background_photons_per_window, {**BASE, "filter_width_nm": 0.0}, "filter_width_nm"),
    (bg.background_photons_per_window, {**BASE, "gate_s": -1e-9}, "gate_s"),
    (bg.background_photons_per_window, {**BASE, "wavelength_m": np.inf}, "wavelength_m"),
    (bg.background_photons_per_window, {**BASE, "rx_efficiency": 1.5}, "rx_efficiency"),
    (bg.background_photons_per_window, {**BASE, "gate_s": "1ns"}, "gate_s"),
    (bg.diffraction_limited_fov_rad, dict(wavelength_m=810e-9, aperture_diameter_m=0.0),
     "aperture_diameter_m"),
    (bg.lit_earth_radiance_w_m2_sr_nm, dict(albedo=1.2, solar_spectral_irradiance_w_m2_nm=1.0),
     "albedo"),
    (bg.lit_earth_radiance_w_m2_sr_nm, dict(albedo=0.3, solar_spectral_irradiance_w_m2_nm=-1.0),
     "solar_spectral_irradiance_w_m2_nm"),
]


@pytest.mark.parametrize(("func", "kwargs", "name"), BAD_INPUTS,
                         ids=[f"{f.__name__}-{n}-{i}" for i, (f, _, n) in enumerate(BAD_INPUTS)])
def test_bad_inputs_raise_naming_the_parameter(func, kwargs, name):
    with pytest.raises((InvalidParameter, InvalidType)) as info:
        func(**kwargs)
    assert name in str(info.value)
    assert info.value.name == name
