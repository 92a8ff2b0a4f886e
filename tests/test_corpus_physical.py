"""Issue 10: physical ranges at the limiting cases, for every registered protocol. With no
transmission (with and without noise clicks) and with full depolarisation, every estimate is
ordered (low <= best <= high), proportions stay in [0, 1], the JSON holds no NaN, and every key
rate, key fraction and key length is exactly 0 (its limiting value), not an error, NaN or a
positive tail above the PLOB bound."""

from __future__ import annotations

import json
import math

import pytest

from qproto import Channel, Estimate, available_protocols, get_protocol

CHANNELS = {
    "no-transmission": Channel(transmittance=0.0),
    "no-transmission-noise": Channel(transmittance=0.0, noise_click=0.02),
    "full-depolarisation": Channel(depolarisation=4 / 3),
    "full-depolarisation-lossy": Channel(transmittance=0.3, depolarisation=4 / 3, noise_click=1e-3),
    # not a limit: ranges and ordering only (a key may exist)
    "typical": Channel(transmittance=0.4, depolarisation=0.04, misalignment=0.01, noise_click=1e-3,
                       rotation_rad=0.2),
}
LIMITS = set(CHANNELS) - {"typical"}
CASES = [(name, label) for name in available_protocols() for label in CHANNELS]


def _is_key(name: str) -> bool:
    return "key" in name and any(w in name for w in ("rate", "length", "fraction"))


@pytest.mark.parametrize("name, label", CASES)
def test_limiting_cases_give_limiting_values(name, label):
    result = get_protocol(name).run(CHANNELS[label], rounds=3000, seed=2)
    json.dumps(result.to_dict(), allow_nan=False)  # no NaN or infinity in the JSON
    for key, value in result.estimates().items():
        if isinstance(value, Estimate):
            if not math.isnan(value.best):
                assert value.low <= value.best <= value.high, (key, value)
            if value.trials is not None:
                assert 0.0 <= value.low <= value.high <= 1.0, (key, value)
        if isinstance(value, float) and not math.isnan(value) and (_is_key(key) or "fidelity" in key):
            assert 0.0 <= value, (key, value)
        if _is_key(key) and label in LIMITS:
            best = value.best if isinstance(value, Estimate) else value
            high = value.high if isinstance(value, Estimate) else value
            assert best == 0.0 and high == 0.0, (key, value)
