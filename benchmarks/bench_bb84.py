"""Throughput of qproto's BB84 against two baselines, all in one process.

Usage::

    .venv/bin/python benchmarks/bench_bb84.py [--repeats N] [--rounds N]

For each transmittance (1 and 0.1) of a channel with depolarisation p = 0.05,
three samplers of the same statistics are timed, and the median of
``--repeats`` timings of each is reported in rounds per second:

* **naive**: one pre-transpiled circuit per round on ``qiskit_aer.AerSimulator``
  with ``shots=1``. The 8 configuration circuits (Alice's basis and bit, Bob's
  basis) carry ``depolarizing_error(p, 1)`` on an identity after preparation;
  bases and bits are drawn with numpy, loss is sampled with numpy and only
  arriving rounds are simulated (so it does the same work as qproto's fast form).
* **bare numpy**: no simulator at all; per-round bases, bits, arrival and error
  flips (probability p/2) drawn with numpy, then sifted and counted. This is the
  practical throughput limit of a numpy sampler on this machine.
* **qproto**: ``get_protocol("bb84").run(Channel(transmittance=T,
  depolarisation=p), rounds=R, seed=...)``, which includes compiling the
  configuration circuits (one Aer job) on every call.

The script prints a markdown table (and the machine it ran on); it changes no
environment variables (``OPENBLAS_CORETYPE`` etc. are left as they are).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
import qiskit
import qiskit_aer
from qiskit import QuantumCircuit, transpile
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel, depolarizing_error

from qproto import Channel, get_protocol

DEPOLARISATION = 0.05
TRANSMITTANCES = (1.0, 0.1)
NAIVE_SIM_CALLS = 300  # simulator calls per naive timing (rounds = calls / T)
BARE_CHUNK = 1 << 18  # rounds per numpy chunk (fits in L2 cache)
TARGET_RATE = 5e6  # qproto rounds/s at transmittance 1
TARGET_VS_BARE = 0.5
TARGET_VS_NAIVE = 1e3


# ---- (a) naive: one Aer call per round ------------------------------------------------
def naive_circuits(p: float) -> tuple[AerSimulator, list[QuantumCircuit]]:
    """The 8 BB84 configuration circuits, noisy and transpiled for Aer; index (a_basis, a_bit, b_basis)."""
    noise = NoiseModel()
    noise.add_quantum_error(depolarizing_error(p, 1), "id", [0])
    sim = AerSimulator(noise_model=noise)
    circuits = []
    for cfg in range(8):
        a_basis, a_bit, b_basis = cfg >> 2, (cfg >> 1) & 1, cfg & 1
        qc = QuantumCircuit(1, 1)
        if a_bit:
            qc.x(0)
        if a_basis:
            qc.h(0)
        qc.id(0)  # the channel: depolarizing_error(p, 1)
        if b_basis:
            qc.h(0)
        qc.measure(0, 0)
        circuits.append(qc)
    compiled = transpile(circuits, sim, optimization_level=0)
    assert all("id" in c.count_ops() for c in compiled), "transpile dropped the noisy identity"
    return sim, compiled


def naive_run(sim: AerSimulator, circuits: list[QuantumCircuit], transmittance: float, rounds: int,
              rng: np.random.Generator) -> tuple[int, int]:
    """Simulate ``rounds`` rounds one Aer call each; return (sifted bits, errors)."""
    a_basis = rng.integers(0, 2, rounds)
    a_bit = rng.integers(0, 2, rounds)
    b_basis = rng.integers(0, 2, rounds)
    arrived = rng.random(rounds) < transmittance
    sifted = errors = 0
    for i in np.flatnonzero(arrived):
        cfg = (a_basis[i] << 2) | (a_bit[i] << 1) | b_basis[i]
        counts = sim.run(circuits[cfg], shots=1).result().get_counts()
        bob_bit = int(next(iter(counts)), 2)
        if a_basis[i] == b_basis[i]:
            sifted += 1
            errors += bob_bit != a_bit[i]
    return sifted, errors


# ---- (b) bare numpy: the same statistics with no simulator ------------------------------
def bare_numpy_run(p: float, transmittance: float, rounds: int,
                   rng: np.random.Generator) -> tuple[int, int, int, int]:
    """Per-round bases, bits, arrival and flips drawn with numpy.

    Returns (sifted Z, sifted X, errors Z, errors X). Bernoulli draws compare
    uint32 integers with a threshold (exact to 2**-32).
    """
    flip_threshold = np.uint32(round(p / 2 * 2**32))
    arrive_threshold = np.uint32(min(round(transmittance * 2**32), 2**32 - 1))
    sz = sx = ez = ex = 0
    for start in range(0, rounds, BARE_CHUNK):
        n = min(BARE_CHUNK, rounds - start)
        r = rng.integers(0, 256, n, dtype=np.uint8)  # bit 0: Alice's basis, 1: her bit, 2: Bob's basis
        a_basis = r & 1
        a_bit = (r >> 1) & 1
        sift = a_basis == ((r >> 2) & 1)
        if transmittance < 1.0:
            sift &= rng.integers(0, 2**32, n, dtype=np.uint32) < arrive_threshold
        flip = rng.integers(0, 2**32, n, dtype=np.uint32) < flip_threshold
        bob_bit = a_bit ^ flip.view(np.uint8)
        z = sift & (a_basis == 0)
        err = sift & (bob_bit != a_bit)
        n_sift, n_err, n_z, n_ez = (np.count_nonzero(a) for a in (sift, err, z, err & z))
        sz, sx, ez, ex = sz + n_z, sx + n_sift - n_z, ez + n_ez, ex + n_err - n_ez
    return sz, sx, ez, ex


# ---- timing -------------------------------------------------------------------------
def median_rate(fn: Callable[[int], object], rounds: int, repeats: int) -> tuple[float, object]:
    """Median rounds/s over ``repeats`` calls ``fn(seed)`` (after one untimed warm-up call)."""
    fn(10**6)
    rates, out = [], None
    for seed in range(repeats):
        t0 = time.perf_counter()
        out = fn(seed)
        rates.append(rounds / (time.perf_counter() - t0))
    return statistics.median(rates), out


def paired_rates(baseline: Callable[[int], object], candidate: Callable[[int], object], rounds: int,
                 repeats: int) -> tuple[float, float, float, object, object]:
    """Time ``baseline`` and ``candidate`` alternately; medians of both rates and of their ratio."""
    baseline(10**6), candidate(10**6)
    base_rates, cand_rates, ratios = [], [], []
    out_b = out_c = None
    for seed in range(repeats):
        t0 = time.perf_counter()
        out_b = baseline(seed)
        t1 = time.perf_counter()
        out_c = candidate(seed)
        t2 = time.perf_counter()
        base_rates.append(rounds / (t1 - t0))
        cand_rates.append(rounds / (t2 - t1))
        ratios.append(cand_rates[-1] / base_rates[-1])
    return (statistics.median(base_rates), statistics.median(cand_rates), statistics.median(ratios),
            out_b, out_c)


def machine() -> str:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    env = ", ".join(f"{k}={os.environ.get(k, '(unset)')}" for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"))
    return (f"nproc {os.cpu_count()}, CPU {cpu}; Python {platform.python_version()}, numpy {np.__version__}, "
            f"qiskit {qiskit.__version__}, qiskit-aer {qiskit_aer.__version__}; {env}")


def fmt(rate: float) -> str:
    return f"{rate:.3g}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per sampler (median reported)")
    parser.add_argument("--rounds", type=int, default=20_000_000, help="rounds per qproto / bare-numpy run")
    args = parser.parse_args(argv)

    print(machine())
    bb84 = get_protocol("bb84")
    sim, circuits = naive_circuits(DEPOLARISATION)
    rows, met = [], True
    for T in TRANSMITTANCES:
        channel = Channel(transmittance=T, depolarisation=DEPOLARISATION)
        naive_rounds = int(round(NAIVE_SIM_CALLS / T))
        naive, (ns, ne) = median_rate(
            lambda s: naive_run(sim, circuits, T, naive_rounds, np.random.default_rng(s)), naive_rounds, args.repeats)
        # bare numpy and qproto are timed in alternation, so that both see the same machine
        # state; the ratio is the median of the per-pair ratios.
        bare, qp, vs_bare, (bsz, bsx, bez, bex), result = paired_rates(
            lambda s: bare_numpy_run(DEPOLARISATION, T, args.rounds, np.random.default_rng(s)),
            lambda s: bb84.run(channel, rounds=args.rounds, seed=s), args.rounds, args.repeats)
        # Sanity: all three see QBER p/2 (the naive one only roughly, from few rounds).
        print(f"T={T}: QBER naive {ne / max(ns, 1):.3f} ({ns} sifted bits); (Z, X) bare numpy "
              f"({bez / bsz:.5f}, {bex / bsx:.5f}), qproto ({result.qber_z.best:.5f}, {result.qber_x.best:.5f}); "
              f"expected p/2 = {DEPOLARISATION / 2}", flush=True)
        checks = {"vs bare": vs_bare >= TARGET_VS_BARE, "vs naive": qp / naive >= TARGET_VS_NAIVE}
        if T == 1.0:
            checks["rate"] = qp >= TARGET_RATE
        met &= all(checks.values())
        verdict = ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in checks.items())
        rows.append(f"| {T:g} | {fmt(naive)} | {fmt(bare)} | {fmt(qp)} | {vs_bare:.2f} | {qp / naive:.3g} "
                    f"| {verdict} |")

    print(f"\nBB84, depolarisation {DEPOLARISATION}, median of {args.repeats} runs; qproto and bare numpy "
          f"{args.rounds:.3g} rounds/run, naive {NAIVE_SIM_CALLS} Aer calls/run.\n")
    print("| transmittance | naive Aer (rounds/s) | bare numpy (rounds/s) | qproto (rounds/s) "
          "| qproto / bare numpy | qproto / naive | targets met |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"\nTargets (qproto >= {TARGET_RATE:.0e} rounds/s at T=1, >= {TARGET_VS_BARE} x bare numpy, "
          f">= {TARGET_VS_NAIVE:.0e} x naive): {'all met' if met else 'NOT all met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
