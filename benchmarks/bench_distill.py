"""Key distillation benchmarks (issue 13): EC efficiency, frame error rate and time; PA time against
a quadratic baseline in the same process; a whole LEO-to-HAPS pass distilled end to end.

    .venv/bin/python benchmarks/bench_distill.py            # every table (minutes)
    .venv/bin/python benchmarks/bench_distill.py --quick    # 1e5-bit blocks only

Times are medians of ``--repeats`` runs (wall clock, one process, 2-core machine shared with
other jobs: the load average is printed with each table). qkdpy is not a dependency, so the
quadratic baseline is an explicit O(n m) Toeplitz matrix product (what a matrix-based PA does,
``qproto.distill.toeplitz_hash_quadratic``), run on the same input in the same process.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time

import numpy as np

from qproto.distill import cascade, ldpc_reconcile, seed_bits, toeplitz_hash, toeplitz_hash_quadratic


def h(q: float) -> float:
    return -q * math.log2(q) - (1 - q) * math.log2(1 - q)


def load() -> str:
    return "load average %.1f" % os.getloadavg()[0]


def ec_table(sizes, qbers, repeats, methods) -> None:
    print(f"\n## Error correction ({load()})\n")
    print("| method | block (bit) | QBER | f (mean) | f (max) | frame error rate | frames | time (s, median) |")
    print("|---|---|---|---|---|---|---|---|")
    for method in methods:
        for n in sizes:
            for q in qbers:
                fs, times, fe, frames = [], [], 0, 0
                for rep in range(repeats):
                    rng = np.random.default_rng(1000 * rep + int(q * 1000))
                    a = rng.integers(0, 2, n, dtype=np.uint8)
                    e = (rng.random(n) < q).astype(np.uint8)
                    t0 = time.perf_counter()
                    if method == "cascade":
                        r = cascade(a, a ^ e, qber=q, seed=rep)
                        leak, fr, ferr = r.leaked_bits, 1, int(not np.array_equal(r.corrected, a))
                    else:
                        r = ldpc_reconcile(a, a ^ e, qber=q, seed=rep)
                        leak, fr, ferr = r.leaked_bits, r.frames, r.frame_errors
                    times.append(time.perf_counter() - t0)
                    fs.append(leak / (n * h(e.mean())))
                    fe += ferr
                    frames += fr
                print(f"| {method} | {n:.0e} | {q:.0%} | {statistics.mean(fs):.3f} | {max(fs):.3f} | "
                      f"{fe / frames:.3g} ({fe}/{frames}) | {frames} | {statistics.median(times):.2f} |", flush=True)


def pa_table(sizes, repeats) -> None:
    print(f"\n## Privacy amplification, Toeplitz by FFT vs the O(n m) product ({load()})\n")
    print("| input n (bit) | output m (bit) | FFT (s, median) | quadratic (s, median) | ratio |")
    print("|---|---|---|---|---|")
    rng = np.random.default_rng(3)
    for n in sizes:
        m = n // 2
        x = rng.integers(0, 2, n, dtype=np.uint8)
        t = seed_bits(n, n + m - 1)
        fft = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            y = toeplitz_hash(x, t, m)
            fft.append(time.perf_counter() - t0)
        quad = "-"
        ratio = "-"
        if n <= 40_000:
            qt = []
            for _ in range(max(1, repeats // 2)):
                t0 = time.perf_counter()
                yq = toeplitz_hash_quadratic(x, t, m)
                qt.append(time.perf_counter() - t0)
            assert np.array_equal(y, yq)
            quad = f"{statistics.median(qt):.3f}"
            ratio = f"{statistics.median(qt) / statistics.median(fft):.0f}x"
        print(f"| {n:,} | {m:,} | {statistics.median(fft):.3f} | {quad} | {ratio} |", flush=True)


def pass_table(methods, repeats) -> None:
    from qproto.distill import distill_pass, pass_channels

    print(f"\n## A whole LEO-to-HAPS pass, end to end ({load()})\n")
    print("| method | slots | pulses | sifted Z | QBER test | leakage | f | final key (bit) | identical | "
          "simulate+collect (s) | EC (s) | PA (s) | total (s, median) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    chans, _ = pass_channels("leo-haps", pointing="weak")
    from qproto.distill import optimise_for_pass

    proto = optimise_for_pass(chans, source_rate_hz=2e8)  # once: the optimisation is not distillation
    for method in methods:
        totals = []
        for rep in range(repeats):
            t0 = time.perf_counter()
            r, _ = distill_pass(channels=chans, protocol=proto, optimise=False, method=method, seed=rep)
            totals.append(time.perf_counter() - t0)
        t = r.timings_s
        print(f"| {method} | {len(chans)} | {r.rounds:.3g} | {r.sifted_bits:,} | {r.qber_test.best:.4f} | "
              f"{r.leaked_bits:,} | {r.efficiency:.3f} | {r.final_length:,} | {r.keys_identical} | "
              f"{t.get('collect', 0):.2f} | {t.get('error_correction', 0):.2f} | "
              f"{t.get('privacy_amplification', 0):.2f} | {statistics.median(totals):.2f} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1e5-bit blocks only, fewer repeats")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", choices=("ec", "pa", "pass"), default=None)
    ap.add_argument("--method", choices=("cascade", "ldpc"), default=None, help="one EC method only")
    args = ap.parse_args()
    sizes = [10**5] if args.quick else [10**5, 10**6]
    qbers = [0.01, 0.02, 0.05, 0.08]
    if args.only in (None, "pa"):
        pa_table([10_000, 40_000, 10**5, 10**6, 4 * 10**6], args.repeats)
    methods = ("cascade", "ldpc") if args.method is None else (args.method,)
    if args.only in (None, "ec"):
        ec_table(sizes, qbers, args.repeats, methods)
    if args.only in (None, "pass"):
        pass_table(methods, 1 if args.quick else args.repeats)


if __name__ == "__main__":
    main()
