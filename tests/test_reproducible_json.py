"""Issue 10: the same seed gives byte-identical JSON for every registered protocol, across
processes (different PYTHONHASHSEED, so set and dict orders would differ) and executors (serial
in one process, a process pool in the other)."""

from __future__ import annotations

import os
import subprocess
import sys

CHILD = r"""
import json, sys
from concurrent.futures import ProcessPoolExecutor
from qproto import Channel, Engine, available_protocols, get_protocol

pool = ProcessPoolExecutor(2) if sys.argv[1] == "pool" else None
channel = Channel(transmittance=0.7, depolarisation=0.06, misalignment=0.01, noise_click=1e-3)
engine = Engine(chunk_size=700)  # several chunks, so the executor matters
for name in available_protocols():
    r = get_protocol(name).run(channel, rounds=2000, seed=11, engine=engine, executor=pool)
    print(name + "\t" + json.dumps(r.to_dict()))
if pool is not None:
    pool.shutdown()
"""


def _start(executor: str, hash_seed: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    return subprocess.Popen([sys.executable, "-c", CHILD, executor], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def test_same_seed_same_json_bytes_across_processes_and_executors():
    from qproto import PROTOCOLS, available_protocols

    # the built-in protocols (other tests in this process may have registered their own)
    builtin = sorted(n for n in available_protocols() if PROTOCOLS[n].__module__.startswith("qproto.protocols."))
    procs = [_start("serial", "1"), _start("pool", "2")]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        outputs.append(dict(line.split("\t", 1) for line in out.splitlines()))
    serial, pooled = outputs
    assert sorted(serial) == builtin
    differ = [name for name in serial if serial[name] != pooled[name]]
    assert not differ, f"JSON bytes differ for {differ}"
