"""Routing: widest paths (brute force), relay rate <= weakest edge, Werner chains (A11), entanglement
paths under a fidelity threshold (brute force), key stores (max flow), the fast bottleneck router."""

import itertools
import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from qproto import InvalidParameter
from qproto.network import (GroundStation, Network, ServiceModel, WalkerConstellation, entanglement_path,
                            stored_key_flow, swapped_chain, werner_chain_fidelity, widest_bottlenecks, widest_path)
from qproto.security import swap_fidelity


@st.composite
def weighted_graphs(draw, max_nodes=7):
    n = draw(st.integers(2, max_nodes))
    g = nx.Graph()
    for i in range(n):
        g.add_node(i, trusted=draw(st.booleans()) or draw(st.booleans()))
    for a, b in itertools.combinations(range(n), 2):
        if draw(st.booleans()):
            g.add_edge(a, b, key_rate_bps=draw(st.sampled_from([0.0, 1.0, 2.0, 3.0, 5.0, 8.0]) | st.floats(0.01, 100)))
    return g


def brute_widest(g, s, t, trusted_only):
    best = 0.0
    for p in nx.all_simple_paths(g, s, t):
        if trusted_only and not all(g.nodes[x]["trusted"] for x in p[1:-1]):
            continue
        best = max(best, min(g.edges[a, b]["key_rate_bps"] for a, b in zip(p, p[1:])))
    return best


@settings(max_examples=60)
@given(g=weighted_graphs(), trusted_only=st.booleans(), data=st.data())
def test_widest_path_equals_brute_force(g, trusted_only, data):
    s, t = data.draw(st.sampled_from(sorted(g.nodes))), data.draw(st.sampled_from(sorted(g.nodes)))
    if s == t:
        return
    path, width = widest_path(g, s, t, trusted_only=trusted_only)
    assert width == brute_widest(g, s, t, trusted_only)
    if path is None:
        assert width == 0.0
        return
    assert path[0] == s and path[-1] == t and len(set(path)) == len(path)
    weights = [g.edges[a, b]["key_rate_bps"] for a, b in zip(path, path[1:])]
    # The relayed rate is the weakest edge's (PHYSICS A12), never more.
    assert width == min(weights) and all(width <= w for w in weights)
    if trusted_only:
        assert all(g.nodes[x]["trusted"] for x in path[1:-1])


@settings(max_examples=30)
@given(fs=st.lists(st.floats(0.25, 1.0), min_size=1, max_size=6))
def test_werner_chain_is_the_iterated_swap(fs):
    """PHYSICS A11 / invariant 42: (1 + 3 prod V_i)/4 equals swapping pairwise with
    F' = F1 F2 + (1 - F1)(1 - F2)/3 (qproto.security, written independently)."""
    v = [(4 * f - 1) / 3 for f in fs]
    f = fs[0]
    for x in fs[1:]:
        f = swap_fidelity(f, x)
    assert werner_chain_fidelity(v) == pytest.approx(f, abs=1e-12)
    chain = swapped_chain([10.0] * len(v), v, ServiceModel(coherence_time_s=1e300, memory_efficiency=1.0))
    assert chain["fidelity"] == pytest.approx(f, abs=1e-12)


def test_memory_model_closed_form():
    """Slowest link r_min, n-1 stored halves each for 1/r_min: V exp(-(n-1)/(r_min T2)), rate
    r_min eta^(n-1); without memories all links herald in one slot: rate f prod P_i."""
    svc = ServiceModel(memory_efficiency=0.8, coherence_time_s=0.5, pair_rate_hz=1e6)
    c = swapped_chain([100.0, 40.0, 250.0], [0.9, 0.95, 0.99], svc)
    assert c["rate_hz"] == pytest.approx(40 * 0.8**2)
    assert c["visibility"] == pytest.approx(0.9 * 0.95 * 0.99 * math.exp(-2 / (40 * 0.5)))
    c0 = swapped_chain([100.0, 40.0], [0.9, 0.95], ServiceModel(coherence_time_s=0.0, pair_rate_hz=1e6))
    assert c0["rate_hz"] == pytest.approx(1e6 * (100 / 1e6) * (40 / 1e6))
    assert c0["visibility"] == pytest.approx(0.9 * 0.95)


@st.composite
def entanglement_multigraphs(draw):
    n = draw(st.integers(2, 5))
    m = nx.MultiGraph()
    m.add_nodes_from(range(n))
    for a, b in itertools.combinations(range(n), 2):
        for k in range(draw(st.integers(0, 2))):
            rate = draw(st.sampled_from([5.0, 20.0, 50.0, 200.0]))
            vis = draw(st.sampled_from([0.6, 0.8, 0.9, 0.97, 0.995]))
            m.add_edge(a, b, key=k, rate_hz=rate, visibility=vis, detection_probability=rate / 1e6, via=None,
                       channels=(), ends=(a, b))
    return m


def brute_entanglement(m, s, t, f_th, svc):
    best = 0.0
    g = nx.Graph(m)
    for p in nx.all_simple_paths(g, s, t):
        options = [list(m.get_edge_data(a, b).values()) for a, b in zip(p, p[1:])]
        for choice in itertools.product(*options):
            c = swapped_chain([d["rate_hz"] for d in choice], [d["visibility"] for d in choice], svc)
            if c["fidelity"] >= f_th - 1e-12:
                best = max(best, c["rate_hz"])
    return best


@settings(max_examples=60)
@given(m=entanglement_multigraphs(), f_th=st.sampled_from([0.5, 0.8, 0.9, 0.95]), t2=st.sampled_from([0.05, 1.0, 1e9]))
def test_entanglement_path_equals_brute_force(m, f_th, t2):
    """With memory efficiency 1 the search is exact (module docstring): best delivered rate over
    every simple path and every choice of parallel links, fidelity >= threshold."""
    svc = ServiceModel(memory_efficiency=1.0, coherence_time_s=t2, pair_rate_hz=1e6)
    g = nx.Graph()
    g.add_nodes_from(m.nodes)
    s, t = 0, max(m.nodes)
    found = entanglement_path(g, s, t, fidelity_threshold=f_th, services=svc, graph=m)
    best = brute_entanglement(m, s, t, f_th, svc)
    if found is None:
        assert best == 0.0
    else:
        assert found["rate_hz"] == pytest.approx(best, rel=1e-12)
        assert found["fidelity"] >= f_th - 1e-12
        assert found["nodes"][0] == s and found["nodes"][-1] == t


@pytest.fixture(scope="module")
def relay_net():
    """Two stations ~7,600 km apart and one polar LEO relay: never both in view (seed 000 Fig. 8)."""
    nodes = [GroundStation(name="xinglong", latitude_deg=40.4, longitude_deg=117.6),
             GroundStation(name="graz", latitude_deg=47.07, longitude_deg=15.49),
             WalkerConstellation(name="leo", planes=1, sats_per_plane=1, altitude_m=500e3, inclination_deg=97.4,
                                 raan_offset_deg=40.0)]
    return Network(nodes=nodes, duration_s=86400, step_s=30, seed=1)


def test_key_store_relays_key_between_passes(relay_net):
    """Instantaneous widest path: nothing, ever. With a key store on the satellite the key the two
    stations can share is min(key accumulated with each) (max flow through one relay)."""
    net = relay_net
    assert not np.any(widest_bottlenecks(net, [("xinglong", "graz")]))
    e, w = net.edges, net.merits["key_rate_bps"]
    per_station = {}
    for name in ("xinglong", "graz"):
        i = net.index[name]
        per_station[name] = float(w[(e.u == i) | (e.v == i)].sum() * net.step_s)
    assert min(per_station.values()) > 0
    assert stored_key_flow(net, "xinglong", "graz") == pytest.approx(min(per_station.values()), rel=1e-9)
    half = net.n_steps // 2
    assert stored_key_flow(net, "xinglong", "graz", until_step=half) <= stored_key_flow(net, "xinglong", "graz")


def test_fast_bottlenecks_equal_networkx():
    """The scipy spanning-tree router equals widest_path on every snapshot of a mesh."""
    nodes = [GroundStation(name="tokyo", latitude_deg=35.68, longitude_deg=139.77, min_elevation_deg=15),
             GroundStation(name="osaka", latitude_deg=34.69, longitude_deg=135.50, min_elevation_deg=15),
             GroundStation(name="sapporo", latitude_deg=43.06, longitude_deg=141.35, min_elevation_deg=15),
             WalkerConstellation(name="w", planes=6, sats_per_plane=8, altitude_m=535e3, inclination_deg=53)]
    net = Network(nodes=nodes, duration_s=4 * 3600, step_s=120, seed=2, links={"sat-sat": {"max_range_m": 2e6}})
    demands = [("tokyo", "osaka"), ("tokyo", "sapporo"), ("osaka", "sapporo")]
    fast = widest_bottlenecks(net, demands)
    nonzero = 0
    for k in range(net.n_steps):
        g = net.snapshot(k)
        for d, (a, b) in enumerate(demands):
            _, width = widest_path(g, a, b)
            assert fast[d, k] == pytest.approx(width, rel=1e-9)
            nonzero += width > 0
    assert nonzero > 3


def test_routing_errors():
    g = nx.Graph()
    g.add_edge("a", "b", key_rate_bps=1.0)
    with pytest.raises(InvalidParameter) as err:
        widest_path(g, "a", "zz")
    assert err.value.name == "node"
    with pytest.raises(InvalidParameter) as err:
        entanglement_path(g, "a", "a", fidelity_threshold=0.9, services=ServiceModel(), graph=nx.MultiGraph(g))
    assert err.value.name == "target"
    with pytest.raises(InvalidParameter) as err:
        entanglement_path(g, "a", "b", fidelity_threshold=0.1, services=ServiceModel(), graph=nx.MultiGraph(g))
    assert err.value.name == "fidelity_threshold"
    assert widest_path(g, "a", "a") == (["a"], math.inf)


def test_bad_routing_arguments(relay_net):
    from qproto import InvalidType
    from qproto.network import Demand, accumulated_key_graph, allocate, best_mdi_relay, plot_snapshot
    g = relay_net.snapshot(0)
    g.add_edge("xinglong", "graz", key_rate_bps=1.0)
    with pytest.raises(InvalidParameter) as err:
        widest_path(g, "xinglong", "graz", weight="speed")
    assert err.value.name == "weight"
    with pytest.raises(InvalidType) as err:
        entanglement_path(g, "xinglong", "graz", fidelity_threshold=0.8, services="fast")
    assert err.value.name == "services"
    with pytest.raises(InvalidType) as err:
        best_mdi_relay(g, "xinglong", "graz", None)
    assert err.value.name == "services"
    with pytest.raises(InvalidParameter) as err:
        accumulated_key_graph(relay_net, until_step=relay_net.n_steps)
    assert err.value.name == "step"
    with pytest.raises(InvalidParameter) as err:
        stored_key_flow(relay_net, "xinglong", "graz", weight="speed")
    assert err.value.name == "weight"
    with pytest.raises(InvalidParameter) as err:
        widest_bottlenecks(relay_net, [("xinglong", "xinglong")])
    assert err.value.name == "demands"
    with pytest.raises(InvalidType) as err:
        allocate(relay_net, [Demand(source="xinglong", target="graz")], progress=3)
    assert err.value.name == "progress"
    with pytest.raises(InvalidParameter) as err:
        plot_snapshot(relay_net, 0, weight="speed")
    assert err.value.name == "weight"


def test_direct_entanglement_links_need_a_source_at_the_transmitter():
    from qproto.network import HAPS, LAPS, entanglement_graph
    nodes = [HAPS(name="h", latitude_deg=35.7, longitude_deg=139.6, pair_source=False),
             LAPS(name="a", latitude_deg=35.7, longitude_deg=139.55),
             LAPS(name="b", latitude_deg=35.7, longitude_deg=139.65)]
    net = Network(nodes=nodes, duration_s=0, step_s=1, seed=0)
    m = entanglement_graph(net.snapshot(0), net.services)
    assert m.number_of_edges() == 0
    net2 = Network(nodes=[HAPS(name="h", latitude_deg=35.7, longitude_deg=139.6)] + nodes[1:], duration_s=0, step_s=1)
    m2 = entanglement_graph(net2.snapshot(0), net2.services)
    kinds = sorted((tuple(sorted(d["ends"])), d["via"]) for _, _, d in m2.edges(data=True))
    assert kinds == [(("a", "b"), "h"), (("a", "h"), None), (("b", "h"), None)]


def test_accumulated_key_sums_both_orientations():
    """Key on a link adds up whichever end transmitted at each step: a climbing drone passes another's
    altitude, so the transmitting (upper) end changes during the run."""
    from qproto.network import LAPS, accumulated_key_graph
    nodes = [LAPS(name="a", latitude_deg=35.7, longitude_deg=139.70, altitude_m=1000.0),
             LAPS(name="b", latitude_deg=35.7, longitude_deg=139.75,
                  waypoints=((0.0, 35.7, 139.75, 500.0), (600.0, 35.7, 139.75, 1500.0)))]
    links = {"laps-laps": {"divergence_half_angle_rad": 50e-6, "rx_aperture_m": 0.2, "max_range_m": 20e3}}
    net = Network(nodes=nodes, duration_s=600, step_s=60, seed=0, links=links)
    e, w = net.edges, net.merits["key_rate_bps"]
    # (at equal heights the curved Earth puts each just below the other's 0 deg mask: no link then)
    assert len(e) >= net.n_steps - 1 and len(set(e.u.tolist())) == 2  # both ends transmit at some step
    g = accumulated_key_graph(net, until_step=net.n_steps - 1)
    assert g.edges["a", "b"]["capacity"] == pytest.approx(float(w.sum()) * 60.0, rel=1e-12)
