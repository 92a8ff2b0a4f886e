"""Fixtures of the qproto.bench tests: small sweeps whose tasks take milliseconds."""

import pytest

from qproto.bench import Sweep


def small_sweep(losses=(0.0, 3.0, 6.0), protocols=("bb84", "bbm92"), rounds=2000, seed=7) -> Sweep:
    """A product grid protocol x loss_db over a depolarising channel (E_X = E_Z = 0.01 given arrival)."""
    return Sweep.from_dict({
        "name": "small",
        "defaults": {"rounds": rounds, "seed": seed, "channel.depolarisation": 0.02},
        "sweep": [{"grid": {"protocol": list(protocols), "loss_db": list(losses)}}],
        "report": {"x": "loss_db", "y": "qber", "group": "protocol"},
    })


@pytest.fixture
def sweep():
    return small_sweep()


@pytest.fixture
def store_path(tmp_path):
    return str(tmp_path / "store.db")
