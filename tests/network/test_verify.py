"""verify_path: the graph-level figures of a path agree with the circuit protocols (PHYSICS B, 5 sigma)."""

import pytest

from qproto import InvalidParameter
from qproto.network import HAPS, LAPS, Network, ServiceModel, entanglement_path, verify_path, widest_path

LAT = 35.7


@pytest.fixture(scope="module")
def net():
    """Three LAPS under two HAPS, big receivers: links of ~7 dB, so the circuits need few rounds.
    Different apertures make every link different (an orientation or a swapped-channel bug shows)."""
    nodes = [HAPS(name="h1", latitude_deg=LAT, longitude_deg=139.60),
             HAPS(name="h2", latitude_deg=LAT, longitude_deg=139.71),
             LAPS(name="l1", latitude_deg=LAT, longitude_deg=139.56, rx_aperture_m=0.6),
             LAPS(name="l2", latitude_deg=LAT, longitude_deg=139.65, rx_aperture_m=0.45),
             LAPS(name="l3", latitude_deg=LAT, longitude_deg=139.74, rx_aperture_m=0.3)]
    links = {"haps-laps": {"max_range_m": 21e3, "rx_aperture_m": 0.5, "misalignment": 0.02,
                           "sky_radiance_w_m2_sr_nm": 5e-4},
             "haps-haps": None}
    return Network(nodes=nodes, duration_s=0, step_s=1, links=links, seed=0,
                   services=ServiceModel(p_z=0.6, coherence_time_s=1e9, memory_efficiency=1.0))


def test_the_test_network_has_the_intended_links(net):
    g = net.snapshot(0)
    assert sorted(map(sorted, g.edges)) == [["h1", "l1"], ["h1", "l2"], ["h2", "l2"], ["h2", "l3"]]
    losses = sorted(d["loss_db"] for _, _, d in g.edges(data=True))
    assert 3 < losses[0] and losses[-1] < 12 and len(set(round(x, 3) for x in losses)) == 4


def test_trusted_relay_chain_agrees_with_circuits(net):
    path, _ = widest_path(net.snapshot(0), "l1", "l3")
    assert path == ["l1", "h1", "l2", "h2", "l3"]
    v = verify_path(net, step=0, nodes=path, service="trusted-relay", target_bits=1500, seed=11)
    assert v.passed, v.summary()
    names = {c.name for c in v.comparisons}
    assert {"link0.qber", "link3.detection_rate", "relayed_raw_error_rate"} <= names
    assert v.graph_key_rate == pytest.approx(v.circuit_key_rate, rel=0.5)


def test_routed_swapping_chain_agrees_with_circuits(net):
    """With ideal memories the four direct links (source at each HAPS end) beat two dual downlinks;
    the routed chain's fidelity (1 + 3 prod V)/4 (A11) and herald rate agree with the circuits."""
    found = entanglement_path(net.snapshot(0), "l1", "l3", fidelity_threshold=0.5, services=net.services)
    assert found["nodes"] == ["l1", "h1", "l2", "h2", "l3"] and all(d["via"] is None for d in found["links"])
    v = verify_path(net, step=0, nodes=found["nodes"], service="swapping", target_bits=600, seed=12)
    assert v.passed, v.summary()
    assert v.graph["fidelity"] == pytest.approx(found["fidelity"], rel=1e-12)
    assert {c.name for c in v.comparisons} == {"herald_rate", "qber_z", "qber_x", "fidelity"}


def test_midpoint_source_chain_agrees_with_circuits(net):
    """Seed 001 Fig. 3 extended: each HAPS a midpoint source (dual downlink), l2 swaps."""
    v = verify_path(net, step=0, nodes=["l1", "l2", "l3"], via=["h1", "h2"], service="swapping", target_bits=600,
                    seed=16)
    assert v.passed, v.summary()
    dd = [net.channel(0, a, b) for a, b in (("h1", "l1"), ("h1", "l2"), ("h2", "l2"), ("h2", "l3"))]
    herald = 1.0
    for ch in dd:
        herald *= ch.detection_probability
    assert v.graph["herald_rate"] == pytest.approx(herald, rel=1e-12)


def test_direct_swapping_chain_agrees_with_circuits(net):
    v = verify_path(net, step=0, nodes=["l1", "h1", "l2", "h2"], service="swapping", target_bits=1500, seed=13)
    assert v.passed, v.summary()


@pytest.mark.parametrize("service", ["bbm92", "mdi-qkd"])
def test_two_arm_protocols_agree_with_circuits(net, service):
    v = verify_path(net, step=0, nodes=["l1", "h1", "l2"], service=service, target_bits=1500, seed=14)
    assert v.passed, v.summary()
    assert v.graph["detection_rate"] < 0.2


def test_a_wrong_graph_figure_is_caught(net):
    """The comparison has teeth: the circuits of one path against the figures of another fail."""
    from qproto.testing import compare_to_expected
    a = verify_path(net, step=0, nodes=["l1", "h1", "l2"], service="bbm92", target_bits=1500, seed=15)
    b = verify_path(net, step=0, nodes=["l2", "h2", "l3"], service="bbm92", target_bits=100, seed=15)
    wrong = compare_to_expected(a.result, b.graph, keys=["detection_rate"])
    assert not wrong[0].passed


def test_verify_errors(net):
    with pytest.raises(InvalidParameter) as err:
        verify_path(net, step=0, nodes=["l1", "h1"], service="teleport")
    assert err.value.name == "service"
    with pytest.raises(InvalidParameter) as err:
        verify_path(net, step=0, nodes=["l1", "l3"], service="trusted-relay")
    assert err.value.name == "edge"
    with pytest.raises(InvalidParameter) as err:
        verify_path(net, step=0, nodes=["l1", "h1"], service="bbm92")
    assert err.value.name == "nodes"
    with pytest.raises(InvalidParameter) as err:
        verify_path(net, step=0, nodes=["l1", "l2", "l3"], via=["h1"], service="swapping")
    assert err.value.name == "via"


def test_a_path_too_lossy_for_the_round_budget_is_refused(net):
    with pytest.raises(InvalidParameter) as err:
        verify_path(net, step=0, nodes=["l1", "h1", "l2", "h2", "l3"], service="swapping", max_rounds=10_000)
    assert err.value.name == "max_rounds"


def test_verify_demand_routes_then_checks(net):
    from qproto.network import Demand, demand_route, verify_demand
    d = Demand(source="l1", target="l3", service="mdi", rate=1.0)
    assert demand_route(net, d, 0) is None  # no common neighbour of l1 and l3
    d = Demand(source="l1", target="l2", service="mdi", rate=1.0)
    assert demand_route(net, d, 0) == ("mdi-qkd", ("l1", "h1", "l2"), None)
    v = verify_demand(net, d, target_bits=800, seed=3)
    assert v.service == "mdi-qkd" and v.passed, v.summary()


def test_decoy_edge_figures_agree_with_circuits(net):
    """The routing weight's inputs (PHYSICS A2 gains and error rates of signal and decoy pulses on the
    edge's Channel) against the decoy-state BB84 circuits; the key rates in the protocol's convention
    agree loosely at this fixed seed (a factor p_signal or 2 in the convention would not)."""
    v = verify_path(net, step=0, nodes=["h1", "l1"], service="decoy-bb84", target_bits=1500, seed=17)
    assert v.passed, v.summary()
    assert {c.name for c in v.comparisons} == {"gain_signal", "gain_decoy", "qber_z_signal", "qber_x_decoy"}
    assert v.graph_key_rate > 0 and v.circuit_key_rate == pytest.approx(v.graph_key_rate, rel=0.3)
