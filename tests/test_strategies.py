"""The public hypothesis strategies draw what they promise: basis-dependent (rotated) channels,
pairwise-different channel tuples, and basis probabilities away from 1/2."""

import itertools
import math

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from qproto import Channel, InterceptResend, InvalidParameter, InvalidType
from qproto.protocols import BB84, BBM92
from qproto.testing import (
    asymmetric_channels,
    bb84_params,
    bbm92_params,
    biased_bases,
    channel_tuples,
    channels,
    intercept_resend,
    noisy_channels,
    rotated_channels,
    rotation_axes,
)


FIND = settings(database=None, max_examples=2000, phases=[Phase.generate, Phase.shrink])


def _draws(strategy, n=150):
    """Up to ``n`` generated (not shrunk) examples, reproducibly."""
    out = []

    @settings(max_examples=n, database=None, derandomize=True, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(x):
        out.append(x)

    collect()
    assert len(out) >= min(n, 50)
    return out


# ---- rotations ---------------------------------------------------------------------------

def test_rotated_channels_mostly_have_different_error_rates_in_z_and_x():
    """Catches a strategy that draws only symmetric channels (E_X == E_Z cannot reveal swapped bit/phase errors)."""
    drawn = _draws(rotated_channels())
    different = [ch for ch in drawn if abs(ch.qber_x - ch.qber_z) > 0.02]
    assert len(different) >= 0.6 * len(drawn)
    for ch in drawn:
        assert 0.4 <= ch.rotation_rad <= 1.0
        assert ch.transmittance >= 0.2 and ch.detector_efficiency >= 0.2
        assert ch.depolarisation <= 0.2 and ch.misalignment <= 0.03 and ch.noise_click <= 0.01


@pytest.mark.parametrize("axis", [(0.0, 0.0, 1.0), (0.0, 1.0, 0.0), (1.0, 0.0, 0.0)])
def test_rotated_channels_include_the_coordinate_axes(axis):
    ch = find(rotated_channels(), lambda c: c.rotation_axis == axis, settings=FIND)
    assert ch.rotation_axis == axis


def test_pure_z_rotation_gives_smaller_z_than_x_error():
    ch = find(rotated_channels(), lambda c: c.rotation_axis == (0.0, 0.0, 1.0), settings=FIND)
    assert ch.qber_x - ch.qber_z > 0.02


def test_rotated_channels_include_tilted_axes_and_lossless_ones():
    find(rotated_channels(), lambda c: all(abs(x) > 0.05 for x in c.rotation_axis), settings=FIND)
    lossless = _draws(rotated_channels(lossless=True), 30)
    assert all(c.total_transmittance == 1.0 and c.rotation_rad >= 0.4 for c in lossless)


def test_rotation_axes_are_unit_vectors():
    for n in _draws(rotation_axes()):
        assert len(n) == 3 and math.hypot(*n) == pytest.approx(1.0, abs=1e-12)


def test_channels_rotate_only_when_asked():
    assert all(ch.rotation_rad == 0.0 for ch in _draws(channels()))
    drawn = _draws(channels(max_rotation_rad=0.5))
    assert all(0.0 <= ch.rotation_rad <= 0.5 for ch in drawn)
    assert any(ch.rotation_rad > 0.1 for ch in drawn)


def test_noisy_channels_keep_their_bounds():
    for ch in _draws(noisy_channels()):
        assert ch.transmittance >= 0.2 and ch.depolarisation <= 0.3 and ch.rotation_rad == 0.0


# ---- pairwise-different tuples -------------------------------------------------------------

def _assert_pairwise_apart(values, gap):
    for a, b in itertools.combinations(values, 2):
        assert abs(a - b) >= gap - 1e-12, (values, gap)


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_channel_tuples_differ_pairwise_in_error_and_transmittance(n):
    """Catches tuples whose legs coincide (then a test cannot see two legs swapped)."""
    for legs in _draws(channel_tuples(n, min_gap=0.05), 60):
        assert len(legs) == n and all(isinstance(ch, Channel) for ch in legs)
        assert len(set(legs)) == n
        _assert_pairwise_apart([ch.qubit_depolarisation for ch in legs], 0.05)
        _assert_pairwise_apart([ch.total_transmittance for ch in legs], 0.05)


def test_channel_tuples_respect_the_field_bounds():
    strategy = channel_tuples(4, min_gap=0.02, max_depolarisation=0.3, max_misalignment=0.05,
                              max_noise_click=0.01, min_transmittance=0.3, max_rotation_rad=0.4)
    for legs in _draws(strategy, 80):
        for ch in legs:
            assert 0.0 <= ch.depolarisation <= 0.3 and 0.0 <= ch.misalignment <= 0.05
            assert ch.noise_click <= 0.01 and ch.transmittance >= 0.3 and ch.detector_efficiency >= 0.3
            assert 0.0 <= ch.rotation_rad <= 0.4


def test_channel_tuples_reach_the_far_end_of_a_wide_depolarisation_range():
    legs = find(channel_tuples(3, max_depolarisation=4 / 3), lambda t: max(c.qubit_depolarisation for c in t) > 1.2,
                settings=FIND)
    assert all(0.0 <= c.depolarisation <= 4 / 3 for c in legs)


def test_lossless_channel_tuples_differ_in_error():
    for legs in _draws(channel_tuples(3, min_gap=0.1, lossless=True), 40):
        assert all(ch.total_transmittance == 1.0 and ch.noise_click == 0.0 for ch in legs)
        _assert_pairwise_apart([ch.qubit_depolarisation for ch in legs], 0.1)


def test_channel_tuples_are_shuffled():
    """Neither leg is always the noisier one (else a leg-swap bug could hide behind the ordering)."""
    find(channel_tuples(2), lambda t: t[0].qubit_depolarisation > t[1].qubit_depolarisation,
         settings=FIND)
    find(channel_tuples(2), lambda t: t[0].qubit_depolarisation < t[1].qubit_depolarisation,
         settings=FIND)


@pytest.mark.parametrize("n", [2, 3, 6, 11])
def test_asymmetric_channels_are_noisy_channels_that_differ(n):
    for legs in _draws(asymmetric_channels(n), 40):
        assert len(legs) == n
        _assert_pairwise_apart([ch.qubit_depolarisation for ch in legs], 0.03)
        _assert_pairwise_apart([ch.total_transmittance for ch in legs], 0.03)
        for ch in legs:
            assert ch.depolarisation <= 0.3 and ch.misalignment <= 0.05 and ch.noise_click <= 0.01
            assert ch.transmittance >= 0.2 and ch.detector_efficiency >= 0.2 and ch.rotation_rad == 0.0


def test_asymmetric_channels_can_rotate_each_leg():
    legs = find(asymmetric_channels(2, max_rotation_rad=1.0),
                lambda t: t[0].rotation_rad > 0.2 and t[1].rotation_rad > 0.2, settings=FIND)
    assert all(ch.rotation_rad <= 1.0 for ch in legs)


# ---- biased bases and attacks ---------------------------------------------------------------

def test_biased_bases_avoid_one_half_and_reach_both_sides():
    drawn = _draws(biased_bases())
    assert all(0.1 <= p <= 0.9 and abs(p - 0.5) >= 0.05 for p in drawn)
    assert any(p < 0.5 for p in drawn) and any(p > 0.5 for p in drawn)
    assert all(abs(p - 0.5) >= 0.2 for p in _draws(biased_bases(min_value=0.0, max_value=0.6, min_bias=0.2)))


def test_intercept_resend_draws_biased_attacks_by_default():
    """Catches a strategy whose attacks are always symmetric (p_z = 1/2 hides a Z/X mix-up in Eve's basis)."""
    drawn = _draws(intercept_resend())
    assert all(isinstance(eve, InterceptResend) for eve in drawn)
    assert all(abs(eve.p_z - 0.5) >= 0.05 and 0.0 <= eve.fraction <= 1.0 for eve in drawn)
    assert any(eve.p_z < 0.5 for eve in drawn) and any(eve.p_z > 0.5 for eve in drawn)
    assert all(0.3 <= eve.fraction <= 0.6 for eve in _draws(intercept_resend(min_fraction=0.3, max_fraction=0.6)))
    assert all(eve.p_z == 0.5 for eve in _draws(intercept_resend(p_z=st.just(0.5)), 20))


@pytest.mark.parametrize("params, protocol", [(bb84_params, BB84), (bbm92_params, BBM92)])
def test_protocol_params_are_mostly_biased_and_valid(params, protocol):
    drawn = _draws(params())
    biased = [d for d in drawn if abs(d["p_z"] - 0.5) >= 0.05]
    assert len(biased) >= 0.5 * len(drawn)
    assert all(d["p_z"] == 0.5 or abs(d["p_z"] - 0.5) >= 0.05 for d in drawn)
    for d in drawn[:20]:
        protocol(**d)


def test_protocol_params_take_a_p_z_strategy():
    assert all(d["p_z"] == 0.5 for d in _draws(bb84_params(p_z=st.just(0.5)), 10))


# ---- validation of the strategies' own arguments -------------------------------------------

BAD = [
    (lambda: channel_tuples(0), InvalidParameter, "n"),
    (lambda: channel_tuples(2.0), InvalidType, "n"),
    (lambda: channel_tuples(2, min_gap=0.0), InvalidParameter, "min_gap"),
    (lambda: channel_tuples(5, min_gap=0.1, max_depolarisation=0.3), InvalidParameter, "min_gap"),
    (lambda: channel_tuples(5, min_gap=0.3, min_transmittance=0.5), InvalidParameter, "min_gap"),
    (lambda: asymmetric_channels(12), InvalidParameter, "min_gap"),
    (lambda: channel_tuples(2, max_rotation_rad=4.0), InvalidParameter, "max_rotation_rad"),
    (lambda: channels(max_rotation_rad=-0.1), InvalidParameter, "max_rotation_rad"),
    (lambda: channels(max_depolarisation=1.5), InvalidParameter, "max_depolarisation"),
    (lambda: channels(lossless=1), InvalidType, "lossless"),
    (lambda: rotated_channels(min_rotation_rad=1.0, max_rotation_rad=0.5), InvalidParameter, "max_rotation_rad"),
    (lambda: rotated_channels(min_rotation_rad=-1.0), InvalidParameter, "min_rotation_rad"),
    (lambda: biased_bases(min_bias=0.0), InvalidParameter, "min_bias"),
    (lambda: biased_bases(min_value=0.45, max_value=0.55, min_bias=0.1), InvalidParameter, "min_bias"),
    (lambda: biased_bases(min_value=0.6, max_value=0.5), InvalidParameter, "max_value"),
    (lambda: intercept_resend(min_fraction=1.5), InvalidParameter, "min_fraction"),
    (lambda: intercept_resend(min_fraction=0.5, max_fraction=0.2), InvalidParameter, "max_fraction"),
    (lambda: intercept_resend(p_z=0.3), InvalidType, "p_z"),
    (lambda: bb84_params(p_z=0.5), InvalidType, "p_z"),
    (lambda: bbm92_params(p_z="biased"), InvalidType, "p_z"),
]


@pytest.mark.parametrize("call, exc, name", BAD)
def test_bad_strategy_arguments_are_rejected_when_the_strategy_is_built(call, exc, name):
    with pytest.raises(exc) as info:
        call()
    assert info.value.name == name
    assert name in str(info.value)
