"""Tests of qproto.noise_models._pointing (docs/conventions.md §C.3, invariant 2)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qproto._errors import InvalidParameter, InvalidType
from qproto.noise_models import _optics as opt
from qproto.noise_models import _pointing as pt

FAST = settings(max_examples=40, deadline=None)


@pytest.mark.parametrize(("jitter_rad", "range_m", "w", "expected"), [
    (3.3e-6, 900e3, 9.0, 0.70),
    (3.3e-6, 24.8e3, 0.82, 0.96),
    (10e-6, 900e3, 9.0, 0.20),
    (10e-6, 24.8e3, 0.82, 0.73),
])
def test_c3_small_aperture_examples(jitter_rad, range_m, w, expected):
    """C.3 examples: small-aperture factor 0.70, 0.96, 0.20, 0.73."""
    f = pt.mean_pointing_factor_small_aperture(beam_radius_m=w, jitter_rad=jitter_rad,
                                               range_m=range_m)
    assert f == pytest.approx(expected, abs=0.005)


def test_farid_hranilovic_reduces_to_small_aperture_limit():
    """For a << w: A0 -> D^2/(2 w^2) (= eta_geo), w_eq -> w, mean factor -> small-aperture limit."""
    D, w = 1e-3, 9.0
    a0, w_eq = pt.pointing_loss_parameters(aperture_diameter_m=D, beam_radius_m=w)
    assert a0 == pytest.approx(opt.collection_efficiency(aperture_diameter_m=D, beam_radius_m=w),
                               rel=1e-6)
    assert w_eq == pytest.approx(w, rel=1e-6)
    kw = dict(beam_radius_m=w, jitter_rad=3.3e-6, range_m=900e3)
    assert pt.mean_pointing_factor(aperture_diameter_m=D, **kw) == pytest.approx(
        pt.mean_pointing_factor_small_aperture(**kw), rel=1e-6)


def test_mean_transmittance_formula():
    """E[h_p] = A0 xi^2 / (xi^2 + 1), xi = w_eq / (2 sigma_s)."""
    D, w, sig, L = 0.3, 0.82, 10e-6, 24.8e3
    a0, w_eq = pt.pointing_loss_parameters(aperture_diameter_m=D, beam_radius_m=w)
    xi2 = (w_eq / (2 * sig * L)) ** 2
    mean = pt.mean_pointing_transmittance(aperture_diameter_m=D, beam_radius_m=w, jitter_rad=sig,
                                          range_m=L)
    assert mean == pytest.approx(a0 * xi2 / (xi2 + 1))
    assert pt.mean_pointing_factor(aperture_diameter_m=D, beam_radius_m=w, jitter_rad=sig,
                                   range_m=L) == pytest.approx(xi2 / (xi2 + 1))


def test_sampler_mean_and_support():
    """Samples lie in [0, A0] and their mean matches A0 xi^2/(xi^2+1) (5 sigma)."""
    kw = dict(aperture_diameter_m=0.3, beam_radius_m=0.82, jitter_rad=10e-6, range_m=24.8e3)
    n = 200_000
    x = pt.sample_pointing_transmittance(**kw, size=n, rng=np.random.default_rng(7))
    a0, _ = pt.pointing_loss_parameters(aperture_diameter_m=0.3, beam_radius_m=0.82)
    assert x.shape == (n,)
    assert np.all((x >= 0) & (x <= a0 + 1e-15))
    mean = pt.mean_pointing_transmittance(**kw)
    assert abs(x.mean() - mean) <= 5 * x.std() / np.sqrt(n)
    y = pt.sample_pointing_transmittance(**kw, size=n, rng=np.random.default_rng(7),
                                         include_collection=False)
    np.testing.assert_allclose(y * a0, x)


def test_sampler_reproducible_and_boresight_offset_reduces_mean():
    kw = dict(aperture_diameter_m=0.35, beam_radius_m=9.0, jitter_rad=3.3e-6, range_m=900e3,
              size=50_000)
    a = pt.sample_pointing_transmittance(**kw, rng=np.random.default_rng(1))
    b = pt.sample_pointing_transmittance(**kw, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    c = pt.sample_pointing_transmittance(**kw, rng=np.random.default_rng(1), boresight_offset_m=5.0)
    assert c.mean() < a.mean()


def test_beam_wander_adds_in_quadrature():
    assert pt.displacement_std_m(jitter_rad=3e-6, range_m=1e6, beam_wander_std_m=4.0) == \
        pytest.approx(5.0)
    f1 = pt.mean_pointing_factor_small_aperture(beam_radius_m=9.0, jitter_rad=3e-6, range_m=1e6,
                                                beam_wander_std_m=4.0)
    f2 = pt.mean_pointing_factor_small_aperture(beam_radius_m=9.0, jitter_rad=5e-6, range_m=1e6)
    assert f1 == pytest.approx(f2)


def test_named_levels():
    """Weak = 3.3 urad (seed 001); moderate and strong are documented assumptions, increasing."""
    assert pt.pointing_jitter_rad("weak") == 3.3e-6
    levels = [pt.pointing_jitter_rad(k) for k in ("weak", "moderate", "strong")]
    assert levels == sorted(levels) and len(set(levels)) == 3
    assert set(pt.POINTING_JITTER_LEVELS_RAD) == {"weak", "moderate", "strong"}
    with pytest.raises(TypeError):
        pt.POINTING_JITTER_LEVELS_RAD["weak"] = 1.0  # type: ignore[index]


@FAST
@given(D=st.floats(min_value=1e-3, max_value=2.0), w=st.floats(min_value=1e-2, max_value=100.0),
       s1=st.floats(min_value=0.0, max_value=1e-4), s2=st.floats(min_value=0.0, max_value=1e-4),
       L=st.floats(min_value=1e3, max_value=2e6))
def test_invariant2_pointing_factors_in_unit_interval_and_monotone(D, w, s1, s2, L):
    """Invariant 2: pointing factors lie in [0, 1] and do not increase with jitter."""
    lo, hi = sorted((s1, s2))
    kw = dict(aperture_diameter_m=D, beam_radius_m=w, range_m=L)
    f_lo = pt.mean_pointing_factor(jitter_rad=lo, **kw)
    f_hi = pt.mean_pointing_factor(jitter_rad=hi, **kw)
    t_lo = pt.mean_pointing_transmittance(jitter_rad=lo, **kw)
    for f in (f_lo, f_hi, t_lo):
        assert 0.0 <= f <= 1.0
    assert f_hi <= f_lo + 1e-15
    a0, _ = pt.pointing_loss_parameters(aperture_diameter_m=D, beam_radius_m=w)
    assert t_lo <= a0 + 1e-15


BAD_INPUTS = [
    (pt.pointing_jitter_rad, dict(level="severe"), "level"),
    (pt.displacement_std_m, dict(jitter_rad=-1e-6, range_m=1e3), "jitter_rad"),
    (pt.displacement_std_m, dict(jitter_rad=1e-6, range_m=-1e3), "range_m"),
    (pt.displacement_std_m, dict(jitter_rad=1e-6, range_m=1e3, beam_wander_std_m=-1.0),
     "beam_wander_std_m"),
    (pt.pointing_loss_parameters, dict(aperture_diameter_m=0.0, beam_radius_m=1.0),
     "aperture_diameter_m"),
    (pt.pointing_loss_parameters, dict(aperture_diameter_m=0.1, beam_radius_m=-1.0),
     "beam_radius_m"),
    (pt.mean_pointing_transmittance, dict(aperture_diameter_m=-0.1, beam_radius_m=1.0,
                                          jitter_rad=1e-6, range_m=1e3), "aperture_diameter_m"),
    (pt.mean_pointing_factor, dict(aperture_diameter_m=0.1, beam_radius_m=1.0,
                                   jitter_rad=[1e-6, np.inf], range_m=1e3), "jitter_rad"),
    (pt.mean_pointing_factor_small_aperture, dict(beam_radius_m=0.0, jitter_rad=1e-6,
                                                  range_m=1e3), "beam_radius_m"),
    (pt.sample_pointing_transmittance, dict(aperture_diameter_m=0.1, beam_radius_m=1.0,
                                            jitter_rad=1e-6, range_m=1e3, size=10, rng=42), "rng"),
    (pt.sample_pointing_transmittance, dict(aperture_diameter_m=0.1, beam_radius_m=1.0,
                                            jitter_rad=1e-6, range_m=1e3, size=-1,
                                            rng=np.random.default_rng(0)), "size"),
    (pt.sample_pointing_transmittance, dict(aperture_diameter_m=0.1, beam_radius_m=1.0,
                                            jitter_rad=1e-6, range_m=1e3, size=2.5,
                                            rng=np.random.default_rng(0)), "size"),
    (pt.sample_pointing_transmittance, dict(aperture_diameter_m=0.1, beam_radius_m=1.0,
                                            jitter_rad=1e-6, range_m=1e3, size=5,
                                            rng=np.random.default_rng(0), boresight_offset_m=-1.0),
     "boresight_offset_m"),
    (pt.sample_pointing_transmittance, dict(aperture_diameter_m=0.1, beam_radius_m=1.0,
                                            jitter_rad=1e-6, range_m=1e3, size=5,
                                            rng=np.random.default_rng(0), include_collection="no"),
     "include_collection"),
]


@pytest.mark.parametrize(("func", "kwargs", "name"), BAD_INPUTS,
                         ids=[f"{f.__name__}-{n}-{i}" for i, (f, _, n) in enumerate(BAD_INPUTS)])
def test_bad_inputs_raise_naming_the_parameter(func, kwargs, name):
    with pytest.raises((InvalidParameter, InvalidType)) as info:
        func(**kwargs)
    assert name in str(info.value)
    assert info.value.name == name
