"""``qproto network``: run a network scenario (seed 000 Fig. 8, seed 001 Figs. 1 and 3, or a TOML file).

* ``qproto network list``: the shipped scenarios.
* ``qproto network verify SCENARIO [--demand I] [--at-step K] [--duration S] [--step S]
  [--target-bits N] [--max-rounds N] [--seed N]``: routes demand I at step K (default: the first
  step with a route), runs the circuit protocol on the route's Channels and compares it with the
  graph-level figures (exit status 0 when they agree, 1 when not or when there is no route).
* ``qproto network run SCENARIO [--duration S] [--step S] [--seed N] [--csv FILE] [--json FILE]
  [--plot FILE] [--plot-snapshot FILE] [--snapshot-step K] [--no-progress]``: builds the
  network, allocates the demands, prints per-demand totals and writes the time series and the
  figures (accumulated key / pairs over time; a snapshot of positions and active links, layers
  distinguished).

Every flag is checked before anything is computed; errors name the flag, its value and the range.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from typing import Any

from qproto._errors import QprotoError

COMMAND = "network"


class FlagError(QprotoError):
    """A command-line value outside its range (the CLI prints it as one line, exit status 2)."""

    def __init__(self, flag: str, value: Any, allowed: str):
        self.name, self.value, self.allowed = flag, value, allowed
        super().__init__(f"{flag}={value!r} is outside the allowed range: {allowed}")


def _number(flag: str, lo: float, hi: float, *, lo_open: bool = True):
    allowed = f"a number in {'(' if lo_open else '['}{lo:g}, {hi:g}]"

    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise FlagError(flag, text, allowed) from None
        if not math.isfinite(v) or not (lo < v if lo_open else lo <= v) or v > hi:
            raise FlagError(flag, text, allowed)
        return v
    return parse


def _count(flag: str, lo: int, hi: int):
    def parse(text: str) -> int:
        try:
            v = int(float(text)) if float(text) == int(float(text)) else None
        except (ValueError, OverflowError):
            v = None
        if v is None or not lo <= v <= hi:
            raise FlagError(flag, text, f"integers in [{lo}, {hi}]")
        return v
    return parse


def _out_file(flag: str, extensions: tuple[str, ...] | None = None):
    def parse(text: str) -> str:
        parent = os.path.dirname(os.path.abspath(text))
        if not text.strip() or os.path.isdir(text) or not os.path.isdir(parent) or not os.access(parent, os.W_OK):
            raise FlagError(flag, text, "a writable file path in an existing directory")
        if extensions is not None:
            ext = os.path.splitext(text)[1].lstrip(".").lower()
            if ext not in extensions:
                raise FlagError(flag, text, f"a file ending in .{', .'.join(extensions)}")
        return text
    return parse


_FIG = ("png", "pdf", "svg", "jpg", "jpeg", "eps", "ps", "tif", "tiff", "webp")


def add_parser(subparsers: Any) -> None:
    """Register ``qproto network``."""
    p = subparsers.add_parser(COMMAND, help="time-varying NTN network scenarios (routing, keys, pairs)",
                              description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="network_command", required=True)
    sub.add_parser("list", help="list the shipped scenarios")
    r = sub.add_parser("run", help="run a scenario: totals, time series, figures")
    r.add_argument("scenario", help="a shipped scenario name or a .toml file")
    r.add_argument("--duration", type=_number("--duration", 0.0, 366 * 86400.0, lo_open=False),
                   help="horizon [s]")
    r.add_argument("--step", type=_number("--step", 0.0, 86400.0), help="time step [s]")
    r.add_argument("--seed", type=_count("--seed", 0, 2**63 - 1), help="cloud seed")
    r.add_argument("--csv", type=_out_file("--csv", ("csv",)), help="write the time series as CSV")
    r.add_argument("--json", type=_out_file("--json", ("json",)), help="write totals and series as JSON")
    r.add_argument("--plot", type=_out_file("--plot", _FIG), help="figure: key/pairs accumulated over time")
    r.add_argument("--plot-snapshot", type=_out_file("--plot-snapshot", _FIG),
                   help="figure: one snapshot (positions, active links, layers)")
    r.add_argument("--snapshot-step", type=_count("--snapshot-step", 0, 10**9),
                   help="step drawn by --plot-snapshot (default: the scenario's)")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    v = sub.add_parser("verify", help="run the circuit protocols on a demand's route and compare with the graph")
    v.add_argument("scenario", help="a shipped scenario name or a .toml file")
    v.add_argument("--demand", type=_count("--demand", 0, 10**6), default=0, help="demand index (default 0)")
    v.add_argument("--at-step", type=_count("--at-step", 0, 10**9),
                   help="network step to verify (default: the first step where the demand has a route)")
    v.add_argument("--duration", type=_number("--duration", 0.0, 366 * 86400.0, lo_open=False),
                   help="horizon [s]")
    v.add_argument("--step", type=_number("--step", 0.0, 86400.0), help="time step [s]")
    v.add_argument("--target-bits", type=_count("--target-bits", 100, 10**7), default=3000,
                   help="sifted bits / heralds to aim for (sets the rounds)")
    v.add_argument("--max-rounds", type=_count("--max-rounds", 10_000, 10**10), default=20_000_000,
                   help="largest number of circuit rounds")
    v.add_argument("--seed", type=_count("--seed", 0, 2**63 - 1), help="circuit seed")


def _fmt(x: Any) -> str:
    return "-" if x is None else f"{x:.4g}" if isinstance(x, float) else str(x)


def _verify(scenario: Any, args: argparse.Namespace) -> int:
    from qproto.network import verify_demand

    if args.demand >= len(scenario.demands):
        raise FlagError("--demand", args.demand, f"integers in [0, {len(scenario.demands) - 1}] (the scenario's demands)")
    net = scenario.build_network(duration_s=args.duration, step_s=args.step)
    if args.at_step is not None and args.at_step >= net.n_steps:
        raise FlagError("--at-step", args.at_step, f"integers in [0, {net.n_steps - 1}] (the run's steps)")
    demand = scenario.demands[args.demand]
    check = verify_demand(net, demand, step=args.at_step, target_bits=args.target_bits, max_rounds=args.max_rounds,
                          seed=args.seed)
    if check is None:
        where = "at that step" if args.at_step is not None else "at any step"
        print(f"{demand.label}: no route {where}; nothing to verify")
        return 1
    print(check.summary())
    return 0 if check.passed else 1


#: Library parameter names of the network layer and the flags that set them.
_FLAG_OF = {"step_s": "--step", "duration_s": "--duration"}


def main(args: argparse.Namespace) -> int:
    """Run ``qproto network``; returns the exit status."""
    from qproto._errors import InvalidParameter

    try:
        return _main(args)
    except InvalidParameter as exc:
        flag = _FLAG_OF.get(exc.name)
        if flag is None:
            raise
        raise InvalidParameter(flag, exc.value, exc.allowed, f"{flag}: {exc}") from None


def _main(args: argparse.Namespace) -> int:
    from qproto.network import available_scenarios, load_scenario, plot_accumulated, plot_snapshot, run_scenario

    if args.network_command == "list":
        for name in available_scenarios():
            s = load_scenario(name)
            print(f"{name}: {' '.join(s.description.split())[:110]}")
        return 0
    scenario = load_scenario(args.scenario)
    if args.network_command == "verify":
        return _verify(scenario, args)
    bars: dict[str, Any] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if args.no_progress:
            return
        from tqdm import tqdm
        if stage not in bars:
            bars[stage] = tqdm(total=total, desc=stage, file=sys.stderr, leave=False, mininterval=0.5)
        bars[stage].update(done - bars[stage].n)

    try:
        result = run_scenario(scenario, duration_s=args.duration, step_s=args.step, seed=args.seed,
                              progress=progress)
    finally:
        for b in bars.values():
            b.close()
    net = result.network
    if args.snapshot_step is not None and args.snapshot_step >= net.n_steps:
        raise FlagError("--snapshot-step", args.snapshot_step, f"integers in [0, {net.n_steps - 1}] (the run's steps)")
    print(f"{scenario.name}: {net!r}")
    cols = ("demand", "delivered", "requested", "share_served", "outage_fraction", "final_stock", "stored_key_bits")
    rows = [[_fmt(t[c]) for c in cols] for t in result.totals()]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths)))
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)))
    if args.csv:
        result.write_csv(args.csv)
    if args.json:
        result.write_json(args.json)
    if args.plot or args.plot_snapshot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        if args.plot:
            ax = plot_accumulated(result)
            ax.figure.tight_layout()
            ax.figure.savefig(args.plot)
            plt.close(ax.figure)
        if args.plot_snapshot:
            step = min(scenario.snapshot_step, net.n_steps - 1) if args.snapshot_step is None else args.snapshot_step
            ax = plot_snapshot(net, step)
            ax.figure.tight_layout()
            ax.figure.savefig(args.plot_snapshot)
            plt.close(ax.figure)
    return 0
