"""Tests of qproto.noise_models._detectors (docs/conventions.md §C.7, invariant 2)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qproto._errors import InvalidParameter, InvalidType
from qproto.noise_models import _detectors as det

FAST = settings(max_examples=40, deadline=None)


def test_presets_within_physics_ranges():
    """C.7 typical ranges: Si SPAD 0.4-0.65 / 10-500 Hz; InGaAs 0.1-0.3; SNSPD 0.8-0.95 / <=100 Hz."""
    si, ingaas, snspd = (det.get_detector(n) for n in ("si_spad", "ingaas_spad", "snspd"))
    assert 0.4 <= si.efficiency <= 0.65 and 10 <= si.dark_count_rate_hz <= 500
    assert 0.1 <= ingaas.efficiency <= 0.3
    assert 0.8 <= snspd.efficiency <= 0.95 and snspd.dark_count_rate_hz <= 100
    assert set(det.DETECTOR_PRESETS) == {"si_spad", "ingaas_spad", "snspd"}


def test_detector_is_frozen_and_round_trips():
    d = det.Detector("x", efficiency=0.5, dark_count_rate_hz=10)
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.efficiency = 0.9  # type: ignore[misc]
    assert eval(repr(d), {"Detector": det.Detector}) == d
    assert isinstance(d.dark_count_rate_hz, float)
    assert dataclasses.replace(d, efficiency=0.7).efficiency == 0.7


def test_noise_formulas():
    """C.7: p_n = R_dark dt + eta N_b / n_det; Y0 = 1 - (1 - p_n)^n_det ~ n_det p_n."""
    d = det.Detector("d", efficiency=0.5, dark_count_rate_hz=100.0)
    assert det.dark_count_probability(dark_count_rate_hz=100.0, gate_s=1e-9) == pytest.approx(1e-7)
    pn = det.noise_click_probability(detector=d, background_photons=2.3e-2, gate_s=1e-9)
    assert pn == pytest.approx(1e-7 + 0.5 * 2.3e-2 / 2)
    y0 = det.vacuum_yield(noise_click_probability=pn)
    assert y0 == pytest.approx(1 - (1 - pn) ** 2)
    assert det.vacuum_yield(noise_click_probability=1e-9) == pytest.approx(2e-9, rel=1e-8)
    assert det.vacuum_yield(noise_click_probability=1.0) == 1.0
    pn4 = det.noise_click_probability(detector=d, background_photons=[0.0, 0.1], gate_s=1e-9,
                                      n_detectors=4)
    np.testing.assert_allclose(pn4, [1e-7, 1e-7 + 0.5 * 0.1 / 4])
    assert det.noise_click_probability(detector=d, background_photons=1e3, gate_s=1e-9) == 1.0


@FAST
@given(eff=st.floats(min_value=0, max_value=1), rate=st.floats(min_value=0, max_value=1e5),
       nb1=st.floats(min_value=0, max_value=10), nb2=st.floats(min_value=0, max_value=10),
       n=st.integers(min_value=1, max_value=8))
def test_invariant2_noise_probabilities_in_unit_interval_and_monotone(eff, rate, nb1, nb2, n):
    """Invariant 2 (probabilities): p_n, Y0 in [0, 1], non-decreasing in background."""
    d = det.Detector("d", efficiency=eff, dark_count_rate_hz=rate)
    lo, hi = sorted((nb1, nb2))
    p_lo, p_hi = det.noise_click_probability(detector=d, background_photons=[lo, hi], gate_s=1e-9,
                                             n_detectors=n)
    assert 0 <= p_lo <= p_hi <= 1
    y_lo, y_hi = det.vacuum_yield(noise_click_probability=[p_lo, p_hi], n_detectors=n)
    assert 0 <= y_lo <= y_hi <= 1
    assert y_lo >= p_lo * (1 - 1e-12)


D = det.Detector("d", efficiency=0.5, dark_count_rate_hz=100.0)
BAD_INPUTS = [
    (det.Detector, dict(name="d", efficiency=1.5, dark_count_rate_hz=1.0), "efficiency"),
    (det.Detector, dict(name="d", efficiency=0.5, dark_count_rate_hz=-1.0), "dark_count_rate_hz"),
    (det.Detector, dict(name="d", efficiency=0.5, dark_count_rate_hz=1.0, dead_time_s=-1e-9),
     "dead_time_s"),
    (det.Detector, dict(name="d", efficiency=0.5, dark_count_rate_hz=1.0,
                        afterpulse_probability=2.0), "afterpulse_probability"),
    (det.Detector, dict(name=3, efficiency=0.5, dark_count_rate_hz=1.0), "name"),
    (det.get_detector, dict(name="pmt"), "name"),
    (det.dark_count_probability, dict(dark_count_rate_hz=-1.0, gate_s=1e-9), "dark_count_rate_hz"),
    (det.dark_count_probability, dict(dark_count_rate_hz=1.0, gate_s=0.0), "gate_s"),
    (det.dark_count_probability, dict(dark_count_rate_hz=1e6, gate_s=1e-3), "gate_s"),
    (det.noise_click_probability, dict(detector="si_spad", background_photons=0.0, gate_s=1e-9),
     "detector"),
    (det.noise_click_probability, dict(detector=D, background_photons=-1.0, gate_s=1e-9),
     "background_photons"),
    (det.noise_click_probability, dict(detector=D, background_photons=0.0, gate_s=1e-9,
                                       n_detectors=0), "n_detectors"),
    (det.noise_click_probability, dict(detector=D, background_photons=0.0, gate_s=1e-9,
                                       n_detectors=2.0), "n_detectors"),
    (det.vacuum_yield, dict(noise_click_probability=1.1), "noise_click_probability"),
    (det.vacuum_yield, dict(noise_click_probability=0.1, n_detectors=-1), "n_detectors"),
]


@pytest.mark.parametrize(("func", "kwargs", "name"), BAD_INPUTS,
                         ids=[f"{f.__name__}-{n}-{i}" for i, (f, _, n) in enumerate(BAD_INPUTS)])
def test_bad_inputs_raise_naming_the_parameter(func, kwargs, name):
    with pytest.raises((InvalidParameter, InvalidType)) as info:
        func(**kwargs)
    assert name in str(info.value)
    assert info.value.name == name
