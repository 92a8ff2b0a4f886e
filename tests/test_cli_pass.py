"""``qproto pass LINK``."""

import json

import pytest

from qproto.cli import main

FAST = ["pass", "leo-haps", "--max-half-window", "4", "--step", "2", "--starts", "1", "--no-progress"]


def test_table(capsys):
    assert main(FAST + ["--pointing", "weak", "strong"]) == 0
    out = capsys.readouterr().out
    assert "half-window" in out and "weak" in out and "strong" in out


def test_json_and_same_seed(capsys):
    assert main(FAST + ["--pointing", "weak", "--json", "--seed", "3"]) == 0
    a = json.loads(capsys.readouterr().out)
    rows = a["curves"]["weak"]["rows"]
    assert [r["half_window_s"] for r in rows] == [2.0, 4.0]
    assert rows[0]["pulses"] == 5 * 200_000_000 and rows[1]["sifted_z"] > rows[0]["sifted_z"]
    assert main(FAST + ["--pointing", "weak", "--json", "--seed", "3"]) == 0
    assert json.loads(capsys.readouterr().out) == a


def test_plot(tmp_path, capsys):
    import matplotlib  # noqa: F401  (the notebooks extra, part of the test extras: fail, never skip)
    path = tmp_path / "fig2.png"
    assert main(FAST + ["--pointing", "moderate", "--plot", str(path)]) == 0
    assert path.stat().st_size > 0


@pytest.mark.parametrize("extra,name", [
    (["--source-rate", "-1"], "--source-rate=-1"), (["--pointing", "bogus"], "--pointing='bogus'"),
    (["--max-half-window", "0"], "--max-half-window=0"), (["--starts", "0"], "--starts=0"),
])
def test_bad_inputs(extra, name, capsys):
    assert main(FAST + extra) == 2
    err = capsys.readouterr().err
    assert err.startswith("qproto: error:") and name in err and len(err.strip().splitlines()) == 1


def test_unknown_link(capsys):
    assert main(["pass", "no-such-link", "--no-progress"]) == 2
    assert "no-such-link" in capsys.readouterr().err


# --------------------------------------------------------------------------- issue 11 item 3
def _api_curve(link, protocol, *, slot_s, rate, max_hw, step, seed, starts):
    from qproto.passes import pass_key_curve

    pc = link.pass_channels(time_step_s=slot_s, max_half_window_s=max_hw)
    hws = [step * (i + 1) for i in range(int(max_hw // step))]
    return pass_key_curve(tuple(pc.channels), time_s=pc.time_s, half_windows_s=hws, source_rate_hz=rate,
                          slot_s=slot_s, protocol=protocol, n_starts=starts, seed=seed)


def test_a_pass_stated_on_the_command_line_equals_the_same_pass_through_the_api(capsys):
    """Every flag reaches the right parameter: the CLI key equals the public API's, bit for bit.

    The API side builds the Link with its constructor (not the --set parser) and the protocol
    with DecoyBB84's own arguments.
    """
    from qproto.noise_models import Detector, Link
    from qproto.protocols import DecoyBB84

    argv = ["pass", "leo-haps", "--set", "tx_aperture_m=0.12", "--set", "rx_aperture_m=0.4",
            "--set", "divergence_full_angle_rad=4e-5", "--set", "rx_optics_efficiency=0.6",
            "--set", "noise_click=3e-7", "--set", "misalignment=0.015", "--set", "detector.efficiency=0.55",
            "--set", "detector.afterpulse_probability=2e-3", "--pointing", "2.5",
            "--source-rate", "1e8", "--slot", "2", "--max-half-window", "6", "--step", "3",
            "--eps-sec", "1e-9", "--eps-cor", "1e-12", "--f-ec", "1.2", "--ec-leakage", "finite_size",
            "--tails", "hoeffding", "--starts", "1", "--seed", "7", "--json", "--no-progress"]
    assert main(argv) == 0
    cli = json.loads(capsys.readouterr().out)
    rows = cli["curves"]["2.5 urad"]["rows"]
    link = Link(name="by-hand", direction="down", geometry="orbit", upper_altitude_m=535e3, lower_altitude_m=20e3,
                wavelength_m=810e-9, tx_aperture_m=0.12, rx_aperture_m=0.4, divergence_half_angle_rad=2e-5,
                tx_optics_efficiency=0.8, rx_optics_efficiency=0.6, pointing_jitter_rad=2.5e-6, atmosphere=False,
                turbulence=False, noise_click=3e-7, misalignment=0.015,
                detector=Detector("d", efficiency=0.55, dark_count_rate_hz=100.0, afterpulse_probability=2e-3))
    protocol = DecoyBB84(eps_sec=1e-9, eps_cor=1e-12, f_ec=1.2, ec_leakage="finite_size", tails="hoeffding",
                         afterpulse_probability=2e-3)
    api = _api_curve(link, protocol, slot_s=2.0, rate=1e8, max_hw=6.0, step=3.0, seed=7, starts=1)
    assert [r["half_window_s"] for r in rows] == [r.half_window_s for r in api.rows] == [3.0, 6.0]
    assert [r["pulses"] for r in rows] == [r.pulses for r in api.rows] == [3 * 2 * 10**8, 7 * 2 * 10**8]
    assert [r["key_length"] for r in rows] == [r.key_length for r in api.rows]
    assert [r["expected_key_length"] for r in rows] == [r.expected_key_length for r in api.rows]
    assert api.rows[-1].key_length > 0
    assert cli["protocol"]["tails"] == "hoeffding" and cli["protocol"]["afterpulse_probability"] == 2e-3
    # A different afterpulse probability changes the key: the flag is not ignored.
    assert main(argv[:-2] + ["--afterpulse", "0.05", "--json", "--no-progress"]) == 0
    other = json.loads(capsys.readouterr().out)["curves"]["2.5 urad"]["rows"]
    assert other[-1]["expected_key_length"] < rows[-1]["expected_key_length"]


def test_scenario_file_gives_the_same_pass_as_the_overrides(tmp_path, capsys):
    path = tmp_path / "s.toml"
    sets = ["--set", "rx_aperture_m=0.4", "--set", "noise_click=1e-6"]
    assert main(["link", "show", "leo-haps", *sets, "--save", str(path)]) == 0
    capsys.readouterr()
    common = ["--pointing", "weak", "--max-half-window", "2", "--step", "2", "--starts", "1", "--json",
              "--no-progress", "--seed", "3"]
    assert main(["pass", "leo-haps", *sets, *common]) == 0
    a = json.loads(capsys.readouterr().out)
    assert main(["pass", "--scenario", str(path), *common]) == 0
    b = json.loads(capsys.readouterr().out)
    assert a["curves"] == b["curves"] and a["scenario"]["rx_aperture_m"] == 0.4


def test_max_half_window_is_clipped_to_the_pass(capsys):
    """--max-half-window 1e9 stops at the last slot above the mask (PHYSICS C.1 pass duration)."""
    from qproto.noise_models import get_link, pass_duration_s

    assert main(["pass", "leo-haps", "--max-half-window", "1e9", "--step", "150", "--slot", "50",
                 "--pointing", "strong", "--no-optimise", "--json", "--no-progress"]) == 0
    rows = json.loads(capsys.readouterr().out)["curves"]["strong"]["rows"]
    half = pass_duration_s(platform_altitude_m=535e3, min_elevation_deg=10.0, observer_altitude_m=20e3) / 2
    last = 50 * int(half // 50)  # the last slot centre within the pass
    assert [r["half_window_s"] for r in rows] == [150.0, float(last)]
    assert get_link("leo-haps").min_elevation_deg == 10.0


BAD = [
    (["--source-rate", "1e30"], "--source-rate=1e30 is outside the allowed range: (0, 1e+12]"),
    (["--source-rate", "nan"], "--source-rate=nan is not finite"),
    (["--slot", "1e9"], "--slot=1e9 is outside the allowed range: (0, 1000]"),
    (["--slot", "1000", "--source-rate", "1e12"], "at most 1e+13 are allowed"),
    (["--slot", "1e-10", "--source-rate", "1e3"], "sends no pulse per slot"),
    (["--step", "1e-9"], "at most 1000 are allowed (--step >= 0.1)"),
    (["--max-half-window", "-5"], "--max-half-window=-5"),
    (["--plot", "/nonexistent/dir/x.png"], "directory /nonexistent/dir does not exist"),
    (["--plot", "out.xyz"], "unknown figure format 'xyz'"),
    (["--plot", ""], "--plot='': empty path"),
    (["--plot", "/tmp"], "--plot=/tmp: is a directory"),
    (["--pointing", "-3"], "--pointing=-3 is outside the allowed range"),
    (["--eps-sec", "1"], "--eps-sec=1 is outside the allowed range: (0, 1)"),
    (["--eps-cor", "0"], "--eps-cor=0"),
    (["--f-ec", "0.9"], "--f-ec=0.9 is outside the allowed range: [1, 10]"),
    (["--afterpulse", "1"], "--afterpulse=1 is outside the allowed range: [0, 1)"),
    (["--tails", "gauss"], "gauss"),
    (["--ec-leakage", "magic"], "magic"),
    (["--starts", "1e3"], "--starts=1e3 is outside the allowed range: integers in [1, 100]"),
    (["--starts", "2.5"], "--starts=2.5 is not an integer"),
    (["--set", "bogus=1"], "unknown link field 'bogus'; allowed:"),
    (["--set", "rx_aperture_m=-1"], "--set rx_aperture_m=-1"),
    (["--site", "35,139,0"], "--tle and --site go together"),
    (["--tle", "/nonexistent.tle", "--site", "35,139,0"], "--tle=/nonexistent.tle"),
    (["--date", "2024-01-01"], "--date needs --tle"),
]


@pytest.mark.parametrize("extra, fragment", BAD)
def test_bad_inputs_are_refused_before_computing(extra, fragment, capsys, monkeypatch):
    import qproto.passes

    def boom(*_a, **_k):  # nothing may be computed for a refused input
        raise AssertionError("pass_key_curve called")

    monkeypatch.setattr(qproto.passes, "pass_key_curve", boom)
    assert main(["pass", "leo-haps", "--no-progress", *extra]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("qproto: error:") and fragment in err, err
    assert len(err.splitlines()) == 1 and "Traceback" not in captured.err + captured.out
    assert "slot_s" not in err and "n_starts" not in err and "source_rate_hz" not in err


def test_fixed_link_and_site_errors(capsys, tmp_path):
    assert main(["pass", "haps-laps", "--no-progress"]) == 2
    assert "geometry='fixed'" in capsys.readouterr().err
    tle = tmp_path / "x.tle"
    tle.write_text("not a tle\n")
    assert main(["pass", "leo-haps", "--tle", str(tle), "--site", "35,139,0", "--no-progress"]) == 2
    assert "expected one TLE" in capsys.readouterr().err


def test_ctrl_c_prints_one_line_and_exits_130(capsys, monkeypatch):
    """Ctrl-C while the pass is computed (KeyboardInterrupt raised from inside the computation, as
    SIGINT does): one line on stderr, exit status 130, no traceback."""
    import qproto.passes

    real = qproto.passes.pass_key_curve
    calls = []

    def interrupted(*args, progress=None, **kwargs):
        def progress_then_interrupt(done, total):
            calls.append(done)
            raise KeyboardInterrupt

        return real(*args, progress=progress_then_interrupt, **kwargs)

    monkeypatch.setattr(qproto.passes, "pass_key_curve", interrupted)
    assert main(FAST + ["--pointing", "weak"]) == 130
    captured = capsys.readouterr()
    assert len(calls) == 1  # interrupted at the first progress report, inside the computation
    assert captured.err.strip() == "qproto: interrupted" and captured.out == ""
