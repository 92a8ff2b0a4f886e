"""Figures: any estimate against any swept axis, one line per value of another axis,
with the estimate's confidence interval as a band (matplotlib)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from qproto._errors import InvalidParameter
from qproto._validation import check_bool

__all__ = ["plot_rows"]


def _float(v: Any) -> float:
    try:
        return math.nan if v is None else float(v)
    except (TypeError, ValueError):
        return math.nan


def plot_rows(rows: Sequence[Mapping[str, Any]], *, x: str, y: str, group: str | None = None,
              logx: bool = False, logy: bool = False, band: bool = True, ax=None, title: str | None = None):
    """Plot estimate ``y`` against axis ``x``, one line per value of ``group``.

    Args:
        rows: flat rows (:func:`qproto.bench.collect_rows`), e.g. filtered with ``where``.
        x: a numeric axis column (``loss_db``, ``elevation_deg``, ``param.parties``, ...).
        y: an estimate name; its ``y_low``/``y_high`` columns give the band when present.
        group: a column whose values each get their own line (None: one line).
        logx, logy: logarithmic axes (points with non-positive values are left out).
        band: draw the confidence interval as a shaded band.
        ax: a matplotlib ``Axes`` to draw on (default: a new figure).
        title: the axes title.

    Returns:
        The matplotlib ``Figure``.

    Raises:
        InvalidParameter: no row has a number in ``x`` and ``y``; or two rows of one group
            share an ``x`` value (another axis varies: filter the rows, or group by it).
    """
    logx, logy, band = check_bool("logx", logx), check_bool("logy", logy), check_bool("band", band)
    if ax is None:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6.0, 4.0), layout="constrained")
    else:
        fig = ax.figure
    lines: dict[Any, list[tuple[float, float, float, float]]] = {}
    for r in rows:
        xv, yv = _float(r.get(x)), _float(r.get(y))
        if math.isnan(xv) or math.isnan(yv) or (logy and yv <= 0) or (logx and xv <= 0):
            continue  # nothing to draw (or not drawable on a log axis)
        lo, hi = _float(r.get(f"{y}_low")), _float(r.get(f"{y}_high"))
        lines.setdefault(r.get(group) if group else None, []).append((xv, yv, lo, hi))
    if not lines:
        columns = sorted({k for r in rows for k in r})
        raise InvalidParameter("x/y", (x, y), f"columns with numbers; available: {columns}",
                               f"no row has numbers in both x={x!r} and y={y!r}; available columns: {columns}")
    for key in sorted(lines, key=lambda k: (str(type(k)), k if k is not None else "")):
        pts = sorted(lines[key])
        xs = [p[0] for p in pts]
        if len(set(xs)) != len(xs):
            dup = next(v for v in xs if xs.count(v) > 1)
            raise InvalidParameter("group", group, "a grouping under which each x value occurs once per line",
                                   f"several rows share {x}={dup:g}" + (f" in group {group}={key!r}" if group else "")
                                   + ": another axis varies; filter the rows (where) or group by that axis")
        label = None if group is None else f"{group}={key}"
        line, = ax.plot(xs, [p[1] for p in pts], marker="o", ms=3.5, label=label)
        if band:
            have = [p for p in pts if not (math.isnan(p[2]) or math.isnan(p[3]))]
            if have:
                ax.fill_between([p[0] for p in have], [p[2] for p in have], [p[3] for p in have],
                                color=line.get_color(), alpha=0.2, linewidth=0)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    if title:
        ax.set_title(title)
    if group is not None:
        ax.legend(fontsize="small")
    ax.grid(True, alpha=0.3)
    return fig
