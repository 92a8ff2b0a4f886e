"""One table of bad inputs across the public API: each raises qproto's own ValueError or
TypeError subclass with a message naming the parameter, its value and what is allowed."""

import numpy as np
import pytest

from qproto import Channel, Engine, InterceptResend, InvalidParameter, InvalidType, get_protocol, parse_eavesdropper
from qproto.protocols import BB84, BBM92

CH = Channel()

BAD = [
    # (callable, exception, parameter name, fragment of the message)
    (lambda: BB84().run(CH, rounds=0), InvalidParameter, "rounds", "rounds=0"),
    (lambda: BB84().run(CH, rounds=-3), InvalidParameter, "rounds", "rounds=-3"),
    (lambda: BB84().run(CH, rounds=10.0), InvalidType, "rounds", "rounds=10.0"),
    (lambda: BB84().run(CH, rounds="100"), InvalidType, "rounds", "'100'"),
    (lambda: BB84().run(CH, rounds=True), InvalidType, "rounds", "True"),
    (lambda: BB84().run(CH, rounds=10, seed=-1), InvalidParameter, "seed", "seed=-1"),
    (lambda: BB84().run(CH, rounds=10, seed=1.5), InvalidType, "seed", "seed=1.5"),
    (lambda: BB84().run(CH, rounds=10, seed="x"), InvalidType, "seed", "'x'"),
    (lambda: BB84().run(0.5, rounds=10), InvalidType, "channel", "channel=0.5"),
    (lambda: BB84().run(CH, rounds=10, eavesdropper="eve"), InvalidParameter, "eavesdropper", "'eve'"),
    (lambda: BB84().run(CH, rounds=10, eavesdropper=3), InvalidType, "eavesdropper", "eavesdropper=3"),
    (lambda: BB84().run(CH, rounds=10, form="kraus"), InvalidParameter, "form", "'kraus'"),
    (lambda: BB84().run(CH, rounds=10, engine="fast"), InvalidType, "engine", "'fast'"),
    (lambda: BB84().run(CH, rounds=10, progress=5), InvalidType, "progress", "progress=5"),
    (lambda: BB84(p_z=0.0), InvalidParameter, "p_z", "p_z=0.0"),
    (lambda: BB84(p_z=1.2), InvalidParameter, "p_z", "p_z=1.2"),
    (lambda: BB84(p_z=float("nan")), InvalidParameter, "p_z", "nan"),
    (lambda: BB84(f_ec=0.9), InvalidParameter, "f_ec", "f_ec=0.9"),
    (lambda: BBM92(chsh_fraction=1.0), InvalidParameter, "chsh_fraction", "chsh_fraction=1.0"),
    (lambda: BBM92(chsh_fraction=-0.1), InvalidParameter, "chsh_fraction", "-0.1"),
    (lambda: InterceptResend(fraction=1.5), InvalidParameter, "fraction", "fraction=1.5"),
    (lambda: InterceptResend(fraction=-0.5), InvalidParameter, "fraction", "fraction=-0.5"),
    (lambda: InterceptResend(p_z=np.nan), InvalidParameter, "p_z", "nan"),
    (lambda: InterceptResend(fraction="all"), InvalidType, "fraction", "'all'"),
    (lambda: parse_eavesdropper("intercept-resend:x"), InvalidParameter, "eavesdropper", "'x'"),
    (lambda: get_protocol("e91"), InvalidParameter, "protocol", "'e91'"),
    (lambda: get_protocol(91), InvalidType, "protocol", "91"),
    (lambda: Channel(transmittance=-0.1), InvalidParameter, "transmittance", "-0.1"),
    (lambda: Channel(depolarisation=2), InvalidParameter, "depolarisation", "depolarisation=2"),
    (lambda: Engine(chunk_size=-1), InvalidParameter, "chunk_size", "chunk_size=-1"),
]


@pytest.mark.parametrize("call, exc, name, fragment", BAD, ids=[f"{i}-{row[2]}" for i, row in enumerate(BAD)])
def test_bad_input_raises_qproto_error_naming_the_parameter(call, exc, name, fragment):
    with pytest.raises(exc) as info:
        call()
    err = info.value
    assert err.name == name
    assert name in str(err) and fragment in str(err)
    assert isinstance(err, ValueError if exc is InvalidParameter else TypeError)
    # what is allowed is stated
    allowed = getattr(err, "allowed", None) or getattr(err, "expected", None)
    assert allowed and str(allowed)
