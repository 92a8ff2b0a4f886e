"""qproto.network.Network: edges from physics (masks, LOS, clouds), snapshots, merits vs the protocols' closed forms."""

import math

import networkx as nx
import numpy as np
import pytest

from qproto import Channel, InvalidParameter, get_protocol
from qproto.network import (HAPS, LAPS, GroundStation, Network, ServiceModel, WalkerConstellation, channel_merits,
                            dual_downlink, mdi_link)
from qproto.noise_models._platform_link import platform_geometry

R = 6_371_000.0


def small(seed=1, mask=30.0, clouds=0.0, duration=3 * 3600, step=60):
    nodes = [GroundStation(name="tokyo", latitude_deg=35.68, longitude_deg=139.77, min_elevation_deg=mask,
                           cloud_probability=clouds, cloud_mean_duration_s=600),
             GroundStation(name="osaka", latitude_deg=34.69, longitude_deg=135.50, min_elevation_deg=mask),
             HAPS(name="haps", latitude_deg=35.6, longitude_deg=139.6),
             LAPS(name="laps", latitude_deg=35.55, longitude_deg=139.7, flight_window_s=(0, 3600)),
             WalkerConstellation(name="w", planes=4, sats_per_plane=6, phasing=1, altitude_m=535e3,
                                 inclination_deg=53)]
    return Network(nodes=nodes, duration_s=duration, step_s=step, seed=seed)


@pytest.fixture(scope="module")
def net():
    return small()


def test_elevation_mask_and_range_decide_ground_edges(net):
    """Recompute every ground-satellite elevation from the positions (independent numpy): an edge
    exists iff elevation >= mask and range <= the table's 3000 km (no clouds here).
    catches: the mask applied at the satellite end, elevation in radians, a missing range cut."""
    e = net.edges
    sat = [i for i, n in enumerate(net.nodes) if n.layer == "sat"]
    have = set(zip(e.step.tolist(), e.u.tolist(), e.v.tolist()))
    for g in (net.index["tokyo"], net.index["osaka"]):
        pg = net.positions[g]                           # (T, 3)
        d = net.positions[sat] - pg[None]               # (S, T, 3)
        rng = np.linalg.norm(d, axis=-1)
        up = pg / np.linalg.norm(pg, axis=-1, keepdims=True)
        elev = np.degrees(np.arcsin(np.einsum("stk,tk->st", d, up) / rng))
        for si, s in enumerate(sat):
            for k in range(net.n_steps):
                exists = (k, s, g) in have
                if elev[si, k] >= 30.0 + 1e-6 and rng[si, k] <= 3000e3:
                    assert exists
                elif elev[si, k] < 30.0 - 1e-6:
                    assert not exists  # a satellite below the mask has no edge
    rows = [r for r in range(len(e)) if net.nodes[e.v[r]].layer == "ground" and net.nodes[e.u[r]].layer == "sat"]
    assert rows and min(e.elevation_deg[rows]) >= 30.0 - 1e-9


def test_edges_need_line_of_sight_and_flight(net):
    """Every stored edge clears the Earth (and 100 km for inter-satellite links); the LAPS has no edge
    outside its flight window; the edge's Channel is the PlatformLink's at the recomputed geometry."""
    e = net.edges
    geo = platform_geometry(net.positions[e.u, e.step], net.positions[e.v, e.step])
    kinds = np.array(e.kinds)[e.kind]
    assert np.all(geo.min_ray_altitude_m >= -1.0)
    assert np.all(geo.min_ray_altitude_m[kinds == "sat-sat"] >= 100e3 - 1.0)
    assert np.allclose(geo.range_m, e.range_m)
    laps = net.index["laps"]
    t = net.times_s[e.step]
    assert not np.any(((e.u == laps) | (e.v == laps)) & (t > 3600))
    assert np.any(((e.u == laps) | (e.v == laps)) & (t <= 3600))
    r = int(np.nonzero(kinds == "sat-ground")[0][0])
    link = net.links["sat-ground"].link
    ch = link.channel(range_m=geo.range_m[r], lower_altitude_m=0.0,
                      upper_altitude_m=float(np.linalg.norm(net.positions[e.u[r], e.step[r]]) - R),
                      lower_elevation_deg=float(geo.elevation_b_deg[r]))
    assert net.edges.channel(r).transmittance == pytest.approx(ch.transmittance, rel=1e-9)


def test_snapshot_graph(net):
    k = int(net.edges.step[np.nonzero(np.array(net.edges.kinds)[net.edges.kind] == "sat-ground")[0][0]])
    g = net.snapshot(k)
    assert isinstance(g, nx.Graph) and set(g.nodes) == set(net.node_names)
    rows = net.edges.rows(k)
    assert g.number_of_edges() == rows.stop - rows.start
    for a, b, d in g.edges(data=True):
        assert d["channel"] == net.channel(k, a, b) == net.channel(k, b, a)
        assert d["loss_db"] == pytest.approx(-10 * math.log10(d["channel"].total_transmittance))
        assert g.nodes[d["transmitter"]]["altitude_m"] >= min(g.nodes[a]["altitude_m"], g.nodes[b]["altitude_m"])
    with pytest.raises(InvalidParameter) as err:
        net.snapshot(net.n_steps)
    assert err.value.name == "step"


def test_reproducible_from_seed():
    a, b, c = small(seed=4, clouds=0.5), small(seed=4, clouds=0.5), small(seed=5, clouds=0.5)
    assert np.array_equal(a.cloudy, b.cloudy) and not np.array_equal(a.cloudy, c.cloudy)
    for name in ("step", "u", "v", "transmittance", "noise_click"):
        assert np.array_equal(getattr(a.edges, name), getattr(b.edges, name))
    # A cloudy site has no link at all.
    t = a.index["tokyo"]
    cloudy_steps = np.nonzero(a.cloudy[t])[0]
    assert cloudy_steps.size > 0
    e = a.edges
    assert not np.any(((e.u == t) | (e.v == t)) & a.cloudy[t][e.step])


CHANNELS = [Channel(transmittance=2e-3, misalignment=0.01, noise_click=1e-5, detector_efficiency=0.5),
            Channel(transmittance=0.3, misalignment=0.03, noise_click=2e-4, detector_efficiency=0.6),
            Channel(transmittance=1e-5, misalignment=0.0, noise_click=3e-7, detector_efficiency=0.9)]


@pytest.mark.parametrize("p_z", [0.5, 0.8])
def test_edge_merits_equal_the_protocols_closed_forms(p_z):
    """Graph figures against the protocols' own expected() (written separately, from Bloch maps):
    single-photon BB84 rate = trusted-relay key_rate of one link; dual downlink = BBM92 (no CHSH
    rounds) visibility, detection rate, key rate; MDI link = MDI-QKD detection rate, QBER, key rate."""
    svc = ServiceModel(p_z=p_z)
    for ch in CHANNELS:
        m = channel_merits(ch, svc)
        exp = get_protocol("trusted-relay", n_links=1, p_z=p_z).expected(ch)
        assert m["bb84_rate_per_pulse"] == pytest.approx(exp["key_rate"], rel=1e-9, abs=1e-300)
        assert m["qber"] == pytest.approx(exp["worst_link_qber"], rel=1e-12)
    for ca, cb in [(CHANNELS[0], CHANNELS[1]), (CHANNELS[1], CHANNELS[2])]:
        dd = dual_downlink(ca, cb, svc)
        e = get_protocol("bbm92", p_z=p_z, chsh_fraction=0.0).expected((ca, cb))
        assert dd["visibility"] == pytest.approx(e["visibility"], rel=1e-12)
        assert dd["detection_probability"] == pytest.approx(e["detection_rate"], rel=1e-12)
        assert dd["key_rate_bps"] / svc.pair_rate_hz == pytest.approx(e["key_rate"], rel=1e-9, abs=1e-300)
        mm = mdi_link(ca, cb, svc)
        e = get_protocol("mdi-qkd", p_z=p_z).expected((ca, cb))
        assert mm["detection_probability"] == pytest.approx(e["detection_rate"], rel=1e-12)
        assert mm["qber"] == pytest.approx(e["qber_z"], rel=1e-12)
        assert mm["key_rate_per_pulse"] == pytest.approx(e["key_rate"], rel=1e-9, abs=1e-300)


def test_decoy_edge_rate_is_the_a2_test_vector():
    """PHYSICS A2 test vector (mu 0.5, nu 0.1, Y0 1e-6, e_d 0.01, q 1/2, f 1.16): 30 dB -> 1.081e-4
    bit/pulse with vacuum + weak decoys, 1.137e-4 with infinite decoys; x the pulse rate."""
    ch = Channel(transmittance=1e-3, misalignment=0.01, noise_click=1e-6, detector_efficiency=1.0)
    assert channel_merits(ch, ServiceModel(pulse_rate_hz=1.0))["key_rate_bps"] == pytest.approx(1.081e-4, rel=1e-3)
    inf = channel_merits(ch, ServiceModel(pulse_rate_hz=2e8, decoy="infinite"))["key_rate_bps"]
    assert inf == pytest.approx(2e8 * 1.137e-4, rel=1e-3)


@pytest.mark.parametrize("kwargs, name", [
    (dict(step_s=0), "step_s"), (dict(duration_s=-1), "duration_s"),
    (dict(links={"sat-moon": None}), "links"), (dict(links={"sat-ground": {"rx_aperture_m": -1}}), "rx_aperture_m"),
    (dict(links={"sat-ground": {"bogus": 1}}), "links.sat-ground"),
])
def test_bad_network_arguments(kwargs, name):
    base = dict(nodes=[GroundStation(name="g", latitude_deg=0, longitude_deg=0)], duration_s=60, step_s=60)
    with pytest.raises(InvalidParameter) as err:
        Network(**{**base, **kwargs})
    assert err.value.name == name


def test_duplicate_names_and_bad_services():
    g = GroundStation(name="g", latitude_deg=0, longitude_deg=0)
    with pytest.raises(InvalidParameter) as err:
        Network(nodes=[g, g], duration_s=60, step_s=60)
    assert err.value.name == "nodes"
    for kw, name in [(dict(nu=0.6), "nu"), (dict(p_z=1.0), "p_z"), (dict(decoy="many"), "decoy"),
                     (dict(memory_efficiency=2), "memory_efficiency"), (dict(pulse_rate_hz=0), "pulse_rate_hz")]:
        with pytest.raises(InvalidParameter) as err:
            ServiceModel(**kw)
        assert err.value.name == name


def test_co_located_nodes_have_no_link():
    nodes = [HAPS(name="h1", latitude_deg=10, longitude_deg=10), HAPS(name="h2", latitude_deg=10, longitude_deg=10),
             GroundStation(name="g", latitude_deg=10.1, longitude_deg=10)]
    net = Network(nodes=nodes, duration_s=0, step_s=1, seed=0)
    g = net.snapshot(0)
    assert not g.has_edge("h1", "h2") and g.has_edge("h1", "g") and g.has_edge("h2", "g")


def test_seed_is_recorded_and_validated():
    a = small(seed=None, clouds=0.5, duration=600)
    b = small(seed=a.seed, clouds=0.5, duration=600)
    assert np.array_equal(a.cloudy, b.cloudy)
    with pytest.raises(InvalidParameter) as err:
        small(seed=-1)
    assert err.value.name == "seed"


def test_ground_station_receiver_overrides():
    """A station's own aperture and detector replace the link table's on its links (and only there)."""
    from qproto.noise_models import Detector
    det = Detector(name="snspd-like", efficiency=0.9, dark_count_rate_hz=10.0)
    nodes = [HAPS(name="h", latitude_deg=35.7, longitude_deg=139.7),
             GroundStation(name="plain", latitude_deg=35.6, longitude_deg=139.7),
             GroundStation(name="big", latitude_deg=35.8, longitude_deg=139.7, rx_aperture_m=1.0, detector=det)]
    net = Network(nodes=nodes, duration_s=0, step_s=1, seed=0)
    link = net.links["haps-ground"].link
    for name, lk in (("plain", link), ("big", link.replace(rx_aperture_m=1.0, detector=det))):
        r = net.edge_row(0, "h", name)
        e = net.edges
        ref = lk.channel(range_m=e.range_m[r], lower_altitude_m=0.0, upper_altitude_m=20e3,
                         lower_elevation_deg=e.elevation_deg[r], min_ray_altitude_m=0.0)
        assert net.channel(0, "h", name) == ref
    assert net.channel(0, "h", "big").detector_efficiency == 0.9
    with pytest.raises(InvalidParameter) as err:
        GroundStation(name="g", latitude_deg=0, longitude_deg=0, detector="photomultiplier")
    assert err.value.name == "detector"


def test_day_sky_raises_noise_only_in_sunlight():
    """With a day radiance, a receiver whose local Sun elevation is positive gets the day noise, else
    the night noise (PHYSICS C.6); a day radiance without an epoch is refused, naming epoch."""
    import datetime as dt
    nodes = [HAPS(name="h", latitude_deg=0.0, longitude_deg=0.0),
             GroundStation(name="g", latitude_deg=0.1, longitude_deg=0.0)]
    epoch = dt.datetime(2026, 3, 20, 0, 0, tzinfo=dt.timezone.utc)  # midnight at longitude 0
    links = {"haps-ground": {"day_sky_radiance_w_m2_sr_nm": 1e-2}}
    net = Network(nodes=nodes, duration_s=86400, step_s=3600, epoch=epoch, links=links, seed=0)
    link = net.links["haps-ground"].link
    y_night, y_day = link.noise_click, link.replace(sky_radiance_w_m2_sr_nm=1e-2).noise_click
    assert y_day > 100 * y_night
    y0 = [net.channel(k, "h", "g").noise_click for k in range(net.n_steps)]
    hours = net.times_s / 3600
    for h, y in zip(hours, y0):
        if 7 <= h <= 17:
            assert y == y_day
        elif h <= 5 or h >= 19:
            assert y == y_night
    with pytest.raises(InvalidParameter) as err:
        Network(nodes=nodes, duration_s=60, step_s=60, links=links)
    assert err.value.name == "epoch"
