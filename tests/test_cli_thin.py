"""Issue 12, small-sample honesty: ``qproto run`` says when its statistics are too thin and how many
rounds would do, and ``--sifted-bits N`` chooses the rounds for a target key size.

Expected rounds come from the closed forms written here (BB84: detection rate eta, sifted
fraction p_z^2 + (1 - p_z)^2, docs/conventions.md A1), not from the CLI's helper."""

from __future__ import annotations

import math
import re

import pytest

from qproto.cli import main


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["run", *args, "--no-progress"])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("p_z", "eta", "bits"), [(0.5, 0.01, 2000), (0.9, 0.01, 2000), (0.7, 0.2, 777)])
def test_sifted_bits_chooses_the_rounds_from_the_closed_forms(capsys, p_z, eta, bits):
    code, out, err = _run(capsys, "bb84", "--transmittance", str(eta), "--param", f"p_z={p_z}",
                          "--sifted-bits", str(bits), "--seed", "1")
    assert code == 0, err
    rounds = math.ceil(bits / (eta * (p_z**2 + (1 - p_z) ** 2)))
    assert f"rounds {rounds:,}," in out
    sifted = int(re.search(r"sifted bits\s+([\d,]+)", out).group(1).replace(",", ""))
    assert abs(sifted - bits) <= 5 * math.sqrt(bits) + 1  # Poisson-like spread around the target


@pytest.mark.parametrize("args", [("bb84", "--sifted-bits", "100", "--rounds", "1000"),
                                  ("ghz-cka", "--sifted-bits", "100"),
                                  ("bb84", "--transmittance", "0", "--sifted-bits", "100"),
                                  ("bb84", "--transmittance", "1e-12", "--sifted-bits", "1e9"),
                                  ("bb84", "--sifted-bits", "0")])
def test_sifted_bits_refusals_are_one_line_naming_the_flag(capsys, args):
    code, out, err = _run(capsys, *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "--sifted-bits" in err and "Traceback" not in err


def test_thin_statistics_are_flagged_and_the_suggested_rounds_remove_the_note(capsys):
    channel = ("--transmittance", "0.5", "--depolarisation", "0.06")
    code, out, _ = _run(capsys, "bb84", *channel, "--rounds", "300", "--seed", "4")
    assert code == 0 and "note: thin statistics" in out and "QBER" in out
    suggested = re.search(r"--rounds ([0-9.e+]+)", out).group(1)
    assert float(suggested) > 300
    code, out, _ = _run(capsys, "bb84", *channel, "--rounds", suggested, "--seed", "4")
    assert code == 0 and "thin statistics" not in out


def test_no_note_when_nothing_is_expected_and_nothing_seen(capsys):
    """A noiseless channel's QBER is 0 with an interval [0, x]: that is not thin, it is the answer."""
    code, out, _ = _run(capsys, "bb84", "--transmittance", "0.5", "--rounds", "20000", "--seed", "2")
    assert code == 0 and "QBER Z" in out and "thin statistics" not in out
