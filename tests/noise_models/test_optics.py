"""Tests of qproto.noise_models._optics (docs/conventions.md §C.2, invariant 2)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qproto._errors import InvalidParameter, InvalidType
from qproto.noise_models import _optics as opt

FAST = settings(max_examples=40, deadline=None)


# --------------------------------------------------------------------------- C.2 example

def test_c2_example_half_angle():
    """C.2: 33 urad half-angle over 24.8 km: w = 0.82 m; D = 0.1/0.2/0.3 m -> -21.3/-15.3/-11.9 dB."""
    w = opt.far_field_beam_radius_m(range_m=24.8e3, divergence_half_angle_rad=33e-6)
    assert w == pytest.approx(0.82, abs=0.005)
    eta = opt.collection_efficiency(aperture_diameter_m=[0.1, 0.2, 0.3], beam_radius_m=w)
    np.testing.assert_allclose(-opt.transmittance_to_loss_db(eta), [-21.3, -15.3, -11.9], atol=0.05)


def test_c2_example_full_angle_row():
    """C.2: the same 33 urad read as a *full* angle: -15.3/-9.5/-6.3 dB."""
    half = opt.divergence_half_angle_from_full_angle(full_angle_rad=33e-6)
    assert half == pytest.approx(16.5e-6)
    w = opt.far_field_beam_radius_m(range_m=24.8e3, divergence_half_angle_rad=half)
    eta = opt.collection_efficiency(aperture_diameter_m=[0.1, 0.2, 0.3], beam_radius_m=w)
    np.testing.assert_allclose(-opt.transmittance_to_loss_db(eta), [-15.3, -9.5, -6.3], atol=0.05)


def test_full_angle_conversion_is_keyword_only():
    with pytest.raises(TypeError):
        opt.divergence_half_angle_from_full_angle(33e-6)  # type: ignore[misc]


def test_fwhm_conversion():
    """FWHM of exp(-2 r^2/w^2) is w sqrt(2 ln 2)."""
    theta = 10e-6
    fwhm = theta * math.sqrt(2 * math.log(2))
    assert opt.divergence_half_angle_from_fwhm(fwhm_full_angle_rad=fwhm) == pytest.approx(theta)


def test_gaussian_beam_relations():
    """z_R = pi w0^2/lambda, w(z_R) = sqrt(2) w0, far field w -> theta L with theta = lambda/(pi w0)."""
    w0, lam = 0.045, 810e-9
    z_r = opt.rayleigh_range_m(waist_radius_m=w0, wavelength_m=lam)
    assert z_r == pytest.approx(math.pi * w0**2 / lam)
    assert opt.beam_radius_m(range_m=z_r, waist_radius_m=w0, wavelength_m=lam) == pytest.approx(
        math.sqrt(2) * w0)
    assert opt.beam_radius_m(range_m=0.0, waist_radius_m=w0, wavelength_m=lam) == pytest.approx(w0)
    theta = opt.far_field_divergence_half_angle_rad(waist_radius_m=w0, wavelength_m=lam)
    assert theta == pytest.approx(lam / (math.pi * w0))
    far = opt.beam_radius_m(range_m=1e6, waist_radius_m=w0, wavelength_m=lam)
    assert far == pytest.approx(opt.far_field_beam_radius_m(range_m=1e6,
                                                            divergence_half_angle_rad=theta), rel=1e-4)
    assert opt.waist_radius_from_divergence_m(divergence_half_angle_rad=theta,
                                              wavelength_m=lam) == pytest.approx(w0)


def test_small_aperture_limit_and_db_round_trip():
    eta = opt.collection_efficiency(aperture_diameter_m=1e-3, beam_radius_m=10.0)
    assert eta == pytest.approx(1e-6 / 200.0, rel=1e-6)
    assert opt.loss_db_to_transmittance(opt.transmittance_to_loss_db(0.37)) == pytest.approx(0.37)
    assert opt.transmittance_to_loss_db(0.0) == math.inf


# --------------------------------------------------------------------------- invariant 2

pos = st.floats(min_value=1e-4, max_value=1e4)


@FAST
@given(D=st.floats(min_value=0.0, max_value=10.0), L1=st.floats(min_value=1.0, max_value=4e7),
       L2=st.floats(min_value=1.0, max_value=4e7), th1=st.floats(min_value=1e-7, max_value=1e-2),
       th2=st.floats(min_value=1e-7, max_value=1e-2))
def test_invariant2_eta_geo_bounded_and_monotone(D, L1, L2, th1, th2):
    """Invariant 2: eta_geo in [0, 1]; decreases with range and divergence, increases with D."""
    def eta(D_, L, th):
        w = opt.far_field_beam_radius_m(range_m=L, divergence_half_angle_rad=th)
        return opt.collection_efficiency(aperture_diameter_m=D_, beam_radius_m=w)

    e = eta(D, L1, th1)
    assert 0.0 <= e <= 1.0
    (la, lb), (ta, tb) = sorted((L1, L2)), sorted((th1, th2))
    assert eta(D, la, th1) >= eta(D, lb, th1)
    assert eta(D, L1, ta) >= eta(D, L1, tb)
    assert eta(D * 1.5 + 1e-3, L1, th1) >= e


@FAST
@given(tx=st.floats(min_value=0.0, max_value=1.0), rx=st.floats(min_value=0.0, max_value=1.0))
def test_invariant2_optics_efficiency_product_in_unit_interval(tx, rx):
    """Invariant 2: every eta factor and their product lie in [0, 1]."""
    p = opt.optics_efficiency(tx_efficiency=tx, rx_efficiency=rx)
    assert 0.0 <= p <= 1.0
    assert p == pytest.approx(tx * rx)


@FAST
@given(w0=st.floats(min_value=1e-3, max_value=1.0), lam=st.floats(min_value=300e-9, max_value=2e-6),
       L=st.floats(min_value=0.0, max_value=1e7))
def test_beam_radius_at_least_waist_and_far_field(w0, lam, L):
    w = opt.beam_radius_m(range_m=L, waist_radius_m=w0, wavelength_m=lam)
    theta = opt.far_field_divergence_half_angle_rad(waist_radius_m=w0, wavelength_m=lam)
    assert w >= w0 * (1 - 1e-12)
    assert w >= theta * L * (1 - 1e-12)


# --------------------------------------------------------------------------- bad inputs

BAD_INPUTS = [
    (opt.rayleigh_range_m, dict(waist_radius_m=0.0, wavelength_m=810e-9), "waist_radius_m"),
    (opt.rayleigh_range_m, dict(waist_radius_m=0.01, wavelength_m=-1.0), "wavelength_m"),
    (opt.beam_radius_m, dict(range_m=-1.0, waist_radius_m=0.01, wavelength_m=810e-9), "range_m"),
    (opt.beam_radius_m, dict(range_m=[1.0, np.nan], waist_radius_m=0.01, wavelength_m=810e-9),
     "range_m"),
    (opt.far_field_divergence_half_angle_rad, dict(waist_radius_m=-0.01, wavelength_m=810e-9),
     "waist_radius_m"),
    (opt.waist_radius_from_divergence_m, dict(divergence_half_angle_rad=0.0, wavelength_m=810e-9),
     "divergence_half_angle_rad"),
    (opt.far_field_beam_radius_m, dict(range_m=1e3, divergence_half_angle_rad=-1e-6),
     "divergence_half_angle_rad"),
    (opt.divergence_half_angle_from_full_angle, dict(full_angle_rad=0.0), "full_angle_rad"),
    (opt.divergence_half_angle_from_fwhm, dict(fwhm_full_angle_rad=-1.0), "fwhm_full_angle_rad"),
    (opt.collection_efficiency, dict(aperture_diameter_m=-0.1, beam_radius_m=1.0),
     "aperture_diameter_m"),
    (opt.collection_efficiency, dict(aperture_diameter_m=0.1, beam_radius_m=0.0), "beam_radius_m"),
    (opt.collection_efficiency, dict(aperture_diameter_m="big", beam_radius_m=1.0),
     "aperture_diameter_m"),
    (opt.optics_efficiency, dict(tx_efficiency=1.2), "tx_efficiency"),
    (opt.optics_efficiency, dict(rx_efficiency=-0.1), "rx_efficiency"),
    (opt.transmittance_to_loss_db, dict(transmittance=1.5), "transmittance"),
    (opt.loss_db_to_transmittance, dict(loss_db=-3.0), "loss_db"),
]


@pytest.mark.parametrize(("func", "kwargs", "name"), BAD_INPUTS,
                         ids=[f"{f.__name__}-{n}-{i}" for i, (f, _, n) in enumerate(BAD_INPUTS)])
def test_bad_inputs_raise_naming_the_parameter(func, kwargs, name):
    with pytest.raises((InvalidParameter, InvalidType)) as info:
        func(**kwargs)
    assert name in str(info.value)
    assert info.value.name == name
