"""Corruptions of a result's ``to_dict()`` output (issue 10): each must make ``result_from_dict``
raise qproto's own error naming the field, never return an object.

A row is ``(label, mutate, fragment)``: ``mutate(data)`` edits a deep copy of a faithful dict in
place (given the name of the field holding the tallies), and ``fragment`` must appear in the
error message (the field's name)."""

from __future__ import annotations

from typing import Any, Callable

Mutation = Callable[[dict[str, Any], str], None]


def _first_key(d: dict) -> str:
    return sorted(d)[0]


def _set(field: str, value: Any) -> Mutation:
    def mutate(data: dict, tally: str) -> None:
        data[field] = value
    return mutate


def _delete(field: str) -> Mutation:
    def mutate(data: dict, tally: str) -> None:
        del data[tally if field == "<tally>" else field]
    return mutate


def _tally(edit: Callable[[Any], Any], key: str | None = None) -> Mutation:
    """Edit one entry of the tallies (the first key, or ``key``)."""
    def mutate(data: dict, tally: str) -> None:
        t = data[tally]
        k = key if key is not None else _first_key(t)
        if k not in t:
            k = _first_key(t)
        t[k] = edit(t[k])
    return mutate


def _scale(v: Any, f: Callable[[int], Any]) -> Any:
    if isinstance(v, list):
        return [f(x) if isinstance(x, int) else x for x in v]
    return f(v) if isinstance(v, int) else v


def _drop_tally_key(data: dict, tally: str) -> None:
    t = data[tally]
    del t[_first_key(t)]


def _truncate_tuple(data: dict, tally: str) -> None:
    t = data[tally]
    lists = [k for k in sorted(t) if isinstance(t[k], list) and len(t[k]) > 0]
    k = lists[0] if lists else _first_key(t)
    t[k] = t[k][:-1] if isinstance(t[k], list) else "truncated"


def _inflate_all(data: dict, tally: str) -> None:
    """Every tally times 3 but rounds kept: estimates no longer derive from these counts."""
    t = data[tally]
    for k in t:
        t[k] = _scale(t[k], lambda x: 3 * x + 7)


def _edit_estimate(data: dict, tally: str) -> None:
    est = data["estimates"]
    for k in sorted(est):
        v = est[k]
        if isinstance(v, dict) and isinstance(v.get("high"), float):
            v["high"] = v["high"] / 2 + 0.25
            return
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            est[k] = v + 1
            return


def _dup_seed(data: dict, tally: str) -> None:
    data["seeds"] = [data["seed"], data["seed"]]


ROWS: list[tuple[str, Mutation, str]] = [
    ("no type", _delete("type"), "type"),
    ("type None", _set("type", None), "type"),
    ("type unknown", _set("type", "NoSuchResult"), "type"),
    ("type int", _set("type", 3), "type"),
    ("no protocol", _delete("protocol"), "protocol"),
    ("protocol None", _set("protocol", None), "protocol"),
    ("protocol unknown", _set("protocol", "e91"), "protocol"),
    ("protocol int", _set("protocol", 91), "protocol"),
    ("no parameters", _delete("parameters"), "parameters"),
    ("parameters None", _set("parameters", None), "parameters"),
    ("parameters list", _set("parameters", [1, 2]), "parameters"),
    ("no channels", _delete("channels"), "channels"),
    ("channels None", _set("channels", None), "channels"),
    ("channels str", _set("channels", "ideal"), "channels"),
    ("channel out of range", _set("channels", [{"transmittance": 2.0}]), "transmittance"),
    ("no rounds", _delete("rounds"), "rounds"),
    ("rounds None", _set("rounds", None), "rounds"),
    ("rounds negative", _set("rounds", -1), "rounds"),
    ("rounds str", _set("rounds", "100"), "rounds"),
    ("rounds float", _set("rounds", 100.5), "rounds"),
    ("rounds bool", _set("rounds", True), "rounds"),
    ("no seed", _delete("seed"), "seed"),
    ("seed None", _set("seed", None), "seed"),
    ("seed negative", _set("seed", -5), "seed"),
    ("seed str", _set("seed", "five"), "seed"),
    ("seed float", _set("seed", 5.5), "seed"),
    ("seeds repeated", _dup_seed, "seeds"),
    ("seeds None", _set("seeds", None), "seeds"),
    ("eavesdropper str", _set("eavesdropper", "intercept-resend"), "eavesdropper"),
    ("no tallies", _delete("<tally>"), "<tally>"),
    ("tallies None", lambda d, t: d.__setitem__(t, None), "<tally>"),
    ("tallies list", lambda d, t: d.__setitem__(t, [1, 2, 3]), "<tally>"),
    ("tally key dropped", _drop_tally_key, "<tally>"),
    ("tally truncated", _truncate_tuple, "<tally>"),
    ("tally negative", _tally(lambda v: _scale(v, lambda x: -1 - x)), "<tally>"),
    ("tally str", _tally(lambda v: "12"), "<tally>"),
    ("tally float", _tally(lambda v: _scale(v, lambda x: x + 0.5)), "<tally>"),
    ("tally None", _tally(lambda v: None), "<tally>"),
    ("tallies inflated", _inflate_all, "<tally>|estimates"),
    ("unknown field", _set("colour", "red"), "colour"),
    ("estimate edited", _edit_estimate, "estimates"),
    ("estimates list", _set("estimates", [1, 2]), "estimates"),
    ("confidence out of range", _set("confidence", 1.5), "confidence"),
    ("confidence None", _set("confidence", None), "confidence"),
]
