"""Shipped scenarios and ``qproto network``."""

import csv
import json

import numpy as np
import pytest

from qproto import InvalidParameter
from qproto.cli import main
from qproto.network import available_scenarios, load_scenario, run_scenario


def test_three_scenarios_ship():
    assert available_scenarios() == ["fig3-haps-laps-swapping", "fig8-trusted-relay", "tokyo-mesh"]
    for name in available_scenarios():
        s = load_scenario(name)
        assert s.demands and s.nodes and s.description


def test_fig3_swaps_at_the_middle_laps_while_it_flies():
    """LAPS 1 and 3 get entanglement through LAPS 2 (the swap) until its flight window ends at 5400 s."""
    r = run_scenario(load_scenario("fig3-haps-laps-swapping"), duration_s=6000, step_s=300)
    a = r.allocation
    flying = a.times_s <= 5400
    assert all("laps-2" in p for p, f in zip(a.paths[0], flying) if f)
    assert all(a.delivered_rate[0][flying] == 10000.0) and not any(a.delivered_rate[0][~flying])


def test_fig8_needs_key_stores():
    """Seed 000 Fig. 8: no common view, so no instantaneous key; with stores at the satellites, key."""
    r = run_scenario(load_scenario("fig8-trusted-relay"), step_s=120)
    (tot,) = r.totals()
    assert tot["delivered"] == 0.0 and tot["stored_key_bits"] > 0
    from qproto.network import stored_key_flow
    series = r.stored_series[0]
    assert r.stored_times_s[-1] == r.network.times_s[-1] and np.all(np.diff(series) >= 0)
    assert series[-1] == pytest.approx(stored_key_flow(r.network, "xinglong", "graz"), rel=1e-12)
    assert 0 < np.count_nonzero(np.diff(series)) < series.size - 1  # grows in steps: passes


def test_cli_run_writes_series_and_figures(tmp_path, capsys):
    files = {k: tmp_path / f"out.{k}" for k in ("csv", "json")}
    plot, snap = tmp_path / "acc.png", tmp_path / "snap.png"
    rc = main(["network", "run", "fig3-haps-laps-swapping", "--duration", "600", "--step", "60", "--no-progress",
               "--csv", str(files["csv"]), "--json", str(files["json"]), "--plot", str(plot),
               "--plot-snapshot", str(snap), "--snapshot-step", "3"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "laps-1->laps-3 (pairs)" in out and "share_served" in out
    rows = list(csv.DictReader(open(files["csv"])))
    assert len(rows) == 11 * 2 and rows[0]["path"] == "laps-1-haps-1-laps-2-haps-2-laps-3"
    data = json.loads(files["json"].read_text())
    assert data["steps"] == 11 and len(data["totals"]) == 2
    assert sum(float(r["delivered_rate"]) for r in rows if r["demand"].startswith("laps-1->laps-3")) * 60 == \
        pytest.approx(data["totals"][0]["delivered"])
    assert plot.stat().st_size > 0 and snap.stat().st_size > 0
    assert main(["network", "list"]) == 0
    assert "tokyo-mesh" in capsys.readouterr().out


@pytest.mark.parametrize("extra, flag", [(["--step", "0"], "--step"), (["--duration", "x"], "--duration"),
                                         (["--plot", "/nonexistent/dir/a.png"], "--plot"),
                                         (["--csv", "out.txt"], "--csv"), (["--snapshot-step", "50"],
                                                                          "--snapshot-step")])
def test_cli_bad_flags(extra, flag, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["network", "run", "fig3-haps-laps-swapping", "--duration", "60", "--no-progress"] + extra) == 2
    assert flag in capsys.readouterr().err


def test_bad_scenarios(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text('name = "x"\nbogus = 1\n')
    with pytest.raises(InvalidParameter) as err:
        load_scenario(p)
    assert err.value.name == "scenario"
    p.write_text('name = "x"\n[[ground]]\nname = "g"\nlatitude_deg = 0\nlongitude_deg = 0\n')
    with pytest.raises(InvalidParameter) as err:
        load_scenario(p)
    assert err.value.name == "demand"
    p.write_text('[[ground]]\nname = "g"\nlatitude_deg = 0\nlongitude_deg = 0\nheight = 3\n')
    with pytest.raises(InvalidParameter) as err:
        load_scenario(p)
    assert err.value.name == "ground[0]"
    with pytest.raises(InvalidParameter) as err:
        load_scenario("no-such-scenario")
    assert err.value.name == "scenario"


def test_cli_verify(capsys):
    rc = main(["network", "verify", "tokyo-mesh", "--demand", "3", "--duration", "0", "--target-bits", "300"])
    out = capsys.readouterr().out
    assert rc == 0 and "mdi-qkd tokyo-" in out and "agrees" in out
    assert main(["network", "verify", "tokyo-mesh", "--demand", "9"]) == 2
    assert "--demand" in capsys.readouterr().err
    assert main(["network", "verify", "fig3-haps-laps-swapping", "--duration", "0", "--max-rounds", "10000"]) == 2
    assert "max_rounds" in capsys.readouterr().err


def test_scenario_file_with_a_tle_satellite(tmp_path):
    """A [[satellite]] table (TLE) and an ISO epoch string build a network; the satellite's altitude
    is the ISS's (~420 km)."""
    import datetime as dt
    p = tmp_path / "iss.toml"
    p.write_text('\n'.join([
        'name = "iss"', 'duration_s = 600', 'step_s = 60', 'epoch = "2024-01-01T12:00:00Z"',
        '[[ground]]', 'name = "tokyo"', 'latitude_deg = 35.68', 'longitude_deg = 139.77',
        '[[satellite]]', 'name = "iss"',
        'tle_line1 = "1 25544U 98067A   24001.50000000  .00016717  00000-0  10270-3 0  9003"',
        'tle_line2 = "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.49815324 24999"',
        '[[demand]]', 'source = "tokyo"', 'target = "iss"', 'rate = 1']))
    s = load_scenario(p)
    assert s.epoch == dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone.utc)
    net = s.build_network()
    alt = net.altitudes_m[net.index["iss"]]
    assert 380e3 < alt.min() and alt.max() < 460e3
