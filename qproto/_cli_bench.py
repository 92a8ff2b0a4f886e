"""``qproto bench``: declared, resumable, distributed sweeps.

Subcommands::

    qproto bench plan   SWEEP.toml [--store DB] [--calibrate] [--show N]
    qproto bench run    SWEEP.toml [--store DB] [--workers N] [--processes | --dask | --scheduler ADDR]
    qproto bench table  SWEEP.toml|DB [--format markdown|csv|latex] [--estimates a,b] [--output FILE]
    qproto bench plot   SWEEP.toml|DB --x AXIS --y ESTIMATE [--group AXIS] [--logx] [--logy] --output FIG
    qproto bench export SWEEP.toml|DB --output FILE.csv|FILE.parquet
    qproto bench suite  list | show NAME | run NAME --output DIR [executor options]

The store of ``SWEEP.toml`` is ``SWEEP.db`` beside it unless ``--store`` says otherwise.
Every file a subcommand writes is named with ``--output`` (a figure, a table, an
export, a suite's results folder); ``bench plot`` also accepts ``--plot FILE``, the name the
other qproto commands give their figure option. Progress goes to stderr; Ctrl-C stops cleanly with
exit status 130 and a rerun resumes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from qproto._errors import InvalidParameter

COMMAND = "bench"


def _executor_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes (default: one per core with --processes/--dask)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--processes", action="store_true", help="run tasks in local worker processes")
    g.add_argument("--dask", action="store_true",
                   help="run tasks on a Dask LocalCluster (one single-threaded worker per core by default)")
    g.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                   help="run tasks on an existing Dask cluster (beyond one machine)")
    p.add_argument("--max-in-flight", type=int, default=None, metavar="N",
                   help="tasks submitted at once (default: 2 x workers)")
    p.add_argument("--no-retry-failed", action="store_true", help="do not rerun tasks stored as failed")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _source_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="a sweep TOML file (its store is FILE.db unless --store), or a store (.db)")
    p.add_argument("--store", default=None, metavar="DB", help="the SQLite store (default: FILE.db)")
    p.add_argument("--where", action="append", default=[], metavar="KEY=VALUE",
                   help="keep rows whose column KEY equals VALUE (repeatable), e.g. --where protocol=bb84")


def add_parser(subparsers) -> None:
    """Add ``bench`` and its subcommands to the ``qproto`` parser."""
    bench = subparsers.add_parser(COMMAND, help="declared, resumable, distributed sweeps (plan, run, table, plot)")
    sub = bench.add_subparsers(dest="bench_command", required=True, parser_class=type(bench))

    p = sub.add_parser("plan", help="expand a sweep and estimate its work")
    p.add_argument("file", help="the sweep TOML file")
    p.add_argument("--store", default=None, metavar="DB", help="count tasks already done in this store "
                   "(default: FILE.db if it exists)")
    p.add_argument("--show", type=int, default=10, metavar="N", help="list the first N tasks (default 10)")
    p.add_argument("--calibrate", action="store_true",
                   help="time one short run per protocol to estimate the run time")

    r = sub.add_parser("run", help="run the tasks the store does not hold yet")
    r.add_argument("file", help="the sweep TOML file")
    r.add_argument("--store", default=None, metavar="DB", help="the SQLite store (default: FILE.db)")
    _executor_options(r)

    t = sub.add_parser("table", help="a table of estimates per point (Markdown, CSV or LaTeX)")
    _source_options(t)
    t.add_argument("--format", choices=("markdown", "csv", "latex"), default="markdown")
    t.add_argument("--estimates", default=None, metavar="A,B",
                   help="estimates to show (default: the sweep's [report] estimates, else the first six)")
    t.add_argument("--axes", default=None, metavar="A,B", help="axis columns (default: the axes that vary)")
    t.add_argument("--no-intervals", action="store_true", help="best values only (Markdown, LaTeX)")
    t.add_argument("--output", default=None, metavar="FILE", help="write the table to FILE (default: stdout)")

    g = sub.add_parser("plot", help="an estimate against a swept axis, grouped by another (matplotlib)")
    _source_options(g)
    g.add_argument("--x", default=None, help="the swept axis (default: the sweep's [report] x)")
    g.add_argument("--y", default=None, help="the estimate (default: the sweep's [report] y)")
    g.add_argument("--group", default=None, help="one line per value of this column")
    g.add_argument("--logx", action="store_true", help="logarithmic x axis")
    g.add_argument("--logy", action="store_true", help="logarithmic y axis")
    g.add_argument("--no-band", action="store_true", help="no confidence-interval band")
    g.add_argument("--title", default=None)
    g.add_argument("--output", "--plot", dest="output", required=True, metavar="FILE",
                   help="the figure file (.png, .pdf, .svg); --plot FILE is the same option, as in the other "
                        "qproto commands")

    e = sub.add_parser("export", help="every stored task with every estimate, as CSV or Parquet")
    e.add_argument("file", help="a sweep TOML file or a store (.db)")
    e.add_argument("--store", default=None, metavar="DB", help="the SQLite store (default: FILE.db)")
    e.add_argument("--output", required=True, metavar="FILE", help="FILE.csv or FILE.parquet")

    s = sub.add_parser("suite", help="built-in suites: list, show, run")
    ss = s.add_subparsers(dest="suite_command", required=True, parser_class=type(bench))
    ss.add_parser("list", help="the built-in suites")
    sh = ss.add_parser("show", help="print a suite's TOML")
    sh.add_argument("name")
    sr = ss.add_parser("run", help="run a suite (or a sweep TOML) into a results folder")
    sr.add_argument("name", help="a suite name (qproto bench suite list) or a sweep TOML file")
    sr.add_argument("--output", required=True, metavar="DIR",
                    help="results folder: results.db, table.md, table.csv, rows.csv, figure.png, report.md")
    _executor_options(sr)


# ---- helpers ----------------------------------------------------------------------------
def _default_store(file: str, store: str | None, *, must_exist: bool = False) -> str:
    if store is not None:
        path = store
    elif file.endswith((".db", ".sqlite", ".sqlite3")):
        path = file
    else:
        path = os.path.splitext(file)[0] + ".db"
    if must_exist and not os.path.exists(path):
        raise InvalidParameter("--store", path, "an existing store",
                               f"no store at {path!r}: run 'qproto bench run' first or name it with --store")
    return path


def _sweep_of(file: str):
    from qproto.bench import Sweep

    if file.endswith((".db", ".sqlite", ".sqlite3")):
        return None
    return Sweep.from_toml(file)


def _parse_where(items: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for text in items:
        key, sep, value = text.partition("=")
        if not sep or not key:
            raise InvalidParameter("--where", text, "KEY=VALUE")
        out[key] = value
    return out


def _list(text: str | None, name: str) -> list[str] | None:
    if text is None:
        return None
    items = [s.strip() for s in text.split(",") if s.strip()]
    if not items:
        raise InvalidParameter(name, text, "a comma-separated list of names")
    return items


def _executor(args) -> tuple[str, str | None]:
    if args.scheduler is not None:
        return "dask", args.scheduler
    if args.dask:
        return "dask", None
    if args.processes or (args.workers is not None and args.workers > 1):
        return "processes", None
    return "serial", None


class _Progress:
    """tqdm on stderr: points finished with ETA, and done/skipped/failed counts."""

    def __init__(self, total: int, desc: str, disabled: bool):
        from tqdm import tqdm

        self.bar = tqdm(total=total, desc=desc, unit="task", file=sys.stderr, disable=True if disabled else None,
                        leave=False, dynamic_ncols=True)

    def __call__(self, p) -> None:
        self.bar.set_postfix_str(f"done {p.done}, skipped {p.skipped}, failed {p.failed}", refresh=False)
        self.bar.update(p.finished - self.bar.n)

    def close(self) -> None:
        self.bar.close()


def _summary_line(s) -> str:
    return (f"{s.total} points, {s.unique} distinct tasks: {s.done} done, {s.skipped} skipped, {s.failed} failed "
            f"in {s.elapsed_s:.1f} s")


# ---- subcommands --------------------------------------------------------------------------
def _plan(args) -> int:
    from qproto.bench import Store

    sweep = _sweep_of(args.file)
    if sweep is None:
        raise InvalidParameter("file", args.file, "a sweep TOML file")
    store_path = _default_store(args.file, args.store)
    done: set[str] = set()
    if os.path.exists(store_path):
        with Store(store_path) as st:
            done = st.ids("done")
    ids: set[str] = set()
    per_protocol: dict[str, list[int]] = {}
    first: dict[str, object] = {}
    shown = []
    for task in sweep.tasks():
        if len(shown) < args.show:
            shown.append(task)
        if task.id in ids:
            continue
        ids.add(task.id)
        row = per_protocol.setdefault(task.protocol, [0, 0, 0])
        row[0] += 1
        row[1] += task.rounds
        if task.id in done:
            row[2] += 1
        elif task.protocol not in first:
            first[task.protocol] = task
    n_done = len(ids & done)
    print(f"sweep {sweep.name!r}: {sweep.size()} points, {len(ids)} distinct tasks, "
          f"{n_done} already done in {store_path}, {len(ids) - n_done} to run")
    axes = sweep.axes()
    if axes:
        print("axes: " + ", ".join(axes))
    estimates = {}
    if args.calibrate:
        estimates = _calibrate(first)
    head = ("protocol", "tasks", "rounds", "done", "est. seconds")
    rows = []
    total_s = 0.0
    for name, (n, rounds, d) in sorted(per_protocol.items()):
        est = "-"
        if name in estimates:
            a, b = estimates[name]
            sec = (n - d) * a + b * rounds * (n - d) / max(n, 1)
            total_s += sec
            est = f"{sec:.3g}"
        rows.append((name, str(n), f"{rounds:,}", str(d), est))
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    if args.calibrate:
        # three significant digits: a small sweep's few milliseconds must not print as 0.0
        print(f"estimated work: {total_s:.3g} task-seconds (divide by the workers for the wall time)")
    else:
        print("(--calibrate times one short run per protocol for a run-time estimate)")
    if shown:
        print(f"first {len(shown)} tasks:")
        for t in shown:
            point = ", ".join(f"{k}={v}" for k, v in t.point.items())
            print(f"  {t.id[:12]}  {point}")
    return 0


def _calibrate(first: dict) -> dict[str, tuple[float, float]]:
    """Per protocol ``(seconds per task, seconds per round)`` from runs at 1,000 and up to 50,000 rounds."""
    import dataclasses

    out = {}
    for name, task in first.items():
        times = []
        sizes = (min(1_000, task.rounds), min(50_000, task.rounds))
        for n in sizes:
            t0 = time.perf_counter()
            dataclasses.replace(task, rounds=n).run()
            times.append(time.perf_counter() - t0)
        b = (times[1] - times[0]) / (sizes[1] - sizes[0]) if sizes[1] > sizes[0] else 0.0
        b = max(b, 0.0)
        out[name] = (max(times[0] - b * sizes[0], 0.0), b)
    return out


def _run(args) -> int:
    from qproto.bench import run_sweep

    sweep = _sweep_of(args.file)
    if sweep is None:
        raise InvalidParameter("file", args.file, "a sweep TOML file")
    executor, scheduler = _executor(args)
    bar = _Progress(sweep.size(), sweep.name, args.no_progress)
    try:
        s = run_sweep(sweep, _default_store(args.file, args.store), executor=executor, workers=args.workers,
                      scheduler=scheduler, max_in_flight=args.max_in_flight,
                      retry_failed=not args.no_retry_failed, progress=bar)
    finally:
        bar.close()
    print(_summary_line(s), file=sys.stderr)
    return 1 if s.failed else 0


def _rows(args):
    from qproto.bench import collect_rows

    sweep = _sweep_of(args.file)
    store = _default_store(args.file, args.store, must_exist=True)
    return sweep, list(collect_rows(store, sweep, where=_parse_where(args.where)))


def _table(args) -> int:
    from qproto.bench import write_table
    from qproto.bench._suites import default_estimates, table_axes

    sweep, rows = _rows(args)
    estimates = _list(args.estimates, "--estimates")
    if estimates is None:
        estimates = list(sweep.report.get("estimates", ())) if sweep is not None else []
        estimates = estimates or default_estimates(rows)
    axes = _list(args.axes, "--axes")
    if axes is None:
        axes = table_axes(sweep) if sweep is not None else _store_axes(args)
    text = write_table(rows, axes=axes, estimates=estimates, fmt=args.format, intervals=not args.no_intervals)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text)
        print(f"wrote {len(rows)} rows to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _store_axes(args) -> list[str]:
    """``protocol`` and the point keys that vary across a store's rows (no sweep file given)."""
    from qproto.bench import Store, canonical_json

    values: dict[str, set[str]] = {}
    with Store(_default_store(args.file, args.store, must_exist=True)) as st:
        for row in st.rows():
            for k, v in row["point"].items():
                values.setdefault(k, set()).add(canonical_json(v))
    return ["protocol"] + [k for k, vals in values.items() if len(vals) > 1 and k != "protocol"]


def _plot(args) -> int:
    from matplotlib.figure import Figure

    from qproto.bench import plot_rows

    sweep, rows = _rows(args)
    rep = sweep.report if sweep is not None else {}
    x = args.x or rep.get("x")
    y = args.y or rep.get("y")
    if x is None or y is None:
        raise InvalidParameter("--x/--y", (x, y), "an axis and an estimate name (or [report] x and y)")
    group = args.group if args.group is not None else (rep.get("group") if args.x is None else None)
    fig = Figure(figsize=(6.0, 4.0), layout="constrained")
    plot_rows(rows, x=x, y=y, group=group, logx=args.logx or bool(rep.get("logx", False) and args.x is None),
              logy=args.logy or bool(rep.get("logy", False) and args.y is None), band=not args.no_band,
              title=args.title, ax=fig.add_subplot())
    fig.savefig(args.output, dpi=150)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _export(args) -> int:
    from qproto.bench import export_csv, export_parquet

    sweep = _sweep_of(args.file)
    store = _default_store(args.file, args.store, must_exist=True)
    if args.output.endswith(".parquet"):
        n = export_parquet(store, args.output, sweep=sweep)
    elif args.output.endswith(".csv"):
        n = export_csv(store, args.output, sweep=sweep)
    else:
        raise InvalidParameter("--output", args.output, "a file name ending in .csv or .parquet")
    print(f"wrote {n} rows to {args.output}", file=sys.stderr)
    return 0


def _suite(args) -> int:
    from qproto.bench import available_suites, load_suite, run_suite

    if args.suite_command == "list":
        for name in available_suites():
            s = load_suite(name)
            print(f"{name:<8} {s.size():>6} tasks  {s.description}")
        return 0
    if args.suite_command == "show":
        import importlib.resources

        load_suite(args.name)  # validates the name
        sys.stdout.write(importlib.resources.files("qproto.bench").joinpath("suites", f"{args.name}.toml")
                         .read_text("utf-8"))
        return 0
    sweep = _sweep_of(args.name) if args.name.endswith(".toml") else load_suite(args.name)
    executor, scheduler = _executor(args)
    bar = _Progress(sweep.size(), sweep.name, args.no_progress)
    command = "qproto bench suite run " + " ".join(sys.argv[4:]) if len(sys.argv) > 4 else None
    try:
        rep = run_suite(sweep, args.output, executor=executor, workers=args.workers, scheduler=scheduler,
                        progress=bar, command=command)
    finally:
        bar.close()
    sys.stdout.write(rep.table)
    print(_summary_line(rep.summary), file=sys.stderr)
    print(f"wrote {', '.join(os.path.basename(p) for p in rep.paths.values())} to {args.output}", file=sys.stderr)
    return 1 if rep.summary.failed else 0


def main(args: argparse.Namespace) -> int:
    """Run ``qproto bench``; 0 on success, 1 when a task failed, 130 on Ctrl-C."""
    from qproto.bench import SweepInterrupted

    handlers = {"plan": _plan, "run": _run, "table": _table, "plot": _plot, "export": _export, "suite": _suite}
    for name in ("workers", "max_in_flight"):
        v = getattr(args, name, None)
        if v is not None and v < 1:
            raise InvalidParameter(f"--{name.replace('_', '-')}", v, "integers >= 1")
    try:
        return handlers[args.bench_command](args)
    except SweepInterrupted as exc:
        s = exc.summary
        print(f"qproto bench: interrupted; {s.done} task(s) stored in this run, {s.skipped} skipped: "
              "rerun the same command to resume", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("qproto bench: interrupted", file=sys.stderr)
        return 130

