"""``qproto link`` and ``qproto run --link``: tables, JSON, figures and one-line errors."""

import json

import pytest

from qproto.cli import main
from qproto.noise_models import get_link

PRESETS = ["leo-ground-down", "leo-ground-up", "leo-haps", "leo-laps", "haps-laps", "haps-ground",
           "inter-satellite"]


def test_link_list(capsys):
    assert main(["link", "list"]) == 0
    out = capsys.readouterr().out
    for name in PRESETS:
        assert name in out
    assert "loss dB" in out and "QBER" in out


def test_link_show_budget_table(capsys):
    assert main(["link", "show", "leo-haps"]) == 0
    out = capsys.readouterr().out
    for fragment in ("geometric", "pointing jitter", "detector efficiency", "total transmittance",
                     "noise-click probability", "effective depolarisation", "BB84 QBER", "30.72", "38.35"):
        assert fragment in out


def test_link_show_elevation_json_matches_the_library(capsys):
    assert main(["link", "show", "leo-haps", "--elevation", "33", "--json", "--sources"]) == 0
    data = json.loads(capsys.readouterr().out)
    b = get_link("leo-haps").budget(elevation_deg=33.0)
    assert data["elevation_deg"] == 33.0 and data["qber"] == pytest.approx(b.qber)
    assert data["factors_db"]["geometric"] == pytest.approx(b.factors_db["geometric"])
    assert "divergence_half_angle_rad" in data["sources"]


def test_link_show_sources(capsys):
    assert main(["link", "show", "haps-laps", "--sources"]) == 0
    out = capsys.readouterr().out
    assert "values and sources" in out and "seed III-C2" in out


def test_link_show_pass_table_json_and_plot(capsys, tmp_path):
    png = tmp_path / "pass.png"
    assert main(["link", "show", "leo-haps", "--pass", "--time-step", "20", "--max-half-window", "100",
                 "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "pass of leo-haps: 11 steps" in out and "figure written" in out
    assert png.exists() and png.stat().st_size > 1000
    assert main(["link", "show", "leo-ground-down", "--pass", "--time-step", "30", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["time_s"]) == len(data["qber"]) == len(data["loss_db"]) > 5
    assert min(data["elevation_deg"]) >= 10.0


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_runs_bb84_end_to_end(name, capsys):
    assert main(["run", "bb84", "--link", name, "--rounds", "200000", "--seed", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["link"]["name"] == name
    assert data["channels"][0] == get_link(name).channel().to_dict()
    assert data["rounds"] == 200_000 and data["estimates"]["detection_rate"]["best"] > 0


def test_run_link_table_and_elevation(capsys):
    assert main(["run", "bb84", "--link", "leo-haps", "--elevation", "40", "--rounds", "5000", "--seed", "2",
                 "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "link leo-haps at elevation 40 deg" in out and "QBER" in out


BAD_ARGS = [
    (["link", "show", "leo-mars"], "unknown link 'leo-mars'; available:"),
    (["link", "show", "haps-laps", "--pass"], "pass is not defined"),
    (["link", "show", "leo-haps", "--elevation", "95"], "--elevation=95 is outside the allowed range: [0, 90]"),
    (["link", "show", "leo-haps", "--elevation", "-3"], "--elevation=-3 is outside the allowed range: [0, 90]"),
    (["link", "show", "inter-satellite", "--elevation", "30"], "fixed range"),
    (["link", "show", "leo-haps", "--elevation", "30", "--pass"], "not allowed with"),
    (["link", "show", "leo-haps", "--plot", "x.png"], "--plot needs --pass"),
    (["link", "show", "leo-haps", "--pass", "--time-step", "0"], "--time-step=0 is outside the allowed range: (0, 10000]"),
    (["link", "show", "leo-haps", "--pass", "--plot", "/nonexistent-dir/x.png"],
     "--plot=/nonexistent-dir/x.png: directory /nonexistent-dir does not exist"),
    (["link", "show", "leo-haps", "--pass", "--plot", "x.xyz"], "unknown figure format 'xyz'"),
    (["link", "show", "leo-haps", "--pass", "--plot", ""], "--plot='': empty path"),
    (["link", "show", "leo-haps", "--set", "bogus=1"], "unknown link field 'bogus'; allowed:"),
    (["link", "show", "leo-haps", "--set", "rx_aperture_m=0"], "--set rx_aperture_m=0"),
    (["link", "show", "--scenario", "/nonexistent.toml"], "cannot read the scenario"),
    (["link", "show", "leo-haps", "--scenario", "x.toml"], "not both"),
    (["link", "show"], "no link: give a preset name"),
    (["link", "show", "leo-haps", "--save", "/nonexistent-dir/s.toml"], "--save='/nonexistent-dir/s.toml'"),
    (["link"], "required"),
    (["run", "bb84", "--link", "leo-haps", "--transmittance", "0.5"], "--link cannot be combined with"),
    (["run", "bb84", "--link", "leo-haps", "--noise-click", "0", "--misalignment", "0"],
     "--misalignment, --noise-click"),
    (["run", "bb84", "--elevation", "40"], "--elevation needs --link"),
    (["run", "bb84", "--link", "nope"], "unknown link 'nope'"),
    (["run", "bb84", "--link", "leo-haps", "--elevation", "91"], "91"),
    (["link", "show", "leo-haps", "--pass", "--plot", "/tmp"], "is a directory"),
]


@pytest.mark.parametrize("argv, fragment", BAD_ARGS)
def test_bad_arguments_give_one_line_and_status_2(argv, fragment, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("qproto: error:") and fragment in err
    assert len(err.splitlines()) == 1 and "Traceback" not in captured.err + captured.out


def test_save_then_scenario_reproduces_the_overridden_link(tmp_path, capsys):
    """``link show --set ... --save`` writes what ``--scenario`` reads back; budgets agree with the library."""
    path = tmp_path / "s.toml"
    assert main(["link", "show", "leo-haps", "--set", "rx_aperture_m=0.5", "--set", "detector.efficiency=0.6",
                 "--save", str(path), "--json"]) == 0
    saved = json.loads(capsys.readouterr().out)
    assert main(["link", "show", "--scenario", str(path), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    want = get_link("leo-haps").replace(rx_aperture_m=0.5, detector=get_link("leo-haps").detector.__class__(
        "si_spad_ap1e-3", efficiency=0.6, dark_count_rate_hz=100.0, dead_time_s=22e-9,
        afterpulse_probability=1e-3)).budget()
    for data in (saved, again):
        assert data["total_transmittance"] == pytest.approx(want.total_transmittance, rel=1e-12)
        assert data["factors"]["detector"] == 0.6
    assert main(["link", "show", "--scenario", str(path), "--set", "rx_aperture_m=0.35", "--json"]) == 0
    back = json.loads(capsys.readouterr().out)
    assert back["factors"]["geometric"] == pytest.approx(get_link("leo-haps").budget().geometric, rel=1e-12)


def test_link_show_pass_reports_both_bases_under_a_coherent_rotation(capsys):
    assert main(["link", "show", "leo-haps", "--pass", "--time-step", "60", "--set", "frame_tracking=geometric",
                 "--set", "pass_max_elevation_deg=40", "--set", "retardance_rad=0.2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    want = get_link("leo-haps").replace(frame_tracking="geometric", pass_max_elevation_deg=40.0,
                                        retardance_rad=0.2).pass_channels(time_step_s=60.0)
    assert data["qber_z"] == pytest.approx(want.qber_z.tolist(), rel=1e-12)
    assert data["qber_x"] == pytest.approx(want.qber_x.tolist(), rel=1e-12)
    mid = data["time_s"].index(0.0)
    assert data["qber_x"][mid] > data["qber_z"][mid] + 0.009  # the retardance: E_X > E_Z at culmination
    assert data["frame_rotation_rad"][mid] == 0.0 and abs(data["frame_rotation_rad"][0]) > 0.7
