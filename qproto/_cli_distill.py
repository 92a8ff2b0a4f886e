"""``qproto distill PROTOCOL``: simulate, then distill a key end to end.

Sifting -> parameter estimation on a random test subset -> error correction (Cascade or
LDPC) -> verification -> privacy amplification to the finite-key length computed with the
measured leakage. Prints the final key length, the leakage, the efficiency f and whether
Alice's and Bob's final keys are identical; ``--keys-out DIR`` writes both keys.
``decoy-bb84 --link NAME --pass`` distills a whole satellite pass (or ``--half-window S``).
"""

from __future__ import annotations

import argparse
import json
import pathlib

from qproto._errors import InvalidParameter

COMMAND = "distill"


def add_parser(subparsers) -> None:
    """Add ``distill`` to the ``qproto`` parser."""
    from qproto.cli import CHANNEL_FLAGS, MAX_ROUNDS, MAX_SEED, integer, real

    p = subparsers.add_parser(COMMAND, help="simulate a QKD protocol and distill identical secret keys")
    p.add_argument("protocol", help="bb84, bbm92, decoy-bb84, mdi-qkd, ghz-cka or trusted-relay")
    p.add_argument("--rounds", type=integer("--rounds", 1, MAX_ROUNDS), default=1_000_000,
                   help="rounds (pulses for decoy-bb84), default 1000000")
    for name, (lo, hi, what) in CHANNEL_FLAGS.items():
        flag = "--" + name.replace("_", "-")
        p.add_argument(flag, type=real(flag, lo, hi), default=None, help=f"{what} in [0, {hi:.4g}]")
    p.add_argument("--link", default=None, metavar="NAME", help="channel from a link preset instead of the flags")
    p.add_argument("--pass", dest="whole_pass", action="store_true",
                   help="decoy-bb84 with --link: simulate and distill the link's whole pass")
    p.add_argument("--half-window", type=real("--half-window", 0.0, 1e6, lo_open=True), default=None, metavar="S",
                   help="with --pass: only slots with |t| <= S seconds")
    p.add_argument("--pointing", default="weak", help="with --pass: pointing level weak|moderate|strong")
    p.add_argument("--source-rate", type=real("--source-rate", 0.0, 1e12, lo_open=True), default=2e8,
                   metavar="HZ", help="with --pass: pulse rate in Hz (default 2e8)")
    p.add_argument("--no-optimise", action="store_true", help="with --pass: keep the default intensities")
    p.add_argument("--party", type=int, default=1, help="ghz-cka: which Bob's key is paired with Alice's (default 1)")
    p.add_argument("--relay-link", type=int, default=0, metavar="I",
                   help="trusted-relay: distill link I (node I -> I+1); each link is distilled on its own")
    p.add_argument("--eavesdropper", default=None, help="e.g. intercept-resend (not for decoy-bb84)")
    p.add_argument("--method", default="cascade", choices=("cascade", "ldpc"), help="error correction")
    p.add_argument("--test-fraction", type=real("--test-fraction", 0.0, 1.0, lo_open=True, hi_open=True),
                   default=0.05, help="share of sifted key bits disclosed to estimate the QBER (default 0.05)")
    p.add_argument("--seed", type=integer("--seed", 0, MAX_SEED), default=None, help="root seed (default: fresh)")
    p.add_argument("--keys-out", default=None, metavar="DIR",
                   help="write alice.key and bob.key (packed bytes) and result.json into DIR")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def _channel(args: argparse.Namespace):
    from qproto._channel import Channel
    from qproto.cli import CHANNEL_FLAGS

    given = {k: getattr(args, k) for k in CHANNEL_FLAGS if getattr(args, k) is not None}
    if args.link is None:
        return Channel(**given) if given else Channel(transmittance=0.1, depolarisation=0.04, noise_click=1e-5)
    if given:
        raise InvalidParameter("--link", args.link, "--link without channel flags (the link defines the channel)")
    from qproto.noise_models import get_link

    return get_link(args.link).channel()


def main(args: argparse.Namespace) -> int:
    """Run ``qproto distill``; 0 when a key was distilled or the chain aborted as designed."""
    from qproto._seeding import root_seed
    from qproto.distill import DecoySettings, distill, distill_pass, key_material

    seed = root_seed(args.seed)
    if args.whole_pass:
        if args.protocol != "decoy-bb84" or args.link is None:
            raise InvalidParameter("--pass", args.protocol, "decoy-bb84 with --link NAME")
        result, proto = distill_pass(args.link, pointing=args.pointing, half_window_s=args.half_window,
                                     source_rate_hz=args.source_rate, optimise=not args.no_optimise,
                                     method=args.method, seed=seed, test_fraction=args.test_fraction)
        where = f"pass of {args.link} ({args.pointing} pointing)"
    else:
        from qproto._protocol import get_protocol

        proto = get_protocol(args.protocol)
        channel = _channel(args)
        decoy = DecoySettings.of(proto) if proto.name == "decoy-bb84" else None
        material = key_material(proto, channel, rounds=args.rounds, seed=seed, eavesdropper=args.eavesdropper,
                                party=args.party, link=args.relay_link)
        try:
            result = distill(material, protocol=proto.name, method=args.method, seed=seed,
                             test_fraction=args.test_fraction, decoy=decoy,
                             eps_sec=getattr(proto, "eps_sec", 1e-10), eps_cor=getattr(proto, "eps_cor", 1e-15))
        except InvalidParameter as exc:
            if exc.name != "rounds":
                raise
            raise InvalidParameter("--rounds", args.rounds, exc.allowed, f"--rounds={args.rounds:g}: {exc}") from None
        where = repr(channel)
    if args.keys_out is not None:
        out = pathlib.Path(args.keys_out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "alice.key").write_bytes(result.alice_key.tobytes())
        (out / "bob.key").write_bytes(result.bob_key.tobytes())
        (out / "result.json").write_text(json.dumps(result.to_dict(), indent=2))
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    f = result.efficiency
    print(f"{result.protocol} over {where}; {result.rounds:,} rounds, seed {result.seed}, EC {result.method}")
    print(f"sifted {result.sifted_bits:,} bits, test subset {result.test_bits:,} "
          f"(QBER {result.qber_test.best:.4f}), key block {result.key_bits:,}")
    print(f"leakage {result.leaked_bits:,} bits, f = {'-' if f is None else f'{f:.3f}'}, "
          f"frame errors {result.frame_errors}/{result.frames}, verification "
          f"{'-' if result.verified is None else ('passed' if result.verified else 'FAILED')}")
    print(f"finite-key bound {result.key_length_bound:,.1f} bits -> final key {result.final_length:,} bits"
          + (f" (aborted: {result.aborted})" if result.aborted else ""))
    print(f"final keys identical: {'yes' if result.keys_identical else 'no'}")
    if args.keys_out is not None:
        print(f"keys written to {args.keys_out}/alice.key, bob.key (packed bits, {result.final_length} bits)")
    return 0
