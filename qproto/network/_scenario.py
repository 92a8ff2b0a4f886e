"""Scenarios as TOML: nodes, link changes, services, demands; running them and their outputs.

A scenario file (shipped ones in ``qproto/network/scenarios/``, see :func:`available_scenarios`)::

    name = "tokyo-mesh"
    description = "..."
    duration_s = 86400          # horizon [s]
    step_s = 60                 # network time step [s]
    control_every = 1           # controller interval, in steps
    seed = 1                    # clouds
    epoch = "2026-03-20T00:00:00Z"   # only for TLE satellites
    snapshot_step = 0           # step drawn by default

    [services]                  # ServiceModel fields
    pulse_rate_hz = 2e8

    [[ground]]                  # GroundStation fields; likewise [[laps]], [[haps]],
    name = "tokyo"              # [[satellite]] (TLE) and [[walker]] (WalkerConstellation)
    latitude_deg = 35.68
    longitude_deg = 139.77

    [links.sat-sat]             # link-table changes: {} fields, or remove = true
    max_range_m = 1.5e6

    [[demand]]                  # Demand fields
    source = "tokyo"
    target = "osaka"
    service = "key"
    rate = 1000
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as _dt
import json
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from qproto._errors import InvalidParameter, InvalidType

from ._controller import Allocation, Demand, allocate
from ._merit import ServiceModel
from ._network import Network
from ._nodes import HAPS, LAPS, GroundStation, Satellite, WalkerConstellation
from ._routing import stored_key_series

__all__ = ["Scenario", "ScenarioResult", "available_scenarios", "load_scenario", "run_scenario", "plot_snapshot",
           "plot_accumulated"]

_NODE_TABLES = {"ground": GroundStation, "laps": LAPS, "haps": HAPS, "satellite": Satellite,
                "walker": WalkerConstellation}
_TOP_KEYS = {"name", "description", "duration_s", "step_s", "control_every", "seed", "epoch", "snapshot_step",
             "services", "links", "demand", *_NODE_TABLES}


def available_scenarios() -> list[str]:
    """Names of the shipped scenarios."""
    root = resources.files("qproto.network") / "scenarios"
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".toml"))


def _build(cls: type, table: Mapping[str, Any], where: str) -> Any:
    fields = {f.name for f in dataclasses.fields(cls)}
    bad = sorted(set(table) - fields)
    if bad:
        raise InvalidParameter(where, bad, f"fields among {sorted(fields)}")
    kw = dict(table)
    for k in ("waypoints",):
        if k in kw:
            kw[k] = tuple(tuple(x) for x in kw[k])
    if "flight_window_s" in kw:
        kw["flight_window_s"] = tuple(kw["flight_window_s"])
    return cls(**kw)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Scenario:
    """A parsed scenario (see the module docstring).

    Attributes:
        name, description: labels.
        nodes: node objects (Walker constellations unexpanded).
        duration_s, step_s: horizon and step [s].
        control_every: controller interval in steps.
        seed: cloud seed.
        epoch: UTC start, or None.
        links: link-table changes.
        services: the :class:`ServiceModel`.
        demands: the :class:`Demand` list.
        snapshot_step: default step to draw.
    """

    name: str
    description: str
    nodes: tuple[Any, ...]
    duration_s: float
    step_s: float
    control_every: int
    seed: int | None
    epoch: _dt.datetime | None
    links: dict[str, Any]
    services: ServiceModel
    demands: tuple[Demand, ...]
    snapshot_step: int = 0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scenario:
        """Build from a parsed TOML document.

        Raises:
            InvalidParameter: unknown keys or bad values (message names them).
        """
        if not isinstance(data, Mapping):
            raise InvalidType("scenario", data, "a TOML table")
        bad = sorted(set(data) - _TOP_KEYS)
        if bad:
            raise InvalidParameter("scenario", bad, f"keys among {sorted(_TOP_KEYS)}")
        nodes = []
        for key, node_cls in _NODE_TABLES.items():
            for i, t in enumerate(data.get(key, [])):
                nodes.append(_build(node_cls, t, f"{key}[{i}]"))
        links = {}
        for kind, t in dict(data.get("links", {})).items():
            links[kind] = None if t.get("remove", False) else {k: v for k, v in t.items() if k != "remove"}
        epoch = data.get("epoch")
        if isinstance(epoch, str):
            epoch = _dt.datetime.fromisoformat(epoch.replace("Z", "+00:00"))
        demands = tuple(_build(Demand, t, f"demand[{i}]") for i, t in enumerate(data.get("demand", [])))
        if not demands:
            raise InvalidParameter("demand", [], "at least one [[demand]] table")
        return cls(name=str(data.get("name", "scenario")), description=str(data.get("description", "")),
                   nodes=tuple(nodes), duration_s=float(data.get("duration_s", 3600.0)),
                   step_s=float(data.get("step_s", 60.0)), control_every=int(data.get("control_every", 1)),
                   seed=data.get("seed"), epoch=epoch, links=links,
                   services=_build(ServiceModel, data.get("services", {}), "services"), demands=demands,
                   snapshot_step=int(data.get("snapshot_step", 0)))

    def build_network(self, *, duration_s: float | None = None, step_s: float | None = None,
                      seed: int | None = None, progress: Any = None) -> Network:
        """The scenario's :class:`Network` (horizon, step and seed overridable)."""
        return Network(nodes=self.nodes, duration_s=self.duration_s if duration_s is None else duration_s,
                       step_s=self.step_s if step_s is None else step_s, links=self.links, services=self.services,
                       epoch=self.epoch, seed=self.seed if seed is None else seed, progress=progress)


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A shipped scenario by name (:func:`available_scenarios`) or a TOML file by path.

    Raises:
        InvalidParameter: unknown name, unreadable file or bad content.
    """
    p = Path(str(name_or_path))
    if p.suffix == ".toml" or p.exists():
        try:
            text = p.read_text()
        except OSError as exc:
            raise InvalidParameter("scenario", str(p), "a readable TOML file", f"cannot read {p}: {exc}") from exc
    else:
        names = available_scenarios()
        if str(name_or_path) not in names:
            raise InvalidParameter("scenario", name_or_path, f"one of {names} or a .toml path")
        text = (resources.files("qproto.network") / "scenarios" / f"{name_or_path}.toml").read_text()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidParameter("scenario", str(name_or_path), "valid TOML", f"{name_or_path}: {exc}") from exc
    return Scenario.from_dict(data)


@dataclasses.dataclass(frozen=True, eq=False)
class ScenarioResult:
    """A scenario run.

    Attributes:
        scenario: the :class:`Scenario`; network: the :class:`Network`;
        allocation: the controller's :class:`Allocation`;
        stored_key_bits: per key demand, the key its ends can hold at the horizon with key
            stores at trusted relays (:func:`stored_key_flow`), None for other services.
        stored_times_s, stored_series: checkpoint times [s] and, per demand (None for non-key
            demands), the key its ends can hold by each checkpoint with relay key stores [bits].
    """

    scenario: Scenario
    network: Network
    allocation: Allocation
    stored_key_bits: list[float | None]
    stored_times_s: np.ndarray | None = None
    stored_series: list[np.ndarray | None] | None = None

    def totals(self) -> list[dict[str, Any]]:
        """Per-demand totals: demand, delivered, requested, share served, outage, stock, stored key."""
        out = []
        for rep, stored in zip(self.allocation.reports, self.stored_key_bits):
            d = rep.demand
            out.append({"demand": d.label, "service": d.service, "rate": d.rate, "delivered": rep.delivered,
                        "requested": rep.requested, "share_served": rep.share_served,
                        "outage_fraction": rep.outage_fraction, "final_stock": rep.final_stock,
                        "stored_key_bits": stored})
        return out

    def series_rows(self) -> list[dict[str, Any]]:
        """Time-series rows: time_s, demand, delivered_rate, served_rate, stock, path."""
        a = self.allocation
        rows = []
        for j, t in enumerate(a.times_s):
            for i, rep in enumerate(a.reports):
                rows.append({"time_s": float(t), "demand": rep.demand.label,
                             "delivered_rate": float(a.delivered_rate[i, j]), "served_rate": float(a.served_rate[i, j]),
                             "stock": float(a.stock[i, j]), "path": a.paths[i][j]})
        return rows

    def write_csv(self, path: str | Path) -> None:
        """Write :meth:`series_rows` as CSV."""
        rows = self.series_rows()
        with open(path, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: scenario summary, per-demand totals and the time series."""
        s = self.scenario
        return {"scenario": s.name, "description": s.description, "steps": self.network.n_steps,
                "step_s": self.network.step_s, "nodes": list(self.network.node_names),
                "edge_steps": len(self.network.edges), "services": s.services.to_dict(),
                "totals": self.totals(), "series": self.series_rows(),
                "stored_key": None if self.stored_series is None else {
                    "times_s": [float(t) for t in self.stored_times_s],
                    "bits": [None if s is None else [float(x) for x in s] for s in self.stored_series]}}

    def write_json(self, path: str | Path) -> None:
        """Write :meth:`to_dict` as JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=1))


def run_scenario(scenario: Scenario, *, duration_s: float | None = None, step_s: float | None = None,
                 seed: int | None = None, progress: Any = None) -> ScenarioResult:
    """Build the network, allocate the demands and compute stored-key totals.

    Args:
        scenario: a :class:`Scenario`.
        duration_s, step_s, seed: overrides.
        progress: optional callback ``progress(stage, done, total)``.
    """
    cb = (lambda stage: (lambda d, t: progress(stage, d, t))) if progress is not None else (lambda stage: None)
    net = scenario.build_network(duration_s=duration_s, step_s=step_s, seed=seed, progress=cb("edges"))
    alloc = allocate(net, scenario.demands, every=scenario.control_every, progress=cb("routing"))
    keys = [i for i, d in enumerate(scenario.demands) if d.service == "key"]
    times, bits = stored_key_series(net, [(scenario.demands[i].source, scenario.demands[i].target) for i in keys])
    series: list[np.ndarray | None] = [None] * len(scenario.demands)
    for row, i in enumerate(keys):
        series[i] = bits[row]
    stored = [None if s is None else float(s[-1]) for s in series]
    return ScenarioResult(scenario=scenario, network=net, allocation=alloc, stored_key_bits=stored,
                          stored_times_s=times, stored_series=series)


_LAYER_STYLE = {"ground": ("s", "tab:green"), "laps": ("^", "tab:orange"), "haps": ("D", "tab:purple"),
                "sat": ("o", "tab:blue")}


def _latlon(pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r = np.linalg.norm(pos, axis=-1)
    return np.degrees(np.arcsin(pos[..., 2] / r)), np.degrees(np.arctan2(pos[..., 1], pos[..., 0]))


def plot_snapshot(net: Network, step: int, *, ax: Any = None, weight: str = "key_rate_bps",
                  margin_deg: float | None = 6.0) -> Any:
    """Draw one snapshot: nodes by layer (marker, colour; grey when under cloud) at
    longitude/latitude, links as lines (solid with width growing with ``log10(weight)`` when
    ``weight > 0``, dotted otherwise). The view is the ground and aerial nodes' box plus
    ``margin_deg`` (None: the whole Earth). Returns the matplotlib Axes."""
    import matplotlib.pyplot as plt

    step = net._check_step(step)
    if weight not in net.merits:
        raise InvalidParameter("weight", weight, f"one of {sorted(net.merits)}")
    if ax is None:
        _fig, ax = plt.subplots(figsize=(8, 5))
    lat, lon = _latlon(net.positions[:, step])
    e, m = net.edges, net.merits
    sl = e.rows(step)
    w = m[weight][sl]
    for r, val in zip(range(sl.start, sl.stop), w):
        a, b = int(e.u[r]), int(e.v[r])
        lw = 0.3 + 0.4 * max(0.0, np.log10(val + 1.0)) if val > 0 else 0.3
        ax.plot([lon[a], lon[b]], [lat[a], lat[b]], color="0.3" if val > 0 else "0.8", lw=lw, zorder=1,
                ls="-" if val > 0 else ":")
    for layer, (marker, colour) in _LAYER_STYLE.items():
        idx = [i for i, n in enumerate(net.nodes) if n.layer == layer]
        if idx:
            cloudy = net.cloudy[idx, step]
            ax.scatter(lon[idx], lat[idx], marker=marker, c=[("0.6" if c else colour) for c in cloudy],
                       label=layer, zorder=2, s=40)
    for i, n in enumerate(net.nodes):
        if n.layer != "sat":
            ax.annotate(n.name, (lon[i], lat[i]), fontsize=7, xytext=(3, 3), textcoords="offset points")
    low = [i for i, n in enumerate(net.nodes) if n.layer != "sat"]
    if margin_deg is not None and low:
        ax.set_xlim(lon[low].min() - margin_deg, lon[low].max() + margin_deg)
        ax.set_ylim(lat[low].min() - margin_deg, lat[low].max() + margin_deg)
    ax.set_xlabel("longitude [deg]")
    ax.set_ylabel("latitude [deg]")
    ax.set_title(f"t = {net.times_s[step]:.0f} s: {sl.stop - sl.start} links (solid: {weight} > 0; grey: cloud)")
    ax.legend(loc="best", fontsize=8)
    return ax


def plot_accumulated(result: ScenarioResult, *, ax: Any = None) -> Any:
    """Key bits / pairs delivered over time, one curve per demand (symlog scale), and dashed, for
    key demands, the key their ends could hold with key stores at relays. Returns the Axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _fig, ax = plt.subplots(figsize=(8, 4))
    a = result.allocation
    dt = result.network.step_s * result.scenario.control_every
    for i, rep in enumerate(a.reports):
        cum = np.cumsum(a.delivered_rate[i]) * dt
        unit = "pairs" if rep.demand.service == "pairs" else "bits"
        (line,) = ax.plot(a.times_s / 3600.0, cum, label=f"{rep.demand.label} [{unit}]")
        stored = None if result.stored_series is None else result.stored_series[i]
        if stored is not None:
            ax.plot(result.stored_times_s / 3600.0, stored, ls="--", color=line.get_color(),
                    label=f"{rep.demand.label}: with relay key stores [bits]")
    ax.set_xlabel("time [h]")
    ax.set_ylabel("delivered (accumulated)")
    ax.set_yscale("symlog", linthresh=1.0)
    ax.legend(fontsize=7)
    return ax
