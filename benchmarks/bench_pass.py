"""The default Fig. 2 computation (``qproto pass leo-haps``): today's code against the previous one.

Usage::

    .venv/bin/python benchmarks/bench_pass.py [--repeats 3] [--skip-old] [--source-rate HZ]

What is timed is exactly what ``qproto pass leo-haps`` computes by default: the seed-001
LEO-to-HAPS pass at three pointing levels, 1 s slots, half-windows 10, 20, ..., 100 s,
200 MHz, parameters optimised per window, each window simulated (counts first, outcomes
from the compiled Aer circuits) and its finite key computed.

* **new**: :func:`qproto.passes.pass_key_curve` (default ``n_starts=2``) with Chernoff tails
  (the pass default), with Hoeffding tails, and with Hoeffding tails and no afterpulsing
  (the objective the old code optimised, since it ignored the detector's afterpulsing);
* **old**: the implementation before issue 11 (``qproto/_pass.py``,
  ``qproto/security/_optimise.py``, ``qproto/security/_finite_key.py`` and
  ``protocols/_decoy_bb84.py`` at commit ``BASELINE``), loaded from git into temporary
  modules in this same process, with its CLI default ``n_starts=4`` (Hoeffding tails, its only
  bound). It re-simulates every nested window slot by slot, one outcome per click.

The ratio old / new (wall and CPU) is printed; the new run is the median of ``--repeats``
runs, the old one runs once (it takes about a minute). The keys of both are printed so that a
reader can see the speed did not come from computing something else.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from qproto.passes import link_pass, pass_key_curve
from qproto.protocols import DecoyBB84

#: The last commit before issue 11's changes to the pass code.
BASELINE = "a6db074ac9f8f72af3090bf8bd2ddffae7394830"
LEVELS = ("weak", "moderate", "strong")
HALF_WINDOWS = [10.0 * i for i in range(1, 11)]
ROOT = Path(__file__).resolve().parents[1]


def load_old() -> object:
    """The pre-issue-11 pass module, built from git into a temporary directory."""
    files = {"_old_finite_key": "qproto/security/_finite_key.py", "_old_optimise": "qproto/security/_optimise.py",
             "_old_decoy": "protocols/_decoy_bb84.py", "_old_pass": "qproto/_pass.py"}
    rename = {"qproto.security._finite_key": "_old_finite_key", "qproto.security._optimise": "_old_optimise",
              "qproto.protocols._decoy_bb84": "_old_decoy"}
    tmp = Path(tempfile.mkdtemp(prefix="qproto_old_pass_"))
    for name, path in files.items():
        src = subprocess.run(["git", "-C", str(ROOT), "show", f"{BASELINE}:{path}"], check=True,
                             capture_output=True, text=True).stdout
        for old, new in rename.items():
            src = src.replace(f"from {old} import", f"from {new} import")
        src = src.replace("@register_protocol\n", "")  # the registry already holds today's decoy-bb84
        (tmp / f"{name}.py").write_text(src)
    sys.path.insert(0, str(tmp))
    spec = importlib.util.spec_from_file_location("_old_pass", tmp / "_old_pass.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["_old_pass"] = mod
    spec.loader.exec_module(mod)
    return mod


def run_new(rate: float, tails: str, seed: int, old_objective: bool = False) -> dict:
    """Today's code; ``old_objective``: without the detector's afterpulsing, which the old code
    ignored (bug 8), so that both optimise the same objective."""
    out = {}
    for level in LEVELS:
        lp = link_pass("leo-haps", pointing=level, max_half_window_s=100.0)
        if old_objective:
            out[level] = pass_key_curve(lp.channels, time_s=lp.time_s, half_windows_s=HALF_WINDOWS,
                                        source_rate_hz=rate, seed=seed, protocol=DecoyBB84(tails=tails))
        else:
            out[level] = pass_key_curve(lp, half_windows_s=HALF_WINDOWS, source_rate_hz=rate, seed=seed,
                                        protocol=DecoyBB84(tails=tails))
    return out


def run_old(old: object, rate: float, seed: int) -> dict:
    out = {}
    for level in LEVELS:
        chans, times = old.link_pass_channels("leo-haps", pointing=level, max_half_window_s=100.0)
        out[level] = old.pass_key_curve(chans, time_s=times, half_windows_s=HALF_WINDOWS, source_rate_hz=rate,
                                        seed=seed, n_starts=4)
    return out


def timed(fn, *args) -> tuple[float, float, object]:
    w0, c0 = time.perf_counter(), time.process_time()
    res = fn(*args)
    return time.perf_counter() - w0, time.process_time() - c0, res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--source-rate", type=float, default=200e6)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--skip-old", action="store_true")
    args = ap.parse_args()
    print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}\n")

    rows = []
    curves = {}
    variants = [("chernoff", False, "new (Chernoff tails, detector afterpulsing; the default)"),
                ("hoeffding", False, "new (Hoeffding tails, detector afterpulsing)"),
                ("hoeffding", True, "new (Hoeffding, no afterpulsing: the old objective)")]
    for tails, old_objective, name in variants:
        runs = [timed(run_new, args.source_rate, tails, args.seed, old_objective) for _ in range(args.repeats)]
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        curves[name.split(" (")[0] + " (" + name.split(" (")[1]] = runs[0][2]
        rows.append((name, wall, cpu, args.repeats))
    if not args.skip_old:
        old = load_old()
        wall, cpu, res = timed(run_old, old, args.source_rate, args.seed)
        curves["old (Hoeffding, detector afterpulsing ignored)"] = res
        rows.append(("old (commit " + BASELINE[:7] + ", Hoeffding, n_starts=4)", wall, cpu, 1))

    print("| implementation | runs | wall s (median) | CPU s (median) | old / new wall | old / new CPU |")
    print("|---|---|---|---|---|---|")
    old_row = rows[-1] if not args.skip_old else None
    for name, wall, cpu, n in rows:
        ratio = "" if old_row is None else f"{old_row[1] / wall:.1f} | {old_row[2] / cpu:.1f}"
        print(f"| {name} | {n} | {wall:.2f} | {cpu:.2f} | {ratio or ' | '} |")

    print("\nExpected finite key (bits) per half-window, optimised per window:\n")
    print("| pointing | half-window s | " + " | ".join(curves) + " |")
    print("|---|---|" + "---|" * len(curves))
    for level in LEVELS:
        for i, hw in enumerate(HALF_WINDOWS):
            cells = []
            for c in curves.values():
                r = c[level].rows[i]
                cells.append(f"{r.expected_key_length:,.0f}" if r.expected_key_length > 0 else "no key")
            print(f"| {level} | {hw:g} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
