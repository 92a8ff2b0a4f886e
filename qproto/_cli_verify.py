"""``qproto verify PROTOCOL``: the invariant suite of :mod:`qproto.testing` against a protocol.

Prints one row per invariant (examples tried, largest deviation in sigmas, verdict) and
exits with status 1 when an invariant is violated (2 for bad arguments). ``--import
MODULE`` imports a module first (by name, from ``sys.path`` and the current folder, as
``python -m`` would), so a protocol it registers with ``@register_protocol`` can be verified
without packaging it as a plugin.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys

from qproto._errors import InvalidParameter

COMMAND = "verify"
#: Ranges of the flags (those of qproto.testing.verify_protocol; rounds bounded so a check ends).
MAX_EXAMPLES = 10_000
MAX_ROUNDS = 10**9
MAX_SEED = 2**63 - 1


def add_parser(subparsers) -> None:
    """Add ``verify`` to the ``qproto`` parser."""
    p = subparsers.add_parser(COMMAND, help="check a protocol's invariants (closed forms, reproducibility, ...)")
    p.add_argument("protocol", nargs="+", help="registry name(s), see 'qproto list'; 'all' for every one")
    from qproto.cli import integer  # the shared parser of counts: 1e4 accepted, ranges in the messages

    p.add_argument("--examples", type=integer("--examples", 1, MAX_EXAMPLES), default=8,
                   help="hypothesis-drawn channels per protocol for the closed-form check (default 8)")
    p.add_argument("--rounds", type=integer("--rounds", 1, MAX_ROUNDS), default=None,
                   help="rounds per run (default: the protocol's own, usually 20000)")
    p.add_argument("--seed", type=integer("--seed", 0, MAX_SEED), default=0,
                   help="root seed (default 0): the same seed, the same report")
    p.add_argument("--import", dest="imports", action="append", default=[], metavar="MODULE",
                   help="import MODULE first (e.g. one that registers your protocol); repeatable")
    p.add_argument("--json", action="store_true", help="print the reports as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def main(args: argparse.Namespace) -> int:
    """Run ``qproto verify``; 0 when every invariant holds, 1 otherwise."""
    from qproto._protocol import available_protocols

    if args.imports and "" not in sys.path and os.getcwd() not in sys.path:
        # The console script does not put the current folder on sys.path (python -m does): a
        # user's module beside them should import either way.
        sys.path.insert(0, os.getcwd())
    for module in args.imports:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise InvalidParameter("--import", module, "an importable module name",
                                   f"--import={module}: {exc}; allowed: an importable module name "
                                   f"(on sys.path)") from None
    try:
        from qproto.testing._verify import verify_protocol
    except ImportError:
        raise InvalidParameter("verify", "hypothesis", "the 'testing' extra installed",
                               "qproto verify needs hypothesis: pip install 'qproto[testing]'") from None
    names = available_protocols() if args.protocol == ["all"] else args.protocol
    reports = []
    for name in names:
        bar = _bar(name, args.no_progress)
        try:
            reports.append(verify_protocol(name, examples=args.examples, rounds=args.rounds, seed=args.seed,
                                           progress=bar))
        finally:
            bar.close()
    if args.json:
        print(json.dumps([r.to_dict() for r in reports], indent=2))
    else:
        print("\n\n".join(r.table() for r in reports))
    return 0 if all(r.passed for r in reports) else 1


class _bar:
    """A tqdm bar over the invariants of one protocol (a no-op when disabled)."""

    def __init__(self, name: str, disabled: bool):
        from tqdm import tqdm

        self._bar = tqdm(total=None, desc=f"verify {name}", unit="invariant", file=sys.stderr,
                         disable=True if disabled else None, leave=False)

    def __call__(self, done: int, total: int, current: str) -> None:
        self._bar.total = total
        self._bar.set_postfix_str(current)
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        self._bar.close()
