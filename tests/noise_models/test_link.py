"""Links, loss budgets, passes and presets (noise_models/_link.py).

Hand computations use only docs/conventions.md formulas and numbers (C.1-C.7), not the library.
"""

import dataclasses
import json
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from qproto import Channel, InvalidParameter, InvalidType
from qproto.noise_models import (
    LINKS,
    PRESET_SOURCES,
    Detector,
    Link,
    LossBudget,
    PassChannels,
    available_links,
    channel_noise_model,
    get_detector,
    get_link,
    pass_duration_s,
    pointing_jitter_rad,
    register_link,
)
from qproto.noise_models._link import _LINKS

PRESETS = ["leo-ground-down", "leo-ground-up", "leo-haps", "leo-laps", "haps-laps", "haps-ground",
           "inter-satellite"]
R_E = 6371e3
H_PLANCK, C_LIGHT = 6.62607015e-34, 299_792_458.0


def _n_b(link, radiance):
    """PHYSICS C.6 background photons per window."""
    omega = math.pi * link.fov_full_angle_rad**2 / 4
    area = math.pi * link.rx_aperture_m**2 / 4
    return (radiance * omega * area * link.filter_width_nm * link.gate_s * link.rx_optics_efficiency
            / (H_PLANCK * C_LIGHT / link.wavelength_m))


def _y0(link, radiance):
    """PHYSICS C.7: p_n = p_dark + eta_det N_b / n_det, Y0 = 1 - (1 - p_n)^n_det."""
    det = link.detector
    p_n = det.dark_count_rate_hz * link.gate_s + det.efficiency * _n_b(link, radiance) / link.n_detectors
    return 1 - (1 - p_n) ** link.n_detectors


def _p_eff(eta, y0, e_d):
    """PHYSICS C.8(b) (with the Channel's signal-priority click model)."""
    s = eta / (eta + (1 - eta) * y0)
    return 1 - s * (1 - 2 * e_d)


# --------------------------------------------------------------------------- registry, presets

def test_presets_are_registered():
    assert set(PRESETS) <= set(LINKS)
    assert available_links() == sorted(LINKS)
    for name in PRESETS:
        link = get_link(name)
        assert isinstance(link, Link) and link.name == name and link.description
        assert PRESET_SOURCES[name] and dict(link.sources)


def test_unknown_preset_lists_the_names():
    with pytest.raises(InvalidParameter, match="unknown link 'leo-mars'; available: .*leo-haps"):
        get_link("leo-mars")
    with pytest.raises(InvalidType):
        get_link(3)


def test_register_link_refuses_duplicates_and_overwrites_on_request():
    link = get_link("haps-laps").replace(name="test-extra-link")
    try:
        assert register_link(link) is link and get_link("test-extra-link") is link
        with pytest.raises(InvalidParameter, match="already registered"):
            register_link(link)
        other = link.replace(rx_aperture_m=0.2)
        register_link(other, overwrite=True)
        assert get_link("test-extra-link").rx_aperture_m == 0.2
    finally:
        _LINKS.pop("test-extra-link", None)
    with pytest.raises(InvalidType):
        register_link("haps-laps")


def test_leo_haps_matches_seed_scenario():
    link = get_link("leo-haps")
    assert link.upper_altitude_m == 535e3 and link.lower_altitude_m == 20e3
    assert link.tx_aperture_m == 0.09 and link.rx_aperture_m == 0.35
    assert link.divergence_half_angle_rad == pytest.approx(16.5e-6)  # 33 urad full angle
    assert link.wavelength_m == 810e-9 and not link.atmosphere and not link.turbulence
    assert link.geometry == "orbit" and link.direction == "down"
    assert link.pointing_jitter_rad == pointing_jitter_rad("weak") == 3.3e-6


def test_haps_laps_matches_seed_scenario():
    link = get_link("haps-laps")
    assert link.upper_altitude_m == 20e3 and link.lower_altitude_m == 1e3
    assert link.nominal_elevation_deg == 50.0  # zenith 40 deg
    assert link.divergence_half_angle_rad == pytest.approx(16.5e-6)
    assert link.wavelength_m == 810e-9 and link.geometry == "fixed"
    assert link.range_m() == pytest.approx(24.78e3, abs=10)  # PHYSICS C.1


# --------------------------------------------------------------------------- hand-computed budgets

def test_leo_haps_budget_at_zenith_by_hand():
    link = get_link("leo-haps")
    b = link.budget()
    assert b.elevation_deg == 90.0 and b.range_m == pytest.approx(515e3)
    theta, L, D = 16.5e-6, 515e3, 0.35
    w0 = 810e-9 / (math.pi * theta)
    w = w0 * math.sqrt(1 + (L / (math.pi * w0**2 / 810e-9)) ** 2)  # PHYSICS C.2
    assert b.beam_radius_m == pytest.approx(w, rel=1e-9) and w == pytest.approx(theta * L, rel=1e-3)
    assert b.geometric == pytest.approx(1 - math.exp(-D**2 / (2 * w**2)), rel=1e-9)
    assert b.factors_db["geometric"] == pytest.approx(30.72, abs=0.01)
    # PHYSICS C.3 small-aperture pointing factor, weak PE with the 16.5 urad beam: 0.86.
    assert b.pointing == pytest.approx(theta**2 / (theta**2 + 4 * 3.3e-6**2), rel=1e-3)
    assert b.atmosphere == 1.0 and b.turbulence == 1.0 and b.scintillation_index == 0.0
    assert b.fried_parameter_m is None
    # Receiver optics 0.5 and Y0 = 6e-7 stated directly (the [T22] values quoted in issue 11).
    eta_ch = 0.8 * b.geometric * b.pointing * 0.5
    assert b.transmittance == pytest.approx(eta_ch, rel=1e-12)
    assert b.total_transmittance == pytest.approx(0.5 * eta_ch, rel=1e-12)
    assert b.loss_db == pytest.approx(sum(b.factors_db.values()), rel=1e-9)
    # 30.72 (geometric) + 0.64 (pointing) + 0.97 (tx 0.8) + 3.01 (rx 0.5) + 3.01 (detector 0.5)
    assert b.loss_db == pytest.approx(30.72 + 0.64 + 0.97 + 3.01 + 3.01, abs=0.01)
    y0 = 6e-7
    assert b.noise_click == y0
    # The background model is bypassed: the computed Y0 of the same receiver differs.
    assert _y0(link.replace(noise_click=None), 1e-6) != pytest.approx(y0, rel=0.1)
    assert b.effective_depolarisation == pytest.approx(_p_eff(b.total_transmittance, y0, 0.01), rel=1e-9)
    assert b.qber == pytest.approx(b.effective_depolarisation / 2)


def test_leo_haps_ranges_match_physics_c1():
    link = get_link("leo-haps")
    for elev, km in [(10, 1733), (20, 1224), (30, 935), (45, 703), (90, 515)]:
        assert link.range_m(elevation_deg=elev) / 1e3 == pytest.approx(km, abs=1.0)
    b33 = link.budget(elevation_deg=33.0)
    d = math.sqrt((R_E + 535e3) ** 2 - ((R_E + 20e3) * math.cos(math.radians(33))) ** 2) \
        - (R_E + 20e3) * math.sin(math.radians(33))
    assert b33.range_m == pytest.approx(d, rel=1e-12)
    assert b33.geometric == pytest.approx(0.35**2 / (2 * (16.5e-6 * d) ** 2), rel=2e-3)
    assert b33.loss_db > link.budget().loss_db


def test_haps_laps_budget_by_hand():
    link = get_link("haps-laps")
    b = link.budget()
    zen = 40.0
    L = math.sqrt((R_E + 20e3) ** 2 - ((R_E + 1e3) * math.sin(math.radians(zen))) ** 2) \
        - (R_E + 1e3) * math.cos(math.radians(zen))
    assert b.range_m == pytest.approx(L, rel=1e-9)
    # PHYSICS C.2: 33 urad read as a full angle, D = 0.1 m at 24.8 km: -15.3 dB.
    assert b.factors_db["geometric"] == pytest.approx(15.3, abs=0.05)
    assert b.pointing == pytest.approx(0.862, rel=1e-2)  # PHYSICS C.3 small-aperture value
    # PHYSICS C.4: T = T_zen^(AM (e^-h1/Hs - e^-h2/Hs)), Kasten-Young airmass, T_zen(810) = 0.814.
    am = 1 / (math.cos(math.radians(zen)) + 0.50572 * (96.07995 - zen) ** -1.6364)
    t_atm = 0.814 ** (am * (math.exp(-1e3 / 1.5e3) - math.exp(-20e3 / 1.5e3)))
    assert b.atmosphere == pytest.approx(t_atm, rel=1e-9)
    assert b.turbulence == 1.0  # downlink: no broadening
    assert b.fried_parameter_m > 0.2  # PHYSICS C.5: 23.5 cm at 810 nm (spherical wave)
    assert b.scintillation_index == pytest.approx(0.085, rel=0.1)  # PHYSICS C.5: sigma_R^2 = 0.085
    assert b.noise_click == pytest.approx(_y0(link, 1e-6), rel=1e-9)
    day = link.replace(sky_radiance_w_m2_sr_nm=1e-2).budget()
    assert day.noise_click == pytest.approx(_y0(link, 1e-2), rel=1e-9)
    assert day.qber > b.qber and day.transmittance == b.transmittance


def test_haps_laps_half_angle_reading_gives_the_other_physics_c2_value():
    link = get_link("haps-laps").replace(divergence_half_angle_rad=33e-6)
    assert link.budget().factors_db["geometric"] == pytest.approx(21.3, abs=0.05)
    for d, db in [(0.2, 15.3), (0.3, 11.9)]:
        assert link.replace(rx_aperture_m=d).budget().factors_db["geometric"] == pytest.approx(db, abs=0.05)


def test_ground_downlink_atmosphere_and_turbulence():
    b = get_link("leo-ground-down").budget()
    assert b.atmosphere == pytest.approx(0.814, rel=1e-3)  # PHYSICS C.4 zenith value
    assert b.fried_parameter_m == pytest.approx(0.0885, rel=0.02)  # PHYSICS C.5
    assert b.scintillation_index == pytest.approx(0.134, rel=0.05)
    assert b.turbulence == 1.0


def test_uplink_turbulence_costs_and_tracking_helps():
    up = get_link("leo-ground-up")
    b = up.budget()
    assert 0.0 < b.turbulence < 1.0
    untracked = up.replace(uplink_tip_tilt_tracking=False).budget()
    assert untracked.turbulence < b.turbulence
    calm = up.replace(turbulence=False).budget()
    assert calm.turbulence == 1.0 and calm.transmittance > b.transmittance
    assert b.loss_db > get_link("leo-ground-down").budget().loss_db


def test_inter_satellite_has_a_fixed_range():
    link = get_link("inter-satellite")
    b = link.budget()
    assert b.elevation_deg is None and b.zenith_deg is None and b.range_m == 1000e3
    assert b.geometric == pytest.approx(1 - math.exp(-0.09**2 / (2 * (16.5e-6 * 1e6) ** 2)), rel=1e-6)
    with pytest.raises(InvalidParameter, match="elevation_deg"):
        link.channel(elevation_deg=30.0)
    with pytest.raises(InvalidParameter, match="geometry"):
        link.pass_channels()


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_gives_a_channel_and_an_aer_noise_model(name):
    link = get_link(name)
    ch = link.channel()
    assert isinstance(ch, Channel)
    assert 0.0 < ch.transmittance < 1.0 and ch.noise_click > 0.0
    assert ch == link.budget().channel
    assert channel_noise_model(ch) is not None
    d = link.budget().to_dict()
    assert json.loads(json.dumps(d))["link"] == name
    assert d["loss_db"] == pytest.approx(sum(d["factors_db"].values()))


@pytest.mark.parametrize("name", PRESETS)
def test_preset_round_trips_through_repr(name):
    link = get_link(name)
    assert eval(repr(link), {"Link": Link, "Detector": Detector}) == link
    assert link.replace() == link and hash(link) == hash(link.replace())


def test_divergence_full_angle_only_through_its_named_argument():
    base = dict(upper_altitude_m=535e3, tx_aperture_m=0.09, rx_aperture_m=0.35)
    assert Link(**base, divergence_full_angle_rad=33e-6).divergence_half_angle_rad == pytest.approx(16.5e-6)
    assert Link(**base, divergence_half_angle_rad=33e-6).divergence_half_angle_rad == 33e-6
    # Default: diffraction limit of a waist D_T / 2.
    assert Link(**base).divergence_half_angle_rad == pytest.approx(810e-9 / (math.pi * 0.045))
    link = get_link("leo-haps").replace(divergence_full_angle_rad=66e-6)
    assert link.divergence_half_angle_rad == pytest.approx(33e-6)
    with pytest.raises(InvalidParameter, match="not both"):
        Link(**base, divergence_half_angle_rad=1e-5, divergence_full_angle_rad=2e-5)


def test_pointing_level_names_and_sweeps():
    link = get_link("leo-haps")
    etas = [link.replace(pointing_jitter_rad=pointing_jitter_rad(lv)).channel().transmittance
            for lv in ("weak", "moderate", "strong")]
    assert etas[0] > etas[1] > etas[2]
    assert link.replace(pointing_jitter_rad="strong").pointing_jitter_rad == 10e-6
    assert link.replace(detector="snspd").detector == get_detector("snspd")


# --------------------------------------------------------------------------- passes

def test_leo_haps_pass_over_the_seed_window():
    link = get_link("leo-haps")
    p = link.pass_channels(time_step_s=1.0, max_half_window_s=100.0)
    assert isinstance(p, PassChannels) and len(p) == 201 and p.duration_s == 201.0
    assert p.time_s[0] == -100.0 and p.time_s[-1] == 100.0 and p.time_s[100] == 0.0
    assert p.elevation_deg[100] == pytest.approx(90.0) and p.elevation_deg.min() == pytest.approx(32.0, abs=0.1)
    np.testing.assert_allclose(p.elevation_deg, p.elevation_deg[::-1], atol=1e-9)
    assert p.transmittance.tolist() == [c.transmittance for c in p.channels]
    np.testing.assert_allclose(p.total_transmittance, p.transmittance * 0.5)
    assert p.channels[100] == link.channel()
    assert np.all(np.diff(p.transmittance[100:]) < 0)  # falls as the satellite sets
    assert np.all(p.qber >= 0.01) and p.loss_db.min() == pytest.approx(link.budget().loss_db)
    with pytest.raises(ValueError):
        p.transmittance[0] = 1.0  # read-only


def test_ground_pass_matches_physics_c1_anchors():
    p = get_link("leo-ground-down").pass_channels(time_step_s=50.0)
    t = p.time_s.tolist()
    for ts, elev, km in [(50, 54.1, 648), (100, 33.1, 905), (150, 21.3, 1217), (200, 13.7, 1552)]:
        i = t.index(ts)
        assert p.elevation_deg[i] == pytest.approx(elev, abs=0.1)
        assert p.range_m[i] / 1e3 == pytest.approx(km, abs=1.5)
    assert p.elevation_deg.min() >= 10.0


def test_pass_mask_and_window_arguments():
    link = get_link("leo-ground-down")
    full = link.pass_channels(time_step_s=5.0, min_elevation_deg=30.0)
    duration = pass_duration_s(platform_altitude_m=535e3, min_elevation_deg=30.0)
    assert 207.0 < duration < 240.0  # PHYSICS C.1: 207 s at 500 km; a little longer at 535 km
    assert full.elevation_deg.min() >= 30.0 and len(full) == 2 * int(duration / 2 / 5) + 1
    low = link.pass_channels(time_step_s=5.0, min_elevation_deg=10.0, max_elevation_deg=45.0)
    assert low.elevation_deg.max() == pytest.approx(45.0)
    assert len(link.pass_channels(time_step_s=1.0, max_half_window_s=0.0)) == 1


@pytest.mark.parametrize("name", ["haps-laps", "haps-ground", "inter-satellite"])
def test_fixed_links_refuse_a_pass(name):
    with pytest.raises(InvalidParameter, match="geometry='fixed'.*pass is not defined") as info:
        get_link(name).pass_channels()
    assert info.value.name == "geometry"


# --------------------------------------------------------------------------- fading

def test_fading_samples_average_to_the_mean_channel():
    rng = np.random.default_rng(7)
    for name, fading in [("leo-ground-up", False), ("leo-ground-down", True)]:
        link = get_link(name).replace(scintillation_fading=fading)
        s = link.sample_transmittance(size=100_000, rng=rng)
        assert s.shape == (100_000,) and np.all((s >= 0) & (s <= 1))
        assert s.mean() == pytest.approx(link.channel().transmittance, rel=0.02)
    with pytest.raises(InvalidType):
        get_link("leo-haps").sample_transmittance(size=3, rng=1)


# --------------------------------------------------------------------------- invariants (hypothesis)

@st.composite
def links(draw):
    """Random valid links (orbit or fixed, up or down, with or without atmosphere/turbulence)."""
    orbit = draw(st.booleans())
    lower = draw(st.floats(0.0, 20e3))
    upper = draw(st.floats(300e3, 2000e3)) if orbit else lower + draw(st.floats(1e3, 40e3))
    return Link(
        direction=draw(st.sampled_from(["down", "up"])), geometry="orbit" if orbit else "fixed",
        upper_altitude_m=upper, lower_altitude_m=lower,
        nominal_elevation_deg=draw(st.floats(5.0, 90.0)),
        wavelength_m=draw(st.sampled_from([785e-9, 810e-9, 850e-9, 1550e-9])),
        tx_aperture_m=draw(st.floats(0.01, 1.0)), rx_aperture_m=draw(st.floats(0.01, 2.0)),
        divergence_half_angle_rad=draw(st.floats(1e-6, 1e-3)),
        tx_optics_efficiency=draw(st.floats(0.0, 1.0)), rx_optics_efficiency=draw(st.floats(0.0, 1.0)),
        pointing_jitter_rad=draw(st.floats(0.0, 30e-6)), atmosphere=draw(st.booleans()),
        turbulence=draw(st.booleans()), sky_radiance_w_m2_sr_nm=draw(st.floats(0.0, 0.1)),
        misalignment=draw(st.floats(0.0, 0.1)))


def _geo(link, **kw):
    return link.budget(**kw).geometric


@settings(max_examples=15)
@given(link=links(), elev=st.floats(0.0, 90.0))
def test_invariant2_every_factor_and_the_product_lie_in_0_1(link, elev):
    b = link.budget(elevation_deg=elev)
    for name, value in b.factors.items():
        assert 0.0 <= value <= 1.0, name
    assert 0.0 <= b.transmittance <= 1.0 and 0.0 <= b.total_transmittance <= 1.0
    assert b.transmittance == pytest.approx(math.prod(v for k, v in b.factors.items() if k != "detector"),
                                            rel=1e-9, abs=1e-300)
    assert 0.0 <= b.effective_depolarisation <= 1.0


@settings(max_examples=15)
@given(link=links(), e1=st.floats(0.0, 90.0), e2=st.floats(0.0, 90.0), f=st.floats(1.01, 10.0))
def test_invariant2_eta_geo_monotone_in_range_divergence_and_aperture(link, e1, e2, f):
    lo, hi = sorted((e1, e2))
    assert link.range_m(elevation_deg=lo) >= link.range_m(elevation_deg=hi)
    assert _geo(link, elevation_deg=lo) <= _geo(link, elevation_deg=hi) * (1 + 1e-12)
    # Divergence: a physical Gaussian beam of fixed range only widens with divergence in the far
    # field (L > z_R = pi w0^2 / lambda); closer in, a larger divergence means a smaller waist.
    z_r = math.pi * link.waist_radius_m**2 / link.wavelength_m
    assume(link.range_m(elevation_deg=lo) > z_r)
    wider = link.replace(divergence_half_angle_rad=link.divergence_half_angle_rad * f)
    assert _geo(wider, elevation_deg=lo) <= _geo(link, elevation_deg=lo) * (1 + 1e-12)
    bigger = link.replace(rx_aperture_m=link.rx_aperture_m * f)
    assert _geo(bigger, elevation_deg=lo) >= _geo(link, elevation_deg=lo)


@settings(max_examples=15)
@given(link=links(), f=st.floats(1.01, 100.0))
def test_invariant5_p_eff_monotone_in_noise_and_loss(link, f):
    b = link.budget()
    brighter = link.replace(sky_radiance_w_m2_sr_nm=link.sky_radiance_w_m2_sr_nm * f + 1e-6).budget()
    assert brighter.noise_click >= b.noise_click
    assert brighter.effective_depolarisation >= b.effective_depolarisation - 1e-15
    shakier = link.replace(pointing_jitter_rad=link.pointing_jitter_rad * f + 1e-6).budget()
    assert shakier.total_transmittance <= b.total_transmittance
    assert shakier.effective_depolarisation >= b.effective_depolarisation - 1e-15


def test_invariant5_noiseless_receiver_gives_twice_the_misalignment():
    quiet = get_link("leo-haps").replace(sky_radiance_w_m2_sr_nm=0.0, noise_click=None,
                                         detector=Detector("ideal", efficiency=0.5, dark_count_rate_hz=0.0))
    b = quiet.budget()
    assert b.noise_click == 0.0 and b.effective_depolarisation == pytest.approx(2 * 0.01)


# --------------------------------------------------------------------------- bad inputs

_BASE = dict(upper_altitude_m=535e3, tx_aperture_m=0.09, rx_aperture_m=0.35)

BAD_LINKS = [
    (dict(lower_altitude_m=-1.0), InvalidParameter, "lower_altitude_m"),
    (dict(upper_altitude_m=-5.0), InvalidParameter, "upper_altitude_m"),
    (dict(upper_altitude_m=0.0, lower_altitude_m=0.0), InvalidParameter, "upper_altitude_m"),
    (dict(tx_aperture_m=-0.1), InvalidParameter, "tx_aperture_m"),
    (dict(rx_aperture_m=0.0), InvalidParameter, "rx_aperture_m"),
    (dict(rx_aperture_m="big"), InvalidType, "rx_aperture_m"),
    (dict(nominal_elevation_deg=91.0), InvalidParameter, "nominal_elevation_deg"),
    (dict(nominal_elevation_deg=-1.0), InvalidParameter, "nominal_elevation_deg"),
    (dict(wavelength_m=633e-9), InvalidParameter, "wavelength_m"),
    (dict(wavelength_m=0.0), InvalidParameter, "wavelength_m"),
    (dict(divergence_half_angle_rad=-1e-6), InvalidParameter, "divergence_half_angle_rad"),
    (dict(divergence_full_angle_rad=0.0), InvalidParameter, "divergence_full_angle_rad"),
    (dict(pointing_jitter_rad=-1e-6), InvalidParameter, "pointing_jitter_rad"),
    (dict(pointing_jitter_rad="wobbly"), InvalidParameter, "pointing_jitter_rad"),
    (dict(direction="sideways"), InvalidParameter, "direction"),
    (dict(geometry="elliptic"), InvalidParameter, "geometry"),
    (dict(name=5), InvalidType, "name"),
    (dict(tx_optics_efficiency=1.2), InvalidParameter, "tx_optics_efficiency"),
    (dict(sky_radiance_w_m2_sr_nm=-1.0), InvalidParameter, "sky_radiance_w_m2_sr_nm"),
    (dict(detector=3), InvalidType, "detector"),
    (dict(detector="pmt"), InvalidParameter, "name"),
    (dict(n_detectors=0), InvalidParameter, "n_detectors"),
    (dict(misalignment=0.6), InvalidParameter, "misalignment"),
    (dict(atmosphere="yes"), InvalidType, "atmosphere"),
    (dict(airmass_model="flat"), InvalidParameter, "airmass_model"),
    (dict(fixed_range_m=1e6), InvalidParameter, "fixed_range_m"),
    (dict(geometry="fixed", fixed_range_m=1e6, nominal_elevation_deg=None), InvalidParameter, "atmosphere"),
    (dict(geometry="fixed", fixed_range_m=1e6, atmosphere=False, turbulence=False), InvalidParameter,
     "nominal_elevation_deg"),
    (dict(nominal_elevation_deg=None), InvalidParameter, "nominal_elevation_deg"),
    (dict(sources=(("a",),)), InvalidType, "sources"),
]


@pytest.mark.parametrize("kwargs, error, name", BAD_LINKS)
def test_bad_link_fields_name_the_parameter(kwargs, error, name):
    with pytest.raises(error) as info:
        Link(**{**_BASE, **kwargs})
    assert info.value.name == name
    assert name in str(info.value)


BAD_CALLS = [
    (lambda link: link.channel(elevation_deg=90.5), "elevation_deg"),
    (lambda link: link.channel(elevation_deg=-0.1), "elevation_deg"),
    (lambda link: link.budget(elevation_deg=float("nan")), "elevation_deg"),
    (lambda link: link.pass_channels(time_step_s=0.0), "time_step_s"),
    (lambda link: link.pass_channels(max_half_window_s=-1.0), "max_half_window_s"),
    (lambda link: link.pass_channels(min_elevation_deg=95.0), "min_elevation_deg"),
    (lambda link: link.pass_channels(min_elevation_deg=50.0, max_elevation_deg=40.0), "min_elevation_deg"),
    (lambda link: link.pass_channels(time_step_s=1e-6), "time_step_s"),
    (lambda link: link.sample_transmittance(size=-1, rng=np.random.default_rng(0)), "size"),
    (lambda link: link.channel(elevation_deg=40.0, range_m=0.0), "range_m"),
    (lambda link: link.channel(elevation_deg=40.0, range_m=float("inf")), "range_m"),
    (lambda link: link.budget(range_m=-5.0), "range_m"),
    (lambda link: get_link("inter-satellite").channel(range_m=1e6), "range_m"),
    (lambda link: link.budget(frame_rotation_geometric_rad=float("nan")), "frame_rotation_geometric_rad"),
    (lambda link: get_link("haps-laps").tle_pass_channels(tle_line1="", tle_line2="", latitude_deg=0,
                                                          longitude_deg=0, start_utc=None), "geometry"),
    (lambda link: link.tle_pass_channels(tle_line1="x", tle_line2="y", latitude_deg=0, longitude_deg=0,
                                         start_utc=None, time_step_s=0.0), "time_step_s"),
]


def test_range_override_is_the_only_change():
    """channel(range_m=...) changes the range-dependent factors only, by the Gaussian-beam law (PHYSICS C.2)."""
    link = get_link("leo-haps")
    a, b = link.budget(elevation_deg=59.7), link.budget(elevation_deg=59.7, range_m=478e3)
    r_o, r_p, e = 6371e3 + 20e3, 6371e3 + 535e3, math.radians(59.7)
    assert a.range_m == pytest.approx(math.sqrt(r_p**2 - (r_o * math.cos(e)) ** 2) - r_o * math.sin(e), rel=1e-12)
    assert b.range_m == 478e3
    w0 = 810e-9 / (math.pi * 16.5e-6)
    w = w0 * math.sqrt(1 + (478e3 * 810e-9 / (math.pi * w0**2)) ** 2)
    assert b.geometric == pytest.approx(1 - math.exp(-0.35**2 / (2 * w**2)), rel=1e-12)
    assert b.atmosphere == a.atmosphere and b.noise_click == a.noise_click and b.tx_optics == a.tx_optics
    assert b.transmittance > a.transmittance
    assert link.budget(elevation_deg=59.7, range_m=a.range_m) == a


@pytest.mark.parametrize("call, name", BAD_CALLS)
def test_bad_call_arguments_name_the_parameter(call, name):
    with pytest.raises(InvalidParameter) as info:
        call(get_link("leo-haps"))
    assert info.value.name == name


def test_links_are_frozen():
    link = get_link("leo-haps")
    with pytest.raises(dataclasses.FrozenInstanceError):
        link.rx_aperture_m = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        link.budget().geometric = 1.0
    assert isinstance(link.budget(), LossBudget)
