"""The demand controller: time sharing of links, key stocks, outages, MDI and pairs services."""

import pytest

from qproto import InvalidParameter
from qproto.network import HAPS, Demand, GroundStation, Network, ServiceModel, allocate, mdi_link


@pytest.fixture(scope="module")
def net():
    """Two ground stations under one HAPS (fixed links, no clouds), four steps of 10 s."""
    nodes = [HAPS(name="h", latitude_deg=35.7, longitude_deg=139.7),
             GroundStation(name="a", latitude_deg=35.6, longitude_deg=139.7),
             GroundStation(name="b", latitude_deg=35.75, longitude_deg=139.8)]
    return Network(nodes=nodes, duration_s=30, step_s=10, seed=0, services=ServiceModel(coherence_time_s=1e9))


def cap(net, a, b):
    return float(net.merits["key_rate_bps"][net.edge_row(0, a, b)])


def test_links_are_shared_in_time(net):
    """Two key demands over the one link h-a, each asking 0.7 of its capacity (no burst): the first
    gets 0.7, the second the remaining 0.3; a third demand over h-b is not affected."""
    c, cb = cap(net, "h", "a"), cap(net, "h", "b")
    ds = [Demand(source="a", target="h", rate=0.7 * c, burst=1), Demand(source="h", target="a", rate=0.7 * c, burst=1),
          Demand(source="h", target="b", rate=0.5 * cb, burst=1)]
    al = allocate(net, ds)
    assert al.delivered_rate[0] == pytest.approx([0.7 * c] * 4, rel=1e-9)
    assert al.delivered_rate[1] == pytest.approx([0.3 * c] * 4, rel=1e-9)
    assert al.delivered_rate[2] == pytest.approx([0.5 * cb] * 4, rel=1e-9)
    r = al.reports
    assert r[0].share_served == pytest.approx(1.0) and r[0].outage_fraction == 0.0
    assert r[1].share_served == pytest.approx(3 / 7) and r[1].outage_fraction == 1.0
    assert al.paths[0][0] == "a-h"


def test_key_stock_fills_at_the_bottleneck(net):
    """a -> b through the trusted HAPS, asking a quarter of the bottleneck with a large burst: the
    path carries the whole bottleneck and the stock grows by (bottleneck - rate) x 10 s per step."""
    w = min(cap(net, "h", "a"), cap(net, "h", "b"))
    al = allocate(net, [Demand(source="a", target="b", rate=w / 4, burst=100)])
    assert al.delivered_rate[0] == pytest.approx([w] * 4, rel=1e-9)
    assert al.stock[0] == pytest.approx([k * 10 * 0.75 * w for k in (1, 2, 3, 4)], rel=1e-9)
    assert al.served_rate[0] == pytest.approx([w / 4] * 4, rel=1e-9)
    assert al.paths[0][0] == "a-h-b" and al.reports[0].share_served == pytest.approx(1.0)


def test_untrusted_relay_serves_mdi_not_trusted_keys():
    nodes = [HAPS(name="h", latitude_deg=35.7, longitude_deg=139.7, trusted=False),
             GroundStation(name="a", latitude_deg=35.6, longitude_deg=139.7),
             GroundStation(name="b", latitude_deg=35.75, longitude_deg=139.8)]
    net = Network(nodes=nodes, duration_s=0, step_s=10, seed=0)
    al = allocate(net, [Demand(source="a", target="b", rate=10.0), Demand(source="a", target="b", service="mdi",
                                                                            rate=1e9, burst=1)])
    assert al.delivered_rate[0, 0] == 0.0 and al.reports[0].outage_fraction == 1.0
    expect = mdi_link(net.channel(0, "h", "a"), net.channel(0, "h", "b"), net.services)["key_rate_bps"]
    assert expect > 0 and al.delivered_rate[1, 0] == pytest.approx(expect, rel=1e-12)
    assert al.paths[1][0] == "a-[h]-b"


def test_pairs_demand_respects_the_fidelity_threshold(net):
    al = allocate(net, [Demand(source="a", target="b", service="pairs", rate=10.0, fidelity_threshold=0.999),
                        Demand(source="a", target="b", service="pairs", rate=10.0, fidelity_threshold=0.6)])
    assert al.reports[0].share_served == 0.0 and al.reports[0].outage_fraction == 1.0
    assert al.served_rate[1] == pytest.approx([10.0] * 4) and al.reports[1].share_served == pytest.approx(1.0)


def test_controller_errors(net):
    with pytest.raises(InvalidParameter) as err:
        allocate(net, [])
    assert err.value.name == "demands"
    with pytest.raises(InvalidParameter) as err:
        allocate(net, [Demand(source="a", target="nowhere")])
    assert err.value.name == "node"
    with pytest.raises(InvalidParameter) as err:
        allocate(net, [Demand(source="a", target="b")], every=0)
    assert err.value.name == "every"
    for kw, name in [(dict(service="teleport"), "service"), (dict(rate=0), "rate"), (dict(target="a"), "target"),
                     (dict(fidelity_threshold=0.1), "fidelity_threshold"), (dict(burst=0.5), "burst")]:
        with pytest.raises(InvalidParameter) as err:
            Demand(**{"source": "a", "target": "b", **kw})
        assert err.value.name == name
