"""Link scenarios: every Link field from text, TOML scenario files, and sourced presets (issue 11 items 3, 5)."""

import dataclasses
import math

import pytest

from qproto import InvalidParameter
from qproto.noise_models import (
    LINK_FIELDS,
    LINKS,
    PRESET_SOURCES,
    Detector,
    Link,
    apply_link_overrides,
    get_link,
    link_from_dict,
    link_to_dict,
    load_link_scenario,
    save_link_scenario,
)

STORED = [f.name for f in dataclasses.fields(Link) if f.name != "sources"]


@pytest.mark.parametrize("name", sorted(LINKS))
def test_every_preset_value_has_a_source(name):
    """Item 5: each stored field of each preset is documented (a source or an [U] mark)."""
    sources = dict(get_link(name).sources)
    missing = [f for f in STORED if f not in sources]
    assert missing == [] and PRESET_SOURCES[name] == get_link(name).sources
    assert all(isinstance(s, str) and s.strip() for s in sources.values())


def test_leo_haps_uses_the_quoted_receiver_values_and_says_so():
    link = get_link("leo-haps")
    src = dict(link.sources)
    assert (link.rx_optics_efficiency, link.noise_click, link.misalignment) == (0.5, 6e-7, 0.01)
    assert link.detector.afterpulse_probability == 1e-3
    for field in ("rx_optics_efficiency", "noise_click", "misalignment", "detector"):
        assert "T22" in src[field], field
    assert "SatQuMA" in src["detector"]


@pytest.mark.parametrize("name", sorted(LINKS))
def test_dict_and_toml_round_trips_are_faithful(name, tmp_path):
    link = get_link(name)
    assert link_from_dict(link_to_dict(link)) == link
    path = tmp_path / f"{name}.toml"
    save_link_scenario(link, path)
    back = load_link_scenario(path)
    assert back == link and back.sources == link.sources
    assert back.channel() == link.channel()


def test_overrides_parse_each_type_and_match_replace():
    base = get_link("leo-ground-down")
    got = apply_link_overrides(base, [
        "tx_aperture_m=0.12", "rx_optics_efficiency=0.55", "divergence_full_angle_rad=4e-5",
        "turbulence=false", "n_detectors=4", "noise_click=2.5e-7", "pointing_jitter_rad=moderate",
        "airmass_model=plane_parallel", "detector=snspd", "detector.afterpulse_probability=0.002",
        "fixed_range_m=none"])
    want = Link(**{**{f: getattr(base, f) for f in STORED}, "name": "leo-ground-down*",
                   "tx_aperture_m": 0.12, "rx_optics_efficiency": 0.55, "divergence_half_angle_rad": 2e-5,
                   "turbulence": False, "n_detectors": 4, "noise_click": 2.5e-7, "pointing_jitter_rad": 6.6e-6,
                   "airmass_model": "plane_parallel",
                   "detector": Detector("snspd", efficiency=0.9, dark_count_rate_hz=100.0, dead_time_s=50e-9,
                                        afterpulse_probability=0.002)})
    assert got == want
    assert got.channel(elevation_deg=30.0) == want.channel(elevation_deg=30.0)
    # a mapping works too, and an empty list changes nothing
    assert apply_link_overrides(base, {"tx_aperture_m": 0.12}).tx_aperture_m == 0.12
    assert apply_link_overrides(base, []) is base


def test_every_listed_field_is_settable():
    base = get_link("leo-haps")
    values = {"name": "x", "description": "d", "direction": "up", "geometry": "orbit", "airmass_model": "kasten_young",
              "frame_tracking": "geometric", "detector": "si_spad", "detector.name": "mine",
              "atmosphere": "false", "turbulence": "false", "scintillation_fading": "true",
              "uplink_tip_tilt_tracking": "false", "hwp_compensation": "true", "n_detectors": "3",
              "nominal_elevation_deg": "45", "fixed_range_m": "none", "divergence_half_angle_rad": "2e-5",
              "noise_click": "none", "upper_altitude_m": "6e5", "lower_altitude_m": "1000",
              "frame_rotation_rad": "0.1", "retardance_rad": "0.2", "hwp_residual_rad": "0.01",
              "misalignment": "0.02", "pass_max_elevation_deg": "80", "min_elevation_deg": "15",
              "detector.efficiency": "0.4", "detector.dark_count_rate_hz": "50", "detector.dead_time_s": "1e-8",
              "detector.afterpulse_probability": "1e-3", "divergence_full_angle_rad": "3e-5"}
    for field in LINK_FIELDS:
        text = values.get(field, "0.5" if "efficiency" in field else "1e-3" if field.endswith("_rad") else "2")
        if field in ("gate_s",):
            text = "2e-9"
        link = apply_link_overrides(base, [f"{field}={text}"])
        assert isinstance(link, Link), field


@pytest.mark.parametrize("item, fragments", [
    ("bogus=1", ["unknown link field 'bogus'", "allowed:", "tx_aperture_m", "detector.efficiency"]),
    ("tx_aperture_m", ["expected FIELD=VALUE"]),
    ("rx_aperture_m=-1", ["--set rx_aperture_m=-1", "rx_aperture_m=-1.0", "(0, inf)"]),
    ("rx_aperture_m=abc", ["rx_aperture_m='abc'", "not a number"]),
    ("misalignment=0.7", ["misalignment", "0.7", "[0, 0.5]"]),
    ("n_detectors=2.5", ["n_detectors='2.5'", "not an integer"]),
    ("turbulence=maybe", ["turbulence='maybe'", "true/false"]),
    ("tx_aperture_m=nan", ["tx_aperture_m='nan'", "not finite"]),
    ("detector=bogus", ["detector=bogus", "si_spad"]),
    ("detector.efficiency=2", ["detector.efficiency=2", "efficiency"]),
    ("detector.colour=red", ["unknown link field 'detector.colour'"]),
])
def test_bad_overrides_name_field_value_and_range(item, fragments):
    with pytest.raises(InvalidParameter) as info:
        apply_link_overrides(get_link("leo-haps"), [item])
    msg = str(info.value)
    assert msg.startswith("--set ") and "\n" not in msg
    for f in fragments:
        assert f in msg, (f, msg)


def test_bad_scenario_files(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[link]\nupper_altitude_m = 5e5\ntx_aperture_m = 0.1\nrx_aperture_m = 0.3\ncolour = 'red'\n")
    with pytest.raises(InvalidParameter, match="unknown link field 'colour'; allowed: .*tx_aperture_m"):
        load_link_scenario(bad)
    bad.write_text("[link]\nupper_altitude_m = 5e5\n")
    with pytest.raises(InvalidParameter, match="tx_aperture_m"):
        load_link_scenario(bad)
    bad.write_text("upper_altitude_m = 5e5\n")
    with pytest.raises(InvalidParameter, match=r"no \[link\] table"):
        load_link_scenario(bad)
    bad.write_text("[link\n")
    with pytest.raises(InvalidParameter, match="not valid TOML"):
        load_link_scenario(bad)
    with pytest.raises(InvalidParameter, match="cannot read"):
        load_link_scenario(tmp_path / "missing.toml")
    good = tmp_path / "good.toml"
    good.write_text("[link]\nupper_altitude_m = 5e5\ntx_aperture_m = 0.1\nrx_aperture_m = 0.3\n"
                    "noise_click = 'none'\nrx_optics_efficiency = 1.5\n")
    with pytest.raises(InvalidParameter, match="rx_optics_efficiency"):
        load_link_scenario(good)


def test_stated_y0_bypasses_the_background_model():
    link = get_link("leo-ground-down")
    computed = link.channel().noise_click
    stated = link.replace(noise_click=4e-6).channel()
    assert stated.noise_click == 4e-6 != computed
    assert stated.transmittance == link.channel().transmittance
    assert math.isclose(link.replace(noise_click=None).channel().noise_click, computed)
