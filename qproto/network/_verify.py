"""Back a network path with circuits: run the protocols on the path's per-edge Channels.

:func:`verify_path` takes a path at a step, builds the graph-level figures (from the
closed forms of :mod:`qproto.network._merit`, computed from each edge's loss, noise clicks and
misalignment, never from the protocols' own ``expected()``), runs the matching circuit
protocol with the same Channels (``qproto.get_protocol(...)``) and compares every sampled
proportion with docs/conventions.md's rule (|p - p0| <= 5 sqrt(p0 (1 - p0)/N) + 1/N) through
:func:`qproto.testing.compare_to_expected`:

* ``"trusted-relay"`` (a chain of BB84 links through trusted nodes): each link's
  ``detection_rate`` and ``qber``, and the raw relayed error rate [1 - prod(1 - 2 q_i)]/2;
* ``"swapping"`` (elementary pairs swapped at the intermediate nodes; a dual-downlink link
  enters as the single Channel with the same herald probability P_a P_b and visibility
  d_a d_b): ``herald_rate`` = prod P_i, ``qber_z`` = ``qber_x`` = (1 - prod V_i)/2 and the
  ``fidelity`` (1 + 3 prod V_i)/4 (docs/conventions.md A11; memories are not simulated by the
  circuits, so the memory-free figure is compared);
* ``"bbm92"`` (a midpoint source and its two arms): ``detection_rate`` = P_a P_b and the
  QBERs (1 - d_a d_b)/2;
* ``"mdi-qkd"`` (an untrusted relay and its two arms): the same three for the Bell measurement;
* ``"decoy-bb84"`` (one edge, the figure routing uses): the signal and decoy gains
  Q = Y0 + 1 - exp(-eta mu) and the signal Z / decoy X error rates
  E Q = Y0/2 + e_d (1 - exp(-eta mu)) of docs/conventions.md A2 (:func:`qproto.security.wcp_gain`,
  :func:`~qproto.security.wcp_qber`), with the network's mu, nu (vacuum decoy, probabilities
  0.7 / 0.2 / 0.1) and p_Z. Its key rates are both in the protocol's convention (key from Z only,
  per pulse of every class); the routing weight ``key_rate_bps`` is docs/conventions.md A2's, per signal
  pulse with q = p_Z^2 + p_X^2, times the pulse rate.

The secret-key rates of graph and circuit are reported side by side (the circuit's is a
function of the compared proportions).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

from qproto._channel import Channel
from qproto._errors import InvalidParameter
from qproto._validation import check_int, check_one_of

from ._merit import channel_merits, dual_downlink, mdi_link

__all__ = ["PathVerification", "verify_path", "demand_route", "verify_demand"]

SERVICES = ("trusted-relay", "swapping", "bbm92", "mdi-qkd", "decoy-bb84")


@dataclasses.dataclass(frozen=True, eq=False)
class PathVerification:
    """Graph-level figures against a circuit run on one path.

    Attributes:
        service: the protocol name.
        step: the network step; nodes: the path.
        channels: the Channels given to the protocol.
        rounds: rounds run.
        graph: graph-level figures (closed forms).
        comparisons: :class:`qproto.testing.Comparison` per compared quantity.
        graph_key_rate, circuit_key_rate: secret-key rates per round/pulse (None for swapping).
        result: the circuit protocol's result.
    """

    service: str
    step: int
    nodes: tuple[str, ...]
    channels: tuple[Channel, ...]
    rounds: int
    graph: dict[str, float]
    comparisons: list[Any]
    graph_key_rate: float | None
    circuit_key_rate: float | None
    result: Any

    @property
    def passed(self) -> bool:
        """Every compared quantity within tolerance."""
        return all(c.passed for c in self.comparisons)

    def summary(self) -> str:
        """One line per comparison."""
        lines = [f"{self.service} {'-'.join(self.nodes)} at step {self.step}: "
                 f"{'agrees' if self.passed else 'DISAGREES'} ({self.rounds} rounds)"]
        lines += ["  " + c.message() for c in self.comparisons]
        if self.graph_key_rate is not None:
            lines.append(f"  key rate per round: graph {self.graph_key_rate:.4g}, circuit {self.circuit_key_rate:.4g}")
        return "\n".join(lines)


def _rounds(p_success: float, target_bits: int, max_rounds: int) -> int:
    """Rounds for ``target_bits`` successes, capped at ``max_rounds``; refuses a cap that would
    leave fewer than 100 expected successes (too few to compare anything)."""
    if p_success <= 0:
        raise InvalidParameter("nodes", "path", "a path whose links detect photons (success probability > 0)")
    if p_success * max_rounds < 100:
        need = math.ceil(100 / p_success)
        raise InvalidParameter("max_rounds", max_rounds, f">= {need} for this path",
                               f"max_rounds={max_rounds} gives {p_success * max_rounds:.3g} expected sifted "
                               f"bits or heralds on this path (success {p_success:.3g} per round); at least "
                               f"{need} rounds are needed for 100")
    return int(min(max_rounds, max(10_000, math.ceil(target_bits / p_success))))


def verify_path(net: Any, *, step: int, nodes: Sequence[str], service: str, via: Sequence[str | None] | None = None,
                target_bits: int = 3000, max_rounds: int = 20_000_000, seed: Any = None) -> PathVerification:
    """Run the circuit protocol of a path and compare it with the graph-level figures.

    Args:
        net: a :class:`~qproto.network.Network`.
        step: the time step.
        nodes: the path. ``trusted-relay`` and ``swapping``: the chain of nodes; ``decoy-bb84``: one
            edge ``(a, b)``;
            ``bbm92``: ``(end_a, source, end_b)``; ``mdi-qkd``: ``(alice, relay, bob)``.
        service: ``"trusted-relay"``, ``"swapping"``, ``"bbm92"``, ``"mdi-qkd"`` or ``"decoy-bb84"``.
        via: ``swapping`` only: per link, None (direct link) or the midpoint source node of a
            dual downlink (as in :func:`entanglement_path`'s links).
        target_bits: aim for this many sifted bits / heralds (sets the rounds), >= 100.
        max_rounds: largest number of rounds, >= 10000.
        seed: the circuit run's seed.

    Returns:
        A :class:`PathVerification` (``.passed``, ``.summary()``).

    Raises:
        InvalidParameter: an unknown service, a path with a missing link, or a bad count.
    """
    from qproto import get_protocol
    from qproto.testing import compare_to_expected

    check_one_of("service", service, SERVICES)
    step = net._check_step(step)
    nodes = tuple(nodes)
    target_bits = check_int("target_bits", target_bits, minimum=100)
    max_rounds = check_int("max_rounds", max_rounds, minimum=10_000)
    svc = net.services
    if service in ("bbm92", "mdi-qkd"):
        if len(nodes) != 3:
            raise InvalidParameter("nodes", nodes, f"(end_a, middle, end_b) for {service}")
        ca, cb = net.channel(step, nodes[1], nodes[0]), net.channel(step, nodes[1], nodes[2])
        chans = (ca, cb)
        closed = dual_downlink(ca, cb, svc) if service == "bbm92" else mdi_link(ca, cb, svc)
        graph = {"detection_rate": closed["detection_probability"], "qber_z": closed["qber"],
                 "qber_x": closed["qber"]}
        proto = get_protocol(service, p_z=svc.p_z, f_ec=svc.f_ec, **({"chsh_fraction": 0.0} if service == "bbm92"
                                                                        else {}))
        rounds = _rounds(graph["detection_rate"] * svc.sifting, target_bits, max_rounds)
        result = proto.run(chans, rounds=rounds, seed=seed)
        graph_rate = (closed["key_rate_bps"] / svc.pair_rate_hz if service == "bbm92"
                      else closed["key_rate_per_pulse"])
        comps = compare_to_expected(result, graph, keys=list(graph))
        kr = result.estimates()["key_rate"]
        return PathVerification(service, step, nodes, chans, rounds, graph, comps, graph_rate,
                                float(getattr(kr, "best", kr)), result)
    if len(nodes) < 2:
        raise InvalidParameter("nodes", nodes, "at least two nodes")
    if service == "decoy-bb84":
        return _verify_decoy(net, step, nodes, target_bits, max_rounds, seed)
    n_links = len(nodes) - 1
    if service == "trusted-relay":
        chans = tuple(net.channel(step, a, b) for a, b in zip(nodes, nodes[1:]))
        merits = [channel_merits(c, svc) for c in chans]
        qs = [m["qber"] for m in merits]
        graph = {"relayed_raw_error_rate": (1.0 - math.prod(1.0 - 2.0 * q for q in qs)) / 2.0}
        p_min = min(m["detection_probability"] for m in merits)
        rounds = _rounds(p_min * svc.sifting, target_bits, max_rounds)
        result = get_protocol("trusted-relay", n_links=n_links, p_z=svc.p_z, f_ec=svc.f_ec).run(
            list(chans), rounds=rounds, seed=seed)
        comps = compare_to_expected(result, graph, keys=list(graph))
        for i, m in enumerate(merits):
            link = result.link_result(i)
            exp = {"detection_rate": m["detection_probability"], "qber": m["qber"]}
            for c in compare_to_expected(link, exp, keys=list(exp)):
                comps.append(dataclasses.replace(c, name=f"link{i}.{c.name}"))
                graph[f"link{i}.{c.name}"] = c.expected
        graph_rate = min(m["bb84_rate_per_pulse"] for m in merits)
        return PathVerification(service, step, nodes, chans, rounds, graph, comps, graph_rate,
                                float(result.key_rate.best), result)
    # swapping
    via = [None] * n_links if via is None else list(via)
    if len(via) != n_links:
        raise InvalidParameter("via", via, f"{n_links} entries, one per link")
    chans_l, ps, vs = [], [], []
    for (a, b), k in zip(zip(nodes, nodes[1:]), via):
        if k is None:
            ch = net.channel(step, a, b)
            m = channel_merits(ch, svc)
            p, v = m["detection_probability"], m["visibility"]
        else:
            dd = dual_downlink(net.channel(step, k, a), net.channel(step, k, b), svc)
            p, v = dd["detection_probability"], dd["visibility"]
            # The equivalent single Channel: herald probability P_a P_b, Werner visibility d_a d_b.
            ch = Channel(transmittance=p, depolarisation=1.0 - v)
        chans_l.append(ch)
        ps.append(p)
        vs.append(v)
    chans = tuple(chans_l)
    vis = math.prod(vs)
    graph = {"herald_rate": math.prod(ps), "qber_z": (1.0 - vis) / 2.0, "qber_x": (1.0 - vis) / 2.0,
             "fidelity": (1.0 + 3.0 * vis) / 4.0}
    rounds = _rounds(graph["herald_rate"] * 0.16, target_bits, max_rounds)
    result = get_protocol("swapping", n_links=n_links, chsh_fraction=0.0).run(list(chans), rounds=rounds, seed=seed)
    comps = compare_to_expected(result, graph, keys=list(graph))
    return PathVerification(service, step, nodes, chans, rounds, graph, comps, None, None, result)


def _verify_decoy(net: Any, step: int, nodes: tuple[str, ...], target_bits: int, max_rounds: int,
                  seed: Any) -> PathVerification:
    from qproto import get_protocol
    from qproto.security import decoy_key_rate_vacuum_weak, wcp_gain, wcp_qber
    from qproto.testing import compare_to_expected

    if len(nodes) != 2:
        raise InvalidParameter("nodes", nodes, "one edge (a, b) for decoy-bb84")
    svc = net.services
    ch = net.channel(step, nodes[0], nodes[1])
    eta, y0, e_d = ch.total_transmittance, ch.noise_click, ch.misalignment
    probs = (0.7, 0.2, 0.1)
    graph = {"gain_signal": float(wcp_gain(mu=svc.mu, eta=eta, y0=y0)),
             "gain_decoy": float(wcp_gain(mu=svc.nu, eta=eta, y0=y0)),
             "qber_z_signal": float(wcp_qber(mu=svc.mu, eta=eta, y0=y0, e_d=e_d)),
             "qber_x_decoy": float(wcp_qber(mu=svc.nu, eta=eta, y0=y0, e_d=e_d))}
    p_x = 1.0 - svc.p_z
    rounds = _rounds(probs[1] * p_x * p_x * graph["gain_decoy"], target_bits, max_rounds)
    proto = get_protocol("decoy-bb84", intensities=(svc.mu, svc.nu, 0.0), probabilities=probs, p_z=svc.p_z,
                         f_ec=svc.f_ec)
    result = proto.run(ch, rounds=rounds, seed=seed)
    comps = compare_to_expected(result, graph, keys=list(graph))
    # The protocol's convention: key from Z only (q = p_Z^2), per pulse of every class (x p_signal);
    # the routing weight (PHYSICS A2's) is per signal pulse with q = p_Z^2 + p_X^2.
    graph_rate = float(decoy_key_rate_vacuum_weak(mu=svc.mu, nu=svc.nu, eta=eta, y0=y0, e_d=e_d, q=svc.p_z**2,
                                                  f_ec=svc.f_ec)) * probs[0]
    circuit_rate = result.estimates()["key_rate_vacuum_weak"]
    return PathVerification("decoy-bb84", step, nodes, (ch,), rounds, graph, comps, graph_rate,
                            float(getattr(circuit_rate, "best", circuit_rate)), result)


def demand_route(net: Any, demand: Any, step: int) -> tuple[str, tuple[str, ...], list[str | None] | None] | None:
    """The route a demand gets at a step on the full snapshot, as ``verify_path`` arguments.

    ``"key"``: the widest trusted-relay path (service ``"trusted-relay"``); ``"pairs"``: the
    entanglement path meeting the demand's fidelity threshold (``"swapping"``, with ``via``);
    ``"mdi"``: the best untrusted relay (``"mdi-qkd"``, nodes ``(source, relay, target)``).

    Returns:
        ``(service, nodes, via)`` or None when the demand has no route at that step.
    """
    from ._routing import best_mdi_relay, entanglement_path, widest_path

    g = net.snapshot(step)
    if demand.service == "key":
        path, width = widest_path(g, demand.source, demand.target)
        return None if path is None or width <= 0 else ("trusted-relay", tuple(path), None)
    if demand.service == "pairs":
        found = entanglement_path(g, demand.source, demand.target, fidelity_threshold=demand.fidelity_threshold,
                                  services=net.services)
        return None if found is None else ("swapping", tuple(found["nodes"]), [d["via"] for d in found["links"]])
    best = best_mdi_relay(g, demand.source, demand.target, net.services)
    return None if best is None else ("mdi-qkd", (demand.source, best["relay"], demand.target), None)


def verify_demand(net: Any, demand: Any, *, step: int | None = None, target_bits: int = 3000,
                  max_rounds: int = 20_000_000, seed: Any = None) -> PathVerification | None:
    """Route a demand at a step (default: the first step where it has a route) and run
    :func:`verify_path` on that route.

    Returns:
        The :class:`PathVerification`, or None when the demand never has a route (or not at ``step``).
    """
    steps = range(net.n_steps) if step is None else [net._check_step(step)]
    for k in steps:
        route = demand_route(net, demand, k)
        if route is not None:
            service, nodes, via = route
            return verify_path(net, step=k, nodes=nodes, service=service, via=via, target_bits=target_bits,
                               max_rounds=max_rounds, seed=seed)
    return None
