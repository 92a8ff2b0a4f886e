"""Throughput of the GHZ conference key protocol (``ghz-cka``) against the number of parties N.

Usage::

    .venv/bin/python benchmarks/bench_multipartite.py [--repeats 3]

For N = 3, 10, 50, 200 it times ``get_protocol("ghz-cka", parties=N).run(channels,
rounds=R, seed=s)`` over lossless channels with depolarisation p = 0.02 on every
party (loss only removes rounds before any simulation, so lossless is the costly
case), and reports the median rate in rounds per second. Every call includes
compiling the configuration circuits. With the default ``noise_form="auto"``,
N <= 10 takes the engine's distribution path (exact distributions, depolarising
noise on the channel markers) and N > 10 the engine's stabilizer path (Aer computes
each configuration's stabilizer state once; its affine outcome space is sampled
with numpy and the equivalent ReadoutError applied).
For N >= 50 the script also times ``noise_form="depolarising"`` on the shots path
(Aer simulates each shot separately) to show what the readout form buys.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np
import qiskit
import qiskit_aer

from qproto import Channel, get_protocol

DEPOLARISATION = 0.02
#: rounds per timed call for each N (chosen so a call takes about 0.5-5 s)
ROUNDS = {3: 2_000_000, 10: 1_000_000, 50: 2_000_000, 200: 400_000}
DEPOL_ROUNDS = {50: 4_000, 200: 1_000}


def time_run(n: int, rounds: int, form: str, repeats: int) -> tuple[float, float]:
    proto = get_protocol("ghz-cka", parties=n, noise_form=form)
    chans = [Channel(depolarisation=DEPOLARISATION)] * n
    proto.run(chans, rounds=min(rounds, 1000), seed=0)  # warm-up
    rates, qx = [], 0.0
    for s in range(repeats):
        t = time.perf_counter()
        r = proto.run(chans, rounds=rounds, seed=s + 1)
        rates.append(rounds / (time.perf_counter() - t))
        qx = r.estimates()["qber_x"].best
    return statistics.median(rates), qx


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print(f"python {platform.python_version()}, numpy {np.__version__}, qiskit {qiskit.__version__}, "
          f"qiskit-aer {qiskit_aer.__version__}, {platform.machine()}")
    print("\n| N | path | rounds per call | rounds/s (median) | us per round | us per round per party | Q_X (measured / formula) |")
    print("|---|---|---|---|---|---|---|")
    for n, rounds in ROUNDS.items():
        for form in ("auto", "depolarising") if n in DEPOL_ROUNDS else ("auto",):
            rr = rounds if form == "auto" else DEPOL_ROUNDS[n]
            rate, qx = time_run(n, rr, form, args.repeats)
            path = ("distribution" if n <= 10 else "stabilizer tableau sampling + ReadoutError") if form == "auto" \
                else "shots, stabilizer + depolarizing_error"
            formula = (1 - (1 - DEPOLARISATION) ** n) / 2
            print(f"| {n} | {path} | {rr:,} | {rate:.3g} | {1e6 / rate:.3g} | {1e6 / rate / n:.3g} "
                  f"| {qx:.4f} / {formula:.4f} |", flush=True)


if __name__ == "__main__":
    main()
