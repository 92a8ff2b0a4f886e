"""A controller that allocates demands over time (seed 000: an SDN controller choosing direct or
multi-hop links "based on demands, visibility, and channel conditions").

At every control step the controller takes the demands in order (the order is the
priority) and gives each a route on the snapshot, sharing links by *time*: a link starts
each step with its whole time available (residual 1); a demand served at x over a link of
capacity c uses x/c of its time, and the next demands see capacities scaled by what is left.

* ``service="key"``: trusted-relay key on the widest path (decoy BB84 rates); the
  controller may deliver up to ``burst`` times the requested rate into the pair's **key
  stock**, from which the application draws the requested rate; a step where the stock
  cannot cover the request is an outage.
* ``service="pairs"``: swapped entanglement on :func:`entanglement_path` with the
  demand's fidelity threshold; pairs are used at once (no stock): served = min(request,
  path rate).
* ``service="mdi"``: MDI-QKD through the best untrusted relay (:func:`best_mdi_relay`),
  with a key stock like ``"key"``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from qproto._errors import InvalidParameter
from qproto._validation import check_in_range, check_int, check_one_of, check_positive

from ._routing import best_mdi_relay, entanglement_graph, entanglement_path, widest_path

__all__ = ["Demand", "DemandReport", "Allocation", "allocate"]

Service = Literal["key", "pairs", "mdi"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Demand:
    """A request between two nodes.

    Attributes:
        source, target: node names (distinct).
        service: ``"key"`` (trusted relay), ``"pairs"`` (entanglement) or ``"mdi"``.
        rate: requested rate, bit/s (key, mdi) or pairs/s, > 0.
        fidelity_threshold: smallest fidelity for ``"pairs"``, in [0.25, 1].
        burst: largest delivery rate as a multiple of ``rate`` into the key stock, >= 1.
    """

    source: str
    target: str
    service: str = "key"
    rate: float = 1000.0
    fidelity_threshold: float = 0.8
    burst: float = 10.0

    def __post_init__(self) -> None:
        check_one_of("service", self.service, ("key", "pairs", "mdi"))
        if self.source == self.target:
            raise InvalidParameter("target", self.target, f"a node other than source={self.source!r}")
        object.__setattr__(self, "rate", check_positive("rate", self.rate))
        object.__setattr__(self, "fidelity_threshold",
                           check_in_range("fidelity_threshold", self.fidelity_threshold, 0.25, 1.0))
        object.__setattr__(self, "burst", check_in_range("burst", self.burst, 1.0, 1e9))

    @property
    def label(self) -> str:
        """``"source->target (service)"``."""
        return f"{self.source}->{self.target} ({self.service})"


@dataclasses.dataclass(frozen=True, kw_only=True)
class DemandReport:
    """Totals of one demand over the horizon.

    Attributes:
        demand: the :class:`Demand`.
        delivered: key bits or pairs delivered over the horizon.
        requested: ``rate x horizon``.
        share_served: fraction of the request the application received, in [0, 1].
        outage_fraction: fraction of control steps with the request unmet.
        final_stock: key stock left at the end [bits] (0 for pairs).
    """

    demand: Demand
    delivered: float
    requested: float
    share_served: float
    outage_fraction: float
    final_stock: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        d = dataclasses.asdict(self)
        d["demand"] = dataclasses.asdict(self.demand)
        return d


@dataclasses.dataclass(frozen=True, eq=False)
class Allocation:
    """What the controller did.

    Attributes:
        times_s: control-step times [s], shape (n_ctrl,).
        delivered_rate: delivery rate per demand and control step (bit/s or pairs/s), shape
            (n_demands, n_ctrl).
        served_rate: rate the application received (from stock for keys).
        stock: key stock after each control step [bits].
        paths: per demand, per control step, the route as a string ("" when none).
        reports: one :class:`DemandReport` per demand.
    """

    times_s: np.ndarray
    delivered_rate: np.ndarray
    served_rate: np.ndarray
    stock: np.ndarray
    paths: list[list[str]]
    reports: list[DemandReport]


def allocate(net: Any, demands: Sequence[Demand], *, every: int = 1, progress: Any = None) -> Allocation:
    """Allocate demands at every ``every``-th step of a network (see the module docstring).

    Args:
        net: a :class:`~qproto.network.Network`.
        demands: the :class:`Demand` list, in priority order.
        every: control interval in network steps, >= 1 (the allocation holds until the next).
        progress: optional callback ``progress(done, total)``.

    Returns:
        An :class:`Allocation`.

    Raises:
        InvalidParameter: unknown nodes, or an empty demand list.
    """
    every = check_int("every", every, minimum=1)
    if progress is not None and not callable(progress):
        from qproto._errors import InvalidType
        raise InvalidType("progress", progress, "a callable progress(done, total) or None")
    if not demands:
        raise InvalidParameter("demands", demands, "at least one Demand")
    for d in demands:
        if not isinstance(d, Demand):
            raise InvalidParameter("demands", d, "Demand objects")
        net.node(d.source), net.node(d.target)
    ctrl = np.arange(0, net.n_steps, every)
    dt = every * net.step_s
    n_d = len(demands)
    delivered = np.zeros((n_d, ctrl.size))
    served = np.zeros((n_d, ctrl.size))
    stock = np.zeros((n_d, ctrl.size))
    paths = [[""] * ctrl.size for _ in demands]
    level = np.zeros(n_d)
    outage = np.zeros(n_d)
    svc = net.services
    for col, k in enumerate(ctrl):
        g = net.snapshot(int(k))
        res = {frozenset((a, b)): 1.0 for a, b in g.edges}
        egraph = None
        for i, d in enumerate(demands):
            x, route = 0.0, ""
            if d.service == "key":
                for a, b, e in g.edges(data=True):
                    e["avail"] = e["key_rate_bps"] * res[frozenset((a, b))]
                path, width = widest_path(g, d.source, d.target, weight="avail")
                if path is not None and width > 0:
                    x = min(width, d.rate * d.burst)
                    for a, b in zip(path, path[1:]):
                        res[frozenset((a, b))] -= x / g.edges[a, b]["key_rate_bps"]
                    route = "-".join(path)
            elif d.service == "mdi":
                best = best_mdi_relay(g, d.source, d.target, svc)
                if best is not None:
                    k_ = best["relay"]
                    r_a, r_b = res[frozenset((k_, d.source))], res[frozenset((k_, d.target))]
                    x = min(best["key_rate_bps"] * min(r_a, r_b), d.rate * d.burst)
                    if x > 0:
                        for end in (d.source, d.target):
                            res[frozenset((k_, end))] -= x / best["key_rate_bps"]
                        route = f"{d.source}-[{k_}]-{d.target}"
            else:
                egraph = entanglement_graph(g, svc) if egraph is None else egraph
                scaled = egraph.copy()
                for a, b, key, e in scaled.edges(keys=True, data=True):
                    arms = [(a, b)] if e["via"] is None else [(e["via"], a), (e["via"], b)]
                    e["rate_hz"] = e["rate_hz"] * min(res[frozenset(p)] for p in arms)
                found = entanglement_path(g, d.source, d.target, fidelity_threshold=d.fidelity_threshold,
                                          services=svc, graph=scaled)
                if found is not None and found["rate_hz"] > 0:
                    x = min(found["rate_hz"], d.rate)
                    share = x / found["rate_hz"]
                    for e in found["links"]:
                        a, b = e["ends"]
                        for arm in ([(a, b)] if e["via"] is None else [(e["via"], a), (e["via"], b)]):
                            res[frozenset(arm)] *= 1.0 - share
                    route = "-".join(found["nodes"])
            delivered[i, col] = x
            paths[i][col] = route
            if d.service == "pairs":
                served[i, col] = x
                unmet = x < d.rate * (1 - 1e-9)
            else:
                level[i] += x * dt
                take = min(level[i], d.rate * dt)
                level[i] -= take
                served[i, col] = take / dt
                unmet = take < d.rate * dt * (1 - 1e-9)
            stock[i, col] = level[i]
            outage[i] += unmet
        if progress is not None:
            progress(col + 1, ctrl.size)
    horizon = ctrl.size * dt
    reports = [DemandReport(demand=d, delivered=float(delivered[i].sum() * dt), requested=d.rate * horizon,
                            share_served=float(served[i].sum() * dt / (d.rate * horizon)),
                            outage_fraction=float(outage[i] / ctrl.size), final_stock=float(level[i]))
               for i, d in enumerate(demands)]
    return Allocation(times_s=net.times_s[ctrl], delivered_rate=delivered, served_rate=served, stock=stock,
                      paths=paths, reports=reports)

