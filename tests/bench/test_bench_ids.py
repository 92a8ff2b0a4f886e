"""Content-addressed task ids: canonical JSON, stability, and what changes an id."""

import dataclasses
import hashlib
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qproto import Channel, Engine, InvalidParameter, InvalidType, get_protocol
from qproto.bench import Sweep, Task, canonical_json, engine_versions, task_id


def _one(**fixed):
    base = {"protocol": "bb84", "rounds": 100, "seed": 1}
    base.update(fixed)
    (task,) = Sweep.from_dict({"sweep": [{"fixed": base}]}).tasks()
    return task


def test_id_is_sha256_of_a_hand_written_canonical_payload():
    t = _one(**{"channel.depolarisation": 0.25})
    ch = Channel(depolarisation=0.25).to_dict()
    # written out independently: sorted keys, no spaces, the channel dict sorted too
    params = get_protocol("bb84").parameters()
    eng = Engine()
    v = engine_versions()
    text = ('{"channels":[' + ",".join([json.dumps(ch, sort_keys=True, separators=(",", ":"))]) + "],"
            f'"eavesdropper":null,"engine":{{"chunk_size":{eng.chunk_size},'
            f'"max_distribution_qubits":{eng.max_distribution_qubits},"mode":"{eng.mode}"}},'
            f'"form":"fast","parameters":{json.dumps(params, sort_keys=True, separators=(",", ":"))},'
            f'"protocol":"bb84","rounds":100,"seed":1,'
            f'"versions":{json.dumps(v, sort_keys=True, separators=(",", ":"))}}}')
    assert t.id == hashlib.sha256(text.encode()).hexdigest()
    assert len(t.id) == 64 and int(t.id, 16) >= 0


@pytest.mark.parametrize("change", [
    {"rounds": 101}, {"seed": 2}, {"param.p_z": 0.6}, {"param.f_ec": 1.2}, {"channel.misalignment": 0.01},
    {"channel.noise_click": 1e-6}, {"loss_db": 1}, {"channel.rotation_rad": 0.1}, {"engine.chunk_size": 4096},
    {"engine.mode": "shots"}, {"form": "erasure"}, {"eavesdropper": "intercept-resend"},
    {"eavesdropper": "intercept-resend:0.5"}, {"protocol": "bbm92"},
], ids=lambda d: next(iter(d)))
def test_everything_that_determines_the_result_changes_the_id(change):
    assert _one(**change).id != _one().id


def test_versions_are_part_of_the_id():
    t = _one()
    newer = dataclasses.replace(t, versions={**t.versions, "qiskit-aer": "99.0"})
    assert newer.id != t.id
    assert set(t.versions) == {"qproto", "qiskit-aer", "numpy"}


def test_labels_and_spellings_do_not_change_the_id():
    a = _one(**{"loss_db": 10})
    b = _one(**{"channel.transmittance": 0.1})
    c = _one(**{"eavesdropper": "none", "form": "fast", "param.p_z": 0.5})
    assert a.id == b.id  # 10 dB of loss is transmittance 0.1
    assert _one(eavesdropper="intercept-resend").id == _one(eavesdropper="intercept-resend:1").id
    assert c.id == _one().id
    assert a.point != b.point  # the labels differ, and are kept


@given(st.dictionaries(st.text(max_size=5), st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=False,
       allow_infinity=False), st.text(max_size=5), st.none(), st.booleans()), max_size=6))
def test_canonical_json_ignores_key_order_and_round_trips(d):
    reordered = dict(reversed(list(d.items())))
    assert canonical_json(d) == canonical_json(reordered)
    back = json.loads(canonical_json(d))
    assert back == {k: (0.0 if isinstance(v, float) and v == 0 else v) for k, v in d.items()}


def test_canonical_json_spellings():
    assert canonical_json({"a": (1, 2)}) == canonical_json({"a": [1, 2]}) == '{"a":[1,2]}'
    assert canonical_json(np.float64(0.1)) == canonical_json(0.1) == "0.1"
    assert canonical_json(np.int64(3)) == "3" and canonical_json(np.bool_(True)) == "true"
    assert canonical_json(-0.0) == canonical_json(0.0) == "0.0"
    assert canonical_json(np.array([1.5, 2.0])) == "[1.5,2.0]"
    assert canonical_json(1) != canonical_json(1.0)  # an int parameter and a float are different values
    with pytest.raises(InvalidParameter):
        canonical_json({"x": float("nan")})
    with pytest.raises(InvalidType):
        canonical_json({"x": object()})
    with pytest.raises(InvalidType):
        canonical_json({1: 2})


def test_task_id_function_matches_the_task():
    t = _one()
    assert task_id(t.id_payload()) == t.id
    assert isinstance(t, Task) and t.payload()["id"] == t.id
