"""qproto.testing: the checkers catch broken protocols, and the strategies draw valid values."""

import math

import pytest
from hypothesis import given

from qproto import Channel, InvalidParameter, get_protocol
from qproto.protocols import BB84
from qproto.testing import (
    InvariantViolation,
    assert_keys_equal,
    assert_matches_expected,
    assert_proportion,
    assert_reproducible,
    assert_same_proportion,
    channels,
    intercept_resend,
    proportion_tolerance,
    protocol_params,
    required_trials,
    seeds,
)


def test_tolerance_is_the_physics_md_rule():
    assert proportion_tolerance(0.25, 1200) == pytest.approx(5 * math.sqrt(0.25 * 0.75 / 1200) + 1 / 1200)
    # docs/conventions.md B: N >= 25 p0 (1 - p0) / delta^2. For QBER 0.25 +- 0.02 that is 11 719; the
    # "~1200" printed beside it in docs/conventions.md is off by a factor of ten.
    assert required_trials(0.25, 0.02) == 11_719


def test_assert_proportion_passes_inside_and_fails_outside_the_band():
    assert_proportion(2600, 10_000, 0.25)
    with pytest.raises(InvariantViolation, match="expected 0.25"):
        assert_proportion(2800, 10_000, 0.25)
    with pytest.raises(InvariantViolation, match="exactly 0"):
        assert_proportion(1, 10_000, 0.0)
    with pytest.raises(InvariantViolation, match="no trials"):
        assert_proportion(0, 0, 0.5)


def test_assert_same_proportion():
    assert_same_proportion(500, 1000, 5100, 10_000)
    with pytest.raises(InvariantViolation):
        assert_same_proportion(400, 1000, 5100, 10_000)


class WrongSiftingBB84(BB84):
    """A deliberately broken protocol: Bob keeps mismatched-basis rounds as key."""

    name = "test-broken-bb84"

    @staticmethod
    def _decoder(eve):
        honest = BB84._decoder(eve)

        def decode(cfg, outcome):
            a_set, a_bit, _, b_bit, branch, e_bit = honest(cfg, outcome)
            return a_set, a_bit, a_set, b_bit, branch, e_bit  # Bob's basis "always matches"

        return decode


def test_the_harness_catches_a_broken_protocol():
    ch = Channel()
    broken = WrongSiftingBB84()
    with pytest.raises(InvariantViolation):
        assert_matches_expected(broken.run(ch, rounds=20_000, seed=1), BB84().expected(ch))
    record = broken.sample(ch, rounds=2000, seed=1)
    with pytest.raises(InvariantViolation, match="differ"):
        assert_keys_equal(*record.sifted_keys())


def test_assert_reproducible_catches_hidden_global_randomness():
    import numpy as np
    calls = iter(range(100))

    def leaky(seed):
        np.random.default_rng(seed)  # ignored: the result depends on a hidden counter instead
        return next(calls)

    with pytest.raises(InvariantViolation):
        assert_reproducible(leaky)


@given(ch=channels(), eve=intercept_resend(), seed=seeds(), params=protocol_params("bbm92"))
def test_strategies_draw_valid_values(ch, eve, seed, params):
    assert isinstance(ch, Channel) and 0 <= eve.fraction <= 1 and seed >= 0
    get_protocol("bbm92", **params)


def test_protocol_params_rejects_unknown_protocols():
    with pytest.raises(InvalidParameter, match="name"):
        protocol_params("nope")
