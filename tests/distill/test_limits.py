"""Issue 10 for distillation: a run too long for one in-memory block is refused early, naming the
limit, instead of exhausting memory (the chain holds the whole block)."""

from __future__ import annotations

import pytest

from qproto import Channel, InvalidParameter, get_protocol
from qproto.cli import main
from qproto.distill import MAX_BLOCK_BITS, collect, key_material


def test_collect_stops_as_soon_as_the_block_limit_is_passed():
    chunks = key_material(get_protocol("bb84"), Channel(depolarisation=0.02), rounds=10**15, seed=1)
    with pytest.raises(InvalidParameter) as info:
        collect(chunks, max_bits=50_000)
    assert info.value.name == "rounds" and "50,000 sifted bits" in str(info.value)
    # under the limit the whole material comes back: every sifted bit of 60,000 noiseless rounds
    sk = collect(key_material(get_protocol("bb84"), Channel(), rounds=60_000, seed=2), max_bits=60_000)
    assert sk.n_key + sk.n_test == pytest.approx(30_000, abs=5 * 123)  # half the rounds are sifted


def test_cli_refuses_a_run_beyond_the_block_in_one_line(capsys):
    assert main(["distill", "bb84", "--rounds", "1e12", "--seed", "1"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert f"{MAX_BLOCK_BITS:,} sifted bits" in err and "--rounds" in err
