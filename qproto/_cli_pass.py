"""``qproto pass``: decoy-state BB84 finite key against the half-window of a pass (seed 001 Fig. 2).

The whole scenario can be stated on the command line:

* the link: a preset (``qproto pass leo-haps``), a scenario file (``--scenario FILE.toml``, as
  ``qproto link show --save`` writes), and ``--set FIELD=VALUE`` for any Link field on top
  (``--set tx_aperture_m=0.09 --set rx_optics_efficiency=0.5 --set noise_click=6e-7``,
  ``--set detector.afterpulse_probability=1e-3``);
* the geometry: the link's circular-orbit overhead pass, or a real pass from a TLE
  (``--tle FILE --site LAT,LON,ALT_M [--date YYYY-MM-DD[THH:MM]]``), whose slots carry the
  orbit's own range and elevation;
* pointing jitter: named levels (``weak``, ``moderate``, ``strong``) and/or numbers in µrad per axis;
* the protocol: ``--eps-sec``, ``--eps-cor``, ``--f-ec``, ``--ec-leakage``, ``--tails``,
  ``--afterpulse`` (default: the link detector's), ``--source-rate``, ``--slot``.

For each pointing level the pass is cut into slots; for each half-window the protocol parameters
are optimised on expected counts, the window is simulated (counts first, outcomes from the Aer
circuits) and the finite key of the simulated counts is printed next to the expected one. Every
input is checked before anything is computed; errors name the flag, its value and the allowed range.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import sys
from typing import Any

from qproto._errors import InvalidParameter, QprotoError

COMMAND = "pass"
_LEVELS = ("weak", "moderate", "strong")
#: Largest pulse rate accepted [Hz].
MAX_SOURCE_RATE_HZ = 1e12
#: Largest number of pulses in one slot (rate x slot); numpy's multinomial counts in int64.
MAX_PULSES_PER_SLOT = 1e13
#: Largest slot [s].
MAX_SLOT_S = 1000.0
#: Largest number of half-windows of one curve.
MAX_HALF_WINDOWS = 1000
#: Largest number of slots over all pointing levels.
MAX_SLOTS = 200_000
MAX_STARTS = 100
MAX_SEED = 2**128 - 1


class FlagError(QprotoError):
    """A command-line value outside its range (not a ValueError, so argparse lets it through to
    the one-line error handler of :func:`qproto.cli.main`)."""

    def __init__(self, flag: str, value: Any, allowed: str, message: str | None = None):
        self.name, self.value, self.allowed = flag, value, allowed
        super().__init__(message or f"{flag}={value} is outside the allowed range: {allowed}")


def number(flag: str, lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False):
    """An argparse type: a finite real in the interval; errors name the flag, value and interval."""
    interval = f"{'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"

    def parse(text: str) -> float:
        try:
            v = float(text.strip())
        except ValueError:
            raise FlagError(flag, text, interval, f"{flag}={text!r} is not a number; allowed: {interval}") from None
        if not math.isfinite(v):
            raise FlagError(flag, text, interval, f"{flag}={text} is not finite; allowed: {interval}")
        if (v <= lo if lo_open else v < lo) or (v >= hi if hi_open else v > hi):
            raise FlagError(flag, text, interval)
        return v

    return parse


def count(flag: str, lo: int, hi: int):
    """An argparse type: an integer in [lo, hi], written as ``12`` or ``1e6``."""
    allowed = f"integers in [{lo}, {hi:g}]" if hi < 1e15 else f"integers in [{lo}, {hi}]"

    def parse(text: str) -> int:
        try:
            v = float(text.strip()) if any(c in text for c in ".eE") else int(text.strip())
        except ValueError:
            raise FlagError(flag, text, allowed, f"{flag}={text!r} is not an integer; allowed: {allowed}") from None
        if isinstance(v, float) and (not math.isfinite(v) or v != int(v)):
            raise FlagError(flag, text, allowed, f"{flag}={text} is not an integer; allowed: {allowed}")
        v = int(v)
        if not lo <= v <= hi:
            raise FlagError(flag, text, allowed)
        return v

    return parse


# ---- shared with `qproto link` ------------------------------------------------------------
def plot_path(flag: str = "--plot"):
    """An argparse type for a figure file, checked before anything is computed: not empty, not a
    directory, an existing writable directory, an extension matplotlib writes."""

    def parse(text: str) -> str:
        check_plot_path(text, flag)
        return text

    return parse


def check_plot_path(path: str, flag: str = "--plot") -> str:
    """Refuse a figure path that cannot be written, naming the flag (see :func:`plot_path`)."""
    from matplotlib.figure import Figure

    formats = sorted(Figure().canvas.get_supported_filetypes())
    allowed = f"a file path ending in .{', .'.join(formats)}, in an existing writable directory"
    if not isinstance(path, str) or not path.strip():
        raise FlagError(flag, repr(path), allowed, f"{flag}={path!r}: empty path; allowed: {allowed}")
    if os.path.isdir(path):
        raise FlagError(flag, path, allowed, f"{flag}={path}: is a directory; allowed: {allowed}")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise FlagError(flag, path, allowed, f"{flag}={path}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise FlagError(flag, path, allowed, f"{flag}={path}: directory {parent} is not writable")
    ext = os.path.splitext(path)[1].lstrip(".").lower()
    if ext not in formats:
        raise FlagError(flag, path, allowed, f"{flag}={path}: unknown figure format {ext or '(none)'!r}; "
                        f"allowed: .{', .'.join(formats)}")
    return path


def add_link_arguments(p: argparse.ArgumentParser) -> None:
    """``--scenario`` and ``--set``, shared by ``qproto pass`` and ``qproto link show``."""
    p.add_argument("--scenario", metavar="FILE.toml", default=None,
                   help="read the link from a scenario file (qproto link show NAME --save FILE.toml writes one)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                   help="change one Link field, e.g. --set rx_aperture_m=0.5 --set noise_click=6e-7 "
                        "--set detector.afterpulse_probability=1e-3 (repeatable; 'qproto link show NAME "
                        "--sources' lists the fields)")


def resolve_link(name: str | None, scenario: str | None, overrides: list[str]):
    """The Link of a command: a preset or a scenario file, with ``--set`` overrides applied."""
    from qproto.noise_models import apply_link_overrides, get_link, load_link_scenario

    if scenario is not None and name is not None:
        raise FlagError("--scenario", scenario, "either a link name or --scenario",
                        f"give a link name ({name!r}) or --scenario {scenario}, not both")
    if scenario is not None:
        link = load_link_scenario(scenario)
    elif name is not None:
        link = get_link(name)
    else:
        raise FlagError("link", "(none)", "a link preset name or --scenario FILE",
                        "no link: give a preset name (see 'qproto link list') or --scenario FILE")
    return apply_link_overrides(link, overrides, flag="--set")


# ---- the command ----------------------------------------------------------------------------
def add_parser(subparsers) -> None:
    p = subparsers.add_parser(COMMAND, help="decoy-state BB84 finite key over a satellite pass (seed 001 Fig. 2)")
    p.add_argument("link", nargs="?", default=None, help="link preset, e.g. leo-haps (or use --scenario)")
    add_link_arguments(p)
    g = p.add_argument_group("geometry (default: the link's circular-orbit overhead pass)")
    g.add_argument("--tle", metavar="FILE", default=None, help="a real pass from this TLE file (needs --site)")
    g.add_argument("--site", metavar="LAT,LON,ALT_M", default=None,
                   help="receiver latitude and longitude in degrees and altitude in metres (ground, LAPS or "
                        "HAPS), e.g. 35.66,139.68,20000")
    g.add_argument("--date", metavar="YYYY-MM-DD[THH:MM]", default=None,
                   help="search passes from this UTC time (default: the TLE epoch)")
    g.add_argument("--pass-index", type=count("--pass-index", 0, 1000), default=0,
                   help="which pass of the search window (default 0, the first)")
    g.add_argument("--search-hours", type=number("--search-hours", 0.0, 24 * 14, lo_open=True), default=24.0,
                   help="length of the pass search in hours (default 24)")
    q = p.add_argument_group("protocol")
    q.add_argument("--source-rate", type=number("--source-rate", 0.0, MAX_SOURCE_RATE_HZ, lo_open=True),
                   default=200e6, metavar="HZ", help="pulse rate in Hz (default 2e8)")
    q.add_argument("--slot", type=number("--slot", 0.0, MAX_SLOT_S, lo_open=True), default=1.0, metavar="S",
                   help="slot duration in s (default 1)")
    q.add_argument("--eps-sec", type=number("--eps-sec", 0.0, 1.0, lo_open=True, hi_open=True), default=1e-10,
                   help="secrecy parameter (default 1e-10)")
    q.add_argument("--eps-cor", type=number("--eps-cor", 0.0, 1.0, lo_open=True, hi_open=True), default=1e-15,
                   help="correctness parameter (default 1e-15)")
    q.add_argument("--f-ec", type=number("--f-ec", 1.0, 10.0), default=None,
                   help="error-correction inefficiency f_EC (default: DecoyBB84's, 1.16)")
    q.add_argument("--ec-leakage", choices=("efficiency", "finite_size"), default="efficiency",
                   help="EC leakage model: f_EC n h(Q) ('efficiency', default) or the finite-size one")
    q.add_argument("--tails", choices=("chernoff", "hoeffding"), default=None,
                   help="finite-key tail bounds (default chernoff, as seed 001's reference [8])")
    q.add_argument("--afterpulse", type=number("--afterpulse", 0.0, 1.0, hi_open=True), default=None,
                   help="detector afterpulse probability (default: the link detector's)")
    w = p.add_argument_group("curve")
    w.add_argument("--max-half-window", type=number("--max-half-window", 0.0, math.inf, lo_open=True,
                                                    hi_open=True), default=100.0, metavar="S",
                   help="largest half-window in s, clipped to the pass (default 100)")
    w.add_argument("--step", type=number("--step", 0.0, math.inf, lo_open=True, hi_open=True), default=10.0,
                   metavar="S", help=f"half-window step in s (default 10; at most {MAX_HALF_WINDOWS} half-windows)")
    w.add_argument("--pointing", nargs="+", default=None, metavar="LEVEL|URAD",
                   help="pointing jitter per axis: weak, moderate, strong and/or numbers in microradians "
                        "(default: the three levels for a preset as it is, else the link's own jitter)")
    w.add_argument("--starts", type=count("--starts", 1, MAX_STARTS), default=3,
                   help="optimiser starts per half-window (default 3)")
    w.add_argument("--no-optimise", action="store_true", help="keep the default DecoyBB84 parameters")
    o = p.add_argument_group("output")
    o.add_argument("--plot", metavar="FILE", type=plot_path("--plot"), default=None,
                   help="save the figure (Fig. 2 with the pass's elevation and range beside it, as the seed's inset)")
    o.add_argument("--json", action="store_true", help="print the curves as JSON")
    o.add_argument("--seed", type=count("--seed", 0, MAX_SEED), default=2024, help="root seed (default 2024)")
    o.add_argument("--no-progress", action="store_true", help="no progress bar")


def half_windows(max_hw: float, step: float) -> list[float]:
    """``step, 2 step, ...`` up to ``max_hw`` (and ``max_hw`` itself); at most MAX_HALF_WINDOWS."""
    n = int(math.floor(max_hw / step + 1e-9))
    if n > MAX_HALF_WINDOWS:
        raise FlagError("--step", f"{step:g}", f"at least {max_hw / MAX_HALF_WINDOWS:.3g} s "
                        f"(at most {MAX_HALF_WINDOWS} half-windows up to {max_hw:g} s)",
                        f"--step={step:g} gives {n} half-windows up to {max_hw:g} s; at most {MAX_HALF_WINDOWS} "
                        f"are allowed (--step >= {max_hw / MAX_HALF_WINDOWS:.3g})")
    out = [step * (i + 1) for i in range(n)]
    if not out or out[-1] < max_hw - 1e-9:
        out.append(max_hw)
    return out


def _pointing_levels(values: list[str] | None, link: Any, default_three: bool) -> list[tuple[str, float]]:
    from qproto.noise_models import pointing_jitter_rad

    if values is None:
        if default_three:
            return [(lv, pointing_jitter_rad(lv)) for lv in _LEVELS]
        return [(f"{link.pointing_jitter_rad * 1e6:g} urad", link.pointing_jitter_rad)]
    out = []
    for v in values:
        if v in _LEVELS:
            out.append((v, pointing_jitter_rad(v)))
            continue
        try:
            x = float(v)
        except ValueError:
            raise FlagError("--pointing", v, f"weak, moderate, strong or a jitter in urad in [0, 1e4]",
                            f"--pointing={v!r}: not a level or a number; allowed: weak, moderate, strong, "
                            "or microradians per axis in [0, 1e4]") from None
        if not math.isfinite(x) or not 0.0 <= x <= 1e4:
            raise FlagError("--pointing", v, "[0, 1e4] urad per axis (or weak, moderate, strong)")
        out.append((f"{x:g} urad", x * 1e-6))
    return out


def _parse_site(text: str) -> tuple[float, float, float]:
    parts = text.split(",")
    allowed = "LAT,LON,ALT_M: latitude in [-90, 90] deg, longitude in [-180, 360] deg, altitude in [0, 1e5] m"
    try:
        lat, lon, alt = (float(x) for x in parts)
    except ValueError:
        raise FlagError("--site", text, allowed, f"--site={text!r}: expected {allowed}") from None
    if not (math.isfinite(lat) and -90 <= lat <= 90 and math.isfinite(lon) and -180 <= lon <= 360
            and math.isfinite(alt) and 0 <= alt <= 1e5):
        raise FlagError("--site", text, allowed)
    return lat, lon, alt


def _read_tle(path: str) -> tuple[str, str]:
    try:
        with open(path, encoding="utf-8") as fh:
            lines = [ln.rstrip() for ln in fh if ln.strip()]
    except OSError as exc:
        raise FlagError("--tle", path, "a readable TLE file", f"--tle={path}: {exc.strerror or exc}") from None
    l1 = [ln for ln in lines if ln.startswith("1 ")]
    l2 = [ln for ln in lines if ln.startswith("2 ")]
    if len(l1) != 1 or len(l2) != 1:
        raise FlagError("--tle", path, "a file with one TLE (a line starting '1 ' and one starting '2 ')",
                        f"--tle={path}: expected one TLE (lines starting '1 ' and '2 '), found {len(l1)} and "
                        f"{len(l2)}")
    return l1[0], l2[0]


def _tle_epoch(l1: str) -> _dt.datetime:
    yy, day = int(l1[18:20]), float(l1[20:32])
    year = 2000 + yy if yy < 57 else 1900 + yy
    return _dt.datetime(year, 1, 1, tzinfo=_dt.timezone.utc) + _dt.timedelta(days=day - 1)


def _parse_date(text: str) -> _dt.datetime:
    try:
        d = _dt.datetime.fromisoformat(text)
    except ValueError:
        raise FlagError("--date", text, "an ISO date/time in UTC, e.g. 2024-01-01 or 2024-01-01T12:00",
                        f"--date={text!r}: not an ISO date/time (e.g. 2024-01-01T12:00)") from None
    return d.replace(tzinfo=_dt.timezone.utc) if d.tzinfo is None else d.astimezone(_dt.timezone.utc)


def _protocol(args: argparse.Namespace, afterpulse: float):
    import inspect

    from qproto.protocols import DecoyBB84

    kw: dict[str, Any] = dict(eps_sec=args.eps_sec, eps_cor=args.eps_cor, ec_leakage=args.ec_leakage,
                              afterpulse_probability=afterpulse)
    if args.f_ec is not None:
        kw["f_ec"] = args.f_ec
    if "tails" in inspect.signature(DecoyBB84.__init__).parameters:
        kw["tails"] = args.tails or "chernoff"
    elif args.tails is not None:
        raise FlagError("--tails", args.tails, "not available in this version of DecoyBB84")
    return DecoyBB84(**kw)


#: Library parameter names of the pass builders and the flags that set them.
_FLAGS = {"time_step_s": "--slot", "max_half_window_s": "--max-half-window", "pass_index": "--pass-index",
          "duration_s": "--search-hours", "latitude_deg": "--site", "longitude_deg": "--site",
          "observer_altitude_m": "--site", "tle_line1": "--tle", "tle_line2": "--tle", "start_utc": "--date"}


def _pass_api():
    try:
        from qproto import passes
    except ImportError:  # pragma: no cover - before the public pass API
        from qproto import _pass as passes
    return passes


def main(args: argparse.Namespace) -> int:
    """Run ``qproto pass``; returns the exit status (130 after Ctrl-C, with one line on stderr)."""
    try:
        return _main(args)
    except KeyboardInterrupt:
        print("qproto: interrupted", file=sys.stderr, flush=True)
        return 130


def _main(args: argparse.Namespace) -> int:
    from qproto.cli import progress_bar

    # ---- everything is checked before anything is computed --------------------------------
    rate, slot = args.source_rate, args.slot
    if rate * slot > MAX_PULSES_PER_SLOT:
        raise FlagError("--slot", f"{slot:g}", f"--source-rate x --slot <= {MAX_PULSES_PER_SLOT:g} pulses per slot",
                        f"--slot={slot:g} with --source-rate={rate:g} sends {rate * slot:.3g} pulses per slot; "
                        f"at most {MAX_PULSES_PER_SLOT:g} are allowed (shorter --slot or lower --source-rate)")
    if round(rate * slot) < 1:
        raise FlagError("--slot", f"{slot:g}", "at least one pulse per slot (--source-rate x --slot >= 1)",
                        f"--slot={slot:g} with --source-rate={rate:g} sends no pulse per slot")
    link = resolve_link(args.link, args.scenario, args.overrides)
    as_preset = args.scenario is None and not args.overrides
    levels = _pointing_levels(args.pointing, link, default_three=as_preset)
    if (args.tle is None) != (args.site is None):
        raise FlagError("--site" if args.site is None else "--tle", "(missing)", "--tle and --site together",
                        "--tle and --site go together (a TLE pass needs a receiver position)")
    if args.tle is None and args.date is not None:
        raise FlagError("--date", args.date, "used with --tle", "--date needs --tle")
    tle = None
    if args.tle is not None:
        l1, l2 = _read_tle(args.tle)
        lat, lon, alt = _parse_site(args.site)
        start = _parse_date(args.date) if args.date else _tle_epoch(l1)
        if not alt < link.upper_altitude_m:
            raise FlagError("--site", args.site, f"an altitude below the link's upper end ({link.upper_altitude_m:g} m)")
        link = link.replace(lower_altitude_m=alt)
        tle = dict(tle_line1=l1, tle_line2=l2, latitude_deg=lat, longitude_deg=lon, start_utc=start,
                   duration_s=args.search_hours * 3600.0, pass_index=args.pass_index)
    if link.geometry != "orbit":
        raise FlagError("link", link.name, "a link with geometry='orbit' (a satellite pass)",
                        f"link {link.name!r} has geometry='fixed': it has no pass; use 'qproto link show'")
    afterpulse = link.detector.afterpulse_probability if args.afterpulse is None else args.afterpulse
    protocol = _protocol(args, afterpulse)

    # ---- the passes ---------------------------------------------------------------------------
    passes = {}
    for label, jitter in levels:
        lk = link.replace(pointing_jitter_rad=jitter)
        try:
            if tle is None:
                pc = lk.pass_channels(time_step_s=slot, max_half_window_s=args.max_half_window)
            else:
                pc = lk.tle_pass_channels(time_step_s=slot, max_half_window_s=args.max_half_window, **tle)
        except InvalidParameter as exc:  # name the flag, not the library's parameter
            flag = _FLAGS.get(exc.name)
            if flag is None:
                raise
            given = {"--slot": slot, "--max-half-window": args.max_half_window,
                     "--pass-index": args.pass_index}.get(flag, exc.value)
            raise FlagError(flag, given, exc.allowed, f"{flag}={given:g}: " + str(exc).split(": ", 1)[-1]
                            if isinstance(given, (int, float)) else None) from None
        if len(pc) == 0:
            raise FlagError("--slot", f"{slot:g}", "a slot shorter than the pass above the mask",
                            f"--slot={slot:g}: no slot of the pass lies above the elevation mask")
        passes[label] = pc
    reach = max(float(abs(p.time_s).max()) for p in passes.values())
    max_hw = min(args.max_half_window, max(reach, slot / 2))  # clipped to the pass
    hws = half_windows(max_hw, args.step)
    if sum(len(p) for p in passes.values()) > MAX_SLOTS:
        raise FlagError("--slot", f"{slot:g}", f"at most {MAX_SLOTS} slots over all pointing levels")
    api = _pass_api()
    total = sum(sum(int((abs(p.time_s) <= h + 1e-9).sum()) for h in hws) for p in passes.values())
    bar, callback = progress_bar(total, "pass", args.no_progress or args.json)
    bar.unit = "slot"
    curves = {}
    done = 0
    try:
        for label, pc in passes.items():
            base = done

            def progress(k: int, _n: int, base: int = base) -> None:
                callback(base + k, total)

            curves[label] = api.pass_key_curve(
                tuple(pc.channels), time_s=pc.time_s, half_windows_s=hws, source_rate_hz=rate, slot_s=slot,
                protocol=protocol, optimise=not args.no_optimise, n_starts=args.starts, seed=args.seed,
                progress=progress)
            done = base + sum(len(r.result.channels) for r in curves[label].rows)
    finally:
        bar.close()
    return _report(args, link, protocol, passes, curves, rate, slot, tle)


def _assumptions(link: Any, protocol: Any, rate: float, slot: float, tle: dict | None,
                 optimise: bool = True) -> list[str]:
    geo = ("TLE pass (SGP4 via skyfield: each slot's own range and elevation)" if tle else
           f"circular orbit {link.upper_altitude_m / 1e3:g} km, peak elevation {link.pass_max_elevation_deg:g} deg")
    p = protocol.parameters()
    y0 = "from background" if link.noise_click is None else f"{link.noise_click:g}"
    return [
        f"{link.name}: {geo}; receiver at {link.lower_altitude_m / 1e3:g} km; {link.wavelength_m * 1e9:g} nm",
        f"Tx {link.tx_aperture_m * 100:g} cm, divergence {2e6 * link.divergence_half_angle_rad:g} urad (full), "
        f"Rx {link.rx_aperture_m * 100:g} cm; optics {link.tx_optics_efficiency:g}/{link.rx_optics_efficiency:g}, "
        f"detector {link.detector.efficiency:g}; atmosphere {'on' if link.atmosphere else 'off'}, "
        f"turbulence {'on' if link.turbulence else 'off'}",
        f"Y0 {y0}, misalignment {link.misalignment:g}, afterpulse {p.get('afterpulse_probability', 0):g}; "
        f"{rate:.3g} Hz, slots of {slot:g} s",
        f"finite key: tails {p.get('tails', 'hoeffding')}, eps_sec {p['eps_sec']:g}, eps_cor {p['eps_cor']:g}, "
        f"f_EC {p['f_ec']:g}, EC leakage {p['ec_leakage']}; "
        + ("parameters optimised per half-window" if optimise else
           f"fixed parameters mu {p['intensities']}, p {p['probabilities']}, p_Z {p['p_z']:g}"),
    ]


def _report(args, link, protocol, passes, curves, rate, slot, tle) -> int:
    from qproto.noise_models import link_to_dict

    if args.plot:
        _plot(curves, passes, link, args.plot, _assumptions(link, protocol, rate, slot, tle, not args.no_optimise))
    if args.json:
        out = {"link": link.name, "scenario": link_to_dict(link), "protocol": protocol.parameters(),
               "source_rate_hz": rate, "slot_s": slot,
               "pointing_jitter_rad": {lv: _jitter_of(lv) for lv in passes},
               "curves": {lv: c.to_dict() for lv, c in curves.items()}}
        if tle:
            out["tle"] = {k: (v.isoformat() if isinstance(v, _dt.datetime) else v) for k, v in tle.items()}
            out["culmination_utc"] = next(iter(passes.values())).culmination_utc.isoformat()
        print(json.dumps(out, indent=2, default=_json_default))
    else:
        for line in _assumptions(link, protocol, rate, slot, tle, not args.no_optimise):
            print(line)
        head = ("pointing", "half-window s", "pulses", "sifted Z", "QBER Z", "key bit", "expected bit",
                "mu1", "mu2", "p1", "p2", "p_Z")
        rows = []
        for level, c in curves.items():
            for r in c.rows:
                p = r.result.parameters
                no_key = getattr(r, "has_key", True) is False
                rows.append((level, f"{r.half_window_s:g}", f"{r.pulses:.3e}", f"{r.result.sifted_z:,}",
                             f"{r.result.qber_z.best:.4f}" if r.result.sifted_z else "-",
                             f"{r.key_length:,.0f}", "no key" if no_key else f"{r.expected_key_length:,.0f}",
                             *(("-",) * 5 if no_key else (
                                 f"{p['intensities'][0]:.3f}", f"{p['intensities'][1]:.3f}",
                                 f"{p['probabilities'][0]:.3f}", f"{p['probabilities'][1]:.3f}", f"{p['p_z']:.3f}"))))
        widths = [max(len(x[i]) for x in rows + [head]) for i in range(len(head))]
        print("  ".join(h.rjust(wd) for h, wd in zip(head, widths)))
        print("  ".join("-" * wd for wd in widths))
        for row in rows:
            print("  ".join(c.rjust(wd) for c, wd in zip(row, widths)))
        if args.plot:
            print(f"figure written to {args.plot}")
    return 0


def _jitter_of(label: str) -> float:
    from qproto.noise_models import pointing_jitter_rad

    if label in _LEVELS:
        return float(pointing_jitter_rad(label))
    return float(label.split()[0]) * 1e-6


def _json_default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (tuple, set)):
        return list(o)
    return str(o)


def _plot(curves, passes, link, path: str, caption: list[str]) -> None:
    """Seed 001 Fig. 2: key against half-window (simulated markers, expected lines), panels with the
    pass's elevation and range, the scenario's assumptions below the axes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    fig = Figure(figsize=(9.5, 6.2), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplot_mosaic([["key", "elev"], ["key", "range"]], width_ratios=[3.2, 1])
    ax = axes["key"]
    handles = []
    for i, (level, c) in enumerate(curves.items()):
        hw = [r.half_window_s for r in c.rows]
        color = f"C{i}"
        ax.plot(hw, [r.key_length / 1e6 for r in c.rows], "o", color=color, ms=5)
        ax.plot(hw, [r.expected_key_length / 1e6 for r in c.rows], "-", color=color, lw=1.2)
        handles.append(Line2D([], [], color=color, marker="o", ls="-", label=f"{level} PE"))
    handles += [Line2D([], [], color="k", marker="o", ls="none", label="simulated (Aer circuits)"),
                Line2D([], [], color="k", ls="-", label="expected (closed form)")]
    ax.legend(handles=handles, loc="upper left", fontsize=8)
    ax.set_xlabel("half-window of the pass $\\Delta_t$ (s)")
    ax.set_ylabel("secret-key length (Mbit)")
    ax.set_title(f"decoy-state BB84 finite key over a {link.name} pass")
    ax.grid(alpha=0.3)
    pc = next(iter(passes.values()))
    top, bottom = axes["elev"], axes["range"]
    top.sharex(bottom)
    top.plot(pc.time_s, pc.elevation_deg, color="k", lw=1.2)
    top.set_ylabel("elevation (deg)", fontsize=8)
    top.tick_params(labelsize=7, labelbottom=False)
    top.set_title("the pass (inset of seed Fig. 2)", fontsize=8)
    top.grid(alpha=0.3)
    bottom.plot(pc.time_s, pc.range_m / 1e3, color="C3", lw=1.2)
    bottom.set_ylabel("range (km)", fontsize=8)
    bottom.set_xlabel("time from culmination (s)", fontsize=8)
    bottom.tick_params(labelsize=7)
    bottom.grid(alpha=0.3)
    import textwrap

    lines = [w for c in caption for w in textwrap.wrap(c, 150, subsequent_indent="  ")]
    fig.text(0.01, 0.0, "\n".join(lines), fontsize=6.5, va="bottom", ha="left", family="monospace")
    fig.get_layout_engine().set(rect=(0, 0.1, 1, 0.9))
    try:
        fig.savefig(path, dpi=120)
    except (OSError, ValueError) as exc:
        raise FlagError("--plot", path, "a writable image path", f"--plot={path}: cannot write ({exc})") from None
