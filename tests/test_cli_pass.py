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
    (["--source-rate", "-1"], "source_rate"), (["--pointing", "bogus"], "pointing"),
    (["--max-half-window", "0"], "max_half_window"), (["--starts", "0"], "n_starts"),
])
def test_bad_inputs(extra, name, capsys):
    assert main(FAST + extra) == 2
    err = capsys.readouterr().err
    assert err.startswith("qproto: error:") and name in err and len(err.strip().splitlines()) == 1


def test_unknown_link(capsys):
    assert main(["pass", "no-such-link", "--no-progress"]) == 2
    assert "no-such-link" in capsys.readouterr().err
