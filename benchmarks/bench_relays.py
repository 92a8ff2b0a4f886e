"""Throughput of the relay and entanglement protocols.

Usage::

    .venv/bin/python benchmarks/bench_relays.py [--repeats N]

Times (median of ``--repeats`` runs, each including compilation: one Aer job per run):

* MDI-QKD (full BSM) over two channels with depolarisation 0.05, at T = 1 and T = 0.1 per arm;
* a 4-link swapping chain (reuse layout) over channels with depolarisation 0.02, T = 0.9;
* the chain's cost against n = 2, 4, 8, 16 links in both circuit layouts: ``reuse``
  (4 qubits, exact distribution path) and ``full`` (2n qubits; above 10 qubits the engine's
  shots path, Aer's stabilizer method, simulating every shot), with ``chsh_fraction=0``
  so that the full layout stays Clifford.

Prints markdown tables in rounds per second.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import qiskit_aer

from qproto import Channel
from qproto.protocols import MDIQKD, Swapping


def _median_rate(fn, rounds: int, repeats: int) -> float:
    times = []
    for i in range(repeats):
        t = time.perf_counter()
        fn(rounds, i)
        times.append(time.perf_counter() - t)
    return rounds / statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    r = args.repeats
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}, "
          f"qiskit-aer {qiskit_aer.__version__}\n")
    print("| protocol | setting | rounds per run | rounds/s |\n|---|---|---|---|")
    for t in (1.0, 0.1):
        ch = Channel(depolarisation=0.05, transmittance=t)
        rate = _median_rate(lambda n, s: MDIQKD().run((ch, ch), rounds=n, seed=s), 5_000_000, r)
        print(f"| mdi-qkd (full BSM) | T = {t} per arm | 5e6 | {rate:.3g} |")
    chans = [Channel(depolarisation=0.02, transmittance=0.9)] * 4
    rate = _median_rate(lambda n, s: Swapping(n_links=4).run(chans, rounds=n, seed=s), 2_000_000, r)
    print(f"| swapping, 4 links (reuse layout) | T = 0.9, p = 0.02 per link | 2e6 | {rate:.3g} |")

    print("\n| n links | layout | qubits | engine path | rounds per run | rounds/s | compile (s) |\n"
          "|---|---|---|---|---|---|---|")
    for n in (2, 4, 8, 16):
        chans = [Channel(depolarisation=0.02)] * n
        for layout, rounds in (("reuse", 1_000_000), ("full", 1_000_000 if 2 * n <= 10 else 20_000)):
            sw = Swapping(n_links=n, layout=layout, chsh_fraction=0.0)
            t0 = time.perf_counter()
            _, _, compiled = sw.prepare(chans)
            compile_s = time.perf_counter() - t0
            rate = _median_rate(lambda k, s: sw.run(chans, rounds=k, seed=s), rounds, r)
            qubits = 4 if layout == "reuse" else 2 * n
            print(f"| {n} | {layout} | {qubits} | {compiled.mode} | {rounds:.0e} | {rate:.3g} | {compile_s:.3f} |")


if __name__ == "__main__":
    main()
