"""``qproto link``: list the link presets and show their loss budgets.

``qproto link list`` lists the registered links with their loss at nominal geometry;
``qproto link show NAME`` prints the budget factor by factor (dB), the total
transmittance, the noise clicks, the effective depolarisation and the BB84 QBER at an
elevation (``--elevation``) or over a pass (``--pass``, a table against time;
``--plot FILE`` draws loss and QBER against time). The link is a preset or a scenario
file (``--scenario FILE.toml``), with any field changed by ``--set FIELD=VALUE``;
``--save FILE.toml`` writes the resulting scenario, which ``qproto pass --scenario``
reads. Errors are qproto errors, which :func:`qproto.cli.main` prints on one line with
exit status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from typing import Any


from qproto._errors import InvalidParameter

COMMAND = "link"

_FACTOR_LABELS = {
    "tx_optics": "transmitter optics",
    "geometric": "geometric (beam vs aperture)",
    "turbulence": "turbulence (uplink spread, wander)",
    "pointing": "pointing jitter",
    "atmosphere": "atmospheric extinction",
    "rx_optics": "receiver optics",
    "detector": "detector efficiency",
}


def add_parser(subparsers: Any) -> None:
    """Add ``link list`` and ``link show`` to the ``qproto`` parser."""
    p = subparsers.add_parser(COMMAND, help="list link presets, show a loss budget or a pass")
    sub = p.add_subparsers(dest="link_command", required=True)
    sub.add_parser("list", help="the registered links and their loss at nominal geometry")
    from qproto._cli_pass import add_link_arguments, number, plot_path

    s = sub.add_parser("show", help="a link's loss budget at one elevation, or over a pass")
    s.add_argument("name", nargs="?", default=None, help="link name, see 'qproto link list' (or use --scenario)")
    add_link_arguments(s)
    s.add_argument("--save", metavar="FILE.toml", default=None,
                   help="write the link (after --set) as a scenario file for 'qproto pass --scenario'")
    when = s.add_mutually_exclusive_group()
    when.add_argument("--elevation", type=number("--elevation", 0.0, 90.0), default=None, metavar="E",
                      help="elevation at the lower end in degrees (default: the link's nominal one)")
    when.add_argument("--pass", dest="over_pass", action="store_true",
                      help="the budget against time over an overhead circular-orbit pass (orbit links only)")
    s.add_argument("--time-step", type=number("--time-step", 0.0, 1e4, lo_open=True), default=10.0, metavar="S",
                   help="with --pass: time step in seconds (default 10)")
    s.add_argument("--max-half-window", type=number("--max-half-window", 0.0, 1e9), default=None, metavar="S",
                   help="with --pass: largest |t| from culmination in seconds (default: whole pass)")
    s.add_argument("--min-elevation", type=number("--min-elevation", 0.0, 90.0), default=None, metavar="E",
                   help="with --pass: elevation mask in degrees (default: the link's)")
    s.add_argument("--plot", type=plot_path("--plot"), default=None, metavar="FILE",
                   help="with --pass: write a figure of loss and QBER against time (needs matplotlib)")
    s.add_argument("--sources", action="store_true", help="also list every parameter value and its source")
    s.add_argument("--json", action="store_true", help="print JSON instead of tables")


def _table(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def _g(x: float | None, digits: int = 4) -> str:
    if x is None:
        return "-"
    if math.isinf(x):
        return "inf"
    return f"{x:.{digits}g}"


def _db(x: float) -> str:
    return "inf" if math.isinf(x) else f"{x:.2f}"


def _cmd_list() -> int:
    from qproto.noise_models import LINKS

    rows = []
    for name in sorted(LINKS):
        link = LINKS[name]
        b = link.budget()
        where = "-" if b.elevation_deg is None else f"{b.elevation_deg:g}"
        rows.append((name, link.direction, link.geometry, where, f"{b.range_m / 1e3:.1f}", _db(b.loss_db),
                     f"{b.qber:.4f}", link.description))
    print(_table(("name", "dir", "geometry", "elev deg", "range km", "loss dB", "QBER", "description"), rows))
    return 0


def _budget_text(link: Any, b: Any) -> str:
    lines = [f"link {link.name}: {link.description}"]
    where = "fixed range" if b.elevation_deg is None else f"elevation {b.elevation_deg:g} deg"
    lines.append(f"{link.direction}link, {where}, range {b.range_m / 1e3:.2f} km, wavelength "
                 f"{link.wavelength_m * 1e9:g} nm, beam radius at receiver {b.beam_radius_m:.3g} m")
    turb = ("off" if b.fried_parameter_m is None else
            f"r0 {b.fried_parameter_m * 100:.3g} cm, scintillation index {b.scintillation_index:.3g}")
    lines.append(f"turbulence: {turb}")
    lines.append("")
    rows = [(_FACTOR_LABELS[k], f"{v:.4g}", _db(b.factors_db[k])) for k, v in b.factors.items()]
    lines.append(_table(("factor", "transmittance", "loss dB"), rows))
    lines.append("")
    summary = [
        ("channel transmittance (no detector)", _g(b.transmittance), _db(-10 * math.log10(b.transmittance))
         if b.transmittance > 0 else "inf"),
        ("total transmittance eta", _g(b.total_transmittance), _db(b.loss_db)),
        ("background photons per window", _g(b.background_photons), ""),
        ("noise-click probability Y0", _g(b.noise_click), ""),
        ("effective depolarisation p_eff", _g(b.effective_depolarisation), ""),
        ("BB84 QBER (p_eff / 2)", _g(b.qber), ""),
    ]
    lines.append(_table(("quantity", "value", "dB"), summary))
    return "\n".join(lines)


def _sources_text(link: Any) -> str:
    rows = [(field, src) for field, src in link.sources]
    return "values and sources ([U] = assumed):\n" + _table(("field", "value / source"), rows)


def _pass_dict(p: Any) -> dict[str, Any]:
    return {"link": p.link_name, "time_step_s": p.time_step_s, "time_s": p.time_s.tolist(),
            "elevation_deg": p.elevation_deg.tolist(), "range_m": p.range_m.tolist(),
            "transmittance": p.transmittance.tolist(), "total_transmittance": p.total_transmittance.tolist(),
            "loss_db": p.loss_db.tolist(), "noise_click": p.noise_click.tolist(), "qber": p.qber.tolist(),
            "qber_z": p.qber_z.tolist(), "qber_x": p.qber_x.tolist(),
            "frame_rotation_rad": None if p.frame_rotation_rad is None else p.frame_rotation_rad.tolist()}


def _pass_text(link: Any, p: Any) -> str:
    rows = [(f"{t:g}", f"{e:.2f}", f"{r / 1e3:.1f}", _db(loss), f"{y0:.3g}", f"{qz:.4f}", f"{qx:.4f}")
            for t, e, r, loss, y0, qz, qx in zip(p.time_s, p.elevation_deg, p.range_m, p.loss_db, p.noise_click,
                                                 p.qber_z, p.qber_x, strict=True)]
    head = (f"pass of {link.name}: {len(p)} steps of {p.time_step_s:g} s, elevation "
            f"{p.elevation_deg.min():.1f}-{p.elevation_deg.max():.1f} deg, loss "
            f"{p.loss_db.min():.2f}-{p.loss_db.max():.2f} dB")
    return head + "\n" + _table(("t s", "elev deg", "range km", "loss dB", "Y0", "QBER Z", "QBER X"), rows)


def _plot(p: Any, path: str) -> None:
    try:  # matplotlib is optional (extras "notebooks"/"bench"): import lazily, no pyplot state
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise InvalidParameter("plot", path, "matplotlib installed",
                               "--plot needs matplotlib: pip install 'qproto[notebooks]'") from exc
    import numpy as np

    fig = Figure(figsize=(7, 5), layout="constrained")
    FigureCanvasAgg(fig)
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
    ax1.plot(p.time_s, p.loss_db, color="C0")
    ax1.set_ylabel("end-to-end loss [dB]")
    ax1.invert_yaxis()
    ax1.set_title(f"{p.link_name}: loss and BB84 QBER over a pass")
    ax1.grid(alpha=0.3)
    ax2.plot(p.time_s, 100 * np.asarray(p.qber), color="C3")
    ax2.set_ylabel("BB84 QBER [%]")
    ax2.set_xlabel("time from culmination [s]")
    ax2.grid(alpha=0.3)
    try:
        fig.savefig(path, dpi=120)
    except (OSError, ValueError) as exc:
        raise InvalidParameter("plot", path, "a writable image path (.png, .pdf, .svg)",
                               f"--plot {path!r}: cannot write the figure ({exc})") from exc


def _cmd_show(args: argparse.Namespace) -> int:
    from qproto._cli_pass import resolve_link
    from qproto.noise_models import save_link_scenario

    if not args.over_pass:
        for flag, value in (("--plot", args.plot), ("--max-half-window", args.max_half_window),
                            ("--min-elevation", args.min_elevation)):
            if value is not None:
                raise InvalidParameter(flag, value, "used with --pass", f"{flag} needs --pass")
    if args.save is not None and (not args.save.strip() or os.path.isdir(args.save)
                                  or not os.path.isdir(os.path.dirname(os.path.abspath(args.save)))):
        raise InvalidParameter("--save", args.save, "a file path in an existing directory",
                               f"--save={args.save!r}: not a file path in an existing directory")
    link = resolve_link(args.name, args.scenario, args.overrides)
    if args.save is not None:
        save_link_scenario(link, args.save)
        print(f"scenario written to {args.save}", file=sys.stderr if args.json else sys.stdout)
    if not args.over_pass:
        b = link.budget(elevation_deg=args.elevation)
        if args.json:
            out = b.to_dict()
            if args.sources:
                out["sources"] = dict(link.sources)
            print(json.dumps(out, indent=2))
            return 0
        print(_budget_text(link, b))
        if args.sources:
            print()
            print(_sources_text(link))
        return 0
    p = link.pass_channels(time_step_s=args.time_step, max_half_window_s=args.max_half_window,
                           min_elevation_deg=args.min_elevation)
    if args.plot is not None:
        _plot(p, args.plot)
    if args.json:
        print(json.dumps(_pass_dict(p), indent=2))
        return 0
    print(_pass_text(link, p))
    if args.plot is not None:
        print(f"figure written to {args.plot}")
    if args.sources:
        print()
        print(_sources_text(link))
    return 0


def main(args: argparse.Namespace) -> int:
    """Run ``qproto link ...``; returns the exit status."""
    if args.link_command == "list":
        return _cmd_list()
    return _cmd_show(args)
