"""Benchmark of qproto.network: geometry, edge physics and routing over a day (issue 15).

Target: a Walker constellation of 100 satellites with 20 ground/aerial nodes over 24 h at 10 s
steps, 50 demand pairs, in at most 60 s on the 2-core machine, with bounded memory.

    .venv/bin/python benchmarks/bench_network.py                 # the target case, 3 runs, median
    .venv/bin/python benchmarks/bench_network.py --scaling       # the scaling table (1 run each)
    .venv/bin/python benchmarks/bench_network.py --verify 6      # graph vs circuits on 6 sampled paths

Phases timed: ``build`` (node positions for all steps, clouds, line of sight and the Channel of
every edge at every step, in chunks), ``merits`` (decoy BB84 key rate etc. of every edge-step),
``routing`` (the widest trusted-relay path of every demand at every step, Kruskal union-find:
:func:`qproto.network.widest_bottlenecks`) and ``stores`` (key accumulated per demand with key
stores at relays: max flow, networkx). Peak memory is the process's max RSS.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time

import numpy as np

from qproto.network import (HAPS, LAPS, GroundStation, Network, WalkerConstellation, accumulated_key_graph,
                            stored_key_flow,
                            widest_bottlenecks)

SITES = [("tokyo", 35.68, 139.77), ("osaka", 34.69, 135.50), ("sapporo", 43.06, 141.35), ("seoul", 37.57, 126.98),
         ("beijing", 39.90, 116.40), ("shanghai", 31.23, 121.47), ("singapore", 1.35, 103.82),
         ("delhi", 28.61, 77.21), ("vienna", 48.21, 16.37), ("graz", 47.07, 15.49), ("madrid", 40.42, -3.70),
         ("london", 51.51, -0.13), ("nyc", 40.71, -74.01), ("sydney", -33.87, 151.21), ("saopaulo", -23.55, -46.63),
         ("capetown", -33.92, 18.42), ("nairobi", -1.29, 36.82), ("la", 34.05, -118.24), ("toronto", 43.65, -79.38),
         ("santiago", -33.45, -70.67), ("moscow", 55.76, 37.62), ("dubai", 25.20, 55.27), ("jakarta", -6.21, 106.85),
         ("mexico", 19.43, -99.13), ("lagos", 6.52, 3.38), ("perth", -31.95, 115.86), ("honolulu", 21.31, -157.86),
         ("reykjavik", 64.15, -21.94), ("auckland", -36.85, 174.76), ("lima", -12.05, -77.04)]


def nodes_for(n_nodes: int, n_sats: int) -> list:
    """n_nodes ground/aerial nodes (a HAPS over every 5th site, a LAPS over every 10th), and a
    Walker constellation of about n_sats satellites (10 planes, 53 deg, 535 km)."""
    out = []
    for i in range(n_nodes):
        name, lat, lon = SITES[i % len(SITES)]
        lat, lon = lat + 0.7 * (i // len(SITES)), lon + 0.7 * (i // len(SITES))  # repeats sit apart
        name = f"{name}{i // len(SITES) or ''}"
        if i % 10 == 9:
            out.append(LAPS(name=f"laps-{name}", latitude_deg=lat, longitude_deg=lon + 0.1, cloud_probability=0.2))
        elif i % 5 == 4:
            out.append(HAPS(name=f"haps-{name}", latitude_deg=lat, longitude_deg=lon + 0.1))
        else:
            out.append(GroundStation(name=name, latitude_deg=lat, longitude_deg=lon, cloud_probability=0.3,
                                     cloud_mean_duration_s=7200))
    planes = 10 if n_sats >= 10 else 1
    out.append(WalkerConstellation(name="leo", planes=planes, sats_per_plane=max(1, n_sats // planes),
                                   phasing=1 % planes, altitude_m=535e3, inclination_deg=53.0))
    return out


def demands_for(net: Network, n_demands: int, seed: int = 0) -> list[tuple[str, str]]:
    names = [n.name for n in net.nodes if n.layer in ("ground", "haps")]
    rng = np.random.default_rng(seed)
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]]
    idx = rng.choice(len(pairs), size=min(n_demands, len(pairs)), replace=False)
    return [pairs[i] for i in sorted(idx)]


def run_once(n_sats: int, n_nodes: int, hours: float, step_s: float, n_demands: int) -> dict:
    t0 = time.perf_counter()
    net = Network(nodes=nodes_for(n_nodes, n_sats), duration_s=hours * 3600, step_s=step_s, seed=1,
                  links={"sat-sat": {"max_range_m": 1.5e6}})
    t1 = time.perf_counter()
    _ = net.merits
    t2 = time.perf_counter()
    demands = demands_for(net, n_demands)
    widths = widest_bottlenecks(net, demands)
    t3 = time.perf_counter()
    acc = accumulated_key_graph(net, until_step=net.n_steps - 1)
    stored = [stored_key_flow(net, a, b, graph=acc) for a, b in demands]
    t4 = time.perf_counter()
    served = float(np.mean(widths > 0))
    return {"sats": sum(n.layer == "sat" for n in net.nodes), "nodes": n_nodes, "steps": net.n_steps,
            "demands": len(demands), "edge_steps": len(net.edges), "build_s": t1 - t0, "merits_s": t2 - t1,
            "routing_s": t3 - t2, "stores_s": t4 - t3, "total_s": t4 - t0, "edge_mb": net.edges.nbytes / 1e6,
            "served_fraction": served, "stored_key_bits_median": float(np.median(stored)),
            "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def fmt_row(r: dict) -> str:
    return (f"| {r['sats']} | {r['nodes']} | {r['steps']} | {r['demands']} | {r['edge_steps']:,} | "
            f"{r['build_s']:.2f} | {r['merits_s']:.2f} | {r['routing_s']:.2f} | {r['stores_s']:.2f} | **{r['total_s']:.2f}** | "
            f"{r['edge_mb']:.0f} | {r['maxrss_mb']:.0f} |")


HEADER = ("| sats | nodes | steps | demands | edge-steps | build s | merits s | routing s | stores s | total s | "
          "edge table MB | max RSS MB |\n|---|---|---|---|---|---|---|---|---|---|---|---|")


def verify_sample(n_paths: int) -> None:
    """Graph-level figures against the circuits on sampled paths of a Tokyo-like mesh."""
    from qproto.network import entanglement_path, load_scenario, verify_path, widest_path
    net = load_scenario("tokyo-mesh").build_network(duration_s=6 * 3600, step_s=300)
    rng = np.random.default_rng(3)
    print("| service | path | step | rounds | compared | max deviation (sigma) | agrees | key rate graph / circuit |")
    print("|---|---|---|---|---|---|---|---|")
    done = 0
    for k in rng.permutation(net.n_steps):
        if done >= n_paths:
            break
        g = net.snapshot(int(k))
        cases = []
        path, w = widest_path(g, "koganei", "kashima")
        if path and w > 0:
            cases.append(("trusted-relay", path, None))
        ep = entanglement_path(g, "laps-1", "tokyo", fidelity_threshold=0.8, services=net.services)
        if ep:
            cases.append(("swapping", ep["nodes"], [d["via"] for d in ep["links"]]))
        for service, nodes, via in cases:
            v = verify_path(net, step=int(k), nodes=nodes, service=service, via=via, seed=int(k), target_bits=2000,
                            max_rounds=30_000_000)
            dev = max(c.deviation_sigmas for c in v.comparisons)
            rate = ("-" if v.graph_key_rate is None else f"{v.graph_key_rate:.3g} / {v.circuit_key_rate:.3g}")
            print(f"| {service} | {'-'.join(nodes)} | {k} | {v.rounds:,} | {len(v.comparisons)} | {dev:.2f} | "
                  f"{v.passed} | {rate} |")
            done += 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--scaling", action="store_true")
    p.add_argument("--verify", type=int, default=0)
    p.add_argument("--one", nargs=3, type=float, metavar=("SATS", "NODES", "HOURS"), help="one row of the table")
    a = p.parse_args(argv)
    if a.verify:
        verify_sample(a.verify)
        return 0
    if a.one:
        print(fmt_row(run_once(int(a.one[0]), int(a.one[1]), a.one[2], 10.0, 50)), flush=True)
        return 0
    if a.scaling:
        import subprocess
        print(HEADER, flush=True)
        for sats, nodes, hours in [(25, 20, 24), (50, 20, 24), (100, 20, 24), (200, 20, 24),
                                   (100, 10, 24), (100, 40, 24), (100, 20, 6), (100, 20, 12)]:
            # One process per row, so that max RSS is that row's own.
            subprocess.run([sys.executable, __file__, "--one", str(sats), str(nodes), str(hours)], check=True)
        return 0
    rows = [run_once(100, 20, 24, 10.0, 50) for _ in range(a.runs)]
    print(HEADER)
    for r in rows:
        print(fmt_row(r))
    print(f"median total: {statistics.median(r['total_s'] for r in rows):.2f} s; "
          f"served fraction (demand-steps with a path): {rows[0]['served_fraction']:.3f}; "
          f"median stored key per demand: {rows[0]['stored_key_bits_median']:.3g} bits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
