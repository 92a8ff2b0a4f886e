"""Decoy-state BB84 over seed 001's LEO-to-HAPS pass: time, memory, key length.

Usage::

    .venv/bin/python benchmarks/bench_pass.py [--source-rate HZ] [--half-window S] [--seed S]

Part 1 (timed): for each pointing level, the full scenario end to end: the link's pass
(``get_link("leo-haps")``, 1 s slots, |t| <= 100 s: 201 slots, ~4e10 pulses at 200 MHz),
the protocol parameters optimised for the whole window (expected counts), the pass
simulated slot by slot (counts first, one outcome per click from the compiled Aer
circuits) and the finite key of the simulated counts. Wall time, pulses per second
(simulation alone and end to end) and peak memory (``ru_maxrss`` of this process).

Part 2: the key length at half-windows 10, 50 and 100 s (parameters optimised per window,
as seed 001 does), simulated and expected, as a markdown table.
"""

from __future__ import annotations

import argparse
import platform
import resource
import time

import numpy as np

from qproto._pass import link_pass_channels, pass_key_curve, simulate_pass
from qproto.protocols import DecoyBB84
from qproto.security._optimise import optimise_decoy_parameters

LEVELS = ("weak", "moderate", "strong")
SEED_001 = {"weak": "~0.6 Mbit at the end of the pass", "moderate": "< 0.2 Mbit", "strong": "< 0.2 Mbit"}


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--source-rate", type=float, default=200e6)
    ap.add_argument("--half-window", type=float, default=100.0)
    ap.add_argument("--seed", type=int, default=2024)
    args = ap.parse_args()
    print(f"python {platform.python_version()}, numpy {np.__version__}, machine {platform.machine()}")
    print(f"peak memory after imports: {peak_mib():.0f} MiB\n")

    print("## Part 1: full scenario end to end\n")
    print("| pointing | slots | pulses | optimise s | simulate s | finite key s | total s | sim pulses/s "
          "| end-to-end pulses/s | sifted Z | QBER Z | key bit |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    t_all = time.perf_counter()
    base = DecoyBB84()
    for level in LEVELS:
        t0 = time.perf_counter()
        chans, times = link_pass_channels("leo-haps", pointing=level, max_half_window_s=args.half_window)
        eta = np.array([c.total_transmittance for c in chans])
        y0 = np.array([c.noise_click for c in chans])
        e_d = np.array([c.qubit_depolarisation / 2 for c in chans])
        opt = optimise_decoy_parameters(n_pulses=args.source_rate, eta=eta, y0=y0, e_d=e_d, n_starts=4)
        t1 = time.perf_counter()
        res = simulate_pass(base.replace(**opt.parameters.as_kwargs()), chans, time_s=times,
                            source_rate_hz=args.source_rate, seed=args.seed)
        t2 = time.perf_counter()
        w = res.window()
        ell = w.finite_key_length
        t3 = time.perf_counter()
        print(f"| {level} | {len(chans)} | {res.rounds:.3e} | {t1 - t0:.2f} | {t2 - t1:.2f} | {t3 - t2:.3f} | "
              f"{t3 - t0:.2f} | {res.rounds / (t2 - t1):.2e} | {res.rounds / (t3 - t0):.2e} | {w.sifted_z:,} | "
              f"{w.qber_z.best:.4f} | {ell:,.0f} |")
    total = time.perf_counter() - t_all
    print(f"\nall three levels: {total:.2f} s wall; peak memory (ru_maxrss) {peak_mib():.0f} MiB\n")

    print("## Part 2: key length against the half-window (parameters optimised per window)\n")
    print("| pointing | half-window s | pulses | sifted Z | QBER Z | key, simulated (bit) | key, expected (bit) "
          "| mu1 | mu2 | p1 | p2 | p_Z | seed 001 Fig. 2 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    t0 = time.perf_counter()
    for level in LEVELS:
        chans, times = link_pass_channels("leo-haps", pointing=level, max_half_window_s=args.half_window)
        curve = pass_key_curve(chans, time_s=times, half_windows_s=[10, 50, 100], source_rate_hz=args.source_rate,
                               seed=args.seed, n_starts=4)
        for r in curve.rows:
            p = r.result.parameters
            print(f"| {level} | {r.half_window_s:g} | {r.pulses:.3e} | {r.result.sifted_z:,} | "
                  f"{r.result.qber_z.best:.4f} | {r.key_length:,.0f} | {r.expected_key_length:,.0f} | "
                  f"{p['intensities'][0]:.3f} | {p['intensities'][1]:.3f} | {p['probabilities'][0]:.3f} | "
                  f"{p['probabilities'][1]:.3f} | {p['p_z']:.3f} | "
                  f"{SEED_001[level] if r.half_window_s == 100 else ''} |")
    print(f"\npart 2: {time.perf_counter() - t0:.1f} s; peak memory {peak_mib():.0f} MiB")


if __name__ == "__main__":
    main()
