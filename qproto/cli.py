"""The ``qproto`` command line.

``qproto list``, ``qproto run PROTOCOL ...`` and ``qproto demo`` (the job
``make run`` runs), plus one subcommand per ``qproto/_cli_*.py`` module. Bad
arguments produce one line on stderr and exit status 2: subcommands raise
``qproto.QprotoError`` (or call ``parser.error``) and never print tracebacks.
"""

from __future__ import annotations

import argparse
import errno
import math
import os
import re
import sys
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, NoReturn

# Only light imports here: `qproto --help` and `qproto --version` must not load qiskit (the
# commands import what they need when they run).
from qproto._errors import InvalidParameter, QprotoError

if TYPE_CHECKING:
    from qproto._channel import Channel
    from qproto._results import Estimate, ProtocolResult

__all__ = ["main"]

#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130
#: Largest --rounds (tallies are summed in int64; 1e18 rounds already take years).
MAX_ROUNDS = 10**18
#: Largest --workers; fewer processes are started when there are fewer chunks or cores.
MAX_WORKERS = 256
#: Largest --seed: 128 bits (SeedSequence entropy).
MAX_SEED = 2**128 - 1


def _demo_channel() -> Channel:
    from qproto._channel import Channel

    return Channel(transmittance=0.1, depolarisation=0.02, misalignment=0.01, noise_click=1e-5)


class _UsageError(Exception):
    pass


# argparse treats "-inf", "-nan" and "-1e5" as option flags; let them through as values.
_NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^-(inf|infinity|nan)$", re.IGNORECASE)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = _NEGATIVE_NUMBER

    def print_help(self, file: Any = None) -> None:  # argparse's swallows write errors (/dev/full)
        print(self.format_help(), end="", file=file or sys.stdout, flush=True)

    def error(self, message: str) -> NoReturn:  # one line, no usage dump
        raise _UsageError(message)


class _Version(argparse._VersionAction):
    """``--version``: print and exit, letting write errors through (argparse's own swallows them,
    so ``qproto --version > /dev/full`` would claim success)."""

    def __call__(self, parser, namespace, values, option_string=None) -> NoReturn:
        print(self.version, flush=True)
        raise SystemExit(0)


def _show(n: float) -> str:
    """A bound as the messages print it: 10^k for large powers of ten, else ``%g``."""
    if isinstance(n, int) and n >= 10**6:
        k = len(str(n)) - 1
        if n == 10**k:
            return f"1e{k}"
        if n == 2**128 - 1:
            return "2^128 - 1"
    return "inf" if n == math.inf else f"{n:g}"


def integer(flag: str, lo: int, hi: int | None = None):
    """An argparse ``type``: an integer in [lo, hi], written as ``1000000``, ``1_000_000`` or ``1e6``.

    Anything else raises a one-line usage error naming ``flag``, the text given and the range.
    """
    allowed = f"integers in [{_show(lo)}, {'inf' if hi is None else _show(hi)}]"

    def parse(text: str) -> int:
        try:
            d = Decimal(text.strip())
        except InvalidOperation:
            raise _UsageError(f"{flag}={text!r} is not an integer; allowed: {allowed}") from None
        if not d.is_finite():
            raise _UsageError(f"{flag}={text} is not finite; allowed: {allowed}")
        if d != d.to_integral_value() or d.adjusted() > 40:
            if d.adjusted() > 40:
                raise _UsageError(f"{flag}={text} is outside the allowed range: {allowed}")
            raise _UsageError(f"{flag}={text} is not an integer; allowed: {allowed}")
        v = int(d)
        if v < lo or (hi is not None and v > hi):
            raise _UsageError(f"{flag}={text} is outside the allowed range: {allowed}")
        return v

    return parse


def real(flag: str, lo: float, hi: float, *, lo_open: bool = False, hi_open: bool = False):
    """An argparse ``type``: a finite real number in the interval (one-line usage error otherwise)."""
    interval = f"{'(' if lo_open else '['}{_show(lo)}, {_show(hi)}{')' if hi_open else ']'}"

    def parse(text: str) -> float:
        try:
            v = float(text.strip())
        except ValueError:
            raise _UsageError(f"{flag}={text!r} is not a number; allowed: real numbers in {interval}") from None
        if not math.isfinite(v):
            raise _UsageError(f"{flag}={text} is not finite; allowed: real numbers in {interval}")
        if (v <= lo if lo_open else v < lo) or (v >= hi if hi_open else v > hi):
            raise _UsageError(f"{flag}={text} is outside the allowed range {interval}")
        return v

    return parse


#: The channel flags of ``qproto run`` and their ranges (those of :class:`qproto.Channel`).
CHANNEL_FLAGS = {
    "transmittance": (0.0, 1.0, "channel transmittance"),
    "depolarisation": (0.0, 4.0 / 3.0, "Aer depolarising parameter"),
    "misalignment": (0.0, 0.5, "misalignment error"),
    "noise_click": (0.0, 1.0, "noise-click probability per window"),
    "detector_efficiency": (0.0, 1.0, "detector efficiency"),
}


def _build_parser() -> argparse.ArgumentParser:
    import qproto

    p = _Parser(prog="qproto", description="Quantum-communication protocols as circuits on qiskit-aer.")
    p.add_argument("--version", action=_Version, version=f"qproto {qproto.__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("list", help="list the registered protocols and eavesdroppers")

    r = sub.add_parser("run", help="run one protocol over a channel")
    r.add_argument("protocol", help="registry name, see 'qproto list'")
    r.add_argument("--rounds", type=integer("--rounds", 1, MAX_ROUNDS), default=None,
                   help="rounds (channel uses), e.g. 100000 or 1e5; default 100000 (QSDC: 4 x message carriers)")
    # Channel flags default to None so that --link can tell whether they were given.
    for name, (lo, hi, what) in CHANNEL_FLAGS.items():
        flag = "--" + name.replace("_", "-")
        default = " (default 1)" if hi == 1.0 and name != "noise_click" else " (default 0)"
        r.add_argument(flag, type=real(flag, lo, hi), default=None, help=f"{what} in [0, {hi:.4g}]{default}")
    r.add_argument("--sifted-bits", type=integer("--sifted-bits", 1, 10**15), default=None, metavar="N",
                   help="instead of --rounds: run the rounds expected to give N sifted key bits (from the "
                        "protocol's closed forms: detection rate x sifted fraction)")
    r.add_argument("--link", default=None, metavar="NAME",
                   help="take the channel from a link preset (see 'qproto link list') instead of the channel "
                        "flags above, which cannot be combined with it")
    r.add_argument("--elevation", type=real("--elevation", 0.0, 90.0), default=None, metavar="E",
                   help="with --link: elevation in degrees at the lower end (default: the link's nominal one)")
    r.add_argument("--eavesdropper", default=None, help="e.g. intercept-resend or intercept-resend:0.5")
    r.add_argument("--parties", type=integer("--parties", 1, 10**6), default=None,
                   help="number of parties (multipartite protocols; each states its upper limit)")
    r.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="protocol parameter, e.g. --param p_z=0.9 or --param message=hello (repeatable)")
    r.add_argument("--seed", type=integer("--seed", 0, MAX_SEED), default=None,
                   help="root seed (integer >= 0); default: fresh entropy")
    r.add_argument("--json", action="store_true", help="print the result as JSON")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.add_argument("--workers", type=integer("--workers", 1, MAX_WORKERS), default=1,
                   help=f"processes simulating chunks in parallel (same result for the same seed); default 1, "
                        f"at most {MAX_WORKERS}, and never more than the chunks or the cores")

    for module in _command_modules():
        module.add_parser(sub)

    d = sub.add_parser("demo", help="BB84 and BBM92 over a default lossy, noisy channel, with and without Eve")
    d.add_argument("--rounds", type=integer("--rounds", 1, MAX_ROUNDS), default=1_000_000,
                   help="rounds per run, default 1000000")
    d.add_argument("--seed", type=integer("--seed", 0, MAX_SEED), default=2024, help="root seed, default 2024")
    d.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


_PARSER: list[argparse.ArgumentParser] = []


def _parser() -> argparse.ArgumentParser:
    """The parser, built once per process (argparse keeps no state between parses; building it
    imports every subcommand's module, which the in-process callers, tests included, pay once)."""
    if not _PARSER:
        _PARSER.append(_build_parser())
    return _PARSER[0]


def _command_modules() -> list:
    """Further subcommands: every ``qproto._cli_*`` module, each with ``COMMAND``,
    ``add_parser(subparsers)`` and ``main(args) -> int``."""
    import importlib
    import pkgutil

    import qproto

    return [importlib.import_module(f"qproto.{m.name}") for m in sorted(pkgutil.iter_modules(qproto.__path__),
                                                                        key=lambda m: m.name)
            if m.name.startswith("_cli_")]


def _parse_param(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise _UsageError(f"--param {text!r}: expected NAME=VALUE, e.g. --param p_z=0.9")
    return name.strip(), value


def _param_value(annotation: Any, text: str) -> Any:
    """``--param`` text as the value the protocol's constructor expects, read from its annotation:
    ``bytes`` takes the text as UTF-8, a tuple takes comma-separated numbers, an int takes
    ``1e3``; otherwise an int, a float or the text itself."""
    hint = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    if "bytes" in hint:
        return text.encode("utf-8")
    if text in ("None", "none") and "None" in hint:
        return None
    if "," in text and ("tuple" in hint or "Sequence" in hint):
        return tuple(_param_value("", part.strip()) for part in text.split(","))
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    if hint.startswith("int"):
        try:
            d = Decimal(text)
            if d.is_finite() and d == d.to_integral_value() and d.adjusted() <= 40:
                return int(d)
        except InvalidOperation:
            pass
    return text


def _flag_message(exc: Exception, flag: str, raw: str | None = None) -> str:
    """The message of a library error, with the parameter's name replaced by the command-line flag
    (and the value as typed, ``raw``, when the library saw it converted) and the allowed range stated."""
    msg = str(exc)
    name = getattr(exc, "name", None)
    named = isinstance(name, str) and name and (msg.startswith(name + "=") or msg.startswith(name + " "))
    if named and (raw is None or msg.startswith(f"{name}={raw} ") or msg.startswith(f"{name}={raw!r} ")):
        msg = flag + msg[len(name):]
    elif raw is not None:
        msg = f"{flag}={raw}: {msg}"
    else:
        msg = f"{flag}: {msg}"
    allowed = getattr(exc, "allowed", None) or getattr(exc, "expected", None)
    # Append what is allowed unless the message already states it (or its interval).
    interval = re.search(r"[\[(][^\])]*[\])]", str(allowed)) if allowed else None
    stated = "allowed:" in msg and "finite" in str(allowed)  # "not finite; allowed: ... in [lo, hi]"
    if allowed and not stated and str(allowed) not in msg and not (interval and interval.group(0) in msg):
        msg += f" (allowed: {allowed})"
    return msg


class _as_flag:
    """Context manager: qproto errors raised inside become usage errors naming ``flag``
    (``flag`` may be a callable of the error's parameter name)."""

    def __init__(self, flag, *, prefix: bool = False):
        self.flag = flag
        self.prefix = prefix

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> bool:
        if exc is not None and isinstance(exc, QprotoError):
            name = getattr(exc, "name", "")
            flag = self.flag(name) if callable(self.flag) else self.flag
            raw = None
            if isinstance(flag, tuple):
                flag, raw = flag
            if flag is not None:
                if self.prefix:
                    allowed = getattr(exc, "allowed", None) or getattr(exc, "expected", None)
                    extra = f" (allowed: {allowed})" if allowed and str(allowed) not in str(exc) else ""
                    raise _UsageError(f"{flag}: {exc}{extra}") from None
                raise _UsageError(_flag_message(exc, flag, raw)) from None
        return False


def progress_bar(total: int, desc: str, disabled: bool):
    """A tqdm bar on stderr counting ``total`` rounds, and a ``callback(done, total)`` that moves
    it to ``done``; for the ``_cli_*`` commands. ``disabled`` hides it (``--no-progress``,
    ``--json``); tqdm also hides it when stderr is not a terminal."""
    from tqdm import tqdm

    bar = tqdm(total=total, desc=desc, unit="round", unit_scale=True, file=sys.stderr,
               disable=True if disabled else None, leave=False)

    def callback(done: int, _total: int) -> None:
        bar.update(done - bar.n)

    return bar, callback


def _fmt(x: Any, digits: int = 4) -> str:
    from qproto._results import format_number

    return format_number(x, digits)


def _result_table(result: ProtocolResult, expected: dict[str, Any] | None) -> str:
    """The result's :meth:`~qproto.ProtocolResult.estimates` as rows: estimate, interval, expected."""
    from qproto._results import estimates_table

    return estimates_table(result, expected)


def _cmd_list() -> int:
    from qproto._attacks import EAVESDROPPERS
    from qproto._protocol import PROTOCOLS, available_protocols

    names = available_protocols()
    width = max(len(n) for n in [*names, *EAVESDROPPERS])
    print("protocols:")
    for name in names:
        doc = (PROTOCOLS[name].__doc__ or "").strip().splitlines()
        print(f"  {name:<{width}}  {doc[0] if doc else ''}")
    print("eavesdroppers:")
    for name, cls in sorted(EAVESDROPPERS.items()):
        doc = (cls.__doc__ or "").strip().splitlines()
        print(f"  {name:<{width}}  {doc[0] if doc else ''}")
    return 0


def _protocol_from_args(args: argparse.Namespace):
    """The protocol of ``qproto run`` with its ``--param`` and ``--parties`` values."""
    import inspect

    from qproto._protocol import PROTOCOLS, get_protocol

    with _as_flag("protocol"):
        get_protocol(args.protocol)  # unknown names: the message lists the available ones
    signature = {n: p for n, p in inspect.signature(PROTOCOLS[args.protocol].__init__).parameters.items()
                 if n != "self" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
    if args.parties is not None and "parties" not in signature:
        raise _UsageError(f"--parties={args.parties}: protocol {args.protocol!r} has no parties; its parameters: "
                          f"{sorted(signature)}")
    params: dict[str, Any] = {}
    raw: dict[str, str] = {}
    for text in args.param:
        name, value = _parse_param(text)
        if name not in signature:
            raise _UsageError(f"--param {name}={value}: unknown parameter(s) [{name!r}] for protocol "
                              f"{args.protocol!r}; allowed: {sorted(signature)}")
        annotation = signature[name].annotation
        params[name] = _param_value(annotation, value)
        raw[name] = value if len(value) <= 60 else f"<{len(value)} characters>"
    if args.parties is not None:
        if "parties" in params:
            raise _UsageError("--parties and --param parties=... both given; use one")
        params["parties"] = args.parties

    def flag(name: str) -> str | tuple[str, str]:
        if name == "parties" and args.parties is not None:
            return "--parties"
        if name in params:
            return f"--param {name}", raw[name]
        return f"--param {name}" if name in signature else "--param"

    with _as_flag(flag):
        return get_protocol(args.protocol, **params)


def _effective_workers(requested: int, rounds: int | None, chunk_size: int) -> int:
    """Processes worth starting: no more than the chunks of the run or the cores of the machine."""
    chunks = 1 if rounds is None else -(-rounds // chunk_size)
    return max(1, min(requested, chunks, os.cpu_count() or 1))


def _end_pool(pool, *, kill: bool) -> None:
    """Shut a ProcessPoolExecutor down; with ``kill``, end its workers now (after Ctrl-C or an error)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=not kill, cancel_futures=kill)
    if kill:
        for proc in processes:
            if proc.is_alive():
                proc.terminate()
        for proc in processes:
            proc.join(1.0)
            if proc.is_alive():
                proc.kill()
        # Wait for the executor's manager thread to notice and close its wake-up pipe. Otherwise
        # concurrent.futures' exit hook can write to that pipe while the thread closes it (no lock
        # in Python 3.11), printing an 'OSError: Bad file descriptor' traceback after ours.
        manager = getattr(pool, "_executor_manager_thread", None)
        if manager is not None:
            manager.join(2.0)


def _eavesdropper_text(eve: dict[str, Any] | None) -> str:
    """An eavesdropper's description, e.g. ``intercept-resend (fraction 0.5, p_z 0.5)``."""
    if not eve:
        return "none"
    rest = ", ".join(f"{k} {v:.6g}" if isinstance(v, float) else f"{k} {v}" for k, v in eve.items() if k != "name")
    return f"{eve.get('name', '?')}" + (f" ({rest})" if rest else "")


def _cmd_run(args: argparse.Namespace) -> int:
    import json

    from qproto._attacks import parse_eavesdropper
    from qproto._engine import Engine
    from qproto._results import json_ready

    protocol = _protocol_from_args(args)
    channel, link_note = _run_channel(args)
    eve = None
    if args.eavesdropper is not None:
        with _as_flag(f"--eavesdropper={args.eavesdropper}", prefix=True):
            eve = parse_eavesdropper(args.eavesdropper)
    if args.sifted_bits is not None:
        if args.rounds is not None:
            raise _UsageError("--sifted-bits cannot be combined with --rounds: it chooses the rounds")
        rounds = _rounds_for_sifted_bits(protocol, channel, eve, args.sifted_bits)
    else:
        rounds = 100_000 if args.rounds is None else args.rounds
    workers = _effective_workers(args.workers, rounds, Engine().chunk_size)
    bar, callback = progress_bar(rounds, protocol.name, args.no_progress or args.json)
    run_flags = {"rounds": "--rounds", "seed": "--seed", "message": "--param message",
                 "eavesdropper": "--eavesdropper" if args.eavesdropper is None else ("--eavesdropper", args.eavesdropper)}
    kwargs = {"rounds": rounds}
    try:
        with _as_flag(run_flags.get):
            if workers == 1:
                result = protocol.run(channel, seed=args.seed, eavesdropper=eve, progress=callback, **kwargs)
            else:
                from concurrent.futures import ProcessPoolExecutor

                from qproto._workers import worker_initializer

                pool = ProcessPoolExecutor(workers, initializer=worker_initializer, initargs=(os.getpid(),))
                try:
                    result = protocol.run(channel, seed=args.seed, eavesdropper=eve, progress=callback,
                                          executor=pool, **kwargs)
                except BaseException:
                    _end_pool(pool, kill=True)
                    raise
                _end_pool(pool, kill=False)
    finally:
        bar.close()
    try:
        expected = protocol.expected(channel, eavesdropper=eve)
    except (NotImplementedError, QprotoError):
        expected = None
    if args.json:
        out = result.to_dict()
        if link_note is not None:
            out["link"] = link_note
        if expected is not None:
            out["expected"] = json_ready(expected)
        try:
            text = json.dumps(out, indent=2, allow_nan=False)
        except ValueError:  # a NaN or infinity in a field: null, as everywhere else in the JSON
            text = json.dumps(json_ready(out), indent=2, allow_nan=False)
        print(text)
        return 0
    print(f"{protocol!r} over {channel!r}")
    if link_note is not None:
        elev = link_note["elevation_deg"]
        print(f"link {link_note['name']}" + ("" if elev is None else f" at elevation {elev:g} deg")
              + f" (loss {channel.loss_db:.2f} dB)")
    print(f"rounds {result.rounds:,}, seed {result.seed}"
          + (f", eavesdropper {_eavesdropper_text(result.eavesdropper)}" if result.eavesdropper else ""))
    print(_result_table(result, expected))
    note = thin_statistics_note(result, expected)
    if note:
        print(note)
    return 0


#: A proportion is "thin" when its interval is wider than its value (or it saw no success); the
#: suggestion aims at +-10 % relative precision at 95 % confidence: n >= 1.96^2 (1 - p) / (0.1^2 p).
_RELATIVE_PRECISION = 0.1


def thin_statistics_note(result: ProtocolResult, expected: dict[str, Any] | None) -> str | None:
    """A note for the ``qproto run`` table when its statistics are too thin to mean much.

    A binomial estimate is thin when it saw no success or its interval is wider than its value.
    For each thin estimate with a positive expected value p (from the protocol's closed forms,
    else the estimate itself when positive), the trials needed for +-10 % relative precision at
    95 % confidence are n = 1.96^2 (1 - p) / (0.01 p); the rounds suggested scale the run's rounds
    by the largest n / trials. Returns ``None`` when nothing is thin.
    """
    thin, factor = [], 1.0
    for key, est in result.estimates().items():
        trials = getattr(est, "trials", None)
        if trials is None or not hasattr(est, "best"):
            continue
        best, low, high = float(est.best), float(est.low), float(est.high)
        if trials > 0 and est.successes > 0 and not math.isnan(best) and high - low <= best:
            continue
        ref = expected.get(key) if expected else None
        ref = float(ref) if isinstance(ref, (int, float)) and not isinstance(ref, bool) else None
        if ref == 0.0 and est.successes == 0:
            continue  # none expected, none seen: the interval's width is the information
        thin.append(result.LABELS.get(key, key.replace("_", " ")))
        p = best if ref is None else ref
        if not (0.0 < p < 1.0) or math.isnan(p):
            continue  # a value expected to be 0 (or 1) cannot have a relative precision
        needed = 1.96**2 * (1.0 - p) / (_RELATIVE_PRECISION**2 * p)
        factor = max(factor, needed / max(trials, 1))
    if not thin:
        return None
    lines = [f"note: thin statistics: {'; '.join(thin)}: "
             f"{'its interval is' if len(thin) == 1 else 'intervals are'} wider than the value (or no event yet)."]
    if factor > 1.0:
        suggested = min(MAX_ROUNDS, int(math.ceil(result.rounds * factor / 1000.0)) * 1000)
        lines.append(f"      about {suggested:.3g} rounds would give +-10 % relative precision on each "
                     f"(--rounds {suggested:.3g}, or --sifted-bits N for a target key size).")
    return "\n".join(lines)


def _rounds_for_sifted_bits(protocol: Any, channel: Any, eve: Any, bits: int) -> int:
    """Rounds expected to give ``bits`` sifted bits: bits / (detection rate x sifted fraction),
    both from ``protocol.expected`` (closed forms), rounded up, at most the --rounds limit."""
    try:
        exp = protocol.expected(channel, eavesdropper=eve)
    except (NotImplementedError, QprotoError):
        exp = None
    rate = None if exp is None else exp.get("detection_rate")
    frac = None if exp is None else exp.get("sifted_fraction")
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (rate, frac)):
        raise _UsageError(f"--sifted-bits={bits}: protocol {protocol.name!r} has no closed-form detection rate "
                          f"and sifted fraction; use --rounds")
    per_round = float(rate) * float(frac)
    if not per_round > 0.0:
        raise _UsageError(f"--sifted-bits={bits}: no sifted bit is expected over this channel "
                          f"(detection rate {float(rate):.3g}, sifted fraction {float(frac):.3g})")
    rounds = math.ceil(bits / per_round)
    if rounds > MAX_ROUNDS:
        raise _UsageError(f"--sifted-bits={bits} needs about {rounds:.3g} rounds over this channel; allowed: at "
                          f"most {MAX_ROUNDS:.3g} rounds (ask for fewer sifted bits)")
    return rounds


def _run_channel(args: argparse.Namespace) -> tuple[Channel, dict[str, Any] | None]:
    """The channel of ``qproto run``: from ``--link`` (and ``--elevation``) or the channel flags."""
    from qproto._channel import Channel

    given = {k: getattr(args, k) for k in CHANNEL_FLAGS if getattr(args, k) is not None}
    if args.link is None:
        if args.elevation is not None:
            raise _UsageError("--elevation needs --link")
        with _as_flag(lambda name: "--" + name.replace("_", "-")):
            return Channel(**given), None
    if given:
        names = ", ".join("--" + k.replace("_", "-") for k in given)
        raise _UsageError(f"--link cannot be combined with {names}: the link defines the channel")
    from qproto.noise_models import get_link

    with _as_flag(lambda name: "--elevation" if "elevation" in str(name) else "--link"):
        link = get_link(args.link)
        channel = link.channel(elevation_deg=args.elevation)
    elev = args.elevation if args.elevation is not None else link.nominal_elevation_deg
    return channel, {"name": link.name, "elevation_deg": elev}


def _cmd_demo(args: argparse.Namespace) -> int:
    from qproto._protocol import get_protocol

    ch = _demo_channel()
    print("qproto demo: BB84 and BBM92 as Qiskit circuits on qiskit-aer")
    print(f"channel: {ch!r}  (loss {ch.loss_db:.1f} dB; BBM92 uses it on both arms)")
    print(f"rounds per run: {args.rounds:,}, seed {args.seed}\n")
    head = ("protocol", "eavesdropper", "detected/round", "sifted bits", "QBER Z", "QBER X",
            "key rate (bit/round)", "CHSH S")
    rows = []
    for name in ("bb84", "bbm92"):
        protocol = get_protocol(name)
        for eve_spec in (None, "intercept-resend"):
            bar, callback = progress_bar(args.rounds, f"{name} {eve_spec or ''}".strip(), args.no_progress)
            try:
                r = protocol.run(ch, rounds=args.rounds, seed=args.seed, eavesdropper=eve_spec, progress=callback)
            finally:
                bar.close()
            chsh = r.chsh
            rows.append((name, eve_spec or "none", _fmt(r.detection_rate.best), f"{r.sifted_bits:,}",
                         _fmt(r.qber_z.best), _fmt(r.qber_x.best), _fmt(r.key_rate.best),
                         "-" if chsh is None else f"{_fmt(chsh.best, 3)} +- {_fmt(r.chsh_sigma, 3)}"))
    widths = [max(len(str(x[i])) for x in rows + [head]) for i in range(len(head))]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    print("\n'-': no data (too few rounds for that estimate)."
          "\nIntercept-resend raises the QBER by about 25 % and kills the key; BBM92's CHSH value drops"
          "\nfrom about 2*sqrt(2)*V to at most sqrt(2)*V, below the classical bound of 2.")
    return 0


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout replaced (tests) or already closed
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``qproto`` command; returns the exit status.

    0 on success, 1 when an invariant fails (``verify``) or the output cannot be written,
    2 for bad arguments (one line on stderr naming the flag, its value and what is allowed),
    130 after Ctrl-C.
    """
    try:
        args = _parser().parse_args(argv)
        if args.command == "list":
            status = _cmd_list()
        elif args.command == "run":
            status = _cmd_run(args)
        elif args.command == "demo":
            status = _cmd_demo(args)
        else:
            status = next(m for m in _command_modules() if m.COMMAND == args.command).main(args)
        sys.stdout.flush()
        return status
    except SystemExit as exc:  # --help and --version exit through argparse
        status = exc.code if isinstance(exc.code, int) else 0
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _quiet_stdout()
        except OSError as err:
            _quiet_stdout()
            _error(f"cannot write the output: {err.strerror or err}")
            return 1
        return status
    except (_UsageError, QprotoError) as exc:
        _error(str(exc))
        return 2
    except KeyboardInterrupt:
        _error("interrupted", prefix="qproto: ")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # output piped into head, less, ...: stop quietly
        _quiet_stdout()
        return 0
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EFBIG, errno.EBADF):
            _quiet_stdout()
            _error(f"cannot write the output: {exc.strerror or exc}")
        else:
            _error(str(exc))
        return 1


def _error(message: str, prefix: str = "qproto: error: ") -> None:
    """One line on stderr (never more: newlines in a message are flattened)."""
    line = prefix + " ".join(message.split())
    try:
        print(line, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
