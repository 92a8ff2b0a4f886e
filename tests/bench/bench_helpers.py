"""Helpers of the qproto.bench tests (importable as ``from bench.bench_helpers import ...``: tests/ is on the path)."""

from qproto.bench import Sweep


def small_sweep(losses=(0.0, 3.0, 6.0), protocols=("bb84", "bbm92"), rounds=2000, seed=7) -> Sweep:
    """A product grid protocol x loss_db over a depolarising channel (E_X = E_Z = 0.01 given arrival)."""
    return Sweep.from_dict({
        "name": "small",
        "defaults": {"rounds": rounds, "seed": seed, "channel.depolarisation": 0.02},
        "sweep": [{"grid": {"protocol": list(protocols), "loss_db": list(losses)}}],
        "report": {"x": "loss_db", "y": "qber", "group": "protocol"},
    })
