"""Real passes from a TLE (issue 11 item 4): each slot's range and elevation come from SGP4 (skyfield)."""

import datetime as dt
import json
import math

import numpy as np
import pytest

from qproto.cli import main
from qproto.noise_models import frame_rotation_circular_rad, get_link

# The ISS element set printed as the example of the format on Wikipedia's "Two-line element set" page
# (epoch 2008-09-20), with valid checksums.
L1 = "1 25544U 98067A   08264.51782528 -.00002182  00000-0 -11606-4 0  2927"
L2 = "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.72125391563537"
SITE = dict(latitude_deg=35.66, longitude_deg=139.68)  # seed 001's Tokyo site
START = dt.datetime(2008, 9, 20, 12, tzinfo=dt.timezone.utc)
HAPS_M = 20e3


def _skyfield_alt_range(culmination, t):
    from skyfield.api import EarthSatellite, load, wgs84

    ts = load.timescale(builtin=True)
    sat = EarthSatellite(L1, L2, "iss", ts)
    where = wgs84.latlon(SITE["latitude_deg"], SITE["longitude_deg"], elevation_m=HAPS_M)
    alt, _az, dist = (sat - where).at(ts.from_datetime(culmination) + np.asarray(t) / 86400.0).altaz()
    return alt.degrees, dist.m


def test_tle_pass_slots_carry_skyfields_range_and_elevation():
    link = get_link("leo-haps")  # HAPS at 20 km, preset orbit 535 km (the ISS flies ~350 km)
    pc = link.tle_pass_channels(tle_line1=L1, tle_line2=L2, start_utc=START, pass_index=1, time_step_s=15.0,
                                max_half_window_s=120.0, **SITE)
    assert pc.culmination_utc is not None and 0.0 in pc.time_s
    assert np.all(np.diff(pc.time_s) == 15.0) and abs(pc.time_s).max() <= 120.0
    alt, rng = _skyfield_alt_range(pc.culmination_utc, pc.time_s)
    np.testing.assert_allclose(pc.range_m, rng, rtol=1e-9)
    np.testing.assert_allclose(pc.elevation_deg, alt, atol=1e-7)
    assert pc.elevation_deg[pc.time_s == 0.0][0] == pytest.approx(alt.max(), abs=1e-3)
    assert np.all(pc.elevation_deg >= link.min_elevation_deg)
    # Each slot's channel is the link at that range (not the preset orbit's slant range), and the
    # geometric factor is the Gaussian beam at the SGP4 range (PHYSICS C.2, computed here by hand).
    theta, lam, d = link.divergence_half_angle_rad, link.wavelength_m, link.rx_aperture_m
    w0 = lam / (math.pi * theta)
    for e, r, ch in zip(pc.elevation_deg, pc.range_m, pc.channels):
        assert ch == link.channel(elevation_deg=float(e), range_m=float(r))
        w = w0 * math.sqrt(1 + (r * lam / (math.pi * w0**2)) ** 2)
        geo_factor = 1 - math.exp(-d**2 / (2 * w**2))
        point = link.budget(elevation_deg=float(e), range_m=float(r)).pointing
        assert ch.transmittance == pytest.approx(0.8 * geo_factor * point * 0.5, rel=1e-12)
        circular = link.channel(elevation_deg=float(e))
        assert circular.transmittance > 1.3 * ch.transmittance or ch.transmittance > 1.3 * circular.transmittance


def test_geometric_frame_rotation_over_the_tle_pass_matches_the_circular_model():
    """The frame rotation from skyfield's real orbit (GCRS, Earth rotating) and from the circular-orbit
    model of the same peak elevation agree to a few degrees (Earth rotation and the orbit's own
    altitude make the difference); both vanish at culmination and grow away from it."""
    link = get_link("leo-haps").replace(frame_tracking="geometric")
    pc = link.tle_pass_channels(tle_line1=L1, tle_line2=L2, start_utc=START, pass_index=1, time_step_s=20.0,
                                **SITE)
    model = frame_rotation_circular_rad(time_s=pc.time_s, platform_altitude_m=350e3,
                                        max_elevation_deg=float(pc.elevation_deg.max()), observer_altitude_m=HAPS_M)
    assert np.degrees(np.abs(pc.frame_rotation_rad - model)).max() < 3.0
    assert pc.frame_rotation_rad[pc.time_s == 0.0][0] == pytest.approx(0.0, abs=1e-9)
    assert np.degrees(np.abs(pc.frame_rotation_rad)).max() > 40.0
    # Uncompensated, the rotation is a qubit error in both bases: the Bloch vector turns by 2a and shrinks
    # by (1 - 2 e_d) (misalignment) and by the signal fraction s (noise clicks): E = (1 - s (1 - 2 e_d) cos 2a)/2.
    # A receiver half-wave plate leaves only its residual.
    for ch, a in zip(pc.channels, pc.frame_rotation_rad):
        want = (1 - ch.signal_fraction * (1 - 2 * link.misalignment) * math.cos(2 * a)) / 2
        assert ch.qber_z == pytest.approx(want, rel=1e-9) and ch.qber_x == pytest.approx(want, rel=1e-9)
    fixed = link.replace(hwp_compensation=True, hwp_residual_rad=0.02).tle_pass_channels(
        tle_line1=L1, tle_line2=L2, start_utc=START, pass_index=1, time_step_s=20.0, **SITE)
    assert {round(c.rotation_rad, 12) for c in fixed.channels} == {0.04}


def test_cli_tle_pass(tmp_path, capsys):
    from qproto.noise_models import find_tle_passes

    tle = tmp_path / "iss.tle"
    tle.write_text(f"ISS (ZARYA)\n{L1}\n{L2}\n")
    args = ["pass", "leo-haps", "--tle", str(tle), "--site", "35.66,139.68,20000", "--date", "2008-09-20T12:00",
            "--pass-index", "1", "--pointing", "weak", "--max-half-window", "20", "--step", "10", "--no-optimise",
            "--json", "--no-progress"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    want = find_tle_passes(tle_line1=L1, tle_line2=L2, observer_altitude_m=HAPS_M, start_utc=START,
                           duration_s=86400.0, min_elevation_deg=10.0, **SITE)[1]
    assert dt.datetime.fromisoformat(out["culmination_utc"]) == want.culmination_utc
    rows = out["curves"]["weak"]["rows"]
    assert [r["pulses"] for r in rows] == [21 * 200_000_000, 41 * 200_000_000]
    assert out["scenario"]["lower_altitude_m"] == HAPS_M
    for bad, fragment in ((["--site", "35,139"], "--site='35,139'"), (["--site", "95,139,0"], "--site=95,139,0"),
                          (["--date", "yesterday"], "--date='yesterday'"),
                          (["--pass-index", "50"], "--pass-index=50: 4 complete pass(es)"),
                          (["--site", "35,139,600000"], "--site=35,139,600000")):
        argv = list(args)
        i = argv.index(bad[0])
        argv[i + 1] = bad[1]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert fragment in err and len(err.strip().splitlines()) == 1, err
