"""Tables of malformed and extreme command lines (issue 10), one row per case.

Each row is ``(argv, fragments)``: ``qproto.cli.main(argv)`` must exit with status 2 and print
one line on stderr that contains every fragment (the flag, the value as typed and the allowed
range). Rows are built from small explicit lists: flags x bad values, and the registry's
protocols x their parameters, so a new protocol is covered as soon as it is registered.
"""

from __future__ import annotations

import inspect

from qproto._protocol import PROTOCOLS, available_protocols

# ---- flags that take integer counts: (flag, allowed range as printed, bad values) -------------------
INT_RANGE = {
    "--rounds": "integers in [1, 1e18]",
    "--seed": "integers in [0, 2^128 - 1]",
    "--workers": "integers in [1, 256]",
    "--parties": "integers in [1, 1e6]",
}
INT_BAD = ["1.5", "abc", "", " ", "nan", "inf", "-inf", "1e999", "0x10", "1e-3", "10**6", "1,000",
           "2.000001e3", "one"]
INT_BAD_BY_FLAG = {"--rounds": ["0", "-1", "-1e6", "1e19", "1000000000000000001"], "--seed": ["-1", "-1e3", "2e40"],
                   "--workers": ["0", "-2", "257", "1000", "1e6", "1e19"], "--parties": ["0", "-3", "1e7", "1000001"]}

# ---- real-valued flags of `qproto run`: allowed interval, bad values --------------------------------
REAL_RANGE = {
    "--transmittance": "[0, 1]",
    "--depolarisation": "[0, 1.33333]",
    "--misalignment": "[0, 0.5]",
    "--noise-click": "[0, 1]",
    "--detector-efficiency": "[0, 1]",
}
REAL_BAD = ["nan", "NaN", "inf", "-inf", "Infinity", "-1e-9", "-0.1", "1e999", "-1e999", "abc", "", "0.5.5", "1/2",
            "2", "1e3"]
REAL_BAD_BY_FLAG = {"--misalignment": ["0.50001", "0.7"], "--depolarisation": ["1.34", "4/3"]}

# ---- eavesdropper specifications -----------------------------------------------------------------
EVE_BAD = [
    ("eve", "unknown eavesdropper"), ("intercept-resend:2", "[0, 1]"), ("intercept-resend:-0.5", "[0, 1]"),
    ("intercept-resend:nan", "[0, 1]"), ("intercept-resend:inf", "[0, 1]"), ("intercept-resend:half", "[0, 1]"),
    (":0.5", "unknown eavesdropper"), ("", "unknown eavesdropper"),
    ("INTERCEPT-RESEND", "unknown eavesdropper"), ("intercept-resend:1e999", "[0, 1]"),
    ("intercept-resend:0.5:0.5", "[0, 1]"),
]

# ---- generic bad inputs applied to every registered protocol ------------------------------------------
def per_protocol_rows(name: str) -> list[tuple[list[str], list[str]]]:
    base = ["run", name, "--no-progress"]
    rows = [
        (base + ["--rounds", "0"], ["--rounds=0", INT_RANGE["--rounds"]]),
        (base + ["--rounds", "1e30"], ["--rounds=1e30", INT_RANGE["--rounds"]]),
        (base + ["--rounds", "2.5"], ["--rounds=2.5", INT_RANGE["--rounds"]]),
        (base + ["--transmittance", "1.01"], ["--transmittance=1.01", "[0, 1]"]),
        (base + ["--depolarisation", "nan"], ["--depolarisation=nan", "[0, 1.33333]"]),
        (base + ["--noise-click", "-inf"], ["--noise-click=-inf", "[0, 1]"]),
        (base + ["--seed", "-1"], ["--seed=-1", INT_RANGE["--seed"]]),
        (base + ["--workers", "0"], ["--workers=0", INT_RANGE["--workers"]]),
        (base + ["--eavesdropper", "intercept-resend:7"], ["--eavesdropper=intercept-resend:7", "[0, 1]"]),
        (base + ["--param", "no_such_parameter=1"], ["--param no_such_parameter=1", "allowed"]),
        (base + ["--param", "=1"], ["--param '=1'", "NAME=VALUE"]),
        (base + ["--elevation", "30"], ["--elevation", "--link"]),
        (base + ["--link", "no-such-link"], ["--link", "no-such-link"]),
    ]
    params = _parameters(name)
    if name == "threshold-sharing":  # ((3, 5)): exactly five parties
        for bad in ("4", "6", "1e6"):
            rows.append((base + ["--parties", bad], [f"--parties={int(float(bad))}", "[5, 5]"]))
    elif "parties" in params:
        lo, hi = _parties_range(name)
        for bad in (lo - 1, hi + 1, 10**6):
            rows.append((base + ["--parties", str(bad)], [f"--parties={bad}", f"[{lo}, {hi}]"]))
    else:
        rows.append((base + ["--parties", "3"], ["--parties=3", "no parties"]))
    for pname, annotation in params.items():
        if "bytes" in annotation:
            continue  # text is a valid message: see QSDC_ROWS
        for value in PARAM_BAD:
            rows.append((base + ["--rounds", "100", "--param", f"{pname}={value}"], [f"--param {pname}", value]))
    return rows


PARAM_BAD = ["nan", "inf", "-inf", "-1", "abc", "1e999"]


def _parameters(name: str) -> dict[str, str]:
    sig = inspect.signature(PROTOCOLS[name].__init__).parameters
    return {k: str(p.annotation) for k, p in sig.items() if k != "self" and p.kind in (p.KEYWORD_ONLY,
                                                                                       p.POSITIONAL_OR_KEYWORD)}


def _parties_range(name: str) -> tuple[int, int]:
    cls = PROTOCOLS[name]
    return getattr(cls, "MIN_PARTIES", 2), getattr(cls, "MAX_PARTIES", None) or 10**6


# ---- QSDC messages ------------------------------------------------------------------------------------
def qsdc_rows() -> list[tuple[list[str], list[str]]]:
    rows = []
    for name in ("qsdc-two-step", "qsdc-dl04"):
        base = ["run", name, "--no-progress"]
        rows += [
            (base + ["--param", "message="], ["--param message", "at least one byte"]),
            (base + ["--param", "message=" + "x" * 200_000], ["--param message", "1 to 131072 bytes"]),
            (base + ["--param", "message=hello", "--rounds", "5"], ["--rounds=5", "[41, 4194304]" if name == "qsdc-dl04"
                                                                     else "[21, 4194304]"]),
            (base + ["--rounds", "1e7"], ["--rounds=10000000", "[1, 4194304]"]),
            (base + ["--param", "qber_threshold=0.6"], ["--param qber_threshold=0.6", "[0, 0.5]"]),
            (base + ["--param", "second_check_fraction=1.5"], ["--param second_check_fraction=1.5", "[0, 1]"]),
        ]
    return rows


# ---- other commands and structural errors -----------------------------------------------------------
def command_rows() -> list[tuple[list[str], list[str]]]:
    rows: list[tuple[list[str], list[str]]] = []
    for flag, rng in (("--rounds", INT_RANGE["--rounds"]), ("--seed", INT_RANGE["--seed"])):
        for value in ["0" if flag == "--rounds" else "-1", "abc", "1.5", "nan", "-inf", "1e999", ""]:
            rows.append((["demo", flag, value, "--no-progress"], [flag, rng]))
    for flag, rng in (("--examples", "integers in [1, 10000]"), ("--rounds", "integers in [1, 1e9]"),
                      ("--seed", "integers in [0, 9.22337e+18]")):
        for value in ["-1", "abc", "1.5", "nan", "inf", "1e999", ""]:
            rows.append((["verify", "bb84", flag, value, "--no-progress"], [flag, rng]))
    rows += [
        (["verify", "e91", "--no-progress"], ["e91", "available"]),
        (["verify", "bb84", "--import", "no_such_module_xyz"], ["--import=no_such_module_xyz", "importable"]),
        (["verify", "bb84", "--examples", "0"], ["--examples=0", "integers in [1, 10000]"]),
        (["run", "e91"], ["'e91'", "available"]),
        (["run", "BB84"], ["'BB84'", "available"]),
        (["run", ""], ["''", "available"]),
        (["run", " bb84"], ["' bb84'", "available"]),
        (["run", "bb84", "--link", "leo-haps", "--transmittance", "0.5"], ["--link", "--transmittance"]),
        (["run", "bb84", "--param", "p_z"], ["--param 'p_z'", "NAME=VALUE"]),
        (["run", "bb84", "--param", "p_z=0.5", "--param", "p_z=2"], ["--param p_z=2", "(0, 1)"]),
        (["run", "bb84", "--parties", "3", "--param", "parties=3"], ["--parties=3", "no parties"]),
        (["run", "ghz-cka", "--parties", "3", "--param", "parties=4"], ["--parties", "--param parties"]),
        (["frobnicate"], ["frobnicate", "choose from"]),
        (["list", "--frobnicate"], ["--frobnicate", "unrecognized"]),
        (["list", "extra"], ["extra", "unrecognized"]),
        (["run"], ["protocol", "required"]),
        ([], ["command", "required"]),
        (["run", "bb84", "--rounds"], ["--rounds", "expected one argument"]),
        (["run", "bb84", "--json=yes"], ["--json", "ignored explicit argument"]),
        (["demo", "--rounds", "1e19"], ["--rounds=1e19", INT_RANGE["--rounds"]]),
    ]
    return rows


def all_rows() -> list[tuple[list[str], list[str]]]:
    rows: list[tuple[list[str], list[str]]] = []
    for flag, allowed in INT_RANGE.items():
        for value in INT_BAD + INT_BAD_BY_FLAG[flag]:
            argv = ["run", "ghz-cka" if flag == "--parties" else "bb84", flag, value, "--no-progress"]
            rows.append((argv, [flag, allowed]))
    for flag, allowed in REAL_RANGE.items():
        for value in REAL_BAD + REAL_BAD_BY_FLAG.get(flag, []):
            if flag != "--depolarisation" and value == "1e3":
                continue
            rows.append((["run", "bb84", flag, value, "--no-progress"], [flag, allowed]))
    for value in ["-1", "90.5", "nan", "abc"]:
        rows.append((["run", "bb84", "--link", "leo-haps", "--elevation", value], ["--elevation", "[0, 90]"]))
    for spec, fragment in EVE_BAD:
        rows.append((["run", "bb84", "--eavesdropper", spec, "--no-progress"], [f"--eavesdropper={spec}", fragment]))
    for name in available_protocols():
        rows += per_protocol_rows(name)
    rows += qsdc_rows()
    rows += command_rows()
    return rows
