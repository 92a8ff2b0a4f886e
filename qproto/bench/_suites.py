"""Built-in suites: sweep TOML files shipped in ``qproto/bench/suites``, and the one call
that runs a sweep into a results folder (store, tables, figure, Markdown report)."""

from __future__ import annotations

import dataclasses
import datetime
import importlib.resources
import os
from collections.abc import Callable
from typing import Any

from qproto._errors import InvalidParameter, InvalidType

from ._export import collect_rows, export_csv, pivot_rows, write_table
from ._runner import RunProgress, RunSummary, run_sweep
from ._spec import Sweep
from ._task import engine_versions

__all__ = ["available_suites", "load_suite", "run_suite", "SuiteReport"]


def available_suites() -> list[str]:
    """Names of the built-in suites (``quick``, ``large``, ...)."""
    files = importlib.resources.files("qproto.bench").joinpath("suites")
    return sorted(p.name[:-5] for p in files.iterdir() if p.name.endswith(".toml"))


def load_suite(name: str) -> Sweep:
    """A built-in suite's :class:`Sweep` by name.

    Raises:
        InvalidParameter: unknown name (the message lists the suites).
    """
    if not isinstance(name, str):
        raise InvalidType("suite", name, "a str")
    if name not in available_suites():
        raise InvalidParameter("suite", name, f"one of {available_suites()}",
                               f"unknown suite {name!r}; available: {available_suites()}")
    text = importlib.resources.files("qproto.bench").joinpath("suites", f"{name}.toml").read_text("utf-8")
    return Sweep.loads(text)


@dataclasses.dataclass(frozen=True)
class SuiteReport:
    """What :func:`run_suite` wrote: the run summary, the Markdown table (the compact one when
    the report names a ``headline``) and the paths (store, ``table.md``, ``table.csv``, ``rows.csv``, ``figure.png``, ``report.md``)."""

    summary: RunSummary
    table: str
    paths: dict[str, str]


def table_axes(sweep: Sweep) -> list[str]:
    """The axes a report shows: ``protocol`` and every key that varies (rounds and seed
    only when they vary independently of the others)."""
    axes = sweep.axes()
    return (["protocol"] if "protocol" not in axes else []) + axes


def run_suite(sweep: Sweep | str, output: str | os.PathLike, *, executor: Any = "serial",
              workers: int | None = None, scheduler: str | None = None,
              progress: Callable[[RunProgress], None] | None = None, command: str | None = None) -> SuiteReport:
    """Run a sweep (or a built-in suite by name) into the folder ``output``.

    Writes ``results.db`` (the store: a rerun resumes), ``table.md`` and ``table.csv``
    (with a ``[report] headline``: one row per protocol, one column per combination of
    ``columns``; otherwise the report's estimates per point), ``rows.csv`` (every estimate, every task),
    ``figure.png`` (the report's ``y`` against ``x`` grouped by ``group``) and
    ``report.md`` (description, command, counts, table, figure, versions).

    Args:
        sweep: a :class:`Sweep` or a built-in suite name.
        output: the results folder (created if missing).
        executor, workers, scheduler, progress: as :func:`qproto.bench.run_sweep`.
        command: the command line to quote in the report.
    """
    if isinstance(sweep, str):
        sweep = load_suite(sweep)
    if not isinstance(sweep, Sweep):
        raise InvalidType("sweep", sweep, "a Sweep or a suite name")
    out = os.fspath(output)
    os.makedirs(out, exist_ok=True)
    paths = {k: os.path.join(out, f) for k, f in (("store", "results.db"), ("table_md", "table.md"),
                                                   ("table_csv", "table.csv"), ("rows_csv", "rows.csv"),
                                                   ("figure", "figure.png"), ("report", "report.md"))}
    summary = run_sweep(sweep, paths["store"], executor=executor, workers=workers, scheduler=scheduler,
                        progress=progress)
    rows = list(collect_rows(paths["store"], sweep))
    estimates = list(sweep.report.get("estimates", ())) or default_estimates(rows)
    axes = table_axes(sweep)
    full = write_table(rows, axes=axes, estimates=estimates, fmt="markdown")
    if "headline" in sweep.report:
        columns = list(sweep.report.get("columns", [a for a in axes if a != "protocol"]))
        compact, labels = pivot_rows(rows, index="protocol", columns=columns, values=sweep.report["headline"])
        table = write_table(compact, axes=["protocol", "estimate"], estimates=labels, intervals=False)
        table_csv = write_table(compact, axes=["protocol", "estimate"], estimates=labels, fmt="csv")
    else:
        table = full
        table_csv = write_table(rows, axes=axes, estimates=estimates, fmt="csv")
    with open(paths["table_md"], "w", encoding="utf-8") as fh:
        fh.write(table)
    with open(paths["table_csv"], "w", encoding="utf-8") as fh:
        fh.write(table_csv)
    export_csv(paths["store"], paths["rows_csv"], sweep=sweep)
    figure_note = _figure(sweep, rows, paths["figure"])
    failed = [r for r in rows if r["status"] == "failed"]
    lines = [f"# qproto bench: {sweep.name}", "", sweep.description, ""]
    if command:
        lines += ["Command:", "", "```", command, "```", ""]
    lines += [f"- points: {summary.total}, distinct tasks: {summary.unique}",
              f"- this run: {summary.done} done, {summary.skipped} skipped (already stored), "
              f"{summary.failed} failed, {summary.elapsed_s:.1f} s wall, {summary.task_seconds:.1f} s in tasks",
              f"- finished {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
              f"- versions: {', '.join(f'{k} {v}' for k, v in engine_versions().items())}", "",
              ]
    if table is not full:
        lines += ["Each protocol's headline estimate (column `estimate`) per "
                  + " and ".join(f"`{c}`" for c in columns) + ":", "", table,
                  "All estimates with their confidence intervals:", ""]
    lines += ["Each cell is the estimate with its confidence interval in brackets; `-` where the protocol "
              "does not report that estimate or had no data.", "", full]
    if figure_note:
        lines += [figure_note, ""]
    if failed:
        lines += ["## Failed tasks", ""] + [f"- `{r['id'][:12]}` {r['protocol']}: {r['error']}" for r in failed] + [""]
    with open(paths["report"], "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines))
    return SuiteReport(summary=summary, table=table, paths=paths)


def default_estimates(rows: list[dict[str, Any]]) -> list[str]:
    """The first six estimate names found in ``rows`` (the table's columns when none are named)."""
    names: dict[str, None] = {}
    skip = {"id", "status", "protocol", "seconds", "error"}
    for r in rows:
        for k in r:
            if k not in skip and not k.endswith(("_low", "_high")) and k not in names:
                names[k] = None
    point_keys = {k for r in rows for k in r if "." in k} | {"rounds", "seed", "link", "elevation_deg",
                                                            "loss_db", "qber", "eavesdropper", "form"}
    return [k for k in names if k not in point_keys][:6]


def _figure(sweep: Sweep, rows: list[dict[str, Any]], path: str) -> str | None:
    rep = sweep.report
    if "x" not in rep or "y" not in rep:
        return None
    from matplotlib.figure import Figure  # no pyplot: leaves the caller's backend alone

    from ._plot import plot_rows

    where = rep.get("where", {})
    from ._export import values_equal

    chosen = [r for r in rows if all(values_equal(r.get(k), v) for k, v in where.items())]
    title = ", ".join(f"{k}={v}" for k, v in where.items()) or None
    fig = Figure(figsize=(6.0, 4.0), layout="constrained")
    plot_rows(chosen, x=rep["x"], y=rep["y"], group=rep.get("group"), logx=bool(rep.get("logx", False)),
              logy=bool(rep.get("logy", False)), title=title, ax=fig.add_subplot())
    fig.savefig(path, dpi=150)
    return f"![{rep['y']} against {rep['x']}]({os.path.basename(path)})"
