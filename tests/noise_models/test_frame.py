"""Reference-frame misalignment as a coherent rotation (issue 11 item 6).

Expected error rates come from Jones calculus on explicit polarisation vectors (H = |0>, D = |+>),
independently of the Bloch-sphere composition in ``noise_models._frame``.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qproto import Channel, InvalidParameter
from qproto.noise_models import frame_rotation_circular_rad, get_link, polarisation_rotation

H, V = np.array([1.0, 0.0]), np.array([0.0, 1.0])
D, A = (H + V) / math.sqrt(2), (H - V) / math.sqrt(2)


def _jones(alpha, delta):
    """Frame rotation by alpha (real space), then a retarder diag(1, e^{i delta})."""
    rot = np.array([[math.cos(alpha), -math.sin(alpha)], [math.sin(alpha), math.cos(alpha)]])
    return np.diag([1.0, np.exp(1j * delta)]) @ rot


def _jones_errors(alpha, delta):
    j = _jones(alpha, delta)
    e_z = (abs(V @ j @ H) ** 2 + abs(H @ j @ V) ** 2) / 2
    e_x = (abs(A.conj() @ j @ D) ** 2 + abs(D.conj() @ j @ A) ** 2) / 2
    return e_z, e_x


@settings(max_examples=60, deadline=None)
@given(alpha=st.floats(-math.pi / 2, math.pi / 2), delta=st.floats(-math.pi, math.pi))
def test_composite_rotation_gives_the_jones_error_rates(alpha, delta):
    angle, axis = polarisation_rotation(frame_rotation_rad=alpha, retardance_rad=delta)
    ch = Channel(rotation_rad=angle, rotation_axis=axis)
    e_z, e_x = _jones_errors(alpha, delta)
    assert ch.qber_z == pytest.approx(e_z, abs=1e-9)
    assert ch.qber_x == pytest.approx(e_x, abs=1e-9)


def test_retardance_alone_gives_ex_not_ez_and_frame_alone_both():
    ch = get_link("leo-haps").replace(retardance_rad=0.6).channel()
    s, q = ch.signal_fraction, 1 - 2 * 0.01
    assert ch.qber_z == pytest.approx((1 - s * q) / 2, rel=1e-12)  # H/V untouched
    assert ch.qber_x == pytest.approx((1 - s * q * math.cos(0.6)) / 2, rel=1e-12)
    assert ch.qber_x > ch.qber_z + 0.08
    ch = get_link("leo-haps").replace(frame_rotation_rad=0.2).channel()
    assert ch.qber_z == pytest.approx(ch.qber_x, rel=1e-12)
    assert ch.qber_z == pytest.approx((1 - s * q * math.cos(0.4)) / 2, rel=1e-12)


def test_half_wave_plate_leaves_its_residual_but_not_the_retardance():
    base = get_link("leo-haps").replace(frame_rotation_rad=0.5, retardance_rad=0.3)
    comp = base.replace(hwp_compensation=True, hwp_residual_rad=0.05).channel()
    want = polarisation_rotation(frame_rotation_rad=0.05, retardance_rad=0.3)
    assert comp.rotation_rad == pytest.approx(want[0]) and comp.rotation_axis == pytest.approx(want[1])
    e_z, e_x = _jones_errors(0.05, 0.3)
    s, q = comp.signal_fraction, 1 - 2 * 0.01
    # the Jones errors of a pure state, shrunk by the misalignment and noise clicks
    assert comp.qber_z == pytest.approx((1 - s * q * (1 - 2 * e_z)) / 2, rel=1e-9)
    assert comp.qber_x == pytest.approx((1 - s * q * (1 - 2 * e_x)) / 2, rel=1e-9)
    assert comp.qber_z < base.channel().qber_z


def test_overhead_circular_pass_has_no_frame_rotation_and_an_offset_pass_an_odd_one():
    t = np.arange(-200.0, 201.0, 25.0)
    assert np.abs(frame_rotation_circular_rad(time_s=t, platform_altitude_m=535e3)).max() < 1e-9
    psi = frame_rotation_circular_rad(time_s=t, platform_altitude_m=535e3, max_elevation_deg=40.0,
                                      observer_altitude_m=20e3)
    np.testing.assert_allclose(psi, -psi[::-1], atol=1e-12)  # mirror symmetry about culmination
    assert psi[t == 0.0][0] == 0.0 and np.all(np.diff(psi) > 0) and np.abs(psi).max() < math.pi / 2
    # Far from culmination the projected axes tend to a fixed angle: the rotation saturates.
    assert abs(psi[-1]) > math.radians(25)


def test_link_pass_channels_carry_the_geometric_rotation():
    link = get_link("leo-haps").replace(frame_tracking="geometric", pass_max_elevation_deg=40.0)
    pc = link.pass_channels(time_step_s=50.0)
    want = frame_rotation_circular_rad(time_s=pc.time_s, platform_altitude_m=535e3, max_elevation_deg=40.0,
                                       observer_altitude_m=20e3)
    np.testing.assert_allclose(pc.frame_rotation_rad, want)
    for ch, a in zip(pc.channels, want):
        assert ch.rotation_rad == pytest.approx(2 * abs(a), abs=1e-12)
    assert np.all(get_link("leo-haps").replace(pass_max_elevation_deg=40.0).pass_channels(
        time_step_s=50.0).frame_rotation_rad == 0.0)


def test_circuits_see_the_rotation_as_basis_dependent_errors():
    """BB84 run on Aer over the link's channel (lossless here, so every round counts): the
    retardance makes E_X > E_Z as the Jones calculus predicts (5 sigma, fixed seed)."""
    from qproto.protocols import BB84

    ch = get_link("leo-haps").replace(retardance_rad=0.8, misalignment=0.0, noise_click=0.0).channel()
    ch = ch.replace(transmittance=1.0, detector_efficiency=1.0)
    r = BB84().run(ch, rounds=40_000, seed=11)
    e_z, e_x = _jones_errors(0.0, 0.8)
    for est, p in ((r.qber_z, e_z), (r.qber_x, e_x)):
        n = est.trials
        assert abs(est.best - p) <= 5 * math.sqrt(max(p * (1 - p), 1e-12) / n) + 1 / n
    assert e_z == pytest.approx(0.0, abs=1e-15) and e_x == pytest.approx(math.sin(0.4) ** 2)


@pytest.mark.parametrize("field, value", [("frame_rotation_rad", 2.0), ("retardance_rad", 4.0),
                                          ("hwp_residual_rad", -2.0), ("frame_tracking", "sometimes"),
                                          ("noise_click", 1.5), ("hwp_compensation", "yes")])
def test_bad_rotation_fields(field, value):
    with pytest.raises((InvalidParameter, TypeError), match=field):
        get_link("leo-haps").replace(**{field: value})
