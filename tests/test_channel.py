"""Channel value object: validation, derived quantities, invariant 5 (PHYSICS.md C.8(b))."""

import math

import pytest
from hypothesis import given

from qproto import Channel, InvalidParameter, InvalidType
from qproto.testing import channels, probabilities


def test_defaults_are_ideal():
    ch = Channel()
    assert ch == Channel.ideal()
    assert ch.total_transmittance == 1.0
    assert ch.detection_probability == 1.0
    assert ch.qber == 0.0
    assert ch.loss_db == 0.0


def test_derived_quantities_by_hand():
    ch = Channel(transmittance=0.5, detector_efficiency=0.2, noise_click=0.01, depolarisation=0.1,
                 misalignment=0.02)
    eta = 0.1
    p_click = eta + (1 - eta) * 0.01
    assert ch.total_transmittance == pytest.approx(eta)
    assert ch.loss_db == pytest.approx(10.0)
    assert ch.detection_probability == pytest.approx(p_click)
    p_q = 1 - 0.9 * 0.96
    assert ch.qubit_depolarisation == pytest.approx(p_q)
    s = eta / p_click
    assert ch.qber == pytest.approx((s * p_q + (1 - s)) / 2)


def test_nothing_clicks():
    ch = Channel(transmittance=0.0)
    assert ch.detection_probability == 0.0
    assert ch.signal_fraction == 0.0
    assert ch.effective_depolarisation == 1.0
    assert math.isinf(ch.loss_db)


def test_from_qber_and_replace():
    ch = Channel.from_qber(0.05, transmittance=0.3)
    assert ch.qber == pytest.approx(0.05)
    assert ch.replace(transmittance=0.1).transmittance == 0.1
    with pytest.raises(InvalidParameter, match="transmittance"):
        ch.replace(transmittance=2.0)


@given(channels())
def test_repr_and_dict_round_trip(ch):
    assert eval(repr(ch), {"Channel": Channel}) == ch
    assert Channel.from_dict(ch.to_dict()) == ch


@given(ch=channels(), y0=probabilities(), eta=probabilities())
def test_invariant5_effective_depolarisation_bounds_and_monotonicity(ch, y0, eta):
    """Invariant 5: p_eff in [0, 1]; non-decreasing in Y0; non-increasing in eta."""
    ch = ch.replace(depolarisation=min(ch.depolarisation, 1.0))
    p = ch.effective_depolarisation
    assert -1e-12 <= p <= 1.0 + 1e-12
    lo, hi = sorted([ch.noise_click, y0])
    assert ch.replace(noise_click=lo).effective_depolarisation <= ch.replace(noise_click=hi).effective_depolarisation + 1e-12
    lo, hi = sorted([ch.transmittance, eta])
    assert ch.replace(transmittance=hi).effective_depolarisation <= ch.replace(transmittance=lo).effective_depolarisation + 1e-12


@given(e_d=probabilities(max_value=0.5), eta=probabilities(min_value=1e-3))
def test_invariant5_limits(e_d, eta):
    """Invariant 5: p_eff -> 2 e_d as Y0 -> 0; -> 1 as eta -> 0 (Y0 > 0)."""
    assert Channel(misalignment=e_d, transmittance=eta).effective_depolarisation == pytest.approx(2 * e_d)
    assert Channel(misalignment=e_d, transmittance=0.0, noise_click=1e-6).effective_depolarisation == 1.0
    tiny = Channel(misalignment=e_d, transmittance=1e-12, noise_click=1e-3).effective_depolarisation
    assert tiny == pytest.approx(1.0, abs=1e-8)


BAD = [
    (dict(transmittance=-0.1), InvalidParameter, "transmittance"),
    (dict(transmittance=1.01), InvalidParameter, "transmittance"),
    (dict(transmittance=float("nan")), InvalidParameter, "transmittance"),
    (dict(transmittance="0.5"), InvalidType, "transmittance"),
    (dict(transmittance=True), InvalidType, "transmittance"),
    (dict(depolarisation=1.5), InvalidParameter, "depolarisation"),
    (dict(depolarisation=-1e-9), InvalidParameter, "depolarisation"),
    (dict(misalignment=0.6), InvalidParameter, "misalignment"),
    (dict(noise_click=float("inf")), InvalidParameter, "noise_click"),
    (dict(noise_click=None), InvalidType, "noise_click"),
    (dict(detector_efficiency=2), InvalidParameter, "detector_efficiency"),
]


@pytest.mark.parametrize("kwargs, exc, name", BAD)
def test_bad_channels_are_rejected(kwargs, exc, name):
    with pytest.raises(exc, match=name) as info:
        Channel(**kwargs)
    assert repr(list(kwargs.values())[0])[:3] in str(info.value) or "nan" in str(info.value)
    assert info.value.name == name


def test_channel_is_frozen():
    with pytest.raises(AttributeError):
        Channel().transmittance = 0.5  # type: ignore[misc]


def test_from_dict_rejects_unknown_keys():
    with pytest.raises(InvalidParameter, match="unknown"):
        Channel.from_dict({"transmittance": 0.5, "loss": 3})
    with pytest.raises(InvalidType):
        Channel.from_dict([("transmittance", 0.5)])
