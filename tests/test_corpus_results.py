"""Issue 10: results from corrupted data. For every registered protocol, a faithful dict
round-trips, and every corruption in ``tests/corpus/result_tables.py`` makes
``result_from_dict`` raise qproto's own error naming the field; runs with the same seed do not
merge."""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import re

import pytest

from corpus.result_tables import ROWS
from qproto import Channel, InvalidParameter, QprotoError, available_protocols, get_protocol, result_from_dict

NAMES = available_protocols()
CHANNEL = Channel(transmittance=0.6, depolarisation=0.05, noise_click=1e-3)


@functools.lru_cache(maxsize=None)
def _run(name: str, seed: int = 5):
    return get_protocol(name).run(CHANNEL, rounds=600, seed=seed)


def _tally_field(result) -> str:
    additive = type(result).ADDITIVE
    return additive[0]


@functools.lru_cache(maxsize=None)
def _faithful(name: str) -> str:
    return json.dumps(_run(name).to_dict())


@pytest.mark.parametrize("name", NAMES)
def test_faithful_round_trip(name):
    r = _run(name)
    assert result_from_dict(json.loads(_faithful(name))) == r


CASES = [(name, label, mutate, fragment) for name in NAMES for label, mutate, fragment in ROWS]


@pytest.mark.parametrize("name, label, mutate, fragment", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_corrupted_dict_raises_naming_the_field(name, label, mutate, fragment):
    r = _run(name)
    data = json.loads(_faithful(name))
    tally = _tally_field(r)
    mutate(data, tally)
    pattern = fragment.replace("<tally>", tally)
    with pytest.raises(QprotoError) as info:
        result_from_dict(data)
    assert isinstance(info.value, (ValueError, TypeError))
    assert re.search(pattern, str(info.value)), (pattern, str(info.value))


QKD_CONTRADICTIONS = [
    ("detected", lambda c: c.update(detected=c["rounds"] + 1), "detected"),
    ("sifted > detected", lambda c: c.update(sifted_z=c["detected"] + 1, errors_z=0), "detected"),
    ("errors > sifted", lambda c: c.update(errors_x=c["sifted_x"] + 1), "errors"),
    ("mismatched_agree > mismatched", lambda c: c.update(mismatched_agree=c["mismatched"] + 1), "mismatched"),
    ("eve_correct > eve_sifted", lambda c: c.update(eve_correct=c["eve_sifted"] + 1), "eve"),
    ("chsh_sum beyond chsh_n", lambda c: c.update(chsh_sum=[c["chsh_n"][0] + 2, 0, 0, 0]), "chsh_sum"),
    ("counts.rounds != rounds", lambda c: c.update(rounds=c["rounds"] - 1), "rounds"),
    ("counts field missing", lambda c: c.pop("sifted_x"), "sifted_x"),
    ("counts field unknown", lambda c: c.update(colour=1), "colour"),
]


@pytest.mark.parametrize("label, edit, fragment", QKD_CONTRADICTIONS, ids=[c[0] for c in QKD_CONTRADICTIONS])
def test_contradictory_qkd_counts_are_refused_even_without_estimates(label, edit, fragment):
    data = _run("bb84").to_dict()
    del data["estimates"]  # the counts alone must be checked
    edit(data["counts"])
    with pytest.raises(QprotoError, match=fragment):
        result_from_dict(data)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_does_not_merge(name):
    r = _run(name)
    with pytest.raises(InvalidParameter, match="seed"):
        r + r
    with pytest.raises(InvalidParameter, match="seed"):
        r + dataclasses.replace(r)
    merged = r + _run(name, seed=6)  # different seeds merge
    assert merged.seeds == (5, 6) and merged.rounds == 1200
