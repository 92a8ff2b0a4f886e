"""``qproto distill``."""

import json

import numpy as np

from qproto.cli import main

FAST = ["distill", "bb84", "--rounds", "4e5", "--transmittance", "0.5", "--depolarisation", "0.05", "--seed", "4"]


def test_prints_length_leakage_f_and_identity(capsys):
    assert main(FAST) == 0
    out = capsys.readouterr().out
    assert "final keys identical: yes" in out and "leakage" in out and "f = 1." in out


def test_json_keys_out_and_same_seed(tmp_path, capsys):
    assert main(FAST + ["--json", "--keys-out", str(tmp_path)]) == 0
    a = json.loads(capsys.readouterr().out)
    assert a["keys_identical"] and a["final_length"] > 0 and a["aborted"] is None
    alice, bob = (np.frombuffer((tmp_path / f).read_bytes(), np.uint8) for f in ("alice.key", "bob.key"))
    assert np.array_equal(alice, bob) and alice.size == -(-a["final_length"] // 8)
    assert main(FAST + ["--json"]) == 0
    b = json.loads(capsys.readouterr().out)
    a.pop("timings_s"), b.pop("timings_s")
    assert a == b


def test_eavesdropper_aborts_and_bad_arguments(capsys):
    assert main(FAST + ["--eavesdropper", "intercept-resend"]) == 0
    assert "aborted: qber" in capsys.readouterr().out
    assert main(["distill", "teleportation", "--rounds", "100"]) == 2
    assert main(["distill", "trusted-relay", "--rounds", "100", "--relay-link", "5"]) == 2
    assert main(["distill", "bb84", "--pass"]) == 2
    assert main(["distill", "bb84", "--test-fraction", "1.5"]) == 2
    err = capsys.readouterr().err
    assert "--test-fraction" in err
