"""``qproto pass LINK``: decoy-state BB84 finite key against the half-window of a pass.

For each pointing level, the link preset's pass is cut into slots; for each
half-window the protocol parameters are optimised on expected counts, the window
is simulated (counts first, outcomes from the Aer circuits) and the finite key
of the simulated counts is printed next to the expected one (seed 001, Fig. 2).
"""

from __future__ import annotations

import argparse
import json
import math

from qproto._errors import InvalidParameter
from qproto._validation import check_positive

COMMAND = "pass"
_LEVELS = ("weak", "moderate", "strong")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(COMMAND, help="decoy-state BB84 finite key over a satellite pass (seed 001 Fig. 2)")
    p.add_argument("link", help="link preset, e.g. leo-haps")
    p.add_argument("--source-rate", type=float, default=200e6, metavar="HZ", help="pulse rate in Hz (default 2e8)")
    p.add_argument("--max-half-window", type=float, default=100.0, metavar="S",
                   help="largest half-window in s (default 100)")
    p.add_argument("--step", type=float, default=10.0, metavar="S", help="half-window step in s (default 10)")
    p.add_argument("--slot", type=float, default=1.0, metavar="S", help="slot duration in s (default 1)")
    p.add_argument("--pointing", nargs="+", default=list(_LEVELS), metavar="LEVEL",
                   help="pointing-error levels among weak, moderate, strong (default: all)")
    p.add_argument("--starts", type=int, default=4, help="optimiser starts per half-window (default 4)")
    p.add_argument("--no-optimise", action="store_true", help="keep the default DecoyBB84 parameters")
    p.add_argument("--plot", metavar="FILE", default=None, help="save the figure (needs matplotlib)")
    p.add_argument("--json", action="store_true", help="print the curves as JSON")
    p.add_argument("--seed", type=int, default=2024, help="root seed (default 2024)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _half_windows(max_hw: float, step: float) -> list[float]:
    n = max(1, int(math.floor(max_hw / step + 1e-9)))
    out = [step * (i + 1) for i in range(n)]
    if out[-1] < max_hw - 1e-9:
        out.append(max_hw)
    return out


def main(args: argparse.Namespace) -> int:
    from qproto._pass import link_pass_channels, pass_key_curve
    from qproto.cli import _progress_bar

    rate = check_positive("source_rate", args.source_rate)
    max_hw = check_positive("max_half_window", args.max_half_window)
    step = check_positive("step", args.step)
    for level in args.pointing:
        if level not in _LEVELS:
            raise InvalidParameter("pointing", level, f"one of {list(_LEVELS)}")
    hws = _half_windows(max_hw, step)
    passes = {lv: link_pass_channels(args.link, pointing=lv, slot_s=args.slot, max_half_window_s=max_hw)
              for lv in args.pointing}
    total = sum(sum(int((abs(t) <= h + 1e-9).sum()) for h in hws) for _, t in passes.values())
    bar, callback = _progress_bar(total, "pass", args.no_progress or args.json)
    bar.unit = "slot"
    curves = {}
    done = 0
    try:
        for level, (channels, times) in passes.items():
            base = done

            def progress(k: int, _n: int, base: int = base) -> None:
                callback(base + k, total)

            curves[level] = pass_key_curve(channels, time_s=times, half_windows_s=hws, source_rate_hz=rate,
                                           slot_s=args.slot, optimise=not args.no_optimise,
                                           n_starts=args.starts, seed=args.seed, progress=progress)
            done = base + sum(len(r.result.channels) for r in curves[level].rows)
    finally:
        bar.close()

    if args.json:
        print(json.dumps({"link": args.link, "curves": {lv: c.to_dict() for lv, c in curves.items()}}, indent=2))
    else:
        print(f"decoy-state BB84 over a {args.link} pass: {rate:.3g} Hz, slots of {args.slot:g} s, seed {args.seed}")
        print("finite key (Lim et al. 2014, eps_sec 1e-10, eps_cor 1e-15) of the simulated counts; "
              "'expected' from expected counts")
        head = ("pointing", "half-window s", "pulses", "sifted Z", "QBER Z", "key bit", "expected bit",
                "mu1", "mu2", "p1", "p2", "p_Z")
        rows = []
        for level, c in curves.items():
            for r in c.rows:
                p = r.result.parameters
                rows.append((level, f"{r.half_window_s:g}", f"{r.pulses:.3e}", f"{r.result.sifted_z:,}",
                             f"{r.result.qber_z.best:.4f}" if r.result.sifted_z else "-",
                             f"{r.key_length:,.0f}", f"{r.expected_key_length:,.0f}",
                             f"{p['intensities'][0]:.3f}", f"{p['intensities'][1]:.3f}",
                             f"{p['probabilities'][0]:.3f}", f"{p['probabilities'][1]:.3f}", f"{p['p_z']:.3f}"))
        widths = [max(len(x[i]) for x in rows + [head]) for i in range(len(head))]
        print("  ".join(h.rjust(w) for h, w in zip(head, widths)))
        print("  ".join("-" * w for w in widths))
        for row in rows:
            print("  ".join(c.rjust(w) for c, w in zip(row, widths)))
    if args.plot:
        _plot(curves, args.link, args.plot)
    return 0


def _plot(curves, link: str, path: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InvalidParameter("plot", path, "a path, with matplotlib installed (pip install qproto[bench])") \
            from None
    fig, ax = plt.subplots(figsize=(6, 4))
    for level, c in curves.items():
        hw = [r.half_window_s for r in c.rows]
        line, = ax.plot(hw, [r.key_length / 1e6 for r in c.rows], "o-", label=f"{level} PE (simulated)")
        ax.plot(hw, [r.expected_key_length / 1e6 for r in c.rows], "--", color=line.get_color(), alpha=0.6)
    ax.set_xlabel("half-window of the pass (s)")
    ax.set_ylabel("secret-key length (Mbit)")
    ax.set_title(f"decoy-state BB84 finite key over a {link} pass")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
