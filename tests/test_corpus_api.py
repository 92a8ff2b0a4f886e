"""Issue 10's corpus of malformed and extreme API calls, one table: each raises qproto's own
error (a ValueError or TypeError subclass) naming the parameter, its value and the allowed range,
before any simulation starts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qproto import Channel, Engine, InvalidParameter, InvalidType, get_protocol, run
from qproto._validation import check_in_range, check_int
from qproto.protocols._qsdc import MAX_BLOCK_ROUNDS, MAX_MESSAGE_BYTES

CH = Channel()


def _bb84(**kw):
    return get_protocol("bb84").run(CH, **{"rounds": 10, "seed": 1, **kw})


ROWS = [
    # (call, exception, parameter name, fragments of the message)
    (lambda: _bb84(rounds=10**18 + 1), InvalidParameter, "rounds", ["1000000000000000001", "[1, 1000000000000000000]"]),
    (lambda: _bb84(rounds=2**80), InvalidParameter, "rounds", ["[1, 1000000000000000000]"]),
    (lambda: _bb84(rounds=1e6), InvalidType, "rounds", ["1000000.0", "integer in [1, 1000000000000000000]"]),
    (lambda: _bb84(rounds=np.float64(5)), InvalidType, "rounds", ["integer"]),
    (lambda: _bb84(rounds=None), InvalidType, "rounds", ["None", "integer"]),
    (lambda: _bb84(rounds=[10]), InvalidType, "rounds", ["[10]", "integer"]),
    (lambda: _bb84(seed=-(2**70)), InvalidParameter, "seed", ["integer >= 0"]),
    (lambda: _bb84(seed=float("nan")), InvalidType, "seed", ["nan", "non-negative int"]),
    (lambda: _bb84(seed=b"1"), InvalidType, "seed", ["b'1'", "non-negative int"]),
    (lambda: _bb84(engine=Engine(chunk_size=0)), InvalidParameter, "chunk_size", ["chunk_size=0", "[1, inf]"]),
    (lambda: Engine(chunk_size=1.5), InvalidType, "chunk_size", ["1.5", "integer in [1, inf]"]),
    (lambda: Engine(max_distribution_qubits=15), InvalidParameter, "max_distribution_qubits", ["15", "[1, 14]"]),
    (lambda: Engine(mode="fastest"), InvalidParameter, "mode", ["'fastest'", "one of"]),
    (lambda: Channel(transmittance=float("nan")), InvalidParameter, "transmittance", ["nan", "[0, 1]"]),
    (lambda: Channel(transmittance=float("-inf")), InvalidParameter, "transmittance", ["-inf", "[0, 1]"]),
    (lambda: Channel(transmittance=float("inf")), InvalidParameter, "transmittance", ["inf", "[0, 1]"]),
    (lambda: Channel(depolarisation=1e308 * 10), InvalidParameter, "depolarisation", ["inf", "[0, 1.33333]"]),
    (lambda: Channel(misalignment=-1e-300), InvalidParameter, "misalignment", ["[0, 0.5]"]),
    (lambda: Channel(noise_click="0.1"), InvalidType, "noise_click", ["'0.1'", "[0, 1]"]),
    (lambda: Channel(detector_efficiency=True), InvalidType, "detector_efficiency", ["True", "[0, 1]"]),
    (lambda: Channel(transmittance=1 + 1e-12), InvalidParameter, "transmittance", ["[0, 1]"]),
    (lambda: get_protocol("ghz-cka", parties=201), InvalidParameter, "parties", ["201", "[2, 200]"]),
    (lambda: get_protocol("ghz-cka", parties=100_000), InvalidParameter, "parties", ["100000", "[2, 200]"]),
    (lambda: get_protocol("ghz-cka", parties=1), InvalidParameter, "parties", ["parties=1", "[2, 200]"]),
    (lambda: get_protocol("anonymous-transmission", parties=201), InvalidParameter, "parties", ["[3, 200]"]),
    (lambda: get_protocol("anonymous-bit", parties=10**9), InvalidParameter, "parties", ["[3, 200]"]),
    (lambda: get_protocol("broadbent-tapp", parties=65), InvalidParameter, "parties", ["65", "[2, 64]"]),
    (lambda: get_protocol("broadbent-tapp", parties=300), InvalidParameter, "parties", ["300", "[2, 64]"]),
    (lambda: get_protocol("hbb-secret-sharing", parties=9), InvalidParameter, "parties", ["[3, 8]"]),
    (lambda: get_protocol("threshold-sharing", parties=6), InvalidParameter, "parties", ["parties=6", "[5, 5]"]),
    (lambda: get_protocol("ghz-cka", parties=2.0), InvalidType, "parties", ["2.0", "integer in [2, 200]"]),
    (lambda: get_protocol("qsdc-dl04", message=bytes(MAX_MESSAGE_BYTES + 1)), InvalidParameter, "message",
     [str(MAX_MESSAGE_BYTES + 1), f"1 to {MAX_MESSAGE_BYTES} bytes"]),
    (lambda: get_protocol("qsdc-two-step", message=b""), InvalidParameter, "message", ["at least one byte"]),
    (lambda: get_protocol("qsdc-two-step", message="text"), InvalidType, "message", ["'text'", "bytes"]),
    (lambda: get_protocol("qsdc-dl04").run((CH, CH), rounds=MAX_BLOCK_ROUNDS + 1, seed=1), InvalidParameter,
     "rounds", [str(MAX_BLOCK_ROUNDS + 1), f"[1, {MAX_BLOCK_ROUNDS}]"]),
    (lambda: get_protocol("qsdc-dl04").run((CH, CH), rounds=10, seed=1), InvalidParameter, "rounds",
     ["rounds=10", f"[49, {MAX_BLOCK_ROUNDS}]"]),
    (lambda: get_protocol("swapping", n_links=65), InvalidParameter, "n_links", ["65", "[1, 64]"]),
    (lambda: get_protocol("trusted-relay", n_links=0), InvalidParameter, "n_links", ["0", "[1, 64]"]),
    (lambda: get_protocol("mdi-qkd", mu=float("nan")), InvalidParameter, "mu", ["nan"]),
    (lambda: get_protocol("mdi-qkd").run((CH,), rounds=10), InvalidParameter, "channel", ["2 channel(s)"]),
    (lambda: get_protocol("bbm92").run([CH, "ideal"], rounds=10), InvalidType, "channel[1]", ["'ideal'"]),
    (lambda: run("bb84", CH, rounds=0), InvalidParameter, "rounds", ["rounds=0", "[1, 1000000000000000000]"]),
    (lambda: run("no-such", CH, rounds=10), InvalidParameter, "protocol", ["'no-such'", "available"]),
    (lambda: run("bb84", CH, rounds=10, p_z=float("inf")), InvalidParameter, "p_z", ["inf", "(0, 1)"]),
    (lambda: run("bb84", CH, rounds=10, executor="pool"), InvalidType, "executor", ["'pool'", "Executor"]),
    (lambda: check_in_range("x", math.nan, 0.0, 1.0), InvalidParameter, "x", ["nan", "[0, 1]"]),
    (lambda: check_in_range("x", -math.inf, 0.0, 1.0), InvalidParameter, "x", ["-inf", "[0, 1]"]),
    (lambda: check_int("n", 3.0, minimum=1, maximum=5), InvalidType, "n", ["3.0", "integer in [1, 5]"]),
]


@pytest.mark.parametrize("call, exc, name, fragments", ROWS, ids=[f"{i}-{r[2]}" for i, r in enumerate(ROWS)])
def test_bad_api_call_raises_qproto_error_naming_parameter_value_and_range(call, exc, name, fragments):
    with pytest.raises(exc) as info:
        call()
    err = info.value
    assert err.name == name
    message = str(err)
    assert name in message
    for fragment in fragments:
        assert fragment in message
    assert "\n" not in message
    assert isinstance(err, ValueError if exc is InvalidParameter else TypeError)
