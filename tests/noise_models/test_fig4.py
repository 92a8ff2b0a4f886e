"""Seed 001 Fig. 4: Greenwood frequency and Fried parameter against zenith angle."""

import importlib.util
import pathlib

import numpy as np
import pytest

from qproto import InvalidParameter
from qproto.noise_models import AO_BENCHMARK_BANDWIDTH_HZ, greenwood_fried_vs_zenith


@pytest.fixture(scope="module")
def curves():
    return greenwood_fried_vs_zenith()


def test_shapes_and_defaults(curves):
    assert curves.wavelength_m.tolist() == [810e-9, 1550e-9]
    assert curves.zenith_deg[0] == 0.0 and curves.zenith_deg[-1] == 80.0
    for a in (curves.greenwood_frequency_hz, curves.greenwood_frequency_no_slew_hz, curves.fried_parameter_m):
        assert a.shape == (2, curves.zenith_deg.size) and np.all(a > 0)


def test_1550_is_more_benign_than_810_at_every_zenith_angle(curves):
    f810, f1550 = curves.greenwood_frequency_hz
    r810, r1550 = curves.fried_parameter_m
    assert np.all(f1550 < f810) and np.all(r1550 > r810)
    # PHYSICS invariant 4: f_G ~ lambda^-6/5, r0 ~ lambda^6/5.
    np.testing.assert_allclose(f810 / f1550, (1550 / 810) ** 1.2, rtol=1e-9)
    np.testing.assert_allclose(r1550 / r810, (1550 / 810) ** 1.2, rtol=1e-9)


def test_monotone_in_zenith_angle(curves):
    assert np.all(np.diff(curves.fried_parameter_m, axis=1) < 0)
    assert np.all(np.diff(curves.greenwood_frequency_no_slew_hz, axis=1) > 0)
    assert np.all(np.diff(curves.slew_rate_rad_s) < 0)  # overhead pass: fastest at zenith
    assert np.all(curves.greenwood_frequency_hz > curves.greenwood_frequency_no_slew_hz)


def test_physics_reference_values(curves):
    r0 = curves.fried_parameter_m[:, 0]
    assert r0[0] == pytest.approx(0.0885, rel=0.02) and r0[1] == pytest.approx(0.193, rel=0.02)
    f0 = curves.greenwood_frequency_no_slew_hz[:, 0]
    assert f0[0] == pytest.approx(40, rel=0.05) and f0[1] == pytest.approx(18.5, rel=0.05)
    # 535 km overhead slew ~14 mrad/s (15.2 at 500 km): f_G a little below PHYSICS' 196 / 90 Hz.
    assert curves.slew_rate_rad_s[0] == pytest.approx(14.2e-3, rel=0.02)
    assert 170 < curves.greenwood_frequency_hz[0, 0] < 196 and 78 < curves.greenwood_frequency_hz[1, 0] < 90


def test_a_given_ao_bandwidth_reaches_at_least_as_far_at_1550(curves):
    for b in np.geomspace(20, 3000, 25):
        z810, z1550 = curves.max_zenith_deg(b)
        assert np.isnan(z810) or z1550 >= z810
        assert np.all(curves.ao_sufficient(b)[1] >= curves.ao_sufficient(b)[0])
    z = curves.max_zenith_deg(AO_BENCHMARK_BANDWIDTH_HZ)
    assert z.tolist() == [80.0, 80.0]  # seed: 1.5 kHz suffices at 1550 nm to 80 deg (also 810 nm here)
    assert np.isnan(curves.max_zenith_deg(100.0)[0]) and 50 < curves.max_zenith_deg(100.0)[1] < 80


def test_seed_conclusion_a_loop_serving_1550_to_80_deg_serves_810_only_at_small_zenith(curves):
    """Seed 001 Fig. 4: the AO bandwidth that corrects 1550 nm at all practical zenith angles
    (< 80 deg) corrects 810 nm only at small zenith angles (seed: below 60 deg; here 44 deg)."""
    just_enough = curves.greenwood_frequency_hz[1].max()
    z810, z1550 = curves.max_zenith_deg(just_enough)
    assert z1550 == 80.0
    assert 20.0 <= z810 <= 70.0


def test_slew_pseudo_wind_follows_the_line_of_sight(curves):
    """The slew pseudo-wind grows with the slant distance (h - h0) sec(zenith), so f_G with
    slew rises away from zenith although the slew rate falls."""
    f = curves.greenwood_frequency_hz
    k30 = int(np.flatnonzero(curves.zenith_deg == 30.0)[0])
    assert np.all(np.diff(f[:, k30:], axis=1) > 0)
    assert np.all(f[:, -1] > 2 * f[:, 0])


def test_bad_inputs():
    with pytest.raises(InvalidParameter, match="zenith_deg"):
        greenwood_fried_vs_zenith(zenith_deg=[0.0, 90.0])
    with pytest.raises(InvalidParameter, match="wavelength_m"):
        greenwood_fried_vs_zenith(wavelength_m=[-1.0])
    with pytest.raises(InvalidParameter, match="bandwidth_hz"):
        greenwood_fried_vs_zenith(zenith_deg=[0.0]).max_zenith_deg(0.0)


def test_script_writes_the_figure_and_states_the_conclusion(tmp_path, capsys):
    path = pathlib.Path(__file__).parents[2] / "benchmarks" / "fig4_greenwood_fried.py"
    spec = importlib.util.spec_from_file_location("fig4_greenwood_fried", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out_png = tmp_path / "fig4.png"
    assert module.main(["--plot", str(out_png)]) == 0
    out = capsys.readouterr().out
    assert out_png.stat().st_size > 1000
    assert "lower Greenwood frequency at every zenith angle: True" in out
    assert "longer Fried parameter at every zenith angle: True" in out
    assert "AO bandwidth 200 Hz suffices: 810 nm up to 57 deg zenith; 1550 nm up to 80 deg zenith" in out
    assert "needs 189 Hz, and it serves 810 nm up to 44 deg zenith" in out
    assert "Differs from the seed" in out and "seed: only below 60 deg" in out
