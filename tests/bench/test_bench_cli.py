"""``qproto bench``: plan, run, table, plot, export, suite; one-line errors; exports that match
the results' own estimates."""

import csv
import io
import json

import pytest

from qproto import result_from_dict
from qproto.bench import Store, flatten_estimates, load_suite
from qproto.cli import main

TOML = """
name = "cli"
[defaults]
rounds = 3000
seed = 5
channel.depolarisation = 0.06
[[sweep]]
grid = { protocol = ["bb84", "bbm92"], loss_db = [0, 4, 8] }
[report]
estimates = ["qber", "key_rate"]
x = "loss_db"
y = "qber"
group = "protocol"
"""


@pytest.fixture
def toml(tmp_path):
    path = tmp_path / "cli.toml"
    path.write_text(TOML)
    return path


def _run(capsys, *argv):
    code = main(list(map(str, argv)))
    out, err = capsys.readouterr()
    return code, out, err


def test_plan_counts_tasks_and_store_progress(toml, capsys):
    code, out, _ = _run(capsys, "bench", "plan", toml, "--show", "2")
    assert code == 0
    assert "6 points, 6 distinct tasks, 0 already done" in out and "6 to run" in out
    assert out.count("rounds=3000") == 2
    assert _run(capsys, "bench", "run", toml, "--no-progress")[0] == 0
    code, out, _ = _run(capsys, "bench", "plan", toml)
    assert "6 already done" in out and "0 to run" in out


def test_plan_calibrate_gives_a_positive_estimate(toml, capsys):
    code, out, _ = _run(capsys, "bench", "plan", toml, "--calibrate", "--show", "0")
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("estimated work"))
    assert float(line.split()[2]) > 0


def test_run_table_formats_plot_and_export(toml, tmp_path, capsys):
    code, _, err = _run(capsys, "bench", "run", toml, "--no-progress")
    assert code == 0 and "6 done, 0 skipped, 0 failed" in err
    assert (tmp_path / "cli.db").exists()
    code, _, err = _run(capsys, "bench", "run", toml, "--no-progress")
    assert "0 done, 6 skipped" in err

    with Store(tmp_path / "cli.db") as st:
        results = {r["point"]["protocol"] + str(r["point"]["loss_db"]): result_from_dict(r["result"])
                   for r in st.rows()}

    code, out, _ = _run(capsys, "bench", "table", toml, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 6 and list(rows[0])[:2] == ["protocol", "loss_db"]
    for row in rows:
        r = results[row["protocol"] + row["loss_db"]]
        assert float(row["qber"]) == r.qber.best  # the result's own estimate, not recomputed
        assert float(row["qber_low"]) == r.qber.low and float(row["qber_high"]) == r.qber.high
        assert float(row["key_rate"]) == r.key_rate.best

    code, out, _ = _run(capsys, "bench", "table", toml, "--where", "protocol=bb84", "--no-intervals")
    lines = out.strip().splitlines()
    assert lines[0].split("|")[1].strip() == "protocol" and len(lines) == 2 + 3
    assert all("bbm92" not in x for x in lines)
    code, out, _ = _run(capsys, "bench", "table", tmp_path / "cli.db", "--estimates", "qber")
    assert out.splitlines()[0].replace(" ", "") == "|protocol|loss_db|qber|"  # axes read from the store
    code, out, _ = _run(capsys, "bench", "table", toml, "--format", "latex", "--estimates", "key_rate")
    assert out.startswith(r"\begin{tabular}{llr}") and r"key\_rate" in out and out.count(r"\\") == 7

    fig = tmp_path / "fig.png"
    code, _, err = _run(capsys, "bench", "plot", toml, "--output", fig, "--logy")
    assert code == 0 and fig.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pdf = tmp_path / "fig.pdf"
    assert _run(capsys, "bench", "plot", tmp_path / "cli.db", "--x", "loss_db", "--y", "key_rate",
                "--group", "protocol", "--plot", pdf)[0] == 0  # --plot FILE, as elsewhere in qproto
    assert pdf.read_bytes()[:4] == b"%PDF"

    import pyarrow.parquet as pq

    pq_path, csv_path = tmp_path / "rows.parquet", tmp_path / "rows.csv"
    assert _run(capsys, "bench", "export", toml, "--output", pq_path)[0] == 0
    assert _run(capsys, "bench", "export", tmp_path / "cli.db", "--output", csv_path)[0] == 0
    table = pq.read_table(pq_path).to_pylist()
    assert len(table) == 6
    with open(csv_path) as fh:
        exported = list(csv.DictReader(fh))
    assert len(exported) == 6
    for row in table:
        want = flatten_estimates(json.loads(json.dumps(results[row["protocol"] + str(row["loss_db"])]
                                                       .to_dict()["estimates"])))
        for k, v in want.items():
            assert row[k] == v or (v is None and row[k] is None), k
    by_id = {r["id"]: r for r in exported}
    assert {r["id"] for r in table} == set(by_id)


@pytest.mark.parametrize("argv, needle", [
    (["bench", "plan", "missing.toml"], "cannot read sweep file"),
    (["bench", "run", "{toml}", "--workers", "0"], "--workers"),
    (["bench", "table", "{toml}"], "no store at"),
    (["bench", "export", "{toml}", "--output", "x.json"], None),
    (["bench", "suite", "run", "nosuch", "--output", "x"], "unknown suite 'nosuch'"),
    (["bench", "run", "{toml}", "--dask", "--processes"], "not allowed with"),
])
def test_errors_are_one_line_with_status_2(argv, needle, toml, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if argv[:2] == ["bench", "export"]:
        _run(capsys, "bench", "run", toml, "--no-progress")
    code, out, err = _run(capsys, *[a.format(toml=toml) for a in argv])
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("qproto: error:")
    assert needle is None or needle in err


def test_a_failed_task_exits_1_and_is_reported(tmp_path, capsys):
    path = tmp_path / "fail.toml"
    path.write_text('[[sweep]]\nfixed = { protocol = "bb84", rounds = 100, seed = 1, '
                    'engine.mode = "stabilizer", channel.depolarisation = 0.1 }\n')
    code, _, err = _run(capsys, "bench", "run", path, "--no-progress")
    assert code == 1 and "1 failed" in err


def test_suites_are_listed_shown_and_valid(capsys):
    code, out, _ = _run(capsys, "bench", "suite", "list")
    assert code == 0 and out.startswith("large") and "quick" in out
    code, out, _ = _run(capsys, "bench", "suite", "show", "quick")
    assert 'name = "quick"' in out
    quick = load_suite("quick")
    tasks = list(quick.tasks())  # every point of the quick suite resolves
    assert len(tasks) == quick.size() == 90
    assert {t.protocol for t in tasks} >= {"bb84", "bbm92", "ghz-cka", "teleportation"}
    large = load_suite("large")
    assert large.size() == 15 * 6 * 17 * 5 + 15 * 5


def test_suite_run_writes_the_results_folder(tmp_path, capsys):
    path = tmp_path / "mini.toml"
    path.write_text('name = "mini"\ndescription = "two links"\n[defaults]\nrounds = 2000\nseed = 3\n'
                    '[[sweep]]\ngrid = { protocol = ["bb84", "teleportation"], link = ["haps-ground"], '
                    'elevation_deg = [40, 80] }\n'
                    '[report]\nestimates = ["detection_rate", "qber", "fidelity"]\nx = "elevation_deg"\n'
                    'y = "detection_rate"\ngroup = "protocol"\n')
    out_dir = tmp_path / "res"
    code, out, err = _run(capsys, "bench", "suite", "run", path, "--output", out_dir, "--no-progress")
    assert code == 0
    for name in ("results.db", "table.md", "table.csv", "rows.csv", "figure.png", "report.md"):
        assert (out_dir / name).stat().st_size > 0, name
    assert out == (out_dir / "table.md").read_text()
    report = (out_dir / "report.md").read_text()
    assert "# qproto bench: mini" in report and "![detection_rate against elevation_deg](figure.png)" in report
    assert "4 done, 0 skipped" in report
    # teleportation has a fidelity but no QBER, bb84 the reverse: both show '-' where they lack one
    lines = [x for x in out.splitlines() if x.startswith("| ")][1:]
    assert len(lines) == 4 and all(" - " in x for x in lines)


def test_pivot_picks_each_protocols_headline_and_refuses_shared_cells():
    from qproto import InvalidParameter
    from qproto.bench import pivot_rows, write_table

    rows = [{"protocol": "bb84", "link": "a", "key_rate": 0.5, "fidelity": None},
            {"protocol": "bb84", "link": "b", "key_rate": 0.25},
            {"protocol": "teleportation", "link": "a", "fidelity": 0.9},
            {"protocol": "teleportation", "link": "b", "fidelity": None}]
    out, labels = pivot_rows(rows, index="protocol", columns=["link"], values=["key_rate", "fidelity"])
    assert labels == ["a", "b"]
    assert out == [{"protocol": "bb84", "estimate": "key_rate", "a": 0.5, "b": 0.25},
                   {"protocol": "teleportation", "estimate": "fidelity", "a": 0.9, "b": None}]
    text = write_table(out, axes=["protocol", "estimate"], estimates=labels, intervals=False)
    assert text.splitlines()[3].split("|")[3:5] == [" 0.9000 ", " -      "]
    with pytest.raises(InvalidParameter) as info:
        pivot_rows(rows + [{"protocol": "bb84", "link": "a", "key_rate": 0.1}], index="protocol",
                   columns=["link"], values=["key_rate"])
    assert info.value.name == "columns"


def test_latex_cells_are_escaped_once():
    from qproto.bench import write_table

    text = write_table([{"link": "a_b{1}%", "x": 0.5, "x_low": 0.25, "x_high": 0.75}], axes=["link"],
                       estimates=["x"], fmt="latex")
    assert r"a\_b\{1\}\% & 0.5000 [0.2500, 0.7500] \\" in text
