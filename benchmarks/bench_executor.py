"""Serial against a two-process pool for a long BB84 run: same result, and the rates.

Usage::

    .venv/bin/python benchmarks/bench_executor.py [--rounds 200000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor

from qproto import Channel, get_protocol


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    bb84 = get_protocol("bb84")
    channel = Channel(transmittance=0.1, depolarisation=0.05)
    with ProcessPoolExecutor(2) as pool:
        bb84.run(channel, rounds=10**6, seed=0, executor=pool)  # start the workers
        serial, pooled = [], []
        for seed in range(args.repeats):
            t0 = time.perf_counter()
            a = bb84.run(channel, rounds=args.rounds, seed=seed)
            t1 = time.perf_counter()
            b = bb84.run(channel, rounds=args.rounds, seed=seed, executor=pool)
            t2 = time.perf_counter()
            assert a == b, "the pool changed the result"
            serial.append(args.rounds / (t1 - t0))
            pooled.append(args.rounds / (t2 - t1))
    s, p = statistics.median(serial), statistics.median(pooled)
    print(f"BB84, T = 0.1, p = 0.05, {args.rounds:.3g} rounds, median of {args.repeats}: "
          f"serial {s:.3g} rounds/s, 2 processes {p:.3g} rounds/s ({p / s:.2f}x); results identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())
