"""The public pass API (qproto.passes): optimisation quality, no-key rows, afterpulsing, nesting, seeds.

The pass here is synthetic (loss 29 dB at culmination rising as t^2, a coherent rotation about
Z so that E_X != E_Z, f_EC = 1.3), so expected values are written from docs/conventions.md A2 in the
test, independently of the link module.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from qproto import Channel, InvalidParameter
from qproto.passes import LinkPass, link_pass, pass_key_curve, simulate_pass
from qproto.protocols import DecoyBB84
from qproto.security import finite_key_length, optimise_decoy_parameters
from qproto.testing import assert_proportion

T = np.arange(-30.0, 31.0)
Y0 = 6e-7
THETA = 0.3  # rotation about Z: X-basis states turn, Z-basis states do not
CHANNELS = tuple(Channel(transmittance=10 ** (-(29.0 + 6.0 * (t / 30.0) ** 2) / 10), misalignment=0.01,
                         noise_click=Y0, rotation_rad=THETA, rotation_axis=(0.0, 0.0, 1.0)) for t in T)
ETA = np.array([c.transmittance for c in CHANNELS])
Q_DEP = 1 - (1 - 2 * 0.01)  # qubit depolarisation of a misalignment e_d = 0.01
E_Z = Q_DEP / 2
E_X = (1 - (1 - Q_DEP) * math.cos(THETA)) / 2
RATE = 1e9
PROTO = DecoyBB84(tails="chernoff", f_ec=1.3, afterpulse_probability=0.02, eps_sec=1e-9, eps_cor=1e-15)


def closed_form_key(params, sel, p_ap, *, protocol=PROTO):
    """Expected finite key of the slots ``sel`` (docs/conventions.md A2 counts written here), with the
    mean-field afterpulse noise computed from *these* parameters."""
    mu, p, p_z = np.array(params.intensities), np.array(params.probabilities), params.p_z
    n_z, n_x, m_z, m_x = np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(3)
    for eta in ETA[sel]:
        p_click = sum(p[k] * (1 - (1 - Y0) * math.exp(-eta * mu[k])) for k in range(3))
        y0 = 1 - (1 - Y0) * (1 - p_ap * p_click)
        for k in range(3):
            sig = 1 - math.exp(-eta * mu[k])
            base = RATE * p[k] * (y0 + sig)
            n_z[k] += base * p_z**2
            n_x[k] += base * (1 - p_z) ** 2
            m_z[k] += RATE * p[k] * p_z**2 * (y0 / 2 + E_Z * sig)
            m_x[k] += RATE * p[k] * (1 - p_z) ** 2 * (y0 / 2 + E_X * sig)
    return float(finite_key_length(intensities=mu, probabilities=p, n_z=n_z, n_x=n_x, m_x=m_x,
                                   qber_z=m_z.sum() / n_z.sum(), eps_sec=protocol.eps_sec,
                                   eps_cor=protocol.eps_cor, f_ec=protocol.f_ec, tails=protocol.tails).ell)


@pytest.fixture(scope="module")
def curve():
    return pass_key_curve(CHANNELS, time_s=T, half_windows_s=[0, 6, 15, 30], source_rate_hz=RATE,
                          protocol=PROTO, seed=7)


def test_optimised_keys_within_half_percent_of_a_20_start_search(curve):
    """catches: an optimiser stopping early or in a poor basin (the default runs 2 starts per
    window, warm + one screened; the reference 20 plain Sobol starts, no warm start, no screen)."""
    for row in curve.rows[1:]:
        sel = np.abs(T) <= row.half_window_s
        ref = optimise_decoy_parameters(
            n_pulses=RATE, eta=ETA[sel], y0=Y0, e_d=E_Z, e_d_x=E_X, eps_sec=PROTO.eps_sec, eps_cor=PROTO.eps_cor,
            f_ec=PROTO.f_ec, tails="chernoff", afterpulse_probability=PROTO.afterpulse_probability,
            n_starts=20, screen=0, seed=3)
        assert ref.key_length > 0
        assert row.expected_key_length >= 0.995 * ref.key_length


def test_expected_key_uses_the_optimised_parameters_and_the_x_basis_error(curve):
    """Bug 8: the expected key computed the afterpulse noise from the initial intensities.
    catches: that, and E_X or f_EC ignored in the pass key (closed form written above)."""
    for row in curve.rows[1:]:
        sel = np.abs(T) <= row.half_window_s
        want = closed_form_key(row.parameters, sel, PROTO.afterpulse_probability)
        assert row.expected_key_length == pytest.approx(want, rel=1e-9)
        # the bug would show: afterpulse noise of the initial parameters gives another key
        mu0, p0 = np.array(PROTO.intensities), np.array(PROTO.probabilities)
        assert row.parameters.intensities != PROTO.intensities
        wrong_y0 = [1 - (1 - Y0) * (1 - 0.02 * sum(p0 * (1 - (1 - Y0) * np.exp(-e * mu0)))) for e in ETA[sel]]
        right_y0 = [1 - (1 - Y0) * (1 - 0.02 * sum(np.array(row.parameters.probabilities)
                                                   * (1 - (1 - Y0) * np.exp(-e * np.array(row.parameters.intensities)))))
                    for e in ETA[sel]]
        assert abs(np.mean(wrong_y0) / np.mean(right_y0) - 1) > 1e-3
        # and E_X = E_Z would give more key than the pass has
        assert closed_form_key(row.parameters, sel, 0.02) < 0.99 * closed_form_key_equal_bases(row.parameters, sel)


def closed_form_key_equal_bases(params, sel):
    global E_X
    saved, E_X = E_X, E_Z
    try:
        return closed_form_key(params, sel, 0.02)
    finally:
        E_X = saved


def test_a_window_without_key_says_so():
    """One slot (t = 0) of 2e7 pulses cannot give a finite key: the row says "no key" and shows
    no parameters; the next window is not warm-started from that meaningless point and has key.
    catches: degenerate parameters reported as an optimum, a no-key point used as warm start."""
    c = pass_key_curve(CHANNELS, time_s=T, half_windows_s=[0, 30], source_rate_hz=2e7, protocol=PROTO, seed=7)
    first, last = c.rows
    assert first.half_window_s == 0 and first.pulses == 2e7
    assert first.expected_key_length == 0 and not first.has_key and not first.optimum.has_key
    assert first.parameters is None
    d = first.to_dict()
    assert d["has_key"] is False and d["parameters"] is None
    assert last.has_key and last.parameters is not None and last.to_dict()["parameters"]["p_z"] == last.parameters.p_z


def test_window_counts_match_the_closed_form_with_unequal_bases(curve):
    """The simulated window (drawn with the window's optimised parameters) against the closed-form
    X and Z error rates and the vacuum gain with afterpulsing (5 sigma). catches: E_X != E_Z lost in
    the slot sampler, afterpulse noise missing from the simulation, parameters of another window."""
    row = curve.rows[-1]
    par = row.parameters
    c = row.result.counts
    assert row.result.parameters["afterpulse_probability"] == PROTO.afterpulse_probability
    mu, p, p_z = np.array(par.intensities), np.array(par.probabilities), par.p_z
    sig = 1 - np.exp(-ETA[:, None] * mu[None, :])                                   # (slots, 3)
    p_click = np.sum(p * (1 - (1 - Y0) * np.exp(-ETA[:, None] * mu)), axis=1)
    y0 = 1 - (1 - Y0) * (1 - PROTO.afterpulse_probability * p_click)
    gain = sig + (1 - sig) * y0[:, None]                                            # exact click model
    err = {"z": sig * E_Z + (1 - sig) * y0[:, None] / 2, "x": sig * E_X + (1 - sig) * y0[:, None] / 2}
    for basis in ("z", "x"):
        want = float(np.sum(p * err[basis]) / np.sum(p * gain))
        n, m = sum(getattr(c, f"n_{basis}")), sum(getattr(c, f"m_{basis}"))
        assert_proportion(m, n, want, what=f"QBER {basis}")
    assert_proportion(c.detected[2], c.sent[2], float(np.mean(gain[:, 2])), what="vacuum gain")
    assert c.sent[0] + c.sent[1] + c.sent[2] == RATE * len(T)
    assert abs(E_X - E_Z) > 0.01


def test_fixed_parameters_simulate_each_slot_once_and_nest():
    """Without optimisation every slot is drawn once and the windows are sums: each row equals the
    same-seed simulate_pass of the whole pass cut to that window. catches: re-drawn nested slots
    (then the rows would not be sub-sums of one draw), windows cut on the wrong slots."""
    proto = DecoyBB84(tails="chernoff", p_z=0.8)
    hws = [3, 10, 30]
    c = pass_key_curve(CHANNELS, time_s=T, half_windows_s=hws, source_rate_hz=RATE, protocol=proto,
                       optimise=False, seed=5)
    whole = simulate_pass(proto, CHANNELS, time_s=T, source_rate_hz=RATE, seed=5)
    for h, row in zip(hws, c.rows):
        assert row.result.counts == whole.window(h).counts
        assert row.pulses == RATE * int(np.sum(np.abs(T) <= h))
    assert [r.result.counts.n_z[0] for r in c.rows] == sorted(r.result.counts.n_z[0] for r in c.rows)


def test_same_seed_same_curve_other_seed_other_counts():
    kw = dict(time_s=T, half_windows_s=[10], source_rate_hz=RATE, protocol=PROTO)
    a, b = pass_key_curve(CHANNELS, seed=11, **kw), pass_key_curve(CHANNELS, seed=11, **kw)
    assert a.to_dict() == b.to_dict()
    assert pass_key_curve(CHANNELS, seed=12, **kw).rows[0].result.counts != a.rows[0].result.counts


def test_detector_afterpulsing_reaches_the_protocol():
    """Bug 8: Detector.afterpulse_probability was silently ignored. A LinkPass carries it and the
    curve's protocol uses it; a contradicting protocol value is refused by name."""
    from qproto.noise_models import Detector, get_link

    det = Detector("ap", efficiency=0.5, dark_count_rate_hz=100.0, afterpulse_probability=0.03)
    lp = link_pass(get_link("leo-haps").replace(detector=det), max_half_window_s=3)
    assert isinstance(lp, LinkPass) and lp.afterpulse_probability == 0.03 and len(lp) == 7
    assert lp.range_m is not None and np.all(lp.range_m > 0)
    curve = pass_key_curve(lp, half_windows_s=[3], source_rate_hz=1e8, optimise=False, seed=1)
    assert curve.rows[0].result.parameters["afterpulse_probability"] == 0.03
    assert curve.protocol["tails"] == "chernoff"  # the pass default
    with pytest.raises(InvalidParameter) as e:
        pass_key_curve(lp, half_windows_s=[3], source_rate_hz=1e8, protocol=DecoyBB84(afterpulse_probability=0.01))
    assert e.value.name == "protocol.afterpulse_probability"
    with pytest.raises(InvalidParameter) as e:
        pass_key_curve(lp, half_windows_s=[3], source_rate_hz=1e8, time_s=lp.time_s)
    assert e.value.name == "time_s"


def test_link_pass_validates():
    with pytest.raises(InvalidParameter) as e:
        LinkPass(channels=CHANNELS[:2], time_s=[0.0])
    assert e.value.name == "time_s"
    with pytest.raises(InvalidParameter) as e:
        LinkPass(channels=CHANNELS[:1], time_s=[0.0], afterpulse_probability=1.0)
    assert e.value.name == "afterpulse_probability"
    with pytest.raises(InvalidParameter) as e:
        pass_key_curve(CHANNELS, time_s=T, half_windows_s=[10], source_rate_hz=RATE, n_starts=0)
    assert e.value.name == "n_starts"


def test_one_half_window_may_be_given_as_a_number():
    """``half_windows_s=5`` is the half-window 5 s, as ``[5]`` is (issue 10): same rows, same key."""
    chans = [Channel(transmittance=10 ** -2.5, depolarisation=0.02)] * 5
    kw = dict(source_rate_hz=1e8, slot_s=1.0, optimise=False, seed=3)
    scalar = pass_key_curve(chans, half_windows_s=2, **kw)
    listed = pass_key_curve(chans, half_windows_s=[2.0], **kw)
    assert [r.half_window_s for r in scalar.rows] == [2.0]
    assert scalar.to_dict() == listed.to_dict()


@pytest.mark.parametrize("rate", [1e30, 2e13])
def test_more_pulses_per_slot_than_64_bit_counts_hold_are_refused_by_name(rate):
    """``source_rate_hz=1e30`` overflowed inside numpy's multinomial; now refused up front."""
    with pytest.raises(InvalidParameter) as info:
        simulate_pass(DecoyBB84(), [Channel(transmittance=0.01)], source_rate_hz=rate, slot_s=1.0, seed=1)
    assert info.value.name == "source_rate_hz"
    assert "1e+13" in str(info.value)


def test_two_different_passes_add_into_one_result_keeping_each_slots_channel():
    """Issue 12 item 7: a second pass (other channels) is appended, not refused; the same pass again
    adds slot by slot. Expected values are sums of the parts' own counts."""
    proto = DecoyBB84()
    first = simulate_pass(proto, [Channel(transmittance=1e-2), Channel(transmittance=3e-2)], source_rate_hz=1e6,
                          slot_s=1.0, seed=3)
    second = simulate_pass(proto, [Channel(transmittance=2e-2, depolarisation=0.05)], source_rate_hz=1e6,
                           slot_s=1.0, seed=4)
    both = first + second
    assert both.channels == first.channels + second.channels
    assert both.time_s == first.time_s + second.time_s and both.seeds == (3, 4)
    assert both.rounds == first.rounds + second.rounds
    whole = both.window()
    assert whole.counts.to_matrix().tolist() == (first.window().counts.to_matrix()
                                                 + second.window().counts.to_matrix()).tolist()
    # |t| <= 0 keeps the centre slot of the one-slot pass only (the two-slot pass has t = -0.5, 0.5)
    assert both.window(0.0).counts.to_matrix().tolist() == second.window().counts.to_matrix().tolist()
    again = first + simulate_pass(proto, list(first.channels), source_rate_hz=1e6, slot_s=1.0, seed=5)
    assert len(again.channels) == 2 and again.rounds == 2 * first.rounds
    with pytest.raises(InvalidParameter, match="seeds"):
        first + simulate_pass(proto, [Channel(transmittance=0.5)], source_rate_hz=1e6, slot_s=1.0, seed=3)
    with pytest.raises(InvalidParameter, match="slot_s"):
        first + simulate_pass(proto, [Channel(transmittance=0.5)], source_rate_hz=1e6, slot_s=2.0, seed=6)
