"""From the store to flat rows: CSV and Parquet exports, and tables (CSV, Markdown, LaTeX).

A *row* is a flat dict: ``id``, ``status``, ``protocol``, the point's axis values
(``loss_db``, ``param.parties``, ...), ``seconds``, ``error`` and every estimate of the
result: an :class:`~qproto.Estimate` ``name`` gives the columns ``name`` (best),
``name_low`` and ``name_high``; a plain number ``name`` alone. Values come from the
result's ``estimates()`` as stored by ``to_dict()``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from qproto._errors import InvalidParameter, InvalidType
from qproto._validation import check_one_of

from ._spec import Sweep
from ._store import Store

__all__ = ["flatten_estimates", "collect_rows", "export_csv", "export_parquet", "write_table", "pivot_rows",
           "TABLE_FORMATS"]

TABLE_FORMATS = ("csv", "markdown", "latex")
_BASE_COLUMNS = ("id", "status", "protocol")
_TAIL_COLUMNS = ("seconds", "error")


def flatten_estimates(estimates: Mapping[str, Any]) -> dict[str, Any]:
    """A result's ``to_dict()["estimates"]`` as flat columns (see the module docs).

    Estimates that are neither numbers nor intervals (lists, dicts) become JSON text.
    """
    out: dict[str, Any] = {}
    for name, v in estimates.items():
        if isinstance(v, Mapping) and "best" in v:
            out[name] = _num(v.get("best"))
            out[f"{name}_low"] = _num(v.get("low"))
            out[f"{name}_high"] = _num(v.get("high"))
        elif v is None or isinstance(v, (bool, int, float)):
            out[name] = _num(v) if isinstance(v, float) else v
        else:
            out[name] = json.dumps(v)
    return out


def _num(v: Any) -> float | None:
    return None if v is None else float(v)


def _stored_row(r: Mapping[str, Any], point: Mapping[str, Any] | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {"id": r["id"], "status": r["status"], "protocol": r["protocol"]}
    for k, v in (point if point is not None else r["point"]).items():
        row[k] = v if v is None or isinstance(v, (str, int, float, bool)) else json.dumps(v)
    row["seconds"] = r["seconds"]
    row["error"] = r["error"]
    if r["result"] is not None:
        row.update(flatten_estimates(r["result"].get("estimates", {})))
    return row


def collect_rows(store: Store | str | os.PathLike, sweep: Sweep | None = None, *,
                 where: Mapping[str, Any] | None = None, include_missing: bool = False) -> Iterator[dict[str, Any]]:
    """Flat rows of a store, one per sweep point (with ``sweep``) or one per stored task.

    Args:
        store: a :class:`Store` or its path.
        sweep: when given, rows follow the sweep's points in order, each with its own axis
            values (two points with the same task id both get a row).
        where: keep rows whose columns equal these values (``{"protocol": "bb84"}``);
            numbers compare as floats.
        include_missing: with ``sweep``, also yield points not in the store yet
            (``status`` ``"missing"``).
    """
    own = not isinstance(store, Store)
    db = Store(store) if own else store
    try:
        if sweep is None:
            source = (_stored_row(r) for r in db.rows())
        else:
            def from_sweep() -> Iterator[dict[str, Any]]:
                for task in sweep.tasks():
                    r = db.get(task.id)
                    if r is None:
                        if include_missing:
                            yield {"id": task.id, "status": "missing", "protocol": task.protocol, **task.point}
                        continue
                    yield _stored_row(r, task.point)

            source = from_sweep()
        for row in source:
            if where and not all(values_equal(row.get(k), v) for k, v in where.items()):
                continue
            yield row
    finally:
        if own:
            db.close()


def values_equal(a: Any, b: Any) -> bool:
    """Whether a row value equals a filter value (numbers as floats, so ``"10"`` matches 10)."""
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return float(a) == float(b)
    if isinstance(a, (int, float)) and isinstance(b, str):
        try:
            return float(a) == float(b)
        except ValueError:
            return False
    return a == b or str(a) == str(b)


def _columns(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    seen: dict[str, None] = dict.fromkeys(_BASE_COLUMNS)
    for r in rows:
        for k in r:
            seen.setdefault(k, None)
    head = [k for k in seen if k not in _TAIL_COLUMNS]
    return head + [k for k in _TAIL_COLUMNS if k in seen]


def export_csv(store: Store | str | os.PathLike, path: str | os.PathLike, *, sweep: Sweep | None = None) -> int:
    """Write every row (see :func:`collect_rows`) to a CSV file; returns the number of rows.

    Two passes over the store (columns, then rows), so memory stays bounded however many
    tasks it holds. Missing values are empty cells.
    """
    columns = _columns(collect_rows(store, sweep))
    n = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, extrasaction="raise")
        w.writeheader()
        for row in collect_rows(store, sweep):
            w.writerow({k: "" if v is None else v for k, v in row.items()})
            n += 1
    return n


def export_parquet(store: Store | str | os.PathLike, path: str | os.PathLike, *, sweep: Sweep | None = None,
                   batch: int = 1000) -> int:
    """Write every row to a Parquet file (pyarrow), streamed in batches; returns the row count.

    A column holding only numbers is float64 (int64 when every value is an int), a column
    holding anything else is text.

    Raises:
        InvalidParameter: pyarrow is not installed (the ``bench`` extra).
    """
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise InvalidParameter("format", "parquet", "the 'bench' extra installed",
                               "Parquet export needs pyarrow: pip install 'qproto[bench]'") from None
    kinds: dict[str, set[str]] = {k: set() for k in _BASE_COLUMNS}
    for row in collect_rows(store, sweep):
        for k, v in row.items():
            s = kinds.setdefault(k, set())
            if v is not None:
                s.add("bool" if isinstance(v, bool) else "int" if isinstance(v, int)
                      else "float" if isinstance(v, float) else "str")
    columns = _columns([dict.fromkeys(kinds)])
    types = {}
    for k in columns:
        s = kinds[k]
        types[k] = (pa.int64() if s == {"int"} else pa.bool_() if s == {"bool"}
                    else pa.float64() if s and s <= {"int", "float"} else pa.string())
    schema = pa.schema([(k, types[k]) for k in columns])

    def cast(v: Any, t) -> Any:
        if v is None:
            return None
        if t == pa.string():
            return v if isinstance(v, str) else json.dumps(v)
        return float(v) if t == pa.float64() else v

    n = 0
    with pq.ParquetWriter(os.fspath(path), schema) as writer:
        buf: list[dict[str, Any]] = []
        for row in collect_rows(store, sweep):
            buf.append(row)
            if len(buf) >= batch:
                writer.write_table(pa.Table.from_pylist(
                    [{k: cast(r.get(k), types[k]) for k in columns} for r in buf], schema=schema))
                n += len(buf)
                buf = []
        if buf:
            writer.write_table(pa.Table.from_pylist(
                [{k: cast(r.get(k), types[k]) for k in columns} for r in buf], schema=schema))
            n += len(buf)
    return n


# ---- tables ---------------------------------------------------------------------------
def _fmt(x: Any, digits: int = 4) -> str:
    if x is None or x == "":
        return "-"
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return str(x)
    if isinstance(x, int):
        return f"{x:,}" if abs(x) >= 10_000 else str(x)
    if math.isnan(x):
        return "-"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e5):
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}" if abs(x) >= 1 else f"{x:.{digits}f}"


def _cell(row: Mapping[str, Any], name: str, intervals: bool) -> str:
    best = _fmt(row.get(name))
    if intervals and row.get(f"{name}_low") is not None and best != "-":
        return f"{best} [{_fmt(row.get(name + '_low'))}, {_fmt(row.get(name + '_high'))}]"
    return best


def _latex_escape(s: str) -> str:
    """Escape LaTeX's special characters in a cell (one pass, so escapes are not escaped again)."""
    table = {"\\": r"\textbackslash{}", "_": r"\_", "%": r"\%", "&": r"\&", "#": r"\#", "$": r"\$",
             "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
    return "".join(table.get(c, c) for c in s)


def write_table(rows: Sequence[Mapping[str, Any]], *, axes: Sequence[str], estimates: Sequence[str],
                fmt: str = "markdown", intervals: bool = True, out: io.TextIOBase | None = None) -> str:
    """Render rows as a table: one column per axis, one per estimate.

    Args:
        rows: flat rows (:func:`collect_rows`).
        axes: the point keys to show first (e.g. ``["protocol", "link", "elevation_deg"]``).
        estimates: estimate names (``"qber"``, ``"key_rate"``, ...); a row without one shows ``-``.
        fmt: ``"csv"`` (best, low and high as separate columns), ``"markdown"`` or ``"latex"``.
        intervals: show ``best [low, high]`` in Markdown and LaTeX cells.
        out: also write the text to this stream.

    Returns:
        The table as text.
    """
    check_one_of("fmt", fmt, TABLE_FORMATS)
    for name, seq in (("axes", axes), ("estimates", estimates)):
        if isinstance(seq, str) or not all(isinstance(s, str) for s in seq):
            raise InvalidType(name, seq, "a list of column names")
    if fmt == "csv":
        buf = io.StringIO()
        cols = list(axes)
        for e in estimates:
            cols += [e, f"{e}_low", f"{e}_high"]
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(cols)
        for r in rows:
            w.writerow(["" if r.get(c) is None else r.get(c) for c in cols])
        text = buf.getvalue()
    else:
        head = list(axes) + list(estimates)
        body = [[_fmt(r.get(a)) for a in axes] + [_cell(r, e, intervals) for e in estimates] for r in rows]
        if fmt == "markdown":
            widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(head)]
            lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |",
                     "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
            lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(b, widths)) + " |" for b in body]
            text = "\n".join(lines) + "\n"
        else:
            esc = [_latex_escape(h) for h in head]
            lines = [r"\begin{tabular}{" + "l" * len(axes) + "r" * len(estimates) + "}", r"\hline",
                     " & ".join(esc) + r" \\", r"\hline"]
            lines += [" & ".join(_latex_escape(c) for c in b) + r" \\" for b in body]
            lines += [r"\hline", r"\end{tabular}"]
            text = "\n".join(lines) + "\n"
    if out is not None:
        out.write(text)
    return text


def pivot_rows(rows: Sequence[Mapping[str, Any]], *, index: str, columns: Sequence[str],
               values: Sequence[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """A compact view: one row per value of ``index``, one column per combination of the
    ``columns`` axes, each cell the *headline* estimate of that row's protocol.

    The headline of an index value is the first name in ``values`` that any of its rows
    reports (e.g. ``key_rate`` for a QKD protocol, ``fidelity`` for teleportation); the
    rows get an ``estimate`` column naming it. Returns ``(rows, column labels)``; render
    them with ``write_table(rows, axes=[index, "estimate"], estimates=labels, intervals=False)``.

    Raises:
        InvalidParameter: two input rows fall into the same cell (another axis varies).
    """
    if isinstance(columns, str) or isinstance(values, str):
        raise InvalidType("columns/values", (columns, values), "lists of names")
    labels: dict[str, None] = {}
    groups: dict[Any, list[Mapping[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r.get(index), []).append(r)
    out = []
    for key, members in groups.items():
        headline = next((v for v in values if any(m.get(v) is not None for m in members)), None)
        row: dict[str, Any] = {index: key, "estimate": headline or "-"}
        for m in members:
            label = " ".join(f"{m.get(c)}" for c in columns) or "value"
            if label in row:
                raise InvalidParameter("columns", list(columns), "axes that identify each row of an index value",
                                       f"two rows of {index}={key!r} share the cell {label!r}: another axis "
                                       "varies; add it to the columns")
            labels.setdefault(label, None)
            row[label] = m.get(headline) if headline else None
        out.append(row)
    return out, list(labels)
