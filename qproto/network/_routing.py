"""Routing on network snapshots: trusted-relay widest paths, entanglement paths, MDI relays,
relay key stores, and a fast bottleneck router for long horizons.

* :func:`widest_path`: the path of maximum bottleneck rate between two nodes through trusted
  relays (docs/conventions.md A12: a relayed key rate is the minimum of its links'). Every path in a
  maximum spanning tree is a widest path (the classic cut argument), so networkx's
  ``maximum_spanning_tree`` and one tree path give it.
* :func:`widest_bottlenecks`: the same bottleneck for many demands and every time step of a
  :class:`~qproto.network.Network`, by Kruskal's union-find on each step's sorted links (no
  networkx graph per step): what the long-horizon benchmark uses. Tested equal to
  :func:`widest_path`.
* :func:`entanglement_graph` and :func:`entanglement_path`: elementary pairs are direct links
  (source at the transmitting end) and dual downlinks from midpoint sources (a satellite or
  HAPS sending one half to each of two neighbours); a path of elementary pairs is swapped at
  its intermediate nodes. The path maximises the delivered rate subject to a fidelity
  threshold: for each candidate bottleneck r (the links' rates, in decreasing order) the
  links of rate >= r are searched for the path of largest swapped visibility (Dijkstra on
  -ln V plus the memory decoherence 1/(r T2) per stored half); the first r whose best path
  meets the threshold wins. This is exact when the memory efficiency is 1; otherwise the
  rate also falls as efficiency^(hops - 1) and the result is the best path of the largest
  feasible bottleneck.
* :func:`best_mdi_relay`: the MDI-capable common neighbour of two nodes with the highest
  MDI-QKD rate (the relay is untrusted).
* :func:`stored_key_flow`: with key stores at trusted relays, pairwise keys accumulate on
  each link over time (a satellite holds keys from one pass to the next); end-to-end key
  relayed by XOR consumes the same amount on each link of a path, so the key two nodes can
  obtain by a time is the maximum flow of the accumulated-key graph (networkx).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import networkx as nx
import numpy as np

from qproto._errors import InvalidParameter, InvalidType
from qproto._validation import check_in_range

from ._merit import ServiceModel, mdi_link, swapped_chain

__all__ = ["widest_path", "widest_bottlenecks", "entanglement_graph", "entanglement_path", "best_mdi_relay",
           "stored_key_flow", "stored_key_series", "accumulated_key_graph"]


def _check_weight(g: nx.Graph, weight: str) -> None:
    for _a, _b, d in g.edges(data=True):
        if weight not in d:
            raise InvalidParameter("weight", weight, f"an edge attribute: {sorted(d)}")
        return


def _check_services(services: Any) -> None:
    if not isinstance(services, ServiceModel):
        raise InvalidType("services", services, "a qproto.network.ServiceModel")


def _check_nodes(g: nx.Graph, *names: str) -> None:
    for n in names:
        if n not in g:
            raise InvalidParameter("node", n, f"a node of the graph: {sorted(g.nodes)}")


def widest_path(g: nx.Graph, source: str, target: str, *, weight: str = "key_rate_bps",
                trusted_only: bool = True) -> tuple[list[str] | None, float]:
    """The path of maximum bottleneck ``weight`` (widest path) between two nodes.

    Args:
        g: a snapshot (edges with the ``weight`` attribute; nodes with ``trusted``).
        source, target: node names.
        weight: edge attribute to maximise the minimum of (default the decoy BB84 key rate
            [bit/s]); edges of weight <= 0 are unusable.
        trusted_only: intermediate nodes must be trusted (node attribute ``trusted``).

    Returns:
        ``(path, bottleneck)``; ``(None, 0.0)`` if no path of positive weight exists;
        ``([source], inf)`` when source == target.

    Raises:
        InvalidParameter: an unknown node.
    """
    _check_nodes(g, source, target)
    _check_weight(g, weight)
    if source == target:
        return [source], math.inf
    keep = [n for n in g.nodes if n in (source, target) or not trusted_only or g.nodes[n].get("trusted", True)]
    h = nx.Graph()
    h.add_nodes_from(keep)
    h.add_edges_from((a, b, {"w": d[weight]}) for a, b, d in g.subgraph(keep).edges(data=True) if d[weight] > 0)
    if not nx.has_path(h, source, target):
        return None, 0.0
    tree = nx.maximum_spanning_tree(h, weight="w")
    path = nx.shortest_path(tree, source, target)
    return path, float(min(h.edges[a, b]["w"] for a, b in zip(path, path[1:])))


def widest_bottlenecks(net: Any, demands: Sequence[tuple[str, str]], *, weight: str = "key_rate_bps",
                       steps: Sequence[int] | None = None) -> np.ndarray:
    """Widest-path bottleneck of each demand at each step, without building networkx graphs.

    Kruskal's order does it for every demand at once: adding a step's links from the widest
    down (union-find), the bottleneck of a pair is the weight of the link that first joins
    their components (the maximum-spanning-tree argument of :func:`widest_path`). Demands
    waiting in a component move with it, smaller set into larger. Intermediate nodes must be
    trusted (links touching an untrusted node are dropped, so demand ends must be trusted).

    Args:
        net: a :class:`~qproto.network.Network`.
        demands: ``(source, target)`` node-name pairs (distinct ends).
        weight: a figure of merit of :attr:`Network.merits`.
        steps: steps to evaluate (default all).

    Returns:
        Array ``(n_demands, n_steps_evaluated)`` of bottleneck rates (0: no path).

    Raises:
        InvalidParameter: unknown node or weight, equal or untrusted demand ends.
    """
    if weight not in net.merits:
        raise InvalidParameter("weight", weight, f"one of {sorted(net.merits)}")
    src = [net.index[net.node(a).name] for a, _ in demands]
    dst = [net.index[net.node(b).name] for _, b in demands]
    trusted = np.array([bool(n.trusted) for n in net.nodes])
    if any(a == b for a, b in zip(src, dst)):
        raise InvalidParameter("demands", demands, "pairs of distinct nodes")
    if not all(trusted[src]) or not all(trusted[dst]):
        raise InvalidParameter("demands", demands, "ends that are trusted nodes")
    e = net.edges
    w_all = net.merits[weight]
    good = np.nonzero((w_all > 0) & trusted[e.u] & trusted[e.v])[0]
    order = good[np.lexsort((-w_all[good], e.step[good]))]  # by step, widest first
    st, uu, vv, ww = e.step[order], e.u[order].tolist(), e.v[order].tolist(), w_all[order].tolist()
    bounds = np.searchsorted(st, np.arange(net.n_steps + 1)).tolist()
    steps = list(range(net.n_steps)) if steps is None else [net._check_step(k) for k in steps]
    n = len(net.nodes)
    ends: dict[int, set[int]] = {}
    for d, (a, b) in enumerate(zip(src, dst)):
        ends.setdefault(a, set()).add(d)
        ends.setdefault(b, set()).add(d)
    out = np.zeros((len(demands), len(steps)))
    for col, k in enumerate(steps):
        parent = list(range(n))
        waiting = {x: set(ds) for x, ds in ends.items()}
        left = len(demands)

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for i in range(bounds[k], bounds[k + 1]):
            ra, rb = find(uu[i]), find(vv[i])
            if ra == rb:
                continue
            da, db = waiting.pop(ra, None), waiting.pop(rb, None)
            if da and db:
                small, large = (da, db) if len(da) <= len(db) else (db, da)
                for d in small:
                    if d in large:  # both ends now joined: the widest path's bottleneck
                        large.discard(d)
                        out[d, col] = ww[i]
                        left -= 1
                    else:
                        large.add(d)
                merged = large
            else:
                merged = da or db
            parent[ra] = rb
            if merged:
                waiting[rb] = merged
            if left == 0:
                break
    return out


def entanglement_graph(g: nx.Graph, services: ServiceModel) -> nx.MultiGraph:
    """Elementary entanglement links of a snapshot, as a multigraph.

    Each edge (a, b) carries ``rate_hz`` (heralded pairs/s), ``visibility``,
    ``detection_probability``, ``via`` (None for a direct link, whose source sits at the
    transmitting end, which must be a ``pair_source`` node; else the midpoint source node), ``ends`` (a, b) and ``channels`` (one
    Channel, or the two arms (source->a, source->b) of a dual downlink).
    """
    m = nx.MultiGraph()
    m.add_nodes_from(g.nodes(data=True))
    for a, b, d in g.edges(data=True):
        # A direct link needs a pair source at its transmitting (upper) end.
        if d["pair_rate_hz"] > 0 and g.nodes[d["transmitter"]].get("pair_source", False):
            m.add_edge(a, b, key=None, rate_hz=d["pair_rate_hz"], visibility=d["visibility"],
                       detection_probability=d["detection_probability"], via=None, channels=(d["channel"],),
                       ends=(a, b))
    for k, attrs in g.nodes(data=True):
        if not attrs.get("pair_source", False):
            continue
        nbrs = sorted(g.neighbors(k))
        for i, a in enumerate(nbrs):
            ea = g.edges[k, a]
            for b in nbrs[i + 1:]:
                eb = g.edges[k, b]
                # Dual downlink (docs/conventions.md A3): herald P_a P_b, Werner visibility d_a d_b.
                det = ea["detection_probability"] * eb["detection_probability"]
                if det > 0:
                    m.add_edge(a, b, key=k, rate_hz=services.pair_rate_hz * det,
                               visibility=ea["visibility"] * eb["visibility"], detection_probability=det, via=k,
                               channels=(ea["channel"], eb["channel"]), ends=(a, b))
    return m


def entanglement_path(g: nx.Graph, source: str, target: str, *, fidelity_threshold: float,
                      services: ServiceModel, graph: nx.MultiGraph | None = None) -> dict[str, Any] | None:
    """The swapped entanglement path of maximum delivered rate with fidelity >= threshold.

    Args:
        g: a snapshot.
        source, target: distinct node names.
        fidelity_threshold: smallest acceptable end-to-end fidelity, in [0.25, 1].
        services: pair rate and memory model.
        graph: a precomputed :func:`entanglement_graph` of ``g`` (optional).

    Returns:
        None when no path meets the threshold, else ``{"nodes": [...], "links": [edge data
        dicts], "rate_hz", "visibility", "fidelity"}`` (:func:`~qproto.network.swapped_chain`).

    Raises:
        InvalidParameter: unknown nodes, equal ends, or a threshold out of range.
    """
    _check_nodes(g, source, target)
    if source == target:
        raise InvalidParameter("target", target, f"a node other than source={source!r}")
    f_th = check_in_range("fidelity_threshold", fidelity_threshold, 0.25, 1.0)
    _check_services(services)
    m = entanglement_graph(g, services) if graph is None else graph
    v_th = (4.0 * f_th - 1.0) / 3.0
    links = sorted((d for _, _, d in m.edges(data=True) if d["visibility"] > 0 and d["rate_hz"] > 0),
                   key=lambda d: -d["rate_hz"])
    t2 = services.coherence_time_s
    h = nx.MultiGraph()
    h.add_nodes_from(m.nodes)
    i = 0
    while i < len(links):
        r = links[i]["rate_hz"]
        while i < len(links) and links[i]["rate_hz"] >= r:  # every link of rate >= r
            a, b = links[i]["ends"]
            h.add_edge(a, b, data=links[i])
            i += 1
        if not nx.has_path(h, source, target):
            continue
        penalty = 1.0 / (r * t2) if t2 > 0 else 0.0

        def w(_a, _b, edges, penalty=penalty):
            return min(-math.log(d["data"]["visibility"]) for d in edges.values()) + penalty

        path = nx.dijkstra_path(h, source, target, weight=w)
        chosen = [max(h[a][b].values(), key=lambda d: d["data"]["visibility"])["data"]
                  for a, b in zip(path, path[1:])]
        chain = swapped_chain([d["rate_hz"] for d in chosen], [d["visibility"] for d in chosen], services,
                              detection_probabilities=[d["detection_probability"] for d in chosen])
        if chain["fidelity"] >= f_th - 1e-12:
            return {"nodes": path, "links": chosen, **chain}
    return None


def best_mdi_relay(g: nx.Graph, a: str, b: str, services: ServiceModel) -> dict[str, Any] | None:
    """The MDI-capable common neighbour of a and b with the highest MDI-QKD key rate.

    Returns:
        None if there is none with a positive rate, else ``{"relay", "channels": (ch_a, ch_b),
        **mdi_link(...)}`` (rates in bit/s and bit/pulse).
    """
    _check_nodes(g, a, b)
    _check_services(services)
    best = None
    for k in set(g.neighbors(a)) & set(g.neighbors(b)):
        if not g.nodes[k].get("mdi_relay", False):
            continue
        ca, cb = g.edges[k, a]["channel"], g.edges[k, b]["channel"]
        res = mdi_link(ca, cb, services)
        if res["key_rate_bps"] > 0 and (best is None or res["key_rate_bps"] > best["key_rate_bps"]):
            best = {"relay": k, "channels": (ca, cb), **res}
    return best


def accumulated_key_graph(net: Any, *, until_step: int, weight: str = "key_rate_bps") -> nx.Graph:
    """Pairwise key accumulated on each link from step 0 to ``until_step`` (inclusive) [bits].

    Each step contributes ``rate x step_s``. Edge attribute ``capacity``; nodes carry
    ``trusted``.
    """
    until_step = net._check_step(until_step)
    if weight not in net.merits:
        raise InvalidParameter("weight", weight, f"one of {sorted(net.merits)}")
    e = net.edges
    stop = int(e.step_start[until_step + 1])
    w = net.merits[weight][:stop] * net.step_s
    # Unordered pairs: which end transmits may change over time (platforms at similar altitude).
    lo = np.minimum(e.u[:stop], e.v[:stop]).astype(np.int64)
    hi = np.maximum(e.u[:stop], e.v[:stop]).astype(np.int64)
    key = lo * len(net.nodes) + hi
    uniq, inv = np.unique(key, return_inverse=True)
    tot = np.bincount(inv, weights=w)
    g = nx.Graph()
    for i, n in enumerate(net.nodes):
        g.add_node(n.name, trusted=bool(n.trusted))
    for k, c in zip(uniq, tot):
        if c > 0:
            a, b = divmod(int(k), len(net.nodes))
            g.add_edge(net.node_names[a], net.node_names[b], capacity=float(c))
    return g


def stored_key_flow(net: Any, source: str, target: str, *, until_step: int | None = None,
                    weight: str = "key_rate_bps", graph: nx.Graph | None = None) -> float:
    """End-to-end key [bits] two nodes can hold by a step, with key stores at trusted relays.

    The maximum flow from source to target in :func:`accumulated_key_graph` restricted to
    trusted intermediate nodes (the XOR relay spends equal key on every link of a path).
    ``graph``: a precomputed :func:`accumulated_key_graph` (then ``until_step`` and ``weight``
    are not used), to serve many pairs from one.
    """
    if graph is None:
        until = net.n_steps - 1 if until_step is None else net._check_step(until_step)
        g = accumulated_key_graph(net, until_step=until, weight=weight)
    else:
        g = graph
    _check_nodes(g, source, target)
    keep = [n for n in g.nodes if n in (source, target) or g.nodes[n]["trusted"]]
    h = g.subgraph(keep)
    if source == target or not nx.has_path(h, source, target):
        return 0.0
    return float(nx.maximum_flow_value(h, source, target, capacity="capacity"))


def stored_key_series(net: Any, pairs: Sequence[tuple[str, str]], *, checkpoints: int = 24,
                      weight: str = "key_rate_bps") -> tuple[np.ndarray, np.ndarray]:
    """Key each pair can hold over time with key stores at trusted relays (:func:`stored_key_flow`
    at evenly spaced steps; the last is the horizon).

    Args:
        net: a :class:`~qproto.network.Network`.
        pairs: ``(source, target)`` node names.
        checkpoints: number of evaluation steps, in [1, 10000].
        weight: the per-link key rate (a figure of merit of :attr:`Network.merits`).

    Returns:
        ``(times_s, bits)``: checkpoint times [s], shape (k,), and key [bits], shape (len(pairs), k);
        non-decreasing in time.
    """
    from qproto._validation import check_int
    k = check_int("checkpoints", checkpoints, minimum=1, maximum=10_000)
    steps = np.unique(np.linspace(0, net.n_steps - 1, min(k, net.n_steps)).round().astype(int))
    out = np.zeros((len(pairs), steps.size))
    for j, s in enumerate(steps):
        g = accumulated_key_graph(net, until_step=int(s), weight=weight)
        for i, (a, b) in enumerate(pairs):
            out[i, j] = stored_key_flow(net, a, b, graph=g)
    return net.times_s[steps], out
