"""Issue 10's corpus of malformed and extreme command lines (tables in ``tests/corpus/``), run
in-process through ``qproto.cli.main``: every case exits with status 2 and prints exactly one
line on stderr naming the flag, the value as typed and what is allowed; nothing on stdout, no
traceback, no NaN. A few accepted extremes (``1e6`` for counts, a text QSDC message, demo with
one round) check that what is accepted is answered correctly."""

import json
import re

import pytest

from corpus.cli_tables import all_rows
from qproto.cli import main

ROWS = all_rows()
# What the line must say about the allowed values (a range, a set or the expected form).
ALLOWED = re.compile(r"allowed|expected|one of|choose from|required|unrecognized|ignored explicit|"
                     r"available|NAME=VALUE|needs --link|cannot be combined|no parties|both given")


def test_the_corpus_is_large_and_covers_every_command_and_protocol():
    from qproto import PROTOCOLS, available_protocols

    # the built-in protocols (other tests in the same process register protocols of their own)
    builtin = {n for n in available_protocols() if PROTOCOLS[n].__module__.startswith("qproto.protocols.")}
    assert len(builtin) >= 17
    assert len(ROWS) >= 600
    commands = {argv[0] for argv, _ in ROWS if argv}
    assert {"run", "demo", "verify", "list"} <= commands
    covered = {argv[1] for argv, _ in ROWS if len(argv) > 1 and argv[0] == "run"}
    assert builtin <= covered


@pytest.mark.parametrize("argv, fragments", ROWS, ids=[" ".join(a)[:80] for a, _ in ROWS])
def test_bad_command_line_one_line_status_2(argv, fragments, capsys):
    status = main(argv)
    out, err = capsys.readouterr()
    assert status == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("qproto: error: ")
    for fragment in fragments:
        assert fragment in line
    assert ALLOWED.search(line), line
    assert "Traceback" not in err and out == ""


def _no_nan(text: str) -> None:
    assert not re.search(r"\bnan\b|\bNaN\b", text), text


def test_counts_accept_scientific_notation_when_exact(capsys):
    assert main(["run", "bb84", "--rounds", "2e3", "--seed", "1e1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rounds"] == 2000 and data["seed"] == 10


def test_negative_and_exponent_values_reach_the_flag(capsys):
    # argparse would take "-1e-3" for an option; the message must keep the value
    assert main(["run", "bb84", "--transmittance", "-1e-3"]) == 2
    assert "--transmittance=-1e-3 is outside the allowed range [0, 1]" in capsys.readouterr().err


def test_qsdc_message_from_the_command_line_is_text(capsys):
    assert main(["run", "qsdc-dl04", "--param", "message=hello, world", "--rounds", "2000", "--seed", "3",
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert bytes.fromhex(data["message"]) == b"hello, world"
    assert bytes.fromhex(data["decoded"]) == b"hello, world"  # ideal channel: delivered intact


def test_decoy_bb84_json_encodes_its_expected_arrays(capsys):
    assert main(["run", "decoy-bb84", "--rounds", "2000", "--seed", "1", "--json"]) == 0
    text = capsys.readouterr().out
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    _no_nan(text)


def test_demo_with_one_round_prints_no_nan(capsys):
    assert main(["demo", "--rounds", "1", "--no-progress"]) == 0
    out = capsys.readouterr().out
    _no_nan(out)
    assert out.count("bb84") >= 2


def test_version(capsys):
    import qproto

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"qproto {qproto.__version__}"


def test_help_exits_0(capsys):
    assert main(["--help"]) == 0
    assert "usage" in capsys.readouterr().out


def test_eavesdropper_is_shown_readably(capsys):
    assert main(["run", "bb84", "--rounds", "2000", "--seed", "1", "--eavesdropper", "intercept-resend:0.5",
                 "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "eavesdropper intercept-resend (fraction 0.5, p_z 0.5)" in out
    assert "{" not in out  # no raw dict


def test_print_result_is_rounded_and_multiline():
    from qproto import Channel, get_protocol

    r = get_protocol("bb84").run(Channel(transmittance=0.3, depolarisation=0.05), rounds=3000, seed=1,
                                 eavesdropper="intercept-resend:0.5")
    text = str(r)
    lines = text.splitlines()
    assert len(lines) > 8
    assert lines[0] == "bb84: 3,000 rounds, seed 1"
    assert "eavesdropper: intercept-resend (fraction 0.5, p_z 0.5)" in text
    assert "channel: transmittance=0.3, depolarisation=0.05" in text
    # numbers rounded: no float printed with more than 4 decimals
    assert not re.search(r"\d\.\d{5,}", text), text
    qz = r.qber_z
    assert f"{qz.best:.4f}" in text and f"[{qz.low:.4f}, {qz.high:.4f}]" in text
    assert repr(r) != text  # repr keeps every digit
